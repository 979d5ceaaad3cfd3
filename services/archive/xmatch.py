"""XMatchService: cross-matching a batch of positions against the archived catalogs.

Served by the archive process (it is the database's neighbour) under its own contract,
proto/skymesh/xmatch/v1/xmatch.proto. Which catalogs are cross-matched, and how, is each
catalog's ``xmatch`` configuration, written at ingestion into the ``catalog_metadata``
collection (``skymesh catalog ingest --xmatch-radius/--no-xmatch/--galaxy-distance-rule``);
a request may name its own catalogs and cones instead.

A batch costs one search per catalog (the union of the cones' HEALPix ranges, see
sky_search.py), not one per position. Each position gets, per catalog, BSON
``{"matches": [rows]}``: whole rows (``_id`` and ``coordinates`` included) unless the
configuration projects them, nearest first.

Galaxy catalogs follow Kowalski's ``alert_filter__xmatch_distance``: a wide cone (300"), then
a match only within ``max_distance_kpc`` (Kowalski's ``cm_at_distance``, 30 kpc) at the
galaxy's distance: for a redshift z >= 0.01 a radius of ``kpc * 0.05 / z`` arcsec (1" ~ 1 kpc
at z = 0.05, Kowalski's approximation); for a distance d >= 40 Mpc ``atan(kpc / d)``; nearer
galaxies (negative redshifts too) get ``low_distance_radius_arcsec`` (Kowalski's
``cm_low_distance``). A galaxy without a numeric distance never matches. Matches carry
``coordinates.distance_arcsec`` and ``coordinates.distance_kpc`` (-1 where the distance is too
small to say), rounded to 0.01 as Kowalski does. Kowalski's hard-coded M31 and M33 entries
are not copied: a catalog that holds them matches them like any galaxy.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import bson
import grpc
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure

from services.archive import sky_search
from skymesh import sky
from skymesh.runtime.documents import from_json, to_json
from skymesh.runtime.errors import NotFound, grpc_errors
from skymesh.xmatch.v1 import xmatch_pb2, xmatch_pb2_grpc

log = logging.getLogger(__name__)

METADATA = "catalog_metadata"
DEFAULT_RADIUS_ARCSEC = 2.0
DEFAULT_GALAXY_MAX_KPC = 30.0
DEFAULT_GALAXY_LOW_DISTANCE_ARCSEC = 300.0
DISTANCE_METHODS = ("redshift", "mpc")
# Kowalski's thresholds below which a galaxy is "nearby" and gets the fixed low-distance cone.
NEARBY_REDSHIFT = 0.01
NEARBY_MPC = 40.0


@dataclass(frozen=True)
class GalaxyRule:
    distance_column: str
    distance_method: str = "redshift"
    max_distance_kpc: float = DEFAULT_GALAXY_MAX_KPC
    low_distance_radius_arcsec: float = DEFAULT_GALAXY_LOW_DISTANCE_ARCSEC

    @classmethod
    def parse(cls, value: Any) -> GalaxyRule | None:
        if value is None:
            return None
        if not isinstance(value, Mapping):
            raise ValueError("xmatch galaxy rule must be an object or null")
        column = value.get("distance_column")
        if not isinstance(column, str) or not column:
            raise ValueError("xmatch galaxy rule needs distance_column (a column name)")
        method = value.get("distance_method", "redshift")
        if method not in DISTANCE_METHODS:
            raise ValueError(
                f"xmatch galaxy distance_method must be one of {', '.join(DISTANCE_METHODS)}"
            )
        return cls(
            distance_column=column,
            distance_method=method,
            max_distance_kpc=_positive(
                value.get("max_distance_kpc", DEFAULT_GALAXY_MAX_KPC), "max_distance_kpc"
            ),
            low_distance_radius_arcsec=_positive(
                value.get("low_distance_radius_arcsec", DEFAULT_GALAXY_LOW_DISTANCE_ARCSEC),
                "low_distance_radius_arcsec",
            ),
        )

    def radius_arcsec(self, distance: Any) -> float | None:
        """The cross-match radius around a galaxy at this distance; None if it has none."""
        if isinstance(distance, bool) or not isinstance(distance, int | float):
            return None
        if not math.isfinite(distance):
            return None
        if self.distance_method == "redshift":
            if distance < NEARBY_REDSHIFT:
                return self.low_distance_radius_arcsec
            return self.max_distance_kpc * (0.05 / distance)
        if distance < NEARBY_MPC:
            return self.low_distance_radius_arcsec
        return math.degrees(math.atan(self.max_distance_kpc / (distance * 1e3))) * 3600

    def distance_kpc(self, distance: float, separation_arcsec: float) -> float:
        if self.distance_method == "redshift":
            return round(separation_arcsec * (distance / 0.05), 2) if distance > 0.005 else -1
        if distance > 0.005:
            return round(math.radians(separation_arcsec / 3600) * distance * 1e3, 2)
        return -1


@dataclass(frozen=True)
class XMatchConfig:
    """How alerts are cross-matched with one catalog."""

    catalog: str
    enabled: bool = True
    radius_arcsec: float = DEFAULT_RADIUS_ARCSEC
    projection: dict[str, Any] = field(default_factory=dict)
    galaxy: GalaxyRule | None = None

    @classmethod
    def parse(cls, catalog: str, value: Any) -> XMatchConfig:
        """From the ``xmatch`` object of the ingest request or of the metadata document."""
        if value is None:
            return cls(catalog)
        if not isinstance(value, Mapping):
            raise ValueError("xmatch configuration must be a JSON object")
        unknown = set(value) - {"enabled", "radius_arcsec", "projection", "galaxy"}
        if unknown:
            raise ValueError(f"xmatch configuration has unknown keys: {', '.join(sorted(unknown))}")
        enabled = value.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ValueError("xmatch enabled must be true or false")
        projection = value.get("projection") or {}
        if not isinstance(projection, Mapping):
            raise ValueError("xmatch projection must be a JSON object")
        return cls(
            catalog=catalog,
            enabled=enabled,
            radius_arcsec=_positive(
                value.get("radius_arcsec", DEFAULT_RADIUS_ARCSEC), "radius_arcsec"
            ),
            projection=dict(projection),
            galaxy=GalaxyRule.parse(value.get("galaxy")),
        )

    def document(self) -> dict[str, Any]:
        galaxy = None
        if self.galaxy:
            galaxy = {
                "distance_column": self.galaxy.distance_column,
                "distance_method": self.galaxy.distance_method,
                "max_distance_kpc": self.galaxy.max_distance_kpc,
                "low_distance_radius_arcsec": self.galaxy.low_distance_radius_arcsec,
            }
        return {
            "enabled": self.enabled,
            "radius_arcsec": self.radius_arcsec,
            "projection": self.projection,
            "galaxy": galaxy,
        }

    def cone(self) -> xmatch_pb2.CatalogCone:
        return xmatch_pb2.CatalogCone(
            catalog=self.catalog,
            radius_arcsec=self.radius_arcsec,
            projection_json=to_json(self.projection) if self.projection else "",
            galaxy_distance_rule=self.galaxy is not None,
            max_distance_kpc=self.galaxy.max_distance_kpc if self.galaxy else 0.0,
        )


def _positive(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"xmatch {name} must be a number, got {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"xmatch {name} must be a positive number, got {value}")
    return float(value)


async def configured(db: AsyncDatabase) -> dict[str, XMatchConfig]:
    """Every ingested catalog's cross-match configuration, by catalog name."""
    configs = {}
    async for document in db[METADATA].find({}, {"xmatch": 1}):
        configs[document["_id"]] = XMatchConfig.parse(document["_id"], document.get("xmatch"))
    return configs


def _override(cone: xmatch_pb2.CatalogCone, stored: XMatchConfig | None) -> XMatchConfig:
    """A request's CatalogCone over the stored configuration: zero/empty fields keep it.

    proto3 cannot tell an unset bool from false, so ``galaxy_distance_rule: false`` keeps the
    stored rule too: a request can apply a galaxy catalog's rule (with its own
    ``max_distance_kpc``) but not switch it off.
    """
    base = stored or XMatchConfig(cone.catalog)
    projection = base.projection
    if cone.projection_json:
        projection = from_json(cone.projection_json, f"projection_json of {cone.catalog}")
        if not isinstance(projection, dict):
            raise ValueError(f"projection_json of {cone.catalog} must be a JSON object")
    if cone.galaxy_distance_rule and base.galaxy is None:
        raise ValueError(
            f"{cone.catalog}: galaxy_distance_rule needs the catalog's distance column; "
            "ingest it with --galaxy-distance-rule COLUMN"
        )
    galaxy = base.galaxy
    if galaxy is not None:
        if cone.max_distance_kpc:
            galaxy = GalaxyRule(
                galaxy.distance_column,
                galaxy.distance_method,
                _positive(cone.max_distance_kpc, "max_distance_kpc"),
                galaxy.low_distance_radius_arcsec,
            )
    radius = base.radius_arcsec
    if cone.radius_arcsec:
        radius = _positive(cone.radius_arcsec, f"radius_arcsec of {cone.catalog}")
    return XMatchConfig(cone.catalog, True, radius, projection, galaxy)


class XMatchServicer(xmatch_pb2_grpc.XMatchServiceServicer):
    def __init__(self, db: AsyncDatabase) -> None:
        self.db = db

    @grpc_errors
    async def ListCatalogs(
        self, request: xmatch_pb2.ListCatalogsRequest, context: grpc.aio.ServicerContext
    ) -> xmatch_pb2.ListCatalogsResponse:
        configs = await configured(self.db)
        return xmatch_pb2.ListCatalogsResponse(
            catalogs=[c.cone() for name, c in sorted(configs.items()) if c.enabled]
        )

    @grpc_errors
    async def CrossMatch(
        self, request: xmatch_pb2.CrossMatchRequest, context: grpc.aio.ServicerContext
    ) -> xmatch_pb2.CrossMatchResponse:
        positions = list(request.positions)
        for position in positions:
            sky.check_position(position.ra, position.dec, f"position {position.key!r}")
        configs, per_catalog = await self._search(request, positions)
        results = []
        for i, position in enumerate(positions):
            matches = {
                config.catalog: bson.encode({"matches": found[i]})
                for config, found in zip(configs, per_catalog, strict=True)
            }
            results.append(xmatch_pb2.Matches(key=position.key, matches_bson=matches))
        return xmatch_pb2.CrossMatchResponse(results=results)

    async def cross_matches(
        self, positions: list[tuple[float, float]]
    ) -> list[dict[str, list[dict[str, Any]]]]:
        """Per position, the configured catalogs' matches (aux ``cross_matches``), in-process:
        the archive cross-matches new objects with this at ingestion."""
        request = xmatch_pb2.CrossMatchRequest(
            positions=[
                xmatch_pb2.Position(key=str(i), ra=ra, dec=dec)
                for i, (ra, dec) in enumerate(positions)
            ]
        )
        configs, per_catalog = await self._search(request, list(request.positions))
        return [
            {config.catalog: found[i] for config, found in zip(configs, per_catalog, strict=True)}
            for i in range(len(positions))
        ]

    async def _search(
        self, request: xmatch_pb2.CrossMatchRequest, positions: list[xmatch_pb2.Position]
    ) -> tuple[list[XMatchConfig], list[list[list[dict[str, Any]]]]]:
        configs = await self._configs(request)
        existing = set(await self.db.list_collection_names())
        missing = [c.catalog for c in configs if c.catalog not in existing]
        if missing and request.catalogs:
            raise NotFound(f"no catalog named {', '.join(missing)}")
        if missing:
            # A configured catalog whose collection was dropped by hand: alerts go on.
            log.warning("configured catalogs are missing", extra={"fields": {"missing": missing}})
            configs = [c for c in configs if c.catalog in existing]
        try:
            per_catalog = await asyncio.gather(*(self._match(c, positions) for c in configs))
        except OperationFailure as exc:
            message = (exc.details or {}).get("errmsg") or str(exc)
            raise ValueError(f"cross-match refused by the database: {message}") from exc
        return configs, list(per_catalog)

    async def _configs(self, request: xmatch_pb2.CrossMatchRequest) -> list[XMatchConfig]:
        stored = await configured(self.db)
        if not request.catalogs:
            return [c for _, c in sorted(stored.items()) if c.enabled]
        names = [cone.catalog for cone in request.catalogs]
        if not all(names):
            raise ValueError("every CatalogCone needs a catalog name")
        if len(set(names)) != len(names):
            raise ValueError("a catalog is named twice in the request")
        return [_override(cone, stored.get(cone.catalog)) for cone in request.catalogs]

    async def _match(
        self, config: XMatchConfig, positions: list[xmatch_pb2.Position]
    ) -> list[list[dict[str, Any]]]:
        """The matching rows of one catalog for every position, nearest first."""
        cones = [sky_search.Cone(p.ra, p.dec, config.radius_arcsec / 3600) for p in positions]
        collection = self.db[config.catalog]
        options = sky_search.FindOptions(projection=config.projection or None)
        if config.galaxy is None:
            found = await sky_search.search(collection, cones, options)
            return [[m.document for m in matches] for matches in found]
        options = sky_search.FindOptions(
            projection=config.projection or None, extra_fields=(config.galaxy.distance_column,)
        )
        found, strip = await sky_search.search_unstripped(collection, cones, options)
        return [_galaxy_matches(config.galaxy, matches, strip) for matches in found]


def _galaxy_matches(
    rule: GalaxyRule, matches: list[sky_search.Match], strip: list[tuple[str, bool]]
) -> list[dict[str, Any]]:
    kept = []
    for match in matches:
        distance = sky_search.get_path(match.document, rule.distance_column)
        radius = rule.radius_arcsec(distance)
        separation = match.distance_deg * 3600
        if radius is None or separation > radius:
            continue
        # A row may match several positions: each match gets its own copy to annotate.
        document = copy.deepcopy(match.document)
        sky_search.strip_paths(document, strip)
        coordinates = document.setdefault("coordinates", {})
        coordinates["distance_arcsec"] = round(separation, 2)
        coordinates["distance_kpc"] = rule.distance_kpc(float(distance), separation)
        kept.append(document)
    return kept


__all__ = ["METADATA", "GalaxyRule", "XMatchConfig", "XMatchServicer", "configured"]
