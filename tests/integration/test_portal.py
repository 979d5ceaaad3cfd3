"""Portal I end to end: real alerts on Kafka -> filters of two groups -> candidates,
annotations, photometry, thumbnails and autosaves in PostgreSQL, read back through Envoy
with each user seeing only their groups' data; the broker killed -9 mid-stream on the way.

This module runs a mesh of its own (it kills the broker), with small broker batches so that
the kill lands between batches of one stream.
"""

from __future__ import annotations

import asyncio
import importlib
import io
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import fastavro
import httpx
import pytest
import requests
from google.protobuf import descriptor_pb2
from PIL import Image
from pymongo import MongoClient

from skymesh.config import Settings
from skymesh.infra import stack
from skymesh.infra.gateway import DESCRIPTOR_SET
from skymesh.infra.process import Supervisor, group_alive, pid_alive
from skymesh.produce import produce_sync
from skymesh.runtime.auth import access_rules
from tests.conftest import ZTF_DIR, mesh_settings
from tests.polling import wait_for
from tests.portal import User, admin_client, data, group, portal_filter, stream, user
from tests.rest import ok, refused

pytestmark = pytest.mark.integration

ADMIN_PASSWORD = "portal-test-admin"
# The two packets whose photometry rows the spec counts (SKYPORTAL_SPEC.md §3.2).
SINGLE_ALERT_32_ROWS = "ZTF20aajcbhr"  # candid 1127561445515015011
WITH_FORCED_PHOTOMETRY = "ZTF17aadcvhq"  # candid 2475433850015010009
BRIGHT = 18.0  # group B's filter passes alerts brighter than this
PARTNERSHIP_CANDID = 1127561445515015999  # a programid-2 copy of a bundled alert


@dataclass
class World:
    settings: Settings
    http: httpx.Client
    group_a: int
    group_b: int
    filter_a: int
    filter_b: int
    alice: User  # Full user in A
    bob: User  # Full user in B
    viewer: User  # View only in A
    group_admin: User  # Full user, admin of A (not a system admin)
    partner: User  # Full user in A with the partnership stream
    ztf_objects: dict[str, list[dict[str, Any]]]
    kill_at: int

    def sql(self, query: str) -> Any:
        async def run() -> Any:
            dsn = self.settings.postgres_dsn.replace("postgresql+asyncpg", "postgresql")
            connection = await asyncpg.connect(dsn)
            try:
                return await connection.fetch(query)
            finally:
                await connection.close()

        return asyncio.run(run())

    def count(self, query: str) -> int:
        return int(self.sql(query)[0][0])


def bundled_ztf() -> dict[str, list[dict[str, Any]]]:
    objects: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(ZTF_DIR.rglob("*.avro")):
        with path.open("rb") as fh:
            (packet,) = list(fastavro.reader(fh))
        objects.setdefault(packet["objectId"], []).append(packet)
    return objects


def partnership_copy(tmp: Path) -> Path:
    """A bundled alert re-written as programid 2 under a new candid (ZTF partnership data)."""
    source = sorted(ZTF_DIR.rglob("*.avro"))[0]
    with source.open("rb") as fh:
        reader = fastavro.reader(fh)
        schema = reader.writer_schema
        (packet,) = list(reader)
    packet["candid"] = packet["candidate"]["candid"] = PARTNERSHIP_CANDID
    packet["candidate"]["programid"] = 2
    out = tmp / "partnership.avro"
    buffer = io.BytesIO()
    fastavro.writer(buffer, schema, [packet])
    out.write_bytes(buffer.getvalue())
    return out


def kill_9(supervisor: Supervisor, name: str) -> None:
    pid = supervisor.status()[name]
    assert pid is not None
    os.killpg(pid, signal.SIGKILL)
    wait_for(lambda: pid_alive(pid) or group_alive(pid), lambda a: not a, 10, f"{name} to die")


def make_world(http: httpx.Client, settings: Settings) -> dict[str, Any]:
    public = stream(http, "ZTF Public", "ZTF_alerts", [1])
    partnership = stream(http, "ZTF Public+Partnership", "ZTF_alerts", [1, 2])
    group_a = group(http, "A", [public])
    group_b = group(http, "B", [public])
    filter_a = portal_filter(http, "everything", group_a, public)
    filter_b = portal_filter(http, "bright", group_b, public)
    everything = [
        {"$project": {"annotations": {"magpsf": "$candidate.magpsf", "drb": "$candidate.drb"}}}
    ]
    bright = [
        {"$match": {"candidate.magpsf": {"$lt": BRIGHT}}},
        {"$project": {"annotations": {"bright": True, "magpsf": "$candidate.magpsf"}}},
    ]
    for filter_id, group_id, pipeline, comment in (
        (filter_a, group_a, everything, "saved by A's filter"),
        (filter_b, group_b, bright, "saved by B's filter"),
    ):
        body = {"filter_id": filter_id, "group_id": group_id, "pipeline": pipeline}
        ok(http.post("/api/filters", json=body))
        autosave = {"filter_id": filter_id, "autosave": {"active": True, "comment": comment}}
        ok(http.patch("/api/filters", json=autosave))
    return {
        "group_a": group_a,
        "group_b": group_b,
        "filter_a": filter_a,
        "filter_b": filter_b,
        "alice": user(http, streams=(public,), groups=(group_a,)),
        "bob": user(http, streams=(public,), groups=(group_b,)),
        "viewer": user(http, role="View only", streams=(public,), groups=(group_a,)),
        "group_admin": user(http, streams=(public,), admin_of=(group_a,)),
        "partner": user(http, streams=(public, partnership), groups=(group_a,)),
    }


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    settings = mesh_settings(
        tmp_path_factory.mktemp("portal-run"),
        admin_password=ADMIN_PASSWORD,
        broker_batch_size=2,
        kafka_group_id="portal-test",
    )
    supervisor = stack.up(settings, in_memory_db=True, report=lambda _: None)
    mongo: MongoClient = MongoClient(settings.mongo_uri)
    try:
        http = admin_client(settings)
        made = make_world(http, settings)
        objects = bundled_ztf()
        files = sorted(ZTF_DIR.rglob("*.avro"))
        produce_sync(files, "ztf_20200202_programid1", settings.kafka_bootstrap, quiet=True)
        alerts = mongo[settings.db_name]["ZTF_alerts"]

        def archived() -> int:
            return alerts.count_documents({})

        wait_for(archived, lambda n: n >= 2, 120, "the first batches")
        kill_9(supervisor, "broker")
        kill_at = archived()
        supervisor.start(stack.service_process(settings, "broker"))
        partner_file = partnership_copy(tmp_path_factory.mktemp("alerts"))
        produce_sync([partner_file], "ztf_20200202_programid2", settings.kafka_bootstrap, True)
        wait_for(
            archived,
            lambda n: n == len(files) + 1,
            180,
            "every alert after the broker's restart",
        )
        world = World(settings, http, ztf_objects=objects, kill_at=kill_at, **made)
        # Every alert is archived; the portal has them once their batch's post committed.
        wait_for(
            lambda: world.count("select count(distinct obj_id) from candidates"),
            lambda n: n == len(objects),
            60,
            "a candidate for every bundled ZTF object",
        )
        yield world
        http.close()
    finally:
        mongo.close()
        supervisor.stop_all()


def get(world: World, who: User | None, path: str, **params: Any) -> httpx.Response:
    headers = who.headers if who else {}
    return world.http.get(path, headers=headers, params=params)


# ---- the broker's posts -----------------------------------------------------------------


def test_the_kill_was_mid_stream_and_left_no_duplicate_rows(world: World) -> None:
    total = sum(len(alerts) for alerts in world.ztf_objects.values())
    assert 0 < world.kill_at < total, f"the broker was killed after {world.kill_at}/{total}"
    duplicates = {
        "candidates": "select count(*) from (select obj_id, filter_id, passing_alert_id "
        "from candidates group by 1, 2, 3 having count(*) > 1) d",
        "annotations": "select count(*) from (select obj_id, origin from annotations "
        "group by 1, 2 having count(*) > 1) d",
        "photometry": "select count(*) from (select obj_id, instrument_id, origin, mjd, "
        "fluxerr, flux from photometry group by 1, 2, 3, 4, 5, 6 having count(*) > 1) d",
        "thumbnails": "select count(*) from (select obj_id, type from thumbnails "
        "group by 1, 2 having count(*) > 1) d",
        "sources": "select count(*) from (select obj_id, group_id from sources "
        "group by 1, 2 having count(*) > 1) d",
        "comments": "select count(*) from (select obj_id, text from comments "
        "group by 1, 2 having count(*) > 1) d",
    }
    assert {table: world.count(q) for table, q in duplicates.items()} == dict.fromkeys(
        duplicates, 0
    )
    # One candidate per passing (alert, filter): A passes every programid-1 alert.
    passes_a = world.count(f"select count(*) from candidates where filter_id = {world.filter_a}")
    assert passes_a == total


def test_candidates_annotations_and_autosave_for_the_group(world: World) -> None:
    obj = SINGLE_ALERT_32_ROWS
    assert world.http.head(f"/api/candidates/{obj}", headers=world.alice.headers).status_code == 200
    candidate = data(get(world, world.alice, f"/api/candidates/{obj}", includeAlerts="true"))
    (packet,) = world.ztf_objects[obj]
    assert candidate["passing_alerts"][0]["passing_alert_id"] == packet["candid"]
    assert candidate["is_source"] is True
    (annotation,) = data(get(world, world.alice, f"/api/sources/{obj}/annotations"))
    assert annotation["origin"].endswith(":everything")
    assert annotation["data"]["magpsf"] == pytest.approx(packet["candidate"]["magpsf"])
    comments = data(get(world, world.alice, f"/api/sources/{obj}/comments"))
    assert [(c["text"], c["bot"]) for c in comments] == [("saved by A's filter", True)]
    groups = data(get(world, world.alice, f"/api/sources/{obj}/groups"))
    assert [g["id"] for g in groups] == [world.group_a]


def test_photometry_rows_of_the_named_packets(world: World) -> None:
    rows = data(get(world, world.alice, f"/api/sources/{SINGLE_ALERT_32_ROWS}/photometry"))
    assert len(rows) == 32
    assert sum(1 for r in rows if r["mag"] is not None) == 21
    assert {r["filter"] for r in rows} <= {"ztfg", "ztfr", "ztfi"}
    rows = data(
        get(world, world.alice, f"/api/sources/{WITH_FORCED_PHOTOMETRY}/photometry", format="flux")
    )
    alert_rows = [r for r in rows if r["origin"] is None]
    forced = [r for r in rows if r["origin"] == "alert_fp"]
    assert (len(alert_rows), len(forced)) == (21, 7)
    assert sum(1 for r in alert_rows if r["flux"] is not None) == 5
    assert sum(1 for r in forced if r["flux"] is not None) == 6
    assert all(r["zp"] == 23.9 and r["magsys"] == "ab" for r in rows)


def test_three_png_thumbnails_of_168_pixels(world: World) -> None:
    source = data(
        get(world, world.alice, f"/api/sources/{SINGLE_ALERT_32_ROWS}", includeThumbnails="1")
    )
    thumbnails = {t["type"]: t for t in source["thumbnails"]}
    assert set(thumbnails) == {"new", "ref", "sub"}
    for thumbnail in thumbnails.values():
        response = world.http.get(thumbnail["public_url"], headers=world.alice.headers)
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/png"
        image = Image.open(io.BytesIO(response.content))
        assert (image.format, image.size) == ("PNG", (168, 168))


# ---- who sees what ----------------------------------------------------------------------


def routes() -> list[tuple[str, str, str]]:
    """(method, path, full gRPC method) of every route Envoy exposes, from the descriptor set."""
    from google.api import annotations_pb2, http_pb2

    files = descriptor_pb2.FileDescriptorSet.FromString(DESCRIPTOR_SET.read_bytes())
    found = []
    for file in files.file:
        if not file.package.startswith("skymesh."):
            continue
        for service in file.service:
            for method in service.method:
                rule = http_pb2.HttpRule()
                options = method.options
                if not options.HasExtension(annotations_pb2.http):
                    continue
                rule.CopyFrom(options.Extensions[annotations_pb2.http])
                verb = rule.WhichOneof("pattern")
                path = rule.custom.path if verb == "custom" else getattr(rule, verb)
                verb = rule.custom.kind if verb == "custom" else verb.upper()
                full = f"{file.package}.{service.name}"
                found.append((verb, path, f"/{full}/{method.name}"))
    return found


def concrete(path: str) -> str:
    import re

    return re.sub(r"\{[^}]+\}", "1", path)


def call(http: httpx.Client, verb: str, path: str, headers: dict[str, str]) -> httpx.Response:
    body = None if verb in ("GET", "HEAD", "DELETE") else b"{}"
    return http.request(verb, concrete(path), headers=headers, content=body)


def test_every_route_but_login_needs_a_valid_token(world: World) -> None:
    found = routes()
    assert len(found) > 40
    bare = httpx.Client(base_url=str(world.http.base_url), timeout=30)
    for verb, path, _ in found:
        # The login, and the OpenAPI document (documentation, public as SkyPortal's).
        if (verb, path) in (("POST", "/api/auth"), ("GET", "/api/openapi.json")):
            continue
        for headers in (
            {},
            {"Authorization": "token 00000000-0000-4000-8000-000000000000"},
            {"Authorization": "Bearer not.a.jwt"},
        ):
            response = call(bare, verb, path, headers)
            assert response.status_code == 401, (verb, path, headers, response.text)


# Routes that a View only user may call although they are not GETs: the login, reads sent as
# POST, and what a user does to their own account (tokens, joining an auto_join stream, their
# own favourites and rejected candidates, as SkyPortal lets any user keep lists).
NOT_WRITES = {
    "/skymesh.portal.v1.PortalService/Auth",
    "/skymesh.archive.v1.ArchiveService/QueryHttp",
    "/skymesh.filters.v1.FiltersService/TestFilter",
    "/skymesh.portal.v1.PortalService/CreateToken",
    "/skymesh.portal.v1.PortalService/RenameToken",
    "/skymesh.portal.v1.PortalService/DeleteToken",
    "/skymesh.portal.v1.PortalService/AddStreamUser",
    "/skymesh.portal.v1.PortalService/PostListing",
    "/skymesh.portal.v1.PortalService/DeleteListing",
}


def test_a_view_only_token_cannot_write(world: World) -> None:
    writes = [(v, p, m) for v, p, m in routes() if v not in ("GET", "HEAD") and m not in NOT_WRITES]
    assert len(writes) > 20
    services = {m.split("/")[1] for _, _, m in writes}
    for service in services:  # the compiled stubs carry the declared access
        importlib.import_module(service.rsplit(".", 1)[0] + "." + service.split(".")[1] + "_pb2")
    declared = access_rules(services)
    for verb, path, method in writes:
        if method == "/skymesh.filters.v1.FiltersService/CreateFilterHttp":
            body = {"name": "x", "group_id": world.group_a, "stream_id": 1}
            response = world.http.post(path, headers=world.viewer.headers, json=body)
        else:
            response = call(world.http, verb, path, world.viewer.headers)
        assert response.status_code == 401, (verb, path, response.text)
        assert method in declared or "filters" in method, f"{method} declares no ACL"


def test_a_member_of_one_group_gets_nothing_of_another_groups_data(world: World) -> None:
    only_a = [
        o
        for o, alerts in world.ztf_objects.items()
        if all(a["candidate"]["magpsf"] >= BRIGHT for a in alerts)
    ]
    both = [
        o
        for o, alerts in world.ztf_objects.items()
        if all(a["candidate"]["magpsf"] < BRIGHT for a in alerts)
    ]
    assert only_a and both
    for obj in only_a:  # bob's group B never passed it: it does not exist for him
        assert (
            world.http.head(f"/api/candidates/{obj}", headers=world.bob.headers).status_code == 404
        )
        assert "Invalid ID" in refused(get(world, world.bob, f"/api/candidates/{obj}"))
        for tail in ("", "/annotations", "/comments", "/photometry", "/groups"):
            refused(get(world, world.bob, f"/api/sources/{obj}{tail}"), 404)
    for obj in both:  # each sees the object, with only their own group's data
        origins = {
            a["origin"] for a in data(get(world, world.alice, f"/api/sources/{obj}/annotations"))
        }
        assert origins and all(o.endswith(":everything") for o in origins)
        origins = {
            a["origin"] for a in data(get(world, world.bob, f"/api/sources/{obj}/annotations"))
        }
        assert origins and all(o.endswith(":bright") for o in origins)
        texts = {c["text"] for c in data(get(world, world.bob, f"/api/sources/{obj}/comments"))}
        assert texts == {"saved by B's filter"}
        groups = {g["id"] for g in data(get(world, world.bob, f"/api/sources/{obj}/groups"))}
        assert groups == {world.group_b}
    seen = data(get(world, world.bob, "/api/groups"))
    assert world.group_a not in {g["id"] for g in seen["user_groups"]}


def test_a_group_admin_manages_membership_and_the_groups_filters(world: World) -> None:
    admin = world.group_admin
    newcomer = user(world.http, streams=(1,))
    added = world.http.post(
        f"/api/groups/{world.group_a}/users", headers=admin.headers, json={"userID": newcomer.id}
    )
    assert data(added)["user_id"] == newcomer.id
    members = data(get(world, admin, f"/api/groups/{world.group_a}"))["users"]
    assert newcomer.id in {m["id"] for m in members}
    # ... but not group B's
    refused(
        world.http.post(
            f"/api/groups/{world.group_b}/users",
            headers=admin.headers,
            json={"userID": newcomer.id},
        ),
        403,
    )
    version = {
        "filter_id": world.filter_a,
        "pipeline": [{"$match": {"candidate.magpsf": {"$lt": 30}}}],
    }
    assert ok(world.http.post("/api/filters", headers=admin.headers, json=version))["data"]["fid"]
    refused(
        world.http.post(
            "/api/filters", headers=admin.headers, json={**version, "filter_id": world.filter_b}
        ),
        403,
    )
    refused(
        world.http.patch(
            "/api/filters",
            headers=world.alice.headers,
            json={"filter_id": world.filter_a, "active": True},
        ),
        403,
    )
    gone = world.http.delete(
        f"/api/groups/{world.group_a}/users/{newcomer.id}", headers=admin.headers
    )
    data(gone)


def test_alerts_of_streams_a_user_lacks_are_not_served(world: World) -> None:
    query = {
        "query_type": "find",
        "query": {
            "catalog": "ZTF_alerts",
            "filter": {},
            "projection": {"candid": 1, "candidate.programid": 1},
        },
    }

    def programids(who: User | None) -> set[int]:
        headers = who.headers if who else {}
        found = ok(world.http.post("/api/queries", headers=headers, json=query))["data"]
        return {a["candidate"]["programid"] for a in found}

    assert programids(world.alice) == {1}
    assert programids(world.partner) == {1, 2}
    assert programids(None) == {1, 2}  # the admin's client
    one = {
        "query_type": "find_one",
        "query": {"catalog": "ZTF_alerts", "filter": {"candid": PARTNERSHIP_CANDID}},
    }
    assert (
        ok(world.http.post("/api/queries", headers=world.alice.headers, json=one))["data"] is None
    )


def test_the_fritz_example_with_plain_requests(world: World) -> None:
    """Fritz's documented example: GET api/sources/{obj_id}/annotations with a token."""
    url = f"http://127.0.0.1:{world.settings.ports.gateway}/api/sources/{SINGLE_ALERT_32_ROWS}/annotations"
    response = requests.get(
        url, headers={"Authorization": f"token {world.alice.token}"}, timeout=30
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "success"
    (annotation,) = body["data"]
    assert set(annotation) >= {"author_id", "created_at", "data", "id", "obj_id", "origin"}
    assert annotation["obj_id"] == SINGLE_ALERT_32_ROWS


def test_tokens_are_created_listed_and_revoked(world: World) -> None:
    mine = data(get(world, world.alice, "/api/internal/tokens"))
    assert [t["id"] for t in mine] == [world.alice.token]
    refused(
        world.http.post(
            "/api/internal/tokens", headers=world.alice.headers, json={"name": "second", "acls": []}
        )
    )
    extra = data(
        world.http.post("/api/internal/tokens", json={"name": "revoke-me", "acls": ["Comment"]})
    )["token_id"]
    headers = {"Authorization": f"token {extra}"}
    assert world.http.get("/api/groups", headers=headers).status_code == 200
    data(world.http.delete(f"/api/internal/tokens/{extra}"))
    refused(world.http.get("/api/groups", headers=headers), 401)
    refused(
        world.http.post(
            "/api/internal/tokens",
            headers=world.viewer.headers,
            json={"name": "x", "acls": ["Comment"]},
        )
    )
