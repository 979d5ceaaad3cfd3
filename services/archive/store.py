"""Alert storage: one collection of alerts and one of per-object aux history per survey."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import bson
from bson import ObjectId
from bson.raw_bson import RawBSONDocument
from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from services.archive import counterparts
from services.archive.history import REVISION, merge_aux
from skymesh.runtime.errors import Conflict

log = logging.getLogger(__name__)
DUPLICATE_KEY = 11000
# Optimistic concurrency on aux documents: a writer only replaces the revision it read, and
# writes a revision of its own (a fresh ObjectId, so that it can tell its write from another's).
MAX_AUX_ATTEMPTS = 50
CONCURRENT_AUX_WRITES = 32


# Cross-matches per position (ra, dec), as XMatchServicer.cross_matches gives them.
CrossMatcher = Callable[[list[tuple[float, float]]], Awaitable[list[dict[str, Any]]]]


def alert_position(alert: Mapping[str, Any]) -> tuple[float, float]:
    """An enriched alert's (ra, dec) in degrees, from its GeoJSON point (ra - 180, dec)."""
    longitude, latitude = alert["coordinates"]["radec_geojson"]["coordinates"]
    return float(longitude) + 180.0, float(latitude)


class AuxConflictError(Conflict):
    """An aux document kept changing under us; the batch is retried by the broker."""


@dataclass
class IngestResult:
    inserted: list[int] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)
    # object id -> its aux document as archived after the batch
    aux: dict[Any, dict[str, Any]] = field(default_factory=dict)


class AlertStore:
    def __init__(self, db: AsyncDatabase) -> None:
        self.db = db
        self._indexed: set[str] = set()

    async def ensure_indexes(self, catalog: str) -> None:
        if catalog in self._indexed:
            return
        alerts = self.db[catalog]
        # `_id` is the candid, so a re-delivered alert collides there; the explicit unique
        # candid index keeps Kowalski's schema and its query plans.
        await alerts.create_index([("candid", ASCENDING)], unique=True, name="candid_1")
        await alerts.create_index([("objectId", ASCENDING)], name="objectId_1")
        await alerts.create_index([("objectid", ASCENDING)], name="objectid_1")
        await alerts.create_index([("candidate.jd", ASCENDING)], name="candidate.jd_1")
        await alerts.create_index([("coordinates.healpix", ASCENDING)], name="healpix_1")
        self._indexed.add(catalog)

    async def ingest(
        self,
        catalog: str,
        alerts: list[bytes],
        aux: list[bytes],
        cross_match: CrossMatcher | None = None,
    ) -> IngestResult:
        """Merges the aux history, then inserts the alerts; both steps are idempotent.

        With ``cross_match``, objects new to the archive get the cross-matches of their first
        alert of the batch (the aux update ``aux[i]`` belongs to the alert ``alerts[i]``), and
        their counterparts in the other surveys are recorded both ways (counterparts.py)."""
        await self.ensure_indexes(catalog)
        updates = [bson.decode(raw) for raw in aux]
        positions = None
        if cross_match is not None:
            positions = {}
            for update, raw in zip(updates, alerts, strict=True):
                positions.setdefault(update["_id"], alert_position(RawBSONDocument(raw)))
        new_objects: set[Any] = set()
        merged = await self.merge_aux(
            self.db[f"{catalog}_aux"], updates, cross_match, positions, new_objects
        )
        result = await self.insert_alerts(self.db[catalog], alerts)
        result.aux = merged
        if positions is not None and new_objects:
            # After the insert: a survey that sees the source later finds these alerts.
            found = await counterparts.record(
                self.db, catalog, {o: positions[o] for o in new_objects}
            )
            for object_id, aliases in found.items():
                merged[object_id][counterparts.ALIASES] = aliases
        return result

    async def insert_alerts(self, collection: AsyncCollection, alerts: list[bytes]) -> IngestResult:
        docs = [RawBSONDocument(raw) for raw in alerts]
        candids = [int(doc["candid"]) for doc in docs]
        result = IngestResult()
        if not docs:
            return result
        duplicate_indexes: set[int] = set()
        try:
            await collection.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            for error in exc.details.get("writeErrors", []):
                if error.get("code") != DUPLICATE_KEY:
                    raise
                duplicate_indexes.add(error["index"])
        for index, candid in enumerate(candids):
            (result.duplicates if index in duplicate_indexes else result.inserted).append(candid)
        return result

    async def merge_aux(
        self,
        collection: AsyncCollection,
        updates: list[dict[str, Any]],
        cross_match: CrossMatcher | None = None,
        positions: dict[Any, tuple[float, float]] | None = None,
        new_objects: set[Any] | None = None,
    ) -> dict[Any, dict[str, Any]]:
        """Merges each object's new history into its aux document, losing no concurrent update;
        returns each object's document as written (and adds to ``new_objects`` the objects
        whose documents this call created).

        The batch is written in at most three calls: one read of the objects' documents, one
        insert of every new object's, one bulk update of every changed one (each guarded by
        the revision it read). Only when another writer changed some of them in between are
        the revisions read back, and those objects go through the per-object retry loop.
        """
        by_object: dict[Any, list[dict[str, Any]]] = {}
        for update in updates:
            by_object.setdefault(update["_id"], []).append(update)
        existing = {
            doc["_id"]: doc async for doc in collection.find({"_id": {"$in": list(by_object)}})
        }
        written: dict[Any, dict[str, Any]] = {}
        contested: list[Any] = []
        if cross_match is not None and positions is not None:
            await self._cross_match_new(by_object, existing, cross_match, positions)
        fresh = {
            object_id: {"_id": object_id, **merge_aux(None, *object_updates)}
            for object_id, object_updates in by_object.items()
            if object_id not in existing
        }
        if fresh:
            try:
                await collection.insert_many(
                    [{**doc, REVISION: ObjectId()} for doc in fresh.values()], ordered=False
                )
            except BulkWriteError as exc:
                raced = set()
                for error in exc.details.get("writeErrors", []):
                    if error.get("code") != DUPLICATE_KEY:
                        raise
                    raced.add(error["op"]["_id"])
                contested += raced  # another writer created it first: merge into theirs
                fresh = {k: v for k, v in fresh.items() if k not in raced}
            written.update(fresh)
            if new_objects is not None:
                new_objects.update(fresh)
        changes: dict[Any, tuple[dict[str, Any], ObjectId]] = {}
        for object_id, current in existing.items():
            merged = merge_aux(current, *by_object[object_id])
            if all(current.get(key) == value for key, value in merged.items()):
                # Nothing new (a re-delivered alert): leave it alone.
                written[object_id] = {"_id": object_id, **merged}
            else:
                changes[object_id] = (merged, ObjectId())
        if changes:
            outcome = await collection.bulk_write(
                [
                    UpdateOne(
                        {"_id": object_id, REVISION: existing[object_id].get(REVISION)},
                        {"$set": {**merged, REVISION: token}},
                    )
                    for object_id, (merged, token) in changes.items()
                ],
                ordered=False,
            )
            tokens = {object_id: token for object_id, (_, token) in changes.items()}
            if outcome.matched_count != len(changes):
                # Which updates took: a document carrying our token is ours (or was rewritten
                # on top of ours by a writer that read it, so it holds our points too).
                tokens = {
                    doc["_id"]: doc.get(REVISION)
                    async for doc in collection.find({"_id": {"$in": list(changes)}}, {REVISION: 1})
                }
            for object_id, (merged, token) in changes.items():
                if tokens.get(object_id) == token:
                    written[object_id] = {"_id": object_id, **merged}
                else:
                    contested.append(object_id)
        if contested:
            limit = asyncio.Semaphore(CONCURRENT_AUX_WRITES)

            async def retry(object_id: Any) -> tuple[Any, dict[str, Any]]:
                async with limit:
                    current = await collection.find_one({"_id": object_id})
                    return object_id, await self._merge_one(
                        collection, object_id, by_object[object_id], current
                    )

            written.update(await asyncio.gather(*(retry(object_id) for object_id in contested)))
        return {object_id: written[object_id] for object_id in by_object}

    @staticmethod
    async def _cross_match_new(
        by_object: dict[Any, list[dict[str, Any]]],
        existing: dict[Any, dict[str, Any]],
        cross_match: CrossMatcher,
        positions: dict[Any, tuple[float, float]],
    ) -> None:
        """Kowalski's rule: an object is cross-matched once, when the archive first sees it."""
        new = [
            object_id
            for object_id, object_updates in by_object.items()
            if object_id not in existing
            and not any("cross_matches" in update for update in object_updates)
        ]
        if not new:
            return
        found = await cross_match([positions[object_id] for object_id in new])
        for object_id, matches in zip(new, found, strict=True):
            by_object[object_id][0]["cross_matches"] = matches

    async def _merge_one(
        self,
        collection: AsyncCollection,
        object_id: Any,
        updates: list[dict[str, Any]],
        current: dict[str, Any] | None,
    ) -> dict[str, Any]:
        for _ in range(MAX_AUX_ATTEMPTS):
            merged = merge_aux(current, *updates)
            document = {"_id": object_id, **merged}
            if current is None:
                try:
                    await collection.insert_one({**document, REVISION: ObjectId()})
                    return document
                except DuplicateKeyError:
                    pass  # another writer created it first: merge into theirs
            elif all(current.get(key) == value for key, value in merged.items()):
                return document  # nothing new (a re-delivered alert): leave it alone
            else:
                written = await collection.update_one(
                    {"_id": object_id, REVISION: current.get(REVISION)},
                    {"$set": {**merged, REVISION: ObjectId()}},
                )
                if written.matched_count == 1:
                    return document
            current = await collection.find_one({"_id": object_id})
        raise AuxConflictError(f"aux document {object_id!r} kept changing; giving up this batch")
