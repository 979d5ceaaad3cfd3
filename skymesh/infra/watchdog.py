"""The watchdog: restarts a crashed component of the mesh, with backoff.

``python -m skymesh.infra.watchdog`` runs beside the components (started by ``skymesh up``,
stopped first by ``skymesh down``). It polls their pid files; a dead component that is
watched (``mesh.json``) and not held (``held/``) is started again from the same spec
``stack.components`` gives, after 1 s, then 2, 4 ... 30 s for a component that keeps dying;
one that stays up a minute starts the backoff over. Each restart runs in its own thread, so a
slow readiness wait never delays the restart of another component. Restart counts persist in
``restarts.json``; each restart is logged in ``logs/watchdog.log``.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from skymesh.config import Settings
from skymesh.infra import stack, state
from skymesh.infra.process import Managed, StartupError, Supervisor
from skymesh.runtime.logs import setup_logging

log = logging.getLogger("skymesh.watchdog")

POLL_S = 0.5
FIRST_DELAY_S = 1.0
MAX_DELAY_S = 30.0
STABLE_S = 60.0


@dataclass
class Backoff:
    delay: float = FIRST_DELAY_S
    due: float | None = None  # monotonic time of the pending restart
    restarted_at: float | None = None  # monotonic time of the latest restart


class Watchdog:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.run_dir = settings.run_dir
        self.supervisor = Supervisor(settings.run_dir, order=stack.ORDER)
        self.stopping = threading.Event()
        self.backoff: dict[str, Backoff] = {}
        self.restarting: dict[str, threading.Thread] = {}
        self._count_lock = threading.Lock()

    def poll(self) -> None:
        plan = state.read_plan(self.run_dir)
        specs = stack.components(self.settings, plan.in_memory_db)
        now = time.monotonic()
        for name in plan.watched:
            backoff = self.backoff.setdefault(name, Backoff())
            busy = (thread := self.restarting.get(name)) is not None and thread.is_alive()
            if busy or name not in specs:
                continue
            if state.is_held(self.run_dir, name) or self.supervisor.running(name) is not None:
                backoff.due = None
                stable = backoff.restarted_at is None or now - backoff.restarted_at > STABLE_S
                if stable:
                    backoff.delay = FIRST_DELAY_S
                continue
            if backoff.due is None:
                backoff.due = now + backoff.delay
                fields = {"component": name, "restart_in_s": backoff.delay}
                log.warning("component is down", extra={"fields": fields})
                continue
            if now < backoff.due:
                continue
            backoff.due = None
            backoff.restarted_at = now
            backoff.delay = min(backoff.delay * 2, MAX_DELAY_S)
            thread = threading.Thread(
                target=self.restart, args=(name, specs[name]), name=f"restart-{name}"
            )
            self.restarting[name] = thread
            thread.start()

    def restart(self, name: str, spec_of: Callable[[], Managed]) -> None:
        try:
            with self.supervisor.lock(name):
                # Checked again under the lock: `skymesh stop` or `start` may have come first.
                if (
                    self.stopping.is_set()
                    or state.is_held(self.run_dir, name)
                    or self.supervisor.running(name) is not None
                ):
                    return
                spec = spec_of()
                proc = self.supervisor.spawn(spec)
            count = self.count_restart(name)
            fields = {"component": name, "pid": proc.pid, "restarts": count}
            log.warning("restarted component", extra={"fields": fields})
            started = time.monotonic()
            self.supervisor.wait_ready(spec, proc, cancelled=self.stopping.is_set)
            if not self.stopping.is_set():
                fields = {"component": name, "ready_after_s": round(time.monotonic() - started, 1)}
                log.info("component ready again", extra={"fields": fields})
        except (StartupError, OSError, RuntimeError) as exc:
            log.error("restart failed", extra={"fields": {"component": name, "error": str(exc)}})

    def count_restart(self, name: str) -> int:
        with self._count_lock:
            restarts = state.read_restarts(self.run_dir)
            count = restarts.get(name, state.Restarts()).count + 1
            restarts[name] = state.Restarts(count, time.time())
            state.write_restarts(self.run_dir, restarts)
            return count

    def run(self) -> None:
        log.info("watching", extra={"fields": {"run_dir": str(self.run_dir)}})
        self.poll()
        state.watchdog_ready_file(self.run_dir).write_text(str(os.getpid()))
        while not self.stopping.wait(POLL_S):
            try:
                self.poll()
            except Exception:  # a bad poll must not end the watch
                log.exception("poll failed")
        for thread in list(self.restarting.values()):
            thread.join(timeout=10)
        log.info("stopped")


def main() -> None:
    settings = Settings.from_env()
    setup_logging("watchdog", settings.log_level)
    watchdog = Watchdog(settings)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda _signum, _frame: watchdog.stopping.set())
    watchdog.run()


if __name__ == "__main__":
    main()
