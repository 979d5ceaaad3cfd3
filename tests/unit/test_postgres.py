"""PostgreSQL's spec: loopback only, initdb once, and a stop that is a fast shutdown."""

import sys
import time
from pathlib import Path

import pytest

from skymesh.config import Ports, Settings
from skymesh.infra import postgres
from skymesh.infra.process import Managed, Supervisor, group_alive

# Stands in for the postmaster: keeps running on SIGTERM (a smart shutdown waits for its
# clients) and exits on SIGINT (a fast shutdown), noting it.
FAKE_SERVER = """
import signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
def fast(*_):
    open(sys.argv[1], "w").write("fast shutdown")
    sys.exit(0)
signal.signal(signal.SIGINT, fast)
open(sys.argv[2], "w").close()
while True:
    time.sleep(0.1)
"""


@pytest.fixture
def fake_bin(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(postgres, "bin_dir", lambda: Path("/pg/bin"))
    return Path("/pg/bin")


def test_the_server_listens_on_the_loopback_with_its_socket_in_its_data_folder(
    tmp_path: Path, fake_bin: Path
) -> None:
    settings = Settings(ports=Ports(postgres=6543), run_dir=tmp_path)
    data = tmp_path / "postgres"
    assert postgres.server_argv(settings, data) == [
        *(str(fake_bin / "postgres"), "-D", str(data), "-p", "6543", "-k", str(data)),
        *("-c", "listen_addresses=127.0.0.1"),
    ]


def test_a_socket_path_too_long_for_unix_sockets_means_tcp_only(fake_bin: Path) -> None:
    data = Path("/" + "d" * 100) / "postgres"
    argv = postgres.server_argv(Settings(), data)
    assert argv[argv.index("-k") + 1] == ""


def test_initdb_runs_only_when_there_is_no_cluster(tmp_path: Path, fake_bin: Path) -> None:
    data = tmp_path / "postgres"
    data.mkdir()
    (data / "PG_VERSION").write_text("15\n")
    assert postgres.init_cluster(data, None) is False  # /pg/bin/initdb would fail


def test_a_folder_with_something_else_in_it_is_never_initialised(
    tmp_path: Path, fake_bin: Path
) -> None:
    data = tmp_path / "postgres"
    data.mkdir()
    (data / "notes.txt").write_text("not a cluster")
    with pytest.raises(RuntimeError, match="no PG_VERSION"):
        postgres.init_cluster(data, None)
    assert (data / "notes.txt").exists()


def test_the_supervisors_sigterm_reaches_the_server_as_a_fast_shutdown(tmp_path: Path) -> None:
    got, started = tmp_path / "signals", tmp_path / "started"
    wrapper = [sys.executable, "-m", postgres.MODULE, "--cwd", str(tmp_path), "--"]
    supervisor = Supervisor(tmp_path / "run")
    proc = supervisor.start(
        Managed(
            name="postgres",
            argv=[*wrapper, sys.executable, "-c", FAKE_SERVER, str(got), str(started)],
            ready=started.exists,
            startup_timeout=10,
        )
    )
    begun = time.monotonic()
    assert supervisor.stop_all(timeout=5) == ["postgres"]
    assert time.monotonic() - begun < 4  # not the SIGKILL after the timeout
    assert got.read_text() == "fast shutdown"
    assert not group_alive(proc.pid)
