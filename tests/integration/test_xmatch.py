"""XMatchService (served by the archive): batch cross-matching against brute force."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import astropy.units as u
import bson
import grpc
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from pymongo import MongoClient

from skymesh.config import Settings
from skymesh.xmatch.v1 import xmatch_pb2, xmatch_pb2_grpc
from tests.integration.catalog_stack import (
    IGAPS,
    VLASS,
    ZTF_SOURCES,
    Reference,
    admin_token,
    catalog_stack,
    ingest,
    read_reference,
    user_token,
)

pytestmark = pytest.mark.integration

# name -> (file, ingest options, the cone radius the test expects, in arcsec)
CATALOGS: dict[str, tuple[Path, tuple[str, ...], float]] = {
    "xm_vlass": (VLASS, (), 2.0),
    "xm_igaps": (IGAPS, ("--xmatch-radius", "5"), 5.0),
    "xm_ztf": (ZTF_SOURCES, ("--xmatch-projection", '{"_id": 0, "objectid": 1}'), 2.0),
}
GALAXY_KPC = 30.0
GALAXY_LOW_ARCSEC = 120.0


def galaxy_rows(ztf: Reference, rng: np.random.Generator) -> list[dict[str, Any]]:
    """A small galaxy catalog made for the test: galaxies 5-200" from real ZTF sources, at
    redshifts on both sides of the nearby threshold (z < 0.01), some without a redshift."""
    rows = []
    for k, row in enumerate(rng.choice(len(ztf.ids), 40, replace=False)):
        offset = SkyCoord(ztf.ra[row] * u.deg, ztf.dec[row] * u.deg).directional_offset_by(
            rng.uniform(0, 360) * u.deg, rng.uniform(5, 200) * u.arcsec
        )
        z = [0.004, 0.02, 0.05, 0.1, 0.3, None][k % 6]
        rows.append(
            {"name": f"G{k:03d}", "ra": float(offset.ra.deg), "dec": float(offset.dec.deg), "z": z}
        )
    return rows


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    lines = ["name,ra,dec,z"]
    lines += [
        f"{r['name']},{r['ra']!r},{r['dec']!r},{'' if r['z'] is None else r['z']}" for r in rows
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def references() -> dict[str, Reference]:
    return {name: read_reference(path) for name, (path, _, _) in CATALOGS.items()}


@pytest.fixture(scope="module")
def galaxies(references: dict[str, Reference]) -> list[dict[str, Any]]:
    return galaxy_rows(references["xm_ztf"], np.random.default_rng(5))


@pytest.fixture(scope="module")
def settings(
    tmp_path_factory: pytest.TempPathFactory, galaxies: list[dict[str, Any]]
) -> Iterator[Settings]:
    with catalog_stack(tmp_path_factory.mktemp("xmatch-run")) as stack_settings:
        for name, (path, options, _) in CATALOGS.items():
            ingest(stack_settings, path, name, *options)
        ingest(stack_settings, VLASS, "xm_off", "--no-xmatch")
        galaxy_file = write_csv(tmp_path_factory.mktemp("galaxies") / "galaxies.csv", galaxies)
        ingest(
            stack_settings,
            galaxy_file,
            "xm_galaxies",
            "--galaxy-distance-rule",
            "z",
            "--galaxy-max-kpc",
            str(GALAXY_KPC),
            "--galaxy-low-distance-radius",
            str(GALAXY_LOW_ARCSEC),
        )
        yield stack_settings


def stub_call(settings: Settings, method: str, request: Any, token: str | None = None) -> Any:
    # Through Envoy, which routes the xmatch service to the archive process.
    with grpc.insecure_channel(f"127.0.0.1:{settings.ports.gateway}") as channel:
        stub = xmatch_pb2_grpc.XMatchServiceStub(channel)
        return getattr(stub, method)(
            request,
            metadata=[("authorization", f"Bearer {token or admin_token(settings)}")],
            timeout=60,
        )


def batch_near_rows(
    references: dict[str, Reference], rng: np.random.Generator
) -> list[xmatch_pb2.Position]:
    """Positions within ~1.4" of real rows of every catalog, plus a few far from everything."""
    positions = []
    for name, reference in references.items():
        for row in rng.choice(len(reference.ids), 40, replace=False):
            moved = SkyCoord(
                reference.ra[row] * u.deg, reference.dec[row] * u.deg
            ).directional_offset_by(rng.uniform(0, 360) * u.deg, rng.uniform(0, 1.4) * u.arcsec)
            positions.append(
                xmatch_pb2.Position(key=f"{name}-{row}", ra=moved.ra.deg, dec=moved.dec.deg)
            )
    positions += [
        xmatch_pb2.Position(key="far-north", ra=123.0, dec=80.0),
        xmatch_pb2.Position(key="far-south", ra=300.0, dec=-70.0),
    ]
    return positions


def brute_force(
    reference: Reference, position: xmatch_pb2.Position, radius_arcsec: float
) -> set[tuple]:
    separation = (
        SkyCoord(reference.ra * u.deg, reference.dec * u.deg)
        .separation(SkyCoord(position.ra * u.deg, position.dec * u.deg))
        .arcsec
    )
    return {reference.ids[i] for i in np.flatnonzero(separation <= radius_arcsec)}


def decode(result: xmatch_pb2.Matches) -> dict[str, list[dict[str, Any]]]:
    return {name: bson.decode(raw)["matches"] for name, raw in result.matches_bson.items()}


def find_queries(settings: Settings) -> int:
    with MongoClient(settings.mongo_uri) as client:
        return client.admin.command("serverStatus")["opcounters"]["query"]


def test_list_catalogs_shows_the_configured_cones(settings: Settings) -> None:
    response = stub_call(settings, "ListCatalogs", xmatch_pb2.ListCatalogsRequest())
    cones = {c.catalog: c for c in response.catalogs}
    assert set(cones) == {*CATALOGS, "xm_galaxies"}  # xm_off was ingested with --no-xmatch
    for name, (_, _, radius) in CATALOGS.items():
        assert cones[name].radius_arcsec == radius
        assert not cones[name].galaxy_distance_rule
    assert cones["xm_ztf"].projection_json.replace(" ", "") == '{"_id":0,"objectid":1}'
    galaxy = cones["xm_galaxies"]
    assert galaxy.galaxy_distance_rule and galaxy.max_distance_kpc == GALAXY_KPC
    assert galaxy.radius_arcsec == 300.0


def test_cross_match_of_a_batch_equals_brute_force(
    settings: Settings, references: dict[str, Reference]
) -> None:
    positions = batch_near_rows(references, np.random.default_rng(11))
    request = xmatch_pb2.CrossMatchRequest(
        positions=positions,
        catalogs=[xmatch_pb2.CatalogCone(catalog=name) for name in CATALOGS],
    )
    before = find_queries(settings)
    response = stub_call(settings, "CrossMatch", request)
    queries = find_queries(settings) - before
    # One search per catalog per batch, sent as a few index-served finds (sky_search.py), not
    # one per position: 122 positions x 3 catalogs would be 366 finds.
    assert 0 < queries <= 10 * len(CATALOGS), f"{queries} finds for {len(positions)} positions"
    assert [r.key for r in response.results] == [p.key for p in positions]
    matched = 0
    for position, result in zip(positions, response.results, strict=True):
        found = decode(result)
        assert set(found) == set(CATALOGS)
        for name, (_, _, radius) in CATALOGS.items():
            reference = references[name]
            expected = brute_force(reference, position, radius)
            got = [reference.key(doc) for doc in found[name]]
            assert len(got) == len(set(got))
            assert set(got) == expected, (position.key, name)
            matched += len(got)
        if position.key.startswith("far"):
            assert all(not rows for rows in found.values())
    assert matched >= 120  # every position near a row matched it


def test_configured_projection_and_whole_rows(
    settings: Settings, references: dict[str, Reference]
) -> None:
    reference = references["xm_ztf"]
    row = 77
    position = xmatch_pb2.Position(key="p", ra=reference.ra[row], dec=reference.dec[row])
    response = stub_call(settings, "CrossMatch", xmatch_pb2.CrossMatchRequest(positions=[position]))
    found = decode(response.results[0])
    # Without catalogs in the request: every configured one (not xm_off).
    assert set(found) == {*CATALOGS, "xm_galaxies"}
    assert found["xm_ztf"] == [{"objectid": reference.ids[row][0]}]
    # VLASS has no projection: whole rows, _id and coordinates included.
    vlass = references["xm_vlass"]
    v_row = 3
    response = stub_call(
        settings,
        "CrossMatch",
        xmatch_pb2.CrossMatchRequest(
            positions=[xmatch_pb2.Position(key="v", ra=vlass.ra[v_row], dec=vlass.dec[v_row])],
            catalogs=[xmatch_pb2.CatalogCone(catalog="xm_vlass")],
        ),
    )
    (doc, *_) = decode(response.results[0])["xm_vlass"]
    assert vlass.key(doc) == vlass.ids[v_row]
    assert isinstance(doc["_id"], bson.ObjectId)
    assert set(doc["coordinates"]) == {"radec_geojson", "radec_str", "healpix"}


def test_the_request_overrides_radius_and_projection(
    settings: Settings, references: dict[str, Reference]
) -> None:
    reference = references["xm_ztf"]
    positions = [
        xmatch_pb2.Position(key=str(row), ra=reference.ra[row], dec=reference.dec[row])
        for row in (5, 500, 5000)
    ]
    response = stub_call(
        settings,
        "CrossMatch",
        xmatch_pb2.CrossMatchRequest(
            positions=positions,
            catalogs=[
                xmatch_pb2.CatalogCone(
                    catalog="xm_ztf",
                    radius_arcsec=60.0,
                    projection_json='{"objectid": 1, "nepochs": 1, "_id": 0}',
                )
            ],
        ),
    )
    for position, result in zip(positions, response.results, strict=True):
        rows = decode(result)["xm_ztf"]
        assert {reference.key(r) for r in rows} == brute_force(reference, position, 60.0)
        assert all(set(r) == {"objectid", "nepochs"} for r in rows)
        # Nearest first.
        separations = [
            SkyCoord(position.ra * u.deg, position.dec * u.deg)
            .separation(
                SkyCoord(
                    reference.ra[reference.ids.index((r["objectid"],))] * u.deg,
                    reference.dec[reference.ids.index((r["objectid"],))] * u.deg,
                )
            )
            .arcsec
            for r in rows
        ]
        assert separations == sorted(separations)


def kowalski_galaxy_radius_arcsec(z: float | None) -> float | None:
    """Kowalski's alert_filter__xmatch_distance, redshift method, written out independently."""
    if z is None:
        return None
    if z < 0.01:
        return GALAXY_LOW_ARCSEC
    return GALAXY_KPC * (0.05 / z)


def test_galaxy_rule_keeps_matches_within_the_physical_distance(
    settings: Settings, references: dict[str, Reference], galaxies: list[dict[str, Any]]
) -> None:
    ztf = references["xm_ztf"]
    positions = [
        xmatch_pb2.Position(key=str(row), ra=ztf.ra[row], dec=ztf.dec[row])
        for row in range(0, len(ztf.ids), 7)
    ]
    response = stub_call(
        settings,
        "CrossMatch",
        xmatch_pb2.CrossMatchRequest(
            positions=positions, catalogs=[xmatch_pb2.CatalogCone(catalog="xm_galaxies")]
        ),
    )
    centres = SkyCoord([g["ra"] for g in galaxies] * u.deg, [g["dec"] for g in galaxies] * u.deg)
    total = 0
    for position, result in zip(positions, response.results, strict=True):
        separation = centres.separation(SkyCoord(position.ra * u.deg, position.dec * u.deg)).arcsec
        expected = {}
        for galaxy, distance in zip(galaxies, separation, strict=True):
            radius = kowalski_galaxy_radius_arcsec(galaxy["z"])
            if radius is not None and distance <= min(radius, 300.0):
                expected[galaxy["name"]] = (galaxy["z"], distance)
        rows = decode(result)["xm_galaxies"]
        assert {r["name"] for r in rows} == set(expected), position.key
        for r in rows:
            z, distance = expected[r["name"]]
            assert r["coordinates"]["distance_arcsec"] == pytest.approx(
                round(distance, 2), abs=0.011
            )
            kpc = round(distance * z / 0.05, 2) if z > 0.005 else -1
            assert r["coordinates"]["distance_kpc"] == pytest.approx(kpc, abs=0.011)
        total += len(rows)
    assert total > 0
    # The rule is not a plain cone: some galaxies inside the 300" cone were left out by it.
    plain_total = sum(
        int((centres.separation(SkyCoord(p.ra * u.deg, p.dec * u.deg)).arcsec <= 300).sum())
        for p in positions
    )
    assert plain_total > total


def test_galaxy_rule_with_the_distance_of_a_request(
    settings: Settings, references: dict[str, Reference], galaxies: list[dict[str, Any]]
) -> None:
    ztf = references["xm_ztf"]
    positions = [
        xmatch_pb2.Position(key=str(row), ra=ztf.ra[row], dec=ztf.dec[row])
        for row in range(0, len(ztf.ids), 7)
    ]
    kpc = 80.0
    response = stub_call(
        settings,
        "CrossMatch",
        xmatch_pb2.CrossMatchRequest(
            positions=positions,
            catalogs=[
                xmatch_pb2.CatalogCone(
                    catalog="xm_galaxies", galaxy_distance_rule=True, max_distance_kpc=kpc
                )
            ],
        ),
    )
    centres = SkyCoord([g["ra"] for g in galaxies] * u.deg, [g["dec"] for g in galaxies] * u.deg)
    for position, result in zip(positions, response.results, strict=True):
        separation = centres.separation(SkyCoord(position.ra * u.deg, position.dec * u.deg)).arcsec
        expected = {
            g["name"]
            for g, d in zip(galaxies, separation, strict=True)
            if g["z"] is not None
            and d <= min(GALAXY_LOW_ARCSEC if g["z"] < 0.01 else kpc * 0.05 / g["z"], 300.0)
        }
        assert {r["name"] for r in decode(result)["xm_galaxies"]} == expected


@pytest.mark.parametrize(
    ("request_", "code", "message"),
    [
        (
            xmatch_pb2.CrossMatchRequest(positions=[xmatch_pb2.Position(key="x", ra=10, dec=95)]),
            grpc.StatusCode.INVALID_ARGUMENT,
            "dec must be in [-90, 90]",
        ),
        (
            xmatch_pb2.CrossMatchRequest(
                positions=[xmatch_pb2.Position(key="x", ra=math.nan, dec=5)]
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
            "ra must be in [0, 360]",
        ),
        (
            xmatch_pb2.CrossMatchRequest(
                positions=[xmatch_pb2.Position(key="x", ra=10, dec=5)],
                catalogs=[xmatch_pb2.CatalogCone(catalog="nope")],
            ),
            grpc.StatusCode.NOT_FOUND,
            "no catalog named nope",
        ),
        (
            xmatch_pb2.CrossMatchRequest(
                positions=[xmatch_pb2.Position(key="x", ra=10, dec=5)],
                catalogs=[xmatch_pb2.CatalogCone(catalog="xm_vlass", galaxy_distance_rule=True)],
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
            "needs the catalog's distance column",
        ),
        (
            xmatch_pb2.CrossMatchRequest(
                positions=[xmatch_pb2.Position(key="x", ra=10, dec=5)],
                catalogs=[xmatch_pb2.CatalogCone(catalog="xm_vlass", radius_arcsec=-2)],
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
            "must be a positive number",
        ),
    ],
)
def test_bad_requests_are_refused(
    settings: Settings, request_: xmatch_pb2.CrossMatchRequest, code: grpc.StatusCode, message: str
) -> None:
    with pytest.raises(grpc.RpcError) as refused:
        stub_call(settings, "CrossMatch", request_)
    assert refused.value.code() == code
    assert message in refused.value.details()


def test_any_valid_token_may_cross_match_but_none_is_refused(
    settings: Settings, references: dict[str, Reference]
) -> None:
    request = xmatch_pb2.CrossMatchRequest(
        positions=[xmatch_pb2.Position(key="x", ra=10, dec=5)],
        catalogs=[xmatch_pb2.CatalogCone(catalog="xm_vlass")],
    )
    assert stub_call(settings, "CrossMatch", request, token=user_token(settings)).results
    with pytest.raises(grpc.RpcError) as refused:
        stub_call(settings, "CrossMatch", request, token="nonsense")
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
