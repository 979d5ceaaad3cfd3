"""Dotted field paths: parsing, and the two ways MongoDB walks them through arrays.

Expressions ("$a.b") map over arrays and return the array of values found; queries ({"a.b": x})
collect every value the path can reach, so that a match on any of them matches the document.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import PipelineError
from .values import MISSING


def split_path(path: str, what: str = "field path") -> tuple[str, ...]:
    """Split "a.b.c" into its components, refusing the paths MongoDB refuses."""
    if not path:
        raise PipelineError(f"{what} must not be empty")
    parts = tuple(path.split("."))
    for part in parts:
        if not part:
            raise PipelineError(f"{what} '{path}' must not contain an empty field name")
        if part.startswith("$"):
            raise PipelineError(f"{what} '{path}': field names may not start with '$'")
    return parts


# --- expressions ------------------------------------------------------------------------------


def traverse(value: Any, parts: tuple[str, ...], start: int) -> Any:
    """Follow parts[start:] from value with expression semantics (arrays map, misses drop)."""
    for i in range(start, len(parts)):
        if isinstance(value, dict):
            value = value.get(parts[i], MISSING)
        elif isinstance(value, list):
            return _traverse_array(value, parts, i)
        else:
            return MISSING
    return value


def _traverse_array(array: list, parts: tuple[str, ...], start: int) -> list:
    # Only documents are followed: scalars and nested arrays are skipped, as in MongoDB's
    # ExpressionFieldPath::evaluatePathArray ({a: [[{b: 1}]]} gives "$a.b" = []).
    found = []
    for element in array:
        if isinstance(element, dict):
            value = traverse(element.get(parts[start], MISSING), parts, start + 1)
            if value is not MISSING:
                found.append(value)
    return found


def document_getter(parts: tuple[str, ...]) -> Callable[[dict], Any]:
    """A fast reader of "$a.b.c" from a document, specialised for short all-dict paths."""
    if len(parts) == 1:
        (key,) = parts

        def get1(doc: dict) -> Any:
            return doc.get(key, MISSING)

        return get1
    if len(parts) == 2:
        k0, k1 = parts

        def get2(doc: dict) -> Any:
            v = doc.get(k0, MISSING)
            if type(v) is dict:
                return v.get(k1, MISSING)
            return traverse(v, parts, 1)

        return get2
    if len(parts) == 3:
        k0, k1, k2 = parts

        def get3(doc: dict) -> Any:
            v = doc.get(k0, MISSING)
            if type(v) is dict:
                w = v.get(k1, MISSING)
                if type(w) is dict:
                    return w.get(k2, MISSING)
                return traverse(w, parts, 2)
            return traverse(v, parts, 1)

        return get3

    def get_n(doc: dict) -> Any:
        return traverse(doc, parts, 0)

    return get_n


# --- queries ----------------------------------------------------------------------------------

# Returned by a query getter when the path crosses an array before its last component, so the
# caller must collect every reachable value instead of reading one.
MULTIPLE = object()


def query_getter(parts: tuple[str, ...]) -> Callable[[dict], Any]:
    """Read a path as a query does when no array lies before its last component.

    Returns the value (or MISSING), or MULTIPLE when an intermediate value is an array.
    """
    if len(parts) == 1:
        (key,) = parts

        def get1(doc: dict) -> Any:
            return doc.get(key, MISSING)

        return get1
    if len(parts) == 2:
        k0, k1 = parts

        def get2(doc: dict) -> Any:
            v = doc.get(k0, MISSING)
            if type(v) is dict:
                return v.get(k1, MISSING)
            return MULTIPLE if isinstance(v, (list, dict)) else MISSING

        return get2

    def get_n(doc: Any) -> Any:
        value = doc
        for part in parts:
            if type(value) is dict or isinstance(value, dict):
                value = value.get(part, MISSING)
            elif isinstance(value, list):
                return MULTIPLE
            else:
                return MISSING
        return value

    return get_n


def query_values(doc: Any, parts: tuple[str, ...]) -> list[Any]:
    """Every value a query path reaches: arrays before the last component fan out, and a
    numeric component also indexes an array. Yields MISSING where the path ends nowhere."""
    found: list[Any] = []
    _collect(doc, parts, 0, found)
    return found or [MISSING]


def _collect(value: Any, parts: tuple[str, ...], i: int, found: list[Any]) -> None:
    if i == len(parts):
        found.append(value)
        return
    if isinstance(value, dict):
        _collect(value.get(parts[i], MISSING), parts, i + 1, found)
    elif isinstance(value, list):
        part = parts[i]
        if part.isdigit():
            index = int(part)
            if index < len(value):
                _collect(value[index], parts, i + 1, found)
        for element in value:
            # Nested arrays are not entered: a path steps into one level of array at a time.
            if isinstance(element, dict):
                _collect(element, parts, i, found)
    else:
        found.append(MISSING)


# --- building documents -----------------------------------------------------------------------


def get_simple(doc: dict, parts: tuple[str, ...]) -> Any:
    """Read a path through documents only (as $unwind does): an array on the way is a miss."""
    value: Any = doc
    for part in parts:
        if not isinstance(value, dict):
            return MISSING
        value = value.get(part, MISSING)
    return value


def set_simple(doc: dict, parts: tuple[str, ...], value: Any) -> dict:
    """A shallow copy of doc with the path set to value, copying the documents on the way."""
    out = dict(doc)
    target = out
    for part in parts[:-1]:
        child = target.get(part)
        child = dict(child) if isinstance(child, dict) else {}
        target[part] = child
        target = child
    if value is MISSING:
        target.pop(parts[-1], None)
    else:
        target[parts[-1]] = value
    return out
