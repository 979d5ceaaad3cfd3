"""Documents on the wire: Extended JSON (relaxed) for people, BSON for batches.

Relaxed Extended JSON keeps 64-bit integers exact (candid does not fit a double), and
marks dates, binaries and ObjectIds so that ``bson.json_util.loads`` restores them.
"""

from __future__ import annotations

from typing import Any

from bson import json_util
from bson.json_util import RELAXED_JSON_OPTIONS


class DocumentError(ValueError):
    """A document could not be parsed; the message says where."""


def to_json(value: Any) -> str:
    return json_util.dumps(value, json_options=RELAXED_JSON_OPTIONS)


def from_json(text: str | bytes, what: str = "body") -> Any:
    if not text:
        return None
    try:
        return json_util.loads(text)
    except (ValueError, TypeError) as exc:
        raise DocumentError(f"{what} is not valid JSON: {exc}") from exc
