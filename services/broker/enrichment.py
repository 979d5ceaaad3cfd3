"""Positional enrichment of a batch of alerts, vectorised with astropy.

Each alert gets the ``coordinates`` block catalogs get too (``radec_str``, ``radec_geojson``,
``healpix``: see skymesh.sky), plus Galactic ``l``/``b`` as Kowalski stores them and ecliptic
``lambda``/``beta`` (barycentric mean ecliptic, J2000).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord

from skymesh.sky import coordinates_documents


def coordinates(ra_deg: Sequence[float], dec_deg: Sequence[float]) -> list[dict[str, Any]]:
    """One ``coordinates`` document per position (ICRS degrees)."""
    if len(ra_deg) == 0:
        return []
    ra = np.asarray(ra_deg, dtype=np.float64)
    dec = np.asarray(dec_deg, dtype=np.float64)
    sky = SkyCoord(ra=ra * u.deg, dec=dec * u.deg, frame="icrs")
    galactic = sky.galactic
    ecliptic = sky.barycentricmeanecliptic
    documents = coordinates_documents(ra, dec)
    for document, gal_l, gal_b, lon, lat in zip(
        documents,
        galactic.l.deg.tolist(),
        galactic.b.deg.tolist(),
        ecliptic.lon.deg.tolist(),
        ecliptic.lat.deg.tolist(),
        strict=True,
    ):
        document.update({"l": gal_l, "b": gal_b, "lambda": lon, "beta": lat})
    return documents
