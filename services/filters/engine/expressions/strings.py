"""String expression operators. Substring and case operators coerce their input to a string
as MongoDB does (null and missing become "", numbers and dates their text)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from bson import Int64

from ..errors import EvaluationError, PipelineError
from ..regex import compile_regex, pattern_parts
from ..values import MISSING, format_number, type_name
from .conversion import format_date
from .core import (
    Compiler,
    Expr,
    Scope,
    compile_operands,
    constant_value,
    is_constant,
    object_arguments,
    operator,
)

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def coerce_to_string(value: Any) -> str:
    """Value::coerceToString: the text MongoDB's string operators work on."""
    t = type(value)
    if t is str:
        return value
    if value is None or value is MISSING:
        return ""
    if t is float:
        return format_number(value)
    if t is int or t is Int64:
        return str(int(value))
    if isinstance(value, dt.datetime):
        return format_date(value)
    raise EvaluationError(f"can't convert from BSON type {type_name(value)} to String", 16007)


@operator("$concat")
def _concat(args: Any, c: Compiler, scope: Scope) -> Expr:
    items = compile_operands("$concat", args, c, scope, 0, None)

    def concat(doc: dict, frame: list) -> Any:
        parts = []
        for fn in items:
            value = fn(doc, frame)
            if type(value) is str:
                parts.append(value)
            elif value is None or value is MISSING:
                return None
            else:
                raise EvaluationError(
                    f"$concat only supports strings, not {type_name(value)}", 16702
                )
        return "".join(parts)

    return concat


def _numeric(value: Any) -> bool:
    t = type(value)
    return t is float or t is int or t is Int64


def _substr_bytes(name: str, text: Any, start: Any, length: Any) -> str:
    data = coerce_to_string(text).encode()
    if not _numeric(start):
        raise EvaluationError(
            f"{name}: starting index must be a numeric type (is BSON type {type_name(start)})",
            16034,
        )
    if not _numeric(length):
        raise EvaluationError(
            f"{name}: length must be a numeric type (is BSON type {type_name(length)})", 16035
        )
    lower = int(start)
    if lower < 0:
        raise EvaluationError(f"{name}: starting index must be non-negative (got: {lower})", 50752)
    count = len(data) if int(length) < 0 else int(length)
    if lower < len(data) and _is_continuation(data[lower]):
        raise EvaluationError(
            f"{name}: Invalid range, starting index is a UTF-8 continuation byte.", 28656
        )
    if lower + count < len(data) and _is_continuation(data[lower + count]):
        raise EvaluationError(
            f"{name}: Invalid range, ending index is in the middle of a UTF-8 character.", 28657
        )
    return data[lower : lower + count].decode()


def _is_continuation(byte: int) -> bool:
    return byte & 0xC0 == 0x80


def _register_substr_bytes(name: str) -> None:
    @operator(name)
    def compile_substr(args: Any, c: Compiler, scope: Scope) -> Expr:
        text_fn, start_fn, length_fn = compile_operands(name, args, c, scope, 3)
        return lambda doc, frame: _substr_bytes(
            name, text_fn(doc, frame), start_fn(doc, frame), length_fn(doc, frame)
        )


_register_substr_bytes("$substrBytes")
_register_substr_bytes("$substr")  # deprecated alias of $substrBytes


def _integral(value: Any) -> bool:
    return type(value) is not float or value.is_integer()


@operator("$substrCP")
def _substr_cp(args: Any, c: Compiler, scope: Scope) -> Expr:
    text_fn, start_fn, length_fn = compile_operands("$substrCP", args, c, scope, 3)

    def substr_cp(doc: dict, frame: list) -> str:
        text = text_fn(doc, frame)
        start = start_fn(doc, frame)
        length = length_fn(doc, frame)
        if not _numeric(start):
            raise EvaluationError(
                "$substrCP: starting index must be a numeric type (is BSON type "
                f"{type_name(start)})",
                34450,
            )
        if not _integral(start):
            raise EvaluationError(
                "$substrCP: starting index cannot be represented as a 32-bit integral value: "
                f"{format_number(start)}",
                34451,
            )
        if not _numeric(length):
            raise EvaluationError(
                f"$substrCP: length must be a numeric type (is BSON type {type_name(length)})",
                34452,
            )
        if not _integral(length):
            raise EvaluationError(
                "$substrCP: length cannot be represented as a 32-bit integral value: "
                f"{format_number(length)}",
                34453,
            )
        if length < 0:
            raise EvaluationError("$substrCP: length must be a nonnegative integer.", 34454)
        if start < 0:
            raise EvaluationError(
                "$substrCP: the starting index must be nonnegative integer.", 34455
            )
        string = coerce_to_string(text)
        return string[int(start) : int(start) + int(length)]

    return substr_cp


def _register_case(name: str, table: dict[int, str]) -> None:
    @operator(name)
    def compile_case(args: Any, c: Compiler, scope: Scope) -> Expr:
        (text_fn,) = compile_operands(name, args, c, scope, 1)
        # MongoDB changes the case of ASCII letters only.
        return lambda doc, frame: coerce_to_string(text_fn(doc, frame)).translate(table)


_register_case("$toLower", _ASCII_LOWER)
_register_case("$toUpper", _ASCII_UPPER)


@operator("$strLenCP")
def _str_len_cp(args: Any, c: Compiler, scope: Scope) -> Expr:
    (text_fn,) = compile_operands("$strLenCP", args, c, scope, 1)

    def str_len(doc: dict, frame: list) -> int:
        text = text_fn(doc, frame)
        if type(text) is not str:
            raise EvaluationError(
                f"$strLenCP requires a string argument, found: {type_name(text)}", 34471
            )
        return len(text)

    return str_len


# --- $regexMatch ------------------------------------------------------------------------------


def _regex_from(value: Any, options: Any) -> re.Pattern | None:
    """The compiled pattern of a $regexMatch 'regex' and 'options', or None when null."""
    if value is None or value is MISSING:
        return None
    if options is not None and options is not MISSING and type(options) is not str:
        raise EvaluationError("$regexMatch needs 'options' to be of type string", 51106)
    option_text = options if type(options) is str else ""
    parts = pattern_parts(value)
    if parts is not None:
        pattern, flags = parts
        if flags and option_text:
            raise EvaluationError(
                "$regexMatch: found regex options specified in both 'regex' and 'option' fields",
                51075,
            )
        option_text = flags or option_text
    elif type(value) is str:
        pattern = value
    else:
        raise EvaluationError("$regexMatch needs 'regex' to be of type string or regex", 51105)
    try:
        return compile_regex(pattern, option_text)
    except PipelineError as exc:
        raise EvaluationError(f"$regexMatch: {exc}", 51111) from None


@operator("$regexMatch")
def _regex_match(args: Any, c: Compiler, scope: Scope) -> Expr:
    object_arguments("$regexMatch", args, ("input", "regex"), ("options",))
    input_fn = c.compile(args["input"], scope)
    regex_fn = c.compile(args["regex"], scope)
    options_fn = c.compile(args.get("options"), scope)
    fixed: re.Pattern | None = None
    if is_constant(regex_fn) and is_constant(options_fn):
        # A constant pattern is compiled once, and a bad one is refused before any document.
        try:
            fixed = _regex_from(constant_value(regex_fn), constant_value(options_fn))
        except EvaluationError as exc:
            raise PipelineError(exc.message) from None
        if fixed is None:
            return lambda doc, frame: False

    def regex_match(doc: dict, frame: list) -> bool:
        pattern = fixed or _regex_from(regex_fn(doc, frame), options_fn(doc, frame))
        text = input_fn(doc, frame)
        if text is None or text is MISSING or pattern is None:
            return False
        if type(text) is not str:
            raise EvaluationError("$regexMatch needs 'input' to be of type string", 51104)
        return pattern.search(text) is not None

    return regex_match
