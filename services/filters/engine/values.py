"""BSON values as pymongo decodes them: MongoDB's type names, cross-type order and truthiness.

Documents are dicts, arrays are lists, int32 is int, int64 is bson.Int64 (or a Python int
outside the int32 range), double is float. `MISSING` stands for a field that does not exist,
which MongoDB keeps apart from null inside expressions.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Sequence
from functools import cmp_to_key
from typing import Any

from bson import Binary, Code, Decimal128, Int64, MaxKey, MinKey, ObjectId, Regex, Timestamp

from .errors import EvaluationError
from .regex import pattern_parts

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
EPOCH = dt.datetime(1970, 1, 1)


class Missing:
    """The value of a field that does not exist (MongoDB's EOO/"missing")."""

    __slots__ = ()
    _instance: Missing | None = None

    def __new__(cls) -> Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING = Missing()

# Canonical ranks of MongoDB's comparison order (bsontypes canonicalizeBSONType): values of
# different ranks compare by rank alone. Missing sorts with undefined, below null.
RANK_MINKEY = -1
RANK_MISSING = 0
RANK_NULL = 5
RANK_NUMBER = 10
RANK_STRING = 15
RANK_OBJECT = 20
RANK_ARRAY = 25
RANK_BINDATA = 30
RANK_OBJECTID = 35
RANK_BOOL = 40
RANK_DATE = 45
RANK_TIMESTAMP = 47
RANK_REGEX = 50
RANK_CODE = 60
RANK_MAXKEY = 127

_RANK_BY_TYPE: dict[type, int] = {
    type(None): RANK_NULL,
    Missing: RANK_MISSING,
    bool: RANK_BOOL,
    int: RANK_NUMBER,
    Int64: RANK_NUMBER,
    float: RANK_NUMBER,
    Decimal128: RANK_NUMBER,
    str: RANK_STRING,
    dict: RANK_OBJECT,
    list: RANK_ARRAY,
    tuple: RANK_ARRAY,
    bytes: RANK_BINDATA,
    Binary: RANK_BINDATA,
    uuid.UUID: RANK_BINDATA,
    ObjectId: RANK_OBJECTID,
    dt.datetime: RANK_DATE,
    Timestamp: RANK_TIMESTAMP,
    Regex: RANK_REGEX,
    re.Pattern: RANK_REGEX,
    Code: RANK_CODE,
    MinKey: RANK_MINKEY,
    MaxKey: RANK_MAXKEY,
}


def rank(value: Any) -> int:
    found = _RANK_BY_TYPE.get(type(value))
    if found is not None:
        return found
    # Subclasses (SON, OrderedDict, datetime subclasses ...) rank as their base type.
    for base, base_rank in _RANK_BY_TYPE.items():
        if base is not bool and isinstance(value, base):
            return base_rank
    raise EvaluationError(f"unsupported value of Python type {type(value).__name__}")


def is_long(value: int) -> bool:
    """An integer MongoDB stores as a 64-bit long rather than a 32-bit int."""
    return type(value) is Int64 or not INT32_MIN <= value <= INT32_MAX


def type_name(value: Any) -> str:
    """MongoDB's $type alias for a value ("missing" for a field that does not exist)."""
    t = type(value)
    if t is float:
        return "double"
    if t is str:
        return "string"
    if t is int:
        return "int" if INT32_MIN <= value <= INT32_MAX else "long"
    if t is bool:
        return "bool"
    if value is None:
        return "null"
    if value is MISSING:
        return "missing"
    if t is Int64:
        return "long"
    if isinstance(value, float):
        return "double"
    if isinstance(value, int) and not isinstance(value, bool):
        return "int" if INT32_MIN <= value <= INT32_MAX else "long"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, (list, tuple)):
        return "array"
    return _OTHER_TYPE_NAMES[rank(value)] if t is not Decimal128 else "decimal"


_OTHER_TYPE_NAMES = {
    RANK_BINDATA: "binData",
    RANK_OBJECTID: "objectId",
    RANK_DATE: "date",
    RANK_TIMESTAMP: "timestamp",
    RANK_REGEX: "regex",
    RANK_CODE: "javascript",
    RANK_MINKEY: "minKey",
    RANK_MAXKEY: "maxKey",
    RANK_STRING: "string",
    RANK_OBJECT: "object",
    RANK_ARRAY: "array",
}


def date_to_ms(value: dt.datetime) -> int:
    """Milliseconds since the epoch; naive datetimes are UTC, as pymongo decodes them."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    delta = value - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


def ms_to_date(ms: int) -> dt.datetime:
    return EPOCH + dt.timedelta(milliseconds=ms)


def _binary_parts(value: Any) -> tuple[int, bytes]:
    if isinstance(value, Binary):
        return value.subtype, bytes(value)
    if isinstance(value, uuid.UUID):
        return 4, value.bytes
    return 0, bytes(value)


def _regex_parts(value: Any) -> tuple[str, str]:
    parts = pattern_parts(value)
    assert parts is not None
    return parts


def _sign(a: Any, b: Any) -> int:
    return (a > b) - (a < b)


def _compare_numbers(a: Any, b: Any) -> int:
    if type(a) is Decimal128:
        a = a.to_decimal()
    if type(b) is Decimal128:
        b = b.to_decimal()
    a_nan = a != a
    b_nan = b != b
    if a_nan or b_nan:
        # NaN equals NaN and sorts below every other number.
        return 0 if a_nan and b_nan else (-1 if a_nan else 1)
    return _sign(a, b)


def _compare_documents(a: dict, b: dict) -> int:
    # Field by field: the values' canonical types first, then the names, then the values.
    for (ka, va), (kb, vb) in zip(a.items(), b.items(), strict=False):
        ra, rb = rank(va), rank(vb)
        if ra != rb:
            return -1 if ra < rb else 1
        if ka != kb:
            return -1 if ka < kb else 1
        c = _COMPARE_SAME_RANK[ra](va, vb)
        if c:
            return c
    return _sign(len(a), len(b))


def _compare_arrays(a: Any, b: Any) -> int:
    for x, y in zip(a, b, strict=False):
        c = compare(x, y)
        if c:
            return c
    return _sign(len(a), len(b))


def _compare_binary(a: Any, b: Any) -> int:
    (sa, ba), (sb, bb) = _binary_parts(a), _binary_parts(b)
    return _sign((len(ba), sa, ba), (len(bb), sb, bb))


_COMPARE_SAME_RANK: dict[int, Callable[[Any, Any], int]] = {
    RANK_MINKEY: lambda a, b: 0,
    RANK_MISSING: lambda a, b: 0,
    RANK_NULL: lambda a, b: 0,
    RANK_NUMBER: _compare_numbers,
    RANK_STRING: _sign,  # code point order is UTF-8 byte order
    RANK_OBJECT: _compare_documents,
    RANK_ARRAY: _compare_arrays,
    RANK_BINDATA: _compare_binary,
    RANK_OBJECTID: lambda a, b: _sign(a.binary, b.binary),
    RANK_BOOL: lambda a, b: _sign(bool(a), bool(b)),
    RANK_DATE: lambda a, b: _sign(date_to_ms(a), date_to_ms(b)),
    RANK_TIMESTAMP: lambda a, b: _sign((a.time, a.inc), (b.time, b.inc)),
    RANK_REGEX: lambda a, b: _sign(_regex_parts(a), _regex_parts(b)),
    RANK_CODE: lambda a, b: _sign(str(a), str(b)),
    RANK_MAXKEY: lambda a, b: 0,
}


def compare(a: Any, b: Any) -> int:
    """MongoDB's total order over values (-1, 0, 1), as used by $cmp, $sort and $min."""
    ta, tb = type(a), type(b)
    if ta is tb and (ta is float or ta is int or ta is str) and a == a and b == b:
        return (a > b) - (a < b)
    ra, rb = rank(a), rank(b)
    if ra != rb:
        return -1 if ra < rb else 1
    return _COMPARE_SAME_RANK[ra](a, b)


def sort_key(directions: Sequence[int]) -> Callable[[list], Any]:
    """A sort key for lists of values compared pairwise in MongoDB's order, each ascending (1)
    or descending (-1); the first pair that differs decides ($sort, $sortArray, $topN ...)."""

    def order(left: list, right: list) -> int:
        for direction, a, b in zip(directions, left, right, strict=True):
            c = compare(a, b)
            if c:
                return c * direction
        return 0

    return cmp_to_key(order)


def equal(a: Any, b: Any) -> bool:
    ta = type(a)
    if ta is type(b) and (ta is str or ta is int):
        return a == b
    return compare(a, b) == 0


def truthy(value: Any) -> bool:
    """MongoDB's boolean coercion: false, null, missing and numeric zero are false."""
    if value is True:
        return True
    if value is False or value is None or value is MISSING:
        return False
    t = type(value)
    if t is float or t is int or t is Int64:
        return value != 0
    if t is Decimal128:
        return not value.to_decimal().is_zero()
    return True


def group_key(value: Any) -> Any:
    """A hashable key under which values MongoDB considers equal collide (1, 1.0 and Int64(1)).

    Used by $group and $addToSet. Null and missing share a key, as $group puts them together.
    """
    t = type(value)
    if t is str:
        return ("s", value)
    if t is int or t is Int64 or t is float:
        return ("nan",) if value != value else ("n", value)
    if t is bool:
        return ("b", value)
    if value is None or value is MISSING:
        return ("null",)
    if isinstance(value, dict):
        return ("o", tuple((k, group_key(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return ("a", tuple(group_key(v) for v in value))
    if t is Decimal128:
        number = value.to_decimal()
        return ("nan",) if number.is_nan() else ("n", number)
    r = rank(value)
    if r == RANK_DATE:
        return ("d", date_to_ms(value))
    if r == RANK_BINDATA:
        return ("bin", _binary_parts(value))
    if r == RANK_REGEX:
        return ("re", _regex_parts(value))
    if r == RANK_TIMESTAMP:
        return ("ts", value.time, value.inc)
    if r in (RANK_MINKEY, RANK_MAXKEY):
        return ("key", r)
    return (r, value)


def format_number(value: Any) -> str:
    """A number as MongoDB prints it inside error messages (doubles with %g)."""
    if type(value) is float:
        return f"{value:g}"
    return str(value)
