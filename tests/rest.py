"""Reading the gateway's Kowalski-style envelopes in tests."""

from __future__ import annotations

from typing import Any

import httpx
from bson import json_util


def ok(response: httpx.Response) -> dict[str, Any]:
    """A success envelope, read as Extended JSON so that candids stay exact."""
    assert response.status_code == 200, response.text
    envelope = json_util.loads(response.text)
    assert envelope["status"] == "success", envelope
    return envelope


def refused(response: httpx.Response, status: int = 400) -> str:
    """An error envelope with the given HTTP status; returns its message."""
    assert response.status_code == status, response.text
    envelope = response.json()
    assert envelope["status"] == "error", envelope
    return envelope["message"]
