"""near: the documents of each catalog between two distances of each position, nearest first.

Kowalski's request: ``query {radec, min_distance, max_distance, distance_units, catalogs}``
(distances in ``distance_units``: arcsec, arcmin, deg or rad, radians by default; without
``max_distance`` the search reaches 1 arcminute), kwargs as cone_search's. The answer has
cone_search's shape, ``{catalog: {object_name: [documents]}}``, each list nearest first
(as MongoDB's ``$nearSphere`` orders it) unless ``kwargs.sort`` says otherwise.
"""

from __future__ import annotations

from typing import Any

from services.archive import sky_search
from services.archive.queries.base import QueryContext, QueryError
from services.archive.queries.cone_search import positional_query
from skymesh import sky

DEFAULT_MAX_DISTANCE_DEG = 1 / 60


async def near(ctx: QueryContext, query: dict[str, Any], kwargs: dict[str, Any]) -> Any:
    units = query.get("distance_units", "rad")
    try:
        min_deg = sky.radius_deg(query.get("min_distance", 0), units, "query.min_distance")
        max_deg = (
            sky.radius_deg(query["max_distance"], units, "query.max_distance")
            if query.get("max_distance") is not None
            else DEFAULT_MAX_DISTANCE_DEG
        )
        positions = sky.parse_radec(query.get("radec"))
    except ValueError as exc:
        raise QueryError(f"near: {exc}") from exc
    if min_deg > max_deg:
        raise QueryError("near: query.min_distance must not exceed query.max_distance")
    cones = {
        name: sky_search.Cone(ra, dec, max_deg, min_deg) for name, (ra, dec) in positions.items()
    }
    return await positional_query(ctx, "near", cones, query, kwargs)
