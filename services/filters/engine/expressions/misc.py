"""Data sizes ($bsonSize, $binarySize) and timestamp parts ($tsSecond, $tsIncrement)."""

from __future__ import annotations

import uuid
from typing import Any

import bson
from bson import Binary, Int64, Timestamp

from .core import unary_operator


@unary_operator("$bsonSize", dict, "$bsonSize requires a document input, found: ", 31393)
def _bson_size(value: dict) -> int:
    # Documents hold what pymongo decoded, so encoding them again gives MongoDB's size.
    return len(bson.encode(value))


@unary_operator(
    "$binarySize",
    (str, bytes, Binary, uuid.UUID),
    "$binarySize requires a string or BinData argument, found: ",
    51276,
)
def _binary_size(value: Any) -> int:
    if isinstance(value, str):
        return len(value) if value.isascii() else len(value.encode())
    if isinstance(value, uuid.UUID):
        return 16
    return len(value)


def _register_timestamp_part(name: str, code: int, part: str) -> None:
    @unary_operator(name, Timestamp, f" Argument to {name} must be a timestamp, but is ", code)
    def timestamp_part(value: Timestamp) -> Int64:
        return Int64(getattr(value, part))


_register_timestamp_part("$tsSecond", 5687301, "time")
_register_timestamp_part("$tsIncrement", 5687302, "inc")
