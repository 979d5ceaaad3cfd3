"""The Kafka side: a consumer group per survey; offsets move on only once a batch is safe.

A batch is safe when the archive has acknowledged its alerts and Kafka has acknowledged its
dead letters. A crash before that re-delivers the batch, and the archive ignores the alerts
it already holds, so every alert is archived exactly once.
"""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from services.broker.pipeline import BatchProcessor, dead_letter_headers
from skymesh.config import Settings

log = logging.getLogger(__name__)

POLL_TIMEOUT_MS = 500
# New nightly topics must be picked up within seconds, not Kafka's default 5 minutes.
METADATA_MAX_AGE_MS = 3000
MAX_MESSAGE_BYTES = 16 * 1024 * 1024


class SurveyConsumer:
    def __init__(self, settings: Settings, processor: BatchProcessor) -> None:
        self.settings = settings
        self.processor = processor
        self.survey = processor.survey
        self.running = asyncio.Event()
        self.running.set()
        self.consumer: AIOKafkaConsumer | None = None

    def topics(self) -> list[str]:
        if self.consumer is None:
            return []
        return sorted({tp.topic for tp in self.consumer.assignment()})

    async def lag(self) -> int:
        if self.consumer is None or not (assigned := self.consumer.assignment()):
            return 0
        ends = await self.consumer.end_offsets(list(assigned))
        total = 0
        for tp in assigned:
            total += max(0, ends[tp] - await self.consumer.position(tp))
        return total

    async def run(self) -> None:
        bootstrap = self.settings.kafka_bootstrap
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap,
            group_id=f"{self.settings.kafka_group_id}-{self.survey.name.lower()}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            metadata_max_age_ms=METADATA_MAX_AGE_MS,
            max_partition_fetch_bytes=MAX_MESSAGE_BYTES,
            fetch_max_bytes=4 * MAX_MESSAGE_BYTES,
        )
        dead_letters = AIOKafkaProducer(
            bootstrap_servers=bootstrap,
            acks="all",
            enable_idempotence=True,
            max_request_size=MAX_MESSAGE_BYTES,
        )
        await _start_with_retry(self.consumer, "consumer")
        await _start_with_retry(dead_letters, "dead-letter producer")
        self.consumer.subscribe(pattern=self.survey.topic_pattern)
        log.info(
            "consuming",
            extra={"fields": {"survey": self.survey.name, "pattern": self.survey.topic_pattern}},
        )
        try:
            while True:
                await self.running.wait()
                batches = await self.consumer.getmany(
                    timeout_ms=POLL_TIMEOUT_MS, max_records=self.settings.broker_batch_size
                )
                records = [record for part in batches.values() for record in part]
                if not records:
                    continue
                result = await self.processor.process(records)
                for letter in result.dead:
                    await dead_letters.send_and_wait(
                        self.settings.dead_letter_topic,
                        letter.record.value,
                        key=letter.record.key,
                        headers=dead_letter_headers(letter, self.survey.name),
                    )
                log.info(
                    "batch archived",
                    extra={
                        "fields": {
                            "survey": self.survey.name,
                            "records": len(records),
                            "inserted": len(result.inserted),
                            "duplicates": len(result.duplicates),
                            "dead_lettered": len(result.dead),
                        }
                    },
                )
                # Only now that the batch is safe do its offsets move on.
                await self.consumer.commit(
                    {
                        TopicPartition(tp.topic, tp.partition): part[-1].offset + 1
                        for tp, part in batches.items()
                        if part
                    }
                )
        finally:
            await self.consumer.stop()
            await dead_letters.stop()


async def _start_with_retry(client: AIOKafkaConsumer | AIOKafkaProducer, what: str) -> None:
    delay = 0.5
    while True:
        try:
            await client.start()
            return
        except Exception as exc:  # KafkaConnectionError and friends while Kafka boots
            log.warning(
                "kafka not reachable, retrying",
                extra={"fields": {"client": what, "error": str(exc), "retry_in_s": delay}},
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)
