"""A small real stack for the catalog tests (SecantusDB, the archive, Envoy), and helpers
that read the bundled catalogs independently of the code under test."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pyarrow.parquet as pq
from astropy.io import fits
from bson import json_util

from skymesh.config import REPO_ROOT, Settings
from skymesh.infra import stack
from skymesh.runtime.auth import issue_token
from tests.conftest import mesh_settings

CATALOG_DIR = REPO_ROOT / "data" / "catalogs"
VLASS = CATALOG_DIR / "CIRADA_VLASS1QL_table1_components_v1_head100.csv"
IGAPS = CATALOG_DIR / "igaps-dr1-215a-small.fits.gz"
ZTF_SOURCES = CATALOG_DIR / "ztf_000250_zg_c01_q1_dr5.parquet"
# Every service asks the portal who a token is: the portal and its PostgreSQL come along.
STACK = ("database", "postgres", "archive", "portal", "gateway")
# A real portal user without admin rights (a "Full user"), made once per stack.
USER = "alice"
USER_PASSWORD = "alice-password-1"


@dataclass(frozen=True)
class Reference:
    """A catalog as the test reads it: a unique key per row and its position, in file order."""

    path: Path
    id_columns: tuple[str, ...]
    ids: list[tuple[Any, ...]]
    ra: np.ndarray
    dec: np.ndarray

    def key(self, document: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(document[c] for c in self.id_columns)

    @property
    def projection(self) -> dict[str, int]:
        return {c: 1 for c in self.id_columns}


def read_reference(path: Path) -> Reference:
    if path.suffix == ".csv":
        with path.open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        # Component names repeat in VLASS (duplicate components); with the id they are unique.
        return Reference(
            path,
            ("Component_name", "Component_id"),
            [(r["Component_name"], int(r["Component_id"])) for r in rows],
            np.array([float(r["RA"]) for r in rows]),
            np.array([float(r["DEC"]) for r in rows]),
        )
    if path.name.endswith((".fits", ".fits.gz")):
        with fits.open(path) as hdus:
            data = hdus[1].data
            return Reference(
                path,
                ("name",),
                [(n.strip(),) for n in data["name"].astype(str)],
                np.asarray(data["RA"], dtype=float),
                np.asarray(data["DEC"], dtype=float),
            )
    table = pq.read_table(path, columns=["objectid", "objra", "objdec"]).to_pydict()
    return Reference(
        path,
        ("objectid",),
        [(i,) for i in table["objectid"]],
        np.asarray(table["objra"], dtype=float),
        np.asarray(table["objdec"], dtype=float),
    )


def file_row_count(path: Path) -> int:
    """Rows per the file's own bookkeeping, not per the ingestion code."""
    if path.suffix == ".csv":
        with path.open(newline="") as fh:
            return sum(1 for _ in csv.reader(fh)) - 1  # less the header
    if path.name.endswith((".fits", ".fits.gz")):
        with fits.open(path) as hdus:
            return int(hdus[1].header["NAXIS2"])
    return pq.ParquetFile(path).metadata.num_rows


@contextmanager
def catalog_stack(run_dir: Path) -> Iterator[Settings]:
    settings = mesh_settings(run_dir, admin_password="x")
    supervisor = stack.up(settings, only=STACK, in_memory_db=True, report=lambda _: None)
    try:
        yield settings
    finally:
        supervisor.stop_all()


def admin_token(settings: Settings) -> str:
    return issue_token(settings.jwt_secret, "admin", admin=True)


def user_token(settings: Settings) -> str:
    """A login of USER, a real portal user who is no admin (made the first time)."""
    gateway = f"http://127.0.0.1:{settings.ports.gateway}"
    login = {"username": USER, "password": USER_PASSWORD}
    response = httpx.post(f"{gateway}/api/auth", json=login, timeout=30)
    if response.status_code == 401:
        created = httpx.post(
            f"{gateway}/api/users",
            json={**login, "role": "Full user"},
            headers={"Authorization": f"Bearer {admin_token(settings)}"},
            timeout=30,
        )
        assert created.status_code == 200, created.text
        response = httpx.post(f"{gateway}/api/auth", json=login, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["token"]


def run_cli(settings: Settings, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """The real command line, in its own process, configured like the stack."""
    env = {**os.environ, **settings.as_env(), "COLUMNS": "120"}
    return subprocess.run(
        [sys.executable, "-m", "skymesh.cli", *map(str, args)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def ingest(settings: Settings, path: Path, name: str, *options: str) -> str:
    result = run_cli(settings, "catalog", "ingest", path, "--name", name, *options)
    assert result.returncode == 0, result.stderr + result.stdout
    return result.stdout


def post_query(settings: Settings, token: str, body: Any) -> httpx.Response:
    return httpx.post(
        f"http://127.0.0.1:{settings.ports.gateway}/api/queries",
        content=body if isinstance(body, str) else json_util.dumps(body),
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )


def query_data(settings: Settings, token: str, body: Any) -> Any:
    response = post_query(settings, token, body)
    assert response.status_code == 200, response.text
    envelope = json_util.loads(response.text)
    assert envelope["status"] == "success", envelope
    return envelope["data"]


def query_error(settings: Settings, token: str, body: Any, status: int = 400) -> str:
    response = post_query(settings, token, body)
    assert response.status_code == status, response.text
    envelope = response.json()
    assert envelope["status"] == "error", envelope
    return envelope["message"]


def catalog_names(settings: Settings) -> list[str]:
    return query_data(
        settings,
        admin_token(settings),
        {"query_type": "info", "query": {"command": "catalog_names"}},
    )
