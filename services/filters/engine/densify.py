"""$densify and $fill: stages that add documents or values along a sorted numeric or date axis.

Both run over the whole input (they are not one-to-one), in the order MongoDB desugars them to:
$densify sorts by its partition fields and field (by the field alone for bounds "full"), $fill
with a method sorts by partition then sortBy (as the $setWindowFields it becomes).
"""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
from collections.abc import Callable
from functools import cmp_to_key
from typing import Any

from bson import Int64

from .errors import EvaluationError, PipelineError
from .expressions import ROOT_SCOPE, Compiler
from .expressions.core import object_arguments
from .paths import get_simple, set_simple, split_path
from .values import (
    INT32_MAX,
    INT32_MIN,
    INT64_MAX,
    INT64_MIN,
    MISSING,
    compare,
    date_to_ms,
    group_key,
    type_name,
)

Documents = list[dict]
Runner = Callable[[Documents], Documents]

_UNIT_MS = {
    "millisecond": 1,
    "second": 1000,
    "minute": 60_000,
    "hour": 3_600_000,
    "day": 86_400_000,
    "week": 604_800_000,
}
_UNIT_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def _is_number(value: Any) -> bool:
    t = type(value)
    return t is int or t is float or t is Int64


def _add_numbers(a: Any, b: Any) -> Any:
    """a + b with $add's result types (int, long, double)."""
    if type(a) is float or type(b) is float:
        return float(a) + float(b)
    total = int(a) + int(b)
    if type(a) is not Int64 and type(b) is not Int64 and INT32_MIN <= total <= INT32_MAX:
        return total
    return Int64(total) if INT64_MIN <= total <= INT64_MAX else float(total)


def add_date_units(date: dt.datetime, unit: str, amount: int) -> dt.datetime:
    """$dateAdd in UTC: fixed-length units add milliseconds; months, quarters and years move the
    calendar month and clamp the day to the month's last."""
    ms = _UNIT_MS.get(unit)
    if ms is not None:
        return date + dt.timedelta(milliseconds=amount * ms)
    months = date.month - 1 + amount * _UNIT_MONTHS[unit]
    year, month = date.year + months // 12, months % 12 + 1
    day = min(date.day, calendar.monthrange(year, month)[1])
    return date.replace(year=year, month=month, day=day)


# MongoDB's IDL parser's wording.
_SPEC_MESSAGES = (
    "The {name} stage specification must be an object, found {type}",
    "BSON field '{name}.{key}' is an unknown field.",
    "BSON field '{name}.{key}' is missing but a required field",
)


def _object_spec(
    name: str, spec: Any, required: tuple[str, ...], optional: tuple[str, ...]
) -> dict:
    return object_arguments(name, spec, required, optional, _SPEC_MESSAGES)


def _field_parts(name: str, path: Any, what: str) -> tuple[str, ...]:
    if not isinstance(path, str):
        raise PipelineError(f"{name}: {what} must be a string, found {type_name(path)}")
    if path.startswith("$"):
        raise PipelineError(
            f"{name}: {what} '{path}': FieldPath field names may not start with '$'"
        )
    return split_path(path, f"{name} {what}")


# --- $densify ---------------------------------------------------------------------------------


def compile_densify(spec: Any) -> Runner:
    _object_spec("$densify", spec, ("field", "range"), ("partitionByFields",))
    parts = _field_parts("$densify", spec["field"], "field")
    partition_fields = spec.get("partitionByFields", [])
    if not isinstance(partition_fields, list):
        raise PipelineError("$densify: partitionByFields must be an array of field names")
    partitions = [_field_parts("$densify", f, "partitionByFields") for f in partition_fields]
    range_spec = _object_spec("$densify.range", spec["range"], ("step", "bounds"), ("unit",))
    step = range_spec["step"]
    if not _is_number(step) or not step > 0:
        raise PipelineError(
            "The step parameter in a range statement must be a strictly positive numeric value"
        )
    unit = range_spec.get("unit")
    if unit is not None:
        if type(step) is float and not step.is_integer():
            raise PipelineError(
                "The step parameter in a range statement must be a whole number when densifying "
                "a date range"
            )
        if unit not in _UNIT_MS and unit not in _UNIT_MONTHS:
            raise PipelineError(f"unknown time unit value: {unit}")
    bounds = range_spec["bounds"]
    explicit: tuple[Any, Any] | None = None
    if isinstance(bounds, list):
        explicit = _explicit_bounds(bounds, step, unit)
    elif isinstance(bounds, str):
        if bounds not in ("full", "partition"):
            raise PipelineError("Bounds string must either be 'full' or 'partition'")
        if bounds == "partition" and not partitions:
            raise PipelineError(
                "One cannot specify the bounds as 'partition' without specifying a non-empty "
                "array of partitionByFields. You may have meant to specify 'full' bounds."
            )
    else:
        raise PipelineError(
            "The bounds in a range statement must be the string 'full', 'partition', or an "
            "ascending array of two numbers or two dates"
        )
    full = bounds == "full"
    steps: Callable[[Any], Any] = (
        (lambda v: add_date_units(v, unit, int(step)))
        if unit is not None
        else (lambda v: _add_numbers(v, step))
    )

    def value_of(doc: dict) -> Any:
        value = get_simple(doc, parts)
        if value is None or value is MISSING:
            return MISSING  # passes through untouched
        if _is_number(value):
            if unit is not None:
                raise EvaluationError(
                    "Encountered numeric densify value in collection when step has a date unit.",
                    6053600,
                )
        elif isinstance(value, dt.datetime):
            if unit is None:
                raise EvaluationError(
                    "Encountered date densify value in collection when step does not have a "
                    "date unit.",
                    6053600,
                )
            return value
        else:
            raise EvaluationError("Densify field type must be numeric or a date", 5733201)
        return value

    def densify(docs: Documents) -> Documents:
        passing: Documents = []
        rows: list[tuple[list, Any, dict]] = []  # (partition values, field value, document)
        for doc in docs:
            value = value_of(doc)
            if value is MISSING:
                passing.append(doc)
            else:
                rows.append(([get_simple(doc, p) for p in partitions], value, doc))
        if full:
            rows.sort(key=cmp_to_key(lambda a, b: compare(a[1], b[1])))
        else:
            rows.sort(key=cmp_to_key(_by_partition_then_value))
        # Partitions in the order they first appear, each with its sorted values.
        groups: dict[tuple, tuple[list, list]] = {}
        for key_values, value, doc in rows:
            key = tuple(_key(v) for v in key_values)
            groups.setdefault(key, (key_values, []))[1].append((value, doc))
        low_all = rows[0][1] if rows else None
        high_all = rows[-1][1] if rows else None
        out: Documents = list(passing)
        for key_values, members in groups.values():
            if explicit is not None:
                low, high, inclusive = explicit[0], explicit[1], False
            elif full:
                low, high, inclusive = low_all, high_all, True
            else:
                low, high, inclusive = members[0][0], members[-1][0], True
            present = {_key(value) for value, _ in members}
            generated = []
            value = low
            while compare(value, high) < 0 or (inclusive and compare(value, high) == 0):
                if _key(value) not in present:
                    generated.append(value)
                value = steps(value)
            base: dict = {}
            for path, partition_value in zip(partitions, key_values, strict=True):
                if partition_value is not MISSING:
                    base = set_simple(base, path, partition_value)
            pending = iter(generated)
            upcoming = next(pending, MISSING)
            for value, doc in members:
                while upcoming is not MISSING and compare(upcoming, value) < 0:
                    out.append(set_simple(base, parts, upcoming))
                    upcoming = next(pending, MISSING)
                out.append(doc)
            while upcoming is not MISSING:
                out.append(set_simple(base, parts, upcoming))
                upcoming = next(pending, MISSING)
        return out

    return densify


def _explicit_bounds(bounds: list, step: Any, unit: str | None) -> tuple[Any, Any]:
    if len(bounds) != 2:
        raise PipelineError("A bounding array in a range statement must have exactly two elements")
    low, high = bounds
    if _is_number(low):
        if unit is not None:
            raise PipelineError("Numeric bounds may not have unit parameter")
        if not _is_number(high):
            raise PipelineError(
                "A bounding array must contain either both dates or both numeric types"
            )
        if not (type(low) is type(high) is type(step)):
            raise PipelineError("Upper bound, lower bound, and step must all have the same type")
    elif isinstance(low, dt.datetime):
        if not isinstance(high, dt.datetime):
            raise PipelineError(
                "A bounding array must contain either both dates or both numeric types"
            )
        if unit is None:
            raise PipelineError("A bounding array of dates must specify a unit")
    else:
        raise PipelineError("Explicit bounds must be numeric or dates")
    if compare(low, high) > 0:
        raise PipelineError(
            "A bounding array must be an ascending array of either two dates or two numbers"
        )
    return low, high


def _key(value: Any) -> Any:
    return group_key(value)


def _by_partition_then_value(a: tuple, b: tuple) -> int:
    for x, y in zip(a[0], b[0], strict=True):
        c = compare(None if x is MISSING else x, None if y is MISSING else y)
        if c:
            return c
    return compare(a[1], b[1])


# --- $fill ------------------------------------------------------------------------------------


def compile_fill(spec: Any) -> Runner:
    from .stages import compile_sort  # $fill sorts like $sort; imported here (a cycle)

    _object_spec("$fill", spec, ("output",), ("partitionBy", "partitionByFields", "sortBy"))
    if "partitionBy" in spec and "partitionByFields" in spec:
        raise PipelineError("Only one of 'partitionBy' and 'partitionByFields' can be specified")
    output = spec["output"]
    if not isinstance(output, dict) or not output:
        raise PipelineError("$fill: 'output' must be a non-empty object")
    compiler = Compiler()
    values: list[tuple[tuple[str, ...], Any, Any]] = []  # (path, "$path" reader, fill value)
    methods: list[tuple[tuple[str, ...], Any, str]] = []
    for name, how in output.items():
        path = _field_parts("$fill", name, "output field")
        reader = compiler.compile("$" + name, ROOT_SCOPE)
        if not isinstance(how, dict) or len(how) != 1 or next(iter(how)) not in ("value", "method"):
            raise PipelineError(
                f"$fill: output field '{name}' must be an object with exactly one of 'value' or "
                "'method'"
            )
        ((kind, argument),) = how.items()
        if kind == "value":
            values.append((path, reader, compiler.compile(argument, ROOT_SCOPE)))
        elif argument in ("locf", "linear"):
            methods.append((path, reader, argument))
        else:
            raise PipelineError(f"$fill: method must be 'linear' or 'locf', not {argument!r}")
    sort_by = spec.get("sortBy")
    partition_fn = None
    if "partitionByFields" in spec:
        fields = spec["partitionByFields"]
        if not isinstance(fields, list):
            raise PipelineError("$fill: partitionByFields must be an array of field names")
        for field in fields:
            _field_parts("$fill", field, "partitionByFields")
        partition_fn = compiler.compile({field: "$" + field for field in fields}, ROOT_SCOPE)
    elif "partitionBy" in spec:
        partition_fn = compiler.compile(spec["partitionBy"], ROOT_SCOPE)
    sort_stage = compile_sort(sort_by).run if sort_by is not None else None
    linear_x = None
    if any(method == "linear" for _, _, method in methods):
        # locf may run in input order (as MongoDB accepts), linear needs one sort field.
        if not isinstance(sort_by, dict) or len(sort_by) != 1:
            raise PipelineError("$fill: the 'linear' method needs a sortBy with exactly one field")
        linear_x = compiler.compile("$" + next(iter(sort_by)), ROOT_SCOPE)
    slots = compiler.slot_count

    def fill(docs: Documents) -> Documents:
        frame = [None] * slots
        if methods:
            docs = _fill_methods(docs, frame)
        out = []
        for doc in docs:
            for path, reader, value_fn in values:
                current = reader(doc, frame)
                if current is None or current is MISSING:
                    filler = value_fn(doc, frame)
                    doc = set_simple(doc, path, None if filler is MISSING else filler)
            out.append(doc)
        return out

    def _fill_methods(docs: Documents, frame: list) -> Documents:
        ordered = sort_stage(docs) if sort_stage is not None else docs  # stable
        partitions: dict[Any, Documents] = {}
        keys: dict[Any, Any] = {}
        for doc in ordered:
            key_value = partition_fn(doc, frame) if partition_fn is not None else None
            key_value = None if key_value is MISSING else key_value
            key = _key(key_value)
            keys.setdefault(key, key_value)
            partitions.setdefault(key, []).append(doc)
        out: Documents = []
        for key in sorted(keys, key=cmp_to_key(lambda a, b: compare(keys[a], keys[b]))):
            members = partitions[key]
            for path, reader, method in methods:
                found = [reader(doc, frame) for doc in members]
                if method == "locf":
                    filled = _locf(found)
                else:
                    assert linear_x is not None
                    filled = _linear([linear_x(doc, frame) for doc in members], found)
                members = [
                    set_simple(doc, path, value) for doc, value in zip(members, filled, strict=True)
                ]
            out.extend(members)
        return out

    return fill


def _locf(found: list) -> list:
    last = None
    out = []
    for value in found:
        if value is None or value is MISSING:
            out.append(last)
        else:
            last = value
            out.append(value)
    return out


def _linear(xs: list, ys: list) -> list:
    """Linear interpolation between the surrounding non-null values; null where a side is
    missing (WindowFunctionExecLinearFill)."""
    previous = None
    for x, y in zip(xs, ys, strict=True):
        if not (y is None or y is MISSING or _is_number(y)):
            raise EvaluationError(
                f"Value to be filled must be numeric or nullish, but found {type_name(y)}", 14
            )
        if not (_is_number(x) or isinstance(x, dt.datetime)):
            raise EvaluationError(
                f"Value of the sortBy field must be numeric or a date, but found {type_name(x)}",
                14,
            )
        if previous is not None:
            if compare(x, previous) == 0:
                raise EvaluationError(
                    "There can be no repeated values in the sort field in the same partition",
                    6050106,
                )
            if isinstance(x, dt.datetime) != isinstance(previous, dt.datetime):
                raise EvaluationError(
                    f"Conflicting sort value types, previously received type "
                    f"{type_name(previous)}, but found {type_name(x)}",
                    14,
                )
        previous = x
    known = [i for i, y in enumerate(ys) if not (y is None or y is MISSING)]
    out: list = [None if y is MISSING else y for y in ys]
    for left, right in itertools.pairwise(known):
        x1, y1, x2, y2 = _axis(xs[left]), ys[left], _axis(xs[right]), ys[right]
        slope = float(y2 - y1) / float(x2 - x1)
        for i in range(left + 1, right):
            out[i] = float(y1) + float(_axis(xs[i]) - x1) * slope
    return out


def _axis(x: Any) -> Any:
    """A sortBy value as a number: dates count milliseconds (date - date is a long)."""
    return date_to_ms(x) if isinstance(x, dt.datetime) else x
