"""Rubin (LSST) alerts end to end on the real servers: generated alerts, Confluent-framed on
Kafka, archived once each with their objects' history merged and enriched, a ZTF counterpart
recorded both ways for an LSST object placed 1" from a bundled ZTF alert, a record of an
unknown schema dead-lettered while the others go through, and an LSST filter (no
programids: Rubin's data rights are by stream) whose passes become candidates with flux
photometry (nJy -> µJy, Rubin's bands) and thumbnails in the portal."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from pymongo import MongoClient

from services.broker.surveys import lsst_schemas
from skymesh import synthetic_lsst
from skymesh.config import Settings
from skymesh.produce import produce_messages
from tests.metrics import scrape, value
from tests.polling import wait_for
from tests.portal import group, group_candidates, portal_filter, stream
from tests.rest import ok

pytestmark = pytest.mark.integration

OBJECTS, PER_OBJECT = 3, 3
# The test's filter passes the alerts detected above this signal-to-noise ratio.
MIN_SNR = 20.0
LSST_STREAM = ("LSST alerts", "LSST_alerts", [])


def lsst_alerts_total(settings: Settings, outcome: str) -> float:
    return value(
        scrape(settings, "broker"), "skymesh_broker_alerts_total", survey="LSST", outcome=outcome
    )


@pytest.fixture(scope="module")
def lsst_filter(archived: Settings, client: httpx.Client) -> Iterator[dict[str, Any]]:
    """A group reading the LSST stream, with a filter on the detections' S/N, loaded by the
    broker: warm-up alerts of objects of their own are produced until one has passed."""
    stream_id = stream(client, *LSST_STREAM)
    group_id = group(client, "lsst", [stream_id])
    filter_id = portal_filter(client, "lsst bright", group_id, stream_id)
    body = {
        "group_id": group_id,
        "filter_id": filter_id,
        "catalog": "LSST_alerts",
        "permissions": [],
        "pipeline": [{"$match": {"diaSource.snr": {"$gt": MIN_SNR}}}],
    }
    ok(client.post("/api/filters", json=body))
    # Objects of their own, far from the stream's (whose indices are below 10**7).
    first = 10**8 + secrets.randbelow(10**6) * 10
    warm_up: list[int] = []

    def one_more() -> list[str]:
        (obj,) = synthetic_lsst.objects(1, seed=15, first=first + len(warm_up))
        (alert,) = synthetic_lsst.alerts([obj], 1, seed=15)
        alert["diaSource"]["snr"] = 10 * MIN_SNR
        warm_up.append(alert["diaSourceId"])
        message = synthetic_lsst.confluent_messages(iter([alert]))
        asyncio.run(produce_messages(message, synthetic_lsst.LSST_TOPIC, archived.kafka_bootstrap))
        return group_candidates(client, group_id)

    wait_for(one_more, bool, timeout=60, what="the LSST filter's first candidate")
    try:
        yield {"group_id": group_id, "filter_id": filter_id, "warm_up": warm_up}
    finally:
        client.delete(f"/api/filters/{filter_id}")
        with MongoClient(archived.mongo_uri) as mongo:
            db = mongo[archived.db_name]
            db["LSST_alerts"].delete_many({"_id": {"$gte": synthetic_lsst.LSST_ID_BASE}})


@pytest.fixture(scope="module")
def lsst_stream(
    archived: Settings, ztf_alerts: dict[int, dict], lsst_filter: dict[str, Any]
) -> Iterator[dict[str, Any]]:
    """The generated stream, produced once; its alerts and aliases are removed afterwards."""
    ztf = ztf_alerts[min(ztf_alerts)]
    objects = synthetic_lsst.objects(OBJECTS, seed=14, first=secrets.randbelow(10**6) * 10)
    # The first object sits 1" from the bundled ZTF alert (its sources scatter by 0.05").
    # ... and was seen by Rubin days after the ZTF alert, within ZTF's history window.
    ztf_mjd = ztf["candidate"]["jd"] - 2400000.5
    near = synthetic_lsst.next_to(objects[0], ztf, separation_arcsec=1.0, angle_deg=40.0)
    objects[0] = replace(near, first_mjd=ztf_mjd + 5)
    alerts = list(synthetic_lsst.alerts(objects, PER_OBJECT, seed=14, cutouts=True))
    messages = synthetic_lsst.confluent_messages(iter(alerts))
    poison = lsst_schemas.confluent_frame(9999, messages[0][5:])
    dead_before = lsst_alerts_total(archived, "dead_lettered")
    asyncio.run(
        produce_messages([*messages, poison], synthetic_lsst.LSST_TOPIC, archived.kafka_bootstrap)
    )
    produced = {
        "alerts": alerts,
        "messages": messages,
        "objects": {str(o.dia_object_id): o for o in objects},
        "ztf_object": ztf["objectId"],
        "dead_before": dead_before,
    }
    with MongoClient(archived.mongo_uri) as client:
        db = client[archived.db_name]
        candids = [a["diaSourceId"] for a in alerts]
        wait_for(
            lambda: db["LSST_alerts"].count_documents({"_id": {"$in": candids}}),
            lambda n: n == len(candids),
            timeout=90,
            what="every generated LSST alert to be archived",
        )
        produced["db"] = db
        try:
            yield produced
        finally:
            db["LSST_alerts"].delete_many({"_id": {"$in": candids}})
            prefix = synthetic_lsst.GENERATED_OBJECT_PREFIX
            db["LSST_alerts_aux"].delete_many({"_id": {"$gte": prefix, "$lt": prefix + "\uffff"}})
            db["ZTF_alerts_aux"].update_many({}, {"$unset": {"aliases": ""}})


def test_each_alert_is_archived_once_keyed_and_enriched(lsst_stream: dict[str, Any]) -> None:
    db = lsst_stream["db"]
    for alert in lsst_stream["alerts"]:
        (document,) = db["LSST_alerts"].find({"candid": alert["diaSourceId"]})
        assert document["_id"] == alert["diaSourceId"]
        assert document["objectId"] == str(alert["diaSource"]["diaObjectId"])
        assert "prvDiaSources" not in document  # history lives in the aux document
        ra, dec = document["diaSource"]["ra"], document["diaSource"]["dec"]
        longitude, latitude = document["coordinates"]["radec_geojson"]["coordinates"]
        assert (longitude + 180.0, latitude) == pytest.approx((ra, dec))
        assert document["diaSource"]["jd"] == pytest.approx(
            alert["diaSource"]["midpointMjdTai"] + 2400000.5
        )
        assert document["cutoutScience"][:6] == b"SIMPLE"


def test_each_objects_history_is_merged(lsst_stream: dict[str, Any]) -> None:
    db = lsst_stream["db"]
    for object_id in lsst_stream["objects"]:
        aux = db["LSST_alerts_aux"].find_one({"_id": object_id})
        alerts = [
            a for a in lsst_stream["alerts"] if str(a["diaSource"]["diaObjectId"]) == object_id
        ]
        # Every earlier detection (the last alert's prvDiaSources) and forced point, once, by jd.
        expected = sorted(s["diaSourceId"] for s in alerts[-1]["prvDiaSources"])
        assert sorted(p["diaSourceId"] for p in aux["prvDiaSources"]) == expected
        assert len(aux["prvDiaForcedSources"]) == PER_OBJECT - 1
        jds = [p["jd"] for p in aux["prvDiaSources"]]
        assert jds == sorted(jds)


def test_a_ztf_counterpart_is_recorded_both_ways(lsst_stream: dict[str, Any]) -> None:
    db = lsst_stream["db"]
    near, *far = lsst_stream["objects"]
    ztf_object = lsst_stream["ztf_object"]
    assert db["LSST_alerts_aux"].find_one({"_id": near})["aliases"] == {"ZTF": [ztf_object]}
    assert near in db["ZTF_alerts_aux"].find_one({"_id": ztf_object})["aliases"]["LSST"]
    for object_id in far:
        assert "aliases" not in db["LSST_alerts_aux"].find_one({"_id": object_id})


def test_a_record_of_an_unknown_schema_is_dead_lettered(
    archived: Settings, lsst_stream: dict[str, Any]
) -> None:
    wait_for(
        lambda: lsst_alerts_total(archived, "dead_lettered"),
        lambda n: n == lsst_stream["dead_before"] + 1,
        timeout=30,
        what="the record of schema id 9999 to be dead-lettered",
    )


def test_a_redelivered_alert_is_not_archived_again(
    archived: Settings, lsst_stream: dict[str, Any]
) -> None:
    duplicates = lsst_alerts_total(archived, "duplicate")
    first = lsst_stream["messages"][0]
    asyncio.run(produce_messages([first], synthetic_lsst.LSST_TOPIC, archived.kafka_bootstrap))
    wait_for(
        lambda: lsst_alerts_total(archived, "duplicate"),
        lambda n: n == duplicates + 1,
        timeout=30,
        what="the re-delivered alert to be recognised",
    )
    candid = lsst_stream["alerts"][0]["diaSourceId"]
    assert lsst_stream["db"]["LSST_alerts"].count_documents({"candid": candid}) == 1


def test_an_lsst_filter_posts_candidates_with_flux_photometry(
    client: httpx.Client, lsst_filter: dict[str, Any], lsst_stream: dict[str, Any]
) -> None:
    """The objects with an alert above the filter's S/N become the group's candidates, with
    every detection as flux in µJy at zp 23.9 in Rubin's bands, and thumbnails."""
    passing = {
        str(a["diaSource"]["diaObjectId"]): a
        for a in lsst_stream["alerts"]
        if a["diaSource"]["snr"] > MIN_SNR
    }
    assert 0 < len(passing) < OBJECTS * PER_OBJECT
    mine = set(lsst_stream["objects"])
    candidates = wait_for(
        lambda: set(group_candidates(client, lsst_filter["group_id"])) & mine,
        lambda found: found == set(passing),
        timeout=60,
        what="the passing LSST objects as candidates",
    )
    for object_id in candidates:
        alert = passing[object_id]
        photometry = client.get(f"/api/sources/{object_id}/photometry", params={"format": "flux"})
        points = ok(photometry)["data"]
        assert {p["instrument_name"] for p in points} == {"LSST"}
        assert {p["filter"] for p in points} <= {f"lsst{b}" for b in "ugrizy"}
        source = alert["diaSource"]
        (point,) = [p for p in points if p["mjd"] == pytest.approx(source["midpointMjdTai"])]
        assert point["filter"] == f"lsst{source['band']}"
        assert point["flux"] == pytest.approx(source["psfFlux"] / 1000, rel=1e-6)
        assert point["fluxerr"] == pytest.approx(source["psfFluxErr"] / 1000, rel=1e-6)
        assert point["zp"] == pytest.approx(23.9)
        candidate = ok(client.get(f"/api/candidates/{object_id}"))["data"]
        assert {t["type"] for t in candidate["thumbnails"]} >= {"new", "ref", "sub"}


def test_an_lsst_filter_reads_its_ztf_counterparts_public_history(
    client: httpx.Client, lsst_filter: dict[str, Any], lsst_stream: dict[str, Any]
) -> None:
    """Tested on the archived alerts (POST /api/filters/{id}/test): the object near the ZTF
    alert passes, and sees the ZTF object's public detections (programid 1)."""
    near, *_ = lsst_stream["objects"]
    version = {
        "filter_id": lsst_filter["filter_id"],
        "group_id": lsst_filter["group_id"],
        "pipeline": [
            {"$match": {"aliases.ZTF": {"$exists": True}}},
            {"$project": {"objectId": 1, "ztf": "$counterparts.ZTF"}},
        ],
    }
    ok(client.post("/api/filters", json=version))
    body = {"object_ids": list(lsst_stream["objects"])}
    answer = ok(client.post(f"/api/filters/{lsst_filter['filter_id']}/test", json=body))
    assert {passed["objectId"] for passed in answer["data"]} == {near}
    ztf_object = lsst_stream["ztf_object"]
    ztf_aux = lsst_stream["db"]["ZTF_alerts_aux"].find_one({"_id": ztf_object})
    jd_of = {
        a["diaSourceId"]: a["diaSource"]["midpointMjdTai"] + 2400000.5
        for a in lsst_stream["alerts"]
    }
    seen = 0
    for passed in answer["data"]:
        (ztf,) = passed["ztf"]
        assert ztf["_id"] == ztf_object
        jd = jd_of[passed["_id"]]
        public_before = [
            p
            for p in ztf_aux["prv_candidates"]
            if p.get("programid") == 1 and p["jd"] < jd and jd - p["jd"] < 365
        ]
        assert ztf["prv_candidates"] == public_before
        seen += len(public_before)
    assert seen > 0
