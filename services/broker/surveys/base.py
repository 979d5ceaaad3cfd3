"""A survey plug-in: how one survey's Kafka messages become archive documents.

The broker core knows only this interface; a new survey is a new module registered in
``services.broker.surveys``.
"""

from __future__ import annotations

import io
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import fastavro


class DecodeError(ValueError):
    """A Kafka message is not a valid alert packet of the survey."""


@dataclass
class PreparedAlert:
    candid: int
    object_id: str
    # Document for <SURVEY>_alerts (no history arrays).
    alert: dict[str, Any]
    # Document for <SURVEY>_alerts_aux, `_id` = object id.
    aux: dict[str, Any]


class Survey(ABC):
    name: str
    topic_pattern: str
    object_id_field: str = "objectId"
    history_fields: tuple[str, ...] = ("prv_candidates",)

    @property
    def alerts_collection(self) -> str:
        return f"{self.name}_alerts"

    def decode(self, message: bytes) -> list[dict[str, Any]]:
        """One Kafka message is an Avro object container file of one or more alerts."""
        try:
            return list(fastavro.reader(io.BytesIO(message)))
        except Exception as exc:  # fastavro raises several unrelated types on garbage
            raise DecodeError(f"not an Avro alert packet: {exc}") from exc

    @abstractmethod
    def prepare(self, packet: dict[str, Any]) -> PreparedAlert:
        """Splits a decoded packet into its alert document and its aux history."""
