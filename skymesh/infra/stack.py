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
from skymesh.infra import database, gateway, kafka, postgres, triton
from skymesh.infra.process import Managed, Supervisor

# Services that have an implementation to run, in start order (each waits for the ones
# before it to be healthy; the broker last, as it pulls work into the others).
SERVICES = ("archive", "portal", "ml", "filters", "broker")
INFRASTRUCTURE = ("database", "postgres", "kafka", "triton")


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


def grpc_serving(port: int) -> bool:
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            response = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=1
            )
        return response.status == health_pb2.HealthCheckResponse.SERVING
    except grpc.RpcError:
        return False


def service_process(settings: Settings, name: str) -> Managed:
    port = getattr(settings.ports, name)
    passthrough = {k: v for k, v in os.environ.items() if k.startswith("OTEL_")}
    return Managed(
        name=name,
        argv=[sys.executable, "-m", f"services.{name}"],
        env={**passthrough, **settings.as_env(), "PYTHONUNBUFFERED": "1"},
        cwd=REPO_ROOT,
        ready=lambda: grpc_serving(port),
        startup_timeout=60,
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
) -> Supervisor:
    supervisor = Supervisor(settings.run_dir)
    wanted = set(only) if only is not None else None
    try:
        for name, spec in components(settings, in_memory_db).items():
            if wanted is None or name in wanted:
                report(f"starting {name}")
                supervisor.start(spec())
    except BaseException:
        supervisor.stop_all()
        raise
    return supervisor


def down(settings: Settings) -> list[str]:
    return Supervisor(settings.run_dir).stop_all()
