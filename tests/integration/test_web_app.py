"""The web application in Debian's Chromium, driven by Playwright, against the real mesh.

This module runs a whole mesh of its own (Kafka, the database, PostgreSQL, Triton, every
service, and Envoy serving the built bundle of web/). Before the bundled ZTF alerts stream, a
group "Scanners" gets a filter passing alerts brighter than BRIGHT; its scanner (a Full user
with a password) uses the browser for everything a person does at night: log in, scan, save,
open the source page, comment, classify, make an API token. A member of another group sees
none of it. Every outcome the page shows is also checked through the REST API.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from skymesh import synthetic_lsst
from skymesh.config import Settings
from skymesh.infra import stack
from skymesh.infra.gateway import WEB_BUNDLE
from skymesh.produce import produce_messages, produce_sync
from tests.browser import PHONE, launch, logged_in, plotted_points, screenshot
from tests.conftest import ZTF_DIR, mesh_settings
from tests.polling import wait_for
from tests.portal import User, admin_client, data, group, portal_filter, stream, user

pytestmark = pytest.mark.integration

ADMIN_PASSWORD = "web-test-admin"
BRIGHT = 19.0  # the Scanners' filter passes alerts brighter than this
FILTER_NAME = "bright"


@dataclass
class World:
    settings: Settings
    http: httpx.Client  # the admin's
    base_url: str
    scanners: int  # group id
    others: int
    filter_id: int
    scanner: User  # Full user in Scanners
    outsider: User  # Full user in Others only
    newcomer: User  # Full user in Scanners, who replaces their token on the profile page
    candidates: set[str]  # the objects the Scanners' filter passes

    def get(self, who: User, path: str, **params: Any) -> httpx.Response:
        return self.http.get(path, headers=who.headers, params=params)


def bright_objects(ztf_alerts: dict[int, dict[str, Any]]) -> set[str]:
    """The objects with an alert brighter than BRIGHT, from the bundled packets alone."""
    return {p["objectId"] for p in ztf_alerts.values() if p["candidate"]["magpsf"] < BRIGHT}


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, ztf_alerts: dict[int, dict[str, Any]]
) -> Iterator[World]:
    assert (WEB_BUNDLE / "index.html").is_file(), "the web bundle is missing: run `make web`"
    settings = mesh_settings(
        tmp_path_factory.mktemp("web-run"), admin_password=ADMIN_PASSWORD, kafka_group_id="web"
    )
    supervisor = stack.up(settings, in_memory_db=True, report=lambda _: None)
    try:
        http = admin_client(settings)
        public = stream(http, "ZTF Public", "ZTF_alerts", [1])
        scanners = group(http, "Scanners", [public])
        others = group(http, "Others", [public])
        filter_id = portal_filter(http, FILTER_NAME, scanners, public)
        pipeline = [
            {"$match": {"candidate.magpsf": {"$lt": BRIGHT}}},
            {"$project": {"annotations": {"magpsf": "$candidate.magpsf", "drb": "$candidate.drb"}}},
        ]
        body = {"filter_id": filter_id, "group_id": scanners, "pipeline": pipeline}
        data(http.post("/api/filters", json=body))
        world = World(
            settings=settings,
            http=http,
            base_url=f"http://127.0.0.1:{settings.ports.gateway}",
            scanners=scanners,
            others=others,
            filter_id=filter_id,
            scanner=user(http, streams=(public,), groups=(scanners,)),
            outsider=user(http, streams=(public,), groups=(others,)),
            newcomer=user(http, streams=(public,), groups=(scanners,)),
            candidates=bright_objects(ztf_alerts),
        )
        for night in sorted(p for p in ZTF_DIR.iterdir() if p.is_dir()):
            files = sorted(night.glob("*.avro"))
            produce_sync(files, f"ztf_{night.name}_programid1", settings.kafka_bootstrap, True)

        def passed() -> int:
            query = {"filterIDs": str(filter_id), "startDate": "2000-01-01"}
            return data(world.get(world.scanner, "/api/candidates", **query))["totalMatches"]

        wait_for(passed, lambda n: n == len(world.candidates), 180, "the Scanners' candidates")
        yield world
        http.close()
    finally:
        supervisor.stop_all()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()


def scanner_page(world: World, browser: Browser, viewport: dict | None = None):
    return logged_in(
        browser, world.base_url, world.scanner.username, world.scanner.password, viewport
    )


def shown_candidates(page: Page) -> set[str]:
    cards = page.get_by_role("article")
    expect(cards.first).to_be_visible()
    return {name.strip() for name in cards.locator("h2").all_inner_texts()}


def test_the_gateway_serves_the_application_to_browsers_and_the_api_to_scripts(
    world: World,
) -> None:
    page = httpx.get(world.base_url + "/", headers={"Accept": "text/html"})
    assert page.status_code == 200 and '<div id="root">' in page.text
    deep_link = httpx.get(world.base_url + "/source/ZTF20aaaaaaa", headers={"Accept": "text/html"})
    assert deep_link.status_code == 200 and deep_link.text == page.text
    script = re.search(r'src="(/assets/[^"]+\.js)"', page.text)
    assert script, page.text
    asset = httpx.get(world.base_url + script.group(1))
    assert asset.status_code == 200
    assert asset.headers["content-type"].startswith("text/javascript")
    assert "immutable" in asset.headers["cache-control"]
    # Kowalski's GET / stays the API's (a script asking for JSON), and needs a token.
    assert httpx.get(world.base_url + "/").status_code == 401
    missing = httpx.get(world.base_url + "/api/no-such-route", headers={"Accept": "text/html"})
    assert missing.status_code == 404 and missing.json()["status"] == "error"


def test_login_refuses_a_wrong_password_with_the_servers_message(
    world: World, browser: Browser
) -> None:
    context = browser.new_context(base_url=world.base_url)
    page = context.new_page()
    try:
        page.goto("/candidates")
        expect(page).to_have_url(re.compile(r"/login$"))
        page.get_by_label("Username").fill(world.scanner.username)
        page.get_by_label("Password").fill("not-the-password")
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("alert")).to_contain_text("password")
        expect(page.get_by_role("navigation", name="Main")).to_have_count(0)
    finally:
        context.close()


def test_scanning_shows_the_candidates_the_bundled_alerts_produced(
    world: World, browser: Browser
) -> None:
    with scanner_page(world, browser) as page:
        page.get_by_role("link", name="Scanning").click()
        total = len(world.candidates)
        expect(page.get_by_role("status").filter(has_text="candidates")).to_contain_text(
            f"{total} candidates"
        )
        assert shown_candidates(page) == world.candidates
        first = page.get_by_role("article").first
        expect(first.get_by_role("img", name=re.compile("^New image"))).to_be_visible()
        expect(first.locator("caption")).to_contain_text(f":{FILTER_NAME}")
        assert plotted_points(page, "article") > 0
        screenshot(page, "scanning")
    with scanner_page(world, browser, PHONE) as phone:
        phone.goto("/candidates")
        shown_candidates(phone)
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the page scrolls sideways at phone width: {width}px"
        screenshot(phone, "scanning-phone")


def test_saving_a_candidate_from_the_scanning_page(world: World, browser: Browser) -> None:
    with scanner_page(world, browser) as page:
        page.goto("/candidates")
        card = page.get_by_role("article").first
        obj_id = card.locator("h2").inner_text().strip()
        card.get_by_role("button", name="Save", exact=True).click()
        dialog = page.get_by_role("dialog")
        scanners = data(world.http.get(f"/api/groups/{world.scanners}"))["name"]
        # Preset from the groups whose filters passed it.
        expect(dialog.get_by_label(scanners)).to_be_checked()
        dialog.get_by_role("button", name="Save to selected groups").click()
        expect(dialog).to_have_count(0)
        saved_card = page.get_by_role("article").filter(has=page.get_by_text(obj_id, exact=True))
        expect(saved_card.get_by_text(f"saved to {scanners}")).to_be_visible()
    source = data(world.get(world.scanner, f"/api/sources/{obj_id}"))
    assert [g["id"] for g in source["groups"]] == [world.scanners]


def test_rejecting_hides_a_candidate_until_undone(world: World, browser: Browser) -> None:
    with scanner_page(world, browser) as page:
        page.goto("/candidates")
        card = page.get_by_role("article").last
        obj_id = card.locator("h2").inner_text().strip()
        card.get_by_role("button", name="Reject").click()
        wait_for(
            lambda: [r["obj_id"] for r in data(world.get(world.scanner, "/api/listing"))],
            lambda ids: obj_id in ids,
            10,
            "the rejection to be listed",
        )
        page.reload()
        expect(page.get_by_role("status").filter(has_text="candidates")).to_contain_text(
            f"{len(world.candidates) - 1} candidates"
        )
        assert obj_id not in shown_candidates(page)
        page.get_by_label("Hide rejected").uncheck()
        page.get_by_role("button", name="Search").click()
        card = page.get_by_role("article").filter(has=page.get_by_text(obj_id, exact=True))
        card.get_by_role("button", name="Undo reject").click()
        expect(card.get_by_role("button", name="Reject")).to_be_visible()
    rows = data(world.get(world.scanner, "/api/listing", listName="rejected_candidates"))
    assert obj_id not in [r["obj_id"] for r in rows]


def test_a_token_made_on_the_profile_page_works_with_curl(world: World, browser: Browser) -> None:
    """A Full user may hold one token: the page says so, the old one is revoked on the page,
    and the new one (with the ACL chosen) answers for the user."""
    who = world.newcomer
    with logged_in(browser, world.base_url, who.username, who.password) as page:
        page.get_by_role("link", name="Profile").click()
        page.get_by_label("Token name").fill("from the browser")
        page.get_by_label("Comment", exact=True).check()
        page.get_by_role("button", name="Create token").click()
        expect(page.get_by_role("alert")).to_contain_text("maximum number of tokens")
        page.get_by_role("button", name="Revoke token test").click()
        expect(page.get_by_role("button", name="Revoke token test")).to_have_count(0)
        page.get_by_role("button", name="Create token").click()
        token = page.locator("code.new-token").inner_text().strip()
        expect(page.get_by_role("row").filter(has_text="from the browser")).to_contain_text(
            "Comment"
        )
    curl = subprocess.run(
        [
            "curl",
            "-sS",
            "-H",
            f"Authorization: token {token}",
            f"{world.base_url}/api/internal/profile",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert json.loads(curl.stdout)["data"]["username"] == who.username
    revoked = httpx.get(f"{world.base_url}/api/internal/profile", headers=who.headers)
    assert revoked.status_code == 401
    mine = {"Authorization": f"token {token}"}
    tokens = data(httpx.get(f"{world.base_url}/api/internal/tokens", headers=mine))
    assert [(t["name"], t["acls"]) for t in tokens if t["id"] == token] == [
        ("from the browser", ["Comment"])
    ]


def saved_object(world: World) -> str:
    """An object the scanner saved to Scanners (through the REST API if no test did yet)."""
    saved = data(world.get(world.scanner, "/api/sources", group_ids=str(world.scanners)))
    if saved["sources"]:
        return saved["sources"][0]["id"]
    obj_id = sorted(world.candidates)[0]
    body = {"id": obj_id, "group_ids": [world.scanners]}
    data(world.http.post("/api/sources", headers=world.scanner.headers, json=body))
    return obj_id


def drawable_photometry(world: World, obj_id: str) -> int:
    """The object's photometry rows a light curve draws: a magnitude or a limit."""
    rows = data(world.get(world.scanner, f"/api/sources/{obj_id}/photometry"))
    return sum(1 for r in rows if r["mag"] is not None or r["limiting_mag"] is not None)


def a_class_of_the_taxonomy(world: World) -> tuple[int, str]:
    taxonomy = data(world.get(world.scanner, "/api/taxonomy"))[0]
    leaves = []

    def visit(node: dict[str, Any]) -> None:
        if not node.get("subclasses"):
            leaves.append(node["class"])
        for child in node.get("subclasses", []):
            visit(child)

    visit(taxonomy["hierarchy"])
    return taxonomy["id"], leaves[len(leaves) // 2]


def test_the_source_page_shows_cutouts_light_curve_and_annotation(
    world: World, browser: Browser
) -> None:
    obj_id = saved_object(world)
    with scanner_page(world, browser) as page:
        page.goto(f"/source/{obj_id}")
        expect(page.get_by_role("heading", level=1)).to_have_text(obj_id)
        cutouts = page.get_by_role("region", name="Cutouts").get_by_role("img")
        expect(cutouts).to_have_count(3)
        for image in cutouts.all():
            expect(image).to_have_js_property("complete", True)
            assert image.evaluate("img => img.naturalWidth") == 168
        photometry = page.get_by_role("region", name="Photometry")
        expect(photometry.locator(".js-plotly-plot")).to_be_attached()
        assert plotted_points(page, ".source-photometry") == drawable_photometry(world, obj_id)
        annotations = page.get_by_role("region", name="Annotations")
        expect(annotations.locator("caption")).to_contain_text(f":{FILTER_NAME}")
        expect(annotations.get_by_role("rowheader", name="magpsf")).to_be_visible()
        history = page.get_by_role("region", name="Candidate history")
        expect(history).to_contain_text(FILTER_NAME)
        screenshot(page, "source")


def test_a_comment_and_a_classification_posted_on_the_page_are_there_after_reload(
    world: World, browser: Browser
) -> None:
    obj_id = saved_object(world)
    taxonomy_id, classification = a_class_of_the_taxonomy(world)
    text = f"Rising fast; worth a spectrum ({obj_id})"
    with scanner_page(world, browser) as page:
        page.goto(f"/source/{obj_id}")
        comments = page.get_by_role("region", name="Comments")
        comments.get_by_label("Comment", exact=True).fill(text)
        comments.get_by_role("button", name="Post comment").click()
        expect(comments.get_by_text(text)).to_be_visible()
        classifications = page.get_by_role("region", name="Classifications")
        classifications.get_by_label("Class", exact=True).select_option(value=classification)
        classifications.get_by_role("button", name="Add classification").click()
        expect(classifications.get_by_text(classification, exact=True).first).to_be_visible()
        page.reload()
        expect(page.get_by_role("region", name="Comments").get_by_text(text)).to_be_visible()
        expect(
            page.get_by_role("region", name="Classifications")
            .get_by_text(classification, exact=True)
            .first
        ).to_be_visible()
        page.get_by_role("link", name="Dashboard").click()
        news = page.get_by_role("region", name="News feed")
        expect(news.get_by_text(text)).to_be_visible()
    posted = data(world.get(world.scanner, f"/api/sources/{obj_id}/comments"))
    assert [c["text"] for c in posted if c["author"]["id"] == world.scanner.id] == [text]
    classes = data(world.get(world.scanner, f"/api/sources/{obj_id}/classifications"))
    mine = [c for c in classes if c["author_id"] == world.scanner.id]
    assert [(c["classification"], c["taxonomy_id"]) for c in mine] == [
        (classification, taxonomy_id)
    ]


def test_a_member_of_another_group_sees_none_of_it(world: World, browser: Browser) -> None:
    obj_id = saved_object(world)
    who = world.outsider
    with logged_in(browser, world.base_url, who.username, who.password) as page:
        page.goto("/candidates?start=2000-01-01T00:00:00")
        expect(page.get_by_role("status").filter(has_text="candidates")).to_contain_text(
            "0 candidates"
        )
        expect(page.get_by_role("article")).to_have_count(0)
        page.goto("/sources")
        expect(page.get_by_role("region", name="Search results")).to_contain_text("0 sources")
        page.goto(f"/source/{obj_id}")
        expect(page.get_by_role("alert").first).to_be_visible()
        expect(page.get_by_role("region", name="Cutouts")).to_have_count(0)
        expect(page.get_by_text("Rising fast")).to_have_count(0)
        page.get_by_role("link", name="Dashboard").click()
        expect(page.get_by_role("region", name="Recently saved")).to_contain_text(
            "Nothing saved to your groups yet."
        )
        expect(page.get_by_role("region", name="News feed")).to_contain_text(
            "No news in your groups."
        )
    assert world.get(who, f"/api/sources/{obj_id}").status_code in (403, 404)


def test_the_filter_editor_shows_the_servers_error_for_an_invalid_stage(
    world: World, browser: Browser
) -> None:
    """The admin edits the Scanners' filter: a stage the engine does not know is refused by the
    server with its reason shown under the editor, and no version is made."""
    versions_before = data(world.http.get(f"/api/filters/{world.filter_id}"))
    settings = world.settings
    with logged_in(browser, world.base_url, settings.admin_user, settings.admin_password) as page:
        page.goto(f"/filter/{world.filter_id}")
        expect(page.get_by_role("heading", level=1)).to_contain_text(FILTER_NAME)
        editor = page.get_by_label("Pipeline (JSON)")
        expect(editor).to_contain_text("$match")
        editor.fill('[{"$match": {"candidate.magpsf": {"$lt": 18}}}, {"$notAStage": {}}]')
        page.get_by_role("button", name="Save as new version").click()
        expect(page.get_by_role("alert").filter(has_text="$notAStage")).to_contain_text(
            "unsupported stage $notAStage in stage 2"
        )
        screenshot(page, "filter-error")
    assert data(world.http.get(f"/api/filters/{world.filter_id}")) == versions_before


def test_the_alert_archive_shows_every_alert_of_an_object(
    world: World, browser: Browser, ztf_alerts: dict[int, dict[str, Any]]
) -> None:
    per_object: dict[str, list[int]] = {}
    for packet in ztf_alerts.values():
        per_object.setdefault(packet["objectId"], []).append(packet["candid"])
    obj_id = max(per_object, key=lambda name: (len(per_object[name]), name))
    with scanner_page(world, browser) as page:
        page.get_by_role("link", name="Alerts").click()
        page.get_by_label("Survey").select_option("ZTF_alerts")
        page.get_by_label("Object id or candid").fill(obj_id)
        page.get_by_role("button", name="Search alerts").click()
        expect(page.get_by_role("heading", level=2, name=obj_id)).to_be_visible()
        count = len(per_object[obj_id])
        expect(page.get_by_role("heading", level=3, name=f"Alerts ({count})")).to_be_visible()
        for candid in per_object[obj_id]:
            expect(page.get_by_text(str(candid), exact=True).first).to_be_visible()


def test_the_alert_archive_shows_an_lsst_object_by_its_numeric_id(
    world: World, browser: Browser
) -> None:
    """Rubin's object ids are digits, like candids: the explorer finds the object, lists its
    alerts in Rubin's bands and plots each detection once (its history repeats them)."""
    objects = synthetic_lsst.objects(1, seed=21)
    messages = synthetic_lsst.messages(1, 3, seed=21)
    # In a thread of its own: the browser fixture's Playwright runs an event loop here.
    with ThreadPoolExecutor(1) as pool:
        bootstrap = world.settings.kafka_bootstrap
        produce = produce_messages(messages, synthetic_lsst.LSST_TOPIC, bootstrap)
        pool.submit(asyncio.run, produce).result()
    obj_id = str(objects[0].dia_object_id)
    query = {"query_type": "count_documents", "query": {"catalog": "LSST_alerts", "filter": {}}}
    wait_for(
        # An error (no such catalog) until the first LSST alert is archived.
        lambda: world.http.post("/api/queries", json=query).json().get("data"),
        lambda n: n == 3,
        60,
        "the LSST alerts to be archived",
    )
    with scanner_page(world, browser) as page:
        page.get_by_role("link", name="Alerts").click()
        page.get_by_label("Survey").select_option("LSST_alerts")
        page.get_by_label("Object id or candid").fill(obj_id)
        page.get_by_role("button", name="Search alerts").click()
        expect(page.get_by_role("heading", level=2, name=obj_id)).to_be_visible()
        expect(page.get_by_role("heading", level=3, name="Alerts (3)")).to_be_visible()
        expect(page.get_by_text("lsstu", exact=True).first).to_be_visible()
        assert plotted_points(page, ".alert-object") == 3
