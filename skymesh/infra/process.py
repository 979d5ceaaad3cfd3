"""Supervised child processes: one process group each, a pid file, a log file, readiness.

Every component runs in its own session (process group) so that stopping it also stops
whatever it spawned (Kafka's JVM threads are one process, but Triton spawns Python backend
stubs): no orphans survive a stop.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from skymesh.config import HOST

# /proc states of a process that has exited (zombie, dead) or whose entry is already gone.
DEAD_STATES = frozenset({"Z", "X", None})
# Stopped before anything else, so that it never restarts what is being stopped.
WATCHDOG = "watchdog"


class StartupError(RuntimeError):
    """A component did not become ready; the message names it and points at its log."""


def port_open(port: int, host: str = HOST, timeout: float = 0.5) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=timeout):
        return True
    return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


@dataclass
class Managed:
    """A command to supervise, with its readiness probe."""

    name: str
    argv: list[str]
    ready: Callable[[], bool]
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    startup_timeout: float = 120.0


class Supervisor:
    """Starts components in order, waits for each to be ready, stops them in reverse."""

    def __init__(self, run_dir: Path, order: Sequence[str] = ()) -> None:
        self.run_dir = run_dir
        # Start order: stop_all stops these in reverse, whatever their pid files' ages say
        # (a component the watchdog restarted has a newer pid file than its dependents).
        self.order = tuple(order)
        self.pid_dir = run_dir / "pids"
        self.log_dir = run_dir / "logs"
        self._started: list[tuple[str, subprocess.Popen[bytes]]] = []

    def pid_file(self, name: str) -> Path:
        return self.pid_dir / f"{name}.pid"

    def log_file(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    @contextlib.contextmanager
    def lock(self, name: str) -> Iterator[None]:
        """Holds ``name``'s lock: one starter or stopper of a component at a time, across
        processes (``skymesh up`` twice at once, the watchdog, ``skymesh stop``) and threads."""
        lock_dir = self.run_dir / "locks"
        lock_dir.mkdir(parents=True, exist_ok=True)
        with (lock_dir / f"{name}.lock").open("a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def running(self, name: str) -> int | None:
        """The pid of ``name`` when it runs, else None."""
        pid = read_pid(self.pid_file(name))
        return pid if pid is not None and pid_alive(pid) else None

    def start(self, spec: Managed) -> subprocess.Popen[bytes]:
        """Starts ``spec`` and waits until it is ready; refuses when it already runs."""
        with self.lock(spec.name):
            if (pid := self.running(spec.name)) is not None:
                raise StartupError(f"{spec.name} already runs (pid {pid}); stop it first")
            proc = self.spawn(spec)
            self.wait_ready(spec, proc)
        return proc

    def ensure(self, spec: Managed) -> bool:
        """Starts ``spec`` unless it runs, and waits until it is ready either way (another
        starter may have just spawned it). True when this call started it."""
        with self.lock(spec.name):
            if (pid := self.running(spec.name)) is None:
                self.wait_ready(spec, self.spawn(spec))
                return True
            self.wait_ready(spec, None, pid)
            return False

    def spawn(self, spec: Managed) -> subprocess.Popen[bytes]:
        """Starts ``spec`` without waiting for it; the caller holds its lock."""
        self.pid_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_file(spec.name).open("ab")
        proc = subprocess.Popen(
            spec.argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **spec.env},
            cwd=spec.cwd,
            start_new_session=True,
        )
        log.close()
        self.pid_file(spec.name).write_text(str(proc.pid))
        self._started.append((spec.name, proc))
        return proc

    def wait_ready(
        self,
        spec: Managed,
        proc: subprocess.Popen[bytes] | None,
        pid: int | None = None,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> None:
        """Waits until ``spec`` is ready; raises when it exits first or takes too long."""
        deadline = time.monotonic() + spec.startup_timeout
        while time.monotonic() < deadline and not cancelled():
            exited = proc.poll() is not None if proc is not None else not pid_alive(pid or 0)
            if exited:
                code = proc.returncode if proc is not None else "?"
                raise StartupError(
                    f"{spec.name} exited with code {code} during startup; "
                    f"log {self.log_file(spec.name)}:\n{tail(self.log_file(spec.name))}"
                )
            if spec.ready():
                return
            time.sleep(0.2)
        if cancelled():
            return
        raise StartupError(
            f"{spec.name} was not ready within {spec.startup_timeout:.0f}s; "
            f"log {self.log_file(spec.name)}:\n{tail(self.log_file(spec.name))}"
        )

    def stop_all(self, timeout: float = 20.0) -> list[str]:
        """Stops everything with a pid file under this run dir: the watchdog first, then in
        reverse start order (unknown names, newest first, before those)."""
        stopped = []
        names = (
            sorted(
                (p.stem for p in self.pid_dir.glob("*.pid")),
                key=self._stop_rank,
            )
            if self.pid_dir.exists()
            else []
        )
        for name in names:
            if self.stop(name, timeout):
                stopped.append(name)
        for _, proc in self._started:
            with contextlib.suppress(Exception):
                proc.wait(timeout=0)
        self._started.clear()
        return stopped

    def _stop_rank(self, name: str) -> tuple[int, float]:
        if name == WATCHDOG:
            return (0, 0.0)
        if name in self.order:
            return (2, -self.order.index(name))
        with contextlib.suppress(FileNotFoundError):
            return (1, -self.pid_file(name).stat().st_mtime)
        return (1, 0.0)

    def stop(self, name: str, timeout: float = 20.0) -> bool:
        with self.lock(name):
            pid_file = self.pid_file(name)
            pid = read_pid(pid_file)
            pid_file.unlink(missing_ok=True)
            if pid is None or not pid_alive(pid):
                return False
            terminate_group(pid, timeout)
        for started_name, proc in self._started:
            if started_name == name:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=1)
        return True

    def status(self) -> dict[str, int | None]:
        """Name -> pid for each component with a pid file (None when it no longer runs)."""
        if not self.pid_dir.exists():
            return {}
        result: dict[str, int | None] = {}
        for pid_file in sorted(self.pid_dir.glob("*.pid")):
            pid = read_pid(pid_file)
            result[pid_file.stem] = pid if pid is not None and pid_alive(pid) else None
        return result


def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0): reap it if it is our child, and count it as gone.
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    return _state(pid) not in DEAD_STATES


def terminate_group(pid: int, timeout: float) -> None:
    """SIGTERM the process group, then SIGKILL whatever is left after ``timeout``."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not group_alive(pid):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and group_alive(pid):
        time.sleep(0.1)


def group_alive(pgid: int) -> bool:
    pid_alive(pgid)  # reaps the leader if it is our zombie
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # Only zombies left in the group count as gone.
    return any(_state(pid) not in DEAD_STATES for pid in _group_members(pgid))


def _group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text()
                fields_after_name = stat.rsplit(")", 1)[1].split()
                if int(fields_after_name[2]) == pgid:
                    members.append(int(entry.name))
    return members


def _state(pid: int) -> str | None:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None
