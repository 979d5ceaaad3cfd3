"""The dashboard's routes end to end, through the gateway: the most viewed sources
(GET /api/internal/source_views), the latest saves (GET /api/internal/recent_sources), the
news feed (GET /api/newsfeed) and the profile's preferences (PATCH /api/internal/profile),
with SkyPortal's shapes, parameters and messages, each reading only the caller's groups.

This module runs a small mesh of its own (PostgreSQL, the database for the filters, the
portal, the filters service and Envoy). People log in as a browser does (a JWT): views and
comments through API tokens are scripts', which the dashboard leaves out (SkyPortal's rule).
One object arrives as the broker posts it (PostPasses, with its cutouts); the rest is made
through REST as users would.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

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
from tests.rest import ok, refused

pytestmark = pytest.mark.integration

ADMIN_PASSWORD = "dashboard-test-admin"
COMPONENTS = ("database", "postgres", "portal", "filters", "gateway")
VIEWS = "/api/internal/source_views"
RECENT = "/api/internal/recent_sources"
FEED = "/api/newsfeed"
PROFILE = "/api/internal/profile"
VIEW_KEYS = {"obj_id", "views", "ra", "dec", "thumbnails", "classifications"}
RECENT_KEYS = {"obj_id", "ra", "dec", "created_at", "thumbnails", "classifications", "resaved"}
AUTHOR_KEYS = {"id", "username", "first_name", "last_name", "is_bot"}
NEW_SAVE = "New source saved"
RESAVE = "Source saved to new group"
HIERARCHY = {"class": "Transient", "subclasses": [{"class": "SN Ia"}, {"class": "TDE"}]}


@dataclass
class Person:
    """A user logged in as a browser is (a JWT, not an API token)."""

    id: int
    username: str
    headers: dict[str, str]


@dataclass
class World:
    settings: Settings
    http: httpx.Client
    group_a: int
    group_a2: int
    group_b: int
    filter_a: int
    taxonomy_id: int
    alice: Person  # Full user in A and A2
    carol: Person  # Full user in A
    dave: Person  # Full user in A
    erin: Person  # Full user in A and A2: reads the news feed
    frank: Person  # Full user in A: edits their profile
    bob: Person  # Full user in B
    viewer: User  # View only in A, an API token
    script: User  # Full user in A, an API token

    def call(self, who: Person | User | None, verb: str, path: str, **kwargs: Any) -> Any:
        """A request as ``who`` (None: with no credentials at all)."""
        if who is None:
            return httpx.request(verb, self.http.base_url.join(path), **kwargs)
        return self.http.request(verb, path, headers=who.headers, **kwargs)

    def get(self, who: Person | User | None, path: str, **params: Any) -> Any:
        return self.call(who, "GET", path, params=params)

    def read(self, who: Person | User, path: str, **params: Any) -> Any:
        return data(self.get(who, path, **params))

    def saved(self, who: Person, obj_id: str, group_ids: list[int], new: bool = True) -> None:
        """Saves the object (made here, unless it exists) to those groups."""
        body: dict[str, Any] = {"id": obj_id, "group_ids": group_ids}
        if new:
            body.update(ra=210.5, dec=-12.25)
        reply = data(self.call(who, "POST", "/api/sources", json=body))
        assert reply["saved_to_groups"] == group_ids

    def comment(
        self, who: Person | User, obj_id: str, text: str, group_ids: list[int] | None = None
    ) -> None:
        body: dict[str, Any] = {"text": text}
        if group_ids is not None:
            body["group_ids"] = group_ids
        data(self.call(who, "POST", f"/api/sources/{obj_id}/comments", json=body))

    def classify(self, who: Person, obj_id: str, name: str, group_ids: list[int], **more: Any):
        body = {
            "obj_id": obj_id,
            "classification": name,
            "taxonomy_id": self.taxonomy_id,
            "group_ids": group_ids,
            **more,
        }
        data(self.call(who, "POST", "/api/classification", json=body))

    def prefer(self, who: Person, preferences: dict[str, Any]) -> None:
        reply = self.call(who, "PATCH", PROFILE, json={"preferences": preferences})
        assert data(reply) == {}


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (168, 168), 128).save(buffer, format="PNG")
    return buffer.getvalue()


def person(http: httpx.Client, stream_id: int, groups: tuple[int, ...]) -> Person:
    username, password = f"web-{secrets.token_hex(4)}", secrets.token_hex(8)
    body = {"username": username, "password": password, "role": "Full user"}
    user_id = int(ok(http.post("/api/users", json=body))["data"]["id"])
    data(http.post(f"/api/streams/{stream_id}/users", json={"user_id": user_id}))
    for group_id in groups:
        data(http.post(f"/api/groups/{group_id}/users", json={"userID": user_id}))
    login = {"username": username, "password": password}
    token = ok(http.post("/api/auth", json=login))["token"]
    return Person(user_id, username, {"Authorization": f"Bearer {token}"})


def post_candidate(settings: Settings, obj_id: str, filter_id: int) -> None:
    """An object as the broker posts it: a pass of ``filter_id`` with a new/ref/sub triplet
    (given in another order than a card shows them)."""
    stamp = png()
    alert = portal_pb2.PassedAlert(
        candid=3_500_000_000_000_000_000 + secrets.randbelow(10**15),
        obj_id=obj_id,
        ra=150.25,
        dec=2.5,
        collection="ZTF_alerts",
        instrument="ZTF",
        thumbnails=[portal_pb2.Thumbnail(type=t, png=stamp) for t in ("sub", "new", "ref")],
        filters=[portal_pb2.PassedFilter(filter_id=filter_id)],
        passed_at=datetime.now(UTC).isoformat(),
    )
    metadata = [("authorization", f"Bearer {service_token(settings.jwt_secret, 'test')}")]
    with grpc.insecure_channel(settings.address("portal")) as channel:
        stub = portal_pb2_grpc.PortalServiceStub(channel)
        stub.PostPasses(portal_pb2.PostPassesRequest(alerts=[alert]), metadata=metadata)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    settings = mesh_settings(
        tmp_path_factory.mktemp("dashboard-run"), admin_password=ADMIN_PASSWORD
    )
    supervisor = stack.up(settings, only=COMPONENTS, in_memory_db=True, report=lambda _: None)
    try:
        http = admin_client(settings)
        public = stream(http, "ZTF Public", "ZTF_alerts", [1])
        group_a, group_a2 = group(http, "A", [public]), group(http, "A2", [public])
        group_b = group(http, "B", [public])
        sitewide = next(
            g["id"]
            for g in data(http.get("/api/groups"))["all_groups"]
            if g["name"] == "Sitewide Group"
        )
        taxonomy = {"name": "dashboard", "version": "1", "hierarchy": HIERARCHY}
        taxonomy_id = data(http.post("/api/taxonomy", json={**taxonomy, "group_ids": [sitewide]}))[
            "taxonomy_id"
        ]
        yield World(
            settings=settings,
            http=http,
            group_a=group_a,
            group_a2=group_a2,
            group_b=group_b,
            filter_a=portal_filter(http, "everything", group_a, public),
            taxonomy_id=taxonomy_id,
            alice=person(http, public, (group_a, group_a2)),
            carol=person(http, public, (group_a,)),
            dave=person(http, public, (group_a,)),
            erin=person(http, public, (group_a, group_a2)),
            frank=person(http, public, (group_a,)),
            bob=person(http, public, (group_b,)),
            viewer=user(http, role="View only", streams=(public,), groups=(group_a,)),
            script=user(http, streams=(public,), groups=(group_a,)),
        )
        http.close()
    finally:
        supervisor.stop_all()


def ids(tag: str, *names: str) -> list[str]:
    return [f"ZTF26{name}{tag}" for name in names]


# ---- source views -----------------------------------------------------------------------------


def test_each_page_opened_is_a_view_and_the_most_viewed_come_first(world: World) -> None:
    v1, v2, v3, vb = ids(secrets.token_hex(3), "va", "vb", "vc", "vd")
    post_candidate(world.settings, v1, world.filter_a)
    world.saved(world.alice, v1, [world.group_a], new=False)
    for obj_id in (v2, v3):
        world.saved(world.alice, obj_id, [world.group_a])
    world.saved(world.bob, vb, [world.group_b])
    world.classify(world.carol, v2, "SN Ia", [world.group_a], probability=0.8)
    for who, obj_id, times in [
        (world.alice, v1, 2),
        (world.carol, v1, 1),
        (world.alice, v2, 2),
        (world.carol, v3, 1),
        (world.bob, vb, 1),
    ]:
        for _ in range(times):
            assert data(world.get(who, f"/api/sources/{obj_id}"))["id"] == obj_id
    # Not views: a script's GETs (an API token), a HEAD, lookups that fail.
    for _ in range(5):
        data(world.get(world.script, f"/api/sources/{v3}"))
    assert world.call(world.alice, "HEAD", f"/api/sources/{v3}").status_code == 200
    assert world.get(world.alice, f"/api/sources/{v3}x").status_code == 404
    assert world.get(world.bob, f"/api/sources/{v1}").status_code == 404

    top = world.read(world.alice, VIEWS)
    assert [(s["obj_id"], s["views"]) for s in top] == [(v1, 3), (v2, 2), (v3, 1)]
    assert all(set(s) == VIEW_KEYS for s in top)
    first, second = top[0], top[1]
    assert (first["ra"], first["dec"], second["ra"], second["dec"]) == (150.25, 2.5, 210.5, -12.25)
    assert [t["type"] for t in first["thumbnails"]] == ["new", "ref", "sub"]
    image = world.get(world.alice, first["thumbnails"][0]["public_url"])
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert second["thumbnails"] == [] and first["classifications"] == []
    assert [c["classification"] for c in second["classifications"]] == ["SN Ia"]

    assert world.read(world.alice, VIEWS, maxNumSources=2) == top[:2]
    # A View only token reads as its user's groups do; another group sees only its own.
    assert world.read(world.viewer, VIEWS) == top
    assert [(s["obj_id"], s["views"]) for s in world.read(world.bob, VIEWS)] == [(vb, 1)]
    admin = {s["obj_id"]: s["views"] for s in data(world.http.get(VIEWS))}
    assert {v1: 3, v2: 2, v3: 1, vb: 1}.items() <= admin.items()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"maxNumSources": "many"}, "Invalid maxNumSources value: 'many' is not an integer."),
        ({"maxNumSources": "0"}, "maxNumSources must be at least 1, not 0."),
        ({"maxNumSources": "1001"}, "maxNumSources should be no larger than 1000."),
        ({"sinceDaysAgo": "-1"}, "sinceDaysAgo must be a number of days from 0 to 36500"),
        ({"sinceDaysAgo": "week"}, "sinceDaysAgo must be a number of days from 0 to 36500"),
    ],
)
def test_bad_view_parameters_are_refused(
    world: World, params: dict[str, str], message: str
) -> None:
    assert refused(world.get(world.alice, VIEWS, **params)).startswith(message)


def test_views_count_within_since_days_ago_or_the_preferred_window(world: World) -> None:
    (obj_id,) = ids(secrets.token_hex(3), "win")
    world.saved(world.dave, obj_id, [world.group_a])
    seconds = 5
    window = str(seconds / 86400)

    def views(**params: str) -> int | None:
        found = {s["obj_id"]: s["views"] for s in world.read(world.dave, VIEWS, **params)}
        return found.get(obj_id)

    for _ in range(2):
        data(world.get(world.dave, f"/api/sources/{obj_id}"))
    assert views(sinceDaysAgo=window) == 2
    assert views(sinceDaysAgo="0") is None
    wait_for(
        lambda: views(sinceDaysAgo=window),
        lambda n: n is None,
        timeout=seconds + 30,
        what=f"the views to fall out of a {seconds} s window",
    )
    data(world.get(world.dave, f"/api/sources/{obj_id}"))
    assert views(sinceDaysAgo=window) == 1
    assert views() == 3  # the last 7 days

    world.prefer(world.dave, {"topSources": {"sinceDaysAgo": 0}})
    assert views() is None
    assert views(sinceDaysAgo="7") == 3  # the query's wins over the preference
    world.prefer(world.dave, {"topSources": None})
    assert views() == 3


# ---- recent sources ---------------------------------------------------------------------------


def test_recent_saves_newest_first_with_resaves_marked(world: World) -> None:
    r1, r2, r3 = ids(secrets.token_hex(3), "ra", "rb", "rc")
    for obj_id in (r1, r2, r3):
        world.saved(world.alice, obj_id, [world.group_a])
    world.saved(world.alice, r1, [world.group_a2], new=False)

    recent = world.read(world.alice, RECENT)
    assert [(s["obj_id"], s["resaved"]) for s in recent[:4]] == [
        (r1, True),
        (r3, False),
        (r2, False),
        (r1, False),
    ]
    assert all(set(s) == RECENT_KEYS for s in recent)
    saves = {g["id"]: g["saved_at"] for g in world.read(world.alice, f"/api/sources/{r1}/groups")}
    assert (recent[0]["created_at"], recent[3]["created_at"]) == (
        saves[world.group_a2],
        saves[world.group_a],
    )
    assert recent[0]["created_at"] > recent[1]["created_at"] > recent[2]["created_at"]
    assert (recent[1]["ra"], recent[1]["dec"]) == (210.5, -12.25)

    assert world.read(world.alice, RECENT, maxNumSources=2) == recent[:2]
    # Carol is in A only: the save to A2 is not hers to see.
    assert [s["obj_id"] for s in world.read(world.carol, RECENT)[:3]] == [r3, r2, r1]
    assert not {r1, r2, r3} & {s["obj_id"] for s in world.read(world.bob, RECENT)}
    world.prefer(world.alice, {"recentSources": {"maxNumSources": 1}})
    assert world.read(world.alice, RECENT) == recent[:1]
    assert world.read(world.alice, RECENT, maxNumSources=3) == recent[:3]
    world.prefer(world.alice, {"recentSources": None})
    message = refused(world.get(world.alice, RECENT, maxNumSources="x"))
    assert message == "Invalid maxNumSources value: 'x' is not an integer."


# ---- the news feed ----------------------------------------------------------------------------


def author(who: Person, is_bot: bool = False) -> dict[str, Any]:
    return {
        "id": who.id,
        "username": who.username,
        "first_name": None,
        "last_name": None,
        "is_bot": is_bot,
    }


def test_the_news_feed_has_comments_classifications_and_saves_newest_first(world: World) -> None:
    n1, n2, nb = ids(secrets.token_hex(3), "na", "nb", "nc")
    alice, carol, a = world.alice, world.carol, world.group_a
    world.saved(alice, n1, [a])
    world.comment(alice, n1, "first look", [a])
    world.classify(carol, n1, "SN Ia", [a], probability=0.9)
    world.saved(alice, n2, [a])
    world.comment(world.script, n2, "a script's note", [a])  # a bot's comment
    world.classify(carol, n2, "TDE", [a], ml=True, probability=0.7)  # a machine's class
    world.comment(carol, n2, "sitewide note")  # to the public group
    world.saved(world.bob, nb, [world.group_b])
    world.saved(alice, nb, [a], new=False)
    world.comment(alice, nb, "for A only", [a])
    world.saved(alice, n1, [world.group_a2], new=False)
    mine = {n1, n2, nb}

    def feed(who: Person, **params: str) -> list[dict[str, Any]]:
        return [i for i in world.read(who, FEED, **params) if i["source_id"] in mine]

    items = feed(world.erin)
    expected = [
        ("source", n1, RESAVE, None, author(alice), "SN Ia"),
        ("comment", nb, "for A only", alice.username, author(alice), None),
        ("source", nb, NEW_SAVE, None, author(alice), None),
        ("comment", n2, "sitewide note", carol.username, author(carol), None),
        ("source", n2, NEW_SAVE, None, author(alice), None),
        (
            "classification",
            n1,
            f"New classification for {n1} added by {carol.username}: SN Ia",
            None,
            author(carol),
            "SN Ia",
        ),
        ("comment", n1, "first look", alice.username, author(alice), "SN Ia"),
        ("source", n1, NEW_SAVE, None, author(alice), "SN Ia"),
    ]
    assert [
        (
            i["type"],
            i["source_id"],
            i["message"],
            i.get("author"),
            i["author_info"],
            i["classification"],
        )
        for i in items
    ] == expected
    times = [i["time"] for i in items]
    assert times == sorted(times, reverse=True) and len(set(times)) == len(times)
    assert {"author"} == set(items[1]) - set(items[0])

    everything = world.read(world.erin, FEED, numItems="1000")
    assert world.read(world.erin, FEED) == everything[:50]
    assert world.read(world.erin, FEED, numItems="3") == everything[:3]
    # Bob (group B) sees his own save of nb, nothing of group A's.
    assert [(i["type"], i["source_id"], i["message"]) for i in feed(world.bob)] == [
        ("source", nb, NEW_SAVE)
    ]
    # Carol (A, not A2) sees all but the save to A2.
    assert [i["message"] for i in feed(world.carol)] == [e[2] for e in expected[1:]]


def test_the_news_feed_follows_the_callers_preferences(world: World) -> None:
    (obj_id,) = ids(secrets.token_hex(3), "pref")
    world.saved(world.alice, obj_id, [world.group_a])
    world.comment(world.script, obj_id, "a script's note", [world.group_a])
    world.comment(world.carol, obj_id, "a person's note", [world.group_a])

    def kinds(**params: str) -> list[tuple[str, str]]:
        found = world.read(world.erin, FEED, **params)
        return [(i["type"], i["message"]) for i in found if i["source_id"] == obj_id]

    person_only = [("comment", "a person's note"), ("source", NEW_SAVE)]
    assert kinds() == person_only
    world.prefer(world.erin, {"newsFeed": {"categories": {"includeCommentsFromBots": True}}})
    assert kinds() == [
        ("comment", "a person's note"),
        ("comment", "a script's note"),
        ("source", NEW_SAVE),
    ]
    bot = next(i for i in world.read(world.erin, FEED) if i["message"] == "a script's note")
    assert (bot["author"], bot["author_info"]["id"]) == (world.script.username, world.script.id)
    world.prefer(world.erin, {"newsFeed": {"categories": {"comments": False}}})
    assert kinds() == [("source", NEW_SAVE)]
    world.prefer(world.erin, {"newsFeed": {"numItems": 2, "categories": None}})
    assert len(world.read(world.erin, FEED)) == 2
    assert len(world.read(world.erin, FEED, numItems="5")) == 5
    world.prefer(world.erin, {"newsFeed": None})
    assert kinds() == person_only


@pytest.mark.parametrize(
    ("num_items", "message"),
    [
        ("1001", "numItems should be no larger than 1000."),
        ("0", "numItems must be at least 1, not 0."),
        ("fifty", "Invalid numItems value: 'fifty' is not an integer."),
    ],
)
def test_bad_news_feed_sizes_are_refused(world: World, num_items: str, message: str) -> None:
    assert refused(world.get(world.alice, FEED, numItems=num_items)) == message


# ---- the profile ------------------------------------------------------------------------------


def test_preferences_merge_key_by_key_and_null_removes(world: World) -> None:
    frank = world.frank
    assert world.read(frank, PROFILE)["preferences"] == {}
    world.prefer(
        frank,
        {
            "newsFeed": {"numItems": 20, "categories": {"comments": False}},
            "theme": "dark",
            "favoriteSourcesListName": "",
        },
    )
    stored = world.read(frank, PROFILE)["preferences"]
    assert stored == {
        "newsFeed": {"numItems": 20, "categories": {"comments": False}},
        "theme": "dark",
        "favoriteSourcesListName": "",
    }
    assert isinstance(stored["newsFeed"]["numItems"], int)
    world.prefer(
        frank,
        {
            "newsFeed": {"categories": {"comments": None, "sources": False}},
            "theme": None,
            "favoriteSourcesListName": None,
            "topSources": {"maxNumSources": 3, "sinceDaysAgo": 1.5},
        },
    )
    assert world.read(frank, PROFILE)["preferences"] == {
        "newsFeed": {"numItems": 20, "categories": {"sources": False}},
        "topSources": {"maxNumSources": 3, "sinceDaysAgo": 1.5},
    }
    # An empty change changes nothing; another user's preferences are their own.
    assert data(world.call(frank, "PATCH", PROFILE, json={})) == {}
    assert world.read(frank, PROFILE)["preferences"]["topSources"]["maxNumSources"] == 3
    assert "topSources" not in world.read(world.carol, PROFILE)["preferences"]


def test_names_and_contact_email_are_the_profiles_too(world: World) -> None:
    body = {"first_name": " Frank ", "last_name": "Drake", "contact_email": "fd@example.org"}
    assert data(world.call(world.frank, "PATCH", PROFILE, json=body)) == {}
    profile = world.read(world.frank, PROFILE)
    assert (profile["first_name"], profile["last_name"], profile["contact_email"]) == (
        "Frank",
        "Drake",
        "fd@example.org",
    )
    data(world.call(world.frank, "PATCH", PROFILE, json={"last_name": "", "contact_email": ""}))
    profile = world.read(world.frank, PROFILE)
    assert (profile["first_name"], profile["last_name"], profile["contact_email"]) == (
        "Frank",
        None,
        "",
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"preferences": ["dark"]}, "preferences must be an object of settings"),
        ({"preferences": "dark"}, "preferences must be an object of settings"),
        ({"preferences": 3}, "preferences must be an object of settings"),
        ({"nickname": "fd"}, "Unknown profile field(s): nickname; a profile has preferences"),
        ({"first_name": 7}, "first_name must be a string, not 7"),
        ({"contact_email": "frank"}, "Email does not appear to be valid"),
        (
            {"preferences": {"notes": "x" * 70_000}},
            "preferences are too large: ",
        ),
    ],
)
def test_bad_profile_changes_are_refused(world: World, body: dict[str, Any], message: str) -> None:
    before = world.read(world.frank, PROFILE)
    assert refused(world.call(world.frank, "PATCH", PROFILE, json=body)).startswith(message)
    assert world.read(world.frank, PROFILE) == before


def test_a_body_that_is_not_an_object_is_refused(world: World) -> None:
    reply = world.call(world.frank, "PATCH", PROFILE, content=b"[1, 2]")
    assert reply.status_code == 400 and reply.json()["status"] == "error"


# ---- who may ----------------------------------------------------------------------------------


def test_every_route_needs_a_token_and_view_only_may_read_not_write(world: World) -> None:
    for path in (VIEWS, RECENT, FEED, PROFILE):
        refused(world.get(None, path), 401)
        assert world.get(world.viewer, path).status_code == 200
    refused(world.call(None, "PATCH", PROFILE, json={"preferences": {}}), 401)
    message = refused(
        world.call(world.viewer, "PATCH", PROFILE, json={"preferences": {"a": 1}}), 401
    )
    assert message == "HTTP 401: Unauthorized: this needs the ACL 'Upload data'"
    assert world.read(world.viewer, PROFILE)["preferences"] == {}
    # A Full user's API token may change its user's preferences.
    assert data(world.call(world.script, "PATCH", PROFILE, json={"preferences": {"a": 1}})) == {}
    assert world.read(world.script, PROFILE)["preferences"] == {"a": 1}
