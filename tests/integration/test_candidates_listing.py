"""The candidates API end to end through the gateway (SKYPORTAL_SPEC.md §3.4, §5):
POST /api/candidates, DELETE /api/candidates/{obj_id}/{filter_id} and the scanning list
GET /api/candidates with every parameter of the spec's table, as SkyPortal answers them.

This module runs a small mesh of its own (PostgreSQL, the database for the filters, the
portal, the filters service and Envoy: no Kafka, no Triton). Everything is made through REST
as a user would: groups, streams, users, tokens, filters and candidates (with chosen
passed_at), and, through `Seed`, saves (POST /api/sources, DELETE /api/sources/{obj_id},
POST /api/source_groups), annotations (POST /api/sources/{obj_id}/annotations), a taxonomy
and classifications (POST /api/taxonomy, /api/classification) and listings (POST
/api/listing). Every list assertion names the exact ids in their exact order.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from skymesh.config import Settings
from skymesh.infra import stack
from tests.conftest import mesh_settings
from tests.portal import User, admin_client, data, group, portal_filter, stream, user
from tests.rest import ok, refused

pytestmark = pytest.mark.integration

ADMIN_PASSWORD = "candidates-test-admin"
COMPONENTS = ("database", "postgres", "portal", "filters", "gateway")
T0 = datetime(2026, 3, 1, tzinfo=UTC)
BIG_CANDID = 1127561445515015011  # above 2^53: a double would round it
# The classes the seed's classifications name, in a taxonomy of its own.
TAXONOMY = {
    "name": "candidates-test",
    "version": "1",
    "hierarchy": {
        "class": "Time-domain Source",
        "subclasses": [{"class": "SN Ia"}, {"class": "AGN"}],
    },
}


def at(hours: float) -> str:
    """passed_at as Kowalski writes it: UTC, no offset, microseconds."""
    return (T0 + timedelta(hours=hours)).replace(tzinfo=None).isoformat(timespec="microseconds")


def shown(hours: float) -> str:
    """A time as the portal writes it (UTC, no offset, no zero microseconds)."""
    return (T0 + timedelta(hours=hours)).replace(tzinfo=None).isoformat()


@dataclass
class Seed:
    """Saves, annotations, classifications and listings, made through REST as people make
    them: the admin (``http``) saves, unsaves, annotates and classifies for the groups; an
    invitation is a member of another group's; a listing is its owner's."""

    http: httpx.Client
    taxonomy_id: int | None = None

    def save(self, obj_id: str, group_id: int) -> None:
        body = {"id": obj_id, "group_ids": [group_id]}
        assert data(self.http.post("/api/sources", json=body))["saved_to_groups"] == [group_id]

    def unsave(self, obj_id: str, group_id: int) -> None:
        """The save stays a Source row, inactive."""
        body = {"group_id": group_id}
        ok(self.http.request("DELETE", f"/api/sources/{obj_id}", json=body))

    def invite(self, who: User, obj_id: str, group_id: int) -> None:
        """``who`` (not a member of the group) invites it: an inactive, requested row."""
        body = {"objId": obj_id, "inviteGroupIds": [group_id]}
        ok(self.http.post("/api/source_groups", headers=who.headers, json=body))

    def annotate(self, obj_id: str, origin: str, payload: dict[str, Any], groups: list[int]):
        body = {"origin": origin, "data": payload, "group_ids": groups}
        ok(self.http.post(f"/api/sources/{obj_id}/annotations", json=body))

    def classify(self, obj_id: str, name: str, groups: list[int]) -> None:
        if self.taxonomy_id is None:
            self.taxonomy_id = data(self.http.post("/api/taxonomy", json=TAXONOMY))["taxonomy_id"]
        body = {
            "obj_id": obj_id,
            "classification": name,
            "taxonomy_id": self.taxonomy_id,
            "probability": 1.0,
            "group_ids": groups,
        }
        ok(self.http.post("/api/classification", json=body))

    def listing(self, who: User, obj_id: str, list_name: str) -> None:
        body = {"obj_id": obj_id, "list_name": list_name}
        ok(self.http.post("/api/listing", headers=who.headers, json=body))


@dataclass
class World:
    settings: Settings
    http: httpx.Client
    seed: Seed
    groups: dict[str, int]
    filters: dict[str, int]
    alice: User  # Full user in A and B
    bob: User  # Full user in B
    carol: User  # Full user in C
    viewer: User  # View only in A
    outsider: User  # Full user in no group of these
    dave: User  # Full user in D (paging)
    erin: User  # Full user in E (posting and deleting)
    frank: User  # Full user in F (no filter): invites A to save o06

    def get(self, who: User | None, path: str, **params: Any) -> httpx.Response:
        return self.http.get(path, headers=who.headers if who else {}, params=params)

    def listing(self, who: User | None, **params: Any) -> dict[str, Any]:
        return data(self.get(who, "/api/candidates", **params))

    def ids(self, who: User | None, **params: Any) -> list[str]:
        return [c["id"] for c in self.listing(who, **params)["candidates"]]

    def refused(self, who: User | None, **params: Any) -> str:
        return refused(self.get(who, "/api/candidates", **params))

    def post(self, who: User | None, body: dict[str, Any]) -> httpx.Response:
        return self.http.post("/api/candidates", headers=who.headers if who else {}, json=body)

    def group_ids(self, *names: str) -> str:
        return ",".join(str(self.groups[n]) for n in names)

    def filter_ids(self, *names: str) -> str:
        return ",".join(str(self.filters[n]) for n in names)


# Passes (filter, hours after T0) of each object, and the redshift it is posted with. Each
# object's latest pass decides its rank, so a reader can check every expected order by hand.
PASSES: dict[str, list[tuple[str, float]]] = {
    "o01": [("A1", 1), ("B", 10)],
    "o02": [("A1", 2)],
    "o03": [("A2", 3), ("A1", 4)],
    "o04": [("B", 5)],
    "o05": [("C", 6)],
    "o06": [("A1", 7), ("A1", 12)],
    "o07": [("A2", 8), ("B", 9)],
    "o08": [("A1", 11)],
    "o09": [("B", 13), ("C", 14)],
}
REDSHIFTS = {"o01": 0.05, "o02": 0.1, "o03": 0.2, "o06": 0.15}
# alice (A and B) by latest pass: o09 13, o06 12, o08 11, o01 10, o07 9, o04 5, o03 4, o02 2.
ALICE_ALL = ["o09", "o06", "o08", "o01", "o07", "o04", "o03", "o02"]


def build(http: httpx.Client, settings: Settings) -> World:
    public = stream(http, "ZTF Public", "ZTF_alerts", [1])
    groups = {name: group(http, name, [public]) for name in "ABCDEF"}
    filters = {
        name: portal_filter(http, f"f{name}", groups[name[0]], public)
        for name in ("A1", "A2", "B", "C", "D", "E1", "E2")
    }
    world = World(
        settings=settings,
        http=http,
        seed=Seed(http),
        groups=groups,
        filters=filters,
        alice=user(http, streams=(public,), groups=(groups["A"], groups["B"])),
        bob=user(http, streams=(public,), groups=(groups["B"],)),
        carol=user(http, streams=(public,), groups=(groups["C"],)),
        viewer=user(http, role="View only", streams=(public,), groups=(groups["A"],)),
        outsider=user(http, streams=(public,)),
        dave=user(http, streams=(public,), groups=(groups["D"],)),
        erin=user(http, streams=(public,), groups=(groups["E"],)),
        frank=user(http, streams=(public,), groups=(groups["F"],)),
    )
    for obj_id, passes in PASSES.items():
        for index, (filter_name, hours) in enumerate(passes):
            body: dict[str, Any] = {
                "id": obj_id,
                "filter_ids": [filters[filter_name]],
                "passed_at": at(hours),
                "passing_alert_id": BIG_CANDID + int(hours),
                "origin": "Kowalski",
            }
            if index == 0:
                body.update(ra=10.0 + hours, dec=-5.0 - hours, score=0.5)
                if obj_id in REDSHIFTS:
                    body["redshift"] = REDSHIFTS[obj_id]
            ok(http.post("/api/candidates", json=body))
    seed, g = world.seed, groups
    # Saves: only active ones count; o03's was unsaved, o06 is only invited to A (by frank,
    # who sees o06 through F's save: an inviter must see the object, and a group's own
    # member or an admin saves at once instead of inviting).
    seed.save("o01", g["A"])
    seed.save("o01", g["B"])
    seed.save("o02", g["A"])
    seed.save("o03", g["B"])
    seed.unsave("o03", g["B"])
    seed.save("o04", g["B"])
    seed.save("o06", g["F"])
    seed.invite(world.frank, "o06", g["A"])
    seed.save("o07", g["C"])
    seed.save("o08", g["B"])
    seed.save("o09", g["B"])
    # Annotations, each readable by its groups only.
    seed.annotate("o01", "A:fA1", {"score": 0.9, "flag": True, "name": "alpha"}, [g["A"]])
    seed.annotate("o01", "B:fB", {"score": 0.2}, [g["B"]])
    seed.annotate("o02", "A:fA1", {"score": 0.5, "flag": False, "name": "beta"}, [g["A"]])
    seed.annotate("o03", "A:fA1", {"score": 0.7, "flag": True}, [g["A"]])
    seed.annotate("o06", "A:fA1", {"other": 1}, [g["A"]])
    seed.annotate("o08", "A:fA1", {"score": 0.1, "flag": "true"}, [g["A"]])
    seed.annotate("o07", "C:fC", {"score": 0.95}, [g["C"]])
    seed.annotate("o09", "B:fB", {"score": 0.3}, [g["B"]])
    # Classifications, each readable by its groups only.
    seed.classify("o02", "SN Ia", [g["A"]])
    seed.classify("o04", "AGN", [g["B"]])
    seed.classify("o08", "SN Ia", [g["C"]])
    seed.classify("o09", "SN Ia", [g["B"]])
    seed.classify("o09", "AGN", [g["B"]])
    # Listings: alice's and bob's own.
    seed.listing(world.alice, "o01", "favorites")
    seed.listing(world.alice, "o03", "favorites")
    seed.listing(world.alice, "o02", "rejected_candidates")
    seed.listing(world.alice, "o09", "rejected_candidates")
    seed.listing(world.bob, "o04", "favorites")
    return world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    settings = mesh_settings(
        tmp_path_factory.mktemp("candidates-run"), admin_password=ADMIN_PASSWORD
    )
    supervisor = stack.up(settings, only=COMPONENTS, in_memory_db=True, report=lambda _: None)
    try:
        http = admin_client(settings)
        yield build(http, settings)
        http.close()
    finally:
        supervisor.stop_all()


# ---- groups and filters --------------------------------------------------------------------


def test_the_default_list_is_every_filter_of_the_callers_groups_by_latest_pass(
    world: World,
) -> None:
    answer = world.listing(world.alice)
    assert [c["id"] for c in answer["candidates"]] == ALICE_ALL
    assert (answer["totalMatches"], answer["pageNumber"], answer["numPerPage"]) == (8, 1, 25)
    assert answer["queryID"]
    assert world.ids(world.bob) == ["o09", "o01", "o07", "o04"]
    assert world.ids(world.carol) == ["o09", "o05"]
    assert world.ids(world.viewer) == ["o06", "o08", "o07", "o03", "o02", "o01"]
    empty = world.listing(world.outsider)
    assert (empty["candidates"], empty["totalMatches"]) == ([], 0)


def test_group_ids_select_their_readable_filters_and_win_over_filter_ids(world: World) -> None:
    a = ["o06", "o08", "o07", "o03", "o02", "o01"]
    assert world.ids(world.alice, groupIDs=world.group_ids("A")) == a
    assert world.ids(world.alice, groupIDs=world.group_ids("A", "C")) == a
    assert world.ids(world.alice, groupIDs=world.group_ids("C")) == []
    both = {"groupIDs": world.group_ids("A"), "filterIDs": world.filter_ids("B")}
    assert world.ids(world.alice, **both) == a
    assert world.ids(world.alice, filterIDs=world.filter_ids("A2")) == ["o07", "o03"]
    assert world.ids(world.alice, filterIDs=world.filter_ids("A2", "C")) == ["o07", "o03"]
    by_b_and_a2 = world.ids(world.alice, filterIDs=world.filter_ids("B", "A2"))
    assert by_b_and_a2 == ["o09", "o01", "o07", "o04", "o03"]
    message = world.refused(world.alice, groupIDs="A,x")
    assert message == "Invalid groupIDs value -- select at least one group"
    message = world.refused(world.alice, filterIDs="1;2")
    assert message == "Invalid filterIDs value -- select at least one filter"


def test_a_system_admin_sees_every_groups_candidates(world: World) -> None:
    everyone = world.group_ids("A", "B", "C")
    assert world.ids(None, groupIDs=everyone) == [
        "o09",
        "o06",
        "o08",
        "o01",
        "o07",
        "o05",
        "o04",
        "o03",
        "o02",
    ]
    (o09,) = [c for c in world.listing(None, groupIDs=everyone)["candidates"] if c["id"] == "o09"]
    assert o09["passing_group_ids"] == [world.groups["B"], world.groups["C"]]


# ---- dates ----------------------------------------------------------------------------------


def test_the_window_ranks_each_object_by_its_latest_pass_inside_it(world: World) -> None:
    window = {"startDate": at(4), "endDate": at(10)}
    # o06 passed at 7 and 12: inside the window it ranks by 7.
    assert world.ids(world.alice, **window) == ["o01", "o07", "o06", "o04", "o03"]
    assert world.ids(world.alice, startDate=at(11)) == ["o09", "o06", "o08"]
    assert world.ids(world.alice, startDate="2026-03-01T13:00:00+02:00") == [
        "o09",
        "o06",
        "o08",
    ]
    assert world.ids(world.alice, endDate=at(2)) == ["o02", "o01"]
    for blank in ("", "null", "undefined"):
        assert world.ids(world.alice, startDate=blank, endDate=blank) == ALICE_ALL
    assert world.refused(world.alice, startDate="yesterday").startswith("Invalid startDate value:")
    assert world.refused(world.alice, endDate="2026-13-01").startswith("Invalid endDate value:")


# ---- saved status -----------------------------------------------------------------------------


def test_every_saved_status_with_two_selected_groups(world: World) -> None:
    selected = world.group_ids("A", "B")
    expected = {
        "all": ALICE_ALL,
        "savedToAllSelected": ["o01"],
        "savedToAnySelected": ["o09", "o08", "o01", "o04", "o02"],
        "savedToAnyAccessible": ["o09", "o08", "o01", "o04", "o02"],
        # o07 is saved to C only, o06 only invited, o03 unsaved.
        "notSavedToAnyAccessible": ["o06", "o07", "o03"],
        "notSavedToAnySelected": ["o06", "o07", "o03"],
        "notSavedToAllSelected": ["o09", "o06", "o08", "o07", "o04", "o03", "o02"],
    }
    for status, ids in expected.items():
        assert world.ids(world.alice, groupIDs=selected, savedStatus=status) == ids, status


def test_selected_and_accessible_differ_with_one_selected_group(world: World) -> None:
    selected = world.group_ids("A")
    expected = {
        "all": ["o06", "o08", "o07", "o03", "o02", "o01"],
        "savedToAllSelected": ["o02", "o01"],
        "savedToAnySelected": ["o02", "o01"],
        # o08 is saved to B: accessible to alice, not selected.
        "savedToAnyAccessible": ["o08", "o02", "o01"],
        "notSavedToAnyAccessible": ["o06", "o07", "o03"],
        "notSavedToAnySelected": ["o06", "o08", "o07", "o03"],
        "notSavedToAllSelected": ["o06", "o08", "o07", "o03"],
    }
    for status, ids in expected.items():
        assert world.ids(world.alice, groupIDs=selected, savedStatus=status) == ids, status
    # A group the caller is not in is never "selected": carol's C counts for nobody else.
    assert world.ids(
        world.alice, groupIDs=world.group_ids("A", "C"), savedStatus="savedToAllSelected"
    ) == [
        "o02",
        "o01",
    ]


def test_an_unknown_saved_status_is_refused(world: World) -> None:
    assert world.refused(world.alice, savedStatus="saved") == (
        "Invalid savedStatus: saved. Must be one of the enumerated options."
    )


def test_saved_groups_and_is_source_show_the_callers_groups_only(world: World) -> None:
    entries = {c["id"]: c for c in world.listing(world.alice)["candidates"]}
    assert [g["id"] for g in entries["o01"]["saved_groups"]] == [
        world.groups["A"],
        world.groups["B"],
    ]
    assert entries["o01"]["is_source"] is True
    # Saved to C only: not a source for alice.
    assert (entries["o07"]["is_source"], entries["o07"]["saved_groups"]) == (False, [])
    # An unsaved save and an invitation are Source rows (is_source) but no saved group: as
    # SkyPortal's handler, is_source is any Source row the caller reads, saved_groups the
    # active ones; the single candidate's route answers the same.
    for obj_id in ("o03", "o06"):
        assert (entries[obj_id]["is_source"], entries[obj_id]["saved_groups"]) == (True, [])
        one = data(world.get(world.alice, f"/api/candidates/{obj_id}"))
        assert (one["is_source"], one["saved_groups"]) == (True, [])
    assert entries["o07"]["passing_group_ids"] == [world.groups["A"], world.groups["B"]]
    assert entries["o09"]["passing_group_ids"] == [world.groups["B"]]
    (o01,) = [c for c in world.listing(world.bob)["candidates"] if c["id"] == "o01"]
    assert [g["id"] for g in o01["saved_groups"]] == [world.groups["B"]]
    assert o01["passing_group_ids"] == [world.groups["B"]]


# ---- annotations ------------------------------------------------------------------------------


def annotation_filters(*items: dict[str, Any]) -> str:
    return ",".join(json.dumps(item) for item in items)


def test_annotation_equality_filters(world: World) -> None:
    flag = {"origin": "A:fA1", "key": "flag"}
    # "true" matches JSON true and the text "true" (o08), as SkyPortal's text comparison does.
    for value in ("true", True):
        found = world.ids(
            world.alice, annotationFilterList=annotation_filters({**flag, "value": value})
        )
        assert found == ["o08", "o01", "o03"], value
    for value in ("false", False):
        found = world.ids(
            world.alice, annotationFilterList=annotation_filters({**flag, "value": value})
        )
        assert found == ["o02"], value
    named = {"origin": "A:fA1", "key": "name", "value": "alpha"}
    assert world.ids(world.alice, annotationFilterList=annotation_filters(named)) == ["o01"]
    number = {"origin": "A:fA1", "key": "score", "value": 0.5}
    assert world.ids(world.alice, annotationFilterList=annotation_filters(number)) == ["o02"]
    text = {"origin": "A:fA1", "key": "score", "value": "0.50"}
    assert world.ids(world.alice, annotationFilterList=annotation_filters(text)) == ["o02"]


def test_annotation_range_filters_and_combinations(world: World) -> None:
    score = {"origin": "A:fA1", "key": "score", "min": 0.5, "max": 0.9}
    assert world.ids(world.alice, annotationFilterList=annotation_filters(score)) == [
        "o01",
        "o03",
        "o02",
    ]
    as_text = {"origin": "A:fA1", "key": "score", "min": "0.5", "max": "0.9"}
    assert world.ids(world.alice, annotationFilterList=annotation_filters(as_text)) == [
        "o01",
        "o03",
        "o02",
    ]
    flag = {"origin": "A:fA1", "key": "flag", "value": "true"}
    assert world.ids(world.alice, annotationFilterList=annotation_filters(flag, score)) == [
        "o01",
        "o03",
    ]
    # Two origins: each item may hold on another annotation of the object.
    high = {"origin": "A:fA1", "key": "score", "min": 0.8, "max": 1}
    any_b = {"origin": "B:fB", "key": "score", "min": 0, "max": 1}
    assert world.ids(world.alice, annotationFilterList=annotation_filters(high, any_b)) == ["o01"]


def test_annotation_filters_read_only_the_callers_annotations(world: World) -> None:
    c_score = {"origin": "C:fC", "key": "score", "min": 0, "max": 1}
    assert world.ids(world.alice, annotationFilterList=annotation_filters(c_score)) == []
    assert world.ids(None, annotationFilterList=annotation_filters(c_score)) == ["o07"]
    a_score = {"origin": "A:fA1", "key": "score", "min": 0, "max": 1}
    assert world.ids(world.bob, annotationFilterList=annotation_filters(a_score)) == []


def test_bad_annotation_filter_items_are_refused(world: World) -> None:
    def message(text: str) -> str:
        return world.refused(world.alice, annotationFilterList=text)

    assert message("{not json") == "Could not parse JSON objects for annotation filtering"
    assert message("[1, 2]") == "Could not parse JSON objects for annotation filtering"
    item = '{"key": "score", "value": 1}'
    assert message(item) == f'Invalid annotation filter list item {item}: "origin" is required.'
    item = '{"origin": "A:fA1", "value": 1}'
    assert message(item) == f'Invalid annotation filter list item {item}: "key" is required.'
    item = '{"origin": "A:fA1", "key": "score", "min": 1}'
    assert message(item) == (
        f'Invalid annotation filter list item: {item}. Should have either "value" or "min" '
        'and "max"'
    )
    item = '{"origin": "A:fA1", "key": "score", "min": "low", "max": 1}'
    assert message(item) == (
        f"Invalid annotation filter list item: {item}. The min/max provided is not a valid number."
    )


def test_sorting_by_an_annotation_puts_objects_without_it_last(world: World) -> None:
    by_score = {"sortByAnnotationOrigin": "A:fA1", "sortByAnnotationKey": "score"}
    # Without the key (o06) or the annotation (o09, o07, o04): last, by latest pass.
    rest = ["o09", "o06", "o07", "o04"]
    assert world.ids(world.alice, **by_score) == ["o08", "o02", "o03", "o01", *rest]
    assert world.ids(world.alice, **by_score, sortByAnnotationOrder="asc") == [
        "o08",
        "o02",
        "o03",
        "o01",
        *rest,
    ]
    assert world.ids(world.alice, **by_score, sortByAnnotationOrder="desc") == [
        "o01",
        "o03",
        "o02",
        "o08",
        *rest,
    ]
    # An origin the caller cannot read sorts nothing: the default order stays.
    by_c = {"sortByAnnotationOrigin": "C:fC", "sortByAnnotationKey": "score"}
    assert world.ids(world.alice, **by_c, sortByAnnotationOrder="desc") == ALICE_ALL
    assert world.ids(None, groupIDs=world.group_ids("A", "B"), **by_c)[0] == "o07"
    message = world.refused(world.alice, **by_score, sortByAnnotationOrder="up")
    assert message == "Invalid sortByAnnotationOrder: up. Must be asc or desc."


def test_annotations_are_the_callers_with_the_selected_groups_first(world: World) -> None:
    def origins(who: User, obj_id: str, **params: Any) -> list[str]:
        (entry,) = [c for c in world.listing(who, **params)["candidates"] if c["id"] == obj_id]
        return [a["origin"] for a in entry["annotations"]]

    assert origins(world.alice, "o01") == ["A:fA1", "B:fB"]
    assert origins(world.alice, "o01", groupIDs=world.group_ids("B", "A")) == ["A:fA1", "B:fB"]
    assert origins(world.alice, "o01", groupIDs=world.group_ids("B")) == ["B:fB", "A:fA1"]
    assert origins(world.bob, "o01") == ["B:fB"]
    (o01,) = [c for c in world.listing(world.alice)["candidates"] if c["id"] == "o01"]
    (first,) = [a for a in o01["annotations"] if a["origin"] == "A:fA1"]
    assert first["data"] == {"score": 0.9, "flag": True, "name": "alpha"}
    assert set(first) == {"id", "obj_id", "origin", "data", "author_id", "created_at", "modified"}


# ---- classifications, redshift, listings --------------------------------------------------------


def test_classifications_by_name_read_only_the_callers(world: World) -> None:
    # o08's SN Ia is readable by C only.
    assert world.ids(world.alice, classifications="SN Ia") == ["o09", "o02"]
    assert world.ids(world.alice, classifications="SN Ia, AGN") == ["o09", "o04", "o02"]
    assert world.ids(world.alice, classificationsReject="AGN") == [
        "o06",
        "o08",
        "o01",
        "o07",
        "o03",
        "o02",
    ]
    assert world.ids(world.alice, classifications="SN Ia", classificationsReject="AGN") == ["o02"]
    entries = {c["id"]: c for c in world.listing(world.alice)["candidates"]}
    assert sorted(c["classification"] for c in entries["o09"]["classifications"]) == [
        "AGN",
        "SN Ia",
    ]
    assert entries["o08"]["classifications"] == []


def test_redshift_range(world: World) -> None:
    assert world.ids(world.alice, minRedshift="0.1") == ["o06", "o03", "o02"]
    assert world.ids(world.alice, maxRedshift="0.1") == ["o01", "o02"]
    assert world.ids(world.alice, minRedshift="0.1", maxRedshift="0.15") == ["o06", "o02"]
    message = world.refused(world.alice, minRedshift="far")
    assert message == "Invalid values for minRedshift - could not convert to float"
    message = world.refused(world.alice, maxRedshift="near")
    assert message == "Invalid values for maxRedshift - could not convert to float"


def test_list_name_and_its_rejection_are_the_callers_own(world: World) -> None:
    assert world.ids(world.alice, listName="favorites") == ["o01", "o03"]
    assert world.ids(world.alice, listNameReject="rejected_candidates") == [
        "o06",
        "o08",
        "o01",
        "o07",
        "o04",
        "o03",
    ]
    assert world.ids(world.bob, listName="favorites") == ["o04"]
    assert world.ids(world.bob, listNameReject="rejected_candidates") == [
        "o09",
        "o01",
        "o07",
        "o04",
    ]


def test_every_parameter_at_once(world: World) -> None:
    params = {
        "groupIDs": world.group_ids("A", "B"),
        "savedStatus": "savedToAnySelected",
        "startDate": at(1),
        "endDate": at(13),
        "annotationFilterList": annotation_filters(
            {"origin": "A:fA1", "key": "score", "min": 0, "max": 1}
        ),
        "sortByAnnotationOrigin": "A:fA1",
        "sortByAnnotationKey": "score",
        "sortByAnnotationOrder": "desc",
        "classificationsReject": "AGN",
        "maxRedshift": "0.5",
        "listNameReject": "rejected_candidates",
        "totalMatches": "999",
    }
    # Saved to A or B with a readable A:fA1 score: o08, o01, o02; o02 is rejected; o08 has no
    # redshift (a range leaves it out, as SkyPortal's SQL comparison does).
    assert world.ids(world.alice, **params) == ["o01"]


# ---- paging -----------------------------------------------------------------------------------


def test_pages_reuse_the_query_ids_ordered_list(world: World) -> None:
    dave = world.dave
    filter_d = world.filters["D"]
    for index in range(5):
        body = {"id": f"d{index}", "ra": 1.0, "dec": 1.0, "filter_ids": [filter_d]}
        ok(world.post(dave, {**body, "passed_at": at(100 + index)}))
    first = world.listing(dave, numPerPage="2")
    assert [c["id"] for c in first["candidates"]] == ["d4", "d3"]
    assert (first["totalMatches"], first["numPerPage"], first["pageNumber"]) == (5, 2, 1)
    query_id = first["queryID"]
    # A new pass after the first page: the query's list stays as it was.
    ok(
        world.post(
            dave,
            {"id": "d5", "ra": 1.0, "dec": 1.0, "filter_ids": [filter_d], "passed_at": at(200)},
        )
    )
    pages = []
    for page in (1, 2, 3):
        answer = world.listing(dave, numPerPage="2", pageNumber=str(page), queryID=query_id)
        assert (answer["queryID"], answer["totalMatches"], answer["pageNumber"]) == (
            query_id,
            5,
            page,
        )
        pages.append([c["id"] for c in answer["candidates"]])
    assert pages == [["d4", "d3"], ["d2", "d1"], ["d0"]]
    assert world.refused(dave, numPerPage="2", pageNumber="4", queryID=query_id) == (
        "Page number out of range."
    )
    fresh = world.listing(dave, numPerPage="2")
    assert ([c["id"] for c in fresh["candidates"]], fresh["totalMatches"]) == (["d5", "d4"], 6)
    assert fresh["queryID"] != query_id
    # Another caller's queryID is not theirs: a fresh query of their own candidates.
    other = world.listing(world.bob, queryID=query_id)
    assert [c["id"] for c in other["candidates"]] == ["o09", "o01", "o07", "o04"]
    assert other["queryID"] != query_id
    unknown = world.listing(dave, numPerPage="2", queryID="no-such-query")
    assert unknown["totalMatches"] == 6 and unknown["queryID"] != "no-such-query"


def test_paging_limits_and_messages(world: World) -> None:
    assert world.listing(world.alice, numPerPage="1000")["numPerPage"] == 500
    page = world.listing(world.alice, numPerPage="3", pageNumber="3")
    assert [c["id"] for c in page["candidates"]] == ["o03", "o02"]
    assert world.refused(world.alice, numPerPage="3", pageNumber="4") == "Page number out of range."
    assert world.refused(world.alice, pageNumber="0") == "Page number out of range."
    assert world.refused(world.alice, pageNumber="two") == "Invalid page number value."
    assert world.refused(world.alice, numPerPage="many") == "Invalid numPerPage value."
    assert world.listing(world.outsider, pageNumber="1")["totalMatches"] == 0
    assert world.refused(world.outsider, pageNumber="2") == "Page number out of range."


def test_each_entry_is_the_object_with_what_the_scanning_page_shows(world: World) -> None:
    (o01,) = [c for c in world.listing(world.alice)["candidates"] if c["id"] == "o01"]
    assert (o01["ra"], o01["dec"], o01["redshift"], o01["score"]) == (11.0, -6.0, 0.05, 0.5)
    assert o01["origin"] == "Kowalski"
    assert o01["last_detected_at"] == shown(10)
    assert o01["thumbnails"] == []
    for key in ("gal_lon", "gal_lat", "created_at", "modified", "alias", "redshift_history"):
        assert key in o01
    assert "photometry" not in o01 and "comments" not in o01
    embedded = world.listing(world.alice, includePhotometry="true", includeComments="1")
    assert all(c["photometry"] == [] and c["comments"] == [] for c in embedded["candidates"])


def test_candidates_filter_lists_candidate_rows_oldest_first(world: World) -> None:
    def rows(who: User, **params: Any) -> dict[str, Any]:
        return data(world.get(who, "/api/candidates_filter", **params))

    def passes(answer: dict[str, Any]) -> list[tuple[str, int, str]]:
        return [(c["obj_id"], c["passing_alert_id"], c["passed_at"]) for c in answer["candidates"]]

    a = {"groupIDs": world.group_ids("A")}
    every = [(o, BIG_CANDID + h, shown(h)) for o, h in (("o01", 1), ("o02", 2), ("o03", 3),
             ("o03", 4), ("o06", 7), ("o07", 8), ("o08", 11), ("o06", 12))]  # fmt: skip
    first = rows(world.alice, **a)
    assert (passes(first), first["totalMatches"]) == (every, 8)
    (row,) = rows(world.alice, **a, numPerPage="1")["candidates"]
    assert set(row) == {
        "id",
        "obj_id",
        "filter_id",
        "passed_at",
        "passing_alert_id",
        "uploader_id",
        "created_at",
    }
    assert row["filter_id"] == world.filters["A1"]
    second = rows(world.alice, **a, numPerPage="3", pageNumber="2")
    assert passes(second) == every[3:6] and "totalMatches" not in second
    saved = rows(world.alice, **a, savedStatus="savedToAnySelected")
    assert passes(saved) == every[:2]
    assert passes(rows(world.alice, **a, startDate=at(7))) == every[4:]
    assert rows(world.bob, **a) == {"candidates": [], "totalMatches": 0}
    message = refused(world.get(world.alice, "/api/candidates_filter", savedStatus="x"))
    assert message == "Invalid savedStatus: x. Must be one of the enumerated options."


# ---- posting and deleting ------------------------------------------------------------------------


def test_posting_makes_one_candidate_per_readable_filter_idempotently(world: World) -> None:
    e1, e2, a1 = world.filters["E1"], world.filters["E2"], world.filters["A1"]
    body = {
        "id": "e-post",
        "ra": 150.0,
        "dec": 2.0,
        "redshift": 0.3,
        "filter_ids": [e2, a1, e1],
        "passed_at": at(300),
        "passing_alert_id": BIG_CANDID,
    }
    ids = data(world.post(world.erin, body))["ids"]
    assert len(ids) == 2 and len(set(ids)) == 2  # A1 is not erin's
    assert data(world.post(world.erin, body))["ids"] == ids
    later = data(
        world.post(
            world.erin,
            {**body, "passed_at": at(301), "redshift": 0.4, "passing_alert_id": BIG_CANDID + 1},
        )
    )["ids"]
    assert not set(later) & set(ids)
    candidate = data(world.get(world.erin, "/api/candidates/e-post", includeAlerts="true"))
    alerts = sorted(
        (a["filter_id"], a["passing_alert_id"], a["passed_at"]) for a in candidate["passing_alerts"]
    )
    assert alerts == sorted(
        [
            (e2, BIG_CANDID, shown(300)),
            (e1, BIG_CANDID, shown(300)),
            (e2, BIG_CANDID + 1, shown(301)),
            (e1, BIG_CANDID + 1, shown(301)),
        ]
    )
    # The first redshift stays the object's; each new pass appends to the history.
    assert candidate["redshift"] == 0.3
    history = [(h["value"], h["set_by_user_id"]) for h in candidate["redshift_history"]]
    assert history == [(0.3, world.erin.id), (0.4, world.erin.id)]
    # alice (not in E) does not see it.
    assert world.http.head("/api/candidates/e-post", headers=world.alice.headers).status_code == 404


def test_a_numeric_id_is_coerced_to_text(world: World) -> None:
    body = {
        "id": 4242,
        "ra": 1.0,
        "dec": 2.0,
        "filter_ids": [world.filters["E1"]],
        "passed_at": at(400),
    }
    ok(world.post(world.erin, body))
    assert data(world.get(world.erin, "/api/candidates/4242"))["id"] == "4242"


def test_posting_refusals(world: World) -> None:
    e1 = world.filters["E1"]
    good = {"id": "e-bad", "ra": 1.0, "dec": 2.0, "filter_ids": [e1], "passed_at": at(500)}

    def message(body: dict[str, Any], who: User | None = None) -> str:
        return refused(world.post(who or world.erin, body))

    assert message({k: v for k, v in good.items() if k != "id"}) == (
        "Missing required parameter: `id`."
    )
    assert message({k: v for k, v in good.items() if k != "ra"}) == (
        "RA must not be null for a new Obj"
    )
    assert message({k: v for k, v in good.items() if k != "dec"}) == (
        "Dec must not be null for a new Obj"
    )
    assert message({k: v for k, v in good.items() if k != "passed_at"}) == (
        "Missing required parameter: `passed_at`."
    )
    assert message({**good, "passed_at": "soon"}).startswith("Invalid passedAt value:")
    assert message({k: v for k, v in good.items() if k != "filter_ids"}) == (
        "Missing required filter_ids parameter."
    )
    assert message({**good, "filter_ids": [world.filters["A1"]]}) == (
        "At least one valid filter ID must be provided."
    )
    assert message({**good, "filter_ids": []}) == "At least one valid filter ID must be provided."
    assert message(good, world.outsider) == "At least one valid filter ID must be provided."
    # Nothing of the refused posts was stored.
    assert world.http.head("/api/candidates/e-bad").status_code == 404
    # A known object needs no position.
    known = {"id": "o01", "filter_ids": [e1], "passed_at": at(501)}
    assert len(data(world.post(world.erin, known))["ids"]) == 1


def test_deleting_a_candidate(world: World) -> None:
    e1, e2 = world.filters["E1"], world.filters["E2"]
    body = {"id": "e-del", "ra": 3.0, "dec": 4.0, "filter_ids": [e1, e2]}
    ok(world.post(world.erin, {**body, "passed_at": at(600)}))
    ok(world.post(world.erin, {**body, "passed_at": at(601)}))
    path = f"/api/candidates/e-del/{e1}"
    assert refused(world.http.delete(path, headers=world.alice.headers)) == (
        "Invalid (obj_id, filter_id) pairing - no matching candidates"
    )
    refused(world.http.delete(path, headers=world.viewer.headers), 401)
    ok(world.http.delete(path, headers=world.erin.headers))
    candidate = data(world.get(world.erin, "/api/candidates/e-del", includeAlerts="true"))
    assert sorted(a["filter_id"] for a in candidate["passing_alerts"]) == [e2, e2]
    assert refused(world.http.delete(path, headers=world.erin.headers)) == (
        "Invalid (obj_id, filter_id) pairing - no matching candidates"
    )


# ---- permissions -------------------------------------------------------------------------------


def test_non_members_never_see_another_groups_candidates(world: World) -> None:
    a_only = {"o02", "o03", "o06", "o08"}
    for params in (
        {},
        {"groupIDs": world.group_ids("A")},
        {"filterIDs": world.filter_ids("A1", "A2")},
        {"savedStatus": "notSavedToAnyAccessible"},
        {"listName": "favorites"},
    ):
        assert not a_only & set(world.ids(world.bob, **params)), params
        assert not a_only & set(world.ids(world.carol, **params)), params
    assert world.ids(world.bob, groupIDs=world.group_ids("A")) == []
    assert world.ids(world.carol, filterIDs=world.filter_ids("A1", "B")) == []


def test_a_view_only_user_reads_the_list_but_cannot_write(world: World) -> None:
    assert world.ids(world.viewer, groupIDs=world.group_ids("A"))[:2] == ["o06", "o08"]
    body = {
        "id": "v-1",
        "ra": 1.0,
        "dec": 1.0,
        "filter_ids": [world.filters["A1"]],
        "passed_at": at(700),
    }
    assert "Upload data" in refused(world.post(world.viewer, body), 401)


def test_every_candidates_route_needs_a_token(world: World) -> None:
    bare = httpx.Client(base_url=str(world.http.base_url), timeout=30)
    assert bare.get("/api/candidates").status_code == 401
    assert bare.get("/api/candidates_filter").status_code == 401
    assert bare.post("/api/candidates", json={}).status_code == 401
    assert bare.delete(f"/api/candidates/o01/{world.filters['A1']}").status_code == 401
    bare.close()
