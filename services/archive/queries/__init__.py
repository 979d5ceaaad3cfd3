"""Kowalski's query types, one module each, behind one dispatcher."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pymongo.errors import OperationFailure

from services.archive.queries.aggregate import aggregate
from services.archive.queries.base import AUX_SUFFIX, QueryContext, QueryError, restrict
from services.archive.queries.cone_search import cone_search
from services.archive.queries.count import count_documents, estimated_document_count
from services.archive.queries.find import find, find_one
from services.archive.queries.info import info
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
    try:
        return await handler(ctx, query, kwargs)
    except OperationFailure as exc:
        # The database's own verdict on the filter/projection/options, e.g. an unknown operator.
        message = (exc.details or {}).get("errmsg") or str(exc)
        raise QueryError(f"{query_type}: {message}") from exc


__all__ = ["AUX_SUFFIX", "HANDLERS", "QueryContext", "QueryError", "execute", "restrict"]
