"""aggregate: a caller's pipeline on one catalog, passed through to the database.

Kowalski refuses ``$unionWith``, ``$out`` and ``$merge`` (they reach other collections or
write); so do we, wherever they appear (also inside ``$facet`` or ``$lookup`` pipelines), and
``$lookup``/``$graphLookup`` may not read the admin-only collections unless the caller is an
admin (a hole in Kowalski). For a caller whose streams restrict the collection, the pipeline
starts with a ``$match`` on their programids (merged into a leading ``$geoNear``'s ``query``,
which must stay first), and joins may not read a collection that restricts them (an alert
collection or its ``_aux`` history): a join cannot be limited to their programids, so it is
refused by the collection's name. SecantusDB evaluates a field path that crosses an array
inside an expression as missing (see DESIGN.md); such a pipeline answers as the database
answers.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

from services.archive.queries.base import (
    PROTECTED,
    QueryContext,
    QueryError,
    max_time_ms,
    restrict,
)

FORBIDDEN_STAGES = ("$unionWith", "$out", "$merge")
JOIN_STAGES = {"$lookup": "from", "$graphLookup": "from"}


async def aggregate(ctx: QueryContext, query: dict[str, Any], kwargs: dict[str, Any]) -> list[Any]:
    collection = await ctx.collection(query, "aggregate")
    restriction = ctx.restriction(collection.name, "aggregate")
    pipeline = _pipeline(query.get("pipeline"))
    _check(pipeline, ctx)
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
    return await cursor.to_list()


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


def _check(pipeline: list[Any], ctx: QueryContext) -> None:
    """Refuses forbidden stages, and joins from protected or restricted collections,
    anywhere in the pipeline."""
    for stage in pipeline:
        if not isinstance(stage, Mapping):
            continue
        for operator, body in stage.items():
            if operator in FORBIDDEN_STAGES:
                raise QueryError(f"aggregate: pipeline uses forbidden stage {operator}")
            if operator in JOIN_STAGES and isinstance(body, Mapping):
                _check_join(operator, body.get(JOIN_STAGES[operator]), ctx)
                if isinstance(body.get("pipeline"), list):
                    _check(body["pipeline"], ctx)
            if operator == "$facet" and isinstance(body, Mapping):
                for sub_pipeline in body.values():
                    if isinstance(sub_pipeline, list):
                        _check(sub_pipeline, ctx)


def _check_join(operator: str, source: Any, ctx: QueryContext) -> None:
    if source is None and operator == "$lookup":
        return  # a $lookup on $documents reads no collection
    if not isinstance(source, str):
        # {"db": ..., "coll": ...} would reach another database.
        raise QueryError(f"aggregate: {operator}.from must be a collection name")
    if source in PROTECTED and not ctx.caller.admin:
        raise QueryError(f"aggregate: {operator} from {source!r} is for admins only")
    if reason := ctx.join_refusal(source):
        raise QueryError(f"aggregate: {operator} from {source!r} is refused: {reason}")
