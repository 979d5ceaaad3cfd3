"""The dead-letter topic: what the broker could not process, with why, and its replay.

Each dead letter is the original Kafka record's bytes with headers saying where it came from
(``skymesh.origin`` = topic:partition:offset of the first delivery, kept through replays),
the survey, the stage that refused it and the reason. Replaying re-produces the chosen
letters to the survey's replay topic, which the survey's consumer also reads: the alert then
takes the normal path (the archive recognises an alert it holds already, the portal's posts
are idempotent), so a replayed alert is archived exactly once, however often it is replayed.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import KafkaError, KafkaTimeoutError
from aiokafka.structs import ConsumerRecord

from services.broker.pipeline import DeadLetter
from skymesh.produce import KAFKA_MAX_MESSAGE_BYTES, alert_producer

log = logging.getLogger(__name__)

SCAN_POLL_MS = 500
T = TypeVar("T")


def replay_topic(dead_letter_topic: str, survey: str) -> str:
    return f"{dead_letter_topic}.replay.{survey.lower()}"


def consumed_pattern(topic_pattern: str, dead_letter_topic: str, survey: str) -> str:
    """The survey's own topics and its replay topic."""
    return f"(?:{topic_pattern})|^{re.escape(replay_topic(dead_letter_topic, survey))}$"


def headers_of(record: ConsumerRecord) -> dict[str, str]:
    return {key: value.decode(errors="replace") for key, value in record.headers or ()}


def dead_letter_headers(letter: DeadLetter, survey: str) -> list[tuple[str, bytes]]:
    record = letter.record
    origin = headers_of(record).get(
        "skymesh.origin", f"{record.topic}:{record.partition}:{record.offset}"
    )
    headers = {
        "skymesh.reason": letter.reason,
        "skymesh.stage": letter.stage,
        "skymesh.survey": survey,
        "skymesh.origin": origin,
        "skymesh.topic": record.topic,
        "skymesh.partition": str(record.partition),
        "skymesh.offset": str(record.offset),
    }
    return [(key, value.encode()) for key, value in headers.items()]


async def kafka_retry(what: str, call: Callable[[], Awaitable[T]]) -> T:
    """Retries a Kafka operation while Kafka cannot answer (it is restarting, say); other
    Kafka errors (a commit refused after a rebalance, say) are the caller's to handle."""
    delay = 0.5
    while True:
        try:
            return await call()
        except KafkaError as exc:
            if not (exc.retriable or isinstance(exc, KafkaTimeoutError)):
                raise
            log.warning(
                "kafka cannot answer, retrying",
                extra={"fields": {"operation": what, "error": repr(exc), "retry_in_s": delay}},
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)


@dataclass(frozen=True)
class Selection:
    """Which dead letters: every criterion given must hold."""

    reason: str = ""  # a substring of the reason
    stage: str = ""
    survey: str = ""
    partition: int | None = None
    from_offset: int | None = None  # offsets in the dead-letter topic, inclusive
    to_offset: int | None = None

    def __contains__(self, record: ConsumerRecord) -> bool:
        headers = headers_of(record)
        return (
            self.reason in headers.get("skymesh.reason", "")
            and (not self.stage or headers.get("skymesh.stage") == self.stage)
            and (
                not self.survey or headers.get("skymesh.survey", "").lower() == self.survey.lower()
            )
            and (self.partition is None or record.partition == self.partition)
            and (self.from_offset is None or record.offset >= self.from_offset)
            and (self.to_offset is None or record.offset <= self.to_offset)
        )


class DeadLetterBox:
    def __init__(self, bootstrap: str, topic: str) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        self.producer = alert_producer(self.bootstrap)
        await kafka_retry("start the dead-letter producer", self.producer.start)

    async def stop(self) -> None:
        if self.producer is not None:
            await self.producer.stop()

    async def send(self, letters: list[DeadLetter], survey: str) -> None:
        """Every letter acknowledged by Kafka, however long Kafka takes to come back."""
        assert self.producer is not None, "start() first"
        producer = self.producer
        for letter in letters:
            await kafka_retry(
                "send a dead letter",
                lambda letter=letter: producer.send_and_wait(
                    self.topic,
                    letter.record.value,
                    key=letter.record.key,
                    headers=dead_letter_headers(letter, survey),
                ),
            )

    async def scan(self, selection: Selection) -> list[ConsumerRecord]:
        """The dead letters that match, as the topic holds them now (oldest first)."""
        # Without a group, a consumer of the topic is assigned every partition of it.
        consumer = AIOKafkaConsumer(
            self.topic,
            bootstrap_servers=self.bootstrap,
            enable_auto_commit=False,
            max_partition_fetch_bytes=KAFKA_MAX_MESSAGE_BYTES,
            fetch_max_bytes=4 * KAFKA_MAX_MESSAGE_BYTES,
        )
        await consumer.start()
        try:
            chosen = sorted(
                tp
                for tp in consumer.assignment()
                if selection.partition is None or tp.partition == selection.partition
            )
            if not chosen:
                return []
            ends = await consumer.end_offsets(chosen)
            starts = await consumer.beginning_offsets(chosen)
            found: list[ConsumerRecord] = []
            for tp in chosen:
                first = max(starts[tp], selection.from_offset or 0)
                if first >= ends[tp]:
                    continue
                consumer.seek(tp, first)
                while await consumer.position(tp) < ends[tp]:
                    batch = await consumer.getmany(tp, timeout_ms=SCAN_POLL_MS)
                    found += [
                        r for r in batch.get(tp, []) if r.offset < ends[tp] and r in selection
                    ]
                    if selection.to_offset is not None and (
                        await consumer.position(tp) > selection.to_offset
                    ):
                        break
            return found
        finally:
            await consumer.stop()

    async def replay(self, selection: Selection) -> list[ConsumerRecord]:
        """Re-produces the chosen dead letters to their surveys' replay topics."""
        # A letter names its survey (the broker writes it); one that does not has no topic
        # to go back to.
        letters = [r for r in await self.scan(selection) if headers_of(r).get("skymesh.survey")]
        producer = alert_producer(self.bootstrap)
        await producer.start()
        try:
            for letter in letters:
                headers = headers_of(letter)
                survey = headers["skymesh.survey"]
                await producer.send_and_wait(
                    replay_topic(self.topic, survey),
                    letter.value,
                    key=letter.key,
                    headers=[
                        ("skymesh.origin", headers.get("skymesh.origin", "").encode()),
                        ("skymesh.replay_of", f"{letter.partition}:{letter.offset}".encode()),
                    ],
                )
        finally:
            await producer.stop()
        log.info(
            "dead letters replayed",
            extra={"fields": {"count": len(letters), "selection": repr(selection)}},
        )
        return letters
