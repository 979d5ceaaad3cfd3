"""One trace spans the gateway request and every service it reached."""

from __future__ import annotations

import secrets

import httpx
import pytest

from tests.otlp_receiver import OtlpReceiver
from tests.polling import wait_for

pytestmark = pytest.mark.integration


def test_one_trace_spans_gateway_and_services(
    gateway_url: str, admin_token: str, otlp_receiver: OtlpReceiver
) -> None:
    trace_id = secrets.token_hex(16)
    caller_span = secrets.token_hex(8)
    response = httpx.post(
        f"{gateway_url}/api/queries",
        json={"query_type": "info", "query": {"command": "catalog_names"}},
        headers={
            "Authorization": f"Bearer {admin_token}",
            "traceparent": f"00-{trace_id}-{caller_span}-01",
        },
    )
    assert response.status_code == 200, response.text

    spans = wait_for(
        lambda: otlp_receiver.trace(trace_id),
        lambda found: {"skymesh-gateway", "skymesh-archive"} <= {s.service for s in found},
        timeout=30,
        what=f"spans of trace {trace_id} from the gateway and the archive",
    )
    gateway = [s for s in spans if s.service == "skymesh-gateway"]
    archive = [s for s in spans if s.service == "skymesh-archive"]
    # The gateway continues the caller's trace, and the archive's server span hangs below it.
    assert any(s.parent_span_id == caller_span for s in gateway)
    assert any(s.parent_span_id in {g.span_id for g in gateway} for s in archive)
    assert any("ArchiveService/QueryHttp" in s.name for s in archive)
