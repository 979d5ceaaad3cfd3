"""The broker's passing alerts become objects, candidates, annotations, photometry,
thumbnails and autosaved sources, as Kowalski posts them to SkyPortal.

One call carries a whole batch and runs in one transaction. Every write is keyed so that a
re-delivered batch adds nothing: candidates on (object, filter, passing alert), annotations
on (object, origin), photometry on SkyPortal's duplicate key, thumbnails on (object, type),
sources on (object, group), an autosave comment only with the save that made it, and a
filter's auto_followup request only while the object has no live one on that allocation.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bson import json_util
from sqlalchemy import literal_column, select
from sqlalchemy.dialects.postgresql import insert
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
# Rows of one INSERT; asyncpg allows 32767 bind parameters per statement.
ROWS_PER_STATEMENT = 2000


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


def chunks(rows: list[dict[str, Any]]) -> Iterable[list[dict[str, Any]]]:
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        yield rows[start : start + ROWS_PER_STATEMENT]


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
    for stream in await session.scalars(select(Stream)):
        collection = (stream.altdata or {}).get("collection")
        if isinstance(collection, str):
            selector = frozenset(int(p) for p in stream.altdata.get("selector") or [])
            batch.streams.setdefault(collection, []).append((stream.id, selector))
    filters_of: dict[str, set[str]] = {}
    for alert in alerts:
        if alert.instrument:
            filters_of.setdefault(alert.instrument, set()).update(
                p.filter for p in alert.photometry
            )
    for name, filter_names in filters_of.items():
        instrument = await session.scalar(select(Instrument).where(Instrument.name == name))
        if instrument is None:
            instrument = Instrument(name=name, filters=sorted(filter_names))
            session.add(instrument)
            await session.flush()
        elif not filter_names <= set(instrument.filters):
            instrument.filters = sorted(filter_names | set(instrument.filters))
        batch.instruments[name] = instrument.id
    return batch


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
    for alert in known:
        for passed in alert.filters:
            info = batch.filters.get(passed.filter_id)
            if info is None:
                continue
            posted.candidates += await _candidate(session, alert, info, uploader_id)
            posted.annotations += await _annotation(
                session, alert.obj_id, passed, info, uploader_id
            )
            if passed.autosave:
                posted.saved += await _autosave(session, alert.obj_id, passed, info, uploader_id)
            if passed.auto_followup_json:
                decision = plain(json_util.loads(passed.auto_followup_json))
                posted.followup_requests += await followup.auto_request(
                    session, alert.obj_id, decision, uploader_id
                )
        posted.thumbnails += await _thumbnails(session, alert)
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
    await session.execute(
        insert(Obj).values(sorted(rows.values(), key=lambda r: r["id"])).on_conflict_do_nothing()
    )


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
        .on_conflict_do_nothing(index_elements=["obj_id", "filter_id", "passing_alert_id"])
        .returning(Candidate.id)
    )


async def _candidate(
    session: AsyncSession, alert: portal_pb2.PassedAlert, info: FilterInfo, uploader_id: int
) -> int:
    added = await insert_candidate(
        session, alert.obj_id, info.filter_id, _passed_at(alert), alert.candid, uploader_id
    )
    return int(added is not None)


async def _annotation(
    session: AsyncSession,
    obj_id: str,
    passed: portal_pb2.PassedFilter,
    info: FilterInfo,
    author_id: int,
) -> int:
    if not passed.annotations_json:
        return 0
    data = plain(json_util.loads(passed.annotations_json))
    if not isinstance(data, dict) or not data:
        return 0
    added = await session.scalar(
        insert(Annotation)
        .values(obj_id=obj_id, origin=info.origin, data=data, author_id=author_id)
        .on_conflict_do_nothing(index_elements=["obj_id", "origin"])
        .returning(Annotation.id)
    )
    if added is None:
        existing = await session.scalar(
            select(Annotation).where(Annotation.obj_id == obj_id, Annotation.origin == info.origin)
        )
        assert existing is not None
        if passed.update_annotations and existing.data != data:
            existing.data = data
            existing.modified = utcnow()
        annotation_id = existing.id
    else:
        annotation_id = added
    await session.execute(
        insert(annotation_groups)
        .values(annotation_id=annotation_id, group_id=info.group_id)
        .on_conflict_do_nothing()
    )
    return int(added is not None)


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
        row = Comment(obj_id=obj_id, text=comment, author_id=uploader_id, bot=True)
        session.add(row)
        await session.flush()
        await session.execute(
            comment_groups.insert().values(comment_id=row.id, group_id=info.group_id)
        )
    return 1


async def _thumbnails(session: AsyncSession, alert: portal_pb2.PassedAlert) -> int:
    added = 0
    for thumbnail in {t.type: t for t in alert.thumbnails}.values():
        statement = insert(Thumbnail).values(
            obj_id=alert.obj_id,
            type=thumbnail.type,
            png=thumbnail.png,
            passing_alert_id=alert.candid,
        )
        excluded = statement.excluded
        statement = statement.on_conflict_do_update(
            index_elements=["obj_id", "type"],
            set_={"png": excluded.png, "passing_alert_id": excluded.passing_alert_id},
            # Only a later alert's stamp replaces the stored one.
            where=Thumbnail.passing_alert_id < excluded.passing_alert_id,
        ).returning(literal_column("xmax = 0"))
        inserted = await session.scalar(statement)
        added += int(bool(inserted))
    return added


def _stream_ids(batch: Batch, collection: str, programid: int | None) -> list[int]:
    return [
        stream_id
        for stream_id, selector in batch.streams.get(collection, [])
        if programid is None or programid in selector
    ]


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
    added = 0
    links: list[dict[str, int]] = []
    for part in chunks([rows[key] for key in sorted(rows, key=repr)]):
        statement = insert(Photometry).values(part)
        statement = statement.on_conflict_do_update(
            index_elements=list(POINT_KEY),
            # A no-op update, so that an existing point's id comes back too.
            set_={"mjd": statement.excluded.mjd},
        ).returning(
            Photometry.id,
            literal_column("xmax = 0"),
            *(getattr(Photometry, column) for column in POINT_KEY),
        )
        for photometry_id, inserted, *key in (await session.execute(statement)).all():
            added += int(inserted)
            for stream_id in streams[tuple(key)]:
                links.append({"photometry_id": photometry_id, "stream_id": stream_id})
    for part in chunks(links):
        await session.execute(insert(photometry_streams).values(part).on_conflict_do_nothing())
    return added
