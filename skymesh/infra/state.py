"""What the run dir remembers about the mesh between commands: how it was started (so the
watchdog rebuilds the same process specs), which components are held down on purpose, and
how often the watchdog restarted each one."""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class MeshPlan:
    """The components the watchdog keeps running, and how the database was started."""

    watched: tuple[str, ...] = ()
    in_memory_db: bool = False


@dataclass(frozen=True)
class Restarts:
    count: int = 0
    last: float | None = None  # epoch seconds of the latest restart


def _write_json(path: Path, value: Any) -> None:
    # Written aside and renamed, so a reader never sees half a file.
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.{os.getpid()}")
    scratch.write_text(json.dumps(value, indent=1, sort_keys=True))
    scratch.replace(path)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return None


def plan_file(run_dir: Path) -> Path:
    return run_dir / "mesh.json"


def read_plan(run_dir: Path) -> MeshPlan:
    raw = _read_json(plan_file(run_dir)) or {}
    return MeshPlan(tuple(raw.get("watched", ())), bool(raw.get("in_memory_db", False)))


def write_plan(run_dir: Path, plan: MeshPlan) -> None:
    _write_json(
        plan_file(run_dir), {"watched": list(plan.watched), "in_memory_db": plan.in_memory_db}
    )


def held_file(run_dir: Path, name: str) -> Path:
    return run_dir / "held" / name


def is_held(run_dir: Path, name: str) -> bool:
    return held_file(run_dir, name).exists()


def set_held(run_dir: Path, name: str, held: bool) -> None:
    path = held_file(run_dir, name)
    if held:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    else:
        path.unlink(missing_ok=True)


def clear_held(run_dir: Path) -> None:
    folder = run_dir / "held"
    if folder.exists():
        for path in folder.iterdir():
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def restarts_file(run_dir: Path) -> Path:
    return run_dir / "restarts.json"


def read_restarts(run_dir: Path) -> dict[str, Restarts]:
    raw = _read_json(restarts_file(run_dir)) or {}
    return {name: Restarts(int(r.get("count", 0)), r.get("last")) for name, r in raw.items()}


def write_restarts(run_dir: Path, restarts: dict[str, Restarts]) -> None:
    _write_json(
        restarts_file(run_dir),
        {name: {"count": r.count, "last": r.last} for name, r in restarts.items()},
    )


def watchdog_ready_file(run_dir: Path) -> Path:
    return run_dir / "watchdog.ready"
