"""Filter documents in the database's ``filters`` collection, in Kowalski's shape.

``{filter_id, group_id, catalog, permissions, active, autosave, auto_followup,
update_annotations, active_fid, fv: [{fid, pipeline, created_at}], created_at,
last_modified}`` plus ``_rev``, a counter every write increments: replicas poll it to reload
what changed (a timestamp could tie), and read-modify-write updates use it to lose nothing.
It starts from the clock (microseconds), so a filter deleted and created again never goes
back to a revision a replica already holds.
"""

from __future__ import annotations

import secrets
import string
import time
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from skymesh.runtime.errors import Conflict, NotFound

COLLECTION = "filters"
REVISION = "_rev"
FID_ALPHABET = string.ascii_lowercase + string.digits
FID_LENGTH = 6


def new_fid() -> str:
    return "".join(secrets.choice(FID_ALPHABET) for _ in range(FID_LENGTH))


def now() -> datetime:
    # BSON dates hold milliseconds; rounding here keeps what we return equal to what we store.
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def new_version(pipeline_text: str) -> dict[str, Any]:
    return {"fid": new_fid(), "pipeline": pipeline_text, "created_at": now()}


def public(document: dict[str, Any]) -> dict[str, Any]:
    """The document as Kowalski returns it (without our revision counter)."""
    return {key: value for key, value in document.items() if key != REVISION}


def version_of(document: dict[str, Any], fid: str | None = None) -> dict[str, Any] | None:
    """The version ``fid`` (default: the active one) of a filter document."""
    wanted = fid or document.get("active_fid")
    for version in document.get("fv", []):
        if version.get("fid") == wanted:
            return version
    return None


class FilterStore:
    def __init__(self, db: AsyncDatabase) -> None:
        self.filters = db[COLLECTION]

    async def ensure_indexes(self) -> None:
        # Kowalski addresses a filter by filter_id alone in GET/PATCH/DELETE, so it is unique.
        await self.filters.create_index([("filter_id", ASCENDING)], unique=True, name="filter_id_1")

    async def get(self, filter_id: int) -> dict[str, Any] | None:
        return await self.filters.find_one({"filter_id": filter_id})

    async def require(self, filter_id: int) -> dict[str, Any]:
        document = await self.get(filter_id)
        if document is None:
            raise NotFound(f"Filter id {filter_id} not found")
        return document

    async def create_or_append(
        self, spec: dict[str, Any], version: dict[str, Any]
    ) -> tuple[dict[str, Any], bool]:
        """Creates the filter with ``version``, or appends ``version`` to the existing filter
        and makes it active. Returns the document and whether it was created."""
        filter_id, group_id = spec["filter_id"], spec["group_id"]
        moment = version["created_at"]
        document = {
            "filter_id": filter_id,
            "group_id": group_id,
            "catalog": spec["catalog"],
            "permissions": spec["permissions"],
            "active": True,
            "autosave": spec["autosave"],
            "auto_followup": spec["auto_followup"],
            "update_annotations": spec["update_annotations"],
            "active_fid": version["fid"],
            "fv": [version],
            "created_at": moment,
            "last_modified": moment,
            REVISION: time.time_ns() // 1000,
        }
        try:
            await self.filters.insert_one(document)
            return document, True
        except DuplicateKeyError:
            pass  # it exists: append the version
        updated = await self.filters.find_one_and_update(
            {"filter_id": filter_id, "group_id": group_id},
            {
                "$push": {"fv": version},
                "$set": {"active_fid": version["fid"], "last_modified": moment},
                "$inc": {REVISION: 1},
            },
            return_document=ReturnDocument.AFTER,
        )
        if updated is None:
            existing = await self.require(filter_id)
            raise ValueError(
                f"Filter id {filter_id} belongs to group_id {existing['group_id']}, not {group_id}"
            )
        return updated, False

    async def update(self, current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
        """Applies ``changes`` to the document read as ``current``, unless it changed since."""
        updated = await self.filters.find_one_and_update(
            {"filter_id": current["filter_id"], REVISION: current.get(REVISION)},
            {"$set": {**changes, "last_modified": now()}, "$inc": {REVISION: 1}},
            return_document=ReturnDocument.AFTER,
        )
        if updated is None:
            if await self.get(current["filter_id"]) is None:
                raise NotFound(f"Filter id {current['filter_id']} not found")
            raise Conflict(f"Filter id {current['filter_id']} changed meanwhile; try again")
        return updated

    async def delete(self, filter_id: int) -> None:
        if (await self.filters.delete_one({"filter_id": filter_id})).deleted_count == 0:
            raise NotFound(f"Filter id {filter_id} not found")

    async def revisions(self) -> dict[int, int]:
        """filter_id -> revision, for every stored filter (a cheap poll)."""
        cursor = self.filters.find({}, {"_id": 0, "filter_id": 1, REVISION: 1})
        return {doc["filter_id"]: doc.get(REVISION, 0) async for doc in cursor}

    async def find(self, filter_ids: list[int]) -> list[dict[str, Any]]:
        return await self.filters.find({"filter_id": {"$in": filter_ids}}).to_list()

    async def list(self, group_id: int = 0, active_only: bool = False) -> list[dict[str, Any]]:
        query: dict[str, Any] = {}
        if group_id:
            query["group_id"] = group_id
        if active_only:
            query["active"] = True
        return await self.filters.find(query, sort=[("filter_id", ASCENDING)]).to_list()
