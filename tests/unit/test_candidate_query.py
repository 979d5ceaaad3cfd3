"""GET /api/candidates's parameters, paging rule and queryID cache, without servers."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.portal.candidate_query import (
    AnnotationFilter,
    QueryCache,
    check_page,
    parse,
    parse_annotation_filters,
)
from skymesh.portal.v1 import portal_pb2
from skymesh.runtime.auth import Identity


def request(**fields: str) -> portal_pb2.ListCandidatesRequest:
    return portal_pb2.ListCandidatesRequest(**fields)


def refusal(**fields: str) -> str:
    with pytest.raises(ValueError) as error:
        parse(request(**fields))
    return str(error.value)


def test_defaults() -> None:
    params = parse(request())
    assert (params.group_ids, params.filter_ids, params.saved_status) == (None, None, "all")
    assert (params.page, params.per_page, params.query_id) == (1, 25, "")
    assert (params.start, params.end, params.annotation_filters) == (None, None, [])
    assert (params.sort_origin, params.list_name, params.min_redshift) == (None, None, None)


def test_lists_dates_and_numbers() -> None:
    params = parse(
        request(
            groupIDs="3, 1,3",
            filterIDs="7",
            startDate="2026-03-01",
            endDate="2026-03-02T12:00:00+02:00",
            classifications="SN Ia, AGN,",
            minRedshift="0.1",
            maxRedshift="1e-1",
            numPerPage="1000",
            pageNumber="2",
            totalMatches="12",
        )
    )
    assert (params.group_ids, params.filter_ids) == ([3, 1], [7])
    assert params.start == datetime(2026, 3, 1, tzinfo=UTC)
    assert params.end == datetime(2026, 3, 2, 12, tzinfo=timezone(timedelta(hours=2)))
    assert params.classifications == ["SN Ia", "AGN"]
    assert (params.min_redshift, params.max_redshift) == (0.1, 0.1)
    assert (params.page, params.per_page) == (2, 500)
    for blank in ("", "null", "undefined", " NULL "):
        assert parse(request(startDate=blank, endDate=blank)).start is None


def test_refusals_in_skyportals_words() -> None:
    assert refusal(groupIDs="1,a") == "Invalid groupIDs value -- select at least one group"
    assert refusal(filterIDs="x") == "Invalid filterIDs value -- select at least one filter"
    assert refusal(savedStatus="saved") == (
        "Invalid savedStatus: saved. Must be one of the enumerated options."
    )
    assert refusal(startDate="today").startswith("Invalid startDate value:")
    assert refusal(endDate="2026-02-30").startswith("Invalid endDate value:")
    assert refusal(minRedshift="z") == "Invalid values for minRedshift - could not convert to float"
    assert refusal(maxRedshift="nan") == (
        "Invalid values for maxRedshift - could not convert to float"
    )
    assert refusal(pageNumber="one") == "Invalid page number value."
    assert refusal(pageNumber="0") == "Page number out of range."
    assert refusal(numPerPage="ten") == "Invalid numPerPage value."
    assert refusal(numPerPage="0") == "Number per page must be greater than 0."
    assert refusal(sortByAnnotationOrigin="o") == (
        "sortByAnnotationKey is required with sortByAnnotationOrigin"
    )
    assert refusal(sortByAnnotationOrigin="o", sortByAnnotationKey="k", sortByAnnotationOrder="x")


def test_every_saved_status_is_accepted() -> None:
    for status in (
        "all",
        "savedToAllSelected",
        "savedToAnySelected",
        "savedToAnyAccessible",
        "notSavedToAnyAccessible",
        "notSavedToAnySelected",
        "notSavedToAllSelected",
    ):
        assert parse(request(savedStatus=status)).saved_status == status


def test_annotation_filter_items() -> None:
    found = parse_annotation_filters(
        '{"origin":"g:f","key":"flag","value":true},'
        '{"origin":"g:f","key":"name","value":"a,{b}"},'
        '{"origin":"g:f","key":"n","min":"1","max":2.5}'
    )
    assert found == [
        AnnotationFilter("g:f", "flag", value="true"),
        AnnotationFilter("g:f", "name", value="a,{b}"),
        AnnotationFilter("g:f", "n", low=1.0, high=2.5),
    ]
    assert parse_annotation_filters('{"origin":"o","key":"k","value":5}')[0].value == "5"
    for bad in (
        "{",
        "3",
        '{"key":"k","value":1}',
        '{"origin":"o","value":1}',
        '{"origin":"o","key":"k"}',
        '{"origin":"o","key":"k","max":1}',
        '{"origin":"o","key":"k","min":null,"max":1}',
        '{"origin":"o","key":"k","min":"NaN","max":1}',
        '{"origin":"o","key":"k","min":true,"max":1}',
    ):
        with pytest.raises(ValueError):
            parse_annotation_filters(bad)


def skyportal_refuses(page: int, n: int, total: int) -> bool:
    """SkyPortal's grab_query_results condition, as written there."""
    return (
        (
            (total < (page - 1) * n and total % n != 0)
            or ((total < page * n and total % n == 0) and total != 0)
        )
        or page <= 0
        or (total == 0 and page != 1)
    )


def test_page_range_is_skyportals() -> None:
    for total in range(0, 40):
        for n in (1, 2, 3, 7, 25):
            for page in range(0, 20):
                try:
                    check_page(page, n, total)
                    refused = False
                except ValueError as error:
                    assert str(error) == "Page number out of range."
                    refused = True
                assert refused == skyportal_refuses(page, n, total), (page, n, total)
                if total:
                    assert refused == (page < 1 or page > math.ceil(total / n))


def who(user_id: int = 1, groups: frozenset[int] = frozenset({1})) -> Identity:
    return Identity(user_id=user_id, username=f"u{user_id}", group_ids=groups)


def test_a_query_id_serves_its_owner_until_it_expires() -> None:
    now = [0.0]
    cache = QueryCache(ttl_s=60, clock=lambda: now[0])
    query_id = cache.put(who(), ["a", "b"])
    assert cache.get(query_id, who()) == ("a", "b")
    assert cache.get(query_id, who(user_id=2)) is None
    assert cache.get(query_id, who(groups=frozenset({1, 2}))) is None
    assert cache.get("unknown", who()) is None
    now[0] = 59.0
    assert cache.get(query_id, who()) == ("a", "b")
    now[0] = 60.0
    assert cache.get(query_id, who()) is None
    assert len(cache) == 0


def test_the_cache_holds_a_bounded_number_of_ids() -> None:
    cache = QueryCache(max_ids=5)
    first = cache.put(who(), ["a", "b", "c"])
    second = cache.put(who(), ["d", "e"])
    assert cache.get(first, who()) is not None and cache.get(second, who()) is not None
    third = cache.put(who(), ["f"])  # over the bound: the oldest goes
    assert cache.get(first, who()) is None
    assert cache.get(second, who()) == ("d", "e") and cache.get(third, who()) == ("f",)
    too_big = cache.put(who(), list("abcdef"))
    assert too_big and cache.get(too_big, who()) is None
    assert len(cache) == 2
