"""Alert storage: one collection of alerts and one of per-object aux history per survey."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

import bson
from bson.raw_bson import RawBSONDocument
from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from services.archive.history import merge_aux
from skymesh.runtime.errors import Conflict

log = logging.getLogger(__name__)
DUPLICATE_KEY = 11000
# Optimistic concurrency on aux documents: a writer only replaces the revision it read.
REVISION = "_rev"
MAX_AUX_ATTEMPTS = 50
CONCURRENT_AUX_WRITES = 32


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

    async def ingest(self, catalog: str, alerts: list[bytes], aux: list[bytes]) -> IngestResult:
        """Merges the aux history, then inserts the alerts; both steps are idempotent."""
        await self.ensure_indexes(catalog)
        merged = await self.merge_aux(self.db[f"{catalog}_aux"], [bson.decode(raw) for raw in aux])
        result = await self.insert_alerts(self.db[catalog], alerts)
        result.aux = merged
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
        self, collection: AsyncCollection, updates: list[dict[str, Any]]
    ) -> dict[Any, dict[str, Any]]:
        """Merges each object's new history into its aux document, losing no concurrent update;
        returns each object's document as written."""
        by_object: dict[Any, list[dict[str, Any]]] = {}
        for update in updates:
            by_object.setdefault(update["_id"], []).append(update)
        existing = {
            doc["_id"]: doc async for doc in collection.find({"_id": {"$in": list(by_object)}})
        }
        limit = asyncio.Semaphore(CONCURRENT_AUX_WRITES)

        async def write(object_id: Any) -> tuple[Any, dict[str, Any]]:
            async with limit:
                return object_id, await self._merge_one(
                    collection, object_id, by_object[object_id], existing.get(object_id)
                )

        return dict(await asyncio.gather(*(write(object_id) for object_id in by_object)))

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
                    await collection.insert_one({**document, REVISION: 1})
                    return document
                except DuplicateKeyError:
                    pass  # another writer created it first: merge into theirs
            elif all(current.get(key) == value for key, value in merged.items()):
                return document  # nothing new (a re-delivered alert): leave it alone
            else:
                revision = current.get(REVISION, 0)
                written = await collection.update_one(
                    {"_id": object_id, REVISION: current.get(REVISION)},
                    {"$set": {**merged, REVISION: revision + 1}},
                )
                if written.matched_count == 1:
                    return document
            current = await collection.find_one({"_id": object_id})
        raise AuxConflictError(f"aux document {object_id!r} kept changing; giving up this batch")
