"""What the survey plug-ins give the portal: photometry points, scores (SKYPORTAL_SPEC.md §3.2)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from services.broker.surveys import WINTER, ZTF, PhotometryPoint, PreparedAlert
from tests.conftest import WNTR_DIR, ZTF_DIR, decode_alert

SURVEY = ZTF(r"^ztf_\d{8}_programid\d+$")
WNTR = WINTER(r"^winter_\d{8}$")
LN10 = math.log(10)


def prepared(path: str) -> PreparedAlert:
    return SURVEY.prepare(decode_alert(ZTF_DIR / path))


def split(points: list[PhotometryPoint]) -> tuple[list[PhotometryPoint], list[PhotometryPoint]]:
    alert = [p for p in points if p.origin is None]
    forced = [p for p in points if p.origin == "alert_fp"]
    assert len(alert) + len(forced) == len(points)
    return alert, forced


def detections(points: list[PhotometryPoint]) -> int:
    return sum(p.flux is not None for p in points)


def test_spec_packet_without_forced_photometry() -> None:
    """§3.2: 20200202/1127561445515015011 → 32 rows (21 detections)."""
    alert = prepared("20200202/1127561445515015011.avro")
    points = SURVEY.photometry(alert.alert, alert.aux)
    assert (len(points), detections(points)) == (32, 21)
    assert all(p.origin is None and p.zp == 23.9 and p.magsys == "ab" for p in points)
    assert {p.filter for p in points} <= {"ztfg", "ztfr", "ztfi"}
    assert [p.mjd for p in points] == sorted(p.mjd for p in points)
    assert {p.programid for p in points} == {1}
    # The passing alert's own row, with its position; non-detections have none.
    candidate = alert.alert["candidate"]
    (own,) = [p for p in points if p.mjd == candidate["jd"] - 2400000.5]
    assert (own.ra, own.dec) == (candidate["ra"], candidate["dec"])
    assert all(p.ra is None and p.dec is None for p in points if p.flux is None)


def test_spec_packet_with_forced_photometry() -> None:
    """§3.2: 20231012/2475433850015010009 → 21 alert rows (5 with flux) + 7 alert_fp (6)."""
    alert = prepared("20231012/2475433850015010009.avro")
    alert_points, forced = split(SURVEY.photometry(alert.alert, alert.aux))
    assert (len(alert_points), detections(alert_points)) == (21, 5)
    assert (len(forced), detections(forced)) == (7, 6)
    good = [r for r in alert.aux["fp_hists"] if r["procstatus"] in (0, "0")]
    assert sorted(p.zp for p in forced) == sorted(r["magzpsci"] for r in good)
    assert [p.mjd for p in forced] == sorted(p.mjd for p in forced)
    for point in forced:
        assert point.flux is None or abs(point.flux / point.fluxerr) > 3


def row(jd: float, **fields: Any) -> dict[str, Any]:
    return {"jd": jd, "fid": 1, "diffmaglim": 20.0, "programid": 1, **fields}


def photometry(candidate: dict[str, Any], **history: list[dict[str, Any]]) -> list[PhotometryPoint]:
    return SURVEY.photometry({"candidate": candidate}, history)


def test_magnitudes_become_fluxes_at_zero_point_23_9() -> None:
    negative = row(2459000.5, magpsf=18.9, sigmapsf=0.1, isdiffpos="f", ra=10.0, dec=20.0)
    (point,) = photometry(negative)
    assert point.mjd == 59000.0
    assert point.flux == pytest.approx(-100.0)  # 10^(-0.4 (18.9 - 23.9)) µJy, negative
    assert point.fluxerr == pytest.approx(0.1 * 100.0 * LN10 / 2.5)
    assert (point.zp, point.magsys, point.filter) == (23.9, "ab", "ztfg")
    assert (point.ra, point.dec, point.origin, point.programid) == (10.0, 20.0, None, 1)
    for positive in (True, 1, "t", "T", "y", "Y", "1"):
        (point,) = photometry(row(2459000.5, magpsf=18.9, sigmapsf=0.1, isdiffpos=positive))
        assert point.flux == pytest.approx(100.0)
    for negative_flag in (False, 0, "f", "0", "n"):
        (point,) = photometry(row(2459000.5, magpsf=18.9, sigmapsf=0.1, isdiffpos=negative_flag))
        assert point.flux == pytest.approx(-100.0)


def test_a_non_detection_has_no_flux_and_the_limit_as_error() -> None:
    candidate = row(2459001.5, magpsf=18.9, sigmapsf=0.1, isdiffpos="t")
    limit = row(2459000.5, diffmaglim=21.4, fid=2, programid=2)  # no magpsf: an upper limit
    points = photometry(candidate, prv_candidates=[limit])
    assert [p.flux is None for p in points] == [True, False]
    assert points[0].fluxerr == pytest.approx(2.0)  # 10^(-0.4 (21.4 - 23.9)) / 5
    assert (points[0].filter, points[0].programid, points[0].ra) == ("ztfr", 2, None)


def test_rows_are_deduplicated_filtered_and_sorted_by_mjd() -> None:
    candidate = row(2459003.5, magpsf=18.0, sigmapsf=0.1, isdiffpos="t")
    history = [
        row(2459002.5, magpsf=19.0, sigmapsf=0.1, isdiffpos="t"),
        row(2459001.5),  # limit
        row(2459001.5),  # the same limit again: dropped
        row(2459002.5, magpsf=19.0, sigmapsf=0.2, isdiffpos="t"),  # same (mjd, magpsf, filter)
        row(2459002.5, magpsf=19.0, sigmapsf=0.1, isdiffpos="t", fid=2),  # other filter: kept
        row(2459003.5, magpsf=18.0, sigmapsf=0.1, isdiffpos="t"),  # the candidate again
        row(2459000.5, magpsf=19.5, sigmapsf=0.1, isdiffpos="t", diffmaglim=-99.0),  # bad
        {"jd": 2459000.7, "fid": 1, "magpsf": 19.5, "sigmapsf": 0.1},  # no diffmaglim: dropped
    ]
    points = photometry(candidate, prv_candidates=history)
    assert [(p.mjd, p.filter) for p in points] == [
        (59001.0, "ztfg"),
        (59002.0, "ztfg"),
        (59002.0, "ztfr"),
        (59003.0, "ztfg"),
    ]
    # The first of the duplicates wins.
    assert points[1].fluxerr == pytest.approx(0.1 * points[1].flux * LN10 / 2.5)


def fp_row(jd: float, **fields: Any) -> dict[str, Any]:
    return {"jd": jd, "fid": 2, "diffmaglim": 20.5, "magzpsci": 26.0, "procstatus": "0", **fields}


def test_forced_photometry_rules() -> None:
    candidate = row(2459010.5, magpsf=18.0, sigmapsf=0.1, isdiffpos="t")
    fp_hists = [
        fp_row(2459005.5, forcediffimflux=400.0, forcediffimfluxunc=100.0),  # snr 4: detection
        fp_row(2459004.5, forcediffimflux=-350.0, forcediffimfluxunc=100.0, procstatus=0),
        fp_row(2459006.5, forcediffimflux=250.0, forcediffimfluxunc=100.0),  # snr 2.5: limit
        fp_row(2459007.5, forcediffimflux=300.0, forcediffimfluxunc=100.0),  # snr 3: limit
        fp_row(2459007.5, forcediffimflux=200.0, forcediffimfluxunc=100.0),  # duplicate limit
        fp_row(2459008.5, diffmaglim=21.0),  # no flux: limit from diffmaglim and magzpsci
        fp_row(2459009.5, forcediffimflux=-99999.0, forcediffimfluxunc=-99999.0),  # sentinel
        fp_row(2459003.5, forcediffimflux=900.0, forcediffimfluxunc=10.0, procstatus="56"),
        fp_row(2459003.6, forcediffimflux=900.0, forcediffimfluxunc=10.0, diffmaglim=0.0),
    ]
    _, forced = split(photometry(candidate, prv_candidates=[], fp_hists=fp_hists))
    assert [(p.mjd, p.flux) for p in forced] == [
        (59004.0, -350.0),
        (59005.0, 400.0),
        (59006.0, None),
        (59007.0, None),
        (59008.0, None),
        (59009.0, None),
    ]
    assert all(p.zp == 26.0 and p.filter == "ztfr" and p.origin == "alert_fp" for p in forced)
    assert forced[0].fluxerr == 100.0 and forced[2].fluxerr == 100.0
    assert forced[4].fluxerr == pytest.approx(10 ** (-0.4 * (21.0 - 26.0)) / 5)
    assert forced[5].fluxerr == pytest.approx(10 ** (-0.4 * (20.5 - 26.0)) / 5)


def test_candidate_score_is_drb_else_rb() -> None:
    assert SURVEY.candidate_score({"candidate": {"drb": 0.9, "rb": 0.4}}) == 0.9
    assert SURVEY.candidate_score({"candidate": {"drb": None, "rb": 0.4}}) == 0.4
    assert SURVEY.candidate_score({"candidate": {"rb": 0.4}}) == 0.4
    assert SURVEY.candidate_score({"candidate": {}}) is None
    alert = prepared("20200202/1127561445515015011.avro")
    assert SURVEY.candidate_score(alert.alert) == alert.alert["candidate"]["drb"]


def test_winter_posts_each_alerts_own_candidate_in_its_band() -> None:
    """WINTER's prv_candidates lack diffmaglim, so only the candidate row passes §3.2."""
    assert WNTR.instrument == "WINTER"
    paths = sorted(WNTR_DIR.rglob("*.avro"))
    assert paths
    for path in paths:
        alert = WNTR.prepare(decode_alert(path))
        assert alert.aux["prv_candidates"]
        candidate = alert.alert["candidate"]
        (point,) = WNTR.photometry(alert.alert, alert.aux)
        assert point.mjd == candidate["jd"] - 2400000.5
        assert point.filter == "2massj"  # fid 2 in mirar's numbering
        assert point.flux == pytest.approx(10 ** (-0.4 * (candidate["magpsf"] - 23.9)))
        assert (point.ra, point.dec, point.programid) == (candidate["ra"], candidate["dec"], 1)
        assert WNTR.candidate_score(alert.alert) is None  # rb is null in these packets
