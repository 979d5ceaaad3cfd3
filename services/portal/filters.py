"""SkyPortal's side of a filter (name, group, stream); its id is the filters service's id."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.portal.db.models import Filter, Group, GroupUser, Stream, group_streams
from services.portal.groups import filter_json, get_group, require_group_admin
from skymesh.portal.v1 import portal_pb2
from skymesh.runtime.auth import Identity
from skymesh.runtime.errors import NotFound


def group_label(group: Group) -> str:
    """The first half of an annotation origin ``<group>:<filter>``."""
    return group.nickname or group.name


async def link(session: AsyncSession, filter_id: int) -> portal_pb2.FilterLink:
    row = await session.get(Filter, filter_id)
    if row is None:
        raise NotFound(f"no filter with id {filter_id}")
    group = await session.get(Group, row.group_id)
    stream = await session.get(Stream, row.stream_id)
    assert group is not None and stream is not None  # cascades keep them
    return portal_pb2.FilterLink(
        filter_id=row.id,
        name=row.name,
        group_id=group.id,
        group_name=group_label(group),
        stream_id=stream.id,
        stream_name=stream.name,
        collection=stream.altdata.get("collection", ""),
        selector=[int(p) for p in stream.altdata.get("selector") or []],
    )


async def create(
    session: AsyncSession,
    actor: Identity,
    name: str,
    group_id: int,
    stream_id: int,
    altdata: dict[str, Any] | None,
) -> int:
    if not name:
        raise ValueError("Missing required parameter: `name`")
    await get_group(session, group_id)
    if not actor.admin and group_id not in actor.group_ids:
        raise ValueError(f"Invalid group ID {group_id}: you are not a member")
    if await session.get(Stream, stream_id) is None:
        raise ValueError(f"Invalid stream ID {stream_id}")
    in_group = await session.scalar(
        select(group_streams.c.stream_id).where(
            group_streams.c.group_id == group_id, group_streams.c.stream_id == stream_id
        )
    )
    if in_group is None:
        raise ValueError(f"Stream {stream_id} is not one of group {group_id}'s streams")
    row = Filter(name=name, group_id=group_id, stream_id=stream_id, altdata=altdata)
    session.add(row)
    await session.flush()
    return row.id


async def update(
    session: AsyncSession,
    who: Identity,
    filter_id: int,
    name: str | None,
    altdata: dict[str, Any] | None,
) -> None:
    row = await session.get(Filter, filter_id)
    if row is None:
        raise ValueError(f"Invalid filter ID {filter_id}")
    require_group_admin(who, row.group_id)
    if name:
        row.name = name
    if altdata is not None:
        row.altdata = altdata


async def delete(session: AsyncSession, filter_id: int) -> portal_pb2.FilterLink:
    found = await link(session, filter_id)
    row = await session.get(Filter, filter_id)
    await session.delete(row)
    return found


async def readable(session: AsyncSession, who: Identity) -> list[dict[str, Any]]:
    query = select(Filter).order_by(Filter.id)
    if not who.admin:
        mine = select(GroupUser.group_id).where(GroupUser.user_id == who.user_id)
        query = query.where(Filter.group_id.in_(mine))
    return [filter_json(f) for f in await session.scalars(query)]


def manages(who: Identity, found: portal_pb2.FilterLink) -> None:
    require_group_admin(who, found.group_id)
