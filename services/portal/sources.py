"""Sources: saving objects to groups, unsaving, invitations between groups, editing an
object, and the paged list of saved objects (SkyPortal's /api/sources and /api/source_groups).

A Source row is one (object, group) pair: ``active`` while saved, ``requested`` while another
group has invited it. Unsaving keeps the row, inactive, with who unsaved it and when, so an
object that was ever saved to a group is never a candidate that expires (§5). Saving needs a
membership with ``can_save``; System admins may save anywhere.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, exists, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.portal import classifications, objects
from services.portal.db.models import (
    Annotation,
    Candidate,
    Group,
    GroupUser,
    Listing,
    Obj,
    Source,
    Thumbnail,
    utcnow,
)
from skymesh import sky
from skymesh.runtime.auth import Identity
from skymesh.runtime.errors import Forbidden, NotFound

# SkyPortal's object ids: nothing that could break a URL path.
OBJ_ID = re.compile(r"^[A-Za-z0-9_\-;:+.]+$")
DEFAULT_PER_PAGE = 100
MAX_PER_PAGE = 500
SORT_COLUMNS = {
    "id": Obj.id,
    "ra": Obj.ra,
    "dec": Obj.dec,
    "redshift": Obj.redshift,
    "origin": Obj.origin,
}


# ---- saving ---------------------------------------------------------------------------------


@dataclass
class NewSource:
    """What POST /api/sources carries, parsed from its request."""

    id: str
    ra: float | None = None
    dec: float | None = None
    redshift: float | None = None
    redshift_error: float | None = None
    altdata: dict[str, Any] | None = None
    score: float | None = None
    origin: str | None = None
    alias: list[str] = field(default_factory=list)
    group_ids: list[int] = field(default_factory=list)
    ignore_if_in_group_ids: dict[str, Any] | None = None
    saver_per_group_id: dict[int, int] = field(default_factory=dict)


async def save(session: AsyncSession, who: Identity, new: NewSource) -> dict[str, Any]:
    """SkyPortal's POST /api/sources: every refusal is a 400 'Failed to post source: ...'."""
    try:
        return await _save(session, who, new)
    except ValueError as exc:
        raise ValueError(f"Failed to post source: {exc}") from None


def check_obj_id(obj_id: str) -> None:
    if not obj_id:
        raise ValueError("Missing required parameter: id")
    if " " in obj_id:
        raise ValueError("No spaces allowed in source ID")
    if not OBJ_ID.match(obj_id):
        raise ValueError(
            "Only letters, numbers, underscores, semicolons, colons, +, -, and periods "
            "are allowed in source ID"
        )


async def _save(session: AsyncSession, who: Identity, new: NewSource) -> dict[str, Any]:
    check_obj_id(new.id)
    obj = await session.get(Obj, new.id, with_for_update=True)
    if obj is None and (new.ra is None or new.dec is None):
        raise ValueError("RA/Declination must not be null for a new Obj")
    if new.ra is not None and new.dec is not None:
        sky.check_position(new.ra, new.dec, "source")
    if not who.group_ids and not who.admin:
        raise ValueError("You must belong to one or more groups before you can add sources.")
    group_ids = await _target_groups(session, who, new.group_ids)
    if not group_ids:
        raise ValueError(
            "Invalid group_ids field. Please specify at least one valid group ID that you "
            "belong to."
        )
    ignore = _ignore_rules(new.ignore_if_in_group_ids, group_ids)
    warnings: list[str] = []
    savers = await _savers(session, who, new.saver_per_group_id, group_ids, warnings)
    if obj is None:
        await session.execute(
            insert(Obj)
            .values(
                id=new.id,
                ra=new.ra,
                dec=new.dec,
                redshift=new.redshift,
                redshift_history=_redshift_history(None, new, who),
                altdata=new.altdata,
                score=new.score,
                origin=new.origin,
                alias=new.alias or None,
            )
            .on_conflict_do_nothing()
        )
        # A new object is in no group yet: nothing to skip for.
        ignore = {}
    elif new.redshift is not None and new.redshift != obj.redshift:
        obj.redshift = new.redshift
        obj.redshift_history = _redshift_history(obj.redshift_history, new, who)
        obj.modified = utcnow()
    saved: list[int] = []
    for group_id in group_ids:
        if await _saved_in_any(session, new.id, ignore.get(group_id, [])):
            continue
        await require_can_save(session, who, group_id)
        await _activate(session, new.id, group_id, savers.get(group_id, who.user_id or None))
        saved.append(group_id)
    return {"id": new.id, "saved_to_groups": saved, "warnings": warnings}


async def _target_groups(session: AsyncSession, who: Identity, asked: list[int]) -> list[int]:
    if not asked:
        return sorted(who.group_ids)
    known = set(await session.scalars(select(Group.id).where(Group.id.in_(asked))))
    for group_id in asked:
        if group_id not in known or not (who.admin or group_id in who.group_ids):
            raise ValueError(f"Cannot find group_id {group_id}. Please remove and try again.")
    return sorted(set(asked))


def _ignore_rules(raw: dict[str, Any] | None, group_ids: list[int]) -> dict[int, list[int]]:
    if not raw:
        return {}
    try:
        rules = {int(key): [int(g) for g in value] for key, value in raw.items()}
    except (TypeError, ValueError):
        raise ValueError(
            "Invalid ignore_if_in_group_ids field. Please specify a dict of group_ids to ignore."
        ) from None
    if not set(rules) <= set(group_ids):
        raise ValueError(
            "Invalid ignore_if_in_group_ids field. Its keys must be among the group_ids "
            "saved to, each with the list of group ids whose save cancels saving to it."
        )
    return rules


async def _savers(
    session: AsyncSession,
    who: Identity,
    asked: dict[int, int],
    group_ids: list[int],
    warnings: list[str],
) -> dict[int, int]:
    """Who each save is recorded as: the caller, or (admins only) a member named per group."""
    if not asked:
        return {}
    if not who.admin:
        raise ValueError("You must be an admin to specify a saver_per_group_id field.")
    savers = {}
    for group_id, user_id in sorted(asked.items()):
        if group_id not in group_ids:
            continue
        if await _membership(session, user_id, group_id) is None:
            warnings.append(
                f"Could not save to group {group_id} as user {user_id} (user is not a member "
                f"of the group). Using current user {who.user_id} instead."
            )
        else:
            savers[group_id] = user_id
    return savers


def _redshift_history(history: Any, new: NewSource, who: Identity) -> list[dict[str, Any]] | None:
    """SkyPortal's redshift_history: each value set, by whom and when."""
    if new.redshift is None:
        return history
    entry = {
        "set_by_user_id": who.user_id,
        "set_at_utc": utcnow().replace(tzinfo=None).isoformat(),
        "value": new.redshift,
        "uncertainty": new.redshift_error,
    }
    return [*(history if isinstance(history, list) else []), entry]


async def _membership(session: AsyncSession, user_id: int, group_id: int) -> GroupUser | None:
    return await session.scalar(
        select(GroupUser).where(GroupUser.user_id == user_id, GroupUser.group_id == group_id)
    )


async def require_can_save(session: AsyncSession, who: Identity, group_id: int) -> None:
    if who.admin:
        return
    member = await _membership(session, who.user_id, group_id)
    if member is None:
        raise ValueError(f"User is not a member of the group with ID {group_id}.")
    if not member.can_save:
        raise ValueError(f"User does not have power to save to group with ID {group_id}.")


async def _saved_in_any(session: AsyncSession, obj_id: str, group_ids: list[int]) -> bool:
    if not group_ids:
        return False
    query = select(Source.id).where(
        Source.obj_id == obj_id, Source.group_id.in_(group_ids), Source.active.is_(True)
    )
    return bool(await session.scalar(select(exists(query))))


async def _row(session: AsyncSession, obj_id: str, group_id: int) -> Source | None:
    return await session.scalar(
        select(Source).where(Source.obj_id == obj_id, Source.group_id == group_id).with_for_update()
    )


async def _activate(session: AsyncSession, obj_id: str, group_id: int, saver: int | None) -> None:
    """Saves to the group: a new row, or an inactive one (unsaved, invited) made active. An
    active save stays as it was (its saver and time)."""
    row = await _row(session, obj_id, group_id)
    if row is None:
        await session.execute(
            insert(Source)
            .values(obj_id=obj_id, group_id=group_id, saved_by_id=saver, active=True)
            .on_conflict_do_nothing(index_elements=["obj_id", "group_id"])
        )
    elif not row.active:
        row.active, row.requested = True, False
        row.saved_by_id, row.saved_at = saver, utcnow()
        row.unsaved_by_id, row.unsaved_at = None, None


# ---- unsaving, invitations ------------------------------------------------------------------


async def unsave(session: AsyncSession, who: Identity, obj_id: str, group_id: int) -> None:
    """DELETE /api/sources/{obj_id} {group_id}: the save becomes inactive."""
    if not group_id:
        raise ValueError("Missing required parameter: group_id")
    if not (who.admin or group_id in who.group_ids):
        raise ValueError("Inadequate permissions.")
    row = await _row(session, obj_id, group_id)
    if row is None or not row.active:
        raise ValueError(f"Source {obj_id} is not saved to group {group_id}.")
    _deactivate(row, who)


def _deactivate(row: Source, who: Identity) -> None:
    row.active, row.requested = False, False
    row.unsaved_by_id, row.unsaved_at = who.user_id or None, utcnow()


async def source_groups(
    session: AsyncSession,
    who: Identity,
    obj_id: str,
    invite_group_ids: list[int],
    unsave_group_ids: list[int],
) -> None:
    """POST /api/source_groups: a group of the caller's is saved to, any other is invited
    (requested, for its members to answer); unsave_group_ids are unsaved."""
    if not obj_id:
        raise ValueError("Missing required parameter: objId")
    if await objects.visible_obj(session, who, obj_id) is None:
        raise NotFound(f"Invalid objId {obj_id}")
    if not invite_group_ids and not unsave_group_ids:
        raise ValueError(
            "Missing required parameter: one of either unsaveGroupIds or inviteGroupIds "
            "must be provided"
        )
    wanted = {*invite_group_ids, *unsave_group_ids}
    known = set(await session.scalars(select(Group.id).where(Group.id.in_(wanted))))
    if unknown := sorted(wanted - known):
        raise ValueError(f"Invalid group IDs: {unknown}")
    for group_id in invite_group_ids:
        row = await _row(session, obj_id, group_id)
        if row is not None and row.active:
            raise ValueError(f"Source already saved to group w/ ID {group_id}")
        if who.admin or group_id in who.group_ids:
            await require_can_save(session, who, group_id)
            await _activate(session, obj_id, group_id, who.user_id or None)
        elif row is None:
            await session.execute(
                insert(Source).values(
                    obj_id=obj_id,
                    group_id=group_id,
                    saved_by_id=who.user_id or None,
                    active=False,
                    requested=True,
                )
            )
        else:
            row.requested = True
    for group_id in unsave_group_ids:
        if not (who.admin or group_id in who.group_ids):
            raise ValueError(f"Inadequate permissions: you are not a member of group {group_id}.")
        row = await _row(session, obj_id, group_id)
        if row is None or not row.active:
            raise ValueError(
                "Specified source is not saved to group from which it was to be unsaved."
            )
        _deactivate(row, who)


async def answer(
    session: AsyncSession,
    who: Identity,
    obj_id: str,
    group_id: int,
    active: bool | None,
    requested: bool | None,
) -> None:
    """PATCH /api/source_groups/{obj_id}: a member of the group accepts (active) or declines
    (requested false) an invitation, or changes the group's save."""
    if not group_id:
        raise ValueError("Missing required parameter: groupID")
    if active is None or requested is None:
        raise ValueError("Missing required parameters: active and requested")
    if not (who.admin or group_id in who.group_ids):
        raise Forbidden(f"only members of group {group_id} answer its invitations")
    row = await _row(session, obj_id, group_id)
    if row is None:
        raise ValueError(f"Source {obj_id} is neither saved nor invited to group {group_id}.")
    if active and not row.active:
        await require_can_save(session, who, group_id)
        row.saved_by_id, row.saved_at = who.user_id or None, utcnow()
        row.unsaved_by_id, row.unsaved_at = None, None
    elif row.active and not active:
        row.unsaved_by_id, row.unsaved_at = who.user_id or None, utcnow()
    row.active, row.requested = active, requested


# ---- editing ----------------------------------------------------------------------------------


async def update(
    session: AsyncSession, who: Identity, obj_id: str, changes: dict[str, Any]
) -> None:
    """PATCH /api/sources/{obj_id}: the object's fields. Its position is the alerts' while it
    has candidates, so it changes only for objects without any."""
    obj = await objects.visible_obj(session, who, obj_id)
    if obj is None:
        raise NotFound(f"Source {obj_id} not found")
    ra, dec = changes.get("ra", obj.ra), changes.get("dec", obj.dec)
    if ("ra" in changes or "dec" in changes) and not (_same(ra, obj.ra) and _same(dec, obj.dec)):
        has_candidates = select(Candidate.id).where(Candidate.obj_id == obj_id)
        if await session.scalar(select(exists(has_candidates))):
            raise ValueError("Cannot update the position of an object with candidates/alerts")
        if ra is None or dec is None:
            raise ValueError("An object's ra and dec cannot be removed")
        sky.check_position(ra, dec, "source")
        obj.ra, obj.dec = ra, dec
    if changes.get("redshift") is not None and changes["redshift"] != obj.redshift:
        change = NewSource(
            id=obj_id, redshift=changes["redshift"], redshift_error=changes.get("redshift_error")
        )
        obj.redshift = change.redshift
        obj.redshift_history = _redshift_history(obj.redshift_history, change, who)
    for key in ("altdata", "score", "origin", "alias"):
        if key in changes:
            setattr(obj, key, changes[key])
    obj.modified = utcnow()


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=0, abs_tol=1e-9)


# ---- the list -------------------------------------------------------------------------------


@dataclass
class SourceQuery:
    """GET /api/sources, its parameters parsed."""

    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    source_id: str = ""
    rejected: list[str] = field(default_factory=list)
    cone: tuple[float, float, float] | None = None
    saved_before: datetime | None = None
    saved_after: datetime | None = None
    sort_by: str = "saved_at"
    descending: bool = True
    group_ids: list[int] | None = None
    include_thumbnails: bool = False
    include_comments: bool = False
    remove_nested: bool = False
    list_name: str = ""
    include_requested: bool = False


def utc_time(text: str) -> datetime:
    """An ISO 8601 time, UTC unless it has an offset."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"not a date/time: {text!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_time(value: str, name: str) -> datetime | None:
    """A query's time; empty, 'null' or 'undefined' is none (as SkyPortal's clients send)."""
    if value.strip() in ("", "null", "undefined"):
        return None
    try:
        return utc_time(value)
    except ValueError as exc:
        raise ValueError(f"Error parsing query params: {name}: {exc}.") from None


def parse_int(value: str, name: str, default: int) -> int:
    if not value.strip():
        return default
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"Invalid {name} value: {value!r} is not an integer.") from None


def parse_query(
    *,
    page_number: str = "",
    num_per_page: str = "",
    source_id: str = "",
    rejected: str = "",
    ra: str = "",
    dec: str = "",
    radius: str = "",
    saved_before: str = "",
    saved_after: str = "",
    sort_by: str = "",
    sort_order: str = "",
    group_ids: str = "",
    include_thumbnails: bool = False,
    include_comments: bool = False,
    remove_nested: bool = False,
    list_name: str = "",
    include_requested: bool = False,
) -> SourceQuery:
    query = SourceQuery(
        source_id=source_id.strip(),
        rejected=[r.strip() for r in rejected.split(",") if r.strip()],
        saved_before=parse_time(saved_before, "savedBefore"),
        saved_after=parse_time(saved_after, "savedAfter"),
        include_thumbnails=include_thumbnails,
        include_comments=include_comments,
        remove_nested=remove_nested,
        list_name=list_name.strip(),
        include_requested=include_requested,
    )
    query.page = parse_int(page_number, "page number", 1)
    if query.page < 1:
        raise ValueError("Invalid page number value.")
    per_page = parse_int(num_per_page, "numPerPage", DEFAULT_PER_PAGE)
    if per_page < 1:
        raise ValueError("numPerPage must be a positive integer.")
    query.per_page = min(per_page, MAX_PER_PAGE)
    if any(v.strip() for v in (ra, dec, radius)):
        if not all(v.strip() for v in (ra, dec, radius)):
            raise ValueError(
                "If any of 'ra', 'dec' or 'radius' are provided, all three are required."
            )
        try:
            cone = (float(ra), float(dec), float(radius))
        except ValueError:
            raise ValueError(
                "Invalid values for ra, dec or radius - could not convert to float"
            ) from None
        sky.check_position(cone[0], cone[1], "cone")
        if not (math.isfinite(cone[2]) and cone[2] > 0):
            raise ValueError("radius must be a positive number of degrees")
        query.cone = cone
    query.sort_by = sort_by.strip() or "saved_at"
    if not (
        query.sort_by == "saved_at"
        or query.sort_by in SORT_COLUMNS
        or _annotation_sort(query.sort_by) is not None
    ):
        raise ValueError(
            f"Invalid sortBy {query.sort_by!r}: use saved_at, {', '.join(SORT_COLUMNS)} or "
            "annotation.<origin>.<key>"
        )
    order = sort_order.strip().lower() or "desc"
    if order not in ("asc", "desc"):
        raise ValueError(f"Invalid sortOrder {sort_order!r}: use asc or desc")
    query.descending = order == "desc"
    if group_ids.strip():
        try:
            query.group_ids = [int(g) for g in group_ids.split(",") if g.strip()]
        except ValueError:
            raise ValueError(
                f"Invalid group ids field ({group_ids}; Could not parse all elements to integers"
            ) from None
    return query


def _annotation_sort(sort_by: str) -> tuple[str, str] | None:
    """``annotation.<origin>.<key>`` -> (origin, key); the key is after the last dot."""
    if not sort_by.startswith("annotation."):
        return None
    origin, dot, key = sort_by.removeprefix("annotation.").rpartition(".")
    return (origin, key) if dot and origin and key else None


async def list_sources(session: AsyncSession, who: Identity, q: SourceQuery) -> dict[str, Any]:
    if q.group_ids is not None and not who.admin:
        if not set(q.group_ids) <= who.group_ids:
            raise ValueError(
                f"One of the requested groups in '{q.group_ids}' is inaccessible to user."
            )
    saves = select(Source.obj_id, func.max(Source.saved_at).label("saved_at"))
    saves = saves.where(
        Source.active.is_(True) | Source.requested.is_(True)
        if q.include_requested
        else Source.active.is_(True)
    )
    if q.group_ids is not None:
        saves = saves.where(Source.group_id.in_(q.group_ids))
    elif not who.admin:
        saves = saves.where(Source.group_id.in_(who.group_ids))
    if q.saved_before is not None:
        saves = saves.where(Source.saved_at <= q.saved_before)
    if q.saved_after is not None:
        saves = saves.where(Source.saved_at >= q.saved_after)
    saved = saves.group_by(Source.obj_id).subquery()
    base = select(Obj.id).join(saved, saved.c.obj_id == Obj.id)
    if q.source_id:
        base = base.where(Obj.id.icontains(q.source_id, autoescape=True))
    if q.rejected:
        base = base.where(Obj.id.not_in(q.rejected))
    if q.list_name:
        listed = select(Listing.obj_id).where(
            Listing.user_id == who.user_id, Listing.list_name == q.list_name
        )
        base = base.where(Obj.id.in_(listed))
    if q.cone is not None:
        base = base.where(Obj.id.in_(await _in_cone(session, base, q.cone)))
    total = await session.scalar(select(func.count()).select_from(base.subquery())) or 0
    pages = max(1, math.ceil(total / q.per_page))
    if q.page > pages:
        raise ValueError("Page number out of range.")
    ordered = _ordered(base, saved, who, q)
    ids = list(await session.scalars(ordered.offset((q.page - 1) * q.per_page).limit(q.per_page)))
    return {
        "sources": await _describe(session, who, ids, q),
        "totalMatches": total,
        "pageNumber": q.page,
        "numPerPage": q.per_page,
    }


async def _in_cone(session: AsyncSession, base: Select, cone: tuple[float, float, float]) -> list:
    """The ids of the query's objects within the cone: a declination band in SQL, then the
    exact great-circle distance (skymesh.sky, as the archive's cone searches)."""
    ra, dec, radius = cone
    band = base.add_columns(Obj.ra, Obj.dec).where(
        Obj.dec.between(dec - radius, dec + radius), Obj.ra.is_not(None)
    )
    rows = (await session.execute(band)).all()
    if not rows:
        return []
    distances = sky.angular_separation_deg(ra, dec, [r.ra for r in rows], [r.dec for r in rows])
    return [row.id for row, d in zip(rows, distances, strict=True) if d <= radius]


def _ordered(base: Select, saved: Any, who: Identity, q: SourceQuery) -> Select:
    annotation = _annotation_sort(q.sort_by)
    if annotation is not None:
        origin, key = annotation
        values = select(Annotation.obj_id, Annotation.data[key].label("value")).where(
            Annotation.origin == origin
        )
        if not who.admin:
            values = values.where(objects.readable_annotations(who))
        sorted_by = values.subquery()
        base = base.outerjoin(sorted_by, sorted_by.c.obj_id == Obj.id)
        key_column: Any = sorted_by.c.value
    elif q.sort_by == "saved_at":
        key_column = saved.c.saved_at
    else:
        key_column = SORT_COLUMNS[q.sort_by]
    key_column = key_column.desc() if q.descending else key_column.asc()
    return base.order_by(key_column.nulls_last(), Obj.id)


async def _describe(
    session: AsyncSession, who: Identity, ids: list[str], q: SourceQuery
) -> list[dict[str, Any]]:
    """Each object as SkyPortal lists a source: the Obj, its groups (with each save), its
    readable annotations and classifications (each a batch for the page) and, when asked,
    thumbnails and comments."""
    if not ids:
        return []
    found = {o.id: o for o in await session.scalars(select(Obj).where(Obj.id.in_(ids)))}
    sources = {obj_id: objects.obj_json(found[obj_id]) for obj_id in ids}
    if not q.remove_nested:
        saved = await objects.source_groups_of(session, who, ids, q.include_requested)
        for obj_id, groups in saved.items():
            sources[obj_id]["groups"] = groups
        for obj_id, annotations in (await objects.annotations_of(session, who, ids)).items():
            sources[obj_id]["annotations"] = annotations
        for obj_id, found in (await classifications.of_objs(session, who, ids)).items():
            sources[obj_id]["classifications"] = found
        for source in sources.values():
            source.setdefault("groups", [])
            source.setdefault("annotations", [])
            source.setdefault("classifications", [])
    if q.include_thumbnails and not q.remove_nested:
        rows = await session.scalars(
            select(Thumbnail).where(Thumbnail.obj_id.in_(ids)).order_by(Thumbnail.type)
        )
        for source in sources.values():
            source["thumbnails"] = []
        for t in rows:
            sources[t.obj_id]["thumbnails"].append(
                {
                    "id": t.id,
                    "obj_id": t.obj_id,
                    "type": t.type,
                    "public_url": f"/api/thumbnail/{t.id}/image",
                    "created_at": t.created_at,
                }
            )
    if q.include_comments:
        for obj_id in ids:
            sources[obj_id]["comments"] = await objects.comments(session, who, obj_id)
    return [sources[obj_id] for obj_id in ids]
