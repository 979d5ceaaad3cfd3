"""The supervisor: readiness, clear startup errors, and no orphans after a stop."""

import sys
from pathlib import Path

import pytest

from skymesh.infra.process import (
    Managed,
    StartupError,
    Supervisor,
    group_alive,
    pid_alive,
    port_open,
)

SPAWNS_A_GRANDCHILD = [
    sys.executable,
    "-c",
    "import subprocess, time; subprocess.Popen(['sleep', '300']); time.sleep(300)",
]


def test_stop_kills_the_whole_process_group(tmp_path: Path) -> None:
    supervisor = Supervisor(tmp_path)
    marker = tmp_path / "ready"
    proc = supervisor.start(
        Managed(
            name="sleeper",
            argv=[
                *SPAWNS_A_GRANDCHILD[:2],
                f"open({str(marker)!r}, 'w').close(); " + SPAWNS_A_GRANDCHILD[2],
            ],
            ready=marker.exists,
        )
    )
    assert supervisor.status() == {"sleeper": proc.pid}
    assert supervisor.stop_all(timeout=5) == ["sleeper"]
    assert not group_alive(proc.pid)
    assert not pid_alive(proc.pid)
    assert supervisor.status() == {}


def test_a_process_that_dies_during_startup_is_reported_with_its_log(tmp_path: Path) -> None:
    supervisor = Supervisor(tmp_path)
    with pytest.raises(StartupError, match=r"exited with code 3(.|\n)*boom"):
        supervisor.start(
            Managed(
                name="crasher",
                argv=[sys.executable, "-c", "print('boom', flush=True); raise SystemExit(3)"],
                ready=lambda: False,
            )
        )


def test_a_process_that_never_gets_ready_times_out(tmp_path: Path) -> None:
    supervisor = Supervisor(tmp_path)
    with pytest.raises(StartupError, match="not ready within"):
        supervisor.start(
            Managed(name="slow", argv=["sleep", "30"], ready=lambda: False, startup_timeout=0.5)
        )
    supervisor.stop_all(timeout=5)
    assert supervisor.status() == {}


def test_port_open_is_false_for_a_closed_port() -> None:
    from skymesh.infra.process import free_port

    assert not port_open(free_port())
