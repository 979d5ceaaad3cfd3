"""Synchronisation by polling with a deadline (never by sleeping a fixed time)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(probe: Callable[[], T], until: Callable[[T], bool], timeout: float, what: str) -> T:
    """Calls ``probe`` until ``until(value)`` holds; fails naming ``what`` and the last value."""
    deadline = time.monotonic() + timeout
    value = probe()
    while not until(value):
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout:.0f}s waiting for {what}; last: {value!r}"
            )
        time.sleep(0.2)
        value = probe()
    return value
