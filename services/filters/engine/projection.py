"""$project, $addFields/$set and $unset, applied as MongoDB's projection executor does.

A specification parses into a tree of nodes (one per sub-document path). An inclusion projection
first copies the included fields in the input's order (through arrays, dropping scalars where a
sub-document was asked for), then sets the computed fields in the specification's order; a
computed field under a path that holds no document replaces it with one. An exclusion
projection copies everything but the excluded fields. Input documents are never modified.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bson import Int64

from .errors import PipelineError
from .expressions import ROOT_SCOPE, Compiler, Expr
from .values import MISSING

DocumentTransform = Callable[[dict], dict]


@dataclass
class _Node:
    included: set[str] = field(default_factory=set)
    excluded: set[str] = field(default_factory=set)
    computed: dict[str, Expr] = field(default_factory=dict)
    children: dict[str, _Node] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)  # every name, in specification order
    # Names whose computed value or computed descendants are set, in specification order.
    expression_order: list[str] = field(default_factory=list)

    computes: bool = False  # whether this subtree sets any computed field

    def finish(self) -> None:
        """Fix expression_order once the whole specification is parsed."""
        for child in self.children.values():
            child.finish()
        self.computes = self.has_computed()
        self.expression_order = [
            name
            for name in self.order
            if name in self.computed
            or (name in self.children and self.children[name].has_computed())
        ]

    def names(self) -> set[str]:
        return self.included | self.excluded | set(self.computed) | set(self.children)

    def has_computed(self) -> bool:
        return bool(self.computed) or any(c.has_computed() for c in self.children.values())

    def has_inclusions(self) -> bool:
        return bool(self.included) or any(c.has_inclusions() for c in self.children.values())

    def has_exclusions(self) -> bool:
        return bool(self.excluded) or any(c.has_exclusions() for c in self.children.values())


_INCLUDE, _EXCLUDE = "include", "exclude"


class _SpecParser:
    """Turns a specification into a node tree; `kind` is "$project" or "$addFields"."""

    def __init__(self, kind: str, compiler: Compiler) -> None:
        self.kind = kind
        self.compiler = compiler
        # In $project and $unset a number or bool is an inclusion/exclusion flag; in $addFields
        # it is a literal value.
        self.flags = kind != "$addFields" and kind != "$set"

    def parse(self, spec: Any) -> _Node:
        if not isinstance(spec, dict):
            raise PipelineError(f"{self.kind} specification must be an object")
        root = _Node()
        self._walk(spec, root, "")
        root.finish()
        return root

    def _walk(self, spec: dict, node: _Node, prefix: str) -> None:
        for key, value in spec.items():
            if not isinstance(key, str) or not key:
                raise PipelineError(f"{self.kind}: field names must be non-empty strings")
            parts = key.split(".")
            for part in parts:
                if not part:
                    raise PipelineError(
                        f"{self.kind}: field path '{prefix}{key}' has an empty part"
                    )
                if part.startswith("$"):
                    raise PipelineError(
                        f"{self.kind}: field path '{prefix}{key}' may not start with '$' "
                        "(an expression must be the value of a field)"
                    )
            target = node
            path = prefix
            for part in parts[:-1]:
                path += part
                target = self._child(target, part, path)
                path += "."
            self._add(target, parts[-1], value, path + parts[-1])

    def _child(self, node: _Node, name: str, path: str) -> _Node:
        if name in node.children:
            return node.children[name]
        if name in node.names():
            raise PipelineError(f"{self.kind}: path collision at {path}")
        child = node.children[name] = _Node()
        node.order.append(name)
        return child

    def _add(self, node: _Node, name: str, value: Any, path: str) -> None:
        if isinstance(value, dict) and value and not next(iter(value)).startswith("$"):
            self._walk(value, self._child(node, name, path), path + ".")
            return
        if name in node.names():
            raise PipelineError(f"{self.kind}: path collision at {path}")
        node.order.append(name)
        if self.flags and (type(value) is bool or _is_number(value)):
            (node.included if value else node.excluded).add(name)
            return
        if self.flags and isinstance(value, dict) and not value:
            raise PipelineError(
                f"$project: an empty sub-projection is not a valid value (at path {path})"
            )
        node.computed[name] = self.compiler.compile(value, ROOT_SCOPE)


def _is_number(value: Any) -> bool:
    return type(value) in (int, float, Int64)


# --- applying ---------------------------------------------------------------------------------


def _included(node: _Node, doc: dict) -> dict:
    out = {}
    included, children = node.included, node.children
    for key, value in doc.items():
        if key in included:
            out[key] = value
        else:
            child = children.get(key)
            if child is not None:
                projected = _included_value(child, value)
                if projected is not MISSING:
                    out[key] = projected
    return out


def _included_value(node: _Node, value: Any) -> Any:
    if isinstance(value, dict):
        return _included(node, value)
    if isinstance(value, list):
        projected = [_included_value(node, element) for element in value]
        if node.computes:
            # Kept as placeholders: the computed fields turn them into documents next.
            return projected
        return [element for element in projected if element is not MISSING]
    return MISSING  # a scalar where a sub-document was asked for


def _set_computed(node: _Node, out: dict, root: dict, frame: list) -> None:
    for name in node.expression_order:
        fn = node.computed.get(name)
        if fn is not None:
            value = fn(root, frame)
            if value is MISSING:
                out.pop(name, None)  # $$REMOVE (or a missing value) leaves the field out
            else:
                out[name] = value
        else:
            out[name] = _computed_value(node.children[name], out.get(name, MISSING), root, frame)


def _computed_value(node: _Node, value: Any, root: dict, frame: list) -> Any:
    if isinstance(value, dict):
        copy = dict(value)
        _set_computed(node, copy, root, frame)
        return copy
    if isinstance(value, list):
        return [_computed_value(node, element, root, frame) for element in value]
    # Anything else is replaced by a document of the computed fields: {"a.b": 1} on {a: 1}.
    fresh: dict = {}
    _set_computed(node, fresh, root, frame)
    return fresh


def _excluded(node: _Node, doc: dict) -> dict:
    out = {}
    excluded, children = node.excluded, node.children
    for key, value in doc.items():
        if key in excluded:
            continue
        child = children.get(key)
        out[key] = value if child is None else _excluded_value(child, value)
    return out


def _excluded_value(node: _Node, value: Any) -> Any:
    if isinstance(value, dict):
        return _excluded(node, value)
    if isinstance(value, list):
        return [_excluded_value(node, element) for element in value]
    return value


def _with_frame(slots: int, apply: Callable[[dict, list], dict]) -> DocumentTransform:
    if slots == 0:
        frame: list = []
        return lambda doc: apply(doc, frame)
    return lambda doc: apply(doc, [None] * slots)


# --- the stages -------------------------------------------------------------------------------


def compile_project(spec: Any) -> DocumentTransform:
    compiler = Compiler()
    root = _SpecParser("$project", compiler).parse(spec)
    if not root.names():
        raise PipelineError("$project requires at least one output field")
    id_rule = None
    if "_id" in root.included or "_id" in root.excluded:
        id_rule = "_id" in root.included
        root.included.discard("_id")
        root.excluded.discard("_id")
    inclusion = root.has_inclusions() or root.has_computed() or id_rule is True
    if inclusion:
        if root.has_exclusions():
            raise PipelineError(
                "$project: cannot do exclusion in an inclusion projection (only _id may be "
                "excluded alongside included or computed fields)"
            )
        if id_rule is not False and "_id" not in root.names():
            root.included.add("_id")
        has_computed = root.has_computed()

        def include(doc: dict, frame: list) -> dict:
            out = _included(root, doc)
            if has_computed:
                _set_computed(root, out, doc, frame)
            return out

        return _with_frame(compiler.slot_count, include)
    if id_rule is False:
        root.excluded.add("_id")
    return lambda doc: _excluded(root, doc)


def compile_add_fields(spec: Any, kind: str = "$addFields") -> DocumentTransform:
    compiler = Compiler()
    root = _SpecParser(kind, compiler).parse(spec)

    def add_fields(doc: dict, frame: list) -> dict:
        out = dict(doc)
        _set_computed(root, out, doc, frame)
        return out

    return _with_frame(compiler.slot_count, add_fields)


def compile_unset(spec: Any) -> DocumentTransform:
    paths = [spec] if isinstance(spec, str) else spec
    if not isinstance(paths, list) or not paths:
        raise PipelineError("$unset specification must be a string or a non-empty array of strings")
    if not all(isinstance(path, str) for path in paths):
        raise PipelineError("$unset specification must be a string or an array of strings")
    root = _SpecParser("$unset", Compiler()).parse({path: 0 for path in paths})
    return lambda doc: _excluded(root, doc)
