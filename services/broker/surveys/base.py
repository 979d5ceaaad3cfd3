"""A survey plug-in: how one survey's Kafka messages become archive documents.

The broker core knows only this interface; a new survey is a new module registered in
``services.broker.surveys``. A plug-in says how to decode a packet, where its position and
history are, how to clean the history, which ML models score it and with which inputs, and
what the portal gets from a passing alert: photometry points, a score and thumbnails.
"""

from __future__ import annotations

import io
import math
from abc import ABC
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import fastavro
import numpy as np

from services.broker.thumbnails import render_png


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


@dataclass
class PhotometryPoint:
    """One point of the portal's photometry (SKYPORTAL_SPEC.md §3.2), in flux space."""

    mjd: float
    flux: float | None  # in the zero point `zp` system; None = non-detection
    fluxerr: float
    zp: float
    filter: str  # the portal's filter name, e.g. "ztfg"
    magsys: str = "ab"
    ra: float | None = None
    dec: float | None = None
    origin: str | None = None  # None for alert photometry, "alert_fp" for forced photometry
    programid: int | None = None  # decides which streams may read the point


# Alert photometry is put in flux at this AB zero point (flux in µJy).
PHOTOMETRY_ZP = 23.9
MJD_OFFSET = 2400000.5
# isdiffpos values that mean a positive difference; anything else is negative (§3.2).
POSITIVE_DIFF = (True, 1, "y", "Y", "t", "T", "1")
# Forced photometry counts as a detection above this |flux / fluxerr|.
FORCED_DETECTION_SNR = 3.0


def _number(value: Any) -> float | None:
    """A finite float, or None for a missing, null or NaN value."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _float32(value: float | None) -> float | None:
    # Kowalski dedups on magpsf as float32; an archive round trip may have widened it.
    return None if value is None else float(np.float32(value))


def _programid(record: Mapping[str, Any]) -> int | None:
    value = record.get("programid")
    return None if value is None else int(value)


def limit_fluxerr(diffmaglim: float, zp: float) -> float:
    """A non-detection's flux error: diffmaglim is the 5-sigma depth."""
    return 10 ** (-0.4 * (diffmaglim - zp)) / 5.0


def magnitude_photometry(
    records: Iterable[Mapping[str, Any]], filters: Mapping[int, str]
) -> list[PhotometryPoint]:
    """Alert rows (candidate + prv_candidates: jd, fid, magpsf, sigmapsf, isdiffpos,
    diffmaglim) as flux points at zp 23.9, by SKYPORTAL_SPEC.md §3.2 in Kowalski's order:
    dedup on (mjd, magpsf, filter), first row wins; keep diffmaglim > 0 (missing ⇒ dropped);
    sort by mjd. A row whose `fid` is not in `filters` (e.g. a dark frame) is left out.
    """
    seen: set[tuple[float, float | None, str]] = set()
    kept: list[tuple[float, float, str, Mapping[str, Any]]] = []
    for record in records:
        jd = _number(record.get("jd"))
        band = filters.get(record.get("fid"))
        if jd is None or band is None:
            continue
        mjd = jd - MJD_OFFSET
        key = (mjd, _float32(_number(record.get("magpsf"))), band)
        if key in seen:
            continue
        seen.add(key)
        diffmaglim = _number(record.get("diffmaglim"))
        if diffmaglim is None or diffmaglim <= 0:
            continue
        kept.append((mjd, diffmaglim, band, record))
    points = []
    for mjd, diffmaglim, band, record in sorted(kept, key=lambda row: row[0]):  # stable sort
        magpsf = _number(record.get("magpsf"))
        if magpsf is None:
            flux = None
            fluxerr: float | None = limit_fluxerr(diffmaglim, PHOTOMETRY_ZP)
        else:
            sign = 1.0 if record.get("isdiffpos") in POSITIVE_DIFF else -1.0
            flux = sign * 10 ** (-0.4 * (magpsf - PHOTOMETRY_ZP))
            sigmapsf = _number(record.get("sigmapsf"))
            fluxerr = None if sigmapsf is None else abs(sigmapsf * flux * math.log(10) / 2.5)
        if fluxerr is None:  # a detection without sigmapsf: no error bar to post
            continue
        points.append(
            PhotometryPoint(
                mjd=mjd,
                flux=flux,
                fluxerr=fluxerr,
                zp=PHOTOMETRY_ZP,
                filter=band,
                ra=_number(record.get("ra")),
                dec=_number(record.get("dec")),
                programid=_programid(record),
            )
        )
    return points


def forced_photometry(
    records: Iterable[Mapping[str, Any]],
    filters: Mapping[int, str],
    *,
    flux_field: str,
    fluxerr_field: str,
    zp_field: str,
    origin: str = "alert_fp",
) -> list[PhotometryPoint]:
    """Forced-photometry rows (already in flux at the row's zero point) by §3.2: the caller
    keeps only the rows its survey deems good; here diffmaglim > 0; no flux ⇒ fluxerr from
    diffmaglim; flux → None when |flux/fluxerr| ≤ 3; dedup on (mjd, filter, flux); by mjd.
    """
    seen: set[tuple[float, str, float | None]] = set()
    points = []
    for record in records:
        jd = _number(record.get("jd"))
        band = filters.get(record.get("fid"))
        diffmaglim = _number(record.get("diffmaglim"))
        zp = _number(record.get(zp_field))
        if jd is None or band is None or diffmaglim is None or diffmaglim <= 0 or zp is None:
            continue
        flux = _number(record.get(flux_field))
        fluxerr = _number(record.get(fluxerr_field))
        if flux is None or fluxerr is None:
            # Kowalski: no flux ⇒ the limit's error. No error either (not in the spec): the
            # point could not be posted, so it becomes a limit too.
            flux, fluxerr = None, limit_fluxerr(diffmaglim, zp)
        elif not (fluxerr != 0 and abs(flux / fluxerr) > FORCED_DETECTION_SNR):
            flux = None
        mjd = jd - MJD_OFFSET
        key = (mjd, band, flux)
        if key in seen:
            continue
        seen.add(key)
        points.append(
            PhotometryPoint(
                mjd=mjd,
                flux=flux,
                fluxerr=fluxerr,
                zp=zp,
                filter=band,
                ra=_number(record.get("ra")),
                dec=_number(record.get("dec")),
                origin=origin,
                programid=_programid(record),
            )
        )
    return sorted(points, key=lambda point: point.mjd)


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
    # The portal's instrument name for this survey's photometry (None: no photometry posted).
    instrument: str | None = None
    # Whether thumbnails flip the stamps' rows (to get north up, §3.3).
    flip_thumbnails: bool = False

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

    # --- What the portal gets from a passing alert (SKYPORTAL_SPEC.md §3.1-3.3) ---

    def photometry(
        self, alert: dict[str, Any], history: dict[str, list[dict[str, Any]]]
    ) -> list[PhotometryPoint]:
        """The portal's photometry of an archived alert document and its cleaned history
        (PreparedAlert.aux, or the object's whole aux document); none by default."""
        return []

    def candidate_score(self, alert: dict[str, Any]) -> float | None:
        """The candidate's `score` on the portal; none by default."""
        return None

    def thumbnail_stamps(self, alert: dict[str, Any]) -> dict[str, bytes]:
        """Thumbnail type (new, ref, sub) → the gzipped FITS stamp; none by default."""
        return {}

    def thumbnails(self, alert: dict[str, Any]) -> dict[str, bytes]:
        """Thumbnail type → PNG, rendered by SKYPORTAL_SPEC.md §3.3 (CPU-bound: ~20 ms each)."""
        return {
            kind: render_png(stamp, kind, flip=self.flip_thumbnails)
            for kind, stamp in self.thumbnail_stamps(alert).items()
        }
