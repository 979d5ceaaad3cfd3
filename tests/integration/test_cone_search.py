"""cone_search, near and aggregate over REST through Envoy, against brute force.

Every expected answer is computed here from the catalog files themselves, with astropy's
angular separation over every row (no index, no HEALPix), then compared with what the archive
returns for the same question.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord

from skymesh.config import Settings
from tests.integration.catalog_stack import (
    IGAPS,
    VLASS,
    ZTF_SOURCES,
    Reference,
    admin_token,
    catalog_stack,
    ingest,
    query_data,
    query_error,
    read_reference,
    user_token,
)

pytestmark = pytest.mark.integration

CATALOGS = {"cs_vlass": VLASS, "cs_igaps": IGAPS, "cs_ztf": ZTF_SOURCES}
ARCSEC_PER_UNIT = {"arcsec": 1.0, "arcmin": 60.0, "deg": 3600.0, "rad": 180 / np.pi * 3600}


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    with catalog_stack(tmp_path_factory.mktemp("cone-run")) as stack_settings:
        for name, path in CATALOGS.items():
            ingest(stack_settings, path, name)
        yield stack_settings


@pytest.fixture(scope="module")
def references() -> dict[str, Reference]:
    return {name: read_reference(path) for name, path in CATALOGS.items()}


def separations_arcsec(reference: Reference, ra: float, dec: float) -> np.ndarray:
    catalog = SkyCoord(reference.ra * u.deg, reference.dec * u.deg)
    return catalog.separation(SkyCoord(ra * u.deg, dec * u.deg)).arcsec


def radius_between_rows(distances: np.ndarray, wanted: int) -> float:
    """A radius (arcsec) with exactly ``wanted`` rows inside, halfway to the next row, so
    that no row sits on the boundary."""
    ordered = np.sort(distances)
    return float((ordered[wanted - 1] + ordered[wanted]) / 2)


def cone_body(
    radec: Any, radius: float, unit: str, catalogs: dict[str, Any], kwargs: dict | None = None
) -> dict[str, Any]:
    return {
        "query_type": "cone_search",
        "query": {
            "object_coordinates": {
                "cone_search_radius": radius,
                "cone_search_unit": unit,
                "radec": radec,
            },
            "catalogs": catalogs,
        },
        "kwargs": kwargs or {},
    }


def keys(reference: Reference, docs: list[dict]) -> list[tuple]:
    return [reference.key(doc) for doc in docs]


def brute_force(reference: Reference, ra: float, dec: float, radius_arcsec: float) -> set[tuple]:
    inside = separations_arcsec(reference, ra, dec) <= radius_arcsec
    return {reference.ids[i] for i in np.flatnonzero(inside)}


@pytest.mark.parametrize("unit", ["arcsec", "arcmin", "deg", "rad"])
@pytest.mark.parametrize("catalog", list(CATALOGS))
def test_cone_search_returns_exactly_the_rows_within_the_radius(
    settings: Settings, references: dict[str, Reference], catalog: str, unit: str
) -> None:
    reference = references[catalog]
    rng = np.random.default_rng(sum(map(ord, catalog + unit)))
    positions = {}
    for k, row in enumerate(rng.choice(len(reference.ids), 3, replace=False)):
        # A centre near a real row; radii that take in 1, 5 or 12 rows.
        ra = float(reference.ra[row]) + rng.uniform(-1, 1) / 3600
        dec = float(reference.dec[row]) + rng.uniform(-1, 1) / 3600
        wanted = (1, 5, 12)[k]
        radius = radius_between_rows(separations_arcsec(reference, ra, dec), wanted)
        positions[f"obj.{k}"] = (ra, dec, radius, wanted)
    for name, (ra, dec, radius_arcsec, wanted) in positions.items():
        data = query_data(
            settings,
            admin_token(settings),
            cone_body(
                {name: [ra, dec]},
                radius_arcsec / ARCSEC_PER_UNIT[unit],
                unit,
                {catalog: {"filter": {}, "projection": reference.projection}},
            ),
        )
        found = data[catalog][name.replace(".", "_")]
        assert len(found) == wanted
        assert set(keys(reference, found)) == brute_force(reference, ra, dec, radius_arcsec)


def test_radec_formats(settings: Settings, references: dict[str, Reference]) -> None:
    reference = references["cs_ztf"]
    row = 1234
    centre = SkyCoord(reference.ra[row] * u.deg, reference.dec[row] * u.deg)
    ra_hms = str(centre.ra.to_string(unit=u.hourangle, sep=":", precision=3, pad=True))
    dec_dms = str(centre.dec.to_string(sep=":", precision=2, alwayssign=True, pad=True))
    ra_letters = str(centre.ra.to_string(unit=u.hourangle, sep="hms", precision=3, pad=True))
    dec_letters = str(centre.dec.to_string(sep="dms", precision=2, alwayssign=True, pad=True))
    ra, dec = float(reference.ra[row]), float(reference.dec[row])
    formats: dict[str, tuple[Any, str, SkyCoord]] = {
        "mapping": ({"star.1": [ra, dec]}, "star_1", centre),
        "list": ([[ra, dec]], str([ra, dec]).replace(".", "_"), centre),
        "degrees text": (f"{ra} {dec}", str((ra, dec)).replace(".", "_"), centre),
        "colons": (
            f"{ra_hms} {dec_dms}",
            str((ra_hms, dec_dms)).replace(".", "_"),
            SkyCoord(ra_hms, dec_dms, unit=(u.hourangle, u.deg)),
        ),
        "letters": (
            f"{ra_letters} {dec_letters}",
            str((ra_letters, dec_letters)).replace(".", "_"),
            SkyCoord(ra_letters, dec_letters, unit=(u.hourangle, u.deg)),
        ),
        "mapping of text": (
            {"t": [ra_hms, dec_dms]},
            "t",
            SkyCoord(ra_hms, dec_dms, unit=(u.hourangle, u.deg)),
        ),
    }
    for label, (radec, name, position) in formats.items():
        distances = separations_arcsec(reference, position.ra.deg, position.dec.deg)
        radius = radius_between_rows(distances, 4)
        data = query_data(
            settings,
            admin_token(settings),
            cone_body(radec, radius, "arcsec", {"cs_ztf": {"projection": {"objectid": 1}}}),
        )
        assert list(data["cs_ztf"]) == [name], label
        expected = brute_force(reference, position.ra.deg, position.dec.deg, radius)
        assert set(keys(reference, data["cs_ztf"][name])) == expected, label


def test_many_positions_and_catalogs_in_one_query(
    settings: Settings, references: dict[str, Reference]
) -> None:
    rng = np.random.default_rng(7)
    radec = {}
    for name, reference in references.items():
        for row in rng.choice(len(reference.ids), 4, replace=False):
            radec[f"{name}-{row}"] = [float(reference.ra[row]), float(reference.dec[row])]
    radec["nowhere"] = [200.0, 60.0]
    radius = 90.0
    data = query_data(
        settings,
        admin_token(settings),
        cone_body(
            radec,
            radius,
            "arcsec",
            {name: {"projection": ref.projection} for name, ref in references.items()},
        ),
    )
    assert set(data) == set(references)
    for catalog, reference in references.items():
        assert set(data[catalog]) == set(radec)
        for name, (ra, dec) in radec.items():
            expected = brute_force(reference, ra, dec, radius)
            assert set(keys(reference, data[catalog][name])) == expected, (catalog, name)


def test_filter_and_projection_apply(settings: Settings, references: dict[str, Reference]) -> None:
    reference = references["cs_ztf"]
    row = 300
    ra, dec = float(reference.ra[row]), float(reference.dec[row])
    radius = 240.0
    import pyarrow.parquet as pq

    nepochs = np.asarray(pq.read_table(ZTF_SOURCES, columns=["nepochs"])["nepochs"])
    inside = separations_arcsec(reference, ra, dec) <= radius
    expected = {reference.ids[i] for i in np.flatnonzero(inside & (nepochs > 20))}
    assert 0 < len(expected) < inside.sum()
    for filter_first in (False, True):
        data = query_data(
            settings,
            admin_token(settings),
            cone_body(
                {"here": [ra, dec]},
                radius,
                "arcsec",
                {
                    "cs_ztf": {
                        "filter": {"nepochs": {"$gt": 20}},
                        "projection": {"_id": 0, "objectid": 1, "nepochs": 1},
                    }
                },
                {"filter_first": filter_first},
            ),
        )
        found = data["cs_ztf"]["here"]
        assert {tuple(sorted(doc)) for doc in found} == {("nepochs", "objectid")}
        assert set(keys(reference, found)) == expected
    # An exclusion projection may drop the coordinates the search itself needs.
    data = query_data(
        settings,
        admin_token(settings),
        cone_body(
            {"here": [ra, dec]},
            radius,
            "arcsec",
            {"cs_ztf": {"projection": {"coordinates": 0, "hmjd": 0, "mag": 0}}},
        ),
    )
    found = data["cs_ztf"]["here"]
    assert set(keys(reference, found)) == brute_force(reference, ra, dec, radius)
    assert all("coordinates" not in d and "hmjd" not in d and "magerr" in d for d in found)
    # An inclusion projection of other coordinates keeps only those.
    data = query_data(
        settings,
        admin_token(settings),
        cone_body(
            {"here": [ra, dec]},
            radius,
            "arcsec",
            {"cs_ztf": {"projection": {"_id": 0, "coordinates.radec_str": 1}}},
        ),
    )
    assert all(set(d) == {"coordinates"} for d in data["cs_ztf"]["here"])
    assert all(set(d["coordinates"]) == {"radec_str"} for d in data["cs_ztf"]["here"])


def test_nearest_first_with_skip_and_limit_per_object(
    settings: Settings, references: dict[str, Reference]
) -> None:
    reference = references["cs_ztf"]
    rows = (10, 2000)
    radec = {f"r{row}": [float(reference.ra[row]), float(reference.dec[row])] for row in rows}
    radius = 300.0
    data = query_data(
        settings,
        admin_token(settings),
        cone_body(
            radec,
            radius,
            "arcsec",
            {"cs_ztf": {"projection": {"objectid": 1}}},
            {"skip": 2, "limit": 5},
        ),
    )
    for row in rows:
        distances = separations_arcsec(reference, reference.ra[row], reference.dec[row])
        order = [i for i in np.argsort(distances, kind="stable") if distances[i] <= radius]
        assert len(order) > 7
        expected = [reference.ids[i] for i in order[2:7]]
        assert keys(reference, data["cs_ztf"][f"r{row}"]) == expected
    # With a sort, the database orders each object's rows.
    data = query_data(
        settings,
        admin_token(settings),
        cone_body(
            radec,
            radius,
            "arcsec",
            {"cs_ztf": {"projection": {"_id": 0, "objectid": 1}}},
            {"sort": [["objectid", -1]], "limit": 3},
        ),
    )
    for row in rows:
        inside = brute_force(reference, reference.ra[row], reference.dec[row], radius)
        expected = sorted(inside, reverse=True)[:3]
        assert keys(reference, data["cs_ztf"][f"r{row}"]) == expected


@pytest.mark.parametrize(
    ("units", "min_arcsec", "max_arcsec"),
    [("arcsec", 0.0, 150.0), ("arcsec", 60.0, 200.0), ("arcmin", 0.5, 3.0), ("deg", 0.0, 0.05)],
)
def test_near_returns_rows_between_the_distances_nearest_first(
    settings: Settings,
    references: dict[str, Reference],
    units: str,
    min_arcsec: float,
    max_arcsec: float,
) -> None:
    reference = references["cs_ztf"]
    row = 4321
    ra, dec = float(reference.ra[row]) + 0.5 / 3600, float(reference.dec[row])
    per_unit = ARCSEC_PER_UNIT[units]
    data = query_data(
        settings,
        admin_token(settings),
        {
            "query_type": "near",
            "query": {
                "radec": {"target": [ra, dec]},
                "min_distance": min_arcsec / per_unit if units == "arcsec" else min_arcsec,
                "max_distance": max_arcsec / per_unit if units == "arcsec" else max_arcsec,
                "distance_units": units,
                "catalogs": {"cs_ztf": {"projection": {"objectid": 1}}},
            },
        },
    )
    low, high = (
        (min_arcsec, max_arcsec)
        if units == "arcsec"
        else (min_arcsec * per_unit, max_arcsec * per_unit)
    )
    distances = separations_arcsec(reference, ra, dec)
    order = [i for i in np.argsort(distances) if low <= distances[i] <= high]
    assert len(order) >= 3
    assert keys(reference, data["cs_ztf"]["target"]) == [reference.ids[i] for i in order]


def test_near_defaults_to_radians(settings: Settings, references: dict[str, Reference]) -> None:
    reference = references["cs_igaps"]
    ra, dec = float(reference.ra[0]), float(reference.dec[0])
    max_rad = np.radians(60 / 3600)
    data = query_data(
        settings,
        admin_token(settings),
        {
            "query_type": "near",
            "query": {
                "radec": [[ra, dec]],
                "max_distance": max_rad,
                "catalogs": {"cs_igaps": {"projection": {"name": 1}}},
            },
            "kwargs": {"limit": 2},
        },
    )
    ((name, found),) = data["cs_igaps"].items()
    assert name == str([ra, dec]).replace(".", "_")
    distances = separations_arcsec(reference, ra, dec)
    nearest = [reference.ids[i] for i in np.argsort(distances) if distances[i] <= 60][:2]
    assert keys(reference, found) == nearest


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (cone_body({"a": [1, 2]}, 2, "parsec", {"cs_ztf": {}}), "unit must be one of"),
        (cone_body({"a": [1, 2]}, -2, "arcsec", {"cs_ztf": {}}), "must be a finite number >= 0"),
        (cone_body({"a": [1, 95]}, 2, "arcsec", {"cs_ztf": {}}), "dec must be in [-90, 90]"),
        (cone_body("somewhere over there", 2, "arcsec", {"cs_ztf": {}}), 'must be "ra dec"'),
        (cone_body({"a": [1, 2]}, 2, "arcsec", {"nope": {}}), "catalog 'nope' not found"),
        (cone_body({"a": [1, 2]}, 2, "arcsec", {}), "query.catalogs must be"),
        (cone_body({"a": [1, 2]}, 2, "arcsec", {"cs_ztf": {"filter": 3}}), "filter must be"),
        (cone_body({"a": [1, 2]}, 2, "arcsec", {"cs_ztf": {}}, {"limit": -1}), "kwargs.limit"),
        (
            {"query_type": "cone_search", "query": {"catalogs": {"cs_ztf": {}}}},
            "query.object_coordinates must be",
        ),
        (
            {
                "query_type": "near",
                "query": {
                    "radec": {"a": [1, 2]},
                    "min_distance": 2,
                    "max_distance": 1,
                    "catalogs": {"cs_ztf": {}},
                },
            },
            "min_distance must not exceed",
        ),
    ],
)
def test_bad_positional_queries_are_refused_with_400(
    settings: Settings, body: dict, message: str
) -> None:
    assert message in query_error(settings, admin_token(settings), body)


def test_aggregate_runs_a_pipeline(settings: Settings, references: dict[str, Reference]) -> None:
    import pyarrow.parquet as pq

    nepochs = np.asarray(pq.read_table(ZTF_SOURCES, columns=["nepochs"])["nepochs"])
    data = query_data(
        settings,
        user_token(settings),
        {
            "query_type": "aggregate",
            "query": {
                "catalog": "cs_ztf",
                "pipeline": [
                    {"$match": {"nepochs": {"$gte": 50}}},
                    {"$group": {"_id": None, "rows": {"$sum": 1}, "most": {"$max": "$nepochs"}}},
                ],
            },
            "kwargs": {"allowDiskUse": True, "max_time_ms": 60000},
        },
    )
    assert data == [{"_id": None, "rows": int((nepochs >= 50).sum()), "most": int(nepochs.max())}]
    top = query_data(
        settings,
        admin_token(settings),
        {
            "query_type": "aggregate",
            "query": {
                "catalog": "cs_igaps",
                "pipeline": [
                    {"$sort": {"RA": -1}},
                    {"$limit": 3},
                    {"$project": {"_id": 0, "name": 1}},
                ],
            },
        },
    )
    reference = references["cs_igaps"]
    assert [d["name"] for d in top] == [reference.ids[i][0] for i in np.argsort(-reference.ra)[:3]]


@pytest.mark.parametrize(
    ("pipeline", "message"),
    [
        ([{"$out": "stolen"}], '"$out" is not allowed in a query'),
        ([{"$match": {}}, {"$merge": {"into": "stolen"}}], '"$merge" is not allowed in a query'),
        ([{"$unionWith": {"coll": "users"}}], '"$unionWith" is not allowed in a query'),
        ([{"$facet": {"a": [{"$unionWith": "users"}]}}], '"$unionWith" is not allowed in a query'),
        ([], "at least one stage"),
        ({"$match": {}}, "must be a list of stages"),
        ([{"$match": {}, "$limit": 1}], "exactly one operator"),
        ([{"$lookup": {"from": "users", "as": "u", "pipeline": []}}], "for admins only"),
    ],
)
def test_aggregate_refuses_forbidden_pipelines(
    settings: Settings, pipeline: Any, message: str
) -> None:
    body = {"query_type": "aggregate", "query": {"catalog": "cs_ztf", "pipeline": pipeline}}
    assert message in query_error(settings, user_token(settings), body)
