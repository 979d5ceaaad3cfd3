"""WINTER, the infrared survey at Palomar: its own schema (`objectid`, `cutout_*` bytes)."""

from __future__ import annotations

from typing import Any

from services.broker.surveys.base import PhotometryPoint, Survey, magnitude_photometry

# fid → the portal's (sncosmo's) bandpass names; 4 is a dark frame, which has no photometry.
#
# Which fid is which band: the packets' own Avro schema documents `fid` as "0=Y; 1=J; 2=H;
# 3=K", but that doc string is stale. The packets' publisher is "WINTER-mirar", and mirar
# numbers WINTER's filters {"Y": 1, "J": 2, "Hs": 3, "dark": 4}
# (mirar/pipelines/winter/constants.py); Kowalski's WNTR broker maps the same numbers to
# {1: "ps1::y", 2: "2massj", 3: "2massh"} and drops 4 ("dark"). The producer's numbering wins,
# and the names are Kowalski's, which the portal's bandpasses already know. (Every bundled
# alert is fid 2, i.e. J; the cutouts' FITS headers carry no filter keyword to cross-check.)
FILTERS = {1: "ps1::y", 2: "2massj", 3: "2massh"}


class WINTER(Survey):
    # Kowalski's collection prefix for WINTER.
    name = "WNTR"
    object_id_field = "objectid"
    # The portal's instrument is "WINTER" (Kowalski looks it up under that name, not "WNTR").
    instrument = "WINTER"
    # Kowalski flips WINTER stamps like ZTF's ("to get North up and West on the right");
    # SKYPORTAL_SPEC.md §3.3 names only ZTF, the cutouts carry no WCS to tell.
    flip_thumbnails = True

    def __init__(self, topic_pattern: str) -> None:
        self.topic_pattern = topic_pattern

    def photometry(
        self, alert: dict[str, Any], history: dict[str, list[dict[str, Any]]]
    ) -> list[PhotometryPoint]:
        """ZTF's alert rules (§3.2), WINTER's bandpasses; WINTER has no forced photometry.

        A WINTER candidate carries all the rules need (jd, fid, magpsf, sigmapsf, isdiffpos,
        diffmaglim, programid). Its prv_candidates are past detections *without* diffmaglim
        (nor programid), so the rule "diffmaglim missing ⇒ dropped" drops them, as in
        Kowalski: each detection reaches the portal as the candidate row of its own alert.
        """
        rows = [alert["candidate"], *history.get("prv_candidates", [])]
        return magnitude_photometry(rows, FILTERS)

    def candidate_score(self, alert: dict[str, Any]) -> float | None:
        """Kowalski posts `drb` else `rb`; WINTER alerts have only `rb` (null so far)."""
        rb = alert["candidate"].get("rb")
        return None if rb is None else float(rb)

    def thumbnail_stamps(self, alert: dict[str, Any]) -> dict[str, bytes]:
        """new ← cutout_science, ref ← cutout_template, sub ← cutout_difference (raw bytes)."""
        science, template, difference = self.cutout_fields
        cutouts = {"new": science, "ref": template, "sub": difference}
        stamps = {kind: alert.get(field) for kind, field in cutouts.items()}
        return {kind: stamp for kind, stamp in stamps.items() if stamp}
