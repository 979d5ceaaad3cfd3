"""Sends Avro alert files to Kafka, one message per file (like Kowalski's kafka_stream.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from pathlib import Path

from aiokafka import AIOKafkaProducer
from rich.progress import Progress

# The largest Kafka message a client of the mesh sends or fetches (an alert with its cutouts
# is ~75 KB; a few survey packets carry far more).
KAFKA_MAX_MESSAGE_BYTES = 16 * 1024 * 1024


def alert_files(paths: Iterable[Path]) -> list[Path]:
    """Files as given; folders expand to the .avro files below them, sorted."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(path.rglob("*.avro")))
        elif path.is_file():
            files.append(path)
        else:
            raise FileNotFoundError(f"no such file or folder: {path}")
    if not files:
        raise FileNotFoundError("no .avro files found in " + ", ".join(map(str, paths)))
    return files


def alert_producer(bootstrap: str) -> AIOKafkaProducer:
    """A producer of alert-sized messages, each acknowledged by all in-sync replicas, once."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        max_request_size=KAFKA_MAX_MESSAGE_BYTES,
    )


async def produce_messages(
    messages: Iterable[bytes],
    topic: str,
    bootstrap: str,
    quiet: bool = True,
    total: int | None = None,
) -> int:
    """Sends ``messages`` to ``topic`` in order, each acknowledged before the next."""
    # Producing to a new nightly topic auto-creates it; aiokafka logs that as an error.
    logging.getLogger("aiokafka.cluster").setLevel(logging.CRITICAL)
    producer = alert_producer(bootstrap)
    await producer.start()
    sent = 0
    try:
        with Progress(disable=quiet, transient=True) as progress:
            task = progress.add_task(f"producing to {topic}", total=total)
            for message in messages:
                await producer.send_and_wait(topic, message)
                sent += 1
                progress.advance(task)
    finally:
        await producer.stop()
    return sent


async def produce(files: list[Path], topic: str, bootstrap: str, quiet: bool = False) -> int:
    return await produce_messages(
        (path.read_bytes() for path in files), topic, bootstrap, quiet, total=len(files)
    )


def produce_sync(files: list[Path], topic: str, bootstrap: str, quiet: bool = False) -> int:
    return asyncio.run(produce(files, topic, bootstrap, quiet))
