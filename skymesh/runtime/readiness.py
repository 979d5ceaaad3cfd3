"""Readiness probes of a service's dependencies, for its gRPC health status.

Each ``*_ready`` function returns a probe: an async callable answering True when the
dependency serves now. ``run_service`` calls it every few seconds and sets the service's
health SERVING or NOT_SERVING. Probes are short (about a second at most) and never raise.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
from collections.abc import Awaitable, Callable

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

log = logging.getLogger(__name__)

Probe = Callable[[], Awaitable[bool]]
PROBE_TIMEOUT_S = 1.5


def mongo_ready(uri: str) -> Probe:
    """The MongoDB-wire database answers ``ping``."""
    from pymongo import AsyncMongoClient

    client: AsyncMongoClient | None = None

    async def probe() -> bool:
        nonlocal client
        if client is None:  # made lazily: it binds to the running loop
            timeout_ms = int(PROBE_TIMEOUT_S * 1000)
            client = AsyncMongoClient(
                uri, serverSelectionTimeoutMS=timeout_ms, connectTimeoutMS=timeout_ms
            )
        with contextlib.suppress(Exception):
            await asyncio.wait_for(client.admin.command("ping"), PROBE_TIMEOUT_S * 2)
            return True
        return False

    return probe


def postgres_ready(dsn: str) -> Probe:
    """PostgreSQL answers ``SELECT 1`` (one connection, kept between probes)."""
    import asyncpg

    dsn = dsn.replace("postgresql+asyncpg://", "postgresql://")
    connection: asyncpg.Connection | None = None

    async def probe() -> bool:
        nonlocal connection
        try:
            if connection is None or connection.is_closed():
                connection = await asyncpg.connect(dsn, timeout=PROBE_TIMEOUT_S)
            return await connection.fetchval("SELECT 1", timeout=PROBE_TIMEOUT_S) == 1
        except Exception:
            if connection is not None:
                connection.terminate()
            connection = None
            return False

    return probe


def triton_ready(url: str) -> Probe:
    """Triton reports itself ready (every model loaded, as ``--strict-readiness`` has it)."""
    import tritonclient.grpc.aio as triton_aio

    client: triton_aio.InferenceServerClient | None = None

    async def probe() -> bool:
        nonlocal client
        if client is None:
            client = triton_aio.InferenceServerClient(url)
        with contextlib.suppress(Exception):
            return bool(await client.is_server_ready(client_timeout=PROBE_TIMEOUT_S))
        return False

    return probe


def grpc_service_ready(address: str) -> Probe:
    """Another mesh service reports SERVING (its own dependencies included)."""
    channel: grpc.aio.Channel | None = None

    async def probe() -> bool:
        nonlocal channel
        if channel is None:
            channel = grpc.aio.insecure_channel(address)
        with contextlib.suppress(grpc.RpcError, asyncio.TimeoutError):
            response = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=PROBE_TIMEOUT_S
            )
            return response.status == health_pb2.HealthCheckResponse.SERVING
        return False

    return probe


def kafka_ready(bootstrap: str) -> Probe:
    """A Kafka bootstrap server accepts a connection and answers ApiVersions."""
    servers = [s.rsplit(":", 1) for s in bootstrap.split(",") if s.strip()]

    async def probe() -> bool:
        for host, port in servers:
            if await _kafka_answers(host.strip(), int(port)):
                return True
        return False

    return probe


async def _kafka_answers(host: str, port: int) -> bool:
    # ApiVersions v0: the one request every Kafka version answers, even before it is unfenced
    # (the broker's clients handle that on their own; here the question is "is it there").
    client_id = b"skymesh-health"
    body = struct.pack(">hhih", 18, 0, 0x5C2, len(client_id)) + client_id
    writer = None
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_S):
            reader, writer = await asyncio.open_connection(host, port)
            writer.write(struct.pack(">i", len(body)) + body)
            await writer.drain()
            size = struct.unpack(">i", await reader.readexactly(4))[0]
            response = await reader.readexactly(size)
        correlation_id, error_code = struct.unpack_from(">ih", response)
        return correlation_id == 0x5C2 and error_code == 0
    except (TimeoutError, OSError, asyncio.IncompleteReadError, struct.error):
        return False
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
