"""Free-form parts of filter requests and answers: google.protobuf.Value <-> Python.

JSON has one number type and Value holds it as a double. We read an integral number as an
int, as Python's json module reads ``1`` (Kowalski parses request bodies that way), so a
pipeline's ``{"$limit": 1}`` or ``{"$literal": 3}`` keeps MongoDB's int type.
Documents going out are made JSON-safe through relaxed Extended JSON first (dates become
``{"$date": ...}``, ObjectIds ``{"$oid": ...}``), which is what penquins parses.
"""

from __future__ import annotations

import json
from typing import Any

from google.api import httpbody_pb2
from google.protobuf import json_format, struct_pb2
from google.protobuf.message import Message

from skymesh.runtime.documents import from_json, to_json

MAX_EXACT_INT = 2**53


def from_value(value: struct_pb2.Value) -> Any:
    kind = value.WhichOneof("kind")
    if kind is None or kind == "null_value":
        return None
    if kind == "number_value":
        number = value.number_value
        if number.is_integer() and abs(number) < MAX_EXACT_INT:
            return int(number)
        return number
    if kind == "string_value":
        return value.string_value
    if kind == "bool_value":
        return value.bool_value
    if kind == "struct_value":
        return {key: from_value(item) for key, item in value.struct_value.fields.items()}
    return [from_value(item) for item in value.list_value.values]


def optional_value(message: Any, field: str) -> Any:
    """The Python value of a Value field, or None when absent or JSON null."""
    return from_value(getattr(message, field)) if message.HasField(field) else None


def json_safe(document: Any) -> Any:
    """The document as plain JSON types (relaxed Extended JSON for BSON types)."""
    return json.loads(to_json(document))


def to_value(document: Any) -> struct_pb2.Value:
    value = struct_pb2.Value()
    json_format.ParseDict(json_safe(document), value)
    return value


def to_struct(document: dict[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    json_format.ParseDict(json_safe(document), struct)
    return struct


def pipelines_as_text(body: dict[str, Any]) -> dict[str, Any]:
    """The body with every pipeline (main, autosave's, auto_followup's) as its JSON text, so
    that it crosses a google.protobuf.Value with the key order of its stages intact."""
    body = dict(body)
    if isinstance(body.get("pipeline"), list):
        body["pipeline"] = to_json(body["pipeline"])
    for part in ("autosave", "auto_followup"):
        settings = body.get(part)
        if isinstance(settings, dict) and isinstance(settings.get("pipeline"), list):
            body[part] = {**settings, "pipeline": to_json(settings["pipeline"])}
    return body


def typed_request(body: bytes, message: Message) -> Message:
    """A REST body (Kowalski's JSON) as the typed request; unknown keys are ignored."""
    parsed = from_json(body, "request body")
    if not isinstance(parsed, dict):
        raise ValueError("request body must be a JSON object")
    json_format.ParseDict(json_safe(pipelines_as_text(parsed)), message, ignore_unknown_fields=True)
    return message


def http_reply(reply: Message) -> httpbody_pb2.HttpBody:
    body = json_format.MessageToJson(
        reply, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )
    return httpbody_pb2.HttpBody(content_type="application/json", data=body.encode())
