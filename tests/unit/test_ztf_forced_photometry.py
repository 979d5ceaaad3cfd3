import math

import pytest

from services.broker.surveys.ztf import flux_to_mag


def test_positive_flux_gives_all_derived_fields() -> None:
    derived = flux_to_mag(flux=1000.0, fluxerr=50.0, zeropoint=26.0)
    assert derived["snr"] == pytest.approx(20.0)
    assert derived["mag"] == pytest.approx(26.0 - 2.5 * 3)
    assert derived["magerr"] == pytest.approx(1.0857 * 0.05)
    assert derived["limmag3sig"] == pytest.approx(26.0 - 2.5 * math.log10(150.0))
    assert derived["limmag5sig"] == pytest.approx(26.0 - 2.5 * math.log10(250.0))


def test_negative_flux_gives_only_the_snr_and_missing_flux_nothing() -> None:
    assert flux_to_mag(-100.0, 50.0, 26.0) == {"snr": pytest.approx(-2.0)}
    assert flux_to_mag(math.nan, 50.0, 26.0) == {}
    assert flux_to_mag(100.0, 0.0, 26.0) == {}


def test_zero_flux_keeps_only_finite_values() -> None:
    derived = flux_to_mag(0.0, 50.0, 26.0)
    assert set(derived) == {"snr", "limmag3sig", "limmag5sig"}
    assert all(math.isfinite(v) for v in derived.values())
