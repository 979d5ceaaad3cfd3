"""Annotations, comments, taxonomies and classifications through the gateway, with
SkyPortal's shapes, messages and permissions, on the real mesh.

The objects are made as the broker makes them: PostPasses (gRPC, a service token) with
passes of group A's and group B's filters, so that group A sees ``only_a`` and ``both``,
group B sees ``only_b`` and ``both``.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import httpx
import pytest
import tdtax

from skymesh.config import Settings
from skymesh.portal.v1 import portal_pb2, portal_pb2_grpc
from skymesh.runtime.auth import service_token
from tests.portal import User, admin_client, data, group, portal_filter, stream, user
from tests.rest import ok, refused

pytestmark = pytest.mark.integration

ANNOTATION_KEYS = {"id", "obj_id", "origin", "data", "author_id", "created_at", "modified"}
COMMENT_KEYS = {
    "id",
    "obj_id",
    "text",
    "author_id",
    "author",
    "bot",
    "attachment_name",
    "groups",
    "created_at",
    "modified",
}
CLASSIFICATION_KEYS = {
    "id",
    "obj_id",
    "classification",
    "taxonomy_id",
    "probability",
    "ml",
    "origin",
    "author_id",
    "author_name",
    "groups",
    "created_at",
    "modified",
}
UNREADABLE_ANNOTATION = "Could not find any accessible annotations."
UNREADABLE_COMMENT = "Could not find any accessible comments."
HIERARCHY = {
    "class": "Transient",
    "comments": "a small tree of our own",
    "tags": ["test"],
    "subclasses": [
        {"class": "SN", "subclasses": [{"class": "SN Ia"}, {"class": "SN II"}]},
        {"class": "TDE", "other names": ["tidal disruption"]},
    ],
}


@dataclass
class World:
    http: httpx.Client
    settings: Settings
    group_a: int
    group_b: int
    sitewide: int
    filter_a: int
    only_a: str
    only_b: str
    both: str
    alice: User  # Full user in A
    carol: User  # Full user in A (not the author of alice's posts)
    bob: User  # Full user in B
    viewer: User  # View only in A
    curator: User  # Group admin role in A: may post taxonomies
    session_headers: dict[str, str]  # a Full user of A logged in (a JWT, not a token)


def passed(candid: int, obj_id: str, filter_ids: list[int], annotations: str = "") -> Any:
    return portal_pb2.PassedAlert(
        candid=candid,
        obj_id=obj_id,
        ra=150.0 + candid % 100 / 1000,
        dec=2.0,
        collection="ZTF_alerts",
        filters=[
            portal_pb2.PassedFilter(
                filter_id=f, annotations_json=annotations, update_annotations=True
            )
            for f in filter_ids
        ],
        passed_at="2026-01-02T03:04:05+00:00",
    )


def post_passes(settings: Settings, alerts: list[Any]) -> Any:
    metadata = [("authorization", f"Bearer {service_token(settings.jwt_secret, 'test')}")]
    with grpc.insecure_channel(settings.address("portal")) as channel:
        stub = portal_pb2_grpc.PortalServiceStub(channel)
        return stub.PostPasses(portal_pb2.PostPassesRequest(alerts=alerts), metadata=metadata)


def logged_in(http: httpx.Client, stream_id: int, groups: tuple[int, ...]) -> dict[str, str]:
    """A Full user's login session (a JWT), as a browser has it."""
    username, password = f"web-{secrets.token_hex(4)}", secrets.token_hex(8)
    body = {"username": username, "password": password, "role": "Full user"}
    user_id = int(ok(http.post("/api/users", json=body))["data"]["id"])
    data(http.post(f"/api/streams/{stream_id}/users", json={"user_id": user_id}))
    for group_id in groups:
        data(http.post(f"/api/groups/{group_id}/users", json={"userID": user_id}))
    login = {"username": username, "password": password}
    return {"Authorization": f"Bearer {ok(http.post('/api/auth', json=login))['token']}"}


@pytest.fixture(scope="module")
def world(mesh: Settings) -> Iterator[World]:
    http = admin_client(mesh)
    public = stream(http, "ZTF Public", "ZTF_alerts", [1])
    group_a, group_b = group(http, "SD-A", [public]), group(http, "SD-B", [public])
    filter_a = portal_filter(http, "sd-everything", group_a, public)
    filter_b = portal_filter(http, "sd-bright", group_b, public)
    tag = secrets.token_hex(3)
    only_a, only_b, both = f"ZTFsdA{tag}", f"ZTFsdB{tag}", f"ZTFsdAB{tag}"
    base = secrets.randbelow(10**12) * 1000
    post_passes(
        mesh,
        [
            passed(base + 1, only_a, [filter_a]),
            passed(base + 2, only_b, [filter_b]),
            passed(base + 3, both, [filter_a, filter_b]),
        ],
    )
    sitewide = next(
        g["id"]
        for g in data(http.get("/api/groups"))["all_groups"]
        if g["name"] == "Sitewide Group"
    )
    world = World(
        http=http,
        settings=mesh,
        group_a=group_a,
        group_b=group_b,
        sitewide=sitewide,
        filter_a=filter_a,
        only_a=only_a,
        only_b=only_b,
        both=both,
        alice=user(http, streams=(public,), groups=(group_a,)),
        carol=user(http, streams=(public,), groups=(group_a,)),
        bob=user(http, streams=(public,), groups=(group_b,)),
        viewer=user(http, role="View only", streams=(public,), groups=(group_a,)),
        curator=user(http, role="Group admin", streams=(public,), groups=(group_a,)),
        session_headers=logged_in(http, public, (group_a,)),
    )
    yield world
    http.close()


def call(world: World, who: User | None, verb: str, path: str, **kwargs: Any) -> httpx.Response:
    headers = who.headers if who else {}
    return world.http.request(verb, path, headers=headers, **kwargs)


def annotation_of(world: World, who: User, obj_id: str, annotation_id: int) -> httpx.Response:
    return call(world, who, "GET", f"/api/sources/{obj_id}/annotations/{annotation_id}")


# ---- annotations --------------------------------------------------------------------------


def test_an_annotation_is_posted_read_updated_and_deleted(world: World) -> None:
    path = f"/api/sources/{world.only_a}/annotations"
    body = {
        "origin": "alice_notes",
        "data": {"host_offset": 1.5, "note": "near a galaxy"},
        "group_ids": [world.group_a],
        "ignored_key": "SkyPortal ignores keys it does not know",
    }
    annotation_id = data(call(world, world.alice, "POST", path, json=body))["annotation_id"]
    assert isinstance(annotation_id, int)

    listed = [a for a in data(call(world, world.alice, "GET", path)) if a["id"] == annotation_id]
    assert len(listed) == 1
    one = data(annotation_of(world, world.alice, world.only_a, annotation_id))
    assert one == listed[0]
    assert set(one) == ANNOTATION_KEYS
    assert one["obj_id"] == world.only_a
    assert one["origin"] == "alice_notes"
    assert one["data"] == {"host_offset": 1.5, "note": "near a galaxy"}
    assert one["author_id"] == world.alice.id

    update = {"data": {"host_offset": 2.5}, "origin": "alice_notes_v2"}
    data(call(world, world.alice, "PUT", f"{path}/{annotation_id}", json=update))
    after = data(annotation_of(world, world.alice, world.only_a, annotation_id))
    assert (after["origin"], after["data"]) == ("alice_notes_v2", {"host_offset": 2.5})
    assert after["modified"] > one["modified"]
    assert after["created_at"] == one["created_at"]

    data(call(world, world.alice, "DELETE", f"{path}/{annotation_id}"))
    gone = annotation_of(world, world.alice, world.only_a, annotation_id)
    assert refused(gone, 403) == UNREADABLE_ANNOTATION
    assert annotation_id not in {a["id"] for a in data(call(world, world.alice, "GET", path))}


def test_annotation_posts_are_refused_as_skyportal_refuses_them(world: World) -> None:
    path = f"/api/sources/{world.only_a}/annotations"
    first = {"origin": "dup_origin", "data": {"x": 1}, "group_ids": [world.group_a]}
    data(call(world, world.alice, "POST", path, json=first))
    duplicate = refused(call(world, world.carol, "POST", path, json=first))
    assert "duplicate" in duplicate and "dup_origin" in duplicate
    assert "must begin with alphanumeric/underscore" in refused(
        call(world, world.alice, "POST", path, json={"origin": "-x", "data": {"x": 1}})
    )
    assert "origin must be specified" in refused(
        call(world, world.alice, "POST", path, json={"data": {"x": 1}})
    )
    for bad in ([1, 2], "text", {}):
        message = refused(call(world, world.alice, "POST", path, json={"origin": "o", "data": bad}))
        assert message.startswith("Invalid data: the annotation data must be an object")
    unknown_group = {"origin": "o", "data": {"x": 1}, "group_ids": [987654321]}
    assert "987654321" in refused(call(world, world.alice, "POST", path, json=unknown_group))
    unknown_obj = call(world, world.alice, "POST", "/api/sources/ZTFnope/annotations", json=first)
    refused(unknown_obj, 404)
    # Another group's object does not exist for alice.
    other = call(world, world.alice, "POST", f"/api/sources/{world.only_b}/annotations", json=first)
    refused(other, 404)
    # View only: no Annotate ACL.
    refused(call(world, world.viewer, "POST", path, json=first), 401)


def test_only_the_author_edits_and_only_the_groups_read_an_annotation(world: World) -> None:
    path = f"/api/sources/{world.both}/annotations"
    body = {"origin": "a_only", "data": {"score": 0.9}, "group_ids": [world.group_a]}
    annotation_id = data(call(world, world.alice, "POST", path, json=body))["annotation_id"]

    # bob (group B) sees the object, not group A's annotation.
    assert "a_only" not in {a["origin"] for a in data(call(world, world.bob, "GET", path))}
    assert refused(annotation_of(world, world.bob, world.both, annotation_id), 403) == (
        UNREADABLE_ANNOTATION
    )
    # carol (group A) reads it but may not change it.
    assert data(annotation_of(world, world.carol, world.both, annotation_id))["id"] == annotation_id
    change = {"data": {"score": 0.1}}
    assert refused(call(world, world.carol, "PUT", f"{path}/{annotation_id}", json=change), 403)
    assert refused(call(world, world.carol, "DELETE", f"{path}/{annotation_id}"), 403)
    assert refused(call(world, world.bob, "PUT", f"{path}/{annotation_id}", json=change), 403)
    refused(call(world, world.viewer, "PUT", f"{path}/{annotation_id}", json=change), 401)
    refused(call(world, world.viewer, "DELETE", f"{path}/{annotation_id}"), 401)
    # The annotation is on `both`: another object's path is refused.
    wrong = f"/api/sources/{world.only_a}/annotations/{annotation_id}"
    assert refused(call(world, world.alice, "GET", wrong)) == (
        f"Annotation resource ID does not match resource ID given in path ({world.only_a})"
    )
    assert "does not match" in refused(call(world, world.alice, "PUT", wrong, json=change))
    assert data(annotation_of(world, world.alice, world.both, annotation_id))["data"] == {
        "score": 0.9
    }
    # Shared with B afterwards, bob reads it.
    share = {"group_ids": [world.group_a, world.group_b]}
    data(call(world, world.alice, "PUT", f"{path}/{annotation_id}", json=share))
    assert data(annotation_of(world, world.bob, world.both, annotation_id))["origin"] == "a_only"


def test_the_brokers_filter_annotations_keep_their_origin(world: World) -> None:
    """PostPasses writes ``<group>:<filter>`` annotations, updated in place; a user cannot
    post a second annotation of that origin."""
    obj_id = f"ZTFsdbroker{secrets.token_hex(3)}"
    candid = secrets.randbelow(10**12) * 1000 + 7
    post_passes(world.settings, [passed(candid, obj_id, [world.filter_a], '{"drb": 0.5}')])
    path = f"/api/sources/{obj_id}/annotations"
    (annotation,) = data(call(world, world.alice, "GET", path))
    assert annotation["origin"].endswith(":sd-everything")
    assert annotation["data"] == {"drb": 0.5}
    taken = {"origin": annotation["origin"], "data": {"drb": 1}}
    assert "duplicate" in refused(call(world, world.alice, "POST", path, json=taken))
    post_passes(world.settings, [passed(candid + 1, obj_id, [world.filter_a], '{"drb": 0.75}')])
    (updated,) = data(call(world, world.alice, "GET", path))
    assert (updated["id"], updated["data"]) == (annotation["id"], {"drb": 0.75})


# ---- comments ------------------------------------------------------------------------------


def comment_of(world: World, who: User, obj_id: str, comment_id: int) -> httpx.Response:
    return call(world, who, "GET", f"/api/sources/{obj_id}/comments/{comment_id}")


def test_a_comment_is_posted_read_updated_and_deleted(world: World) -> None:
    path = f"/api/sources/{world.only_a}/comments"
    body = {"text": "looks like a SN Ia", "group_ids": [world.group_a]}
    comment_id = data(call(world, world.alice, "POST", path, json=body))["comment_id"]
    # A script's retry of the same post adds nothing.
    assert data(call(world, world.alice, "POST", path, json=body))["comment_id"] == comment_id
    listed = [c for c in data(call(world, world.alice, "GET", path)) if c["text"] == body["text"]]
    assert [c["id"] for c in listed] == [comment_id]

    one = data(comment_of(world, world.alice, world.only_a, comment_id))
    assert set(one) == COMMENT_KEYS
    assert one == listed[0]
    assert one["obj_id"] == world.only_a
    assert one["author_id"] == world.alice.id
    assert one["author"] == {"id": world.alice.id, "username": world.alice.username}
    assert one["bot"] is True  # posted with an API token
    assert [g["id"] for g in one["groups"]] == [world.group_a]
    assert one["attachment_name"] is None

    data(call(world, world.alice, "PUT", f"{path}/{comment_id}", json={"text": "a SN II"}))
    assert data(comment_of(world, world.alice, world.only_a, comment_id))["text"] == "a SN II"
    data(call(world, world.alice, "DELETE", f"{path}/{comment_id}"))
    refused(comment_of(world, world.alice, world.only_a, comment_id), 403)


def test_comment_defaults_bot_and_permissions(world: World) -> None:
    path = f"/api/sources/{world.both}/comments"
    # A login session is a person: bot is false; no group_ids: the public group.
    posted = world.http.post(path, headers=world.session_headers, json={"text": "by a person"})
    comment_id = data(posted)["comment_id"]
    one = data(comment_of(world, world.bob, world.both, comment_id))  # bob reads public ones
    assert one["bot"] is False
    assert [g["id"] for g in one["groups"]] == [world.sitewide]

    private = {"text": "group A only", "group_ids": [world.group_a]}
    private_id = data(call(world, world.alice, "POST", path, json=private))["comment_id"]
    assert "group A only" not in {c["text"] for c in data(call(world, world.bob, "GET", path))}
    assert refused(comment_of(world, world.bob, world.both, private_id), 403) == UNREADABLE_COMMENT
    edit = {"text": "edited by someone else"}
    refused(call(world, world.carol, "PUT", f"{path}/{private_id}", json=edit), 403)
    refused(call(world, world.carol, "DELETE", f"{path}/{private_id}"), 403)
    refused(call(world, world.viewer, "POST", path, json=private), 401)
    refused(call(world, world.viewer, "DELETE", f"{path}/{private_id}"), 401)
    wrong = f"/api/sources/{world.only_a}/comments/{private_id}"
    assert refused(call(world, world.alice, "GET", wrong)) == (
        f"Comment resource ID does not match resource ID given in path ({world.only_a})"
    )
    assert "text" in refused(call(world, world.alice, "POST", path, json={"text": ""}))
    refused(
        call(world, world.bob, "POST", f"/api/sources/{world.only_a}/comments", json=private), 404
    )


def test_a_comment_attachment_is_served_back(world: World) -> None:
    path = f"/api/sources/{world.only_a}/comments"
    content = b"wavelength,flux\n5000,1.2\n"
    body = {
        "text": "spectrum attached",
        "group_ids": [world.group_a],
        "attachment": {"name": "spec.csv", "body": base64.b64encode(content).decode()},
    }
    comment_id = data(call(world, world.alice, "POST", path, json=body))["comment_id"]
    assert data(comment_of(world, world.alice, world.only_a, comment_id))["attachment_name"] == (
        "spec.csv"
    )
    file = call(world, world.carol, "GET", f"{path}/{comment_id}/attachment")
    assert file.status_code == 200, file.text
    assert file.content == content
    assert file.headers["content-type"] == "application/octet-stream"
    assert file.headers["content-disposition"] == 'attachment; filename="spec.csv"'
    as_text = call(
        world, world.alice, "GET", f"{path}/{comment_id}/attachment", params={"download": "false"}
    )
    assert data(as_text) == {"commentId": comment_id, "attachment": content.decode()}
    refused(
        call(
            world, world.bob, "GET", f"/api/sources/{world.only_a}/comments/{comment_id}/attachment"
        ),
        403,
    )

    bad = {"text": "x", "attachment": {"name": "a.bin", "body": "not base64!"}}
    assert "Malformed comment attachment" in refused(
        call(world, world.alice, "POST", path, json=bad)
    )
    plain = {"text": "no file here", "group_ids": [world.group_a]}
    plain_id = data(call(world, world.alice, "POST", path, json=plain))["comment_id"]
    assert refused(call(world, world.alice, "GET", f"{path}/{plain_id}/attachment")) == (
        "Comment has no attachment"
    )


# ---- taxonomies and classifications ------------------------------------------------------------


def taxonomies(world: World, who: User) -> dict[str, dict[str, Any]]:
    return {
        f"{t['name']} {t['version']}": t for t in data(call(world, who, "GET", "/api/taxonomy"))
    }


def new_taxonomy(world: World, group_ids: list[int]) -> int:
    body = {
        "name": f"sd-taxonomy-{secrets.token_hex(3)}",
        "version": "1.0",
        "hierarchy": HIERARCHY,
        "group_ids": group_ids,
        "provenance": "tests",
    }
    return data(call(world, world.curator, "POST", "/api/taxonomy", json=body))["taxonomy_id"]


def test_tdtax_is_every_users_taxonomy(world: World) -> None:
    sitewide = taxonomies(world, world.bob)[f"Sitewide taxonomy {tdtax.__version__}"]
    assert sitewide["hierarchy"] == tdtax.taxonomy
    assert sitewide["isLatest"] is True
    assert [g["id"] for g in sitewide["groups"]] == [world.sitewide]
    assert data(call(world, world.alice, "GET", f"/api/taxonomy/{sitewide['id']}")) == sitewide
    # A group admin's "Post taxonomy" does not reach everyone's taxonomy.
    assert refused(
        call(world, world.curator, "DELETE", f"/api/taxonomy/{sitewide['id']}"), 403
    ) == ("Only a system admin may delete a taxonomy of the public group.")


def test_taxonomies_are_validated_and_read_through_their_groups(world: World) -> None:
    taxonomy_id = new_taxonomy(world, [world.group_a])
    one = data(call(world, world.alice, "GET", f"/api/taxonomy/{taxonomy_id}"))
    assert (one["version"], one["hierarchy"], one["provenance"], one["isLatest"]) == (
        "1.0",
        HIERARCHY,
        "tests",
        True,
    )
    assert [g["id"] for g in one["groups"]] == [world.group_a]
    assert refused(call(world, world.bob, "GET", f"/api/taxonomy/{taxonomy_id}")) == (
        "Taxonomy does not exist or is not available to user."
    )
    assert taxonomy_id not in {t["id"] for t in taxonomies(world, world.bob).values()}

    again = {"name": one["name"], "version": "1.0", "hierarchy": HIERARCHY}
    assert "already present" in refused(
        call(world, world.curator, "POST", "/api/taxonomy", json=again)
    )
    newer = {**again, "version": "2.0", "group_ids": [world.group_a]}
    data(call(world, world.curator, "POST", "/api/taxonomy", json=newer))
    assert (
        data(call(world, world.alice, "GET", f"/api/taxonomy/{taxonomy_id}"))["isLatest"] is False
    )

    for hierarchy, words in (
        (
            {"class": "X", "bogus": 1},
            "Additional properties are not allowed ('bogus' was unexpected)",
        ),
        ({"name": "X"}, "'class' is a required property"),
        ({"class": "X", "subclasses": [{"name": "Y"}]}, "hierarchy.subclasses[0] must be a node"),
        ({"class": "X", "tags": "t"}, "'t' is not of type 'array'"),
    ):
        body = {"name": "sd-bad", "version": secrets.token_hex(3), "hierarchy": hierarchy}
        message = refused(call(world, world.curator, "POST", "/api/taxonomy", json=body))
        assert message.startswith("Hierarchy does not validate against the schema: "), message
        assert words in message, message
    # Full users and View only users have no "Post taxonomy".
    refused(call(world, world.alice, "POST", "/api/taxonomy", json=newer), 401)
    refused(call(world, world.viewer, "DELETE", f"/api/taxonomy/{taxonomy_id}"), 401)
    data(call(world, world.curator, "DELETE", f"/api/taxonomy/{taxonomy_id}"))
    refused(call(world, world.alice, "GET", f"/api/taxonomy/{taxonomy_id}"))


def classify(world: World, who: User, **body: Any) -> httpx.Response:
    return call(world, who, "POST", "/api/classification", json=body)


def test_a_classification_is_posted_read_updated_and_deleted(world: World) -> None:
    taxonomy_id = new_taxonomy(world, [world.group_a])
    posted = classify(
        world,
        world.alice,
        obj_id=world.both,
        classification="SN Ia",
        taxonomy_id=taxonomy_id,
        probability=0.8,
        origin="by eye",
        group_ids=[world.group_a],
    )
    classification_id = data(posted)["classification_id"]
    one = data(call(world, world.alice, "GET", f"/api/classification/{classification_id}"))
    assert set(one) == CLASSIFICATION_KEYS
    assert {k: one[k] for k in ("obj_id", "classification", "taxonomy_id", "probability")} == {
        "obj_id": world.both,
        "classification": "SN Ia",
        "taxonomy_id": taxonomy_id,
        "probability": 0.8,
    }
    assert (one["ml"], one["origin"], one["author_id"], one["author_name"]) == (
        False,
        "by eye",
        world.alice.id,
        world.alice.username,
    )
    assert [g["id"] for g in one["groups"]] == [world.group_a]
    with_taxonomy = call(
        world,
        world.alice,
        "GET",
        f"/api/classification/{classification_id}",
        params={"includeTaxonomy": "true"},
    )
    assert data(with_taxonomy)["taxonomy"]["hierarchy"] == HIERARCHY

    of_obj = data(call(world, world.alice, "GET", f"/api/sources/{world.both}/classifications"))
    assert [c["id"] for c in of_obj] == [classification_id]
    source = data(call(world, world.alice, "GET", f"/api/sources/{world.both}"))
    assert [c["id"] for c in source["classifications"]] == [classification_id]
    listed = data(
        call(world, world.alice, "GET", "/api/classification", params={"numPerPage": 500})
    )
    assert classification_id in {c["id"] for c in listed["classifications"]}
    assert listed["totalMatches"] >= 1

    # Group B reads none of it.
    assert data(call(world, world.bob, "GET", f"/api/sources/{world.both}/classifications")) == []
    assert classification_id not in {
        c["id"]
        for c in data(call(world, world.bob, "GET", "/api/classification"))["classifications"]
    }
    assert refused(call(world, world.bob, "GET", f"/api/classification/{classification_id}")) == (
        f"Cannot find classification with ID: {classification_id}."
    )

    item = f"/api/classification/{classification_id}"
    data(call(world, world.alice, "PUT", item, json={"probability": 0.5, "classification": "SN"}))
    after = data(call(world, world.alice, "GET", item))
    assert (after["classification"], after["probability"]) == ("SN", 0.5)
    assert "is not in the allowed classes" in refused(
        call(world, world.alice, "PUT", item, json={"classification": "Nova"})
    )
    assert "outside the allowable range (0-1)." in refused(
        call(world, world.alice, "PUT", item, json={"probability": -0.1})
    )
    # Only the author changes it.
    assert refused(call(world, world.carol, "PUT", item, json={"probability": 1})) == (
        f"Cannot find a classification with ID: {classification_id}."
    )
    refused(call(world, world.carol, "DELETE", item))
    refused(call(world, world.viewer, "DELETE", item), 401)
    # A taxonomy in use stays.
    assert "has associated classifications" in refused(
        call(world, world.curator, "DELETE", f"/api/taxonomy/{taxonomy_id}")
    )
    data(call(world, world.alice, "DELETE", item))
    refused(call(world, world.alice, "GET", item))
    data(call(world, world.curator, "DELETE", f"/api/taxonomy/{taxonomy_id}"))


def test_classification_posts_are_refused_as_skyportal_refuses_them(world: World) -> None:
    taxonomy_id = new_taxonomy(world, [world.group_a])
    good = {"obj_id": world.only_a, "taxonomy_id": taxonomy_id, "group_ids": [world.group_a]}
    message = refused(classify(world, world.alice, **good, classification="Nova"))
    assert message == (
        "Error posting classification: That classification (Nova) is not in the allowed "
        f"classes for the chosen taxonomy (id={taxonomy_id})"
    )
    for probability in (1.5, -0.2):
        message = refused(
            classify(world, world.alice, **good, classification="SN", probability=probability)
        )
        assert message == (
            f"Error posting classification: That probability ({probability}) is outside the "
            "allowable range (0-1)."
        )
    assert "Cannot find object" in refused(
        classify(world, world.alice, **{**good, "obj_id": world.only_b}, classification="SN")
    )
    assert "987654321" in refused(
        classify(world, world.alice, **{**good, "group_ids": [987654321]}, classification="SN")
    )
    refused(classify(world, world.viewer, **good, classification="SN"), 401)

    batch = {
        "classifications": [
            {**good, "classification": "SN II", "ml": "true", "probability": 0.3},
            {**good, "classification": "TDE", "ml": False},
        ]
    }
    ids = data(call(world, world.alice, "POST", "/api/classification", json=batch))[
        "classification_ids"
    ]
    assert len(ids) == 2
    got = [data(call(world, world.alice, "GET", f"/api/classification/{i}")) for i in ids]
    assert [(c["classification"], c["ml"], c["probability"]) for c in got] == [
        ("SN II", True, 0.3),
        ("TDE", False, None),
    ]
    # One bad item: nothing of the batch is kept.
    before = data(call(world, world.alice, "GET", f"/api/sources/{world.only_a}/classifications"))
    batch["classifications"][1]["classification"] = "Nova"
    refused(call(world, world.alice, "POST", "/api/classification", json=batch))
    after = data(call(world, world.alice, "GET", f"/api/sources/{world.only_a}/classifications"))
    assert after == before


def test_a_classification_without_groups_is_public(world: World) -> None:
    sitewide = taxonomies(world, world.alice)[f"Sitewide taxonomy {tdtax.__version__}"]
    a_class = sitewide["hierarchy"]["subclasses"][0]["class"]
    posted = classify(
        world, world.alice, obj_id=world.both, classification=a_class, taxonomy_id=sitewide["id"]
    )
    classification_id = data(posted)["classification_id"]
    seen = data(call(world, world.bob, "GET", f"/api/classification/{classification_id}"))
    assert [g["id"] for g in seen["groups"]] == [world.sitewide]
    assert seen["classification"] == a_class
