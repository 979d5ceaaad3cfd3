"""Opt-in: the conformance table against a real MongoDB.

Set SKYMESH_CONFORMANCE_MONGO_URI (e.g. mongodb://127.0.0.1:27017) to run every case of
conformance_cases.py as an aggregation on a scratch collection of a throwaway database, and
compare with the same expectations the in-process engine meets. Skipped otherwise: these machines
have no mongod (see shared/DESIGN.md), and the dev database (SecantusDB) has known gaps in
aggregation expressions, so it is no oracle.
"""

from __future__ import annotations

import copy
import os
import uuid
from collections.abc import Iterator

import pytest
from pymongo import MongoClient
from pymongo.database import Database
from pymongo.errors import OperationFailure

from tests.unit.filters.compare import same_documents
from tests.unit.filters.conformance_cases import CASES, Case

URI_VARIABLE = "SKYMESH_CONFORMANCE_MONGO_URI"
URI = os.environ.get(URI_VARIABLE)

pytestmark = pytest.mark.skipif(
    not URI,
    reason=f"set {URI_VARIABLE} to run the conformance table against a real MongoDB",
)


@pytest.fixture(scope="module")
def database() -> Iterator[Database]:
    client: MongoClient = MongoClient(URI, serverSelectionTimeoutMS=10_000)
    name = f"skymesh_conformance_{uuid.uuid4().hex[:12]}"
    try:
        yield client[name]
    finally:
        client.drop_database(name)
        client.close()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_on_mongodb(case: Case, database: Database) -> None:
    if case.engine_only:
        pytest.skip(f"not reproducible on a server: {case.engine_only}")
    collection = database["scratch"]
    collection.drop()
    if case.documents:
        collection.insert_many(copy.deepcopy(case.documents))
    if case.error is not None:
        with pytest.raises(OperationFailure) as raised:
            list(collection.aggregate(case.pipeline))
        assert case.error in str(raised.value), f"see {case.source}"
        return
    output = list(collection.aggregate(case.pipeline))
    assert same_documents(output, case.expected, ordered=case.ordered, approx=case.approx), (
        f"{case.name}\n  got:      {output}\n  expected: {case.expected}\n  see {case.source}"
    )
