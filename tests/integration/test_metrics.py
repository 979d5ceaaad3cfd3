"""Every service's /metrics answers, and the figures move when an alert goes through."""

from __future__ import annotations

import asyncio
import secrets

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from skymesh.config import Settings
from skymesh.produce import KAFKA_MAX_MESSAGE_BYTES
from skymesh.synthetic import synthetic_messages
from tests.metrics import Samples, scrape, value
from tests.polling import wait_for
from tests.portal import passing_every_alert

pytestmark = pytest.mark.integration

SERVICES = ("archive", "portal", "broker", "filters", "ml")


async def produce(settings: Settings, message: bytes) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap, max_request_size=KAFKA_MAX_MESSAGE_BYTES
    )
    await producer.start()
    try:
        await producer.send_and_wait("ztf_20231012_programid1", message)
    finally:
        await producer.stop()


def test_every_service_serves_metrics_that_move_with_the_stream(
    archived: Settings, client: httpx.Client
) -> None:
    with passing_every_alert(client, archived, "metrics") as (filter_id, fid):
        check_metrics(archived, filter_id, fid)


def check_metrics(archived: Settings, filter_id: int, fid: str) -> None:
    before = {service: scrape(archived, service) for service in SERVICES}
    # Every service has answered gRPC calls already (the bundled alerts went through).
    for service in SERVICES:
        assert value(before[service], "skymesh_grpc_server_handling_seconds_count") > 0, service

    def one_alert() -> dict[str, Samples]:
        (message,) = synthetic_messages(1, seed=11, first=secrets.randbelow(10**9))
        asyncio.run(produce(archived, message))
        return wait_for(
            lambda: {service: scrape(archived, service) for service in SERVICES},
            lambda now: (
                value(now["broker"], "skymesh_broker_alerts_total", outcome="archived")
                > value(before["broker"], "skymesh_broker_alerts_total", outcome="archived")
            ),
            timeout=30,
            what="the broker to archive the alert",
        )

    # The broker loads a new filter within 2 s: the first alerts may pass none.
    after = wait_for(
        one_alert,
        lambda now: (
            value(
                now["broker"],
                "skymesh_broker_filter_passes_total",
                filter_id=str(filter_id),
                fid=fid,
            )
            > 0
        ),
        timeout=60,
        what=f"a pass of filter {filter_id} in the broker's metrics",
    )

    def moved(service: str, name: str, **labels: str) -> bool:
        return value(after[service], name, **labels) > value(before[service], name, **labels)

    broker = "skymesh_broker"
    for outcome in ("processed", "archived"):
        assert moved("broker", f"{broker}_alerts_total", survey="ZTF", outcome=outcome), outcome
    assert moved("broker", f"{broker}_batches_total", survey="ZTF")
    assert moved("broker", f"{broker}_alert_latency_seconds_count", survey="ZTF")
    for stage in ("decode", "ml", "archive", "evaluate", "post"):
        assert moved("broker", f"{broker}_stage_seconds_total", stage=stage), stage
    assert (f"{broker}_consumer_lag", frozenset({("survey", "ZTF")})) in after["broker"]
    assert moved("ml", "skymesh_ml_triton_request_seconds_count", model="ztf_scores")
    grpc_count = "skymesh_grpc_server_handling_seconds_count"
    for service, method in (
        ("ml", "Score"),
        ("archive", "IngestAlerts"),
        ("filters", "Evaluate"),
        ("portal", "PostPasses"),
    ):
        calls = {"grpc_method": method, "grpc_code": "OK"}
        wait_for(
            lambda service=service, calls=calls: value(
                scrape(archived, service), grpc_count, **calls
            ),
            lambda now, service=service, calls=calls: (
                now > value(before[service], grpc_count, **calls)
            ),
            timeout=10,
            what=f"{service}'s {method} count to move from "
            f"{value(before[service], grpc_count, **calls)}",
        )
