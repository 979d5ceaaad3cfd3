"""/api/queries hardening without servers: the forbidden-operator walk and the query caps."""

import asyncio
from typing import Any

import pytest
from bson.code import Code

from services.archive.queries import QueryContext, QueryError, execute
from services.archive.queries.base import Limits
from services.archive.queries.guard import FORBIDDEN_OPERATORS, MAX_DEPTH, check_query
from tests.unit.test_queries import ADMIN, RESTRICTED, FakeCursor, FakeDatabase

BODY = {"$function": {"body": "function() { return true }", "args": [], "lang": "js"}}


@pytest.mark.parametrize("operator", sorted(FORBIDDEN_OPERATORS))
@pytest.mark.parametrize(
    ("query", "where"),
    [
        (lambda op: {"filter": {op: BODY}}, "filter"),
        (
            lambda op: {"filter": {"$and": [{"a": 1}, {"$or": [{op: BODY}]}]}},
            "filter.$and[1].$or[0]",
        ),
        (lambda op: {"filter": {"$nor": [{"x": {"$not": {op: 1}}}]}}, "filter.$nor[0].x.$not"),
        (lambda op: {"filter": {"a": {"$elemMatch": {op: 1}}}}, "filter.a.$elemMatch"),
        (lambda op: {"filter": {"$expr": {"$gt": [{op: BODY}, 1]}}}, "filter.$expr.$gt[0]"),
        (lambda op: {"projection": {"x": {op: BODY}}}, "projection.x"),
        (lambda op: {"pipeline": [{"$match": {}}, {op: "c"}]}, "pipeline[1]"),
        (
            lambda op: {
                "pipeline": [
                    {"$match": {}},
                    {
                        "$lookup": {
                            "from": "c",
                            "as": "j",
                            "pipeline": [{"$match": {"$expr": {op: 1}}}],
                        }
                    },
                ]
            },
            "pipeline[1].$lookup.pipeline[0].$match.$expr",
        ),
        (
            lambda op: {"pipeline": [{"$facet": {"f": [{"$match": {op: 1}}]}}]},
            "pipeline[0].$facet.f[0].$match",
        ),
        (
            lambda op: {"pipeline": [{"$group": {"_id": None, "n": {op: {"init": "x"}}}}]},
            "pipeline[0].$group.n",
        ),
    ],
)
def test_every_forbidden_operator_is_refused_wherever_it_is_nested(
    operator: str, query: Any, where: str
) -> None:
    with pytest.raises(QueryError) as refused:
        check_query(query(operator), "aggregate")
    message = str(refused.value)
    assert message == (
        f'aggregate: "{operator}" is not allowed in a query ({FORBIDDEN_OPERATORS[operator]}); '
        f"found at {where}"
    )


def test_the_message_says_why() -> None:
    with pytest.raises(QueryError, match=r"executes code on the server"):
        check_query({"filter": {"$expr": {"$function": BODY}}}, "find")
    with pytest.raises(QueryError, match=r"writes to a collection"):
        check_query({"pipeline": [{"$merge": "x"}]}, "aggregate")
    with pytest.raises(QueryError, match=r"executes JavaScript"):
        check_query({"filter": {"$where": "this.a > 1"}}, "find")


def test_ordinary_queries_pass_and_field_names_are_not_operators() -> None:
    check_query(
        {
            "filter": {"where": 1, "function": {"$in": [1, 2]}, "$and": [{"a": {"$gt": 1}}]},
            "pipeline": [
                {"$match": {"$expr": {"$gt": ["$a", 1]}}},
                {"$group": {"_id": "$b", "n": {"$sum": 1}}},
                {"$facet": {"f": [{"$limit": 1}]}},
            ],
        },
        "aggregate",
    )


def test_javascript_code_values_and_absurd_nesting_are_refused() -> None:
    with pytest.raises(QueryError, match=r"\$code\) are not allowed.*found at filter.a"):
        check_query({"filter": {"a": Code("1")}}, "find")
    deep: dict[str, Any] = {"a": 1}
    for _ in range(MAX_DEPTH + 5):
        deep = {"$and": [deep]}
    with pytest.raises(QueryError, match=f"nested more than {MAX_DEPTH} levels"):
        check_query({"filter": deep}, "find")


def test_the_first_offence_in_document_order_is_reported() -> None:
    with pytest.raises(QueryError, match=r'"\$where".*found at filter.\$or\[0\]'):
        check_query({"filter": {"$or": [{"$where": "1"}, {"$function": BODY}]}}, "find")


async def run(
    query_type: str, query: dict[str, Any], kwargs: dict[str, Any], db: Any = None, **limits: int
) -> Any:
    ctx = QueryContext(db=db or FakeDatabase(), caller=ADMIN, limits=Limits(**limits))
    return await execute(ctx, {"query_type": query_type, "query": query, "kwargs": kwargs})


async def test_execute_walks_kwargs_and_text_pipelines_and_filters() -> None:
    with pytest.raises(QueryError, match=r"found at kwargs.hint"):
        await run("find", {"catalog": "ZTF_alerts"}, {"hint": {"$where": "1"}})
    text = "[{'$match': {}}, {'$out': 'stolen'}]"
    with pytest.raises(QueryError, match=r'"\$out" is not allowed.*found at pipeline\[1\]'):
        await run("aggregate", {"catalog": "ZTF_alerts", "pipeline": text}, {})
    cone = {
        "object_coordinates": {"cone_search_radius": 2, "radec": {"a": [10, 20]}},
        "catalogs": {"Gaia_EDR3": {"filter": "{'$where': 'true'}"}},
    }
    with pytest.raises(QueryError, match=r"found at catalogs.Gaia_EDR3.filter"):
        await run("cone_search", cone, {})


async def test_nested_joins_are_checked_by_the_same_walk() -> None:
    inner = {"$lookup": {"from": "users", "as": "u", "pipeline": []}}
    pipeline = [
        {"$facet": {"f": [{"$lookup": {"from": "Gaia_EDR3", "as": "g", "pipeline": [inner]}}]}}
    ]
    ctx = QueryContext(db=FakeDatabase(), caller=RESTRICTED)  # type: ignore[arg-type]
    with pytest.raises(QueryError, match="from 'users' is for admins only"):
        await execute(
            ctx,
            {"query_type": "aggregate", "query": {"catalog": "Gaia_EDR3", "pipeline": pipeline}},
        )


# ---- caps -----------------------------------------------------------------------------------


async def test_max_time_ms_is_capped_and_validated() -> None:
    with pytest.raises(
        QueryError,
        match=r"kwargs.max_time_ms=2000 is more than this server allows \(at most 1000\)",
    ):
        await run(
            "count_documents", {"catalog": "ZTF_alerts"}, {"max_time_ms": 2000}, max_time_ms=1000
        )
    with pytest.raises(QueryError, match=r"kwargs\.max_time_ms must be a positive integer"):
        await run("count_documents", {"catalog": "ZTF_alerts"}, {"max_time_ms": 0})


class HangingDatabase(FakeDatabase):
    """A database that never answers (as one that ignores maxTimeMS on a long query)."""

    async def list_collection_names(self) -> list[str]:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


@pytest.mark.parametrize("query_type", ["find", "count_documents", "aggregate", "info"])
async def test_the_time_cap_holds_even_if_the_database_ignores_it(query_type: str) -> None:
    query = {"catalog": "ZTF_alerts", "pipeline": [{"$match": {}}], "command": "catalog_names"}
    with pytest.raises(QueryError, match=f"{query_type}: the query exceeded max_time_ms=20 "):
        await run(query_type, query, {"max_time_ms": 20}, db=HangingDatabase())


class ManyDocuments(FakeDatabase):
    def __init__(self, count: int, size: int = 10) -> None:
        super().__init__({"ZTF_alerts": [{"_id": i, "x": "a" * size} for i in range(count)]})


async def test_the_document_cap_refuses_instead_of_truncating() -> None:
    db = ManyDocuments(6)
    assert len(await run("find", {"catalog": "ZTF_alerts"}, {}, db=db, max_documents=6)) == 6
    with pytest.raises(
        QueryError,
        match=r"find: the answer has more than max_documents=5 documents; add kwargs.limit",
    ):
        await run("find", {"catalog": "ZTF_alerts"}, {}, db=db, max_documents=5)
    # A caller may ask for less than the server's cap, never more.
    with pytest.raises(QueryError, match="max_documents=3 documents"):
        await run("find", {"catalog": "ZTF_alerts"}, {"max_documents": 3}, db=db)
    with pytest.raises(QueryError, match="is more than this server allows"):
        await run("find", {"catalog": "ZTF_alerts"}, {"max_documents": 7}, db=db, max_documents=6)


class AggregatingDatabase(ManyDocuments):
    """Its aggregate answers every document (the fake finds ignore the pipeline)."""

    def __getitem__(self, name: str) -> Any:
        collection = super().__getitem__(name)

        async def aggregate(pipeline: Any, **kwargs: Any) -> FakeCursor:
            return FakeCursor(collection.documents)

        collection.aggregate = aggregate  # type: ignore[method-assign]
        return collection


async def test_the_byte_cap_refuses_large_answers() -> None:
    db = AggregatingDatabase(4, size=1000)
    query = {"catalog": "ZTF_alerts", "pipeline": [{"$match": {}}]}
    assert len(await run("aggregate", query, {}, db=db, max_bytes=10_000)) == 4
    with pytest.raises(
        QueryError,
        match=r"aggregate: the answer is larger than max_bytes=2000 .*\$limit stage.*projection",
    ):
        await run("aggregate", query, {}, db=db, max_bytes=2000)
