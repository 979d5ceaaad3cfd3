"""$let and $literal."""

from __future__ import annotations

from typing import Any

from ..errors import PipelineError
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
