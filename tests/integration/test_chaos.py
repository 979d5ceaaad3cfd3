"""Chaos: kill -9 each component mid-stream, hold the database down, feed poison.

One mesh for the whole module, supervised by the watchdog (as `make run` runs it), with an
on-disk database so that a killed database comes back with its data. Each test streams its
own synthetic alerts (real packets, unique candids) and checks the outcome in the database,
the portal's PostgreSQL and Kafka's committed offsets: every alert archived exactly once,
nothing dead-lettered, every filter pass posted exactly once.
"""

from __future__ import annotations

import asyncio
import io
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import fastavro
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pymongo import MongoClient
from pymongo.errors import PyMongoError

from skymesh.config import Settings
from skymesh.infra import stack
from skymesh.infra.process import Supervisor, group_alive, pid_alive
from skymesh.produce import KAFKA_MAX_MESSAGE_BYTES, produce_messages
from skymesh.synthetic import synthetic_messages
from tests.conftest import mesh_settings
from tests.polling import wait_for
from tests.portal import admin_client, group, portal_filter, stream
from tests.rest import ok

pytestmark = pytest.mark.integration

ADMIN_PASSWORD = "chaos-test-admin"
TOPIC = "ztf_20991231_programid1"
ALERTS_PER_TEST = 300
BRIGHT = 18.0  # the world's filter passes alerts brighter than this
# Short, so that an outage can outlast it within a test.
MAX_POLL_INTERVAL_MS = 8_000
KILLED = ("database", "kafka", "triton", "archive", "ml", "filters", "portal", "broker")
# Killed, these make the broker's calls fail at once; the database's outage is mostly absorbed
# by the archive's driver, which waits for the server to come back within its own timeout.
RETRIED = ("triton", "archive", "ml", "filters", "portal")


@dataclass
class Chaos:
    settings: Settings
    supervisor: Supervisor
    http: httpx.Client
    mongo: MongoClient
    bright_filter: int
    group_id: int
    stream_id: int
    next_index: int = 0
    produced: int = 0
    candids_by_test: dict[str, list[int]] = field(default_factory=dict)

    # -- feeding ------------------------------------------------------------------------

    def messages(self, count: int) -> list[bytes]:
        """Alerts no earlier test has used (the synthetic stream's index moves on)."""
        made = synthetic_messages(count, seed=self.next_index, first=self.next_index)
        self.next_index += count
        return made

    def produce(self, messages: list[bytes]) -> None:
        asyncio.run(produce_messages(messages, TOPIC, self.settings.kafka_bootstrap))
        self.produced += len(messages)

    # -- observing ----------------------------------------------------------------------

    def archived(self, candids: list[int]) -> int:
        """How many of ``candids`` the archive holds (-1 while the database is away)."""
        try:
            alerts = self.mongo[self.settings.db_name]["ZTF_alerts"]
            return alerts.count_documents({"candid": {"$in": candids}})
        except PyMongoError:
            return -1

    def copies(self, candids: list[int]) -> dict[int, int]:
        alerts = self.mongo[self.settings.db_name]["ZTF_alerts"]
        counted = alerts.aggregate(
            [
                {"$match": {"candid": {"$in": candids}}},
                {"$group": {"_id": "$candid", "n": {"$sum": 1}}},
            ]
        )
        return {row["_id"]: row["n"] for row in counted}

    def sql(self, query: str, *args: Any) -> list[asyncpg.Record]:
        async def run() -> list[asyncpg.Record]:
            dsn = self.settings.postgres_dsn.replace("postgresql+asyncpg", "postgresql")
            connection = await asyncpg.connect(dsn)
            try:
                return await connection.fetch(query, *args)
            finally:
                await connection.close()

        return asyncio.run(run())

    def candidates(self, filter_id: int, candids: list[int]) -> list[int]:
        """The passing alert of every candidate row of ``filter_id`` among ``candids``."""
        rows = self.sql(
            "select passing_alert_id from candidates"
            " where filter_id = $1 and passing_alert_id = any($2::bigint[])",
            filter_id,
            candids,
        )
        return [row[0] for row in rows]

    def broker_status(self) -> dict[str, Any] | None:
        try:
            response = self.http.get("/api/broker/status", timeout=5)
        except httpx.HTTPError:
            return None
        if response.status_code != 200:
            return None
        (ztf,) = [s for s in response.json()["surveys"] if s["survey"] == "ZTF"]
        return ztf

    def dead_letters(self, **selection: Any) -> list[dict[str, Any]]:
        response = ok(self.http.get("/api/broker/deadletters", params=selection))
        return response.get("letters", [])

    def committed(self) -> int:
        """The ZTF consumer group's committed offset on the test topic."""

        async def read() -> int:
            admin = AIOKafkaAdminClient(bootstrap_servers=self.settings.kafka_bootstrap)
            await admin.start()
            try:
                offsets = await admin.list_consumer_group_offsets(
                    f"{self.settings.kafka_group_id}-ztf"
                )
            finally:
                await admin.close()
            found = offsets.get(TopicPartition(TOPIC, 0))
            return found.offset if found is not None else 0

        try:
            return asyncio.run(read())
        except Exception:  # Kafka restarting: unknown for now
            return -1

    def pid(self, name: str) -> int | None:
        return self.supervisor.status().get(name)

    def assert_each_done_once(self, candids: list[int], passing: list[int]) -> None:
        """Every alert archived exactly once, every offset committed, every pass of the
        world's filter posted exactly once, nothing dead-lettered."""
        wait_for(lambda: self.archived(candids), lambda n: n == len(candids), 240, "every alert")
        assert set(self.copies(candids).values()) == {1}, "an alert was archived twice"
        wait_for(self.committed, lambda c: c == self.produced, 120, "every offset committed")
        wait_for(
            lambda: sorted(self.candidates(self.bright_filter, candids)),
            lambda rows: rows == sorted(passing),
            120,
            "every pass posted once",
        )
        assert self.dead_letters() == []


def expected_passes(messages: list[bytes]) -> list[int]:
    """Candids the world's filter passes, read off the packets themselves."""
    passing = []
    for message in messages:
        (packet,) = list(fastavro.reader(io.BytesIO(message)))
        if packet["candidate"]["magpsf"] < BRIGHT:
            passing.append(packet["candid"])
    return passing


def candids_of(messages: list[bytes]) -> list[int]:
    return [next(iter(fastavro.reader(io.BytesIO(m))))["candid"] for m in messages]


@pytest.fixture(scope="module")
def chaos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chaos]:
    settings = mesh_settings(
        tmp_path_factory.mktemp("chaos-run"),
        admin_password=ADMIN_PASSWORD,
        broker_batch_size=16,
        kafka_group_id="chaos-test",
        kafka_max_poll_interval_ms=MAX_POLL_INTERVAL_MS,
    )
    supervisor = stack.up(settings, report=lambda _: None, watch=True)
    mongo: MongoClient = MongoClient(settings.mongo_uri, serverSelectionTimeoutMS=2000)
    try:
        http = admin_client(settings)
        public = stream(http, "ZTF Public", "ZTF_alerts", [1])
        group_id = group(http, "chaos", [public])
        bright = portal_filter(http, "bright", group_id, public)
        pipeline = [
            {"$match": {"candidate.magpsf": {"$lt": BRIGHT}}},
            {"$project": {"annotations": {"magpsf": "$candidate.magpsf"}}},
        ]
        ok(
            http.post(
                "/api/filters",
                json={"filter_id": bright, "group_id": group_id, "pipeline": pipeline},
            )
        )
        yield Chaos(settings, supervisor, http, mongo, bright, group_id, public)
        http.close()
    finally:
        mongo.close()
        stack.down(settings)


def kill_9(chaos: Chaos, name: str) -> int:
    pid = chaos.pid(name)
    assert pid is not None, f"{name} does not run"
    os.killpg(pid, signal.SIGKILL)
    wait_for(lambda: pid_alive(pid) or group_alive(pid), lambda a: not a, 10, f"{name} to die")
    return pid


def kill_broker_with_uncommitted_work(chaos: Chaos, candids: list[int], base: int) -> int:
    """Freezes the broker until it holds archived-but-uncommitted alerts, then kills it: its
    successor must get them again from Kafka (a re-delivery), and must not archive them twice.
    """
    pid = chaos.pid("broker")
    assert pid is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        os.killpg(pid, signal.SIGSTOP)
        archived, committed = chaos.archived(candids), chaos.committed() - base
        if archived > committed >= 0:
            os.killpg(pid, signal.SIGKILL)
            os.killpg(pid, signal.SIGCONT)  # a stopped process dies once it runs again
            wait_for(lambda: pid_alive(pid), lambda a: not a, 10, "broker to die")
            return pid
        os.killpg(pid, signal.SIGCONT)
        wait_for(lambda: chaos.archived(candids), lambda n, a=archived: n > a, 30, "progress")
    raise AssertionError("the broker never held archived alerts with their offsets uncommitted")


@pytest.mark.parametrize("component", KILLED)
def test_kill_9_mid_stream_loses_nothing_and_dead_letters_nothing(
    chaos: Chaos, component: str
) -> None:
    messages = chaos.messages(ALERTS_PER_TEST)
    candids = candids_of(messages)
    passing = expected_passes(messages)
    assert passing, "the synthetic alerts must give the filter something to pass"
    base = chaos.produced  # the test topic's offset of this test's first alert
    restarts_before = stack.restarts(chaos.settings).get(component, 0)
    broker_restarts = stack.restarts(chaos.settings).get("broker", 0)
    status_before = chaos.broker_status()
    assert status_before is not None

    chaos.produce(messages)
    before_kill = wait_for(
        lambda: chaos.archived(candids), lambda n: n >= 30, 120, "the first batches"
    )
    if component == "broker":
        killed = kill_broker_with_uncommitted_work(chaos, candids, base)
    else:
        killed = kill_9(chaos, component)
    # An upper bound of what was done when it died, read from what survived the kill: the
    # archive while Kafka is away, else the group's commits (an alert's offset is committed
    # only once its batch is archived, evaluated and posted).
    done_at_kill = chaos.archived(candids) if component == "kafka" else chaos.committed() - base

    # The watchdog brings it back as a new process.
    wait_for(
        lambda: (chaos.pid(component), stack.restarts(chaos.settings).get(component, 0)),
        lambda seen: seen[0] not in (None, killed) and seen[1] > restarts_before,
        120,
        f"the watchdog to restart {component}",
    )
    chaos.assert_each_done_once(candids, passing)
    # Mid-stream: some alerts were done before the kill, some only after it.
    assert 0 < before_kill and 0 <= done_at_kill < len(candids), (before_kill, done_at_kill)

    status = chaos.broker_status()
    assert status is not None
    if component == "broker":
        # Its successor was handed the uncommitted alerts again and recognised them.
        assert int(status["alerts_duplicate"]) > 0, status
        return
    # Everything else is ridden through by the same broker process...
    assert stack.restarts(chaos.settings).get("broker", 0) == broker_restarts
    if component == "kafka":
        return
    # ...which Kafka handed every record exactly once (no re-delivery) ...
    processed = int(status["alerts_processed"]) - int(status_before["alerts_processed"])
    assert processed == len(messages), status
    if component in RETRIED:
        # ... and which saw the outage and waited it out, retrying where the batch stopped.
        assert int(status["retries"]) > int(status_before["retries"]), status


def test_a_database_outage_longer_than_the_poll_interval_loses_nothing(chaos: Chaos) -> None:
    messages = chaos.messages(ALERTS_PER_TEST)
    candids = candids_of(messages)
    chaos.produce(messages)
    wait_for(lambda: chaos.archived(candids), lambda n: n >= 30, 120, "the first batches")
    before = chaos.broker_status()  # the topic is assigned by now
    assert before is not None
    stack.hold(chaos.settings, ["database"])
    try:
        wait_for(
            chaos.broker_status,
            lambda s: s is not None and "UNAVAILABLE" in s["waiting_on"],
            60,
            "the broker to wait on a stage that needs the database",
        )
        waiting_since = time.monotonic()
        # Stay down well past max.poll.interval.ms, checking the group all along.
        while time.monotonic() - waiting_since < 2 * MAX_POLL_INTERVAL_MS / 1000:
            status = chaos.broker_status()
            assert status is not None
            assert status["rebalances"] == before["rebalances"], "the consumer left its group"
            assert status["waiting_on"], "nothing should complete while the database is away"
            time.sleep(0.5)  # the outage's length is what is under test
    finally:
        stack.release(chaos.settings, ["database"])
    chaos.assert_each_done_once(candids, expected_passes(messages))
    after = chaos.broker_status()
    assert after is not None
    assert after["rebalances"] == before["rebalances"]
    assert int(after["commit_failures"]) == 0


def test_a_rebalance_in_the_middle_of_a_batch_does_not_fail_it(chaos: Chaos) -> None:
    messages = chaos.messages(60)
    candids = candids_of(messages)
    passing = expected_passes(messages)
    broker_restarts = stack.restarts(chaos.settings).get("broker", 0)
    stack.hold(chaos.settings, ["filters"])  # batches wait at the evaluate stage
    try:
        chaos.produce(messages)
        before = wait_for(
            chaos.broker_status,
            lambda s: s is not None and s["waiting_on"].startswith("filters"),
            60,
            "a batch waiting on the filters",
        )
        assert before is not None
        # A second member joins the broker's group, and leaves: two rebalances mid-batch.
        asyncio.run(join_the_group_until_it_rebalances(chaos, int(before["rebalances"])))
        during = chaos.broker_status()
        assert during is not None
        assert during["waiting_on"].startswith("filters"), "the batch was no longer in flight"
    finally:
        stack.release(chaos.settings, ["filters"])
    chaos.assert_each_done_once(candids, passing)
    # The batch did not fail: the same broker process carried on.
    assert stack.restarts(chaos.settings).get("broker", 0) == broker_restarts


async def join_the_group_until_it_rebalances(chaos: Chaos, rebalances: int) -> None:
    """Joins the broker's consumer group (never committing) until the broker has been
    reassigned its partitions, then leaves."""
    member = AIOKafkaConsumer(
        TOPIC,
        bootstrap_servers=chaos.settings.kafka_bootstrap,
        group_id=f"{chaos.settings.kafka_group_id}-ztf",
        enable_auto_commit=False,
        max_partition_fetch_bytes=KAFKA_MAX_MESSAGE_BYTES,
    )
    await member.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            await member.getmany(timeout_ms=200)  # a member that polls stays in the group
            status = await asyncio.to_thread(chaos.broker_status)
            if status is not None and int(status["rebalances"]) > rebalances:
                return
        raise AssertionError("the broker's group never rebalanced")
    finally:
        await member.stop()


def test_only_the_poison_is_dead_lettered_and_a_replay_after_the_fix_archives_it_once(
    chaos: Chaos,
) -> None:
    messages = chaos.messages(40)
    candids = candids_of(messages)
    (poison_packet,) = list(fastavro.reader(io.BytesIO(messages[17])))
    poison, magnitude = poison_packet["candid"], poison_packet["candidate"]["magpsf"]
    # A filter with a bug that only this alert triggers: 1 / (magpsf - its magpsf).
    fragile = portal_filter(chaos.http, "fragile", chaos.group_id, chaos.stream_id)
    divide = {"$divide": [1, {"$subtract": ["$candidate.magpsf", magnitude]}]}
    ok(
        chaos.http.post(
            "/api/filters",
            json={
                "filter_id": fragile,
                "group_id": chaos.group_id,
                "pipeline": [{"$match": {"$expr": {"$gt": [divide, 0]}}}],
            },
        )
    )
    garbage = b"this is not an avro alert"
    chaos.produce([*messages[:20], garbage, *messages[20:]])
    wait_for(lambda: chaos.archived(candids), lambda n: n == len(candids), 120, "the good ones")
    letters = wait_for(chaos.dead_letters, lambda found: len(found) == 2, 60, "two dead letters")
    by_stage = {letter["stage"]: letter for letter in letters}
    assert set(by_stage) == {"decode", "evaluate"}
    assert "divide by zero" in by_stage["evaluate"]["reason"]
    assert f"filter {fragile}" in by_stage["evaluate"]["reason"]
    assert by_stage["decode"]["reason"]
    # The broker's status counts the error against that filter version, with the alert.
    status = chaos.broker_status()
    assert status is not None
    (counted,) = [f for f in status["filters"] if f["filter_id"] == fragile]
    assert (int(counted["errors"]), int(counted["last_error_candid"])) == (1, poison)
    assert "divide by zero" in counted["last_error"]
    fainter = sorted(c for c, m in zip(candids, magnitudes(messages), strict=True) if m > magnitude)
    wait_for(
        lambda: sorted(chaos.candidates(fragile, candids)),
        lambda rows: rows == fainter,
        60,
        "the fragile filter's passes on the other alerts",
    )

    # Fix the filter, then replay what it raised on (by reason).
    fixed = [{"$match": {"candidate.magpsf": {"$gte": magnitude}}}]
    ok(
        chaos.http.post(
            "/api/filters",
            json={"filter_id": fragile, "group_id": chaos.group_id, "pipeline": fixed},
        )
    )
    replayed = ok(chaos.http.post("/api/broker/replay", json={"reason": "divide by zero"}))
    assert [letter["offset"] for letter in replayed["letters"]] == [by_stage["evaluate"]["offset"]]
    wait_for(
        lambda: sorted(chaos.candidates(fragile, candids)),
        lambda rows: rows == sorted([*fainter, poison]),
        120,
        "the replayed alert's pass",
    )
    assert chaos.copies([poison]) == {poison: 1}, "the replayed alert was archived twice"

    # The garbage, replayed by its offset, is still garbage: dead-lettered again, same origin.
    offset = int(by_stage["decode"]["offset"])
    again = ok(
        chaos.http.post("/api/broker/replay", json={"from_offset": offset, "to_offset": offset})
    )
    assert len(again["letters"]) == 1
    letters = wait_for(
        lambda: chaos.dead_letters(stage="decode"), lambda f: len(f) == 2, 60, "garbage again"
    )
    assert letters[0]["origin"] == letters[1]["origin"] == f"{TOPIC}:0:{chaos.produced - 21}"


def magnitudes(messages: list[bytes]) -> list[float]:
    return [next(iter(fastavro.reader(io.BytesIO(m))))["candidate"]["magpsf"] for m in messages]


def test_a_service_held_down_answers_503_in_the_envelope_and_comes_back(chaos: Chaos) -> None:
    stack.hold(chaos.settings, ["filters"])
    try:
        response = chaos.http.get(f"/api/filters/{chaos.bright_filter}")
        assert response.status_code == 503, response.text
        body = response.json()
        assert body["status"] == "error"
        assert body["message"].startswith("service unavailable, retry shortly"), body
        assert chaos.pid("filters") is None
    finally:
        stack.release(chaos.settings, ["filters"])
    ok(chaos.http.get(f"/api/filters/{chaos.bright_filter}"))
