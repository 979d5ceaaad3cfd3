"""What every query type shares: its context, its errors, argument checks.

Stream-scoped reading: a caller who is not a System admin reads, of an alert collection that
some stream governs, only the alerts whose programid is among their streams'
(``Identity.programids``). Every query type that reads documents asks
:meth:`QueryContext.restriction` for the extra filter and adds it with :func:`restrict` (or
as a first ``$match``); the collection's ``_aux`` companion, whose per-object history mixes
every programid, is refused to such a caller.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from skymesh.config import Settings
from skymesh.runtime.auth import Identity

# Collections that hold credentials, other users' work or the mesh's own configuration:
# admins only, as in Kowalski.
PROTECTED = frozenset({"users", "filters", "queries", "catalog_metadata"})
# Never catalogs: the database's own, and catalogs still being ingested.
HIDDEN_PREFIXES = ("system.", "_ingest.")
DEFAULT_MAX_TIME_MS = 300_000
# The alerts' programid, for every survey: Kowalski's upstream stores it (and its filters'
# programid stage matches it) at ``candidate.programid`` for ZTF and WINTER alike.
PROGRAMID_FIELD = "candidate.programid"
# ``<alert collection>_aux``: each object's history (prv_candidates, fp_hists) of every
# programid.
AUX_SUFFIX = "_aux"


class QueryError(ValueError):
    """The request is malformed or asks for something that does not exist (HTTP 400)."""


@dataclass(frozen=True)
class Limits:
    """The most one query may take (see limits.py); a caller may ask for less, never more."""

    max_time_ms: int = DEFAULT_MAX_TIME_MS
    max_documents: int = 100_000
    max_bytes: int = 64 * 1024 * 1024

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(
            max_time_ms=settings.query_max_time_ms,
            max_documents=settings.query_max_documents,
            max_bytes=settings.query_max_bytes,
        )


@dataclass
class QueryContext:
    db: AsyncDatabase
    caller: Identity
    limits: Limits = field(default_factory=Limits)

    async def catalog_names(self) -> list[str]:
        names = await self.db.list_collection_names()
        visible = [n for n in names if not n.startswith(HIDDEN_PREFIXES)]
        if not self.caller.admin:
            visible = [n for n in visible if n not in PROTECTED]
        return sorted(visible)

    async def collection(self, query: dict[str, Any], query_type: str) -> AsyncCollection:
        catalog = query.get("catalog")
        if not isinstance(catalog, str) or not catalog:
            raise QueryError(f"{query_type}: query.catalog is required (a collection name)")
        if catalog in PROTECTED and not self.caller.admin:
            raise QueryError(f"{query_type}: catalog {catalog!r} is readable by admins only")
        if catalog not in await self.catalog_names():
            raise QueryError(
                f"{query_type}: catalog {catalog!r} not found; "
                "see info/catalog_names for the catalogs"
            )
        return self.db[catalog]

    def restriction(self, catalog: str, query_type: str) -> dict[str, Any] | None:
        """The filter that limits ``catalog`` to what the caller's streams may read (to add
        to the caller's own filter with :func:`restrict`, or as a first ``$match``); None
        when the caller may read all of it. Refuses what the caller may not read at all."""
        if reason := self.unreadable(catalog):
            raise QueryError(f"{query_type}: catalog {catalog!r} is refused: {reason}")
        programids = self.caller.programids(catalog)
        if programids is None:
            return None
        return {PROGRAMID_FIELD: {"$in": sorted(programids)}}

    def unreadable(self, catalog: str) -> str | None:
        """Why the caller may not read ``catalog`` at all, if so: the ``_aux`` history of an
        alert collection that the caller's streams restrict."""
        alerts = aux_of(catalog)
        if alerts is None:
            return None
        programids = self.caller.programids(alerts)
        if programids is None:
            return None
        return (
            f"it holds the per-object history of {alerts!r}, which mixes programids that your "
            f"streams do not cover (they read programids {sorted(programids)} of {alerts!r}); "
            f"query {alerts!r} for your streams' alerts, or ask a System admin for access to "
            "every programid"
        )

    def join_refusal(self, catalog: str) -> str | None:
        """Why the caller may not read ``catalog`` through a join (``$lookup``), if so: a
        join cannot be limited to the caller's programids, so any collection that restricts
        the caller is refused there, by name."""
        if reason := self.unreadable(catalog):
            return reason
        programids = self.caller.programids(catalog)
        if programids is None:
            return None
        return (
            f"your streams read only programids {sorted(programids)} of {catalog!r}, and a "
            f"join cannot be limited to them; query {catalog!r} directly instead"
        )

    def check_join(
        self, query_type: str, operator: str, body: Mapping[str, Any], where: str
    ) -> None:
        """Refuses a join (``$lookup``/``$graphLookup``, found at ``where``) that reads a
        collection the caller may not read: admin-only ones (a hole in Kowalski), or one
        that restricts the caller (:meth:`join_refusal`)."""
        source = body.get("from")
        if source is None and operator == "$lookup":
            return  # a $lookup on $documents reads no collection
        if not isinstance(source, str):
            # {"db": ..., "coll": ...} would reach another database.
            raise QueryError(
                f"{query_type}: {operator}.from must be a collection name; found at {where}"
            )
        if source in PROTECTED and not self.caller.admin:
            raise QueryError(f"{query_type}: {operator} from {source!r} is for admins only")
        if reason := self.join_refusal(source):
            raise QueryError(f"{query_type}: {operator} from {source!r} is refused: {reason}")


def aux_of(catalog: str) -> str | None:
    """The alert collection whose history ``catalog`` holds, if it is an ``_aux`` one."""
    if catalog.endswith(AUX_SUFFIX) and len(catalog) > len(AUX_SUFFIX):
        return catalog[: -len(AUX_SUFFIX)]
    return None


def restrict(
    user_filter: Mapping[str, Any], restriction: Mapping[str, Any] | None
) -> dict[str, Any]:
    """One filter that requires both the caller's filter and the restriction. The
    restriction's keys are top-level keys (the database serves those from an index, see
    sky_search.with_filter); where the caller's filter has the same key, the caller's whole
    filter goes into an ``$and`` beside them, so it can never replace the restriction."""
    merged = dict(user_filter)
    if not restriction:
        return merged
    clashes = [key for key in restriction if key in merged]
    if clashes:
        merged = {"$and": [merged]}
    merged.update(restriction)
    return merged


def mapping(query: dict[str, Any], key: str, query_type: str) -> dict[str, Any]:
    value = query.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise QueryError(f"{query_type}: query.{key} must be a JSON object")
    return value


def max_time_ms(kwargs: dict[str, Any], query_type: str) -> int:
    value = kwargs.get("max_time_ms", DEFAULT_MAX_TIME_MS)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise QueryError(f"{query_type}: kwargs.max_time_ms must be a positive integer")
    return value


def non_negative_int(kwargs: dict[str, Any], key: str, query_type: str) -> int:
    value = kwargs.get(key, 0)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise QueryError(f"{query_type}: kwargs.{key} must be a non-negative integer")
    return value


def sort_spec(kwargs: Mapping[str, Any], query_type: str) -> list[tuple[str, int]] | None:
    """Kowalski takes ``sort`` as ``[[field, direction], ...]`` or ``{field: direction}``."""
    sort = kwargs.get("sort")
    if sort is None:
        return None
    pairs = list(sort.items()) if isinstance(sort, Mapping) else sort
    try:
        result = [(str(field), int(direction)) for field, direction in pairs]
    except (TypeError, ValueError) as exc:
        raise QueryError(f"{query_type}: kwargs.sort must be [[field, 1|-1], ...]") from exc
    if any(direction not in (1, -1) for _, direction in result):
        raise QueryError(f"{query_type}: kwargs.sort directions must be 1 or -1")
    return result or None
