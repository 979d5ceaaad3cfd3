"""`skymesh up` / `skymesh down`: everything started is stopped, children included."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import time
from pathlib import Path

import asyncpg
import pytest

from skymesh.cli import main
from skymesh.config import HOST, POSTGRES_USER, Settings
from skymesh.infra import postgres, stack
from skymesh.infra.process import DEAD_STATES, Supervisor, group_alive, port_open
from tests.conftest import mesh_settings
from tests.polling import wait_for

pytestmark = pytest.mark.integration


def process_tree(pid: int) -> set[int]:
    """``pid`` and all its descendants. PostgreSQL's children each run in a session of their
    own, so a process group check alone would not see them."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(parent, []).append(int(entry.name))
    tree, todo = set(), [pid]
    while todo:
        tree.add(current := todo.pop())
        todo.extend(children.get(current, []))
    return tree


def running_postgres(pids: set[int]) -> set[int]:
    """Those of ``pids`` that are still a live PostgreSQL process."""
    alive = set()
    for pid in pids:
        with contextlib.suppress(OSError, IndexError):
            proc = Path("/proc") / str(pid)
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
            if (proc / "comm").read_text().strip() == "postgres" and state not in DEAD_STATES:
                alive.add(pid)
    return alive


def test_down_stops_every_component_and_its_children(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = mesh_settings(tmp_path / "run")
    stack.up(
        settings,
        only=("database", "postgres", "archive", "portal", "gateway"),
        in_memory_db=True,
        report=lambda _: None,
    )
    running = Supervisor(settings.run_dir).status()
    assert set(running) == {"database", "postgres", "archive", "portal", "gateway"}
    assert all(running.values())
    assert port_open(settings.ports.gateway)
    assert running["postgres"] is not None
    postgres_processes = running_postgres(process_tree(running["postgres"]))
    # The postmaster and at least its checkpointer, background writer and WAL writer.
    assert len(postgres_processes) >= 4

    for key, value in settings.as_env().items():
        monkeypatch.setenv(key, value)
    assert main(["down"]) == 0

    for name, pid in running.items():
        assert pid is not None and not group_alive(pid), f"{name} left a process behind"
    assert running_postgres(postgres_processes) == set(), "postgres left a process behind"
    # A clean shutdown removes the lock file (a killed postmaster would leave it).
    assert not (settings.run_dir / "postgres" / "postmaster.pid").exists()
    assert (
        "database system is shut down" in (settings.run_dir / "logs" / "postgres.log").read_text()
    )
    assert Supervisor(settings.run_dir).status() == {}
    assert not port_open(settings.ports.gateway)
    assert not port_open(settings.ports.postgres)
    assert main(["status"]) == 0  # "nothing runs"


async def postgres_execute(settings: Settings, *statements: str) -> list[str]:
    """Runs ``statements`` on the portal's database; the first column of the last one's rows."""
    dsn = settings.postgres_dsn.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(dsn, timeout=10)
    try:
        for statement in statements[:-1]:
            await connection.execute(statement)
        return [row[0] for row in await connection.fetch(statements[-1])]
    finally:
        await connection.close()


def test_postgres_data_survives_a_stop_and_a_start(tmp_path: Path) -> None:
    settings = mesh_settings(tmp_path / "run")
    stack.up(settings, only=["postgres"], report=lambda _: None)
    idle_client = None
    try:
        rows = asyncio.run(
            postgres_execute(
                settings,
                "create table notes (body text not null)",
                "insert into notes values ('kept across restarts')",
                "select body from notes",
            )
        )
        assert rows == ["kept across restarts"]
        # A client left connected must not hold the stop up (a fast shutdown, not a smart one).
        psql = [str(postgres.bin_dir() / "psql"), "-X", "-h", HOST, "-U", POSTGRES_USER]
        where = ["-p", str(settings.ports.postgres), "-d", settings.db_name]
        idle_client = subprocess.Popen(
            [*psql, *where, "-c", "select pg_sleep(300)"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(
            lambda: asyncio.run(
                postgres_execute(
                    settings, "select count(*) from pg_stat_activity where query like '%pg_sleep%'"
                )
            ),
            lambda counts: counts[0] >= 2,  # psql's session and this query's own
            timeout=10,
            what="psql to connect",
        )
        started = time.monotonic()
        assert stack.down(settings) == ["postgres"]
        assert time.monotonic() - started < 10
        assert idle_client.wait(timeout=10) != 0  # disconnected by the server
        assert not port_open(settings.ports.postgres)

        stack.up(settings, only=["postgres"], report=lambda _: None)
        assert asyncio.run(postgres_execute(settings, "select body from notes")) == [
            "kept across restarts"
        ]
        log = (settings.run_dir / "logs" / "postgres.log").read_text()
        assert "received fast shutdown request" in log
        assert log.count("database system is shut down") == 1
        assert "database system was interrupted" not in log  # no crash recovery on the restart
    finally:
        if idle_client is not None and idle_client.poll() is None:
            idle_client.kill()
            idle_client.wait()
        stack.down(settings)
