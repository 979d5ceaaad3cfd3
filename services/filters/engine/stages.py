"""The pipeline stages. Each compiles into a Stage: a function over the list of documents, plus,
for stages that map one document to at most one, a per-document function (the fast path used
when each alert is evaluated as its own one-document collection)."""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from functools import cmp_to_key
from typing import Any

from bson import Int64

from .accumulators import CompiledAccumulator, compile_accumulator
from .densify import compile_densify, compile_fill
from .errors import EvaluationError, PipelineError
from .expressions import ROOT_SCOPE, Compiler, Expr
from .expressions.core import constant_value, is_constant, object_arguments
from .paths import get_simple, query_values, set_simple, split_path
from .projection import compile_add_fields, compile_project, compile_unset
from .query import compile_query
from .values import MISSING, compare, group_key, rank, sort_key, type_name

Documents = list[dict]
_VALUE_ORDER = cmp_to_key(compare)
PerDocument = Callable[[dict], dict | None]


@dataclass(frozen=True)
class Stage:
    name: str
    run: Callable[[Documents], Documents]
    # Set when the stage maps each document to itself, another document, or nothing.
    per_document: PerDocument | None = None


def _mapping_stage(name: str, transform: Callable[[dict], dict]) -> Stage:
    return Stage(name, lambda docs: [transform(d) for d in docs], transform)


def _frame(slots: int) -> list:
    return [None] * slots


# --- filtering and reshaping ------------------------------------------------------------------


def compile_match(spec: Any) -> Stage:
    if not isinstance(spec, dict):
        raise PipelineError("the $match filter must be an object")
    matches = compile_query(spec)
    return Stage(
        "$match",
        lambda docs: [d for d in docs if matches(d)],
        lambda d: d if matches(d) else None,
    )


def _compile_new_root(name: str, expression: Any, what: str) -> Stage:
    compiler = Compiler()
    fn = compiler.compile(expression, ROOT_SCOPE)
    slots = compiler.slot_count

    def replace(doc: dict) -> dict:
        value = fn(doc, _frame(slots))
        if not isinstance(value, dict):
            shown = "missing" if value is MISSING else repr(value)
            raise EvaluationError(
                f"'{what}' must evaluate to an object, but resulting value was: {shown}. "
                f"Type of resulting value: '{type_name(value)}'.",
                40228,
            )
        return value

    return _mapping_stage(name, replace)


def compile_replace_root(spec: Any) -> Stage:
    if not isinstance(spec, dict) or set(spec) != {"newRoot"}:
        raise PipelineError("$replaceRoot takes exactly one field, 'newRoot'")
    return _compile_new_root("$replaceRoot", spec["newRoot"], "newRoot")


def compile_replace_with(spec: Any) -> Stage:
    return _compile_new_root("$replaceWith", spec, "replacement document")


def compile_unwind(spec: Any) -> Stage:
    if isinstance(spec, str):
        spec = {"path": spec}
    if not isinstance(spec, dict):
        raise PipelineError("$unwind expects a string or an object")
    for key in spec:
        if key not in ("path", "includeArrayIndex", "preserveNullAndEmptyArrays"):
            raise PipelineError(f"unrecognized option to $unwind: {key}")
    path = spec.get("path")
    if not isinstance(path, str) or not path.startswith("$") or path == "$":
        raise PipelineError("$unwind: path must be a field path prefixed by '$', e.g. \"$tags\"")
    parts = split_path(path[1:], "$unwind path")
    preserve = spec.get("preserveNullAndEmptyArrays", False)
    if type(preserve) is not bool:
        raise PipelineError("$unwind: preserveNullAndEmptyArrays must be a boolean")
    index_spec = spec.get("includeArrayIndex")
    index_parts: tuple[str, ...] | None = None
    if index_spec is not None:
        if not isinstance(index_spec, str) or not index_spec or index_spec.startswith("$"):
            raise PipelineError(
                "$unwind: includeArrayIndex must be a non-empty field name not starting with '$'"
            )
        index_parts = split_path(index_spec, "$unwind includeArrayIndex")

    def with_index(doc: dict, index: Any) -> dict:
        return doc if index_parts is None else set_simple(doc, index_parts, index)

    def unwind_one(doc: dict) -> Documents:
        value = get_simple(doc, parts)
        if isinstance(value, list):
            if value:
                return [
                    with_index(set_simple(doc, parts, element), Int64(i))
                    for i, element in enumerate(value)
                ]
            # An empty array: the field goes away when the document is kept.
            return [with_index(set_simple(doc, parts, MISSING), None)] if preserve else []
        if value is None or value is MISSING:
            return [with_index(doc, None)] if preserve else []
        return [with_index(doc, None)]  # a non-array value unwinds as a one-element array

    return Stage("$unwind", lambda docs: [out for d in docs for out in unwind_one(d)])


# --- grouping and ordering --------------------------------------------------------------------


def compile_output_fields(
    items: Any, compiler: Compiler, stage: str
) -> list[tuple[str, CompiledAccumulator]]:
    """The {<field>: {<accumulator>: <argument>}} pairs of $group, $bucket or $bucketAuto."""
    fields: list[tuple[str, CompiledAccumulator]] = []
    for name, accumulator in items:
        if name.startswith("$"):
            raise PipelineError(f"the {stage} field name '{name}' cannot be an operator")
        if "." in name:
            raise PipelineError(f"the {stage} field name '{name}' cannot contain '.'")
        if not isinstance(accumulator, dict) or len(accumulator) != 1:
            raise PipelineError(
                f"the {stage} field '{name}' must be defined as an expression inside "
                'an object with exactly one accumulator, e.g. {"$sum": 1}'
            )
        ((operator_name, argument),) = accumulator.items()
        fields.append((name, compile_accumulator(operator_name, argument, compiler)))
    return fields


def start_states(fields: list[tuple[str, CompiledAccumulator]], key: Any, slots: int) -> list:
    """A new group's accumulator states; initializers ($topN's n ...) see the group key as
    their document when it is one, else an empty document (as MongoDB evaluates them)."""
    root = key if isinstance(key, dict) else {}
    frame = _frame(slots)
    return [
        acc.factory(None if acc.initializer is None else acc.initializer(root, frame))
        for _, acc in fields
    ]


def group_documents(
    docs: Documents,
    key_fn: Expr,
    fields: list[tuple[str, CompiledAccumulator]],
    slots: int,
) -> Documents:
    """{_id: key, <field>: <accumulated>} per distinct key, in first-seen order."""
    groups: dict[Any, tuple[Any, list]] = {}
    for doc in docs:
        frame = _frame(slots)
        key_value = key_fn(doc, frame)
        if key_value is MISSING:
            key_value = None
        key = group_key(key_value)
        entry = groups.get(key)
        if entry is None:
            entry = groups[key] = (key_value, start_states(fields, key_value, slots))
        for state, (_, acc) in zip(entry[1], fields, strict=True):
            state.add(acc.argument(doc, frame))
    out = []
    for key_value, states in groups.values():
        result = {"_id": key_value}
        for state, (name, _) in zip(states, fields, strict=True):
            result[name] = state.result()
        out.append(result)
    return out


def compile_group(spec: Any) -> Stage:
    if not isinstance(spec, dict):
        raise PipelineError("a group's fields must be specified in an object")
    if "_id" not in spec:
        raise PipelineError("a group specification must include an _id")
    compiler = Compiler()
    id_fn = compiler.compile(spec["_id"], ROOT_SCOPE)
    fields = compile_output_fields(
        ((k, v) for k, v in spec.items() if k != "_id"), compiler, "group aggregate"
    )
    slots = compiler.slot_count
    return Stage("$group", lambda docs: group_documents(docs, id_fn, fields, slots))


def _sort_value(doc: dict, parts: tuple[str, ...], direction: int) -> Any:
    """The value a document sorts by: the smallest (ascending) or largest (descending) of the
    values its path reaches, array elements included; missing sorts as null, [] below null."""
    candidates: list[Any] = []
    for value in query_values(doc, parts):
        if isinstance(value, list):
            if value:
                candidates.extend(value)
            else:
                candidates.append(MISSING)
        else:
            candidates.append(None if value is MISSING else value)
    best = candidates[0]
    for value in candidates[1:]:
        if compare(value, best) * direction < 0:
            best = value
    return best


def compile_sort(spec: Any) -> Stage:
    if not isinstance(spec, dict) or not spec:
        raise PipelineError("$sort stage must have at least one sort key")
    keys: list[tuple[tuple[str, ...], int]] = []
    for path, direction in spec.items():
        if isinstance(direction, dict):
            raise PipelineError("$sort by {$meta: ...} is not supported")
        if type(direction) not in (int, float, Int64) or direction not in (1, -1):
            raise PipelineError(
                f"$sort key ordering must be 1 (for ascending) or -1 (for descending): {path}"
            )
        keys.append((split_path(path, "$sort key"), int(direction)))

    key = sort_key([direction for _, direction in keys])

    def sort(docs: Documents) -> Documents:
        decorated = [
            ([_sort_value(d, parts, direction) for parts, direction in keys], d) for d in docs
        ]
        decorated.sort(key=lambda item: key(item[0]))
        return [d for _, d in decorated]

    return Stage("$sort", sort, lambda d: d)


def _whole_number(name: str, value: Any) -> int:
    if type(value) not in (int, float, Int64) or not float(value).is_integer():
        raise PipelineError(f"{name} must be specified as a whole number, not {value!r}")
    return int(value)


def compile_limit(spec: Any) -> Stage:
    limit = _whole_number("$limit", spec)
    if limit <= 0:
        raise PipelineError(f"the limit must be positive, not {limit}")
    return Stage("$limit", lambda docs: docs[:limit], lambda d: d)


def compile_skip(spec: Any) -> Stage:
    skip = _whole_number("$skip", spec)
    if skip < 0:
        raise PipelineError(f"$skip cannot be negative, not {skip}")
    return Stage(
        "$skip", lambda docs: docs[skip:], (lambda d: d) if skip == 0 else (lambda d: None)
    )


def compile_count(spec: Any) -> Stage:
    if not isinstance(spec, str) or not spec:
        raise PipelineError("the count field must be a non-empty string")
    if spec.startswith("$"):
        raise PipelineError("the count field cannot be a $-prefixed path")
    if "." in spec:
        raise PipelineError("the count field cannot contain '.'")

    def count(docs: Documents) -> Documents:
        n = len(docs)
        # Like {$group: {_id: null, n: {$sum: 1}}}: no input, no output document.
        return [{spec: n if n <= 2**31 - 1 else Int64(n)}] if n else []

    return Stage("$count", count)


# --- bucketing: $bucket, $bucketAuto, $sortByCount ---------------------------------------------


def _is_expression_spec(spec: Any) -> bool:
    """A "$path" or an {$operator: ...} object, as $bucket and friends require of groupBy."""
    if isinstance(spec, str):
        return spec.startswith("$")
    return isinstance(spec, dict) and bool(spec) and next(iter(spec)).startswith("$")


def _constant(spec: Any) -> tuple[bool, Any]:
    """(True, value) when spec is a constant: a literal, or an expression that folds to one."""
    if not (_is_expression_spec(spec) or isinstance(spec, (dict, list))):
        return True, spec
    fn = Compiler().compile(spec, ROOT_SCOPE)
    return (True, constant_value(fn)) if is_constant(fn) else (False, None)


def _check_bucket_spec(
    name: str, spec: Any, required: tuple[str, str], optional: tuple[str, ...]
) -> None:
    """The keys of $bucket and $bucketAuto, checked with MongoDB's wording."""
    messages = (
        "Argument to {name} stage must be an object, but found type: {type}.",
        "Unrecognized option to {name}: {key}.",
        f"{{name}} requires 'groupBy' and '{required[1]}' to be specified.",
    )
    object_arguments(name, spec, required, optional, messages)


def compile_bucket(spec: Any) -> Stage:
    """$bucket is $group with _id the lower boundary of the document's bucket (or the default),
    then $sort by _id, as MongoDB desugars it."""
    _check_bucket_spec("$bucket", spec, ("groupBy", "boundaries"), ("default", "output"))
    if not _is_expression_spec(spec["groupBy"]):
        raise PipelineError(
            "The $bucket 'groupBy' field must be defined as a $-prefixed path or an expression, "
            f"but found: {spec['groupBy']!r}."
        )
    raw = spec["boundaries"]
    if not isinstance(raw, list):
        raise PipelineError(
            f"The $bucket 'boundaries' field must be an array, but found type: {type_name(raw)}."
        )
    boundaries = []
    for item in raw:
        ok, value = _constant(item)
        if not ok:
            raise PipelineError(
                "The $bucket 'boundaries' field must be an array of constant values, but found "
                f"value: {item!r}."
            )
        boundaries.append(value)
    if len(boundaries) < 2:
        raise PipelineError(
            "The $bucket 'boundaries' field must have at least 2 values, but found "
            f"{len(boundaries)} value(s)."
        )
    for i in range(1, len(boundaries)):
        lower, upper = boundaries[i - 1], boundaries[i]
        if rank(lower) != rank(upper):
            raise PipelineError(
                "All values in the the 'boundaries' option to $bucket must have the same type. "
                f"Found conflicting types {type_name(lower)} and {type_name(upper)}."
            )
        if compare(lower, upper) >= 0:
            raise PipelineError(
                f"The 'boundaries' option to $bucket must be sorted, but elements {i - 1} and "
                f"{i} are not in ascending order ({lower!r} is not less than {upper!r})."
            )
    default: Any = MISSING
    if "default" in spec:
        ok, default = _constant(spec["default"])
        if not ok:
            raise PipelineError(
                "The $bucket 'default' field must be a constant expression, but found: "
                f"{spec['default']!r}."
            )
        if rank(default) == rank(boundaries[0]) and not (
            compare(default, boundaries[0]) < 0 or compare(default, boundaries[-1]) >= 0
        ):
            raise PipelineError(
                "The $bucket 'default' field must be less than the lowest boundary or greater "
                "than or equal to the highest boundary."
            )
    output = spec.get("output", {"count": {"$sum": 1}})
    if not isinstance(output, dict):
        raise PipelineError(
            f"The $bucket 'output' field must be an object, but found type: {type_name(output)}."
        )
    compiler = Compiler()
    group_by = compiler.compile(spec["groupBy"], ROOT_SCOPE)
    fields = compile_output_fields(output.items(), compiler, "$bucket output")
    slots = compiler.slot_count
    last = len(boundaries) - 1

    def bucket_of(doc: dict, frame: list) -> Any:
        # The $switch MongoDB builds: the bucket [b[i], b[i+1]) holding the value, by binary
        # search over the sorted boundaries (aggregation comparison: no type bracketing).
        value = group_by(doc, frame)
        if compare(value, boundaries[0]) >= 0 and compare(value, boundaries[last]) < 0:
            lo, hi = 0, last
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if compare(value, boundaries[mid]) >= 0:
                    lo = mid
                else:
                    hi = mid
            return boundaries[lo]
        if default is MISSING:
            raise EvaluationError(
                "$switch could not find a matching branch for an input, and no default was "
                "specified.",
                40066,
            )
        return default

    by_id = compile_sort({"_id": 1}).run
    return Stage("$bucket", lambda docs: by_id(group_documents(docs, bucket_of, fields, slots)))


def _roundable(value: Any, codes: tuple[int, int, int]) -> float:
    """The value a granularity rounder rounds, as a double: a number, not NaN, not negative
    (the error codes are the rounder's: not a number, NaN, negative)."""
    t = type(value)
    if not (t is int or t is float or t is Int64):
        raise EvaluationError(
            "A granularity rounder can only round numeric values, but found type: "
            f"{type_name(value)}",
            codes[0],
        )
    number = float(value)
    if number != number:
        raise EvaluationError("A granularity rounder cannot round NaN", codes[1])
    if number < 0:
        raise EvaluationError("A granularity rounder can only round non-negative numbers", codes[2])
    return number


class _PreferredNumbers:
    """A preferred number series rounder (MongoDB's GranularityRounderPreferredNumbers, double
    path): the series scaled by powers of ten, rounding up to the next value strictly above
    and down to the next strictly below."""

    _CODES = (40262, 40263, 40268)

    def __init__(self, series: tuple[float, ...]) -> None:
        self.series = series

    @classmethod
    def of(cls, *values: float) -> _PreferredNumbers:
        return cls(values)

    def up(self, value: Any) -> Any:
        number = _roundable(value, self._CODES)
        if number == 0.0 or math.isinf(number):
            return value
        series = self.series
        multiplier = 1.0
        while number >= series[-1] * multiplier:
            multiplier *= 10.0
        while number < series[0] * multiplier:
            previous_min = series[0] * multiplier
            multiplier /= 10.0
            if number >= series[-1] * multiplier:
                return previous_min
        for item in series:
            if number < item * multiplier:
                return item * multiplier
        raise AssertionError("unreachable: the number lies below the series' last value")

    def down(self, value: Any) -> Any:
        number = _roundable(value, self._CODES)
        if number == 0.0 or math.isinf(number):
            return value
        series = self.series
        multiplier = 1.0
        while number <= series[0] * multiplier:
            multiplier /= 10.0
        while number > series[-1] * multiplier:
            previous_max = series[-1] * multiplier
            multiplier *= 10.0
            if number <= series[0] * multiplier:
                return previous_max
        index = 0
        while series[index] * multiplier < number:
            index += 1
        return series[index - 1] * multiplier


class _PowersOfTwo:
    """POWERSOF2 (GranularityRounderPowersOfTwo): 2 to an int exponent, computed like $pow of
    two ints, so the bounds are ints (or longs) whatever the type of the value rounded."""

    _CODES = (40265, 40266, 40267)

    @staticmethod
    def _power(exponent: int) -> Any:
        if exponent < 0:
            return 2.0**exponent
        result = 2**exponent
        if result <= 2**31 - 1:
            return result
        if result <= 2**63 - 1:
            return Int64(result)
        return math.ldexp(1.0, exponent) if exponent < 1024 else math.inf  # pow() overflows

    def up(self, value: Any) -> Any:
        number = _roundable(value, self._CODES)
        if number == 0.0 or math.isinf(number):
            return value
        if type(value) is float:
            return self._power(int(math.floor(math.log2(number)) + 1.0))
        return self._power(int(value).bit_length())

    def down(self, value: Any) -> Any:
        number = _roundable(value, self._CODES)
        if number == 0.0 or math.isinf(number):
            return value
        if type(value) is float:
            return self._power(int(math.ceil(math.log2(number)) - 1.0))
        integer = int(value)
        power_of_two = integer & (integer - 1) == 0
        return self._power(integer.bit_length() - (2 if power_of_two else 1))


GRANULARITIES: dict[str, Any] = {
    "R5": _PreferredNumbers((10, 16, 25, 40, 63)),
    "R10": _PreferredNumbers((100, 125, 160, 200, 250, 315, 400, 500, 630, 800)),
    "R20": _PreferredNumbers.of(
        *(100, 112, 125, 140, 160, 180, 200, 224, 250, 280),
        *(315, 355, 400, 450, 500, 560, 630, 710, 800, 900),
    ),
    "R40": _PreferredNumbers.of(
        *(100, 106, 112, 118, 125, 132, 140, 150, 160, 170, 180, 190, 200),
        *(212, 224, 236, 250, 265, 280, 300, 315, 355, 375, 400, 425, 450),
        *(475, 500, 530, 560, 600, 630, 670, 710, 750, 800, 850, 900, 950),
    ),
    "R80": _PreferredNumbers.of(
        *(103, 109, 115, 122, 128, 136, 145, 155, 165, 175, 185, 195, 206, 218),
        *(230, 243, 258, 272, 290, 307, 325, 345, 365, 387, 412, 437, 462, 487),
        *(515, 545, 575, 615, 650, 690, 730, 775, 825, 875, 925, 975),
    ),
    "1-2-5": _PreferredNumbers((10, 20, 50)),
    "E6": _PreferredNumbers((10, 15, 22, 33, 47, 68)),
    "E12": _PreferredNumbers((10, 12, 15, 18, 22, 27, 33, 39, 47, 56, 68, 82)),
    "E24": _PreferredNumbers.of(
        *(10, 11, 12, 13, 15, 16, 18, 20, 22, 24, 27, 30),
        *(33, 36, 39, 43, 47, 51, 56, 62, 68, 75, 82, 91),
    ),
    "E48": _PreferredNumbers.of(
        *(100, 105, 110, 115, 121, 127, 133, 140, 147, 154, 162, 169),
        *(178, 187, 196, 205, 215, 226, 237, 249, 261, 274, 287, 301),
        *(316, 332, 348, 365, 383, 402, 422, 442, 464, 487, 511, 536),
        *(562, 590, 619, 649, 681, 715, 750, 787, 825, 866, 909, 953),
    ),
    "E96": _PreferredNumbers.of(
        *(100, 102, 105, 107, 110, 113, 115, 118, 121, 124, 127, 130, 133, 137),
        *(140, 143, 147, 150, 154, 158, 162, 165, 169, 174, 178, 182, 187, 191),
        *(196, 200, 205, 210, 215, 221, 226, 232, 237, 243, 249, 255, 261, 267),
        *(274, 280, 287, 294, 301, 309, 316, 324, 332, 340, 348, 357, 365, 374),
        *(383, 392, 402, 412, 422, 432, 442, 453, 464, 475, 487, 499, 511, 523),
        *(536, 549, 562, 576, 590, 604, 619, 634, 649, 665, 681, 698, 715, 732),
        *(750, 768, 787, 806, 825, 845, 866, 887, 909, 931, 953, 976),
    ),
    "E192": _PreferredNumbers.of(
        *(100, 101, 102, 104, 105, 106, 107, 109, 110, 111, 113, 114, 115, 117, 118, 120),
        *(121, 123, 124, 126, 127, 129, 130, 132, 133, 135, 137, 138, 140, 142, 143, 145),
        *(147, 149, 150, 152, 154, 156, 158, 160, 162, 164, 165, 167, 169, 172, 174, 176),
        *(178, 180, 182, 184, 187, 189, 191, 193, 196, 198, 200, 203, 205, 208, 210, 213),
        *(215, 218, 221, 223, 226, 229, 232, 234, 237, 240, 243, 246, 249, 252, 255, 258),
        *(261, 264, 267, 271, 274, 277, 280, 284, 287, 291, 294, 298, 301, 305, 309, 312),
        *(316, 320, 324, 328, 332, 336, 340, 344, 348, 352, 357, 361, 365, 370, 374, 379),
        *(383, 388, 392, 397, 402, 407, 412, 417, 422, 427, 432, 437, 442, 448, 453, 459),
        *(464, 470, 475, 481, 487, 493, 499, 505, 511, 517, 523, 530, 536, 542, 549, 556),
        *(562, 569, 576, 583, 590, 597, 604, 612, 619, 626, 634, 642, 649, 657, 665, 673),
        *(681, 690, 698, 706, 715, 723, 732, 741, 750, 759, 768, 777, 787, 796, 806, 816),
        *(825, 835, 845, 856, 866, 876, 887, 898, 909, 920, 931, 942, 953, 965, 976, 988),
    ),
    "POWERSOF2": _PowersOfTwo(),
}


def compile_bucket_auto(spec: Any) -> Stage:
    _check_bucket_spec("$bucketAuto", spec, ("groupBy", "buckets"), ("output", "granularity"))
    if not _is_expression_spec(spec["groupBy"]):
        raise PipelineError(
            "The $bucketAuto 'groupBy' field must be defined as a $-prefixed path or an "
            f"expression object, but found: {spec['groupBy']!r}."
        )
    buckets = spec["buckets"]
    if type(buckets) not in (int, float, Int64):
        raise PipelineError(
            "The $bucketAuto 'buckets' field must be a numeric value, but found type: "
            f"{type_name(buckets)}."
        )
    if not float(buckets).is_integer() or not -(2**31) <= buckets <= 2**31 - 1:
        raise PipelineError(
            "The $bucketAuto 'buckets' field must be representable as a 32-bit integer, but "
            f"found {buckets!r}."
        )
    n_buckets = int(buckets)
    if n_buckets <= 0:
        raise PipelineError(
            f"The $bucketAuto 'buckets' field must be greater than 0, but found: {n_buckets}"
        )
    rounder = None
    if "granularity" in spec:
        granularity = spec["granularity"]
        if not isinstance(granularity, str):
            raise PipelineError(
                "The $bucketAuto 'granularity' field must be a string, but found type: "
                f"{type_name(granularity)}."
            )
        rounder = GRANULARITIES.get(granularity)
        if rounder is None:
            raise PipelineError(f"Unknown rounding granularity '{granularity}'")
    output = spec.get("output", {"count": {"$sum": 1}})
    if not isinstance(output, dict):
        raise PipelineError(
            "The $bucketAuto 'output' field must be an object, but found type: "
            f"{type_name(output)}."
        )
    compiler = Compiler()
    group_by = compiler.compile(spec["groupBy"], ROOT_SCOPE)
    fields = compile_output_fields(output.items(), compiler, "$bucketAuto output")
    slots = compiler.slot_count

    def key_of(doc: dict) -> Any:
        key = group_by(doc, _frame(slots))
        if rounder is not None:
            if type(key) not in (int, float, Int64):
                raise EvaluationError(
                    "$bucketAuto can specify a 'granularity' with numeric boundaries only, but "
                    f"found a value with type: {type_name(key)}",
                    40258,
                )
            if key != key:
                raise EvaluationError(
                    "$bucketAuto can specify a 'granularity' with numeric boundaries only, but "
                    "found a NaN",
                    40259,
                )
            if key < 0:
                raise EvaluationError(
                    "$bucketAuto can specify a 'granularity' with non-negative numbers only, "
                    "but found a negative number",
                    40260,
                )
        return None if key is MISSING else key  # missing groups with null, as in $group

    def bucket_auto(docs: Documents) -> Documents:
        entries = [(key_of(doc), doc) for doc in docs]
        entries.sort(key=lambda entry: _VALUE_ORDER(entry[0]))  # stable
        # MongoDB fills each bucket with round(n / buckets) documents (at least one), then
        # absorbs the documents equal to its largest value (or below its rounded-up boundary);
        # the last bucket takes whatever is left.
        approx = max(1, math.floor(len(entries) / n_buckets + 0.5))
        out: Documents = []
        position = 0
        pending: tuple[Any, dict] | None = None
        previous_max: Any = MISSING
        number = 1
        while pending is not None or position < len(entries):
            if pending is not None:
                first, pending = pending, None
            else:
                first = entries[position]
                position += 1
            low = first[0]
            if rounder is not None:
                low = rounder.down(first[0]) if previous_max is MISSING else previous_max
            states = start_states(fields, None, slots)
            high = first[0]

            def add(entry: tuple[Any, dict], states: list = states) -> None:
                frame = _frame(slots)
                for state, (_, acc) in zip(states, fields, strict=True):
                    state.add(acc.argument(entry[1], frame))

            add(first)
            last_bucket = number == n_buckets
            taken = 1
            while position < len(entries) and (taken < approx or last_bucket):
                high = entries[position][0]
                add(entries[position])
                position += 1
                taken += 1
            following = entries[position] if position < len(entries) else None
            position += following is not None
            if rounder is not None:
                boundary = rounder.up(high)
                while following is not None and compare(boundary, following[0]) > 0:
                    high = following[0]
                    add(following)
                    following = entries[position] if position < len(entries) else None
                    position += following is not None
                if float(boundary) == 0.0 and following is not None:
                    high = rounder.down(following[0])
                else:
                    high = boundary
            else:
                while following is not None and compare(high, following[0]) == 0:
                    add(following)
                    following = entries[position] if position < len(entries) else None
                    position += following is not None
                if following is not None:
                    high = following[0]
            pending = following
            previous_max = high
            number += 1
            result = {"_id": {"min": low, "max": high}}
            for state, (name, _) in zip(states, fields, strict=True):
                result[name] = state.result()
            out.append(result)
        return out

    return Stage("$bucketAuto", bucket_auto)


def compile_sort_by_count(spec: Any) -> Stage:
    """{$group: {_id: <expression>, count: {$sum: 1}}} then {$sort: {count: -1}}."""
    if isinstance(spec, dict):
        if not spec or not next(iter(spec)).startswith("$"):
            raise PipelineError(
                "the sortByCount field must be defined as a $-prefixed path or an expression "
                "inside an object"
            )
    elif isinstance(spec, str):
        if not spec.startswith("$"):
            raise PipelineError(
                "the sortByCount field must be defined as a $-prefixed path or an expression "
                "inside an object"
            )
    else:
        raise PipelineError("the sortByCount field must be specified as a string or as an object")
    group = compile_group({"_id": spec, "count": {"$sum": 1}}).run
    by_count = compile_sort({"count": -1}).run
    return Stage("$sortByCount", lambda docs: by_count(group(docs)))


# --- $sample, $redact, $facet -----------------------------------------------------------------


def compile_sample(spec: Any) -> Stage:
    """A pseudo-random sample without replacement, reproducible: the generator is seeded from a
    hash of the stage's spec and the input documents' _ids, so a replayed alert (or a rerun
    over the same documents) gets the same sample. MongoDB guarantees only the size."""
    if not isinstance(spec, dict):
        raise PipelineError("the $sample stage specification must be an object")
    for key in spec:
        if key != "size":
            raise PipelineError(f"unrecognized option to $sample: {key}")
    if "size" not in spec:
        raise PipelineError("$sample stage must specify a size")
    size_spec = spec["size"]
    if type(size_spec) not in (int, float, Int64) or size_spec != size_spec:
        raise PipelineError("size argument to $sample must be a number")
    size = int(size_spec)
    if size < 0:
        raise PipelineError("size argument to $sample must not be negative")
    salt = repr(sorted(spec.items())).encode()

    def sample(docs: Documents) -> Documents:
        digest = hashlib.sha256(salt)
        for doc in docs:
            digest.update(repr(doc.get("_id", MISSING)).encode())
            digest.update(b"\0")
        rng = random.Random(int.from_bytes(digest.digest()[:8], "big"))
        return rng.sample(docs, min(size, len(docs)))

    return Stage("$sample", sample, (lambda d: d) if size > 0 else (lambda d: None))


_REDACT_ACTIONS = {"descend": "DESCEND", "prune": "PRUNE", "keep": "KEEP"}


def compile_redact(spec: Any) -> Stage:
    """$redact: the expression decides at each (sub)document level; $$CURRENT (and field paths)
    is that level, $$ROOT the whole document; $$DESCEND, $$PRUNE and $$KEEP are the strings
    "descend", "prune" and "keep", as in MongoDB."""
    compiler = Compiler()
    root_slot = compiler.new_slot()
    compiler.root_slot = root_slot
    names = {variable: compiler.new_slot() for variable in _REDACT_ACTIONS.values()}
    slots_of_values = [(names[variable], value) for value, variable in _REDACT_ACTIONS.items()]
    decide = compiler.compile(spec, ROOT_SCOPE.bind(names))
    slots = compiler.slot_count

    def redact_object(current: dict, frame: list) -> dict | None:
        action = decide(current, frame)
        if type(action) is str:
            if action == "keep":
                return current
            if action == "prune":
                return None
            if action == "descend":
                out = {}
                for key, value in current.items():
                    kept = redact_value(value, frame)
                    if kept is not MISSING:
                        out[key] = kept
                return out
        shown = "missing" if action is MISSING else repr(action)
        raise EvaluationError(
            "$redact's expression should not return anything aside from the variables $$KEEP, "
            f"$$DESCEND, and $$PRUNE, but returned {shown}",
            17053,
        )

    def redact_value(value: Any, frame: list) -> Any:
        if isinstance(value, dict):
            kept = redact_object(value, frame)
            return MISSING if kept is None else kept
        if isinstance(value, list):
            out = []
            for element in value:
                if isinstance(element, (dict, list)):
                    element = redact_value(element, frame)
                    if element is MISSING:
                        continue
                out.append(element)
            return out
        return value

    def redact(doc: dict) -> dict | None:
        frame = _frame(slots)
        frame[root_slot] = doc
        for slot, value in slots_of_values:
            frame[slot] = value
        return redact_object(doc, frame)

    def redact_all(docs: Documents) -> Documents:
        out = []
        for doc in docs:
            kept = redact(doc)
            if kept is not None:
                out.append(kept)
        return out

    return Stage("$redact", redact_all, redact)


# Stages a $facet sub-pipeline may not hold (the manual's list, plus the stages that must come
# first in a pipeline); forbidden stages stay refused inside with their own reason.
FACET_EXCLUDED_STAGES = frozenset(
    {
        "$facet",
        "$out",
        "$merge",
        "$collStats",
        "$indexStats",
        "$geoNear",
        "$planCacheStats",
        "$changeStream",
        "$currentOp",
        "$listSessions",
        "$listLocalSessions",
        "$documents",
        "$search",
        "$searchMeta",
        "$vectorSearch",
    }
)


def compile_facet(spec: Any) -> Stage:
    from .pipeline import compile_pipeline  # the facets are pipelines; imported here (a cycle)

    if not isinstance(spec, dict) or not spec:
        raise PipelineError("the $facet specification must be a non-empty object")
    facets = []
    for name, sub_pipeline in spec.items():
        if not isinstance(name, str) or not name:
            raise PipelineError("a $facet output field name must be a non-empty string")
        if name.startswith("$"):
            raise PipelineError(f"FieldPath field names may not start with '$': {name}")
        if "." in name:
            raise PipelineError(f"FieldPath field names may not contain '.': {name}")
        if not isinstance(sub_pipeline, list):
            raise PipelineError(
                f"arguments to $facet must be arrays, {name} is type {type_name(sub_pipeline)}"
            )
        if not sub_pipeline:
            raise PipelineError("sub-pipeline in $facet stage cannot be empty")
        for stage in sub_pipeline:
            if isinstance(stage, dict) and len(stage) == 1:
                (stage_name,) = stage
                if stage_name in FACET_EXCLUDED_STAGES:
                    raise PipelineError(
                        f"{stage_name} is not allowed to be used within a $facet stage"
                    )
        try:
            facets.append((name, compile_pipeline(sub_pipeline)))
        except PipelineError as exc:
            raise PipelineError(f"$facet '{name}': {exc}") from None

    def facet(docs: Documents) -> Documents:
        # One output document, whatever the input, each facet run over the same documents.
        return [{name: pipeline.run(docs) for name, pipeline in facets}]

    return Stage("$facet", facet)


STAGE_COMPILERS: dict[str, Callable[[Any], Stage]] = {
    "$match": compile_match,
    "$project": lambda spec: _mapping_stage("$project", compile_project(spec)),
    "$addFields": lambda spec: _mapping_stage("$addFields", compile_add_fields(spec)),
    "$set": lambda spec: _mapping_stage("$set", compile_add_fields(spec, "$set")),
    "$unset": lambda spec: _mapping_stage("$unset", compile_unset(spec)),
    "$replaceRoot": compile_replace_root,
    "$replaceWith": compile_replace_with,
    "$unwind": compile_unwind,
    "$group": compile_group,
    "$sort": compile_sort,
    "$limit": compile_limit,
    "$skip": compile_skip,
    "$count": compile_count,
    "$bucket": compile_bucket,
    "$bucketAuto": compile_bucket_auto,
    "$sortByCount": compile_sort_by_count,
    "$sample": compile_sample,
    "$redact": compile_redact,
    "$facet": compile_facet,
    "$densify": lambda spec: Stage("$densify", compile_densify(spec)),
    "$fill": lambda spec: Stage("$fill", compile_fill(spec)),
}
