"""Shared fixtures: the real mesh on free loopback ports, the bundled alerts decoded."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import fastavro
import httpx
import numpy as np
import pytest

from skymesh.config import REPO_ROOT, Ports, Settings
from skymesh.infra import stack
from skymesh.infra.process import free_port
from tests.otlp_receiver import OtlpReceiver

ZTF_DIR = REPO_ROOT / "data" / "alerts" / "ztf"
WNTR_DIR = REPO_ROOT / "data" / "alerts" / "wntr"
ADMIN_PASSWORD = "test-admin-password"
MESH_COMPONENTS = (
    "database",
    "postgres",
    "kafka",
    "triton",
    "archive",
    "portal",
    "ml",
    "filters",
    "broker",
    "gateway",
)
# A catalog the tests make: neighbours of every bundled alert at known separations, so that
# cross-matches and cone searches have real matches to find (and misses to avoid).
NEIGHBOURS_CATALOG = "TEST_neighbours"
NEIGHBOUR_SEPARATIONS_ARCSEC = (0.5, 1.5, 2.5, 10.0)


def free_ports() -> Ports:
    return Ports(**{f.name: free_port() for f in fields(Ports)})


def mesh_settings(run_dir: Path, **overrides: Any) -> Settings:
    """Settings of a mesh of a test's own: free loopback ports, its run dir, a JWT secret."""
    base = replace(Settings.from_env(), ports=free_ports(), run_dir=run_dir)
    return stack.with_secret(replace(base, **overrides))


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
def wntr_alerts() -> dict[int, dict[str, Any]]:
    """candid -> decoded packet, for every bundled WINTER alert."""
    packets = [decode_alert(p) for p in sorted(WNTR_DIR.rglob("*.avro"))]
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


def run_cli(settings: Settings, *args: str) -> int:
    """Runs the ``skymesh`` command in-process against the test mesh."""
    from skymesh.cli import main

    saved = dict(os.environ)
    os.environ.update(settings.as_env())
    try:
        return main(list(args))
    finally:
        os.environ.clear()
        os.environ.update(saved)


def neighbour_rows(packets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows at NEIGHBOUR_SEPARATIONS_ARCSEC from each position, in random directions."""
    from astropy import units as u
    from astropy.coordinates import SkyCoord

    rng = np.random.default_rng(20261122)
    rows = []
    for packet in packets:
        centre = SkyCoord(packet["candidate"]["ra"] * u.deg, packet["candidate"]["dec"] * u.deg)
        for separation in NEIGHBOUR_SEPARATIONS_ARCSEC:
            angle = rng.uniform(0, 360) * u.deg
            point = centre.directional_offset_by(angle, separation * u.arcsec)
            rows.append(
                {
                    "name": f"n{len(rows)}",
                    "ra": point.ra.deg,
                    "dec": point.dec.deg,
                    "mag": float(rng.uniform(14, 22)),
                }
            )
    return rows


@pytest.fixture(scope="session")
def neighbours(
    mesh: Settings, tmp_path_factory: pytest.TempPathFactory, ztf_alerts: dict, wntr_alerts: dict
) -> list[dict[str, Any]]:
    """The neighbours catalog, ingested through the CLI before any alert is streamed."""
    import csv

    rows = neighbour_rows([*ztf_alerts.values(), *wntr_alerts.values()])
    path = tmp_path_factory.mktemp("catalogs") / "neighbours.csv"
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert run_cli(mesh, "catalog", "ingest", str(path), "--name", NEIGHBOURS_CATALOG) == 0
    return rows


@pytest.fixture(scope="session")
def archived(
    mesh: Settings,
    gateway_url: str,
    admin_token: str,
    ztf_alerts: dict,
    wntr_alerts: dict,
    neighbours: list,
) -> Settings:
    """Every bundled alert streamed through the mesh and archived (ZTF per night, WINTER)."""
    from pymongo import MongoClient

    from skymesh.produce import produce_sync
    from tests.polling import wait_for

    for night in sorted(p for p in ZTF_DIR.iterdir() if p.is_dir()):
        produce_sync(
            sorted(night.glob("*.avro")),
            f"ztf_{night.name}_programid1",
            mesh.kafka_bootstrap,
            quiet=True,
        )
    for night in sorted(p for p in WNTR_DIR.iterdir() if p.is_dir()):
        produce_sync(
            sorted(night.glob("*.avro")), f"winter_{night.name}", mesh.kafka_bootstrap, quiet=True
        )
    with MongoClient(mesh.mongo_uri) as client:
        db = client[mesh.db_name]
        wait_for(
            lambda: (db["ZTF_alerts"].count_documents({}), db["WNTR_alerts"].count_documents({})),
            lambda counts: counts == (len(ztf_alerts), len(wntr_alerts)),
            timeout=120,
            what="every bundled alert to be archived",
        )
    return mesh


@pytest.fixture(scope="session")
def filters_service(archived: Settings) -> Settings:
    """The mesh's filters service, serving once every bundled alert is archived."""
    from skymesh.infra.stack import grpc_serving

    assert grpc_serving(archived.ports.filters)
    return archived


@pytest.fixture(scope="module")
def client(filters_service: Settings, gateway_url: str, admin_token: str) -> Iterator[httpx.Client]:
    """An admin's REST client on the gateway, once the filters service serves."""
    headers = {"Authorization": f"Bearer {admin_token}"}
    with httpx.Client(base_url=gateway_url, headers=headers, timeout=60) as http:
        yield http


@pytest.fixture(scope="session")
def ztf_truth(ztf_alerts: dict, neighbours: list) -> Any:
    """What ZTF filters should see, computed from the decoded packets alone."""
    from tests.filter_truth import ztf_truth_of

    return ztf_truth_of(ztf_alerts, neighbours)


@pytest.fixture(scope="session")
def wntr_truth(wntr_alerts: dict) -> Any:
    from tests.filter_truth import Truth

    return Truth("WNTR_alerts", wntr_alerts, "objectid")


def remove_synthetic_alerts(settings: Settings) -> None:
    """Deletes the synthetic alerts (skymesh.synthetic) a test streamed through the shared
    mesh, and their objects' aux documents, so that tests counting the bundled alerts in the
    archive see only those."""
    from pymongo import MongoClient

    from skymesh.synthetic import BENCH_CANDID_BASE, SYNTHETIC_OBJECT_PREFIX

    objects = {"$gte": SYNTHETIC_OBJECT_PREFIX, "$lt": SYNTHETIC_OBJECT_PREFIX + "\uffff"}
    with MongoClient(settings.mongo_uri) as client:
        db = client[settings.db_name]
        db["ZTF_alerts"].delete_many({"_id": {"$gte": BENCH_CANDID_BASE}})
        db["ZTF_alerts_aux"].delete_many({"_id": objects})
