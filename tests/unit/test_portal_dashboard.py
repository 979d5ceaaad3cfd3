"""The pure rules of the dashboard and the profile: the counts and the window a request or a
preference gives, the order of a card's cutouts, the feed's wording and order, and how a
preferences change merges into the stored ones."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import pytest

from services.portal.dashboard import (
    DEFAULT_SINCE_DAYS,
    NEW_SAVE,
    RESAVE,
    count_param,
    days_param,
    newest_first,
    record_view,
    save_message,
    thumbnail_rank,
)
from services.portal.preferences import ProfileChange, check_change, merge, plain
from skymesh.runtime.auth import Identity, service_identity


def test_a_count_comes_from_the_query_then_the_preference_then_the_default() -> None:
    assert count_param("3", "numItems", 20, 50) == 3
    assert count_param(" ", "numItems", 20, 50) == 20
    assert count_param("", "numItems", "7", 50) == 7
    assert count_param("", "numItems", 12.0, 50) == 12
    assert count_param("", "numItems", None, 50) == 50


@pytest.mark.parametrize("stored", ["many", 0, -4, 5000, True, [3], {"n": 1}, float("nan")])
def test_a_bad_stored_count_falls_back_to_the_default(stored: object) -> None:
    assert count_param("", "maxNumSources", stored, 10) == 10


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ten", "Invalid numItems value: 'ten' is not an integer."),
        ("2.5", "Invalid numItems value: '2.5' is not an integer."),
        ("0", "numItems must be at least 1, not 0."),
        ("-3", "numItems must be at least 1, not -3."),
        ("1001", "numItems should be no larger than 1000."),
    ],
)
def test_a_bad_count_in_the_query_is_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError) as refused:
        count_param(text, "numItems", 20, 50)
    assert str(refused.value) == message


def test_the_window_comes_from_the_query_then_the_preference_then_seven_days() -> None:
    assert days_param("0.5", 3) == 0.5
    assert days_param("0", 3) == 0
    assert days_param("", 3) == 3
    assert days_param("", "2") == 2
    assert days_param("", None) == DEFAULT_SINCE_DAYS
    assert days_param("", "soon") == DEFAULT_SINCE_DAYS
    assert days_param("", -1) == DEFAULT_SINCE_DAYS


@pytest.mark.parametrize("text", ["-1", "nan", "inf", "week", "36501"])
def test_a_bad_window_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="sinceDaysAgo must be a number of days from 0 to 36500"):
        days_param(text, None)


def test_cutouts_are_in_skyportals_order_then_by_name() -> None:
    kinds = ["sub", "ls", "ref", "ps1", "new", "dr8", "sdss", "custom"]
    assert sorted(kinds, key=thumbnail_rank) == [
        "new",
        "ref",
        "sub",
        "sdss",
        "dr8",
        "ps1",
        "custom",
        "ls",
    ]


def test_a_later_save_of_an_object_is_a_save_to_a_new_group() -> None:
    assert (save_message(False), save_message(True)) == (NEW_SAVE, RESAVE)
    assert (NEW_SAVE, RESAVE) == ("New source saved", "Source saved to new group")


def test_feed_items_are_newest_first_and_cut() -> None:
    items = [
        {"type": kind, "time": datetime(2026, 1, day, tzinfo=UTC)}
        for kind, day in [("source", 3), ("comment", 5), ("classification", 4), ("comment", 1)]
    ]
    assert [i["type"] for i in newest_first(items, 3)] == ["comment", "classification", "source"]


def test_preferences_merge_key_by_key_and_null_removes() -> None:
    stored = {
        "newsFeed": {"numItems": 20, "categories": {"comments": False, "sources": True}},
        "topSources": {"maxNumSources": 5},
        "theme": "dark",
    }
    change = {
        "newsFeed": {"categories": {"comments": None, "classifications": False}},
        "topSources": None,
        "recentSources": {"maxNumSources": 3, "unset": None},
        "theme": "light",
    }
    assert merge(stored, change) == {
        "newsFeed": {"numItems": 20, "categories": {"sources": True, "classifications": False}},
        "recentSources": {"maxNumSources": 3},
        "theme": "light",
    }
    assert stored["topSources"] == {"maxNumSources": 5}  # the stored dict is left as it was


def test_a_value_replaces_an_object_and_an_object_replaces_a_value() -> None:
    assert merge({"a": {"b": 1}}, {"a": [1, 2]}) == {"a": [1, 2]}
    assert merge({"a": 3}, {"a": {"b": 1}}) == {"a": {"b": 1}}
    assert merge({}, {"missing": None}) == {}


def test_a_structs_whole_numbers_are_integers_again() -> None:
    assert plain({"n": 5.0, "x": 2.5, "l": [1.0, {"m": 3.0}], "b": True}) == {
        "n": 5,
        "x": 2.5,
        "l": [1, {"m": 3}],
        "b": True,
    }


def test_a_profile_change_is_checked() -> None:
    assert check_change(None) == ProfileChange()
    assert check_change({"preferences": {"a": 1.0}, "first_name": " Ada "}) == ProfileChange(
        preferences={"a": 1}, first_name="Ada"
    )
    assert check_change({"contact_email": ""}).contact_email == ""
    assert check_change({"contact_email": "ada@example.org"}).contact_email == "ada@example.org"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"preferences": [1, 2]}, "preferences must be an object of settings"),
        ({"preferences": "dark"}, "preferences must be an object of settings"),
        ({"preferences": 3}, "preferences must be an object of settings"),
        ({"username": "x"}, "Unknown profile field(s): username; a profile has preferences"),
        ({"first_name": 3}, "first_name must be a string, not 3"),
        ({"contact_email": "nobody"}, "Email does not appear to be valid"),
        ({"contact_email": "a b@c.org"}, "Email does not appear to be valid"),
    ],
)
def test_a_bad_profile_change_is_refused(body: dict, message: str) -> None:
    with pytest.raises(ValueError) as refused:
        check_change(body)
    assert str(refused.value).startswith(message)


class _Broken:
    """A session factory whose database refuses every write."""

    def __call__(self) -> _Broken:
        return self

    async def __aenter__(self) -> _Broken:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    def begin(self) -> _Broken:
        return self

    async def execute(self, statement: object) -> None:
        raise ConnectionResetError("the database went away")


def test_a_view_that_cannot_be_recorded_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    who = Identity(user_id=7, username="ada")
    with caplog.at_level(logging.WARNING, logger="services.portal.dashboard"):
        asyncio.run(record_view(_Broken(), who, "ZTF26abc"))  # type: ignore[arg-type]
    assert "could not record a view of ZTF26abc by user 7" in caplog.text


def test_the_mesh_services_reads_are_not_views(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="services.portal.dashboard"):
        asyncio.run(record_view(_Broken(), service_identity("filters"), "ZTF26abc"))  # type: ignore[arg-type]
    assert caplog.text == ""  # the database was not asked
