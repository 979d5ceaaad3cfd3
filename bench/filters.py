"""Filter evaluations per second, in-process beside one database aggregation per filter per alert.

25 filters over 1,000 real-shaped alerts, evaluated in-process and the way Kowalski does it.

The alerts are the bundled ZTF alerts, prepared as the broker prepares them (alert + aux
history, coordinates), given ML scores and cross-matches, and replicated with jitter (new
candids and object ids, shifted magnitudes, positions and times). The in-process side is the
filters service's own evaluator (upstream stages + compiled pipelines). The database side
starts its own SecantusDB, stores the same alerts and aux documents, and runs Kowalski's
upstream stages ($match by candid, $lookup of the aux document, $filter of the history) plus
the filter, one aggregation per (alert, filter); it is slow, so it runs on a fixed sample of
alerts within a time budget and the rate is what that sample measured.
"""

from __future__ import annotations

import copy
import json
import random
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import bson
import fastavro
from pymongo import ASCENDING, MongoClient
from pymongo.errors import OperationFailure

from services.broker.enrichment import coordinates
from services.broker.surveys import ZTF
from services.filters.compiled import CompiledFilter, compile_filter
from services.filters.evaluation import evaluate
from services.filters.upstream import ZTF as ZTF_STREAM
from skymesh.config import REPO_ROOT, Ports, Settings
from skymesh.infra import database
from skymesh.infra.process import Supervisor, free_port

N_ALERTS = 1000
REPEATS = 3
# The database side: this many alerts (x 25 filters), or fewer if the budget runs out first.
DB_SAMPLE_ALERTS = 200
DB_BUDGET_S = 60.0
SEED = 20261122
ML_MODELS = ("braai", "acai_h", "acai_v", "acai_o", "acai_n", "acai_b")
CATALOGS = ("PS1_DR1", "Gaia_EDR3", "CLU_20190625")
ZTF_DIR = REPO_ROOT / "data" / "alerts" / "ztf"


# --- 25 filters, in the style of real Kowalski programs -----------------------------------------


def _recent_detections(days: float) -> dict[str, Any]:
    return {
        "$size": {
            "$filter": {
                "input": {"$ifNull": ["$prv_candidates", []]},
                "as": "p",
                "cond": {
                    "$and": [
                        {"$gt": ["$$p.magpsf", 0]},
                        {"$lt": [{"$subtract": ["$candidate.jd", "$$p.jd"]}, days]},
                    ]
                },
            }
        }
    }


def _annotate(**fields: Any) -> dict[str, Any]:
    return {"$project": {"_id": 0, "candid": 1, "objectId": 1, "annotations": fields}}


PREVIOUS_MAG = {
    "$let": {"vars": {"m": "$prv_candidates.magpsf"}, "in": {"$arrayElemAt": ["$$m", -1]}}
}
FILTERS: list[tuple[str, list[int], list[dict[str, Any]]]] = [
    (
        "rb",
        [1, 2, 3],
        [{"$match": {"classifications.braai": {"$gt": 0.8}, "candidate.drb": {"$gt": 0.9}}}],
    ),
    ("positive", [1, 2, 3], [{"$match": {"candidate.isdiffpos": {"$in": ["t", "1"]}}}]),
    (
        "public-positive",
        [1],
        [{"$match": {"candidate.isdiffpos": "t", "candidate.drb": {"$gt": 0.5}}}],
    ),
    (
        "no-star",
        [1, 2, 3],
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
    ),
    (
        "bright",
        [1, 2, 3],
        [{"$match": {"candidate.magpsf": {"$lt": 18.5}, "candidate.ndethist": {"$gte": 2}}}],
    ),
    (
        "young",
        [1, 2, 3],
        [
            {
                "$match": {
                    "$expr": {
                        "$lt": [{"$subtract": ["$candidate.jd", "$candidate.jdstarthist"]}, 30]
                    }
                }
            }
        ],
    ),
    (
        "two-detections",
        [1, 2, 3],
        [
            {"$addFields": {"n": _recent_detections(365)}},
            {"$match": {"n": {"$gte": 1}}},
            _annotate(n="$n"),
        ],
    ),
    (
        "five-detections-month",
        [1, 2],
        [{"$addFields": {"n": _recent_detections(30)}}, {"$match": {"n": {"$gte": 5}}}],
    ),
    (
        "brightening",
        [1, 2, 3],
        [
            {"$addFields": {"prev": PREVIOUS_MAG}},
            {"$match": {"$expr": {"$gt": [{"$subtract": ["$prev", "$candidate.magpsf"]}, 0.5]}}},
            _annotate(dmag={"$subtract": ["$prev", "$candidate.magpsf"]}),
        ],
    ),
    (
        "fading",
        [1, 2, 3],
        [
            {"$addFields": {"prev": PREVIOUS_MAG}},
            {"$match": {"$expr": {"$lt": [{"$subtract": ["$prev", "$candidate.magpsf"]}, -0.3]}}},
        ],
    ),
    (
        "mean-rb",
        [1, 2, 3],
        [
            {"$match": {"candidate.drb": {"$gt": 0.9}}},
            {
                "$addFields": {
                    "annotations.author": "bench",
                    "annotations.mean_rb": {"$avg": "$prv_candidates.rb"},
                }
            },
            {"$project": {"_id": 0, "candid": 1, "objectId": 1, "annotations": 1}},
        ],
    ),
    ("near-galaxy", [1, 2, 3], [{"$match": {"cross_matches.CLU_20190625.0": {"$exists": True}}}]),
    (
        "no-galaxy",
        [1, 2, 3],
        [
            {
                "$match": {
                    "cross_matches.CLU_20190625.0": {"$exists": False},
                    "candidate.drb": {"$gt": 0.95},
                }
            }
        ],
    ),
    (
        "gaia-bright",
        [1, 2, 3],
        [{"$match": {"cross_matches.Gaia_EDR3": {"$elemMatch": {"phot_g_mean_mag": {"$lt": 16}}}}}],
    ),
    (
        "arith-annotations",
        [1, 2, 3],
        [
            {"$match": {"candidate.magpsf": {"$lt": 19.5}}},
            _annotate(
                depth={
                    "$round": [{"$subtract": ["$candidate.diffmaglim", "$candidate.magpsf"]}, 3]
                },
                flux={"$pow": [10, {"$divide": [{"$subtract": [23.9, "$candidate.magpsf"]}, 2.5]}]},
                age={"$subtract": ["$candidate.jd", "$candidate.jdstarthist"]},
            ),
        ],
    ),
    (
        "high-latitude",
        [1, 2, 3],
        [{"$match": {"$expr": {"$gt": [{"$abs": "$coordinates.b"}, 30]}}}],
    ),
    (
        "trig-distance",
        [1, 2, 3],
        [
            {
                "$addFields": {
                    "cosd": {
                        "$add": [
                            {
                                "$multiply": [
                                    {"$sin": {"$degreesToRadians": "$candidate.dec"}},
                                    0.866,
                                ]
                            },
                            {
                                "$multiply": [
                                    {"$cos": {"$degreesToRadians": "$candidate.dec"}},
                                    0.5,
                                    {
                                        "$cos": {
                                            "$degreesToRadians": {
                                                "$subtract": ["$candidate.ra", 205]
                                            }
                                        }
                                    },
                                ]
                            },
                        ]
                    }
                }
            },
            {"$match": {"cosd": {"$gt": 0.9}}},
        ],
    ),
    (
        "g-band-group",
        [1, 2, 3],
        [
            {"$unwind": "$prv_candidates"},
            {"$match": {"prv_candidates.fid": 1, "prv_candidates.magpsf": {"$exists": True}}},
            {
                "$group": {
                    "_id": "$candid",
                    "n": {"$sum": 1},
                    "mean": {"$avg": "$prv_candidates.magpsf"},
                }
            },
            {"$match": {"n": {"$gte": 2}}},
        ],
    ),
    (
        "forced-phot",
        [1, 2, 3],
        [
            {
                "$match": {
                    "$expr": {
                        "$gte": [
                            {
                                "$size": {
                                    "$filter": {
                                        "input": {"$ifNull": ["$fp_hists", []]},
                                        "as": "f",
                                        "cond": {"$gt": ["$$f.snr", 5]},
                                    }
                                }
                            },
                            3,
                        ]
                    }
                }
            }
        ],
    ),
    (
        "acai-nuclear",
        [1, 2, 3],
        [
            {
                "$match": {
                    "classifications.acai_n": {"$gt": 0.7},
                    "classifications.braai": {"$gt": 0.5},
                }
            }
        ],
    ),
    ("acai-variable", [1, 2, 3], [{"$match": {"classifications.acai_v": {"$gt": 0.8}}}]),
    (
        "hostless",
        [1, 2, 3],
        [
            {
                "$match": {
                    "candidate.distnr": {"$gt": 5},
                    "candidate.isdiffpos": "t",
                    "candidate.drb": {"$gt": 0.8},
                }
            }
        ],
    ),
    (
        "red",
        [1, 2, 3],
        [
            {"$match": {"candidate.fid": 2}},
            {"$addFields": {"g": {"$min": "$prv_candidates.magpsf"}}},
            {"$match": {"$expr": {"$gt": [{"$subtract": ["$g", "$candidate.magpsf"]}, 0]}}},
        ],
    ),
    (
        "switch-class",
        [1, 2, 3],
        [
            {
                "$addFields": {
                    "annotations.class": {
                        "$switch": {
                            "branches": [
                                {
                                    "case": {"$gt": ["$classifications.acai_n", 0.5]},
                                    "then": "nuclear",
                                },
                                {
                                    "case": {"$gt": ["$classifications.acai_v", 0.5]},
                                    "then": "variable",
                                },
                            ],
                            "default": "other",
                        }
                    }
                }
            },
            {"$match": {"annotations.class": {"$ne": "other"}}},
        ],
    ),
    (
        "strings",
        [1, 2, 3],
        [
            {
                "$match": {
                    "$expr": {"$regexMatch": {"input": "$objectId", "regex": "^ZTF2"}},
                    "candidate.drb": {"$gt": 0.7},
                }
            }
        ],
    ),
]


# --- real-shaped alerts -------------------------------------------------------------------------


def load_packets() -> list[dict[str, Any]]:
    packets = []
    for path in sorted(ZTF_DIR.rglob("*.avro")):
        with path.open("rb") as fh:
            packets.extend(fastavro.reader(fh))
    return packets


def _jitter_history(points: list[dict[str, Any]], dt: float, dmag: float) -> list[dict[str, Any]]:
    shifted = []
    for point in points:
        point = dict(point)
        point["jd"] = point["jd"] + dt
        if "magpsf" in point:
            point["magpsf"] = point["magpsf"] + dmag
        shifted.append(point)
    return shifted


def real_shaped_batch(n: int, rng: random.Random) -> tuple[list[dict], list[dict]]:
    """n alerts as the broker holds them after enrichment, and their objects' aux documents."""
    survey = ZTF(r"^ztf_\d{8}_programid\d+$")
    prepared = [survey.prepare(packet) for packet in load_packets()]
    alerts, aux = [], []
    for index in range(n):
        source = prepared[index % len(prepared)]
        alert, history = copy.deepcopy(source.alert), copy.deepcopy(source.aux)
        dt, dmag = rng.uniform(-0.5, 0.5), rng.gauss(0, 0.3)
        candid = 10**18 + index
        object_id = f"{alert['objectId']}{index:04d}"
        candidate = alert["candidate"]
        candidate["candid"] = candid
        candidate["jd"] += dt
        candidate["magpsf"] += dmag
        candidate["ra"] = (candidate["ra"] + rng.uniform(-0.05, 0.05)) % 360
        candidate["dec"] = max(-89.9, min(89.9, candidate["dec"] + rng.uniform(-0.05, 0.05)))
        candidate["drb"] = min(1.0, max(0.0, candidate["drb"] + rng.gauss(0, 0.05)))
        alert.update(_id=candid, candid=candid, objectId=object_id)
        alert["classifications"] = {model: rng.random() for model in ML_MODELS}
        alerts.append(alert)
        history["_id"] = object_id
        for field in ("prv_candidates", "fp_hists"):
            history[field] = _jitter_history(history.get(field, []), dt, dmag)
        history["cross_matches"] = {
            catalog: [
                {"_id": rng.randrange(10**12), "phot_g_mean_mag": rng.uniform(12, 21)}
                for _ in range(rng.choice((0, 0, 1, 2)))
            ]
            for catalog in CATALOGS
        }
        aux.append(history)
    positions = coordinates(
        [a["candidate"]["ra"] for a in alerts], [a["candidate"]["dec"] for a in alerts]
    )
    for alert, position in zip(alerts, positions, strict=True):
        alert["coordinates"] = position
    return alerts, aux


def compiled_filters() -> list[CompiledFilter]:
    return [
        compile_filter(
            {
                "filter_id": index,
                "group_id": 1,
                "catalog": "ZTF_alerts",
                "permissions": permissions,
                "active": True,
                "active_fid": "bench0",
                "fv": [{"fid": "bench0", "pipeline": json.dumps(pipeline)}],
                "autosave": False,
                "auto_followup": {},
            }
        )
        for index, (_, permissions, pipeline) in enumerate(FILTERS, start=1)
    ]


# --- the two ways -------------------------------------------------------------------------------


def best_of(repeats: int, work: Any) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        result = work()
        best = min(best, time.perf_counter() - started)
    return best, result


def verdicts_in_process(filters: list[CompiledFilter], alerts: list[dict], aux: list[dict]):
    by_object = {document["_id"]: document for document in aux}
    outcome = evaluate(ZTF_STREAM, filters, alerts, by_object)
    return outcome, {(p.candid, p.filter.filter_id) for p in outcome.passed}


def kowalski_upstream(candid: int, permissions: list[int]) -> list[dict[str, Any]]:
    """Kowalski's upstream stages (config.defaults.yaml), plus the /test rule jd < alert jd."""

    def history(field: str) -> dict[str, Any]:
        return {
            "$filter": {
                "input": f"$aux.{field}",
                "as": "item",
                "cond": {
                    "$and": [
                        {"$in": ["$$item.programid", permissions]},
                        {"$lt": [{"$subtract": ["$candidate.jd", "$$item.jd"]}, 365]},
                        {"$lt": ["$$item.jd", "$candidate.jd"]},
                    ]
                },
            }
        }

    return [
        {"$match": {"candid": candid, "candidate.programid": {"$in": permissions}}},
        {"$project": {"cutoutScience": 0, "cutoutTemplate": 0, "cutoutDifference": 0}},
        {
            "$lookup": {
                "from": "ZTF_alerts_aux",
                "localField": "objectId",
                "foreignField": "_id",
                "as": "aux",
            }
        },
        # Kowalski reads {"$arrayElemAt": ["$aux.prv_candidates", 0]}; SecantusDB evaluates that
        # array path as missing, so unwind the one joined document first (the same work).
        {"$unwind": {"path": "$aux", "preserveNullAndEmptyArrays": True}},
        {
            "$project": {
                "cross_matches": "$aux.cross_matches",
                "prv_candidates": history("prv_candidates"),
                "fp_hists": history("fp_hists"),
                "schemavsn": 1,
                "publisher": 1,
                "objectId": 1,
                "candid": 1,
                "candidate": 1,
                "classifications": 1,
                "coordinates": 1,
            }
        },
    ]


def database_settings(run_dir: Path) -> Settings:
    return replace(Settings.from_env(), ports=replace(Ports(), mongo=free_port()), run_dir=run_dir)


def run_database(
    alerts: list[dict], aux: list[dict]
) -> tuple[int, list[int], float, set[tuple[int, int]], set[int]]:
    """(aggregations, candids evaluated, seconds, passing (candid, filter_id), filter ids the
    database raised errors on), measured on a fresh SecantusDB."""
    with tempfile.TemporaryDirectory(prefix="skymesh-bench-") as tmp:
        settings = database_settings(Path(tmp))
        supervisor = Supervisor(settings.run_dir)
        supervisor.start(database.managed(settings, in_memory=True))
        try:
            with MongoClient(settings.mongo_uri) as client:
                db = client["bench"]
                db["ZTF_alerts"].create_index([("candid", ASCENDING)], unique=True)
                db["ZTF_alerts"].insert_many(alerts, ordered=False)
                db["ZTF_alerts_aux"].insert_many(aux, ordered=False)
                sample = alerts[:: max(1, len(alerts) // DB_SAMPLE_ALERTS)][:DB_SAMPLE_ALERTS]
                passed, failed, aggregations, done = set(), set(), 0, []
                started = time.perf_counter()
                for alert in sample:
                    for filter_id, (_, permissions, pipeline) in enumerate(FILTERS, start=1):
                        full = kowalski_upstream(alert["candid"], permissions) + pipeline
                        aggregations += 1
                        try:
                            if len(list(db["ZTF_alerts"].aggregate(full))) == 1:
                                passed.add((alert["candid"], filter_id))
                        except OperationFailure:
                            # Kowalski logs a failing filter and goes on; so do we.
                            failed.add(filter_id)
                    done.append(alert["candid"])
                    if time.perf_counter() - started > DB_BUDGET_S:
                        break
                return aggregations, done, time.perf_counter() - started, passed, failed
        finally:
            supervisor.stop_all()


def main() -> None:
    rng = random.Random(SEED)
    alerts, aux = real_shaped_batch(N_ALERTS, rng)
    filters = compiled_filters()
    evaluations = len(filters) * len(alerts)
    print(f"{len(filters)} filters x {len(alerts)} alerts = {evaluations} evaluations")

    seconds, (outcome, in_process) = best_of(
        REPEATS, lambda: verdicts_in_process(filters, alerts, aux)
    )
    in_process_rate = evaluations / seconds
    print(
        f"in-process (upstream stages + compiled pipelines): {in_process_rate:,.0f} evaluations/s "
        f"(best of {REPEATS}: {seconds * 1000:.0f} ms; {len(outcome.passed)} passes, "
        f"{len(outcome.failed)} run-time errors)"
    )

    alerts_bson = [bson.encode(a) for a in alerts]
    aux_bson = [bson.encode(a) for a in aux]

    def decode_and_evaluate() -> Any:
        return verdicts_in_process(
            filters,
            [bson.decode(raw) for raw in alerts_bson],
            [bson.decode(raw) for raw in aux_bson],
        )

    seconds_rpc, _ = best_of(REPEATS, decode_and_evaluate)
    print(
        f"in-process incl. BSON decoding of the batch (the Evaluate RPC's work): "
        f"{evaluations / seconds_rpc:,.0f} evaluations/s ({seconds_rpc * 1000:.0f} ms)"
    )

    aggregations, sampled, db_seconds, db_passed, db_failed = run_database(alerts, aux)
    sampled_set = set(sampled)
    db_rate = aggregations / db_seconds
    print(
        f"database (SecantusDB, one aggregation per filter per alert with Kowalski's upstream "
        f"$lookup): {aggregations} aggregations = {len(sampled)} alerts x {len(filters)} "
        f"filters in {db_seconds:.1f} s: {db_rate:,.0f} evaluations/s"
    )
    print(
        f"extrapolated to all {evaluations} evaluations: {evaluations / db_rate:,.0f} s on the "
        f"database vs {seconds:.2f} s in-process"
    )
    print(f"ratio in-process / database: {in_process_rate / db_rate:,.0f}x")
    same_sample = {verdict for verdict in in_process if verdict[0] in sampled_set}
    differ = sorted({FILTERS[filter_id - 1][0] for _, filter_id in same_sample ^ db_passed})
    errors = [FILTERS[filter_id - 1][0] for filter_id in sorted(db_failed)]
    print(
        f"verdicts on the sample: {len(db_passed)} passes on the database, {len(same_sample)} "
        f"in-process; filters whose verdicts differ: {', '.join(differ) or 'none'}; filters the "
        f"database raised errors on: {', '.join(errors) or 'none'}"
        f" (SecantusDB 0.7.0b3 gets array paths in expressions, e.g. $prv_candidates.magpsf, "
        f"wrong; see DESIGN.md)"
    )
