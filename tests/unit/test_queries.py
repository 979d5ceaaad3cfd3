"""The query dispatcher's refusals that need no database, and the stream restriction."""

from typing import Any

import grpc
import pytest

from services.archive import service
from services.archive.queries import HANDLERS, QueryContext, QueryError, execute
from services.archive.queries.base import PROGRAMID_FIELD, restrict, sort_spec
from services.archive.xmatch import XMatchServicer
from skymesh.archive.v1 import archive_pb2
from skymesh.config import Settings
from skymesh.runtime.auth import SYSTEM_ADMIN, Identity


class NoDatabase:
    def __getattr__(self, name: str):  # pragma: no cover - reaching it fails the test
        raise AssertionError(f"the database was touched ({name}) for a malformed request")


CTX = QueryContext(db=NoDatabase(), caller=Identity(user_id=2, username="alice"))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("request_body", "message"),
    [
        ([], "must be a JSON object"),
        ({}, "query_type is required"),
        ({"query_type": 3}, "query_type is required"),
        ({"query_type": "drop", "query": {}}, "unknown query_type 'drop'"),
        ({"query_type": "find"}, "'query' must be a JSON object"),
        ({"query_type": "find", "query": {}, "kwargs": []}, "'kwargs' must be a JSON object"),
        ({"query_type": "find", "query": {}}, "query.catalog is required"),
        ({"query_type": "find", "query": {"catalog": "users"}}, "readable by admins only"),
        ({"query_type": "info", "query": {"command": "shutdown"}}, "query.command must be one"),
    ],
)
async def test_malformed_requests_are_refused_before_the_database(
    request_body: object, message: str
) -> None:
    with pytest.raises(QueryError, match=message):
        await execute(CTX, request_body)


def test_every_foundation_query_type_is_registered() -> None:
    assert {"find", "find_one", "count_documents", "estimated_document_count", "info"} <= set(
        HANDLERS
    )


def test_sort_accepts_kowalski_shapes_and_refuses_others() -> None:
    assert sort_spec({"sort": [["candid", -1]]}, "find") == [("candid", -1)]
    assert sort_spec({"sort": {"candid": 1, "jd": -1}}, "find") == [("candid", 1), ("jd", -1)]
    assert sort_spec({}, "find") is None
    with pytest.raises(QueryError, match="directions must be 1 or -1"):
        sort_spec({"sort": [["candid", 2]]}, "find")
    with pytest.raises(QueryError, match=r"kwargs\.sort must be"):
        sort_spec({"sort": ["candid"]}, "find")


# ---- stream restriction ---------------------------------------------------------------------


class FakeCursor:
    def __init__(self, documents: list[dict[str, Any]] | None = None) -> None:
        self.documents = documents or []

    def hint(self, _hint: Any) -> "FakeCursor":
        return self

    async def to_list(self) -> list[dict[str, Any]]:
        return self.documents

    async def __aiter__(self) -> Any:
        for document in self.documents:
            yield document

    async def close(self) -> None:
        pass


class FakeCollection:
    """Records what each call asked the database; finds its ``documents``, unfiltered."""

    def __init__(
        self, name: str, calls: list[tuple[str, str, Any]], documents: list[dict[str, Any]]
    ) -> None:
        self.name = name
        self.calls = calls
        self.documents = documents

    def find(self, filter: dict[str, Any], *args: Any, **kwargs: Any) -> FakeCursor:
        self.calls.append((self.name, "find", filter))
        return FakeCursor(self.documents)

    async def find_one(self, filter: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        self.calls.append((self.name, "find_one", filter))

    async def count_documents(self, filter: dict[str, Any], **kwargs: Any) -> int:
        self.calls.append((self.name, "count_documents", filter))
        return 0

    async def estimated_document_count(self, **kwargs: Any) -> int:
        self.calls.append((self.name, "estimated_document_count", None))
        return 0

    async def aggregate(self, pipeline: list[dict[str, Any]], **kwargs: Any) -> FakeCursor:
        self.calls.append((self.name, "aggregate", pipeline))
        return FakeCursor()


class FakeDatabase:
    NAMES = ("ZTF_alerts", "ZTF_alerts_aux", "WNTR_alerts", "Gaia_EDR3", "users")

    def __init__(self, documents: dict[str, list[dict[str, Any]]] | None = None) -> None:
        self.calls: list[tuple[str, str, Any]] = []
        self.documents = documents or {}

    async def list_collection_names(self) -> list[str]:
        return list(self.NAMES)

    def __getitem__(self, name: str) -> FakeCollection:
        return FakeCollection(name, self.calls, self.documents.get(name, []))


STREAMS = {"ZTF_alerts": frozenset({1, 3}), "WNTR_alerts": frozenset()}
RESTRICTED = Identity(user_id=2, username="alice", acls=frozenset({"Upload data"}), streams=STREAMS)
ADMIN = Identity(user_id=1, username="admin", acls=frozenset({SYSTEM_ADMIN}), streams=STREAMS)
ONLY_1_AND_3 = {PROGRAMID_FIELD: {"$in": [1, 3]}}


async def run(who: Identity, query_type: str, query: dict[str, Any], **kwargs: Any) -> list:
    db = FakeDatabase()
    ctx = QueryContext(db=db, caller=who)  # type: ignore[arg-type]
    await execute(ctx, {"query_type": query_type, "query": query, "kwargs": kwargs})
    return db.calls


@pytest.mark.parametrize("query_type", ["find", "find_one", "count_documents"])
async def test_a_restricted_caller_reads_only_their_programids(query_type: str) -> None:
    query = {"catalog": "ZTF_alerts", "filter": {"candidate.magpsf": {"$lt": 18}}}
    [(name, call, filter_)] = await run(RESTRICTED, query_type, query)
    assert (name, call) == ("ZTF_alerts", query_type)
    assert filter_ == {"candidate.magpsf": {"$lt": 18}, **ONLY_1_AND_3}


async def test_a_caller_filter_on_programid_cannot_replace_the_restriction() -> None:
    query = {"catalog": "ZTF_alerts", "filter": {PROGRAMID_FIELD: 2}}
    [(_, _, filter_)] = await run(RESTRICTED, "find", query)
    assert filter_ == {"$and": [{PROGRAMID_FIELD: 2}], **ONLY_1_AND_3}
    assert restrict({"a": 1}, None) == {"a": 1}


async def test_a_caller_without_the_collections_streams_reads_nothing_of_it() -> None:
    [(_, _, filter_)] = await run(RESTRICTED, "find", {"catalog": "WNTR_alerts"})
    assert filter_ == {PROGRAMID_FIELD: {"$in": []}}


async def test_estimated_count_becomes_a_filtered_count_for_a_restricted_caller() -> None:
    query = {"catalog": "ZTF_alerts"}
    assert await run(RESTRICTED, "estimated_document_count", query) == [
        ("ZTF_alerts", "count_documents", ONLY_1_AND_3)
    ]
    assert await run(ADMIN, "estimated_document_count", query) == [
        ("ZTF_alerts", "estimated_document_count", None)
    ]


async def test_aggregate_starts_with_the_restriction() -> None:
    pipeline = [{"$match": {"candidate.drb": {"$gt": 0.9}}}, {"$limit": 3}]
    [(_, call, sent)] = await run(
        RESTRICTED, "aggregate", {"catalog": "ZTF_alerts", "pipeline": pipeline}
    )
    assert call == "aggregate"
    assert sent == [{"$match": ONLY_1_AND_3}, *pipeline]


async def test_aggregate_merges_the_restriction_into_a_leading_geonear() -> None:
    geo_near = {"near": [10, 20], "distanceField": "d", "query": {"candidate.fwhm": 2}}
    [(_, _, sent)] = await run(
        RESTRICTED,
        "aggregate",
        {"catalog": "ZTF_alerts", "pipeline": [{"$geoNear": geo_near}, {"$limit": 1}]},
    )
    assert sent[0] == {"$geoNear": {**geo_near, "query": {"candidate.fwhm": 2, **ONLY_1_AND_3}}}
    assert sent[1:] == [{"$limit": 1}]


@pytest.mark.parametrize("query_type", ["find", "count_documents", "estimated_document_count"])
async def test_admins_and_ungoverned_collections_are_not_restricted(query_type: str) -> None:
    [(_, _, filter_)] = await run(ADMIN, query_type, {"catalog": "ZTF_alerts", "filter": {}})
    assert filter_ in ({}, None)
    [(_, _, filter_)] = await run(RESTRICTED, query_type, {"catalog": "Gaia_EDR3", "filter": {}})
    assert filter_ in ({}, None)
    pipeline = [{"$match": {}}]
    [(_, _, sent)] = await run(ADMIN, "aggregate", {"catalog": "ZTF_alerts", "pipeline": pipeline})
    assert sent == pipeline


@pytest.mark.parametrize(
    ("query_type", "query"),
    [
        ("find", {"catalog": "ZTF_alerts_aux"}),
        ("count_documents", {"catalog": "ZTF_alerts_aux"}),
        ("aggregate", {"catalog": "ZTF_alerts_aux", "pipeline": [{"$limit": 1}]}),
        (
            "cone_search",
            {
                "object_coordinates": {"cone_search_radius": 2, "radec": {"a": [10, 20]}},
                "catalogs": {"ZTF_alerts_aux": {}},
            },
        ),
    ],
)
async def test_a_restricted_caller_may_not_read_the_mixed_history(
    query_type: str, query: dict[str, Any]
) -> None:
    with pytest.raises(QueryError, match="'ZTF_alerts_aux' is refused") as refused:
        await run(RESTRICTED, query_type, query)
    message = str(refused.value)
    assert "mixes programids" in message and "System admin" in message
    await run(ADMIN, query_type, query)  # admins read it


def lookup(source: str, *pipeline: dict[str, Any]) -> dict[str, Any]:
    return {"$lookup": {"from": source, "as": "joined", "pipeline": list(pipeline)}}


@pytest.mark.parametrize(
    ("stage", "source"),
    [
        (lookup("ZTF_alerts"), "ZTF_alerts"),
        (
            {"$lookup": {"from": "ZTF_alerts_aux", "localField": "x", "foreignField": "_id"}},
            "ZTF_alerts_aux",
        ),
        ({"$graphLookup": {"from": "WNTR_alerts", "startWith": "$x"}}, "WNTR_alerts"),
        ({"$facet": {"f": [lookup("Gaia_EDR3", lookup("ZTF_alerts"))]}}, "ZTF_alerts"),
    ],
)
async def test_joins_cannot_escape_the_restriction(stage: dict[str, Any], source: str) -> None:
    query = {"catalog": "Gaia_EDR3", "pipeline": [stage]}
    with pytest.raises(QueryError, match=f"from '{source}' is refused"):
        await run(RESTRICTED, "aggregate", query)
    await run(ADMIN, "aggregate", query)


async def test_joins_from_ungoverned_collections_and_on_other_databases() -> None:
    join = {"$lookup": {"from": "Gaia_EDR3", "as": "g", "pipeline": []}}
    await run(RESTRICTED, "aggregate", {"catalog": "ZTF_alerts", "pipeline": [join]})
    other_db = {"$lookup": {"from": {"db": "admin", "coll": "x"}, "as": "g", "pipeline": []}}
    with pytest.raises(QueryError, match="from must be a collection name"):
        await run(ADMIN, "aggregate", {"catalog": "ZTF_alerts", "pipeline": [other_db]})


@pytest.mark.parametrize("query_type", ["cone_search", "near"])
async def test_positional_queries_restrict_each_alert_catalog(query_type: str) -> None:
    catalogs = {"ZTF_alerts": {"filter": {"candidate.rb": {"$gt": 0.5}}}, "Gaia_EDR3": {}}
    if query_type == "cone_search":
        query = {
            "object_coordinates": {"cone_search_radius": 2, "radec": {"a": [10.0, 20.0]}},
            "catalogs": catalogs,
        }
    else:
        query = {"radec": {"a": [10.0, 20.0]}, "max_distance": 2, "distance_units": "arcsec"}
        query["catalogs"] = catalogs
    calls = await run(RESTRICTED, query_type, query)
    filters = {name: [f for n, _, f in calls if n == name] for name in ("ZTF_alerts", "Gaia_EDR3")}
    assert filters["ZTF_alerts"] and filters["Gaia_EDR3"]
    for filter_ in filters["ZTF_alerts"]:
        assert filter_[PROGRAMID_FIELD] == {"$in": [1, 3]}
        assert filter_["candidate.rb"] == {"$gt": 0.5}
    assert all(PROGRAMID_FIELD not in f for f in filters["Gaia_EDR3"])


# ---- the archive's lookups (GetAlert, GetObject) ----------------------------------------------


class Aborted(Exception):
    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(details)
        self.code = code


class Context:
    async def abort(self, code: grpc.StatusCode, details: str) -> None:
        raise Aborted(code, details)


def servicer(
    monkeypatch: pytest.MonkeyPatch, who: Identity, db: FakeDatabase
) -> service.ArchiveServicer:
    monkeypatch.setattr(service, "caller", lambda: who)
    client = {Settings().db_name: db}
    xmatch = XMatchServicer(db)  # type: ignore[arg-type]
    return service.ArchiveServicer(Settings(), client, xmatch)  # type: ignore[arg-type]


async def test_get_alert_reads_only_the_callers_programids(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = FakeDatabase()
    archive = servicer(monkeypatch, RESTRICTED, db)
    request = archive_pb2.GetAlertRequest(catalog="ZTF_alerts", candid=1127107111615015007)
    with pytest.raises(Aborted, match="among your streams' programids") as aborted:
        await archive.GetAlert(request, Context())
    assert aborted.value.code == grpc.StatusCode.NOT_FOUND
    assert db.calls == [("ZTF_alerts", "find_one", {"candid": 1127107111615015007, **ONLY_1_AND_3})]


async def test_get_object_refuses_the_mixed_history_to_a_restricted_caller(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alert = {"_id": 1, "objectId": "ZTF21aaaaaaa", "candidate": {"programid": 1}}
    db = FakeDatabase({"ZTF_alerts": [alert]})
    request = archive_pb2.GetObjectRequest(catalog="ZTF_alerts", object_id="ZTF21aaaaaaa")
    with pytest.raises(Aborted, match="'ZTF_alerts_aux' is refused") as aborted:
        await servicer(monkeypatch, RESTRICTED, db).GetObject(request, Context())
    assert aborted.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert db.calls == []
    reply = await servicer(monkeypatch, ADMIN, db).GetObject(request, Context())
    assert '"objectId": "ZTF21aaaaaaa"' in reply.document_json
    assert db.calls == [
        ("ZTF_alerts", "find", {"objectId": "ZTF21aaaaaaa"}),
        ("ZTF_alerts_aux", "find_one", {"_id": "ZTF21aaaaaaa"}),
    ]
