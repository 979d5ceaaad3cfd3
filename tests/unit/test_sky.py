"""skymesh.sky against independent computations: astropy, astropy-healpix, brute force."""

from __future__ import annotations

import itertools

import astropy.units as u
import astropy_healpix
import numpy as np
import pytest
from astropy.coordinates import SkyCoord

from skymesh import sky

RNG_SEED = 20240311


def random_sky(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Uniform on the sphere."""
    return rng.uniform(0, 360, n), np.degrees(np.arcsin(rng.uniform(-1, 1, n)))


def points_around(
    rng: np.random.Generator, ra: float, dec: float, max_deg: float, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Points scattered up to ``max_deg`` from a centre (denser towards the edge of the cone)."""
    centre = SkyCoord(ra * u.deg, dec * u.deg)
    moved = centre.directional_offset_by(
        rng.uniform(0, 360, n) * u.deg, rng.uniform(0, max_deg, n) * u.deg
    )
    return moved.ra.deg, moved.dec.deg


def in_ranges(pixels: np.ndarray, ranges: list[tuple[int, int]]) -> np.ndarray:
    starts = np.array([a for a, _ in ranges], dtype=np.int64)
    stops = np.array([b for _, b in ranges], dtype=np.int64)
    slot = np.searchsorted(starts, pixels, side="right") - 1
    return (slot >= 0) & (pixels < stops[np.clip(slot, 0, None)])


def test_healpix_index_is_nested_order_16_for_scalars_and_arrays() -> None:
    ra, dec = random_sky(np.random.default_rng(RNG_SEED), 1000)
    expected = astropy_healpix.HEALPix(nside=2**16, order="nested").lonlat_to_healpix(
        ra * u.deg, dec * u.deg
    )
    indexes = sky.healpix_index(ra, dec)
    assert indexes.dtype == np.int64
    assert np.array_equal(indexes, expected)
    scalar = sky.healpix_index(float(ra[0]), float(dec[0]))
    assert type(scalar) is int and scalar == expected[0]
    assert sky.HEALPIX_ORDER == 16 and sky.HEALPIX_NPIX == 12 * 4**16


@pytest.mark.parametrize(
    "radius_arcsec", [0.05, 1.0, 2.0, 5.0, 30.0, 300.0, 3600.0, 5 * 3600.0, 40 * 3600.0]
)
def test_cone_cover_never_misses_a_point(radius_arcsec: float) -> None:
    rng = np.random.default_rng(RNG_SEED + int(radius_arcsec * 100))
    radius = radius_arcsec / 3600
    centres_ra, centres_dec = random_sky(rng, 40)
    # The hard places: the poles, the ra = 0/360 seam, the equator, the polar cap boundary.
    special = [(0.0, 0.0), (359.9999, 0.0), (0.0001, 89.9999), (180.0, -89.9999)]
    special += [(45.0, 41.8103), (359.99, -41.8103), (90.0, 90.0), (0.0, -90.0)]
    for ra, dec in [*zip(centres_ra, centres_dec, strict=True), *special]:
        ranges = sky.cone_pixel_ranges(float(ra), float(dec), radius)
        assert ranges == sorted(ranges)
        assert all(a < b for a, b in ranges)
        assert all(b1 < a2 for (_, b1), (a2, _) in itertools.pairwise(ranges))
        assert len(ranges) <= 32, f'{len(ranges)} ranges for a {radius_arcsec}" cone'
        pts_ra, pts_dec = points_around(rng, float(ra), float(dec), radius * 1.5, 3000)
        inside = (
            SkyCoord(pts_ra * u.deg, pts_dec * u.deg)
            .separation(SkyCoord(ra * u.deg, dec * u.deg))
            .deg
            <= radius
        )
        assert inside.sum() > 0
        covered = in_ranges(sky.healpix_index(pts_ra, pts_dec), ranges)
        missed = inside & ~covered
        assert not missed.any(), (
            f'cone ({ra}, {dec}, {radius_arcsec}") missed {missed.sum()} points'
        )


def test_cone_cover_of_random_points_over_the_whole_sky() -> None:
    rng = np.random.default_rng(RNG_SEED)
    pts_ra, pts_dec = random_sky(rng, 200_000)
    pixels = sky.healpix_index(pts_ra, pts_dec)
    catalog = SkyCoord(pts_ra * u.deg, pts_dec * u.deg)
    for ra, dec in zip(*random_sky(rng, 30), strict=True):
        radius = float(rng.choice([0.2, 1.0, 3.0, 12.0]))
        inside = catalog.separation(SkyCoord(ra * u.deg, dec * u.deg)).deg <= radius
        covered = in_ranges(pixels, sky.cone_pixel_ranges(float(ra), float(dec), radius))
        assert not (inside & ~covered).any()


def test_cone_cover_stays_close_to_the_cone() -> None:
    """A cover, not the sky: its area stays within a small factor of the cone's."""
    pixel_area = 4 * np.pi / sky.HEALPIX_NPIX
    rng = np.random.default_rng(RNG_SEED)
    for ra, dec in zip(*random_sky(rng, 50), strict=True):
        for radius in (2 / 3600, 30 / 3600, 0.5, 10.0):
            ranges = sky.cone_pixel_ranges(float(ra), float(dec), radius)
            cover = sum(b - a for a, b in ranges) * pixel_area
            cone = 2 * np.pi * (1 - np.cos(np.radians(radius)))
            assert cover / cone < 30, f"cover {cover / cone:.1f}x the cone at r={radius}"


def test_cone_of_half_the_sky_or_more_covers_everything() -> None:
    assert sky.cone_pixel_ranges(10.0, 20.0, 180.0) == [(0, sky.HEALPIX_NPIX)]


@pytest.mark.parametrize(
    ("ra", "dec", "radius", "message"),
    [
        (10.0, 20.0, -1.0, "radius"),
        (10.0, 20.0, float("nan"), "radius"),
        (400.0, 20.0, 1.0, "ra must be in"),
        (10.0, 95.0, 1.0, "dec must be in"),
    ],
)
def test_cone_cover_refuses_impossible_cones(
    ra: float, dec: float, radius: float, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        sky.cone_pixel_ranges(ra, dec, radius)


def test_merge_ranges_joins_overlapping_and_adjacent() -> None:
    assert sky.merge_ranges([(5, 7), (1, 3), (3, 4), (6, 9), (20, 21)]) == [
        (1, 4),
        (5, 9),
        (20, 21),
    ]


def test_angular_separation_matches_astropy_at_every_scale() -> None:
    rng = np.random.default_rng(RNG_SEED)
    ra1, dec1 = random_sky(rng, 5000)
    ra2, dec2 = random_sky(rng, 5000)
    # Also tiny separations, where the haversine/cosine formulas lose precision.
    ra3, dec3 = points_around(rng, 10.0, 80.0, 1e-5, 5000)
    for a_ra, a_dec, b_ra, b_dec in ((ra1, dec1, ra2, dec2), (ra3, dec3, ra3[::-1], dec3[::-1])):
        expected = SkyCoord(a_ra * u.deg, a_dec * u.deg).separation(
            SkyCoord(b_ra * u.deg, b_dec * u.deg)
        )
        got = sky.angular_separation_deg(a_ra, a_dec, b_ra, b_dec)
        assert np.allclose(got, expected.deg, rtol=1e-12, atol=1e-13)
    # Broadcasting: one position against many.
    many = sky.angular_separation_deg(10.0, 20.0, ra1, dec1)
    assert many.shape == ra1.shape


def test_radec_str_is_sexagesimal_like_kowalski() -> None:
    ra = np.array([10.6847, 23.46204, 359.999999999, 0.0])
    dec = np.array([41.26901, -30.66022, -0.5, -90.0])
    texts = sky.radec_str(ra, dec)
    assert texts[3] == ["00:00:00.0000", "-90:00:00.000"]
    assert texts[2] == ["00:00:00.0000", "-00:30:00.000"]
    for (ra_text, dec_text), r, d in zip(texts, ra, dec, strict=True):
        parsed = SkyCoord(ra_text, dec_text, unit=(u.hourangle, u.deg))
        assert parsed.separation(SkyCoord(r * u.deg, d * u.deg)).arcsec < 0.01
        assert len(ra_text.split(":")[2]) == 7  # SS.ssss
        assert len(dec_text.lstrip("-").split(":")[2]) == 6  # SS.sss


def test_coordinates_documents_follow_kowalski() -> None:
    (doc,) = sky.coordinates_documents(np.array([350.5]), np.array([-12.25]))
    assert doc["radec_geojson"] == {"type": "Point", "coordinates": [170.5, -12.25]}
    assert doc["healpix"] == sky.healpix_index(350.5, -12.25)
    assert type(doc["healpix"]) is int
    assert doc["radec_str"] == sky.radec_str(350.5, -12.25)[0]


@pytest.mark.parametrize(
    ("radec", "expected"),
    [
        ({"obj1": [71.6577756, -10.2263957]}, {"obj1": (71.6577756, -10.2263957)}),
        ({"a.b.c": [1, 2]}, {"a_b_c": (1.0, 2.0)}),
        ([[71.6577756, -10.2263957]], {"[71_6577756, -10_2263957]": (71.6577756, -10.2263957)}),
        ([[1, 2], [3.5, -4]], {"[1, 2]": (1.0, 2.0), "[3_5, -4]": (3.5, -4.0)}),
        ("71.6577756 -10.2263957", {"(71_6577756, -10_2263957)": (71.6577756, -10.2263957)}),
        ("[(1.5, 2), (3, 4)]", {"(1_5, 2)": (1.5, 2.0), "(3, 4)": (3.0, 4.0)}),
        ('{"x": [1, 2]}', {"x": (1.0, 2.0)}),
        ({"s": ["10.5", "-20.25"]}, {"s": (10.5, -20.25)}),
    ],
)
def test_parse_radec_in_degrees(radec: object, expected: dict) -> None:
    assert sky.parse_radec(radec) == expected


@pytest.mark.parametrize(
    ("radec", "name"),
    [
        ("04:46:37.866 -10:13:35.02", "('04:46:37_866', '-10:13:35_02')"),
        ("04h46m37.866s -10d13m35.02s", "('04h46m37_866s', '-10d13m35_02s')"),
        ({"obj": ["04:46:37.866", "-10:13:35.02"]}, "obj"),
        ([["04h46m37.866s", "-10d13m35.02s"]], "['04h46m37_866s', '-10d13m35_02s']"),
    ],
)
def test_parse_radec_sexagesimal(radec: object, name: str) -> None:
    ((got_name, (ra, dec)),) = sky.parse_radec(radec).items()
    assert got_name == name
    expected = SkyCoord("04:46:37.866", "-10:13:35.02", unit=(u.hourangle, u.deg))
    assert ra == pytest.approx(expected.ra.deg, abs=1e-9)
    assert dec == pytest.approx(expected.dec.deg, abs=1e-9)


def test_parse_radec_negative_zero_degrees() -> None:
    ((_, (ra, dec)),) = sky.parse_radec("00:00:12 -00:30:00").items()
    assert ra == pytest.approx(0.05) and dec == pytest.approx(-0.5)


@pytest.mark.parametrize(
    ("radec", "message"),
    [
        (42, "radec must be"),
        ([], "names no position"),
        ({"x": [1]}, "a position is \\[ra, dec\\]"),
        ({"x": [400, 0]}, "ra must be in"),
        ({"x": [10, -91]}, "dec must be in"),
        ({"x": [10, True]}, "dec must be a number"),
        ({"x": ["nowhere", 3]}, "cannot read ra 'nowhere'"),
        ("1 2 3", 'must be "ra dec"'),
        ("[(1, 2]", "not a list or mapping"),
    ],
)
def test_parse_radec_names_the_problem(radec: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sky.parse_radec(radec)


@pytest.mark.parametrize(
    ("radius", "unit", "degrees"),
    [(2, "arcsec", 2 / 3600), (1.5, "arcmin", 0.025), (3, "deg", 3.0), (0.01, "rad", 0.5729577951)],
)
def test_radius_units(radius: float, unit: str, degrees: float) -> None:
    assert sky.radius_deg(radius, unit) == pytest.approx(degrees)


@pytest.mark.parametrize(
    ("radius", "unit", "message"),
    [
        (1, "parsec", "unit must be one of"),
        ("2", "arcsec", "must be a number"),
        (-1, "deg", ">= 0"),
    ],
)
def test_radius_refusals(radius: object, unit: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sky.radius_deg(radius, unit)


def test_batch_cover_equals_one_cone_at_a_time() -> None:
    rng = np.random.default_rng(RNG_SEED)
    ra, dec = random_sky(rng, 60)
    radius = rng.choice([0.0, 1 / 3600, 2 / 3600, 300 / 3600, 2.0, 45.0, 200.0], 60)
    batch = sky.cone_pixel_ranges_batch(ra.tolist(), dec.tolist(), radius.tolist())
    assert batch == [
        sky.cone_pixel_ranges(float(r), float(d), float(rad))
        for r, d, rad in zip(ra, dec, radius, strict=True)
    ]
    assert all(
        ranges == [(0, sky.HEALPIX_NPIX)]
        for ranges, rad in zip(batch, radius, strict=True)
        if rad >= 180
    )
    # A zero radius still covers the centre's own pixel.
    for ranges, r, d, rad in zip(batch, ra, dec, radius, strict=True):
        if rad == 0:
            assert in_ranges(np.array([sky.healpix_index(float(r), float(d))]), ranges).all()
