"""Magnitude systems: photometry is stored in AB (µJy, zero point 23.9); uploads in Vega
magnitudes or fluxes are converted on the way in, and readers may ask for Vega on the way out.

SkyPortal converts with sncosmo: a point in system S and band b is scaled by
``S.zpbandflux(b) / AB.zpbandflux(b)``, the photon flux of a zero-magnitude source in S over
that of one in AB. sncosmo fetches the bandpass curves and Vega's spectrum from its data server
at run time, which the mesh cannot reach, so the per-band offsets are kept here as a table,
computed once with sncosmo's formula (photon-counting integrals, ∫ f_λ T λ dλ):

- Vega: CALSPEC ``alpha_lyr_stis_011`` (STScI; sncosmo uses the older ``_007``, which differs
  by a few millimagnitudes);
- ztfg/ztfr/ztfi: the ZTF P48 transmission curves (ZTF's published ``P48_g|R|I``, as shipped
  by ztfquery's ``filter_p48_*.dat``, sncosmo's ``ztf*`` bands);
- bessellux/b/v/r/i: sncosmo's own Bessell (1990) curves (photons/erg, as sncosmo reads them).

tests/unit/test_portal_magsys.py recomputes the ZTF entries from a copy of those curves.
A filter without an entry has no Vega system here: an upload in Vega is refused naming it, and a
reader asking for Vega gets AB, labelled so (as SkyPortal does for bands sncosmo lacks).
"""

from __future__ import annotations

import math

# SkyPortal stores flux in µJy: AB magnitudes with this zero point.
PHOT_ZP = 23.9
# 2.5 / ln 10: the magnitude error of a relative flux error. SkyPortal converts uploads with
# it exactly and serves magerr with it rounded (SKYPORTAL_SPEC.md §4: 1.0857·fluxerr/flux).
MAG_PER_LN = 2.5 / math.log(10)
SERVED_MAG_PER_LN = 1.0857

# m_AB - m_Vega of the same source, per band (see the module docstring).
AB_MINUS_VEGA: dict[str, float] = {
    "ztfg": -0.1091,
    "ztfr": 0.1821,
    "ztfi": 0.4259,
    "bessellux": 0.7911,
    "bessellb": -0.1186,
    "bessellv": 0.0018,
    "bessellr": 0.1921,
    "besselli": 0.4449,
}
SYSTEMS = ("ab", "vega")


def check_system(name: str) -> str:
    system = (name or "ab").strip().lower()
    if system not in SYSTEMS:
        raise ValueError(f"magsys must be one of {', '.join(SYSTEMS)}, not {name!r}")
    return system


def offset(system: str, band: str) -> float | None:
    """m_AB - m_system in ``band``: 0 for AB, None when the band has no such system here."""
    if system == "ab":
        return 0.0
    return AB_MINUS_VEGA.get(band)


def to_ab_factor(system: str, band: str) -> float:
    """The factor that takes a flux in ``system`` (same zero point) to AB."""
    shift = offset(system, band)
    if shift is None:
        raise ValueError(
            f"cannot convert filter {band!r} from magsys {system!r} to AB: no {system} zero "
            f"point is known for it (known: {', '.join(sorted(AB_MINUS_VEGA))})"
        )
    return 10 ** (-0.4 * shift)


def output_system(system: str, band: str) -> tuple[str, float]:
    """The system a point is reported in and m_AB - m_that: the one asked for when the band
    has it, else AB."""
    shift = offset(system, band)
    return ("ab", 0.0) if shift is None else (system, shift)
