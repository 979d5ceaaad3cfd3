"""The Kafka side: a consumer group per survey, offsets committed after the archive acks."""

from __future__ import annotations

import asyncio
import logging
import re

from aiokafka import AIOKafkaConsumer, TopicPartition

from services.broker.pipeline import BatchProcessor
from skymesh.config import Settings

log = logging.getLogger(__name__)

BATCH_MAX_RECORDS = 256
POLL_TIMEOUT_MS = 500
# New nightly topics must be picked up within seconds, not Kafka's default 5 minutes.
METADATA_MAX_AGE_MS = 3000


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
            position = await self.consumer.position(tp)
            total += max(0, ends[tp] - position)
        return total

    async def run(self) -> None:
        self.consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap,
            group_id=f"{self.settings.kafka_group_id}-{self.survey.name.lower()}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            metadata_max_age_ms=METADATA_MAX_AGE_MS,
            max_partition_fetch_bytes=16 * 1024 * 1024,
            fetch_max_bytes=64 * 1024 * 1024,
        )
        await self._start_with_retry()
        self.consumer.subscribe(pattern=re.compile(self.survey.topic_pattern).pattern)
        log.info(
            "consuming",
            extra={"fields": {"survey": self.survey.name, "pattern": self.survey.topic_pattern}},
        )
        try:
            while True:
                await self.running.wait()
                batches = await self.consumer.getmany(
                    timeout_ms=POLL_TIMEOUT_MS, max_records=BATCH_MAX_RECORDS
                )
                messages = [m.value for records in batches.values() for m in records if m.value]
                if not batches:
                    continue
                if messages:
                    result = await self.processor.process(messages)
                    log.info(
                        "batch archived",
                        extra={
                            "fields": {
                                "survey": self.survey.name,
                                "messages": len(messages),
                                "inserted": len(result.inserted),
                                "duplicates": len(result.duplicates),
                                "undecodable": result.undecodable,
                            }
                        },
                    )
                # Only now that the archive acknowledged the batch do its offsets move on.
                await self.consumer.commit(
                    {
                        TopicPartition(tp.topic, tp.partition): records[-1].offset + 1
                        for tp, records in batches.items()
                        if records
                    }
                )
        finally:
            await self.consumer.stop()

    async def _start_with_retry(self) -> None:
        assert self.consumer is not None
        delay = 0.5
        while True:
            try:
                await self.consumer.start()
                return
            except Exception as exc:  # KafkaConnectionError and friends while Kafka boots
                log.warning(
                    "kafka not reachable, retrying",
                    extra={"fields": {"error": str(exc), "retry_in_s": delay}},
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
