"""The query dispatcher's refusals that need no database."""

import pytest

from services.archive.queries import HANDLERS, QueryContext, QueryError, execute
from services.archive.queries.base import sort_spec
from skymesh.runtime.auth import Identity


class NoDatabase:
    def __getattr__(self, name: str):  # pragma: no cover - reaching it fails the test
        raise AssertionError(f"the database was touched ({name}) for a malformed request")


CTX = QueryContext(db=NoDatabase(), caller=Identity("alice", admin=False))  # type: ignore[arg-type]


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
