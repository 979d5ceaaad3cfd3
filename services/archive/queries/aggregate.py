"""aggregate: a caller's pipeline on one catalog, passed through to the database.

Kowalski refuses ``$unionWith``, ``$out`` and ``$merge`` (they reach other collections or
write); so do we, wherever they appear (also inside ``$facet`` or ``$lookup`` pipelines), and
``$lookup``/``$graphLookup`` may not read the admin-only collections unless the caller is an
admin (a hole in Kowalski). SecantusDB evaluates a field path that crosses an array inside an
expression as missing (see DESIGN.md); such a pipeline answers as the database answers.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

from services.archive.queries.base import PROTECTED, QueryContext, QueryError, max_time_ms

FORBIDDEN_STAGES = ("$unionWith", "$out", "$merge")
JOIN_STAGES = {"$lookup": "from", "$graphLookup": "from"}


async def aggregate(ctx: QueryContext, query: dict[str, Any], kwargs: dict[str, Any]) -> list[Any]:
    collection = await ctx.collection(query, "aggregate")
    pipeline = _pipeline(query.get("pipeline"))
    _check(pipeline, ctx.caller.admin)
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


def _check(pipeline: list[Any], admin: bool) -> None:
    """Refuses forbidden stages and protected joins anywhere in the pipeline."""
    for stage in pipeline:
        if not isinstance(stage, Mapping):
            continue
        for operator, body in stage.items():
            if operator in FORBIDDEN_STAGES:
                raise QueryError(f"aggregate: pipeline uses forbidden stage {operator}")
            if operator in JOIN_STAGES and isinstance(body, Mapping):
                source = body.get(JOIN_STAGES[operator])
                if source in PROTECTED and not admin:
                    raise QueryError(f"aggregate: {operator} from {source!r} is for admins only")
                if isinstance(body.get("pipeline"), list):
                    _check(body["pipeline"], admin)
            if operator == "$facet" and isinstance(body, Mapping):
                for sub_pipeline in body.values():
                    if isinstance(sub_pipeline, list):
                        _check(sub_pipeline, admin)
