"""$type, $convert and its shorthands ($toDouble, $toInt, $toLong, $toString, $toBool).

Follows MongoDB's conversion table: a pair it lacks is a ConversionFailure (code 241), which
onError catches; null or missing input gives onNull (default null).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from typing import Any

from bson import Int64, ObjectId
from bson.errors import InvalidId

from ..errors import EvaluationError, PipelineError
from ..values import (
    INT32_MAX,
    INT32_MIN,
    INT64_MAX,
    INT64_MIN,
    MISSING,
    date_to_ms,
    ms_to_date,
    truthy,
    type_name,
)
from .core import (
    Compiler,
    Expr,
    Scope,
    compile_operands,
    constant,
    constant_value,
    is_constant,
    object_arguments,
    operator,
)

CONVERSION_FAILURE = 241
TYPE_NAMES_BY_NUMBER = {
    1: "double",
    2: "string",
    3: "object",
    4: "array",
    5: "binData",
    6: "undefined",
    7: "objectId",
    8: "bool",
    9: "date",
    10: "null",
    11: "regex",
    13: "javascript",
    16: "int",
    17: "timestamp",
    18: "long",
    19: "decimal",
    -1: "minKey",
    127: "maxKey",
}
TYPE_NAMES = set(TYPE_NAMES_BY_NUMBER.values())

_DOUBLE_TEXT = re.compile(
    r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan)", re.IGNORECASE
)
_INTEGER_TEXT = re.compile(r"[+-]?\d+")
_ISO_DATE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?"
    r"(Z|[+-]\d{2}:?\d{2})?"
)


class ConversionFailure(EvaluationError):
    def __init__(self, message: str) -> None:
        super().__init__(message, CONVERSION_FAILURE)


def format_double(value: float) -> str:
    """A double as $toString writes it: the shortest round-trip text, without a trailing .0."""
    if math.isinf(value):
        return "-Infinity" if value < 0 else "Infinity"
    if math.isnan(value):
        return "NaN"
    if value == 0 and math.copysign(1.0, value) < 0:
        return "-0"
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


def format_date(value: dt.datetime) -> str:
    ms = date_to_ms(value)
    return ms_to_date(ms - ms % 1000).strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}Z"


def _double_to_integer(value: float, low: float, high: float, *, high_inclusive: bool) -> int:
    if math.isnan(value):
        raise ConversionFailure(
            "Attempt to convert NaN value to integer type in $convert with no onError value"
        )
    if math.isinf(value):
        raise ConversionFailure(
            "Attempt to convert infinity value to integer type in $convert with no onError value"
        )
    inside = low <= value <= high if high_inclusive else low <= value < high
    if not inside:
        raise ConversionFailure(
            f"Conversion would overflow target type in $convert with no onError value: {value:g}"
        )
    return int(value)


def _double_to_int(value: float) -> int:
    return _double_to_integer(value, INT32_MIN, INT32_MAX, high_inclusive=True)


def _double_to_long(value: float) -> Int64:
    return Int64(_double_to_integer(value, INT64_MIN, 2.0**63, high_inclusive=False))


def _long_to_int(value: int) -> int:
    if not INT32_MIN <= value <= INT32_MAX:
        raise ConversionFailure(
            f"Conversion would overflow target type in $convert with no onError value: {value}"
        )
    return int(value)


def _parse_failure(text: str, reason: str) -> ConversionFailure:
    return ConversionFailure(
        f"Failed to parse number '{text}' in $convert with no onError value: {reason}"
    )


def _reject_hex(text: str) -> None:
    if text.startswith(("0x", "0X")):
        raise ConversionFailure(
            f"Illegal hexadecimal input in $convert with no onError value: {text}"
        )


def _string_to_double(text: str) -> float:
    _reject_hex(text)
    if not _DOUBLE_TEXT.fullmatch(text):
        raise _parse_failure(text, "Did not consume whole string.")
    return float(text)


def _string_to_integer(text: str, low: int, high: int) -> int:
    _reject_hex(text)
    if not _INTEGER_TEXT.fullmatch(text):
        raise _parse_failure(text, "Did not consume whole string.")
    number = int(text)
    if not low <= number <= high:
        raise _parse_failure(text, "Overflow")
    return number


def _string_to_object_id(text: str) -> ObjectId:
    try:
        return ObjectId(text)
    except (InvalidId, TypeError):
        raise ConversionFailure(
            f"Failed to parse objectId '{text}' in $convert with no onError value: "
            f"Invalid string length for parsing to OID, expected 24 but found {len(text)}"
        ) from None


def _string_to_date(text: str) -> dt.datetime:
    match = _ISO_DATE.fullmatch(text)
    if not match:
        raise ConversionFailure(f"Error parsing date string '{text}'")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        value = dt.datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((fraction or "0").ljust(6, "0")[:6]),
        )
    except ValueError as exc:
        raise ConversionFailure(f"Error parsing date string '{text}': {exc}") from None
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        value -= sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return ms_to_date(date_to_ms(value))


def _to_true(value: Any) -> bool:
    return True


def _identity(value: Any) -> Any:
    return value


# (input type, target type) -> conversion; a pair absent here is an unsupported conversion.
_CONVERSIONS: dict[tuple[str, str], Callable[[Any], Any]] = {
    ("double", "double"): _identity,
    ("double", "string"): format_double,
    ("double", "bool"): truthy,
    ("double", "date"): lambda v: ms_to_date(int(_double_to_long(v))),
    ("double", "int"): _double_to_int,
    ("double", "long"): _double_to_long,
    ("string", "double"): _string_to_double,
    ("string", "string"): _identity,
    ("string", "objectId"): _string_to_object_id,
    ("string", "bool"): _to_true,
    ("string", "date"): _string_to_date,
    ("string", "int"): lambda v: _string_to_integer(v, INT32_MIN, INT32_MAX),
    ("string", "long"): lambda v: Int64(_string_to_integer(v, INT64_MIN, INT64_MAX)),
    ("objectId", "string"): str,
    ("objectId", "objectId"): _identity,
    ("objectId", "bool"): _to_true,
    ("objectId", "date"): lambda v: v.generation_time.replace(tzinfo=None),
    ("bool", "double"): lambda v: 1.0 if v else 0.0,
    ("bool", "string"): lambda v: "true" if v else "false",
    ("bool", "bool"): _identity,
    ("bool", "int"): lambda v: 1 if v else 0,
    ("bool", "long"): lambda v: Int64(1 if v else 0),
    ("date", "double"): lambda v: float(date_to_ms(v)),
    ("date", "string"): format_date,
    ("date", "bool"): _to_true,
    ("date", "date"): _identity,
    ("date", "long"): lambda v: Int64(date_to_ms(v)),
    ("timestamp", "date"): lambda v: ms_to_date(v.time * 1000),
    ("int", "double"): float,
    ("int", "string"): lambda v: str(int(v)),
    ("int", "bool"): truthy,
    ("int", "int"): _identity,
    ("int", "long"): Int64,
    ("long", "double"): float,
    ("long", "string"): lambda v: str(int(v)),
    ("long", "bool"): truthy,
    ("long", "date"): lambda v: ms_to_date(int(v)),
    ("long", "int"): _long_to_int,
    ("long", "long"): Int64,
}
for _source in (
    "object",
    "array",
    "binData",
    "regex",
    "timestamp",
    "javascript",
    "minKey",
    "maxKey",
):
    _CONVERSIONS[(_source, "bool")] = _to_true


def convert_value(value: Any, target: str) -> Any:
    """Convert a non-null value to the target type name, or raise ConversionFailure."""
    source = type_name(value)
    conversion = _CONVERSIONS.get((source, target))
    if conversion is None:
        if target == "decimal" or source == "decimal":
            raise EvaluationError("$convert: Decimal128 is not supported by the filter engine")
        raise ConversionFailure(
            f"Unsupported conversion from {source} to {target} in $convert with no onError value"
        )
    return conversion(value)


def target_type(value: Any) -> str | None:
    """The type name a 'to' argument designates (None when null); refuses unknown ones."""
    if value is None or value is MISSING:
        return None
    if type(value) is str:
        if value not in TYPE_NAMES:
            raise EvaluationError(f"Unknown type name: {value}", 2)
        return value
    if type(value) in (int, float, Int64) and float(value).is_integer():
        name = TYPE_NAMES_BY_NUMBER.get(int(value))
        if name is None:
            raise EvaluationError(f"Invalid numerical type code: {value}", 2)
        return name
    raise EvaluationError(
        f"$convert's 'to' argument must be a string or number, but is {type_name(value)}", 2
    )


def _compile_convert(
    input_fn: Expr, to_fn: Expr, on_error: Expr | None, on_null: Expr | None
) -> Expr:
    fixed_target: str | None = None
    if is_constant(to_fn):
        try:
            fixed_target = target_type(constant_value(to_fn))
        except EvaluationError as exc:
            raise PipelineError(f"$convert: {exc.message}") from None

    def convert(doc: dict, frame: list) -> Any:
        target = fixed_target or target_type(to_fn(doc, frame))
        value = input_fn(doc, frame)
        if value is None or value is MISSING:
            return on_null(doc, frame) if on_null is not None else None
        if target is None:
            return None
        try:
            return convert_value(value, target)
        except ConversionFailure:
            if on_error is None:
                raise
            return on_error(doc, frame)

    return convert


@operator("$convert")
def _convert(args: Any, c: Compiler, scope: Scope) -> Expr:
    object_arguments("$convert", args, ("input", "to"), ("onError", "onNull"))
    return _compile_convert(
        c.compile(args["input"], scope),
        c.compile(args["to"], scope),
        c.compile(args["onError"], scope) if "onError" in args else None,
        c.compile(args["onNull"], scope) if "onNull" in args else None,
    )


def _register_shorthand(name: str, target: str) -> None:
    @operator(name)
    def compile_shorthand(args: Any, c: Compiler, scope: Scope) -> Expr:
        (input_fn,) = compile_operands(name, args, c, scope, 1)
        return _compile_convert(input_fn, constant(target), None, None)


_register_shorthand("$toDouble", "double")
_register_shorthand("$toInt", "int")
_register_shorthand("$toLong", "long")
_register_shorthand("$toString", "string")
_register_shorthand("$toBool", "bool")


@operator("$type")
def _type(args: Any, c: Compiler, scope: Scope) -> Expr:
    (item,) = compile_operands("$type", args, c, scope, 1)
    return lambda doc, frame: type_name(item(doc, frame))
