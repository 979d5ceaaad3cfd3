"""The independent truth filter tests compare with: what a filter should see, computed from
the decoded Avro packets alone (plus the test's own cross-match and braai computations)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import astropy.units as u
import numpy as np
import onnxruntime as ort
from astropy.coordinates import SkyCoord

from services.broker.surveys.ml_inputs import make_triplet
from skymesh.config import REPO_ROOT

PERMISSIONS = [1, 2]
XMATCH_RADIUS_ARCSEC = 2.0
# Kowalski's windows, per survey (see services/filters/upstream.py).
WINDOW_DAYS = {"ZTF_alerts": 365.0, "WNTR_alerts": 1000.0}
FP_MISSING = -99999
BRAAI = REPO_ROOT / "models" / "triton" / "braai" / "1" / "model.onnx"


# --- the independent truth --------------------------------------------------------------------


@dataclass
class Truth:
    """What a filter should see, computed from the decoded packets alone."""

    catalog: str
    packets: dict[int, dict[str, Any]]
    id_field: str
    braai: dict[int, float] = field(default_factory=dict)
    # object id -> neighbours catalog rows within 2" of the object's first alert.
    near: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    galactic_b: dict[int, float] = field(default_factory=dict)

    def object_id(self, packet: dict[str, Any]) -> str:
        return packet[self.id_field]

    def history(
        self,
        packet: dict[str, Any],
        field_name: str,
        permissions: list[int] | None = None,
        leak: bool = False,
    ) -> list[dict[str, Any]]:
        """The object's history from all its packets (null fields dropped, as archived),
        limited to the window before this alert; with ``leak`` the alert's own and later
        points are kept too (what a careless upstream stage would show)."""
        object_id, jd = self.object_id(packet), packet["candidate"]["jd"]
        points: dict[Any, dict[str, Any]] = {}
        for other in self.packets.values():
            if self.object_id(other) != object_id:
                continue
            for point in other.get(field_name) or []:
                clean = (
                    {k: v for k, v in point.items() if v is not None and v != FP_MISSING}
                    if field_name == "fp_hists"
                    else {k: v for k, v in point.items() if v is not None}
                )
                key = clean["jd"] if field_name == "fp_hists" else tuple(sorted(clean.items()))
                points.setdefault(key, clean)
        window = WINDOW_DAYS[self.catalog]
        visible = [
            p
            for p in points.values()
            if (leak or p["jd"] < jd)
            and jd - p["jd"] < window
            and (permissions is None or p.get("programid") in permissions)
        ]
        return sorted(visible, key=lambda p: p["jd"])

    def detections(self, packet: dict[str, Any], leak: bool = False) -> list[dict[str, Any]]:
        history = self.history(packet, "prv_candidates", PERMISSIONS, leak)
        return [p for p in history if p.get("magpsf") is not None]


def braai_scores(packets: dict[int, dict[str, Any]]) -> dict[int, float]:
    session = ort.InferenceSession(str(BRAAI), providers=["CPUExecutionProvider"])
    candids = sorted(packets)
    triplets = np.stack([make_triplet(packets[c]) for c in candids])
    scores = session.run(None, {session.get_inputs()[0].name: triplets})[0][:, 0]
    return {c: float(s) for c, s in zip(candids, scores, strict=True)}


def neighbours_near_first_alert(
    truth: Truth, neighbours: list[dict[str, Any]]
) -> dict[str, list[dict[str, Any]]]:
    rows = SkyCoord([r["ra"] for r in neighbours] * u.deg, [r["dec"] for r in neighbours] * u.deg)
    first: dict[str, dict[str, Any]] = {}
    for candid in sorted(truth.packets):  # produced in candid order: the first one cross-matches
        first.setdefault(truth.object_id(truth.packets[candid]), truth.packets[candid])
    near = {}
    for object_id, packet in first.items():
        centre = SkyCoord(packet["candidate"]["ra"] * u.deg, packet["candidate"]["dec"] * u.deg)
        inside = centre.separation(rows).arcsec <= XMATCH_RADIUS_ARCSEC
        near[object_id] = [row for row, hit in zip(neighbours, inside, strict=True) if hit]
    return near


def ztf_truth_of(ztf_alerts: dict, neighbours: list) -> Truth:
    truth = Truth("ZTF_alerts", ztf_alerts, "objectId", braai=braai_scores(ztf_alerts))
    truth.near = neighbours_near_first_alert(truth, neighbours)
    for candid, packet in ztf_alerts.items():
        sky = SkyCoord(packet["candidate"]["ra"] * u.deg, packet["candidate"]["dec"] * u.deg)
        truth.galactic_b[candid] = float(sky.galactic.b.deg)
    return truth
