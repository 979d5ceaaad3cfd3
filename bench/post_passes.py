"""The portal's PostPasses: SQL statements and time of one broker batch, in the portal's code.

Starts PostgreSQL on a free loopback port, migrates and seeds it as the portal does when it
starts, and makes 3 groups with a filter each on one stream. Then it calls ``post_passes`` in
this process with the portal's own engine, in one transaction as the PostPasses handler does,
for three batches:
- 256 alerts of new objects, each passing the 3 filters with annotations, with 30 photometry
  points and the new/ref/sub thumbnails of a bundled alert;
- the same batch again (re-delivered);
- the objects' next alerts: one new point each, new annotations (the first filter updates
  annotations), no thumbnails (the broker sends them only for objects without any).
It reports the SQL statements sent (SQLAlchemy's before_cursor_execute), the wall time and
this process's CPU time of each, the median of a few runs on fresh objects.
Figures, not assertions.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import fastavro
from sqlalchemy import event, insert

from bench import procstat
from services.broker.surveys.ztf import ZTF
from services.portal import passes
from services.portal.db.models import Filter, Group, Stream
from services.portal.service import PortalServicer
from skymesh.config import REPO_ROOT, Ports, Settings
from skymesh.infra import stack
from skymesh.infra.process import free_port
from skymesh.portal.v1 import portal_pb2

ALERTS = 256
POINTS = 30
RUNS = 5
SEED = 20261210
CANDID = 3_000_000_000_000_000_000


def mesh_settings(run_dir: Path) -> Settings:
    ports = Ports(**{name: free_port() for name in Ports.__dataclass_fields__})
    return stack.with_secret(replace(Settings.from_env(), ports=ports, run_dir=run_dir))


def stamps() -> dict[str, bytes]:
    """The new/ref/sub thumbnails of a bundled ZTF alert, rendered as the broker renders them."""
    path = sorted((REPO_ROOT / "data" / "alerts" / "ztf").rglob("*.avro"))[0]
    with path.open("rb") as fh:
        (packet,) = list(fastavro.reader(fh))
    return ZTF(topic_pattern="").thumbnails(packet)


def batch(
    rng: random.Random,
    run: int,
    filter_ids: list[int],
    pngs: dict[str, bytes],
    candid: int,
    points: int,
    thumbnails: bool,
) -> list[portal_pb2.PassedAlert]:
    """One broker batch: an alert of each of ALERTS objects (run ``run``'s own)."""
    alerts = []
    for number in range(ALERTS):
        ra, dec = rng.uniform(0, 360), rng.uniform(-30, 90)
        photometry = [
            portal_pb2.PhotometryPoint(
                mjd=60000.0 + i + number / 1000,
                flux=100.0 + i if i % 3 else None,
                fluxerr=5.0 + number / 1000,
                zp=23.9,
                filter=("ztfg", "ztfr", "ztfi")[i % 3],
                magsys="ab",
                ra=ra,
                dec=dec,
                programid=1,
            )
            for i in range(points)
        ]
        annotations = {"drb": round(rng.random(), 4), "magpsf": round(rng.uniform(15, 21), 2)}
        alerts.append(
            portal_pb2.PassedAlert(
                candid=candid + number,
                obj_id=f"ZTF26b{run:02d}{number:05d}",
                ra=ra,
                dec=dec,
                score=rng.random(),
                collection="ZTF_alerts",
                instrument="ZTF",
                photometry=photometry,
                thumbnails=[portal_pb2.Thumbnail(type=t, png=png) for t, png in pngs.items()]
                if thumbnails
                else [],
                filters=[
                    portal_pb2.PassedFilter(
                        filter_id=filter_id,
                        annotations_json=json.dumps(annotations),
                        update_annotations=index == 0,
                    )
                    for index, filter_id in enumerate(filter_ids)
                ],
                passed_at=datetime.now(UTC).isoformat(),
            )
        )
    return alerts


async def seed(portal: PortalServicer) -> list[int]:
    """3 groups with a filter each, on one ZTF stream; -> the filter ids."""
    async with portal.tx() as session:
        stream_id = await session.scalar(
            insert(Stream)
            .values(name="bench", altdata={"collection": "ZTF_alerts", "selector": [1]})
            .returning(Stream.id)
        )
        filter_ids = []
        for name in ("A", "B", "C"):
            group_id = await session.scalar(
                insert(Group).values(name=f"bench {name}").returning(Group.id)
            )
            filter_ids.append(
                await session.scalar(
                    insert(Filter)
                    .values(name=f"f{name}", group_id=group_id, stream_id=stream_id)
                    .returning(Filter.id)
                )
            )
    return filter_ids


class Statements:
    """Counts what the engine sends to PostgreSQL (an executemany counts once)."""

    def __init__(self, portal: PortalServicer) -> None:
        self.count = 0
        event.listen(portal.engine.sync_engine, "before_cursor_execute", self.seen)

    def seen(self, *_: Any) -> None:
        self.count += 1


async def post(
    portal: PortalServicer,
    statements: Statements,
    alerts: list[portal_pb2.PassedAlert],
    postgres: dict[str, int],
) -> tuple[int, float, float, float, passes.Posted]:
    """-> (statements, wall ms, CPU ms here, PostgreSQL's CPU ms, counts) of one PostPasses
    transaction."""
    before = statements.count
    database = procstat.usage(postgres)
    wall, cpu = time.perf_counter(), time.process_time()
    async with portal.tx() as session:
        posted = await passes.post_passes(session, alerts, portal.broker_user_id)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    database_ms = 1000 * procstat.cpu_between(database, procstat.usage(postgres))["postgres"]
    return statements.count - before, wall * 1000, cpu * 1000, database_ms, posted


async def measure(settings: Settings, postgres: dict[str, int]) -> None:
    portal = PortalServicer(settings)
    await portal.start()
    try:
        filter_ids = await seed(portal)
        statements = Statements(portal)
        rng = random.Random(SEED)
        pngs = stamps()
        figures: dict[str, list[tuple[int, float, float, float, passes.Posted]]] = {}
        # A warm-up run (connections, statement caches), not reported.
        for run in range(RUNS + 1):
            candid = CANDID + run * 10 * ALERTS
            first = batch(rng, run, filter_ids, pngs, candid, POINTS, thumbnails=True)
            later = batch(rng, run, filter_ids, pngs, candid + ALERTS, POINTS + 1, thumbnails=False)
            # The later alerts' photometry is the first's plus one point.
            point = {"mjd": 60100.0, "flux": 120.0, "fluxerr": 5.0, "zp": 23.9, "filter": "ztfr"}
            for old, new in zip(first, later, strict=True):
                del new.photometry[:]
                new.photometry.extend(old.photometry)
                new.photometry.add(**point, magsys="ab", programid=1)
            for name, alerts in (
                ("new objects", first),
                ("the same batch re-delivered", first),
                ("the objects' next alerts", later),
            ):
                figure = await post(portal, statements, alerts, postgres)
                if run:
                    figures.setdefault(name, []).append(figure)
        print(
            f"one PostPasses of {ALERTS} alerts x {len(filter_ids)} filters, "
            f"{POINTS} points and 3 thumbnails ({sum(map(len, pngs.values())):,} B) each; "
            f"median of {RUNS} runs"
        )
        for name, measured in figures.items():
            counts = measured[-1][4]
            print(
                f"  {name:<30} {statistics.median(m[0] for m in measured):>5.0f} statements"
                f"  {statistics.median(m[1] for m in measured):>7.1f} ms wall"
                f"  {statistics.median(m[2] for m in measured):>7.1f} ms CPU (this process)"
                f"  {statistics.median(m[3] for m in measured):>7.1f} ms CPU (PostgreSQL)"
                f"  | candidates {counts.candidates}, annotations {counts.annotations},"
                f" photometry {counts.photometry}, thumbnails {counts.thumbnails}"
            )
    finally:
        await portal.engine.dispose()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="skymesh-bench-") as tmp:
        settings = mesh_settings(Path(tmp) / "run")
        supervisor = stack.up(settings, only=("postgres",), report=lambda _: None)
        try:
            postgres = supervisor.running("postgres")
            assert postgres is not None
            asyncio.run(measure(settings, {"postgres": postgres}))
        finally:
            supervisor.stop_all()


if __name__ == "__main__":
    main()
