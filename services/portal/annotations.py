"""Annotations on objects: SkyPortal's ``/api/sources/{obj_id}/annotations[/{id}]``.

One annotation per (object, origin), whoever wrote it: the broker's filters write theirs as
``<group>:<filter>`` (passes.py), people and scripts post their own. The list is
``objects.annotations``; this module posts, reads one, updates and deletes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.portal import grouped
from services.portal.db.models import Annotation, annotation_groups, utcnow
from services.portal.objects import annotation_json, visible_obj
from skymesh.runtime.auth import Identity
from skymesh.runtime.errors import NotFound

ORIGIN = re.compile(r"^\w")
UNREADABLE = "Could not find any accessible annotations."
KEY = "annotation_id"


def check_origin(origin: Any) -> str:
    if origin is None or origin == "":
        raise ValueError("Invalid/missing parameters: origin must be specified")
    if not isinstance(origin, str) or not ORIGIN.search(origin):
        raise ValueError("Input `origin` must begin with alphanumeric/underscore")
    return origin


def check_data(data: Any) -> dict[str, Any]:
    if not isinstance(data, Mapping) or not data:
        raise ValueError(
            "Invalid data: the annotation data must be an object with at least one "
            "{key: value} pair"
        )
    return dict(data)


def _duplicate(obj_id: str, origin: str) -> ValueError:
    return ValueError(
        f"duplicate key value: object {obj_id} already has an annotation from origin "
        f"{origin!r}; update it (PUT) instead"
    )


async def post(
    session: AsyncSession, who: Identity, author_id: int, obj_id: str, body: dict[str, Any]
) -> int:
    if await visible_obj(session, who, obj_id) is None:
        raise NotFound(f"Source {obj_id} not found")
    origin = check_origin(body.get("origin"))
    data = check_data(body.get("data"))
    group_ids = await grouped.post_groups(session, who, body.get("group_ids"), who.group_ids)
    added = await session.scalar(
        insert(Annotation)
        .values(obj_id=obj_id, origin=origin, data=data, author_id=author_id)
        .on_conflict_do_nothing(index_elements=["obj_id", "origin"])
        .returning(Annotation.id)
    )
    if added is None:
        raise _duplicate(obj_id, origin)
    await grouped.link(session, annotation_groups, KEY, added, group_ids)
    return added


async def _own(
    session: AsyncSession, who: Identity, obj_id: str, annotation_id: int, editing: bool
) -> Annotation:
    return await grouped.attached_row(
        session,
        who,
        Annotation,
        annotation_groups,
        KEY,
        annotation_id,
        obj_id,
        editing,
        UNREADABLE,
        "Annotation",
    )


async def get(
    session: AsyncSession, who: Identity, obj_id: str, annotation_id: int
) -> dict[str, Any]:
    return annotation_json(await _own(session, who, obj_id, annotation_id, editing=False))


async def update(
    session: AsyncSession, who: Identity, obj_id: str, annotation_id: int, body: dict[str, Any]
) -> None:
    row = await _own(session, who, obj_id, annotation_id, editing=True)
    if "origin" in body:
        origin = check_origin(body["origin"])
        taken = await session.scalar(
            select(Annotation.id).where(
                Annotation.obj_id == row.obj_id,
                Annotation.origin == origin,
                Annotation.id != row.id,
            )
        )
        if taken is not None:
            raise _duplicate(row.obj_id, origin)
        row.origin = origin
    if "data" in body:
        row.data = check_data(body["data"])
    if body.get("group_ids") is not None:
        group_ids = await grouped.new_groups(session, who, body["group_ids"])
        await grouped.link(session, annotation_groups, KEY, row.id, group_ids)
    row.modified = utcnow()


async def delete(session: AsyncSession, who: Identity, obj_id: str, annotation_id: int) -> None:
    await session.delete(await _own(session, who, obj_id, annotation_id, editing=True))
