"""Per-object history merging (the aux document)."""

from services.archive.history import merge_aux, merge_by_jd, union_points


def test_union_keeps_distinct_points_sorted_and_drops_exact_repeats() -> None:
    first = [{"jd": 2.0, "magpsf": 18.0}, {"jd": 1.0, "magpsf": 19.0}]
    second = [{"jd": 1.0, "magpsf": 19.0}, {"jd": 2.0, "magpsf": 17.5}, {"jd": 3.0}]
    merged = union_points(first, second)
    assert merged == [
        {"jd": 1.0, "magpsf": 19.0},
        {"jd": 2.0, "magpsf": 18.0},
        {"jd": 2.0, "magpsf": 17.5},  # same jd, another detection: both are kept
        {"jd": 3.0},
    ]
    # Key order does not make a point different.
    assert union_points([{"a": 1, "jd": 1.0}], [{"jd": 1.0, "a": 1}]) == [{"a": 1, "jd": 1.0}]


def test_forced_photometry_keeps_the_brightest_alerts_point_per_jd() -> None:
    archived = [{"jd": 1.0, "alert_mag": 18.0, "flux": 1}, {"jd": 2.0, "alert_mag": 18.0}]
    new = [{"jd": 1.0, "alert_mag": 17.0, "flux": 2}, {"jd": 3.0, "alert_mag": 19.0}]
    merged = merge_by_jd(archived, new)
    assert [p["jd"] for p in merged] == [1.0, 2.0, 3.0]
    assert merged[0]["flux"] == 2
    # A tie keeps what was archived first.
    assert (
        merge_by_jd(
            [{"jd": 1.0, "alert_mag": 17.0, "v": "old"}],
            [{"jd": 1.0, "alert_mag": 17.0, "v": "new"}],
        )[0]["v"]
        == "old"
    )


def test_cross_matches_come_from_the_first_alert_only() -> None:
    first = merge_aux(None, {"prv_candidates": [], "cross_matches": {"vlass": [{"id": 1}]}})
    later = merge_aux(first, {"prv_candidates": [{"jd": 5.0}], "cross_matches": {"vlass": []}})
    assert later["cross_matches"] == {"vlass": [{"id": 1}]}
    assert later["prv_candidates"] == [{"jd": 5.0}]
    # Only the history arrays the survey has: this one has no forced photometry.
    assert "fp_hists" not in later


def test_every_history_array_of_a_survey_is_merged() -> None:
    """LSST's three arrays merge as ZTF's prv_candidates do: a union, sorted by jd."""
    source = {"diaSourceId": 1, "jd": 2.0, "psfFlux": 10.0}
    forced = {"diaForcedSourceId": 7, "jd": 1.0, "psfFlux": 3.0}
    first = merge_aux(None, {"prvDiaSources": [source], "prvDiaForcedSources": [forced]})
    later = merge_aux(
        first,
        {
            "prvDiaSources": [dict(source), {"diaSourceId": 2, "jd": 1.5, "psfFlux": 9.0}],
            "prvDiaForcedSources": [],
            "prvDiaNondetectionLimits": [{"jd": 0.5, "diaNoise": 40.0}],
        },
    )
    assert [p["diaSourceId"] for p in later["prvDiaSources"]] == [2, 1]
    assert later["prvDiaForcedSources"] == [forced]
    assert later["prvDiaNondetectionLimits"] == [{"jd": 0.5, "diaNoise": 40.0}]
    assert set(later) == {"prvDiaSources", "prvDiaForcedSources", "prvDiaNondetectionLimits"}


def test_aliases_are_kept_and_joined_by_survey() -> None:
    """Counterparts recorded in the aux document survive later merges and join per survey."""
    current = {"prv_candidates": [], "aliases": {"LSST": ["1"]}}
    merged = merge_aux(current, {"prv_candidates": [{"jd": 1.0}], "aliases": {"LSST": ["1", "2"]}})
    assert merged["aliases"] == {"LSST": ["1", "2"]}
    assert "aliases" not in merge_aux(None, {"prv_candidates": []})
