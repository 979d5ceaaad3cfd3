"""Operators a query may never use, refused wherever they appear.

One walk over every key and item of the caller's query (filter, projection, pipeline, kwargs):
an operator that runs code on the database server or writes to it is refused by name and
place, however deep it is nested (``$and``/``$or``/``$expr``/``$elemMatch``, ``$lookup``
sub-pipelines, ``$facet`` branches, ``$group`` accumulators, ...). The same walk hands every
join (``$lookup``/``$graphLookup``) to a check of the collection it reads, so a join nested
anywhere is checked too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from bson.code import Code

from services.archive.queries.base import QueryError

_RUNS_CODE = "it executes code on the server"
_WRITES = "it writes to a collection"
FORBIDDEN_OPERATORS: dict[str, str] = {
    "$where": "it executes JavaScript on the server",
    "$function": _RUNS_CODE,
    "$accumulator": _RUNS_CODE,
    "$eval": _RUNS_CODE,
    "$out": _WRITES,
    "$merge": _WRITES,
    # Kowalski refuses it too: it reads other collections, past the checks joins get.
    "$unionWith": "it reads other collections",
}
JOIN_OPERATORS = frozenset({"$lookup", "$graphLookup"})
# Far beyond any real query; a deeper one is an attempt to exhaust the server.
MAX_DEPTH = 100

# (operator, its body, where it was found)
JoinCheck = Callable[[str, Mapping[str, Any], str], None]


def check_query(
    value: Any, query_type: str, path: str = "", on_join: JoinCheck | None = None
) -> None:
    """Refuses ``value`` if it holds a forbidden operator, or a JavaScript code value,
    anywhere; calls ``on_join`` for every join found. ``path`` names ``value`` in messages."""
    # An explicit stack: a hostile nesting depth cannot reach Python's recursion limit.
    stack: list[tuple[str, Any, int]] = [(path, value, 0)]
    while stack:
        where, node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise QueryError(
                f"{query_type}: the query is nested more than {MAX_DEPTH} levels deep "
                f"(at {where or 'query'})"
            )
        children: list[tuple[str, Any, int]] = []
        if isinstance(node, Mapping):
            for key, item in node.items():
                if key in FORBIDDEN_OPERATORS:
                    raise QueryError(
                        f'{query_type}: "{key}" is not allowed in a query '
                        f"({FORBIDDEN_OPERATORS[key]}); found at {where or 'query'}"
                    )
                here = f"{where}.{key}" if where else str(key)
                if on_join is not None and key in JOIN_OPERATORS and isinstance(item, Mapping):
                    on_join(key, item, here)
                children.append((here, item, depth + 1))
        elif isinstance(node, list | tuple):
            children = [(f"{where}[{i}]", item, depth + 1) for i, item in enumerate(node)]
        elif isinstance(node, Code):
            # Extended JSON {"$code": ...}: only the operators above would run it.
            raise QueryError(
                f"{query_type}: JavaScript code values ($code) are not allowed in a query; "
                f"found at {where or 'query'}"
            )
        # Reversed, so that the first offence in document order is the one reported.
        stack.extend(reversed(children))
