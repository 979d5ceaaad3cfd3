"""A mesh that heals: `skymesh up` is idempotent, the watchdog restarts what crashes, an
operator holds a component down, and health reflects the dependencies."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from skymesh.config import Settings
from skymesh.infra import kafka, stack
from skymesh.infra.process import WATCHDOG, Supervisor, group_alive
from skymesh.runtime.readiness import kafka_ready
from tests.conftest import mesh_settings, run_cli
from tests.polling import wait_for

pytestmark = pytest.mark.integration

COMPONENTS = ("database", "kafka", "archive")


def pids(settings: Settings) -> dict[str, int | None]:
    return Supervisor(settings.run_dir).status()


def kill_9(settings: Settings, name: str) -> int:
    pid = pids(settings)[name]
    assert pid is not None
    os.killpg(pid, signal.SIGKILL)
    wait_for(lambda: group_alive(pid), lambda alive: not alive, 10, f"{name} to die")
    return pid


def health(settings: Settings) -> str | None:
    return stack.grpc_health(settings.ports.archive)


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    settings = mesh_settings(tmp_path_factory.mktemp("healing") / "run")
    try:
        yield settings
    finally:
        stack.down(settings)


def test_up_twice_at_once_starts_one_database(settings: Settings) -> None:
    errors: list[BaseException] = []

    def start() -> None:
        try:
            stack.up(settings, only=["database"], in_memory_db=True, report=lambda _: None)
        except BaseException as exc:
            errors.append(exc)

    starters = [threading.Thread(target=start) for _ in range(2)]
    for starter in starters:
        starter.start()
    for starter in starters:
        starter.join()
    assert errors == []
    assert list(pids(settings)) == ["database"]
    log = (settings.run_dir / "logs" / "database.log").read_bytes()
    assert log.count(b"Traceback") == 0  # the second never spawned a clashing server


def test_up_on_a_half_running_mesh_starts_only_what_is_missing(settings: Settings) -> None:
    before = pids(settings)
    assert before["database"] is not None

    assert run_cli(settings, "up", "--only", *COMPONENTS) == 0

    after = pids(settings)
    assert after["database"] == before["database"]  # left alone
    assert all(after[name] for name in (*COMPONENTS, WATCHDOG)), after
    assert health(settings) == "SERVING"
    # Once more: nothing to start, nothing stopped, nothing restarted.
    assert run_cli(settings, "up", "--only", *COMPONENTS) == 0
    assert pids(settings) == after
    assert stack.restarts(settings) == {}


def test_the_watchdog_restarts_a_killed_service_and_kafka(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    old = {name: kill_9(settings, name) for name in ("archive", "kafka")}

    def restarted() -> dict[str, int | None]:
        return {name: pids(settings).get(name) for name in old}

    wait_for(
        restarted,
        lambda now: all(now[n] is not None and now[n] != old[n] for n in old),
        120,
        "the watchdog to restart the archive and kafka",
    )
    # The watchdog counts a restart once the new process is spawned (its pid file first).
    wait_for(
        lambda: stack.restarts(settings),
        lambda counts: counts == {"archive": 1, "kafka": 1},
        10,
        "the watchdog to count one restart of each",
    )
    wait_for(lambda: health(settings), lambda h: h == "SERVING", 60, "the archive to serve")
    wait_for(
        lambda: kafka.broker_registered(settings.ports.kafka),
        bool,
        90,
        "kafka to be ready again",
    )
    # The broker's readiness probe sees it too.
    assert asyncio.run(kafka_ready(settings.kafka_bootstrap)())

    capsys.readouterr()
    assert run_cli(settings, "status") == 0
    table = capsys.readouterr().out.splitlines()
    assert "RESTARTS" in table[0] and "HEALTH" in table[0]
    rows = {line.split()[0]: line for line in table[1:]}
    assert " 1 (last " in rows["archive"] and " 1 (last " in rows["kafka"]
    assert "SERVING" in rows["archive"]
    assert " 0" in rows["database"]
    log = (settings.run_dir / "logs" / "watchdog.log").read_text()
    assert log.count("restarted component") == 2


def test_a_held_database_stays_down_and_the_archive_reports_it(settings: Settings) -> None:
    restarts_before = stack.restarts(settings)
    assert run_cli(settings, "stop", "database") == 0
    assert pids(settings).get("database") is None
    wait_for(lambda: health(settings), lambda h: h == "NOT_SERVING", 30, "the archive to notice")
    # A crash beside the hold: the watchdog restarts the archive (which answers NOT_SERVING
    # without its database) but leaves the held database down.
    old_archive = kill_9(settings, "archive")
    wait_for(
        lambda: pids(settings).get("archive"),
        lambda pid: pid is not None and pid != old_archive,
        60,
        "the watchdog to restart the archive",
    )
    wait_for(lambda: health(settings), lambda h: h is not None, 60, "the archive to answer")
    assert health(settings) == "NOT_SERVING"
    assert pids(settings).get("database") is None
    assert stack.restarts(settings).get("database", 0) == restarts_before.get("database", 0)

    assert run_cli(settings, "start", "database") == 0
    assert pids(settings)["database"] is not None
    wait_for(lambda: health(settings), lambda h: h == "SERVING", 30, "the archive to serve")
    assert stack.restarts(settings).get("database", 0) == restarts_before.get("database", 0)
    archive_log = (settings.run_dir / "logs" / "archive.log").read_text()
    assert archive_log.count("not serving: a dependency is not ready") >= 1


def test_down_stops_the_watchdog_first_and_everything(settings: Settings) -> None:
    running = pids(settings)
    stopped = stack.down(settings)
    assert stopped[0] == WATCHDOG
    assert set(stopped) == set(running)
    assert all(not group_alive(pid) for pid in running.values() if pid)
    assert pids(settings) == {}
    assert stack.restarts(settings) == {}
    assert not Path(settings.run_dir / "held" / "database").exists()
