"""Positions on the sky: the HEALPix index, cone covers, distances and Kowalski's radec formats.

Shared by the archive (catalogs, cone_search, near, cross-matching) and the broker (alerts):
both index a position as ``coordinates.healpix`` at :data:`HEALPIX_ORDER`, so one cone cover
finds catalog rows and alerts alike.
"""

from __future__ import annotations

import ast
import functools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import astropy.units as u
import astropy_healpix
import numpy as np
from astropy.coordinates import Angle
from astropy_healpix.core import healpix_cone_search

# Nested HEALPix at order 16 (nside 65536): a pixel is ~3.2" across, the size of the 2" cones
# that cross-matching uses, so such a cone is covered by a handful of pixels and few rows are
# fetched beyond the exact matches. Indexes stay below 12 * 4**16 ~ 5.2e10, well inside int64.
HEALPIX_ORDER = 16
HEALPIX_NSIDE = 1 << HEALPIX_ORDER
HEALPIX_NPIX = 12 * HEALPIX_NSIDE * HEALPIX_NSIDE

# Angular size (sqrt of the pixel area) of an order-0 pixel; order k is this / 2**k.
_ORDER0_RESOLUTION_DEG = math.degrees(math.sqrt(math.pi / 3))
# Guards the cover against rounding in the distance of a pixel's centre.
_COVER_SLACK = 1e-9

RADIUS_UNITS_DEG = {"arcsec": 1 / 3600, "arcmin": 1 / 60, "deg": 1.0, "rad": math.degrees(1)}


def healpix_index(ra_deg: Any, dec_deg: Any) -> Any:
    """Nested HEALPix index at :data:`HEALPIX_ORDER`: an int for scalars, int64 array otherwise."""
    index = astropy_healpix.lonlat_to_healpix(
        np.asarray(ra_deg, dtype=float) * u.deg,
        np.asarray(dec_deg, dtype=float) * u.deg,
        HEALPIX_NSIDE,
        order="nested",
    )
    if np.ndim(index) == 0:
        return int(index)
    return np.asarray(index, dtype=np.int64)


@functools.cache
def max_pixel_radius_deg(order: int) -> float:
    """The largest distance from a pixel's centre to any point of that pixel (HEALPix C++)."""
    nside = 1 << order

    def unit_vector(z: float, phi: float) -> np.ndarray:
        sin_theta = math.sqrt(1 - z * z)
        return np.array([sin_theta * math.cos(phi), sin_theta * math.sin(phi), z])

    corner = unit_vector(2 / 3, math.pi / (4 * nside))
    t = (1 - 1 / nside) ** 2
    centre = unit_vector(1 - t / 3, 0.0)
    return math.degrees(math.acos(min(1.0, float(corner @ centre))))


def _cover_order(radius_deg: float) -> int:
    """The finest order whose pixels are at least as large as the cone: a cone then touches
    only a few pixels, so the number of ranges stays small at any radius."""
    if radius_deg <= 0:
        return HEALPIX_ORDER
    order = math.floor(math.log2(_ORDER0_RESOLUTION_DEG / radius_deg))
    return max(0, min(HEALPIX_ORDER, order))


def cone_pixel_ranges(ra_deg: float, dec_deg: float, radius_deg: float) -> list[tuple[int, int]]:
    """Half-open ranges ``[start, stop)`` of order-16 nested indexes that cover the whole cone.

    Every point within ``radius_deg`` of the centre has its :func:`healpix_index` in one of the
    ranges (the cover may hold more; callers check the exact distance). The ranges are sorted
    and disjoint, and there are few of them: the cover is built at a coarser order chosen from
    the radius, where each pixel is one contiguous range of order-16 indexes.
    """
    return cone_pixel_ranges_batch([ra_deg], [dec_deg], [radius_deg])[0]


def cone_pixel_ranges_batch(
    ra_deg: Sequence[float], dec_deg: Sequence[float], radius_deg: Sequence[float]
) -> list[list[tuple[int, int]]]:
    """:func:`cone_pixel_ranges` of many cones at once (the per-cone work is vectorised)."""
    owners: list[np.ndarray] = []
    candidates: list[np.ndarray] = []
    orders: list[np.ndarray] = []
    everything: set[int] = set()
    for i, (ra, dec, radius) in enumerate(zip(ra_deg, dec_deg, radius_deg, strict=True)):
        check_position(ra, dec, f"cone {i}")
        if not math.isfinite(radius) or radius < 0:
            raise ValueError(f"cone radius must be a finite number >= 0 degrees, got {radius}")
        if radius >= 180:
            everything.add(i)
            continue
        order = _cover_order(radius)
        # A pixel holding a point of the cone has its centre within radius + pixel radius.
        # Every such pixel lies wholly inside the wider cone searched here, and a cone search
        # returns every pixel wholly inside it; the exact centre distance then trims the rest.
        pixels = healpix_cone_search(
            ra * u.deg,
            dec * u.deg,
            min(180.0, radius + 2 * max_pixel_radius_deg(order)) * u.deg,
            1 << order,
            order="nested",
        )
        owners.append(np.full(len(pixels), i))
        candidates.append(np.asarray(pixels, dtype=np.int64))
        orders.append(np.full(len(pixels), order))
    result: list[list[tuple[int, int]]] = [
        [(0, HEALPIX_NPIX)] if i in everything else [] for i in range(len(radius_deg))
    ]
    if not candidates:
        return result
    owner = np.concatenate(owners)
    pixel = np.concatenate(candidates)
    order = np.concatenate(orders)
    keep = np.zeros(len(pixel), dtype=bool)
    for level in np.unique(order):
        at = order == level
        lon, lat = astropy_healpix.healpix_to_lonlat(pixel[at], 1 << int(level), order="nested")
        cone = owner[at]
        distance = angular_separation_deg(
            np.asarray(ra_deg, dtype=float)[cone],
            np.asarray(dec_deg, dtype=float)[cone],
            lon.deg,
            lat.deg,
        )
        limit = np.asarray(radius_deg, dtype=float)[cone] + max_pixel_radius_deg(int(level))
        keep[at] = distance <= limit * (1 + _COVER_SLACK) + _COVER_SLACK
    owner, pixel, order = owner[keep], pixel[keep], order[keep]
    # Order-16 ranges, merged where a cone's pixels are consecutive at its cover order.
    shift = 2 * (HEALPIX_ORDER - order)
    sorted_at = np.lexsort((pixel, owner))
    owner, pixel, shift = owner[sorted_at], pixel[sorted_at], shift[sorted_at]
    new_run = np.ones(len(pixel), dtype=bool)
    new_run[1:] = (owner[1:] != owner[:-1]) | (pixel[1:] != pixel[:-1] + 1)
    starts = np.flatnonzero(new_run)
    stops = np.append(starts[1:], len(pixel)) - 1
    for first, last in zip(starts.tolist(), stops.tolist(), strict=True):
        result[int(owner[first])].append(
            (int(pixel[first]) << int(shift[first]), (int(pixel[last]) + 1) << int(shift[first]))
        )
    return result


def merge_ranges(ranges: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The union of half-open ranges, as sorted disjoint ranges (adjacent ones joined)."""
    merged: list[tuple[int, int]] = []
    for start, stop in sorted(ranges):
        if merged and start <= merged[-1][1]:
            if stop > merged[-1][1]:
                merged[-1] = (merged[-1][0], stop)
        else:
            merged.append((start, stop))
    return merged


def angular_separation_deg(ra1_deg: Any, dec1_deg: Any, ra2_deg: Any, dec2_deg: Any) -> Any:
    """Great-circle distance in degrees (Vincenty's formula: exact at any separation),
    vectorised over numpy broadcasting."""
    ra1, dec1, ra2, dec2 = (
        np.radians(np.asarray(v, dtype=float)) for v in (ra1_deg, dec1_deg, ra2_deg, dec2_deg)
    )
    delta = ra2 - ra1
    sin_d1, cos_d1 = np.sin(dec1), np.cos(dec1)
    sin_d2, cos_d2 = np.sin(dec2), np.cos(dec2)
    x = cos_d2 * np.sin(delta)
    y = cos_d1 * sin_d2 - sin_d1 * cos_d2 * np.cos(delta)
    z = sin_d1 * sin_d2 + cos_d1 * cos_d2 * np.cos(delta)
    return np.degrees(np.arctan2(np.hypot(x, y), z))


def check_position(ra_deg: float, dec_deg: float, what: str = "position") -> None:
    if not (math.isfinite(ra_deg) and 0 <= ra_deg <= 360):
        raise ValueError(f"{what}: ra must be in [0, 360] degrees, got {ra_deg}")
    if not (math.isfinite(dec_deg) and -90 <= dec_deg <= 90):
        raise ValueError(f"{what}: dec must be in [-90, 90] degrees, got {dec_deg}")


def first_bad_position(ra_deg: np.ndarray, dec_deg: np.ndarray) -> int | None:
    """Index of the first position outside ra [0, 360], dec [-90, 90] (or NaN), else None."""
    with np.errstate(invalid="ignore"):
        good = (ra_deg >= 0) & (ra_deg <= 360) & (dec_deg >= -90) & (dec_deg <= 90)
    bad = np.flatnonzero(~good)
    return int(bad[0]) if bad.size else None


def radec_str(ra_deg: Any, dec_deg: Any) -> list[list[str]]:
    """Kowalski's ``coordinates.radec_str``: ``["HH:MM:SS.ssss", "DD:MM:SS.sss"]`` per position."""
    ra = Angle(np.atleast_1d(np.asarray(ra_deg, dtype=float)) % 360, unit=u.deg)
    dec = Angle(np.atleast_1d(np.asarray(dec_deg, dtype=float)), unit=u.deg)
    # Rounding can carry 23:59:59.99999 up to 24:00:00.0000, which is 00:00:00.0000.
    ra_text = [
        "00" + text[2:] if text.startswith("24") else text
        for text in ra.to_string(unit=u.hourangle, sep=":", precision=4, pad=True)
    ]
    dec_text = dec.to_string(unit=u.deg, sep=":", precision=3, pad=True)
    return [[str(r), str(d)] for r, d in zip(ra_text, dec_text, strict=True)]


def coordinates_documents(ra_deg: np.ndarray, dec_deg: np.ndarray) -> list[dict[str, Any]]:
    """The ``coordinates`` sub-document of each position, as Kowalski stores it, plus the
    HEALPix index that cone searches use."""
    ra = np.asarray(ra_deg, dtype=float)
    dec = np.asarray(dec_deg, dtype=float)
    pixels = healpix_index(ra, dec).tolist()
    texts = radec_str(ra, dec)
    return [
        {
            # GeoJSON longitudes run over [-180, 180].
            "radec_geojson": {"type": "Point", "coordinates": [float(r) - 180.0, float(d)]},
            "radec_str": text,
            "healpix": pixel,
        }
        for r, d, text, pixel in zip(ra.tolist(), dec.tolist(), texts, pixels, strict=True)
    ]


def radius_deg(radius: Any, unit: str, what: str = "radius") -> float:
    """A radius in one of Kowalski's units (arcsec, arcmin, deg, rad) -> degrees."""
    if unit not in RADIUS_UNITS_DEG:
        raise ValueError(f"{what} unit must be one of {', '.join(RADIUS_UNITS_DEG)}, got {unit!r}")
    if isinstance(radius, bool) or not isinstance(radius, int | float):
        raise ValueError(f"{what} must be a number, got {radius!r}")
    if not math.isfinite(radius) or radius < 0:
        raise ValueError(f"{what} must be a finite number >= 0, got {radius}")
    return float(radius) * RADIUS_UNITS_DEG[unit]


def parse_radec(radec: Any) -> dict[str, tuple[float, float]]:
    """Kowalski's ``radec`` -> ``{name: (ra_deg, dec_deg)}``, in the given order.

    Accepted, as Kowalski accepts them:
    - ``{"name": [ra, dec], ...}``;
    - ``[[ra, dec], ...]``: each position is named by its text, e.g. ``"[71_6577756, -10_2]"``;
    - ``"ra dec"`` (degrees) or ``"HH:MM:SS DD:MM:SS"`` or ``"12h34m56s +12d34m56s"``: one
      position named ``"(ra, dec)"`` (``"('12:34:56', '+12:34:56')"`` for sexagesimal);
    - the text of a list or mapping of the above, e.g. ``"[(10.5, 20.1)]"``.
    Each coordinate is decimal degrees or sexagesimal text (ra in hours, dec in degrees).
    Dots in names become underscores (MongoDB field names).
    """
    if isinstance(radec, str):
        radec = _parse_radec_text(radec)
    if isinstance(radec, Mapping):
        named = [(str(name), value) for name, value in radec.items()]
    elif isinstance(radec, list | tuple):
        named = [(str(value), value) for value in radec]
    else:
        raise ValueError(
            'radec must be {"name": [ra, dec]}, [[ra, dec], ...] or a string "ra dec"; '
            f"got {type(radec).__name__}"
        )
    if not named:
        raise ValueError("radec names no position")
    positions: dict[str, tuple[float, float]] = {}
    for name, value in named:
        positions[name.replace(".", "_")] = _position(value, name)
    return positions


def _parse_radec_text(text: str) -> Any:
    text = text.strip()
    if text.startswith(("[", "(", "{")):
        try:
            return ast.literal_eval(text)
        except (ValueError, SyntaxError) as exc:
            raise ValueError(
                f"radec string {text!r} is not a list or mapping of positions"
            ) from exc
    parts = text.split()
    if len(parts) != 2:
        raise ValueError(f'radec string must be "ra dec", got {text!r}')
    if any(c in text for c in ":hdms"):
        return [tuple(parts)]
    try:
        return [tuple(ast.literal_eval(p) for p in parts)]
    except (ValueError, SyntaxError) as exc:
        raise ValueError(f'radec string must be "ra dec" in degrees, got {text!r}') from exc


def _position(value: Any, name: str) -> tuple[float, float]:
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise ValueError(f"radec {name!r}: a position is [ra, dec], got {value!r}")
    ra = _coordinate(value[0], u.hourangle, name, "ra")
    dec = _coordinate(value[1], u.deg, name, "dec")
    check_position(ra, dec, f"radec {name!r}")
    return ra, dec


def _coordinate(value: Any, text_unit: u.Unit, name: str, axis: str) -> float:
    if isinstance(value, bool):
        raise ValueError(f"radec {name!r}: {axis} must be a number or a string, got {value!r}")
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"radec {name!r}: {axis} must be a number or a string, got {value!r}")
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return float(Angle(value.strip(), unit=text_unit).deg)
    except (ValueError, u.UnitsError) as exc:
        raise ValueError(f"radec {name!r}: cannot read {axis} {value!r}: {exc}") from exc
