"""Set expression operators: arrays taken as sets under MongoDB's equality (1 == 1.0 == Int64(1),
nested arrays compared whole).

MongoDB 7.0's classic engine keeps $setUnion and $setIntersection results in an ordered set, so
they come out sorted in the BSON order (the manual calls the order unspecified); an element equal
to one already taken is dropped, so the first one seen stays. $setDifference keeps the order of
its first array.
"""

from __future__ import annotations

from functools import cmp_to_key
from typing import Any

from ..errors import EvaluationError, PipelineError
from ..values import MISSING, compare, group_key, type_name
from .core import (
    Compiler,
    Expr,
    Scope,
    all_operands_operator,
    compile_operands,
    compile_time,
    constant_value,
    fold_constant,
    is_constant,
    operator,
)

_SORTED = cmp_to_key(compare)


def _as_set(array: list) -> dict:
    """The distinct elements of an array, by MongoDB equality, the first of each kept."""
    members: dict = {}
    for element in array:
        members.setdefault(group_key(element), element)
    return members


def _sorted(members: dict) -> list:
    return sorted(members.values(), key=_SORTED)


@all_operands_operator(
    "$setUnion",
    list,
    "All operands of $setUnion must be arrays. One argument is of type: ",
    17043,
    fold=True,
)
def _set_union(arrays: list[list]) -> list:
    members: dict = {}
    for array in arrays:
        for element in array:
            members.setdefault(group_key(element), element)
    return _sorted(members)


@all_operands_operator(
    "$setIntersection",
    list,
    "All operands of $setIntersection must be arrays. One argument is of type: ",
    17047,
    fold=True,
)
def _set_intersection(arrays: list[list]) -> list:
    if not arrays:
        return []
    common = _as_set(arrays[0])
    for array in arrays[1:]:
        if not common:
            break
        other = _as_set(array)
        if len(common) > len(other):
            # MongoDB walks the smaller set, so its elements are the ones kept.
            common, other = other, common
        common = {key: value for key, value in common.items() if key in other}
    return _sorted(common)


@operator("$setDifference")
def _set_difference(args: Any, c: Compiler, scope: Scope) -> Expr:
    items = compile_operands("$setDifference", args, c, scope, 2)
    first_fn, second_fn = items

    def difference(doc: dict, frame: list) -> Any:
        first = first_fn(doc, frame)
        second = second_fn(doc, frame)
        if first is None or first is MISSING or second is None or second is MISSING:
            return None
        if not isinstance(first, list):
            raise EvaluationError(
                "both operands of $setDifference must be arrays. First argument is of type: "
                f"{type_name(first)}",
                17048,
            )
        if not isinstance(second, list):
            raise EvaluationError(
                "both operands of $setDifference must be arrays. Second argument is of type: "
                f"{type_name(second)}",
                17049,
            )
        seen = {group_key(element) for element in second}
        out = []
        for element in first:
            key = group_key(element)
            if key not in seen:
                seen.add(key)
                out.append(element)
        return out

    return fold_constant(difference, items)


def _set_equals_operand(value: Any, position: int) -> frozenset:
    if not isinstance(value, list):
        # No null rule: null and missing are refused like any other non-array.
        raise EvaluationError(
            f"All operands of $setEquals must be arrays. {position}-th argument is of type: "
            f"{type_name(value)}",
            17044,
        )
    return frozenset(group_key(element) for element in value)


@operator("$setEquals")
def _set_equals(args: Any, c: Compiler, scope: Scope) -> Expr:
    items = compile_operands("$setEquals", args, c, scope, 0, None)
    if len(items) < 2:
        raise PipelineError(f"$setEquals needs at least two arguments had: {len(items)}")
    # A constant operand becomes a set once (MongoDB's optimize() does the same, and refuses
    # a constant that is not an array before any document).
    fixed: list[frozenset | None] = []
    for position, fn in enumerate(items, 1):
        if is_constant(fn):
            fixed.append(compile_time(_set_equals_operand, constant_value(fn), position))
        else:
            fixed.append(None)

    def set_equals(doc: dict, frame: list) -> bool:
        sets = [
            known if known is not None else _set_equals_operand(fn(doc, frame), position)
            for position, (fn, known) in enumerate(zip(items, fixed, strict=True), 1)
        ]
        return all(other == sets[0] for other in sets[1:])

    return fold_constant(set_equals, items)


def _subset_operand(value: Any, which: str, code: int) -> Any:
    if not isinstance(value, list):
        raise EvaluationError(
            f"both operands of $setIsSubset must be arrays. {which} argument is of type: "
            f"{type_name(value)}",
            code,
        )
    return value


@operator("$setIsSubset")
def _set_is_subset(args: Any, c: Compiler, scope: Scope) -> Expr:
    first_fn, second_fn = compile_operands("$setIsSubset", args, c, scope, 2)
    if is_constant(second_fn) and not is_constant(first_fn):
        # A constant superset is hashed once; a constant non-array is refused up front.
        superset = compile_time(_subset_operand, constant_value(second_fn), "Second", 17311)
        keys = frozenset(group_key(element) for element in superset)

        def is_subset_of_constant(doc: dict, frame: list) -> bool:
            first = _subset_operand(first_fn(doc, frame), "First", 17310)
            return all(group_key(element) in keys for element in first)

        return is_subset_of_constant

    def is_subset(doc: dict, frame: list) -> bool:
        first = _subset_operand(first_fn(doc, frame), "First", 17046)
        second = _subset_operand(second_fn(doc, frame), "Second", 17042)
        keys = {group_key(element) for element in second}
        return all(group_key(element) in keys for element in first)

    return fold_constant(is_subset, [first_fn, second_fn])
