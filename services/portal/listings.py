"""A user's lists of objects: favourites and rejected candidates (SkyPortal's /api/listing).

A list is the user's own: anyone may keep one (no ACL, as SkyPortal), and only its owner
(or a System admin) reads, adds to or deletes from it. The candidates list hides a user's
``rejected_candidates`` through these rows.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.portal import objects
from services.portal.db.models import Listing, User
from skymesh.runtime.auth import Identity
from skymesh.runtime.errors import Forbidden

# SkyPortal's rule for list names; these two are the ones its pages use.
LIST_NAME = re.compile(r"^\w+")
FAVORITES = "favorites"
REJECTED = "rejected_candidates"


def listing_json(listing: Listing) -> dict[str, Any]:
    return {
        "id": listing.id,
        "user_id": listing.user_id,
        "obj_id": listing.obj_id,
        "list_name": listing.list_name,
        "created_at": listing.created_at,
    }


def _owner(who: Identity, user_id: int) -> int:
    """Whose lists a request is about: the caller's, or (System admins) anyone's."""
    if not user_id or user_id == who.user_id:
        return who.user_id
    if not who.admin:
        raise Forbidden("Only admins can read or change other users' listings")
    return user_id


async def add(
    session: AsyncSession, who: Identity, obj_id: str, list_name: str, user_id: int
) -> int:
    if not obj_id:
        raise ValueError("Missing required parameter: obj_id")
    if not LIST_NAME.match(list_name):
        raise ValueError("Input `list_name` must begin with alphanumeric/underscore")
    if list_name == "watchlist":
        raise ValueError("watchlist listings (with their search params) are not supported")
    if user_id and user_id != who.user_id and not who.admin:
        raise ValueError("Only admins can add listings to other users' accounts")
    owner = _owner(who, user_id)
    if await session.get(User, owner) is None:
        raise ValueError(f"Invalid user_id {owner}")
    if await objects.visible_obj(session, who, obj_id) is None:
        raise ValueError(f"Cannot find Obj with ID: {obj_id}")
    added = await session.scalar(
        insert(Listing)
        .values(user_id=owner, obj_id=obj_id, list_name=list_name)
        .on_conflict_do_nothing(index_elements=["user_id", "obj_id", "list_name"])
        .returning(Listing.id)
    )
    if added is None:
        raise ValueError(
            f"Listing already exists with user_id={owner}, obj_id={obj_id} "
            f"and list_name={list_name}"
        )
    return added


async def listings(
    session: AsyncSession, who: Identity, user_id: int, list_name: str
) -> list[dict[str, Any]]:
    query = select(Listing).where(Listing.user_id == _owner(who, user_id))
    if list_name:
        query = query.where(Listing.list_name == list_name)
    rows = await session.scalars(query.order_by(Listing.created_at, Listing.id))
    return [listing_json(row) for row in rows]


async def remove(session: AsyncSession, who: Identity, listing_id: int) -> None:
    listing = await session.get(Listing, listing_id)
    # Another user's listing is not found either: its existence is theirs to know.
    if listing is None or not (who.admin or listing.user_id == who.user_id):
        raise ValueError(f"Cannot find listing with ID: {listing_id}")
    await session.delete(listing)
