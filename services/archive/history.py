"""Per-object history (the aux document): merging an alert's history into what is archived.

``prv_candidates`` is a set union (a point is the same point when all its fields are equal);
``fp_hists`` are deduplicated by ``jd``, keeping at each ``jd`` the point measured on the
brightest alert (smallest ``alert_mag``), as Kowalski does. Both come out sorted by ``jd``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

Point = Mapping[str, Any]
MISSING_ALERT_MAG = float("inf")


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
    merged: dict[str, Any] = {
        "prv_candidates": union_points(*(part.get("prv_candidates", []) for part in parts)),
        "fp_hists": merge_by_jd(*(part.get("fp_hists", []) for part in parts)),
    }
    first_matches = next((part["cross_matches"] for part in parts if "cross_matches" in part), None)
    if first_matches is not None:
        merged["cross_matches"] = first_matches
    return merged
