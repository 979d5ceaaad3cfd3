"""count_documents and estimated_document_count.

For a caller whose streams restrict the collection, estimated_document_count is a count of
the documents they may read (the collection's metadata count would tell them how many alerts
other programids hold).
"""

from __future__ import annotations

from typing import Any

from services.archive.queries.base import QueryContext, mapping, max_time_ms, restrict


async def count_documents(ctx: QueryContext, query: dict[str, Any], kwargs: dict[str, Any]) -> int:
    collection = await ctx.collection(query, "count_documents")
    restriction = ctx.restriction(collection.name, "count_documents")
    return await collection.count_documents(
        restrict(mapping(query, "filter", "count_documents"), restriction),
        maxTimeMS=max_time_ms(kwargs, "count_documents"),
    )


async def estimated_document_count(
    ctx: QueryContext, query: dict[str, Any], kwargs: dict[str, Any]
) -> int:
    collection = await ctx.collection(query, "estimated_document_count")
    restriction = ctx.restriction(collection.name, "estimated_document_count")
    time_limit = max_time_ms(kwargs, "estimated_document_count")
    if restriction is not None:
        return await collection.count_documents(restriction, maxTimeMS=time_limit)
    return await collection.estimated_document_count(maxTimeMS=time_limit)
