"""The archive's aux merges on the real database: a batch is written in a few bulk calls, and a
writer that changed a document in between is never overwritten (its points survive)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection

from services.archive.store import REVISION, AlertStore
from skymesh.config import Settings

pytestmark = pytest.mark.integration


def point(jd: float, mag: float = 18.0) -> dict[str, Any]:
    return {"jd": jd, "fid": 1, "magpsf": mag, "diffmaglim": 20.0}


def aux(object_id: str, *jds: float) -> dict[str, Any]:
    return {"_id": object_id, "prv_candidates": [point(jd) for jd in jds], "fp_hists": []}


@pytest.fixture
async def collection(mesh: Settings) -> AsyncIterator[AsyncCollection]:
    client: AsyncMongoClient = AsyncMongoClient(mesh.mongo_uri)
    name = f"store_test_{uuid.uuid4().hex[:8]}"
    try:
        yield client[name]["ZTF_alerts_aux"]
    finally:
        await client.drop_database(name)
        await client.close()


COUNTED = {"find", "find_one", "insert_one", "insert_many", "update_one", "bulk_write"}


class Counting:
    """The real collection, counting the calls made on it; ``before`` runs a coroutine (another
    writer) just before the named call goes through."""

    def __init__(self, inner: AsyncCollection, before: dict[str, Any] | None = None) -> None:
        self.inner = inner
        self.before = before or {}
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.inner, name)
        if name not in COUNTED:
            return attribute
        if name == "find":

            def find(*args: Any, **kwargs: Any) -> Any:
                self.calls.append(name)
                return attribute(*args, **kwargs)

            return find

        async def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            if (writer := self.before.pop(name, None)) is not None:
                await writer()
            return await attribute(*args, **kwargs)

        return call


async def test_a_batch_is_three_calls_and_a_redelivery_writes_nothing(
    collection: AsyncCollection,
) -> None:
    store = AlertStore(collection.database)
    await collection.insert_one({**aux("known", 1.0), REVISION: 1})
    counting = Counting(collection)
    updates = [aux(f"new{i}", 2.0, 3.0) for i in range(50)] + [aux("known", 4.0), aux("new0", 5.0)]
    written = await store.merge_aux(counting, updates)
    assert counting.calls == ["find", "insert_many", "bulk_write"]
    assert [p["jd"] for p in written["known"]["prv_candidates"]] == [1.0, 4.0]
    assert [p["jd"] for p in written["new0"]["prv_candidates"]] == [2.0, 3.0, 5.0]
    stored = {doc["_id"]: doc async for doc in collection.find()}
    assert len(stored) == 51
    assert {k: v for k, v in stored["new0"].items() if k != REVISION} == written["new0"]
    revisions = {object_id: doc[REVISION] for object_id, doc in stored.items()}
    # The same batch again: every document already holds it, so nothing is written.
    again = Counting(collection)
    assert await store.merge_aux(again, updates) == written
    assert again.calls == ["find"]
    assert {doc["_id"]: doc[REVISION] async for doc in collection.find()} == revisions


async def test_an_object_created_by_another_writer_in_between_is_merged_into(
    collection: AsyncCollection,
) -> None:
    store = AlertStore(collection.database)

    async def other_writer() -> None:
        await collection.insert_one({**aux("raced", 1.0), REVISION: "theirs"})

    racing = Counting(collection, before={"insert_many": other_writer})
    written = await store.merge_aux(racing, [aux("raced", 2.0), aux("calm", 3.0)])
    stored = await collection.find_one({"_id": "raced"})
    assert [p["jd"] for p in stored["prv_candidates"]] == [1.0, 2.0]
    assert written["raced"]["prv_candidates"] == stored["prv_candidates"]
    assert (await collection.find_one({"_id": "calm"}))["prv_candidates"] == [point(3.0)]


async def test_an_update_by_another_writer_in_between_is_not_lost(
    collection: AsyncCollection,
) -> None:
    store = AlertStore(collection.database)
    await collection.insert_many([{**aux(f"o{i}", 1.0), REVISION: 1} for i in range(3)])

    async def other_writer() -> None:  # merges a point into o1 after we read it
        await collection.update_one(
            {"_id": "o1"}, {"$push": {"prv_candidates": point(9.0)}, "$set": {REVISION: 2}}
        )

    racing = Counting(collection, before={"bulk_write": other_writer})
    written = await store.merge_aux(racing, [aux(f"o{i}", 5.0) for i in range(3)])
    # One update did not take: the revisions are read back, and o1 merged again.
    assert racing.calls == ["find", "bulk_write", "find", "find_one", "update_one"]
    stored = {doc["_id"]: doc async for doc in collection.find()}
    assert [p["jd"] for p in stored["o1"]["prv_candidates"]] == [1.0, 5.0, 9.0]
    assert [p["jd"] for p in stored["o0"]["prv_candidates"]] == [1.0, 5.0]
    assert written["o1"]["prv_candidates"] == stored["o1"]["prv_candidates"]


async def test_concurrent_batches_on_the_same_objects_lose_no_point(
    collection: AsyncCollection,
) -> None:
    stores = [AlertStore(collection.database) for _ in range(4)]
    batches = [
        [aux(f"shared{i}", 10.0 * writer + k) for i in range(20) for k in range(2)]
        for writer in range(4)
    ]
    await asyncio.gather(
        *(store.merge_aux(collection, batch) for store, batch in zip(stores, batches, strict=True))
    )
    async for doc in collection.find():
        jds = sorted(p["jd"] for p in doc["prv_candidates"])
        assert jds == sorted(10.0 * writer + k for writer in range(4) for k in range(2))
    assert await collection.count_documents({}) == 20
