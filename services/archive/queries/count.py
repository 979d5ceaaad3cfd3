"""count_documents and estimated_document_count."""

from __future__ import annotations

from typing import Any

from services.archive.queries.base import QueryContext, mapping, max_time_ms


async def count_documents(ctx: QueryContext, query: dict[str, Any], kwargs: dict[str, Any]) -> int:
    collection = await ctx.collection(query, "count_documents")
    return await collection.count_documents(
        mapping(query, "filter", "count_documents"),
        maxTimeMS=max_time_ms(kwargs, "count_documents"),
    )


async def estimated_document_count(
    ctx: QueryContext, query: dict[str, Any], kwargs: dict[str, Any]
) -> int:
    collection = await ctx.collection(query, "estimated_document_count")
    return await collection.estimated_document_count(
        maxTimeMS=max_time_ms(kwargs, "estimated_document_count")
    )
