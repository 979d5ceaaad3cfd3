"""Maps exceptions to gRPC status codes in one place, so handlers only raise.

Envoy turns the codes into HTTP statuses (INVALID_ARGUMENT 400, UNAUTHENTICATED 401,
PERMISSION_DENIED 403, NOT_FOUND 404, UNAVAILABLE 503) and the gateway's Lua filter into
Kowalski's ``{"status": "error", "message"}`` envelope.

The codes also carry the mesh's failure classes: a dependency that cannot answer (database,
PostgreSQL, Triton, another service) is UNAVAILABLE or DEADLINE_EXCEEDED, which callers wait
out; only INVALID_ARGUMENT / OUT_OF_RANGE say that the request itself is bad (POISON_CODES).
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
import sqlalchemy.exc
from asyncpg.exceptions import (
    CannotConnectNowError,
    ConnectionDoesNotExistError,
    DataError,
    PostgresConnectionError,
)
from pymongo.errors import ConnectionFailure, ExecutionTimeout

from skymesh.runtime.auth import AuthError

log = logging.getLogger(__name__)


class NotFound(LookupError):
    """The named resource does not exist (HTTP 404)."""


class Forbidden(PermissionError):
    """The caller may not do this (HTTP 403)."""


class Conflict(RuntimeError):
    """A concurrent change won; the caller may retry (gRPC ABORTED)."""


class Unavailable(RuntimeError):
    """A dependency cannot answer now (HTTP 503); the request may be retried as it is."""


# The only answers that blame the request: everything else is the mesh's to wait out.
POISON_CODES = frozenset({grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.OUT_OF_RANGE})

# First match wins: the dependency outages before the generic classes they derive from
# (a PyMongo connection failure is not a bad request, nor is a timeout).
STATUS_OF: list[tuple[type[BaseException], grpc.StatusCode]] = [
    (Unavailable, grpc.StatusCode.UNAVAILABLE),
    (ExecutionTimeout, grpc.StatusCode.DEADLINE_EXCEEDED),
    (ConnectionFailure, grpc.StatusCode.UNAVAILABLE),  # AutoReconnect, server selection
    (PostgresConnectionError, grpc.StatusCode.UNAVAILABLE),
    (CannotConnectNowError, grpc.StatusCode.UNAVAILABLE),  # starting up or shutting down
    (ConnectionDoesNotExistError, grpc.StatusCode.UNAVAILABLE),
    (sqlalchemy.exc.OperationalError, grpc.StatusCode.UNAVAILABLE),
    (sqlalchemy.exc.InterfaceError, grpc.StatusCode.UNAVAILABLE),
    (sqlalchemy.exc.TimeoutError, grpc.StatusCode.UNAVAILABLE),  # connection pool
    (ConnectionError, grpc.StatusCode.UNAVAILABLE),  # refused, reset: the socket's peer
    (TimeoutError, grpc.StatusCode.DEADLINE_EXCEEDED),
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
            if (code := status_of(exc)) is not None:
                await context.abort(code, message_of(exc))
            log.exception("unhandled error in %s", method.__qualname__)
            await context.abort(grpc.StatusCode.INTERNAL, f"internal error: {exc}")

    return wrapper  # type: ignore[return-value]


def data_error(exc: BaseException) -> DataError | None:
    """The value PostgreSQL (or asyncpg, before sending it) refused, if that is what failed:
    a number beyond its column's type (an id over 32 bits), a NUL character in text or JSON.
    The request carried that value, so the request is bad, not the portal."""
    if not isinstance(exc, sqlalchemy.exc.DBAPIError):
        return None
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, DataError):
            return cause
        cause = cause.__cause__
    return None


_BIND = re.compile(r"invalid input for query argument \$\d+: (.*) \((.*)\)$", re.DOTALL)


def message_of(exc: BaseException) -> str:
    """What a refusal says: the exception's own words (a data error's without its SQL)."""
    if (refused := data_error(exc)) is not None:
        text = str(refused).splitlines()[0] if str(refused) else type(refused).__name__
        if bound := _BIND.match(text):
            return f"invalid value {bound.group(1)}: {bound.group(2)}"
        return f"invalid value: {text}"
    return str(exc) or type(exc).__name__


def status_of(exc: BaseException) -> grpc.StatusCode | None:
    """The status ``exc`` stands for, or None for an unexpected error (INTERNAL)."""
    if isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.connection_invalidated:
        return grpc.StatusCode.UNAVAILABLE
    if data_error(exc) is not None:
        return grpc.StatusCode.INVALID_ARGUMENT
    for kind, code in STATUS_OF:
        if isinstance(exc, kind):
            return code
    return None
