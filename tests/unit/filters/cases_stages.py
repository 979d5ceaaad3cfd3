"""Conformance cases for the stages $facet, $bucket, $bucketAuto, $sortByCount, $sample,
$redact, the $group accumulators $top $bottom $topN $bottomN $firstN $lastN $maxN $minN
$mergeObjects $stdDevPop $stdDevSamp $median $percentile, and the expression forms of the last
eight.

Same conventions as conformance_cases.py: each case reproduces an example or a stated rule of
the MongoDB manual page it cites. The pages' examples insert documents without _id; the cases
number them. Where a page uses Decimal128 the case uses doubles and says so.
"""

from __future__ import annotations

import math
from datetime import datetime

from bson import Int64

from tests.unit.filters.conformance_cases import (
    VARIABLES,
    agg,
    case,
    d,
    expression,
    project,
)

# =============================================================================================
# Accumulators with n: $firstN $lastN $maxN $minN $topN $bottomN, and $top $bottom
# =============================================================================================

# The gamescores collection of the $firstN, $lastN, $maxN, $minN, $top, $bottom, $topN and
# $bottomN pages.
GAMESCORES = d(
    {"_id": 1, "playerId": "PlayerA", "gameId": "G1", "score": 31},
    {"_id": 2, "playerId": "PlayerB", "gameId": "G1", "score": 33},
    {"_id": 3, "playerId": "PlayerC", "gameId": "G1", "score": 99},
    {"_id": 4, "playerId": "PlayerD", "gameId": "G1", "score": 1},
    {"_id": 5, "playerId": "PlayerA", "gameId": "G2", "score": 10},
    {"_id": 6, "playerId": "PlayerB", "gameId": "G2", "score": 14},
    {"_id": 7, "playerId": "PlayerC", "gameId": "G2", "score": 66},
    {"_id": 8, "playerId": "PlayerD", "gameId": "G2", "score": 80},
)
# The pages' "Null and Missing Values" documents: PlayerD has no score, PlayerE a null one.
NULL_SCORES = d(
    {"_id": 1, "playerId": "PlayerA", "gameId": "G1", "score": 1},
    {"_id": 2, "playerId": "PlayerB", "gameId": "G1", "score": 2},
    {"_id": 3, "playerId": "PlayerC", "gameId": "G1", "score": 3},
    {"_id": 4, "playerId": "PlayerD", "gameId": "G1"},
    {"_id": 5, "playerId": "PlayerE", "gameId": "G1", "score": None},
)
N_BY_GROUP_KEY = {"$cond": {"if": {"$eq": ["$gameId", "G2"]}, "then": 1, "else": 3}}


def n_group(accumulator: str, argument: dict, by: object = "$gameId") -> list[dict]:
    return [{"$group": {"_id": by, "r": {accumulator: argument}}}]


# --- $firstN ----------------------------------------------------------------------------------

case(
    "$firstN keeps null and turns missing into null",
    agg("firstN"),
    NULL_SCORES,
    n_group("$firstN", {"input": "$score", "n": 5}),
    [{"_id": "G1", "r": [1, 2, 3, None, None]}],
)
case(
    "$firstN of one game",
    agg("firstN"),
    GAMESCORES,
    [{"$match": {"gameId": "G1"}}, *n_group("$firstN", {"input": ["$playerId", "$score"], "n": 3})],
    [{"_id": "G1", "r": [["PlayerA", 31], ["PlayerB", 33], ["PlayerC", 99]]}],
)
case(
    "$firstN per game",
    agg("firstN"),
    GAMESCORES,
    n_group("$firstN", {"input": ["$playerId", "$score"], "n": 3}),
    [
        {"_id": "G1", "r": [["PlayerA", 31], ["PlayerB", 33], ["PlayerC", 99]]},
        {"_id": "G2", "r": [["PlayerA", 10], ["PlayerB", 14], ["PlayerC", 66]]},
    ],
    ordered=False,
)
case(
    "$firstN after $sort",
    agg("firstN"),
    GAMESCORES,
    [
        {"$sort": {"score": -1}},
        *n_group("$firstN", {"input": ["$playerId", "$score"], "n": 3}),
    ],
    [
        {"_id": "G2", "r": [["PlayerD", 80], ["PlayerC", 66], ["PlayerB", 14]]},
        {"_id": "G1", "r": [["PlayerC", 99], ["PlayerB", 33], ["PlayerA", 31]]},
    ],
    ordered=False,
)
case(
    "$firstN with n computed from the group key",
    agg("firstN"),
    GAMESCORES,
    n_group("$firstN", {"input": "$score", "n": N_BY_GROUP_KEY}, {"gameId": "$gameId"}),
    [{"_id": {"gameId": "G1"}, "r": [31, 33, 99]}, {"_id": {"gameId": "G2"}, "r": [10]}],
    ordered=False,
)
case(
    "$firstN n must be positive",
    agg("firstN"),
    GAMESCORES,
    n_group("$firstN", {"input": "$score", "n": 0}),
    error="'n' must be greater than 0",
)
case(
    "$firstN n must be integral",
    agg("firstN"),
    GAMESCORES,
    n_group("$firstN", {"input": "$score", "n": 2.5}),
    error="Value for 'n' must be of integral type",
)
case(
    "$firstN requires n",
    agg("firstN"),
    GAMESCORES,
    n_group("$firstN", {"input": "$score"}),
    error="Missing value for 'n'",
)
case(
    "$firstN as an expression over an array",
    agg("firstN"),
    d({"_id": 1, "array": [10, 20, 30, 40]}),
    [{"$project": {"_id": 0, "firstThreeElements": {"$firstN": {"input": "$array", "n": 3}}}}],
    [{"firstThreeElements": [10, 20, 30]}],
)
# The array operator's games collection (firstN and lastN pages).
GAMES = d(
    {"_id": 1, "playerId": 1, "score": [1, 2, 3]},
    {"_id": 2, "playerId": 2, "score": [12, 90, 7, 89, 8]},
    {"_id": 3, "playerId": 3, "score": [None]},
    {"_id": 4, "playerId": 4, "score": []},
    {"_id": 5, "playerId": 5, "score": [1293, None, 3489, 9]},
    {"_id": 6, "playerId": 6, "score": ["12.1", 2, Int64(2090845886852), 23]},
)
project(
    "$firstN array operator",
    agg("firstN"),
    GAMES,
    {"$firstN": {"n": 3, "input": "$score"}},
    [[1, 2, 3], [12, 90, 7], [None], [], [1293, None, 3489], ["12.1", 2, Int64(2090845886852)]],
)
expression(
    "$firstN array operator of a non-array is an error",
    agg("firstN"),
    {"$firstN": {"n": 2, "input": "$a"}},
    doc={"a": 5},
    error="Input must be an array",
)
expression(
    "$firstN array operator refuses n below 1",
    agg("firstN"),
    {"$firstN": {"n": 0, "input": [1, 2]}},
    error="'n' must be greater than 0",
)

# --- $lastN -----------------------------------------------------------------------------------

case(
    "$lastN keeps null and turns missing into null",
    agg("lastN"),
    NULL_SCORES,
    n_group("$lastN", {"input": "$score", "n": 5}),
    [{"_id": "G1", "r": [1, 2, 3, None, None]}],
)
case(
    "$lastN of one game",
    agg("lastN"),
    GAMESCORES,
    [{"$match": {"gameId": "G1"}}, *n_group("$lastN", {"input": ["$playerId", "$score"], "n": 3})],
    [{"_id": "G1", "r": [["PlayerB", 33], ["PlayerC", 99], ["PlayerD", 1]]}],
)
case(
    "$lastN per game",
    agg("lastN"),
    GAMESCORES,
    n_group("$lastN", {"input": ["$playerId", "$score"], "n": 3}),
    [
        {"_id": "G2", "r": [["PlayerB", 14], ["PlayerC", 66], ["PlayerD", 80]]},
        {"_id": "G1", "r": [["PlayerB", 33], ["PlayerC", 99], ["PlayerD", 1]]},
    ],
    ordered=False,
)
case(
    "$lastN after $sort",
    agg("lastN"),
    GAMESCORES,
    [
        {"$sort": {"score": -1}},
        *n_group("$lastN", {"input": ["$playerId", "$score"], "n": 3}),
    ],
    [
        {"_id": "G2", "r": [["PlayerC", 66], ["PlayerB", 14], ["PlayerA", 10]]},
        {"_id": "G1", "r": [["PlayerB", 33], ["PlayerA", 31], ["PlayerD", 1]]},
    ],
    ordered=False,
)
case(
    "$lastN with n computed from the group key",
    agg("lastN"),
    GAMESCORES,
    n_group("$lastN", {"input": "$score", "n": N_BY_GROUP_KEY}, {"gameId": "$gameId"}),
    [{"_id": {"gameId": "G1"}, "r": [33, 99, 1]}, {"_id": {"gameId": "G2"}, "r": [80]}],
    ordered=False,
)
case(
    "$lastN as an expression over an array",
    agg("lastN"),
    d({"_id": 1, "array": [10, 20, 30, 40]}),
    [{"$project": {"_id": 0, "lastThreeElements": {"$lastN": {"input": "$array", "n": 3}}}}],
    [{"lastThreeElements": [20, 30, 40]}],
)
project(
    "$lastN array operator",
    agg("lastN"),
    GAMES,
    {"$lastN": {"n": 3, "input": "$score"}},
    [[1, 2, 3], [7, 89, 8], [None], [], [None, 3489, 9], [2, Int64(2090845886852), 23]],
)

# --- $maxN and $minN --------------------------------------------------------------------------

case(
    "$maxN skips null and missing",
    agg("maxN"),
    NULL_SCORES,
    n_group("$maxN", {"input": "$score", "n": 4}),
    [{"_id": "G1", "r": [3, 2, 1]}],
)
case(
    "$maxN of one game",
    agg("maxN"),
    GAMESCORES,
    [{"$match": {"gameId": "G1"}}, *n_group("$maxN", {"input": ["$score", "$playerId"], "n": 3})],
    [{"_id": "G1", "r": [[99, "PlayerC"], [33, "PlayerB"], [31, "PlayerA"]]}],
)
case(
    "$maxN with n computed from the group key",
    agg("maxN"),
    GAMESCORES,
    n_group(
        "$maxN", {"input": ["$score", "$playerId"], "n": N_BY_GROUP_KEY}, {"gameId": "$gameId"}
    ),
    [
        {"_id": {"gameId": "G2"}, "r": [[80, "PlayerD"]]},
        {"_id": {"gameId": "G1"}, "r": [[99, "PlayerC"], [33, "PlayerB"], [31, "PlayerA"]]},
    ],
    ordered=False,
)
case(
    "$minN skips null and missing",
    agg("minN"),
    NULL_SCORES,
    n_group("$minN", {"input": "$score", "n": 4}),
    [{"_id": "G1", "r": [1, 2, 3]}],
)
case(
    "$minN of one game",
    agg("minN"),
    GAMESCORES,
    [{"$match": {"gameId": "G1"}}, *n_group("$minN", {"input": ["$score", "$playerId"], "n": 3})],
    [{"_id": "G1", "r": [[1, "PlayerD"], [31, "PlayerA"], [33, "PlayerB"]]}],
)
case(
    "$minN per game",
    agg("minN"),
    GAMESCORES,
    n_group("$minN", {"input": ["$score", "$playerId"], "n": 3}),
    [
        {"_id": "G2", "r": [[10, "PlayerA"], [14, "PlayerB"], [66, "PlayerC"]]},
        {"_id": "G1", "r": [[1, "PlayerD"], [31, "PlayerA"], [33, "PlayerB"]]},
    ],
    ordered=False,
)
case(
    "$minN with n computed from the group key",
    agg("minN"),
    GAMESCORES,
    n_group(
        "$minN", {"input": ["$score", "$playerId"], "n": N_BY_GROUP_KEY}, {"gameId": "$gameId"}
    ),
    [
        {"_id": {"gameId": "G2"}, "r": [[10, "PlayerA"]]},
        {"_id": {"gameId": "G1"}, "r": [[1, "PlayerD"], [31, "PlayerA"], [33, "PlayerB"]]},
    ],
    ordered=False,
)
case(
    "$minN n from a scalar group key sees no fields",
    agg("minN"),
    GAMESCORES,
    n_group("$minN", {"input": "$score", "n": N_BY_GROUP_KEY}),
    [{"_id": "G1", "r": [1, 31, 33]}, {"_id": "G2", "r": [10, 14, 66]}],
    ordered=False,
)
# The array operators' scores collection (maxN-array-element and minN-array-element pages).
ARRAY_SCORES = d(
    {"_id": 1, "playerId": 1, "score": [1, 2, 3]},
    {"_id": 2, "playerId": 2, "score": [12, 90, 7, 89, 8]},
    {"_id": 3, "playerId": 3, "score": [None]},
    {"_id": 4, "playerId": 4, "score": []},
    {"_id": 5, "playerId": 5, "score": [1293, "2", 3489, 9]},
)
project(
    "$maxN array operator",
    agg("maxN-array-element"),
    ARRAY_SCORES,
    {"$maxN": {"n": 2, "input": "$score"}},
    [[3, 2], [90, 89], [], [], ["2", 3489]],
)
project(
    "$minN array operator",
    agg("minN-array-element"),
    ARRAY_SCORES,
    {"$minN": {"n": 2, "input": "$score"}},
    [[1, 2], [7, 8], [], [], [9, 1293]],
)
expression(
    "$maxN array operator of null is an error",
    agg("maxN-array-element"),
    {"$maxN": {"n": 2, "input": "$missing"}},
    error="Input must be an array",
)
expression(
    "$minN array operator checks n before the input",
    agg("minN-array-element"),
    {"$minN": {"n": -1, "input": "$missing"}},
    error="'n' must be greater than 0",
)

# --- $top and $bottom -------------------------------------------------------------------------

case(
    "$top keeps null, missing as null, first of a tie",
    agg("top"),
    NULL_SCORES,
    n_group("$top", {"output": ["$playerId", "$score"], "sortBy": {"score": 1}}),
    [{"_id": "G1", "r": ["PlayerD", None]}],
)
case(
    "$top of one game",
    agg("top"),
    GAMESCORES,
    [
        {"$match": {"gameId": "G1"}},
        *n_group("$top", {"output": ["$playerId", "$score"], "sortBy": {"score": -1}}),
    ],
    [{"_id": "G1", "r": ["PlayerC", 99]}],
)
case(
    "$top per game",
    agg("top"),
    GAMESCORES,
    n_group("$top", {"output": ["$playerId", "$score"], "sortBy": {"score": -1}}),
    [{"_id": "G2", "r": ["PlayerD", 80]}, {"_id": "G1", "r": ["PlayerC", 99]}],
    ordered=False,
)
case(
    "$top refuses n",
    agg("top"),
    GAMESCORES,
    n_group("$top", {"output": "$score", "sortBy": {"score": 1}, "n": 1}),
    error="Unknown argument to $top 'n'",
)
# The page prints [['PlayerD', null]] for this example, an array too many: $bottom returns the
# one output value, as its other examples show.
case(
    "$bottom keeps null, missing as null, first of a tie",
    agg("bottom"),
    NULL_SCORES,
    n_group("$bottom", {"output": ["$playerId", "$score"], "sortBy": {"score": -1}}),
    [{"_id": "G1", "r": ["PlayerD", None]}],
)
case(
    "$bottom of one game",
    agg("bottom"),
    GAMESCORES,
    [
        {"$match": {"gameId": "G1"}},
        *n_group("$bottom", {"output": ["$playerId", "$score"], "sortBy": {"score": -1}}),
    ],
    [{"_id": "G1", "r": ["PlayerD", 1]}],
)
case(
    "$bottom per game",
    agg("bottom"),
    GAMESCORES,
    n_group("$bottom", {"output": ["$playerId", "$score"], "sortBy": {"score": -1}}),
    [{"_id": "G2", "r": ["PlayerA", 10]}, {"_id": "G1", "r": ["PlayerD", 1]}],
    ordered=False,
)
case(
    "$bottom requires sortBy",
    agg("bottom"),
    GAMESCORES,
    n_group("$bottom", {"output": "$score"}),
    error="Missing value for 'sortBy'",
)

# --- $topN and $bottomN -----------------------------------------------------------------------

case(
    "$topN sorts null and missing first",
    agg("topN"),
    NULL_SCORES,
    n_group("$topN", {"output": ["$playerId", "$score"], "sortBy": {"score": 1}, "n": 3}),
    [{"_id": "G1", "r": [["PlayerD", None], ["PlayerE", None], ["PlayerA", 1]]}],
)
case(
    "$topN sorts by the BSON type order",
    agg("topN"),
    d(
        {"_id": 1, "playerId": "PlayerA", "gameId": "G1", "score": 1},
        {"_id": 2, "playerId": "PlayerB", "gameId": "G1", "score": "2"},
        {"_id": 3, "playerId": "PlayerC", "gameId": "G1", "score": ""},
    ),
    n_group("$topN", {"output": ["$playerId", "$score"], "sortBy": {"score": -1}, "n": 3}),
    [{"_id": "G1", "r": [["PlayerB", "2"], ["PlayerC", ""], ["PlayerA", 1]]}],
)
case(
    "$topN of one game",
    agg("topN"),
    GAMESCORES,
    [
        {"$match": {"gameId": "G1"}},
        *n_group("$topN", {"output": ["$playerId", "$score"], "sortBy": {"score": -1}, "n": 3}),
    ],
    [{"_id": "G1", "r": [["PlayerC", 99], ["PlayerB", 33], ["PlayerA", 31]]}],
)
case(
    "$topN per game",
    agg("topN"),
    GAMESCORES,
    n_group("$topN", {"output": ["$playerId", "$score"], "sortBy": {"score": -1}, "n": 3}),
    [
        {"_id": "G1", "r": [["PlayerC", 99], ["PlayerB", 33], ["PlayerA", 31]]},
        {"_id": "G2", "r": [["PlayerD", 80], ["PlayerC", 66], ["PlayerB", 14]]},
    ],
    ordered=False,
)
case(
    "$topN with n computed from the group key",
    agg("topN"),
    GAMESCORES,
    n_group(
        "$topN",
        {"output": "$score", "n": N_BY_GROUP_KEY, "sortBy": {"score": -1}},
        {"gameId": "$gameId"},
    ),
    [{"_id": {"gameId": "G1"}, "r": [99, 33, 31]}, {"_id": {"gameId": "G2"}, "r": [80]}],
    ordered=False,
)
case(
    "$topN requires n",
    agg("topN"),
    GAMESCORES,
    n_group("$topN", {"output": "$score", "sortBy": {"score": 1}}),
    error="Missing value for 'n'",
)
case(
    "$bottomN sorts null and missing last",
    agg("bottomN"),
    NULL_SCORES,
    n_group("$bottomN", {"output": ["$playerId", "$score"], "sortBy": {"score": -1}, "n": 3}),
    [{"_id": "G1", "r": [["PlayerA", 1], ["PlayerD", None], ["PlayerE", None]]}],
)
case(
    "$bottomN of one game",
    agg("bottomN"),
    GAMESCORES,
    [
        {"$match": {"gameId": "G1"}},
        *n_group("$bottomN", {"output": ["$playerId", "$score"], "sortBy": {"score": -1}, "n": 3}),
    ],
    [{"_id": "G1", "r": [["PlayerB", 33], ["PlayerA", 31], ["PlayerD", 1]]}],
)
case(
    "$bottomN per game",
    agg("bottomN"),
    GAMESCORES,
    n_group("$bottomN", {"output": ["$playerId", "$score"], "sortBy": {"score": -1}, "n": 3}),
    [
        {"_id": "G1", "r": [["PlayerB", 33], ["PlayerA", 31], ["PlayerD", 1]]},
        {"_id": "G2", "r": [["PlayerC", 66], ["PlayerB", 14], ["PlayerA", 10]]},
    ],
    ordered=False,
)
case(
    "$bottomN with n computed from the group key",
    agg("bottomN"),
    GAMESCORES,
    n_group(
        "$bottomN",
        {"output": "$score", "n": N_BY_GROUP_KEY, "sortBy": {"score": -1}},
        {"gameId": "$gameId"},
    ),
    [{"_id": {"gameId": "G1"}, "r": [33, 31, 1]}, {"_id": {"gameId": "G2"}, "r": [10]}],
    ordered=False,
)
case(
    "$bottomN by two keys, an array key by its largest element descending",
    agg("bottomN"),
    d(
        {"_id": 1, "g": 1, "k": [1, 7], "t": "a"},
        {"_id": 2, "g": 1, "k": 5, "t": "b"},
        {"_id": 3, "g": 1, "k": 7, "t": "c"},
    ),
    n_group("$bottomN", {"output": "$_id", "sortBy": {"k": -1, "t": -1}, "n": 2}, "$g"),
    [{"_id": 1, "r": [1, 2]}],
)

# =============================================================================================
# $mergeObjects, $stdDevPop, $stdDevSamp
# =============================================================================================

expression(
    "$mergeObjects ignores null",
    agg("mergeObjects"),
    {"$mergeObjects": [{"a": 1}, None]},
    {"a": 1},
)
expression(
    "$mergeObjects of nulls only is an empty document",
    agg("mergeObjects"),
    {"$mergeObjects": [None, None]},
    {},
)
expression(
    "$mergeObjects takes the last value of a field",
    agg("mergeObjects"),
    {"$mergeObjects": [{"a": 1}, {"a": 2, "b": 2}, {"a": 3, "c": 3}]},
    {"a": 3, "b": 2, "c": 3},
)
expression(
    "$mergeObjects keeps a null field value",
    agg("mergeObjects"),
    {"$mergeObjects": [{"a": 1}, {"a": 2, "b": 2}, {"a": 3, "b": None, "c": 3}]},
    {"a": 3, "b": None, "c": 3},
)
expression(
    "$mergeObjects ignores a missing operand",
    agg("mergeObjects"),
    {"$mergeObjects": ["$nope", {"a": 1}]},
    {"a": 1},
)
expression(
    "$mergeObjects of a non-document is an error",
    agg("mergeObjects"),
    {"$mergeObjects": [{"a": 1}, "$x"]},
    doc={"x": 5},
    error="$mergeObjects requires object inputs",
)
# The page joins orders and items with $lookup (a stage filters may not use); here the joined
# array is already in the document.
case(
    "$mergeObjects in $replaceRoot",
    agg("mergeObjects"),
    d(
        {
            "_id": 1,
            "item": "abc",
            "price": 12,
            "ordered": 2,
            "fromItems": [{"_id": 1, "item": "abc", "description": "product 1", "instock": 120}],
        },
        {
            "_id": 2,
            "item": "jkl",
            "price": 20,
            "ordered": 1,
            "fromItems": [{"_id": 3, "item": "jkl", "description": "product 3", "instock": 60}],
        },
    ),
    [
        {
            "$replaceRoot": {
                "newRoot": {"$mergeObjects": [{"$arrayElemAt": ["$fromItems", 0]}, "$$ROOT"]}
            }
        },
        {"$project": {"fromItems": 0}},
    ],
    [
        {
            "_id": 1,
            "item": "abc",
            "description": "product 1",
            "instock": 120,
            "price": 12,
            "ordered": 2,
        },
        {
            "_id": 2,
            "item": "jkl",
            "description": "product 3",
            "instock": 60,
            "price": 20,
            "ordered": 1,
        },
    ],
)
case(
    "$mergeObjects as an accumulator",
    agg("mergeObjects"),
    d(
        {"_id": 1, "year": 2017, "item": "A", "quantity": {"2017Q1": 500, "2017Q2": 500}},
        {
            "_id": 2,
            "year": 2016,
            "item": "A",
            "quantity": {"2016Q1": 400, "2016Q2": 300, "2016Q3": 0, "2016Q4": 0},
        },
        {"_id": 3, "year": 2017, "item": "B", "quantity": {"2017Q1": 300}},
        {"_id": 4, "year": 2016, "item": "B", "quantity": {"2016Q3": 100, "2016Q4": 250}},
    ),
    [{"$group": {"_id": "$item", "mergedSales": {"$mergeObjects": "$quantity"}}}],
    [
        {"_id": "B", "mergedSales": {"2017Q1": 300, "2016Q3": 100, "2016Q4": 250}},
        {
            "_id": "A",
            "mergedSales": {
                "2017Q1": 500,
                "2017Q2": 500,
                "2016Q1": 400,
                "2016Q2": 300,
                "2016Q3": 0,
                "2016Q4": 0,
            },
        },
    ],
    ordered=False,
)
case(
    "$mergeObjects accumulator of a non-document is an error",
    agg("mergeObjects"),
    d({"_id": 1, "q": {"a": 1}}, {"_id": 2, "q": 7}),
    [{"$group": {"_id": None, "m": {"$mergeObjects": "$q"}}}],
    error="$mergeObjects requires object inputs",
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/stdDevPop/
QUIZ_USERS = d(
    {"_id": 1, "name": "dave123", "quiz": 1, "score": 85},
    {"_id": 2, "name": "dave2", "quiz": 1, "score": 90},
    {"_id": 3, "name": "ahn", "quiz": 1, "score": 71},
    {"_id": 4, "name": "li", "quiz": 2, "score": 96},
    {"_id": 5, "name": "annT", "quiz": 2, "score": 77},
    {"_id": 6, "name": "ty", "quiz": 2, "score": 82},
)
case(
    "$stdDevPop in $group",
    agg("stdDevPop"),
    QUIZ_USERS,
    [{"$group": {"_id": "$quiz", "stdDev": {"$stdDevPop": "$score"}}}],
    [{"_id": 2, "stdDev": 8.04155872120988}, {"_id": 1, "stdDev": 8.04155872120988}],
    ordered=False,
)
project(
    "$stdDevPop of an array in $project",
    agg("stdDevPop"),
    d(
        {
            "_id": 1,
            "scores": [
                {"name": "dave123", "score": 85},
                {"name": "dave2", "score": 90},
                {"name": "ahn", "score": 71},
            ],
        },
        {
            "_id": 2,
            "scores": [
                {"name": "li", "quiz": 2, "score": 96},
                {"name": "annT", "score": 77},
                {"name": "ty", "score": 82},
            ],
        },
    ),
    {"$stdDevPop": "$scores.score"},
    [8.04155872120988, 8.04155872120988],
)
expression(
    "$stdDevPop of one value is 0",
    agg("stdDevPop"),
    {"$stdDevPop": [5]},
    0.0,
)
expression(
    "$stdDevPop of non-numbers only is null",
    agg("stdDevPop"),
    {"$stdDevPop": ["a", None, "$missing"]},
    None,
)
expression(
    "$stdDevPop over a list of operands ignores non-numbers",
    agg("stdDevPop"),
    {"$stdDevPop": [1, "x", 3, None]},
    1.0,
)
case(
    "$stdDevPop in $group treats an array as a non-number",
    agg("stdDevPop"),
    d({"_id": 1, "v": [1, 2, 3]}, {"_id": 2, "v": 4}, {"_id": 3, "v": 6}),
    [{"$group": {"_id": None, "s": {"$stdDevPop": "$v"}}}],
    [{"_id": None, "s": 1.0}],
)
case(
    "$stdDevSamp in $group",
    agg("stdDevSamp"),
    QUIZ_USERS,
    [{"$group": {"_id": "$quiz", "s": {"$stdDevSamp": "$score"}}}],
    [{"_id": 1, "s": math.sqrt(97)}, {"_id": 2, "s": math.sqrt(97)}],
    ordered=False,
    approx=True,
)
case(
    "$stdDevSamp of a single value is null",
    agg("stdDevSamp"),
    d({"_id": 1, "age": 20}, {"_id": 2, "age": "unknown"}),
    [{"$group": {"_id": None, "ageStdDev": {"$stdDevSamp": "$age"}}}],
    [{"_id": None, "ageStdDev": None}],
)
expression(
    "$stdDevSamp over an array",
    agg("stdDevSamp"),
    {"$stdDevSamp": "$v"},
    math.sqrt(97),
    doc={"v": [85, 90, 71]},
    approx=True,
)
expression(
    "$stdDevSamp of non-numbers is null",
    agg("stdDevSamp"),
    {"$stdDevSamp": "$v"},
    None,
    doc={"v": ["a", "b"]},
)

# =============================================================================================
# $median and $percentile (method 'approximate')
# =============================================================================================

# The testScores collection of the $median and $percentile pages. Both return doubles (the
# pages print them as mongosh does, without a decimal point). The values are data values: the
# engine picks the discrete rank ceil(n * p) - 1 (see reducers.percentiles_of).
TEST_SCORES = d(
    {"_id": 1, "studentId": "2345", "test01": 62, "test02": 81, "test03": 80},
    {"_id": 2, "studentId": "2356", "test01": 60, "test02": 83, "test03": 79},
    {"_id": 3, "studentId": "2358", "test01": 67, "test02": 82, "test03": 78},
    {"_id": 4, "studentId": "2367", "test01": 64, "test02": 72, "test03": 77},
    {"_id": 5, "studentId": "2369", "test01": 60, "test02": 53, "test03": 72},
)
case(
    "$median as an accumulator",
    agg("median"),
    TEST_SCORES,
    [
        {
            "$group": {
                "_id": None,
                "test01_median": {"$median": {"input": "$test01", "method": "approximate"}},
            }
        }
    ],
    [{"_id": None, "test01_median": 62.0}],
)
case(
    "$median of a list of fields in $project",
    agg("median"),
    TEST_SCORES,
    [
        {
            "$project": {
                "_id": 0,
                "studentId": 1,
                "testMedians": {
                    "$median": {
                        "input": ["$test01", "$test02", "$test03"],
                        "method": "approximate",
                    }
                },
            }
        }
    ],
    [
        {"studentId": "2345", "testMedians": 80.0},
        {"studentId": "2356", "testMedians": 79.0},
        {"studentId": "2358", "testMedians": 78.0},
        {"studentId": "2367", "testMedians": 72.0},
        {"studentId": "2369", "testMedians": 60.0},
    ],
)
expression(
    "$median ignores non-numbers",
    agg("median"),
    {"$median": {"input": [3, "x", None, 1, 2, True], "method": "approximate"}},
    2.0,
)
expression(
    "$median with no number is null",
    agg("median"),
    {"$median": {"input": "$nope", "method": "approximate"}},
    None,
)
expression(
    "$median of one number is that number",
    agg("median"),
    {"$median": {"input": "$v", "method": "approximate"}},
    7.0,
    doc={"v": 7},
)
case(
    "$median accumulator with no number is null",
    agg("median"),
    d({"_id": 1, "v": "a"}),
    [{"$group": {"_id": None, "m": {"$median": {"input": "$v", "method": "approximate"}}}}],
    [{"_id": None, "m": None}],
)
expression(
    "$median requires method 'approximate'",
    agg("median"),
    {"$median": {"input": [1, 2], "method": "exact"}},
    error="Currently only 'approximate' can be used as percentile 'method'.",
)
expression(
    "$median requires a method",
    agg("median"),
    {"$median": {"input": [1, 2]}},
    error="'$median.method' is missing",
)
case(
    "$percentile as an accumulator",
    agg("percentile"),
    TEST_SCORES,
    [
        {
            "$group": {
                "_id": None,
                "test01_percentiles": {
                    "$percentile": {"input": "$test01", "p": [0.95], "method": "approximate"}
                },
            }
        }
    ],
    [{"_id": None, "test01_percentiles": [67.0]}],
)
PS = [0.5, 0.75, 0.9, 0.95]
case(
    "$percentile several values as an accumulator",
    agg("percentile"),
    TEST_SCORES,
    [
        {
            "$group": {
                "_id": None,
                "test01_percentiles": {
                    "$percentile": {"input": "$test01", "p": PS, "method": "approximate"}
                },
                "test02_percentiles": {
                    "$percentile": {"input": "$test02", "p": PS, "method": "approximate"}
                },
                "test03_percentiles": {
                    "$percentile": {"input": "$test03", "p": PS, "method": "approximate"}
                },
                "test03_percent_alt": {
                    "$percentile": {
                        "input": "$test03",
                        "p": [0.9, 0.5, 0.75, 0.95],
                        "method": "approximate",
                    }
                },
            }
        }
    ],
    [
        {
            "_id": None,
            "test01_percentiles": [62.0, 64.0, 67.0, 67.0],
            "test02_percentiles": [81.0, 82.0, 83.0, 83.0],
            "test03_percentiles": [78.0, 79.0, 80.0, 80.0],
            "test03_percent_alt": [80.0, 78.0, 79.0, 80.0],
        }
    ],
)
case(
    "$percentile of a list of fields in $project",
    agg("percentile"),
    TEST_SCORES,
    [
        {
            "$project": {
                "_id": 0,
                "studentId": 1,
                "testPercentiles": {
                    "$percentile": {
                        "input": ["$test01", "$test02", "$test03"],
                        "p": [0.5, 0.75],
                        "method": "approximate",
                    }
                },
            }
        }
    ],
    [
        {"studentId": "2345", "testPercentiles": [80.0, 81.0]},
        {"studentId": "2356", "testPercentiles": [79.0, 83.0]},
        {"studentId": "2358", "testPercentiles": [78.0, 82.0]},
        {"studentId": "2367", "testPercentiles": [72.0, 77.0]},
        {"studentId": "2369", "testPercentiles": [60.0, 72.0]},
    ],
)
expression(
    "$percentile of an array field, 0 and 1 are the extremes",
    agg("percentile"),
    {"$percentile": {"input": "$s", "p": [0, 1, 0.5], "method": "approximate"}},
    [53.0, 91.0, 64.0],
    doc={"s": [64, 72, 77, 58, 91, 53, "x"]},
)
expression(
    "$percentile with no number is one null per p",
    agg("percentile"),
    {"$percentile": {"input": "$s", "p": [0.1, 0.9], "method": "approximate"}},
    [None, None],
    doc={"s": []},
)
expression(
    "$percentile p must lie in [0, 1]",
    agg("percentile"),
    {"$percentile": {"input": [1, 2], "p": [1.5], "method": "approximate"}},
    error="The $percentile 'p' field must be an array of numbers from [0.0, 1.0]",
)
expression(
    "$percentile p must be an array",
    agg("percentile"),
    {"$percentile": {"input": [1, 2], "p": 0.5, "method": "approximate"}},
    error="The $percentile 'p' field must be an array of numbers from [0.0, 1.0]",
)
expression(
    "$percentile p must not be empty",
    agg("percentile"),
    {"$percentile": {"input": [1, 2], "p": [], "method": "approximate"}},
    error="The $percentile 'p' field must be an array of numbers from [0.0, 1.0]",
)
case(
    "$percentile accumulator requires p",
    agg("percentile"),
    TEST_SCORES,
    [
        {
            "$group": {
                "_id": None,
                "p": {"$percentile": {"input": "$test01", "method": "approximate"}},
            }
        }
    ],
    error="'$percentile.p' is missing",
)

# =============================================================================================
# $bucket
# =============================================================================================

ARTISTS = d(
    {"_id": 1, "last_name": "Bernard", "first_name": "Emil", "year_born": 1868,
     "year_died": 1941, "nationality": "France"},
    {"_id": 2, "last_name": "Rippl-Ronai", "first_name": "Joszef", "year_born": 1861,
     "year_died": 1927, "nationality": "Hungary"},
    {"_id": 3, "last_name": "Ostroumova", "first_name": "Anna", "year_born": 1871,
     "year_died": 1955, "nationality": "Russia"},
    {"_id": 4, "last_name": "Van Gogh", "first_name": "Vincent", "year_born": 1853,
     "year_died": 1890, "nationality": "Holland"},
    {"_id": 5, "last_name": "Maurer", "first_name": "Alfred", "year_born": 1868,
     "year_died": 1932, "nationality": "USA"},
    {"_id": 6, "last_name": "Munch", "first_name": "Edvard", "year_born": 1863,
     "year_died": 1944, "nationality": "Norway"},
    {"_id": 7, "last_name": "Redon", "first_name": "Odilon", "year_born": 1840,
     "year_died": 1916, "nationality": "France"},
    {"_id": 8, "last_name": "Diriks", "first_name": "Edvard", "year_born": 1855,
     "year_died": 1930, "nationality": "Norway"},
)  # fmt: skip
ARTISTS_BUCKET = {
    "$bucket": {
        "groupBy": "$year_born",
        "boundaries": [1840, 1850, 1860, 1870, 1880],
        "default": "Other",
        "output": {
            "count": {"$sum": 1},
            "artists": {
                "$push": {
                    "name": {"$concat": ["$first_name", " ", "$last_name"]},
                    "year_born": "$year_born",
                }
            },
        },
    }
}
BUCKET_1860 = {
    "_id": 1860,
    "count": 4,
    "artists": [
        {"name": "Emil Bernard", "year_born": 1868},
        {"name": "Joszef Rippl-Ronai", "year_born": 1861},
        {"name": "Alfred Maurer", "year_born": 1868},
        {"name": "Edvard Munch", "year_born": 1863},
    ],
}
case(
    "$bucket by year, sorted by the lower bound",
    agg("bucket"),
    ARTISTS,
    [ARTISTS_BUCKET],
    [
        {"_id": 1840, "count": 1, "artists": [{"name": "Odilon Redon", "year_born": 1840}]},
        {
            "_id": 1850,
            "count": 2,
            "artists": [
                {"name": "Vincent Van Gogh", "year_born": 1853},
                {"name": "Edvard Diriks", "year_born": 1855},
            ],
        },
        BUCKET_1860,
        {"_id": 1870, "count": 1, "artists": [{"name": "Anna Ostroumova", "year_born": 1871}]},
    ],
)
case(
    "$bucket then $match on the count",
    agg("bucket"),
    ARTISTS,
    [ARTISTS_BUCKET, {"$match": {"count": {"$gt": 3}}}],
    [BUCKET_1860],
)
# The page's artwork collection, with its Decimal128 prices as doubles.
ARTWORK = d(
    {"_id": 1, "title": "The Pillars of Society", "artist": "Grosz", "year": 1926,
     "price": 199.99, "tags": ["painting", "satire", "Expressionism", "caricature"]},
    {"_id": 2, "title": "Melancholy III", "artist": "Munch", "year": 1902, "price": 280.00,
     "tags": ["woodcut", "Expressionism"]},
    {"_id": 3, "title": "Dancer", "artist": "Miro", "year": 1925, "price": 76.04,
     "tags": ["oil", "Surrealism", "painting"]},
    {"_id": 4, "title": "The Great Wave off Kanagawa", "artist": "Hokusai", "price": 167.30,
     "tags": ["woodblock", "ukiyo-e"]},
    {"_id": 5, "title": "The Persistence of Memory", "artist": "Dali", "year": 1931,
     "price": 483.00, "tags": ["Surrealism", "painting", "oil"]},
    {"_id": 6, "title": "Composition VII", "artist": "Kandinsky", "year": 1913,
     "price": 385.00, "tags": ["oil", "painting", "abstract"]},
    {"_id": 7, "title": "The Scream", "artist": "Munch", "year": 1893,
     "tags": ["Expressionism", "painting", "oil"]},
    {"_id": 8, "title": "Blue Flower", "artist": "O'Keefe", "year": 1918, "price": 118.42,
     "tags": ["abstract", "painting"]},
)  # fmt: skip
case(
    "$bucket twice in $facet",
    agg("bucket"),
    ARTWORK,
    [
        {
            "$facet": {
                "price": [
                    {
                        "$bucket": {
                            "groupBy": "$price",
                            "boundaries": [0, 200, 400],
                            "default": "Other",
                            "output": {
                                "count": {"$sum": 1},
                                "artwork": {"$push": {"title": "$title", "price": "$price"}},
                                "averagePrice": {"$avg": "$price"},
                            },
                        }
                    }
                ],
                "year": [
                    {
                        "$bucket": {
                            "groupBy": "$year",
                            "boundaries": [1890, 1910, 1920, 1940],
                            "default": "Unknown",
                            "output": {
                                "count": {"$sum": 1},
                                "artwork": {"$push": {"title": "$title", "year": "$year"}},
                            },
                        }
                    }
                ],
            }
        }
    ],
    [
        {
            "price": [
                {
                    "_id": 0,
                    "count": 4,
                    "artwork": [
                        {"title": "The Pillars of Society", "price": 199.99},
                        {"title": "Dancer", "price": 76.04},
                        {"title": "The Great Wave off Kanagawa", "price": 167.30},
                        {"title": "Blue Flower", "price": 118.42},
                    ],
                    "averagePrice": 140.4375,
                },
                {
                    "_id": 200,
                    "count": 2,
                    "artwork": [
                        {"title": "Melancholy III", "price": 280.00},
                        {"title": "Composition VII", "price": 385.00},
                    ],
                    "averagePrice": 332.5,
                },
                {
                    "_id": "Other",
                    "count": 2,
                    "artwork": [
                        {"title": "The Persistence of Memory", "price": 483.00},
                        {"title": "The Scream"},
                    ],
                    "averagePrice": 483.0,
                },
            ],
            "year": [
                {
                    "_id": 1890,
                    "count": 2,
                    "artwork": [
                        {"title": "Melancholy III", "year": 1902},
                        {"title": "The Scream", "year": 1893},
                    ],
                },
                {
                    "_id": 1910,
                    "count": 2,
                    "artwork": [
                        {"title": "Composition VII", "year": 1913},
                        {"title": "Blue Flower", "year": 1918},
                    ],
                },
                {
                    "_id": 1920,
                    "count": 3,
                    "artwork": [
                        {"title": "The Pillars of Society", "year": 1926},
                        {"title": "Dancer", "year": 1925},
                        {"title": "The Persistence of Memory", "year": 1931},
                    ],
                },
                {
                    "_id": "Unknown",
                    "count": 1,
                    "artwork": [{"title": "The Great Wave off Kanagawa"}],
                },
            ],
        }
    ],
    approx=True,
)
case(
    "$bucket without output counts",
    agg("bucket"),
    ARTISTS,
    [{"$bucket": {"groupBy": "$year_born", "boundaries": [1800, 1860, 1900]}}],
    [{"_id": 1800, "count": 3}, {"_id": 1860, "count": 5}],
)
case(
    "$bucket boundaries may mix numeric types",
    agg("bucket"),
    d({"_id": 1, "v": 12}, {"_id": 2, "v": 25.5}, {"_id": 3, "v": Int64(20)}),
    [{"$bucket": {"groupBy": "$v", "boundaries": [10, Int64(20), 30]}}],
    [{"_id": 10, "count": 1}, {"_id": Int64(20), "count": 2}],
)
case(
    "$bucket puts other types and missing values in the default bucket",
    agg("bucket"),
    d({"_id": 1, "v": 5}, {"_id": 2, "v": "5"}, {"_id": 3}, {"_id": 4, "v": None}),
    [{"$bucket": {"groupBy": "$v", "boundaries": [0, 10], "default": "other"}}],
    [{"_id": 0, "count": 1}, {"_id": "other", "count": 3}],
)
case(
    "$bucket without default errors on a value outside the boundaries",
    agg("bucket"),
    ARTISTS,
    [{"$bucket": {"groupBy": "$year_born", "boundaries": [1850, 1900]}}],
    error="$switch could not find a matching branch for an input, and no default was specified.",
)
case(
    "$bucket boundaries must be sorted",
    agg("bucket"),
    ARTISTS,
    [{"$bucket": {"groupBy": "$year_born", "boundaries": [1900, 1850]}}],
    error="must be sorted",
)
case(
    "$bucket boundaries must share a type",
    agg("bucket"),
    ARTISTS,
    [{"$bucket": {"groupBy": "$year_born", "boundaries": [1850, "1900"]}}],
    error="must have the same type",
)
case(
    "$bucket needs two boundaries",
    agg("bucket"),
    ARTISTS,
    [{"$bucket": {"groupBy": "$year_born", "boundaries": [1850]}}],
    error="must have at least 2 values",
)
case(
    "$bucket default must lie outside the boundaries",
    agg("bucket"),
    ARTISTS,
    [{"$bucket": {"groupBy": "$year_born", "boundaries": [1850, 1900], "default": 1860}}],
    error="The $bucket 'default' field must be less than the lowest boundary or greater than",
)
case(
    "$bucket requires groupBy and boundaries",
    agg("bucket"),
    ARTISTS,
    [{"$bucket": {"groupBy": "$year_born"}}],
    error="$bucket requires 'groupBy' and 'boundaries' to be specified.",
)

# =============================================================================================
# $bucketAuto
# =============================================================================================

# The granularity table's things collection: its results (a first bucket from 0, a last one
# to 99) are those of _ids 0 to 99, although the page says 1 to 100. With a granularity the
# rounded boundaries are doubles, the first bucket's minimum 0 stays the int it was, and
# POWERSOF2's powers are ints (MongoDB computes them as $pow of two ints).
THINGS = [{"_id": i} for i in range(100)]


def things(granularity: str | None) -> list[dict]:
    spec: dict = {"groupBy": "$_id", "buckets": 5}
    if granularity is not None:
        spec["granularity"] = granularity
    return [{"$bucketAuto": spec}]


def buckets(*rows: tuple) -> list[dict]:
    return [{"_id": {"min": low, "max": high}, "count": n} for low, high, n in rows]


case(
    "$bucketAuto without granularity",
    agg("bucketAuto"),
    THINGS,
    things(None),
    buckets((0, 20, 20), (20, 40, 20), (40, 60, 20), (60, 80, 20), (80, 99, 20)),
)
case(
    "$bucketAuto granularity R20",
    agg("bucketAuto"),
    THINGS,
    things("R20"),
    buckets((0, 20.0, 20), (20.0, 40.0, 20), (40.0, 63.0, 23), (63.0, 90.0, 27), (90.0, 100.0, 10)),
)
case(
    "$bucketAuto granularity E24",
    agg("bucketAuto"),
    THINGS,
    things("E24"),
    buckets((0, 20.0, 20), (20.0, 43.0, 23), (43.0, 68.0, 25), (68.0, 91.0, 23), (91.0, 100.0, 9)),
)
case(
    "$bucketAuto granularity 1-2-5 has fewer buckets",
    agg("bucketAuto"),
    THINGS,
    things("1-2-5"),
    buckets((0, 20.0, 20), (20.0, 50.0, 30), (50.0, 100.0, 50)),
)
case(
    "$bucketAuto granularity POWERSOF2 has fewer buckets",
    agg("bucketAuto"),
    THINGS,
    things("POWERSOF2"),
    buckets((0, 32, 32), (32, 64, 32), (64, 128, 36)),
)
# The other series, on the same collection, by the page's rule: each bucket of 20 ends at the
# next series value above its last _id, scaled by a power of ten the way MongoDB computes it
# (200 * 0.1 for R40's 2.00 ...), and takes the _ids below that boundary.
TENTH = 0.1
case(
    "$bucketAuto granularity R5",
    agg("bucketAuto"),
    THINGS,
    things("R5"),
    buckets((0, 25.0, 25), (25.0, 63.0, 38), (63.0, 100.0, 37)),
)
case(
    "$bucketAuto granularity R10",
    agg("bucketAuto"),
    THINGS,
    things("R10"),
    buckets(
        (0, 200 * TENTH, 20),
        (200 * TENTH, 400 * TENTH, 20),
        (400 * TENTH, 630 * TENTH, 23),
        (630 * TENTH, 100.0, 37),
    ),
)
case(
    "$bucketAuto granularity R40",
    agg("bucketAuto"),
    THINGS,
    things("R40"),
    buckets(
        (0, 200 * TENTH, 20),
        (200 * TENTH, 400 * TENTH, 20),
        (400 * TENTH, 600 * TENTH, 20),
        (600 * TENTH, 800 * TENTH, 20),
        (800 * TENTH, 100.0, 20),
    ),
)
case(
    "$bucketAuto granularity R80",
    agg("bucketAuto"),
    THINGS,
    things("R80"),
    buckets(
        (0, 195 * TENTH, 20),
        (195 * TENTH, 412 * TENTH, 22),
        (412 * TENTH, 615 * TENTH, 20),
        (615 * TENTH, 825 * TENTH, 21),
        (825 * TENTH, 103.0, 17),
    ),
)
case(
    "$bucketAuto granularity E6",
    agg("bucketAuto"),
    THINGS,
    things("E6"),
    buckets((0, 22.0, 22), (22.0, 47.0, 25), (47.0, 68.0, 21), (68.0, 100.0, 32)),
)
case(
    "$bucketAuto granularity E12",
    agg("bucketAuto"),
    THINGS,
    things("E12"),
    buckets((0, 22.0, 22), (22.0, 47.0, 25), (47.0, 68.0, 21), (68.0, 100.0, 32)),
)
case(
    "$bucketAuto granularity E48",
    agg("bucketAuto"),
    THINGS,
    things("E48"),
    buckets(
        (0, 196 * TENTH, 20),
        (196 * TENTH, 402 * TENTH, 21),
        (402 * TENTH, 619 * TENTH, 21),
        (619 * TENTH, 825 * TENTH, 21),
        (825 * TENTH, 100.0, 17),
    ),
)
case(
    "$bucketAuto granularity E96",
    agg("bucketAuto"),
    THINGS,
    things("E96"),
    buckets(
        (0, 191 * TENTH, 20),
        (191 * TENTH, 392 * TENTH, 20),
        (392 * TENTH, 604 * TENTH, 21),
        (604 * TENTH, 806 * TENTH, 20),
        (806 * TENTH, 100.0, 19),
    ),
)
case(
    "$bucketAuto granularity E192",
    agg("bucketAuto"),
    THINGS,
    things("E192"),
    buckets(
        (0, 191 * TENTH, 20),
        (191 * TENTH, 392 * TENTH, 20),
        (392 * TENTH, 597 * TENTH, 20),
        (597 * TENTH, 796 * TENTH, 20),
        (796 * TENTH, 100.0, 20),
    ),
)
# The page's example collection (artwork with dimensions), Decimal128 prices as doubles.
ARTWORK_DIMENSIONS = d(
    {"_id": 1, "title": "The Pillars of Society", "artist": "Grosz", "year": 1926,
     "price": 199.99, "dimensions": {"height": 39, "width": 21, "units": "in"}},
    {"_id": 2, "title": "Melancholy III", "artist": "Munch", "year": 1902, "price": 280.00,
     "dimensions": {"height": 49, "width": 32, "units": "in"}},
    {"_id": 3, "title": "Dancer", "artist": "Miro", "year": 1925, "price": 76.04,
     "dimensions": {"height": 25, "width": 20, "units": "in"}},
    {"_id": 4, "title": "The Great Wave off Kanagawa", "artist": "Hokusai", "price": 167.30,
     "dimensions": {"height": 24, "width": 36, "units": "in"}},
    {"_id": 5, "title": "The Persistence of Memory", "artist": "Dali", "year": 1931,
     "price": 483.00, "dimensions": {"height": 20, "width": 24, "units": "in"}},
    {"_id": 6, "title": "Composition VII", "artist": "Kandinsky", "year": 1913,
     "price": 385.00, "dimensions": {"height": 30, "width": 46, "units": "in"}},
    {"_id": 7, "title": "The Scream", "artist": "Munch", "price": 159.00,
     "dimensions": {"height": 24, "width": 18, "units": "in"}},
    {"_id": 8, "title": "Blue Flower", "artist": "O'Keefe", "year": 1918, "price": 118.42,
     "dimensions": {"height": 24, "width": 20, "units": "in"}},
)  # fmt: skip
PRICE_BUCKETS = [
    {"_id": {"min": 76.04, "max": 159.00}, "count": 2},
    {"_id": {"min": 159.00, "max": 199.99}, "count": 2},
    {"_id": {"min": 199.99, "max": 385.00}, "count": 2},
    {"_id": {"min": 385.00, "max": 483.00}, "count": 2},
]
case(
    "$bucketAuto price into four buckets",
    agg("bucketAuto"),
    ARTWORK_DIMENSIONS,
    [{"$bucketAuto": {"groupBy": "$price", "buckets": 4}}],
    PRICE_BUCKETS,
)
case(
    "$bucketAuto three times in $facet",
    agg("bucketAuto"),
    ARTWORK_DIMENSIONS,
    [
        {
            "$facet": {
                "price": [{"$bucketAuto": {"groupBy": "$price", "buckets": 4}}],
                "year": [
                    {
                        "$bucketAuto": {
                            "groupBy": "$year",
                            "buckets": 3,
                            "output": {"count": {"$sum": 1}, "years": {"$push": "$year"}},
                        }
                    }
                ],
                "area": [
                    {
                        "$bucketAuto": {
                            "groupBy": {"$multiply": ["$dimensions.height", "$dimensions.width"]},
                            "buckets": 4,
                            "output": {"count": {"$sum": 1}, "titles": {"$push": "$title"}},
                        }
                    }
                ],
            }
        }
    ],
    [
        {
            "area": [
                {
                    "_id": {"min": 432, "max": 500},
                    "count": 3,
                    "titles": ["The Scream", "The Persistence of Memory", "Blue Flower"],
                },
                {
                    "_id": {"min": 500, "max": 864},
                    "count": 2,
                    "titles": ["Dancer", "The Pillars of Society"],
                },
                {
                    "_id": {"min": 864, "max": 1568},
                    "count": 2,
                    "titles": ["The Great Wave off Kanagawa", "Composition VII"],
                },
                {"_id": {"min": 1568, "max": 1568}, "count": 1, "titles": ["Melancholy III"]},
            ],
            "price": PRICE_BUCKETS,
            "year": [
                {"_id": {"min": None, "max": 1913}, "count": 3, "years": [1902]},
                {"_id": {"min": 1913, "max": 1926}, "count": 3, "years": [1913, 1918, 1925]},
                {"_id": {"min": 1926, "max": 1931}, "count": 2, "years": [1926, 1931]},
            ],
        }
    ],
)
case(
    "$bucketAuto granularity needs numbers",
    agg("bucketAuto"),
    d({"_id": 1, "v": 5}, {"_id": 2, "v": "x"}),
    [{"$bucketAuto": {"groupBy": "$v", "buckets": 2, "granularity": "R5"}}],
    error="$bucketAuto can specify a 'granularity' with numeric boundaries only",
)
case(
    "$bucketAuto granularity needs non-negative numbers",
    agg("bucketAuto"),
    d({"_id": 1, "v": 5}, {"_id": 2, "v": -1}),
    [{"$bucketAuto": {"groupBy": "$v", "buckets": 2, "granularity": "E6"}}],
    error="with non-negative numbers only",
)
case(
    "$bucketAuto buckets must be positive",
    agg("bucketAuto"),
    THINGS,
    [{"$bucketAuto": {"groupBy": "$_id", "buckets": 0}}],
    error="The $bucketAuto 'buckets' field must be greater than 0",
)
case(
    "$bucketAuto refuses an unknown granularity",
    agg("bucketAuto"),
    THINGS,
    [{"$bucketAuto": {"groupBy": "$_id", "buckets": 2, "granularity": "R7"}}],
    error="R7",
)

# =============================================================================================
# $sortByCount and $facet
# =============================================================================================

TAG_COUNTS = [
    {"_id": "painting", "count": 6},
    {"_id": "oil", "count": 4},
    {"_id": "Expressionism", "count": 3},
    {"_id": "Surrealism", "count": 2},
    {"_id": "abstract", "count": 2},
    {"_id": "woodblock", "count": 1},
    {"_id": "woodcut", "count": 1},
    {"_id": "ukiyo-e", "count": 1},
    {"_id": "satire", "count": 1},
    {"_id": "caricature", "count": 1},
]
# The page's order among equal counts is unspecified, so the tags compare as a set.
case(
    "$sortByCount of unwound tags",
    agg("sortByCount"),
    ARTWORK,
    [{"$unwind": "$tags"}, {"$sortByCount": "$tags"}],
    TAG_COUNTS,
    ordered=False,
)
case(
    "$sortByCount sorts by count descending",
    agg("sortByCount"),
    d({"_id": 1, "k": "a"}, {"_id": 2, "k": "b"}, {"_id": 3, "k": "b"}, {"_id": 4}),
    [{"$sortByCount": "$k"}, {"$match": {"_id": {"$ne": None}}}],
    [{"_id": "b", "count": 2}, {"_id": "a", "count": 1}],
)
case(
    "$sortByCount refuses a document literal",
    agg("sortByCount"),
    ARTWORK,
    [{"$sortByCount": {"lname": "$artist"}}],
    error="the sortByCount field must be defined as a $-prefixed path or an expression",
)
# The page's example, with $sort by _id after $sortByCount so that the tags of equal count
# come in a defined order (the page's is unspecified).
case(
    "$facet by tags, price and year",
    agg("facet"),
    ARTWORK,
    [
        {
            "$facet": {
                "categorizedByTags": [
                    {"$unwind": "$tags"},
                    {"$sortByCount": "$tags"},
                    {"$sort": {"count": -1, "_id": 1}},
                ],
                "categorizedByPrice": [
                    {"$match": {"price": {"$exists": 1}}},
                    {
                        "$bucket": {
                            "groupBy": "$price",
                            "boundaries": [0, 150, 200, 300, 400],
                            "default": "Other",
                            "output": {"count": {"$sum": 1}, "titles": {"$push": "$title"}},
                        }
                    },
                ],
                "categorizedByYears(Auto)": [{"$bucketAuto": {"groupBy": "$year", "buckets": 4}}],
            }
        }
    ],
    [
        {
            "categorizedByYears(Auto)": [
                {"_id": {"min": None, "max": 1902}, "count": 2},
                {"_id": {"min": 1902, "max": 1918}, "count": 2},
                {"_id": {"min": 1918, "max": 1926}, "count": 2},
                {"_id": {"min": 1926, "max": 1931}, "count": 2},
            ],
            "categorizedByPrice": [
                {"_id": 0, "count": 2, "titles": ["Dancer", "Blue Flower"]},
                {
                    "_id": 150,
                    "count": 2,
                    "titles": ["The Pillars of Society", "The Great Wave off Kanagawa"],
                },
                {"_id": 200, "count": 1, "titles": ["Melancholy III"]},
                {"_id": 300, "count": 1, "titles": ["Composition VII"]},
                {"_id": "Other", "count": 1, "titles": ["The Persistence of Memory"]},
            ],
            "categorizedByTags": [
                *TAG_COUNTS[:5],
                {"_id": "caricature", "count": 1},
                {"_id": "satire", "count": 1},
                {"_id": "ukiyo-e", "count": 1},
                {"_id": "woodblock", "count": 1},
                {"_id": "woodcut", "count": 1},
            ],
        }
    ],
)
case(
    "$facet outputs one document even for no input",
    agg("facet"),
    [],
    [{"$facet": {"all": [{"$match": {}}], "n": [{"$count": "n"}]}}],
    [{"all": [], "n": []}],
)
case(
    "$facet sub-pipelines see the same input",
    agg("facet"),
    d({"_id": 1, "v": 1}, {"_id": 2, "v": 2}, {"_id": 3, "v": 3}),
    [
        {
            "$facet": {
                "small": [{"$match": {"v": {"$lt": 2}}}, {"$project": {"_id": 1}}],
                "total": [{"$group": {"_id": None, "s": {"$sum": "$v"}}}],
            }
        },
        {"$project": {"small": 1, "total": {"$arrayElemAt": ["$total.s", 0]}}},
    ],
    [{"small": [{"_id": 1}], "total": 6}],
)
case(
    "$facet may not hold $facet",
    agg("facet"),
    ARTWORK,
    [{"$facet": {"a": [{"$facet": {"b": [{"$match": {}}]}}]}}],
    error="$facet is not allowed to be used within a $facet stage",
)
case(
    "$facet sub-pipelines must be arrays",
    agg("facet"),
    ARTWORK,
    [{"$facet": {"a": {"$match": {}}}}],
    error="arguments to $facet must be arrays",
)
case(
    "$facet sub-pipelines may not be empty",
    agg("facet"),
    ARTWORK,
    [{"$facet": {"a": []}}],
    error="sub-pipeline in $facet stage cannot be empty",
)

# =============================================================================================
# $sample: MongoDB guarantees the size, not which documents
# =============================================================================================

SAMPLE_USERS = d(
    {"_id": 1, "name": "dave123", "q1": True, "q2": True},
    {"_id": 2, "name": "dave2", "q1": False, "q2": False},
    {"_id": 3, "name": "ahn", "q1": True, "q2": True},
    {"_id": 4, "name": "li", "q1": True, "q2": False},
    {"_id": 5, "name": "annT", "q1": False, "q2": True},
    {"_id": 6, "name": "li", "q1": True, "q2": True},
    {"_id": 7, "name": "ty", "q1": False, "q2": True},
)
case(
    "$sample returns the size asked for",
    agg("sample"),
    SAMPLE_USERS,
    [{"$sample": {"size": 3}}, {"$count": "n"}],
    [{"n": 3}],
)
case(
    "$sample larger than the input returns every document",
    agg("sample"),
    SAMPLE_USERS,
    [
        {"$sample": {"size": 10}},
        {"$sort": {"_id": 1}},
        {"$group": {"_id": None, "ids": {"$push": "$_id"}}},
    ],
    [{"_id": None, "ids": [1, 2, 3, 4, 5, 6, 7]}],
)
case(
    "$sample is reproducible for the same documents",
    agg("sample"),
    SAMPLE_USERS,
    [{"$sample": {"size": 3}}, {"$project": {"_id": 1}}],
    [{"_id": 1}, {"_id": 5}, {"_id": 2}],
    engine_only="the engine seeds $sample from the stage and the documents' _ids",
)
case(
    "$sample size must not be negative",
    agg("sample"),
    SAMPLE_USERS,
    [{"$sample": {"size": -1}}],
    error="size argument to $sample must not be negative",
)
case(
    "$sample size must be a number",
    agg("sample"),
    SAMPLE_USERS,
    [{"$sample": {"size": "3"}}],
    error="size argument to $sample must be a number",
)

# =============================================================================================
# $redact
# =============================================================================================

FORECAST = {
    "_id": 1,
    "title": "123 Department Report",
    "tags": ["G", "STLW"],
    "year": 2014,
    "subsections": [
        {
            "subtitle": "Section 1: Overview",
            "tags": ["SI", "G"],
            "content": "Section 1: This is the content of section 1.",
        },
        {
            "subtitle": "Section 2: Analysis",
            "tags": ["STLW"],
            "content": "Section 2: This is the content of section 2.",
        },
        {
            "subtitle": "Section 3: Budgeting",
            "tags": ["TK"],
            "content": {"text": "Section 3: This is the content of section3.", "tags": ["HCS"]},
        },
    ],
}
# The page tests {$size: {$setIntersection: ["$tags", userAccess]}}; $filter with $in counts the
# same tags.
USER_ACCESS = ["STLW", "G"]
case(
    "$redact evaluates access at every level",
    agg("redact"),
    [FORECAST],
    [
        {"$match": {"year": 2014}},
        {
            "$redact": {
                "$cond": {
                    "if": {
                        "$gt": [
                            {
                                "$size": {
                                    "$filter": {
                                        "input": "$tags",
                                        "cond": {"$in": ["$$this", USER_ACCESS]},
                                    }
                                }
                            },
                            0,
                        ]
                    },
                    "then": "$$DESCEND",
                    "else": "$$PRUNE",
                }
            }
        },
    ],
    [{**FORECAST, "subsections": FORECAST["subsections"][:2]}],
)
ACCOUNT = {
    "_id": 1,
    "level": 1,
    "acct_id": "xyz123",
    "cc": {
        "level": 5,
        "type": "yy",
        "num": 0,
        "exp_date": datetime(2015, 11, 1),
        "billing_addr": {"level": 5, "addr1": "123 ABC Street", "city": "Some City"},
        "shipping_addr": [
            {"level": 3, "addr1": "987 XYZ Ave", "city": "Some City"},
            {"level": 3, "addr1": "PO Box 0123", "city": "Some City"},
        ],
    },
    "status": "A",
}
case(
    "$redact prunes a level without looking inside",
    agg("redact"),
    [ACCOUNT],
    [
        {"$match": {"status": "A"}},
        {
            "$redact": {
                "$cond": {"if": {"$eq": ["$level", 5]}, "then": "$$PRUNE", "else": "$$DESCEND"}
            }
        },
    ],
    [{"_id": 1, "level": 1, "acct_id": "xyz123", "status": "A"}],
)
case(
    "$redact keeps a level without looking inside",
    agg("redact"),
    [ACCOUNT],
    [
        {
            "$redact": {
                "$cond": {"if": {"$eq": ["$level", 5]}, "then": "$$KEEP", "else": "$$DESCEND"}
            }
        },
        {"$project": {"cc.shipping_addr": 1}},
    ],
    [{"_id": 1, "cc": {"shipping_addr": ACCOUNT["cc"]["shipping_addr"]}}],
)
case(
    "$redact drops a pruned document",
    agg("redact"),
    d({"_id": 1, "level": 5}, {"_id": 2, "level": 1}),
    [{"$redact": {"$cond": [{"$eq": ["$level", 5]}, "$$PRUNE", "$$KEEP"]}}],
    [{"_id": 2, "level": 1}],
)
case(
    "$redact must return $$KEEP, $$DESCEND or $$PRUNE",
    agg("redact"),
    [ACCOUNT],
    [{"$redact": {"$cond": [{"$eq": ["$level", 5]}, "$$PRUNE", "yes"]}}],
    error="$redact's expression should not return anything aside from the variables",
)
# $$ROOT stays the top-level document while $$CURRENT descends.
case(
    "$redact compares each level with $$ROOT",
    VARIABLES,
    d(
        {
            "_id": 1,
            "owner": "ann",
            "notes": [{"owner": "ann", "text": "mine"}, {"owner": "bob", "text": "his"}],
        }
    ),
    [
        {
            "$redact": {
                "$cond": [
                    {"$eq": [{"$ifNull": ["$owner", "$$ROOT.owner"]}, "$$ROOT.owner"]},
                    "$$DESCEND",
                    "$$PRUNE",
                ]
            }
        }
    ],
    [{"_id": 1, "owner": "ann", "notes": [{"owner": "ann", "text": "mine"}]}],
)

# The variables page's note on where $$DESCEND, $$PRUNE and $$KEEP exist.
case(
    "$$KEEP is only defined in $redact",
    VARIABLES,
    d({"_id": 1}),
    [{"$project": {"k": "$$KEEP"}}],
    error="KEEP",
)

# =============================================================================================
# $densify (output order unspecified: the cases compare documents as a set)
# =============================================================================================

WEATHER = [
    {
        "_id": i,
        "metadata": {"sensorId": 5578, "type": "temperature"},
        "timestamp": datetime(2021, 5, 18, hour),
        "temp": temp,
    }
    for i, (hour, temp) in enumerate([(0, 12), (4, 11), (8, 11), (12, 12)], start=1)
]
case(
    "$densify time series by the hour within bounds",
    agg("densify"),
    WEATHER,
    [
        {
            "$densify": {
                "field": "timestamp",
                "range": {
                    "step": 1,
                    "unit": "hour",
                    "bounds": [datetime(2021, 5, 18, 0), datetime(2021, 5, 18, 8)],
                },
            }
        }
    ],
    [*WEATHER, *({"timestamp": datetime(2021, 5, 18, h)} for h in (1, 2, 3, 5, 6, 7))],
    ordered=False,
)
COFFEE = d(
    {"_id": 1, "altitude": 600, "variety": "Arabica Typica", "score": 68.3},
    {"_id": 2, "altitude": 750, "variety": "Arabica Typica", "score": 69.5},
    {"_id": 3, "altitude": 950, "variety": "Arabica Typica", "score": 70.5},
    {"_id": 4, "altitude": 1250, "variety": "Gesha", "score": 88.15},
    {"_id": 5, "altitude": 1700, "variety": "Gesha", "score": 95.5, "price": 1029},
)


def coffee(variety: str, *altitudes: int) -> list[dict]:
    return [{"variety": variety, "altitude": a} for a in altitudes]


case(
    "$densify the full range in each partition",
    agg("densify"),
    COFFEE,
    [
        {
            "$densify": {
                "field": "altitude",
                "partitionByFields": ["variety"],
                "range": {"bounds": "full", "step": 200},
            }
        }
    ],
    [
        *COFFEE,
        *coffee("Arabica Typica", 800, 1000, 1200, 1400, 1600),
        *coffee("Gesha", 600, 800, 1000, 1200, 1400, 1600),
    ],
    ordered=False,
)
case(
    "$densify within each partition",
    agg("densify"),
    COFFEE,
    [
        {
            "$densify": {
                "field": "altitude",
                "partitionByFields": ["variety"],
                "range": {"bounds": "partition", "step": 200},
            }
        }
    ],
    [*COFFEE, *coffee("Arabica Typica", 800), *coffee("Gesha", 1450, 1650)],
    ordered=False,
)
case(
    "$densify passes documents without the field through",
    agg("densify"),
    d({"_id": 1, "x": 1}, {"_id": 2}, {"_id": 3, "x": None}, {"_id": 4, "x": 4}),
    [{"$densify": {"field": "x", "range": {"step": 1, "bounds": "full"}}}],
    d(
        {"_id": 1, "x": 1},
        {"_id": 2},
        {"_id": 3, "x": None},
        {"_id": 4, "x": 4},
        {"x": 2},
        {"x": 3},
    ),
    ordered=False,
)
case(
    "$densify month steps",
    agg("densify"),
    d({"_id": 1, "t": datetime(2021, 1, 15)}, {"_id": 2, "t": datetime(2021, 5, 15)}),
    [{"$densify": {"field": "t", "range": {"step": 1, "unit": "month", "bounds": "full"}}}],
    [
        {"_id": 1, "t": datetime(2021, 1, 15)},
        {"t": datetime(2021, 2, 15)},
        {"t": datetime(2021, 3, 15)},
        {"t": datetime(2021, 4, 15)},
        {"_id": 2, "t": datetime(2021, 5, 15)},
    ],
    ordered=False,
)
case(
    "$densify a date field needs a unit",
    agg("densify"),
    WEATHER,
    [{"$densify": {"field": "timestamp", "range": {"step": 1, "bounds": "full"}}}],
    error="Encountered date densify value in collection when step does not have a date unit.",
)
case(
    "$densify a numeric field may not have a unit",
    agg("densify"),
    COFFEE,
    [{"$densify": {"field": "altitude", "range": {"step": 1, "unit": "hour", "bounds": "full"}}}],
    error="Encountered numeric densify value in collection when step has a date unit.",
)
case(
    "$densify field must be numeric or a date",
    agg("densify"),
    COFFEE,
    [{"$densify": {"field": "variety", "range": {"step": 1, "bounds": "full"}}}],
    error="Densify field type must be numeric or a date",
)
case(
    "$densify partition bounds need partitionByFields",
    agg("densify"),
    COFFEE,
    [{"$densify": {"field": "altitude", "range": {"step": 100, "bounds": "partition"}}}],
    error="One cannot specify the bounds as 'partition' without specifying a non-empty array",
)
case(
    "$densify step must be positive",
    agg("densify"),
    COFFEE,
    [{"$densify": {"field": "altitude", "range": {"step": 0, "bounds": "full"}}}],
    error="The step parameter in a range statement must be a strictly positive numeric value",
)

# =============================================================================================
# $fill
# =============================================================================================

case(
    "$fill missing fields with a constant",
    agg("fill"),
    d(
        {
            "_id": 1,
            "date": datetime(2022, 2, 2),
            "bootsSold": 10,
            "sandalsSold": 20,
            "sneakersSold": 12,
        },
        {"_id": 2, "date": datetime(2022, 2, 3), "bootsSold": 7, "sneakersSold": 18},
        {"_id": 3, "date": datetime(2022, 2, 4), "sneakersSold": 5},
    ),
    [
        {
            "$fill": {
                "output": {
                    "bootsSold": {"value": 0},
                    "sandalsSold": {"value": 0},
                    "sneakersSold": {"value": 0},
                }
            }
        }
    ],
    [
        {
            "_id": 1,
            "date": datetime(2022, 2, 2),
            "bootsSold": 10,
            "sandalsSold": 20,
            "sneakersSold": 12,
        },
        {
            "_id": 2,
            "date": datetime(2022, 2, 3),
            "bootsSold": 7,
            "sneakersSold": 18,
            "sandalsSold": 0,
        },
        {
            "_id": 3,
            "date": datetime(2022, 2, 4),
            "sneakersSold": 5,
            "bootsSold": 0,
            "sandalsSold": 0,
        },
    ],
)
STOCK = [
    {"_id": i, "time": datetime(2021, 3, 8, 9 + i), **({} if price is None else {"price": price})}
    for i, price in enumerate([500, None, 515, None, None, 485])
]
case(
    "$fill by linear interpolation",
    agg("fill"),
    STOCK,
    [{"$fill": {"sortBy": {"time": 1}, "output": {"price": {"method": "linear"}}}}],
    [
        {**doc, "price": price}
        for doc, price in zip(STOCK, [500, 507.5, 515, 505.0, 495.0, 485], strict=True)
    ],
)
case(
    "$fill linear fills evenly between surrounding values",
    agg("fill"),
    d(
        {"_id": 1, "index": 0, "value": 0},
        {"_id": 2, "index": 1, "value": None},
        {"_id": 3, "index": 2, "value": None},
        {"_id": 4, "index": 3, "value": None},
        {"_id": 5, "index": 4, "value": 10},
    ),
    [{"$fill": {"sortBy": {"index": 1}, "output": {"value": {"method": "linear"}}}}],
    d(
        {"_id": 1, "index": 0, "value": 0},
        {"_id": 2, "index": 1, "value": 2.5},
        {"_id": 3, "index": 2, "value": 5.0},
        {"_id": 4, "index": 3, "value": 7.5},
        {"_id": 5, "index": 4, "value": 10},
    ),
)
case(
    "$fill linear leaves a null without a value on both sides",
    agg("fill"),
    d({"_id": 1, "i": 1}, {"_id": 2, "i": 2, "v": 4}, {"_id": 3, "i": 3, "v": None}),
    [{"$fill": {"sortBy": {"i": 1}, "output": {"v": {"method": "linear"}}}}],
    d({"_id": 1, "i": 1, "v": None}, {"_id": 2, "i": 2, "v": 4}, {"_id": 3, "i": 3, "v": None}),
)
case(
    "$fill linear refuses repeated sort values",
    agg("fill"),
    d({"_id": 1, "i": 1, "v": 1}, {"_id": 2, "i": 1}, {"_id": 3, "i": 2, "v": 3}),
    [{"$fill": {"sortBy": {"i": 1}, "output": {"v": {"method": "linear"}}}}],
    error="There can be no repeated values in the sort field",
)
REVIEWS = [
    {"_id": i, "date": datetime(2021, 3, 8 + i), **({} if score is None else {"score": score})}
    for i, score in enumerate([90, 92, None, None, 85, None])
]
case(
    "$fill with the last observation carried forward",
    agg("fill"),
    REVIEWS,
    [{"$fill": {"sortBy": {"date": 1}, "output": {"score": {"method": "locf"}}}}],
    [{**doc, "score": score} for doc, score in zip(REVIEWS, [90, 92, 92, 92, 85, 85], strict=True)],
)
case(
    "$fill locf leaves leading nulls null",
    agg("fill"),
    d({"_id": 1, "i": 1}, {"_id": 2, "i": 2, "v": 5}, {"_id": 3, "i": 3}),
    [{"$fill": {"sortBy": {"i": 1}, "output": {"v": {"method": "locf"}}}}],
    d({"_id": 1, "i": 1, "v": None}, {"_id": 2, "i": 2, "v": 5}, {"_id": 3, "i": 3, "v": 5}),
)
MULTIPLE_REVIEWS = [
    {"_id": i, "date": datetime(2021, 3, day), "restaurant": name, **score}
    for i, (day, name, score) in enumerate(
        [
            (8, "Joe's Pizza", {"score": 90}),
            (8, "Sally's Deli", {"score": 75}),
            (9, "Joe's Pizza", {"score": 92}),
            (9, "Sally's Deli", {}),
            (10, "Joe's Pizza", {}),
            (10, "Sally's Deli", {"score": 68}),
            (11, "Joe's Pizza", {"score": 93}),
            (11, "Sally's Deli", {}),
        ],
        start=1,
    )
]
case(
    "$fill per partition",
    agg("fill"),
    MULTIPLE_REVIEWS,
    [
        {
            "$fill": {
                "sortBy": {"date": 1},
                "partitionBy": {"restaurant": "$restaurant"},
                "output": {"score": {"method": "locf"}},
            }
        }
    ],
    [
        {**MULTIPLE_REVIEWS[i - 1], "score": score}
        for i, score in [(1, 90), (3, 92), (5, 92), (7, 93), (2, 75), (4, 75), (6, 68), (8, 68)]
    ],
)
case(
    "$fill per partition by fields",
    agg("fill"),
    MULTIPLE_REVIEWS,
    [
        {
            "$fill": {
                "sortBy": {"date": 1},
                "partitionByFields": ["restaurant"],
                "output": {"score": {"method": "locf"}},
            }
        },
        {"$match": {"restaurant": "Sally's Deli"}},
        {"$project": {"_id": 0, "score": 1}},
    ],
    [{"score": 75}, {"score": 75}, {"score": 68}, {"score": 68}],
)
case(
    "$fill after marking which values existed",
    agg("fill"),
    REVIEWS,
    [
        {"$set": {"valueExisted": {"$ifNull": [{"$toBool": {"$toString": "$score"}}, False]}}},
        {"$fill": {"sortBy": {"date": 1}, "output": {"score": {"method": "locf"}}}},
    ],
    [
        {**doc, "score": score, "valueExisted": existed}
        for doc, score, existed in zip(
            REVIEWS,
            [90, 92, 92, 92, 85, 85],
            [True, True, False, False, True, False],
            strict=True,
        )
    ],
)
case(
    "$fill linear needs sortBy",
    agg("fill"),
    STOCK,
    [{"$fill": {"output": {"price": {"method": "linear"}}}}],
    error="sortBy",
)
