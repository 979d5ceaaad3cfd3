"""The ml service's Score of 256 ZTF alerts, one request per model vs one through the ensemble.

Starts Triton and the ml service on free loopback ports twice, once with the ensemble off
(SKYMESH_ML_ENSEMBLES=0: braai and ACAI x5 each sent every triplet) and once on (each chunk's
triplets and features sent once to ``ztf_scores``). Each Score carries 256 inputs built from the
bundled ZTF alerts as the broker builds them. Reports per Score: wall time, and CPU seconds of
the ml process and of Triton's process group (tritonserver and its Python-backend stubs), read
from /proc; then the resident memory of that group.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import fastavro
import numpy as np

from bench import procstat
from services.broker.surveys import ztf
from services.broker.surveys.ml_inputs import make_triplet, ztf_features
from skymesh.config import REPO_ROOT, Ports, Settings
from skymesh.infra import stack
from skymesh.infra.process import free_port
from skymesh.ml.v1 import ml_pb2, ml_pb2_grpc
from skymesh.runtime.clients import service_channel

ALERTS = 256
WARMUP = 3
REPEATS = 20
ZTF_DIR = REPO_ROOT / "data" / "alerts" / "ztf"


def score_request() -> ml_pb2.ScoreRequest:
    """ALERTS inputs cycled from the bundled ZTF alerts, for the models the broker asks for."""
    packets = []
    for path in sorted(ZTF_DIR.rglob("*.avro")):
        with path.open("rb") as fh:
            packets.extend(fastavro.reader(fh))
    alerts = []
    for index in range(ALERTS):
        packet = packets[index % len(packets)]
        alerts.append(
            ml_pb2.AlertInput(
                candid=index,
                triplet=np.ascontiguousarray(make_triplet(packet), dtype="<f4").tobytes(),
                features=ztf_features(packet["candidate"]).tolist(),
            )
        )
    return ml_pb2.ScoreRequest(survey="ZTF", alerts=alerts, models=list(ztf.ZTF.ml_models))


@dataclass
class Figures:
    wall_s: list[float]
    ml_cpu_s: float
    triton_cpu_s: float
    # tritonserver itself (gRPC, scheduling, the ensemble); the rest is the stubs'.
    server_cpu_s: float
    rss_mib: float
    pss_mib: float
    processes: int


@contextmanager
def mesh(ensembles: bool) -> Iterator[tuple[Settings, int, int]]:
    """Triton and the ml service of their own; yields the settings and the two group ids."""
    with tempfile.TemporaryDirectory(prefix="skymesh-bench-ml-") as tmp:
        ports = Ports(**{name: free_port() for name in Ports.__dataclass_fields__})
        settings = stack.with_secret(
            replace(Settings.from_env(), ports=ports, run_dir=Path(tmp), ml_ensembles=ensembles)
        )
        supervisor = stack.up(settings, only=("triton", "ml"), report=lambda _: None)
        try:
            triton, ml = supervisor.running("triton"), supervisor.running("ml")
            assert triton is not None and ml is not None
            yield settings, triton, ml
        finally:
            supervisor.stop_all()


async def measure(ensembles: bool, request: ml_pb2.ScoreRequest) -> Figures:
    with mesh(ensembles) as (settings, triton, ml):
        async with service_channel(settings, "ml", caller="bench") as channel:
            stub = ml_pb2_grpc.MLServiceStub(channel)
            for _ in range(WARMUP):
                await stub.Score(request, timeout=120)
            walls = []
            groups = {"ml": ml, "triton": triton}
            before, server_before = procstat.usage(groups), procstat.process_cpu_s(triton)
            for _ in range(REPEATS):
                started = time.perf_counter()
                response = await stub.Score(request, timeout=120)
                walls.append(time.perf_counter() - started)
            after, server_after = procstat.usage(groups), procstat.process_cpu_s(triton)
            pss = procstat.pss_bytes(triton)
        assert len(response.results) == ALERTS
        spent = procstat.cpu_between(before, after)
        return Figures(
            wall_s=walls,
            ml_cpu_s=spent["ml"] / REPEATS,
            triton_cpu_s=spent["triton"] / REPEATS,
            server_cpu_s=(server_after - server_before) / REPEATS,
            rss_mib=after["triton"].rss_bytes / 2**20,
            pss_mib=pss / 2**20,
            processes=after["triton"].processes,
        )


def report(name: str, figures: Figures) -> None:
    per_alert_ms = 1000 / ALERTS
    median_ms = statistics.median(figures.wall_s) * 1000
    print(
        f"{name:>10}: Score of {ALERTS} alerts median {median_ms:.0f} ms"
        f" (min {min(figures.wall_s) * 1000:.0f}); CPU per Score: ml {figures.ml_cpu_s:.3f} s"
        f" ({figures.ml_cpu_s * per_alert_ms:.2f} ms/alert), Triton {figures.triton_cpu_s:.3f} s"
        f" ({figures.triton_cpu_s * per_alert_ms:.2f} ms/alert, tritonserver itself "
        f"{figures.server_cpu_s:.3f} s); Triton group "
        f"({figures.processes} processes) RSS {figures.rss_mib:.0f} MiB, PSS "
        f"{figures.pss_mib:.0f} MiB",
        flush=True,
    )


async def run() -> None:
    request = score_request()
    models = len(request.models)
    print(f"{REPEATS} Scores of {ALERTS} alerts x {models} models, after {WARMUP} to warm up")
    for name, ensembles in (("per model", False), ("ensemble", True)):
        report(name, await measure(ensembles, request))


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
