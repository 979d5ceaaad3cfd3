"""CPU time and resident memory of the mesh's components, read from /proc (Linux).

A component is the process the supervisor started and all its descendants: Triton with its
Python-backend stubs, PostgreSQL with its backends (which run in sessions of their own).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Usage:
    cpu_s: float
    rss_bytes: int
    processes: int


def _stat(pid_dir: Path) -> tuple[int, float, int] | None:
    """(parent pid, CPU seconds, RSS bytes) of one process; None when it is gone."""
    try:
        raw = (pid_dir / "stat").read_text()
    except OSError:
        return None
    # Fields after the command name, which may hold spaces: state ppid pgrp session ...
    fields = raw[raw.rindex(")") + 2 :].split()
    parent = int(fields[1])
    cpu_ticks = int(fields[11]) + int(fields[12])  # utime + stime
    rss_pages = int(fields[21])
    return parent, cpu_ticks / CLOCK_TICKS, rss_pages * PAGE_BYTES


def usage(components: dict[str, int]) -> dict[str, Usage]:
    """Component name -> its processes' summed CPU time and RSS now; ``components`` maps each
    name to the pid the supervisor started."""
    stats = {
        int(pid_dir.name): stat
        for pid_dir in Path("/proc").iterdir()
        if pid_dir.name.isdigit() and (stat := _stat(pid_dir)) is not None
    }
    owner = {pid: name for name, pid in components.items()}

    def component(pid: int) -> str | None:
        seen = 0
        while pid > 1 and seen < 64:  # up the parent chain to a component's root
            if pid in owner:
                return owner[pid]
            pid = stats[pid][0] if pid in stats else 0
            seen += 1
        return None

    totals: dict[str, list[float]] = {name: [0.0, 0, 0] for name in components}
    for pid, (_, cpu_s, rss) in stats.items():
        if (name := component(pid)) is not None:
            total = totals[name]
            total[0] += cpu_s
            total[1] += rss
            total[2] += 1
    return {name: Usage(cpu, int(rss), int(n)) for name, (cpu, rss, n) in totals.items()}


def cpu_between(before: dict[str, Usage], after: dict[str, Usage]) -> dict[str, float]:
    """CPU seconds each component spent between two readings."""
    return {name: after[name].cpu_s - before[name].cpu_s for name in after if name in before}
