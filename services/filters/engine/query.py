"""The $match query language compiled into predicates `document -> bool`.

A field condition is tested against every value its path reaches: through arrays before the
last path component, and, for most operators, also against each element of an array found at
the end of the path ({tags: "x"} matches tags: ["x", "y"]). Comparisons only match values of the
same canonical type as their operand ("type bracketing"); {field: null} also matches a missing
field; $ne, $nin and $not are the negations of the whole field condition.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from typing import Any

from bson import Binary, Decimal128, Int64, MaxKey, MinKey

from .errors import PipelineError
from .expressions import ROOT_SCOPE, Compiler
from .expressions.arithmetic import truncated_remainder
from .paths import MULTIPLE, query_getter, query_values, split_path
from .regex import compile_regex, pattern_parts
from .values import MISSING, RANK_NULL, compare, rank, truthy, type_name

Matcher = Callable[[Any], bool]
Test = Callable[[Any], bool]

TOP_LEVEL_OPERATORS = frozenset({"$and", "$or", "$nor", "$expr", "$comment"})
FIELD_OPERATORS = frozenset(
    {
        "$eq",
        "$ne",
        "$gt",
        "$gte",
        "$lt",
        "$lte",
        "$in",
        "$nin",
        "$not",
        "$exists",
        "$type",
        "$all",
        "$elemMatch",
        "$size",
        "$regex",
        "$options",
        "$mod",
        "$bitsAllSet",
        "$bitsAllClear",
        "$bitsAnySet",
        "$bitsAnyClear",
    }
)
SUPPORTED_QUERY_OPERATORS = TOP_LEVEL_OPERATORS | FIELD_OPERATORS
_NEEDS_AN_INDEX = "it needs a {} index, and a filter runs on one alert, not on a collection"
_GEOMETRY = (
    "MongoDB's spherical (S2) geometry is not reproduced; write a cone search as $expr "
    "with trigonometry on the alert's coordinates"
)
_RANDOM = "filters must be deterministic: a replayed alert must pass the same filters"
FORBIDDEN_QUERY_OPERATORS = {
    "$where": "it runs server-side JavaScript",
    "$text": _NEEDS_AN_INDEX.format("text"),
    "$near": _NEEDS_AN_INDEX.format("geospatial"),
    "$nearSphere": _NEEDS_AN_INDEX.format("geospatial"),
    "$geoWithin": _GEOMETRY,
    "$geoIntersects": _GEOMETRY,
    "$jsonSchema": "schema validation is not filtering; test the fields with query operators",
    "$sampleRate": _RANDOM,
}

# $type accepts these aliases (and their BSON numbers); "number" matches any numeric type.
_TYPE_ALIASES = {
    "double": 1,
    "string": 2,
    "object": 3,
    "array": 4,
    "binData": 5,
    "undefined": 6,
    "objectId": 7,
    "bool": 8,
    "date": 9,
    "null": 10,
    "regex": 11,
    "dbPointer": 12,
    "javascript": 13,
    "symbol": 14,
    "javascriptWithScope": 15,
    "int": 16,
    "timestamp": 17,
    "long": 18,
    "decimal": 19,
    "minKey": -1,
    "maxKey": 127,
}
_TYPE_NAMES = {number: name for name, number in _TYPE_ALIASES.items()}
_NUMERIC_TYPES = frozenset({"double", "int", "long", "decimal"})


def compile_query(query: dict) -> Callable[[dict], bool]:
    """Compile a query document ({"candidate.drb": {"$gt": 0.9}, ...}) into a predicate."""
    return _compile_document(query, Compiler())


# --- documents and logical operators ----------------------------------------------------------


def _compile_document(query: Any, compiler: Compiler) -> Matcher:
    if not isinstance(query, dict):
        raise PipelineError(f"a query must be an object, not {type_name(query)}")
    matchers = []
    for key, value in query.items():
        if not isinstance(key, str):
            raise PipelineError("query field names must be strings")
        if key.startswith("$"):
            if key == "$comment":
                continue
            matchers.append(_compile_top_level(key, value, compiler))
        else:
            matchers.append(_compile_field(key, value, compiler))
    return _all_of(matchers)


def _all_of(matchers: list[Matcher]) -> Matcher:
    if not matchers:
        return lambda doc: True
    if len(matchers) == 1:
        return matchers[0]
    if len(matchers) == 2:
        first, second = matchers
        return lambda doc: first(doc) and second(doc)
    return lambda doc: all(m(doc) for m in matchers)


def _compile_top_level(name: str, value: Any, compiler: Compiler) -> Matcher:
    if name in ("$and", "$or", "$nor"):
        if not isinstance(value, list) or not value:
            raise PipelineError(f"{name} must be a nonempty array")
        for clause in value:
            if not isinstance(clause, dict):
                raise PipelineError(f"{name} entries need to be full objects")
        clauses = [_compile_document(clause, compiler) for clause in value]
        if name == "$and":
            return _all_of(clauses)
        if name == "$or":
            return lambda doc: any(m(doc) for m in clauses)
        return lambda doc: not any(m(doc) for m in clauses)
    if name == "$expr":
        expr_compiler = Compiler()
        fn = expr_compiler.compile(value, ROOT_SCOPE)
        slots = expr_compiler.slot_count
        return lambda doc: truthy(fn(doc, [None] * slots))
    reason = FORBIDDEN_QUERY_OPERATORS.get(name)
    if reason:
        raise PipelineError(f"forbidden query operator {name} ({reason})")
    raise PipelineError(f"unsupported top level query operator {name}")


# --- field conditions -------------------------------------------------------------------------


def _is_operator_document(value: Any) -> bool:
    return isinstance(value, dict) and bool(value) and next(iter(value)).startswith("$")


def _compile_field(path: str, spec: Any, compiler: Compiler) -> Matcher:
    parts = split_path(path, "query path")
    if _is_operator_document(spec):
        return _compile_operators(parts, spec, compiler)
    if pattern_parts(spec) is not None:
        return _field_matcher(parts, _regex_test(*pattern_parts(spec)), expand=True)
    return _field_matcher(parts, equality_test(spec), expand=True)


def _field_matcher(parts: tuple[str, ...], test: Test, expand: bool) -> Matcher:
    """Match when the test holds for any value the path reaches (and, with expand, for any
    element of an array reached at the end of the path)."""
    getter = query_getter(parts)
    if expand:

        def leaf(value: Any) -> bool:
            if test(value):
                return True
            if type(value) is list:
                for element in value:
                    if test(element):
                        return True
            return False

    else:
        leaf = test

    def match(doc: Any) -> bool:
        value = getter(doc)
        if value is MULTIPLE:
            return any(leaf(v) for v in query_values(doc, parts))
        return leaf(value)

    return match


def _compile_operators(parts: tuple[str, ...], spec: dict, compiler: Compiler) -> Matcher:
    matchers: list[Matcher] = []
    options = spec.get("$options")
    if options is not None and "$regex" not in spec:
        raise PipelineError("$options needs a $regex")
    for name, operand in spec.items():
        if name == "$options":
            continue
        if name == "$regex":
            matchers.append(_field_matcher(parts, _regex_from_operator(operand, options), True))
            continue
        matchers.append(_compile_operator(parts, name, operand, compiler))
    return _all_of(matchers)


def _compile_operator(
    parts: tuple[str, ...], name: str, operand: Any, compiler: Compiler
) -> Matcher:
    if name == "$not":
        return _negate(_compile_not(parts, operand, compiler))
    if name in ("$ne", "$nin"):
        positive = "$eq" if name == "$ne" else "$in"
        return _negate(_compile_operator(parts, positive, operand, compiler))
    if name == "$exists":
        exists = _field_matcher(parts, lambda v: v is not MISSING, expand=False)
        return exists if truthy(operand) else _negate(exists)
    if name == "$all":
        return _compile_all(parts, operand, compiler)
    if name == "$elemMatch":
        return _field_matcher(parts, _elem_match_test(operand, compiler), expand=False)
    if name == "$size":
        return _field_matcher(parts, _size_test(operand), expand=False)
    test = _value_test(name, operand)
    return _field_matcher(parts, test, expand=True)


def _negate(matcher: Matcher) -> Matcher:
    return lambda doc: not matcher(doc)


def _value_test(name: str, operand: Any) -> Test:
    """The per-value test of an operator that applies to array elements one by one."""
    if name == "$eq":
        return equality_test(operand)
    if name in _COMPARISONS:
        return comparison_test(name, operand)
    if name == "$in":
        return _in_test(operand)
    if name == "$type":
        return _type_test(operand)
    if name == "$mod":
        return _mod_test(operand)
    if name in _BIT_TESTS:
        return _bits_test(name, operand)
    if name == "$elemMatch" or name == "$size":
        raise PipelineError(f"{name} cannot be used here")
    reason = FORBIDDEN_QUERY_OPERATORS.get(name)
    if reason:
        raise PipelineError(f"forbidden query operator {name} ({reason})")
    raise PipelineError(f"unsupported query operator {name}")


def _compile_not(parts: tuple[str, ...], operand: Any, compiler: Compiler) -> Matcher:
    if pattern_parts(operand) is not None:
        return _field_matcher(parts, _regex_test(*pattern_parts(operand)), expand=True)
    if not _is_operator_document(operand):
        raise PipelineError("$not needs a regex or a document of operators")
    return _compile_operators(parts, operand, compiler)


# --- equality and comparison ------------------------------------------------------------------


def _is_plain_number(value: Any) -> bool:
    t = type(value)
    return t is float or t is int or t is Int64


def equality_test(operand: Any) -> Test:
    """Query equality: same canonical type and equal; null also matches missing."""
    if operand is None:
        return lambda v: v is None or v is MISSING
    t = type(operand)
    if t is str:
        return lambda v: type(v) is str and v == operand
    if _is_plain_number(operand):
        if operand != operand:
            return lambda v: _is_plain_number(v) and v != v
        return lambda v: (type(v) is float or type(v) is int or type(v) is Int64) and v == operand
    if t is bool:
        return lambda v: v is operand
    operand_rank = rank(operand)
    return lambda v: v is not MISSING and rank(v) == operand_rank and compare(v, operand) == 0


_COMPARISONS: dict[str, Callable[[int], bool]] = {
    "$gt": lambda c: c > 0,
    "$gte": lambda c: c >= 0,
    "$lt": lambda c: c < 0,
    "$lte": lambda c: c <= 0,
}


def comparison_test(name: str, operand: Any) -> Test:
    inclusive = name in ("$gte", "$lte")
    if operand is None:
        # $gte/$lte null behave as equality to null; $gt/$lt null match nothing.
        return equality_test(None) if inclusive else (lambda v: False)
    if isinstance(operand, (MinKey, MaxKey)):
        check = _COMPARISONS[name]
        return lambda v: v is not MISSING and check(compare(v, operand))
    if _is_plain_number(operand):
        return _numeric_comparison(name, operand)
    operand_rank = rank(operand)
    check = _COMPARISONS[name]
    if operand_rank == RANK_NULL:
        return lambda v: False
    return lambda v: v is not MISSING and rank(v) == operand_rank and check(compare(v, operand))


def _numeric_comparison(name: str, x: Any) -> Test:
    if x != x:
        # NaN equals NaN and compares false to everything else.
        if name in ("$gte", "$lte"):
            return lambda v: _is_plain_number(v) and v != v
        return lambda v: False

    # Python's comparisons are false for a NaN value, exactly as MongoDB's query comparisons.
    def number(v: Any) -> bool:
        t = type(v)
        return t is float or t is int or t is Int64

    if name == "$gt":
        return lambda v: number(v) and v > x
    if name == "$gte":
        return lambda v: number(v) and v >= x
    if name == "$lt":
        return lambda v: number(v) and v < x
    return lambda v: number(v) and v <= x


def _in_test(operand: Any) -> Test:
    if not isinstance(operand, list):
        raise PipelineError("$in needs an array")
    members = set()
    other_tests: list[Test] = []
    for item in operand:
        if _is_operator_document(item):
            raise PipelineError("cannot nest $ under $in")
        t = type(item)
        if t is str or (_is_plain_number(item) and item == item):
            members.add(item)
        elif pattern_parts(item) is not None:
            other_tests.append(_regex_test(*pattern_parts(item)))
        else:
            other_tests.append(equality_test(item))

    def is_in(v: Any) -> bool:
        t = type(v)
        # The set holds strings and plain numbers only, where set lookup agrees with MongoDB's
        # equality (1 == 1.0); a bool never looks there, so True does not find 1.
        if (t is str or t is int or t is float or t is Int64) and v in members:
            return True
        for test in other_tests:
            if test(v):
                return True
        return False

    return is_in


# --- $regex, $type, $mod, $size ---------------------------------------------------------------


def _regex_test(pattern: str, options: str) -> Test:
    compiled = compile_regex(pattern, options)
    search = compiled.search
    return lambda v: type(v) is str and search(v) is not None


def _regex_from_operator(operand: Any, options: Any) -> Test:
    if options is not None and type(options) is not str:
        raise PipelineError("$options has to be a string")
    parts = pattern_parts(operand)
    if parts is not None:
        pattern, flags = parts
        if flags and options:
            raise PipelineError("options set in both $regex and $options")
        return _regex_test(pattern, flags or options or "")
    if type(operand) is not str:
        raise PipelineError("$regex has to be a string")
    return _regex_test(operand, options or "")


def _type_test(operand: Any) -> Test:
    wanted = operand if isinstance(operand, list) else [operand]
    names: set[str] = set()
    for item in wanted:
        if type(item) is str:
            if item == "number":
                names |= _NUMERIC_TYPES
            elif item in _TYPE_ALIASES:
                names.add(item)
            else:
                raise PipelineError(f"unknown type name alias: {item}")
        elif _is_plain_number(item) and float(item).is_integer():
            name = _TYPE_NAMES.get(int(item))
            if name is None:
                raise PipelineError(f"Invalid numerical type code: {item}")
            names.add(name)
        else:
            raise PipelineError("type must be represented as a number or a string")
    frozen = frozenset(names)
    return lambda v: v is not MISSING and type_name(v) in frozen


def _mod_test(operand: Any) -> Test:
    if not isinstance(operand, list):
        raise PipelineError("malformed mod, needs to be an array")
    if len(operand) < 2:
        raise PipelineError("malformed mod, not enough elements")
    if len(operand) > 2:
        raise PipelineError("malformed mod, too many elements")
    divisor, remainder = operand
    if not _is_plain_number(divisor):
        raise PipelineError("malformed mod, divisor not a number")
    if not _is_plain_number(remainder):
        raise PipelineError("malformed mod, remainder not a number")
    if not (math.isfinite(divisor) and math.isfinite(remainder)):
        raise PipelineError("malformed mod, divisor or remainder is not a finite number")
    # Fractional divisors and remainders are truncated toward zero (MongoDB 5.1+).
    d, r = int(divisor), int(remainder)
    if d == 0:
        raise PipelineError("divisor cannot be 0")

    def mod(v: Any) -> bool:
        if not _is_plain_number(v) or (type(v) is float and not math.isfinite(v)):
            return False
        return truncated_remainder(int(v), d) == r

    return mod


def _size_test(operand: Any) -> Test:
    if not _is_plain_number(operand) or not float(operand).is_integer():
        raise PipelineError("$size needs a whole number")
    if operand < 0:
        raise PipelineError("$size may not be negative")
    size = int(operand)
    return lambda v: type(v) is list and len(v) == size


# --- $bitsAllSet, $bitsAllClear, $bitsAnySet, $bitsAnyClear ------------------------------------

# Each takes (value & mask) and the mask; numbers are sign-extended, so any position from 63 up
# tests the sign bit.
_BIT_TESTS: dict[str, Callable[[int, int], bool]] = {
    "$bitsAllSet": lambda bits, mask: bits == mask,
    "$bitsAllClear": lambda bits, mask: bits == 0,
    "$bitsAnySet": lambda bits, mask: bits != 0,
    "$bitsAnyClear": lambda bits, mask: bits != mask,
}
_INT64_LIMIT = 2**63


def _bit_positions(name: str, operand: Any) -> list[int]:
    """The bit positions an operand names: a list of positions, a non-negative integral number
    (its set bits) or BinData (its set bits, byte 0 holding positions 0-7)."""
    if isinstance(operand, list):
        positions = []
        for item in operand:
            if not _is_plain_number(item) or item != item or not float(item).is_integer():
                raise PipelineError(
                    f"Failed to parse bit position. Expected an integer: {name}: {operand!r}"
                )
            if item < 0 or item > 2**31 - 1:
                raise PipelineError(
                    "Failed to parse bit position. Expected a non-negative 32-bit integer: "
                    f"{name}: {operand!r}"
                )
            positions.append(int(item))
        return positions
    if _is_plain_number(operand):
        if operand != operand or not float(operand).is_integer():
            raise PipelineError(f"Expected an integer: {name}: {operand!r}")
        if operand < 0:
            raise PipelineError(f"Expected a positive number in: {name}: {operand!r}")
        if operand >= _INT64_LIMIT:
            raise PipelineError(f"Cannot represent as a 64-bit integer: {name}: {operand!r}")
        mask = int(operand)
        return [bit for bit in range(63) if mask >> bit & 1]
    if isinstance(operand, (bytes, Binary, uuid.UUID)):
        data = operand.bytes if isinstance(operand, uuid.UUID) else bytes(operand)
        return [8 * i + bit for i, byte in enumerate(data) for bit in range(8) if byte >> bit & 1]
    raise PipelineError(f"{name} takes an Array, a number, or a BinData but received: {operand!r}")


def _bit_integer(value: Any) -> int | None:
    """A field value as the signed 64-bit integer the bit tests read, or None when it is not
    one: not a number, NaN, fractional, or out of the 64-bit range."""
    t = type(value)
    if t is int or t is Int64:
        return int(value)
    if t is float:
        if value != value or not -_INT64_LIMIT <= value < _INT64_LIMIT:
            return None
        return int(value) if value.is_integer() else None
    if t is Decimal128:
        number = value.to_decimal()
        if not number.is_finite() or number != number.to_integral_value():
            return None
        integer = int(number)
        return integer if -_INT64_LIMIT <= integer < _INT64_LIMIT else None
    return None


def _bits_test(name: str, operand: Any) -> Test:
    positions = _bit_positions(name, operand)
    check = _BIT_TESTS[name]
    mask = 0
    for position in positions:
        mask |= 1 << min(position, 63)

    def bits(value: Any) -> bool:
        number = _bit_integer(value)
        if number is not None:
            return check(number & mask, mask)
        if isinstance(value, (bytes, Binary, uuid.UUID)):
            data = value.bytes if isinstance(value, uuid.UUID) else bytes(value)
            size = len(data) * 8
            # BinData is zero-extended: a position past its end is clear.
            found = 0
            for index, position in enumerate(positions):
                if position < size and data[position >> 3] >> (position & 7) & 1:
                    found |= 1 << index
            return check(found, (1 << len(positions)) - 1)
        return False

    return bits


# --- $all and $elemMatch ----------------------------------------------------------------------


def _compile_all(parts: tuple[str, ...], operand: Any, compiler: Compiler) -> Matcher:
    if not isinstance(operand, list):
        raise PipelineError("$all needs an array")
    if not operand:
        return lambda doc: False
    matchers = []
    for item in operand:
        if isinstance(item, dict) and "$elemMatch" in item:
            if len(item) != 1:
                raise PipelineError("$all/$elemMatch has to be consistent")
            test = _elem_match_test(item["$elemMatch"], compiler)
            matchers.append(_field_matcher(parts, test, expand=False))
        elif _is_operator_document(item):
            raise PipelineError("no $ expressions in $all")
        elif pattern_parts(item) is not None:
            matchers.append(_field_matcher(parts, _regex_test(*pattern_parts(item)), True))
        else:
            matchers.append(_field_matcher(parts, equality_test(item), expand=True))
    return _all_of(matchers)


def _elem_match_test(operand: Any, compiler: Compiler) -> Test:
    if not isinstance(operand, dict):
        raise PipelineError("$elemMatch needs an Object")
    first = next(iter(operand), "")
    if first.startswith("$") and first not in TOP_LEVEL_OPERATORS and first != "$where":
        element_test = _elem_match_value_test(operand)
    else:
        if "$expr" in operand:
            raise PipelineError("$expr can only be applied to the top-level document")
        matcher = _compile_document(operand, compiler)

        def element_test(element: Any) -> bool:
            return isinstance(element, dict) and matcher(element)

    def elem_match(value: Any) -> bool:
        if type(value) is not list:
            return False
        return any(element_test(element) for element in value)

    return elem_match


def _elem_match_value_test(operand: dict) -> Test:
    """{$elemMatch: {$gte: 80, $lt: 85}}: every operator holds for one same element."""
    tests: list[Test] = []
    options = operand.get("$options")
    for name, value in operand.items():
        if name == "$options":
            continue
        if name == "$regex":
            tests.append(_regex_from_operator(value, options))
        elif name in ("$ne", "$nin"):
            positive = _value_test("$eq" if name == "$ne" else "$in", value)
            tests.append(lambda v, p=positive: not p(v))
        elif name == "$not":
            inner = _elem_match_value_test(value) if isinstance(value, dict) else None
            if inner is None:
                parts = pattern_parts(value)
                if parts is None:
                    raise PipelineError("$not needs a regex or a document of operators")
                inner = _regex_test(*parts)
            tests.append(lambda v, p=inner: not p(v))
        elif name == "$exists":
            wanted = truthy(value)
            tests.append(lambda v, want=wanted: (v is not MISSING) == want)
        elif name == "$size":
            tests.append(_size_test(value))
        elif name == "$elemMatch":
            tests.append(_elem_match_test(value, Compiler()))
        else:
            tests.append(_value_test(name, value))
    return lambda v: all(test(v) for test in tests)


__all__ = [
    "FORBIDDEN_QUERY_OPERATORS",
    "SUPPORTED_QUERY_OPERATORS",
    "compile_query",
    "equality_test",
]
