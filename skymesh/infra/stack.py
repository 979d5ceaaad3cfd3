"""The whole mesh on one machine: infrastructure first, then services, then the gateway."""

from __future__ import annotations

import os
import secrets
import sys
from collections.abc import Callable, Iterable
from dataclasses import replace

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from skymesh.config import REPO_ROOT, Settings
from skymesh.infra import database, gateway, kafka, postgres, state, triton
from skymesh.infra.process import WATCHDOG, Managed, Supervisor, free_port, read_pid

# Services that have an implementation to run, in start order (each waits for the ones
# before it to be healthy; the broker last, as it pulls work into the others).
SERVICES = ("archive", "portal", "ml", "filters", "broker")
INFRASTRUCTURE = ("database", "postgres", "kafka", "triton")
# Every component, in start order.
ORDER = (*INFRASTRUCTURE, *SERVICES, "gateway")


def with_secret(settings: Settings) -> Settings:
    """Settings with a JWT secret: the configured one, else one kept in the run dir."""
    if settings.jwt_secret:
        return settings
    path = settings.run_dir / "jwt_secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return replace(settings, jwt_secret=path.read_text().strip())


def grpc_health(port: int, timeout: float = 1.0) -> str | None:
    """The service's overall health status name (SERVING, NOT_SERVING), None when it does
    not answer."""
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            response = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=timeout
            )
    except grpc.RpcError:
        return None
    return health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)


def grpc_serving(port: int) -> bool:
    """The service answers and its dependencies are ready."""
    return grpc_health(port) == "SERVING"


def grpc_answering(port: int) -> bool:
    """The service's gRPC server answers, whether or not its dependencies are ready."""
    return grpc_health(port) is not None


def python_env(settings: Settings) -> dict[str, str]:
    """The environment of the mesh's own Python processes: the settings, and the caller's
    OpenTelemetry variables (where to export traces)."""
    passthrough = {k: v for k, v in os.environ.items() if k.startswith("OTEL_")}
    return {**passthrough, **settings.as_env(), "PYTHONUNBUFFERED": "1"}


def service_process(settings: Settings, name: str) -> Managed:
    port = getattr(settings.ports, name)
    return Managed(
        name=name,
        argv=[sys.executable, "-m", f"services.{name}"],
        env=python_env(settings),
        cwd=REPO_ROOT,
        # Started, not SERVING: a service reports NOT_SERVING while a dependency is down, and
        # a partial mesh (the ml service without Triton) must still start.
        ready=lambda: grpc_answering(port),
        startup_timeout=60,
    )


def broker_replica(settings: Settings, name: str) -> tuple[Managed, Settings]:
    """Another broker process of ``settings``' consumer groups, on ports of its own (gRPC and
    metrics); returns it and its settings (to reach its Status)."""
    ports = replace(settings.ports, broker=free_port(), broker_metrics=free_port())
    replica = replace(settings, ports=ports)
    return replace(service_process(replica, "broker"), name=name), replica


def watchdog_process(settings: Settings) -> Managed:
    ready_file = state.watchdog_ready_file(settings.run_dir)
    pid_file = settings.run_dir / "pids" / f"{WATCHDOG}.pid"

    def ready() -> bool:
        # The watchdog writes its pid there once it has read the plan and polled once.
        return ready_file.exists() and read_pid(ready_file) == read_pid(pid_file)

    return Managed(
        name=WATCHDOG,
        argv=[sys.executable, "-m", "skymesh.infra.watchdog"],
        env=python_env(settings),
        cwd=REPO_ROOT,
        ready=ready,
        startup_timeout=30,
    )


def components(settings: Settings, in_memory_db: bool = False) -> dict[str, Callable[[], Managed]]:
    """Name -> factory of its process spec, in start order."""
    specs: dict[str, Callable[[], Managed]] = {
        "database": lambda: database.managed(settings, in_memory=in_memory_db),
        "postgres": lambda: postgres.managed(settings),
        "kafka": lambda: kafka.managed(settings),
        "triton": lambda: triton.managed(settings),
    }
    for name in SERVICES:
        specs[name] = lambda name=name: service_process(settings, name)
    specs["gateway"] = lambda: gateway.managed(settings)
    return specs


def install(settings: Settings) -> None:
    """Everything that is downloaded once and cached under .cache (idempotent)."""
    kafka.ensure_installed(settings)


def up(
    settings: Settings,
    only: Iterable[str] | None = None,
    in_memory_db: bool = False,
    report: Callable[[str], None] = print,
    watch: bool = False,
) -> Supervisor:
    """Starts, in order, what of the mesh (or of ``only``) does not run, and waits until each
    is ready; what runs is left alone. Held components stay down. With ``watch``, the watchdog
    then restarts whatever of the running components crashes."""
    run_dir = settings.run_dir
    supervisor = Supervisor(run_dir, order=ORDER)
    wanted = set(only) if only is not None else None
    plan = state.read_plan(run_dir)
    if supervisor.running("database") is None:
        plan = replace(plan, in_memory_db=in_memory_db)
    started: list[str] = []
    try:
        for name, spec in components(settings, plan.in_memory_db).items():
            if wanted is not None and name not in wanted:
                continue
            if state.is_held(run_dir, name):
                report(f"{name} is held down (`skymesh start {name}` starts it)")
                continue
            if supervisor.running(name) is None:
                report(f"starting {name}")
            if supervisor.ensure(spec()):
                started.append(name)
        if watch:
            running = supervisor.status()
            plan = replace(plan, watched=tuple(n for n in ORDER if running.get(n)))
        state.write_plan(run_dir, plan)
        if watch and supervisor.running(WATCHDOG) is None:
            report("starting the watchdog")
            supervisor.ensure(watchdog_process(settings))
    except BaseException:
        # Only what this call started: what ran before it keeps running.
        for name in reversed(started):
            supervisor.stop(name)
        raise
    return supervisor


def down(settings: Settings) -> list[str]:
    """Stops everything (the watchdog first), and forgets holds and restart counts."""
    stopped = Supervisor(settings.run_dir, order=ORDER).stop_all()
    state.clear_held(settings.run_dir)
    state.restarts_file(settings.run_dir).unlink(missing_ok=True)
    state.plan_file(settings.run_dir).unlink(missing_ok=True)
    return stopped


def _checked(names: Iterable[str]) -> list[str]:
    names = list(names)
    if unknown := [n for n in names if n not in ORDER]:
        raise ValueError(f"unknown component(s): {', '.join(unknown)}; known: {', '.join(ORDER)}")
    return names


def hold(settings: Settings, names: Iterable[str]) -> list[str]:
    """Stops ``names`` (dependents first) and keeps them down: the watchdog leaves them alone
    until :func:`release`. Returns those that were running."""
    supervisor = Supervisor(settings.run_dir, order=ORDER)
    stopped = []
    for name in sorted(_checked(names), key=ORDER.index, reverse=True):
        # Marked before the stop, so a watchdog restart racing it sees the hold (both take
        # the component's lock).
        state.set_held(settings.run_dir, name, True)
        if supervisor.stop(name):
            stopped.append(name)
    return stopped


def release(settings: Settings, names: Iterable[str]) -> list[str]:
    """Lifts the hold on ``names`` and starts them (dependencies first), waiting until each is
    ready. Returns those this call started."""
    supervisor = Supervisor(settings.run_dir, order=ORDER)
    specs = components(settings, state.read_plan(settings.run_dir).in_memory_db)
    started = []
    for name in sorted(_checked(names), key=ORDER.index):
        state.set_held(settings.run_dir, name, False)
        if supervisor.ensure(specs[name]()):
            started.append(name)
    return started


def restarts(settings: Settings) -> dict[str, int]:
    """Component -> how many times the watchdog restarted it since the mesh came up."""
    return {name: r.count for name, r in state.read_restarts(settings.run_dir).items()}
