"""The Zwicky Transient Facility's alert stream."""

from __future__ import annotations

import math
from typing import Any

from services.broker.surveys.base import (
    MLInput,
    PhotometryPoint,
    Survey,
    forced_photometry,
    magnitude_photometry,
    sorted_by_jd,
)
from services.broker.surveys.ml_inputs import make_triplet, ztf_features

# ZTF's forced photometry marks "no value" with this sentinel as well as with null.
FP_MISSING = -99999
# fid → the portal's (sncosmo's) bandpass names.
FILTERS = {1: "ztfg", 2: "ztfr", 3: "ztfi"}
# Forced-photometry rows whose processing succeeded (IPAC's procstatus, int or string).
FP_GOOD_PROCSTATUS = (0, "0")


def flux_to_mag(flux: float, fluxerr: float, zeropoint: float) -> dict[str, float]:
    """Kowalski's derived forced-photometry fields; only finite values are kept."""
    snr = flux / fluxerr if fluxerr else math.nan
    if math.isnan(snr):
        return {}
    if snr < 0:
        return {"snr": snr}
    derived = {
        "mag": -2.5 * math.log10(flux) + zeropoint if flux > 0 else math.nan,
        "magerr": 1.0857 * fluxerr / flux if flux else math.nan,
        "snr": snr,
        "limmag3sig": -2.5 * math.log10(3 * fluxerr) + zeropoint if fluxerr > 0 else math.nan,
        "limmag5sig": -2.5 * math.log10(5 * fluxerr) + zeropoint if fluxerr > 0 else math.nan,
    }
    return {key: value for key, value in derived.items() if math.isfinite(value)}


class ZTF(Survey):
    name = "ZTF"
    history_fields = ("prv_candidates", "fp_hists")
    cutout_fields = ("cutoutScience", "cutoutTemplate", "cutoutDifference")
    ml_models = ("braai", "acai_h", "acai_v", "acai_o", "acai_n", "acai_b")
    instrument = "ZTF"
    # §3.3 "ZTF: flip rows" (Kowalski: to get north up and west on the right).
    flip_thumbnails = True

    def __init__(self, topic_pattern: str) -> None:
        self.topic_pattern = topic_pattern

    def clean_history(
        self, packet: dict[str, Any], field: str, records: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        if field != "fp_hists":
            return super().clean_history(packet, field, records)
        candidate = packet["candidate"]
        points = []
        for record in records:
            point = {k: v for k, v in record.items() if v is not None and v != FP_MISSING}
            flux = point.get("forcediffimflux", math.nan)
            fluxerr = point.get("forcediffimfluxunc", math.nan)
            points.append(
                {
                    **point,
                    **flux_to_mag(flux, fluxerr, point.get("magzpsci", math.nan)),
                    # Which alert carried the point: the merge keeps the brightest's.
                    "alert_mag": candidate["magpsf"],
                    "alert_ra": candidate["ra"],
                    "alert_dec": candidate["dec"],
                }
            )
        return sorted_by_jd(points)

    def ml_input(self, packet: dict[str, Any]) -> MLInput:
        return MLInput(triplet=make_triplet(packet), features=ztf_features(packet["candidate"]))

    def photometry(
        self, alert: dict[str, Any], history: dict[str, list[dict[str, Any]]]
    ) -> list[PhotometryPoint]:
        """Alert rows (candidate + prv_candidates), then forced photometry (fp_hists)."""
        rows = [alert["candidate"], *history.get("prv_candidates", [])]
        # Cleaned history has no sentinels left; an uncleaned one must not read -99999 as flux.
        forced = [
            {key: value for key, value in record.items() if value != FP_MISSING}
            for record in history.get("fp_hists", [])
            if record.get("procstatus") in FP_GOOD_PROCSTATUS
        ]
        return magnitude_photometry(rows, FILTERS) + forced_photometry(
            forced,
            FILTERS,
            flux_field="forcediffimflux",
            fluxerr_field="forcediffimfluxunc",
            zp_field="magzpsci",
        )

    def candidate_score(self, alert: dict[str, Any]) -> float | None:
        """The deep real-bogus score (drb), else the older rb (alerts before drb existed)."""
        candidate = alert["candidate"]
        for field in ("drb", "rb"):
            if candidate.get(field) is not None:
                return float(candidate[field])
        return None

    def thumbnail_stamps(self, alert: dict[str, Any]) -> dict[str, bytes]:
        """new ← cutoutScience, ref ← cutoutTemplate, sub ← cutoutDifference (`stampData`)."""
        science, template, difference = self.cutout_fields
        cutouts = {"new": science, "ref": template, "sub": difference}
        stamps = {
            kind: (alert.get(field) or {}).get("stampData") for kind, field in cutouts.items()
        }
        return {kind: stamp for kind, stamp in stamps.items() if stamp}
