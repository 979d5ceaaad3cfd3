"""Per-object history (the aux document): merging an alert's history into what is archived.

Every history array of a survey (each array field of its aux updates: ZTF's
``prv_candidates`` and ``fp_hists``, WINTER's ``prv_candidates``, LSST's ``prvDiaSources``,
``prvDiaForcedSources`` and ``prvDiaNondetectionLimits``) is a set union (a point is the same
point when all its fields are equal), except ``fp_hists``: deduplicated by ``jd``, keeping at
each ``jd`` the point measured on the brightest alert (smallest ``alert_mag``), as Kowalski
does. All come out sorted by ``jd``, which every survey's plug-in gives its history points.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

Point = Mapping[str, Any]
MISSING_ALERT_MAG = float("inf")
FORCED_PHOTOMETRY = "fp_hists"
CROSS_MATCHES = "cross_matches"
# Counterparts in other surveys (services/archive/counterparts.py), by survey.
ALIASES = "aliases"
# Each write of an aux document sets a fresh token here; writers guard on the one they read.
REVISION = "_rev"


def _jd(point: Point) -> float:
    return float(point.get("jd", 0.0))


def union_points(*histories: Iterable[Point]) -> list[dict[str, Any]]:
    """Distinct points of all histories, sorted by jd (stable: first seen first).

    Two points are the same point when all their fields are equal (whatever the key order);
    a cheap key (jd, fid, candid, magpsf, diffmaglim) narrows the comparison to the few points
    that could be equal. The points themselves are shared, not copied.
    """
    seen: dict[tuple, list[Point]] = {}
    merged = []
    for history in histories:
        for point in history:
            get = point.get
            key = (get("jd"), get("fid"), get("candid"), get("magpsf"), get("diffmaglim"))
            twins = seen.get(key)
            if twins is None:
                seen[key] = [point]
            elif any(twin == point for twin in twins):
                continue
            else:
                twins.append(point)
            merged.append(point)
    return sorted(merged, key=_jd)


def merge_by_jd(*histories: Iterable[Point]) -> list[dict[str, Any]]:
    """One point per jd: the one from the brightest alert; earlier histories win ties."""
    best: dict[float, dict[str, Any]] = {}
    for history in histories:
        for point in history:
            jd = _jd(point)
            current = best.get(jd)
            if current is None or point.get("alert_mag", MISSING_ALERT_MAG) < current.get(
                "alert_mag", MISSING_ALERT_MAG
            ):
                best[jd] = point
    return [best[jd] for jd in sorted(best)]


def merge_aux(existing: Mapping[str, Any] | None, *updates: Mapping[str, Any]) -> dict[str, Any]:
    """The aux document after ``updates`` (alerts' histories, in arrival order) are added.

    Cross-matches are made on an object's first alert and kept from then on.
    """
    parts = [existing or {}, *updates]
    fields: dict[str, None] = {}
    for part in parts:
        fields.update((key, None) for key, value in part.items() if isinstance(value, list))
    fields.pop(CROSS_MATCHES, None)
    fields.pop(ALIASES, None)
    merged: dict[str, Any] = {
        field: (merge_by_jd if field == FORCED_PHOTOMETRY else union_points)(
            *(part.get(field, []) for part in parts)
        )
        for field in fields
    }
    first_matches = next((part[CROSS_MATCHES] for part in parts if CROSS_MATCHES in part), None)
    if first_matches is not None:
        merged[CROSS_MATCHES] = first_matches
    aliases: dict[str, list[Any]] = {}
    for part in parts:
        for survey, ids in (part.get(ALIASES) or {}).items():
            aliases[survey] = list(dict.fromkeys([*aliases.get(survey, []), *ids]))
    if aliases:
        merged[ALIASES] = aliases
    return merged
