"""The pipeline stages. Each compiles into a Stage: a function over the list of documents, plus,
for stages that map one document to at most one, a per-document function (the fast path used
when each alert is evaluated as its own one-document collection)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cmp_to_key
from typing import Any

from bson import Int64

from .accumulators import ACCUMULATOR_FACTORIES, check_accumulator
from .errors import EvaluationError, PipelineError
from .expressions import ROOT_SCOPE, Compiler
from .paths import get_simple, query_values, set_simple, split_path
from .projection import compile_add_fields, compile_project, compile_unset
from .query import compile_query
from .values import MISSING, compare, group_key, type_name

Documents = list[dict]
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


def compile_group(spec: Any) -> Stage:
    if not isinstance(spec, dict):
        raise PipelineError("a group's fields must be specified in an object")
    if "_id" not in spec:
        raise PipelineError("a group specification must include an _id")
    compiler = Compiler()
    id_fn = compiler.compile(spec["_id"], ROOT_SCOPE)
    fields: list[tuple[str, Callable[[], Any], Any]] = []
    for name, accumulator in spec.items():
        if name == "_id":
            continue
        if name.startswith("$"):
            raise PipelineError(f"the group aggregate field name '{name}' cannot be an operator")
        if "." in name:
            raise PipelineError(f"the group aggregate field name '{name}' cannot contain '.'")
        if not isinstance(accumulator, dict) or len(accumulator) != 1:
            raise PipelineError(
                f"the group aggregate field '{name}' must be defined as an expression inside "
                'an object with exactly one accumulator, e.g. {"$sum": 1}'
            )
        ((operator_name, argument),) = accumulator.items()
        check_accumulator(operator_name, argument)
        fn = compiler.compile(argument if operator_name != "$count" else None, ROOT_SCOPE)
        fields.append((name, ACCUMULATOR_FACTORIES[operator_name], fn))
    slots = compiler.slot_count

    def group(docs: Documents) -> Documents:
        groups: dict[Any, tuple[Any, list]] = {}
        for doc in docs:
            frame = _frame(slots)
            key_value = id_fn(doc, frame)
            if key_value is MISSING:
                key_value = None
            key = group_key(key_value)
            entry = groups.get(key)
            if entry is None:
                entry = groups[key] = (key_value, [factory() for _, factory, _ in fields])
            for state, (_, _, fn) in zip(entry[1], fields, strict=True):
                state.add(fn(doc, frame))
        out = []
        for key_value, states in groups.values():
            result = {"_id": key_value}
            for state, (name, _, _) in zip(states, fields, strict=True):
                result[name] = state.result()
            out.append(result)
        return out

    return Stage("$group", group)


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

    def order(left: list, right: list) -> int:
        for (_, direction), a, b in zip(keys, left, right, strict=True):
            c = compare(a, b)
            if c:
                return c * direction
        return 0

    def sort(docs: Documents) -> Documents:
        decorated = [
            ([_sort_value(d, parts, direction) for parts, direction in keys], d) for d in docs
        ]
        decorated.sort(key=lambda item: cmp_to_key(order)(item[0]))
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
}
