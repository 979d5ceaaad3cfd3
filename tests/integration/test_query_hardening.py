"""/api/queries hardening on the real mesh: forbidden operators wherever they hide, the time
and size caps, and the gateway's refusal of oversized requests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from bson import json_util

from services.archive.queries.guard import FORBIDDEN_OPERATORS
from skymesh.config import Settings
from tests.conftest import NEIGHBOURS_CATALOG
from tests.rest import ok, refused

pytestmark = pytest.mark.integration

CODE = {"body": "function() { return true }", "args": [], "lang": "js"}


def post(gateway_url: str, token: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        f"{gateway_url}/api/queries",
        content=json_util.dumps(body),
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )


def lookup(*pipeline: dict[str, Any]) -> dict[str, Any]:
    return {"$lookup": {"from": NEIGHBOURS_CATALOG, "as": "j", "pipeline": list(pipeline)}}


# Where an operator hides: (query_type, query holding it, where the message says it is).
PLACES: dict[str, tuple[str, Callable[[str], dict[str, Any]], str]] = {
    "top-level filter": ("find", lambda op: {"filter": {op: CODE}}, "filter"),
    "inside $and": (
        "find",
        lambda op: {"filter": {"$and": [{"mag": {"$gt": 1}}, {op: CODE}]}},
        "filter.$and[1]",
    ),
    "inside $expr": (
        "count_documents",
        lambda op: {"filter": {"$expr": {"$and": [{op: CODE}]}}},
        "filter.$expr.$and[0]",
    ),
    "inside a projection": ("find", lambda op: {"projection": {"x": {op: CODE}}}, "projection.x"),
    "a pipeline stage": (
        "aggregate",
        lambda op: {"pipeline": [{"$match": {}}, {op: CODE}]},
        "pipeline[1]",
    ),
    "inside a $lookup sub-pipeline": (
        "aggregate",
        lambda op: {"pipeline": [{"$match": {}}, lookup({"$match": {"$expr": {op: CODE}}})]},
        "pipeline[1].$lookup.pipeline[0].$match.$expr",
    ),
    "inside $facet": (
        "aggregate",
        lambda op: {"pipeline": [{"$facet": {"a": [{"$limit": 1}], "b": [{op: CODE}]}}]},
        "pipeline[0].$facet.b[0]",
    ),
    "inside a $group accumulator": (
        "aggregate",
        lambda op: {"pipeline": [{"$group": {"_id": None, "n": {op: CODE}}}]},
        "pipeline[0].$group.n",
    ),
}


@pytest.mark.parametrize("operator", sorted(FORBIDDEN_OPERATORS))
@pytest.mark.parametrize("place", sorted(PLACES))
def test_forbidden_operators_are_refused_wherever_they_are(
    neighbours: list, gateway_url: str, admin_token: str, operator: str, place: str
) -> None:
    query_type, make, where = PLACES[place]
    body = {
        "query_type": query_type,
        "query": {"catalog": NEIGHBOURS_CATALOG, **make(operator)},
    }
    message = refused(post(gateway_url, admin_token, body), 400)
    assert message == (
        f'{query_type}: "{operator}" is not allowed in a query '
        f"({FORBIDDEN_OPERATORS[operator]}); found at {where}"
    )


def test_forbidden_operators_in_text_filters_and_kwargs(
    neighbours: list, gateway_url: str, admin_token: str
) -> None:
    cone = {
        "query_type": "cone_search",
        "query": {
            "object_coordinates": {"cone_search_radius": 2, "radec": {"a": [10.0, 20.0]}},
            # Kowalski also takes a filter as the text of a Python literal.
            "catalogs": {NEIGHBOURS_CATALOG: {"filter": "{'$where': 'sleep(10000)'}"}},
        },
    }
    message = refused(post(gateway_url, admin_token, cone))
    assert '"$where" is not allowed' in message
    assert f"found at catalogs.{NEIGHBOURS_CATALOG}.filter" in message
    find = {
        "query_type": "find",
        "query": {"catalog": NEIGHBOURS_CATALOG},
        "kwargs": {"hint": {"$function": CODE}},
    }
    assert "found at kwargs.hint" in refused(post(gateway_url, admin_token, find))


def test_the_time_cap_stops_a_long_query(
    neighbours: list, gateway_url: str, admin_token: str
) -> None:
    # Millions of documents for the database to make: far beyond 50 ms on any machine.
    heavy = [
        {"$project": {"r": {"$range": [0, 50_000]}}},
        {"$unwind": "$r"},
        {"$group": {"_id": None, "n": {"$sum": "$r"}}},
    ]
    body = {
        "query_type": "aggregate",
        "query": {"catalog": NEIGHBOURS_CATALOG, "pipeline": heavy},
        "kwargs": {"max_time_ms": 50},
    }
    message = refused(post(gateway_url, admin_token, body))
    assert message.startswith("aggregate: the query exceeded max_time_ms=50 and was stopped")


def test_max_time_ms_beyond_the_servers_cap_is_refused(
    mesh: Settings, gateway_url: str, admin_token: str
) -> None:
    asked = mesh.query_max_time_ms + 1
    body = {
        "query_type": "count_documents",
        "query": {"catalog": NEIGHBOURS_CATALOG},
        "kwargs": {"max_time_ms": asked},
    }
    message = refused(post(gateway_url, admin_token, body))
    assert f"kwargs.max_time_ms={asked} is more than this server allows" in message


@pytest.mark.parametrize(
    ("query_type", "query", "advice"),
    [
        ("find", {"filter": {}}, "add kwargs.limit"),
        ("aggregate", {"pipeline": [{"$match": {}}]}, "add a $limit stage"),
    ],
)
def test_the_size_caps_refuse_instead_of_truncating(
    neighbours: list,
    gateway_url: str,
    admin_token: str,
    query_type: str,
    query: dict[str, Any],
    advice: str,
) -> None:
    body = {"query_type": query_type, "query": {"catalog": NEIGHBOURS_CATALOG, **query}}
    everything = ok(post(gateway_url, admin_token, body))["data"]
    assert len(everything) == len(neighbours)

    few = {**body, "kwargs": {"max_documents": 5}}
    message = refused(post(gateway_url, admin_token, few))
    assert message == (
        f"{query_type}: the answer has more than max_documents=5 documents; {advice}"
        + (" (and page with kwargs.skip) or narrow the filter" if query_type == "find" else "")
        + (" (or a narrower $match) to the pipeline" if query_type == "aggregate" else "")
    )

    small = {**body, "kwargs": {"max_bytes": 1000}}
    message = refused(post(gateway_url, admin_token, small))
    assert message.startswith(f"{query_type}: the answer is larger than max_bytes=1000 ")
    assert advice in message and "projection" in message


def test_the_size_caps_hold_for_cone_searches(
    neighbours: list, gateway_url: str, admin_token: str
) -> None:
    first = neighbours[0]
    body = {
        "query_type": "cone_search",
        "query": {
            "object_coordinates": {
                "cone_search_radius": 30,
                "radec": {"a": [first["ra"], first["dec"]], "b": [first["ra"], first["dec"]]},
            },
            "catalogs": {NEIGHBOURS_CATALOG: {}},
        },
    }
    found = ok(post(gateway_url, admin_token, body))["data"][NEIGHBOURS_CATALOG]
    per_object = len(found["a"])
    assert per_object >= 2
    # Each object's documents count: the JSON answer holds them once per object.
    capped = {**body, "kwargs": {"max_documents": 2 * per_object - 1}}
    message = refused(post(gateway_url, admin_token, capped))
    assert "cone_search: the answer has more than max_documents=" in message
    assert "add kwargs.limit" in message
    limited = {**body, "kwargs": {"max_documents": 2 * per_object - 1, "limit": 1}}
    assert ok(post(gateway_url, admin_token, limited))["data"][NEIGHBOURS_CATALOG]["a"]


def test_a_body_over_the_gateway_limit_gets_413_with_the_envelope(
    mesh: Settings, gateway_url: str, admin_token: str
) -> None:
    limit = mesh.gateway_max_request_bytes
    response = httpx.post(
        f"{gateway_url}/api/queries",
        content=b" " * (limit + 1),
        headers={"Authorization": f"Bearer {admin_token}"},
        timeout=60,
    )
    message = refused(response, 413)
    assert message == (
        f"request body too large: this gateway accepts at most {limit} bytes "
        f"({limit / 2**20:g} MiB) per request"
    )


def test_a_large_body_under_the_limit_still_passes(
    neighbours: list, gateway_url: str, admin_token: str
) -> None:
    body = {"query_type": "count_documents", "query": {"catalog": NEIGHBOURS_CATALOG}}
    padded = json_util.dumps(body) + " " * (4 * 2**20)
    response = httpx.post(
        f"{gateway_url}/api/queries",
        content=padded,
        headers={"Authorization": f"Bearer {admin_token}"},
        timeout=60,
    )
    assert ok(response)["data"] == len(neighbours)


def test_oversized_headers_get_431_with_the_envelope(gateway_url: str, admin_token: str) -> None:
    response = httpx.post(
        f"{gateway_url}/api/queries",
        content=b"{}",
        headers={"Authorization": f"Bearer {admin_token}", "X-Padding": "a" * 70_000},
        timeout=60,
    )
    assert "headers too large" in refused(response, 431)
