"""`skymesh up` / `skymesh down`: everything started is stopped, children included."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from skymesh.cli import main
from skymesh.config import Settings
from skymesh.infra import stack
from skymesh.infra.process import Supervisor, group_alive, port_open
from tests.conftest import free_ports

pytestmark = pytest.mark.integration


def test_down_stops_every_component_and_its_children(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = stack.with_secret(
        replace(Settings.from_env(), ports=free_ports(), run_dir=tmp_path / "run")
    )
    stack.up(
        settings,
        only=("database", "archive", "portal", "gateway"),
        in_memory_db=True,
        report=lambda _: None,
    )
    running = Supervisor(settings.run_dir).status()
    assert set(running) == {"database", "archive", "portal", "gateway"}
    assert all(running.values())
    assert port_open(settings.ports.gateway)

    for key, value in settings.as_env().items():
        monkeypatch.setenv(key, value)
    assert main(["down"]) == 0

    for name, pid in running.items():
        assert pid is not None and not group_alive(pid), f"{name} left a process behind"
    assert Supervisor(settings.run_dir).status() == {}
    assert not port_open(settings.ports.gateway)
    assert main(["status"]) == 0  # "nothing runs"
