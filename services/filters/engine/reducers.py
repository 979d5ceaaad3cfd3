"""$sum, $avg, $min and $max over a sequence of values: shared by the expression operators
(over an array or an argument list) and the $group accumulators."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from bson import Int64

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
