"""gRPC aio server bootstrap: auth, health, reflection, tracing, metrics, graceful shutdown."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from skymesh.config import Settings
from skymesh.runtime.auth import AuthInterceptor, CachedResolver, Resolver, access_rules
from skymesh.runtime.logs import setup_logging
from skymesh.runtime.metrics import MetricsInterceptor, serve_metrics
from skymesh.runtime.tracing import setup_tracing, shutdown_tracing

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 256 * 1024 * 1024  # alert batches carry cutouts
READINESS_INTERVAL_S = 2.0


@dataclass
class Service:
    """What a service process hands to :func:`run_service`."""

    name: str
    # Full service names (package.Service) registered below, for health and reflection.
    service_names: Sequence[str]
    register: Callable[[grpc.aio.Server], None]
    # Who a credential is: the portal resolves from its database; None (every other service)
    # asks the portal's Authorize RPC.
    resolver: Resolver | None = None
    on_start: Callable[[], Awaitable[None]] | None = None
    on_stop: Callable[[], Awaitable[None]] | None = None
    # Long-running work beside the server (the broker's consume loop).
    background: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # Whether the service's dependencies serve now (see skymesh.runtime.readiness): its
    # health is SERVING or NOT_SERVING accordingly. None: SERVING while the process runs.
    ready: Callable[[], Awaitable[bool]] | None = None


def server_options() -> list[tuple[str, int]]:
    return [
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    ]


async def serve(service: Service, settings: Settings, port: int) -> None:
    if len(settings.jwt_secret) < 32:
        raise SystemExit(
            "SKYMESH_JWT_SECRET must be set to at least 32 characters "
            "(`skymesh up` generates one in the run folder)"
        )
    from skymesh.runtime.clients import PortalResolver  # clients import this module

    # The portal reads its own database on every call; the others cache its answers briefly.
    resolver = service.resolver or CachedResolver(PortalResolver(settings, caller=service.name))
    interceptor = AuthInterceptor(
        settings.jwt_secret, access_rules(service.service_names), resolver
    )
    # Metrics outermost: refused calls are timed too.
    server = grpc.aio.server(
        interceptors=[MetricsInterceptor(), interceptor], options=server_options()
    )
    service.register(server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        [*service.service_names, health.SERVICE_NAME, reflection.SERVICE_NAME], server
    )
    server.add_insecure_port(f"{settings.bind_host}:{port}")

    if service.on_start:
        await service.on_start()
    health_names = ("", *service.service_names)
    # Set before the server answers: the servicer says SERVING for "" until told otherwise.
    ready = await _probe(service.ready) if service.ready else True
    await _set_health(health_servicer, health_names, ready)
    await server.start()
    tasks = [asyncio.create_task(work(), name=work.__name__) for work in service.background]
    if service.ready:
        probe_loop = asyncio.create_task(
            _watch_readiness(service.ready, health_servicer, health_names, ready)
        )
    log.info("serving", extra={"fields": {"address": f"{settings.bind_host}:{port}"}})

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    for task in tasks:
        task.add_done_callback(lambda t: t.cancelled() or t.exception() is None or stop.set())
    await stop.wait()

    log.info("shutting down")
    if service.ready:
        probe_loop.cancel()
    await health_servicer.enter_graceful_shutdown()
    for task in tasks:
        task.cancel()
    failed = False
    for outcome in await asyncio.gather(*tasks, return_exceptions=True):
        if isinstance(outcome, Exception):
            failed = True
            log.error("background task failed", exc_info=outcome)
    await server.stop(grace=5)
    if service.on_stop:
        await service.on_stop()
    shutdown_tracing()
    if failed:
        # A dead consume loop must not look healthy: exit non-zero so a supervisor restarts us.
        raise SystemExit(1)


async def _probe(ready: Callable[[], Awaitable[bool]]) -> bool:
    try:
        return bool(await ready())
    except Exception:
        log.exception("readiness probe failed")
        return False


async def _set_health(
    servicer: health.aio.HealthServicer, names: Sequence[str], ready: bool
) -> None:
    status = (
        health_pb2.HealthCheckResponse.SERVING
        if ready
        else health_pb2.HealthCheckResponse.NOT_SERVING
    )
    for name in names:
        await servicer.set(name, status)


async def _watch_readiness(
    ready: Callable[[], Awaitable[bool]],
    servicer: health.aio.HealthServicer,
    names: Sequence[str],
    was_ready: bool,
) -> None:
    """Probes the dependencies every few seconds; logs each transition once."""
    if not was_ready:
        log.warning("not serving: a dependency is not ready")
    while True:
        await asyncio.sleep(READINESS_INTERVAL_S)
        now_ready = await _probe(ready)
        if now_ready != was_ready:
            await _set_health(servicer, names, now_ready)
            if now_ready:
                log.info("serving: dependencies ready again")
            else:
                log.warning("not serving: a dependency is not ready")
            was_ready = now_ready


def run_service(build: Callable[[Settings], Service], port_name: str) -> None:
    """Entry point of a service process: ``python -m services.<name>``."""
    settings = Settings.from_env()
    setup_logging(port_name, settings.log_level)
    setup_tracing(port_name)
    serve_metrics(getattr(settings.ports, f"{port_name}_metrics"), settings.bind_host)

    async def main() -> None:
        # Built inside the loop: gRPC aio channels bind to the loop they are created on.
        await serve(build(settings), settings, getattr(settings.ports, port_name))

    asyncio.run(main())
