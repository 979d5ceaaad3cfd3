"""Maps domain exceptions to gRPC status codes, so handlers only raise.

Envoy turns the codes into HTTP statuses (INVALID_ARGUMENT 400, UNAUTHENTICATED 401,
PERMISSION_DENIED 403, NOT_FOUND 404) and the gateway's Lua filter into Kowalski's
``{"status": "error", "message"}`` envelope.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc

from skymesh.runtime.auth import AuthError

log = logging.getLogger(__name__)


class NotFound(LookupError):
    """The named resource does not exist (HTTP 404)."""


class Forbidden(PermissionError):
    """The caller may not do this (HTTP 403)."""


class Conflict(RuntimeError):
    """A concurrent change won; the caller may retry (gRPC ABORTED)."""


STATUS_OF: list[tuple[type[BaseException], grpc.StatusCode]] = [
    (AuthError, grpc.StatusCode.UNAUTHENTICATED),
    (Conflict, grpc.StatusCode.ABORTED),
    (PermissionError, grpc.StatusCode.PERMISSION_DENIED),
    (LookupError, grpc.StatusCode.NOT_FOUND),
    (ValueError, grpc.StatusCode.INVALID_ARGUMENT),
]

Handler = TypeVar("Handler", bound=Callable[..., Awaitable[Any]])


def grpc_errors(method: Handler) -> Handler:
    """Decorates a servicer method: raised domain errors become gRPC statuses."""

    @functools.wraps(method)
    async def wrapper(self: Any, request: Any, context: grpc.aio.ServicerContext) -> Any:
        try:
            return await method(self, request, context)
        except grpc.aio.AbortError:
            raise
        except grpc.aio.AioRpcError as exc:
            # Another service's answer: pass its verdict on as it is (a refusal stays a
            # refusal, an outage stays retryable).
            await context.abort(exc.code(), exc.details() or exc.code().name)
        except Exception as exc:
            for kind, code in STATUS_OF:
                if isinstance(exc, kind):
                    await context.abort(code, str(exc))
            log.exception("unhandled error in %s", method.__qualname__)
            await context.abort(grpc.StatusCode.INTERNAL, f"internal error: {exc}")

    return wrapper  # type: ignore[return-value]
