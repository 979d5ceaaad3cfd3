"""Sends Avro alert files to Kafka, one message per file (like Kowalski's kafka_stream.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from pathlib import Path

from aiokafka import AIOKafkaProducer
from rich.progress import Progress


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


async def produce(files: list[Path], topic: str, bootstrap: str, quiet: bool = False) -> int:
    # Producing to a new nightly topic auto-creates it; aiokafka logs that as an error.
    logging.getLogger("aiokafka.cluster").setLevel(logging.CRITICAL)
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        max_request_size=16 * 1024 * 1024,
    )
    await producer.start()
    try:
        with Progress(disable=quiet, transient=True) as progress:
            task = progress.add_task(f"producing to {topic}", total=len(files))
            for path in files:
                await producer.send_and_wait(topic, path.read_bytes())
                progress.advance(task)
    finally:
        await producer.stop()
    return len(files)


def produce_sync(files: list[Path], topic: str, bootstrap: str, quiet: bool = False) -> int:
    return asyncio.run(produce(files, topic, bootstrap, quiet))
