"""penquins 2.4.2 from PyPI, unmodified, against the gateway (Kowalski's own client)."""

from __future__ import annotations

import astropy.units as u
import pytest
from astropy.coordinates import SkyCoord
from penquins import Kowalski

from skymesh.config import Settings
from tests.conftest import ADMIN_PASSWORD, NEIGHBOURS_CATALOG

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def kowalski(archived: Settings) -> Kowalski:
    client = Kowalski(
        username="admin",
        password=ADMIN_PASSWORD,
        protocol="http",
        host="127.0.0.1",
        port=archived.ports.gateway,
        timeout=30,
    )
    yield client
    client.close()


def data(response: dict) -> object:
    (answer,) = response.values()
    assert answer["status"] == "success", answer
    return answer["data"]


def test_ping_and_catalog_names(kowalski: Kowalski) -> None:
    assert kowalski.ping()
    names = data(kowalski.query({"query_type": "info", "query": {"command": "catalog_names"}}))
    assert {"ZTF_alerts", "ZTF_alerts_aux", "WNTR_alerts", NEIGHBOURS_CATALOG} <= set(names)


def test_find_find_one_and_counts(kowalski: Kowalski, ztf_alerts: dict) -> None:
    candid = 1127107111615015007
    found = data(
        kowalski.query(
            {
                "query_type": "find",
                "query": {
                    "catalog": "ZTF_alerts",
                    "filter": {"candid": candid},
                    "projection": {"_id": 0, "candid": 1, "objectId": 1, "candidate.magpsf": 1},
                },
            }
        )
    )
    packet = ztf_alerts[candid]
    assert found == [
        {
            "candid": candid,
            "objectId": packet["objectId"],
            "candidate": {"magpsf": packet["candidate"]["magpsf"]},
        }
    ]
    one = data(
        kowalski.query(
            {
                "query_type": "find_one",
                "query": {"catalog": "ZTF_alerts", "filter": {"objectId": packet["objectId"]}},
            }
        )
    )
    assert one["objectId"] == packet["objectId"]
    assert one["cutoutScience"]["stampData"] == packet["cutoutScience"]["stampData"]
    count = data(
        kowalski.query(
            {
                "query_type": "count_documents",
                "query": {"catalog": "ZTF_alerts", "filter": {"candidate.programid": 1}},
            }
        )
    )
    assert count == sum(1 for p in ztf_alerts.values() if p["candidate"]["programid"] == 1)
    estimated = data(
        kowalski.query(
            {"query_type": "estimated_document_count", "query": {"catalog": "ZTF_alerts"}}
        )
    )
    assert estimated == len(ztf_alerts)


def test_aggregate(kowalski: Kowalski, ztf_alerts: dict) -> None:
    pipeline = [
        {"$match": {"candidate.magpsf": {"$lt": 19}}},
        {"$group": {"_id": "$objectId", "n": {"$sum": 1}}},
        {"$sort": {"_id": 1}},
    ]
    got = data(
        kowalski.query(
            {"query_type": "aggregate", "query": {"catalog": "ZTF_alerts", "pipeline": pipeline}}
        )
    )
    expected: dict[str, int] = {}
    for packet in ztf_alerts.values():
        if packet["candidate"]["magpsf"] < 19:
            expected[packet["objectId"]] = expected.get(packet["objectId"], 0) + 1
    assert got == [{"_id": k, "n": v} for k, v in sorted(expected.items())]


def test_cone_search(kowalski: Kowalski, ztf_alerts: dict, neighbours: list) -> None:
    packet = ztf_alerts[1127107111615015007]
    ra, dec = packet["candidate"]["ra"], packet["candidate"]["dec"]
    got = data(
        kowalski.query(
            {
                "query_type": "cone_search",
                "query": {
                    "object_coordinates": {
                        "cone_search_radius": 3,
                        "cone_search_unit": "arcsec",
                        "radec": {"target": [ra, dec]},
                    },
                    "catalogs": {
                        NEIGHBOURS_CATALOG: {"filter": {}, "projection": {"_id": 0, "name": 1}},
                        "ZTF_alerts": {"filter": {}, "projection": {"_id": 0, "candid": 1}},
                    },
                },
            }
        )
    )
    centre = SkyCoord(ra * u.deg, dec * u.deg)
    expected_rows = {
        r["name"]
        for r in neighbours
        if centre.separation(SkyCoord(r["ra"] * u.deg, r["dec"] * u.deg)).arcsec <= 3
    }
    assert {r["name"] for r in got[NEIGHBOURS_CATALOG]["target"]} == expected_rows
    expected_alerts = {
        c
        for c, p in ztf_alerts.items()
        if centre.separation(
            SkyCoord(p["candidate"]["ra"] * u.deg, p["candidate"]["dec"] * u.deg)
        ).arcsec
        <= 3
    }
    assert {r["candid"] for r in got["ZTF_alerts"]["target"]} == expected_alerts
