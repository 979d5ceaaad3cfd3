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


def _all_stats() -> dict[int, tuple[int, float, int]]:
    return {
        int(pid_dir.name): stat
        for pid_dir in Path("/proc").iterdir()
        if pid_dir.name.isdigit() and (stat := _stat(pid_dir)) is not None
    }


def _owners(components: dict[str, int], stats: dict[int, tuple[int, float, int]]) -> dict[int, str]:
    """pid -> the component it belongs to: its own root or the nearest ancestor that is one."""
    roots = {pid: name for name, pid in components.items()}
    owners = {}
    for pid in stats:
        ancestor, hops = pid, 0
        while ancestor > 1 and hops < 64:
            if ancestor in roots:
                owners[pid] = roots[ancestor]
                break
            ancestor = stats[ancestor][0] if ancestor in stats else 0
            hops += 1
    return owners


def usage(components: dict[str, int]) -> dict[str, Usage]:
    """Component name -> its processes' summed CPU time and RSS now; ``components`` maps each
    name to the pid the supervisor started."""
    stats = _all_stats()
    totals: dict[str, list[float]] = {name: [0.0, 0, 0] for name in components}
    for pid, name in _owners(components, stats).items():
        _, cpu_s, rss = stats[pid]
        total = totals[name]
        total[0] += cpu_s
        total[1] += rss
        total[2] += 1
    return {name: Usage(cpu, int(rss), int(n)) for name, (cpu, rss, n) in totals.items()}


def process_cpu_s(pid: int) -> float:
    """CPU seconds of one process alone (not its children); 0 when it is gone."""
    stat = _stat(Path(f"/proc/{pid}"))
    return 0.0 if stat is None else stat[1]


def pss_bytes(root: int) -> int:
    """Proportional set size of ``root`` and its descendants: shared pages counted once."""
    stats = _all_stats()
    total = 0
    for pid in _owners({"root": root}, stats):
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
        except OSError:
            continue
        total += next(int(line.split()[1]) for line in rollup if line.startswith("Pss:")) * 1024
    return total


def cpu_between(before: dict[str, Usage], after: dict[str, Usage]) -> dict[str, float]:
    """CPU seconds each component spent between two readings."""
    return {name: after[name].cpu_s - before[name].cpu_s for name in after if name in before}
