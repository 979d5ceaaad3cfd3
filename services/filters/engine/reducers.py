"""$sum, $avg, $min and $max over a sequence of values: shared by the expression operators
(over an array or an argument list) and the $group accumulators."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from bson import Decimal128, Int64

from .values import INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN, MISSING, compare, is_long


def sum_of(values: Iterable[Any]) -> Any:
    """Sum of the numbers, ignoring everything else; 0 when there are none.

    Doubles are summed with math.fsum, as close to MongoDB's double-double summation as Python
    gets; integers stay exact and keep MongoDB's int/long result type.
    """
    integer_total = 0
    doubles: list[float] = []
    long_seen = False
    for value in values:
        t = type(value)
        if t is float:
            doubles.append(value)
        elif t is int or t is Int64:
            integer_total += value
            long_seen = long_seen or is_long(value)
    if doubles:
        doubles.append(float(integer_total))
        return math.fsum(doubles) if all(map(math.isfinite, doubles)) else sum(doubles)
    if not long_seen and INT32_MIN <= integer_total <= INT32_MAX:
        return integer_total
    if INT64_MIN <= integer_total <= INT64_MAX:
        return Int64(integer_total)
    return float(integer_total)


def avg_of(values: Iterable[Any]) -> Any:
    """Mean of the numbers as a double, ignoring everything else; null when there are none."""
    numbers = [v for v in values if type(v) in (float, int, Int64)]
    if not numbers:
        return None
    total = sum_of(numbers)
    return float(total) / len(numbers)


def min_of(values: Iterable[Any]) -> Any:
    """Smallest value in MongoDB's order, ignoring null and missing; null when none is left."""
    best: Any = MISSING
    for value in values:
        if value is None or value is MISSING:
            continue
        if best is MISSING or compare(value, best) < 0:
            best = value
    return None if best is MISSING else best


def max_of(values: Iterable[Any]) -> Any:
    best: Any = MISSING
    for value in values:
        if value is None or value is MISSING:
            continue
        if best is MISSING or compare(value, best) > 0:
            best = value
    return None if best is MISSING else best


# --- statistics: $stdDevPop/$stdDevSamp, $median/$percentile ----------------------------------


def as_double(value: Any) -> float | None:
    """A number as MongoDB coerces it to a double; None for anything that is not a number."""
    t = type(value)
    if t is float:
        return value
    if t is int or t is Int64:
        return float(value)
    if t is Decimal128:
        return float(value.to_decimal())
    return None


class StdDev:
    """Welford's online algorithm, as MongoDB's AccumulatorStdDev runs it (so the doubles agree
    bit for bit): non-numbers are ignored; null when the count (less one for a sample) is 0."""

    __slots__ = ("count", "m2", "mean", "sample")

    def __init__(self, sample: bool) -> None:
        self.sample = sample
        self.count = 0
        self.mean = 0.0
        self.m2 = 0.0

    def add(self, value: Any) -> None:
        x = as_double(value)
        if x is None:
            return
        self.count += 1
        delta = x - self.mean
        if delta != 0.0:
            self.mean += delta / self.count
            self.m2 += delta * (x - self.mean)

    def result(self) -> float | None:
        n = self.count - 1 if self.sample else self.count
        return math.sqrt(self.m2 / n) if n > 0 else None


def std_dev_of(values: Iterable[Any], sample: bool) -> float | None:
    state = StdDev(sample)
    for value in values:
        state.add(value)
    return state.result()


def percentile_rank(n: int, p: float) -> int:
    """The index MongoDB's discrete percentile picks among n sorted values: ceil(n*p) - 1, at
    least 0, and n - 1 for p >= 1 (DiscretePercentile::computeTrueRank)."""
    if p >= 1.0:
        return n - 1
    return max(0, math.ceil(n * p) - 1)


def percentiles_of(values: Iterable[float], ps: list[float]) -> list[float] | None:
    """The percentiles of the doubles (NaN already left out), each an actual data value; None
    when there are no values. MongoDB 7.0's 'approximate' method (a t-digest in $group) returns
    data values too; this engine keeps every value and picks the discrete rank exactly, which is
    what 7.0 does for the expression forms and agrees with the manual's examples."""
    data = sorted(values)
    if not data:
        return None
    n = len(data)
    return [data[percentile_rank(n, p)] for p in ps]
