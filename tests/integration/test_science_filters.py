"""Filters as ZTF scientists write them, run unchanged through the REST API on the real alerts.

Each filter is written in the style of Fritz's filter documentation and of published ZTF
programs (RCF/BTS quality cuts, fast transients, CLU-like cross-matches, watch lists,
variability, forced photometry) and uses the aggregation operators those filters reach for
($anyElementTrue, $setUnion, $zip, $sortArray, $range, $isNumber, date operators, statistics).
Each is created with POST /api/filters and run with POST /api/filters/{id}/test on every
bundled ZTF alert as the archive holds it; its passes and annotations are checked against the
same criteria computed here in plain Python from the decoded Avro packets (tests/filter_truth).
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.conftest import NEIGHBOURS_CATALOG
from tests.filter_truth import PERMISSIONS, Truth
from tests.portal import group, portal_filter, stream
from tests.rest import ok

pytestmark = pytest.mark.integration

UNIX_EPOCH_JD = 2440587.5
MS_PER_DAY = 86_400_000
Packet = dict[str, Any]
Expected = Callable[[Truth, Packet], dict[str, Any] | None]


@dataclass(frozen=True)
class ScienceFilter:
    name: str
    # The filter's own stages, ending in a projection of candid, objectId and annotations.
    stages: list[dict[str, Any]]
    # For one packet: None (fails) or the annotations it yields.
    expected: Expected


def annotate(annotations: dict[str, Any]) -> dict[str, Any]:
    return {"$project": {"_id": 0, "candid": 1, "objectId": 1, "annotations": annotations}}


# --- expression building blocks, as filter authors write them ----------------------------------

# Previous detections: history points with a magnitude (upper limits have none).
DETECTIONS = {
    "$filter": {
        "input": {"$ifNull": ["$prv_candidates", []]},
        "as": "p",
        "cond": {"$isNumber": "$$p.magpsf"},
    }
}
SORTED_DETECTIONS = {"$sortArray": {"input": DETECTIONS, "sortBy": {"jd": 1}}}
BRIGHTEST_FIRST = {"$sortArray": {"input": DETECTIONS, "sortBy": {"magpsf": 1}}}


def jd_to_date(jd: Any) -> dict[str, Any]:
    return {"$toDate": {"$multiply": [{"$subtract": [jd, UNIX_EPOCH_JD]}, MS_PER_DAY]}}


def _rad(value: Any) -> dict[str, Any]:
    return {"$degreesToRadians": value}


def separation_arcsec(ra: Any, dec: Any) -> dict[str, Any]:
    """Haversine separation of the alert from (ra, dec) in degrees, in arcseconds."""
    half_dec = {"$divide": [{"$subtract": [_rad("$candidate.dec"), _rad(dec)]}, 2]}
    half_ra = {"$divide": [{"$subtract": [_rad("$candidate.ra"), _rad(ra)]}, 2]}
    inner = {
        "$add": [
            {"$pow": [{"$sin": half_dec}, 2]},
            {
                "$multiply": [
                    {"$cos": _rad("$candidate.dec")},
                    {"$cos": _rad(dec)},
                    {"$pow": [{"$sin": half_ra}, 2]},
                ]
            },
        ]
    }
    return {"$multiply": [2 * 3600, {"$radiansToDegrees": {"$asin": {"$sqrt": inner}}}]}


# --- the same criteria in plain Python --------------------------------------------------------


def candidate(packet: Packet) -> dict[str, Any]:
    return packet["candidate"]


def detections(truth: Truth, packet: Packet) -> list[dict[str, Any]]:
    return truth.detections(packet)  # sorted by jd, permitted programids, strictly earlier


def python_separation_arcsec(packet: Packet, ra: float, dec: float) -> float:
    c = candidate(packet)
    ra1, dec1, ra0, dec0 = map(math.radians, (c["ra"], c["dec"], ra, dec))
    a = (
        math.sin((dec1 - dec0) / 2) ** 2
        + math.cos(dec1) * math.cos(dec0) * math.sin((ra1 - ra0) / 2) ** 2
    )
    return 2 * 3600 * math.degrees(math.asin(math.sqrt(a)))


def date_of(jd: float) -> datetime:
    milliseconds = int((jd - UNIX_EPOCH_JD) * MS_PER_DAY)  # $toDate truncates a double
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=milliseconds)


# --- the filters ---------------------------------------------------------------------------


def rcf_quality_cuts(truth: Truth, packet: Packet) -> dict[str, Any] | None:
    c = candidate(packet)
    positive = c["isdiffpos"] in ("t", "1")
    clean = c["drb"] > 0.999 and c["fwhm"] < 5 and c["nbad"] == 0
    not_star = c["sgscore1"] < 0.76 or c["distpsnr1"] > 2
    return {"drb": c["drb"], "fwhm": c["fwhm"]} if positive and clean and not_star else None


RCF_QUALITY_CUTS = ScienceFilter(
    "RCF-style quality cuts",
    [
        {
            "$match": {
                "candidate.isdiffpos": {"$in": ["t", "1", 1, True]},
                "candidate.drb": {"$gt": 0.999},
                "candidate.fwhm": {"$lt": 5},
                "candidate.nbad": 0,
                "$or": [
                    {"candidate.sgscore1": {"$lt": 0.76}},
                    {"candidate.distpsnr1": {"$gt": 2}},
                ],
            }
        },
        annotate({"drb": "$candidate.drb", "fwhm": "$candidate.fwhm"}),
    ],
    rcf_quality_cuts,
)


def number_guard(truth: Truth, packet: Packet) -> dict[str, Any] | None:
    c = candidate(packet)
    if c["classtar"] > 0.95 and c["sgscore1"] >= 0:
        return {"classtar": c["classtar"], "star_like": c["sgscore1"] > 0.5}
    return None


NUMBER_GUARD = ScienceFilter(
    "numbers checked with $isNumber before use",
    [
        {
            "$match": {
                "$expr": {
                    "$and": [
                        {"$isNumber": "$candidate.classtar"},
                        {"$gt": ["$candidate.classtar", 0.95]},
                        {"$gte": ["$candidate.sgscore1", 0]},
                    ]
                }
            }
        },
        annotate(
            {"classtar": "$candidate.classtar", "star_like": {"$gt": ["$candidate.sgscore1", 0.5]}}
        ),
    ],
    number_guard,
)


def brighter_before(truth: Truth, packet: Packet) -> dict[str, Any] | None:
    mag = candidate(packet)["magpsf"]
    if any(p["magpsf"] < mag - 0.5 for p in detections(truth, packet)):
        return {"faded_by_more_than_half_a_mag": True}
    return None


BRIGHTER_BEFORE = ScienceFilter(
    "fading: any earlier detection brighter ($anyElementTrue)",
    [
        {
            "$match": {
                "$expr": {
                    "$anyElementTrue": [
                        {
                            "$map": {
                                "input": DETECTIONS,
                                "as": "p",
                                "in": {
                                    "$lt": [
                                        "$$p.magpsf",
                                        {"$subtract": ["$candidate.magpsf", 0.5]},
                                    ]
                                },
                            }
                        }
                    ]
                }
            }
        },
        annotate({"faded_by_more_than_half_a_mag": {"$literal": True}}),
    ],
    brighter_before,
)


def same_band_history(truth: Truth, packet: Packet) -> dict[str, Any] | None:
    history = detections(truth, packet)
    fid = candidate(packet)["fid"]
    if history and all(p["fid"] == fid for p in history):
        return {"n": len(history)}
    return None


SAME_BAND_HISTORY = ScienceFilter(
    "history in the alert's band only ($allElementsTrue)",
    [
        {"$addFields": {"detections": DETECTIONS}},
        {
            "$match": {
                "$expr": {
                    "$and": [
                        {"$gt": [{"$size": "$detections"}, 0]},
                        {
                            "$allElementsTrue": [
                                {
                                    "$map": {
                                        "input": "$detections",
                                        "in": {"$eq": ["$$this.fid", "$candidate.fid"]},
                                    }
                                }
                            ]
                        },
                    ]
                }
            }
        },
        annotate({"n": {"$size": "$detections"}}),
    ],
    same_band_history,
)


def colour_coverage(truth: Truth, packet: Packet) -> dict[str, Any] | None:
    bands = {candidate(packet)["fid"], *(p["fid"] for p in detections(truth, packet))}
    return {"bands": sorted(bands)} if len(bands) >= 2 else None


COLOUR_COVERAGE = ScienceFilter(
    "seen in two bands or more ($setUnion)",
    [
        {"$addFields": {"detections": DETECTIONS}},
        {
            "$addFields": {
                "bands": {
                    "$sortArray": {
                        "input": {"$setUnion": [["$candidate.fid"], "$detections.fid"]},
                        "sortBy": 1,
                    }
                }
            }
        },
        {"$match": {"$expr": {"$gte": [{"$size": "$bands"}, 2]}}},
        annotate({"bands": "$bands"}),
    ],
    colour_coverage,
)


def fading_steps(truth: Truth, packet: Packet) -> dict[str, Any] | None:
    mags = [p["magpsf"] for p in detections(truth, packet)]
    steps = sum(1 for a, b in itertools.pairwise(mags) if b > a)
    return {"fading_steps": steps, "points": len(mags)} if steps >= 3 else None


FADING_STEPS = ScienceFilter(
    "consecutive fading steps in the light curve ($zip)",
    [
        {"$addFields": {"mags": {"$map": {"input": SORTED_DETECTIONS, "in": "$$this.magpsf"}}}},
        {
            "$addFields": {
                "steps": {
                    "$size": {
                        "$filter": {
                            "input": {
                                "$zip": {"inputs": ["$mags", {"$slice": ["$mags", 1, 100000]}]}
                            },
                            "as": "pair",
                            "cond": {
                                "$gt": [
                                    {"$arrayElemAt": ["$$pair", 1]},
                                    {"$arrayElemAt": ["$$pair", 0]},
                                ]
                            },
                        }
                    }
                }
            }
        },
        {"$match": {"steps": {"$gte": 3}}},
        annotate({"fading_steps": "$steps", "points": {"$size": "$mags"}}),
    ],
    fading_steps,
)


def new_peak(truth: Truth, packet: Packet) -> dict[str, Any] | None:
    history = detections(truth, packet)
    if not history:
        return None
    peak = min(p["magpsf"] for p in history)
    return {"previous_peak": peak} if candidate(packet)["magpsf"] < peak else None


NEW_PEAK = ScienceFilter(
    "brighter than every earlier detection ($sortArray, $first)",
    [
        {"$addFields": {"peak": {"$first": BRIGHTEST_FIRST}}},
        {"$match": {"$expr": {"$lt": ["$candidate.magpsf", "$peak.magpsf"]}}},
        annotate({"previous_peak": "$peak.magpsf"}),
    ],
    new_peak,
)


def longest_gap(truth: Truth, packet: Packet) -> dict[str, Any] | None:
    jds = [p["jd"] for p in detections(truth, packet)]
    gaps = [b - a for a, b in itertools.pairwise(jds)]
    if not gaps or max(gaps) <= 5:
        return None
    return {"longest_gap_days": max(gaps)}


LONGEST_GAP = ScienceFilter(
    "a gap of more than 5 days between detections ($range)",
    [
        {"$addFields": {"jds": {"$map": {"input": SORTED_DETECTIONS, "in": "$$this.jd"}}}},
        {
            "$addFields": {
                "gaps": {
                    "$map": {
                        "input": {"$range": [1, {"$size": "$jds"}]},
                        "as": "i",
                        "in": {
                            "$subtract": [
                                {"$arrayElemAt": ["$jds", "$$i"]},
                                {"$arrayElemAt": ["$jds", {"$subtract": ["$$i", 1]}]},
                            ]
                        },
                    }
                }
            }
        },
        {"$match": {"$expr": {"$gt": [{"$max": "$gaps"}, 5]}}},
        annotate({"longest_gap_days": {"$max": "$gaps"}}),
    ],
    longest_gap,
)


def bright_neighbour(truth: Truth, packet: Packet) -> dict[str, Any] | None:
    bright = [row["mag"] for row in truth.near[truth.object_id(packet)] if row["mag"] < 18]
    return {"n_bright": len(bright), "brightest": min(bright)} if bright else None


BRIGHT_NEIGHBOUR = ScienceFilter(
    "CLU-like: a bright catalogued neighbour within 2 arcsec",
    [
        {
            "$addFields": {
                "bright": {
                    "$filter": {
                        "input": {"$ifNull": [f"$cross_matches.{NEIGHBOURS_CATALOG}", []]},
                        "cond": {"$lt": ["$$this.mag", 18]},
                    }
                }
            }
        },
        {"$match": {"bright.0": {"$exists": True}}},
        annotate({"n_bright": {"$size": "$bright"}, "brightest": {"$min": "$bright.mag"}}),
    ],
    bright_neighbour,
)

# A positional watch list: three bundled objects (1" off) and two empty places.
WATCHED_OBJECTS = ("ZTF20aajcdad", "ZTF23abjjnqm", "ZTF17aadcuwj")
WATCH_RADIUS_ARCSEC = 3.0


def watch_targets(truth: Truth) -> list[dict[str, Any]]:
    latest = {
        truth.object_id(p): p for p in sorted(truth.packets.values(), key=lambda p: p["candid"])
    }
    targets = [
        {
            "name": f"target-{name}",
            "ra": latest[name]["candidate"]["ra"] + 1 / 3600,
            "dec": latest[name]["candidate"]["dec"],
        }
        for name in WATCHED_OBJECTS
    ]
    return [
        *targets,
        {"name": "empty-1", "ra": 10.0, "dec": -5.0},
        {"name": "empty-2", "ra": 300.0, "dec": 80.0},
    ]


def watch_list_filter(truth: Truth) -> ScienceFilter:
    targets = watch_targets(truth)
    near = {
        "$filter": {
            "input": {"$literal": targets},
            "as": "t",
            "cond": {"$lt": [separation_arcsec("$$t.ra", "$$t.dec"), WATCH_RADIUS_ARCSEC]},
        }
    }

    def expected(truth: Truth, packet: Packet) -> dict[str, Any] | None:
        hits = [
            t["name"]
            for t in targets
            if python_separation_arcsec(packet, t["ra"], t["dec"]) < WATCH_RADIUS_ARCSEC
        ]
        return {"target": hits[0]} if hits else None

    return ScienceFilter(
        "positional watch list",
        [
            {"$addFields": {"near": near}},
            {"$match": {"$expr": {"$anyElementTrue": [{"$map": {"input": "$near", "in": True}}]}}},
            annotate({"target": {"$getField": {"field": "name", "input": {"$first": "$near"}}}}),
        ],
        expected,
    )


NAMED = ("ZTF20aahgyet", "ZTF23abjjncz", "ZTF19aainpua", "ZTF99nothere")


def named_watch_list(truth: Truth, packet: Packet) -> dict[str, Any] | None:
    object_id = truth.object_id(packet)
    return {"position": NAMED.index(object_id)} if object_id in NAMED else None


NAMED_WATCH_LIST = ScienceFilter(
    "watch list by name ($in, $indexOfArray)",
    [
        {"$match": {"objectId": {"$in": list(NAMED)}}},
        annotate({"position": {"$indexOfArray": [list(NAMED), "$objectId"]}}),
    ],
    named_watch_list,
)


def off_the_plane(truth: Truth, packet: Packet) -> dict[str, Any] | None:
    b = truth.galactic_b[packet["candid"]]
    return {"abs_b": abs(b)} if abs(b) > 45 else None


OFF_THE_PLANE = ScienceFilter(
    "high galactic latitude: |b| > 45 deg",
    [
        {"$match": {"$expr": {"$gt": [{"$abs": "$coordinates.b"}, 45]}}},
        annotate({"abs_b": {"$abs": "$coordinates.b"}}),
    ],
    off_the_plane,
)


def real_and_bright(truth: Truth, packet: Packet) -> dict[str, Any] | None:
    c = candidate(packet)
    return (
        {"mag": c["magpsf"]} if truth.braai[packet["candid"]] > 0.8 and c["magpsf"] < 19 else None
    )


REAL_AND_BRIGHT = ScienceFilter(
    "braai real-bogus score and brightness",
    [
        {"$match": {"classifications.braai": {"$gt": 0.8}, "candidate.magpsf": {"$lt": 19}}},
        annotate({"mag": "$candidate.magpsf"}),
    ],
    real_and_bright,
)


def discovery_year(truth: Truth, packet: Packet) -> dict[str, Any] | None:
    object_id = truth.object_id(packet)
    year = int("20" + object_id[3:5])
    return {"year": year, "suffix": object_id[5:]} if year >= 2020 else None


DISCOVERY_YEAR = ScienceFilter(
    "new objects by designation ($regexMatch, $substrCP, $toInt)",
    [
        {"$match": {"$expr": {"$regexMatch": {"input": "$objectId", "regex": "^ZTF2[0-9]"}}}},
        annotate(
            {
                "year": {"$toInt": {"$concat": ["20", {"$substrCP": ["$objectId", 3, 2]}]}},
                "suffix": {
                    "$getField": {
                        "field": "match",
                        "input": {"$regexFind": {"input": "$objectId", "regex": "[a-z]+$"}},
                    }
                },
            }
        ),
    ],
    discovery_year,
)


def observing_night(truth: Truth, packet: Packet) -> dict[str, Any] | None:
    c = candidate(packet)
    if c["magpsf"] >= 18.5:
        return None
    moment = date_of(c["jd"])
    return {"night": moment.strftime("%Y-%m-%d"), "hour": moment.hour}


OBSERVING_NIGHT = ScienceFilter(
    "the UT night and hour of bright alerts ($toDate, $dateToString, $hour)",
    [
        {"$match": {"candidate.magpsf": {"$lt": 18.5}}},
        {"$addFields": {"observed": jd_to_date("$candidate.jd")}},
        annotate(
            {
                "night": {"$dateToString": {"date": "$observed", "format": "%Y-%m-%d"}},
                "hour": {"$hour": "$observed"},
            }
        ),
    ],
    observing_night,
)


def days_since_first(truth: Truth, packet: Packet) -> dict[str, Any] | None:
    history = detections(truth, packet)
    if not history:
        return None
    first, now = date_of(history[0]["jd"]), date_of(candidate(packet)["jd"])
    days = (now.date() - first.date()).days
    return {"days": days, "weeks": days // 7} if days < 100 else None


DAYS_SINCE_FIRST = ScienceFilter(
    "young: first detected under 100 days ago ($dateDiff, $dateTrunc)",
    [
        {"$addFields": {"first": {"$first": SORTED_DETECTIONS}}},
        {"$match": {"first": {"$exists": True}}},
        {
            "$addFields": {
                "days": {
                    "$dateDiff": {
                        "startDate": jd_to_date("$first.jd"),
                        "endDate": jd_to_date("$candidate.jd"),
                        "unit": "day",
                    }
                },
                "day_start": {"$dateTrunc": {"date": jd_to_date("$candidate.jd"), "unit": "day"}},
            }
        },
        {"$match": {"days": {"$lt": 100}}},
        annotate(
            {
                "days": "$days",
                "weeks": {
                    "$toInt": {
                        "$floor": {
                            "$divide": [
                                {
                                    "$dateDiff": {
                                        "startDate": {
                                            "$dateTrunc": {
                                                "date": jd_to_date("$first.jd"),
                                                "unit": "day",
                                            }
                                        },
                                        "endDate": "$day_start",
                                        "unit": "day",
                                    }
                                },
                                7,
                            ]
                        }
                    }
                },
            }
        ),
    ],
    days_since_first,
)


def variable(truth: Truth, packet: Packet) -> dict[str, Any] | None:
    mags = [p["magpsf"] for p in detections(truth, packet)]
    if len(mags) < 3:
        return None
    spread = statistics.pstdev(mags)
    return {"scatter": spread, "n": len(mags)} if spread > 0.2 else None


VARIABLE = ScienceFilter(
    "variable: scatter of the light curve ($stdDevPop)",
    [
        {"$addFields": {"mags": {"$map": {"input": DETECTIONS, "in": "$$this.magpsf"}}}},
        {"$addFields": {"scatter": {"$stdDevPop": "$mags"}}},
        {
            "$match": {
                "$expr": {"$and": [{"$gte": [{"$size": "$mags"}, 3]}, {"$gt": ["$scatter", 0.2]}]}
            }
        },
        annotate({"scatter": "$scatter", "n": {"$size": "$mags"}}),
    ],
    variable,
)


def two_brightest(truth: Truth, packet: Packet) -> dict[str, Any] | None:
    mags = sorted(p["magpsf"] for p in detections(truth, packet))[:2]
    return {"two_brightest": mags} if len(mags) == 2 and mags[1] < 19 else None


TWO_BRIGHTEST = ScienceFilter(
    "the two brightest earlier detections ($minN)",
    [
        {
            "$addFields": {
                "two": {
                    "$minN": {
                        "n": 2,
                        "input": {"$map": {"input": DETECTIONS, "in": "$$this.magpsf"}},
                    }
                }
            }
        },
        {"$match": {"two.1": {"$lt": 19}}},
        annotate({"two_brightest": "$two"}),
    ],
    two_brightest,
)

BANDS = {1: "g", 2: "r", 3: "i"}


def band_label(truth: Truth, packet: Packet) -> dict[str, Any] | None:
    c = candidate(packet)
    return {"band": BANDS[c["fid"]], "mag": c["magpsf"]} if c["magpsf"] < 19.5 else None


BAND_LABEL = ScienceFilter(
    "band names ($switch)",
    [
        {"$match": {"candidate.magpsf": {"$lt": 19.5}}},
        annotate(
            {
                "band": {
                    "$switch": {
                        "branches": [
                            {"case": {"$eq": ["$candidate.fid", fid]}, "then": name}
                            for fid, name in BANDS.items()
                        ],
                        "default": "unknown",
                    }
                },
                "mag": "$candidate.magpsf",
            }
        ),
    ],
    band_label,
)


def merged_annotations(truth: Truth, packet: Packet) -> dict[str, Any] | None:
    c = candidate(packet)
    if c["isdiffpos"] not in ("t", "1"):
        return None
    out: dict[str, Any] = {"mag": c["magpsf"], "limit": c["diffmaglim"]}
    if c["diffmaglim"] - c["magpsf"] > 1.5:
        out["significant"] = True
    return out


MERGED_ANNOTATIONS = ScienceFilter(
    "annotations assembled with $mergeObjects",
    [
        {"$match": {"candidate.isdiffpos": {"$in": ["t", "1"]}}},
        annotate(
            {
                "$mergeObjects": [
                    {"mag": "$candidate.magpsf", "limit": "$candidate.diffmaglim"},
                    {
                        "$cond": [
                            {
                                "$gt": [
                                    {"$subtract": ["$candidate.diffmaglim", "$candidate.magpsf"]},
                                    1.5,
                                ]
                            },
                            {"significant": True},
                            {},
                        ]
                    },
                ]
            }
        ),
    ],
    merged_annotations,
)


def forced_photometry(truth: Truth, packet: Packet) -> dict[str, Any] | None:
    jd = candidate(packet)["jd"]
    significant = 0
    for point in truth.history(packet, "fp_hists", PERMISSIONS):
        flux, error = point.get("forcediffimflux"), point.get("forcediffimfluxunc")
        if not isinstance(flux, float) or not isinstance(error, float) or error <= 0:
            continue
        if jd - point["jd"] >= 30:
            continue
        significant += flux / error > 3
    return {"n_significant": significant} if significant >= 2 else None


FORCED_PHOTOMETRY = ScienceFilter(
    "forced photometry: significant points in the last 30 days ($let, $isNumber)",
    [
        {
            "$addFields": {
                "n_significant": {
                    "$let": {
                        "vars": {"jd": "$candidate.jd"},
                        "in": {
                            "$size": {
                                "$filter": {
                                    "input": {"$ifNull": ["$fp_hists", []]},
                                    "as": "f",
                                    "cond": {
                                        "$and": [
                                            {"$isNumber": "$$f.forcediffimflux"},
                                            {"$gt": ["$$f.forcediffimfluxunc", 0]},
                                            {"$lt": [{"$subtract": ["$$jd", "$$f.jd"]}, 30]},
                                            {
                                                "$gt": [
                                                    {
                                                        "$divide": [
                                                            "$$f.forcediffimflux",
                                                            "$$f.forcediffimfluxunc",
                                                        ]
                                                    },
                                                    3,
                                                ]
                                            },
                                        ]
                                    },
                                }
                            }
                        },
                    }
                }
            }
        },
        {"$match": {"n_significant": {"$gte": 2}}},
        annotate({"n_significant": "$n_significant"}),
    ],
    forced_photometry,
)


def rising_fast(truth: Truth, packet: Packet) -> dict[str, Any] | None:
    history = detections(truth, packet)
    if not history:
        return None
    last, c = history[-1], candidate(packet)
    rate = (last["magpsf"] - c["magpsf"]) / (c["jd"] - last["jd"])
    return {"rate": rate, "dt": c["jd"] - last["jd"]} if rate > 0.01 else None


RISING_FAST = ScienceFilter(
    "fast transient: rising since the last detection ($last of $sortArray)",
    [
        {"$addFields": {"last": {"$last": SORTED_DETECTIONS}}},
        {"$match": {"last": {"$exists": True}}},
        {
            "$addFields": {
                "dt": {"$subtract": ["$candidate.jd", "$last.jd"]},
                "dm": {"$subtract": ["$last.magpsf", "$candidate.magpsf"]},
            }
        },
        {"$addFields": {"rate": {"$divide": ["$dm", "$dt"]}}},
        {"$match": {"rate": {"$gt": 0.01}}},
        annotate({"rate": "$rate", "dt": "$dt"}),
    ],
    rising_fast,
)


def bands_in_common(truth: Truth, packet: Packet) -> dict[str, Any] | None:
    bands = {p["fid"] for p in detections(truth, packet)}
    c = candidate(packet)
    if c["fid"] in bands and len(bands) >= 2:
        return {"other_bands": sorted(bands - {c["fid"]})}
    return None


BANDS_IN_COMMON = ScienceFilter(
    "colour: history in this band and another ($setIsSubset, $setDifference)",
    [
        {
            "$addFields": {
                "bands": {"$setUnion": [{"$map": {"input": DETECTIONS, "in": "$$this.fid"}}]}
            }
        },
        {
            "$match": {
                "$expr": {
                    "$and": [
                        {"$setIsSubset": [["$candidate.fid"], "$bands"]},
                        {"$gte": [{"$size": "$bands"}, 2]},
                    ]
                }
            }
        },
        annotate(
            {
                "other_bands": {
                    "$sortArray": {
                        "input": {"$setDifference": ["$bands", ["$candidate.fid"]]},
                        "sortBy": 1,
                    }
                }
            }
        ),
    ],
    bands_in_common,
)


def median_brightening(truth: Truth, packet: Packet) -> dict[str, Any] | None:
    mags = [p["magpsf"] for p in detections(truth, packet)]
    if len(mags) < 3:
        return None
    # An odd count keeps the median one of the values (MongoDB's approximate method returns
    # data values): the middle one.
    mags = sorted(mags)
    if len(mags) % 2 == 0:
        return None
    median = mags[len(mags) // 2]
    return {"median": median} if median - candidate(packet)["magpsf"] > 0.3 else None


MEDIAN_BRIGHTENING = ScienceFilter(
    "brighter than the median of the light curve ($median)",
    [
        {"$addFields": {"mags": {"$map": {"input": DETECTIONS, "in": "$$this.magpsf"}}}},
        {
            "$match": {
                "$expr": {
                    "$and": [
                        {"$gte": [{"$size": "$mags"}, 3]},
                        {"$eq": [{"$mod": [{"$size": "$mags"}, 2]}, 1]},
                    ]
                }
            }
        },
        {"$addFields": {"median": {"$median": {"input": "$mags", "method": "approximate"}}}},
        {"$match": {"$expr": {"$gt": [{"$subtract": ["$median", "$candidate.magpsf"]}, 0.3]}}},
        annotate({"median": "$median"}),
    ],
    median_brightening,
)


def latest_points(truth: Truth, packet: Packet) -> dict[str, Any] | None:
    history = detections(truth, packet)
    if len(history) < 4:
        return None
    latest = [p["magpsf"] for p in history[-3:]]
    return {"latest_first": latest[::-1], "spread": max(latest) - min(latest)}


LATEST_POINTS = ScienceFilter(
    "the three latest detections ($lastN, $reverseArray)",
    [
        {"$addFields": {"sorted": SORTED_DETECTIONS}},
        {"$match": {"sorted.3": {"$exists": True}}},
        {
            "$addFields": {
                "latest": {
                    "$lastN": {
                        "n": 3,
                        "input": {"$map": {"input": "$sorted", "in": "$$this.magpsf"}},
                    }
                }
            }
        },
        annotate(
            {
                "latest_first": {"$reverseArray": "$latest"},
                "spread": {"$subtract": [{"$max": "$latest"}, {"$min": "$latest"}]},
            }
        ),
    ],
    latest_points,
)

STATIC_FILTERS = (
    RCF_QUALITY_CUTS,
    NUMBER_GUARD,
    BRIGHTER_BEFORE,
    SAME_BAND_HISTORY,
    COLOUR_COVERAGE,
    FADING_STEPS,
    NEW_PEAK,
    LONGEST_GAP,
    BRIGHT_NEIGHBOUR,
    NAMED_WATCH_LIST,
    OFF_THE_PLANE,
    REAL_AND_BRIGHT,
    DISCOVERY_YEAR,
    OBSERVING_NIGHT,
    DAYS_SINCE_FIRST,
    VARIABLE,
    TWO_BRIGHTEST,
    BAND_LABEL,
    MERGED_ANNOTATIONS,
    FORCED_PHOTOMETRY,
    RISING_FAST,
    BANDS_IN_COMMON,
    MEDIAN_BRIGHTENING,
    LATEST_POINTS,
)


# --- the run -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Made:
    filter_id: int
    science: ScienceFilter


@pytest.fixture(scope="module")
def science_filters(ztf_truth: Truth) -> list[ScienceFilter]:
    return [*STATIC_FILTERS, watch_list_filter(ztf_truth)]


@pytest.fixture(scope="module")
def made(client: httpx.Client, science_filters: list[ScienceFilter]) -> Iterator[dict[str, Made]]:
    """Every science filter, created through REST on a group reading ZTF's programids 1 and 2."""
    stream_id = stream(client, "ZTF Public+Partnership", "ZTF_alerts", PERMISSIONS)
    group_id = group(client, "science-filters", [stream_id])
    made: dict[str, Made] = {}
    for science in science_filters:
        filter_id = portal_filter(client, science.name[:60], group_id, stream_id)
        made[science.name] = Made(filter_id, science)
        body = {
            "group_id": group_id,
            "filter_id": filter_id,
            "catalog": "ZTF_alerts",
            "permissions": PERMISSIONS,
            "pipeline": science.stages,
        }
        ok(client.post("/api/filters", json=body))
    yield made
    for each in made.values():
        client.delete(f"/api/filters/{each.filter_id}")


def test_there_are_twenty_filters_and_each_one_discriminates(
    science_filters: list[ScienceFilter], ztf_truth: Truth
) -> None:
    """Each filter's own criteria pass some bundled alerts and fail others: none is vacuous."""
    assert len(science_filters) >= 20
    packets = list(ztf_truth.packets.values())
    for science in science_filters:
        passing = [p for p in packets if science.expected(ztf_truth, p) is not None]
        assert 0 < len(passing) < len(packets), f"{science.name}: {len(passing)} pass"


def assert_same(got: Any, expected: Any, where: str) -> None:
    if isinstance(expected, float):
        assert isinstance(got, float) and got == pytest.approx(expected, rel=1e-9, abs=1e-9), where
    elif isinstance(expected, dict):
        assert isinstance(got, dict) and set(got) == set(expected), f"{where}: {got} != {expected}"
        for key, value in expected.items():
            assert_same(got[key], value, f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(got, list) and len(got) == len(expected), f"{where}: {got} != {expected}"
        for i, (a, b) in enumerate(zip(got, expected, strict=True)):
            assert_same(a, b, f"{where}[{i}]")
    else:
        assert got == expected and type(got) is type(expected), f"{where}: {got!r} != {expected!r}"


@pytest.mark.parametrize("index", range(len(STATIC_FILTERS) + 1))
def test_each_filter_passes_what_python_says_on_the_real_alerts(
    index: int,
    client: httpx.Client,
    made: dict[str, Made],
    science_filters: list[ScienceFilter],
    ztf_truth: Truth,
) -> None:
    science = science_filters[index]
    filter_id = made[science.name].filter_id
    object_ids = sorted({ztf_truth.object_id(p) for p in ztf_truth.packets.values()})
    envelope = ok(client.post(f"/api/filters/{filter_id}/test", json={"object_ids": object_ids}))
    assert envelope["message"] == "filter test successful", envelope["message"]
    got = {output["candid"]: output for output in envelope["data"]}
    expected = {
        candid: annotations
        for candid, packet in ztf_truth.packets.items()
        if packet["candidate"]["programid"] in PERMISSIONS
        and (annotations := science.expected(ztf_truth, packet)) is not None
    }
    assert sorted(got) == sorted(expected), science.name
    for candid, annotations in expected.items():
        output = got[candid]
        assert output["objectId"] == ztf_truth.packets[candid]["objectId"]
        assert_same(output["annotations"], annotations, f"{science.name}, candid {candid}")


def test_a_run_time_error_fails_that_filter_on_that_alert_only(
    client: httpx.Client, made: dict[str, Made], ztf_truth: Truth
) -> None:
    """A filter dividing by zero on some alerts and taking $size of a missing field on others:
    /test counts and shows those errors for the version and passes the rest as Python does."""
    any_made = next(iter(made.values()))
    document = ok(client.get(f"/api/filters/{any_made.filter_id}"))["data"]
    filter_id = portal_filter(client, "fragile", document["group_id"], document["stream_id"])
    try:
        pipeline = [
            {
                "$addFields": {
                    "inverse": {"$divide": [1, {"$subtract": ["$candidate.sgscore1", 0.5]}]},
                    # Only r-band alerts read a field no alert has: $size of missing fails.
                    "n": {
                        "$cond": [
                            {"$eq": ["$candidate.fid", 2]},
                            {"$size": "$candidate.no_such_field"},
                            0,
                        ]
                    },
                }
            },
            {"$match": {"inverse": {"$gt": 0}}},
            annotate({"inverse": "$inverse"}),
        ]
        body = {
            "group_id": document["group_id"],
            "filter_id": filter_id,
            "catalog": "ZTF_alerts",
            "permissions": PERMISSIONS,
            "pipeline": pipeline,
        }
        fid = ok(client.post("/api/filters", json=body))["data"]["fid"]
        packets = ztf_truth.packets
        divide = {c for c, p in packets.items() if p["candidate"]["sgscore1"] == 0.5}
        size = {c for c, p in packets.items() if p["candidate"]["fid"] == 2} - divide
        assert divide and size, "the bundled alerts exercise both errors"
        object_ids = sorted({ztf_truth.object_id(p) for p in packets.values()})
        envelope = ok(
            client.post(f"/api/filters/{filter_id}/test", json={"object_ids": object_ids})
        )
        errors = envelope["errors"]
        assert (errors["filter_id"], errors["fid"]) == (filter_id, fid)
        assert errors["alerts_evaluated"] == len(packets)
        assert errors["count"] == len(divide | size)
        by_candid = {e["candid"]: e["message"] for e in errors["examples"]}
        assert set(by_candid) == divide | size
        assert all("can't $divide by zero (code 2)" in by_candid[c] for c in divide)
        assert all("(code 17124)" in by_candid[c] for c in size)
        assert f"the filter failed on {len(divide | size)} alert(s)" in envelope["message"]
        expected = {
            c: 1 / (p["candidate"]["sgscore1"] - 0.5)
            for c, p in packets.items()
            if c not in divide | size and p["candidate"]["sgscore1"] > 0.5
        }
        assert expected, "some alerts pass"
        got = {output["candid"]: output["annotations"]["inverse"] for output in envelope["data"]}
        assert got == pytest.approx(expected, rel=1e-12)
    finally:
        client.delete(f"/api/filters/{filter_id}")
