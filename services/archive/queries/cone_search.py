"""cone_search: the documents of each catalog within a radius of each position.

Request and answer are Kowalski's: ``query.object_coordinates {cone_search_radius,
cone_search_unit, radec}``, ``query.catalogs {name: {filter, projection}}``, kwargs
``filter_first, skip, limit, sort, hint`` -> ``{catalog: {object_name: [documents]}}``.
Positions are found through ``coordinates.healpix`` (see services/archive/sky_search.py), not
``$geoWithin``. Without ``sort``, each object's documents come nearest first; ``skip`` and
``limit`` apply per object, as in Kowalski, where each object is its own find. Each catalog's
filter also holds the caller's stream restriction on it, if any (see base.py). The documents
read and the answer are held to the query's caps (limits.py); the answer counts a document
once per object whose cone holds it, as its JSON repeats it.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import Any

import bson

from services.archive import sky_search
from services.archive.queries.base import (
    QueryContext,
    QueryError,
    max_time_ms,
    non_negative_int,
    restrict,
    sort_spec,
)
from services.archive.queries.guard import check_query
from services.archive.queries.limits import Budget
from skymesh import sky

READ_ADVICE = "narrow the radius or the filter of each catalog"
ANSWER_ADVICE = "add kwargs.limit (documents per object), or narrow the radius or the filters"


async def cone_search(ctx: QueryContext, query: dict[str, Any], kwargs: dict[str, Any]) -> Any:
    spec = query.get("object_coordinates")
    if not isinstance(spec, Mapping):
        raise QueryError(
            "cone_search: query.object_coordinates must be a JSON object "
            "{cone_search_radius, cone_search_unit, radec}"
        )
    if "cone_search_radius" not in spec:
        raise QueryError("cone_search: query.object_coordinates.cone_search_radius is required")
    try:
        radius = sky.radius_deg(
            spec["cone_search_radius"],
            spec.get("cone_search_unit", "arcsec"),
            "object_coordinates.cone_search_radius",
        )
        positions = sky.parse_radec(spec.get("radec"))
    except ValueError as exc:
        raise QueryError(f"cone_search: {exc}") from exc
    cones = {name: sky_search.Cone(ra, dec, radius) for name, (ra, dec) in positions.items()}
    return await positional_query(ctx, "cone_search", cones, query, kwargs)


async def positional_query(
    ctx: QueryContext,
    query_type: str,
    cones: dict[str, sky_search.Cone],
    query: Mapping[str, Any],
    kwargs: Mapping[str, Any],
) -> dict[str, dict[str, list[Any]]]:
    """cone_search's and near's shared engine: every catalog, every named cone."""
    catalogs = query.get("catalogs")
    if not isinstance(catalogs, Mapping) or not catalogs:
        raise QueryError(
            f"{query_type}: query.catalogs must be a JSON object "
            "{catalog: {filter, projection}}"
        )
    filter_first = kwargs.get("filter_first", False)
    if not isinstance(filter_first, bool):
        raise QueryError(f"{query_type}: kwargs.filter_first must be true or false")
    skip = non_negative_int(dict(kwargs), "skip", query_type)
    limit = non_negative_int(dict(kwargs), "limit", query_type)
    sort = sort_spec(kwargs, query_type)
    time_limit = max_time_ms(dict(kwargs), query_type)
    # What the searches read (the cones' HEALPix pixels hold a little more than the cones),
    # checked as it arrives; and the answer itself.
    read = Budget.of(query_type, kwargs, ctx.limits, READ_ADVICE)
    answer = Budget.of(query_type, kwargs, ctx.limits, ANSWER_ADVICE)
    names = list(cones)
    result: dict[str, dict[str, list[Any]]] = {}
    for raw_name, spec in catalogs.items():
        catalog = str(raw_name).strip()
        spec = {} if spec is None else spec
        if not isinstance(spec, Mapping):
            raise QueryError(f"{query_type}: query.catalogs.{catalog} must be a JSON object")
        collection = await ctx.collection({"catalog": catalog}, query_type)
        restriction = ctx.restriction(catalog, query_type)
        projection = _document(spec, "projection", query_type, catalog)
        options = sky_search.FindOptions(
            filter=restrict(_document(spec, "filter", query_type, catalog), restriction),
            # A sorted answer is fetched again below, sorted by the database.
            projection={"_id": 1} if sort else projection,
            filter_first=filter_first,
            hint=kwargs.get("hint"),
            max_time_ms=time_limit,
            on_document=read.add,
        )
        found = await sky_search.search(collection, [cones[n] for n in names], options)
        per_object: dict[str, list[Any]] = {}
        sizes: dict[int, int] = {}
        for name, matches in zip(names, found, strict=True):
            if sort:
                per_object[name] = await sky_search.collect(
                    collection.find(
                        {"_id": {"$in": [m.document["_id"] for m in matches]}},
                        projection=projection or None,
                        sort=sort,
                        skip=skip,
                        limit=answer.database_limit(limit),
                        max_time_ms=time_limit,
                    ),
                    answer.add,
                )
            else:
                kept = [m.document for m in matches[skip : skip + limit if limit else None]]
                for document in kept:
                    # A document in several cones is one object: sized once.
                    size = sizes.get(id(document))
                    if size is None:
                        size = sizes[id(document)] = len(bson.encode(document))
                    answer.add(document, size)
                per_object[name] = kept
        result[catalog] = per_object
    return result


def _document(spec: Mapping[str, Any], key: str, query_type: str, catalog: str) -> dict[str, Any]:
    """A filter or projection: a JSON object, or (as Kowalski allows) its Python-literal text."""
    value = spec.get(key)
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError) as exc:
            raise QueryError(
                f"{query_type}: query.catalogs.{catalog}.{key} is not a valid object: {exc}"
            ) from exc
        # Text was not part of the JSON that execute() walked.
        check_query(value, query_type, f"catalogs.{catalog}.{key}")
    if not isinstance(value, Mapping):
        raise QueryError(f"{query_type}: query.catalogs.{catalog}.{key} must be a JSON object")
    return dict(value)
