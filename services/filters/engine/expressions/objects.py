"""Object expression operators: $getField, $setField and $unsetField.

They read and write one field by its whole name, so names holding '.' or starting with '$' can
be reached. As in MongoDB 7.0, the name must be a constant string known at compile time (7.2
later accepts any expression).
"""

from __future__ import annotations

from typing import Any

from ..errors import EvaluationError, PipelineError
from ..values import MISSING, type_name
from .core import Compiler, Expr, Scope, object_arguments, operator


def _constant_field_name(name: str, spec: Any, c: Compiler, scope: Scope) -> str:
    """The field name given as a string or {$literal: ...}, refused otherwise with MongoDB's
    wording. Decided on the spec as written: MongoDB checks before any constant folding, so
    {$concat: ["a", "b"]} is not a constant."""
    if isinstance(spec, str) and spec.startswith("$"):
        raise PipelineError(
            f"'{spec}' is a field path reference which is not allowed in this context. "
            f"Did you mean {{$literal: '{spec}'}}?"
        )
    if isinstance(spec, dict) and len(spec) == 1 and next(iter(spec)) in ("$literal", "$const"):
        value = next(iter(spec.values()))
        c.compile(spec, scope)  # refuses $const where the engine does not support it
    elif isinstance(spec, (dict, list)):
        raise PipelineError(
            f"{name} requires 'field' to evaluate to a constant, but got a non-constant argument"
        )
    else:
        value = spec
    if type(value) is not str:
        raise PipelineError(
            f"{name} requires 'field' to evaluate to type String, but got {type_name(value)}"
        )
    return value


@operator("$getField")
def _get_field(args: Any, c: Compiler, scope: Scope) -> Expr:
    field_spec: Any = MISSING
    input_spec: Any = MISSING
    if isinstance(args, dict) and not (args and next(iter(args)).startswith("$")):
        for key, value in args.items():
            if key == "field":
                field_spec = value
            elif key == "input":
                input_spec = value
            else:
                raise PipelineError(f"$getField found an unknown argument: {key}")
        if field_spec is MISSING:
            raise PipelineError("$getField requires 'field' to be specified")
        if input_spec is MISSING:
            # Only the shorthand reads $$CURRENT; the object form must name its input.
            raise PipelineError("$getField requires 'input' to be specified")
    else:
        # Shorthand: {$getField: <field>} (an operator object, e.g. $literal, is the field).
        field_spec = args
    field = _constant_field_name("$getField", field_spec, c, scope)

    if input_spec is MISSING:

        def get_current_field(doc: dict, frame: list) -> Any:
            return doc.get(field, MISSING)

        return get_current_field

    input_fn = c.compile(input_spec, scope)

    def get_field(doc: dict, frame: list) -> Any:
        source = input_fn(doc, frame)
        if isinstance(source, dict):
            # The name is taken whole: "a.b" is a field called "a.b", not a path.
            return source.get(field, MISSING)
        # MongoDB 7.0 returns null for a null input, and missing for a missing one or for any
        # other non-document (the manual's "error" and "null for missing" are not what it does).
        return None if source is None else MISSING

    return get_field


_SET_FIELD_MESSAGES = (
    "{name} only supports an object as its argument",
    "{name} found an unknown argument: {key}",
    "{name} requires '{key}' to be specified",
)


def _compile_set_field(name: str, args: Any, c: Compiler, scope: Scope) -> Expr:
    unset = name == "$unsetField"
    required = ("field", "input") if unset else ("field", "value", "input")
    object_arguments(name, args, required, (), _SET_FIELD_MESSAGES)
    field = _constant_field_name(name, args["field"], c, scope)
    input_fn = c.compile(args["input"], scope)
    value_fn = None if unset else c.compile(args["value"], scope)

    def set_field(doc: dict, frame: list) -> Any:
        source = input_fn(doc, frame)
        if source is None or source is MISSING:
            return None
        if not isinstance(source, dict):
            # $unsetField is $setField underneath, and MongoDB names it so.
            raise EvaluationError("$setField requires 'input' to evaluate to type Object", 4161105)
        value = MISSING if value_fn is None else value_fn(doc, frame)
        out = dict(source)  # an existing field keeps its position; a new one goes last
        if value is MISSING:
            out.pop(field, None)
        else:
            out[field] = value
        return out

    return set_field


@operator("$setField")
def _set_field(args: Any, c: Compiler, scope: Scope) -> Expr:
    return _compile_set_field("$setField", args, c, scope)


@operator("$unsetField")
def _unset_field(args: Any, c: Compiler, scope: Scope) -> Expr:
    return _compile_set_field("$unsetField", args, c, scope)
