"""Shared fixtures: the real mesh on free loopback ports, the bundled alerts decoded."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import fastavro
import httpx
import pytest

from skymesh.config import REPO_ROOT, Ports, Settings
from skymesh.infra import stack
from skymesh.infra.process import free_port
from tests.otlp_receiver import OtlpReceiver

ZTF_DIR = REPO_ROOT / "data" / "alerts" / "ztf"
ADMIN_PASSWORD = "test-admin-password"
MESH_COMPONENTS = ("database", "kafka", "archive", "portal", "broker", "gateway")


def free_ports() -> Ports:
    return Ports(**{f.name: free_port() for f in fields(Ports)})


def decode_alert(path: Path) -> dict[str, Any]:
    with path.open("rb") as fh:
        (packet,) = list(fastavro.reader(fh))
    return packet


@pytest.fixture(scope="session")
def ztf_alerts() -> dict[int, dict[str, Any]]:
    """candid -> decoded packet, for every bundled ZTF alert."""
    packets = [decode_alert(p) for p in sorted(ZTF_DIR.rglob("*.avro"))]
    return {p["candid"]: p for p in packets}


@pytest.fixture(scope="session")
def otlp_receiver() -> Iterator[OtlpReceiver]:
    receiver = OtlpReceiver()
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="session")
def mesh(
    tmp_path_factory: pytest.TempPathFactory, otlp_receiver: OtlpReceiver
) -> Iterator[Settings]:
    """The real mesh (Kafka, SecantusDB, the services, Envoy) on free ports, traced."""
    os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = f"http://127.0.0.1:{otlp_receiver.port}"
    settings = replace(
        Settings.from_env(),
        ports=free_ports(),
        run_dir=tmp_path_factory.mktemp("run"),
        admin_user="admin",
        admin_password=ADMIN_PASSWORD,
        kafka_group_id="skymesh-test",
    )
    settings = stack.with_secret(settings)
    supervisor = stack.up(settings, only=MESH_COMPONENTS, in_memory_db=True, report=lambda _: None)
    try:
        yield settings
    finally:
        supervisor.stop_all()
        os.environ.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)


@pytest.fixture(scope="session")
def gateway_url(mesh: Settings) -> str:
    return f"http://127.0.0.1:{mesh.ports.gateway}"


@pytest.fixture(scope="session")
def admin_token(gateway_url: str) -> str:
    response = httpx.post(
        f"{gateway_url}/api/auth", json={"username": "admin", "password": ADMIN_PASSWORD}
    )
    assert response.status_code == 200, response.text
    return response.json()["token"]
