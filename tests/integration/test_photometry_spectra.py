"""Photometry uploads, spectra, allocations and follow-up requests through the gateway, with
SkyPortal's shapes, messages and permissions, on the real mesh (SKYPORTAL_SPEC.md §4, §6).

Group A has the object ``obj`` saved; group B has ``obj_b``. Alice and Carol are Full users
of A, Bob of B, Vic is View only in A. Expected values are computed here, independently: the
magnitude <-> flux arithmetic written out, and Vega -> AB for ztfg from Vega's CALSPEC spectrum
and ZTF's P48 curve (tests/magsys_truth.py).
"""

from __future__ import annotations

import csv
import io
import json
import math
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import httpx
import pytest

from skymesh.config import Settings
from skymesh.portal.v1 import portal_pb2, portal_pb2_grpc
from skymesh.runtime.auth import service_token
from tests.magsys_truth import ab_minus_vega
from tests.portal import User, admin_client, data, group, portal_filter, stream, user
from tests.rest import refused

pytestmark = pytest.mark.integration

DUPLICATE = "The following photometry already exists in the database: "
ADMIN_ONLY = (
    "Ignoring flux/fluxerr when checking for duplicates is reserved to super admin users only"
)
PLOT_KEYS = {"id", "obj_id", "filter", "mjd", "origin", "mag", "magerr", "limiting_mag"}


def flux_of(mag: float) -> float:
    return 10 ** (-0.4 * (mag - 23.9))


@dataclass
class World:
    http: httpx.Client
    group_a: int
    group_b: int
    sitewide: int
    obj: str
    obj_b: str
    ztf: int
    spectrograph: int
    alice: User
    carol: User
    bob: User
    vic: User

    def as_(self, who: User) -> httpx.Client:
        return httpx.Client(base_url=self.http.base_url, headers=who.headers, timeout=60)


@pytest.fixture(scope="module")
def world(mesh: Settings) -> Iterator[World]:
    http = admin_client(mesh)
    group_a, group_b = group(http, "PH-A", []), group(http, "PH-B", [])
    tag = secrets.token_hex(3)
    obj, obj_b = f"ZTF26ph{tag}", f"ZTF26phb{tag}"
    data(
        http.post("/api/sources", json={"id": obj, "ra": 150.1, "dec": 2.2, "group_ids": [group_a]})
    )
    data(
        http.post(
            "/api/sources", json={"id": obj_b, "ra": 151.0, "dec": 3.0, "group_ids": [group_b]}
        )
    )
    (ztf,) = data(http.get("/api/instrument", params={"name": "ZTF"}))
    spectrograph = data(
        http.post("/api/instrument", json={"name": f"SPRAT-{tag}", "type": "spectrograph"})
    )["id"]
    sitewide = next(
        g["id"]
        for g in data(http.get("/api/groups"))["all_groups"]
        if g["name"] == "Sitewide Group"
    )
    yield World(
        http=http,
        group_a=group_a,
        group_b=group_b,
        sitewide=sitewide,
        obj=obj,
        obj_b=obj_b,
        ztf=ztf["id"],
        spectrograph=spectrograph,
        alice=user(http, groups=(group_a,)),
        carol=user(http, groups=(group_a,)),
        bob=user(http, groups=(group_b,)),
        vic=user(http, role="View only", groups=(group_a,)),
    )
    http.close()


def mags(w: World, **extra: Any) -> dict[str, Any]:
    return {"obj_id": w.obj, "instrument_id": w.ztf, "magsys": "ab", **extra}


def points_of(client: httpx.Client, obj_id: str, **params: str) -> dict[int, dict[str, Any]]:
    return {
        p["id"]: p for p in data(client.get(f"/api/sources/{obj_id}/photometry", params=params))
    }


# ---- instruments ------------------------------------------------------------------------------


def test_ztf_exists_with_its_filters_and_instruments_are_made_by_system_admins(
    world: World,
) -> None:
    ztf = data(world.http.get(f"/api/instrument/{world.ztf}"))
    assert ztf["name"] == "ZTF" and {"ztfg", "ztfr", "ztfi"} <= set(ztf["filters"])
    spectrograph = data(world.http.get(f"/api/instrument/{world.spectrograph}"))
    assert (spectrograph["type"], spectrograph["filters"]) == ("spectrograph", [])
    name = spectrograph["name"]
    message = refused(world.http.post("/api/instrument", json={"name": name}))
    assert message == f"Instrument with name {name} already exists."
    with world.as_(world.alice) as alice:
        refused(alice.post("/api/instrument", json={"name": "mine"}), 401)


# ---- photometry: conversions ---------------------------------------------------------------


def test_magnitudes_are_stored_as_flux_and_served_back_as_skyportal_does(world: World) -> None:
    with world.as_(world.alice) as alice, world.as_(world.carol) as carol:
        body = mags(
            world,
            mjd=[60100.1, 60100.2],
            filter="ztfr",
            mag=[18.25, None],
            magerr=[0.05, None],
            limiting_mag=[20.5, 21.25],
            group_ids=[world.group_a],
        )
        posted = data(alice.post("/api/photometry", json=body))
        assert len(posted["ids"]) == 2 and len(posted["upload_id"]) == 36
        detection_id, limit_id = posted["ids"]
        served = points_of(carol, world.obj, format="both")
        detection, limit = served[detection_id], served[limit_id]
        assert detection["flux"] == pytest.approx(flux_of(18.25), rel=1e-12)
        assert detection["fluxerr"] == pytest.approx(0.05 * flux_of(18.25) * math.log(10) / 2.5)
        assert detection["mag"] == pytest.approx(18.25, abs=1e-9)
        assert detection["magerr"] == pytest.approx(
            1.0857 * detection["fluxerr"] / detection["flux"]
        )
        assert detection["limiting_mag"] == pytest.approx(20.5)  # as posted
        assert (detection["zp"], detection["magsys"], detection["filter"]) == (23.9, "ab", "ztfr")
        assert detection["instrument_name"] == "ZTF"
        assert {g["id"] for g in detection["groups"]} >= {world.group_a}
        # A non-detection: no flux, no magnitude, fluxerr from the 3-sigma limit.
        assert (limit["flux"], limit["mag"], limit["magerr"]) == (None, None, None)
        assert limit["fluxerr"] == pytest.approx(flux_of(21.25) / 3)
        assert limit["limiting_mag"] == pytest.approx(21.25)
        plot = points_of(carol, world.obj, format="plot")[limit_id]
        assert set(plot) == PLOT_KEYS

        # Posted in flux with another zero point: the limit is the 5-sigma one.
        flux_body = mags(
            world, mjd=60100.3, filter="ztfg", flux=2500.0, fluxerr=50.0, zp=25.0,
            group_ids=[world.group_a],
        )  # fmt: skip
        (flux_id,) = data(alice.post("/api/photometry", json=flux_body))["ids"]
        point = data(carol.get(f"/api/photometry/{flux_id}", params={"format": "flux"}))
        scale = 10 ** (-0.4 * (25.0 - 23.9))
        assert point["flux"] == pytest.approx(2500.0 * scale)
        assert point["fluxerr"] == pytest.approx(50.0 * scale)
        point = data(carol.get(f"/api/photometry/{flux_id}", params={"format": "mag"}))
        assert point["limiting_mag"] == pytest.approx(-2.5 * math.log10(5 * 50.0 * scale) + 23.9)
        assert point["mag"] == pytest.approx(-2.5 * math.log10(2500.0) + 25.0)


def test_vega_magnitudes_are_converted_to_ab_and_back(world: World) -> None:
    """ztfg's m_AB - m_Vega from Vega's spectrum through the P48 g curve (about -0.11)."""
    offset = ab_minus_vega("ztfg")
    with world.as_(world.alice) as alice:
        body = mags(
            world, mjd=60101.5, filter="ztfg", mag=20.0, magerr=0.1, limiting_mag=21.5,
            magsys="vega", group_ids=[world.group_a],
        )  # fmt: skip
        (point_id,) = data(alice.post("/api/photometry", json=body))["ids"]
        ab = data(alice.get(f"/api/photometry/{point_id}", params={"magsys": "ab"}))
        assert ab["magsys"] == "ab"
        assert ab["mag"] == pytest.approx(20.0 + offset, abs=2e-3)
        assert ab["limiting_mag"] == pytest.approx(21.5 + offset, abs=2e-3)
        assert ab["magerr"] == pytest.approx(0.1, rel=1e-4)
        vega = data(alice.get(f"/api/photometry/{point_id}", params={"magsys": "vega"}))
        assert (vega["magsys"], vega["mag"]) == ("vega", pytest.approx(20.0, abs=1e-9))
        assert vega["limiting_mag"] == pytest.approx(21.5, abs=1e-9)
        flux = data(alice.get(f"/api/photometry/{point_id}", params={"format": "flux"}))
        assert flux["flux"] == pytest.approx(flux_of(20.0 + offset), rel=2e-3)
        listed = points_of(alice, world.obj, format="mag", magsys="vega")[point_id]
        assert listed["mag"] == pytest.approx(20.0, abs=1e-9)
        message = refused(alice.get(f"/api/photometry/{point_id}", params={"magsys": "jla1"}))
        assert message == "magsys must be one of ab, vega, not 'jla1'"


# ---- photometry: duplicates, PUT, the documented 400s ------------------------------------------


def test_post_refuses_duplicates_and_put_returns_their_ids(world: World) -> None:
    body = mags(
        world, mjd=[60102.1, 60102.2], filter="ztfi", flux=[100.0, 200.0], fluxerr=5.0, zp=23.9,
        origin="lab", group_ids=[world.group_a],
    )  # fmt: skip
    with world.as_(world.alice) as alice:
        first = data(alice.post("/api/photometry", json=body))["ids"]
        assert refused(alice.post("/api/photometry", json=body)).startswith(DUPLICATE)
        grown = {**body, "mjd": [60102.3, 60102.1, 60102.2], "flux": [300.0, 100.0, 200.0]}
        grown["group_ids"] = "all"
        ids = data(alice.put("/api/photometry", json=grown))["ids"]
        assert ids[1:] == first and ids[0] not in first
        # The duplicates gained the public group.
        groups = {g["id"] for g in data(alice.get(f"/api/photometry/{first[0]}"))["groups"]}
        assert {world.group_a, world.sitewide} <= groups
        assert (
            refused(
                alice.put("/api/photometry", params={"duplicate_ignore_flux": "true"}, json=body)
            )
            == ADMIN_ONLY
        )
    # A system admin may match on time alone and overwrite the flux of points with an origin.
    changed = {**body, "flux": [110.0, 210.0]}
    params = {"duplicate_ignore_flux": "true", "overwrite_flux": "true"}
    assert data(world.http.put("/api/photometry", params=params, json=changed))["ids"] == first
    point = data(world.http.get(f"/api/photometry/{first[0]}", params={"format": "flux"}))
    assert point["flux"] == pytest.approx(110.0)


def test_the_documented_400s(world: World) -> None:
    with world.as_(world.alice) as alice:
        bad_filter = mags(world, mjd=60103.0, filter="sdssg", mag=19.0, magerr=0.1)
        assert refused(alice.post("/api/photometry", json=bad_filter)) == (
            "Instrument ZTF has no filter sdssg."
        )
        ragged = mags(world, mjd=[1.0, 2.0], filter="ztfg", mag=[19.0], magerr=0.1)
        assert "All arrays must be of the same length" in refused(
            alice.post("/api/photometry", json=ragged)
        )
        unknown = mags(world, instrument_id=999999, mjd=60103.0, filter="ztfg", mag=19, magerr=1)
        assert (
            refused(alice.post("/api/photometry", json=unknown)) == "Invalid instrument ID: 999999"
        )
        theirs = {
            **mags(world, mjd=60103.0, filter="ztfg", mag=19, magerr=1),
            "obj_id": world.obj_b,
        }
        assert refused(alice.post("/api/photometry", json=theirs)) == (
            f"Invalid object ID: {world.obj_b}"
        )
        other_group = mags(
            world, mjd=60103.0, filter="ztfg", mag=19.0, magerr=0.1, group_ids=[world.group_b]
        )
        # Group B is an ordinary (public) group: sharing with it is allowed, as SkyPortal.
        data(alice.post("/api/photometry", json=other_group))


# ---- photometry: who reads, who writes ---------------------------------------------------------


def test_permissions_on_points(world: World) -> None:
    body = mags(world, mjd=60104.0, filter="ztfg", mag=19.5, magerr=0.2)
    with (
        world.as_(world.alice) as alice,
        world.as_(world.carol) as carol,
        world.as_(world.bob) as bob,
        world.as_(world.vic) as vic,
    ):
        refused(vic.post("/api/photometry", json=body), 401)
        refused(vic.put("/api/photometry", json=body), 401)
        # No group_ids: only its owner's own group reads it.
        (own,) = data(alice.post("/api/photometry", json=body))["ids"]
        assert own in points_of(alice, world.obj)
        assert own not in points_of(carol, world.obj)
        shared = data(
            alice.post(
                "/api/photometry", json={**body, "mjd": 60104.5, "group_ids": [world.group_a]}
            )
        )["ids"][0]
        assert shared in points_of(carol, world.obj)
        # Bob sees neither the object nor its points.
        refused(bob.get(f"/api/sources/{world.obj}/photometry"), 404)
        assert refused(bob.get(f"/api/photometry/{shared}")) == (
            f"Cannot find photometry point with ID: {shared}."
        )
        refused(carol.patch(f"/api/photometry/{shared}", json={"mag": 19.0, "magerr": 0.1}), 403)
        refused(carol.delete(f"/api/photometry/{shared}"), 403)
        refused(vic.delete(f"/api/photometry/{shared}"), 401)
        data(
            alice.patch(
                f"/api/photometry/{shared}",
                json={"mag": 19.0, "magerr": 0.1, "magsys": "ab", "origin": "redo"},
            )
        )
        point = data(carol.get(f"/api/photometry/{shared}"))
        assert (point["mag"], point["origin"]) == (pytest.approx(19.0), "redo")
        data(alice.delete(f"/api/photometry/{shared}"))
        assert refused(carol.get(f"/api/photometry/{shared}")).startswith("Cannot find")


def test_an_upload_is_deleted_by_its_upload_id(world: World) -> None:
    body = mags(world, mjd=[60105.1, 60105.2], filter="ztfr", mag=[19, 19.1], magerr=[0.1, 0.1])
    with world.as_(world.alice) as alice, world.as_(world.carol) as carol:
        posted = data(alice.post("/api/photometry", json=body))
        refused(carol.delete(f"/api/photometry/bulk_delete/{posted['upload_id']}"))
        done = data(alice.delete(f"/api/photometry/bulk_delete/{posted['upload_id']}"))
        assert done == {"message": "Deleted 2 photometry point(s)."}
        assert not set(posted["ids"]) & set(points_of(alice, world.obj))


def test_the_light_curve_exports(world: World) -> None:
    with world.as_(world.carol) as carol:
        served = points_of(carol, world.obj, format="both")
        response = carol.get(
            f"/api/sources/{world.obj}/photometry/export", params={"format": "csv"}
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/csv")
        assert f'filename="{world.obj}_photometry.csv"' in response.headers["content-disposition"]
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert [int(r["id"]) for r in rows] == list(served)
        for row in rows:
            expected = served[int(row["id"])]
            assert float(row["mjd"]) == expected["mjd"]
            assert (row["mag"] or None) == (
                None if expected["mag"] is None else repr(expected["mag"])
            )
        ascii_file = carol.get(
            f"/api/sources/{world.obj}/photometry/export", params={"format": "ascii"}
        ).text.splitlines()
        assert ascii_file[:2] == [f"# obj_id: {world.obj}", "# magsys: ab"]
        assert len(ascii_file) == 3 + len(served)
        as_json = carol.get(
            f"/api/sources/{world.obj}/photometry/export", params={"format": "json"}
        )
        assert [p["id"] for p in as_json.json()] == list(served)
        refused(carol.get(f"/api/sources/{world.obj}/photometry/export", params={"format": "xls"}))


# ---- spectra ---------------------------------------------------------------------------------


def spectrum(w: World, **extra: Any) -> dict[str, Any]:
    return {
        "obj_id": w.obj,
        "instrument_id": w.spectrograph,
        "observed_at": "2026-03-04T05:06:07",
        "wavelengths": [4000.0, 4001.5, 4003.0],
        "fluxes": [1.0e-16, 1.2e-16, 0.9e-16],
        "errors": [1e-18, 1e-18, 2e-18],
        "units": "erg/s/cm/cm/AA",
        "label": "LT night 1",
        "group_ids": [w.group_a],
        **extra,
    }


def test_spectra_create_read_update_delete(world: World) -> None:
    with (
        world.as_(world.alice) as alice,
        world.as_(world.carol) as carol,
        world.as_(world.bob) as bob,
        world.as_(world.vic) as vic,
    ):
        refused(vic.post("/api/spectra", json=spectrum(world)), 401)
        no_instrument = {k: v for k, v in spectrum(world).items() if k != "instrument_id"}
        assert "instrument_id" in refused(alice.post("/api/spectra", json=no_instrument))
        ragged = spectrum(world, fluxes=[1.0, 2.0])
        assert "same length" in refused(alice.post("/api/spectra", json=ragged))
        assert "type must be one of" in refused(
            alice.post("/api/spectra", json=spectrum(world, type="galaxy"))
        )
        spectrum_id = data(alice.post("/api/spectra", json=spectrum(world, type="host")))["id"]
        found = data(carol.get(f"/api/spectra/{spectrum_id}"))
        assert found["obj_id"] == world.obj and found["type"] == "host"
        assert found["wavelengths"] == [4000.0, 4001.5, 4003.0]
        assert found["errors"] == [1e-18, 1e-18, 2e-18]
        assert found["observed_at"] == "2026-03-04T05:06:07"
        assert found["owner_id"] == world.alice.id
        assert world.group_a in {g["id"] for g in found["groups"]}
        listed = data(carol.get(f"/api/sources/{world.obj}/spectra"))
        assert listed["obj_id"] == world.obj
        assert spectrum_id in [s["id"] for s in listed["spectra"]]
        refused(bob.get(f"/api/spectra/{spectrum_id}"))
        refused(bob.get(f"/api/sources/{world.obj}/spectra"), 404)
        refused(carol.put(f"/api/spectra/{spectrum_id}", json={"label": "mine"}), 403)
        data(alice.put(f"/api/spectra/{spectrum_id}", json={"label": "reduced again"}))
        assert data(carol.get(f"/api/spectra/{spectrum_id}"))["label"] == "reduced again"
        refused(carol.delete(f"/api/spectra/{spectrum_id}"), 403)
        data(alice.delete(f"/api/spectra/{spectrum_id}"))
        refused(carol.get(f"/api/spectra/{spectrum_id}"))


ASCII = """# TELESCOP= 'Liverpool Telescope' / the telescope
# EXPTIME = 600.0 / [s] exposure
# OBSERVER: A. Person
wavelength flux fluxerr
4000.0 1.5e-16 2e-18
4002.0 1.7e-16 3e-18
4004.0 1.6e-16 2e-18
"""


def test_ascii_spectra_are_parsed_kept_and_exported(world: World) -> None:
    with world.as_(world.alice) as alice, world.as_(world.carol) as carol:
        parsed = data(
            alice.post("/api/spectra/parse/ascii", json={"ascii": ASCII, "fluxerr_column": 2})
        )
        assert parsed == {
            "wavelengths": [4000.0, 4002.0, 4004.0],
            "fluxes": [1.5e-16, 1.7e-16, 1.6e-16],
            "errors": [2e-18, 3e-18, 2e-18],
            "altdata": {
                "telescop": {"value": "Liverpool Telescope", "comment": "the telescope"},
                "exptime": {"value": 600.0, "comment": "[s] exposure"},
                "observer": "A. Person",
            },
        }
        body = {
            "ascii": ASCII,
            "filename": "lt.txt",
            "obj_id": world.obj,
            "instrument_id": world.spectrograph,
            "observed_at": "2026-03-05T01:02:03",
            "fluxerr_column": 2,
            "group_ids": [world.group_a],
        }
        assert "filename" in refused(
            alice.post(
                "/api/spectra/ascii", json={k: v for k, v in body.items() if k != "filename"}
            )
        )
        spectrum_id = data(alice.post("/api/spectra/ascii", json=body))["id"]
        found = data(
            carol.get(f"/api/spectra/{spectrum_id}", params={"includeOriginalFile": "true"})
        )
        assert found["original_file_string"] == ASCII
        assert found["original_file_filename"] == "lt.txt"
        assert found["altdata"] == parsed["altdata"]
        assert found["fluxes"] == parsed["fluxes"]
        assert "original_file_string" not in data(carol.get(f"/api/spectra/{spectrum_id}"))

        exported = carol.get(f"/api/spectra/{spectrum_id}/export", params={"format": "ascii"})
        assert exported.status_code == 200, exported.text
        assert "attachment" in exported.headers["content-disposition"]
        again = data(
            alice.post(
                "/api/spectra/parse/ascii", json={"ascii": exported.text, "fluxerr_column": 2}
            )
        )
        assert (again["wavelengths"], again["fluxes"], again["errors"]) == (
            parsed["wavelengths"],
            parsed["fluxes"],
            parsed["errors"],
        )
        assert again["altdata"]["telescop"] == parsed["altdata"]["telescop"]
        assert again["altdata"]["obj_id"] == world.obj
        as_csv = carol.get(f"/api/spectra/{spectrum_id}/export", params={"format": "csv"}).text
        assert as_csv.splitlines()[0] == "wavelength,flux,fluxerr"
        assert len(as_csv.splitlines()) == 4
        as_json = carol.get(f"/api/spectra/{spectrum_id}/export")
        assert as_json.status_code == 200, as_json.text
        assert as_json.json()["id"] == spectrum_id, as_json.text


# ---- allocations and follow-up requests -------------------------------------------------------


def test_allocations_and_follow_up_requests(world: World) -> None:
    allocation = {
        "instrument_id": world.spectrograph,
        "group_id": world.group_a,
        "pi": "A. Person",
        "proposal_id": "PH-1",
        "hours_allocated": 12.5,
        "validity_ranges": [
            {"start_date": "2026-01-01T00:00:00", "end_date": "2026-12-31T00:00:00"}
        ],
    }
    allocation_id = data(world.http.post("/api/allocation", json=allocation))["id"]
    with (
        world.as_(world.alice) as alice,
        world.as_(world.carol) as carol,
        world.as_(world.bob) as bob,
        world.as_(world.vic) as vic,
    ):
        # Full users lack "Manage allocations".
        refused(alice.post("/api/allocation", json=allocation), 401)
        found = data(alice.get(f"/api/allocation/{allocation_id}"))
        assert (found["pi"], found["hours_allocated"], found["group_id"]) == (
            "A. Person",
            12.5,
            world.group_a,
        )
        assert found["validity_ranges"][0]["start_date"].startswith("2026-01-01T00:00:00")
        assert allocation_id in [a["id"] for a in data(alice.get("/api/allocation"))]
        assert allocation_id not in [a["id"] for a in data(bob.get("/api/allocation"))]
        refused(bob.get(f"/api/allocation/{allocation_id}"))
        data(world.http.put(f"/api/allocation/{allocation_id}", json={"hours_allocated": 20}))
        assert data(alice.get(f"/api/allocation/{allocation_id}"))["hours_allocated"] == 20.0

        request = {"obj_id": world.obj, "allocation_id": allocation_id, "payload": {"priority": 3}}
        refused(vic.post("/api/followup_request", json=request), 401)
        made = data(alice.post("/api/followup_request", json=request))
        assert made == {"id": made["id"], "request_status": "pending submission"}
        again = data(
            alice.post("/api/followup_request", json={**request, "not_if_duplicates": True})
        )
        assert again["id"] is None and again["ignored"] is True

        listed = data(carol.get("/api/followup_request", params={"sourceID": world.obj}))
        assert listed["totalMatches"] == 1
        (entry,) = listed["followup_requests"]
        assert entry["id"] == made["id"] and entry["obj_id"] == world.obj
        assert entry["status"] == "pending submission" and entry["payload"] == {"priority": 3}
        assert entry["requester"]["id"] == world.alice.id
        assert (entry["allocation"]["pi"], entry["allocation"]["group"]["id"]) == (
            "A. Person",
            world.group_a,
        )
        assert entry["allocation"]["instrument"]["id"] == world.spectrograph
        assert data(bob.get("/api/followup_request", params={"sourceID": world.obj})) == {
            "followup_requests": [],
            "totalMatches": 0,
        }
        refused(carol.put(f"/api/followup_request/{made['id']}", json={"status": "completed"}), 403)
        assert "status must be one of" in refused(
            alice.put(f"/api/followup_request/{made['id']}", json={"status": "lost"})
        )
        data(alice.put(f"/api/followup_request/{made['id']}", json={"status": "completed"}))
        completed = data(carol.get("/api/followup_request", params={"status": "completed"}))
        assert made["id"] in [r["id"] for r in completed["followup_requests"]]
        source = data(carol.get(f"/api/sources/{world.obj}"))
        assert [r["id"] for r in source["followup_requests"]] == [made["id"]]
        # A completed request is no longer a duplicate.
        second = data(
            alice.post("/api/followup_request", json={**request, "not_if_duplicates": True})
        )
        assert second["request_status"] == "pending submission"
        paged = data(
            carol.get("/api/followup_request", params={"sourceID": world.obj, "numPerPage": "1"})
        )
        assert paged["totalMatches"] == 2 and [r["id"] for r in paged["followup_requests"]] == [
            second["id"]
        ]
        refused(carol.delete(f"/api/followup_request/{second['id']}"), 403)
        data(alice.delete(f"/api/followup_request/{second['id']}"))
        refused(alice.get(f"/api/followup_request/{second['id']}"))
        data(world.http.delete(f"/api/allocation/{allocation_id}"))
        refused(alice.get(f"/api/allocation/{allocation_id}"))


def test_a_filters_auto_followup_makes_one_request_per_live_allocation(
    world: World, mesh: Settings
) -> None:
    """The broker's PostPasses carries the filters service's auto_followup decision; the
    portal makes the request once (a re-delivered batch adds nothing), as Kowalski does."""
    public = stream(world.http, "ZTF Public", "ZTF_alerts", [1])
    scanners = group(world.http, "PH-F", [public])
    filter_id = portal_filter(world.http, "ph-followup", scanners, public)
    allocation_id = data(
        world.http.post(
            "/api/allocation",
            json={
                "instrument_id": world.spectrograph,
                "group_id": scanners,
                "hours_allocated": 1,
            },
        )
    )["id"]
    obj_id = f"ZTF26auto{secrets.token_hex(3)}"
    decision = {
        "obj_id": obj_id,
        "allocation_id": allocation_id,
        "payload": {"priority": 5, "exposure_time": 300},
        "target_group_ids": [scanners],
        "ignore_allocation_ids": [],
    }
    alert = portal_pb2.PassedAlert(
        candid=secrets.randbelow(10**15) + 10**15,
        obj_id=obj_id,
        ra=210.0,
        dec=-5.0,
        collection="ZTF_alerts",
        filters=[
            portal_pb2.PassedFilter(
                filter_id=filter_id, autosave=True, auto_followup_json=json.dumps(decision)
            )
        ],
        passed_at="2026-02-03T04:05:06+00:00",
    )
    metadata = [("authorization", f"Bearer {service_token(mesh.jwt_secret, 'test')}")]
    with grpc.insecure_channel(mesh.address("portal")) as channel:
        stub = portal_pb2_grpc.PortalServiceStub(channel)
        first = stub.PostPasses(portal_pb2.PostPassesRequest(alerts=[alert]), metadata=metadata)
        again = stub.PostPasses(portal_pb2.PostPassesRequest(alerts=[alert]), metadata=metadata)
    assert (first.saved, first.followup_requests) == (1, 1)
    assert (again.saved, again.followup_requests) == (0, 0)
    listed = data(world.http.get("/api/followup_request", params={"sourceID": obj_id}))
    assert listed["totalMatches"] == 1
    (request,) = listed["followup_requests"]
    assert (request["allocation_id"], request["status"]) == (allocation_id, "pending submission")
    assert request["payload"] == {"priority": 5, "exposure_time": 300}
    assert [g["id"] for g in request["target_groups"]] == [scanners]
    # Group A's members see neither the object nor its request.
    with world.as_(world.carol) as carol:
        hidden = data(carol.get("/api/followup_request", params={"sourceID": obj_id}))
    assert hidden == {"followup_requests": [], "totalMatches": 0}
