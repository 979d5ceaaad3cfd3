"""A batch the mesh refuses for good is halved until the poison alert is alone."""

from __future__ import annotations

import bson
import grpc
from aiokafka.structs import ConsumerRecord

from services.broker.pipeline import BatchProcessor, MeshClients
from services.broker.surveys import WINTER
from skymesh.archive.v1 import archive_pb2
from skymesh.filters.v1 import filters_pb2
from skymesh.xmatch.v1 import xmatch_pb2
from tests.conftest import WNTR_DIR


def record(offset: int, value: bytes) -> ConsumerRecord:
    return ConsumerRecord(
        topic="winter_20240311",
        partition=0,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=None,
        value=value,
        checksum=None,
        serialized_key_size=0,
        serialized_value_size=len(value),
        headers=(),
    )


class Archive:
    """Refuses any batch holding the poison candid, as a service would for a bad document."""

    def __init__(self, poison: int) -> None:
        self.poison = poison
        self.archived: list[int] = []

    async def IngestAlerts(self, request, timeout=None):  # noqa: ASYNC109 - a gRPC stub's signature
        candids = [bson.decode(raw)["candid"] for raw in request.alerts_bson]
        if self.poison in candids:
            raise grpc.aio.AioRpcError(
                grpc.StatusCode.INVALID_ARGUMENT,
                grpc.aio.Metadata(),
                grpc.aio.Metadata(),
                details=f"document {self.poison} is invalid",
            )
        self.archived += candids
        return archive_pb2.IngestAlertsResponse(inserted_candids=candids)


class Empty:
    async def CrossMatch(self, request, timeout=None):  # noqa: ASYNC109 - a gRPC stub's signature
        return xmatch_pb2.CrossMatchResponse()

    async def Evaluate(self, request, timeout=None):  # noqa: ASYNC109 - a gRPC stub's signature
        return filters_pb2.EvaluateResponse()


async def test_one_poison_alert_is_dead_lettered_and_the_rest_archived() -> None:
    files = sorted(WNTR_DIR.rglob("*.avro"))
    records = [record(i, path.read_bytes()) for i, path in enumerate(files)]
    survey = WINTER(r"^winter_\d{8}$")
    candids = [survey.decode(r.value)[0]["candid"] for r in records]
    poison = candids[5]
    archive = Archive(poison)
    processor = BatchProcessor(
        survey, MeshClients(archive=archive, xmatch=Empty(), ml=None, filters=Empty(), portal=None)
    )
    result = await processor.process(records)
    assert sorted(archive.archived) == sorted(c for c in candids if c != poison)
    assert sorted(result.inserted) == sorted(archive.archived)
    (letter,) = result.dead
    assert letter.record.offset == 5
    assert f"document {poison} is invalid" in letter.reason
    assert "INVALID_ARGUMENT" in letter.reason
    assert processor.counters.dead_lettered == 1
    assert processor.counters.processed == len(records)
