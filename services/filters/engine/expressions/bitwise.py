"""Bitwise expression operators: $bitAnd, $bitOr, $bitXor, $bitNot (MongoDB 6.3+).

They take int and long operands only. An int result stays an int; once a long takes part the
result is a long (the ints sign-extended), which Python's unbounded two's-complement integers
give for free.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bson import Decimal128, Int64

from ..errors import EvaluationError
from ..values import INT32_MAX, INT32_MIN, MISSING, type_name
from .core import Compiler, Expr, Scope, compile_operands, operator

TYPE_MISMATCH = 14


def _register_fold(name: str, identity: int, combine: Callable[[int, int], int]) -> None:
    @operator(name)
    def compile_fold(args: Any, c: Compiler, scope: Scope) -> Expr:
        items = compile_operands(name, args, c, scope, 0, None)

        def fold(doc: dict, frame: list) -> Any:
            result = identity
            long_seen = False
            # Operands are taken in order: a null one ends with null, a bad one with an error.
            for fn in items:
                value = fn(doc, frame)
                t = type(value)
                if t is int:
                    long_seen = long_seen or not INT32_MIN <= value <= INT32_MAX
                elif t is Int64:
                    long_seen = True
                elif value is None or value is MISSING:
                    return None
                else:
                    raise EvaluationError(
                        f"{name} only supports int and long operands.", TYPE_MISMATCH
                    )
                result = combine(result, value)
            return Int64(result) if long_seen else result

        return fold


_register_fold("$bitAnd", -1, lambda a, b: a & b)
_register_fold("$bitOr", 0, lambda a, b: a | b)
_register_fold("$bitXor", 0, lambda a, b: a ^ b)


@operator("$bitNot")
def _bit_not(args: Any, c: Compiler, scope: Scope) -> Expr:
    (item,) = compile_operands("$bitNot", args, c, scope, 1)

    def bit_not(doc: dict, frame: list) -> Any:
        value = item(doc, frame)
        t = type(value)
        if t is int:
            return ~value if INT32_MIN <= value <= INT32_MAX else Int64(~value)
        if t is Int64:
            return Int64(~value)
        if value is None or value is MISSING:
            return None
        if t is float or t is Decimal128:
            raise EvaluationError(
                f"$bitNot only supports int and long, not: {type_name(value)}.", TYPE_MISMATCH
            )
        raise EvaluationError(f"$bitNot only supports numeric types, not {type_name(value)}", 28765)

    return bit_not
