"""What every query type shares: its context, its errors, argument checks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from skymesh.runtime.auth import Identity

# Collections that hold credentials, other users' work or the mesh's own configuration:
# admins only, as in Kowalski.
PROTECTED = frozenset({"users", "filters", "queries", "catalog_metadata"})
# Never catalogs: the database's own, and catalogs still being ingested.
HIDDEN_PREFIXES = ("system.", "_ingest.")
DEFAULT_MAX_TIME_MS = 300_000


class QueryError(ValueError):
    """The request is malformed or asks for something that does not exist (HTTP 400)."""


@dataclass
class QueryContext:
    db: AsyncDatabase
    caller: Identity

    async def catalog_names(self) -> list[str]:
        names = await self.db.list_collection_names()
        visible = [n for n in names if not n.startswith(HIDDEN_PREFIXES)]
        if not self.caller.admin:
            visible = [n for n in visible if n not in PROTECTED]
        return sorted(visible)

    async def collection(self, query: dict[str, Any], query_type: str) -> AsyncCollection:
        catalog = query.get("catalog")
        if not isinstance(catalog, str) or not catalog:
            raise QueryError(f"{query_type}: query.catalog is required (a collection name)")
        if catalog in PROTECTED and not self.caller.admin:
            raise QueryError(f"{query_type}: catalog {catalog!r} is readable by admins only")
        if catalog not in await self.catalog_names():
            raise QueryError(
                f"{query_type}: catalog {catalog!r} not found; "
                "see info/catalog_names for the catalogs"
            )
        return self.db[catalog]


def mapping(query: dict[str, Any], key: str, query_type: str) -> dict[str, Any]:
    value = query.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise QueryError(f"{query_type}: query.{key} must be a JSON object")
    return value


def max_time_ms(kwargs: dict[str, Any], query_type: str) -> int:
    value = kwargs.get("max_time_ms", DEFAULT_MAX_TIME_MS)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise QueryError(f"{query_type}: kwargs.max_time_ms must be a positive integer")
    return value


def non_negative_int(kwargs: dict[str, Any], key: str, query_type: str) -> int:
    value = kwargs.get(key, 0)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise QueryError(f"{query_type}: kwargs.{key} must be a non-negative integer")
    return value


def sort_spec(kwargs: Mapping[str, Any], query_type: str) -> list[tuple[str, int]] | None:
    """Kowalski takes ``sort`` as ``[[field, direction], ...]`` or ``{field: direction}``."""
    sort = kwargs.get("sort")
    if sort is None:
        return None
    pairs = list(sort.items()) if isinstance(sort, Mapping) else sort
    try:
        result = [(str(field), int(direction)) for field, direction in pairs]
    except (TypeError, ValueError) as exc:
        raise QueryError(f"{query_type}: kwargs.sort must be [[field, 1|-1], ...]") from exc
    if any(direction not in (1, -1) for _, direction in result):
        raise QueryError(f"{query_type}: kwargs.sort directions must be 1 or -1")
    return result or None
