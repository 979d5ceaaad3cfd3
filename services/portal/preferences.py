"""The caller's own profile: SkyPortal's PATCH /api/internal/profile, limited to what the user
table holds (preferences, first and last name, the contact email).

Preferences are free-form JSON that the web application keeps per user (SkyPortal's
topSources, recentSources, newsFeed, ...). A change merges into the stored ones key by key,
nested objects too, and a key set to null is removed, so a client changes one setting
without sending (or knowing) the others.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.portal.db.models import User
from skymesh.runtime.auth import Identity
from skymesh.runtime.errors import NotFound

FIELDS = ("preferences", "first_name", "last_name", "contact_email")
# Stored preferences, as JSON: settings, not a place for data.
MAX_PREFERENCES_BYTES = 64 * 1024
# Enough to catch a typo, not a deliverability check (SkyPortal does not check that either).
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
MAX_EMAIL_LENGTH = 254
# JSON numbers up to here are exact in a double, which is what a Struct carries.
EXACT_INTEGERS = 2**53


@dataclass(frozen=True)
class ProfileChange:
    """What a PATCH asks for; None is "leave it as it is"."""

    preferences: dict[str, Any] | None = None
    first_name: str | None = None
    last_name: str | None = None
    contact_email: str | None = None


def plain(value: Any) -> Any:
    """A Struct's value as JSON would have it: a whole number is an integer again (a Struct
    carries every number as a double)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < EXACT_INTEGERS:
        return int(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def merge(stored: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``changes`` merged into ``stored`` (a new dict): objects merge key by key, at any depth;
    null removes the key; anything else replaces the stored value."""
    merged = dict(stored)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict):
            base = merged.get(key)
            merged[key] = merge(base if isinstance(base, dict) else {}, value)
        else:
            merged[key] = value
    return merged


def _name(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string, not {json.dumps(value)}")
    return value.strip()


def _email(body: dict[str, Any]) -> str | None:
    value = _name(body, "contact_email")
    if value is None or value == "":
        return value
    if len(value) > MAX_EMAIL_LENGTH or not EMAIL.match(value):
        raise ValueError(f"Email does not appear to be valid: {value!r} is not name@domain")
    return value


def check_change(body: dict[str, Any] | None) -> ProfileChange:
    """The PATCH body, checked: known fields only, each of its type (400 naming what is wrong)."""
    body = body or {}
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise ValueError(
            f"Unknown profile field(s): {', '.join(unknown)}; a profile has {', '.join(FIELDS)}"
        )
    preferences = body.get("preferences")
    if preferences is not None and not isinstance(preferences, dict):
        kind = "a list" if isinstance(preferences, list) else json.dumps(preferences)
        raise ValueError(
            f'preferences must be an object of settings (e.g. {{"newsFeed": {{"numItems": '
            f"20}}}}), not {kind}"
        )
    return ProfileChange(
        preferences=plain(preferences) if preferences is not None else None,
        first_name=_name(body, "first_name"),
        last_name=_name(body, "last_name"),
        contact_email=_email(body),
    )


def _checked_size(preferences: dict[str, Any]) -> dict[str, Any]:
    size = len(json.dumps(preferences).encode())
    if size > MAX_PREFERENCES_BYTES:
        raise ValueError(
            f"preferences are too large: {size} bytes once merged, at most "
            f"{MAX_PREFERENCES_BYTES}; remove keys by setting them to null"
        )
    return preferences


async def update_profile(session: AsyncSession, who: Identity, change: ProfileChange) -> None:
    # The row is locked so that two PATCHes of different keys both land.
    user = await session.scalar(select(User).where(User.id == who.user_id).with_for_update())
    if user is None:
        raise NotFound("the mesh's services have no profile")
    if change.preferences is not None:
        user.preferences = _checked_size(merge(user.preferences or {}, change.preferences))
    if change.first_name is not None:
        user.first_name = change.first_name or None
    if change.last_name is not None:
        user.last_name = change.last_name or None
    if change.contact_email is not None:
        user.email = change.contact_email


async def preferences_of(session: AsyncSession, user_id: int) -> dict[str, Any]:
    stored = await session.scalar(select(User.preferences).where(User.id == user_id))
    return stored if isinstance(stored, dict) else {}
