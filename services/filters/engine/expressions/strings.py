"""String expression operators. Substring and case operators coerce their input to a string
as MongoDB does (null and missing become "", numbers and dates their text); the others refuse
what is not a string with MongoDB's codes. Indexes and lengths are in UTF-8 bytes for the *Bytes
operators and in code points (Python's str indexes) for the *CP and regex operators."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from bson import Decimal128, Int64

from ..errors import EvaluationError, PipelineError
from ..regex import compile_regex, pattern_parts
from ..values import INT32_MAX, INT32_MIN, MISSING, format_number, type_name
from .conversion import format_date
from .core import (
    Compiler,
    Expr,
    Scope,
    all_operands_operator,
    compile_operands,
    compile_time,
    constant_value,
    is_constant,
    object_arguments,
    operator,
    unary_operator,
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
    if t is Decimal128:
        return str(value)
    if isinstance(value, dt.datetime):
        return format_date(value)
    raise EvaluationError(f"can't convert from BSON type {type_name(value)} to String", 16007)


all_operands_operator("$concat", str, "$concat only supports strings, not ", 16702)("".join)


def _numeric(value: Any) -> bool:
    t = type(value)
    return t is float or t is int or t is Int64


def _substr_bytes(text: Any, start: Any, length: Any) -> str:
    # $substr parses into $substrBytes, so both report "$substrBytes" (with MongoDB's two spaces).
    data = coerce_to_string(text).encode()
    if not _numeric(start):
        raise EvaluationError(
            "$substrBytes:  starting index must be a numeric type (is BSON type "
            f"{type_name(start)})",
            16034,
        )
    if not _numeric(length):
        raise EvaluationError(
            f"$substrBytes:  length must be a numeric type (is BSON type {type_name(length)})",
            16035,
        )
    lower = int(start)
    if lower < 0:
        raise EvaluationError(
            f"$substrBytes:  starting index must be non-negative (got: {lower})", 50752
        )
    count = len(data) if int(length) < 0 else int(length)
    if lower < len(data) and _is_continuation(data[lower]):
        raise EvaluationError(
            "$substrBytes:  Invalid range, starting index is a UTF-8 continuation byte.", 28656
        )
    if lower + count < len(data) and _is_continuation(data[lower + count]):
        raise EvaluationError(
            "$substrBytes:  Invalid range, ending index is in the middle of a UTF-8 character.",
            28657,
        )
    return data[lower : lower + count].decode()


def _is_continuation(byte: int) -> bool:
    return byte & 0xC0 == 0x80


def _register_substr_bytes(name: str) -> None:
    @operator(name)
    def compile_substr(args: Any, c: Compiler, scope: Scope) -> Expr:
        text_fn, start_fn, length_fn = compile_operands(name, args, c, scope, 3)
        return lambda doc, frame: _substr_bytes(
            text_fn(doc, frame), start_fn(doc, frame), length_fn(doc, frame)
        )


_register_substr_bytes("$substrBytes")
_register_substr_bytes("$substr")  # deprecated alias of $substrBytes


def _integral(value: Any) -> bool:
    """Value::integral(): a number representable as a 32-bit int."""
    t = type(value)
    if t is float:
        return value.is_integer() and INT32_MIN <= value <= INT32_MAX
    return (t is int or t is Int64) and INT32_MIN <= value <= INT32_MAX


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


unary_operator(
    "$strLenCP", str, "$strLenCP requires a string argument, found: ", 34471, nullable=False
)(len)


def value_text(value: Any) -> str:
    """A value as MongoDB's Value::toString writes it inside error messages."""
    if type(value) is str:
        return f'"{value}"'
    if value is None:
        return "null"
    if value is MISSING:
        return "missing"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(value_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {value_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, dt.datetime):
        return format_date(value)
    return format_number(value)


# --- $strLenBytes, $strcasecmp, $split ---------------------------------------------------------


@unary_operator(
    "$strLenBytes", str, "$strLenBytes requires a string argument, found: ", 34473, nullable=False
)
def _str_len_bytes(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode())


@operator("$strcasecmp")
def _strcasecmp(args: Any, c: Compiler, scope: Scope) -> Expr:
    left_fn, right_fn = compile_operands("$strcasecmp", args, c, scope, 2)

    def strcasecmp(doc: dict, frame: list) -> int:
        # MongoDB upper-cases ASCII letters only, then compares bytes (code point order).
        a = coerce_to_string(left_fn(doc, frame)).translate(_ASCII_UPPER)
        b = coerce_to_string(right_fn(doc, frame)).translate(_ASCII_UPPER)
        return (a > b) - (a < b)

    return strcasecmp


@operator("$split")
def _split(args: Any, c: Compiler, scope: Scope) -> Expr:
    text_fn, separator_fn = compile_operands("$split", args, c, scope, 2)

    def split(doc: dict, frame: list) -> Any:
        text = text_fn(doc, frame)
        separator = separator_fn(doc, frame)
        if text is None or text is MISSING or separator is None or separator is MISSING:
            return None
        if type(text) is not str:
            raise EvaluationError(
                "$split requires an expression that evaluates to a string as a first argument, "
                f"found: {type_name(text)}",
                40085,
            )
        if type(separator) is not str:
            raise EvaluationError(
                "$split requires an expression that evaluates to a string as a second argument, "
                f"found: {type_name(separator)}",
                40086,
            )
        if not separator:
            raise EvaluationError("$split requires a non-empty separator", 40087)
        return text.split(separator)

    return split


# --- $trim, $ltrim, $rtrim ----------------------------------------------------------------------

# The default set MongoDB trims: the null character and these spaces, not Python's isspace().
TRIM_WHITESPACE = "\0 \t\n\x0b\x0c\r\xa0\u1680" + "".join(chr(c) for c in range(0x2000, 0x200B))
_TRIM_MESSAGES = (
    "{name} only supports an object as an argument, found {type}",
    "{name} found an unknown argument: {key}",
    "{name} requires an 'input' field",
)


def _register_trim(name: str, strip: Callable[[str, str], str]) -> None:
    @operator(name)
    def compile_trim(args: Any, c: Compiler, scope: Scope) -> Expr:
        object_arguments(name, args, ("input",), ("chars",), _TRIM_MESSAGES)
        input_fn = c.compile(args["input"], scope)
        chars_fn = c.compile(args["chars"], scope) if "chars" in args else None

        def trim(doc: dict, frame: list) -> Any:
            text = input_fn(doc, frame)
            if type(text) is not str:
                if text is None or text is MISSING:
                    return None
                raise EvaluationError(
                    f"{name} requires its input to be a string, got {value_text(text)} "
                    f"(of type {type_name(text)}) instead.",
                    50699,
                )
            if chars_fn is None:
                return strip(text, TRIM_WHITESPACE)
            chars = chars_fn(doc, frame)
            if type(chars) is not str:
                if chars is None or chars is MISSING:
                    return None
                raise EvaluationError(
                    f"{name} requires 'chars' to be a string, got {value_text(chars)} "
                    f"(of type {type_name(chars)}) instead.",
                    50700,
                )
            # 'chars' is a set of code points, which is what str.strip takes.
            return strip(text, chars)

        return trim


_register_trim("$trim", str.strip)
_register_trim("$ltrim", str.lstrip)
_register_trim("$rtrim", str.rstrip)


# --- $indexOfBytes, $indexOfCP ------------------------------------------------------------------


def _index_bound(name: str, value: Any, which: str) -> int:
    """A start or end index: integral (32-bit) and non-negative, with MongoDB's messages (the
    missing space in "...requires" is MongoDB's)."""
    if not _integral(value):
        raise EvaluationError(
            f"{name}requires an integral {which}, found a value of type: {type_name(value)}, "
            f"with value: {value_text(value)}",
            40096,
        )
    bound = int(value)
    if bound < 0:
        raise EvaluationError(
            f"{name} requires a nonnegative {which}, found: {value_text(value)}", 40097
        )
    return bound


def _register_index_of(name: str, codes: tuple[int, int], in_bytes: bool) -> None:
    @operator(name)
    def compile_index_of(args: Any, c: Compiler, scope: Scope) -> Expr:
        items = compile_operands(name, args, c, scope, 2, 4)
        text_fn, token_fn = items[0], items[1]
        start_fn = items[2] if len(items) > 2 else None
        end_fn = items[3] if len(items) > 3 else None

        def index_of(doc: dict, frame: list) -> Any:
            text = text_fn(doc, frame)
            if type(text) is not str:
                if text is None or text is MISSING:
                    return None
                raise EvaluationError(
                    f"{name} requires a string as the first argument, found: {type_name(text)}",
                    codes[0],
                )
            token = token_fn(doc, frame)
            if type(token) is not str:
                raise EvaluationError(
                    f"{name} requires a string as the second argument, found: {type_name(token)}",
                    codes[1],
                )
            if in_bytes and not (text.isascii() and token.isascii()):
                text, token = text.encode(), token.encode()  # type: ignore[assignment]
            start = _index_bound(name, start_fn(doc, frame), "starting index") if start_fn else 0
            length = len(text)
            end = length
            if end_fn is not None:
                end = min(length, _index_bound(name, end_fn(doc, frame), "ending index"))
            if in_bytes:
                # input.substr(0, end).find(token, start): the match must end by 'end'.
                if start > length or end < start:
                    return -1
                return text.find(token, start, end)
            # $indexOfCP tests each start position before 'end'; a match may run past it.
            if end < start:
                return -1
            if not text and not token:
                return 0
            found = text.find(token, start)
            return found if 0 <= found < end else -1

        return index_of


_register_index_of("$indexOfBytes", (40091, 40092), in_bytes=True)
_register_index_of("$indexOfCP", (40093, 40094), in_bytes=False)


# --- $replaceOne, $replaceAll -------------------------------------------------------------------

_REPLACE_MESSAGES = (
    "{name} requires an object as an argument, found: {type}",
    "{name} found an unknown argument: {key}",
    "{name} requires '{key}' to be specified",
)
_REPLACE_CODES = {"input": 51746, "find": 51745, "replacement": 51744}


def _register_replace(name: str, count: int) -> None:
    @operator(name)
    def compile_replace(args: Any, c: Compiler, scope: Scope) -> Expr:
        fields = ("input", "find", "replacement")
        object_arguments(name, args, fields, (), _REPLACE_MESSAGES)
        parts = [(field, c.compile(args[field], scope)) for field in fields]

        def replace(doc: dict, frame: list) -> Any:
            values = []
            for field, fn in parts:
                value = fn(doc, frame)
                # Every argument is type-checked before a null one makes the result null.
                if type(value) is not str and value is not None and value is not MISSING:
                    raise EvaluationError(
                        f"{name} requires that '{field}' be a string, found: {value_text(value)}",
                        _REPLACE_CODES[field],
                    )
                values.append(value)
            text, find, replacement = values
            if type(text) is not str or type(find) is not str or type(replacement) is not str:
                return None
            return text.replace(find, replacement, count)

        return replace


_register_replace("$replaceOne", 1)
_register_replace("$replaceAll", -1)


# --- $regexMatch, $regexFind, $regexFindAll -----------------------------------------------------

_REGEX_MESSAGES = (
    "{name} expects an object of named arguments but found: {type}",
    "{name} found an unknown argument: {key}",
    "{name} requires '{key}' parameter",
)
_REGEX_FLAGS = frozenset("imsxu")


def _regex_pattern(name: str, regex: Any, options: Any) -> re.Pattern | None:
    """The compiled pattern of a regex operator's 'regex' and 'options', None when 'regex' is
    null or missing; the checks and codes are MongoDB's."""
    regex_parts = pattern_parts(regex)
    null_regex = regex is None or regex is MISSING
    if regex_parts is None and not null_regex and type(regex) is not str:
        raise EvaluationError(f"{name} needs 'regex' to be of type string or regex", 51105)
    null_options = options is None or options is MISSING
    if not null_options and type(options) is not str:
        raise EvaluationError(f"{name} needs 'options' to be of type string", 51106)
    if null_regex:
        return None
    if regex_parts is not None:
        pattern, flags = regex_parts
        if flags and not null_options:
            # Even an empty 'options' string counts as options given twice.
            raise EvaluationError(
                f"{name}: found regex option(s) specified in both 'regex' and 'option' fields",
                51107,
            )
        option_text = flags if null_options else options
    else:
        pattern, option_text = regex, "" if null_options else options
    if "\0" in pattern:
        raise EvaluationError(
            f"{name}: regular expression cannot contain an embedded null byte", 51109
        )
    if "\0" in option_text:
        raise EvaluationError(
            f"{name}: regular expression options cannot contain an embedded null byte", 51110
        )
    for letter in option_text:
        if letter not in _REGEX_FLAGS:
            raise EvaluationError(f"{name} invalid flag in regex options: {letter}", 51108)
    try:
        return compile_regex(pattern, option_text)
    except PipelineError as exc:
        raise EvaluationError(f"Invalid Regex in {name}: {exc}", 51111) from None


TextOf = Callable[[dict, list], str | None]
PatternOf = Callable[[dict, list], re.Pattern | None]


def _compile_regex_operator(
    name: str, args: Any, c: Compiler, scope: Scope
) -> tuple[TextOf, re.Pattern | None, PatternOf | None]:
    """Parse a regex operator's arguments into (text_of, fixed, pattern_of): text_of reads the
    input (None when null or missing); a constant 'regex' and 'options' compile once into
    `fixed` (None for a null regex) so a bad pattern is refused before any document, otherwise
    pattern_of compiles per document."""
    object_arguments(name, args, ("input", "regex"), ("options",), _REGEX_MESSAGES)
    input_fn = c.compile(args["input"], scope)
    regex_fn = c.compile(args["regex"], scope)
    options_fn = c.compile(args["options"], scope) if "options" in args else None

    def text_of(doc: dict, frame: list) -> str | None:
        text = input_fn(doc, frame)
        if type(text) is str:
            return text
        if text is None or text is MISSING:
            return None
        raise EvaluationError(f"{name} needs 'input' to be of type string", 51104)

    if is_constant(regex_fn) and (options_fn is None or is_constant(options_fn)):
        options = constant_value(options_fn) if options_fn is not None else None
        fixed = compile_time(_regex_pattern, name, constant_value(regex_fn), options)
        return text_of, fixed, None

    def pattern_of(doc: dict, frame: list) -> re.Pattern | None:
        options = options_fn(doc, frame) if options_fn is not None else None
        return _regex_pattern(name, regex_fn(doc, frame), options)

    return text_of, None, pattern_of


def _match_document(match: re.Match) -> dict:
    # idx counts code points, as Python's string indexes do; unmatched groups are null.
    return {"match": match.group(0), "idx": match.start(), "captures": list(match.groups())}


def _regex_operator(
    name: str, on_null: Callable[[], Any], apply: Callable[[re.Pattern, str], Any]
) -> None:
    """Register a regex operator: `apply(pattern, text)` gives its result, `on_null()` the
    result for a null input or regex (the input is type-checked either way)."""

    @operator(name)
    def compile_regex_operator(args: Any, c: Compiler, scope: Scope) -> Expr:
        text_of, fixed, pattern_of = _compile_regex_operator(name, args, c, scope)
        if pattern_of is None:
            if fixed is None:

                def null_regex(doc: dict, frame: list) -> Any:
                    text_of(doc, frame)
                    return on_null()

                return null_regex
            pattern = fixed

            def constant_regex(doc: dict, frame: list) -> Any:
                text = text_of(doc, frame)
                return on_null() if text is None else apply(pattern, text)

            return constant_regex

        def dynamic_regex(doc: dict, frame: list) -> Any:
            compiled = pattern_of(doc, frame)
            text = text_of(doc, frame)
            if text is None or compiled is None:
                return on_null()
            return apply(compiled, text)

        return dynamic_regex


def _find_all(pattern: re.Pattern, text: str) -> list:
    found = []
    search = pattern.search
    position, size = 0, len(text)
    # MongoDB's loop: after an empty match move one code point on, after a match go to its end;
    # stop once the position reaches the end (so no empty match at the very end of a non-empty
    # string, but one on an empty string).
    while True:
        match = search(text, position)
        if match is None:
            break
        found.append(_match_document(match))
        start, end = match.span()
        if start == end:
            if start >= size:
                break
            position = start + 1
        else:
            position = end
        if position >= size:
            break
    return found


def _find_first(pattern: re.Pattern, text: str) -> Any:
    match = pattern.search(text)
    return None if match is None else _match_document(match)


_regex_operator("$regexMatch", lambda: False, lambda p, text: p.search(text) is not None)
_regex_operator("$regexFind", lambda: None, _find_first)
_regex_operator("$regexFindAll", list, _find_all)
