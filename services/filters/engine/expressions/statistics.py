"""$firstN $lastN $maxN $minN (array form), $mergeObjects, $stdDevPop, $stdDevSamp, $median and
$percentile as expressions, and the argument parsing they share with the $group accumulators of
the same names (engine/accumulators.py)."""

from __future__ import annotations

import bisect
import math
from functools import cmp_to_key
from typing import Any

from bson import Int64

from ..errors import EvaluationError, PipelineError
from ..reducers import as_double, percentiles_of, std_dev_of
from ..values import MISSING, compare, format_number, type_name
from .core import (
    Compiler,
    Expr,
    Scope,
    constant_value,
    is_constant,
    object_arguments,
    operator,
    reduction_operator,
)


def show_value(value: Any) -> str:
    """A value roughly as MongoDB prints it inside an error message."""
    if value is MISSING:
        return "missing"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if type(value) in (int, float, Int64):
        return format_number(value)
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, list):
        return "[" + ", ".join(show_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {show_value(v)}" for k, v in value.items()) + "}"
    return repr(value)


def check_specification(
    name: str,
    spec: Any,
    required: tuple[str, ...],
    unknown: str,
    missing: str = "{name}: Missing value for '{key}'",
) -> dict:
    """An accumulator's object of named arguments ($firstN, $topN, $median ...) with MongoDB's
    wording: `unknown` and `missing` are formats of {name} and {key}."""
    if not isinstance(spec, dict):
        raise PipelineError(f"{name}: specification must be an object; found {show_value(spec)}")
    return object_arguments(name, spec, required, (), ("", unknown, missing))


# --- n and input: $firstN $lastN $maxN $minN (accumulators and expressions) -------------------


def parse_n_input(name: str, spec: Any) -> tuple[Any, Any]:
    """The (n, input) specifications of {n: ..., input: ...}, checked as MongoDB checks them."""
    check_specification(name, spec, ("n", "input"), "Unknown argument for 'n' operator: {key}")
    return spec["n"], spec["input"]


def validate_n(value: Any) -> int:
    """'n' must evaluate to a positive integral number (AccumulatorN::validateN)."""
    t = type(value)
    if not (t is int or t is float or t is Int64):
        raise EvaluationError(
            f"Value for 'n' must be of integral type, but found {show_value(value)}", 5787902
        )
    if t is float and (math.isnan(value) or math.isinf(value) or not value.is_integer()):
        raise EvaluationError(
            f"Value for 'n' must be of integral type, but found {show_value(value)}", 5787903
        )
    n = int(value)
    if n <= 0:
        raise EvaluationError(f"'n' must be greater than 0, found {n}", 5787908)
    return n


def first_n(values: list, n: int) -> list:
    return [None if v is MISSING else v for v in values[:n]]


def last_n(values: list, n: int) -> list:
    return [None if v is MISSING else v for v in values[-n:]]


_ORDER = cmp_to_key(compare)


class ExtremeN:
    """$minN / $maxN: null and missing skipped; kept ascending, an equal value never displaces
    one already kept; $maxN reports them largest first (AccumulatorMinMaxN)."""

    __slots__ = ("kept", "largest", "n")

    def __init__(self, n: int, largest: bool) -> None:
        self.n = n
        self.largest = largest
        self.kept: list = []  # (sort key, value), ascending, equal values in arrival order

    def add(self, value: Any) -> None:
        if value is None or value is MISSING:
            return
        kept = self.kept
        if len(kept) == self.n:
            if self.largest:
                if compare(value, kept[0][1]) <= 0:
                    return
                del kept[0]
            else:
                if compare(kept[-1][1], value) <= 0:
                    return
                kept.pop()
        bisect.insort_right(kept, (_ORDER(value), value), key=_sort_key)

    def result(self) -> list:
        values = [value for _, value in self.kept]
        return values[::-1] if self.largest else values


def _sort_key(entry: tuple) -> Any:
    return entry[0]


def extreme_n(values: list, n: int, largest: bool) -> list:
    state = ExtremeN(n, largest)
    for value in values:
        state.add(value)
    return state.result()


def _register_n_expression(name: str, select: Any) -> None:
    @operator(name)
    def compile_n(args: Any, c: Compiler, scope: Scope) -> Expr:
        n_spec, input_spec = parse_n_input(name, args)
        n_fn = c.compile(n_spec, scope)
        input_fn = c.compile(input_spec, scope)

        def n_of(doc: dict, frame: list) -> list:
            # 'n' is checked before the input, as MongoDB starts the accumulator first.
            n = validate_n(n_fn(doc, frame))
            array = input_fn(doc, frame)
            if not isinstance(array, list):
                raise EvaluationError("Input must be an array", 5788200)
            return select(array, n)

        return n_of


_register_n_expression("$firstN", first_n)
_register_n_expression("$lastN", last_n)
_register_n_expression("$maxN", lambda values, n: extreme_n(values, n, True))
_register_n_expression("$minN", lambda values, n: extreme_n(values, n, False))


# --- sortBy of $top $bottom $topN $bottomN ------------------------------------------------------


def check_sort_pattern(name: str, spec: Any) -> list[tuple[str, int]]:
    """sortBy's (path, direction) pairs, with $sort's rules."""
    if not isinstance(spec, dict):
        raise PipelineError(f"{name}: 'sortBy' must be an object, found {type_name(spec)}")
    if not spec:
        raise PipelineError(f"{name}: 'sortBy' must have at least one sort key")
    keys = []
    for path, direction in spec.items():
        if isinstance(direction, dict):
            raise PipelineError(f"{name}: sorting by {{$meta: ...}} is not supported")
        if type(direction) not in (int, float, Int64) or direction not in (1, -1):
            raise PipelineError(
                f"{name}: $sort key ordering must be 1 (for ascending) or -1 (for descending)"
            )
        keys.append((path, int(direction)))
    return keys


def sort_key_part(value: Any, direction: int) -> Any:
    """The value a sort compares for one key: missing as null, an array by its smallest
    (ascending) or largest (descending) element, [] below null (as $sort does)."""
    if value is MISSING:
        return None
    if isinstance(value, list):
        if not value:
            return MISSING
        best = value[0]
        for element in value[1:]:
            if compare(element, best) * direction < 0:
                best = element
        return best
    return value


# --- $median and $percentile ------------------------------------------------------------------


def parse_quantile(name: str, spec: Any) -> tuple[Any, list[float] | None]:
    """(input spec, ps) of {input, p, method}; ps is None for $median. Checked like MongoDB's IDL
    parser: unknown and missing fields, method 'approximate', p an array of constant numbers in
    [0, 1]."""
    fields = ("input", "p", "method") if name == "$percentile" else ("input", "method")
    unknown = "BSON field '{name}.{key}' is an unknown field."
    missing = "BSON field '{name}.{key}' is missing but a required field"
    check_specification(name, spec, fields, unknown, missing)
    method = spec["method"]
    if not isinstance(method, str):
        raise PipelineError(
            f"BSON field '{name}.method' is the wrong type '{type_name(method)}', expected type "
            "'string'"
        )
    if method != "approximate":
        raise PipelineError("Currently only 'approximate' can be used as percentile 'method'.")
    if name != "$percentile":
        return spec["input"], None
    return spec["input"], _parse_p(spec["p"])


_P_MESSAGE = "The $percentile 'p' field must be an array of numbers from [0.0, 1.0], but found: "


def _parse_p(spec: Any) -> list[float]:
    compiler = Compiler()

    def constant_of(item: Any) -> Any:
        fn = compiler.compile(item, Scope())
        if not is_constant(fn):
            raise PipelineError(
                "The $percentile 'p' field must be an array of constant values, but found value: "
                f"{show_value(spec)}."
            )
        return constant_value(fn)

    if isinstance(spec, list):
        items = [constant_of(item) for item in spec]
    else:
        items = constant_of(spec)
        if not isinstance(items, list):
            raise PipelineError(_P_MESSAGE + show_value(items))
    if not items:
        raise PipelineError(_P_MESSAGE + "[]")
    ps = []
    for item in items:
        p = as_double(item)
        if p is None or isinstance(item, bool):
            raise PipelineError(_P_MESSAGE + show_value(item))
        if not 0.0 <= p <= 1.0:  # NaN fails too
            raise PipelineError(_P_MESSAGE + format_number(p))
        ps.append(p)
    return ps


def quantile_values(values: list) -> list[float]:
    """The doubles a quantile is computed over: numbers only, NaN left out."""
    out = []
    for value in values:
        x = as_double(value)
        if x is not None and x == x:
            out.append(x)
    return out


def _register_quantile(name: str) -> None:
    @operator(name)
    def compile_quantile(args: Any, c: Compiler, scope: Scope) -> Expr:
        input_spec, ps = parse_quantile(name, args)
        input_fn = c.compile(input_spec, scope)
        wanted = ps if ps is not None else [0.5]
        median = ps is None

        def quantile(doc: dict, frame: list) -> Any:
            value = input_fn(doc, frame)
            scalar = as_double(value)
            if scalar is not None:
                # On one number every percentile is that number (NaN included).
                found: list | None = [scalar] * len(wanted)
            elif isinstance(value, list):
                found = percentiles_of(quantile_values(value), wanted)
            else:
                found = None
            if median:
                return None if found is None else found[0]
            return [None] * len(wanted) if found is None else found

        return quantile


_register_quantile("$median")
_register_quantile("$percentile")


# --- $stdDevPop, $stdDevSamp and $mergeObjects: one array operand, or a list of operands ------


reduction_operator("$stdDevPop", lambda values: std_dev_of(values, False))
reduction_operator("$stdDevSamp", lambda values: std_dev_of(values, True))


def merge_into(out: dict, value: Any) -> None:
    """$mergeObjects' step: null and missing are skipped, a document's fields overwrite (missing
    values aside), anything else is an error."""
    if value is None or value is MISSING:
        return
    if not isinstance(value, dict):
        raise EvaluationError(
            f"$mergeObjects requires object inputs, but input {show_value(value)} is of type "
            f"{type_name(value)}",
            40400,
        )
    for key, item in value.items():
        if item is not MISSING:
            out[key] = item


def _merge_objects(values: list) -> dict:
    out: dict = {}
    for value in values:
        merge_into(out, value)
    return out


reduction_operator("$mergeObjects", _merge_objects)
