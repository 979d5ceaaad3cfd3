"""Comparing pipeline outputs with the conformance table's expectations, type-strictly.

Numbers must agree in BSON type too (a double is not an int, an int32 not a long, a bool not a
number), because MongoDB's results carry those types. Field order inside documents is not
compared.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from bson import Int64


def same(actual: Any, expected: Any, approx: bool = False) -> bool:
    if type(expected) is float:
        if type(actual) is not float:
            return False
        if math.isnan(expected):
            return math.isnan(actual)
        if approx:
            return math.isclose(actual, expected, rel_tol=1e-12, abs_tol=1e-15)
        return actual == expected
    if type(expected) is bool:
        return type(actual) is bool and actual is expected
    if type(expected) is Int64:
        return type(actual) is Int64 and actual == expected
    if type(expected) is int:
        return type(actual) is int and actual == expected
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and set(actual) == set(expected)
            and all(same(actual[key], expected[key], approx) for key in expected)
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(same(a, e, approx) for a, e in zip(actual, expected, strict=True))
        )
    if isinstance(expected, datetime):
        return isinstance(actual, datetime) and actual.replace(tzinfo=None) == expected
    return type(actual) is type(expected) and actual == expected


def same_documents(
    actual: list[dict], expected: list[dict], *, ordered: bool, approx: bool
) -> bool:
    if len(actual) != len(expected):
        return False
    if ordered:
        return all(same(a, e, approx) for a, e in zip(actual, expected, strict=True))
    remaining = list(actual)
    for wanted in expected:
        for i, candidate in enumerate(remaining):
            if same(candidate, wanted, approx):
                del remaining[i]
                break
        else:
            return False
    return True
