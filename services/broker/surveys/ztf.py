"""The Zwicky Transient Facility's alert stream."""

from __future__ import annotations

from typing import Any

from services.broker.surveys.base import DecodeError, PreparedAlert, Survey


def without_nulls(record: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if value is not None}


class ZTF(Survey):
    name = "ZTF"
    history_fields = ("prv_candidates", "fp_hists")

    def __init__(self, topic_pattern: str) -> None:
        self.topic_pattern = topic_pattern

    def prepare(self, packet: dict[str, Any]) -> PreparedAlert:
        try:
            candid = int(packet["candid"])
            object_id = str(packet[self.object_id_field])
        except (KeyError, TypeError, ValueError) as exc:
            raise DecodeError(f"ZTF packet without candid/objectId: {exc}") from exc
        alert = {key: value for key, value in packet.items() if key not in self.history_fields}
        alert["_id"] = candid
        aux: dict[str, Any] = {"_id": object_id}
        for field in self.history_fields:
            records = packet.get(field) or []
            aux[field] = sorted(
                (without_nulls(record) for record in records), key=lambda r: r.get("jd", 0.0)
            )
        return PreparedAlert(candid=candid, object_id=object_id, alert=alert, aux=aux)
