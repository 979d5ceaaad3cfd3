"""m_AB - m_Vega of a ZTF band, computed from Vega's CALSPEC spectrum and the ZTF P48 curves
(tests/data/magsys/README.md) with sncosmo's formula, independently of the portal's table."""

from __future__ import annotations

import csv
import itertools
import math
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "magsys"
C_AA_PER_S = 2.99792458e18


def _columns(name: str) -> tuple[list[float], list[float]]:
    with (DATA / name).open() as fh:
        rows = list(csv.reader(fh))[1:]
    return [float(r[0]) for r in rows], [float(r[1]) for r in rows]


def _interp(x: float, xs: list[float], ys: list[float]) -> float:
    if x <= xs[0] or x >= xs[-1]:
        return 0.0
    lo, hi = 0, len(xs) - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if xs[mid] <= x else (lo, mid)
    t = (x - xs[lo]) / (xs[hi] - xs[lo])
    return ys[lo] + t * (ys[hi] - ys[lo])


def ab_minus_vega(band: str) -> float:
    """sncosmo's zpbandflux ratio, integrated here on a 1 Å grid (trapezoids):
    m_AB - m_Vega = -2.5 log10(∫ f_Vega T λ dλ / ∫ f_AB T λ dλ), f_AB = 3631 Jy · c / λ²."""
    wave, trans = _columns(f"ztf_p48_{band[-1]}.csv")
    vega_wave, vega_flux = _columns("vega_calspec_stis_011.csv")
    grid = [wave[0] + i for i in range(int(wave[-1] - wave[0]) + 1)]
    vega = ab = 0.0
    for left, right in itertools.pairwise(grid):
        for x, weight in ((left, 0.5), (right, 0.5)):
            t = _interp(x, wave, trans) * x * weight
            vega += _interp(x, vega_wave, vega_flux) * t
            ab += 3631e-23 * C_AA_PER_S / x**2 * t
    return -2.5 * math.log10(vega / ab)
