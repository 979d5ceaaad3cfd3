"""The ML inputs of a ZTF alert: the cutout triplet and ACAI's 25 features."""

from __future__ import annotations

import gzip
import io
from typing import Any

import numpy as np
import pytest
from astropy.io import fits

from services.broker.surveys.ml_inputs import PAD_VALUE, make_triplet, ztf_features

KINDS = ("cutoutScience", "cutoutTemplate", "cutoutDifference")
# The order of ../shared/data/README.md (and models/README.md), typed out independently.
README_FEATURE_ORDER = (
    "drb diffmaglim ra dec magpsf sigmapsf chipsf fwhm sky chinr sharpnr sgscore1 distpsnr1 "
    "sgscore2 distpsnr2 sgscore3 distpsnr3 ndethist ncovhist scorr nmtchps clrcoeff clrcounc "
    "neargaia neargaiabright"
).split()
# This alert's template marks pixels without data with float32's maximum: squared in float32
# (as Kowalski computes the norm) they overflow, the norm is inf, and the stamp becomes zeros.
FILLED_TEMPLATE_ALERT = 2475433850015015000


def raw_cutout(stamp: bytes) -> np.ndarray:
    with fits.open(io.BytesIO(gzip.decompress(stamp)), ignore_missing_simple=True) as hdus:
        return np.array(hdus[0].data, dtype=np.float64)


def stamp_of(image: np.ndarray) -> dict[str, bytes]:
    buffer = io.BytesIO()
    fits.PrimaryHDU(image.astype(">f4")).writeto(buffer)
    return {"stampData": gzip.compress(buffer.getvalue())}


def test_triplet_of_every_bundled_alert_is_its_l2_normalised_cutouts(
    ztf_alerts: dict[int, dict[str, Any]],
) -> None:
    assert len(ztf_alerts) == 28
    for candid, packet in ztf_alerts.items():
        triplet = make_triplet(packet)
        assert triplet.shape == (63, 63, 3) and triplet.dtype == np.float32, candid
        assert np.isfinite(triplet).all(), candid
        for channel, kind in enumerate(KINDS):
            raw = np.nan_to_num(raw_cutout(packet[kind]["stampData"]), nan=0.0)
            assert raw.shape == (63, 63), (candid, kind)
            if candid == FILLED_TEMPLATE_ALERT and kind == "cutoutTemplate":
                assert np.abs(raw).max() == np.finfo(np.float32).max
                assert not triplet[..., channel].any()
                continue
            expected = raw / np.linalg.norm(raw)
            np.testing.assert_allclose(triplet[..., channel], expected, rtol=1e-5, atol=1e-7)
            assert np.linalg.norm(triplet[..., channel].astype(np.float64)) == pytest.approx(1.0)


def test_nan_pixels_become_zero(ztf_alerts: dict[int, dict[str, Any]]) -> None:
    packet = ztf_alerts[FILLED_TEMPLATE_ALERT]
    science = raw_cutout(packet["cutoutScience"]["stampData"])
    assert np.isnan(science).sum() > 1000
    assert not make_triplet(packet)[..., 0][np.isnan(science)].any()


def test_a_small_cutout_is_padded_bottom_right_with_1e_9(
    ztf_alerts: dict[int, dict[str, Any]],
) -> None:
    packet = dict(ztf_alerts[min(ztf_alerts)])
    science = raw_cutout(packet["cutoutScience"]["stampData"])[:50, :40]
    packet["cutoutScience"] = stamp_of(science)
    channel = make_triplet(packet)[..., 0]
    np.testing.assert_allclose(channel[:50, :40], science / np.linalg.norm(science), rtol=1e-5)
    padding = np.ones((63, 63), dtype=bool)
    padding[:50, :40] = False
    assert (channel[padding] == np.float32(PAD_VALUE)).all()


@pytest.mark.parametrize("fill", [0.0, np.nan])
def test_an_empty_cutout_stays_zero_instead_of_nan(
    ztf_alerts: dict[int, dict[str, Any]], fill: float
) -> None:
    packet = dict(ztf_alerts[min(ztf_alerts)])
    packet["cutoutDifference"] = stamp_of(np.full((63, 63), fill))
    triplet = make_triplet(packet)
    assert np.isfinite(triplet).all()
    assert not triplet[..., 2].any()
    assert triplet[..., 0].any() and triplet[..., 1].any()


def test_a_missing_or_oversized_cutout_is_a_value_error(
    ztf_alerts: dict[int, dict[str, Any]],
) -> None:
    packet = dict(ztf_alerts[min(ztf_alerts)])
    packet["cutoutTemplate"] = None
    with pytest.raises(ValueError, match=r"no cutoutTemplate\.stampData"):
        make_triplet(packet)
    packet["cutoutTemplate"] = stamp_of(np.ones((64, 63)))
    with pytest.raises(ValueError, match=r"cutoutTemplate .* 64x63, larger than 63x63"):
        make_triplet(packet)
    packet["cutoutTemplate"] = {"stampData": b"not gzip"}
    with pytest.raises(ValueError, match="cutoutTemplate is not a usable gzipped FITS stamp"):
        make_triplet(packet)


def test_features_follow_the_documented_order(ztf_alerts: dict[int, dict[str, Any]]) -> None:
    for candid, packet in ztf_alerts.items():
        candidate = packet["candidate"]
        features = ztf_features(candidate)
        assert features.shape == (25,) and features.dtype == np.float32
        expected = np.array([candidate[name] for name in README_FEATURE_ORDER], np.float32)
        np.testing.assert_array_equal(features, expected, err_msg=str(candid))


def test_a_null_or_missing_feature_is_zero(ztf_alerts: dict[int, dict[str, Any]]) -> None:
    candidate = dict(ztf_alerts[min(ztf_alerts)]["candidate"])
    candidate["sgscore3"] = None
    del candidate["neargaiabright"]
    features = ztf_features(candidate)
    position = {name: i for i, name in enumerate(README_FEATURE_ORDER)}
    assert features[position["sgscore3"]] == 0
    assert features[position["neargaiabright"]] == 0
    assert features[position["magpsf"]] == np.float32(candidate["magpsf"])
