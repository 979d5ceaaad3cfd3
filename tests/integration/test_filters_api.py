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
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.portal import group as portal_group
from tests.portal import portal_filter, stream, user
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


def new_filter(filter_id: int, group_id: int, pipeline: Any = None, **extra: Any) -> dict[str, Any]:
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


def test_versions_activation_and_deletion_through_rest(
    client: httpx.Client, make_filter: Callable[..., int], group_id: int, ztf_stream: int
) -> None:
    filter_id = make_filter()
    assert_no_versions(client, filter_id, group_id)

    created = ok(client.post("/api/filters", json=new_filter(filter_id, group_id)))
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
    assert set(document) == KOWALSKI_KEYS | PORTAL_KEYS
    assert (document["filter_id"], document["group_id"]) == (filter_id, group_id)
    assert (document["id"], document["name"], document["stream_id"]) == (
        filter_id,
        "filters-api",
        ztf_stream,
    )
    assert (document["catalog"], document["permissions"]) == ("ZTF_alerts", [1, 2])
    assert document["active"] is True
    assert document["active_fid"] == version_1["fid"]
    assert document["fv"] == [version_1]
    assert document["autosave"] is False
    assert document["auto_followup"] == {}
    assert document["update_annotations"] is False
    assert document["created_at"] == document["last_modified"] == version_1["created_at"]

    # A new version, sent as a JSON string (Kowalski accepts both), becomes the active one.
    appended = ok(
        client.post("/api/filters", json=new_filter(filter_id, group_id, json.dumps(PIPELINE_V2)))
    )
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
    # PATCH answers Kowalski's document; GET adds SkyPortal's name, group and stream.
    assert document == {
        **patched,
        "id": filter_id,
        "name": "filters-api",
        "group_id": group_id,
        "stream_id": ztf_stream,
    }
    assert set(patched) == KOWALSKI_KEYS
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

    # Deleting removes Kowalski's document and SkyPortal's filter.
    removed = client.delete(f"/api/filters/{filter_id}")
    assert removed.status_code == 200, removed.text
    assert removed.json() == {"status": "success", "message": f"Removed filter id {filter_id}"}
    assert refused(client.get(f"/api/filters/{filter_id}"), 404) == gone(filter_id)
    assert filter_id not in [f["id"] for f in ok(client.get("/api/filters"))["data"]]
    assert refused(client.delete(f"/api/filters/{filter_id}"), 404) == gone(filter_id)
    message = refused(
        client.patch("/api/filters", json={"filter_id": filter_id, "active": True}), 404
    )
    assert message == gone(filter_id)


def test_a_winter_filter_is_dry_run_on_winter_alerts(
    client: httpx.Client, make_filter: Callable[..., int], group_id: int, wntr_stream: int
) -> None:
    filter_id = make_filter(wntr_stream)
    pipeline = [{"$match": {"candidate.isdiffpos": True, "objectid": {"$exists": True}}}]
    body = {
        **new_filter(filter_id, group_id, pipeline),
        "catalog": "WNTR_alerts",
        "permissions": [1],
    }
    created = ok(client.post("/api/filters", json=body))
    assert created["message"].startswith(f"pipeline test for filter id {filter_id} successful")
    document = stored(client, filter_id)
    assert (document["catalog"], document["permissions"]) == ("WNTR_alerts", [1])
    ok(client.delete(f"/api/filters/{filter_id}"))


FORBIDDEN_PIPELINES = [
    ("$lookup", [{"$lookup": {"from": "users", "as": "u"}}]),
    ("$unionWith", [{"$match": {}}, {"$unionWith": "users"}]),
    ("$out", [{"$match": {}}, {"$out": "stolen"}]),
    ("$merge", [{"$match": {}}, {"$merge": {"into": "stolen"}}]),
    ("$where", [{"$match": {"$where": "this.candidate.drb > 0.5"}}]),
    ("$function", [{"$addFields": {"x": {"$function": {"body": "1", "args": [], "lang": "js"}}}}]),
    ("$accumulator", [{"$group": {"_id": None, "x": {"$accumulator": {"init": "1"}}}}]),
    ("$facet", [{"$facet": {"a": [{"$lookup": {"from": "users", "as": "u"}}]}}]),
    ("$graphLookup", [{"$graphLookup": {"from": "ZTF_alerts_aux"}}]),
    ("$rand", [{"$match": {"$expr": {"$lt": [{"$rand": {}}, 0.5]}}}]),
    ("$setWindowFields", [{"$setWindowFields": {"sortBy": {"jd": 1}, "output": {}}}]),
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
    client: httpx.Client,
    make_filter: Callable[..., int],
    group_id: int,
    name: str,
    pipeline: list,
) -> None:
    filter_id = make_filter()
    message = refused(client.post("/api/filters", json=new_filter(filter_id, group_id, pipeline)))
    assert name in message
    assert_no_versions(client, filter_id, group_id)


@pytest.mark.parametrize(("expected", "parts"), BAD_PARTS)
def test_bad_keys_are_refused_and_nothing_is_stored(
    client: httpx.Client,
    make_filter: Callable[..., int],
    group_id: int,
    expected: str,
    parts: dict[str, Any],
) -> None:
    filter_id = make_filter()
    message = refused(
        client.post("/api/filters", json={**new_filter(filter_id, group_id), **parts})
    )
    assert expected in message
    assert_no_versions(client, filter_id, group_id)


def test_a_refused_version_leaves_the_filter_as_it_was(
    client: httpx.Client, make_filter: Callable[..., int], group_id: int
) -> None:
    filter_id = make_filter()
    ok(client.post("/api/filters", json=new_filter(filter_id, group_id)))
    before = stored(client, filter_id)
    for name, pipeline in FORBIDDEN_PIPELINES:
        body = new_filter(filter_id, group_id, pipeline)
        assert name in refused(client.post("/api/filters", json=body))
    for expected, parts in BAD_PARTS:
        body = {**new_filter(filter_id, group_id), **parts}
        assert expected in refused(client.post("/api/filters", json=body))
    assert stored(client, filter_id) == before
    ok(client.delete(f"/api/filters/{filter_id}"))


def test_requests_that_do_not_fit_are_refused(
    client: httpx.Client, make_filter: Callable[..., int], group_id: int
) -> None:
    filter_id = make_filter()
    name = ZTF_STREAM[0]
    # The catalog and permissions are the filter's stream's: a request naming others is refused.
    message = refused(
        client.post(
            "/api/filters", json={**new_filter(filter_id, group_id), "catalog": "PGIR_alerts"}
        )
    )
    assert message == (
        f"Filter id {filter_id} reads ZTF_alerts (its stream {name!r}), not PGIR_alerts"
    )
    message = refused(
        client.post("/api/filters", json={**new_filter(filter_id, group_id), "permissions": [1]})
    )
    assert message == (
        f"Filter id {filter_id}'s permissions are its stream's programids [1, 2] ({name!r}), "
        "not [1]"
    )
    message = refused(
        client.post(
            "/api/filters", json={**new_filter(filter_id, group_id), "group_id": group_id + 1}
        )
    )
    assert message == f"Filter id {filter_id} belongs to group_id {group_id}, not {group_id + 1}"
    assert_no_versions(client, filter_id, group_id)
    # Left out, they are the stream's (and the group the filter's).
    body = {**new_filter(filter_id, group_id), "catalog": "", "permissions": [], "group_id": 0}
    ok(client.post("/api/filters", json=body))
    document = stored(client, filter_id)
    assert (document["group_id"], document["catalog"], document["permissions"]) == (
        group_id,
        "ZTF_alerts",
        [1, 2],
    )
    message = refused(
        client.post(
            "/api/filters", json={**new_filter(filter_id, group_id), "group_id": group_id + 1}
        )
    )
    assert message == f"Filter id {filter_id} belongs to group_id {group_id}, not {group_id + 1}"
    assert len(stored(client, filter_id)["fv"]) == 1
    ok(client.delete(f"/api/filters/{filter_id}"))


def test_a_filter_id_must_be_a_skyportal_filter(client: httpx.Client, group_id: int) -> None:
    unknown = 2**31 - 1
    message = refused(client.post("/api/filters", json=new_filter(unknown, group_id)), 404)
    assert message == gone(unknown)
    assert refused(client.get(f"/api/filters/{unknown}"), 404) == gone(unknown)


ROUTES = [
    ("POST", "/api/filters", lambda f, g: new_filter(f, g)),
    ("PATCH", "/api/filters", lambda f, g: {"filter_id": f, "active": False}),
    ("GET", "/api/filters/{f}", None),
    ("DELETE", "/api/filters/{f}", None),
    ("POST", "/api/filters/{f}/test", lambda f, g: {"object_ids": ["ZTF20aajcdad"]}),
]
# Managing a filter is for its group's admins (and system admins); reading it, for its members.
MANAGING = ("POST /api/filters", "PATCH /api/filters", "DELETE /api/filters/{f}")


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_every_route_needs_a_token_and_managing_needs_a_group_admin(
    client: httpx.Client,
    gateway_url: str,
    make_filter: Callable[..., int],
    group_id: int,
    ztf_stream: int,
    wntr_stream: int,
    method: str,
    path: str,
    body: Callable[[int, int], dict[str, Any]] | None,
) -> None:
    filter_id = make_filter()
    ok(client.post("/api/filters", json=new_filter(filter_id, group_id)))
    before = stored(client, filter_id)

    def call(headers: dict[str, str]) -> httpx.Response:
        return httpx.request(
            method,
            gateway_url + path.format(f=filter_id),
            json=None if body is None else body(filter_id, group_id),
            headers=headers,
            timeout=60,
        )

    assert "missing token" in refused(call({}), 401)
    assert "token is invalid" in refused(call({"Authorization": "Bearer not.a.jwt"}), 401)

    # A real user without the admin flag, made and logged in through the portal: not in the
    # filter's group, then a member of it who is not one of its admins.
    username, password = f"filters-scanner-{filter_id}", "scanner-password-1"
    ok(
        client.post(
            "/api/users",
            json={"username": username, "password": password, "email": "", "admin": False},
        )
    )
    login = httpx.post(f"{gateway_url}/api/auth", json={"username": username, "password": password})
    assert login.status_code == 200, login.text
    outsider = {"Authorization": f"Bearer {login.json()['token']}"}
    # Joining a group needs access to its streams (SkyPortal's rule).
    member = user(client, streams=(ztf_stream, wntr_stream), groups=(group_id,))
    managed = f"filter {filter_id} is managed by the admins of group {group_id}"
    if f"{method} {path}" in MANAGING:
        assert refused(call(outsider), 403) == managed
        assert refused(call(member.headers), 403) == managed
    else:
        # Outside the group the filter does not exist; its members read it.
        assert refused(call(outsider), 404) == f"no filter with id {filter_id}"
        assert call(member.headers).status_code == 200
    assert stored(client, filter_id) == before  # nothing changed


def test_a_group_admin_manages_the_groups_filters(
    client: httpx.Client,
    gateway_url: str,
    make_filter: Callable[..., int],
    group_id: int,
    ztf_stream: int,
    wntr_stream: int,
) -> None:
    filter_id = make_filter()
    admin = user(client, streams=(ztf_stream, wntr_stream), admin_of=(group_id,))
    other_group = portal_group(client, "filters-api-other", [ztf_stream])
    other = user(client, streams=(ztf_stream,), admin_of=(other_group,))
    with httpx.Client(base_url=gateway_url, headers=admin.headers, timeout=60) as as_admin:
        created = ok(as_admin.post("/api/filters", json=new_filter(filter_id, group_id)))
        fid = created["data"]["fid"]
        assert stored(as_admin, filter_id)["active_fid"] == fid
        patched = ok(as_admin.patch("/api/filters", json={"filter_id": filter_id, "active": False}))
        assert patched["data"]["active"] is False
        assert stored(client, filter_id)["active"] is False
        # The admin of another group manages none of this group's filters.
        managed = f"filter {filter_id} is managed by the admins of group {group_id}"
        refusal = httpx.patch(
            f"{gateway_url}/api/filters",
            json={"filter_id": filter_id, "active": True},
            headers=other.headers,
        )
        assert refused(refusal, 403) == managed
        assert stored(client, filter_id)["active"] is False
        removed = as_admin.delete(f"/api/filters/{filter_id}")
        assert removed.status_code == 200, removed.text
    assert refused(client.get(f"/api/filters/{filter_id}"), 404) == gone(filter_id)


def test_key_order_inside_stages_survives_rest(
    client: httpx.Client, make_filter: Callable[..., int], group_id: int
) -> None:
    # A multi-key $sort means "by the first key, then the second": order is meaning.
    filter_id = make_filter()
    pipeline = [
        {"$match": {"candidate.magpsf": {"$gt": 0}}},
        {"$project": {"zeta": "$candidate.magpsf", "alpha": "$candidate.fid", "_id": 0}},
        {"$sort": {"zeta": -1, "alpha": 1}},
    ]
    body = json.dumps(
        new_filter(filter_id, group_id, pipeline, autosave={"active": True, "pipeline": pipeline})
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
