"""Filter changes reach the running broker without a restart (issue 4, live reload)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import grpc
import httpx
import pytest

from skymesh.broker.v1 import broker_pb2, broker_pb2_grpc
from skymesh.config import Settings
from skymesh.produce import produce_sync
from tests.conftest import ZTF_DIR
from tests.polling import wait_for
from tests.portal import ZTF_STREAM, group, portal_filter, stream
from tests.rest import ok

pytestmark = pytest.mark.integration

BRIGHT = [{"$match": {"candidate.magpsf": {"$lt": 18}}}]
FAINT = [{"$match": {"candidate.magpsf": {"$gte": 18}}}]
# A change must be in effect for the broker within this long (the issue's bound) ...
FOLLOW_S = 10
# ... and a whole re-stream of the bundled alerts finishes well within this.
DEADLINE_S = 60


@pytest.fixture(scope="module")
def group_id(client: httpx.Client) -> int:
    return group(client, "filter-live", [stream(client, *ZTF_STREAM)])


@pytest.fixture
def filter_id(client: httpx.Client, group_id: int) -> Iterator[int]:
    """A SkyPortal filter of the group on the stream; deleted afterwards (both sides)."""
    filter_id = portal_filter(client, "filter-live", group_id, stream(client, *ZTF_STREAM))
    yield filter_id
    client.delete(f"/api/filters/{filter_id}")


def ztf_status(settings: Settings, token: str) -> broker_pb2.SurveyStatus:
    with grpc.insecure_channel(settings.address("broker")) as channel:
        status = broker_pb2_grpc.BrokerServiceStub(channel).Status(
            broker_pb2.StatusRequest(), metadata=[("authorization", f"Bearer {token}")], timeout=5
        )
    (ztf,) = [s for s in status.surveys if s.survey == "ZTF"]
    return ztf


def passed(status: broker_pb2.SurveyStatus, filter_id: int, fid: str) -> int:
    return sum(f.passed for f in status.filters if f.filter_id == filter_id and f.fid == fid)


def stream_again(
    settings: Settings, token: str, filter_id: int, new_fid: str | None = None
) -> broker_pb2.SurveyStatus:
    """Re-produces the bundled ZTF alerts and waits until the broker has processed them;
    with ``new_fid``, first checks that the broker uses that version within FOLLOW_S."""
    started = time.monotonic()
    before = ztf_status(settings, token).alerts_processed
    produced = 0
    for night in sorted(p for p in ZTF_DIR.iterdir() if p.is_dir()):
        produced += produce_sync(
            sorted(night.glob("*.avro")),
            f"ztf_{night.name}_programid1",
            settings.kafka_bootstrap,
            quiet=True,
        )
    if new_fid is not None:
        wait_for(
            lambda: passed(ztf_status(settings, token), filter_id, new_fid),
            lambda n: n > 0,
            FOLLOW_S - (time.monotonic() - started),
            f"the broker to evaluate filter version {new_fid}",
        )
    return wait_for(
        lambda: ztf_status(settings, token),
        lambda s: s.alerts_processed >= before + produced,
        DEADLINE_S,
        "the broker to process the re-streamed alerts",
    )


def test_create_new_version_switch_and_deactivate_reach_the_broker(
    client: httpx.Client,
    archived: Settings,
    admin_token: str,
    ztf_alerts: dict,
    group_id: int,
    filter_id: int,
) -> None:
    bright = sum(1 for p in ztf_alerts.values() if p["candidate"]["magpsf"] < 18)
    faint = len(ztf_alerts) - bright
    assert bright and faint

    def create(pipeline: list) -> str:
        body = {
            "group_id": group_id,
            "filter_id": filter_id,
            "catalog": "ZTF_alerts",
            "permissions": [1, 2, 3],
            "pipeline": pipeline,
        }
        return ok(client.post("/api/filters", json=body))["data"]["fid"]

    fid_bright = create(BRIGHT)
    status = stream_again(archived, admin_token, filter_id, new_fid=fid_bright)
    assert passed(status, filter_id, fid_bright) == bright

    fid_faint = create(FAINT)  # a new version becomes the active one
    status = stream_again(archived, admin_token, filter_id, new_fid=fid_faint)
    assert passed(status, filter_id, fid_faint) == faint
    # The old version saw none of this stream.
    assert passed(status, filter_id, fid_bright) == bright

    ok(client.patch("/api/filters", json={"filter_id": filter_id, "active_fid": fid_bright}))
    status = stream_again(archived, admin_token, filter_id)
    assert passed(status, filter_id, fid_bright) == 2 * bright
    assert passed(status, filter_id, fid_faint) == faint

    ok(client.patch("/api/filters", json={"filter_id": filter_id, "active": False}))
    status = stream_again(archived, admin_token, filter_id)
    assert (passed(status, filter_id, fid_bright), passed(status, filter_id, fid_faint)) == (
        2 * bright,
        faint,
    )
