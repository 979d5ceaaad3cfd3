"""The development database's ceiling for the archive's write pattern.

SecantusDB is a Python server: one core at most. This measures, on the mesh's own database
and a scratch database in it, how many alerts per second the archive's writes can reach when
nothing else competes, with the archive's own code (``AlertStore``, indexes included) and
with the raw operations it is made of:

- ``archive, new objects``: ``AlertStore.ingest`` of 256-alert batches whose objects are new
  (two alerts per object, as the benchmark's stream);
- ``archive, known objects``: the same objects again, with new alerts (aux merges);
- ``alerts insert_many``: the alert documents alone (the least any archive must write);
- aux writes, per document: ``$set`` of the merged arrays (what the archive does), the whole
  document replaced, and Kowalski's ``$addToSet`` with ``$each``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import bson
from pymongo import AsyncMongoClient, ReplaceOne, UpdateOne

from services.archive.store import AlertStore
from services.broker import enrichment
from services.broker.surveys import ZTF
from skymesh.synthetic import synthetic_messages

BATCH = 256
SEED = 20261203


def archive_documents(n: int, seed: int, first: int) -> tuple[list[bytes], list[bytes]]:
    """(alert BSON, aux BSON) of n synthetic alerts, prepared as the broker prepares them."""
    survey = ZTF(r".*")
    prepared = [
        survey.prepare(packet)
        for message in synthetic_messages(n, seed, first=first)
        for packet in survey.decode(message)
    ]
    documents = enrichment.coordinates([a.ra for a in prepared], [a.dec for a in prepared])
    for alert, coordinates in zip(prepared, documents, strict=True):
        alert.alert["coordinates"] = coordinates
        alert.aux["cross_matches"] = {}
    return [bson.encode(a.alert) for a in prepared], [bson.encode(a.aux) for a in prepared]


async def _rate(count: int, work: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await work()
    return count / (time.perf_counter() - started)


async def measure(mongo_uri: str, alerts: int) -> dict[str, float]:
    """Alerts (or documents) per second of each write pattern, in a scratch database."""
    first, again = archive_documents(alerts, SEED, 0), archive_documents(alerts, SEED + 1, 0)
    # The second set: the same objects, other alerts (new candids) with their own history.
    retargeted = [
        bson.encode({**bson.decode(raw), "_id": 10**18 + i, "candid": 10**18 + i})
        for i, raw in enumerate(again[0])
    ]
    client: AsyncMongoClient = AsyncMongoClient(mongo_uri)
    rates: dict[str, float] = {}
    try:
        await client.drop_database("bench_ceiling")
        db = client["bench_ceiling"]
        store = AlertStore(db)
        await store.ensure_indexes("ZTF_alerts")

        async def ingest(alert_docs: list[bytes], aux_docs: list[bytes]) -> None:
            for start in range(0, len(alert_docs), BATCH):
                stop = start + BATCH
                await store.ingest("ZTF_alerts", alert_docs[start:stop], aux_docs[start:stop])

        rates["archive, new objects"] = await _rate(alerts, lambda: ingest(*first))
        rates["archive, known objects"] = await _rate(alerts, lambda: ingest(retargeted, again[1]))
        raw_alerts = db["raw_alerts"]
        await raw_alerts.create_index("candid", unique=True)
        await raw_alerts.create_index("objectId")
        await raw_alerts.create_index("candidate.jd")
        await raw_alerts.create_index("coordinates.healpix")
        docs = [bson.decode(raw) for raw in first[0]]

        async def insert_alerts() -> None:
            for start in range(0, len(docs), BATCH):
                await raw_alerts.insert_many(docs[start : start + BATCH], ordered=False)

        rates["alerts insert_many"] = await _rate(alerts, insert_alerts)
        aux = [bson.decode(raw) for raw in first[1]]
        objects = {doc["_id"]: doc for doc in aux}
        aux_collection = db["raw_aux"]
        await aux_collection.insert_many(list(objects.values()))
        patterns = {
            "aux $set of the merged arrays": lambda d: UpdateOne(
                {"_id": d["_id"]},
                {"$set": {"prv_candidates": d["prv_candidates"], "fp_hists": d["fp_hists"]}},
            ),
            "aux replace": lambda d: ReplaceOne({"_id": d["_id"]}, d),
            "aux $addToSet $each": lambda d: UpdateOne(
                {"_id": d["_id"]},
                {
                    "$addToSet": {
                        "prv_candidates": {"$each": d["prv_candidates"]},
                        "fp_hists": {"$each": d["fp_hists"]},
                    }
                },
            ),
        }
        for name, operation in patterns.items():
            operations = [operation(doc) for doc in objects.values()]

            async def write(operations: list[Any] = operations) -> None:
                for start in range(0, len(operations), BATCH):
                    await aux_collection.bulk_write(operations[start : start + BATCH])

            rates[name] = await _rate(len(operations), write)
        await client.drop_database("bench_ceiling")
    finally:
        await client.close()
    return rates


def ceiling(mongo_uri: str, alerts: int) -> dict[str, float]:
    return asyncio.run(measure(mongo_uri, alerts))
