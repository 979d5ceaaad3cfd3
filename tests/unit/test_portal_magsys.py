"""Photometry in and out of the portal: the Vega → AB table recomputed from the curves, the
upload conversions (SKYPORTAL_SPEC.md §4) against independent arithmetic, and the ASCII
spectrum reader."""

from __future__ import annotations

import pytest

from services.portal.magsys import AB_MINUS_VEGA, PHOT_ZP, to_ab_factor
from services.portal.photometry_upload import split_packets, standardize
from services.portal.spectra import parse_ascii, parse_header_line
from tests.magsys_truth import ab_minus_vega


@pytest.mark.parametrize("band", ["ztfg", "ztfr", "ztfi"])
def test_the_vega_table_matches_the_ztf_curves(band: str) -> None:
    assert AB_MINUS_VEGA[band] == pytest.approx(ab_minus_vega(band), abs=1e-3)


def test_vega_is_brighter_than_ab_in_g_and_fainter_in_r_and_i() -> None:
    # The signs every AB-Vega table agrees on (Vega's spectrum peaks in the blue).
    assert AB_MINUS_VEGA["ztfg"] < 0 < AB_MINUS_VEGA["ztfr"] < AB_MINUS_VEGA["ztfi"]
    assert to_ab_factor("ab", "anything") == 1.0
    with pytest.raises(ValueError, match="no vega zero point"):
        to_ab_factor("vega", "sdssz")


def base(**extra: object) -> dict[str, object]:
    return {"obj_id": "ZTF1", "instrument_id": 1, "mjd": 59000.5, "filter": "ztfg", **extra}


def test_magnitudes_become_microjansky_and_limits_fluxerr() -> None:
    packets, kind = split_packets(
        base(
            mjd=[59000.5, 59001.5],
            mag=[18.0, None],
            magerr=[0.1, None],
            limiting_mag=[20.5, 21.0],
            magsys="ab",
        )
    )
    assert kind == "mag"
    detection, limit = (standardize(p, kind) for p in packets)
    assert detection["flux"] == pytest.approx(10 ** (-0.4 * (18.0 - 23.9)))
    assert detection["fluxerr"] == pytest.approx(0.1 * detection["flux"] / 1.0857, rel=1e-4)
    assert limit["flux"] is None
    # limiting_mag_nsigma defaults to 3.
    assert limit["fluxerr"] == pytest.approx(10 ** (-0.4 * (21.0 - 23.9)) / 3)
    assert limit["original_user_data"] == {
        "magsys": "ab",
        "limiting_mag": 21.0,
        "limiting_mag_nsigma": 3.0,
    }


def test_fluxes_in_another_zero_point_and_vega_are_rescaled_to_ab() -> None:
    (packet,), kind = split_packets(base(flux=1000.0, fluxerr=10.0, zp=25.0, magsys="vega"))
    row = standardize(packet, kind)
    expected = 1000.0 * 10 ** (-0.4 * (25.0 - PHOT_ZP)) * 10 ** (-0.4 * ab_minus_vega("ztfg"))
    assert row["flux"] == pytest.approx(expected, rel=1e-3)
    assert row["fluxerr"] / row["flux"] == pytest.approx(0.01)


def test_packets_broadcast_and_refuse_ragged_lists() -> None:
    packets, _ = split_packets(
        base(mjd=[1.0, 2.0, 3.0], flux=5.0, fluxerr=1.0, zp=23.9, magsys="ab", altdata={"a": 1})
    )
    assert [p["mjd"] for p in packets] == [1.0, 2.0, 3.0]
    assert all(p["flux"] == 5.0 and p["altdata"] == {"a": 1} for p in packets)
    with pytest.raises(ValueError, match="same length"):
        split_packets(base(mjd=[1.0, 2.0], flux=[1.0], fluxerr=1.0, zp=23.9, magsys="ab"))
    with pytest.raises(ValueError, match="missing required field magsys"):
        (packet,), kind = split_packets(base(flux=1.0, fluxerr=1.0, zp=23.9))
        standardize(packet, kind)
    with pytest.raises(ValueError, match="mag and magerr must both be null"):
        (packet,), kind = split_packets(base(mag=18.0, magsys="ab", limiting_mag=20.0))
        standardize(packet, kind)


def test_ascii_headers_of_both_styles_become_altdata() -> None:
    assert parse_header_line("# EXPTIME: 300") == ("exptime", 300)
    assert parse_header_line("# OBSERVER: A. Person") == ("observer", "A. Person")
    assert parse_header_line("# INSTRUME= 'SPRAT   '           / Instrument used.") == (
        "instrume",
        {"value": "SPRAT", "comment": "Instrument used."},
    )
    assert parse_header_line("# OBJECT = 'a/b'") == ("object", "a/b")
    assert parse_header_line("# wavelength flux") is None
    parsed = parse_ascii(
        "# TELESCOP = 'LT' / the telescope\n# AIRMASS: 1.2\nwave flux err\n"
        "4000 1e-16 1e-18\n4001, 2e-16, 2e-18\n",
        fluxerr_column=2,
    )
    assert parsed == {
        "wavelengths": [4000.0, 4001.0],
        "fluxes": [1e-16, 2e-16],
        "errors": [1e-18, 2e-18],
        "altdata": {"telescop": {"value": "LT", "comment": "the telescope"}, "airmass": 1.2},
    }
    with pytest.raises(ValueError, match="Line 3"):
        parse_ascii("4000 1\n4001 2\n4002 x\n")
