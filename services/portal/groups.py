"""Groups, their members, admission requests and streams; streams and their users."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.portal.db.models import (
    Filter,
    Group,
    GroupAdmissionRequest,
    GroupUser,
    Stream,
    User,
    group_streams,
    stream_users,
)
from skymesh.runtime.auth import Identity
from skymesh.runtime.errors import Forbidden


def group_json(group: Group) -> dict[str, Any]:
    return {
        "id": group.id,
        "name": group.name,
        "nickname": group.nickname,
        "description": group.description,
        "private": group.private,
        "single_user_group": group.single_user_group,
        "created_at": group.created_at,
    }


def stream_json(stream: Stream) -> dict[str, Any]:
    return {
        "id": stream.id,
        "name": stream.name,
        "altdata": stream.altdata,
        "auto_join": stream.auto_join,
        "created_at": stream.created_at,
    }


def filter_json(row: Filter) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "group_id": row.group_id,
        "stream_id": row.stream_id,
        "altdata": row.altdata,
        "created_at": row.created_at,
    }


async def get_group(session: AsyncSession, group_id: int) -> Group:
    group = await session.get(Group, group_id)
    if group is None:
        raise ValueError(f"Invalid group ID {group_id}")
    return group


def require_group_admin(who: Identity, group_id: int) -> None:
    if not (who.admin or group_id in who.admin_group_ids):
        raise Forbidden(f"only admins of group {group_id} (or system admins) may do this")


async def create_group(
    session: AsyncSession,
    who: Identity,
    name: str,
    nickname: str,
    description: str,
    private: bool,
    group_admins: list[int],
) -> int:
    if not name:
        raise ValueError("Missing required parameter: `name`")
    taken = Group.name == name
    if nickname:
        taken = taken | (Group.nickname == nickname)
    if await session.scalar(select(Group.id).where(taken)) is not None:
        raise ValueError(f"A group named {name!r} (or nicknamed {nickname!r}) already exists")
    group = Group(
        name=name, nickname=nickname or None, description=description or None, private=private
    )
    session.add(group)
    await session.flush()
    admins = set(group_admins)
    if not who.token_id and not who.is_service:
        admins.add(who.user_id)  # a logged-in creator administers the new group
    for user_id in admins:
        if await session.get(User, user_id) is None:
            raise ValueError(f"Invalid user ID {user_id} in group_admins")
        session.add(GroupUser(group_id=group.id, user_id=user_id, admin=True))
    return group.id


async def list_groups(session: AsyncSession, who: Identity) -> dict[str, Any]:
    everyone = list(await session.scalars(select(Group).order_by(Group.name)))
    mine = [g for g in everyone if g.id in who.group_ids]
    visible = [g for g in everyone if not g.single_user_group or g.id in who.group_ids]
    return {
        "user_groups": [group_json(g) for g in mine if not g.single_user_group],
        "user_accessible_groups": [group_json(g) for g in (visible if who.admin else mine)],
        "all_groups": [group_json(g) for g in (everyone if who.admin else visible)],
    }


async def group_detail(
    session: AsyncSession, who: Identity, group_id: int, include_users: bool
) -> dict[str, Any]:
    group = await get_group(session, group_id)
    if group.single_user_group and group_id not in who.group_ids and not who.admin:
        raise Forbidden("a user's own group is theirs alone")
    detail = group_json(group)
    if include_users:
        members = await session.execute(
            select(User, GroupUser)
            .join(GroupUser, GroupUser.user_id == User.id)
            .where(GroupUser.group_id == group_id)
            .order_by(User.username)
        )
        detail["users"] = [
            {"id": u.id, "username": u.username, "admin": m.admin, "can_save": m.can_save}
            for u, m in members
        ]
    streams = await session.scalars(
        select(Stream)
        .join(group_streams, group_streams.c.stream_id == Stream.id)
        .where(group_streams.c.group_id == group_id)
        .order_by(Stream.id)
    )
    detail["streams"] = [stream_json(s) for s in streams]
    filters = await session.scalars(
        select(Filter).where(Filter.group_id == group_id).order_by(Filter.id)
    )
    detail["filters"] = [filter_json(f) for f in filters]
    return detail


async def update_group(
    session: AsyncSession, who: Identity, group_id: int, changes: dict[str, Any]
) -> None:
    group = await get_group(session, group_id)
    require_group_admin(who, group_id)
    for key, value in changes.items():
        setattr(group, key, value or None if key != "name" else value)


async def delete_group(session: AsyncSession, who: Identity, group_id: int) -> None:
    group = await get_group(session, group_id)
    require_group_admin(who, group_id)
    if group.single_user_group or group.name == "Sitewide Group":
        raise ValueError("the sitewide group and users' own groups cannot be deleted")
    await session.delete(group)


async def _missing_streams(session: AsyncSession, group_id: int, user_id: int) -> list[int]:
    """The group's streams the user cannot read (a member must read them all)."""
    needed = set(
        await session.scalars(
            select(group_streams.c.stream_id).where(group_streams.c.group_id == group_id)
        )
    )
    has = set(
        await session.scalars(
            select(stream_users.c.stream_id).where(stream_users.c.user_id == user_id)
        )
    )
    return sorted(needed - has)


async def add_member(
    session: AsyncSession,
    who: Identity,
    group_id: int,
    user_id: int,
    admin: bool,
    can_save: bool,
) -> dict[str, Any]:
    await get_group(session, group_id)
    require_group_admin(who, group_id)
    if await session.get(User, user_id) is None:
        raise ValueError(f"Invalid userID {user_id}")
    if missing := await _missing_streams(session, group_id, user_id):
        raise Forbidden(f"User {user_id} does not have access to the group's streams {missing}")
    existing = await session.scalar(
        select(GroupUser).where(GroupUser.group_id == group_id, GroupUser.user_id == user_id)
    )
    if existing is not None:
        raise ValueError(f"User {user_id} is already a member of group {group_id}.")
    session.add(GroupUser(group_id=group_id, user_id=user_id, admin=admin, can_save=can_save))
    return {"group_id": group_id, "user_id": user_id, "admin": admin}


async def update_member(
    session: AsyncSession,
    who: Identity,
    group_id: int,
    user_id: int,
    admin: bool | None,
    can_save: bool | None,
) -> None:
    require_group_admin(who, group_id)
    member = await session.scalar(
        select(GroupUser).where(GroupUser.group_id == group_id, GroupUser.user_id == user_id)
    )
    if member is None:
        raise ValueError(f"User {user_id} is not a member of group {group_id}.")
    if admin is not None:
        member.admin = admin
    if can_save is not None:
        member.can_save = can_save


async def remove_member(session: AsyncSession, who: Identity, group_id: int, user_id: int) -> None:
    if user_id != who.user_id:  # leaving a group needs no rights
        require_group_admin(who, group_id)
    gone = await session.execute(
        delete(GroupUser).where(GroupUser.group_id == group_id, GroupUser.user_id == user_id)
    )
    if gone.rowcount == 0:
        raise ValueError(f"User {user_id} is not a member of group {group_id}.")


async def add_stream(session: AsyncSession, who: Identity, group_id: int, stream_id: int) -> None:
    await get_group(session, group_id)
    require_group_admin(who, group_id)
    if await session.get(Stream, stream_id) is None:
        raise ValueError(f"Invalid stream ID {stream_id}")
    members = await session.scalars(select(GroupUser.user_id).where(GroupUser.group_id == group_id))
    readers = set(
        await session.scalars(
            select(stream_users.c.user_id).where(stream_users.c.stream_id == stream_id)
        )
    )
    if set(members) - readers:
        raise Forbidden(f"Not all users have stream access with ID {stream_id}")
    linked = await session.scalar(
        select(group_streams.c.group_id).where(
            group_streams.c.group_id == group_id, group_streams.c.stream_id == stream_id
        )
    )
    if linked is not None:
        raise ValueError(f"Stream {stream_id} is already in group {group_id}")
    await session.execute(group_streams.insert().values(group_id=group_id, stream_id=stream_id))


async def remove_stream(
    session: AsyncSession, who: Identity, group_id: int, stream_id: int
) -> None:
    require_group_admin(who, group_id)
    gone = await session.execute(
        delete(group_streams).where(
            group_streams.c.group_id == group_id, group_streams.c.stream_id == stream_id
        )
    )
    if gone.rowcount == 0:
        raise ValueError(f"Stream {stream_id} is not in group {group_id}")


# ---- admission requests ------------------------------------------------------------------


def request_json(row: GroupAdmissionRequest) -> dict[str, Any]:
    return {
        "id": row.id,
        "user_id": row.user_id,
        "group_id": row.group_id,
        "status": row.status,
        "created_at": row.created_at,
    }


async def request_admission(session: AsyncSession, who: Identity, group_id: int) -> int:
    group = await get_group(session, group_id)
    if group.single_user_group:
        raise ValueError("a user's own group takes no requests")
    if group_id in who.group_ids:
        raise ValueError(f"User {who.user_id} is already a member of group {group_id}.")
    pending = await session.scalar(
        select(GroupAdmissionRequest.id).where(
            GroupAdmissionRequest.group_id == group_id,
            GroupAdmissionRequest.user_id == who.user_id,
            GroupAdmissionRequest.status == "pending",
        )
    )
    if pending is not None:
        raise ValueError("An admission request for this group is already pending.")
    row = GroupAdmissionRequest(user_id=who.user_id, group_id=group_id)
    session.add(row)
    await session.flush()
    return row.id


async def list_admission_requests(
    session: AsyncSession, who: Identity, group_id: int
) -> list[dict[str, Any]]:
    query = select(GroupAdmissionRequest).order_by(GroupAdmissionRequest.id)
    if group_id:
        query = query.where(GroupAdmissionRequest.group_id == group_id)
    if not who.admin:
        # A group's admins see its requests; everyone sees their own.
        query = query.where(
            (GroupAdmissionRequest.user_id == who.user_id)
            | GroupAdmissionRequest.group_id.in_(who.admin_group_ids)
        )
    return [request_json(r) for r in await session.scalars(query)]


async def answer_admission(
    session: AsyncSession, who: Identity, request_id: int, status: str
) -> None:
    if status not in ("accepted", "declined"):
        raise ValueError("status must be 'accepted' or 'declined'")
    row = await session.get(GroupAdmissionRequest, request_id)
    if row is None:
        raise ValueError(f"Invalid admission request ID {request_id}")
    require_group_admin(who, row.group_id)
    if row.status != "pending":
        raise ValueError(f"This request was already {row.status}.")
    row.status = status
    if status == "accepted":
        await add_member(session, who, row.group_id, row.user_id, admin=False, can_save=True)


# ---- streams ------------------------------------------------------------------------------


def check_altdata(altdata: dict[str, Any]) -> dict[str, Any]:
    collection, selector = altdata.get("collection"), altdata.get("selector")
    if not isinstance(collection, str) or not collection:
        raise ValueError("altdata.collection is required: the alert collection, e.g. ZTF_alerts")
    if not isinstance(selector, list) or not all(
        isinstance(p, (int, float)) and int(p) == p and p >= 0 for p in selector
    ):
        raise ValueError("altdata.selector must be a list of programids (non-negative integers)")
    return {**altdata, "selector": [int(p) for p in selector]}


async def create_stream(
    session: AsyncSession, name: str, altdata: dict[str, Any], auto_join: bool
) -> int:
    if not name:
        raise ValueError("Missing required parameter: `name`")
    if await session.scalar(select(Stream.id).where(Stream.name == name)) is not None:
        raise ValueError(f"A stream named {name!r} already exists")
    stream = Stream(name=name, altdata=check_altdata(altdata), auto_join=auto_join)
    session.add(stream)
    await session.flush()
    if auto_join:
        users = list(await session.scalars(select(User.id)))
        if users:
            await session.execute(
                stream_users.insert(), [{"stream_id": stream.id, "user_id": u} for u in users]
            )
    return stream.id


async def readable_stream(session: AsyncSession, who: Identity, stream_id: int) -> Stream:
    stream = await session.get(Stream, stream_id)
    if stream is None:
        raise ValueError(f"Invalid stream ID {stream_id}")
    if who.admin or stream.auto_join:
        return stream
    member = await session.scalar(
        select(stream_users.c.user_id).where(
            stream_users.c.stream_id == stream_id, stream_users.c.user_id == who.user_id
        )
    )
    if member is None:
        raise ValueError(f"Invalid stream ID {stream_id}")
    return stream


async def list_streams(session: AsyncSession, who: Identity) -> list[dict[str, Any]]:
    query = select(Stream).order_by(Stream.id)
    if not who.admin:
        mine = select(stream_users.c.stream_id).where(stream_users.c.user_id == who.user_id)
        query = query.where(Stream.auto_join.is_(True) | Stream.id.in_(mine))
    return [stream_json(s) for s in await session.scalars(query)]


async def update_stream(
    session: AsyncSession,
    stream_id: int,
    name: str | None,
    altdata: dict[str, Any] | None,
    auto_join: bool | None,
) -> None:
    stream = await session.get(Stream, stream_id)
    if stream is None:
        raise ValueError(f"Invalid stream ID {stream_id}")
    if name:
        stream.name = name
    if altdata is not None:
        stream.altdata = check_altdata(altdata)
    if auto_join is not None:
        stream.auto_join = auto_join


async def delete_stream(session: AsyncSession, stream_id: int) -> None:
    stream = await session.get(Stream, stream_id)
    if stream is None:
        raise ValueError(f"Invalid stream ID {stream_id}")
    await session.delete(stream)


async def add_stream_user(
    session: AsyncSession, who: Identity, stream_id: int, user_id: int
) -> None:
    stream = await session.get(Stream, stream_id)
    if stream is None:
        raise ValueError(f"Invalid stream ID {stream_id}")
    if not who.admin and not (stream.auto_join and user_id == who.user_id):
        raise ValueError(
            "only a system admin adds users to a stream (or a user joins an auto_join stream)"
        )
    if await session.get(User, user_id) is None:
        raise ValueError(f"Invalid user_id {user_id}")
    joined = await session.scalar(
        select(stream_users.c.user_id).where(
            stream_users.c.stream_id == stream_id, stream_users.c.user_id == user_id
        )
    )
    if joined is None:
        await session.execute(stream_users.insert().values(stream_id=stream_id, user_id=user_id))


async def remove_stream_user(session: AsyncSession, stream_id: int, user_id: int) -> None:
    gone = await session.execute(
        delete(stream_users).where(
            stream_users.c.stream_id == stream_id, stream_users.c.user_id == user_id
        )
    )
    if gone.rowcount == 0:
        raise ValueError(f"User {user_id} does not read stream {stream_id}")
