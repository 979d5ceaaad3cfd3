"""The portal's pure rules: stream altdata, SkyPortal's query booleans, photometry as served,
and filter outputs made storable."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from bson import Int64, ObjectId, json_util

from services.portal.db.models import Photometry
from services.portal.groups import check_altdata
from services.portal.objects import flag, point_json
from services.portal.passes import PHOT_ZP, plain


def test_stream_altdata_needs_a_collection_and_programids() -> None:
    assert check_altdata({"collection": "ZTF_alerts", "selector": [1, 2.0]}) == {
        "collection": "ZTF_alerts",
        "selector": [1, 2],
    }
    for bad in (
        {"selector": [1]},
        {"collection": "ZTF_alerts", "selector": [-1]},
        {
            "collection": "ZTF_alerts",
            "selector": "1",
        },
    ):
        with pytest.raises(ValueError):
            check_altdata(bad)


@pytest.mark.parametrize(
    ("word", "truth"),
    [("true", True), ("T", True), ("1", True), ("yes", True), ("false", False), ("", False)],
)
def test_query_booleans_are_skyportals(word: str, truth: bool) -> None:
    assert flag(word) is truth


def test_filter_outputs_become_plain_json() -> None:
    extended = json_util.dumps(
        {
            "candid": Int64(1127561445515015011),
            "when": datetime(2020, 2, 2, tzinfo=UTC),
            "oid": ObjectId("6b106593761ccd93fa3e4c7e"),
            "nan": math.nan,
            "nested": [{"x": 1.5}],
        }
    )
    assert plain(json_util.loads(extended)) == {
        "candid": 1127561445515015011,
        "when": "2020-02-02T00:00:00+00:00",
        "oid": "6b106593761ccd93fa3e4c7e",
        "nan": None,
        "nested": [{"x": 1.5}],
    }


def point(flux: float | None, fluxerr: float) -> Photometry:
    return Photometry(
        id=1,
        obj_id="ZTF1",
        instrument_id=1,
        mjd=59000.0,
        flux=flux,
        fluxerr=fluxerr,
        filter="ztfg",
        origin=None,
    )


def test_a_detection_is_served_in_magnitudes_and_flux() -> None:
    flux = 10 ** (-0.4 * (18.0 - PHOT_ZP))
    served = point_json(point(flux, flux / 10), "ZTF", "both", "ab", [])
    assert served["mag"] == pytest.approx(18.0)
    assert served["magerr"] == pytest.approx(0.10857)
    assert served["snr"] == pytest.approx(10)
    assert (served["flux"], served["zp"], served["magsys"]) == (flux, PHOT_ZP, "ab")


def test_a_non_detection_has_a_5_sigma_limit_and_no_magnitude() -> None:
    fluxerr = 10 ** (-0.4 * (20.5 - PHOT_ZP)) / 5
    served = point_json(point(None, fluxerr), "ZTF", "plot", "ab", [])
    assert set(served) == {
        "id",
        "obj_id",
        "filter",
        "mjd",
        "origin",
        "mag",
        "magerr",
        "limiting_mag",
    }
    assert served["mag"] is None
    assert served["limiting_mag"] == pytest.approx(20.5)
