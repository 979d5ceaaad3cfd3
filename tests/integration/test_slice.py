"""The foundation slice end to end: Kafka -> broker -> archive -> REST (Envoy) and gRPC."""

from __future__ import annotations

import secrets
from typing import Any

import grpc
import httpx
import pytest
from bson import json_util

from skymesh.archive.v1 import archive_pb2, archive_pb2_grpc
from skymesh.broker.v1 import broker_pb2, broker_pb2_grpc
from skymesh.config import Settings
from skymesh.produce import produce_sync
from tests.conftest import ZTF_DIR
from tests.polling import wait_for

pytestmark = pytest.mark.integration

HISTORY = ("prv_candidates", "fp_hists")


def query(gateway_url: str, token: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        f"{gateway_url}/api/queries",
        content=json_util.dumps(body),
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


def rest_data(gateway_url: str, token: str, body: dict[str, Any]) -> Any:
    response = query(gateway_url, token, body)
    assert response.status_code == 200, response.text
    envelope = json_util.loads(response.text)
    assert envelope["status"] == "success", envelope
    return envelope["data"]


def count(gateway_url: str, token: str, catalog: str = "ZTF_alerts") -> int:
    body = {"query_type": "count_documents", "query": {"catalog": catalog, "filter": {}}}
    response = query(gateway_url, token, body)
    if response.status_code == 400 and "not found" in response.text:
        return 0  # the collection appears with the first archived batch
    assert response.status_code == 200, response.text
    return json_util.loads(response.text)["data"]


def broker_status(settings: Settings, token: str) -> broker_pb2.StatusResponse:
    with grpc.insecure_channel(settings.address("broker")) as channel:
        return broker_pb2_grpc.BrokerServiceStub(channel).Status(
            broker_pb2.StatusRequest(), metadata=[("authorization", f"Bearer {token}")], timeout=5
        )


def produce_bundled(settings: Settings) -> int:
    total = 0
    for night in sorted(p for p in ZTF_DIR.iterdir() if p.is_dir()):
        files = sorted(night.glob("*.avro"))
        total += produce_sync(files, f"ztf_{night.name}_programid1", settings.kafka_bootstrap, True)
    return total


@pytest.fixture(scope="module")
def streamed(archived: Settings, ztf_alerts: dict) -> int:
    """The bundled alerts, archived by the session's `archived` fixture."""
    return len(ztf_alerts)


def assert_alert_intact(archived: dict[str, Any], packet: dict[str, Any]) -> None:
    for key, value in packet.items():
        if key in HISTORY:
            assert key not in archived, f"{key} belongs in the aux collection"
        else:
            assert archived[key] == value, f"{packet['candid']}: field {key} differs"
    assert archived["_id"] == packet["candid"]


def test_every_alert_archived_once_with_fields_intact_over_rest(
    streamed: int, gateway_url: str, admin_token: str, ztf_alerts: dict
) -> None:
    assert count(gateway_url, admin_token) == len(ztf_alerts)
    archived = rest_data(
        gateway_url,
        admin_token,
        {"query_type": "find", "query": {"catalog": "ZTF_alerts", "filter": {}}},
    )
    assert sorted(a["candid"] for a in archived) == sorted(ztf_alerts)
    for alert in archived:
        assert_alert_intact(alert, ztf_alerts[alert["candid"]])


def test_every_alert_intact_over_grpc(
    streamed: int, mesh: Settings, admin_token: str, ztf_alerts: dict
) -> None:
    with grpc.insecure_channel(mesh.address("archive")) as channel:
        stub = archive_pb2_grpc.ArchiveServiceStub(channel)
        for candid, packet in ztf_alerts.items():
            response = stub.Query(
                archive_pb2.QueryRequest(
                    query_type="find_one",
                    query_json=json_util.dumps(
                        {"catalog": "ZTF_alerts", "filter": {"candid": candid}}
                    ),
                ),
                metadata=[("authorization", f"Bearer {admin_token}")],
                timeout=10,
            )
            assert response.status == "success"
            assert_alert_intact(json_util.loads(response.data_json), packet)


def test_producing_again_changes_nothing(
    streamed: int, mesh: Settings, gateway_url: str, admin_token: str, ztf_alerts: dict
) -> None:
    before = broker_status(mesh, admin_token).surveys[0]
    assert before.survey == "ZTF"
    aux_before = rest_data(
        gateway_url,
        admin_token,
        {"query_type": "find", "query": {"catalog": "ZTF_alerts_aux", "filter": {}}},
    )
    produce_bundled(mesh)
    after = wait_for(
        lambda: broker_status(mesh, admin_token).surveys[0],
        lambda s: s.alerts_processed >= before.alerts_processed + len(ztf_alerts),
        timeout=60,
        what="the broker to consume the re-produced alerts",
    )
    assert after.alerts_duplicate - before.alerts_duplicate == len(ztf_alerts)
    assert after.alerts_archived == before.alerts_archived
    assert count(gateway_url, admin_token) == len(ztf_alerts)
    aux_after = rest_data(
        gateway_url,
        admin_token,
        {"query_type": "find", "query": {"catalog": "ZTF_alerts_aux", "filter": {}}},
    )
    assert sorted(aux_after, key=lambda d: d["_id"]) == sorted(aux_before, key=lambda d: d["_id"])


def test_query_types_answer_over_rest(streamed: int, gateway_url: str, admin_token: str) -> None:
    names = rest_data(
        gateway_url, admin_token, {"query_type": "info", "query": {"command": "catalog_names"}}
    )
    assert {"ZTF_alerts", "ZTF_alerts_aux"} <= set(names)
    estimated = rest_data(
        gateway_url,
        admin_token,
        {"query_type": "estimated_document_count", "query": {"catalog": "ZTF_alerts"}},
    )
    assert estimated == 28
    some = rest_data(
        gateway_url,
        admin_token,
        {
            "query_type": "find",
            "query": {
                "catalog": "ZTF_alerts",
                "filter": {"objectId": "ZTF20aajcdad"},
                "projection": {"_id": 0, "candid": 1, "objectId": 1},
            },
            "kwargs": {"sort": [["candid", -1]], "limit": 1},
        },
    )
    assert len(some) == 1 and set(some[0]) == {"candid", "objectId"}
    object_alerts = rest_data(
        gateway_url,
        admin_token,
        {
            "query_type": "count_documents",
            "query": {"catalog": "ZTF_alerts", "filter": {"objectId": "ZTF20aajcdad"}},
        },
    )
    assert object_alerts == 2
    assert some[0]["candid"] == max(
        a["candid"]
        for a in rest_data(
            gateway_url,
            admin_token,
            {
                "query_type": "find",
                "query": {"catalog": "ZTF_alerts", "filter": {"objectId": "ZTF20aajcdad"}},
            },
        )
    )


def test_ping(gateway_url: str, admin_token: str) -> None:
    response = httpx.get(f"{gateway_url}/", headers={"Authorization": admin_token})
    assert response.status_code == 200
    assert response.json()["status"] == "success"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, "missing token"),
        ({"Authorization": "Bearer not-a-jwt"}, "token is invalid"),
        ({"Authorization": "Basic a b c"}, "token is invalid"),
    ],
)
def test_requests_without_a_valid_token_are_refused(
    gateway_url: str, headers: dict[str, str], expected: str
) -> None:
    body = {"query_type": "count_documents", "query": {"catalog": "ZTF_alerts", "filter": {}}}
    response = httpx.post(f"{gateway_url}/api/queries", json=body, headers=headers)
    assert response.status_code == 401
    envelope = response.json()
    assert envelope["status"] == "error"
    assert expected in envelope["message"]
    assert httpx.get(f"{gateway_url}/", headers=headers).status_code == 401


def test_token_signed_with_another_secret_is_refused(gateway_url: str) -> None:
    from skymesh.runtime.auth import issue_token

    forged = issue_token(secrets.token_hex(16), "admin", admin=True)
    response = httpx.get(f"{gateway_url}/", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401
    assert "signature" in response.json()["message"].lower()


def test_wrong_password_is_refused(gateway_url: str) -> None:
    response = httpx.post(
        f"{gateway_url}/api/auth",
        json={"username": "admin", "password": "wrong", "penquins.__version__": "2.4.2"},
    )
    assert response.status_code == 401
    assert response.json() == {
        "status": "error",
        "message": "Unauthorized: wrong username or password",
        "details": [],
    }


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ('{"query_type": "count_documents"', "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"query": {"catalog": "ZTF_alerts"}}', "query_type is required"),
        ('{"query_type": "drop", "query": {}}', "unknown query_type 'drop'"),
        ('{"query_type": "find", "query": {}}', "query.catalog is required"),
        ('{"query_type": "find", "query": {"catalog": "nope"}}', "catalog 'nope' not found"),
        (
            '{"query_type": "find", "query": {"catalog": "ZTF_alerts", "filter": 3}}',
            "query.filter must be a JSON object",
        ),
        (
            '{"query_type": "find", "query": {"catalog": "ZTF_alerts"}, "kwargs": {"limit": -1}}',
            "kwargs.limit",
        ),
        ('{"query_type": "info", "query": {"command": "nuke"}}', "query.command must be one of"),
        (
            '{"query_type": "count_documents", "query": {"catalog": "ZTF_alerts", '
            '"filter": {"candid": {"$bogus": 1}}}}',
            "$bogus",
        ),
    ],
)
def test_malformed_queries_get_400_naming_the_problem(
    streamed: int, gateway_url: str, admin_token: str, body: str, named: str
) -> None:
    response = httpx.post(
        f"{gateway_url}/api/queries", content=body, headers={"Authorization": admin_token}
    )
    assert response.status_code == 400, response.text
    envelope = response.json()
    assert envelope["status"] == "error"
    assert named in envelope["message"]


def test_unknown_route_gets_a_json_404(gateway_url: str, admin_token: str) -> None:
    response = httpx.get(f"{gateway_url}/api/nope", headers={"Authorization": admin_token})
    assert response.status_code == 404
    assert response.json()["status"] == "error"
