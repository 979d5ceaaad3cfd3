"""find and find_one; a find's answer is held to the query's caps (limits.py)."""

from __future__ import annotations

from typing import Any

from services.archive.queries.base import (
    QueryContext,
    mapping,
    max_time_ms,
    non_negative_int,
    restrict,
    sort_spec,
)
from services.archive.queries.limits import Budget
from services.archive.sky_search import collect

ADVICE = "add kwargs.limit (and page with kwargs.skip) or narrow the filter"


async def find(ctx: QueryContext, query: dict[str, Any], kwargs: dict[str, Any]) -> list[Any]:
    collection = await ctx.collection(query, "find")
    restriction = ctx.restriction(collection.name, "find")
    budget = Budget.of("find", kwargs, ctx.limits, ADVICE)
    cursor = collection.find(
        restrict(mapping(query, "filter", "find"), restriction),
        projection=mapping(query, "projection", "find") or None,
        skip=non_negative_int(kwargs, "skip", "find"),
        # One past the cap is enough to know the answer is too large.
        limit=budget.database_limit(non_negative_int(kwargs, "limit", "find")),
        sort=sort_spec(kwargs, "find"),
        max_time_ms=max_time_ms(kwargs, "find"),
    )
    if hint := kwargs.get("hint"):
        cursor = cursor.hint(hint)
    return await collect(cursor, budget.add)


async def find_one(ctx: QueryContext, query: dict[str, Any], kwargs: dict[str, Any]) -> Any:
    collection = await ctx.collection(query, "find_one")
    restriction = ctx.restriction(collection.name, "find_one")
    return await collection.find_one(
        restrict(mapping(query, "filter", "find_one"), restriction),
        projection=mapping(query, "projection", "find_one") or None,
        max_time_ms=max_time_ms(kwargs, "find_one"),
    )
