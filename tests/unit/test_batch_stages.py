"""The batch's stages: poison is isolated and dead-lettered, outages are waited out, and a
retry resumes at the stage that failed."""

from __future__ import annotations

import asyncio
import math

import bson
import grpc
import pytest
from aiokafka.structs import ConsumerRecord

from services.broker.pipeline import BatchProcessor, MeshClients, SurveyCounters
from services.broker.surveys import WINTER
from skymesh.archive.v1 import archive_pb2
from skymesh.filters.v1 import filters_pb2
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


def rpc_error(code: grpc.StatusCode, details: str) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details=details)


class Flaky:
    """Fails its first ``failures`` calls with ``code``, then answers like ``inner``."""

    def __init__(self, inner: object, failures: int, code: grpc.StatusCode) -> None:
        self.inner = inner
        self.failures = failures
        self.code = code
        self.calls = 0

    def __getattr__(self, name: str):
        async def call(request, timeout=None):  # noqa: ASYNC109 - a gRPC stub's signature
            self.calls += 1
            if self.calls <= self.failures:
                raise rpc_error(self.code, "connection refused")
            return await getattr(self.inner, name)(request, timeout=timeout)

        return call


class FailingFilter:
    """One filter that raises on one alert, as the filters service reports it."""

    def __init__(self, candid: int) -> None:
        self.candid = candid

    async def Evaluate(self, request, timeout=None):  # noqa: ASYNC109 - a gRPC stub's signature
        return filters_pb2.EvaluateResponse(
            filters_evaluated=1,
            errors=[
                filters_pb2.FilterError(
                    filter_id=7, fid="v1", candid=self.candid, message="can't $divide by zero"
                )
            ],
        )


class Empty:
    async def Evaluate(self, request, timeout=None):  # noqa: ASYNC109 - a gRPC stub's signature
        return filters_pb2.EvaluateResponse()


def winter_records() -> tuple[WINTER, list[ConsumerRecord], list[int]]:
    files = sorted(WNTR_DIR.rglob("*.avro"))
    records = [record(i, path.read_bytes()) for i, path in enumerate(files)]
    survey = WINTER(r"^winter_\d{8}$")
    return survey, records, [survey.decode(r.value)[0]["candid"] for r in records]


async def test_one_poison_alert_is_dead_lettered_and_the_rest_archived() -> None:
    survey, records, candids = winter_records()
    poison = candids[5]
    archive = Archive(poison)
    processor = BatchProcessor(
        survey, MeshClients(archive=archive, ml=None, filters=Empty(), portal=None)
    )
    result = await processor.process(records)
    assert sorted(archive.archived) == sorted(c for c in candids if c != poison)
    assert sorted(result.inserted) == sorted(archive.archived)
    (letter,) = result.dead
    assert letter.record.offset == 5
    assert letter.stage == "archive"
    assert f"document {poison} is invalid" in letter.reason
    assert "INVALID_ARGUMENT" in letter.reason
    assert processor.counters.dead_lettered == 1
    assert processor.counters.processed == len(records)


async def test_an_outage_is_waited_out_and_nothing_is_dead_lettered() -> None:
    """INTERNAL and UNAVAILABLE are the mesh's failures: retried, never the alerts' fault."""
    survey, records, candids = winter_records()
    archive = Archive(poison=-1)
    flaky_archive = Flaky(archive, failures=2, code=grpc.StatusCode.UNAVAILABLE)
    flaky_filters = Flaky(Empty(), failures=2, code=grpc.StatusCode.INTERNAL)
    processor = BatchProcessor(
        survey,
        MeshClients(archive=flaky_archive, ml=None, filters=flaky_filters, portal=None),
    )
    result = await processor.process(records)
    assert result.dead == []
    assert sorted(archive.archived) == sorted(candids)
    assert processor.counters.retries == 4
    assert processor.counters.waiting_on == ""


async def test_a_retry_after_archiving_resumes_at_the_failed_stage() -> None:
    """The filters fail after the archive took the batch: the archive is not called again."""
    survey, records, candids = winter_records()
    archive = Archive(poison=-1)
    counted_archive = Flaky(archive, failures=0, code=grpc.StatusCode.OK)
    processor = BatchProcessor(
        survey,
        MeshClients(
            archive=counted_archive,
            ml=None,
            filters=Flaky(Empty(), failures=3, code=grpc.StatusCode.UNAVAILABLE),
            portal=None,
        ),
    )
    result = await processor.process(records)
    assert counted_archive.calls == 1
    assert sorted(result.inserted) == sorted(candids)
    assert result.dead == []


async def test_a_filter_that_raises_dead_letters_its_alert_at_the_evaluate_stage() -> None:
    survey, records, candids = winter_records()
    archive = Archive(poison=-1)
    processor = BatchProcessor(
        survey,
        MeshClients(
            archive=archive,
            ml=None,
            filters=FailingFilter(candids[3]),
            portal=None,
        ),
    )
    result = await processor.process(records)
    assert sorted(archive.archived) == sorted(candids)  # archived all the same
    (letter,) = result.dead
    assert (letter.stage, letter.record.offset) == ("evaluate", 3)
    assert letter.reason == "filter 7 (version v1) raised: can't $divide by zero"


class SlowFirstArchive(Archive):
    """Holds the first batch until released, and records the order batches are archived in."""

    def __init__(self) -> None:
        super().__init__(poison=-1)
        self.release_first = asyncio.Event()
        self.first_arrived = asyncio.Event()
        self.batches: list[list[int]] = []

    async def IngestAlerts(self, request, timeout=None):  # noqa: ASYNC109 - a gRPC stub's signature
        if not self.batches:
            self.batches.append([])
            self.first_arrived.set()
            await self.release_first.wait()
            answer = await super().IngestAlerts(request)
            self.batches[0] = list(answer.inserted_candids)
            return answer
        answer = await super().IngestAlerts(request)
        self.batches.append(list(answer.inserted_candids))
        return answer


async def test_batches_overlap_but_each_stage_takes_them_in_order() -> None:
    """While batch 1 waits in the archive, batch 2 is decoded and goes through the ML stage,
    but is not archived before batch 1 is, and its filters run after batch 1's."""
    survey, records, candids = winter_records()
    archive = SlowFirstArchive()
    evaluated: list[int] = []

    class Filters:
        async def Evaluate(self, request, timeout=None):  # noqa: ASYNC109 - a stub's signature
            evaluated.extend(bson.decode(raw)["candid"] for raw in request.alerts_bson)
            return filters_pb2.EvaluateResponse()

    processor = BatchProcessor(
        survey,
        MeshClients(archive=archive, ml=None, filters=Filters(), portal=None),
    )
    half = len(records) // 2
    first = asyncio.ensure_future(processor.process(records[:half]))
    await asyncio.wait_for(archive.first_arrived.wait(), 10)
    second = asyncio.ensure_future(processor.process(records[half:]))
    # Batch 2 goes through decode, enrich and ml, then waits for its turn at the archive.
    deadline = asyncio.get_running_loop().time() + 10
    while processor.counters.stages["ml"].alerts < len(records):
        assert asyncio.get_running_loop().time() < deadline, "batch 2 never left the ml stage"
        await asyncio.sleep(0.01)
    assert archive.batches == [[]] and not second.done()
    assert processor.counters.batches_in_flight == 2
    archive.release_first.set()
    await asyncio.wait_for(asyncio.gather(first, second), 10)
    assert archive.batches == [candids[:half], candids[half:]]
    assert evaluated == candids
    assert processor.counters.batches_in_flight == 0
    for stage in ("decode", "enrich", "ml", "archive", "evaluate"):
        assert processor.counters.stages[stage].alerts == len(records), stage
    assert processor.counters.stages["decode"].cpu_s > 0
    # The first batch waited in the archive stage: that is where the time went.
    assert processor.counters.stages["archive"].wall_s > processor.counters.stages["decode"].wall_s


async def test_a_batch_that_fails_lets_the_next_one_through() -> None:
    survey, records, candids = winter_records()
    archive = Archive(poison=-1)

    class BrokenOnce:
        calls = 0

        async def IngestAlerts(self, request, timeout=None):  # noqa: ASYNC109 - a stub's signature
            BrokenOnce.calls += 1
            if BrokenOnce.calls == 1:
                raise RuntimeError("a bug, not an outage")
            return await archive.IngestAlerts(request)

    processor = BatchProcessor(
        survey, MeshClients(archive=BrokenOnce(), ml=None, filters=Empty(), portal=None)
    )
    half = len(records) // 2
    first = asyncio.ensure_future(processor.process(records[:half]))
    second = asyncio.ensure_future(processor.process(records[half:]))
    with pytest.raises(RuntimeError, match="a bug"):
        await asyncio.wait_for(first, 10)
    await asyncio.wait_for(second, 10)
    assert sorted(archive.archived) == sorted(candids[half:])
    assert processor.counters.batches_in_flight == 0


def test_latency_histogram_is_cumulative_with_an_infinite_last_bucket() -> None:
    counters = SurveyCounters()
    counters.record_latencies([10.0, 25.0, 26.0, 999.0, 1e9])
    histogram = dict(counters.latency_histogram())
    assert histogram[25.0] == 2  # bounds are inclusive
    assert histogram[50.0] == 3
    assert histogram[1000.0] == 4
    assert histogram[math.inf] == 5
    counts = [count for _, count in counters.latency_histogram()]
    assert counts == sorted(counts)
