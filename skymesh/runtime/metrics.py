"""Prometheus metrics: every service serves ``/metrics`` over HTTP on its own port
(``SKYMESH_<SERVICE>_METRICS_PORT``) with the latency of the gRPC calls it answers; services
add their own (the broker's pipeline, the ml service's Triton calls).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from prometheus_client import Histogram, start_http_server

from skymesh.config import HOST
from skymesh.runtime.auth import handler_with

# Seconds; from a cached authorisation to a whole broker batch.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

GRPC_SECONDS = Histogram(
    "skymesh_grpc_server_handling_seconds",
    "Time a service took to answer a gRPC call, by method and status code.",
    ["grpc_service", "grpc_method", "grpc_code"],
    buckets=LATENCY_BUCKETS,
)


def serve_metrics(port: int, host: str = HOST) -> None:
    """``/metrics`` on ``host`` (the services' bind address), from a thread of
    prometheus_client's own."""
    start_http_server(port, addr=host)


def _code(context: grpc.aio.ServicerContext, failed: bool) -> str:
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code.name
    return "UNKNOWN" if failed else "OK"


class MetricsInterceptor(grpc.aio.ServerInterceptor):
    """Times every unary-response call the service answers (streams are left alone)."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None or handler.response_streaming or handler.request_streaming:
            return handler
        service, _, method = handler_call_details.method.lstrip("/").rpartition("/")
        inner = handler.unary_unary

        async def timed(request: Any, context: grpc.aio.ServicerContext) -> Any:
            started = time.perf_counter()
            failed = True
            try:
                reply = await inner(request, context)
                failed = False
                return reply
            finally:
                GRPC_SECONDS.labels(service, method, _code(context, failed)).observe(
                    time.perf_counter() - started
                )

        return handler_with(handler, timed)
