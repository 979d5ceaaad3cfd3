"""$type, $isNumber, $convert and its shorthands ($toDouble, $toInt, $toLong, $toDecimal,
$toString, $toBool, $toObjectId, $toDate).

Follows MongoDB's conversion table: a pair it lacks is a ConversionFailure (code 241), which
onError catches; null or missing input gives onNull (default null). Conversions to and from
Decimal128 are supported (results are bson.Decimal128); arithmetic on them is not.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
from collections.abc import Callable
from typing import Any

from bson import Decimal128, Int64, ObjectId
from bson.decimal128 import create_decimal128_context

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
# "missing" is accepted as a target (it is what $type answers) but converts nothing.
TYPE_NAMES = set(TYPE_NAMES_BY_NUMBER.values()) | {"missing"}

_DOUBLE_TEXT = re.compile(
    r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf(?:inity)?|nan)", re.IGNORECASE
)
_INTEGER_TEXT = re.compile(r"[+-]?\d+")
# The date strings $toDate reads (a subset of MongoDB's timelib parser): an ISO 8601 or
# slashed date, optionally a time (T or spaces before it, seconds and fraction optional), then
# optionally a zone: Z, UTC, GMT or an offset +HH, +HHMM, +HH:MM (spaces allowed before it).
_DATE_TEXT = re.compile(
    r"(?P<year>\d{4})(?P<sep>[-/])(?P<month>\d{1,2})(?P=sep)(?P<day>\d{1,2})"
    r"(?:(?:[Tt]|\s+)(?P<hour>\d{1,2}):(?P<minute>\d{2})"
    r"(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?)?"
    r"(?:\s*(?P<zone>[Zz]|UTC|GMT|[+-]\d{2}(?::?\d{2})?))?"
)
# Strings timelib understands as a time or a relative day but which carry no date.
_DATELESS_TEXT = re.compile(
    r"\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?|now|today|tomorrow|yesterday|noon|midnight|"
    r"(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*",
    re.IGNORECASE,
)
_DECIMAL_CONTEXT = create_decimal128_context()
_FIFTEEN_DIGITS = decimal.Context(prec=15, rounding=decimal.ROUND_HALF_EVEN)


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
    value = float(text)
    if math.isinf(value) and "inf" not in text.lower():
        raise _parse_failure(text, "Out of range")  # "5e550"
    return value


def _string_to_integer(text: str, low: int, high: int) -> int:
    _reject_hex(text)
    if not _INTEGER_TEXT.fullmatch(text):
        raise _parse_failure(text, "Did not consume whole string.")
    number = int(text)
    if not low <= number <= high:
        raise _parse_failure(text, "Overflow")
    return number


def _string_to_object_id(text: str) -> ObjectId:
    if len(text) != 24:
        reason = f"Invalid string length for parsing to OID, expected 24 but found {len(text)}"
    elif not all(ch in "0123456789abcdefABCDEF" for ch in text):
        reason = "Invalid character found in hex string"
    else:
        return ObjectId(text)
    raise ConversionFailure(
        f"Failed to parse objectId '{text}' in $convert with no onError value: {reason}"
    )


def _string_to_date(text: str) -> dt.datetime:
    """A date string as $toDate reads it (UTC unless the string names an offset)."""
    match = _DATE_TEXT.fullmatch(text)
    if match is None:
        if _DATELESS_TEXT.fullmatch(text.strip()):
            raise ConversionFailure(
                f'an incomplete date/time string has been found, with elements missing: "{text}"'
            )
        raise ConversionFailure(f"Error parsing date string '{text}'")
    hour, minute = int(match["hour"] or 0), int(match["minute"] or 0)
    second = int(match["second"] or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise ConversionFailure(f"Error parsing date string '{text}': the parsed time was invalid")
    try:
        day_start = dt.datetime(int(match["year"]), int(match["month"]), int(match["day"]))
    except ValueError:
        raise ConversionFailure(
            f"Error parsing date string '{text}': the parsed date was invalid"
        ) from None
    ms = date_to_ms(day_start) + ((hour * 60 + minute) * 60 + second) * 1000
    ms += int((match["fraction"] or "0")[:3].ljust(3, "0"))
    zone = match["zone"]
    if zone and zone[0] in "+-":
        digits = zone[1:].replace(":", "")
        offset = int(digits[:2]) * 60 + int(digits[2:] or 0)
        ms -= (1 if zone[0] == "+" else -1) * offset * 60_000
    return _date(ms)


def _date(ms: int) -> dt.datetime:
    try:
        return ms_to_date(ms)
    except OverflowError:
        # MongoDB dates reach 292 million years; Python's datetime stops at year 9999.
        raise EvaluationError(
            f"the date {ms} ms from the epoch is outside the years 1-9999 that the filter engine "
            "represents"
        ) from None


# --- Decimal128 -------------------------------------------------------------------------------


def _double_to_decimal(value: float) -> Decimal128:
    """Decimal128(double): the double rounded (half even) to exactly 15 significant digits, as
    MongoDB's kRoundTo15Digits conversion does (2.5 -> 2.50000000000000)."""
    if value == 0 or not math.isfinite(value):
        return Decimal128(decimal.Decimal(value))
    rounded = _FIFTEEN_DIGITS.create_decimal(decimal.Decimal(value))
    return Decimal128(rounded.quantize(decimal.Decimal(1).scaleb(rounded.adjusted() - 14)))


def _string_to_decimal(text: str) -> Decimal128:
    _reject_hex(text)
    if not _DOUBLE_TEXT.fullmatch(text):
        raise _parse_failure(text, "Failed to parse string to decimal")
    # Rounded to Decimal128's 34 digits, as MongoDB's parser does.
    return Decimal128(_DECIMAL_CONTEXT.create_decimal(decimal.Decimal(text)))


def _integer_to_decimal(value: Any) -> Decimal128:
    return Decimal128(str(int(value)))


def _decimal_to_integer(value: Decimal128, low: int, high: int) -> int:
    number = value.to_decimal()
    if number.is_nan():
        raise ConversionFailure(
            "Attempt to convert NaN value to integer type in $convert with no onError value"
        )
    if number.is_infinite():
        raise ConversionFailure(
            "Attempt to convert infinity value to integer type in $convert with no onError value"
        )
    integer = int(number)  # truncates toward zero
    if not low <= integer <= high:
        raise ConversionFailure(
            f"Conversion would overflow target type in $convert with no onError value: {value}"
        )
    return integer


def _decimal_to_double(value: Decimal128) -> float:
    number = value.to_decimal()
    result = float(number)  # correctly rounded, half even
    if number.is_finite() and (math.isinf(result) or (result == 0 and not number.is_zero())):
        raise ConversionFailure(
            f"Conversion would overflow target type in $convert with no onError value: {value}"
        )
    return result


def _to_true(value: Any) -> bool:
    return True


def _identity(value: Any) -> Any:
    return value


# (input type, target type) -> conversion; a pair absent here is an unsupported conversion.
_CONVERSIONS: dict[tuple[str, str], Callable[[Any], Any]] = {
    ("double", "double"): _identity,
    ("double", "string"): format_double,
    ("double", "bool"): truthy,
    ("double", "date"): lambda v: _date(int(_double_to_long(v))),
    ("double", "decimal"): _double_to_decimal,
    ("double", "int"): _double_to_int,
    ("double", "long"): _double_to_long,
    ("string", "double"): _string_to_double,
    ("string", "string"): _identity,
    ("string", "objectId"): _string_to_object_id,
    ("string", "bool"): _to_true,
    ("string", "date"): _string_to_date,
    ("string", "int"): lambda v: _string_to_integer(v, INT32_MIN, INT32_MAX),
    ("string", "long"): lambda v: Int64(_string_to_integer(v, INT64_MIN, INT64_MAX)),
    ("string", "decimal"): _string_to_decimal,
    ("objectId", "string"): str,
    ("objectId", "objectId"): _identity,
    ("objectId", "bool"): _to_true,
    ("objectId", "date"): lambda v: _date(int(v.generation_time.timestamp()) * 1000),
    ("bool", "double"): lambda v: 1.0 if v else 0.0,
    ("bool", "string"): lambda v: "true" if v else "false",
    ("bool", "bool"): _identity,
    ("bool", "int"): lambda v: 1 if v else 0,
    ("bool", "long"): lambda v: Int64(1 if v else 0),
    ("bool", "decimal"): lambda v: Decimal128("1" if v else "0"),
    ("date", "double"): lambda v: float(date_to_ms(v)),
    ("date", "string"): format_date,
    ("date", "bool"): _to_true,
    ("date", "date"): _identity,
    ("date", "long"): lambda v: Int64(date_to_ms(v)),
    ("date", "decimal"): lambda v: _integer_to_decimal(date_to_ms(v)),
    ("timestamp", "date"): lambda v: _date(v.time * 1000),
    ("int", "double"): float,
    ("int", "string"): lambda v: str(int(v)),
    ("int", "bool"): truthy,
    ("int", "int"): _identity,
    ("int", "long"): Int64,
    ("int", "decimal"): _integer_to_decimal,
    ("long", "double"): float,
    ("long", "string"): lambda v: str(int(v)),
    ("long", "bool"): truthy,
    ("long", "date"): lambda v: _date(int(v)),
    ("long", "int"): _long_to_int,
    ("long", "long"): Int64,
    ("long", "decimal"): _integer_to_decimal,
    ("decimal", "double"): _decimal_to_double,
    ("decimal", "string"): str,
    ("decimal", "bool"): truthy,
    ("decimal", "date"): lambda v: _date(_decimal_to_integer(v, INT64_MIN, INT64_MAX)),
    ("decimal", "int"): lambda v: _decimal_to_integer(v, INT32_MIN, INT32_MAX),
    ("decimal", "long"): lambda v: Int64(_decimal_to_integer(v, INT64_MIN, INT64_MAX)),
    ("decimal", "decimal"): _identity,
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
    if type(value) in (int, float, Int64):
        if not float(value).is_integer():
            raise EvaluationError("In $convert, numeric 'to' argument is not an integer", 9)
        name = TYPE_NAMES_BY_NUMBER.get(int(value))
        if name is None:
            raise EvaluationError(
                "In $convert, numeric value for 'to' does not correspond to a BSON type: "
                f"{int(value)}",
                9,
            )
        return name
    raise EvaluationError(
        f"$convert's 'to' argument must be a string or number, but is {type_name(value)}", 9
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
_register_shorthand("$toDecimal", "decimal")
_register_shorthand("$toObjectId", "objectId")
_register_shorthand("$toDate", "date")


@operator("$type")
def _type(args: Any, c: Compiler, scope: Scope) -> Expr:
    (item,) = compile_operands("$type", args, c, scope, 1)
    return lambda doc, frame: type_name(item(doc, frame))


@operator("$isNumber")
def _is_number(args: Any, c: Compiler, scope: Scope) -> Expr:
    (item,) = compile_operands("$isNumber", args, c, scope, 1)

    def is_number(doc: dict, frame: list) -> bool:
        t = type(item(doc, frame))
        return t is int or t is float or t is Int64 or t is Decimal128

    return is_number
