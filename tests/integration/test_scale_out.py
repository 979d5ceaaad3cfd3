"""Broker replicas in one consumer group on a multi-partition topic, on real Kafka: every alert
is archived exactly once, and when a replica is killed its partitions move to the others
with nothing lost.

The replicas consume a topic of their own (their own ZTF topic regex and consumer group), so
the shared mesh's broker and the other tests' streams are untouched.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import uuid
from collections.abc import Iterator
from dataclasses import replace

import grpc
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from pymongo import MongoClient

from skymesh.broker.v1 import broker_pb2, broker_pb2_grpc
from skymesh.config import Settings
from skymesh.infra import stack
from skymesh.infra.process import Supervisor
from skymesh.produce import KAFKA_MAX_MESSAGE_BYTES
from skymesh.synthetic import BENCH_CANDID_BASE, synthetic_messages
from tests.conftest import remove_synthetic_alerts
from tests.polling import wait_for

pytestmark = pytest.mark.integration

PARTITIONS = 3
ALERTS = 90  # per half of a stream


async def create_topic(settings: Settings, topic: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, PARTITIONS, 1)])
    finally:
        await admin.close()


async def produce(settings: Settings, topic: str, messages: list[bytes]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap, max_request_size=KAFKA_MAX_MESSAGE_BYTES
    )
    await producer.start()
    try:
        for index, message in enumerate(messages):
            # Spread over every partition, as a survey's producer does.
            await producer.send(topic, message, partition=index % PARTITIONS)
        await producer.flush()
    finally:
        await producer.stop()


def ztf_status(replica: Settings, token: str) -> broker_pb2.SurveyStatus:
    with grpc.insecure_channel(replica.address("broker")) as channel:
        status = broker_pb2_grpc.BrokerServiceStub(channel).Status(
            broker_pb2.StatusRequest(), metadata=[("authorization", f"Bearer {token}")], timeout=5
        )
    (ztf,) = [s for s in status.surveys if s.survey == "ZTF"]
    return ztf


@contextlib.contextmanager
def replicas(mesh: Settings, count: int) -> Iterator[tuple[list[Settings], list[int], str]]:
    """``count`` broker processes in a consumer group of their own, consuming a new
    3-partition topic; yields their settings, pids and the topic."""
    suffix = uuid.uuid4().hex[:8]
    topic = f"scale_{suffix}"
    settings = replace(
        mesh,
        kafka_group_id=f"skymesh-scale-{suffix}",
        ztf_topic_regex=f"^{topic}$",
        winter_topic_regex=f"^{topic}_winter_never$",
        # Its own dead letters, so that no other test's replay topic is consumed.
        dead_letter_topic=f"{topic}.deadletter",
    )
    asyncio.run(create_topic(settings, topic))
    supervisor = Supervisor(mesh.run_dir)
    names, started, pids = [], [], []
    try:
        for index in range(count):
            spec, replica = stack.broker_replica(settings, f"broker-scale-{suffix}-{index}")
            names.append(spec.name)
            pids.append(supervisor.start(spec).pid)
            started.append(replica)
        yield started, pids, topic
    finally:
        for name in names:
            supervisor.stop(name)
        remove_synthetic_alerts(mesh)


def archived_candids(mesh: Settings, candids: list[int]) -> int:
    with MongoClient(mesh.mongo_uri) as client:
        return client[mesh.db_name]["ZTF_alerts"].count_documents({"_id": {"$in": candids}})


def candids_of(first: int, count: int) -> list[int]:
    return [BENCH_CANDID_BASE + index for index in range(first, first + count)]


def assigned(replicas: list[Settings], token: str) -> bool:
    """Every replica has joined and holds a partition of the topic."""
    return all(ztf_status(r, token).topics for r in replicas)


def test_three_replicas_archive_every_alert_exactly_once(mesh: Settings, admin_token: str) -> None:
    first = 7 * 10**8 + int(uuid.uuid4().int % 10**6) * 1000
    with replicas(mesh, 3) as (started, _, topic):
        wait_for(
            lambda: assigned(started, admin_token),
            bool,
            timeout=60,
            what="three replicas each assigned a partition",
        )
        asyncio.run(produce(mesh, topic, synthetic_messages(2 * ALERTS, seed=5, first=first)))
        statuses = wait_for(
            lambda: [ztf_status(r, admin_token) for r in started],
            lambda found: sum(s.alerts_archived for s in found) >= 2 * ALERTS,
            timeout=120,
            what=f"{2 * ALERTS} alerts archived by the replicas",
        )
        # (The replicas' synthetic alerts are removed from the archive on the way out.)
        assert archived_candids(mesh, candids_of(first, 2 * ALERTS)) == 2 * ALERTS
    # Each alert went to exactly one replica, and each replica had its share.
    assert sum(s.alerts_processed for s in statuses) == 2 * ALERTS
    assert sum(s.alerts_archived for s in statuses) == 2 * ALERTS
    assert sum(s.alerts_duplicate for s in statuses) == 0
    assert all(s.alerts_processed > 0 for s in statuses)


def test_a_killed_replicas_partitions_move_to_the_others_and_nothing_is_lost(
    mesh: Settings, admin_token: str
) -> None:
    first = 8 * 10**8 + int(uuid.uuid4().int % 10**6) * 1000
    everything = candids_of(first, 2 * ALERTS)
    with replicas(mesh, 2) as (started, pids, topic):
        wait_for(
            lambda: assigned(started, admin_token),
            bool,
            timeout=60,
            what="two replicas each assigned a partition",
        )
        victim, survivor = started
        asyncio.run(produce(mesh, topic, synthetic_messages(ALERTS, seed=5, first=first)))
        wait_for(
            lambda: ztf_status(victim, admin_token).alerts_processed,
            lambda processed: processed > 0,
            timeout=60,
            what="the victim to process part of the first half",
        )
        os.kill(pids[0], signal.SIGKILL)
        # Mid-stream: the second half was not even produced when the victim died.
        assert archived_candids(mesh, everything) < 2 * ALERTS
        asyncio.run(produce(mesh, topic, synthetic_messages(ALERTS, seed=5, first=first + ALERTS)))
        wait_for(
            lambda: archived_candids(mesh, everything),
            lambda count: count == 2 * ALERTS,
            timeout=180,
            what="every alert archived after the kill",
        )
        status = ztf_status(survivor, admin_token)
    # The survivor took over the victim's partitions: it archived what the victim had not.
    assert status.rebalances >= 2
    assert status.alerts_archived > 0
