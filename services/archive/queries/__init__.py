"""Kowalski's query types, one module each, behind one dispatcher."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any

from pymongo.errors import ExecutionTimeout, OperationFailure

from services.archive.queries.aggregate import aggregate
from services.archive.queries.base import AUX_SUFFIX, Limits, QueryContext, QueryError, restrict
from services.archive.queries.cone_search import cone_search
from services.archive.queries.count import count_documents, estimated_document_count
from services.archive.queries.find import find, find_one
from services.archive.queries.guard import check_query
from services.archive.queries.info import info
from services.archive.queries.limits import time_limit_ms, timed_out
from services.archive.queries.near import near

Handler = Callable[[QueryContext, dict[str, Any], dict[str, Any]], Awaitable[Any]]

HANDLERS: dict[str, Handler] = {
    "find": find,
    "find_one": find_one,
    "count_documents": count_documents,
    "estimated_document_count": estimated_document_count,
    "info": info,
    "aggregate": aggregate,
    "cone_search": cone_search,
    "near": near,
}


async def execute(ctx: QueryContext, request: Any) -> Any:
    """Runs one Kowalski request ``{query_type, query, kwargs}`` and returns its ``data``."""
    if not isinstance(request, dict):
        raise QueryError("request body must be a JSON object {query_type, query, kwargs}")
    query_type = request.get("query_type")
    if not isinstance(query_type, str) or not query_type:
        raise QueryError("query_type is required, one of: " + ", ".join(HANDLERS))
    handler = HANDLERS.get(query_type)
    if handler is None:
        raise QueryError(f"unknown query_type {query_type!r}; supported: " + ", ".join(HANDLERS))
    query = request.get("query")
    if not isinstance(query, dict):
        raise QueryError(f"{query_type}: 'query' must be a JSON object")
    kwargs = request.get("kwargs")
    kwargs = {} if kwargs is None else kwargs
    if not isinstance(kwargs, dict):
        raise QueryError(f"{query_type}: 'kwargs' must be a JSON object")
    check_query(query, query_type, on_join=functools.partial(ctx.check_join, query_type))
    check_query(kwargs, query_type, "kwargs")
    time_ms = time_limit_ms(kwargs, query_type, ctx.limits)
    # The handlers pass it on to the database as maxTimeMS.
    kwargs = {**kwargs, "max_time_ms": time_ms}
    try:
        # Enforced here too: a database that ignores maxTimeMS must not hold the caller (and
        # the archive's connection) for longer.
        async with asyncio.timeout(time_ms / 1000) as deadline:
            return await handler(ctx, query, kwargs)
    except TimeoutError as exc:
        if deadline.expired():
            raise timed_out(query_type, time_ms) from exc
        raise
    except ExecutionTimeout as exc:
        raise timed_out(query_type, time_ms) from exc
    except OperationFailure as exc:
        # The database's own verdict on the filter/projection/options, e.g. an unknown operator.
        message = (exc.details or {}).get("errmsg") or str(exc)
        raise QueryError(f"{query_type}: {message}") from exc


__all__ = [
    "AUX_SUFFIX",
    "HANDLERS",
    "Limits",
    "QueryContext",
    "QueryError",
    "execute",
    "restrict",
]
