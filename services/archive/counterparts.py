"""Counterparts across surveys: the same source seen by two surveys (ZTF and LSST, ...).

When the archive first sees an object, it searches the other surveys' alert collections
within :data:`RADIUS_ARCSEC` of the object's first position and records what it finds in
both aux documents, as BOOM's aliases: the new object's ``aliases.<SURVEY>`` lists the other
survey's object ids, and each of those objects' ``aliases.<THIS SURVEY>`` gains the new one.
Whichever survey sees the source first, the pair ends up recorded both ways. A survey's name
is its collection's (``LSST_alerts`` → ``LSST``); an alert's object id is ``objectId`` (ZTF,
LSST) or ``objectid`` (WINTER), the fields the archive indexes.

Each write takes a fresh revision token, so that a concurrent history merge (guarded by the
revision it read) retries instead of writing back the aux document it read before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from bson import ObjectId
from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from services.archive import sky_search
from services.archive.history import ALIASES, REVISION

RADIUS_ARCSEC = 2.0
ALERTS_SUFFIX = "_alerts"
OBJECT_ID_FIELDS = ("objectId", "objectid")


def survey_of(collection: str) -> str:
    return collection.removesuffix(ALERTS_SUFFIX)


def object_id_of(alert: Mapping[str, Any]) -> Any:
    return next((alert[f] for f in OBJECT_ID_FIELDS if alert.get(f) is not None), None)


async def other_alert_collections(db: AsyncDatabase, catalog: str) -> list[str]:
    names = await db.list_collection_names()
    return sorted(n for n in names if n.endswith(ALERTS_SUFFIX) and n != catalog)


async def find(
    db: AsyncDatabase, collection: str, positions: dict[Any, tuple[float, float]]
) -> dict[Any, list[Any]]:
    """Each object's counterparts in ``collection``: the distinct object ids of its alerts
    within the radius, nearest first (objects with none are left out)."""
    objects = list(positions)
    cones = [
        sky_search.Cone(ra, dec, RADIUS_ARCSEC / 3600.0)
        for ra, dec in (positions[o] for o in objects)
    ]
    projection = {field: 1 for field in OBJECT_ID_FIELDS}
    per_cone = await sky_search.search(
        db[collection], cones, sky_search.FindOptions(projection=projection)
    )
    found = {}
    for object_id, matches in zip(objects, per_cone, strict=True):
        ids = list(dict.fromkeys(object_id_of(m.document) for m in matches))
        ids = [i for i in ids if i is not None]
        if ids:
            found[object_id] = ids
    return found


async def record(
    db: AsyncDatabase, catalog: str, positions: dict[Any, tuple[float, float]]
) -> dict[Any, dict[str, list[Any]]]:
    """Finds and records the counterparts of the new objects at ``positions`` (object id →
    first position) of ``catalog``; answers each object's aliases by survey."""
    if not positions:
        return {}
    others = await other_alert_collections(db, catalog)
    found = await asyncio.gather(*(find(db, other, positions) for other in others))
    aliases: dict[Any, dict[str, list[Any]]] = {}
    for other, per_object in zip(others, found, strict=True):
        for object_id, ids in per_object.items():
            aliases.setdefault(object_id, {})[survey_of(other)] = ids
    writes = []
    survey = survey_of(catalog)
    for other, per_object in zip(others, found, strict=True):
        theirs = [
            UpdateOne(
                {"_id": their_id},
                {"$addToSet": {f"{ALIASES}.{survey}": object_id}, "$set": _revised()},
            )
            for object_id, ids in per_object.items()
            for their_id in ids
        ]
        if theirs:
            writes.append(db[f"{other}_aux"].bulk_write(theirs, ordered=False))
    ours = [
        UpdateOne(
            {"_id": object_id},
            {
                "$addToSet": {f"{ALIASES}.{s}": {"$each": ids} for s, ids in by_survey.items()},
                "$set": _revised(),
            },
        )
        for object_id, by_survey in aliases.items()
    ]
    if ours:
        writes.append(db[f"{catalog}_aux"].bulk_write(ours, ordered=False))
    await asyncio.gather(*writes)
    return aliases


def _revised() -> dict[str, Any]:
    return {REVISION: ObjectId()}
