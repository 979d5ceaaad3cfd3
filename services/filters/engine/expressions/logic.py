"""Comparison, boolean and conditional expression operators."""

from __future__ import annotations

import operator as op
from collections.abc import Callable
from typing import Any

from ..errors import EvaluationError, PipelineError
from ..values import MISSING, compare, truthy
from .core import Compiler, Expr, Scope, compile_operands, object_arguments, operator

# --- comparison: the full BSON order, where missing sorts below null ---------------------------


def _register_comparison(name: str, fast: Callable[[Any, Any], bool], test: Callable) -> None:
    @operator(name)
    def compile_comparison(args: Any, c: Compiler, scope: Scope) -> Expr:
        left, right = compile_operands(name, args, c, scope, 2)

        def comparison(doc: dict, frame: list) -> bool:
            a = left(doc, frame)
            b = right(doc, frame)
            ta, tb = type(a), type(b)
            # Plain numbers (no NaN) compare natively; everything else by the BSON order.
            if (ta is float or ta is int) and (tb is float or tb is int) and a == a and b == b:
                return fast(a, b)
            return test(compare(a, b))

        return comparison


_register_comparison("$eq", op.eq, lambda c: c == 0)
_register_comparison("$ne", op.ne, lambda c: c != 0)
_register_comparison("$gt", op.gt, lambda c: c > 0)
_register_comparison("$gte", op.ge, lambda c: c >= 0)
_register_comparison("$lt", op.lt, lambda c: c < 0)
_register_comparison("$lte", op.le, lambda c: c <= 0)


@operator("$cmp")
def _cmp(args: Any, c: Compiler, scope: Scope) -> Expr:
    left, right = compile_operands("$cmp", args, c, scope, 2)
    return lambda doc, frame: compare(left(doc, frame), right(doc, frame))


# --- boolean ----------------------------------------------------------------------------------


@operator("$and")
def _and(args: Any, c: Compiler, scope: Scope) -> Expr:
    items = compile_operands("$and", args, c, scope, 0, None)

    def all_true(doc: dict, frame: list) -> bool:
        for fn in items:
            if not truthy(fn(doc, frame)):
                return False
        return True

    return all_true


@operator("$or")
def _or(args: Any, c: Compiler, scope: Scope) -> Expr:
    items = compile_operands("$or", args, c, scope, 0, None)

    def any_true(doc: dict, frame: list) -> bool:
        for fn in items:
            if truthy(fn(doc, frame)):
                return True
        return False

    return any_true


@operator("$not")
def _not(args: Any, c: Compiler, scope: Scope) -> Expr:
    (item,) = compile_operands("$not", args, c, scope, 1)
    return lambda doc, frame: not truthy(item(doc, frame))


# --- conditional ------------------------------------------------------------------------------


@operator("$cond")
def _cond(args: Any, c: Compiler, scope: Scope) -> Expr:
    if isinstance(args, dict):
        object_arguments("$cond", args, ("if", "then", "else"))
        parts = [args["if"], args["then"], args["else"]]
    else:
        parts = args
    if_fn, then_fn, else_fn = compile_operands("$cond", parts, c, scope, 3)

    def cond(doc: dict, frame: list) -> Any:
        return then_fn(doc, frame) if truthy(if_fn(doc, frame)) else else_fn(doc, frame)

    return cond


@operator("$ifNull")
def _if_null(args: Any, c: Compiler, scope: Scope) -> Expr:
    if not isinstance(args, list) or len(args) < 2:
        count = len(args) if isinstance(args, list) else 1
        raise PipelineError(f"$ifNull needs at least two arguments, had: {count}")
    *candidates, replacement = [c.compile(item, scope) for item in args]

    def if_null(doc: dict, frame: list) -> Any:
        for fn in candidates:
            value = fn(doc, frame)
            if value is not None and value is not MISSING:
                return value
        return replacement(doc, frame)

    return if_null


@operator("$switch")
def _switch(args: Any, c: Compiler, scope: Scope) -> Expr:
    object_arguments("$switch", args, ("branches",), ("default",))
    branches_spec = args["branches"]
    if not isinstance(branches_spec, list):
        raise PipelineError("$switch expected an array for 'branches'")
    if not branches_spec:
        raise PipelineError("$switch requires at least one branch")
    branches = []
    for branch in branches_spec:
        if not isinstance(branch, dict):
            raise PipelineError("$switch expected each branch to be an object")
        for key in branch:
            if key not in ("case", "then"):
                raise PipelineError(f"$switch found an unknown argument to a branch: {key}")
        if "case" not in branch:
            raise PipelineError("$switch requires each branch have a 'case' expression")
        if "then" not in branch:
            raise PipelineError("$switch requires each branch have a 'then' expression")
        branches.append((c.compile(branch["case"], scope), c.compile(branch["then"], scope)))
    default = c.compile(args["default"], scope) if "default" in args else None

    def switch(doc: dict, frame: list) -> Any:
        for case_fn, then_fn in branches:
            if truthy(case_fn(doc, frame)):
                return then_fn(doc, frame)
        if default is None:
            raise EvaluationError(
                "$switch could not find a matching branch for an input, and no default was "
                "specified.",
                40066,
            )
        return default(doc, frame)

    return switch
