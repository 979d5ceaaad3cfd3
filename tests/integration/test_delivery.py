"""Delivery guarantees: kill -9 mid-stream, dead letters, a dependency that is down."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer
from pymongo import MongoClient

from skymesh.config import REPO_ROOT, Settings
from skymesh.infra import stack
from skymesh.infra.process import Supervisor, group_alive, pid_alive
from skymesh.produce import produce_sync
from tests.conftest import mesh_settings
from tests.polling import wait_for

pytestmark = pytest.mark.integration

ZTF_FILES = sorted((REPO_ROOT / "data" / "alerts" / "ztf").rglob("*.avro"))
WNTR_FILES = sorted((REPO_ROOT / "data" / "alerts" / "wntr").rglob("*.avro"))
ZTF_TOPIC = "ztf_20200202_programid1"
WNTR_TOPIC = "winter_20240311"


@dataclass
class Mesh:
    settings: Settings
    supervisor: Supervisor
    db: object

    def count(self, collection: str) -> int:
        return self.db[collection].count_documents({})  # type: ignore[index]

    def restart(self, name: str) -> None:
        self.supervisor.start(stack.service_process(self.settings, name))

    def kill_9(self, name: str) -> None:
        pid = self.supervisor.status()[name]
        assert pid is not None
        os.killpg(pid, signal.SIGKILL)
        wait_for(
            lambda: pid_alive(pid) or group_alive(pid),
            lambda alive: not alive,
            10,
            f"{name} to die",
        )


@pytest.fixture
def mesh(tmp_path: Path) -> Iterator[Mesh]:
    """A mesh of its own per test (fresh database and topics), with small broker batches."""
    settings = mesh_settings(tmp_path / "run", broker_batch_size=2, kafka_group_id="delivery-test")
    supervisor = stack.up(
        settings,
        only=("database", "kafka", "triton", "archive", "ml", "filters", "broker"),
        in_memory_db=True,
        report=lambda _: None,
    )
    client: MongoClient = MongoClient(settings.mongo_uri)
    try:
        yield Mesh(settings, supervisor, client[settings.db_name])
    finally:
        client.close()
        supervisor.stop_all()


def test_kill_9_mid_stream_then_restart_archives_every_alert_once(mesh: Mesh) -> None:
    produce_sync(ZTF_FILES, ZTF_TOPIC, mesh.settings.kafka_bootstrap, quiet=True)
    produce_sync(WNTR_FILES, WNTR_TOPIC, mesh.settings.kafka_bootstrap, quiet=True)
    wait_for(lambda: mesh.count("ZTF_alerts"), lambda n: n >= 2, 60, "the first batches")
    mesh.kill_9("broker")
    at_kill = mesh.count("ZTF_alerts")
    mesh.restart("broker")
    wait_for(
        lambda: (mesh.count("ZTF_alerts"), mesh.count("WNTR_alerts")),
        lambda counts: counts == (len(ZTF_FILES), len(WNTR_FILES)),
        120,
        f"every alert after the restart (ZTF had {at_kill} at the kill)",
    )
    candids = [d["candid"] for d in mesh.db["ZTF_alerts"].find({}, {"candid": 1})]  # type: ignore[index]
    assert len(candids) == len(set(candids)) == len(ZTF_FILES)
    for aux in mesh.db["ZTF_alerts_aux"].find():  # type: ignore[index]
        points = [tuple(sorted(p.items())) for p in aux["prv_candidates"]]
        assert len(points) == len(set(points)), f"{aux['_id']}: history duplicated"


def dead_letters(settings: Settings, expected: int) -> list:
    async def read() -> list:
        consumer = AIOKafkaConsumer(
            settings.dead_letter_topic,
            bootstrap_servers=settings.kafka_bootstrap,
            auto_offset_reset="earliest",
            group_id=None,
        )
        await consumer.start()
        try:
            records: list = []
            while len(records) < expected:
                batch = await asyncio.wait_for(consumer.getmany(timeout_ms=1000), timeout=30)
                records.extend(r for part in batch.values() for r in part)
            return records
        finally:
            await consumer.stop()

    return asyncio.run(read())


def test_garbage_goes_to_the_dead_letter_topic_and_the_stream_goes_on(
    mesh: Mesh, tmp_path: Path
) -> None:
    garbage = tmp_path / "garbage.avro"
    garbage.write_bytes(b"this is not an avro container")
    files = [*ZTF_FILES[:3], garbage, *ZTF_FILES[3:]]
    produce_sync(files, ZTF_TOPIC, mesh.settings.kafka_bootstrap, quiet=True)
    wait_for(
        lambda: mesh.count("ZTF_alerts"),
        lambda n: n == len(ZTF_FILES),
        120,
        "the alerts after the garbage",
    )
    (letter,) = dead_letters(mesh.settings, expected=1)
    assert letter.value == garbage.read_bytes()
    headers = {key: value.decode() for key, value in letter.headers}
    assert "not an Avro alert packet" in headers["skymesh.reason"]
    assert headers["skymesh.topic"] == ZTF_TOPIC
    assert headers["skymesh.offset"] == "3"
    assert headers["skymesh.survey"] == "ZTF"


def test_broker_waits_while_the_archive_is_down_and_loses_nothing(mesh: Mesh) -> None:
    mesh.supervisor.stop("archive")
    produce_sync(ZTF_FILES, ZTF_TOPIC, mesh.settings.kafka_bootstrap, quiet=True)
    broker_log = mesh.supervisor.log_file("broker")
    wait_for(
        lambda: broker_log.read_text(),
        lambda text: "cannot answer, retrying" in text,
        60,
        "the broker to retry against the stopped archive",
    )
    mesh.restart("archive")
    wait_for(
        lambda: mesh.count("ZTF_alerts"),
        lambda n: n == len(ZTF_FILES),
        120,
        "every alert once the archive is back",
    )
