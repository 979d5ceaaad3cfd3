"""The packet a filter sees, per survey (services/filters/upstream.py)."""

from __future__ import annotations

from services.filters import upstream


def lsst_alert(jd: float) -> dict:
    return {
        "_id": 5,
        "candid": 5,
        "objectId": "171",
        "diaSource": {"jd": jd, "snr": 30.0},
        "cutoutScience": b"SIMPLE",
    }


def test_an_lsst_filter_sees_every_alert_of_its_stream_with_past_history() -> None:
    aux = {
        "_id": "171",
        "prvDiaSources": [{"jd": 10.0}, {"jd": 20.0}, {"jd": 30.0}],
        "prvDiaForcedSources": [{"jd": 15.0}],
        "aliases": {"ZTF": ["ZTF20aaelulu"]},
    }
    # No programids: no permissions are needed (Rubin's data rights are by stream).
    packet = upstream.build_packet(upstream.LSST, lsst_alert(jd=20.0), aux, permissions=[])
    assert packet is not None
    assert packet["diaSource"]["snr"] == 30.0 and "cutoutScience" not in packet
    # Only the history before the alert (a merged aux document may hold later points).
    assert packet["prvDiaSources"] == [{"jd": 10.0}]
    assert packet["prvDiaForcedSources"] == [{"jd": 15.0}]
    assert packet["prvDiaNondetectionLimits"] is None
    assert packet["aliases"] == {"ZTF": ["ZTF20aaelulu"]}


def test_a_ztf_filter_still_needs_the_alerts_programid() -> None:
    alert = {"candid": 1, "objectId": "ZTF1", "candidate": {"jd": 5.0, "programid": 2}}
    assert upstream.build_packet(upstream.ZTF, alert, None, permissions=[1]) is None
    assert upstream.build_packet(upstream.ZTF, alert, None, permissions=[1, 2]) is not None


def test_queries_follow_each_streams_fields() -> None:
    assert upstream.LSST.jd_key == "diaSource.jd"
    assert upstream.LSST.programid_match([1, 2]) == {}
    assert upstream.ZTF.programid_match([2, 1]) == {"candidate.programid": {"$in": [1, 2]}}


def test_a_counterparts_history_is_what_its_survey_shares_before_the_alert() -> None:
    """An LSST filter reads its ZTF counterpart's public points (programid 1) before the
    alert; a ZTF filter reads its LSST counterpart's points (Rubin's stream is public)."""
    ztf_aux = {
        "_id": "ZTF20aaelulu",
        "prv_candidates": [
            {"jd": 5.0, "programid": 1},
            {"jd": 6.0, "programid": 2},
            {"jd": 50.0, "programid": 1},
        ],
        "fp_hists": [{"jd": 7.0, "programid": 1}],
        "cross_matches": {"x": []},
    }
    aux = {"_id": "171", "prvDiaSources": [], "counterparts": {"ZTF": [ztf_aux]}}
    packet = upstream.build_packet(upstream.LSST, lsst_alert(jd=20.0), aux, permissions=[])
    assert packet is not None
    assert packet["counterparts"] == {
        "ZTF": [
            {
                "_id": "ZTF20aaelulu",
                "prv_candidates": [{"jd": 5.0, "programid": 1}],
                "fp_hists": [{"jd": 7.0, "programid": 1}],
            }
        ]
    }
    lsst_aux = {"_id": "171", "prvDiaSources": [{"jd": 3.0}, {"jd": 9.0}]}
    alert = {"candid": 1, "objectId": "ZTF1", "candidate": {"jd": 8.0, "programid": 2}}
    aux = {"prv_candidates": [], "counterparts": {"LSST": [lsst_aux], "WNTR": [{"_id": "W"}]}}
    packet = upstream.build_packet(upstream.ZTF, alert, aux, permissions=[1, 2])
    assert packet is not None
    # WINTER shares nothing with other surveys' filters (no statement of its data rights).
    assert packet["counterparts"] == {
        "LSST": [
            {
                "_id": "171",
                "prvDiaSources": [{"jd": 3.0}],
                "prvDiaForcedSources": None,
                "prvDiaNondetectionLimits": None,
            }
        ]
    }
