"""The broker process: one consumer per survey, and its control API."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

import grpc
from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord
from prometheus_client import REGISTRY

from services.broker.consumer import SurveyConsumer
from services.broker.dead_letters import DeadLetterBox, Selection, headers_of
from services.broker.metrics import BrokerCollector
from services.broker.pipeline import BatchProcessor, MeshClients
from services.broker.surveys import configured_surveys
from skymesh.archive.v1 import archive_pb2_grpc
from skymesh.broker.v1 import broker_pb2, broker_pb2_grpc
from skymesh.config import Settings
from skymesh.filters.v1 import filters_pb2_grpc
from skymesh.ml.v1 import ml_pb2_grpc
from skymesh.portal.v1 import portal_pb2_grpc
from skymesh.runtime.clients import service_channel
from skymesh.runtime.errors import Unavailable, grpc_errors
from skymesh.runtime.readiness import kafka_ready
from skymesh.runtime.server import Service

T = TypeVar("T")
KAFKA_CALL_TIMEOUT_S = 60
SERVICE = broker_pb2.DESCRIPTOR.services_by_name["BrokerService"].full_name


def selection(request: broker_pb2.DeadLetterSelection) -> Selection:
    def optional(name: str) -> int | None:
        return getattr(request, name) if request.HasField(name) else None

    for name in ("from_offset", "to_offset"):
        if (value := optional(name)) is not None and value < 0:
            raise ValueError(f"{name} must be >= 0, got {value}")
    start, end = optional("from_offset"), optional("to_offset")
    if start is not None and end is not None and start > end:
        raise ValueError(f"from_offset ({start}) is after to_offset ({end})")
    return Selection(
        reason=request.reason,
        stage=request.stage,
        survey=request.survey,
        partition=optional("partition"),
        from_offset=start,
        to_offset=end,
    )


def letter_info(record: ConsumerRecord) -> broker_pb2.DeadLetterInfo:
    headers = headers_of(record)
    return broker_pb2.DeadLetterInfo(
        partition=record.partition,
        offset=record.offset,
        survey=headers.get("skymesh.survey", ""),
        stage=headers.get("skymesh.stage", ""),
        reason=headers.get("skymesh.reason", ""),
        origin=headers.get("skymesh.origin", ""),
        timestamp_ms=record.timestamp,
        size_bytes=len(record.value or b""),
    )


class BrokerServicer(broker_pb2_grpc.BrokerServiceServicer):
    def __init__(self, consumers: list[SurveyConsumer], dead_letters: DeadLetterBox) -> None:
        self.consumers = consumers
        self.dead_letters = dead_letters

    async def _status(self) -> broker_pb2.StatusResponse:
        surveys = []
        for consumer in self.consumers:
            counters = consumer.processor.counters
            surveys.append(
                broker_pb2.SurveyStatus(
                    survey=consumer.survey.name,
                    topic_pattern=consumer.survey.topic_pattern,
                    topics=consumer.topics(),
                    alerts_processed=counters.processed,
                    alerts_archived=counters.archived,
                    alerts_duplicate=counters.duplicate,
                    alerts_dead_lettered=counters.dead_lettered,
                    batches=counters.batches,
                    lag=await consumer.lag(),
                    filters=[
                        broker_pb2.FilterCount(
                            filter_id=filter_id,
                            fid=fid,
                            passed=c.passed,
                            errors=c.errors,
                            last_error=c.last_error,
                            last_error_candid=c.last_error_candid,
                        )
                        for (filter_id, fid), c in sorted(counters.filters.items())
                    ],
                    latency_p50_ms=counters.latency_percentile(50),
                    latency_p95_ms=counters.latency_percentile(95),
                    latency_p99_ms=counters.latency_percentile(99),
                    stages=[
                        broker_pb2.StageTime(
                            stage=name, cpu_s=stage.cpu_s, wall_s=stage.wall_s, alerts=stage.alerts
                        )
                        for name, stage in counters.stages.items()
                    ],
                    batches_in_flight=counters.batches_in_flight,
                    latency_histogram=[
                        broker_pb2.LatencyBucket(le_ms=bound, count=count)
                        for bound, count in counters.latency_histogram()
                    ],
                    retries=counters.retries,
                    waiting_on=counters.waiting_on,
                    rebalances=consumer.rebalances,
                    commit_failures=consumer.commit_failures,
                )
            )
        paused = any(not c.running.is_set() for c in self.consumers)
        return broker_pb2.StatusResponse(paused=paused, surveys=surveys)

    @grpc_errors
    async def Status(self, request, context: grpc.aio.ServicerContext):  # type: ignore[no-untyped-def]
        return await self._status()

    @grpc_errors
    async def Pause(self, request, context: grpc.aio.ServicerContext):  # type: ignore[no-untyped-def]
        for consumer in self.consumers:
            consumer.running.clear()
        return await self._status()

    @grpc_errors
    async def Resume(self, request, context: grpc.aio.ServicerContext):  # type: ignore[no-untyped-def]
        for consumer in self.consumers:
            consumer.running.set()
        return await self._status()

    @grpc_errors
    async def ListDeadLetters(
        self, request: broker_pb2.DeadLetterSelection, context: grpc.aio.ServicerContext
    ) -> broker_pb2.DeadLettersResponse:
        letters = await self._kafka(self.dead_letters.scan(selection(request)))
        return broker_pb2.DeadLettersResponse(
            status="success",
            message=f"{len(letters)} dead letter(s) match",
            letters=[letter_info(record) for record in letters],
        )

    @grpc_errors
    async def Replay(
        self, request: broker_pb2.DeadLetterSelection, context: grpc.aio.ServicerContext
    ) -> broker_pb2.DeadLettersResponse:
        letters = await self._kafka(self.dead_letters.replay(selection(request)))
        return broker_pb2.DeadLettersResponse(
            status="success",
            message=f"replayed {len(letters)} dead letter(s)",
            letters=[letter_info(record) for record in letters],
        )

    @staticmethod
    async def _kafka(work: Awaitable[T]) -> T:
        try:
            return await asyncio.wait_for(work, KAFKA_CALL_TIMEOUT_S)
        except (KafkaError, TimeoutError) as exc:
            raise Unavailable(f"kafka cannot answer now: {exc!r}") from None


def build(settings: Settings) -> Service:
    channels = {
        name: service_channel(settings, name, caller="broker")
        for name in ("archive", "ml", "filters", "portal")
    }
    clients = MeshClients(
        archive=archive_pb2_grpc.ArchiveServiceStub(channels["archive"]),
        ml=ml_pb2_grpc.MLServiceStub(channels["ml"]),
        filters=filters_pb2_grpc.FiltersServiceStub(channels["filters"]),
        portal=portal_pb2_grpc.PortalServiceStub(channels["portal"]),
    )
    consumers = [
        SurveyConsumer(settings, BatchProcessor(survey, clients))
        for survey in configured_surveys(settings)
    ]
    REGISTRY.register(BrokerCollector(consumers))

    async def consume_all() -> None:
        await asyncio.gather(*(consumer.run() for consumer in consumers))

    async def close() -> None:
        for channel in channels.values():
            await channel.close()

    return Service(
        name="broker",
        service_names=[SERVICE],
        register=lambda server: broker_pb2_grpc.add_BrokerServiceServicer_to_server(
            BrokerServicer(
                consumers, DeadLetterBox(settings.kafka_bootstrap, settings.dead_letter_topic)
            ),
            server,
        ),
        background=[consume_all],
        ready=kafka_ready(settings.kafka_bootstrap),
        on_stop=close,
    )
