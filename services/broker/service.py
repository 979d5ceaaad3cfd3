"""The broker process: one consumer per survey, and its control API."""

from __future__ import annotations

import asyncio

import grpc

from services.broker.consumer import SurveyConsumer
from services.broker.pipeline import BatchProcessor, MeshClients
from services.broker.surveys import configured_surveys
from skymesh.archive.v1 import archive_pb2_grpc
from skymesh.broker.v1 import broker_pb2, broker_pb2_grpc
from skymesh.config import Settings
from skymesh.filters.v1 import filters_pb2_grpc
from skymesh.ml.v1 import ml_pb2_grpc
from skymesh.portal.v1 import portal_pb2_grpc
from skymesh.runtime.clients import service_channel
from skymesh.runtime.errors import grpc_errors
from skymesh.runtime.server import Service
from skymesh.xmatch.v1 import xmatch_pb2_grpc

SERVICE = broker_pb2.DESCRIPTOR.services_by_name["BrokerService"].full_name


class BrokerServicer(broker_pb2_grpc.BrokerServiceServicer):
    def __init__(self, consumers: list[SurveyConsumer]) -> None:
        self.consumers = consumers

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
                            filter_id=filter_id, fid=fid, passed=c.passed, errors=c.errors
                        )
                        for (filter_id, fid), c in sorted(counters.filters.items())
                    ],
                    latency_p50_ms=counters.latency_percentile(50),
                    latency_p99_ms=counters.latency_percentile(99),
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


def build(settings: Settings) -> Service:
    # xmatch is served by the archive process (see skymesh/infra/gateway.py HOSTED_BY).
    channels = {
        name: service_channel(settings, name, caller="broker")
        for name in ("archive", "ml", "filters", "portal")
    }
    clients = MeshClients(
        archive=archive_pb2_grpc.ArchiveServiceStub(channels["archive"]),
        xmatch=xmatch_pb2_grpc.XMatchServiceStub(channels["archive"]),
        ml=ml_pb2_grpc.MLServiceStub(channels["ml"]),
        filters=filters_pb2_grpc.FiltersServiceStub(channels["filters"]),
        portal=portal_pb2_grpc.PortalServiceStub(channels["portal"]),
    )
    consumers = [
        SurveyConsumer(settings, BatchProcessor(survey, clients))
        for survey in configured_surveys(settings)
    ]

    async def consume_all() -> None:
        await asyncio.gather(*(consumer.run() for consumer in consumers))

    async def close() -> None:
        for channel in channels.values():
            await channel.close()

    return Service(
        name="broker",
        service_names=[SERVICE],
        register=lambda server: broker_pb2_grpc.add_BrokerServiceServicer_to_server(
            BrokerServicer(consumers), server
        ),
        background=[consume_all],
        on_stop=close,
    )
