"""Aggregation expressions: importing the operator modules registers them in OPERATORS."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import (
    arithmetic,
    arrays,
    bitwise,
    conversion,
    dates,
    logic,
    misc,
    objects,
    sets,
    statistics,
    strings,
    trigonometry,
    variables,
)
from .core import (
    FORBIDDEN_EXPRESSION_OPERATORS,
    OPERATORS,
    ROOT_SCOPE,
    Compiler,
    Expr,
    Scope,
)

del (
    arithmetic,
    arrays,
    bitwise,
    conversion,
    logic,
    misc,
    objects,
    sets,
    statistics,
    strings,
    trigonometry,
    variables,
)

SUPPORTED_EXPRESSION_OPERATORS = frozenset(OPERATORS)


def compile_expression(spec: Any) -> Callable[[dict], Any]:
    """Compile one aggregation expression into `document -> value` (MISSING for "no value")."""
    compiler = Compiler()
    fn = compiler.compile(spec, ROOT_SCOPE)
    slots = compiler.slot_count

    def evaluate(doc: dict) -> Any:
        return fn(doc, [None] * slots)

    # $$NOW holds one clock reading for the whole evaluation.
    return dates.with_now(evaluate) if dates.mentions_now(spec) else evaluate


__all__ = [
    "FORBIDDEN_EXPRESSION_OPERATORS",
    "OPERATORS",
    "ROOT_SCOPE",
    "SUPPORTED_EXPRESSION_OPERATORS",
    "Compiler",
    "Expr",
    "Scope",
    "compile_expression",
]
