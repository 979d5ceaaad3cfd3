"""A survey plug-in: how one survey's Kafka messages become archive documents.

The broker core knows only this interface; a new survey is a new module registered in
``services.broker.surveys``. A plug-in says how to decode a packet, where its position and
history are, how to clean the history, which ML models score it and with which inputs.
"""

from __future__ import annotations

import io
from abc import ABC
from dataclasses import dataclass
from typing import Any

import fastavro
import numpy as np


class DecodeError(ValueError):
    """A Kafka message is not a valid alert packet of the survey."""


@dataclass
class MLInput:
    triplet: np.ndarray  # float32 [63, 63, 3]
    features: np.ndarray  # float32, the models' documented order


@dataclass
class PreparedAlert:
    candid: int
    object_id: str
    ra: float
    dec: float
    # Document for <SURVEY>_alerts (no history arrays); enriched later in the batch.
    alert: dict[str, Any]
    # Document for <SURVEY>_alerts_aux: `_id` = object id, plus the history arrays.
    aux: dict[str, Any]
    ml_input: MLInput | None = None


def without_nulls(record: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if value is not None}


def sorted_by_jd(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(records, key=lambda r: r.get("jd", 0.0))


class Survey(ABC):
    name: str
    topic_pattern: str
    object_id_field: str = "objectId"
    history_fields: tuple[str, ...] = ("prv_candidates",)
    # Image stamps: archived, but never sent to the filters.
    cutout_fields: tuple[str, ...] = ("cutout_science", "cutout_template", "cutout_difference")
    # Models the ml service scores this survey's alerts with (none: no ML step).
    ml_models: tuple[str, ...] = ()

    @property
    def alerts_collection(self) -> str:
        return f"{self.name}_alerts"

    def decode(self, message: bytes) -> list[dict[str, Any]]:
        """One Kafka message is an Avro object container file of one or more alerts."""
        try:
            packets = list(fastavro.reader(io.BytesIO(message)))
        except Exception as exc:  # fastavro raises several unrelated types on garbage
            raise DecodeError(f"not an Avro alert packet: {exc}") from exc
        if not packets:
            raise DecodeError("Avro container holds no alert")
        return packets

    def prepare(self, packet: dict[str, Any]) -> PreparedAlert:
        """Splits a decoded packet into its alert document, its history and its ML inputs."""
        try:
            candid = int(packet["candid"])
            object_id = str(packet[self.object_id_field])
            ra, dec = self.position(packet)
        except (KeyError, TypeError, ValueError) as exc:
            raise DecodeError(
                f"{self.name} packet without candid/{self.object_id_field}/position: {exc!r}"
            ) from exc
        if not (0.0 <= ra < 360.0 and -90.0 <= dec <= 90.0):
            raise DecodeError(f"{self.name} alert {candid}: position ({ra}, {dec}) out of range")
        alert = {key: value for key, value in packet.items() if key not in self.history_fields}
        alert["_id"] = candid
        alert["classifications"] = {}
        aux: dict[str, Any] = {"_id": object_id}
        for field in self.history_fields:
            aux[field] = self.clean_history(packet, field, packet.get(field) or [])
        return PreparedAlert(
            candid=candid,
            object_id=object_id,
            ra=ra,
            dec=dec,
            alert=alert,
            aux=aux,
            ml_input=self.ml_input(packet) if self.ml_models else None,
        )

    def position(self, packet: dict[str, Any]) -> tuple[float, float]:
        candidate = packet["candidate"]
        return float(candidate["ra"]), float(candidate["dec"])

    def clean_history(
        self, packet: dict[str, Any], field: str, records: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """History points without their null fields, sorted by jd."""
        return sorted_by_jd([without_nulls(record) for record in records])

    def ml_input(self, packet: dict[str, Any]) -> MLInput | None:
        return None
