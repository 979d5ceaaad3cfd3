"""aggregate: a caller's pipeline on one catalog, passed through to the database.

Kowalski refuses ``$unionWith``, ``$out`` and ``$merge`` (they reach other collections or
write); so do we, wherever they appear, together with the operators that run code (see
guard.py, which walks every query), and ``$lookup``/``$graphLookup`` may not read the
admin-only collections unless the caller is an admin (a hole in Kowalski). For a caller whose
streams restrict the collection, the pipeline starts with a ``$match`` on their programids
(merged into a leading ``$geoNear``'s ``query``, which must stay first), and joins may not read
a collection that restricts them (an alert collection or its ``_aux`` history): a join cannot
be limited to their programids, so it is refused by the collection's name
(:meth:`QueryContext.check_join`). The answer is held to the query's caps (limits.py).
SecantusDB evaluates a field path that crosses an array inside an expression as missing (see
DESIGN.md); such a pipeline answers as the database answers.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from functools import partial
from typing import Any

from services.archive.queries.base import QueryContext, QueryError, max_time_ms, restrict
from services.archive.queries.guard import check_query
from services.archive.queries.limits import Budget
from services.archive.sky_search import collect

ADVICE = "add a $limit stage (or a narrower $match) to the pipeline"


async def aggregate(ctx: QueryContext, query: dict[str, Any], kwargs: dict[str, Any]) -> list[Any]:
    collection = await ctx.collection(query, "aggregate")
    restriction = ctx.restriction(collection.name, "aggregate")
    raw = query.get("pipeline")
    pipeline = _pipeline(raw)
    if isinstance(raw, str):
        # A pipeline sent as text was not part of the JSON that execute() walked.
        check_query(pipeline, "aggregate", "pipeline", partial(ctx.check_join, "aggregate"))
    budget = Budget.of("aggregate", kwargs, ctx.limits, ADVICE)
    pipeline = _restricted(pipeline, restriction)
    options: dict[str, Any] = {"maxTimeMS": max_time_ms(kwargs, "aggregate")}
    allow_disk_use = kwargs.get("allowDiskUse")
    if allow_disk_use is not None:
        if not isinstance(allow_disk_use, bool):
            raise QueryError("aggregate: kwargs.allowDiskUse must be true or false")
        options["allowDiskUse"] = allow_disk_use
    batch_size = kwargs.get("batchSize")
    if batch_size is not None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise QueryError("aggregate: kwargs.batchSize must be a positive integer")
        options["batchSize"] = batch_size
    cursor = await collection.aggregate(pipeline, **options)
    return await collect(cursor, budget.add)


def _pipeline(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, str):
        # Kowalski also takes the pipeline as the text of a Python literal.
        try:
            value = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError) as exc:
            raise QueryError(f"aggregate: query.pipeline is not a valid pipeline: {exc}") from exc
    if not isinstance(value, list | tuple):
        raise QueryError("aggregate: query.pipeline must be a list of stages")
    if not value:
        raise QueryError("aggregate: query.pipeline must contain at least one stage")
    for index, stage in enumerate(value):
        if not isinstance(stage, Mapping) or len(stage) != 1:
            raise QueryError(
                f"aggregate: pipeline stage {index} must be an object with exactly one "
                f"operator, e.g. {{'$match': {{...}}}}; got {stage!r}"
            )
    return [dict(stage) for stage in value]


def _restricted(
    pipeline: list[dict[str, Any]], restriction: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """The pipeline, reading only the documents the restriction allows."""
    if restriction is None:
        return pipeline
    first = pipeline[0]
    if "$geoNear" in first and isinstance(first["$geoNear"], Mapping):
        # $geoNear must be the first stage: it takes the restriction in its own query.
        geo_near = dict(first["$geoNear"])
        query = geo_near.get("query") or {}
        if not isinstance(query, Mapping):
            raise QueryError("aggregate: $geoNear.query must be an object")
        geo_near["query"] = restrict(query, restriction)
        return [{"$geoNear": geo_near}, *pipeline[1:]]
    # Stages that must come first ($collStats, $indexStats, ...) are then refused by the
    # database: they would describe documents the caller may not read.
    return [{"$match": restriction}, *pipeline]
