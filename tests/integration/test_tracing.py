"""One trace spans a gateway request and every service it reached, and a producer's Kafka
record and every service its batch crossed."""

from __future__ import annotations

import asyncio
import secrets

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from skymesh.config import Settings
from skymesh.produce import KAFKA_MAX_MESSAGE_BYTES
from skymesh.synthetic import synthetic_messages
from tests.otlp_receiver import OtlpReceiver, ReceivedSpan
from tests.polling import wait_for
from tests.portal import passing_every_alert

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


# Every service a passing alert crosses, as their spans name them.
BATCH_SERVICES = {
    "skymesh-broker",
    "skymesh-ml",
    "skymesh-archive",
    "skymesh-filters",
    "skymesh-portal",
}
STAGES = ("decode", "enrich", "ml", "archive", "evaluate", "post")
RPCS = (
    "MLService/Score",
    "ArchiveService/IngestAlerts",
    "FiltersService/Evaluate",
    "PortalService/PostPasses",
)


async def produce_traced(settings: Settings, message: bytes, traceparent: str) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap, max_request_size=KAFKA_MAX_MESSAGE_BYTES
    )
    await producer.start()
    try:
        await producer.send_and_wait(
            "ztf_20231012_programid1", message, headers=[("traceparent", traceparent.encode())]
        )
    finally:
        await producer.stop()


def test_a_producers_trace_follows_its_batch_through_every_service(
    archived: Settings, client: httpx.Client, otlp_receiver: OtlpReceiver
) -> None:
    with passing_every_alert(client, archived, "tracing"):
        follow_one_alert(archived, otlp_receiver)


def complete(spans: list[ReceivedSpan]) -> bool:
    """Every service's spans are in, the broker's batch span too (it ends, and is exported,
    only after the last stage)."""
    broker = {s.name for s in spans if s.service == "skymesh-broker"}
    served = all(any(rpc in s.name for s in spans) for rpc in RPCS)
    return (
        BATCH_SERVICES <= {s.service for s in spans} and {"ZTF batch", *STAGES} <= broker and served
    )


def follow_one_alert(archived: Settings, otlp_receiver: OtlpReceiver) -> None:
    def one_traced_alert() -> tuple[str, list]:
        """A new alert under a trace of its own; the spans its batch sent within a few
        seconds (the broker loads a new filter within 2 s, so an early alert may pass none)."""
        trace_id, producer_span = secrets.token_hex(16), secrets.token_hex(8)
        (message,) = synthetic_messages(1, seed=7, first=secrets.randbelow(10**9))
        asyncio.run(produce_traced(archived, message, f"00-{trace_id}-{producer_span}-01"))
        try:
            spans = wait_for(
                lambda: otlp_receiver.trace(trace_id),
                complete,
                timeout=8,
                what=f"spans of trace {trace_id}",
            )
        except AssertionError:
            spans = otlp_receiver.trace(trace_id)
        return producer_span, spans

    producer_span, spans = wait_for(
        one_traced_alert,
        lambda traced: complete(traced[1]),
        timeout=60,
        what="one alert's batch traced through broker, ml, archive, filters and portal",
    )
    batches = [s for s in spans if s.service == "skymesh-broker" and s.name == "ZTF batch"]
    # The batch continues the producer's trace; the services' server spans hang below it.
    assert [b.parent_span_id for b in batches] == [producer_span], spans
    broker_spans = {s.span_id for s in spans if s.service == "skymesh-broker"}
    for service in BATCH_SERVICES - {"skymesh-broker"}:
        served = [s for s in spans if s.service == service]
        assert any(s.parent_span_id in broker_spans for s in served), (service, spans)
    # Each call the batch made is a server span of the service that answered it.
    for rpc in RPCS:
        service = {"ML": "ml", "Archive": "archive", "Filters": "filters", "Portal": "portal"}[
            rpc.split("Service/")[0]
        ]
        assert any(rpc in s.name for s in spans if s.service == f"skymesh-{service}"), (
            rpc,
            spans,
        )
