"""What annotations, comments, taxonomies and classifications share: the groups a post goes
to, who reads a row through its groups, who may change it, and the body's plain values.

SkyPortal's rule: a row attached to groups is read by the members of any of them (system
admins read everything); only its author (or a system admin) edits or deletes it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, Table, delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.portal.db.models import Candidate, Filter, Group, Source
from services.portal.groups import group_json
from services.portal.objects import visible_obj
from services.portal.users import sitewide_group_id
from skymesh.runtime.auth import Identity
from skymesh.runtime.errors import Forbidden


def integer(value: Any, name: str) -> int:
    """A JSON integer (a Struct carries numbers as doubles; digits in a string pass too)."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be an integer, not {value!r}")
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise ValueError(f"{name} must be an integer, not {value!r}")


def id_list(value: Any, name: str = "group_ids") -> list[int]:
    if not isinstance(value, list):
        raise ValueError(f"{name} must be a list of integers")
    return sorted({integer(v, name) for v in value})


def may_edit(who: Identity, author_id: int) -> bool:
    return who.admin or who.user_id == author_id


async def post_groups(
    session: AsyncSession, who: Identity, raw: Any, default: Iterable[int] = ()
) -> list[int]:
    """The groups a post goes to: ``group_ids`` as given, else ``default``, else the public
    group (SkyPortal's default for comments and classifications).

    Each must exist (400). A caller may share with their own groups and with any public
    group; another user's own group or a private group is not theirs to write to (403)."""
    if raw is None or raw == []:
        return sorted(set(default)) or [await sitewide_group_id(session)]
    ids = id_list(raw)
    found = {g.id: g for g in await session.scalars(select(Group).where(Group.id.in_(ids)))}
    missing = [i for i in ids if i not in found]
    if missing:
        raise ValueError(f"Invalid group_ids: no group with ID {', '.join(map(str, missing))}")
    if not who.admin:
        for group in found.values():
            public = not group.single_user_group and not group.private
            if group.id not in who.group_ids and not public:
                raise Forbidden("Could not find any accessible groups.")
    return ids


async def new_groups(session: AsyncSession, who: Identity, raw: Any) -> list[int]:
    """An update's ``group_ids``: at least one, each as for a post."""
    if raw == []:
        raise ValueError("group_ids must name at least one group")
    return await post_groups(session, who, raw)


async def link(
    session: AsyncSession, table: Table, key: str, owner_id: int, group_ids: list[int]
) -> None:
    """Sets the row's groups to exactly ``group_ids``."""
    await session.execute(delete(table).where(table.c[key] == owner_id))
    if group_ids:
        rows = [{key: owner_id, "group_id": g} for g in group_ids]
        await session.execute(insert(table).values(rows).on_conflict_do_nothing())


async def group_ids_of(session: AsyncSession, table: Table, key: str, owner_id: int) -> set[int]:
    return set(await session.scalars(select(table.c.group_id).where(table.c[key] == owner_id)))


def readable_ids(who: Identity, table: Table, key: str) -> Select:
    """The ids of the rows shared with one of the caller's groups."""
    return select(table.c[key]).where(table.c.group_id.in_(who.group_ids))


async def is_readable(
    session: AsyncSession, who: Identity, table: Table, key: str, owner_id: int
) -> bool:
    if who.admin:
        return True
    shared = readable_ids(who, table, key).where(table.c[key] == owner_id)
    return await session.scalar(shared.limit(1)) is not None


async def groups_of(
    session: AsyncSession, table: Table, key: str, ids: list[int]
) -> dict[int, list[dict[str, Any]]]:
    """Each row's groups, as SkyPortal lists them."""
    if not ids:
        return {}
    column = table.c[key]
    rows = await session.execute(
        select(column, Group)
        .join(Group, Group.id == table.c.group_id)
        .where(column.in_(ids))
        .order_by(Group.id)
    )
    found: dict[int, list[dict[str, Any]]] = {}
    for owner, group in rows:
        found.setdefault(owner, []).append(group_json(group))
    return found


def visible_obj_ids(who: Identity) -> Select:
    """The objects a (non-admin) caller sees: candidates of their groups' filters and their
    groups' sources (the rule of ``objects.visible_obj``, as a subquery)."""
    by_candidate = (
        select(Candidate.obj_id)
        .join(Filter, Filter.id == Candidate.filter_id)
        .where(Filter.group_id.in_(who.group_ids))
    )
    by_source = select(Source.obj_id).where(Source.group_id.in_(who.group_ids))
    return by_candidate.union(by_source)


async def attached_row(
    session: AsyncSession,
    who: Identity,
    model: Any,
    table: Table,
    key: str,
    row_id: int,
    obj_id: str,
    editing: bool,
    unreadable: str,
    kind: str,
) -> Any:
    """An annotation or comment of an object if the caller may read it (or, editing, is its
    author), else 403 with SkyPortal's message; 400 when it hangs off another object."""
    row = await session.get(model, row_id)
    if row is None:
        raise Forbidden(unreadable)
    if editing:
        allowed = may_edit(who, row.author_id)
    else:
        allowed = await is_readable(session, who, table, key, row.id)
        allowed = allowed and await visible_obj(session, who, row.obj_id) is not None
    if not allowed:
        raise Forbidden(unreadable)
    if row.obj_id != obj_id:
        raise ValueError(f"{kind} resource ID does not match resource ID given in path ({obj_id})")
    return row
