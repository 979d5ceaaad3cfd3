"""The Vera C. Rubin Observatory's LSST alert stream.

Every schema version of ``lsst-alert-packet`` decodes (lsst_schemas.py): a Kafka record is
Confluent-framed schemaless Avro, or an Avro container file. The packets keep Rubin's own
fields; decoding adds what the mesh keys on and what filters and the portal read:
- ``candid``: the alert's id (``diaSourceId`` from schema 8 on, ``alertId`` before);
- ``objectId``: the ``diaObjectId`` as text, or ``ss<ssObjectId>`` for a solar-system source
  that has no DIA object;
- on ``diaSource`` and every history point: ``jd`` (from the point's MJD, TAI), and on
  detections AB ``magpsf``/``sigmapsf`` and ``isdiffpos`` derived from ``psfFlux`` (nJy).

Older schemas spell some fields otherwise (``decl``, ``midPointTai``, ``filterName``,
``psFlux``): decoding reads either spelling and leaves the packet's own fields as they are.
Rubin has no real-bogus or ACAI models here: the plug-in declares none.
"""

from __future__ import annotations

import gzip
import io
import math
from collections.abc import Mapping
from typing import Any

import fastavro

from services.broker.surveys import lsst_schemas
from services.broker.surveys.base import (
    FORCED_DETECTION_SNR,
    MJD_OFFSET,
    PHOTOMETRY_ZP,
    DecodeError,
    PhotometryPoint,
    Survey,
    _number,
)

# Rubin's fluxes are in nanojansky: AB magnitude = 31.4 - 2.5 log10(flux / nJy).
NJY_ZP = 31.4
NJY_PER_UJY = 1000.0
BANDS = ("u", "g", "r", "i", "z", "y")
# The portal's (sncosmo's) bandpass names of Rubin's filters.
FILTERS = {band: f"lsst{band}" for band in BANDS}
HISTORY_FIELDS = ("prvDiaSources", "prvDiaForcedSources", "prvDiaNondetectionLimits")
GZIP_MAGIC = b"\x1f\x8b"


def _first(record: Mapping[str, Any], *names: str) -> Any:
    """The first of ``names`` that the record has a value for (schemas renamed fields)."""
    for name in names:
        value = record.get(name)
        if value is not None:
            return value
    return None


def mjd_of(record: Mapping[str, Any]) -> float | None:
    value = _first(record, "midpointMjdTai", "midPointTai")
    return None if value is None else float(value)


def band_of(record: Mapping[str, Any]) -> str | None:
    return _first(record, "band", "filterName")


def psf_flux(record: Mapping[str, Any]) -> tuple[float | None, float | None]:
    return (
        _number(_first(record, "psfFlux", "psFlux")),
        _number(_first(record, "psfFluxErr", "psFluxErr")),
    )


def derived(record: Mapping[str, Any], detection: bool) -> dict[str, Any]:
    """``jd``, and for a detection AB ``magpsf``/``sigmapsf``/``isdiffpos``, from its flux."""
    fields: dict[str, Any] = {}
    mjd = mjd_of(record)
    if mjd is not None:
        fields["jd"] = mjd + MJD_OFFSET
    flux, error = psf_flux(record)
    if detection and flux is not None:
        fields["isdiffpos"] = "t" if flux > 0 else "f"
        if flux != 0:
            fields["magpsf"] = NJY_ZP - 2.5 * math.log10(abs(flux))
            if error is not None:
                fields["sigmapsf"] = 2.5 / math.log(10) * error / abs(flux)
    return fields


class LSST(Survey):
    name = "LSST"
    object_id_field = "objectId"
    history_fields = HISTORY_FIELDS
    cutout_fields = ("cutoutScience", "cutoutTemplate", "cutoutDifference")
    ml_models = ()
    instrument = "LSST"
    # Rubin's cutouts carry a WCS and come north up; nothing to flip.
    flip_thumbnails = False

    def __init__(self, topic_pattern: str) -> None:
        self.topic_pattern = topic_pattern

    def decode(self, message: bytes) -> list[dict[str, Any]]:
        """A Confluent-framed record (schema id → the package's schema), or a container file."""
        schema_id = lsst_schemas.confluent_schema_id(message)
        if schema_id is not None:
            try:
                schema = lsst_schemas.by_id(schema_id).parsed
            except lsst_schemas.UnknownSchemaError as exc:
                raise DecodeError(str(exc.args[0])) from exc
            try:
                packets = [
                    fastavro.schemaless_reader(
                        io.BytesIO(message[lsst_schemas.CONFLUENT_HEADER_BYTES :]), schema
                    )
                ]
            except Exception as exc:  # fastavro raises several unrelated types on garbage
                raise DecodeError(
                    f"not an LSST alert of schema {schema_id} (Confluent-framed Avro): {exc}"
                ) from exc
        else:
            packets = super().decode(message)
        return [self.keyed(packet) for packet in packets]

    def keyed(self, packet: dict[str, Any]) -> dict[str, Any]:
        """The packet with the mesh's keys and the derived fields (see the module's doc)."""
        source = packet.get("diaSource")
        if not isinstance(source, dict):
            raise DecodeError("LSST packet without its diaSource")
        candid = _first(packet, "diaSourceId", "alertId")
        object_id = self.object_id(packet)
        if candid is None or object_id is None:
            raise DecodeError(
                "LSST packet without an alert id (diaSourceId/alertId) or an object "
                "(diaObjectId/ssObjectId)"
            )
        packet["candid"] = int(candid)
        packet["objectId"] = object_id
        source.update(derived(source, detection=True))
        for field in HISTORY_FIELDS:
            for point in packet.get(field) or []:
                point.update(derived(point, detection=field == "prvDiaSources"))
        return packet

    @staticmethod
    def object_id(packet: Mapping[str, Any]) -> str | None:
        source = packet["diaSource"]
        dia_object = packet.get("diaObject") or {}
        dia_object_id = _first(source, "diaObjectId") or _first(dia_object, "diaObjectId")
        if dia_object_id:
            return str(dia_object_id)
        ss_objects = (source, packet.get("ssSource") or {}, packet.get("ssObject") or {})
        ss_object_id = next((s["ssObjectId"] for s in ss_objects if s.get("ssObjectId")), None)
        return None if ss_object_id is None else f"ss{ss_object_id}"

    def position(self, packet: dict[str, Any]) -> tuple[float, float]:
        source = packet["diaSource"]
        return float(source["ra"]), float(_first(source, "dec", "decl"))

    # --- the portal (photometry in flux space: nJy → µJy at the AB zero point 23.9) ---

    def photometry(
        self, alert: dict[str, Any], history: dict[str, list[dict[str, Any]]]
    ) -> list[PhotometryPoint]:
        """Detections (the alert's diaSource and prvDiaSources), forced photometry
        (prvDiaForcedSources: a detection above 3 sigma, else a limit) and the older schemas'
        non-detection limits (diaNoise), one point per (mjd, filter, kind), by mjd."""
        points: dict[tuple[float, str, str | None], PhotometryPoint] = {}

        def add(record: Mapping[str, Any], origin: str | None, kind: str) -> None:
            mjd, band = mjd_of(record), FILTERS.get(band_of(record) or "")
            if mjd is None or band is None:
                return
            if kind == "limit":
                noise = _first(record, "diaNoise")
                if noise is None or noise <= 0:
                    return
                flux, error = None, float(noise) / NJY_PER_UJY
            else:
                flux_njy, error_njy = psf_flux(record)
                if flux_njy is None or error_njy is None or error_njy <= 0:
                    return
                flux, error = flux_njy / NJY_PER_UJY, error_njy / NJY_PER_UJY
                if kind == "forced" and abs(flux / error) <= FORCED_DETECTION_SNR:
                    flux = None
            position = (_first(record, "ra"), _first(record, "dec", "decl"))
            points.setdefault(
                (mjd, band, origin),
                PhotometryPoint(
                    mjd=mjd,
                    flux=flux,
                    fluxerr=error,
                    zp=PHOTOMETRY_ZP,
                    filter=band,
                    ra=position[0],
                    dec=position[1],
                    origin=origin,
                ),
            )

        for record in [alert["diaSource"], *history.get("prvDiaSources", [])]:
            add(record, None, "detection")
        for record in history.get("prvDiaForcedSources", []):
            add(record, "alert_fp", "forced")
        for record in history.get("prvDiaNondetectionLimits", []):
            add(record, None, "limit")
        return sorted(points.values(), key=lambda point: point.mjd)

    def candidate_score(self, alert: dict[str, Any]) -> float | None:
        """Rubin's own reliability score, where the schema has one."""
        score = alert["diaSource"].get("reliability")
        return None if score is None else float(score)

    def thumbnail_stamps(self, alert: dict[str, Any]) -> dict[str, bytes]:
        """new ← cutoutScience, ref ← cutoutTemplate, sub ← cutoutDifference; Rubin's stamps
        are plain FITS, the thumbnails read gzipped ones."""
        science, template, difference = self.cutout_fields
        cutouts = {"new": science, "ref": template, "sub": difference}
        stamps = {kind: alert.get(field) for kind, field in cutouts.items()}
        return {
            kind: stamp if stamp.startswith(GZIP_MAGIC) else gzip.compress(stamp, mtime=0)
            for kind, stamp in stamps.items()
            if stamp
        }
