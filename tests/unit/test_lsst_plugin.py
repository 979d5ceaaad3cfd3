"""The LSST plug-in's keys, history and portal photometry (flux space, Rubin's bands)."""

from __future__ import annotations

import pytest

from services.broker.surveys import DecodeError, lsst_schemas
from services.broker.surveys.lsst import LSST
from skymesh import synthetic_lsst

SURVEY = LSST(".*")


def prepared(n_alerts: int = 3) -> list:
    messages = synthetic_lsst.messages(1, n_alerts, seed=3)
    return [SURVEY.prepare(SURVEY.decode(m)[0]) for m in messages]


def test_alerts_of_one_object_share_its_id_and_carry_their_history() -> None:
    alerts = prepared()
    assert len({a.object_id for a in alerts}) == 1
    assert len({a.candid for a in alerts}) == 3
    assert [len(a.aux["prvDiaSources"]) for a in alerts] == [0, 1, 2]
    assert [len(a.aux["prvDiaForcedSources"]) for a in alerts] == [0, 1, 2]
    assert all(a.ml_input is None for a in alerts)  # Rubin declares no models
    assert "prvDiaSources" not in alerts[-1].alert


def test_photometry_is_flux_in_microjansky_in_rubins_bands() -> None:
    last = prepared()[-1]
    points = SURVEY.photometry(last.alert, last.aux)
    detections = [p for p in points if p.origin is None]
    forced = [p for p in points if p.origin == "alert_fp"]
    assert len(detections) == 3 and len(forced) == 2
    source = last.alert["diaSource"]
    (own,) = [p for p in detections if p.mjd == source["midpointMjdTai"]]
    assert own.flux == pytest.approx(source["psfFlux"] / 1000)
    assert own.fluxerr == pytest.approx(source["psfFluxErr"] / 1000)
    assert own.zp == 23.9 and own.filter == f"lsst{source['band']}"
    assert [p.mjd for p in points] == sorted(p.mjd for p in points)


def test_weak_forced_photometry_and_old_noise_limits_are_limits() -> None:
    alert = {
        "diaSource": {"midpointMjdTai": 61000.0, "band": "g", "psfFlux": 50.0, "psfFluxErr": 5.0}
    }
    history = {
        "prvDiaForcedSources": [
            {"midpointMjdTai": 60990.0, "band": "r", "psfFlux": 20.0, "psfFluxErr": 10.0}
        ],
        # Schemas before 8 had non-detection limits: the noise in nJy, in filterName.
        "prvDiaNondetectionLimits": [{"midPointTai": 60980.0, "filterName": "i", "diaNoise": 30.0}],
    }
    limit, weak, detection = SURVEY.photometry(alert, history)  # by mjd
    assert (weak.flux, weak.fluxerr, weak.filter) == (None, 0.01, "lsstr")
    assert (limit.flux, limit.fluxerr, limit.filter) == (None, 0.03, "lssti")
    assert (detection.flux, detection.filter) == (0.05, "lsstg")


def test_a_solar_system_source_is_keyed_by_its_ss_object() -> None:
    schema = lsst_schemas.latest()
    (alert,) = synthetic_lsst.alerts(synthetic_lsst.objects(1, seed=4), 1, seed=4)
    alert["diaSource"]["diaObjectId"] = None
    alert["diaObject"] = None
    alert["diaSource"]["ssObjectId"] = 12345
    (message,) = synthetic_lsst.confluent_messages(iter([alert]), schema)
    (packet,) = SURVEY.decode(message)
    assert packet["objectId"] == "ss12345"
    alert["diaSource"]["ssObjectId"] = None
    (message,) = synthetic_lsst.confluent_messages(iter([alert]), schema)
    with pytest.raises(DecodeError, match=r"without an alert id .* or an object"):
        SURVEY.decode(message)


def test_cutouts_become_thumbnails() -> None:
    last = prepared(1)[-1]
    assert set(SURVEY.thumbnails(last.alert)) == {"new", "ref", "sub"}
