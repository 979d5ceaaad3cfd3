"""The Kafka side: a consumer group per survey; offsets move on only once a batch is safe.

A batch is safe when the archive has acknowledged its alerts and Kafka has acknowledged its
dead letters. A crash before that re-delivers the batch, and the archive ignores the alerts
it already holds, so every alert is archived exactly once.

Up to ``broker_batches_in_flight`` batches run at once, each in its own stage of the pipeline
(decode, ML, archive, filters, portal), so that the services work side by side; offsets are
committed in poll order, a batch's only once every batch before it is safe too.

The batches run beside the poll loop, not inside it: while they wait out an outage (or while
the broker is paused) the assigned partitions are paused and the consumer keeps polling, so it
stays in its group however long the wait, instead of being evicted after
``max.poll.interval.ms``. A rebalance in the middle of a batch does not fail it: offsets are
committed for the partitions still assigned, and a revoked partition's records go to their
new owner, which the archive's idempotence makes harmless.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from aiokafka.structs import ConsumerRecord

from services.broker.dead_letters import DeadLetterBox, consumed_pattern, kafka_retry
from services.broker.pipeline import BatchProcessor, BatchResult
from skymesh.config import Settings
from skymesh.produce import KAFKA_MAX_MESSAGE_BYTES

log = logging.getLogger(__name__)

POLL_TIMEOUT_MS = 500
# While batches are in flight the poll returns this often, to commit the ones that finished.
BUSY_POLL_TIMEOUT_MS = 20
LAG_EVERY_S = 5.0
# New nightly topics must be picked up within seconds, not Kafka's default 5 minutes.
METADATA_MAX_AGE_MS = 3000


class Rebalances(ConsumerRebalanceListener):
    def __init__(self, owner: SurveyConsumer) -> None:
        self.owner = owner

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        log.info("partitions revoked", extra={"fields": {"partitions": str(sorted(revoked))}})

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        self.owner.rebalances += 1
        log.info("partitions assigned", extra={"fields": {"partitions": str(sorted(assigned))}})
        if self.owner.holding and self.owner.consumer is not None:
            # New partitions arrive unpaused: hold them too until the batch is safe.
            self.owner.consumer.pause(*assigned)


@dataclass
class InFlight:
    work: asyncio.Future[BatchResult]
    records: int
    # The next offset to read per partition once this batch is safe.
    offsets: dict[TopicPartition, int]


class SurveyConsumer:
    def __init__(self, settings: Settings, processor: BatchProcessor) -> None:
        self.settings = settings
        self.processor = processor
        self.survey = processor.survey
        self.running = asyncio.Event()
        self.running.set()
        self.consumer: AIOKafkaConsumer | None = None
        self.dead_letters = DeadLetterBox(settings.kafka_bootstrap, settings.dead_letter_topic)
        # True while the consumer holds its partitions paused (a batch in flight, or paused).
        self.holding = False
        self.rebalances = 0
        self.commit_failures = 0
        # The lag as last measured, for metrics scraped from another thread.
        self.last_lag = 0

    def topics(self) -> list[str]:
        if self.consumer is None:
            return []
        return sorted({tp.topic for tp in self.consumer.assignment()})

    async def lag(self) -> int:
        if self.consumer is None or not (assigned := self.consumer.assignment()):
            return 0
        try:
            ends = await asyncio.wait_for(self.consumer.end_offsets(list(assigned)), 2)
            total = 0
            for tp in assigned:
                total += max(0, ends[tp] - await self.consumer.position(tp))
            return total
        except (TimeoutError, IllegalStateError):  # Kafka away, or a rebalance: unknown now
            return -1

    async def run(self) -> None:
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap,
            group_id=f"{self.settings.kafka_group_id}-{self.survey.name.lower()}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            metadata_max_age_ms=METADATA_MAX_AGE_MS,
            max_partition_fetch_bytes=KAFKA_MAX_MESSAGE_BYTES,
            fetch_max_bytes=4 * KAFKA_MAX_MESSAGE_BYTES,
            max_poll_interval_ms=self.settings.kafka_max_poll_interval_ms,
        )
        await kafka_retry("start the consumer", self.consumer.start)
        await self.dead_letters.start()
        pattern = consumed_pattern(
            self.survey.topic_pattern, self.settings.dead_letter_topic, self.survey.name
        )
        self.consumer.subscribe(pattern=pattern, listener=Rebalances(self))
        log.info("consuming", extra={"fields": {"survey": self.survey.name, "pattern": pattern}})
        in_flight: deque[InFlight] = deque()
        limit = max(1, self.settings.broker_batches_in_flight)
        watching = asyncio.ensure_future(self._watch_lag())
        try:
            while True:
                await self._commit_safe(in_flight)
                if not self.running.is_set() or len(in_flight) >= limit:
                    await self._wait_for_room(in_flight)
                    continue
                batches = await self.consumer.getmany(
                    timeout_ms=BUSY_POLL_TIMEOUT_MS if in_flight else POLL_TIMEOUT_MS,
                    max_records=self.settings.broker_batch_size,
                )
                records = [record for part in batches.values() for record in part]
                if records:
                    offsets = {tp: part[-1].offset + 1 for tp, part in batches.items() if part}
                    work = asyncio.ensure_future(self._make_safe(records))
                    in_flight.append(InFlight(work, len(records), offsets))
        finally:
            watching.cancel()
            for batch in in_flight:
                batch.work.cancel()
            await asyncio.gather(*(b.work for b in in_flight), return_exceptions=True)
            await self.consumer.stop()
            await self.dead_letters.stop()

    async def _watch_lag(self) -> None:
        while True:
            try:
                self.last_lag = await self.lag()
            except KafkaError:  # Kafka away: unknown now, asked again later
                self.last_lag = -1
            await asyncio.sleep(LAG_EVERY_S)

    async def _wait_for_room(self, in_flight: deque[InFlight]) -> None:
        """Paused, or the pipeline is full: holds the partitions until the oldest batch is
        done or the broker is resumed."""
        resume = None
        if not self.running.is_set():
            resume = asyncio.ensure_future(self.running.wait())
        oldest = in_flight[0].work if in_flight else None
        try:
            await self._hold_until([f for f in (oldest, resume) if f is not None])
        finally:
            if resume is not None:
                resume.cancel()

    async def _commit_safe(self, in_flight: deque[InFlight]) -> None:
        """Commits the batches at the head of the line that are safe, in poll order."""
        while in_flight and in_flight[0].work.done():
            batch = in_flight.popleft()
            result = batch.work.result()  # a batch that raised stops the consumer
            log.info(
                "batch archived",
                extra={
                    "fields": {
                        "survey": self.survey.name,
                        "records": batch.records,
                        "inserted": len(result.inserted),
                        "duplicates": len(result.duplicates),
                        "dead_lettered": len(result.dead),
                    }
                },
            )
            # Only now that this batch and every one before it are safe do offsets move on.
            await self._commit(batch.offsets)

    async def _make_safe(self, records: list[ConsumerRecord]) -> BatchResult:
        result = await self.processor.process(records)
        await self.dead_letters.send(result.dead, self.survey.name)
        return result

    async def _hold_until(self, waits: list[asyncio.Future]) -> None:
        """Keeps polling, with every partition paused, until one of ``waits`` is done."""
        assert self.consumer is not None
        consumer = self.consumer
        self.holding = True
        consumer.pause(*consumer.assignment())

        def done() -> bool:
            return any(wait.done() for wait in waits)

        try:
            while not done():
                await asyncio.wait(waits, timeout=POLL_TIMEOUT_MS / 1000)
                if done():
                    break
                # Paused partitions return nothing; the call itself tells the group we live.
                stray = await consumer.getmany(timeout_ms=0)
                for tp, part in stray.items():
                    # A partition assigned between pause() and this poll: give it back.
                    consumer.seek(tp, part[0].offset)
                consumer.pause(*consumer.assignment())
        finally:
            self.holding = False
            consumer.resume(*consumer.assignment())

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        assert self.consumer is not None
        consumer = self.consumer
        owned = consumer.assignment()
        # A partition revoked during the batch belongs to another member now: it re-reads
        # from the last commit, and the archive recognises what this batch archived.
        mine = {tp: offset for tp, offset in offsets.items() if tp in owned}
        if not mine:
            return
        try:
            await kafka_retry("commit offsets", lambda: consumer.commit(mine))
        except (CommitFailedError, IllegalStateError) as exc:
            self.commit_failures += 1
            log.warning(
                "offsets not committed (the group rebalanced); the batch will be re-delivered",
                extra={"fields": {"error": repr(exc)}},
            )
