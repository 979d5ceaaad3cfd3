"""Sources, source_groups, listings and candidate expiry (SKYPORTAL_SPEC.md §4, §5) end to end,
through the gateway, with SkyPortal's shapes, codes and messages.

This module runs a small mesh of its own (PostgreSQL, the database for the filters, the
portal, the filters service and Envoy: no Kafka, no Triton). Groups, streams, users, tokens
and filters are made through REST as a user would; candidates arrive as the broker posts
them, through the portal's PostPasses with a service token (there is no POST
/api/candidates on this branch), with photometry, thumbnails and filter annotations.
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import grpc
import httpx
import pytest
from PIL import Image

from skymesh.config import Settings
from skymesh.infra import stack
from skymesh.portal.v1 import portal_pb2, portal_pb2_grpc
from skymesh.runtime.auth import service_token
from tests.conftest import mesh_settings
from tests.polling import wait_for
from tests.portal import User, admin_client, data, group, portal_filter, stream, user
from tests.rest import refused

pytestmark = pytest.mark.integration

ADMIN_PASSWORD = "sources-test-admin"
COMPONENTS = ("database", "postgres", "portal", "filters", "gateway")


@dataclass
class World:
    settings: Settings
    http: httpx.Client
    group_a: int
    group_b: int
    filter_a: int
    filter_b: int
    origin_a: str  # annotation origin of filter A: "<group A's name>:everything"
    alice: User  # Full user in A
    bob: User  # Full user in B
    viewer: User  # View only in A
    manager: User  # Group admin (role: Manage sources) in A
    nosave: User  # Full user in A without can_save
    admin_id: int
    # Every candidate object posted, with whether a Source row was ever made for it.
    candidates: dict[str, bool] = field(default_factory=dict)

    def sql(self, query: str, *args: Any) -> list[Any]:
        async def run() -> list[Any]:
            dsn = self.settings.postgres_dsn.replace("postgresql+asyncpg", "postgresql")
            connection = await asyncpg.connect(dsn)
            try:
                return await connection.fetch(query, *args)
            finally:
                await connection.close()

        return asyncio.run(run())

    def count(self, query: str, *args: Any) -> int:
        return int(self.sql(query, *args)[0][0])

    def as_(self, who: User | None) -> dict[str, str]:
        return who.headers if who else {}

    def get(self, who: User | None, path: str, **params: Any) -> httpx.Response:
        return self.http.get(path, headers=self.as_(who), params=params)

    def post(self, who: User | None, path: str, body: Any) -> httpx.Response:
        return self.http.post(path, headers=self.as_(who), json=body)

    def patch(self, who: User | None, path: str, body: Any) -> httpx.Response:
        return self.http.patch(path, headers=self.as_(who), json=body)

    def delete(self, who: User | None, path: str, body: Any = None) -> httpx.Response:
        return self.http.request("DELETE", path, headers=self.as_(who), json=body)

    def head(self, who: User | None, path: str) -> int:
        return self.http.head(path, headers=self.as_(who)).status_code

    def pass_alerts(self, *alerts: portal_pb2.PassedAlert) -> portal_pb2.PostPassesResponse:
        """The broker's post of passing alerts, as it makes it (service token, gRPC)."""
        token = service_token(self.settings.jwt_secret, "broker")
        with grpc.insecure_channel(self.settings.address("portal")) as channel:
            stub = portal_pb2_grpc.PortalServiceStub(channel)
            reply = stub.PostPasses(
                portal_pb2.PostPassesRequest(alerts=list(alerts)),
                metadata=[("authorization", f"Bearer {token}")],
                timeout=60,
            )
        for alert in alerts:
            self.candidates.setdefault(alert.obj_id, False)
        return reply

    def saved(self, who: User | None, obj_id: str, **body: Any) -> dict[str, Any]:
        reply = data(self.post(who, "/api/sources", {"id": obj_id, **body}))
        if obj_id in self.candidates:
            self.candidates[obj_id] = True
        return reply


def png(shade: int = 128) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (168, 168), shade).save(buffer, format="PNG")
    return buffer.getvalue()


CANDID = iter(range(3_000_000_000_000_000_000, 4_000_000_000_000_000_000))


def alert(
    obj_id: str, ra: float, dec: float, filters: dict[int, dict[str, Any]]
) -> portal_pb2.PassedAlert:
    """A passing alert: two photometry points, a new/ref/sub triplet, each filter's
    annotations."""
    points = [
        portal_pb2.PhotometryPoint(
            mjd=60000.5 + i,
            flux=100.0 + i,
            fluxerr=5.0,
            zp=23.9,
            filter="ztfg",
            magsys="ab",
            ra=ra,
            dec=dec,
            programid=1,
        )
        for i in range(2)
    ]
    stamp = png()
    return portal_pb2.PassedAlert(
        candid=next(CANDID),
        obj_id=obj_id,
        ra=ra,
        dec=dec,
        score=0.9,
        collection="ZTF_alerts",
        instrument="ZTF",
        photometry=points,
        thumbnails=[portal_pb2.Thumbnail(type=t, png=stamp) for t in ("new", "ref", "sub")],
        filters=[
            portal_pb2.PassedFilter(filter_id=f, annotations_json=json.dumps(a))
            for f, a in filters.items()
        ],
        passed_at=datetime.now(UTC).isoformat(),
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    settings = mesh_settings(tmp_path_factory.mktemp("sources-run"), admin_password=ADMIN_PASSWORD)
    supervisor = stack.up(settings, only=COMPONENTS, in_memory_db=True, report=lambda _: None)
    try:
        http = admin_client(settings)
        public = stream(http, "ZTF Public", "ZTF_alerts", [1])
        group_a = group(http, "A", [public])
        group_b = group(http, "B", [public])
        filter_a = portal_filter(http, "everything", group_a, public)
        filter_b = portal_filter(http, "bright", group_b, public)
        name_a = data(http.get(f"/api/groups/{group_a}"))["name"]
        nosave = user(http, streams=(public,))
        data(
            http.post(f"/api/groups/{group_a}/users", json={"userID": nosave.id, "canSave": False})
        )
        yield World(
            settings=settings,
            http=http,
            group_a=group_a,
            group_b=group_b,
            filter_a=filter_a,
            filter_b=filter_b,
            origin_a=f"{name_a}:everything",
            alice=user(http, streams=(public,), groups=(group_a,)),
            bob=user(http, streams=(public,), groups=(group_b,)),
            viewer=user(http, role="View only", streams=(public,), groups=(group_a,)),
            manager=user(http, role="Group admin", streams=(public,), groups=(group_a,)),
            nosave=nosave,
            admin_id=data(http.get("/api/internal/profile"))["id"],
        )
        http.close()
    finally:
        supervisor.stop_all()


def groups_of(world: World, who: User, obj_id: str, **params: Any) -> dict[int, dict[str, Any]]:
    return {g["id"]: g for g in data(world.get(who, f"/api/sources/{obj_id}/groups", **params))}


# ---- POST /api/sources ----------------------------------------------------------------------


def test_saving_a_new_object_to_a_group(world: World) -> None:
    saved = world.saved(world.alice, "src-new-1", ra=10.0, dec=20.0, group_ids=[world.group_a])
    assert saved == {"id": "src-new-1", "saved_to_groups": [world.group_a], "warnings": []}
    source = data(world.get(world.alice, "/api/sources/src-new-1"))
    assert (source["id"], source["ra"], source["dec"]) == ("src-new-1", 10.0, 20.0)
    (only,) = source["groups"]
    assert only["id"] == world.group_a and only["active"] is True and only["requested"] is False
    assert only["saved_by"]["username"] == world.alice.username
    assert only["saved_by_id"] == world.alice.id and only["saved_at"]
    assert world.head(world.alice, "/api/sources/src-new-1") == 200
    # Another group's member does not see it at all.
    assert world.head(world.bob, "/api/sources/src-new-1") == 404
    refused(world.get(world.bob, "/api/sources/src-new-1"), 404)
    refused(world.get(world.bob, "/api/sources/src-new-1/groups"), 404)


def test_without_group_ids_a_save_goes_to_every_group_of_the_caller(world: World) -> None:
    mine = set(data(world.get(world.alice, "/api/internal/profile"))["groups"])
    assert world.group_a in mine and len(mine) == 3  # A, the sitewide group, alice's own
    saved = world.saved(world.alice, "src-all-groups", ra=11.0, dec=21.0)
    assert set(saved["saved_to_groups"]) == mine
    assert set(groups_of(world, world.alice, "src-all-groups")) == mine


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"id": "src-no-position", "ra": 1.0}, "RA/Declination must not be null for a new Obj"),
        ({"id": "src bad", "ra": 1.0, "dec": 2.0}, "No spaces allowed in source ID"),
        (
            {"id": "src/bad", "ra": 1.0, "dec": 2.0},
            "Only letters, numbers, underscores, semicolons, colons, +, -, and periods are "
            "allowed in source ID",
        ),
        ({"id": "src-far", "ra": 1.0, "dec": 91.0}, "source: dec must be in [-90, 90] degrees"),
        (
            {"id": "src-ignore", "ra": 1.0, "dec": 2.0, "ignore_if_in_group_ids": {"x": [1]}},
            "Invalid ignore_if_in_group_ids field. Please specify a dict of group_ids to ignore.",
        ),
    ],
)
def test_refused_saves(world: World, body: dict[str, Any], reason: str) -> None:
    message = refused(world.post(world.alice, "/api/sources", body))
    assert message.startswith(f"Failed to post source: {reason}")
    assert world.count("select count(*) from objs where id = $1", body["id"]) == 0


def test_a_save_to_a_group_that_is_not_the_callers_is_refused(world: World) -> None:
    body = {"id": "src-not-mine", "ra": 1.0, "dec": 2.0, "group_ids": [world.group_b]}
    message = refused(world.post(world.alice, "/api/sources", body))
    assert message == (
        f"Failed to post source: Cannot find group_id {world.group_b}. Please remove and try again."
    )


def test_saving_needs_can_save(world: World) -> None:
    body = {"id": "src-cannot", "ra": 1.0, "dec": 2.0, "group_ids": [world.group_a]}
    message = refused(world.post(world.nosave, "/api/sources", body))
    assert message == (
        f"Failed to post source: User does not have power to save to group with ID {world.group_a}."
    )
    assert world.count("select count(*) from objs where id = 'src-cannot'") == 0


def test_view_only_tokens_cannot_write_sources(world: World) -> None:
    world.saved(world.alice, "src-viewed", ra=12.0, dec=22.0, group_ids=[world.group_a])
    for response in (
        world.post(world.viewer, "/api/sources", {"id": "src-x", "ra": 1.0, "dec": 1.0}),
        world.patch(world.viewer, "/api/sources/src-viewed", {"redshift": 0.1}),
        world.delete(world.viewer, "/api/sources/src-viewed", {"group_id": world.group_a}),
        world.post(world.viewer, "/api/source_groups", {"objId": "src-viewed"}),
        world.patch(world.viewer, "/api/source_groups/src-viewed", {"groupID": world.group_a}),
    ):
        assert "HTTP 401: Unauthorized" in refused(response, 401)
    # ... and reading is theirs, as a member of A.
    assert data(world.get(world.viewer, "/api/sources/src-viewed"))["id"] == "src-viewed"


def test_only_admins_save_as_someone_else(world: World) -> None:
    fields = {
        "ra": 13.0,
        "dec": 23.0,
        "group_ids": [world.group_a],
        "saver_per_group_id": {str(world.group_a): world.alice.id},
    }
    message = refused(world.post(world.alice, "/api/sources", {"id": "src-saver", **fields}))
    assert message == (
        "Failed to post source: You must be an admin to specify a saver_per_group_id field."
    )
    saved = world.saved(None, "src-saver", **fields)
    assert saved["saved_to_groups"] == [world.group_a] and saved["warnings"] == []
    assert groups_of(world, world.alice, "src-saver")[world.group_a]["saved_by_id"] == (
        world.alice.id
    )
    # A saver who is not a member: the save is the caller's, with a warning.
    fields["saver_per_group_id"] = {str(world.group_a): world.bob.id}
    saved = world.saved(None, "src-saver-2", **fields)
    assert saved["warnings"] == [
        f"Could not save to group {world.group_a} as user {world.bob.id} (user is not a "
        f"member of the group). Using current user {world.admin_id} instead."
    ]
    assert groups_of(world, world.alice, "src-saver-2")[world.group_a]["saved_by_id"] == (
        world.admin_id
    )


def test_ignore_if_in_group_ids_skips_groups_that_already_have_it(world: World) -> None:
    world.saved(None, "src-ignore-1", ra=14.0, dec=24.0, group_ids=[world.group_a])
    ignore = {str(world.group_b): [world.group_a]}
    saved = world.saved(
        None,
        "src-ignore-1",
        group_ids=[world.group_a, world.group_b],
        ignore_if_in_group_ids=ignore,
    )
    assert saved["saved_to_groups"] == [world.group_a]
    all_groups = data(world.get(None, "/api/sources/src-ignore-1/groups"))
    assert [g["id"] for g in all_groups] == [world.group_a]
    refused(world.get(world.bob, "/api/sources/src-ignore-1"), 404)
    # Its keys must be groups saved to.
    message = refused(
        world.post(
            None,
            "/api/sources",
            {"id": "src-ignore-1", "group_ids": [world.group_a], "ignore_if_in_group_ids": ignore},
        )
    )
    assert message.startswith("Failed to post source: Invalid ignore_if_in_group_ids field.")


def test_an_existing_candidate_of_another_group_is_saved_without_a_position(world: World) -> None:
    world.pass_alerts(alert("cand-of-b", 40.0, 5.0, {world.filter_b: {"drb": 0.9}}))
    refused(world.get(world.alice, "/api/sources/cand-of-b"), 404)
    saved = world.saved(world.alice, "cand-of-b", group_ids=[world.group_a])
    assert saved["saved_to_groups"] == [world.group_a]
    source = data(world.get(world.alice, "/api/sources/cand-of-b"))
    assert (source["ra"], source["dec"]) == (40.0, 5.0)
    # alice reads her group's save, not the other group's filter annotation.
    assert source["annotations"] == []
    assert [g["id"] for g in source["groups"]] == [world.group_a]


# ---- the broker's batches (PostPasses) ------------------------------------------------------


def restamped(passed: portal_pb2.PassedAlert, shade: int) -> portal_pb2.PassedAlert:
    """``passed`` with stamps of its own (a uniform grey of that shade)."""
    for thumbnail in passed.thumbnails:
        thumbnail.png = png(shade)
    return passed


def stored_annotations(world: World, obj_id: str) -> dict[str, dict[str, Any]]:
    """origin -> {id, data, modified, groups} of the object's annotations."""
    rows = world.sql(
        "select a.id, a.origin, a.data, a.modified, array_agg(g.group_id order by g.group_id) "
        "as groups from annotations a join annotation_groups g on g.annotation_id = a.id "
        "where a.obj_id = $1 group by a.id",
        obj_id,
    )
    return {
        row["origin"]: {
            "id": row["id"],
            "data": json.loads(row["data"]),
            "modified": row["modified"],
            "groups": list(row["groups"]),
        }
        for row in rows
    }


def test_two_alerts_of_an_object_in_one_batch(world: World) -> None:
    """Both alerts' passes are candidates; the object's annotation of each origin and its
    stamp of each type are one row each, as the alerts posted one by one would leave them:
    the annotation replaced by the later pass where its filter updates annotations, and the
    stamps the latest alert's, whichever comes first in the batch."""
    passes = {world.filter_a: {"drb": 0.1}, world.filter_b: {"drb": 0.1}}
    x1 = restamped(alert("batch-x", 80.0, 3.0, passes), 50)
    y1 = restamped(alert("batch-y", 81.0, 3.0, {world.filter_a: {"drb": 0.1}}), 50)
    passes = {world.filter_a: {"drb": 0.2}, world.filter_b: {"drb": 0.2}}
    x2 = restamped(alert("batch-x", 80.0, 3.0, passes), 200)
    y2 = restamped(alert("batch-y", 81.0, 3.0, {world.filter_a: {"drb": 0.2}}), 200)
    for passed in (x1, x2, y1, y2):
        passed.filters[0].update_annotations = True  # filter A's; B's does not update
    reply = world.pass_alerts(x1, x2, y2, y1)
    # 4 passes of X and 2 of Y; one annotation per (object, origin); 3 stamps per object; the
    # two points of alert() are the same in both alerts of an object.
    assert (reply.candidates, reply.annotations, reply.thumbnails, reply.photometry) == (6, 3, 6, 4)
    assert world.count("select count(*) from objs where id in ('batch-x', 'batch-y')") == 2
    candidates = world.sql(
        "select filter_id, passing_alert_id from candidates where obj_id = 'batch-x'"
    )
    assert sorted(tuple(row) for row in candidates) == sorted(
        (f, a.candid) for f in (world.filter_a, world.filter_b) for a in (x1, x2)
    )
    annotations = stored_annotations(world, "batch-x")
    origin_b = next(origin for origin in annotations if origin != world.origin_a)
    assert annotations[world.origin_a]["data"] == {"drb": 0.2}
    assert annotations[origin_b]["data"] == {"drb": 0.1}
    assert [annotations[o]["groups"] for o in (world.origin_a, origin_b)] == [
        [world.group_a],
        [world.group_b],
    ]
    for obj_id, latest in (("batch-x", x2), ("batch-y", y2)):
        stamps = world.sql(
            "select type, png, passing_alert_id from thumbnails where obj_id = $1", obj_id
        )
        assert sorted(row["type"] for row in stamps) == ["new", "ref", "sub"]
        assert {(row["passing_alert_id"], bytes(row["png"])) for row in stamps} == {
            (latest.candid, png(200))
        }
    # The earlier alert again changes no stamp.
    again = world.pass_alerts(restamped(y1, 90))
    assert (again.candidates, again.thumbnails) == (0, 0)
    stamps = world.sql("select distinct png from thumbnails where obj_id = 'batch-y'")
    assert [bytes(row["png"]) for row in stamps] == [png(200)]


def test_an_existing_and_a_new_annotation_in_one_batch(world: World) -> None:
    """In one batch, an object's annotation of an origin it has is replaced when the filter
    updates annotations and left as it is when not, and one of a new origin is added."""
    world.pass_alerts(
        alert("batch-kept", 82.0, 4.0, {world.filter_a: {"drb": 0.3}}),
        alert("batch-updated", 83.0, 4.0, {world.filter_a: {"drb": 0.3}}),
    )
    before = {o: stored_annotations(world, o) for o in ("batch-kept", "batch-updated")}
    kept = alert("batch-kept", 82.0, 4.0, {world.filter_a: {"drb": 0.6}})
    updated = alert(
        "batch-updated", 83.0, 4.0, {world.filter_a: {"drb": 0.6}, world.filter_b: {"drb": 0.6}}
    )
    updated.filters[0].update_annotations = True
    unchanged = alert("batch-updated", 83.0, 4.0, {world.filter_a: {"drb": 0.6}})
    unchanged.filters[0].update_annotations = True
    reply = world.pass_alerts(kept, updated, unchanged)
    assert reply.annotations == 1
    after = {o: stored_annotations(world, o) for o in ("batch-kept", "batch-updated")}
    assert after["batch-kept"] == before["batch-kept"]
    mine, was = after["batch-updated"][world.origin_a], before["batch-updated"][world.origin_a]
    assert (mine["id"], mine["data"], mine["groups"]) == (was["id"], {"drb": 0.6}, [world.group_a])
    assert mine["modified"] > was["modified"]
    (new,) = (a for origin, a in after["batch-updated"].items() if origin != world.origin_a)
    assert (new["data"], new["groups"]) == ({"drb": 0.6}, [world.group_b])


def test_a_redelivered_batch_adds_nothing(world: World) -> None:
    """The same batch again (the broker's retry after a lost reply) changes no row and
    answers zero counts; a pass of a filter the portal does not know is counted each time."""
    batch = [
        alert(f"batch-again-{i}", 84.0 + i, 5.0, {world.filter_a: {"drb": 0.5}, world.filter_b: {}})
        for i in range(2)
    ]
    for passed in batch:
        passed.filters[0].autosave = True
        passed.filters[0].autosave_json = json.dumps({"comment": "saved by the batch"})
        passed.filters.add(filter_id=10**9, annotations_json='{"drb": 1}')
    # A later alert of the first object, with stamps of its own, in the same batch.
    batch.append(restamped(alert("batch-again-0", 84.0, 5.0, {world.filter_b: {"b": 1}}), 30))
    first = world.pass_alerts(*batch)
    world.candidates["batch-again-0"] = world.candidates["batch-again-1"] = True  # autosaved
    assert first == portal_pb2.PostPassesResponse(
        candidates=5, annotations=3, photometry=4, thumbnails=6, saved=2, unknown_filters=2
    )
    mine = "like 'batch-again-%'"
    queries = {
        "candidates": f"select count(*) from candidates where obj_id {mine}",
        "annotations": "select string_agg(concat_ws(' ', id, origin, data, modified), ','"
        f" order by id) from annotations where obj_id {mine}",
        "annotation groups": "select count(*) from annotation_groups g join annotations a"
        f" on a.id = g.annotation_id where a.obj_id {mine}",
        "photometry": f"select count(*) from photometry where obj_id {mine}",
        "photometry streams": "select count(*) from photometry_streams s join photometry p"
        f" on p.id = s.photometry_id where p.obj_id {mine}",
        "thumbnails": "select string_agg(concat_ws(' ', obj_id, type, passing_alert_id,"
        f" md5(png)), ',' order by obj_id, type) from thumbnails where obj_id {mine}",
        "sources": f"select count(*) from sources where obj_id {mine}",
        "comments": "select count(*) from comments c join comment_groups g"
        f" on g.comment_id = c.id where c.obj_id {mine}",
    }

    def stored() -> dict[str, Any]:
        return {name: world.sql(query)[0][0] for name, query in queries.items()}

    before = stored()
    counts = {k: v for k, v in before.items() if isinstance(v, int)}
    assert counts == {
        "candidates": 5,
        "annotation groups": 3,
        "photometry": 4,
        "photometry streams": 4,
        "sources": 2,
        "comments": 2,
    }
    assert before["thumbnails"].count(str(batch[-1].candid)) == 3
    again = world.pass_alerts(*batch)
    assert again == portal_pb2.PostPassesResponse(unknown_filters=2)
    assert stored() == before


# ---- PATCH and DELETE /api/sources/{obj_id} -----------------------------------------------


def test_editing_a_source(world: World) -> None:
    world.saved(world.alice, "src-edit", ra=15.0, dec=25.0, group_ids=[world.group_a])
    body = {"redshift": 0.05, "altdata": {"note": "host galaxy"}, "alias": ["SN 2026x"]}
    data(world.patch(world.alice, "/api/sources/src-edit", body))
    data(world.patch(world.alice, "/api/sources/src-edit", {"ra": 15.5, "dec": 25.5}))
    source = data(world.get(world.alice, "/api/sources/src-edit"))
    assert (source["redshift"], source["altdata"], source["alias"]) == (
        0.05,
        {"note": "host galaxy"},
        ["SN 2026x"],
    )
    assert (source["ra"], source["dec"]) == (15.5, 25.5)
    (entry,) = source["redshift_history"]
    assert (entry["value"], entry["set_by_user_id"]) == (0.05, world.alice.id)
    refused(world.patch(world.bob, "/api/sources/src-edit", {"redshift": 1.0}), 404)


def test_an_objects_position_is_its_alerts_while_it_has_candidates(world: World) -> None:
    world.pass_alerts(alert("cand-fixed", 41.0, 6.0, {world.filter_a: {"drb": 0.5}}))
    message = refused(world.patch(world.alice, "/api/sources/cand-fixed", {"ra": 41.5}))
    assert message == "Cannot update the position of an object with candidates/alerts"
    data(world.patch(world.alice, "/api/sources/cand-fixed", {"ra": 41.0, "score": 0.3}))
    assert data(world.get(world.alice, "/api/sources/cand-fixed"))["score"] == 0.3


def test_unsaving_needs_manage_sources_and_keeps_the_row(world: World) -> None:
    world.saved(world.alice, "src-unsave", ra=16.0, dec=26.0, group_ids=[world.group_a])
    body = {"group_id": world.group_a}
    assert "'Manage sources'" in refused(
        world.delete(world.alice, "/api/sources/src-unsave", body), 401
    )
    data(world.delete(world.manager, "/api/sources/src-unsave", body))
    assert groups_of(world, world.alice, "src-unsave") == {}
    (row,) = world.sql(
        "select active, requested, unsaved_by_id, unsaved_at from sources "
        "where obj_id = 'src-unsave'"
    )
    assert (row["active"], row["requested"], row["unsaved_by_id"]) == (
        False,
        False,
        world.manager.id,
    )
    assert row["unsaved_at"] is not None
    # The row still says the object was a source of A: HEAD is 200, the list leaves it out.
    assert world.head(world.alice, "/api/sources/src-unsave") == 200
    listed = data(world.get(world.alice, "/api/sources", sourceID="src-unsave"))
    assert listed["totalMatches"] == 0
    message = refused(world.delete(world.manager, "/api/sources/src-unsave", body))
    assert message == f"Source src-unsave is not saved to group {world.group_a}."
    # The path form, and a group that is not the manager's.
    world.saved(None, "src-unsave-b", ra=16.5, dec=26.5, group_ids=[world.group_b])
    message = refused(world.delete(world.manager, f"/api/sources/src-unsave-b/{world.group_b}"))
    assert message == "Inadequate permissions."
    data(world.delete(None, f"/api/sources/src-unsave-b/{world.group_b}"))


# ---- /api/source_groups ---------------------------------------------------------------------


def test_inviting_another_group_and_answering_the_invitation(world: World) -> None:
    world.saved(world.alice, "src-invite", ra=17.0, dec=27.0, group_ids=[world.group_a])
    refused(world.get(world.bob, "/api/sources/src-invite"), 404)
    body = {"objId": "src-invite", "inviteGroupIds": [world.group_b]}
    data(world.post(world.alice, "/api/source_groups", body))
    invited = groups_of(world, world.bob, "src-invite")[world.group_b]
    assert (invited["active"], invited["requested"]) == (False, True)
    # An invitation is not a save: not in the group's list, not among the saved groups.
    assert data(world.get(world.bob, "/api/sources/src-invite"))["groups"] == []
    requested = data(world.get(world.bob, "/api/sources/src-invite", includeRequested="1"))
    assert [g["id"] for g in requested["groups"]] == [world.group_b]
    assert data(world.get(world.bob, "/api/sources", sourceID="src-invite"))["totalMatches"] == 0
    listed = data(
        world.get(world.bob, "/api/sources", sourceID="src-invite", includeRequested="true")
    )
    assert [s["id"] for s in listed["sources"]] == ["src-invite"]
    # Only B's members answer B's invitations.
    answer = {"groupID": world.group_b, "active": True, "requested": False}
    refused(world.patch(world.alice, "/api/source_groups/src-invite", answer), 403)
    data(world.patch(world.bob, "/api/source_groups/src-invite", answer))
    accepted = groups_of(world, world.bob, "src-invite")[world.group_b]
    assert (accepted["active"], accepted["requested"]) == (True, False)
    assert accepted["saved_by"]["username"] == world.bob.username
    assert set(groups_of(world, world.alice, "src-invite")) == {world.group_a}
    message = refused(world.post(world.alice, "/api/source_groups", body))
    assert message == f"Source already saved to group w/ ID {world.group_b}"


def test_source_groups_saves_to_the_callers_groups_and_unsaves(world: World) -> None:
    world.saved(world.bob, "src-sg", ra=18.0, dec=28.0, group_ids=[world.group_b])
    # Another of bob's groups (his own): saved to at once, not invited.
    mine = data(world.get(world.bob, "/api/internal/profile"))["groups"]
    own_group = min(g for g in mine if g != world.group_b)
    body = {"objId": "src-sg", "inviteGroupIds": [own_group], "unsaveGroupIds": [world.group_b]}
    data(world.post(world.bob, "/api/source_groups", body))
    groups = groups_of(world, world.bob, "src-sg", includeRequested="true")
    assert set(groups) == {own_group} and groups[own_group]["active"] is True
    message = refused(
        world.post(
            world.bob, "/api/source_groups", {"objId": "src-sg", "unsaveGroupIds": [world.group_b]}
        )
    )
    assert message == "Specified source is not saved to group from which it was to be unsaved."


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (
            {"objId": "src-sg-errors"},
            400,
            "Missing required parameter: one of either unsaveGroupIds or inviteGroupIds "
            "must be provided",
        ),
        ({"objId": "no-such-object", "inviteGroupIds": [1]}, 404, "Invalid objId no-such-object"),
        ({"inviteGroupIds": [1]}, 400, "Missing required parameter: objId"),
        ({"objId": "src-sg-errors", "inviteGroupIds": [10**9]}, 400, "Invalid group IDs"),
    ],
)
def test_source_groups_refusals(
    world: World, body: dict[str, Any], status: int, message: str
) -> None:
    if not world.count("select count(*) from objs where id = 'src-sg-errors'"):
        world.saved(world.alice, "src-sg-errors", ra=19.0, dec=29.0, group_ids=[world.group_a])
    assert refused(world.post(world.alice, "/api/source_groups", body), status).startswith(message)


# ---- GET /api/sources -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def listed(world: World) -> list[str]:
    """Five objects saved to A one after another, at known positions and with filter A's
    annotation score; bob saves one of his own to B."""
    ids = [f"list-{i}" for i in range(5)]
    positions = [(100.0, 10.0), (100.3, 10.0), (100.0, 10.5), (250.0, -40.0), (100.1, 9.9)]
    scores = [0.4, None, 0.9, 0.1, 0.7]
    for obj_id, (ra, dec), score in zip(ids, positions, scores, strict=True):
        annotations = {"score": score} if score is not None else {}
        world.pass_alerts(alert(obj_id, ra, dec, {world.filter_a: annotations}))
        world.saved(world.alice, obj_id, group_ids=[world.group_a])
    world.saved(world.bob, "list-of-b", ra=100.0, dec=10.0, group_ids=[world.group_b])
    return ids


def listing_ids(world: World, who: User, **params: Any) -> list[str]:
    return [s["id"] for s in data(world.get(who, "/api/sources", **params))["sources"]]


def test_the_list_has_skyportals_shape_and_the_callers_sources(
    world: World, listed: list[str]
) -> None:
    page = data(world.get(world.alice, "/api/sources", sourceID="list-"))
    assert set(page) == {"sources", "totalMatches", "pageNumber", "numPerPage"}
    assert (page["totalMatches"], page["pageNumber"], page["numPerPage"]) == (5, 1, 100)
    # Newest save first.
    assert [s["id"] for s in page["sources"]] == listed[::-1]
    first = page["sources"][-1]
    assert {"id", "ra", "dec", "groups", "annotations", "classifications", "gal_lon"} <= set(first)
    assert [g["id"] for g in first["groups"]] == [world.group_a]
    assert [a["origin"] for a in first["annotations"]] == [world.origin_a]
    assert listing_ids(world, world.bob, sourceID="list-") == ["list-of-b"]
    bare = data(world.get(world.alice, "/api/sources", sourceID="list-0", removeNested="true"))
    assert "groups" not in bare["sources"][0] and "annotations" not in bare["sources"][0]
    thumbs = data(world.get(world.alice, "/api/sources", sourceID="list-0", includeThumbnails=1))
    assert {t["type"] for t in thumbs["sources"][0]["thumbnails"]} == {"new", "ref", "sub"}


def test_the_list_has_each_sources_classifications_the_caller_reads(world: World) -> None:
    classes = [{"class": "SN Ia"}, {"class": "AGN"}]
    hierarchy = {"class": "Time-domain Source", "subclasses": classes}
    taxonomy = {"name": "sources-test", "version": "1", "hierarchy": hierarchy}
    taxonomy_id = data(world.post(None, "/api/taxonomy", taxonomy))["taxonomy_id"]
    world.saved(world.alice, "cls-1", ra=120.0, dec=30.0, group_ids=[world.group_a])
    world.saved(world.bob, "cls-1", group_ids=[world.group_b])
    world.saved(world.alice, "cls-2", ra=121.0, dec=31.0, group_ids=[world.group_a])

    def classify(who: User, name: str, group_id: int) -> int:
        body = {
            "obj_id": "cls-1",
            "classification": name,
            "taxonomy_id": taxonomy_id,
            "probability": 0.8,
            "group_ids": [group_id],
        }
        return data(world.post(who, "/api/classification", body))["classification_id"]

    first = classify(world.alice, "SN Ia", world.group_a)
    of_b = classify(world.bob, "AGN", world.group_b)
    second = classify(world.alice, "AGN", world.group_a)

    def listed(who: User | None, **params: Any) -> dict[str, list[dict[str, Any]]]:
        page = data(world.get(who, "/api/sources", sourceID="cls-", **params))
        return {s["id"]: s.get("classifications") for s in page["sources"]}

    # Each object's readable classifications, oldest first; another group's are not read.
    alices = listed(world.alice)
    assert [c["id"] for c in alices["cls-1"]] == [first, second]
    assert [(c["classification"], c["author_id"]) for c in alices["cls-1"]] == [
        ("SN Ia", world.alice.id),
        ("AGN", world.alice.id),
    ]
    assert alices["cls-2"] == []
    assert [c["id"] for c in listed(world.bob)["cls-1"]] == [of_b]
    assert [c["id"] for c in listed(None)["cls-1"]] == [first, of_b, second]
    # The same entries as the object's own classifications route.
    assert alices["cls-1"] == data(world.get(world.alice, "/api/sources/cls-1/classifications"))
    assert listed(world.alice, removeNested="true") == {"cls-1": None, "cls-2": None}


def test_the_list_by_substring_rejections_and_groups(world: World, listed: list[str]) -> None:
    assert listing_ids(world, world.alice, sourceID="LIST-3") == ["list-3"]
    rejected = ",".join(listed[:3])
    assert listing_ids(world, world.alice, sourceID="list-", rejectedSourceIDs=rejected) == [
        "list-4",
        "list-3",
    ]
    assert (
        listing_ids(world, world.alice, sourceID="list-", group_ids=str(world.group_a))
        == (listed[::-1])
    )
    message = refused(world.get(world.alice, "/api/sources", group_ids=str(world.group_b)))
    assert message == f"One of the requested groups in '[{world.group_b}]' is inaccessible to user."
    # An admin sees every group's sources.
    assert set(listing_ids(world, None, sourceID="list-")) == {*listed, "list-of-b"}


def test_the_list_in_a_cone(world: World, listed: list[str]) -> None:
    # Separations from (100, 10): list-0 0", list-4 ~0.14 deg, list-1 ~0.295 deg,
    # list-2 0.5 deg; list-of-b is bob's.
    ids = listing_ids(
        world, world.alice, ra=100.0, dec=10.0, radius=0.3, sortBy="id", sortOrder="asc"
    )
    assert ids == ["list-0", "list-1", "list-4"]
    ids = listing_ids(
        world, world.alice, ra=100.0, dec=10.0, radius=0.29, sortBy="id", sortOrder="asc"
    )
    assert ids == ["list-0", "list-4"]
    message = refused(world.get(world.alice, "/api/sources", ra=100.0, dec=10.0))
    assert message == "If any of 'ra', 'dec' or 'radius' are provided, all three are required."


def test_the_list_by_save_time(world: World, listed: list[str]) -> None:
    times = {
        obj_id: groups_of(world, world.alice, obj_id)[world.group_a]["saved_at"]
        for obj_id in listed
    }
    middle = times["list-2"]
    assert listing_ids(world, world.alice, sourceID="list-", savedAfter=middle) == [
        "list-4",
        "list-3",
        "list-2",
    ]
    assert listing_ids(world, world.alice, sourceID="list-", savedBefore=middle) == [
        "list-2",
        "list-1",
        "list-0",
    ]
    assert listing_ids(world, world.alice, sourceID="list-", sortOrder="asc") == listed


def test_the_list_sorted_by_an_annotation(world: World, listed: list[str]) -> None:
    sort_by = f"annotation.{world.origin_a}.score"
    # Scores 0.4, none, 0.9, 0.1, 0.7: ascending, the one without a score last.
    assert listing_ids(world, world.alice, sourceID="list-", sortBy=sort_by, sortOrder="asc") == [
        "list-3",
        "list-0",
        "list-4",
        "list-2",
        "list-1",
    ]
    assert listing_ids(world, world.alice, sourceID="list-", sortBy=sort_by) == [
        "list-2",
        "list-4",
        "list-0",
        "list-3",
        "list-1",
    ]


def test_the_list_in_pages(world: World, listed: list[str]) -> None:
    pages = [
        data(world.get(world.alice, "/api/sources", sourceID="list-", numPerPage=2, pageNumber=n))
        for n in (1, 2, 3)
    ]
    assert [[s["id"] for s in p["sources"]] for p in pages] == [
        ["list-4", "list-3"],
        ["list-2", "list-1"],
        ["list-0"],
    ]
    assert {p["totalMatches"] for p in pages} == {5}
    message = refused(
        world.get(world.alice, "/api/sources", sourceID="list-", numPerPage=2, pageNumber=4)
    )
    assert message == "Page number out of range."
    big = data(world.get(world.alice, "/api/sources", sourceID="list-", numPerPage=10_000))
    assert big["numPerPage"] == 500
    assert "Invalid sortOrder" in refused(world.get(world.alice, "/api/sources", sortOrder="x"))


# ---- /api/listing -----------------------------------------------------------------------------


def test_favourites_and_rejected_candidates(world: World, listed: list[str]) -> None:
    favourite = data(
        world.post(world.alice, "/api/listing", {"obj_id": "list-1", "list_name": "favorites"})
    )["id"]
    rejected = data(
        world.post(
            world.alice, "/api/listing", {"obj_id": "list-2", "list_name": "rejected_candidates"}
        )
    )["id"]
    message = refused(
        world.post(world.alice, "/api/listing", {"obj_id": "list-1", "list_name": "favorites"})
    )
    assert message == (
        f"Listing already exists with user_id={world.alice.id}, obj_id=list-1 and "
        "list_name=favorites"
    )
    (only,) = data(world.get(world.alice, "/api/listing", listName="favorites"))
    assert (only["id"], only["user_id"], only["obj_id"], only["list_name"]) == (
        favourite,
        world.alice.id,
        "list-1",
        "favorites",
    )
    assert [x["id"] for x in data(world.get(world.alice, "/api/listing"))] == [
        favourite,
        rejected,
    ]
    assert listing_ids(world, world.alice, listName="favorites") == ["list-1"]
    # Lists are their owner's: others neither read nor delete them.
    assert data(world.get(world.bob, "/api/listing")) == []
    refused(world.get(world.bob, f"/api/listing/{world.alice.id}"), 403)
    assert len(data(world.get(None, f"/api/listing/{world.alice.id}"))) == 2
    message = refused(world.delete(world.bob, f"/api/listing/{favourite}"))
    assert message == f"Cannot find listing with ID: {favourite}"
    data(world.delete(world.alice, f"/api/listing/{favourite}"))
    assert [x["id"] for x in data(world.get(world.alice, "/api/listing"))] == [rejected]
    # An object the user cannot see cannot be listed; a bad list name is refused.
    message = refused(
        world.post(world.bob, "/api/listing", {"obj_id": "list-1", "list_name": "favorites"})
    )
    assert message == "Cannot find Obj with ID: list-1"
    message = refused(
        world.post(world.alice, "/api/listing", {"obj_id": "list-1", "list_name": " x"})
    )
    assert message == "Input `list_name` must begin with alphanumeric/underscore"


def test_a_view_only_user_keeps_lists_of_their_own(world: World, listed: list[str]) -> None:
    body = {"obj_id": "list-3", "list_name": "favorites"}
    listing_id = data(world.post(world.viewer, "/api/listing", body))["id"]
    data(world.delete(world.viewer, f"/api/listing/{listing_id}"))
    assert data(world.get(world.viewer, "/api/listing")) == []


# ---- candidate expiry (keep these last: they delete every unsaved candidate) -----------------


def test_the_expiry_job_started_with_the_portal(world: World) -> None:
    log = world.settings.run_dir / "logs" / "portal.log"

    def runs() -> list[dict[str, Any]]:
        lines = log.read_text().splitlines()
        return [json.loads(line) for line in lines if '"candidate expiry"' in line]

    (first, *_) = wait_for(runs, bool, 30, "the expiry's first run at start")
    assert (first["deleted"], first["remaining"], first["dry_run"]) == (0, 0, False)


def test_bulk_delete_and_expiry_are_for_system_admins(world: World) -> None:
    for path, body in (
        ("/api/internal/expire_candidates", {"dryRun": True}),
        ("/api/candidates/bulk_delete", {"maxAgeMonths": 1, "dryRun": True}),
    ):
        assert "'System admin'" in refused(world.post(world.manager, path, body), 401)
    assert "maxAgeMonths must be a positive" in refused(
        world.post(None, "/api/candidates/bulk_delete", {"maxAgeMonths": 0})
    )
    assert "batchSize must be between 1 and 10000" in refused(
        world.post(None, "/api/candidates/bulk_delete", {"maxAgeMonths": 1, "batchSize": 10**6})
    )
    assert "now: not a date/time" in refused(
        world.post(None, "/api/internal/expire_candidates", {"now": "soon"})
    )


def attached(world: World, obj_id: str) -> dict[str, int]:
    tables = ("candidates", "photometry", "annotations", "thumbnails", "comments", "listings")
    return {
        table: world.count(f"select count(*) from {table} where obj_id = $1", obj_id)
        for table in tables
    }


def test_unsaved_candidates_expire_with_everything_attached(
    world: World, listed: list[str]
) -> None:
    world.pass_alerts(
        alert("exp-unsaved", 60.0, 1.0, {world.filter_a: {"drb": 0.2}}),
        alert("exp-saved", 61.0, 1.0, {world.filter_a: {"drb": 0.8}}),
        alert("exp-unsaved-later", 62.0, 1.0, {world.filter_a: {"drb": 0.5}}),
    )
    world.saved(world.alice, "exp-saved", group_ids=[world.group_a])
    world.saved(world.alice, "exp-unsaved-later", group_ids=[world.group_a])
    data(world.delete(world.manager, "/api/sources/exp-unsaved-later", {"group_id": world.group_a}))
    data(
        world.post(world.alice, "/api/listing", {"obj_id": "exp-unsaved", "list_name": "favorites"})
    )
    # No comment route on this branch: the comment the expiry must take along is written here.
    world.sql(
        "insert into comments (obj_id, text, author_id, bot, created_at, modified) "
        "values ('exp-unsaved', 'a note', $1, false, now(), now())",
        world.alice.id,
    )
    doomed = attached(world, "exp-unsaved")
    assert doomed == {
        "candidates": 1,
        "photometry": 2,
        "annotations": 1,
        "thumbnails": 3,
        "comments": 1,
        "listings": 1,
    }
    kept = attached(world, "exp-saved")
    expected = {o for o, had_source in world.candidates.items() if not had_source}
    assert "exp-unsaved" in expected and "exp-saved" not in expected
    assert (
        world.count("select count(*) from objs where created_at < now() - interval '1 hour'") == 0
    ), "every object of this mesh is new: the real clock expires nothing"
    now = datetime.now(UTC)

    def expire(days_ahead: float, dry_run: bool = False) -> dict[str, int]:
        when = (now + timedelta(days=days_ahead)).isoformat()
        return data(
            world.post(None, "/api/internal/expire_candidates", {"now": when, "dryRun": dry_run})
        )

    # Six days on, nothing is 7 days old yet.
    assert expire(6) == {"deleted": 0, "remaining": 0}
    assert expire(8, dry_run=True) == {"deleted": 0, "remaining": len(expected)}
    assert world.count("select count(*) from objs where id = 'exp-unsaved'") == 1
    assert expire(8) == {"deleted": len(expected), "remaining": 0}
    assert attached(world, "exp-unsaved") == dict.fromkeys(doomed, 0)
    assert world.sql("select id from objs where id = any($1::text[])", sorted(expected)) == []
    refused(world.get(None, "/api/sources/exp-unsaved"), 404)
    assert world.head(None, "/api/candidates/exp-unsaved") == 404
    # A saved source stays with all it has, and so does one that was saved and unsaved.
    assert attached(world, "exp-saved") == kept
    assert data(world.get(world.alice, "/api/sources/exp-saved"))["id"] == "exp-saved"
    assert world.count("select count(*) from objs where id = 'exp-unsaved-later'") == 1
    # So does every source made without a candidate, and a second run finds nothing.
    assert world.count("select count(*) from objs where id like 'src-%'") > 0
    assert expire(30) == {"deleted": 0, "remaining": 0}


def test_bulk_delete_by_age_in_months_one_batch_a_call(world: World) -> None:
    world.pass_alerts(
        *(alert(f"old-{i}", 70.0 + i, 2.0, {world.filter_a: {"drb": 0.1}}) for i in range(3)),
        alert("young", 75.0, 2.0, {world.filter_a: {"drb": 0.1}}),
    )
    # The clock of this route is the real one: these objects are made two months old.
    world.sql("update objs set created_at = now() - interval '2 months' where id like 'old-%'")
    body = {"maxAgeMonths": 1, "batchSize": 2}
    assert data(world.post(None, "/api/candidates/bulk_delete", {**body, "dryRun": True})) == {
        "deleted": 0,
        "remaining": 3,
    }
    assert data(world.post(None, "/api/candidates/bulk_delete", body)) == {
        "deleted": 2,
        "remaining": 1,
    }
    assert data(world.post(None, "/api/candidates/bulk_delete", body)) == {
        "deleted": 1,
        "remaining": 0,
    }
    left = world.sql("select id from objs where id like 'old-%' or id = 'young'")
    assert [row["id"] for row in left] == ["young"]
