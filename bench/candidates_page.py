"""The scanning list on a large table: GET /api/candidates latency, first and later pages.

Starts PostgreSQL, the portal and Envoy on free loopback ports, makes 4 groups, a stream and a
Full user in two of the groups through REST, then fills the portal's database with COPY:
8 filters (2 per group), 60,000 objects and about 150,000 candidates passed over 30 days, with
saves, filter annotations, classifications and the user's rejected candidates. It then times
GET /api/candidates through the gateway as that user, for a few parameter combinations:
- the first page: the ordered ids are computed (and cached under a new queryID);
- a later page with that queryID: only the page's objects are read;
- the same later page without a queryID: the ordered ids are computed again.
Figures, not assertions: the median of a few runs of each.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from skymesh.config import Ports, Settings
from skymesh.infra import stack
from skymesh.infra.process import free_port

COMPONENTS = ("postgres", "portal", "gateway")
OBJECTS = 60_000
FILTERS_PER_GROUP = 2
GROUPS = ("A", "B", "C", "D")
DAYS = 30
SEED = 20261205
RUNS = 5
LATER_PAGE = 20
NOW = datetime.now(UTC)
# The query string of each measured case (the member reads groups A and B).
CASES: dict[str, dict[str, str]] = {
    "default (both groups, all time)": {},
    "group A, last 7 days": {"startDate": (NOW - timedelta(days=7)).isoformat()},
    "not saved to any accessible group": {"savedStatus": "notSavedToAnyAccessible"},
    "sorted by an annotation (drb desc)": {
        "sortByAnnotationOrigin": "A:fA0",
        "sortByAnnotationKey": "drb",
        "sortByAnnotationOrder": "desc",
    },
    "annotation range + classificationsReject + listNameReject": {
        "annotationFilterList": json.dumps(
            {"origin": "A:fA0", "key": "drb", "min": 0.5, "max": 1}, separators=(",", ":")
        ),
        "classificationsReject": "AGN",
        "listNameReject": "rejected_candidates",
    },
    "100 per page": {"numPerPage": "100"},
}


def mesh_settings(run_dir: Path) -> Settings:
    ports = Ports(**{name: free_port() for name in Ports.__dataclass_fields__})
    return stack.with_secret(replace(Settings.from_env(), ports=ports, run_dir=run_dir))


def ok(response: httpx.Response) -> Any:
    if response.status_code != 200:
        raise SystemExit(f"{response.request.method} {response.request.url}: {response.text}")
    return response.json()["data"]


def make_people(http: httpx.Client) -> dict[str, Any]:
    """A stream, the groups and a Full user in A and B with a token, through REST."""
    altdata = {"collection": "ZTF_alerts", "selector": [1]}
    stream_id = ok(http.post("/api/streams", json={"name": "bench", "altdata": altdata}))["id"]
    admin_id = ok(http.get("/api/internal/profile"))["id"]
    ok(http.post(f"/api/streams/{stream_id}/users", json={"user_id": admin_id}))
    groups = {}
    for name in GROUPS:
        groups[name] = ok(http.post("/api/groups", json={"name": name}))["id"]
        ok(http.post(f"/api/groups/{groups[name]}/streams", json={"stream_id": stream_id}))
    body = {"username": "scanner", "password": "scanner-password", "role": "Full user"}
    user_id = int(ok(http.post("/api/users", json=body))["id"])
    ok(http.post(f"/api/streams/{stream_id}/users", json={"user_id": user_id}))
    for name in ("A", "B"):
        ok(http.post(f"/api/groups/{groups[name]}/users", json={"userID": user_id}))
    token = ok(
        http.post(
            "/api/internal/tokens",
            json={"name": "bench", "acls": ["Upload data"], "user_id": user_id},
        )
    )["token_id"]
    return {"stream_id": stream_id, "groups": groups, "user_id": user_id, "token": token}


async def fill(settings: Settings, people: dict[str, Any]) -> dict[str, int]:
    """Filters, objects, candidates, saves, annotations, classifications and listings, with
    COPY; returns the row counts."""
    rng = random.Random(SEED)
    dsn = settings.postgres_dsn.replace("postgresql+asyncpg", "postgresql")
    db = await asyncpg.connect(dsn)
    try:
        author = await db.fetchval("select id from users where username = $1", "admin")
        filters: list[tuple[int, int, str]] = []  # (filter id, group id, origin)
        for name, group_id in people["groups"].items():
            for index in range(FILTERS_PER_GROUP):
                filter_name = f"f{name}{index}"
                filter_id = await db.fetchval(
                    "insert into filters (name, group_id, stream_id, created_at)"
                    " values ($1, $2, $3, now()) returning id",
                    filter_name,
                    group_id,
                    people["stream_id"],
                )
                filters.append((filter_id, group_id, f"{name}:{filter_name}"))
        taxonomy = await db.fetchval(
            "insert into taxonomies (name, version, hierarchy, is_latest, created_at)"
            " values ('bench', '1', '{}'::jsonb, true, now()) returning id"
        )
        objs, candidates, sources, annotations, links = [], [], [], [], []
        classifications, classification_links, listings = [], [], []
        candid = 2_000_000_000_000_000_000
        for number in range(OBJECTS):
            obj_id = f"ZTF26{number:07d}"
            created = NOW - timedelta(days=rng.uniform(0, DAYS))
            redshift = rng.uniform(0, 0.3) if rng.random() < 0.2 else None
            objs.append(
                (obj_id, rng.uniform(0, 360), rng.uniform(-30, 90), redshift, rng.random(),
                 "bench", created, created)
            )  # fmt: skip
            passed = rng.sample(filters, rng.choice((1, 1, 2, 3, 4)))
            for filter_id, _, _ in passed:
                when = created + timedelta(hours=rng.uniform(0, 48))
                candid += 1
                candidates.append((obj_id, filter_id, when, candid, author, when))
            _, first_group, origin = passed[0]
            if rng.random() < 0.4:
                annotation_id = len(annotations) + 1
                data = {"drb": round(rng.random(), 4), "magpsf": round(rng.uniform(15, 21), 2)}
                annotations.append(
                    (annotation_id, obj_id, origin, json.dumps(data), author, created, created)
                )
                links.append((annotation_id, first_group))
            if rng.random() < 0.1:
                sources.append((obj_id, first_group, author, created, True, False))
            if rng.random() < 0.05:
                classification_id = len(classifications) + 1
                name = rng.choice(("SN Ia", "SN II", "AGN", "CV"))
                classifications.append(
                    (classification_id, obj_id, name, taxonomy, 1.0, False, author, created,
                     created)
                )  # fmt: skip
                classification_links.append((classification_id, first_group))
            if rng.random() < 0.02:
                listings.append((people["user_id"], obj_id, "rejected_candidates", created))
        await copy(db, "objs", objs, "id ra dec redshift score origin created_at modified")
        await copy(
            db,
            "candidates",
            candidates,
            "obj_id filter_id passed_at passing_alert_id uploader_id created_at",
        )
        await copy(db, "sources", sources, "obj_id group_id saved_by_id saved_at active requested")
        await copy(
            db,
            "annotations",
            annotations,
            "id obj_id origin data author_id created_at modified",
        )
        await copy(db, "annotation_groups", links, "annotation_id group_id")
        await copy(
            db,
            "classifications",
            classifications,
            "id obj_id classification taxonomy_id probability ml author_id created_at modified",
        )
        await copy(db, "classification_groups", classification_links, "classification_id group_id")
        await copy(db, "listings", listings, "user_id obj_id list_name created_at")
        for table in ("annotations", "classifications"):
            await db.execute(
                f"select setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (select max(id) from {table}))"
            )
        await db.execute("analyze")
    finally:
        await db.close()
    return {
        "objects": len(objs),
        "candidates": len(candidates),
        "sources": len(sources),
        "annotations": len(annotations),
        "classifications": len(classifications),
        "listings": len(listings),
    }


async def copy(db: asyncpg.Connection, table: str, rows: list[tuple], columns: str) -> None:
    await db.copy_records_to_table(table, records=rows, columns=columns.split())


def timed(http: httpx.Client, headers: dict[str, str], params: dict[str, str]) -> tuple[float, Any]:
    started = time.perf_counter()
    answer = ok(http.get("/api/candidates", headers=headers, params=params))
    return (time.perf_counter() - started) * 1000, answer


def measure(http: httpx.Client, headers: dict[str, str], groups: dict[str, int]) -> None:
    print(f"{'case':<60} {'matches':>8} {'first':>9} {'later+qid':>10} {'later':>9}")
    for case, params in CASES.items():
        if case.startswith("group A"):
            params = {**params, "groupIDs": str(groups["A"])}
        timed(http, headers, params)  # warm the portal's and PostgreSQL's caches
        first, later_cached, later = [], [], []
        for _ in range(RUNS):
            ms, answer = timed(http, headers, params)
            first.append(ms)
            pages = max(1, -(-answer["totalMatches"] // answer["numPerPage"]))
            page = str(min(LATER_PAGE, pages))
            query = {**params, "pageNumber": page, "queryID": answer["queryID"]}
            later_cached.append(timed(http, headers, query)[0])
            later.append(timed(http, headers, {**params, "pageNumber": page})[0])
        print(
            f"{case:<60} {answer['totalMatches']:>8} {statistics.median(first):>7.0f}ms"
            f" {statistics.median(later_cached):>8.0f}ms {statistics.median(later):>7.0f}ms",
            flush=True,
        )


def browser_first_page(gateway: str) -> None:
    """The scanning page in Chromium as the scanner: from navigation to the first card drawn
    (the bundle served by the gateway, as people get it; these objects have no photometry)."""
    from playwright.sync_api import sync_playwright

    from skymesh.infra.gateway import WEB_BUNDLE
    from tests.browser import launch, logged_in

    if not (WEB_BUNDLE / "index.html").is_file():
        print("web bundle missing (make web): browser figure skipped")
        return
    with sync_playwright() as playwright:
        browser = launch(playwright)
        with logged_in(browser, gateway, "scanner", "scanner-password") as page:
            times = []
            for _ in range(RUNS + 1):
                started = time.perf_counter()
                page.goto("/candidates?start=2000-01-01T00:00:00")
                page.get_by_role("article").first.wait_for(timeout=30_000)
                times.append((time.perf_counter() - started) * 1000)
            shown = page.locator("article").count()
        browser.close()
    print(
        f"scanning page in Chromium, {shown} cards, from navigation to the first card: "
        f"median {statistics.median(times[1:]):.0f} ms (first load {times[0]:.0f} ms)",
        flush=True,
    )


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="skymesh-bench-") as tmp:
        settings = mesh_settings(Path(tmp) / "run")
        supervisor = stack.up(settings, only=COMPONENTS, report=lambda _: None)
        try:
            gateway = f"http://127.0.0.1:{settings.ports.gateway}"
            login = {"username": settings.admin_user, "password": settings.admin_password}
            jwt = httpx.post(f"{gateway}/api/auth", json=login).json()["token"]
            admin = {"Authorization": f"Bearer {jwt}"}
            with httpx.Client(base_url=gateway, headers=admin, timeout=120) as http:
                people = make_people(http)
                started = time.perf_counter()
                counts = asyncio.run(fill(settings, people))
                print(
                    "filled in "
                    f"{time.perf_counter() - started:.1f} s: "
                    + ", ".join(f"{v:,} {k}" for k, v in counts.items()),
                    flush=True,
                )
                member = {"Authorization": f"token {people['token']}"}
                print(
                    f"GET /api/candidates as a member of 2 of 4 groups; median of {RUNS} runs; "
                    f"later = page {LATER_PAGE} (or the last)"
                )
                measure(http, member, people["groups"])
                browser_first_page(gateway)
        finally:
            supervisor.stop_all()
