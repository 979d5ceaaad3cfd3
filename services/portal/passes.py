"""The broker's passing alerts become objects, candidates, annotations, photometry,
thumbnails and autosaved sources, as Kowalski posts them to SkyPortal.

One call carries a whole batch and runs in one transaction. Every write is keyed so that a
re-delivered batch adds nothing: candidates on (object, filter, passing alert), annotations
on (object, origin), photometry on SkyPortal's duplicate key, thumbnails on (object, type),
sources on (object, group), an autosave comment only with the save that made it, and a
filter's auto_followup request only while the object has no live one on that allocation.

Each table's rows of the whole batch go in one statement, and leave what posting the passes
one by one, in the batch's order, would have left. Autosaves and follow-up requests, rare and
decided pass by pass, are posted pass by pass.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from bson import json_util
from sqlalchemy import (
    FromClause,
    String,
    and_,
    any_,
    bindparam,
    func,
    literal_column,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, Insert, insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.portal import followup
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
    Stream,
    Thumbnail,
    annotation_groups,
    comment_groups,
    photometry_streams,
    utcnow,
)
from services.portal.magsys import PHOT_ZP
from skymesh.portal.v1 import portal_pb2

# SkyPortal's duplicate key of a photometry point (the unique index uq_photometry_point).
POINT_KEY = ("obj_id", "instrument_id", "origin", "mjd", "fluxerr", "flux")
CANDIDATE_KEY = ["obj_id", "filter_id", "passing_alert_id"]


@dataclass
class Posted:
    candidates: int = 0
    annotations: int = 0
    photometry: int = 0
    thumbnails: int = 0
    saved: int = 0
    unknown_filters: int = 0
    followup_requests: int = 0

    def reply(self) -> portal_pb2.PostPassesResponse:
        return portal_pb2.PostPassesResponse(**self.__dict__)


@dataclass
class FilterInfo:
    filter_id: int
    group_id: int
    origin: str


@dataclass
class Batch:
    """What one PostPasses call resolves once: filters, instruments, streams."""

    filters: dict[int, FilterInfo] = field(default_factory=dict)
    instruments: dict[str, int] = field(default_factory=dict)
    # collection -> [(stream id, selector)]
    streams: dict[str, list[tuple[int, frozenset[int]]]] = field(default_factory=dict)


class Pass(NamedTuple):
    """One alert's pass of a filter the portal knows."""

    alert: portal_pb2.PassedAlert
    passed: portal_pb2.PassedFilter
    info: FilterInfo


def plain(value: Any) -> Any:
    """Extended JSON (from the filters) as plain JSON values for a JSONB column."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return str(value)


def insert_rows(table: FromClause, rows: Sequence[dict[str, Any]]) -> Insert:
    """INSERT of ``rows`` (dicts with the same keys) from one array per column, unnested.

    One bind parameter a column, whatever the number of rows: the statement is compiled and
    prepared once, and no batch needs splitting for asyncpg's 32767 bind parameters. (Multi-row
    VALUES take a parameter a value and are compiled again for each row count, which costs
    more CPU than the database spends on the rows.) Python-side column defaults are evaluated
    once a statement."""
    columns = list(rows[0])
    arrays = [
        bindparam(f"{name}_values", [row[name] for row in rows], type_=ARRAY(table.c[name].type))
        for name in columns
    ]
    source = func.unnest(*arrays).table_valued(*columns).render_derived()
    return insert(table).from_select(columns, select(*source.c))


async def resolve_batch(session: AsyncSession, alerts: list[portal_pb2.PassedAlert]) -> Batch:
    batch = Batch()
    wanted = {f.filter_id for alert in alerts for f in alert.filters}
    rows = await session.execute(
        select(Filter.id, Filter.name, Group.id, Group.name, Group.nickname)
        .join(Group, Group.id == Filter.group_id)
        .where(Filter.id.in_(wanted))
    )
    for filter_id, filter_name, group_id, group_name, nickname in rows:
        origin = f"{nickname or group_name}:{filter_name}"
        batch.filters[filter_id] = FilterInfo(filter_id, group_id, origin)
    for stream_id, altdata in await session.execute(select(Stream.id, Stream.altdata)):
        collection = (altdata or {}).get("collection")
        if isinstance(collection, str):
            selector = frozenset(int(p) for p in altdata.get("selector") or [])
            batch.streams.setdefault(collection, []).append((stream_id, selector))
    filters_of: dict[str, set[str]] = {}
    for alert in alerts:
        if alert.instrument:
            filters_of.setdefault(alert.instrument, set()).update(
                p.filter for p in alert.photometry
            )
    if filters_of:
        await _instruments(session, filters_of, batch)
    return batch


async def _instruments(
    session: AsyncSession, filters_of: dict[str, set[str]], batch: Batch
) -> None:
    """Each instrument of the batch exists and has the batch's filters among its own."""
    instruments = Instrument.__table__
    stored = await session.execute(
        select(instruments.c.id, instruments.c.name, instruments.c.filters).where(
            instruments.c.name.in_(sorted(filters_of))
        )
    )
    known = {name: (instrument_id, set(filters)) for instrument_id, name, filters in stored}
    for name, filter_names in sorted(filters_of.items()):
        if name not in known:
            batch.instruments[name] = await session.scalar(
                insert(instruments)
                .values(name=name, filters=sorted(filter_names))
                .returning(instruments.c.id)
            )
            continue
        instrument_id, filters = known[name]
        if not filter_names <= filters:
            await session.execute(
                update(instruments)
                .where(instruments.c.id == instrument_id)
                .values(filters=sorted(filter_names | filters))
            )
        batch.instruments[name] = instrument_id


async def post_passes(
    session: AsyncSession, alerts: list[portal_pb2.PassedAlert], uploader_id: int
) -> Posted:
    posted = Posted()
    batch = await resolve_batch(session, alerts)
    known = [a for a in alerts if any(f.filter_id in batch.filters for f in a.filters)]
    posted.unknown_filters = sum(
        1 for a in alerts for f in a.filters if f.filter_id not in batch.filters
    )
    if not known:
        return posted
    await _objects(session, known)
    passes = [
        Pass(alert, passed, info)
        for alert in known
        for passed in alert.filters
        if (info := batch.filters.get(passed.filter_id)) is not None
    ]
    posted.candidates = await _candidates(session, passes, uploader_id)
    posted.annotations = await _annotations(session, passes, uploader_id)
    # Neither reads what the candidates and annotations above wrote, so running them after
    # those changes nothing; among themselves they keep the batch's order.
    for alert, passed, info in passes:
        if passed.autosave:
            posted.saved += await _autosave(session, alert.obj_id, passed, info, uploader_id)
        if passed.auto_followup_json:
            decision = plain(json_util.loads(passed.auto_followup_json))
            posted.followup_requests += await followup.auto_request(
                session, alert.obj_id, decision, uploader_id
            )
    posted.thumbnails = await _thumbnails(session, known)
    posted.photometry = await _photometry(session, known, batch, uploader_id)
    return posted


async def _objects(session: AsyncSession, alerts: list[portal_pb2.PassedAlert]) -> None:
    rows = {
        a.obj_id: {
            "id": a.obj_id,
            "ra": a.ra,
            "dec": a.dec,
            "score": a.score if a.HasField("score") else None,
            "origin": "skymesh",
        }
        for a in alerts
    }
    objs = [rows[obj_id] for obj_id in sorted(rows)]
    await session.execute(insert_rows(Obj.__table__, objs).on_conflict_do_nothing())


def _passed_at(alert: portal_pb2.PassedAlert) -> datetime:
    if alert.passed_at:
        return datetime.fromisoformat(alert.passed_at).astimezone(UTC)
    return utcnow()


async def insert_candidate(
    session: AsyncSession,
    obj_id: str,
    filter_id: int,
    passed_at: datetime,
    passing_alert_id: int | None,
    uploader_id: int | None,
) -> int | None:
    """A candidate row; None when the (object, filter, passing alert) row exists already."""
    return await session.scalar(
        insert(Candidate)
        .values(
            obj_id=obj_id,
            filter_id=filter_id,
            passed_at=passed_at,
            passing_alert_id=passing_alert_id,
            uploader_id=uploader_id,
        )
        .on_conflict_do_nothing(index_elements=CANDIDATE_KEY)
        .returning(Candidate.id)
    )


async def _candidates(session: AsyncSession, passes: list[Pass], uploader_id: int) -> int:
    """A row per (object, filter, passing alert), the first pass's -> rows added."""
    rows: dict[tuple[str, int, int], dict[str, Any]] = {}
    for alert, _, info in passes:
        key = (alert.obj_id, info.filter_id, alert.candid)
        if key not in rows:
            rows[key] = {
                "obj_id": alert.obj_id,
                "filter_id": info.filter_id,
                "passed_at": _passed_at(alert),
                "passing_alert_id": alert.candid,
                "uploader_id": uploader_id,
            }
    candidates = Candidate.__table__
    statement = (
        insert_rows(candidates, [rows[key] for key in sorted(rows)])
        .on_conflict_do_nothing(index_elements=CANDIDATE_KEY)
        .returning(candidates.c.id)
    )
    return len((await session.execute(statement)).all())


@dataclass
class Annotated:
    """One (object, origin) of the batch: the data of each of its passes, in order, with
    whether that pass's filter updates annotations, and the filters' groups."""

    posts: list[tuple[dict[str, Any], bool]] = field(default_factory=list)
    group_ids: set[int] = field(default_factory=set)


def _updated(
    data: dict[str, Any], posts: Iterable[tuple[dict[str, Any], bool]]
) -> dict[str, Any] | None:
    """``data`` once each post of a filter that updates annotations has replaced it when it
    differs (compared as Python values, as before); None when none did."""
    changed = False
    for posted, update_annotations in posts:
        if update_annotations and posted != data:
            data, changed = posted, True
    return data if changed else None


async def _annotations(session: AsyncSession, passes: list[Pass], author_id: int) -> int:
    """Each filter's annotation of each object -> rows added. A new (object, origin) gets
    its first pass's data, then, as an existing one does, the data of each pass whose filter
    updates annotations; each is linked to the filters' groups."""
    wanted: dict[tuple[str, str], Annotated] = {}
    for alert, passed, info in passes:
        if not passed.annotations_json:
            continue
        data = plain(json_util.loads(passed.annotations_json))
        if not isinstance(data, dict) or not data:
            continue
        entry = wanted.setdefault((alert.obj_id, info.origin), Annotated())
        entry.posts.append((data, passed.update_annotations))
        entry.group_ids.add(info.group_id)
    if not wanted:
        return 0
    annotations = Annotation.__table__
    keys = sorted(wanted)
    rows = [
        {
            "obj_id": obj_id,
            "origin": origin,
            "data": wanted[obj_id, origin].posts[0][0],
            "author_id": author_id,
        }
        for obj_id, origin in keys
    ]
    ids: dict[tuple[str, str], int] = {}
    updates: list[dict[str, Any]] = []
    statement = (
        insert_rows(annotations, rows)
        .on_conflict_do_nothing(index_elements=["obj_id", "origin"])
        .returning(annotations.c.id, annotations.c.obj_id, annotations.c.origin)
    )
    for annotation_id, obj_id, origin in await session.execute(statement):
        ids[obj_id, origin] = annotation_id
        posts = wanted[obj_id, origin].posts
        if (data := _updated(posts[0][0], posts[1:])) is not None:
            updates.append({"annotation_id": annotation_id, "new_data": data})
    added = len(ids)
    existing = {key for key in keys if key not in ids}
    if existing:
        # These objects' annotations of these origins: a few more pairs than the batch's.
        obj_ids = sorted({obj_id for obj_id, _ in existing})
        origins = sorted({origin for _, origin in existing})
        stored = await session.execute(
            select(
                annotations.c.id, annotations.c.obj_id, annotations.c.origin, annotations.c.data
            ).where(
                annotations.c.obj_id == any_(bindparam("obj_ids", obj_ids, type_=ARRAY(String))),
                annotations.c.origin == any_(bindparam("origins", origins, type_=ARRAY(String))),
            )
        )
        for annotation_id, obj_id, origin, data in stored:
            if (obj_id, origin) not in existing:
                continue
            ids[obj_id, origin] = annotation_id
            if (data := _updated(data, wanted[obj_id, origin].posts)) is not None:
                updates.append({"annotation_id": annotation_id, "new_data": data})
        missing = existing - ids.keys()
        assert not missing, f"annotations gone while posting: {sorted(missing)}"
    if updates:
        await session.execute(
            update(annotations)
            .where(annotations.c.id == bindparam("annotation_id"))
            .values(data=bindparam("new_data"), modified=utcnow()),
            sorted(updates, key=lambda u: u["annotation_id"]),
        )
    links = sorted({(ids[key], g) for key in keys for g in wanted[key].group_ids})
    await session.execute(
        insert_rows(
            annotation_groups, [{"annotation_id": a, "group_id": g} for a, g in links]
        ).on_conflict_do_nothing()
    )
    return added


async def _autosave(
    session: AsyncSession,
    obj_id: str,
    passed: portal_pb2.PassedFilter,
    info: FilterInfo,
    uploader_id: int,
) -> int:
    options = json_util.loads(passed.autosave_json) if passed.autosave_json else {}
    ignore = [int(g) for g in options.get("ignore_group_ids") or []]
    if ignore:
        already = await session.scalar(
            select(Source.id).where(
                Source.obj_id == obj_id, Source.group_id.in_(ignore), Source.active.is_(True)
            )
        )
        if already is not None:
            return 0
    saver = options.get("saver_id")
    saved = await session.scalar(
        insert(Source)
        .values(
            obj_id=obj_id,
            group_id=info.group_id,
            saved_by_id=int(saver) if isinstance(saver, int) else uploader_id,
        )
        .on_conflict_do_nothing(index_elements=["obj_id", "group_id"])
        .returning(Source.id)
    )
    if saved is None:
        return 0
    comment = options.get("comment")
    if isinstance(comment, str) and comment:
        comments = Comment.__table__
        comment_id = await session.scalar(
            insert(comments)
            .values(obj_id=obj_id, text=comment, author_id=uploader_id, bot=True)
            .returning(comments.c.id)
        )
        await session.execute(
            comment_groups.insert().values(comment_id=comment_id, group_id=info.group_id)
        )
    return 1


async def _thumbnails(session: AsyncSession, alerts: list[portal_pb2.PassedAlert]) -> int:
    """The batch's stamps, one per (object, type) -> rows added.

    Only a later alert's stamp replaces the stored one. PostgreSQL updates a row at most once
    a statement, so the batch's latest alert of each (object, type) is posted alone (the first
    of several with that candid): what posting the alerts one by one would leave stored.
    """
    latest: dict[tuple[str, str], tuple[int, bytes]] = {}
    for alert in alerts:
        for thumbnail in {t.type: t for t in alert.thumbnails}.values():
            key = (alert.obj_id, thumbnail.type)
            if key not in latest or alert.candid > latest[key][0]:
                latest[key] = (alert.candid, thumbnail.png)
    if not latest:
        return 0
    thumbnails = Thumbnail.__table__
    rows = [
        {"obj_id": obj_id, "type": kind, "png": png, "passing_alert_id": candid}
        for (obj_id, kind), (candid, png) in sorted(latest.items())
    ]
    statement = insert_rows(thumbnails, rows)
    excluded = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=["obj_id", "type"],
        set_={"png": excluded.png, "passing_alert_id": excluded.passing_alert_id},
        where=thumbnails.c.passing_alert_id < excluded.passing_alert_id,
    ).returning(literal_column("xmax = 0"))
    return sum(1 for (inserted,) in await session.execute(statement) if inserted)


def _stream_ids(batch: Batch, collection: str, programid: int | None) -> list[int]:
    return [
        stream_id
        for stream_id, selector in batch.streams.get(collection, [])
        if programid is None or programid in selector
    ]


async def _point_ids(
    session: AsyncSession, keys: list[tuple[Any, ...]]
) -> dict[tuple[Any, ...], int]:
    """The ids of stored points, by their duplicate key (POINT_KEY), in one query."""
    photometry = Photometry.__table__
    arrays = [
        bindparam(
            f"{column}_keys", [key[i] for key in keys], type_=ARRAY(photometry.c[column].type)
        )
        for i, column in enumerate(POINT_KEY)
    ]
    wanted = func.unnest(*arrays).table_valued(*POINT_KEY).render_derived()
    # "=" where the key cannot be null, so that the index serves the join; origin and flux
    # may be null and are matched as the unique index matches them (nulls not distinct).
    matched = [
        photometry.c[column].is_not_distinct_from(wanted.c[column])
        if photometry.c[column].nullable
        else photometry.c[column] == wanted.c[column]
        for column in POINT_KEY
    ]
    found = await session.execute(
        select(photometry.c.id, *(photometry.c[column] for column in POINT_KEY)).join(
            wanted, and_(*matched)
        )
    )
    return {tuple(key): point_id for point_id, *key in found}


async def _photometry(
    session: AsyncSession, alerts: list[portal_pb2.PassedAlert], batch: Batch, owner_id: int
) -> int:
    """Every point of the batch, deduplicated on SkyPortal's key, each linked to the streams
    whose programids cover it (no group: the stream decides who reads it)."""
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    streams: dict[tuple[Any, ...], set[int]] = {}
    for alert in alerts:
        instrument_id = batch.instruments.get(alert.instrument)
        if instrument_id is None:
            continue
        for point in alert.photometry:
            scale = 10 ** (-0.4 * (point.zp - PHOT_ZP))
            flux = point.flux * scale if point.HasField("flux") else None
            row = {
                "obj_id": alert.obj_id,
                "instrument_id": instrument_id,
                "origin": point.origin or None,
                "mjd": point.mjd,
                "fluxerr": point.fluxerr * scale,
                "flux": flux,
                "filter": point.filter,
                "ra": point.ra if point.HasField("ra") else None,
                "dec": point.dec if point.HasField("dec") else None,
                "owner_id": owner_id,
            }
            key = tuple(row[column] for column in POINT_KEY)
            rows.setdefault(key, row)
            programid = point.programid if point.HasField("programid") else None
            streams.setdefault(key, set()).update(_stream_ids(batch, alert.collection, programid))
    if not rows:
        return 0
    photometry = Photometry.__table__
    key_columns = [photometry.c[column] for column in POINT_KEY]
    # New points only: an upsert would rewrite every point the portal has already (each
    # alert repeats its object's history), and PostgreSQL writes a new row version for that.
    statement = (
        insert_rows(photometry, [rows[key] for key in sorted(rows, key=repr)])
        .on_conflict_do_nothing(index_elements=list(POINT_KEY))
        .returning(photometry.c.id, *key_columns)
    )
    ids = {tuple(key): point_id for point_id, *key in await session.execute(statement)}
    added = len(ids)
    if known := [key for key in rows if key not in ids and streams[key]]:
        # The points that were there already still get the batch's streams.
        ids.update(await _point_ids(session, known))
    links = [
        {"photometry_id": ids[key], "stream_id": stream_id}
        for key in rows
        if key in ids
        for stream_id in streams[key]
    ]
    if links:
        await session.execute(insert_rows(photometry_streams, links).on_conflict_do_nothing())
    return added
