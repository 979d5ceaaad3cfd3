"""Array expression operators, including $filter/$map/$reduce and $sum/$avg/$min/$max."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bson import Int64

from ..errors import EvaluationError
from ..reducers import avg_of, max_of, min_of, sum_of
from ..values import MISSING, equal, format_number, truthy, type_name
from .core import (
    Compiler,
    Expr,
    Scope,
    compile_operands,
    constant_value,
    is_constant,
    object_arguments,
    operator,
)


def _is_integral(value: Any) -> bool:
    t = type(value)
    if t is int or t is Int64:
        return True
    return t is float and value.is_integer()


def _is_numeric(value: Any) -> bool:
    t = type(value)
    return t is float or t is int or t is Int64


# --- $filter, $map, $reduce -------------------------------------------------------------------


@operator("$filter")
def _filter(args: Any, c: Compiler, scope: Scope) -> Expr:
    object_arguments("$filter", args, ("input", "cond"), ("as", "limit"))
    input_fn = c.compile(args["input"], scope)
    limit_fn = c.compile(args["limit"], scope) if "limit" in args else None
    slot = c.bind_variable(args.get("as", "this"), "$filter")
    cond_fn = c.compile(args["cond"], scope.bind({args.get("as", "this"): slot}))

    def filter_array(doc: dict, frame: list) -> Any:
        array = input_fn(doc, frame)
        if array is None or array is MISSING:
            return None
        if not isinstance(array, list):
            raise EvaluationError(
                f"input to $filter must be an array not {type_name(array)}", 28651
            )
        limit = _filter_limit(limit_fn(doc, frame)) if limit_fn is not None else None
        kept = []
        for element in array:
            frame[slot] = element
            if truthy(cond_fn(doc, frame)):
                kept.append(element)
                if limit is not None and len(kept) >= limit:
                    break
        return kept

    return filter_array


def _filter_limit(value: Any) -> int | None:
    if value is None or value is MISSING:
        return None
    if not _is_numeric(value) or not _is_integral(value):
        raise EvaluationError(
            "$filter: limit must be represented as a 32-bit integral value: "
            f"{format_number(value) if _is_numeric(value) else type_name(value)}",
            327391,
        )
    if value < 1:
        raise EvaluationError(f"$filter: limit must be greater than 0: {int(value)}", 327392)
    return int(value)


@operator("$map")
def _map(args: Any, c: Compiler, scope: Scope) -> Expr:
    object_arguments("$map", args, ("input", "in"), ("as",))
    input_fn = c.compile(args["input"], scope)
    slot = c.bind_variable(args.get("as", "this"), "$map")
    in_fn = c.compile(args["in"], scope.bind({args.get("as", "this"): slot}))

    def map_array(doc: dict, frame: list) -> Any:
        array = input_fn(doc, frame)
        if array is None or array is MISSING:
            return None
        if not isinstance(array, list):
            raise EvaluationError(f"input to $map must be an array not {type_name(array)}", 16883)
        out = []
        for element in array:
            frame[slot] = element
            value = in_fn(doc, frame)
            out.append(None if value is MISSING else value)
        return out

    return map_array


@operator("$reduce")
def _reduce(args: Any, c: Compiler, scope: Scope) -> Expr:
    object_arguments("$reduce", args, ("input", "initialValue", "in"))
    input_fn = c.compile(args["input"], scope)
    initial_fn = c.compile(args["initialValue"], scope)
    this_slot = c.new_slot()
    value_slot = c.new_slot()
    in_fn = c.compile(args["in"], scope.bind({"this": this_slot, "value": value_slot}))

    def reduce_array(doc: dict, frame: list) -> Any:
        array = input_fn(doc, frame)
        if array is None or array is MISSING:
            return None
        if not isinstance(array, list):
            raise EvaluationError(
                f"$reduce requires an array as the 'input', found: {type_name(array)}", 40080
            )
        accumulated = initial_fn(doc, frame)
        for element in array:
            frame[this_slot] = element
            frame[value_slot] = accumulated
            accumulated = in_fn(doc, frame)
        return accumulated

    return reduce_array


# --- size and element access ------------------------------------------------------------------


@operator("$size")
def _size(args: Any, c: Compiler, scope: Scope) -> Expr:
    (array_fn,) = compile_operands("$size", args, c, scope, 1)

    def size(doc: dict, frame: list) -> int:
        array = array_fn(doc, frame)
        if not isinstance(array, list):
            raise EvaluationError(
                f"The argument to $size must be an array, but was of type: {type_name(array)}",
                17124,
            )
        return len(array)

    return size


def element_at(name: str, array: Any, index: Any, first_argument: str) -> Any:
    if array is None or array is MISSING or index is None or index is MISSING:
        return None
    if not isinstance(array, list):
        raise EvaluationError(
            f"{name}'s {first_argument} must be an array, but is {type_name(array)}", 28689
        )
    if not _is_numeric(index):
        raise EvaluationError(
            f"{name}'s second argument must be a numeric value, but is {type_name(index)}",
            28690,
        )
    if not _is_integral(index):
        raise EvaluationError(
            f"{name}'s second argument must be representable as a 32-bit integer: "
            f"{format_number(float(index))}",
            28691,
        )
    i = int(index)
    if i < 0:
        i += len(array)
        if i < 0:
            return MISSING
    return array[i] if i < len(array) else MISSING


@operator("$arrayElemAt")
def _array_elem_at(args: Any, c: Compiler, scope: Scope) -> Expr:
    array_fn, index_fn = compile_operands("$arrayElemAt", args, c, scope, 2)
    return lambda doc, frame: element_at(
        "$arrayElemAt", array_fn(doc, frame), index_fn(doc, frame), "first argument"
    )


def _register_end_element(name: str, index: int) -> None:
    @operator(name)
    def compile_end(args: Any, c: Compiler, scope: Scope) -> Expr:
        (array_fn,) = compile_operands(name, args, c, scope, 1)
        return lambda doc, frame: element_at(name, array_fn(doc, frame), index, "argument")


_register_end_element("$first", 0)
_register_end_element("$last", -1)


@operator("$slice")
def _slice(args: Any, c: Compiler, scope: Scope) -> Expr:
    items = compile_operands("$slice", args, c, scope, 2, 3)

    def slice_array(doc: dict, frame: list) -> Any:
        array = items[0](doc, frame)
        second = items[1](doc, frame)
        if array is None or array is MISSING or second is None or second is MISSING:
            return None
        if not isinstance(array, list):
            raise EvaluationError(
                f"First argument to $slice must be an array, but is of type: {type_name(array)}",
                28724,
            )
        if not _is_numeric(second):
            raise EvaluationError(
                "Second argument to $slice must be a numeric value, but is of type: "
                f"{type_name(second)}",
                28725,
            )
        if not _is_integral(second):
            raise EvaluationError(
                "Second argument to $slice can't be represented as a 32-bit integer: "
                f"{format_number(float(second))}",
                28726,
            )
        length = len(array)
        if len(items) == 2:
            count = int(second)
            return array[:count] if count >= 0 else array[max(0, length + count) :]
        position = int(second)
        start = max(0, length + position) if position < 0 else min(length, position)
        count_value = items[2](doc, frame)
        if count_value is None or count_value is MISSING:
            return None
        if not _is_numeric(count_value):
            raise EvaluationError(
                "Third argument to $slice must be numeric, but is of type: "
                f"{type_name(count_value)}",
                28727,
            )
        if not _is_integral(count_value):
            raise EvaluationError(
                "Third argument to $slice can't be represented as a 32-bit integer: "
                f"{format_number(float(count_value))}",
                28728,
            )
        if count_value <= 0:
            raise EvaluationError(
                f"Third argument to $slice must be positive: {int(count_value)}", 28729
            )
        return array[start : start + int(count_value)]

    return slice_array


# --- membership and search --------------------------------------------------------------------


def _hashable_members(values: list) -> frozenset | None:
    """The members as a set when plain numbers and strings only (set lookup agrees with MongoDB
    equality there: 1 == 1.0, and no bool or NaN to confuse it); else None."""
    for value in values:
        t = type(value)
        if not (t is str or t is int or t is Int64 or (t is float and value == value)):
            return None
    return frozenset(values)


@operator("$in")
def _in(args: Any, c: Compiler, scope: Scope) -> Expr:
    needle_fn, array_fn = compile_operands("$in", args, c, scope, 2)
    if is_constant(array_fn) and isinstance(constant_value(array_fn), list):
        members = _hashable_members(constant_value(array_fn))
        if members is not None:

            def in_set(doc: dict, frame: list) -> bool:
                needle = needle_fn(doc, frame)
                t = type(needle)
                if t is str or t is int or t is float or t is Int64:
                    return needle in members
                return False  # the set holds only numbers and strings

            return in_set

    def in_array(doc: dict, frame: list) -> bool:
        needle = needle_fn(doc, frame)
        array = array_fn(doc, frame)
        if not isinstance(array, list):
            raise EvaluationError(
                f"$in requires an array as a second argument, found: {type_name(array)}", 40081
            )
        return any(equal(needle, element) for element in array)

    return in_array


@operator("$concatArrays")
def _concat_arrays(args: Any, c: Compiler, scope: Scope) -> Expr:
    items = compile_operands("$concatArrays", args, c, scope, 0, None)

    def concat(doc: dict, frame: list) -> Any:
        out: list = []
        for fn in items:
            array = fn(doc, frame)
            if array is None or array is MISSING:
                return None
            if not isinstance(array, list):
                raise EvaluationError(
                    f"$concatArrays only supports arrays, not {type_name(array)}", 28664
                )
            out.extend(array)
        return out

    return concat


def _index_bound(value: Any, which: str) -> int:
    if not _is_integral(value):
        shown = format_number(value) if _is_numeric(value) else type_name(value)
        raise EvaluationError(
            f"$indexOfArray requires an integral {which}, found a value of type: "
            f"{type_name(value)}, with value: {shown}",
            9711600,
        )
    if value < 0:
        raise EvaluationError(
            f"$indexOfArray requires a nonnegative {which}, found: {int(value)}", 9711601
        )
    return int(value)


@operator("$indexOfArray")
def _index_of_array(args: Any, c: Compiler, scope: Scope) -> Expr:
    items = compile_operands("$indexOfArray", args, c, scope, 2, 4)

    def index_of(doc: dict, frame: list) -> Any:
        array = items[0](doc, frame)
        if array is None or array is MISSING:
            return None
        if not isinstance(array, list):
            raise EvaluationError(
                f"$indexOfArray requires an array as a first argument, found: {type_name(array)}",
                40090,
            )
        start = _index_bound(items[2](doc, frame), "starting index") if len(items) > 2 else 0
        end = len(array)
        if len(items) > 3:
            end = min(end, _index_bound(items[3](doc, frame), "ending index"))
        needle = items[1](doc, frame)
        for i in range(start, end):
            if equal(array[i], needle):
                return i
        return -1

    return index_of


@operator("$isArray")
def _is_array(args: Any, c: Compiler, scope: Scope) -> Expr:
    (item,) = compile_operands("$isArray", args, c, scope, 1)
    return lambda doc, frame: isinstance(item(doc, frame), list)


# --- $sum, $avg, $min, $max as expressions ----------------------------------------------------


def _register_reducer(name: str, reduce: Callable[[list], Any]) -> None:
    @operator(name)
    def compile_reducer(args: Any, c: Compiler, scope: Scope) -> Expr:
        items = compile_operands(name, args, c, scope, 0, None)
        if len(items) == 1:
            (item,) = items

            def over_one(doc: dict, frame: list) -> Any:
                # One operand: an array is reduced over its elements.
                value = item(doc, frame)
                return reduce(value if isinstance(value, list) else [value])

            return over_one
        # Several operands: reduced over their values; an array is just a non-numeric value.
        return lambda doc, frame: reduce([fn(doc, frame) for fn in items])


_register_reducer("$sum", sum_of)
_register_reducer("$avg", avg_of)
_register_reducer("$min", min_of)
_register_reducer("$max", max_of)
