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


# Fields that tell history points apart cheaply; full equality settles what they share.
_POINT_KEY_FIELDS = ("jd", "fid", "candid", "magpsf", "diffmaglim")


def _jd(point: Point) -> float:
    return float(point.get("jd", 0.0))


def union_points(*histories: Iterable[Point]) -> list[dict[str, Any]]:
    """Distinct points of all histories, sorted by jd (stable: first seen first).

    Two points are the same point when all their fields are equal (whatever the key order);
    a cheap key narrows the comparison to the few points that could be equal.
    """
    seen: dict[tuple, list[dict[str, Any]]] = {}
    merged = []
    for history in histories:
        for point in history:
            key = tuple(point.get(field) for field in _POINT_KEY_FIELDS)
            twins = seen.setdefault(key, [])
            if not any(twin == point for twin in twins):
                twins.append(point)
                merged.append(dict(point))
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
                best[jd] = dict(point)
    return [best[jd] for jd in sorted(best)]


def merge_aux(existing: Mapping[str, Any] | None, update: Mapping[str, Any]) -> dict[str, Any]:
    """The aux document after ``update`` (one alert's or one batch's history) is added.

    Cross-matches are made on an object's first alert and kept from then on.
    """
    existing = existing or {}
    merged = {
        "prv_candidates": union_points(
            existing.get("prv_candidates", []), update.get("prv_candidates", [])
        ),
        "fp_hists": merge_by_jd(existing.get("fp_hists", []), update.get("fp_hists", [])),
    }
    if "cross_matches" in existing:
        merged["cross_matches"] = existing["cross_matches"]
    elif "cross_matches" in update:
        merged["cross_matches"] = update["cross_matches"]
    return merged
