"""Kowalski's filter routes through Envoy (issue 4): versions, activation, validation, auth.

Every call goes through the real gateway to the real filters service, which stores in the real
database and dry-runs pipelines on the newest archived alert through the archive. A filter's
id is its SkyPortal filter's (POST /api/filters {name, group_id, stream_id}): its group and its
stream's collection and programids are the Kowalski document's group_id, catalog and
permissions.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

import httpx
import pytest

from skymesh.config import Settings
from tests.portal import portal_filter, stream, user
from tests.portal import group as portal_group
from tests.rest import ok, refused

pytestmark = pytest.mark.integration

ZTF_STREAM = ("ZTF Public+Partnership", "ZTF_alerts", [1, 2])
WNTR_STREAM = ("WNTR Public", "WNTR_alerts", [1])
PIPELINE_V1 = [
    {"$match": {"candidate.drb": {"$gt": 0.9}}},
    {"$project": {"_id": 0, "candid": 1, "objectId": 1, "annotations.drb": "$candidate.drb"}},
]
PIPELINE_V2 = [{"$match": {"candidate.magpsf": {"$lt": 19.5}, "candidate.isdiffpos": "t"}}]
FID = re.compile(r"[a-z0-9]{6}")
KOWALSKI_KEYS = {
    "_id",
    "filter_id",
    "group_id",
    "catalog",
    "permissions",
    "active",
    "autosave",
    "auto_followup",
    "update_annotations",
    "active_fid",
    "fv",
    "created_at",
    "last_modified",
}
# What GET adds from SkyPortal's filter; all there is of a filter without versions.
PORTAL_KEYS = {"id", "name", "group_id", "stream_id"}


@pytest.fixture(scope="module")
def ztf_stream(client: httpx.Client) -> int:
    return stream(client, *ZTF_STREAM)


@pytest.fixture(scope="module")
def wntr_stream(client: httpx.Client) -> int:
    return stream(client, *WNTR_STREAM)


@pytest.fixture(scope="module")
def group_id(client: httpx.Client, ztf_stream: int, wntr_stream: int) -> int:
    """The filters' group, reading both streams; the admin administers it."""
    return portal_group(client, "filters-api", [ztf_stream, wntr_stream])


@pytest.fixture
def make_filter(
    client: httpx.Client, group_id: int, ztf_stream: int
) -> Iterator[Callable[..., int]]:
    """Makes SkyPortal filters of the group (on the ZTF stream unless told); deletes leftovers."""
    made: list[int] = []

    def make(stream_id: int = ztf_stream) -> int:
        made.append(portal_filter(client, "filters-api", group_id, stream_id))
        return made[-1]

    yield make
    for filter_id in made:
        client.delete(f"/api/filters/{filter_id}")


def new_filter(
    filter_id: int, group_id: int, pipeline: Any = None, **extra: Any
) -> dict[str, Any]:
    return {
        "group_id": group_id,
        "filter_id": filter_id,
        "catalog": "ZTF_alerts",
        "permissions": [1, 2],
        "pipeline": PIPELINE_V1 if pipeline is None else pipeline,
        **extra,
    }


def stored(client: httpx.Client, filter_id: int) -> dict[str, Any]:
    envelope = ok(client.get(f"/api/filters/{filter_id}"))
    assert envelope["message"] == f"Retrieved filter id {filter_id}"
    return envelope["data"]


def assert_no_versions(client: httpx.Client, filter_id: int, group_id: int) -> None:
    """SkyPortal's filter exists, and nothing of Kowalski's was stored for it."""
    document = stored(client, filter_id)
    assert set(document) == PORTAL_KEYS, document
    assert (document["id"], document["group_id"]) == (filter_id, group_id)


def gone(filter_id: int) -> str:
    """The 404 message about a filter id that SkyPortal does not have."""
    return (
        f"no filter with id {filter_id}: create it first with POST /api/filters "
        "{name, group_id, stream_id}, which gives its id"
    )


def test_versions_activation_and_deletion_through_rest(client: httpx.Client) -> None:
    filter_id = 4101
    client.delete(f"/api/filters/{filter_id}")  # a leftover of an interrupted run

    created = ok(client.post("/api/filters", json=new_filter(filter_id)))
    version_1 = created["data"]
    assert set(version_1) == {"fid", "pipeline", "created_at"}
    assert FID.fullmatch(version_1["fid"])
    assert json.loads(version_1["pipeline"]) == PIPELINE_V1
    assert isinstance(version_1["created_at"], datetime)
    assert created["message"] == (
        f"pipeline test for filter id {filter_id} successful\n"
        f"saved new filter version: {version_1['fid']}"
    )

    document = stored(client, filter_id)
    assert set(document) == KOWALSKI_KEYS
    assert (document["filter_id"], document["group_id"]) == (filter_id, GROUP_ID)
    assert (document["catalog"], document["permissions"]) == ("ZTF_alerts", [1, 2])
    assert document["active"] is True
    assert document["active_fid"] == version_1["fid"]
    assert document["fv"] == [version_1]
    assert document["autosave"] is False
    assert document["auto_followup"] == {}
    assert document["update_annotations"] is False
    assert document["created_at"] == document["last_modified"] == version_1["created_at"]

    # A new version, sent as a JSON string (Kowalski accepts both), becomes the active one.
    appended = ok(client.post("/api/filters", json=new_filter(filter_id, json.dumps(PIPELINE_V2))))
    version_2 = appended["data"]
    assert version_2["fid"] != version_1["fid"]
    document = stored(client, filter_id)
    assert [v["fid"] for v in document["fv"]] == [version_1["fid"], version_2["fid"]]
    assert json.loads(document["fv"][1]["pipeline"]) == PIPELINE_V2
    assert document["active_fid"] == version_2["fid"]
    assert document["last_modified"] == version_2["created_at"] > document["created_at"]

    # Switch back to the first version.
    switched = ok(
        client.patch("/api/filters", json={"filter_id": filter_id, "active_fid": version_1["fid"]})
    )
    assert switched["message"] == f"Updated filter id {filter_id}"
    assert switched["data"]["active_fid"] == version_1["fid"]
    assert stored(client, filter_id)["active_fid"] == version_1["fid"]

    message = refused(
        client.patch("/api/filters", json={"filter_id": filter_id, "active_fid": "zzzzzz"})
    )
    assert "Cannot set active_fid to zzzzzz" in message
    assert stored(client, filter_id)["active_fid"] == version_1["fid"]

    # Deactivate, and edit the settings PATCH owns.
    autosave = {"active": True, "comment": "saved by the test", "pipeline": PIPELINE_V2}
    patched = ok(
        client.patch(
            "/api/filters",
            json={
                "filter_id": filter_id,
                "active": False,
                "autosave": autosave,
                "update_annotations": True,
            },
        )
    )["data"]
    document = stored(client, filter_id)
    assert document == patched
    assert document["active"] is False
    assert document["update_annotations"] is True
    assert document["autosave"]["comment"] == "saved by the test"
    assert json.loads(document["autosave"]["pipeline"]) == PIPELINE_V2
    assert len(document["fv"]) == 2

    message = refused(
        client.patch("/api/filters", json={"filter_id": filter_id, "autosave": {"saver": 3}})
    )
    assert "autosave has invalid key(s): saver" in message
    assert stored(client, filter_id) == document

    message = refused(client.patch("/api/filters", json={"filter_id": filter_id}))
    assert "nothing to update" in message

    removed = client.delete(f"/api/filters/{filter_id}")
    assert removed.status_code == 200, removed.text
    assert removed.json() == {"status": "success", "message": f"Removed filter id {filter_id}"}
    assert (
        refused(client.get(f"/api/filters/{filter_id}"), 404) == f"Filter id {filter_id} not found"
    )
    refused(client.delete(f"/api/filters/{filter_id}"), 404)
    refused(client.patch("/api/filters", json={"filter_id": filter_id, "active": True}), 404)


def test_a_winter_filter_is_dry_run_on_winter_alerts(client: httpx.Client) -> None:
    filter_id = 4102
    client.delete(f"/api/filters/{filter_id}")
    pipeline = [{"$match": {"candidate.isdiffpos": True, "objectid": {"$exists": True}}}]
    body = {**new_filter(filter_id, pipeline), "catalog": "WNTR_alerts", "permissions": [1]}
    created = ok(client.post("/api/filters", json=body))
    assert created["message"].startswith(f"pipeline test for filter id {filter_id} successful")
    assert stored(client, filter_id)["catalog"] == "WNTR_alerts"
    ok(client.delete(f"/api/filters/{filter_id}"))


FORBIDDEN_PIPELINES = [
    ("$lookup", [{"$lookup": {"from": "users", "as": "u"}}]),
    ("$unionWith", [{"$match": {}}, {"$unionWith": "users"}]),
    ("$out", [{"$match": {}}, {"$out": "stolen"}]),
    ("$merge", [{"$match": {}}, {"$merge": {"into": "stolen"}}]),
    ("$where", [{"$match": {"$where": "this.candidate.drb > 0.5"}}]),
    ("$function", [{"$addFields": {"x": {"$function": {"body": "1", "args": [], "lang": "js"}}}}]),
    ("$accumulator", [{"$group": {"_id": None, "x": {"$accumulator": {"init": "1"}}}}]),
    ("$facet", [{"$facet": {"a": [{"$match": {}}]}}]),
    ("$graphLookup", [{"$graphLookup": {"from": "ZTF_alerts_aux"}}]),
    ("$dateToString", [{"$project": {"d": {"$dateToString": {"date": "$d"}}}}]),
]
BAD_PARTS = [
    ("pipeline must contain at least one stage", {"pipeline": []}),
    ("autosave has invalid key(s): bogus", {"autosave": {"active": True, "bogus": 1}}),
    (
        "auto_followup has invalid key(s): bogus",
        {"autosave": True, "auto_followup": {"pipeline": PIPELINE_V2, "bogus": 1}},
    ),
    (
        "auto_followup.priority_order must be 'asc' or 'desc'",
        {"autosave": True, "auto_followup": {"pipeline": PIPELINE_V2, "priority_order": "up"}},
    ),
    ("auto_followup needs autosave", {"auto_followup": {"pipeline": PIPELINE_V2}}),
    (
        "invalid autosave.pipeline: forbidden stage $out",
        {"autosave": {"active": True, "pipeline": [{"$out": "x"}]}},
    ),
    (
        "invalid auto_followup.pipeline: forbidden stage $merge",
        {"autosave": True, "auto_followup": {"pipeline": [{"$merge": {"into": "x"}}]}},
    ),
    # Compiles, but fails on real data: $size of a field the alerts do not have.
    (
        "pipeline failed its test on the newest alert of ZTF_alerts",
        {"pipeline": [{"$project": {"n": {"$size": "$candidate.no_such_field"}}}]},
    ),
]


@pytest.mark.parametrize(("name", "pipeline"), FORBIDDEN_PIPELINES)
def test_forbidden_and_unsupported_stages_are_refused_and_nothing_is_stored(
    client: httpx.Client, name: str, pipeline: list
) -> None:
    filter_id = 4110
    client.delete(f"/api/filters/{filter_id}")
    message = refused(client.post("/api/filters", json=new_filter(filter_id, pipeline)))
    assert name in message
    refused(client.get(f"/api/filters/{filter_id}"), 404)


@pytest.mark.parametrize(("expected", "parts"), BAD_PARTS)
def test_bad_keys_are_refused_and_nothing_is_stored(
    client: httpx.Client, expected: str, parts: dict[str, Any]
) -> None:
    filter_id = 4111
    client.delete(f"/api/filters/{filter_id}")
    message = refused(client.post("/api/filters", json={**new_filter(filter_id), **parts}))
    assert expected in message
    refused(client.get(f"/api/filters/{filter_id}"), 404)


def test_a_refused_version_leaves_the_filter_as_it_was(client: httpx.Client) -> None:
    filter_id = 4112
    client.delete(f"/api/filters/{filter_id}")
    ok(client.post("/api/filters", json=new_filter(filter_id)))
    before = stored(client, filter_id)
    for name, pipeline in FORBIDDEN_PIPELINES:
        assert name in refused(client.post("/api/filters", json=new_filter(filter_id, pipeline)))
    for expected, parts in BAD_PARTS:
        message = refused(client.post("/api/filters", json={**new_filter(filter_id), **parts}))
        assert expected in message
    assert stored(client, filter_id) == before
    ok(client.delete(f"/api/filters/{filter_id}"))


def test_requests_that_do_not_fit_are_refused(client: httpx.Client) -> None:
    filter_id = 4113
    client.delete(f"/api/filters/{filter_id}")
    message = refused(
        client.post("/api/filters", json={**new_filter(filter_id), "catalog": "PGIR_alerts"})
    )
    assert "PGIR_alerts" in message and "ZTF_alerts" in message
    message = refused(
        client.post("/api/filters", json={**new_filter(filter_id), "permissions": []})
    )
    assert "permissions is required" in message
    message = refused(client.post("/api/filters", json={**new_filter(filter_id), "catalog": ""}))
    assert "catalog is required" in message
    ok(client.post("/api/filters", json=new_filter(filter_id)))
    message = refused(
        client.post("/api/filters", json={**new_filter(filter_id), "group_id": GROUP_ID + 1})
    )
    assert f"belongs to group_id {GROUP_ID}" in message
    assert len(stored(client, filter_id)["fv"]) == 1
    ok(client.delete(f"/api/filters/{filter_id}"))


ROUTES = [
    ("POST", "/api/filters", new_filter(4120)),
    ("PATCH", "/api/filters", {"filter_id": 4120, "active": False}),
    ("GET", "/api/filters/4120", None),
    ("DELETE", "/api/filters/4120", None),
    ("POST", "/api/filters/4120/test", {"object_ids": ["ZTF20aajcdad"]}),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_every_route_needs_an_admin_token(
    filters_service: Settings,
    gateway_url: str,
    admin_token: str,
    method: str,
    path: str,
    body: Any,
) -> None:
    def call(headers: dict[str, str]) -> httpx.Response:
        return httpx.request(method, gateway_url + path, json=body, headers=headers, timeout=30)

    assert "missing token" in refused(call({}), 401)
    assert "token is invalid" in refused(call({"Authorization": "Bearer not.a.jwt"}), 401)

    # A real user without the admin flag, made and logged in through the portal.
    username, password = "filters-scanner", "scanner-password-1"
    admin = {"Authorization": f"Bearer {admin_token}"}
    httpx.post(
        f"{gateway_url}/api/users",
        json={"username": username, "password": password, "email": "", "admin": False},
        headers=admin,
    )
    login = httpx.post(f"{gateway_url}/api/auth", json={"username": username, "password": password})
    assert login.status_code == 200, login.text
    user = {"Authorization": f"Bearer {login.json()['token']}"}
    assert "admins" in refused(call(user), 403)
    refused(httpx.get(f"{gateway_url}/api/filters/4120", headers=admin), 404)  # nothing stored


def test_key_order_inside_stages_survives_rest(client: httpx.Client, ztf_alerts: dict) -> None:
    # A multi-key $sort means "by the first key, then the second": order is meaning.
    filter_id = 4190
    pipeline = [
        {"$match": {"candidate.magpsf": {"$gt": 0}}},
        {"$project": {"zeta": "$candidate.magpsf", "alpha": "$candidate.fid", "_id": 0}},
        {"$sort": {"zeta": -1, "alpha": 1}},
    ]
    body = json.dumps(
        new_filter(filter_id, pipeline, autosave={"active": True, "pipeline": pipeline})
    )
    created = ok(client.post("/api/filters", content=body))
    try:
        assert json.loads(created["data"]["pipeline"]) == pipeline
        assert list(json.loads(created["data"]["pipeline"])[2]["$sort"]) == ["zeta", "alpha"]
        saved = stored(client, filter_id)
        (version,) = saved["fv"]
        assert list(json.loads(version["pipeline"])[1]["$project"]) == ["zeta", "alpha", "_id"]
        assert list(json.loads(saved["autosave"]["pipeline"])[2]["$sort"]) == ["zeta", "alpha"]
        patched = ok(
            client.patch(
                "/api/filters",
                content=json.dumps(
                    {
                        "filter_id": filter_id,
                        "autosave": {"active": True, "pipeline": pipeline[::-1]},
                    }
                ),
            )
        )
        assert list(json.loads(patched["data"]["autosave"]["pipeline"])[0]["$sort"]) == [
            "zeta",
            "alpha",
        ]
    finally:
        ok(client.delete(f"/api/filters/{filter_id}"))
