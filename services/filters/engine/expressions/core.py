"""Compiling aggregation expressions into closures.

An expression compiles once into a function `(document, frame) -> value`. The document is
$$CURRENT (and $$ROOT); the frame is a list holding the variables bound by $let, $map, $filter
and $reduce, each resolved to a slot index at compile time, so evaluation does no name lookups.
Operators register a compile function in OPERATORS; nothing looks an operator up at run time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from bson import Code

from ..errors import EvaluationError, PipelineError
from ..paths import document_getter, split_path, traverse
from ..values import MISSING, type_name

Expr = Callable[[dict, list], Any]
OperatorCompiler = Callable[[Any, "Compiler", "Scope"], Expr]

OPERATORS: dict[str, OperatorCompiler] = {}

# Operators refused with a reason rather than "unsupported".
FORBIDDEN_EXPRESSION_OPERATORS = {
    "$function": "it runs server-side JavaScript",
    "$accumulator": "it runs server-side JavaScript",
    "$where": "it runs server-side JavaScript",
    "$rand": "filters must be deterministic: a replayed alert must pass the same filters",
    "$meta": "text search scores need a text index; filters run on one alert",
    "$toHashedIndexKey": "it depends on the server's hash internals",
}

SYSTEM_VARIABLES = {"ROOT", "CURRENT", "REMOVE"}
# System variables that other modules provide (name -> compile function): $$NOW in dates.py.
SYSTEM_VARIABLE_COMPILERS: dict[str, Callable[[], Expr]] = {}
# System variables refused with a reason rather than "unsupported".
REFUSED_SYSTEM_VARIABLES = {
    "CLUSTER_TIME": "a filter runs outside any replica set, so there is no cluster clock",
}
_USER_VARIABLE = re.compile(r"^[a-z\x80-\U0010ffff][A-Za-z0-9_\x80-\U0010ffff]*$")


def operator(*names: str) -> Callable[[OperatorCompiler], OperatorCompiler]:
    """Register the decorated function as the compiler of the named expression operators."""

    def register(compile_fn: OperatorCompiler) -> OperatorCompiler:
        for name in names:
            OPERATORS[name] = compile_fn
        return compile_fn

    return register


class Scope:
    """The user variables visible at a point of an expression, each mapped to its frame slot."""

    __slots__ = ("_slots",)

    def __init__(self, slots: dict[str, int] | None = None) -> None:
        self._slots = slots or {}

    def bind(self, names: dict[str, int]) -> Scope:
        return Scope({**self._slots, **names})

    def slot(self, name: str) -> int | None:
        return self._slots.get(name)


ROOT_SCOPE = Scope()


class Compiler:
    """Compiles the expressions of one stage and counts the frame slots they need."""

    def __init__(self) -> None:
        self.slot_count = 0
        # Set by $redact, where $$ROOT stays the whole document while $$CURRENT descends.
        self.root_slot: int | None = None

    def new_slot(self) -> int:
        self.slot_count += 1
        return self.slot_count - 1

    def bind_variable(self, name: Any, operator_name: str) -> int:
        check_user_variable_name(name, operator_name)
        return self.new_slot()

    def compile(self, spec: Any, scope: Scope) -> Expr:
        if isinstance(spec, str):
            if spec.startswith("$$"):
                return self._variable(spec[2:], scope)
            if spec.startswith("$"):
                return _field_path(spec)
            return constant(spec)
        if isinstance(spec, dict):
            if spec and next(iter(spec)).startswith("$"):
                return self._operator(spec, scope)
            return self._object(spec, scope)
        if isinstance(spec, list):
            return self._array(spec, scope)
        return constant(spec)

    def _operator(self, spec: dict, scope: Scope) -> Expr:
        if len(spec) != 1:
            raise PipelineError(
                "an expression specification must contain exactly one field, the name of the "
                f"expression; found {len(spec)} fields: {', '.join(spec)}"
            )
        ((name, args),) = spec.items()
        compile_fn = OPERATORS.get(name)
        if compile_fn is None:
            reason = FORBIDDEN_EXPRESSION_OPERATORS.get(name)
            if reason:
                raise PipelineError(f"forbidden expression operator {name} ({reason})")
            raise PipelineError(f"unsupported expression operator {name}")
        return compile_fn(args, self, scope)

    def _object(self, spec: dict, scope: Scope) -> Expr:
        fields = []
        for key, value in spec.items():
            if not isinstance(key, str) or not key:
                raise PipelineError("field names in an expression object must be non-empty")
            if key.startswith("$"):
                raise PipelineError(
                    f"field name '{key}' in an expression object may not start with '$' "
                    "(an operator must be the only field of its object)"
                )
            if "." in key:
                raise PipelineError(
                    f"field name '{key}' in an expression object may not contain '.'"
                )
            fields.append((key, self.compile(value, scope)))

        def build_object(doc: dict, frame: list) -> dict:
            out = {}
            for key, fn in fields:
                value = fn(doc, frame)
                if value is not MISSING:
                    out[key] = value
            return out

        return build_object

    def _array(self, spec: list, scope: Scope) -> Expr:
        items = [self.compile(item, scope) for item in spec]

        def build_array(doc: dict, frame: list) -> list:
            # A missing element becomes null: arrays cannot hold "nothing".
            out = []
            for fn in items:
                value = fn(doc, frame)
                out.append(None if value is MISSING else value)
            return out

        return build_array

    def _variable(self, text: str, scope: Scope) -> Expr:
        name, _, rest = text.partition(".")
        parts = split_path(rest, f"variable path '$${text}'") if rest else ()
        if name == "ROOT" and self.root_slot is not None:
            root = self.root_slot
            if not parts:
                return lambda doc, frame: frame[root]
            return lambda doc, frame: traverse(frame[root], parts, 0)
        if name in ("ROOT", "CURRENT"):
            if not parts:
                return lambda doc, frame: doc
            get = document_getter(parts)
            return lambda doc, frame: get(doc)
        if name == "REMOVE":
            return constant(MISSING)
        provided = SYSTEM_VARIABLE_COMPILERS.get(name)
        if provided is not None:
            fn = provided()
            return fn if not parts else lambda doc, frame: traverse(fn(doc, frame), parts, 0)
        slot = scope.slot(name)
        if slot is None:
            reason = REFUSED_SYSTEM_VARIABLES.get(name)
            if reason:
                raise PipelineError(f"unsupported system variable $${name} ({reason})")
            if name and name[0].isupper():
                raise PipelineError(f"unsupported system variable $${name}")
            raise PipelineError(f"use of undefined variable: {name}")
        if not parts:
            return lambda doc, frame: frame[slot]
        return lambda doc, frame: traverse(frame[slot], parts, 0)


def _field_path(spec: str) -> Expr:
    if spec == "$":
        raise PipelineError("'$' by itself is not a valid field path")
    get = document_getter(split_path(spec[1:], f"field path '{spec}'"))

    def field(doc: dict, frame: list) -> Any:
        return get(doc)

    field.field_getter = get  # type: ignore[attr-defined]
    return field


def check_user_variable_name(name: Any, operator_name: str) -> None:
    if not isinstance(name, str) or not name:
        raise PipelineError(f"{operator_name}: variable names must be non-empty strings")
    if not _USER_VARIABLE.match(name):
        raise PipelineError(
            f"{operator_name}: '{name}' is not a valid user variable name (it must start with a "
            "lowercase letter and contain only letters, digits and '_')"
        )


def constant(value: Any) -> Expr:
    def const(doc: dict, frame: list) -> Any:
        return value

    const.constant_value = value  # type: ignore[attr-defined]
    return const


def is_constant(fn: Expr) -> bool:
    return hasattr(fn, "constant_value")


def constant_value(fn: Expr) -> Any:
    return fn.constant_value  # type: ignore[attr-defined]


def operands(args: Any) -> list:
    """An operator's arguments: a list as given, any other value as a one-element list."""
    return args if isinstance(args, list) else [args]


def expect_arity(name: str, args: list, least: int, most: int | None = -1) -> None:
    """Refuse a wrong number of arguments, with MongoDB's wording (code 16020)."""
    most = least if most == -1 else most
    count = len(args)
    if least == most and count != least:
        raise PipelineError(
            f"Expression {name} takes exactly {least} arguments. {count} were passed in."
        )
    if count < least or (most is not None and count > most):
        bound = f"at least {least}" + (f" and at most {most}" if most is not None else "")
        raise PipelineError(f"Expression {name} takes {bound} arguments. {count} were passed in.")


def compile_operands(
    name: str, args: Any, c: Compiler, scope: Scope, least: int, most: int | None = -1
) -> list[Expr]:
    items = operands(args)
    expect_arity(name, items, least, most)
    return [c.compile(item, scope) for item in items]


# MongoDB's wording for an object of named arguments, which differs from operator to operator:
# format strings of {name}, {type} and {key} for not an object, an unknown key, a missing key.
ArgumentMessages = tuple[str, str, str]
_ARGUMENT_MESSAGES: ArgumentMessages = (
    "{name} only supports an object as its argument",
    "Unrecognized parameter to {name}: {key}",
    "Missing '{key}' parameter to {name}",
)


def object_arguments(
    name: str,
    args: Any,
    required: tuple[str, ...],
    optional: tuple[str, ...] = (),
    messages: ArgumentMessages = _ARGUMENT_MESSAGES,
) -> dict[str, Any]:
    """Check the named arguments of an object-form operator ($filter, $let, $convert ...)."""
    not_object, unknown, missing = messages
    if not isinstance(args, dict):
        raise PipelineError(not_object.format(name=name, type=type_name(args)))
    for key in args:
        if key not in required and key not in optional:
            raise PipelineError(unknown.format(name=name, key=key))
    for key in required:
        if key not in args:
            raise PipelineError(missing.format(name=name, key=key))
    return args


def compile_time(evaluate: Callable[..., Any], *args: Any) -> Any:
    """evaluate(*args) at compile time: an EvaluationError it raises refuses the pipeline (as
    MongoDB's optimize() does with a constant argument it cannot use)."""
    try:
        return evaluate(*args)
    except EvaluationError as exc:
        raise PipelineError(exc.message) from None


def fold_constant(fn: Expr, operands: list[Expr]) -> Expr:
    """An expression whose operands are all constants, evaluated once at compile time.

    MongoDB's optimize() does the same for these operators, so an error it raises there
    refuses the pipeline before any document, as here.
    """
    if not all(is_constant(operand) for operand in operands):
        return fn
    try:
        return constant(fn({}, []))
    except EvaluationError as exc:
        raise PipelineError(str(exc)) from None


Compute = Callable[[Any], Any]


def unary_operator(
    name: str,
    accepts: type | tuple[type, ...],
    refusal: str,
    code: int,
    *,
    nullable: bool = True,
    fold: bool = False,
) -> Callable[[Compute], Compute]:
    """Register the decorated `compute(value)` as the operator `name` of one operand: a value
    of the `accepts` types gives compute(value); null and missing give null (unless not
    `nullable`: then they are refused like any other value); anything else raises
    EvaluationError(refusal + its type name, code). `fold`: see fold_constant.

    `accepts` takes subclasses too (SON is a document), except bson's Code: it subclasses str
    but is BSON's javascript type, not a string."""

    def register(compute: Compute) -> Compute:
        @operator(name)
        def compile_unary(args: Any, c: Compiler, scope: Scope) -> Expr:
            (item,) = compile_operands(name, args, c, scope, 1)

            def unary(doc: dict, frame: list) -> Any:
                value = item(doc, frame)
                if isinstance(value, accepts) and type(value) is not Code:
                    return compute(value)
                if nullable and (value is None or value is MISSING):
                    return None
                raise EvaluationError(refusal + type_name(value), code)

            return fold_constant(unary, [item]) if fold else unary

        return compute

    return register


def all_operands_operator(
    name: str, accepts: type, refusal: str, code: int, *, fold: bool = False
) -> Callable[[Compute], Compute]:
    """Register the decorated `compute(values)` as the operator `name` of any number of
    operands, all of the `accepts` type: the first null or missing one makes the result null, a
    value of another type before it raises EvaluationError(refusal + its type name, code).
    `fold`: see fold_constant."""

    def register(compute: Compute) -> Compute:
        @operator(name)
        def compile_all(args: Any, c: Compiler, scope: Scope) -> Expr:
            items = compile_operands(name, args, c, scope, 0, None)

            def all_operands(doc: dict, frame: list) -> Any:
                values = []
                for fn in items:
                    value = fn(doc, frame)
                    if isinstance(value, accepts) and type(value) is not Code:
                        values.append(value)
                    elif value is None or value is MISSING:
                        return None
                    else:
                        raise EvaluationError(refusal + type_name(value), code)
                return compute(values)

            return fold_constant(all_operands, items) if fold else all_operands

        return compute

    return register


def reduction_operator(name: str, reduce: Callable[[list], Any]) -> None:
    """Register the expression form of an accumulator ($sum, $stdDevPop, $mergeObjects ...):
    one operand that is an array is reduced over its elements (one other value over itself),
    several operands over their values."""

    @operator(name)
    def compile_reduction(args: Any, c: Compiler, scope: Scope) -> Expr:
        items = compile_operands(name, args, c, scope, 0, None)
        if len(items) == 1:
            (item,) = items

            def over_one(doc: dict, frame: list) -> Any:
                value = item(doc, frame)
                return reduce(value if isinstance(value, list) else [value])

            return over_one
        return lambda doc, frame: reduce([fn(doc, frame) for fn in items])
