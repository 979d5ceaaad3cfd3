"""Trigonometric and hyperbolic operators and angle conversions (always double results)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from bson import Decimal128, Int64

from ..errors import EvaluationError
from ..values import MISSING, format_number, type_name
from .arithmetic import no_decimal, single_numeric
from .core import Compiler, Expr, Scope, compile_operands, operator

# MongoDB multiplies by these constants (not math.radians), so results match to the last bit.
_PI_OVER_180 = math.pi / 180.0
_180_OVER_PI = 180.0 / math.pi


def _bounded(name: str, function: Callable[[float], float], low: float, high: float) -> None:
    """sin, cos, tan refuse infinities (an open bound); asin, acos, atanh refuse values outside
    [-1, 1] and acosh values below 1 (closed bounds)."""
    infinite = math.isinf(low)
    bounds = "(-inf,inf)" if infinite else f"[{format_number(low)},{format_number(high)}]"

    def compute(value: Any) -> float:
        x = float(value)
        if math.isnan(x):
            return x
        inside = (low < x < high) if infinite else (low <= x <= high)
        if not inside:
            raise EvaluationError(
                # "value must in" is MongoDB's wording, missing word included.
                f"cannot apply {name} to {format_number(x)}, value must in {bounds}",
                50989,
            )
        return function(x)

    single_numeric(name, compute)


_bounded("$sin", math.sin, -math.inf, math.inf)
_bounded("$cos", math.cos, -math.inf, math.inf)
_bounded("$tan", math.tan, -math.inf, math.inf)
_bounded("$asin", math.asin, -1.0, 1.0)
_bounded("$acos", math.acos, -1.0, 1.0)
single_numeric("$atan", lambda value: math.atan(float(value)))
single_numeric("$degreesToRadians", lambda value: float(value) * _PI_OVER_180)
single_numeric("$radiansToDegrees", lambda value: float(value) * _180_OVER_PI)


def _atanh(x: float) -> float:
    # C's atanh gives the infinities at the bounds, where Python's math.atanh raises.
    return math.copysign(math.inf, x) if abs(x) == 1.0 else math.atanh(x)


def _unbounded(function: Callable[[float], float], sign: bool = True) -> Callable[[Any], float]:
    """sinh, cosh, tanh, asinh: NaN is passed through (as the bounded ones do), and an overflow
    gives the infinity C's functions give where Python's math raises OverflowError."""

    def compute(value: Any) -> float:
        x = float(value)
        if x != x:
            return x
        try:
            return function(x)
        except OverflowError:
            return math.copysign(math.inf, x) if sign else math.inf

    return compute


_bounded("$acosh", math.acosh, 1.0, math.inf)
_bounded("$atanh", _atanh, -1.0, 1.0)
single_numeric("$sinh", _unbounded(math.sinh))
single_numeric("$cosh", _unbounded(math.cosh, sign=False))
single_numeric("$tanh", _unbounded(math.tanh))
single_numeric("$asinh", _unbounded(math.asinh))


@operator("$atan2")
def _atan2(args: Any, c: Compiler, scope: Scope) -> Expr:
    y_fn, x_fn = compile_operands("$atan2", args, c, scope, 2)

    def check(value: Any, code: int) -> bool:
        if value is None or value is MISSING:
            return False
        t = type(value)
        if t is float or t is int or t is Int64:
            return True
        if t is Decimal128:
            raise no_decimal("$atan2")
        raise EvaluationError(f"$atan2 only supports numeric types, not {type_name(value)}", code)

    def atan2(doc: dict, frame: list) -> Any:
        y = y_fn(doc, frame)
        if not check(y, 51044):
            return None
        x = x_fn(doc, frame)
        if not check(x, 51045):
            return None
        return math.atan2(float(y), float(x))

    return atan2
