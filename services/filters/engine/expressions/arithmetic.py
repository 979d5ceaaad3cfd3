"""Arithmetic expression operators, with MongoDB's numeric type promotion.

int op int gives an int while it fits in 32 bits, else a long; anything with a long gives a
long, falling back to a double on 64-bit overflow; anything with a double gives a double.
Decimal128 arithmetic is not supported (alerts carry none); it raises an EvaluationError.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Context, Decimal
from typing import Any

from bson import Decimal128, Int64

from ..errors import EvaluationError
from ..values import (
    INT32_MAX,
    INT32_MIN,
    INT64_MAX,
    INT64_MIN,
    MISSING,
    date_to_ms,
    format_number,
    is_long,
    ms_to_date,
    type_name,
)
from .core import Compiler, Expr, Scope, compile_operands, operator

TYPE_MISMATCH = 14


def int_result(value: int, long_seen: bool) -> Any:
    """An integer result typed as MongoDB would: int, long, or double past 64 bits."""
    if not long_seen and INT32_MIN <= value <= INT32_MAX:
        return value
    if INT64_MIN <= value <= INT64_MAX:
        return Int64(value)
    return float(value)


def no_decimal(name: str) -> EvaluationError:
    return EvaluationError(f"{name}: Decimal128 arithmetic is not supported by the filter engine")


def _is_integer(value: Any) -> bool:
    t = type(value)
    return t is int or t is Int64


def _llround(value: float) -> int:
    """C's llround: halves round away from zero."""
    if not math.isfinite(value):
        raise EvaluationError("date overflow", 15)
    return int(math.copysign(math.floor(abs(value) + 0.5), value))


def _is_date(value: Any) -> bool:
    return isinstance(value, dt.datetime)


# --- $add, $subtract, $multiply, $divide, $mod -------------------------------------------------


def add_values(values: list[Any]) -> Any:
    """$add over already evaluated operands (numbers and at most one date)."""
    total: Any = 0
    long_seen = False
    double_seen = False
    date_ms: int | None = None
    for value in values:
        t = type(value)
        if value is None or value is MISSING:
            return None
        if t is float:
            if date_ms is not None:
                date_ms += _llround(value)
            else:
                double_seen = True
                total = total + value
        elif t is int or t is Int64:
            if date_ms is not None:
                date_ms += value
            else:
                long_seen = long_seen or is_long(value)
                total = total + value
        elif _is_date(value):
            if date_ms is not None:
                raise EvaluationError("only one date allowed in an $add expression", 16612)
            date_ms = date_to_ms(value) + (_llround(total) if double_seen else total)
        elif t is Decimal128:
            raise no_decimal("$add")
        else:
            raise EvaluationError(
                f"$add only supports numeric or date types, not {type_name(value)}",
                TYPE_MISMATCH,
            )
    if date_ms is not None:
        return ms_to_date(date_ms)
    if double_seen:
        return float(total)
    return int_result(total, long_seen)


@operator("$add")
def _add(args: Any, c: Compiler, scope: Scope) -> Expr:
    items = compile_operands("$add", args, c, scope, 0, None)
    if len(items) == 2:
        left, right = items

        def add2(doc: dict, frame: list) -> Any:
            a = left(doc, frame)
            b = right(doc, frame)
            if type(a) is float and type(b) is float:
                return a + b
            return add_values([a, b])

        return add2
    return lambda doc, frame: add_values([fn(doc, frame) for fn in items])


def subtract_values(a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta is float and tb is float:
        return a - b
    a_num = ta is float or ta is int or ta is Int64
    b_num = tb is float or tb is int or tb is Int64
    if a_num and b_num:
        if ta is float or tb is float:
            return float(a) - float(b)
        return int_result(a - b, is_long(a) or is_long(b))
    if ta is Decimal128 or tb is Decimal128:
        raise no_decimal("$subtract")
    if a is None or a is MISSING or b is None or b is MISSING:
        return None
    if _is_date(a):
        if _is_date(b):
            return Int64(date_to_ms(a) - date_to_ms(b))
        if b_num:
            ms = b if tb is not float else _llround(b)
            return ms_to_date(date_to_ms(a) - ms)
        raise EvaluationError(f"can't $subtract {type_name(b)} from Date", TYPE_MISMATCH)
    raise EvaluationError(f"can't $subtract {type_name(b)} from {type_name(a)}", TYPE_MISMATCH)


@operator("$subtract")
def _subtract(args: Any, c: Compiler, scope: Scope) -> Expr:
    left, right = compile_operands("$subtract", args, c, scope, 2)
    return lambda doc, frame: subtract_values(left(doc, frame), right(doc, frame))


def multiply_values(values: list[Any]) -> Any:
    product: Any = 1
    double_product = 1.0
    long_seen = False
    double_seen = False
    for value in values:
        t = type(value)
        if value is None or value is MISSING:
            return None
        if t is float:
            double_seen = True
        elif t is int or t is Int64:
            long_seen = long_seen or is_long(value)
        elif t is Decimal128:
            raise no_decimal("$multiply")
        else:
            raise EvaluationError(
                f"$multiply only supports numeric types, not {type_name(value)}", TYPE_MISMATCH
            )
        double_product *= float(value)
        if not double_seen:
            product *= value
            if not INT64_MIN <= product <= INT64_MAX:
                # 64-bit overflow: MongoDB abandons the integer product for the double one.
                double_seen = True
    if double_seen:
        return double_product
    return int_result(product, long_seen)


@operator("$multiply")
def _multiply(args: Any, c: Compiler, scope: Scope) -> Expr:
    items = compile_operands("$multiply", args, c, scope, 0, None)
    if len(items) == 2:
        left, right = items

        def multiply2(doc: dict, frame: list) -> Any:
            a = left(doc, frame)
            b = right(doc, frame)
            if type(a) is float and type(b) is float:
                return a * b
            return multiply_values([a, b])

        return multiply2
    return lambda doc, frame: multiply_values([fn(doc, frame) for fn in items])


def _plain_number(value: Any) -> bool:
    t = type(value)
    return t is float or t is int or t is Int64


def divide_values(a: Any, b: Any) -> Any:
    if _plain_number(a) and _plain_number(b):
        denominator = float(b)
        if denominator == 0.0:
            raise EvaluationError("can't $divide by zero", 2)
        return float(a) / denominator
    if type(a) is Decimal128 or type(b) is Decimal128:
        raise no_decimal("$divide")
    if a is None or a is MISSING or b is None or b is MISSING:
        return None
    raise EvaluationError(
        f"$divide only supports numeric types, not {type_name(a)} and {type_name(b)}",
        TYPE_MISMATCH,
    )


@operator("$divide")
def _divide(args: Any, c: Compiler, scope: Scope) -> Expr:
    left, right = compile_operands("$divide", args, c, scope, 2)
    return lambda doc, frame: divide_values(left(doc, frame), right(doc, frame))


def truncated_remainder(a: int, b: int) -> int:
    """C's %: the remainder takes the sign of the dividend."""
    r = abs(a) % abs(b)
    return -r if a < 0 else r


def mod_values(a: Any, b: Any) -> Any:
    if _plain_number(a) and _plain_number(b):
        if float(b) == 0:
            raise EvaluationError("can't $mod by zero", 16610)
        if type(a) is float or type(b) is float:
            return math.fmod(float(a), float(b))
        return int_result(truncated_remainder(a, b), is_long(a) or is_long(b))
    if type(a) is Decimal128 or type(b) is Decimal128:
        raise no_decimal("$mod")
    if a is None or a is MISSING or b is None or b is MISSING:
        return None
    raise EvaluationError(
        f"$mod only supports numeric types, not {type_name(a)} and {type_name(b)}", 16611
    )


@operator("$mod")
def _mod(args: Any, c: Compiler, scope: Scope) -> Expr:
    left, right = compile_operands("$mod", args, c, scope, 2)
    return lambda doc, frame: mod_values(left(doc, frame), right(doc, frame))


# --- one numeric argument ---------------------------------------------------------------------


def single_numeric(name: str, compute: Callable[[Any], Any]) -> None:
    """Register an operator of one numeric argument: null in, null out; non-numbers refused."""

    @operator(name)
    def compile_single(args: Any, c: Compiler, scope: Scope) -> Expr:
        (item,) = compile_operands(name, args, c, scope, 1)

        def single(doc: dict, frame: list) -> Any:
            value = item(doc, frame)
            t = type(value)
            if t is float or t is int or t is Int64:
                return compute(value)
            if value is None or value is MISSING:
                return None
            if t is Decimal128:
                raise no_decimal(name)
            raise EvaluationError(
                f"{name} only supports numeric types, not {type_name(value)}", 28765
            )

        return single


def _abs(value: Any) -> Any:
    if type(value) is float:
        return abs(value)
    if value == INT64_MIN:
        raise EvaluationError("can't take $abs of long long min", 28680)
    return Int64(abs(value)) if type(value) is Int64 else int_result(abs(value), is_long(value))


def _rounding(function: Callable[[float], int]) -> Callable[[Any], Any]:
    def apply(value: Any) -> Any:
        if type(value) is float and math.isfinite(value):
            return float(function(value))
        return value  # integers, infinities and NaN are unchanged

    return apply


def _exp(value: Any) -> float:
    try:
        return math.exp(value)
    except OverflowError:
        return math.inf


def _positive_log(name: str, code: int, function: Callable[[float], float]) -> Callable:
    def apply(value: Any) -> float:
        x = float(value)
        if math.isnan(x):
            return x
        if x <= 0:
            raise EvaluationError(
                f"{name}'s argument must be a positive number, but is {format_number(x)}", code
            )
        return function(x)

    return apply


def _sqrt(value: Any) -> float:
    x = float(value)
    if x < 0:
        raise EvaluationError("$sqrt's argument must be greater than or equal to 0", 28714)
    return math.sqrt(x) if not math.isnan(x) else x


single_numeric("$abs", _abs)
single_numeric("$ceil", _rounding(math.ceil))
single_numeric("$floor", _rounding(math.floor))
single_numeric("$exp", _exp)
single_numeric("$ln", _positive_log("$ln", 28766, math.log))
single_numeric("$log10", _positive_log("$log10", 28761, math.log10))
single_numeric("$sqrt", _sqrt)


@operator("$log")
def _log(args: Any, c: Compiler, scope: Scope) -> Expr:
    number_fn, base_fn = compile_operands("$log", args, c, scope, 2)

    def log(doc: dict, frame: list) -> Any:
        number = number_fn(doc, frame)
        base = base_fn(doc, frame)
        if number is None or number is MISSING or base is None or base is MISSING:
            return None
        if not _plain_number(number):
            raise _numeric_error("$log's argument must be numeric", number, 28756)
        if not _plain_number(base):
            raise _numeric_error("$log's base must be numeric", base, 28757)
        x, b = float(number), float(base)
        if not (x > 0 or math.isnan(x)):
            raise EvaluationError(
                f"$log's argument must be a positive number, but is {format_number(x)}", 28758
            )
        if not ((b > 0 and b != 1) or math.isnan(b)):
            raise EvaluationError(
                f"$log's base must be a positive number not equal to 1, but is {format_number(b)}",
                28759,
            )
        if math.isnan(x) or math.isnan(b):
            return math.nan
        return math.log(x) / math.log(b)

    return log


def _numeric_error(prefix: str, value: Any, code: int) -> EvaluationError:
    if type(value) is Decimal128:
        return no_decimal(prefix.split("'")[0])
    return EvaluationError(f"{prefix}, not {type_name(value)}", code)


def _float_pow(base: float, exponent: float) -> float:
    try:
        return math.pow(base, exponent)
    except ValueError:
        return math.nan  # a negative base to a fractional power
    except OverflowError:
        odd_integer = exponent == int(exponent) and int(exponent) % 2 == 1
        return -math.inf if base < 0 and odd_integer else math.inf


def pow_values(base: Any, exponent: Any) -> Any:
    if base is None or base is MISSING or exponent is None or exponent is MISSING:
        return None
    if not _plain_number(base):
        raise _numeric_error("$pow's base must be numeric", base, 28762)
    if not _plain_number(exponent):
        raise _numeric_error("$pow's exponent must be numeric", exponent, 28763)
    if float(base) == 0 and float(exponent) < 0:
        raise EvaluationError("$pow cannot take a base of 0 and a negative exponent", 28764)
    if type(base) is float or type(exponent) is float:
        return _float_pow(float(base), float(exponent))
    if base == 0 or base == 1 or exponent == 0:
        result = 1 if exponent == 0 or base == 1 else 0
    elif base == -1:
        result = 1 if exponent % 2 == 0 else -1
    elif exponent < 0 or exponent > 63:
        return _float_pow(float(base), float(exponent))
    else:
        result = base**exponent
        if not INT64_MIN <= result <= INT64_MAX:
            return _float_pow(float(base), float(exponent))
    if is_long(base) or is_long(exponent):
        return Int64(result)
    return int_result(result, False)


@operator("$pow")
def _pow(args: Any, c: Compiler, scope: Scope) -> Expr:
    base_fn, exponent_fn = compile_operands("$pow", args, c, scope, 2)
    return lambda doc, frame: pow_values(base_fn(doc, frame), exponent_fn(doc, frame))


# --- $round and $trunc: decimal rounding of the 34-digit decimal value of a double -------------

_DECIMAL34 = Context(prec=34)
_WIDE = Context(prec=200)


def round_or_trunc(name: str, rounding: str, value: Any, place: Any) -> Any:
    if value is None or value is MISSING:
        return None
    if not _plain_number(value):
        if type(value) is Decimal128:
            raise no_decimal(name)
        raise EvaluationError(f"{name} only supports numeric types, not {type_name(value)}", 51081)
    if place is None or place is MISSING:
        return None
    if not _plain_number(place) or float(place) != int(float(place)):
        raise EvaluationError(f"precision argument to  {name} must be a integral value", 51082)
    digits = int(place)
    if not -20 <= digits <= 100:
        raise EvaluationError(
            f"cannot apply {name} with precision value {digits} value must be in [-20, 100]",
            51083,
        )
    quantum = Decimal(1).scaleb(-digits)
    if type(value) is float:
        if not math.isfinite(value):
            return value
        exact = _DECIMAL34.create_decimal(value)
        return float(exact.quantize(quantum, rounding=rounding, context=_WIDE))
    if digits >= 0:
        return value
    result = int(Decimal(value).quantize(quantum, rounding=rounding, context=_WIDE))
    if type(value) is Int64 or not INT32_MIN <= result <= INT32_MAX or is_long(value):
        return Int64(result)
    return result


def _register_rounding(name: str, rounding: str) -> None:
    @operator(name)
    def compile_rounding(args: Any, c: Compiler, scope: Scope) -> Expr:
        items = compile_operands(name, args, c, scope, 1, 2)
        value_fn = items[0]
        place_fn = items[1] if len(items) == 2 else None

        def rounding_fn(doc: dict, frame: list) -> Any:
            place = place_fn(doc, frame) if place_fn is not None else 0
            return round_or_trunc(name, rounding, value_fn(doc, frame), place)

        return rounding_fn


_register_rounding("$round", ROUND_HALF_EVEN)
_register_rounding("$trunc", ROUND_DOWN)
