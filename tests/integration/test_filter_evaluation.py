"""Filters evaluated on every bundled real alert as the archive holds it (issue 4).

Each filter is created through the REST API (a SkyPortal filter of the test's group on the
stream of its catalog and programids, then its Kowalski version), and evaluated through the
Evaluate RPC (gRPC, service token) on the archived enriched alerts and their aux documents,
read from the database. Every expected pass/fail, annotation and decision is computed here,
independently, from the decoded Avro packets (plus the test's own cross-match and braai
computations).
Also: /test on the archive (date windows, object ids, later photometry never seen), and live
reload across replicas.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import astuple, dataclass, field, replace
from pathlib import Path
from typing import Any

import bson
import grpc
import httpx
import pytest
from bson import json_util
from bson.raw_bson import RawBSONDocument
from pymongo import MongoClient

from skymesh.config import Settings
from skymesh.filters.v1 import filters_pb2, filters_pb2_grpc
from skymesh.infra import stack
from skymesh.infra.process import Supervisor, free_port
from skymesh.runtime.auth import service_token
from tests.conftest import NEIGHBOURS_CATALOG
from tests.filter_truth import PERMISSIONS, Truth
from tests.polling import wait_for
from tests.portal import group, portal_filter, stream
from tests.rest import ok, refused

pytestmark = pytest.mark.integration

# The SkyPortal streams the filters read: (catalog, programids) -> the stream's name.
STREAMS = {
    ("ZTF_alerts", (1, 2)): "ZTF Public+Partnership",
    ("ZTF_alerts", (2, 3)): "ZTF Partnership+Caltech",
    ("ZTF_alerts", (1,)): "ZTF Public",
    ("WNTR_alerts", (1,)): "WNTR Public",
}
# The one object with two bundled alerts; the later alert lists the earlier one.
TWO_ALERTS_OBJECT = "ZTF20aajcdad"
EARLIER, LATER = 1127495406315015005, 1127536316315015004
LIVE_RELOAD_S = 10


# --- the filters --------------------------------------------------------------------------------

Expected = Callable[[Truth, dict[str, Any]], dict[str, Any] | None]


@dataclass
class Case:
    """A filter, and for one packet what it yields: None (fails) or the expected annotations."""

    name: str
    # The case's number; its filter's id is the SkyPortal filter's, made by the run.
    number: int
    pipeline: list[dict[str, Any]]
    expected: Expected
    catalog: str = "ZTF_alerts"
    permissions: list[int] = field(default_factory=lambda: list(PERMISSIONS))
    extra: dict[str, Any] = field(default_factory=dict)


def passes_if(condition: Callable[[Truth, dict[str, Any]], bool]) -> Expected:
    return lambda truth, packet: {} if condition(truth, packet) else None


def expect_brightening(truth: Truth, packet: dict[str, Any], leak: bool = False) -> Any:
    detections = truth.detections(packet, leak)
    if not detections:
        return None
    brightening = detections[-1]["magpsf"] - packet["candidate"]["magpsf"]
    return {"brightening": brightening} if brightening > 0.5 else None


def expect_detections(truth: Truth, packet: dict[str, Any]) -> Any:
    jd = packet["candidate"]["jd"]
    earlier = [p for p in truth.detections(packet) if p["magpsf"] > 0 and jd - p["jd"] < 365]
    return {"n_detections": len(earlier) + 1} if earlier else None


def expect_arithmetic(truth: Truth, packet: dict[str, Any]) -> Any:
    c = packet["candidate"]
    if not c["magpsf"] < 19.0:
        return None
    return {
        "depth": round(c["diffmaglim"] - c["magpsf"], 3),
        "age_days": c["jd"] - c["jdstarthist"],
        "flux_ujy": 10 ** ((23.9 - c["magpsf"]) / 2.5),
    }


def expect_g_band_history(truth: Truth, packet: dict[str, Any]) -> Any:
    g = [p["magpsf"] for p in truth.detections(packet) if p["fid"] == 1]
    return {"n_g": len(g), "mean_g": sum(g) / len(g)} if len(g) >= 2 else None


def expect_bright_neighbour(truth: Truth, packet: dict[str, Any]) -> Any:
    rows = truth.near[truth.object_id(packet)]
    if not any(row["mag"] < 18 for row in rows):
        return None
    return {"n_neighbours": len(rows)}


def expect_forced_photometry(truth: Truth, packet: dict[str, Any]) -> Any:
    jd = packet["candidate"]["jd"]
    significant = []
    for point in truth.history(packet, "fp_hists", PERMISSIONS):
        flux, error = point.get("forcediffimflux"), point.get("forcediffimfluxunc")
        if flux is None or not error or jd - point["jd"] >= 30:
            continue
        if flux / error > 5:
            significant.append(point)
    return {"n_significant": len(significant)} if len(significant) >= 3 else None


REFERENCE = (205.0, 60.0)  # deg: in the 2020-02-02 northern field
NEAR_REFERENCE_DEG = 5.0


def haversine_deg(ra: float, dec: float) -> float:
    ra0, dec0 = map(math.radians, REFERENCE)
    ra1, dec1 = math.radians(ra), math.radians(dec)
    a = (
        math.sin((dec1 - dec0) / 2) ** 2
        + math.cos(dec0) * math.cos(dec1) * math.sin((ra1 - ra0) / 2) ** 2
    )
    return math.degrees(2 * math.asin(math.sqrt(a)))


def expect_near_reference(truth: Truth, packet: dict[str, Any]) -> Any:
    distance = haversine_deg(packet["candidate"]["ra"], packet["candidate"]["dec"])
    return {"distance_deg": distance} if distance < NEAR_REFERENCE_DEG else None


def expect_winter_brightening(truth: Truth, packet: dict[str, Any]) -> Any:
    history = truth.history(packet, "prv_candidates")
    mags = [p["magpsf"] for p in history if p.get("magpsf") is not None]
    if not mags or not min(mags) - packet["candidate"]["magpsf"] > 1:
        return None
    return {"n_prev": len(history), "brightest_prev": min(mags)}


def _rad(expression: Any) -> dict[str, Any]:
    return {"$degreesToRadians": expression}


HAVERSINE = {
    "$multiply": [
        2,
        {
            "$radiansToDegrees": {
                "$asin": {
                    "$sqrt": {
                        "$add": [
                            {
                                "$pow": [
                                    {
                                        "$sin": {
                                            "$divide": [
                                                {
                                                    "$subtract": [
                                                        _rad("$candidate.dec"),
                                                        _rad(REFERENCE[1]),
                                                    ]
                                                },
                                                2,
                                            ]
                                        }
                                    },
                                    2,
                                ]
                            },
                            {
                                "$multiply": [
                                    {"$cos": _rad(REFERENCE[1])},
                                    {"$cos": _rad("$candidate.dec")},
                                    {
                                        "$pow": [
                                            {
                                                "$sin": {
                                                    "$divide": [
                                                        {
                                                            "$subtract": [
                                                                _rad("$candidate.ra"),
                                                                _rad(REFERENCE[0]),
                                                            ]
                                                        },
                                                        2,
                                                    ]
                                                }
                                            },
                                            2,
                                        ]
                                    },
                                ]
                            },
                        ]
                    }
                }
            }
        },
    ]
}

AUTOSAVE = {
    "active": True,
    "comment": "saved by the test filter",
    "ignore_group_ids": [7],
    "saver_id": 5,
    "pipeline": [{"$match": {"candidate.magpsf": {"$lt": 19}}}],
}
AUTO_FOLLOWUP = {
    "active": True,
    "allocation_id": 3,
    "comment": "SEDM",
    "payload": {"observation_type": "IFU", "priority": 2},
    "target_group_ids": [9],
    "priority_order": "desc",
    "pipeline": [
        {"$match": {"candidate.isdiffpos": "t"}},
        # The pipeline may tune the configured payload and the comment, not add keys.
        {
            "$project": {
                "payload.priority": {"$literal": 5},
                "payload.bogus": {"$literal": 1},
                "comment": "$objectId",
            }
        },
    ],
}

CASES = [
    Case(
        "braai and drb",
        4201,
        [{"$match": {"classifications.braai": {"$gt": 0.8}, "candidate.drb": {"$gt": 0.9}}}],
        passes_if(lambda t, p: t.braai[p["candid"]] > 0.8 and p["candidate"]["drb"] > 0.9),
    ),
    Case(
        "positive subtraction",
        4202,
        [{"$match": {"candidate.isdiffpos": {"$in": ["t", "1"]}}}],
        passes_if(lambda t, p: p["candidate"]["isdiffpos"] in ("t", "1")),
    ),
    Case(
        "no PS1 star within 2 arcsec",
        4203,
        [
            {
                "$match": {
                    "$or": [
                        {"candidate.sgscore1": {"$lte": 0.76}},
                        {"candidate.distpsnr1": {"$gte": 2}},
                        {"candidate.distpsnr1": {"$lt": 0}},
                    ]
                }
            }
        ],
        passes_if(
            lambda t, p: (
                p["candidate"]["sgscore1"] <= 0.76 or not 0 <= p["candidate"]["distpsnr1"] < 2
            )
        ),
    ),
    Case(
        "two detections in the last 365 days",
        4204,
        [
            {
                "$addFields": {
                    "n_det": {
                        "$size": {
                            "$filter": {
                                "input": {"$ifNull": ["$prv_candidates", []]},
                                "as": "p",
                                "cond": {
                                    "$and": [
                                        {"$gt": ["$$p.magpsf", 0]},
                                        {
                                            "$lt": [
                                                {"$subtract": ["$candidate.jd", "$$p.jd"]},
                                                365,
                                            ]
                                        },
                                    ]
                                },
                            }
                        }
                    }
                }
            },
            {"$match": {"n_det": {"$gte": 1}}},
            {"$project": {"annotations.n_detections": {"$add": ["$n_det", 1]}}},
        ],
        expect_detections,
    ),
    Case(
        "brightening vs the previous detection",
        4205,
        [
            {
                "$addFields": {
                    "previous_mag": {
                        "$let": {
                            "vars": {"mags": "$prv_candidates.magpsf"},
                            "in": {"$arrayElemAt": ["$$mags", -1]},
                        }
                    }
                }
            },
            {
                "$match": {
                    "$expr": {"$gt": [{"$subtract": ["$previous_mag", "$candidate.magpsf"]}, 0.5]}
                }
            },
            {
                "$project": {
                    "annotations.brightening": {"$subtract": ["$previous_mag", "$candidate.magpsf"]}
                }
            },
        ],
        expect_brightening,
    ),
    Case(
        "near a bright catalog source",
        4206,
        [
            {
                "$match": {
                    f"cross_matches.{NEIGHBOURS_CATALOG}": {"$elemMatch": {"mag": {"$lt": 18}}}
                }
            },
            {
                "$project": {
                    "annotations.n_neighbours": {"$size": f"$cross_matches.{NEIGHBOURS_CATALOG}"}
                }
            },
        ],
        expect_bright_neighbour,
    ),
    Case(
        "annotations by arithmetic",
        4207,
        [
            {"$match": {"candidate.magpsf": {"$lt": 19.0}}},
            {
                "$project": {
                    "_id": 0,
                    "candid": 1,
                    "objectId": 1,
                    "annotations": {
                        "depth": {
                            "$round": [
                                {"$subtract": ["$candidate.diffmaglim", "$candidate.magpsf"]},
                                3,
                            ]
                        },
                        "age_days": {"$subtract": ["$candidate.jd", "$candidate.jdstarthist"]},
                        "flux_ujy": {
                            "$pow": [
                                10,
                                {"$divide": [{"$subtract": [23.9, "$candidate.magpsf"]}, 2.5]},
                            ]
                        },
                    },
                }
            },
        ],
        expect_arithmetic,
    ),
    Case(
        "partnership and Caltech alerts only",
        4208,
        [{"$match": {"candid": {"$exists": True}}}],
        passes_if(lambda t, p: p["candidate"]["programid"] in (2, 3)),
        permissions=[2, 3],
    ),
    Case(
        "public alerts",
        4209,
        [{"$match": {"candid": {"$exists": True}}}],
        passes_if(lambda t, p: p["candidate"]["programid"] == 1),
        permissions=[1],
    ),
    Case(
        "g-band history by $unwind and $group",
        4210,
        [
            {"$unwind": "$prv_candidates"},
            {"$match": {"prv_candidates.fid": 1, "prv_candidates.magpsf": {"$exists": True}}},
            {
                "$group": {
                    "_id": "$candid",
                    "n_g": {"$sum": 1},
                    "mean_g": {"$avg": "$prv_candidates.magpsf"},
                    "objectId": {"$first": "$objectId"},
                }
            },
            {"$match": {"n_g": {"$gte": 2}}},
            {
                "$project": {
                    "_id": 0,
                    "candid": "$_id",
                    "objectId": 1,
                    "annotations": {"n_g": "$n_g", "mean_g": "$mean_g"},
                }
            },
        ],
        expect_g_band_history,
    ),
    Case(
        "young and bright",
        4211,
        [
            {
                "$match": {
                    "candidate.magpsf": {"$lt": 19},
                    "$expr": {
                        "$lt": [{"$subtract": ["$candidate.jd", "$candidate.jdstarthist"]}, 30]
                    },
                }
            }
        ],
        passes_if(
            lambda t, p: (
                p["candidate"]["magpsf"] < 19
                and p["candidate"]["jd"] - p["candidate"]["jdstarthist"] < 30
            )
        ),
    ),
    Case(
        "high galactic latitude",
        4212,
        [{"$match": {"$expr": {"$gt": [{"$abs": "$coordinates.b"}, 45]}}}],
        passes_if(lambda t, p: abs(t.galactic_b[p["candid"]]) > 45),
    ),
    Case(
        "within 5 deg of a point (trigonometry)",
        4213,
        [
            {"$addFields": {"annotations.distance_deg": HAVERSINE}},
            {"$match": {"annotations.distance_deg": {"$lt": NEAR_REFERENCE_DEG}}},
        ],
        expect_near_reference,
    ),
    Case(
        "significant forced photometry in the last 30 days",
        4214,
        [
            {
                "$addFields": {
                    "annotations.n_significant": {
                        "$size": {
                            "$filter": {
                                "input": {"$ifNull": ["$fp_hists", []]},
                                "as": "f",
                                "cond": {
                                    "$and": [
                                        {"$gt": ["$$f.snr", 5]},
                                        {"$lt": [{"$subtract": ["$candidate.jd", "$$f.jd"]}, 30]},
                                    ]
                                },
                            }
                        }
                    }
                }
            },
            {"$match": {"annotations.n_significant": {"$gte": 3}}},
        ],
        expect_forced_photometry,
    ),
    Case(
        "autosave and auto_followup",
        4215,
        [{"$match": {"candidate.drb": {"$gt": 0.99}}}],
        passes_if(lambda t, p: p["candidate"]["drb"] > 0.99),
        extra={"autosave": AUTOSAVE, "auto_followup": AUTO_FOLLOWUP},
    ),
    Case(
        "WINTER: brighter than every earlier detection by 1 mag",
        4216,
        [
            {
                "$addFields": {
                    "annotations.n_prev": {"$size": {"$ifNull": ["$prv_candidates", []]}},
                    "annotations.brightest_prev": {"$min": "$prv_candidates.magpsf"},
                }
            },
            {
                "$match": {
                    "candidate.isdiffpos": True,
                    "$expr": {
                        "$gt": [
                            {"$subtract": ["$annotations.brightest_prev", "$candidate.magpsf"]},
                            1,
                        ]
                    },
                }
            },
            {"$project": {"_id": 0, "objectid": 1, "annotations": 1}},
        ],
        expect_winter_brightening,
        catalog="WNTR_alerts",
        permissions=[1],
    ),
]
# Divides by zero where sgscore1 is exactly 0.5 (four real alerts; not the newest one, which
# the dry run uses): those alerts fail at run time, the others are judged normally.
FAILING_CASE = Case(
    "fails at run time on some alerts",
    4217,
    [
        {"$addFields": {"inv": {"$divide": [1, {"$subtract": ["$candidate.sgscore1", 0.5]}]}}},
        {"$match": {"inv": {"$gt": 0}}},
    ],
    passes_if(lambda t, p: p["candidate"]["sgscore1"] > 0.5),
)


# --- plumbing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Portal:
    """The test's SkyPortal group, reading every stream of STREAMS."""

    group_id: int
    streams: dict[tuple[str, tuple[int, ...]], int]

    def stream_of(self, catalog: str, permissions: list[int]) -> int:
        return self.streams[(catalog, tuple(permissions))]


@dataclass(frozen=True)
class Created:
    filter_id: int
    fid: str


@pytest.fixture(scope="module")
def portal(client: httpx.Client) -> Portal:
    streams = {key: stream(client, name, key[0], list(key[1])) for key, name in STREAMS.items()}
    return Portal(group(client, "filter-evaluation", list(streams.values())), streams)


def new_portal_filter(
    client: httpx.Client, portal: Portal, name: str, catalog: str, permissions: list[int]
) -> int:
    stream_id = portal.stream_of(catalog, permissions)
    return portal_filter(client, name, portal.group_id, stream_id)


def post_version(client: httpx.Client, portal: Portal, filter_id: int, case: Case) -> str:
    body = {
        "group_id": portal.group_id,
        "filter_id": filter_id,
        "catalog": case.catalog,
        "permissions": case.permissions,
        "pipeline": case.pipeline,
        **case.extra,
    }
    return ok(client.post("/api/filters", json=body))["data"]["fid"]


def create(client: httpx.Client, portal: Portal, case: Case) -> Created:
    """The case's SkyPortal filter, and its first version."""
    filter_id = new_portal_filter(client, portal, case.name, case.catalog, case.permissions)
    return Created(filter_id, post_version(client, portal, filter_id, case))


@pytest.fixture(scope="module")
def created(client: httpx.Client, portal: Portal) -> Iterator[dict[int, Created]]:
    """Every case's filter, active; case number -> its filter's id and fid."""
    made = {case.number: create(client, portal, case) for case in [*CASES, FAILING_CASE]}
    yield made
    for each in made.values():
        client.delete(f"/api/filters/{each.filter_id}")


@pytest.fixture(scope="module")
def filters_stub(filters_service: Settings) -> Iterator[tuple[Any, list]]:
    metadata = [("authorization", f"Bearer {service_token(filters_service.jwt_secret, 'broker')}")]
    with grpc.insecure_channel(filters_service.address("filters")) as channel:
        yield filters_pb2_grpc.FiltersServiceStub(channel), metadata


def archived_batch(settings: Settings, catalog: str) -> filters_pb2.EvaluateRequest:
    """Every archived alert of the catalog and every aux document, as stored (BSON)."""
    with MongoClient(settings.mongo_uri, document_class=RawBSONDocument) as mongo:
        db = mongo[settings.db_name]
        alerts = [bytes(doc.raw) for doc in db[catalog].find(sort=[("candid", 1)])]
        aux = [bytes(doc.raw) for doc in db[f"{catalog}_aux"].find()]
    return filters_pb2.EvaluateRequest(catalog=catalog, alerts_bson=alerts, aux_bson=aux)


def evaluate(stub_and_metadata: tuple[Any, list], request: Any) -> filters_pb2.EvaluateResponse:
    stub, metadata = stub_and_metadata
    return stub.Evaluate(request, metadata=metadata, timeout=60)


def passes_of(response: filters_pb2.EvaluateResponse, filter_id: int) -> dict[int, Any]:
    return {p.candid: p for p in response.passes if p.filter_id == filter_id}


def assert_annotations(got: dict[str, Any], expected: dict[str, Any], where: str) -> None:
    assert set(got) == set(expected), where
    for key, value in expected.items():
        if isinstance(value, float):
            assert got[key] == pytest.approx(value, rel=1e-9, abs=1e-9), f"{where}: {key}"
        else:
            assert got[key] == value, f"{where}: {key}"


# --- live evaluation ------------------------------------------------------------------------------


def test_the_truth_is_not_ambiguous(ztf_truth: Truth) -> None:
    # Our braai runs beside Triton's; keep away from thresholds where they could disagree.
    assert all(abs(score - 0.8) > 1e-3 for score in ztf_truth.braai.values())


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_each_filter_on_every_archived_alert(
    case: Case,
    created: dict[int, Created],
    portal: Portal,
    filters_service: Settings,
    filters_stub: tuple[Any, list],
    ztf_truth: Truth,
    wntr_truth: Truth,
) -> None:
    truth = ztf_truth if case.catalog == "ZTF_alerts" else wntr_truth
    response = evaluate(filters_stub, archived_batch(filters_service, case.catalog))
    made = created[case.number]
    got = passes_of(response, made.filter_id)
    expected = {
        candid: annotations
        for candid, packet in truth.packets.items()
        if (annotations := case.expected(truth, packet)) is not None
    }
    assert sorted(got) == sorted(expected), case.name
    # Every real filter here splits the bundled alerts (except the permission ones).
    if case.number not in (4208, 4209):
        assert 0 < len(expected) < len(truth.packets), case.name
    for candid, annotations in expected.items():
        passed = got[candid]
        assert passed.fid == made.fid
        assert passed.group_id == portal.group_id
        assert passed.object_id == truth.object_id(truth.packets[candid])
        where = f"{case.name}, candid {candid}"
        assert_annotations(json_util.loads(passed.annotations_json), annotations, where)
    assert not [e for e in response.errors if e.filter_id == made.filter_id]


def test_programid_permissions_decide_what_is_evaluated(
    created: dict[int, Created], filters_service: Settings, filters_stub: tuple[Any, list]
) -> None:
    response = evaluate(filters_stub, archived_batch(filters_service, "ZTF_alerts"))
    # Every bundled alert is public (programid 1).
    assert not passes_of(response, created[4208].filter_id)
    assert len(passes_of(response, created[4209].filter_id)) == len(
        archived_batch(filters_service, "ZTF_alerts").alerts_bson
    )


def test_autosave_and_auto_followup_decisions(
    created: dict[int, Created],
    portal: Portal,
    filters_service: Settings,
    filters_stub: tuple[Any, list],
    ztf_truth: Truth,
) -> None:
    response = evaluate(filters_stub, archived_batch(filters_service, "ZTF_alerts"))
    got = passes_of(response, created[4215].filter_id)
    assert got
    for candid, passed in got.items():
        packet = ztf_truth.packets[candid]
        autosaved = packet["candidate"]["magpsf"] < 19
        assert passed.autosave is autosaved, candid
        if not autosaved:
            assert passed.autosave_json == "" and passed.auto_followup_json == ""
            continue
        assert json.loads(passed.autosave_json) == {
            "comment": "saved by the test filter",
            "ignore_group_ids": [7],
            "saver_id": 5,
        }
        if packet["candidate"]["isdiffpos"] != "t":
            assert passed.auto_followup_json == ""
            continue
        followup = json.loads(passed.auto_followup_json)
        assert followup["obj_id"] == packet["objectId"]
        assert followup["allocation_id"] == 3
        assert followup["comment"] == packet["objectId"]
        assert followup["payload"] == {"observation_type": "IFU", "priority": 5}
        assert followup["priority_order"] == "desc"
        # The configured targets and the filter's own group, sorted.
        assert followup["target_group_ids"] == sorted({9, portal.group_id})
        assert followup["source_group_ids"] == [portal.group_id]
    decisions = {(p.autosave, bool(p.auto_followup_json)) for p in got.values()}
    assert decisions == {(False, False), (True, False), (True, True)}  # the data has each


def test_a_filter_failing_on_some_alerts_does_not_fail_the_batch(
    created: dict[int, Created],
    filters_service: Settings,
    filters_stub: tuple[Any, list],
    ztf_truth: Truth,
) -> None:
    response = evaluate(filters_stub, archived_batch(filters_service, "ZTF_alerts"))
    failing = {c for c, p in ztf_truth.packets.items() if p["candidate"]["sgscore1"] == 0.5}
    failing_filter = created[FAILING_CASE.number]
    errors = [e for e in response.errors if e.filter_id == failing_filter.filter_id]
    assert {e.candid for e in errors} == failing and len(errors) == len(failing) > 0
    assert all("divide by zero" in e.message.lower() for e in errors), errors[0].message
    assert all(e.fid == failing_filter.fid for e in errors)
    expected = {
        c for c, p in ztf_truth.packets.items() if FAILING_CASE.expected(ztf_truth, p) is not None
    }
    assert set(passes_of(response, failing_filter.filter_id)) == expected
    # The other filters of the batch were evaluated as usual.
    assert passes_of(response, created[4202].filter_id)


def test_evaluate_refuses_unknown_catalogs_and_users(
    filters_service: Settings, filters_stub: tuple[Any, list], admin_token: str
) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        evaluate(filters_stub, filters_pb2.EvaluateRequest(catalog="PGIR_alerts"))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    stub, _ = filters_stub
    with pytest.raises(grpc.RpcError) as caught:
        stub.Evaluate(filters_pb2.EvaluateRequest(catalog="ZTF_alerts"), timeout=10)
    assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
    # Evaluate is the broker's: even a system admin's login may not call it.
    with pytest.raises(grpc.RpcError) as caught:
        stub.Evaluate(
            filters_pb2.EvaluateRequest(catalog="ZTF_alerts"),
            metadata=[("authorization", f"Bearer {admin_token}")],
            timeout=10,
        )
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert caught.value.details() == "only the mesh's services call this"


# --- test on the archive ------------------------------------------------------------------------


def run_test(client: httpx.Client, filter_id: int, **body: Any) -> httpx.Response:
    return client.post(f"/api/filters/{filter_id}/test", json=body)


def test_test_on_a_date_window(
    client: httpx.Client, created: dict[int, Created], ztf_truth: Truth
) -> None:
    case = CASES[6]  # annotations by arithmetic
    start, end = "2020-02-02T00:00:00", "2020-02-03T00:00:00"
    start_jd, end_jd = 2458881.5, 2458882.5
    filter_id = created[case.number].filter_id
    envelope = ok(run_test(client, filter_id, start_date=start, end_date=end))
    assert envelope["message"] == "filter test successful"
    expected = {
        candid: annotations
        for candid, packet in ztf_truth.packets.items()
        if start_jd <= packet["candidate"]["jd"] <= end_jd
        and (annotations := case.expected(ztf_truth, packet)) is not None
    }
    in_window = [
        p for p in ztf_truth.packets.values() if start_jd <= p["candidate"]["jd"] <= end_jd
    ]
    assert 0 < len(expected) < len(in_window) < len(ztf_truth.packets)
    outputs = envelope["data"]
    assert len(outputs) == len(expected)
    by_candid = {output["candid"]: output for output in outputs}
    assert sorted(by_candid) == sorted(expected)
    for candid, annotations in expected.items():
        output = by_candid[candid]
        # The pipeline's own projection, with the exact 64-bit candid.
        assert set(output) == {"candid", "objectId", "annotations"}
        assert output["objectId"] == ztf_truth.packets[candid]["objectId"]
        assert_annotations(output["annotations"], annotations, f"/test, candid {candid}")

    # Julian dates work too, and give the same answer.
    same = ok(run_test(client, filter_id, start_date=start_jd, end_date=end_jd))
    assert same["data"] == outputs


def test_test_never_shows_photometry_later_than_the_alert(
    client: httpx.Client,
    created: dict[int, Created],
    portal: Portal,
    archived: Settings,
    ztf_truth: Truth,
) -> None:
    earlier, later = ztf_truth.packets[EARLIER], ztf_truth.packets[LATER]
    assert earlier["objectId"] == later["objectId"] == TWO_ALERTS_OBJECT
    # The archive's history of the object holds photometry of the earlier alert's own time
    # (the later alert lists it), so a filter shown the whole aux would see it.
    with MongoClient(archived.mongo_uri) as mongo:
        aux = mongo[archived.db_name]["ZTF_alerts_aux"].find_one({"_id": TWO_ALERTS_OBJECT})
    earlier_jd = earlier["candidate"]["jd"]
    assert any(p["jd"] >= earlier_jd for p in aux["prv_candidates"])

    # Brightening vs the previous detection: the earlier alert brightened by > 0.5 mag on its
    # own past, but its own point, seen as "previous", would make it 0.
    brightening = CASES[4]
    assert expect_brightening(ztf_truth, earlier) is not None
    assert expect_brightening(ztf_truth, earlier, leak=True) is None
    response = run_test(
        client, created[brightening.number].filter_id, object_ids=[TWO_ALERTS_OBJECT]
    )
    outputs = ok(response)["data"]
    expected = [expect_brightening(ztf_truth, p) for p in (earlier, later)]
    assert [o["annotations"]["brightening"] for o in outputs] == pytest.approx(
        [e["brightening"] for e in expected if e is not None]
    )
    assert expected[0] is not None and expected[1] is None

    # The other way round: a count of earlier detections that the leaked point would complete.
    counting = Case(
        "at least n earlier detections",
        4230,
        [
            {"$match": {"prv_candidates.magpsf": {"$exists": True}}},
            {
                "$project": {
                    "candid": 1,
                    "n": {
                        "$size": {
                            "$filter": {
                                "input": "$prv_candidates",
                                "as": "p",
                                "cond": {"$gt": ["$$p.magpsf", 0]},
                            }
                        }
                    },
                }
            },
            {"$match": {"n": {"$gte": len(ztf_truth.detections(earlier)) + 1}}},
        ],
        passes_if(lambda t, p: True),
    )
    filter_id = create(client, portal, counting).filter_id
    try:
        outputs = ok(run_test(client, filter_id, object_ids=[TWO_ALERTS_OBJECT]))["data"]
        own = len(ztf_truth.detections(earlier))
        assert own < len(ztf_truth.detections(earlier, leak=True))
        assert [o["candid"] for o in outputs] == [LATER]  # the earlier one has only `own`
        assert outputs[0]["n"] == len(ztf_truth.detections(later)) >= own + 1

        # A window around the earlier alert alone: same verdict.
        window = ok(
            run_test(client, filter_id, start_date=earlier_jd - 0.01, end_date=earlier_jd + 0.01)
        )
        assert window["data"] == []
    finally:
        client.delete(f"/api/filters/{filter_id}")


def test_test_of_an_older_version(client: httpx.Client, portal: Portal) -> None:
    first = Case(
        "all public",
        4231,
        [{"$match": {"candidate.programid": 1}}],
        passes_if(lambda t, p: True),
    )
    filter_id, fid_all = astuple(create(client, portal, first))
    body = {
        "group_id": portal.group_id,
        "filter_id": filter_id,
        "catalog": "ZTF_alerts",
        "permissions": PERMISSIONS,
        "pipeline": [{"$match": {"candidate.isdiffpos": "f"}}],
    }
    ok(client.post("/api/filters", json=body))
    try:
        latest = ok(run_test(client, filter_id, object_ids=["ZTF17aadcvhq", "ZTF20aajcdad"]))
        assert [o["objectId"] for o in latest["data"]] == ["ZTF17aadcvhq"]  # isdiffpos 'f'
        older = ok(
            run_test(
                client,
                filter_id,
                object_ids=["ZTF17aadcvhq", "ZTF20aajcdad"],
                filter_version=fid_all,
            )
        )
        assert sorted(o["candid"] for o in older["data"]) == sorted(
            [2475433850015010009, EARLIER, LATER]
        )
        message = refused(run_test(client, filter_id, object_ids=["x"], filter_version="nosuch"))
        assert "nosuch" in message
    finally:
        client.delete(f"/api/filters/{filter_id}")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, "At least one of object_ids, start_date, or end_date is required"),
        ({"start_date": "2020-02-02"}, "must both be provided"),
        (
            {"start_date": "2020-02-01", "end_date": "2020-02-03"},
            "within 1 day of each other if object_ids is not provided",
        ),
        ({"start_date": "yesterday", "end_date": "2020-02-03"}, "start_date must be an ISO date"),
        ({"start_date": "2020-02-03", "end_date": "2020-02-02"}, "end_date must not be before"),
        ({"object_ids": [f"ZTF{i}" for i in range(1001)]}, "1000 or fewer"),
        ({"object_ids": ["ZTF20aajcdad"], "max_time_ms": 300001}, "max_time_ms must be less"),
    ],
)
def test_test_requests_out_of_bounds_are_refused(
    client: httpx.Client, created: dict[int, Created], body: dict[str, Any], expected: str
) -> None:
    assert expected in refused(run_test(client, created[CASES[1].number].filter_id, **body))


def test_test_of_an_unknown_filter_is_404(client: httpx.Client, portal: Portal) -> None:
    unknown = 2**31 - 1  # no SkyPortal filter has this id
    message = refused(run_test(client, unknown, object_ids=["ZTF20aajcdad"]), 404)
    assert message.startswith(f"no filter with id {unknown}: create it first")
    # A SkyPortal filter without a Kowalski version has nothing to test either.
    filter_id = new_portal_filter(client, portal, "no versions", "ZTF_alerts", PERMISSIONS)
    try:
        message = refused(run_test(client, filter_id, object_ids=["ZTF20aajcdad"]), 404)
        assert message == f"Filter id {filter_id} not found"
    finally:
        ok(client.delete(f"/api/filters/{filter_id}"))


# --- live reload ----------------------------------------------------------------------------------


@pytest.fixture
def replica(filters_service: Settings, tmp_path: Path) -> Iterator[Settings]:
    """A second filters process on the same database (another replica of the service)."""
    settings = replace(
        filters_service,
        ports=replace(filters_service.ports, filters=free_port(), filters_metrics=free_port()),
        run_dir=tmp_path / "replica",
    )
    supervisor = Supervisor(settings.run_dir)
    supervisor.start(stack.service_process(settings, "filters"))
    try:
        yield settings
    finally:
        supervisor.stop("filters")


def test_changes_made_by_another_replica_take_effect_within_seconds(
    replica: Settings,
    filters_service: Settings,
    filters_stub: tuple[Any, list],
    client: httpx.Client,
    portal: Portal,
) -> None:
    filter_id = new_portal_filter(client, portal, "replicated", "ZTF_alerts", [1])
    metadata = [("authorization", f"Bearer {service_token(replica.jwt_secret, 'test')}")]
    batch = archived_batch(filters_service, "ZTF_alerts")

    def live_fids() -> set[str]:
        return {p.fid for p in evaluate(filters_stub, batch).passes if p.filter_id == filter_id}

    def wait(until: Callable[[set[str]], bool], what: str) -> None:
        wait_for(live_fids, until, timeout=LIVE_RELOAD_S, what=what)

    with grpc.insecure_channel(replica.address("filters")) as channel:
        other = filters_pb2_grpc.FiltersServiceStub(channel)

        def post(pipeline: list[dict[str, Any]]) -> str:
            request = filters_pb2.CreateFilterRequest(
                group_id=portal.group_id,
                filter_id=filter_id,
                catalog="ZTF_alerts",
                permissions=[1],
            )
            request.pipeline.list_value.extend(pipeline)
            reply = other.CreateFilter(request, metadata=metadata, timeout=60)
            return reply.data.struct_value.fields["fid"].string_value

        def patch(**fields: Any) -> None:
            request = filters_pb2.UpdateFilterRequest(filter_id=filter_id, **fields)
            other.UpdateFilter(request, metadata=metadata, timeout=60)

        try:
            fid_1 = post([{"$match": {"candidate.isdiffpos": "t"}}])
            wait(lambda fids: fids == {fid_1}, "a filter created elsewhere to run here")
            fid_2 = post([{"$match": {"candidate.isdiffpos": "f"}}])
            wait(lambda fids: fids == {fid_2}, "a new version to replace the old one")
            patch(active=False)
            wait(lambda fids: fids == set(), "a deactivated filter to stop")
            patch(active=True, active_fid=fid_1)
            wait(lambda fids: fids == {fid_1}, "a reactivated filter on its older version")
            other.DeleteFilter(
                filters_pb2.DeleteFilterRequest(filter_id=filter_id), metadata=metadata
            )
            wait(lambda fids: fids == set(), "a deleted filter to stop")
        finally:
            with contextlib.suppress(grpc.RpcError):
                other.DeleteFilter(
                    filters_pb2.DeleteFilterRequest(filter_id=filter_id), metadata=metadata
                )


def test_batches_are_bson_as_the_broker_sends_them(
    created: dict[int, Created], filters_service: Settings, filters_stub: tuple[Any, list]
) -> None:
    # The broker sends alerts enriched but not yet archived, and aux as merged documents.
    request = archived_batch(filters_service, "ZTF_alerts")
    alerts = [bson.decode(raw) for raw in request.alerts_bson]
    assert all("prv_candidates" not in alert for alert in alerts)
    broken = filters_pb2.EvaluateRequest(catalog="ZTF_alerts", alerts_bson=[b"not bson"])
    with pytest.raises(grpc.RpcError) as caught:
        evaluate(filters_stub, broken)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "alerts_bson[0]" in caught.value.details()
