"""The whole mesh end to end: throughput, latency, CPU per stage and memory, in one run.

Starts its own mesh (Kafka, SecantusDB, PostgreSQL, Triton, archive/xmatch, portal, ml,
filters, broker) on free loopback ports, ingests the three bundled catalogs, creates 25
filters in a portal group (every pass is posted to the portal), then, on a 2-partition topic:

1. latency: synthetic real-shaped alerts at a steady rate, 50/s (which two cores sustain) then
   100/s (the target's rate); p50/p95/p99 from Kafka timestamp to archived, filtered and
   posted, read from the broker's latency histogram for that phase only;
2. throughput: the broker paused, a backlog produced, the broker resumed; alerts/s, CPU
   seconds per alert of every component (from /proc) and of every stage inside the broker
   (its own counters), RSS of every component;
3. replicas: the same backlog with two broker replicas in one consumer group (skipped by
   ``--quick``);
4. the database's ceiling for the archive's writes (bench/database.py);
5. the Kowalski-style loop on the same machine and database (bench/kowalski.py).

Prints the figures, and writes them as JSON with a PNG of throughput and latency over the run
to bench/results/ (or ``--out``). ``--quick`` runs every phase small (under two minutes): a
smoke test checks the report's structure with it, never a speed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import platform
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from google.protobuf import json_format, struct_pb2

from bench import database, plot, procstat
from bench.filters import FILTERS
from bench.kowalski import kowalski_loop
from skymesh.broker.v1 import broker_pb2, broker_pb2_grpc
from skymesh.cli import BUNDLED_CATALOGS, ingest_bundled_catalogs
from skymesh.config import REPO_ROOT, Ports, Settings
from skymesh.filters.v1 import filters_pb2, filters_pb2_grpc
from skymesh.infra import stack
from skymesh.infra.process import Supervisor, free_port
from skymesh.portal.v1 import portal_pb2, portal_pb2_grpc
from skymesh.produce import KAFKA_MAX_MESSAGE_BYTES
from skymesh.runtime.clients import service_channel
from skymesh.synthetic import synthetic_messages

# The whole mesh but the gateway: the benchmark talks gRPC to the services.
COMPONENTS = tuple(name for name in stack.components(Settings()) if name != "gateway")
TOPIC = "ztf_20261122_programid1"
PARTITIONS = 2
RESULTS = REPO_ROOT / "bench" / "results"
SEED = 20261122
# The benchmark gives up when the broker makes no progress for this long.
STALL_S = 60.0
SAMPLE_EVERY_S = 1.0
# The design targets the report measures its distance to.
TARGET_RATE = 333.0
TARGET_P99_MS = 1000.0
TARGET_RATIO = 30.0
TARGET_RSS_BYTES = 1.5e9


@dataclass(frozen=True)
class Plan:
    latency_rate: int = 100  # alerts/s offered in the latency phase (the target's rate)
    # A lighter rate, measured first, that the 2-core mesh sustains (None: skipped).
    light_rate: int | None = 50
    latency_seconds: int = 20
    warmup: int = 200
    backlog: int = 3000
    replicas: tuple[int, ...] = (1, 2)
    ceiling_alerts: int = 2048
    kowalski_sample: int = 60
    kowalski_budget_s: float = 90.0


FULL = Plan()
QUICK = Plan(
    latency_rate=20,
    light_rate=None,
    latency_seconds=5,
    warmup=40,
    backlog=200,
    replicas=(1,),
    ceiling_alerts=512,
    kowalski_sample=5,
    kowalski_budget_s=15.0,
)


# --- the mesh --------------------------------------------------------------------------------


def mesh_settings(run_dir: Path) -> Settings:
    ports = Ports(**{name: free_port() for name in Ports.__dataclass_fields__})
    return stack.with_secret(replace(Settings.from_env(), ports=ports, run_dir=run_dir))


async def create_filters(settings: Settings) -> None:
    """The 25 filters in one portal group, each on a stream of its programids, so that every
    pass is posted to the portal as in production."""
    async with (
        service_channel(settings, "filters", caller="bench") as filters_channel,
        service_channel(settings, "portal", caller="bench") as portal_channel,
    ):
        filters = filters_pb2_grpc.FiltersServiceStub(filters_channel)
        portal = portal_pb2_grpc.PortalServiceStub(portal_channel)
        group = await portal.CreateGroup(portal_pb2.CreateGroupRequest(name="bench"))
        group_id = json.loads(group.data)["data"]["id"]
        streams: dict[tuple[int, ...], int] = {}
        for name, permissions, pipeline in FILTERS:
            selector = tuple(sorted(permissions))
            if selector not in streams:
                altdata = struct_pb2.Struct()
                altdata.update({"collection": "ZTF_alerts", "selector": list(selector)})
                made = await portal.CreateStream(
                    portal_pb2.StreamBody(name=f"bench {selector}", altdata=altdata)
                )
                streams[selector] = json.loads(made.data)["data"]["id"]
                await portal.AddGroupStream(
                    portal_pb2.GroupStreamRequest(group_id=group_id, stream_id=streams[selector])
                )
            link = await portal.CreatePortalFilter(
                portal_pb2.CreatePortalFilterRequest(
                    name=name, group_id=group_id, stream_id=streams[selector]
                )
            )
            value = struct_pb2.Value()
            json_format.ParseDict(pipeline, value)
            await filters.CreateFilter(
                filters_pb2.CreateFilterRequest(filter_id=link.filter_id, pipeline=value)
            )


async def create_topic(settings: Settings) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(TOPIC, PARTITIONS, 1)])
    finally:
        await admin.close()


@contextlib.contextmanager
def broker_replica(settings: Settings, supervisor: Supervisor, index: int) -> Iterator[Settings]:
    """One more broker process in the same consumer group, on a port of its own."""
    spec, replica = stack.broker_replica(settings, f"broker-{index}")
    supervisor.start(spec)
    try:
        yield replica
    finally:
        supervisor.stop(spec.name)


# --- reading the brokers ---------------------------------------------------------------------


@dataclass
class BrokerReading:
    processed: int
    histogram: list[tuple[float, int]]  # cumulative (le_ms, count), +Inf last
    stages: dict[str, tuple[float, float, int]]  # stage -> (cpu_s, wall_s, alerts)


async def read_broker(settings: Settings) -> BrokerReading:
    async with service_channel(settings, "broker", caller="bench") as channel:
        status = await broker_pb2_grpc.BrokerServiceStub(channel).Status(
            broker_pb2.StatusRequest(), timeout=10
        )
    ztf = next(s for s in status.surveys if s.survey == "ZTF")
    return BrokerReading(
        processed=ztf.alerts_processed,
        histogram=[(b.le_ms, b.count) for b in ztf.latency_histogram],
        stages={s.stage: (s.cpu_s, s.wall_s, s.alerts) for s in ztf.stages},
    )


def combined(readings: Sequence[BrokerReading]) -> BrokerReading:
    """Several replicas' readings as one."""
    first = readings[0]
    return BrokerReading(
        processed=sum(r.processed for r in readings),
        histogram=[
            (bound, sum(r.histogram[i][1] for r in readings))
            for i, (bound, _) in enumerate(first.histogram)
        ],
        stages={
            stage: tuple(sum(r.stages[stage][k] for r in readings) for k in range(3))  # type: ignore[misc]
            for stage in first.stages
        },
    )


async def read_brokers(brokers: Sequence[Settings]) -> BrokerReading:
    return combined(await asyncio.gather(*(read_broker(b) for b in brokers)))


async def broker_control(brokers: Sequence[Settings], pause: bool) -> None:
    for settings in brokers:
        async with service_channel(settings, "broker", caller="bench") as channel:
            stub = broker_pb2_grpc.BrokerServiceStub(channel)
            if pause:
                await stub.Pause(broker_pb2.PauseRequest())
            else:
                await stub.Resume(broker_pb2.ResumeRequest())


def histogram_between(
    before: list[tuple[float, int]], after: list[tuple[float, int]]
) -> list[tuple[float, int]]:
    return [(bound, count - before[i][1]) for i, (bound, count) in enumerate(after)]


def percentile_ms(histogram: list[tuple[float, int]], q: float) -> float | None:
    """The q-th percentile of a cumulative histogram, interpolated inside its bucket (as
    Prometheus' histogram_quantile); None without alerts; the last finite bound when it falls
    in the +Inf bucket."""
    total = histogram[-1][1]
    if total == 0:
        return None
    rank = q / 100 * total
    lower, below = 0.0, 0
    for bound, count in histogram:
        if count >= rank:
            if math.isinf(bound):
                return lower
            inside = count - below
            return lower + (bound - lower) * ((rank - below) / inside if inside else 1.0)
        lower, below = bound, count
    return lower


# --- the run's timeline ----------------------------------------------------------------------


@dataclass
class Timeline:
    started: float = field(default_factory=time.monotonic)
    samples: list[tuple[float, BrokerReading]] = field(default_factory=list)
    phases: list[plot.Phase] = field(default_factory=list)

    def now(self) -> float:
        return time.monotonic() - self.started

    @contextlib.asynccontextmanager
    async def phase(self, name: str) -> AsyncIterator[None]:
        start = self.now()
        try:
            yield
        finally:
            self.phases.append(plot.Phase(name, start, self.now()))

    async def sample(self, brokers: list[Settings]) -> None:
        """Reads the brokers every second until cancelled (``brokers`` may grow)."""
        while True:
            with contextlib.suppress(Exception):  # a replica starting or stopping
                self.samples.append((self.now(), await read_brokers(list(brokers))))
            await asyncio.sleep(SAMPLE_EVERY_S)

    def points(self) -> list[plot.Point]:
        points = []
        for (t0, a), (t1, b) in zip(self.samples, self.samples[1:], strict=False):
            if len(a.histogram) != len(b.histogram) or b.processed < a.processed:
                continue  # the replica set changed between the two readings
            window = histogram_between(a.histogram, b.histogram)
            points.append(
                plot.Point(
                    t=t1,
                    alerts_per_s=(b.processed - a.processed) / (t1 - t0),
                    p50_ms=percentile_ms(window, 50),
                    p99_ms=percentile_ms(window, 99),
                )
            )
        return points


# --- phases ----------------------------------------------------------------------------------


async def produce(settings: Settings, messages: list[bytes], rate: float | None) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        max_request_size=KAFKA_MAX_MESSAGE_BYTES,
        linger_ms=5,
    )
    await producer.start()
    try:
        started = time.monotonic()
        for index, message in enumerate(messages):
            if rate:
                delay = started + index / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            await producer.send(TOPIC, message)
        await producer.flush()
    finally:
        await producer.stop()


async def wait_processed(brokers: Sequence[Settings], target: int) -> BrokerReading:
    """Waits until the brokers have processed ``target`` alerts in all; gives up only when
    they make no progress for STALL_S (how long the work takes is what is measured)."""
    last, last_change = -1, time.monotonic()
    while True:
        reading = await read_brokers(brokers)
        if reading.processed >= target:
            return reading
        if reading.processed != last:
            last, last_change = reading.processed, time.monotonic()
        elif time.monotonic() - last_change > STALL_S:
            raise SystemExit(
                f"the broker stalled at {reading.processed}/{target} processed alerts "
                f"(no progress in {STALL_S:.0f} s); see its log under the run dir"
            )
        await asyncio.sleep(0.05)


class Stream:
    """Synthetic alerts, never the same candid twice in one run."""

    def __init__(self) -> None:
        self.next = 0

    async def take(self, n: int) -> list[bytes]:
        first, self.next = self.next, self.next + n
        # Off the event loop: making thousands of packets takes seconds, and the timeline's
        # sampler must go on reading the brokers meanwhile.
        return await asyncio.to_thread(synthetic_messages, n, SEED, first)


async def warm_up(settings: Settings, plan: Plan, stream: Stream, timeline: Timeline) -> None:
    """Triton's first batches and the consumer group's join, out of the figures."""
    processed = (await read_broker(settings)).processed
    async with timeline.phase("warm-up"):
        warm = await stream.take(plan.warmup)
        await produce(settings, warm, rate=None)
        await wait_processed([settings], processed + len(warm))


async def latency_phase(
    settings: Settings, rate: int, seconds: int, stream: Stream, timeline: Timeline
) -> dict[str, Any]:
    """Alerts offered at ``rate`` for ``seconds``: the latency percentiles of those alerts."""
    before = await read_broker(settings)
    async with timeline.phase(f"latency at {rate}/s"):
        steady = await stream.take(rate * seconds)
        await produce(settings, steady, rate=rate)
        after = await wait_processed([settings], before.processed + len(steady))
    window = histogram_between(before.histogram, after.histogram)
    return {
        "offered_alerts_per_s": rate,
        "alerts": len(steady),
        **{f"p{q}_ms": percentile_ms(window, q) for q in (50, 95, 99)},
    }


def per_alert_ms(seconds: dict[str, float], alerts: int) -> dict[str, float]:
    return {name: round(1000 * s / alerts, 3) for name, s in seconds.items()}


async def throughput_phase(
    settings: Settings,
    supervisor: Supervisor,
    brokers: list[Settings],
    plan: Plan,
    stream: Stream,
    timeline: Timeline,
) -> dict[str, Any]:
    """The backlog through ``brokers``: rate, and CPU per component and broker stage."""
    await broker_control(brokers, pause=True)
    backlog = await stream.take(plan.backlog)
    await produce(settings, backlog, rate=None)
    components = {name: pid for name, pid in supervisor.status().items() if pid is not None}
    before = await read_brokers(brokers)
    usage_before = procstat.usage(components)
    async with timeline.phase(f"backlog, {len(brokers)} broker(s)"):
        started = time.monotonic()
        await broker_control(brokers, pause=False)
        after = await wait_processed(brokers, before.processed + len(backlog))
        seconds = time.monotonic() - started
    usage_after = procstat.usage(components)
    alerts = after.processed - before.processed
    cpu = procstat.cpu_between(usage_before, usage_after)
    # Replicas are components too: fold them into one "broker" line.
    cpu["broker"] = sum(s for name, s in cpu.items() if name.startswith("broker"))
    cpu = {name: s for name, s in cpu.items() if not name.startswith("broker-")}
    stages = {
        stage: {
            "cpu_ms_per_alert": round(1000 * (cpu_a - before.stages[stage][0]) / alerts, 3),
            "wall_s": round(wall - before.stages[stage][1], 2),
        }
        for stage, (cpu_a, wall, _) in after.stages.items()
    }
    total_cpu = sum(cpu.values())
    return {
        "brokers": len(brokers),
        "alerts": alerts,
        "seconds": round(seconds, 2),
        "alerts_per_s": round(alerts / seconds, 1),
        "cores_busy": round(total_cpu / seconds, 2),
        "cpu_ms_per_alert": per_alert_ms(cpu, alerts),
        "cpu_ms_per_alert_total": round(1000 * total_cpu / alerts, 2),
        "broker_stages": stages,
        "rss_mb": {name: round(u.rss_bytes / 2**20) for name, u in usage_after.items()},
    }


async def mesh_phases(
    settings: Settings, supervisor: Supervisor, plan: Plan, timeline: Timeline
) -> dict[str, Any]:
    stream = Stream()
    brokers = [settings]
    sampler = asyncio.ensure_future(timeline.sample(brokers))
    try:
        await warm_up(settings, plan, stream, timeline)
        light = None
        if plan.light_rate:
            light = await latency_phase(
                settings, plan.light_rate, plan.latency_seconds, stream, timeline
            )
        latency = await latency_phase(
            settings, plan.latency_rate, plan.latency_seconds, stream, timeline
        )
        runs = [await throughput_phase(settings, supervisor, brokers, plan, stream, timeline)]
        for count in plan.replicas[1:]:
            with contextlib.ExitStack() as replicas:
                for index in range(2, count + 1):
                    brokers.append(
                        replicas.enter_context(broker_replica(settings, supervisor, index))
                    )
                runs.append(
                    await throughput_phase(settings, supervisor, brokers, plan, stream, timeline)
                )
                del brokers[1:]
    finally:
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
    return {"latency": latency, "latency_light": light, "throughput": runs}


# --- the report ------------------------------------------------------------------------------


def git_commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine() -> dict[str, Any]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {"cores": os.cpu_count(), "cpu": model, "python": platform.python_version()}


def targets(report: dict[str, Any]) -> dict[str, Any]:
    one = report["throughput"][0]
    p99 = report["latency"]["p99_ms"]
    rss = sum(one["rss_mb"].values()) * 2**20
    return {
        "alerts_per_s": {"target": TARGET_RATE, "measured": one["alerts_per_s"]},
        "p99_ms_at_100_per_s": {"target": TARGET_P99_MS, "measured": p99},
        "ratio_to_kowalski_loop": {"target": TARGET_RATIO, "measured": report["ratio"]},
        "mesh_rss_bytes": {"target": TARGET_RSS_BYTES, "measured": rss},
    }


def print_report(report: dict[str, Any]) -> None:
    for latency in (report["latency_light"], report["latency"]):
        if latency is None:
            continue
        print(
            f"latency at {latency['offered_alerts_per_s']} alerts/s ({latency['alerts']} "
            "alerts): "
            + ", ".join(f"p{q} {latency[f'p{q}_ms'] or 0:.0f} ms" for q in (50, 95, 99))
            + " (Kafka timestamp to archived, filtered and posted)"
        )
    for run in report["throughput"]:
        print(
            f"throughput, {run['brokers']} broker(s): {run['alerts_per_s']} alerts/s "
            f"({run['alerts']} alerts in {run['seconds']} s; {run['cores_busy']} of "
            f"{report['machine']['cores']} cores busy; "
            f"{run['alerts_per_s'] / report['machine']['cores']:.1f} alerts/s per core)"
        )
    one = report["throughput"][0]
    print(f"CPU ms per alert by component (1 broker), {one['cpu_ms_per_alert_total']} in all:")
    for name, ms in sorted(one["cpu_ms_per_alert"].items(), key=lambda kv: -kv[1]):
        print(f"  {name:<10} {ms:7.2f}   RSS {one['rss_mb'].get(name, 0):5d} MB")
    print(f"  mesh RSS {sum(one['rss_mb'].values())} MB")
    print("inside the broker, per stage: CPU ms per alert (broker's own work), seconds in stage")
    for stage, figures in one["broker_stages"].items():
        print(f"  {stage:<9} {figures['cpu_ms_per_alert']:7.3f}   {figures['wall_s']:7.1f} s")
    print("database ceiling (SecantusDB, one core; archive write patterns, alone):")
    for name, rate in report["database_ceiling"].items():
        print(f"  {name:<32} {rate:8.0f} /s")
    kowalski = report["kowalski_loop"]
    print(
        f"Kowalski-style loop: {kowalski['alerts_per_s']} alerts/s ({kowalski['alerts']} alerts "
        f"in {kowalski['seconds']} s); the mesh did {report['ratio']}x"
    )
    print("distance to the targets:")
    for name, figures in report["targets"].items():
        print(f"  {name:<24} target {figures['target']:>12,.0f}   measured {figures['measured']}")


def write_report(report: dict[str, Any], timeline: Timeline, out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    json_path, png_path = out / f"{stamp}.json", out / f"{stamp}.png"
    report["timeline"] = [asdict(point) for point in timeline.points()]
    report["phases"] = [asdict(phase) for phase in timeline.phases]
    json_path.write_text(json.dumps(report, indent=1) + "\n")
    one = report["throughput"][0]
    plot.draw(
        timeline.points(),
        timeline.phases,
        f"skymesh {report['commit']}: {one['alerts_per_s']} alerts/s, "
        f"p99 {report['latency']['p99_ms'] or 0:.0f} ms at "
        f"{report['latency']['offered_alerts_per_s']}/s ({report['machine']['cores']} cores)",
        png_path,
    )
    return json_path, png_path


def main(quick: bool = False, out: Path | None = None) -> None:
    plan = QUICK if quick else FULL
    timeline = Timeline()
    with tempfile.TemporaryDirectory(prefix="skymesh-bench-") as tmp:
        settings = mesh_settings(Path(tmp) / "run")
        supervisor = stack.up(settings, only=COMPONENTS, report=lambda _: None)
        try:
            ingest_bundled_catalogs(settings)
            asyncio.run(create_filters(settings))
            asyncio.run(create_topic(settings))
            print(
                f"mesh up: {len(BUNDLED_CATALOGS)} catalogs, {len(FILTERS)} filters, "
                f"braai + ACAI x5 on Triton (CPU), {PARTITIONS} partitions"
                + (" (quick: small phases, figures not comparable)" if quick else ""),
                flush=True,
            )
            report: dict[str, Any] = {
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "commit": git_commit(),
                "quick": quick,
                "machine": machine(),
                "plan": asdict(plan),
            }
            report.update(asyncio.run(mesh_phases(settings, supervisor, plan, timeline)))
            report["database_ceiling"] = {
                name: round(rate, 1)
                for name, rate in database.ceiling(settings.mongo_uri, plan.ceiling_alerts).items()
            }
            alerts, seconds = kowalski_loop(settings, plan.kowalski_sample, plan.kowalski_budget_s)
        finally:
            supervisor.stop_all()
    report["kowalski_loop"] = {
        "alerts": alerts,
        "seconds": round(seconds, 1),
        "alerts_per_s": round(alerts / seconds, 2),
    }
    report["ratio"] = round(report["throughput"][0]["alerts_per_s"] / (alerts / seconds), 1)
    report["targets"] = targets(report)
    print_report(report)
    json_path, png_path = write_report(report, timeline, out or RESULTS)
    print(f"wrote {json_path} and {png_path}")
