"""Date behaviour the conformance table cannot show: how $$NOW is bound, and the limits of
Python's datetime."""

from __future__ import annotations

from datetime import datetime

import pytest

from services.filters.engine import EvaluationError, compile_expression, compile_pipeline
from services.filters.engine.expressions import dates


@pytest.fixture
def ticking_clock(monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    """A clock that moves one second per reading, and the readings it gave."""
    readings: list[datetime] = []

    def tick() -> datetime:
        readings.append(datetime(2030, 1, 1, 0, 0, len(readings)))
        return readings[-1]

    monkeypatch.setattr(dates, "current_time", tick)
    return readings


def test_now_is_one_reading_per_batch_and_per_run(ticking_clock: list[datetime]) -> None:
    pipeline = compile_pipeline([{"$project": {"a": "$$NOW", "b": "$$NOW"}}])
    first, second = pipeline.passes_each([{"_id": 1}, {"_id": 2}])
    assert first["a"] == first["b"] == second["a"] == second["b"] == datetime(2030, 1, 1)
    assert pipeline.passes({"_id": 3})["a"] == datetime(2030, 1, 1, 0, 0, 1)
    assert [d["a"] for d in pipeline.run([{"_id": 4}, {"_id": 5}])] == [
        datetime(2030, 1, 1, 0, 0, 2)
    ] * 2
    assert len(ticking_clock) == 3


def test_a_pipeline_without_now_reads_no_clock(ticking_clock: list[datetime]) -> None:
    compile_pipeline([{"$project": {"a": 1}}]).passes_each([{"_id": 1}])
    assert ticking_clock == []


def test_a_compiled_expression_binds_now_per_evaluation(ticking_clock: list[datetime]) -> None:
    same = compile_expression({"$eq": ["$$NOW", "$$NOW"]})
    assert same({}) is True
    assert compile_expression({"$year": "$$NOW"})({}) == 2030


def test_dates_beyond_year_9999_are_a_clear_error() -> None:
    add = compile_expression(
        {"$dateAdd": {"startDate": datetime(9999, 12, 1), "unit": "month", "amount": 1}}
    )
    with pytest.raises(EvaluationError, match="outside the years 1-9999"):
        add({})


def test_parts_of_extreme_dates_need_no_datetime() -> None:
    assert compile_expression({"$year": {"date": datetime.max, "timezone": "+14"}})({}) == 10000
    assert compile_expression({"$year": {"date": datetime.min, "timezone": "-12"}})({}) == 0
