"""info: catalog_names, catalog_info, index_info, db_info."""

from __future__ import annotations

from typing import Any

from services.archive.queries.base import QueryContext, QueryError

COMMANDS = ("catalog_names", "catalog_info", "index_info", "db_info")


async def info(ctx: QueryContext, query: dict[str, Any], kwargs: dict[str, Any]) -> Any:
    command = query.get("command")
    if command not in COMMANDS:
        raise QueryError(f"info: query.command must be one of {', '.join(COMMANDS)}")
    if command == "catalog_names":
        return await ctx.catalog_names()
    if command == "db_info":
        return await ctx.db.command("dbstats")
    collection = await ctx.collection(query, f"info/{command}")
    if command == "index_info":
        return await collection.index_information()
    return await ctx.db.command("collstats", collection.name)
