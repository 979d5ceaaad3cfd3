"""Candidate expiry (SKYPORTAL_SPEC.md §5): Fritz's daily purge of candidates nobody saved.

An object expires when it has a candidate, no Source row at all (saved, unsaved or invited:
any of them keeps it) and was created more than N days ago (SKYMESH_CANDIDATE_EXPIRY_DAYS,
Fritz's 7, 1-30 allowed). Deleting the object deletes what hangs off it through the schema's
ON DELETE CASCADE: candidates, photometry, annotations, comments, thumbnails, listings,
classifications and spectra. The age is the object's creation, not its latest pass, so an
object that still passes is purged and posted again, as in SkyPortal.

The job runs inside the portal (started with it, then every interval), in batches of its own
transactions so a large purge never holds locks for long. ExpireCandidates runs the same job
on demand with a given clock, which is how it is tested; BulkDeleteCandidates is SkyPortal's
newer, month-based form of it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Select, delete, exists, func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.portal.db.models import Candidate, Obj, Source
from services.portal.sources import utc_time

log = logging.getLogger(__name__)

MIN_DAYS, MAX_DAYS = 1, 30
BATCH_SIZE = 1000
MAX_BATCH_SIZE = 10_000
# After a failed run (the database away), try again this soon rather than a day later.
RETRY_S = 60.0


def check_days(days: int) -> int:
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise ValueError(
            f"SKYMESH_CANDIDATE_EXPIRY_DAYS must be between {MIN_DAYS} and {MAX_DAYS} days "
            f"(how long an unsaved candidate is kept; Fritz keeps 7), got {days}"
        )
    return days


def check_interval(seconds: int) -> int:
    if seconds < 1:
        raise ValueError(
            f"SKYMESH_CANDIDATE_EXPIRY_INTERVAL_S must be at least 1 second, got {seconds}"
        )
    return seconds


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` calendar months earlier (clamped to the month's end)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    following = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=moment.tzinfo)
    last_day = (following - timedelta(days=1)).day
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))


def expired(cutoff: datetime) -> Select:
    """Ids of the objects that expire at ``cutoff``: a candidate, no Source row, older."""
    return select(Obj.id).where(
        Obj.created_at < cutoff,
        exists(select(Candidate.id).where(Candidate.obj_id == Obj.id)),
        ~exists(select(Source.id).where(Source.obj_id == Obj.id)),
    )


@dataclass
class Purged:
    deleted: int = 0
    # Objects that still expire at the cutoff after this run (all of them for a dry run).
    remaining: int = 0

    def json(self) -> dict[str, int]:
        return {"deleted": self.deleted, "remaining": self.remaining}


async def purge(
    sessions: async_sessionmaker,
    cutoff: datetime,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    limit: int | None = None,
) -> Purged:
    """Deletes expired objects, ``batch_size`` per transaction, ``limit`` in all (None: every
    one)."""
    purged = Purged()
    while not dry_run and (limit is None or purged.deleted < limit):
        size = batch_size if limit is None else min(batch_size, limit - purged.deleted)
        async with sessions() as session, session.begin():
            # Locked first (objects being saved right now are skipped), then deleted by a
            # statement of its own, whose fresh snapshot sees any save that committed
            # meanwhile; a save that comes later waits for this batch.
            picked = expired(cutoff).order_by(Obj.created_at).limit(size)
            ids = list(await session.scalars(picked.with_for_update(skip_locked=True)))
            if ids:
                result = await session.execute(
                    delete(Obj).where(
                        Obj.id.in_(ids),
                        ~exists(select(Source.id).where(Source.obj_id == Obj.id)),
                    )
                )
                purged.deleted += result.rowcount
        if len(ids) < size:
            break
    async with sessions() as session:
        count = select(func.count()).select_from(expired(cutoff).subquery())
        purged.remaining = await session.scalar(count) or 0
    return purged


def parse_now(value: str) -> datetime:
    """The clock a run is asked for (ISO 8601); empty: the real one."""
    if not value.strip():
        return datetime.now(UTC)
    try:
        return utc_time(value)
    except ValueError as exc:
        raise ValueError(f"now: {exc}") from None


class ExpiryJob:
    """The daily run, and the same run on demand with another clock."""

    def __init__(self, sessions: async_sessionmaker, days: int, interval_s: int) -> None:
        self.sessions = sessions
        self.days = check_days(days)
        self.interval_s = check_interval(interval_s)

    async def run(self, now: datetime, dry_run: bool = False) -> Purged:
        cutoff = now - timedelta(days=self.days)
        purged = await purge(self.sessions, cutoff, dry_run=dry_run)
        log.info(
            "candidate expiry",
            extra={
                "fields": {
                    "cutoff": cutoff.isoformat(),
                    "dry_run": dry_run,
                    **purged.json(),
                }
            },
        )
        return purged

    async def forever(self) -> None:
        """Runs at start, then every interval; a failed run is retried soon, never fatal
        (the portal keeps serving while its database is away)."""
        while True:
            try:
                await self.run(datetime.now(UTC))
                pause = float(self.interval_s)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("candidate expiry failed; retrying in %.0f s", RETRY_S)
                pause = min(RETRY_S, float(self.interval_s))
            await asyncio.sleep(pause)
