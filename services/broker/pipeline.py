"""One batch of Kafka records through the mesh, in explicit stages.

decode → enrich → ML → archive (which cross-matches the objects it sees for the first time)
→ evaluate → post to the portal.

Every stage is idempotent and says which of its failures are the alert's fault (*poison*)
and which are the mesh's (*transient*):

- decode/prepare and enrich run here: an exception there is the alert's own fault;
- the stages that call a service treat INVALID_ARGUMENT / OUT_OF_RANGE ("this document is
  invalid") as poison and anything else (unreachable, timed out, internal error) as an outage:
  the stage is retried with backoff, for as long as it takes, and the batch resumes at that
  stage: nothing done before it is redone.

Poison alerts are isolated by halving the refused set, so one bad alert takes no other along.
An alert refused before the archive stage is dead-lettered and not archived; from the
evaluate stage on the alert is archived already: a filter that raised on it dead-letters it
with stage ``evaluate`` (so that replaying it after the filter is fixed re-runs the filters;
the archive then recognises it as a duplicate) and the other filters' passes are posted.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import itertools
import logging
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

import bson
import grpc
import numpy as np
from aiokafka.structs import ConsumerRecord

from services.broker import enrichment
from services.broker.surveys import PreparedAlert, Survey
from services.broker.turns import Ticket, Turns
from skymesh.archive.v1 import archive_pb2, archive_pb2_grpc
from skymesh.filters.v1 import filters_pb2, filters_pb2_grpc
from skymesh.ml.v1 import ml_pb2, ml_pb2_grpc
from skymesh.portal.v1 import portal_pb2, portal_pb2_grpc
from skymesh.runtime.errors import POISON_CODES
from skymesh.runtime.tracing import batch_span, tracer

log = logging.getLogger(__name__)

CALL_TIMEOUT_S = 60
LATENCY_WINDOW = 10_000
FIRST_RETRY_S = 0.2
MAX_RETRY_S = 10.0
STAGE_TRACER = tracer("skymesh.broker.pipeline")
# Upper bounds (ms) of the latency histogram's buckets; +Inf follows the last.
LATENCY_BUCKETS_MS = (
    *(25, 50, 75, 100, 150, 200, 250, 300, 400, 500, 600, 700, 800, 900, 1000),
    *(1250, 1500, 2000, 2500, 3000, 4000, 5000, 7500, 10_000, 15_000, 20_000, 30_000, 60_000),
    *(120_000, 300_000),
)
# The pipeline's stages, in order; each takes the batches in the order they were polled.
STAGES = ("decode", "enrich", "ml", "archive", "evaluate", "post")
# Records decoded between two yields to the event loop, so that a large batch being decoded
# does not hold up the replies of the batches ahead of it.
DECODE_CHUNK = 32
T = TypeVar("T")


class Poison(Exception):
    """A service refused (part of) the request as invalid: some alert in it is bad."""

    def __init__(self, exc: grpc.aio.AioRpcError) -> None:
        super().__init__(f"{exc.code().name}: {exc.details()}")


@dataclass
class FilterCounter:
    passed: int = 0
    errors: int = 0
    last_error: str = ""
    last_error_candid: int = 0


@dataclass
class StageCounter:
    cpu_s: float = 0.0  # the broker's own CPU time in the stage
    wall_s: float = 0.0  # batches' time in the stage, the called service's answer included
    alerts: int = 0


@dataclass
class SurveyCounters:
    processed: int = 0
    archived: int = 0
    duplicate: int = 0
    dead_lettered: int = 0
    batches: int = 0
    # Service calls that failed for a transient reason and were retried.
    retries: int = 0
    # What the batch in flight waits for ("archive: UNAVAILABLE: ..."), empty when nothing.
    waiting_on: str = ""
    # (filter_id, fid) -> what that filter version did
    filters: dict[tuple[int, str], FilterCounter] = field(default_factory=dict)
    latencies_ms: deque[float] = field(default_factory=lambda: deque(maxlen=LATENCY_WINDOW))
    stages: dict[str, StageCounter] = field(
        default_factory=lambda: {stage: StageCounter() for stage in STAGES}
    )
    batches_in_flight: int = 0
    # Alerts per latency bucket (LATENCY_BUCKETS_MS, then +Inf), not cumulative.
    latency_counts: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS_MS) + 1))
    latency_sum_ms: float = 0.0

    def record_latencies(self, latencies_ms: list[float]) -> None:
        self.latencies_ms.extend(latencies_ms)
        self.latency_sum_ms += sum(latencies_ms)
        for latency in latencies_ms:
            self.latency_counts[bisect.bisect_left(LATENCY_BUCKETS_MS, latency)] += 1

    def latency_histogram(self) -> list[tuple[float, int]]:
        """(upper bound in ms, alerts at most that late), cumulative; +Inf last."""
        bounds = [*map(float, LATENCY_BUCKETS_MS), math.inf]
        return list(zip(bounds, itertools.accumulate(self.latency_counts), strict=True))

    def latency_percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q)) if self.latencies_ms else 0.0

    def count_filters(self, response: filters_pb2.EvaluateResponse) -> None:
        for passed in response.passes:
            self.filters.setdefault((passed.filter_id, passed.fid), FilterCounter()).passed += 1
        for error in response.errors:
            counter = self.filters.setdefault((error.filter_id, error.fid), FilterCounter())
            counter.errors += 1
            counter.last_error, counter.last_error_candid = error.message, error.candid


@dataclass
class DeadLetter:
    record: ConsumerRecord
    stage: str
    reason: str


@dataclass
class Item:
    """One alert of the batch and the record it came from."""

    alert: PreparedAlert
    record: ConsumerRecord
    # The object's merged aux document as archived (BSON), set by the archive stage.
    merged_aux: bytes = b""


@dataclass
class BatchResult:
    inserted: list[int] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    passes: list[filters_pb2.FilterPass] = field(default_factory=list)

    def dead_letter(self, record: ConsumerRecord, stage: str, reason: str) -> None:
        # A record holding several alerts is dead-lettered once, for its first bad alert.
        if any(letter.record is record for letter in self.dead):
            return
        self.dead.append(DeadLetter(record, stage, reason))
        log.error(
            "alert dead-lettered",
            extra={
                "fields": {
                    "stage": stage,
                    "topic": record.topic,
                    "partition": record.partition,
                    "offset": record.offset,
                    "reason": reason,
                }
            },
        )


@dataclass
class MeshClients:
    archive: archive_pb2_grpc.ArchiveServiceStub
    ml: ml_pb2_grpc.MLServiceStub
    filters: filters_pb2_grpc.FiltersServiceStub
    portal: portal_pb2_grpc.PortalServiceStub


class BatchProcessor:
    """Runs batches through the stages; several batches may be in flight, each stage taking
    them in the order ``process`` was called (services/broker/turns.py)."""

    def __init__(self, survey: Survey, clients: MeshClients) -> None:
        self.survey = survey
        self.clients = clients
        self.counters = SurveyCounters()
        self.turns = Turns(STAGES)

    async def process(self, records: list[ConsumerRecord]) -> BatchResult:
        headers = [record.headers or () for record in records]
        attributes = {
            "skymesh.survey": self.survey.name,
            "messaging.batch.message_count": len(records),
        }
        with batch_span(f"{self.survey.name} batch", headers, attributes):
            return await self._process(records)

    async def _process(self, records: list[ConsumerRecord]) -> BatchResult:
        result = BatchResult()
        ticket = self.turns.enter()
        self.counters.batches_in_flight += 1
        try:
            async with ticket.turn("decode"), self.timed("decode", len(records)):
                items = await self.decode(records, result)
            async with ticket.turn("enrich"), self.timed("enrich", len(items)):
                with self.cpu("enrich"):
                    items = self.enrich(items, result)
            items = await self.remote_stage(ticket, "ml", items, self.score, result)
            items = await self.remote_stage(
                ticket, "archive", items, lambda part: self.archive(part, result), result
            )
            items = await self.remote_stage(
                ticket, "evaluate", items, lambda part: self.evaluate(part, result), result
            )
            await self.remote_stage(
                ticket, "post", items, lambda part: self.post(part, result), result
            )
        finally:
            ticket.close()
            self.counters.batches_in_flight -= 1
        self._count(records, result)
        return result

    @contextlib.contextmanager
    def cpu(self, stage: str) -> Iterator[None]:
        """Counts the calling thread's CPU time (synchronous work only) against ``stage``."""
        started = time.thread_time()
        try:
            yield
        finally:
            self.counters.stages[stage].cpu_s += time.thread_time() - started

    @contextlib.asynccontextmanager
    async def timed(self, stage: str, alerts: int) -> AsyncIterator[None]:
        """The stage's wall time and alerts, and its span (the service calls hang below it)."""
        started = time.monotonic()
        with STAGE_TRACER.start_as_current_span(stage, attributes={"skymesh.alerts": alerts}):
            try:
                yield
            finally:
                counter = self.counters.stages[stage]
                counter.wall_s += time.monotonic() - started
                counter.alerts += alerts

    async def remote_stage(
        self,
        ticket: Ticket,
        name: str,
        items: list[Item],
        call: Callable[[list[Item]], Awaitable[None]],
        result: BatchResult,
    ) -> list[Item]:
        async with ticket.turn(name), self.timed(name, len(items)):
            return await self.stage(name, items, call, result)

    def _count(self, records: list[ConsumerRecord], result: BatchResult) -> None:
        counters = self.counters
        counters.batches += 1
        counters.processed += len(records)
        counters.archived += len(result.inserted)
        counters.duplicate += len(result.duplicates)
        counters.dead_lettered += len(result.dead)
        done_ms = time.time() * 1000
        counters.record_latencies([done_ms - record.timestamp for record in records])

    # -- stages run here: their exceptions are the alert's fault --------------------------

    async def decode(self, records: list[ConsumerRecord], result: BatchResult) -> list[Item]:
        items: list[Item] = []
        for start in range(0, len(records), DECODE_CHUNK):
            if start:
                await asyncio.sleep(0)
            with self.cpu("decode"):
                for record in records[start : start + DECODE_CHUNK]:
                    items += self.decode_record(record, result)
        return items

    def decode_record(self, record: ConsumerRecord, result: BatchResult) -> list[Item]:
        try:
            packets = self.survey.decode(record.value or b"")
            prepared = [self.survey.prepare(packet) for packet in packets]
        except Exception as exc:  # undecodable or invalid for the survey's schema
            result.dead_letter(record, "decode", f"{type(exc).__name__}: {exc}")
            return []
        return [Item(alert, record) for alert in prepared]

    def enrich(self, items: list[Item], result: BatchResult) -> list[Item]:
        """Galactic and ecliptic coordinates; one vectorised call, per alert if that fails."""
        try:
            self._coordinates(items)
            return items
        except Exception:  # some alert's position is bad: find it
            kept = []
            for item in items:
                try:
                    self._coordinates([item])
                    kept.append(item)
                except Exception as exc:
                    result.dead_letter(item.record, "enrich", f"{type(exc).__name__}: {exc}")
            return kept

    @staticmethod
    def _coordinates(items: list[Item]) -> None:
        alerts = [item.alert for item in items]
        for alert, coordinates in zip(
            alerts,
            enrichment.coordinates([a.ra for a in alerts], [a.dec for a in alerts]),
            strict=True,
        ):
            alert.alert["coordinates"] = coordinates

    # -- stages that call a service -------------------------------------------------------

    async def stage(
        self,
        name: str,
        items: list[Item],
        call: Callable[[list[Item]], Awaitable[None]],
        result: BatchResult,
    ) -> list[Item]:
        """Runs ``call`` on ``items``; returns the items it did not refuse as poison.

        A refusal names no alert, so the refused set is halved until the bad alert is alone.
        """
        if not items:
            return items
        try:
            await call(items)
            return items
        except Poison as exc:
            if len(items) == 1:
                result.dead_letter(items[0].record, name, f"refused by the mesh: {exc}")
                return []
        half = len(items) // 2
        return [
            *await self.stage(name, items[:half], call, result),
            *await self.stage(name, items[half:], call, result),
        ]

    async def call(self, what: str, request: Callable[[], Awaitable[T]]) -> T:
        """One service call, retried with capped backoff until it succeeds or is refused.

        Only a refusal of the request as invalid is final; every other failure is the mesh's
        and is waited out, so an outage never dead-letters an alert.
        """
        delay = FIRST_RETRY_S
        while True:
            try:
                answer = await request()
                # Only this call's own wait is over.
                if self.counters.waiting_on.startswith(f"{what}:"):
                    self.counters.waiting_on = ""
                return answer
            except grpc.aio.AioRpcError as exc:
                if exc.code() in POISON_CODES:
                    raise Poison(exc) from None
                self.counters.retries += 1
                self.counters.waiting_on = f"{what}: {exc.code().name}: {exc.details()}"
                log.warning(
                    "%s cannot answer, retrying",
                    what,
                    extra={
                        "fields": {
                            "code": exc.code().name,
                            "details": exc.details(),
                            "retry_in_s": delay,
                        }
                    },
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_S)

    async def score(self, items: list[Item]) -> None:
        """classifications.<model> and <model>_version from the ml service, in one call."""
        inputs = [item.alert for item in items if item.alert.ml_input is not None]
        if not inputs or not self.survey.ml_models:
            return
        with self.cpu("ml"):
            request = ml_pb2.ScoreRequest(
                survey=self.survey.name,
                models=list(self.survey.ml_models),
                alerts=[
                    ml_pb2.AlertInput(
                        candid=a.candid,
                        triplet=a.ml_input.triplet.tobytes(),
                        features=a.ml_input.features.tolist(),
                    )
                    for a in inputs
                    if a.ml_input is not None
                ],
            )
        response = await self.call(
            "ml", lambda: self.clients.ml.Score(request, timeout=CALL_TIMEOUT_S)
        )
        with self.cpu("ml"):
            by_candid = {a.candid: a for a in inputs}
            for scores in response.results:
                classifications = by_candid[scores.candid].alert["classifications"]
                for model, score in scores.scores.items():
                    classifications[model] = score
                    classifications[f"{model}_version"] = response.versions.get(model, "")

    async def archive(self, items: list[Item], result: BatchResult) -> None:
        """Alerts and aux merges (the archive cross-matches the objects new to it); an alert the
        archive already holds comes back a duplicate."""
        with self.cpu("archive"):
            request = archive_pb2.IngestAlertsRequest(
                catalog=self.survey.alerts_collection,
                alerts_bson=[bson.encode(item.alert.alert) for item in items],
                aux_bson=[bson.encode(item.alert.aux) for item in items],
                cross_match_new_objects=True,
            )
        response = await self.call(
            "archive", lambda: self.clients.archive.IngestAlerts(request, timeout=CALL_TIMEOUT_S)
        )
        with self.cpu("archive"):
            result.inserted += response.inserted_candids
            result.duplicates += response.duplicate_candids
            merged = {bson.decode(raw)["_id"]: raw for raw in response.aux_bson}
            for item in items:
                item.merged_aux = merged.get(item.alert.object_id, b"")

    async def evaluate(self, items: list[Item], result: BatchResult) -> None:
        """Every active filter on the alerts, with each object's whole archived history.

        Re-delivered alerts are evaluated again: what consumes the passes is idempotent, so a
        crash between archiving and posting loses no candidate.
        """
        cutouts = set(self.survey.cutout_fields)
        with self.cpu("evaluate"):
            request = filters_pb2.EvaluateRequest(
                catalog=self.survey.alerts_collection,
                alerts_bson=[
                    bson.encode({k: v for k, v in item.alert.alert.items() if k not in cutouts})
                    for item in items
                ],
                aux_bson=sorted({item.merged_aux for item in items if item.merged_aux}),
            )
        response = await self.call(
            "filters", lambda: self.clients.filters.Evaluate(request, timeout=CALL_TIMEOUT_S)
        )
        self.counters.count_filters(response)
        result.passes += response.passes
        by_candid = {item.alert.candid: item for item in items}
        for error in response.errors:
            if (item := by_candid.get(error.candid)) is not None:
                reason = f"filter {error.filter_id} (version {error.fid}) raised: {error.message}"
                result.dead_letter(item.record, "evaluate", reason)

    async def post(self, items: list[Item], result: BatchResult) -> None:
        """Hands the passes of ``items`` to the portal in one call (idempotent there)."""
        alerts = {item.alert.candid: item.alert for item in items}
        passes = result.passes
        failed: dict[int, str] = {}
        passes = [p for p in passes if p.candid in alerts]
        if not passes:
            return
        objects = portal_pb2.ObjIds(obj_ids=sorted({p.object_id for p in passes}))
        missing = await self.call(
            "portal",
            lambda: self.clients.portal.WithoutThumbnails(objects, timeout=CALL_TIMEOUT_S),
        )

        # Photometry and thumbnails are CPU work: off the event loop.
        def draw() -> list[portal_pb2.PassedAlert]:
            with self.cpu("post"):  # thread time: counted in the thread that does the work
                return self.passed_alerts(alerts, passes, set(missing.obj_ids), failed)

        posts = await asyncio.to_thread(draw)
        with self.cpu("post"):
            request = portal_pb2.PostPassesRequest(alerts=posts)
        records = {item.alert.candid: item.record for item in items}
        for candid, reason in failed.items():
            result.dead_letter(records[candid], "post", reason)
        if not posts:
            return
        await self.call(
            "portal", lambda: self.clients.portal.PostPasses(request, timeout=CALL_TIMEOUT_S)
        )

    def passed_alerts(
        self,
        alerts: dict[int, PreparedAlert],
        passes: list[filters_pb2.FilterPass],
        need_thumbnails: set[str],
        failed: dict[int, str],
    ) -> list[portal_pb2.PassedAlert]:
        """What the portal needs of each passing alert: its filters' outcomes, its photometry
        (the plug-in reads it off the alert and its own history) and, for objects the portal
        has no stamps of yet, its thumbnails. An alert whose photometry or stamps cannot be
        read is left out and noted in ``failed`` (candid -> reason)."""
        passed_at = datetime.now(UTC).isoformat()
        posts: dict[int, portal_pb2.PassedAlert] = {}
        for passed in passes:
            if passed.candid in failed:
                continue
            post = posts.get(passed.candid)
            if post is None:
                try:
                    alert = alerts[passed.candid]
                    # An object's stamps once: from the first of its alerts in the batch.
                    drawn = alert.object_id in need_thumbnails
                    post = self._passed_alert(alert, drawn, passed_at)
                    need_thumbnails.discard(alert.object_id)
                except Exception as exc:  # the alert's own data: not the mesh's fault
                    failed[passed.candid] = f"{type(exc).__name__}: {exc}"
                    continue
                posts[passed.candid] = post
            post.filters.append(
                portal_pb2.PassedFilter(
                    filter_id=passed.filter_id,
                    annotations_json=passed.annotations_json,
                    update_annotations=passed.update_annotations,
                    autosave=passed.autosave,
                    autosave_json=passed.autosave_json,
                    auto_followup_json=passed.auto_followup_json,
                )
            )
        return list(posts.values())

    def _passed_alert(
        self, alert: PreparedAlert, with_thumbnails: bool, passed_at: str
    ) -> portal_pb2.PassedAlert:
        survey = self.survey
        return portal_pb2.PassedAlert(
            candid=alert.candid,
            obj_id=alert.object_id,
            ra=alert.ra,
            dec=alert.dec,
            score=survey.candidate_score(alert.alert),
            collection=survey.alerts_collection,
            instrument=survey.instrument or "",
            photometry=[
                # vars, not dataclasses.asdict: its deep copy was 40% of this stage.
                portal_pb2.PhotometryPoint(**vars(point))
                for point in survey.photometry(alert.alert, alert.aux)
            ],
            thumbnails=[
                portal_pb2.Thumbnail(type=kind, png=image)
                for kind, image in survey.thumbnails(alert.alert).items()
            ]
            if with_thumbnails
            else [],
            passed_at=passed_at,
        )
