"""Alert storage: one collection of alerts and one of per-object aux history per survey."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from bson.raw_bson import RawBSONDocument
from pymongo import ASCENDING, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

log = logging.getLogger(__name__)
DUPLICATE_KEY = 11000


@dataclass
class IngestResult:
    inserted: list[int] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)


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
        await alerts.create_index([("candidate.jd", ASCENDING)], name="candidate.jd_1")
        self._indexed.add(catalog)

    async def ingest(self, catalog: str, alerts: list[bytes], aux: list[bytes]) -> IngestResult:
        """Upserts the aux history, then inserts the alerts; both steps are idempotent."""
        await self.ensure_indexes(catalog)
        if aux:
            await self.db[f"{catalog}_aux"].bulk_write(
                [_aux_update(RawBSONDocument(raw)) for raw in aux], ordered=False
            )
        docs = [RawBSONDocument(raw) for raw in alerts]
        candids = [int(doc["candid"]) for doc in docs]
        result = IngestResult()
        if not docs:
            return result
        duplicate_indexes: set[int] = set()
        try:
            await self.db[catalog].insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            for error in exc.details.get("writeErrors", []):
                if error.get("code") != DUPLICATE_KEY:
                    raise
                duplicate_indexes.add(error["index"])
        for index, candid in enumerate(candids):
            (result.duplicates if index in duplicate_indexes else result.inserted).append(candid)
        return result


def _aux_update(aux: RawBSONDocument) -> UpdateOne:
    """prv_candidates and fp_hists accumulate as set unions across an object's alerts."""
    add_to_set = {
        key: {"$each": list(aux[key])} for key in ("prv_candidates", "fp_hists") if key in aux
    }
    set_on_insert = {
        key: aux[key] for key in aux if key not in ("_id", "prv_candidates", "fp_hists")
    }
    update: dict = {}
    if add_to_set:
        update["$addToSet"] = add_to_set
    if set_on_insert:
        update["$setOnInsert"] = set_on_insert
    return UpdateOne(
        {"_id": aux["_id"]}, update or {"$addToSet": {"prv_candidates": {"$each": []}}}, upsert=True
    )
