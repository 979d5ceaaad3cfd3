"""One batch of Kafka messages through the mesh: decode, prepare, archive."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import bson
import grpc
from skymesh.archive.v1 import archive_pb2, archive_pb2_grpc

from services.broker.surveys import DecodeError, PreparedAlert, Survey

log = logging.getLogger(__name__)

# Codes that mean "the other service is not there right now": wait and retry, never drop.
RETRYABLE = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.ABORTED,
    }
)


@dataclass
class SurveyCounters:
    processed: int = 0
    archived: int = 0
    duplicate: int = 0
    undecodable: int = 0
    batches: int = 0


@dataclass
class BatchResult:
    inserted: list[int] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)
    undecodable: int = 0


async def with_backoff(call, what: str, max_delay: float = 10.0):  # type: ignore[no-untyped-def]
    """Retries ``call()`` while the callee is unreachable, with capped exponential backoff."""
    delay = 0.2
    while True:
        try:
            return await call()
        except grpc.aio.AioRpcError as exc:
            if exc.code() not in RETRYABLE:
                raise
            log.warning(
                "%s unavailable, retrying",
                what,
                extra={"fields": {"code": exc.code().name, "retry_in_s": delay}},
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay)


class BatchProcessor:
    def __init__(self, survey: Survey, archive: archive_pb2_grpc.ArchiveServiceStub) -> None:
        self.survey = survey
        self.archive = archive
        self.counters = SurveyCounters()

    def prepare(self, messages: list[bytes]) -> tuple[list[PreparedAlert], int]:
        prepared: list[PreparedAlert] = []
        undecodable = 0
        for message in messages:
            try:
                prepared.extend(self.survey.prepare(p) for p in self.survey.decode(message))
            except DecodeError as exc:
                undecodable += 1
                log.error("undecodable message skipped", extra={"fields": {"reason": str(exc)}})
        return prepared, undecodable

    async def process(self, messages: list[bytes]) -> BatchResult:
        prepared, undecodable = self.prepare(messages)
        result = BatchResult(undecodable=undecodable)
        if prepared:
            request = archive_pb2.IngestAlertsRequest(
                catalog=self.survey.alerts_collection,
                alerts_bson=[bson.encode(p.alert) for p in prepared],
                aux_bson=[bson.encode(p.aux) for p in prepared],
            )
            response = await with_backoff(
                lambda: self.archive.IngestAlerts(request, timeout=60), "archive"
            )
            result.inserted = list(response.inserted_candids)
            result.duplicates = list(response.duplicate_candids)
        counters = self.counters
        counters.batches += 1
        counters.processed += len(messages)
        counters.archived += len(result.inserted)
        counters.duplicate += len(result.duplicates)
        counters.undecodable += undecodable
        return result
