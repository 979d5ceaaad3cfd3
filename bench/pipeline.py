"""The whole mesh end to end: alerts/s and latency, beside a Kowalski-style loop, in one run.

Starts its own mesh (Kafka, SecantusDB, PostgreSQL, Triton, archive/xmatch, portal, ml,
filters, broker) on free loopback ports, ingests the three bundled catalogs, creates 25
filters in a portal group (every pass is posted to the portal), then:

1. latency: streams synthetic real-shaped alerts at a steady rate and reads the broker's
   Kafka-to-filtered latency percentiles;
2. throughput: pauses the broker, produces a backlog, resumes, and times the backlog through
   decoding, enrichment, ML (braai + ACAI x5 on Triton), cross-matching, archiving and filters;
3. the Kowalski-style loop on the same machine and database: per alert, decode, enrich,
   batch-1 inference of the six models with onnxruntime, one cone query per catalog, insert,
   aux upsert, and one database aggregation per filter.
"""

from __future__ import annotations

import asyncio
import io
import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import astropy.units as u
import fastavro
import onnxruntime as ort
from aiokafka import AIOKafkaProducer
from astropy.coordinates import SkyCoord
from google.protobuf import json_format, struct_pb2
from pymongo import ASCENDING, MongoClient, UpdateOne
from pymongo.errors import OperationFailure

from bench.filters import FILTERS, kowalski_upstream
from services.broker.surveys.ml_inputs import make_triplet, ztf_features
from skymesh.broker.v1 import broker_pb2, broker_pb2_grpc
from skymesh.cli import BUNDLED_CATALOGS, ingest_bundled_catalogs
from skymesh.config import REPO_ROOT, Ports, Settings
from skymesh.filters.v1 import filters_pb2, filters_pb2_grpc
from skymesh.infra import stack
from skymesh.infra.process import free_port
from skymesh.portal.v1 import portal_pb2, portal_pb2_grpc
from skymesh.produce import KAFKA_MAX_MESSAGE_BYTES
from skymesh.runtime.clients import service_channel
from skymesh.sky import angular_separation_deg, cone_pixel_ranges
from skymesh.synthetic import synthetic_messages

# The whole mesh but the gateway: the benchmark talks gRPC to the services.
COMPONENTS = tuple(name for name in stack.components(Settings()) if name != "gateway")
TOPIC = "ztf_20261122_programid1"
LATENCY_RATE = 100  # alerts/s
LATENCY_SECONDS = 20
BACKLOG = 3000
# The benchmark gives up when the broker makes no progress for this long.
STALL_S = 60.0
KOWALSKI_SAMPLE = 60
KOWALSKI_BUDGET_S = 90.0
XMATCH_RADIUS_DEG = 2 / 3600
MODELS = REPO_ROOT / "models" / "triton"
SEED = 20261122


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


async def broker_status(settings: Settings) -> broker_pb2.SurveyStatus:
    async with service_channel(settings, "broker", caller="bench") as channel:
        status = await broker_pb2_grpc.BrokerServiceStub(channel).Status(
            broker_pb2.StatusRequest(), timeout=10
        )
    return next(s for s in status.surveys if s.survey == "ZTF")


async def broker_control(settings: Settings, pause: bool) -> None:
    async with service_channel(settings, "broker", caller="bench") as channel:
        stub = broker_pb2_grpc.BrokerServiceStub(channel)
        if pause:
            await stub.Pause(broker_pb2.PauseRequest())
        else:
            await stub.Resume(broker_pb2.ResumeRequest())


async def wait_processed(settings: Settings, target: int, stall_s: float = STALL_S) -> float:
    """Waits until the broker has processed ``target`` alerts; gives up only when it makes
    no progress for ``stall_s`` (how long the work takes is what is being measured)."""
    last, last_change = -1, time.monotonic()
    while True:
        processed = (await broker_status(settings)).alerts_processed
        if processed >= target:
            return time.monotonic()
        if processed != last:
            last, last_change = processed, time.monotonic()
        elif time.monotonic() - last_change > stall_s:
            raise SystemExit(
                f"the broker stalled at {processed}/{target} processed alerts "
                f"(no progress in {stall_s:.0f} s); see its log under the run dir"
            )
        await asyncio.sleep(0.05)


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


async def measure_mesh(settings: Settings) -> dict[str, float]:
    processed = (await broker_status(settings)).alerts_processed
    # Warm-up: Triton's first batches and the consumer's group join.
    warm = synthetic_messages(200, SEED, first=10**6)
    await produce(settings, warm, rate=None)
    processed += len(warm)
    await wait_processed(settings, processed)

    steady = synthetic_messages(LATENCY_RATE * LATENCY_SECONDS, SEED, first=0)
    await produce(settings, steady, rate=LATENCY_RATE)
    processed += len(steady)
    await wait_processed(settings, processed)
    status = await broker_status(settings)
    p50, p99 = status.latency_p50_ms, status.latency_p99_ms

    backlog = synthetic_messages(BACKLOG, SEED, first=len(steady))
    await broker_control(settings, pause=True)
    await produce(settings, backlog, rate=None)
    started = time.monotonic()
    await broker_control(settings, pause=False)
    finished = await wait_processed(settings, processed + len(backlog))
    return {"rate": len(backlog) / (finished - started), "p50": p50, "p99": p99}


def within_cone(row: dict[str, Any], ra: float, dec: float, radius_deg: float) -> bool:
    row_ra, row_dec = row["coordinates"]["radec_geojson"]["coordinates"]
    return angular_separation_deg(ra, dec, row_ra + 180, row_dec) <= radius_deg


def kowalski_loop(settings: Settings) -> tuple[int, float]:
    """Kowalski's per-alert path on a sample of alerts; returns (alerts, seconds)."""
    sessions = {
        path.parent.parent.name: ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        for path in sorted(MODELS.glob("*/1/model.onnx"))
    }
    messages = synthetic_messages(KOWALSKI_SAMPLE, SEED + 1, first=2 * 10**6)
    with MongoClient(settings.mongo_uri) as client:
        catalogs = client[settings.db_name]
        db = client["kowalski_loop"]
        db["ZTF_alerts"].create_index([("candid", ASCENDING)], unique=True)
        started = time.monotonic()
        done = 0
        for message in messages:
            (packet,) = list(fastavro.reader(io.BytesIO(message)))
            candidate = packet["candidate"]
            ra, dec = candidate["ra"], candidate["dec"]
            sky = SkyCoord(ra * u.deg, dec * u.deg)
            packet["coordinates"] = {
                "radec_geojson": {"type": "Point", "coordinates": [ra - 180, dec]},
                "l": sky.galactic.l.deg,
                "b": sky.galactic.b.deg,
            }
            triplet = make_triplet(packet)[None]
            features = ztf_features(candidate)[None]
            packet["classifications"] = {}
            for name, session in sessions.items():
                feeds = {
                    i.name: features if i.shape[-1] == 25 else triplet for i in session.get_inputs()
                }
                packet["classifications"][name] = float(session.run(None, feeds)[0][0, 0])
            cross_matches = {}
            for name in BUNDLED_CATALOGS.values():
                pixels = cone_pixel_ranges(ra, dec, XMATCH_RADIUS_DEG)
                rows = list(
                    catalogs[name].find(
                        {"$or": [{"coordinates.healpix": {"$gte": a, "$lt": b}} for a, b in pixels]}
                    )
                )
                cross_matches[name] = [
                    row for row in rows if within_cone(row, ra, dec, XMATCH_RADIUS_DEG)
                ]
            prv = packet.pop("prv_candidates") or []
            fp = packet.pop("fp_hists", None) or []
            packet["_id"] = packet["candid"]
            db["ZTF_alerts"].insert_one(packet)
            db["ZTF_alerts_aux"].bulk_write(
                [
                    UpdateOne(
                        {"_id": packet["objectId"]},
                        {
                            "$addToSet": {
                                "prv_candidates": {"$each": prv},
                                "fp_hists": {"$each": fp},
                            },
                            "$setOnInsert": {"cross_matches": cross_matches},
                        },
                        upsert=True,
                    )
                ]
            )
            for _, permissions, pipeline in FILTERS:
                try:
                    list(
                        db["ZTF_alerts"].aggregate(
                            kowalski_upstream(packet["candid"], permissions) + pipeline
                        )
                    )
                except OperationFailure:
                    pass  # Kowalski logs a failing filter and goes on
            done += 1
            if time.monotonic() - started > KOWALSKI_BUDGET_S:
                break
        return done, time.monotonic() - started


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="skymesh-bench-") as tmp:
        settings = mesh_settings(Path(tmp) / "run")
        supervisor = stack.up(settings, only=COMPONENTS, report=lambda _: None)
        try:
            ingest_bundled_catalogs(settings)
            asyncio.run(create_filters(settings))
            print(
                f"mesh up: {len(BUNDLED_CATALOGS)} catalogs, {len(FILTERS)} filters, "
                "braai + ACAI x5 on Triton (CPU)",
                flush=True,
            )
            mesh = asyncio.run(measure_mesh(settings))
            alerts, seconds = kowalski_loop(settings)
        finally:
            supervisor.stop_all()
    kowalski_rate = alerts / seconds
    print(
        json.dumps(
            {
                "mesh_alerts_per_s": round(mesh["rate"], 1),
                "latency_p50_ms_at_100_per_s": round(mesh["p50"], 1),
                "latency_p99_ms_at_100_per_s": round(mesh["p99"], 1),
                "kowalski_loop_alerts_per_s": round(kowalski_rate, 2),
            }
        )
    )
    print(
        f"mesh: {mesh['rate']:.0f} alerts/s through ML, 3 catalogs and 25 filters "
        f"({BACKLOG} alert backlog)"
    )
    print(
        f"latency at {LATENCY_RATE} alerts/s: p50 {mesh['p50']:.0f} ms, "
        f"p99 {mesh['p99']:.0f} ms (Kafka timestamp to archived and filtered)"
    )
    print(f"Kowalski-style loop: {kowalski_rate:.2f} alerts/s ({alerts} alerts in {seconds:.1f} s)")
    print(f"ratio: {mesh['rate'] / kowalski_rate:.0f}x")
