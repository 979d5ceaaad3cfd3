"""$let, $literal and $getField."""

from __future__ import annotations

from typing import Any

from ..errors import EvaluationError, PipelineError
from ..values import MISSING, type_name
from .core import Compiler, Expr, Scope, constant, object_arguments, operator


@operator("$literal")
def _literal(args: Any, c: Compiler, scope: Scope) -> Expr:
    return constant(args)


@operator("$let")
def _let(args: Any, c: Compiler, scope: Scope) -> Expr:
    object_arguments("$let", args, ("vars", "in"))
    variables = args["vars"]
    if not isinstance(variables, dict):
        raise PipelineError("$let: 'vars' must be an object of variable names to expressions")
    # The values see the outer scope only; the body sees them all at once.
    bindings = [
        (c.bind_variable(name, "$let"), c.compile(spec, scope)) for name, spec in variables.items()
    ]
    body = c.compile(
        args["in"],
        scope.bind({name: slot for name, (slot, _) in zip(variables, bindings, strict=True)}),
    )

    def let(doc: dict, frame: list) -> Any:
        values = [fn(doc, frame) for _, fn in bindings]
        for (slot, _), value in zip(bindings, values, strict=True):
            frame[slot] = value
        return body(doc, frame)

    return let


@operator("$getField")
def _get_field(args: Any, c: Compiler, scope: Scope) -> Expr:
    if isinstance(args, dict) and "field" in args:
        object_arguments("$getField", args, ("field",), ("input",))
        field_fn = c.compile(args["field"], scope)
        input_fn = c.compile(args["input"], scope) if "input" in args else None
    else:
        # Shorthand: {$getField: <field>} reads from $$CURRENT.
        field_fn = c.compile(args, scope)
        input_fn = None

    def get_field(doc: dict, frame: list) -> Any:
        field = field_fn(doc, frame)
        if type(field) is not str:
            raise EvaluationError(
                "$getField requires 'field' to evaluate to type String, but got "
                f"{type_name(field)}",
                3041704,
            )
        source = doc if input_fn is None else input_fn(doc, frame)
        if source is None or source is MISSING:
            return None
        if not isinstance(source, dict):
            raise EvaluationError(
                "$getField requires 'input' to evaluate to type Object, but got "
                f"{type_name(source)}",
                3041705,
            )
        # The name is taken whole: "a.b" is a field called "a.b", not a path.
        return source.get(field, MISSING)

    return get_field
