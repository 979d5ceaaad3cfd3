"""Rubin's alert schemas, as a local schema registry: no network.

Rubin publishes its alerts as schemaless Avro in the Confluent wire format (a zero byte, the
schema id as a 4-byte big-endian integer, then the body) and numbers its schemas
major * 100 + minor (11.1 → 1101). The schemas of every version come from the PyPI package
``lsst-alert-packet`` (installed without its dependencies by requirements/survey-data.lock):
``lsst/alert/packet/schema/<major>/<minor>/lsst.v<major>_<minor>.alert.avsc`` and the
record types it names beside it, and a sample alert per version (``sample_data/alert.json``
and ``fakeAlert.avro``). Only the files are read; none of the package's code is imported.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import fastavro
import fastavro.schema

PACKAGE = "lsst.alert.packet"
CONFLUENT_MAGIC = 0
CONFLUENT_HEADER_BYTES = 5
VERSION_DIR = re.compile(r"^\d+$")


class UnknownSchemaError(KeyError):
    """A schema id that no installed schema version has."""


@dataclass(frozen=True)
class AlertSchema:
    major: int
    minor: int
    folder: Path

    @property
    def schema_id(self) -> int:
        return self.major * 100 + self.minor

    @property
    def version(self) -> str:
        return f"{self.major}.{self.minor}"

    @property
    def alert_file(self) -> Path:
        return self.folder / f"lsst.v{self.major}_{self.minor}.alert.avsc"

    @property
    def sample_json(self) -> Path:
        return self.folder / "sample_data" / "alert.json"

    @property
    def sample_avro(self) -> Path:
        return self.folder / "sample_data" / "fakeAlert.avro"

    @property
    def parsed(self) -> Any:
        return _parse(self.alert_file)


@cache
def _parse(alert_file: Path) -> Any:
    # load_schema reads each named type (lsst.v11_1.diaSource, ...) from its file beside.
    return fastavro.parse_schema(fastavro.schema.load_schema(str(alert_file)))


def schema_root() -> Path:
    """The package's schema folder (found without importing the package's code)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            f"{PACKAGE} is not installed: make setup installs it (requirements/survey-data.lock)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "schema"


@cache
def schemas() -> dict[int, AlertSchema]:
    """Every schema version the package ships, by schema id."""
    found = {}
    root = schema_root()
    for major in root.iterdir():
        if not VERSION_DIR.match(major.name):
            continue
        for minor in major.iterdir():
            if VERSION_DIR.match(minor.name):
                schema = AlertSchema(int(major.name), int(minor.name), minor)
                if schema.alert_file.exists():
                    found[schema.schema_id] = schema
    if not found:
        raise RuntimeError(f"no alert schema under {root}")
    return dict(sorted(found.items()))


def latest() -> AlertSchema:
    return schemas()[max(schemas())]


def by_id(schema_id: int) -> AlertSchema:
    schema = schemas().get(schema_id)
    if schema is None:
        known = ", ".join(f"{s.schema_id} ({s.version})" for s in schemas().values())
        raise UnknownSchemaError(
            f"schema id {schema_id} is not a Rubin alert schema this broker knows; known: {known}"
        )
    return schema


def confluent_frame(schema_id: int, body: bytes) -> bytes:
    """The Confluent wire format: magic byte, schema id (4 bytes, big-endian), body."""
    return bytes([CONFLUENT_MAGIC]) + schema_id.to_bytes(4, "big") + body


def confluent_schema_id(message: bytes) -> int | None:
    """The schema id of a Confluent-framed message; None when it is not framed so."""
    if len(message) > CONFLUENT_HEADER_BYTES and message[0] == CONFLUENT_MAGIC:
        return int.from_bytes(message[1:CONFLUENT_HEADER_BYTES], "big")
    return None
