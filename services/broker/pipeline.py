"""One batch of Kafka records through the mesh: decode, enrich, (ML, cross-match), archive."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import bson
import grpc
import numpy as np
from aiokafka.structs import ConsumerRecord

from services.broker import enrichment
from services.broker.surveys import PreparedAlert, Survey
from skymesh.archive.v1 import archive_pb2, archive_pb2_grpc
from skymesh.filters.v1 import filters_pb2, filters_pb2_grpc
from skymesh.ml.v1 import ml_pb2, ml_pb2_grpc
from skymesh.portal.v1 import portal_pb2, portal_pb2_grpc
from skymesh.xmatch.v1 import xmatch_pb2, xmatch_pb2_grpc

log = logging.getLogger(__name__)

# Codes that mean "the other service cannot answer right now": wait and retry, never drop.
RETRYABLE = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.ABORTED,
    }
)
CALL_TIMEOUT_S = 60
LATENCY_WINDOW = 10_000
T = TypeVar("T")


@dataclass
class FilterCounter:
    passed: int = 0
    errors: int = 0


@dataclass
class SurveyCounters:
    processed: int = 0
    archived: int = 0
    duplicate: int = 0
    dead_lettered: int = 0
    batches: int = 0
    # (filter_id, fid) -> what that filter version did
    filters: dict[tuple[int, str], FilterCounter] = field(default_factory=dict)
    latencies_ms: deque[float] = field(default_factory=lambda: deque(maxlen=LATENCY_WINDOW))

    def latency_percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q)) if self.latencies_ms else 0.0

    def count_filters(self, response: filters_pb2.EvaluateResponse) -> None:
        for passed in response.passes:
            self.filters.setdefault((passed.filter_id, passed.fid), FilterCounter()).passed += 1
        for error in response.errors:
            self.filters.setdefault((error.filter_id, error.fid), FilterCounter()).errors += 1


@dataclass
class DeadLetter:
    record: ConsumerRecord
    reason: str


@dataclass
class BatchResult:
    inserted: list[int] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    passes: list[filters_pb2.FilterPass] = field(default_factory=list)


async def with_backoff(call: Callable[[], Awaitable[T]], what: str, max_delay: float = 10.0) -> T:
    """Retries ``call()`` while the callee cannot answer, with capped exponential backoff."""
    delay = 0.2
    while True:
        try:
            return await call()
        except grpc.aio.AioRpcError as exc:
            if exc.code() not in RETRYABLE:
                raise
            log.warning(
                "%s cannot answer, retrying",
                what,
                extra={"fields": {"code": exc.code().name, "retry_in_s": delay}},
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay)


@dataclass
class MeshClients:
    archive: archive_pb2_grpc.ArchiveServiceStub
    xmatch: xmatch_pb2_grpc.XMatchServiceStub
    ml: ml_pb2_grpc.MLServiceStub
    filters: filters_pb2_grpc.FiltersServiceStub
    portal: portal_pb2_grpc.PortalServiceStub


class BatchProcessor:
    def __init__(self, survey: Survey, clients: MeshClients) -> None:
        self.survey = survey
        self.clients = clients
        self.counters = SurveyCounters()

    def prepare(
        self, records: list[ConsumerRecord]
    ) -> tuple[list[PreparedAlert], list[DeadLetter]]:
        prepared: list[PreparedAlert] = []
        dead: list[DeadLetter] = []
        for record in records:
            try:
                alerts = [self.survey.prepare(p) for p in self.survey.decode(record.value or b"")]
            except Exception as exc:  # any alert we cannot process goes to the dead letters
                reason = f"{type(exc).__name__}: {exc}"
                dead.append(DeadLetter(record, reason))
                log.error(
                    "alert dead-lettered",
                    extra={
                        "fields": {
                            "topic": record.topic,
                            "partition": record.partition,
                            "offset": record.offset,
                            "reason": reason,
                        }
                    },
                )
                continue
            prepared.extend(alerts)
        for alert, coordinates in zip(
            prepared,
            enrichment.coordinates([a.ra for a in prepared], [a.dec for a in prepared]),
            strict=True,
        ):
            alert.alert["coordinates"] = coordinates
        return prepared, dead

    async def score(self, alerts: list[PreparedAlert]) -> None:
        """classifications.<model> and <model>_version from the ml service, in one call."""
        inputs = [a for a in alerts if a.ml_input is not None]
        if not inputs or not self.survey.ml_models:
            return
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
        response = await with_backoff(
            lambda: self.clients.ml.Score(request, timeout=CALL_TIMEOUT_S), "ml"
        )
        by_candid = {a.candid: a for a in inputs}
        for result in response.results:
            classifications = by_candid[result.candid].alert["classifications"]
            for model, score in result.scores.items():
                classifications[model] = score
                classifications[f"{model}_version"] = response.versions.get(model, "")

    async def cross_match(self, alerts: list[PreparedAlert]) -> None:
        """aux.cross_matches for every alert; the archive keeps an object's first ones."""
        if not alerts:
            return
        request = xmatch_pb2.CrossMatchRequest(
            positions=[xmatch_pb2.Position(key=str(a.candid), ra=a.ra, dec=a.dec) for a in alerts]
        )
        response = await with_backoff(
            lambda: self.clients.xmatch.CrossMatch(request, timeout=CALL_TIMEOUT_S), "xmatch"
        )
        by_key = {str(a.candid): a for a in alerts}
        for result in response.results:
            by_key[result.key].aux["cross_matches"] = {
                catalog: bson.decode(raw)["matches"] for catalog, raw in result.matches_bson.items()
            }

    async def archive(self, alerts: list[PreparedAlert]) -> archive_pb2.IngestAlertsResponse:
        request = archive_pb2.IngestAlertsRequest(
            catalog=self.survey.alerts_collection,
            alerts_bson=[bson.encode(a.alert) for a in alerts],
            aux_bson=[bson.encode(a.aux) for a in alerts],
        )
        return await with_backoff(
            lambda: self.clients.archive.IngestAlerts(request, timeout=CALL_TIMEOUT_S), "archive"
        )

    async def evaluate(
        self, alerts: list[PreparedAlert], aux_bson: list[bytes]
    ) -> filters_pb2.EvaluateResponse:
        """Every active filter on the batch, with each object's whole archived history.

        Re-delivered alerts are evaluated again: what consumes the passes is idempotent, so a
        crash between archiving and posting loses no candidate.
        """
        cutouts = set(self.survey.cutout_fields)
        request = filters_pb2.EvaluateRequest(
            catalog=self.survey.alerts_collection,
            alerts_bson=[
                bson.encode({k: v for k, v in a.alert.items() if k not in cutouts}) for a in alerts
            ],
            aux_bson=aux_bson,
        )
        return await with_backoff(
            lambda: self.clients.filters.Evaluate(request, timeout=CALL_TIMEOUT_S), "filters"
        )

    def passed_alerts(
        self,
        alerts: list[PreparedAlert],
        passes: list[filters_pb2.FilterPass],
        need_thumbnails: set[str],
    ) -> list[portal_pb2.PassedAlert]:
        """What the portal needs of each passing alert: its filters' outcomes, its photometry
        (the plug-in reads it off the alert and its own history) and, for objects the portal
        has no stamps of yet, its thumbnails."""
        by_candid = {a.candid: a for a in alerts}
        passed_at = datetime.now(UTC).isoformat()
        posts: dict[int, portal_pb2.PassedAlert] = {}
        survey = self.survey
        for passed in passes:
            post = posts.get(passed.candid)
            if post is None:
                alert = by_candid[passed.candid]
                post = posts[passed.candid] = portal_pb2.PassedAlert(
                    candid=alert.candid,
                    obj_id=alert.object_id,
                    ra=alert.ra,
                    dec=alert.dec,
                    score=survey.candidate_score(alert.alert),
                    collection=survey.alerts_collection,
                    instrument=survey.instrument or "",
                    photometry=[
                        portal_pb2.PhotometryPoint(**asdict(point))
                        for point in survey.photometry(alert.alert, alert.aux)
                    ],
                    thumbnails=[
                        portal_pb2.Thumbnail(type=kind, png=image)
                        for kind, image in survey.thumbnails(alert.alert).items()
                    ]
                    if alert.object_id in need_thumbnails
                    else [],
                    passed_at=passed_at,
                )
            post.filters.append(
                portal_pb2.PassedFilter(
                    filter_id=passed.filter_id,
                    annotations_json=passed.annotations_json,
                    update_annotations=passed.update_annotations,
                    autosave=passed.autosave,
                    autosave_json=passed.autosave_json,
                )
            )
        return list(posts.values())

    async def post(self, alerts: list[PreparedAlert], passes: list[filters_pb2.FilterPass]) -> None:
        """Hands the batch's passes to the portal in one call (idempotent there)."""
        if not passes:
            return
        objects = portal_pb2.ObjIds(obj_ids=sorted({p.object_id for p in passes}))
        missing = await with_backoff(
            lambda: self.clients.portal.WithoutThumbnails(objects, timeout=CALL_TIMEOUT_S),
            "portal",
        )
        # Thumbnails are drawn with matplotlib: off the event loop.
        posts = await asyncio.to_thread(self.passed_alerts, alerts, passes, set(missing.obj_ids))
        request = portal_pb2.PostPassesRequest(alerts=posts)
        await with_backoff(
            lambda: self.clients.portal.PostPasses(request, timeout=CALL_TIMEOUT_S), "portal"
        )

    async def process(self, records: list[ConsumerRecord]) -> BatchResult:
        result = await self._through_the_mesh(records)
        counters = self.counters
        counters.batches += 1
        counters.processed += len(records)
        counters.archived += len(result.inserted)
        counters.duplicate += len(result.duplicates)
        counters.dead_lettered += len(result.dead)
        done_ms = time.time() * 1000
        counters.latencies_ms.extend(done_ms - record.timestamp for record in records)
        return result

    async def _through_the_mesh(self, records: list[ConsumerRecord]) -> BatchResult:
        """The batch through ML, cross-match, archive and filters.

        A service that refuses the batch for good (not "try again") is answering about some
        alert in it: halve the batch until that alert is alone, and dead-letter it with the
        service's reason, so one poison alert neither blocks the stream nor takes others along.
        """
        prepared, dead = self.prepare(records)
        result = BatchResult(dead=dead)
        if not prepared:
            return result
        try:
            await asyncio.gather(self.score(prepared), self.cross_match(prepared))
            response = await self.archive(prepared)
            evaluation = await self.evaluate(prepared, list(response.aux_bson))
            await self.post(prepared, list(evaluation.passes))
        except grpc.aio.AioRpcError as exc:
            if exc.code() in RETRYABLE:
                raise
            live = [r for r in records if all(d.record is not r for d in dead)]
            if len(live) == 1:
                reason = f"refused by the mesh: {exc.code().name}: {exc.details()}"
                log.error("alert dead-lettered", extra={"fields": {"reason": reason}})
                result.dead.append(DeadLetter(live[0], reason))
                return result
            half = len(live) // 2
            for part in (live[:half], live[half:]):
                sub = await self._through_the_mesh(part)
                result.inserted += sub.inserted
                result.duplicates += sub.duplicates
                result.dead += sub.dead
                result.passes += sub.passes
            return result
        result.inserted = list(response.inserted_candids)
        result.duplicates = list(response.duplicate_candids)
        result.passes = list(evaluation.passes)
        self.counters.count_filters(evaluation)
        return result


def dead_letter_headers(letter: DeadLetter, survey: str) -> list[tuple[str, bytes]]:
    record = letter.record
    headers: dict[str, Any] = {
        "skymesh.reason": letter.reason,
        "skymesh.survey": survey,
        "skymesh.topic": record.topic,
        "skymesh.partition": record.partition,
        "skymesh.offset": record.offset,
    }
    return [(key, str(value).encode()) for key, value in headers.items()]
