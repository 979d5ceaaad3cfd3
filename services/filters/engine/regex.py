"""MongoDB regular expressions (PCRE) as Python `re` patterns, shared by $regex and $regexMatch.

The patterns filters use (anchors, classes, alternation, quantifiers) mean the same in both
dialects; PCRE-only syntax (possessive quantifiers, \\Q..\\E, recursion) is refused when compiled.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from bson import Regex

from .errors import PipelineError

_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE, "u": 0}


def pattern_parts(value: Any) -> tuple[str, str] | None:
    """(pattern, options) of a regex value (bson.Regex or compiled re), else None."""
    if isinstance(value, Regex):
        flags = value.flags
        return str(value.pattern), flags if isinstance(flags, str) else _letters(flags)
    if isinstance(value, re.Pattern):
        return value.pattern, _letters(value.flags)
    return None


def _letters(flags: int) -> str:
    return "".join(letter for letter, bit in _FLAGS.items() if bit and flags & bit)


@lru_cache(maxsize=1024)
def compile_regex(pattern: str, options: str = "") -> re.Pattern:
    flags = 0
    for letter in options:
        if letter not in _FLAGS:
            raise PipelineError(f"invalid regular expression option '{letter}' in '{options}'")
        flags |= _FLAGS[letter]
    try:
        return re.compile(pattern, flags)
    except re.error as exc:
        raise PipelineError(f"invalid regular expression /{pattern}/: {exc}") from None
