"""SkyPortal's JSON envelope, written by the service so that 64-bit ids stay exact."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from google.api import httpbody_pb2

from skymesh import __version__


def iso(moment: datetime | None) -> str | None:
    """SkyPortal's timestamps: UTC, ISO 8601, no offset."""
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat()


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def success(data: Any = None) -> httpbody_pb2.HttpBody:
    envelope = {"status": "success", "data": {} if data is None else data, "version": __version__}
    return httpbody_pb2.HttpBody(
        content_type="application/json", data=json.dumps(envelope, default=_default).encode()
    )


def png(data: bytes) -> httpbody_pb2.HttpBody:
    return httpbody_pb2.HttpBody(content_type="image/png", data=data)


def attachment(data: bytes) -> httpbody_pb2.HttpBody:
    return httpbody_pb2.HttpBody(content_type="application/octet-stream", data=data)
