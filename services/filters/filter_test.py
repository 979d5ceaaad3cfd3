"""Test-on-archive (POST /api/filters/{filter_id}/test): a filter version on archived alerts.

Kowalski's rules: ``object_ids`` (at most 1000) and/or a ``start_date``/``end_date`` window
(both or neither; at most one day without object ids); ``max_time_ms`` at most 300000
(default 30000). The alerts and their aux documents come from the archive; the evaluator and
the upstream stages are the live ones, so a filter behaves here as it will on the stream, and
the upstream stage's "strictly before the alert" rule keeps later photometry out.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from services.filters import counterparts
from services.filters.archive import ArchiveReader
from services.filters.compiled import CompiledFilter
from services.filters.evaluation import Outcome, evaluate
from services.filters.upstream import Stream

MAX_OBJECT_IDS = 1000
MAX_WINDOW_DAYS = 1.0
DEFAULT_MAX_TIME_MS = 30_000
MAX_TIME_MS = 300_000
UNIX_EPOCH_JD = 2440587.5
SECONDS_PER_DAY = 86400.0


@dataclass(frozen=True)
class ArchiveSelection:
    object_ids: list[str] | None
    start_jd: float | None
    end_jd: float | None
    max_time_ms: int

    def selector(self, stream: Stream, permissions: frozenset[int]) -> dict[str, Any]:
        """The archive find filter: Kowalski's test $match stage."""
        selector: dict[str, Any] = stream.programid_match(permissions)
        if self.object_ids is not None:
            selector[stream.object_id_field] = {"$in": self.object_ids}
        if self.start_jd is not None and self.end_jd is not None:
            selector[stream.jd_key] = {"$gte": self.start_jd, "$lte": self.end_jd}
        return selector


def julian_date(value: Any, name: str) -> float:
    """A Julian date (a number) or an ISO date/time (UTC unless it says otherwise) as JD."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            pass
        else:
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return moment.timestamp() / SECONDS_PER_DAY + UNIX_EPOCH_JD
    raise ValueError(
        f"{name} must be an ISO date (e.g. 2020-02-02T00:00:00) or a Julian date, got {value!r}"
    )


def parse_selection(
    object_ids: list[str], start_date: Any, end_date: Any, max_time_ms: int
) -> ArchiveSelection:
    """Kowalski's checks of a test request, each refusal a ValueError (HTTP 400)."""
    ids = list(object_ids) or None
    if ids is None and start_date is None and end_date is None:
        raise ValueError("At least one of object_ids, start_date, or end_date is required")
    if ids is not None and len(ids) > MAX_OBJECT_IDS:
        raise ValueError(f"object_ids list must have {MAX_OBJECT_IDS} or fewer elements")
    if (start_date is None) != (end_date is None):
        raise ValueError("start_date and end_date must both be provided if either is provided")
    start_jd = end_jd = None
    if start_date is not None:
        start_jd = julian_date(start_date, "start_date")
        end_jd = julian_date(end_date, "end_date")
        if end_jd < start_jd:
            raise ValueError("end_date must not be before start_date")
        if ids is None and end_jd - start_jd > MAX_WINDOW_DAYS:
            raise ValueError(
                "start_date and end_date must be within 1 day of each other "
                "if object_ids is not provided"
            )
    if max_time_ms < 0:
        raise ValueError("max_time_ms must be positive")
    if max_time_ms > MAX_TIME_MS:
        raise ValueError("max_time_ms must be less than 5 minutes (in ms: 300000)")
    return ArchiveSelection(ids, start_jd, end_jd, max_time_ms or DEFAULT_MAX_TIME_MS)


async def run_test(
    archive: ArchiveReader, stream: Stream, filter_: CompiledFilter, selection: ArchiveSelection
) -> Outcome:
    """The filter on every selected archived alert, within ``selection.max_time_ms``."""
    deadline = time.monotonic() + selection.max_time_ms / 1000
    budget_ms = selection.max_time_ms
    alerts = await archive.alerts(
        stream, selection.selector(stream, filter_.permissions), budget_ms
    )
    left_ms = max(1, int((deadline - time.monotonic()) * 1000))
    aux = await archive.aux(stream, [stream.object_id(a) for a in alerts], left_ms)
    await counterparts.attach(archive, aux)
    # CPU work off the event loop, so the service keeps answering (the live path included).
    return await asyncio.to_thread(
        evaluate, stream, [filter_], alerts, aux, lambda: time.monotonic() > deadline
    )
