"""Data sizes ($bsonSize, $binarySize) and timestamp parts ($tsSecond, $tsIncrement)."""

from __future__ import annotations

import uuid
from typing import Any

import bson
from bson import Binary, Int64, Timestamp

from ..errors import EvaluationError
from ..values import MISSING, type_name
from .core import Compiler, Expr, Scope, compile_operands, operator


@operator("$bsonSize")
def _bson_size(args: Any, c: Compiler, scope: Scope) -> Expr:
    (item,) = compile_operands("$bsonSize", args, c, scope, 1)

    def bson_size(doc: dict, frame: list) -> Any:
        value = item(doc, frame)
        if isinstance(value, dict):
            # Documents hold what pymongo decoded, so encoding them again gives MongoDB's size.
            return len(bson.encode(value))
        if value is None or value is MISSING:
            return None
        raise EvaluationError(
            f"$bsonSize requires a document input, found: {type_name(value)}", 31393
        )

    return bson_size


@operator("$binarySize")
def _binary_size(args: Any, c: Compiler, scope: Scope) -> Expr:
    (item,) = compile_operands("$binarySize", args, c, scope, 1)

    def binary_size(doc: dict, frame: list) -> Any:
        value = item(doc, frame)
        if type(value) is str:
            return len(value) if value.isascii() else len(value.encode())
        if isinstance(value, (bytes, Binary)):
            return len(value)
        if isinstance(value, uuid.UUID):
            return 16
        if value is None or value is MISSING:
            return None
        raise EvaluationError(
            f"$binarySize requires a string or BinData argument, found: {type_name(value)}",
            51276,
        )

    return binary_size


def _register_timestamp_part(name: str, code: int, part: str) -> None:
    @operator(name)
    def compile_part(args: Any, c: Compiler, scope: Scope) -> Expr:
        (item,) = compile_operands(name, args, c, scope, 1)

        def timestamp_part(doc: dict, frame: list) -> Any:
            value = item(doc, frame)
            if type(value) is Timestamp:
                return Int64(getattr(value, part))
            if value is None or value is MISSING:
                return None
            raise EvaluationError(
                f" Argument to {name} must be a timestamp, but is {type_name(value)}", code
            )

        return timestamp_part


_register_timestamp_part("$tsSecond", 5687301, "time")
_register_timestamp_part("$tsIncrement", 5687302, "inc")
