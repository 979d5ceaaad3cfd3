"""``GET /api/openapi.json``: the REST API's OpenAPI document, as committed.

The document is generated from the protos (``make openapi``, ``skymesh/openapi.py``) into
gateway/openapi.json; the portal only serves that file, read once.
"""

from __future__ import annotations

import functools

from google.api import httpbody_pb2

from skymesh.infra.gateway import OPENAPI_DOCUMENT
from skymesh.runtime.errors import NotFound


@functools.cache
def _document() -> bytes:
    return OPENAPI_DOCUMENT.read_bytes()


def reply() -> httpbody_pb2.HttpBody:
    try:
        data = _document()
    except FileNotFoundError:
        raise NotFound(f"no OpenAPI document at {OPENAPI_DOCUMENT}: run `make openapi`") from None
    return httpbody_pb2.HttpBody(content_type="application/json", data=data)
