"""The alert path (issue 3): enrichment, per-object history, cross-matches and ML scores,
for every bundled ZTF and WINTER alert, each checked against an independent computation."""

from __future__ import annotations

import math
from typing import Any

import astropy.units as u
import numpy as np
import onnxruntime as ort
import pytest
from astropy.coordinates import SkyCoord
from astropy_healpix import HEALPix
from pymongo import MongoClient

from services.broker.surveys.ml_inputs import make_triplet, ztf_features
from skymesh.config import REPO_ROOT, Settings
from tests.conftest import NEIGHBOURS_CATALOG

pytestmark = pytest.mark.integration

MODELS = REPO_ROOT / "models" / "triton"
SURVEYS = {"ZTF": "objectId", "WNTR": "objectid"}
XMATCH_RADIUS_ARCSEC = 2.0


@pytest.fixture(scope="module")
def db(archived: Settings):
    with MongoClient(archived.mongo_uri) as client:
        yield client[archived.db_name]


def packets_of(survey: str, ztf_alerts: dict, wntr_alerts: dict) -> dict[int, dict[str, Any]]:
    return ztf_alerts if survey == "ZTF" else wntr_alerts


@pytest.mark.parametrize("survey", SURVEYS)
def test_every_alert_archived_once_with_astropy_coordinates(
    db, survey: str, ztf_alerts: dict, wntr_alerts: dict
) -> None:
    packets = packets_of(survey, ztf_alerts, wntr_alerts)
    archived = {a["candid"]: a for a in db[f"{survey}_alerts"].find()}
    assert sorted(archived) == sorted(packets)
    healpix = HEALPix(nside=2**16, order="nested")
    for candid, packet in packets.items():
        ra, dec = packet["candidate"]["ra"], packet["candidate"]["dec"]
        sky = SkyCoord(ra * u.deg, dec * u.deg)
        coordinates = archived[candid]["coordinates"]
        assert coordinates["radec_str"] == [
            sky.ra.to_string(unit=u.hourangle, sep=":", precision=4, pad=True),
            sky.dec.to_string(unit=u.deg, sep=":", precision=3, pad=True),
        ]
        assert coordinates["radec_geojson"] == {"type": "Point", "coordinates": [ra - 180, dec]}
        assert coordinates["l"] == pytest.approx(sky.galactic.l.deg, abs=1e-9)
        assert coordinates["b"] == pytest.approx(sky.galactic.b.deg, abs=1e-9)
        ecliptic = sky.barycentricmeanecliptic
        assert coordinates["lambda"] == pytest.approx(ecliptic.lon.deg, abs=1e-9)
        assert coordinates["beta"] == pytest.approx(ecliptic.lat.deg, abs=1e-9)
        assert coordinates["healpix"] == int(healpix.lonlat_to_healpix(ra * u.deg, dec * u.deg))
        assert "prv_candidates" not in archived[candid]
        assert "fp_hists" not in archived[candid]


@pytest.mark.parametrize("survey", SURVEYS)
def test_history_is_the_union_of_what_the_packets_imply(
    db, survey: str, ztf_alerts: dict, wntr_alerts: dict
) -> None:
    packets = packets_of(survey, ztf_alerts, wntr_alerts)
    id_field = SURVEYS[survey]
    expected_prv: dict[str, set] = {}
    expected_fp_jds: dict[str, set] = {}
    for packet in packets.values():
        object_id = packet[id_field]
        prv = expected_prv.setdefault(object_id, set())
        for point in packet.get("prv_candidates") or []:
            prv.add(tuple(sorted((k, v) for k, v in point.items() if v is not None)))
        jds = expected_fp_jds.setdefault(object_id, set())
        jds.update(point["jd"] for point in packet.get("fp_hists") or [])
    aux = {doc["_id"]: doc for doc in db[f"{survey}_alerts_aux"].find()}
    assert set(aux) == set(expected_prv)
    for object_id, doc in aux.items():
        got = [tuple(sorted(p.items())) for p in doc["prv_candidates"]]
        assert len(got) == len(set(got)) == len(expected_prv[object_id]), object_id
        assert set(got) == expected_prv[object_id]
        assert [p["jd"] for p in doc["prv_candidates"]] == sorted(
            p["jd"] for p in doc["prv_candidates"]
        )
        fp_jds = [p["jd"] for p in doc.get("fp_hists", [])]
        assert fp_jds == sorted(expected_fp_jds[object_id]), object_id


def test_forced_photometry_is_clean_and_derived(db, ztf_alerts: dict) -> None:
    with_fp = [p for p in ztf_alerts.values() if p.get("fp_hists")]
    assert with_fp, "the 2023 alerts carry forced photometry"
    for packet in with_fp:
        doc = db["ZTF_alerts_aux"].find_one({"_id": packet["objectId"]})
        for point in doc["fp_hists"]:
            assert all(v is not None and v != -99999 for v in point.values())
            flux, err = point.get("forcediffimflux"), point.get("forcediffimfluxunc")
            if flux is not None and err and flux > 0:
                assert point["snr"] == pytest.approx(flux / err)
                assert point["mag"] == pytest.approx(-2.5 * math.log10(flux) + point["magzpsci"])
                assert point["limmag5sig"] == pytest.approx(
                    -2.5 * math.log10(5 * err) + point["magzpsci"]
                )


def test_known_history_lengths(db, ztf_alerts: dict) -> None:
    # Kowalski's documented checks on the same real data.
    packet = ztf_alerts[1127107111615015007]
    doc = db["ZTF_alerts_aux"].find_one({"_id": packet["objectId"]})
    assert len(packet["prv_candidates"]) == 15
    assert len(doc["prv_candidates"]) >= 15
    for packet in ztf_alerts.values():
        if packet["candid"] // 10**15 == 2475:  # the 2023-10-12 night
            assert 20 <= len(packet["prv_candidates"]) <= 65
            assert 20 <= len(packet["fp_hists"]) <= 21
            doc = db["ZTF_alerts_aux"].find_one({"_id": packet["objectId"]})
            assert len(doc["fp_hists"]) >= len({p["jd"] for p in packet["fp_hists"]})


@pytest.mark.parametrize("survey", SURVEYS)
def test_cross_matches_equal_brute_force_on_first_sight(
    db, survey: str, ztf_alerts: dict, wntr_alerts: dict, neighbours: list
) -> None:
    packets = packets_of(survey, ztf_alerts, wntr_alerts)
    id_field = SURVEYS[survey]
    first: dict[str, dict] = {}
    for candid in sorted(packets):  # produced in file (= candid) order
        first.setdefault(packets[candid][id_field], packets[candid])
    rows = SkyCoord([r["ra"] for r in neighbours] * u.deg, [r["dec"] for r in neighbours] * u.deg)
    names = np.array([r["name"] for r in neighbours])
    for object_id, packet in first.items():
        centre = SkyCoord(packet["candidate"]["ra"] * u.deg, packet["candidate"]["dec"] * u.deg)
        expected = set(names[centre.separation(rows).arcsec <= XMATCH_RADIUS_ARCSEC])
        doc = db[f"{survey}_alerts_aux"].find_one({"_id": object_id})
        got = {m["name"] for m in doc["cross_matches"][NEIGHBOURS_CATALOG]}
        assert got == expected, object_id
        assert len(expected) >= 2  # the 0.5" and 1.5" neighbours


def test_ml_scores_equal_onnxruntime_on_the_same_inputs(db, ztf_alerts: dict) -> None:
    sessions = {
        path.parent.parent.name: ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        for path in MODELS.glob("*/1/model.onnx")
    }
    assert set(sessions) == {"braai", "acai_h", "acai_v", "acai_o", "acai_n", "acai_b"}
    candids = sorted(ztf_alerts)
    triplets = np.stack([make_triplet(ztf_alerts[c]) for c in candids])
    features = np.stack([ztf_features(ztf_alerts[c]["candidate"]) for c in candids])
    archived = {a["candid"]: a["classifications"] for a in db["ZTF_alerts"].find()}
    for model, session in sessions.items():
        feeds = {}
        for onnx_input in session.get_inputs():
            feeds[onnx_input.name] = features if onnx_input.shape[-1] == 25 else triplets
        expected = session.run(None, feeds)[0][:, 0]
        got = np.array([archived[c][model] for c in candids])
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5, err_msg=model)
        versions = {archived[c][f"{model}_version"] for c in candids}
        assert versions == {"d6_m9" if model == "braai" else "d1_dnn_20201130"}


def test_winter_alerts_carry_no_ztf_scores(db) -> None:
    assert all(a["classifications"] == {} for a in db["WNTR_alerts"].find())
