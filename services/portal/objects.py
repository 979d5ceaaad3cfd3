"""The read side of an object: candidates, sources, annotations, comments, photometry,
thumbnails, each filtered to what the caller may read.

skymesh is stricter than SkyPortal about objects: a user sees an object only when it is a
candidate of one of their groups' filters or a source (saved or invited) in one of their
groups; otherwise it does not exist for them. Attached data is filtered as SkyPortal does:
annotations and comments by their groups, photometry by its groups, its streams or its owner.
"""

from __future__ import annotations

import math
from typing import Any

from astropy import units as u
from astropy.coordinates import SkyCoord
from sqlalchemy import Select, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.portal.db.models import (
    Annotation,
    Candidate,
    Comment,
    Filter,
    Group,
    Instrument,
    Obj,
    Photometry,
    Source,
    Thumbnail,
    User,
    annotation_groups,
    comment_groups,
    photometry_groups,
    photometry_streams,
    stream_users,
)
from services.portal.groups import group_json
from services.portal.magsys import PHOT_ZP, SERVED_MAG_PER_LN, check_system, offset, output_system
from services.portal.replies import iso
from skymesh.runtime.auth import Identity
from skymesh.runtime.errors import NotFound

TRUE_WORDS = frozenset({"true", "yes", "t", "1"})


def flag(value: str) -> bool:
    """SkyPortal's query booleans."""
    return value.strip().lower() in TRUE_WORDS


def _candidate_rows(who: Identity, obj_id: str) -> Select:
    query = select(Candidate).where(Candidate.obj_id == obj_id)
    if not who.admin:
        query = query.join(Filter, Filter.id == Candidate.filter_id).where(
            Filter.group_id.in_(who.group_ids)
        )
    return query


async def is_candidate(session: AsyncSession, who: Identity, obj_id: str) -> bool:
    return await session.scalar(select(exists(_candidate_rows(who, obj_id)))) or False


async def is_source(session: AsyncSession, who: Identity, obj_id: str) -> bool:
    query = select(Source.id).where(Source.obj_id == obj_id)
    if not who.admin:
        query = query.where(Source.group_id.in_(who.group_ids))
    return await session.scalar(select(exists(query))) or False


async def visible_obj(session: AsyncSession, who: Identity, obj_id: str) -> Obj | None:
    obj = await session.get(Obj, obj_id)
    if obj is None:
        return None
    if (
        who.admin
        or await is_candidate(session, who, obj_id)
        or await is_source(session, who, obj_id)
    ):
        return obj
    return None


def obj_json(obj: Obj) -> dict[str, Any]:
    coord = SkyCoord(obj.ra * u.deg, obj.dec * u.deg) if obj.ra is not None else None
    return {
        "id": obj.id,
        "ra": obj.ra,
        "dec": obj.dec,
        "redshift": obj.redshift,
        "redshift_history": obj.redshift_history,
        "altdata": obj.altdata,
        "score": obj.score,
        "origin": obj.origin,
        "alias": obj.alias or [],
        "created_at": obj.created_at,
        "modified": obj.modified,
        "gal_lon": float(coord.galactic.l.deg) if coord is not None else None,
        "gal_lat": float(coord.galactic.b.deg) if coord is not None else None,
        # No redshift, no distance: SkyPortal's computed fields stay null.
        "dm": None,
        "luminosity_distance": None,
    }


def annotation_json(a: Annotation) -> dict[str, Any]:
    return {
        "id": a.id,
        "obj_id": a.obj_id,
        "origin": a.origin,
        "data": a.data,
        "author_id": a.author_id,
        "created_at": a.created_at,
        "modified": a.modified,
    }


def readable_annotations(who: Identity) -> Any:
    """The condition on Annotation rows that the caller reads through their groups."""
    readable = select(annotation_groups.c.annotation_id).where(
        annotation_groups.c.group_id.in_(who.group_ids)
    )
    return Annotation.id.in_(readable)


async def annotations_of(
    session: AsyncSession, who: Identity, obj_ids: list[str]
) -> dict[str, list[dict[str, Any]]]:
    """Each object's annotations the caller reads, by origin: one query for many objects."""
    query = (
        select(Annotation)
        .where(Annotation.obj_id.in_(obj_ids))
        .order_by(Annotation.obj_id, Annotation.origin)
    )
    if not who.admin:
        query = query.where(readable_annotations(who))
    found: dict[str, list[dict[str, Any]]] = {}
    for a in await session.scalars(query):
        found.setdefault(a.obj_id, []).append(annotation_json(a))
    return found


async def annotations(session: AsyncSession, who: Identity, obj_id: str) -> list[dict[str, Any]]:
    return (await annotations_of(session, who, [obj_id])).get(obj_id, [])


async def comments(session: AsyncSession, who: Identity, obj_id: str) -> list[dict[str, Any]]:
    query = (
        select(Comment, User)
        .join(User, User.id == Comment.author_id)
        .where(Comment.obj_id == obj_id)
        .order_by(Comment.created_at, Comment.id)
    )
    if not who.admin:
        readable = select(comment_groups.c.comment_id).where(
            comment_groups.c.group_id.in_(who.group_ids)
        )
        query = query.where(Comment.id.in_(readable))
    rows = (await session.execute(query)).all()
    groups = await _groups_of(session, comment_groups, "comment_id", [c.id for c, _ in rows])
    return [
        {
            "id": c.id,
            "obj_id": c.obj_id,
            "text": c.text,
            "author_id": c.author_id,
            "author": {"id": a.id, "username": a.username},
            "bot": c.bot,
            "attachment_name": c.attachment_name,
            "groups": groups.get(c.id, []),
            "created_at": c.created_at,
            "modified": c.modified,
        }
        for c, a in rows
    ]


async def _groups_of(
    session: AsyncSession, table: Any, key: str, ids: list[int]
) -> dict[int, list[dict[str, Any]]]:
    if not ids:
        return {}
    column = table.c[key]
    rows = await session.execute(
        select(column, Group).join(Group, Group.id == table.c.group_id).where(column.in_(ids))
    )
    found: dict[int, list[dict[str, Any]]] = {}
    for owner, group in rows:
        found.setdefault(owner, []).append(group_json(group))
    return found


async def thumbnails(session: AsyncSession, obj_id: str) -> list[dict[str, Any]]:
    rows = await session.scalars(
        select(Thumbnail).where(Thumbnail.obj_id == obj_id).order_by(Thumbnail.type)
    )
    return [
        {
            "id": t.id,
            "obj_id": t.obj_id,
            "type": t.type,
            "public_url": f"/api/thumbnail/{t.id}/image",
            "created_at": t.created_at,
        }
        for t in rows
    ]


async def with_thumbnails(session: AsyncSession, obj_ids: list[str]) -> set[str]:
    rows = await session.scalars(
        select(Thumbnail.obj_id).where(Thumbnail.obj_id.in_(obj_ids)).distinct()
    )
    return set(rows)


async def thumbnail_png(session: AsyncSession, who: Identity, thumbnail_id: int) -> bytes:
    thumbnail = await session.get(Thumbnail, thumbnail_id)
    if thumbnail is None or await visible_obj(session, who, thumbnail.obj_id) is None:
        raise NotFound(f"no thumbnail {thumbnail_id}")
    return thumbnail.png


async def source_groups_of(
    session: AsyncSession, who: Identity, obj_ids: list[str], include_requested: bool = True
) -> dict[str, list[dict[str, Any]]]:
    """For each object, the caller's groups (all, for admins) where it is saved (or invited to,
    with ``include_requested``), each with its save: active, requested, saved_at, saved_by."""
    wanted = Source.active.is_(True)
    if include_requested:
        wanted = wanted | Source.requested.is_(True)
    query = (
        select(Source, Group, User)
        .join(Group, Group.id == Source.group_id)
        .outerjoin(User, User.id == Source.saved_by_id)
        .where(Source.obj_id.in_(obj_ids), wanted)
        .order_by(Group.id)
    )
    if not who.admin:
        query = query.where(Source.group_id.in_(who.group_ids))
    groups: dict[str, list[dict[str, Any]]] = {}
    for source, group, saver in (await session.execute(query)).all():
        groups.setdefault(source.obj_id, []).append(
            {
                **group_json(group),
                "active": source.active,
                "requested": source.requested,
                "saved_at": source.saved_at,
                "saved_by_id": source.saved_by_id,
                "saved_by": user_json(saver) if saver is not None else None,
            }
        )
    return groups


async def source_groups(
    session: AsyncSession, who: Identity, obj_id: str, include_requested: bool = True
) -> list[dict[str, Any]]:
    found = await source_groups_of(session, who, [obj_id], include_requested)
    return found.get(obj_id, [])


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
    }


async def passing_alerts(session: AsyncSession, who: Identity, obj_id: str) -> list[dict[str, Any]]:
    rows = await session.scalars(_candidate_rows(who, obj_id).order_by(Candidate.passed_at))
    return [
        {
            "filter_id": c.filter_id,
            "passing_alert_id": c.passing_alert_id,
            "passed_at": c.passed_at,
        }
        for c in rows
    ]


PHOTOMETRY_FORMATS = ("mag", "flux", "both", "plot")


def readable_photometry(who: Identity) -> Select:
    """The ids of the photometry points the caller reads: through its groups, its streams or
    as its owner."""
    by_group = select(photometry_groups.c.photometry_id).where(
        photometry_groups.c.group_id.in_(who.group_ids)
    )
    mine = select(stream_users.c.stream_id).where(stream_users.c.user_id == who.user_id)
    by_stream = select(photometry_streams.c.photometry_id).where(
        photometry_streams.c.stream_id.in_(mine)
    )
    by_owner = select(Photometry.id).where(Photometry.owner_id == who.user_id)
    return by_group.union(by_stream, by_owner)


def check_format(fmt: str) -> str:
    fmt = fmt or "mag"
    if fmt not in PHOTOMETRY_FORMATS:
        raise ValueError(f"format must be one of {', '.join(PHOTOMETRY_FORMATS)}")
    return fmt


async def photometry(
    session: AsyncSession, who: Identity, obj_id: str, fmt: str, magsys: str
) -> list[dict[str, Any]]:
    fmt = check_format(fmt)
    system = check_system(magsys)
    query = (
        select(Photometry, Instrument.name)
        .join(Instrument, Instrument.id == Photometry.instrument_id)
        .where(Photometry.obj_id == obj_id)
        .order_by(Photometry.mjd, Photometry.id)
    )
    if not who.admin:
        query = query.where(Photometry.id.in_(readable_photometry(who)))
    rows = (await session.execute(query)).all()
    groups = await _groups_of(session, photometry_groups, "photometry_id", [p.id for p, _ in rows])
    return [point_json(p, name, fmt, system, groups.get(p.id, [])) for p, name in rows]


def _posted_limit(p: Photometry) -> float | None:
    """The limiting magnitude as uploaded (in AB), when it was uploaded in magnitudes."""
    posted = p.original_user_data or {}
    limit = posted.get("limiting_mag")
    if not isinstance(limit, (int, float)) or isinstance(limit, bool):
        return None
    shift = offset(check_system(str(posted.get("magsys") or "ab")), p.filter)
    return None if shift is None else float(limit) + shift


def point_json(
    p: Photometry, instrument: str, fmt: str, system: str, groups: list[dict[str, Any]]
) -> dict[str, Any]:
    """A point as SkyPortal serialises it, in ``system`` where its band has that system."""
    system, shift = output_system(system, p.filter)
    zp = PHOT_ZP - shift
    detected = p.flux is not None and p.flux > 0
    mag = -2.5 * math.log10(p.flux) + zp if detected else None
    magerr = SERVED_MAG_PER_LN * p.fluxerr / p.flux if detected else None
    limiting_mag = _posted_limit(p)
    if limiting_mag is not None:
        limiting_mag -= shift
    elif p.fluxerr > 0:
        limiting_mag = -2.5 * math.log10(5 * p.fluxerr) + zp
    mag_part = {"mag": mag, "magerr": magerr, "magsys": system, "limiting_mag": limiting_mag}
    if fmt == "plot":
        return {
            "id": p.id,
            "obj_id": p.obj_id,
            "filter": p.filter,
            "mjd": p.mjd,
            "origin": p.origin,
            **{k: mag_part[k] for k in ("mag", "magerr", "limiting_mag")},
        }
    point: dict[str, Any] = {
        "id": p.id,
        "obj_id": p.obj_id,
        "mjd": p.mjd,
        "filter": p.filter,
        "ra": p.ra,
        "dec": p.dec,
        "snr": p.flux / p.fluxerr if p.flux is not None and p.fluxerr else None,
        "instrument_id": p.instrument_id,
        "instrument_name": instrument,
        "origin": p.origin,
        "altdata": p.altdata,
        "groups": groups,
        "owner_id": p.owner_id,
        "upload_id": p.upload_id,
        "created_at": iso(p.created_at),
    }
    if fmt in ("mag", "both"):
        point.update(mag_part)
    if fmt in ("flux", "both"):
        point.update({"flux": p.flux, "fluxerr": p.fluxerr, "zp": zp, "magsys": system})
    return point


async def instruments(session: AsyncSession, name: str) -> list[dict[str, Any]]:
    query = select(Instrument).order_by(Instrument.id)
    if name:
        query = query.where(Instrument.name == name)
    return [instrument_json(i) for i in await session.scalars(query)]


def instrument_json(i: Instrument) -> dict[str, Any]:
    return {"id": i.id, "name": i.name, "type": i.type, "band": i.band, "filters": i.filters}
