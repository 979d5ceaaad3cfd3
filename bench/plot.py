"""The benchmark's run over time as a PNG: throughput and latency, phase by phase."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


@dataclass(frozen=True)
class Point:
    t: float  # seconds since the first sample
    alerts_per_s: float
    p50_ms: float | None  # latency of the alerts finished in the interval
    p99_ms: float | None


@dataclass(frozen=True)
class Phase:
    name: str
    start: float
    end: float


def draw(points: Sequence[Point], phases: Sequence[Phase], title: str, path: Path) -> None:
    fig = Figure(figsize=(10, 6), dpi=100)
    FigureCanvasAgg(fig)
    rate_ax, latency_ax = fig.subplots(2, 1, sharex=True)
    times = [p.t for p in points]
    rate_ax.plot(times, [p.alerts_per_s for p in points], color="tab:blue")
    rate_ax.set_ylabel("alerts/s processed")
    for label, values, colour in (
        ("p50", [p.p50_ms for p in points], "tab:green"),
        ("p99", [p.p99_ms for p in points], "tab:red"),
    ):
        shown = [(t, v / 1000) for t, v in zip(times, values, strict=True) if v is not None]
        latency_ax.plot([t for t, _ in shown], [v for _, v in shown], label=label, color=colour)
    latency_ax.set_ylabel("latency (s), Kafka to done")
    latency_ax.set_yscale("log")
    latency_ax.set_xlabel("seconds")
    latency_ax.legend(loc="upper left")
    for ax in (rate_ax, latency_ax):
        for index, phase in enumerate(phases):
            ax.axvspan(phase.start, phase.end, alpha=0.08 if index % 2 else 0.16, color="grey")
    for phase in phases:
        rate_ax.annotate(
            phase.name,
            ((phase.start + phase.end) / 2, 1.0),
            xycoords=("data", "axes fraction"),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    fig.suptitle(title)
    fig.savefig(path)
