"""``python -m bench pipeline --quick``: the whole-mesh benchmark runs on the real servers and
its report holds every figure it promises. It never asserts a speed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.pipeline import COMPONENTS, QUICK
from services.broker.pipeline import STAGES
from skymesh.config import REPO_ROOT

pytestmark = pytest.mark.integration

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path, str]:
    out = tmp_path_factory.mktemp("bench")
    run = subprocess.run(
        [sys.executable, "-m", "bench", "pipeline", "--quick", "--out", str(out)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    (report_path,) = out.glob("*.json")
    return json.loads(report_path.read_text()), out, run.stdout


def test_the_report_holds_throughput_latency_cpu_memory_and_the_loop(
    quick_run: tuple[dict, Path, str],
) -> None:
    report, _, _ = quick_run
    assert report["quick"] is True and report["plan"]["backlog"] == QUICK.backlog
    latency = report["latency"]
    assert report["latency_light"] is None  # --quick: one rate only
    assert latency["alerts"] == QUICK.latency_rate * QUICK.latency_seconds
    assert 0 < latency["p50_ms"] <= latency["p95_ms"] <= latency["p99_ms"]
    (run,) = report["throughput"]  # --quick: one broker only
    assert run["brokers"] == 1 and run["alerts"] == QUICK.backlog
    assert run["alerts_per_s"] > 0 and run["cores_busy"] > 0
    # Every component of the mesh has its CPU and memory, measured from its own processes.
    assert set(run["cpu_ms_per_alert"]) == set(COMPONENTS)
    assert set(run["rss_mb"]) == set(COMPONENTS)
    assert all(run["rss_mb"][name] > 0 for name in COMPONENTS)
    assert run["cpu_ms_per_alert"]["broker"] > 0 and run["cpu_ms_per_alert"]["database"] > 0
    assert run["cpu_ms_per_alert_total"] >= max(run["cpu_ms_per_alert"].values())
    # The broker's own stages, in pipeline order, each with the alerts that went through.
    assert list(run["broker_stages"]) == list(STAGES)
    assert run["broker_stages"]["decode"]["cpu_ms_per_alert"] > 0
    assert set(report["database_ceiling"]) >= {"archive, new objects", "alerts insert_many"}
    assert all(rate > 0 for rate in report["database_ceiling"].values())
    assert report["kowalski_loop"]["alerts"] >= 1
    assert report["ratio"] > 0
    assert set(report["targets"]) == {
        "alerts_per_s",
        "p99_ms_at_100_per_s",
        "ratio_to_kowalski_loop",
        "mesh_rss_bytes",
    }


def test_the_run_is_drawn_over_time_phase_by_phase(quick_run: tuple[dict, Path, str]) -> None:
    report, out, stdout = quick_run
    (png,) = out.glob("*.png")
    assert png.read_bytes().startswith(PNG_SIGNATURE)
    assert [phase["name"] for phase in report["phases"]] == [
        "warm-up",
        f"latency at {QUICK.latency_rate}/s",
        "backlog, 1 broker(s)",
    ]
    assert len(report["timeline"]) >= 3
    assert sum(point["alerts_per_s"] for point in report["timeline"]) > 0
    for line in ("latency at", "throughput, 1 broker(s)", "CPU ms per alert", "distance"):
        assert line in stdout
