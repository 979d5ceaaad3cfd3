"""The watchdog's rules on plain processes: restart with backoff, holds, idempotent starts."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from skymesh.config import Settings
from skymesh.infra import stack, state, watchdog
from skymesh.infra.process import WATCHDOG, Managed, Supervisor, free_port, group_alive
from skymesh.runtime.readiness import kafka_ready
from tests.polling import wait_for


def sleeper(name: str) -> Managed:
    return Managed(name=name, argv=["sleep", "300"], ready=lambda: True, startup_timeout=5)


@pytest.fixture
def dog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[watchdog.Watchdog]:
    specs = {name: (lambda name=name: sleeper(name)) for name in ("first", "second")}
    monkeypatch.setattr(stack, "components", lambda settings, in_memory_db=False: specs)
    state.write_plan(tmp_path, state.MeshPlan(watched=("first", "second")))
    dog = watchdog.Watchdog(replace(Settings(), run_dir=tmp_path))
    for factory in specs.values():
        dog.supervisor.ensure(factory())
    yield dog
    dog.stopping.set()
    dog.supervisor.stop_all(timeout=5)


def kill(supervisor: Supervisor, name: str) -> int:
    pid = supervisor.running(name)
    assert pid is not None
    os.killpg(pid, signal.SIGKILL)
    wait_for(lambda: group_alive(pid), lambda alive: not alive, 5, f"{name} to die")
    return pid


def polled_until_running(dog: watchdog.Watchdog, name: str, old: int) -> int:
    def poll() -> int | None:
        dog.poll()
        return dog.supervisor.running(name)

    return wait_for(poll, lambda pid: pid not in (None, old), 10, f"{name} restarted")


def test_a_dead_component_is_restarted_with_a_doubling_delay(dog: watchdog.Watchdog) -> None:
    old = kill(dog.supervisor, "first")
    polled_until_running(dog, "first", old)
    assert state.read_restarts(dog.run_dir)["first"].count == 1
    assert dog.backoff["first"].delay == 2 * watchdog.FIRST_DELAY_S
    assert dog.supervisor.running("second") is not None  # untouched
    assert "second" not in state.read_restarts(dog.run_dir)


def test_a_held_component_is_left_down(dog: watchdog.Watchdog) -> None:
    state.set_held(dog.run_dir, "first", True)
    kill(dog.supervisor, "first")
    old_second = kill(dog.supervisor, "second")
    # By the time the other one is back, the held one's restart would have been due too.
    polled_until_running(dog, "second", old_second)
    dog.poll()
    assert dog.supervisor.running("first") is None
    assert "first" not in state.read_restarts(dog.run_dir)


def test_ensure_leaves_a_running_component_alone(tmp_path: Path) -> None:
    supervisor = Supervisor(tmp_path)
    assert supervisor.ensure(sleeper("one"))
    pid = supervisor.running("one")
    assert not supervisor.ensure(sleeper("one"))
    assert supervisor.running("one") == pid
    supervisor.stop_all(timeout=5)


def test_stop_all_stops_the_watchdog_first_then_in_reverse_start_order(tmp_path: Path) -> None:
    supervisor = Supervisor(tmp_path, order=("database", "archive"))
    for name in ("database", "archive", WATCHDOG):
        supervisor.ensure(sleeper(name))
    # A restarted database has the newest pid file; it still goes after its dependents.
    supervisor.stop("database")
    supervisor.ensure(sleeper("database"))
    assert supervisor.stop_all(timeout=5) == [WATCHDOG, "archive", "database"]


def test_kafka_probe_is_false_on_a_closed_port() -> None:
    assert asyncio.run(kafka_ready(f"127.0.0.1:{free_port()}")()) is False
