"""The pure rules of sources, listings and candidate expiry: ids, the list's parameters, the
expiry's bounds and calendar, and a portal that refuses a bad expiry setting at start."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from services.portal.expiry import check_days, months_before, parse_now
from services.portal.listings import LIST_NAME
from services.portal.sources import _annotation_sort, check_obj_id, parse_query
from skymesh.config import REPO_ROOT


@pytest.mark.parametrize("obj_id", ["ZTF21aaaaaaa", "2021abc", "a_b-c;d:e+f.g"])
def test_object_ids_of_skyportals_alphabet(obj_id: str) -> None:
    check_obj_id(obj_id)


@pytest.mark.parametrize(
    ("obj_id", "message"),
    [
        ("", "Missing required parameter: id"),
        ("ZTF 21", "No spaces allowed in source ID"),
        ("a/b", "Only letters, numbers, underscores"),
        ("a?b", "Only letters, numbers, underscores"),
    ],
)
def test_other_object_ids_are_refused(obj_id: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("+", r"\+")):
        check_obj_id(obj_id)


def test_the_list_defaults_to_newest_saves_100_a_page() -> None:
    query = parse_query()
    assert (query.page, query.per_page, query.sort_by, query.descending) == (
        1,
        100,
        "saved_at",
        True,
    )
    assert parse_query(num_per_page="100000").per_page == 500


def test_the_lists_parameters_are_parsed() -> None:
    query = parse_query(
        ra="10",
        dec="-5.5",
        radius="0.1",
        rejected="a, b,,",
        saved_after="2026-01-02T03:04:05",
        saved_before="2026-01-03T00:00:00+01:00",
        sort_by="annotation.A:f.drb",
        sort_order="ASC",
        group_ids="3,4",
    )
    assert query.cone == (10.0, -5.5, 0.1)
    assert query.rejected == ["a", "b"]
    assert query.saved_after == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert query.saved_before == datetime(2026, 1, 2, 23, tzinfo=UTC)
    assert (query.sort_by, query.descending, query.group_ids) == (
        "annotation.A:f.drb",
        False,
        [3, 4],
    )
    assert parse_query(saved_after="undefined").saved_after is None


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"ra": "1", "dec": "2"}, "all three are required"),
        ({"ra": "x", "dec": "2", "radius": "1"}, "could not convert to float"),
        ({"ra": "1", "dec": "95", "radius": "1"}, "dec must be in"),
        ({"ra": "1", "dec": "2", "radius": "0"}, "radius must be a positive"),
        ({"page_number": "0"}, "Invalid page number value."),
        ({"page_number": "two"}, "not an integer"),
        ({"num_per_page": "0"}, "numPerPage must be a positive integer"),
        ({"sort_by": "colour"}, "Invalid sortBy 'colour'"),
        ({"sort_by": "annotation.nokey"}, "Invalid sortBy"),
        ({"sort_order": "up"}, "Invalid sortOrder 'up'"),
        ({"group_ids": "1,x"}, "Could not parse all elements to integers"),
        ({"saved_before": "yesterday"}, "Error parsing query params: savedBefore"),
    ],
)
def test_bad_list_parameters_are_refused_by_name(params: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_query(**params)


def test_an_annotation_sort_names_an_origin_and_its_key() -> None:
    assert _annotation_sort("annotation.au-public:hosted.acai_b") == ("au-public:hosted", "acai_b")
    assert _annotation_sort("annotation.v1.2.score") == ("v1.2", "score")
    assert _annotation_sort("annotation..x") is None
    assert _annotation_sort("saved_at") is None


def test_list_names_start_with_a_word_character() -> None:
    assert LIST_NAME.match("favorites") and LIST_NAME.match("rejected_candidates")
    assert not LIST_NAME.match("") and not LIST_NAME.match(" x")


@pytest.mark.parametrize("days", [1, 7, 30])
def test_expiry_keeps_candidates_one_to_thirty_days(days: int) -> None:
    assert check_days(days) == days


@pytest.mark.parametrize("days", [0, 31, -7])
def test_other_expiry_ages_are_refused(days: int) -> None:
    with pytest.raises(ValueError, match="between 1 and 30 days"):
        check_days(days)


def test_months_are_calendar_months() -> None:
    assert months_before(datetime(2026, 3, 31, 12, tzinfo=UTC), 1) == datetime(
        2026, 2, 28, 12, tzinfo=UTC
    )
    assert months_before(datetime(2026, 1, 15, tzinfo=UTC), 1) == datetime(2025, 12, 15, tzinfo=UTC)
    assert months_before(datetime(2026, 5, 1, tzinfo=UTC), 14) == datetime(2025, 3, 1, tzinfo=UTC)
    assert months_before(datetime(2024, 12, 31, tzinfo=UTC), 10) == datetime(
        2024, 2, 29, tzinfo=UTC
    )


def test_the_injected_clock_is_utc_unless_it_says_otherwise() -> None:
    assert parse_now("2026-12-10T00:00:00") == datetime(2026, 12, 10, tzinfo=UTC)
    assert parse_now("2026-12-10T00:00:00Z") == datetime(2026, 12, 10, tzinfo=UTC)
    with pytest.raises(ValueError, match="now: not a date/time"):
        parse_now("tomorrow")


def test_the_portal_refuses_to_start_with_an_expiry_out_of_bounds() -> None:
    env = {**os.environ, "SKYMESH_CANDIDATE_EXPIRY_DAYS": "31", "SKYMESH_LOG_LEVEL": "ERROR"}
    done = subprocess.run(
        [sys.executable, "-m", "services.portal"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "SKYMESH_CANDIDATE_EXPIRY_DAYS must be between 1 and 30 days" in done.stderr
    assert "got 31" in done.stderr
