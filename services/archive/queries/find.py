"""find and find_one."""

from __future__ import annotations

from typing import Any

from services.archive.queries.base import (
    QueryContext,
    QueryError,
    mapping,
    max_time_ms,
    non_negative_int,
)


def _sort(kwargs: dict[str, Any]) -> list[tuple[str, int]] | None:
    """Kowalski takes ``sort`` as ``[[field, direction], ...]`` or ``{field: direction}``."""
    sort = kwargs.get("sort")
    if sort is None:
        return None
    pairs = list(sort.items()) if isinstance(sort, dict) else sort
    try:
        result = [(str(field), int(direction)) for field, direction in pairs]
    except (TypeError, ValueError) as exc:
        raise QueryError("find: kwargs.sort must be [[field, 1|-1], ...]") from exc
    if any(direction not in (1, -1) for _, direction in result):
        raise QueryError("find: kwargs.sort directions must be 1 or -1")
    return result


async def find(ctx: QueryContext, query: dict[str, Any], kwargs: dict[str, Any]) -> list[Any]:
    collection = await ctx.collection(query, "find")
    cursor = collection.find(
        mapping(query, "filter", "find"),
        projection=mapping(query, "projection", "find") or None,
        skip=non_negative_int(kwargs, "skip", "find"),
        limit=non_negative_int(kwargs, "limit", "find"),
        sort=_sort(kwargs),
        max_time_ms=max_time_ms(kwargs, "find"),
    )
    if hint := kwargs.get("hint"):
        cursor = cursor.hint(hint)
    return await cursor.to_list()


async def find_one(ctx: QueryContext, query: dict[str, Any], kwargs: dict[str, Any]) -> Any:
    collection = await ctx.collection(query, "find_one")
    return await collection.find_one(
        mapping(query, "filter", "find_one"),
        projection=mapping(query, "projection", "find_one") or None,
        max_time_ms=max_time_ms(kwargs, "find_one"),
    )
