"""Conformance cases for arrays, sets and objects.

Same conventions as conformance_cases.py: each case reproduces an example or a stated rule of
the MongoDB manual page it cites.

Where the 7.0 server does something other than the page says, the case follows the server and
says so (MongoDB's expression.cpp and jstests/aggregation/expressions/*.js at 7.0):
- $setUnion and $setIntersection: the page calls the output order unspecified (and prints
  unsorted examples); cases with more than one element sort the result with $sortArray.
- $getField: a missing input gives missing (the page: null), a non-document input gives missing
  (the page: an error), the object form needs `input` (code 3041703; only the shorthand reads
  $$CURRENT), and `field` must be a constant string (7.2 lifts that).
"""

from __future__ import annotations

from bson import Decimal128, Int64

from tests.unit.filters.conformance_cases import (
    agg,
    case,
    d,
    expression,
    match,
    project,
)


def sort_asc(spec: object) -> dict:
    """{$sortArray: {input: spec, sortBy: 1}}: a set result in a fixed order."""
    return {"$sortArray": {"input": spec, "sortBy": 1}}


# =============================================================================================
# $allElementsTrue, $anyElementTrue
# =============================================================================================

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/allElementsTrue/
expression(
    "$allElementsTrue of true, 1 and a string",
    agg("allElementsTrue"),
    {"$allElementsTrue": [[True, 1, "someString"]]},
    True,
)
expression(
    "$allElementsTrue does not descend into a nested array",
    agg("allElementsTrue"),
    {"$allElementsTrue": [[[False]]]},
    True,
)
expression(
    "$allElementsTrue of [] is true", agg("allElementsTrue"), {"$allElementsTrue": [[]]}, True
)
expression(
    "$allElementsTrue: null, false and 0 are false",
    agg("allElementsTrue"),
    {"$allElementsTrue": [[None, False, 0]]},
    False,
)
# The page's survey collection (its tenth document holds undefined, which drivers read as null).
SURVEY = d(
    {"_id": 1, "responses": [True]},
    {"_id": 2, "responses": [True, False]},
    {"_id": 3, "responses": []},
    {"_id": 4, "responses": [1, True, "seven"]},
    {"_id": 5, "responses": [0]},
    {"_id": 6, "responses": [[]]},
    {"_id": 7, "responses": [[0]]},
    {"_id": 8, "responses": [[False]]},
    {"_id": 9, "responses": [None]},
)
project(
    "$allElementsTrue over the survey responses",
    agg("allElementsTrue"),
    SURVEY,
    {"$allElementsTrue": ["$responses"]},
    [True, False, True, True, False, True, True, True, False],
)
expression(
    "$allElementsTrue needs an array, missing is not one",
    agg("allElementsTrue"),
    {"$allElementsTrue": ["$responses"]},
    error="$allElementsTrue's argument must be an array, but is missing",
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/anyElementTrue/
expression(
    "$anyElementTrue of true and false",
    agg("anyElementTrue"),
    {"$anyElementTrue": [[True, False]]},
    True,
)
expression(
    "$anyElementTrue does not descend into a nested array",
    agg("anyElementTrue"),
    {"$anyElementTrue": [[[False]]]},
    True,
)
expression(
    "$anyElementTrue: null, false and 0 are false",
    agg("anyElementTrue"),
    {"$anyElementTrue": [[None, False, 0]]},
    False,
)
expression(
    "$anyElementTrue of [] is false", agg("anyElementTrue"), {"$anyElementTrue": [[]]}, False
)
project(
    "$anyElementTrue over the survey responses",
    agg("anyElementTrue"),
    SURVEY,
    {"$anyElementTrue": ["$responses"]},
    [True, True, False, True, False, True, True, True, False],
)
expression(
    "$anyElementTrue needs an array",
    agg("anyElementTrue"),
    {"$anyElementTrue": ["$x"]},
    doc={"x": "yes"},
    error="$anyElementTrue's argument must be an array, but is string",
)


# =============================================================================================
# $arrayToObject, $objectToArray
# =============================================================================================

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/arrayToObject/
expression(
    "$arrayToObject of k-v documents",
    agg("arrayToObject"),
    {"$arrayToObject": {"$literal": [{"k": "item", "v": "abc123"}, {"k": "qty", "v": 25}]}},
    {"item": "abc123", "qty": 25},
)
expression(
    "$arrayToObject of pairs",
    agg("arrayToObject"),
    {"$arrayToObject": {"$literal": [["item", "abc123"], ["qty", 25]]}},
    {"item": "abc123", "qty": 25},
)
expression(
    "$arrayToObject: a repeated name takes the last value",
    agg("arrayToObject"),
    {"$arrayToObject": {"$literal": [{"k": "item", "v": "123abc"}, {"k": "item", "v": "abc123"}]}},
    {"item": "abc123"},
)
expression(
    "$arrayToObject of [] is an empty document",
    agg("arrayToObject"),
    {"$arrayToObject": {"$literal": []}},
    {},
)
project(
    "$arrayToObject over both forms and repeated names",
    agg("arrayToObject"),
    d(
        {
            "_id": 1,
            "item": "ABC1",
            "dimensions": [{"k": "l", "v": 25}, {"k": "w", "v": 10}, {"k": "uom", "v": "cm"}],
        },
        {"_id": 2, "item": "ABC2", "dimensions": [["l", 50], ["w", 25], ["uom", "cm"]]},
        {"_id": 3, "item": "ABC3", "dimensions": [["l", 25], ["l", "cm"], ["l", 50]]},
    ),
    {"$arrayToObject": "$dimensions"},
    [{"l": 25, "w": 10, "uom": "cm"}, {"l": 50, "w": 25, "uom": "cm"}, {"l": 50}],
)
project(
    "$arrayToObject of null or missing is null",
    agg("arrayToObject"),
    d({"_id": 1, "dimensions": None}, {"_id": 2}),
    {"$arrayToObject": "$dimensions"},
    [None, None],
)
for name, value, message in [
    ("a string", "abc", "$arrayToObject requires an array input, found: string"),
    ("a scalar element", [1], "Unrecognised input type format for $arrayToObject: int"),
    (
        "pairs then a document",
        [["a", 1], {"k": "b", "v": 2}],
        "Elements mustall be arrays or all be objects. Array was detected, now found: object",
    ),
    (
        "documents then a pair",
        [{"k": "a", "v": 1}, ["b", 2]],
        "Elements mustall be arrays or all be objects. Object was detected, now found: array",
    ),
    (
        "a pair of three",
        [["a", 1, 2]],
        "$arrayToObject requires an array of size 2 arrays,found array of size: 3",
    ),
    ("a non-string key", [[1, 2]], "the key must be of type string. Found key type: int"),
    (
        "a document with three fields",
        [{"k": "a", "v": 1, "x": 2}],
        "$arrayToObject requires an object keys of 'k' and 'v'. Found incorrect number of keys:3",
    ),
    (
        "a document without v",
        [{"k": "a", "x": 1}],
        "$arrayToObject requires an object with keys 'k' and 'v'. Missing either or both keys",
    ),
    (
        "a non-string k",
        [{"k": 1, "v": 1}],
        "the value of 'k' must be of type string. Found type: int",
    ),
]:
    expression(
        f"$arrayToObject refuses {name}",
        agg("arrayToObject"),
        {"$arrayToObject": "$dims"},
        doc={"dims": value},
        error=message,
    )

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/objectToArray/
expression(
    "$objectToArray of a document",
    agg("objectToArray"),
    {"$objectToArray": {"item": "foo", "qty": 25}},
    [{"k": "item", "v": "foo"}, {"k": "qty", "v": 25}],
)
expression(
    "$objectToArray does not recurse into embedded documents",
    agg("objectToArray"),
    {"$objectToArray": {"item": "foo", "qty": 25, "size": {"len": 25, "w": 10, "uom": "cm"}}},
    [
        {"k": "item", "v": "foo"},
        {"k": "qty", "v": 25},
        {"k": "size", "v": {"len": 25, "w": 10, "uom": "cm"}},
    ],
)
case(
    "$objectToArray of the dimensions",
    agg("objectToArray"),
    d(
        {"_id": 1, "item": "ABC1", "dimensions": {"l": 25, "w": 10, "uom": "cm"}},
        {"_id": 2, "item": "ABC2", "dimensions": {"l": 50, "w": 25, "uom": "cm"}},
        {"_id": 3, "item": "XYZ1", "dimensions": {"l": 70, "w": 75, "uom": "cm"}},
    ),
    [{"$project": {"item": 1, "dimensions": {"$objectToArray": "$dimensions"}}}],
    [
        {
            "_id": 1,
            "item": "ABC1",
            "dimensions": [{"k": "l", "v": 25}, {"k": "w", "v": 10}, {"k": "uom", "v": "cm"}],
        },
        {
            "_id": 2,
            "item": "ABC2",
            "dimensions": [{"k": "l", "v": 50}, {"k": "w", "v": 25}, {"k": "uom", "v": "cm"}],
        },
        {
            "_id": 3,
            "item": "XYZ1",
            "dimensions": [{"k": "l", "v": 70}, {"k": "w", "v": 75}, {"k": "uom", "v": "cm"}],
        },
    ],
)
INSTOCK = d(
    {"_id": 1, "item": "ABC1", "instock": {"warehouse1": 2500, "warehouse2": 500}},
    {"_id": 2, "item": "ABC2", "instock": {"warehouse2": 500, "warehouse3": 200}},
)
case(
    "$objectToArray to sum nested fields",
    agg("objectToArray"),
    INSTOCK,
    [
        {"$project": {"warehouses": {"$objectToArray": "$instock"}}},
        {"$unwind": "$warehouses"},
        {"$group": {"_id": "$warehouses.k", "total": {"$sum": "$warehouses.v"}}},
    ],
    [
        {"_id": "warehouse3", "total": 200},
        {"_id": "warehouse2", "total": 1000},
        {"_id": "warehouse1", "total": 2500},
    ],
    ordered=False,
)
case(
    "$objectToArray and $arrayToObject add a total",
    agg("arrayToObject"),
    INSTOCK,
    [
        {"$addFields": {"instock": {"$objectToArray": "$instock"}}},
        {
            "$addFields": {
                "instock": {
                    "$concatArrays": ["$instock", [{"k": "total", "v": {"$sum": "$instock.v"}}]]
                }
            }
        },
        {"$addFields": {"instock": {"$arrayToObject": "$instock"}}},
    ],
    [
        {
            "_id": 1,
            "item": "ABC1",
            "instock": {"warehouse1": 2500, "warehouse2": 500, "total": 3000},
        },
        {"_id": 2, "item": "ABC2", "instock": {"warehouse2": 500, "warehouse3": 200, "total": 700}},
    ],
)
project(
    "$objectToArray of null or missing is null",
    agg("objectToArray"),
    d({"_id": 1, "dimensions": None}, {"_id": 2}),
    {"$objectToArray": "$dimensions"},
    [None, None],
)
expression(
    "$objectToArray needs a document",
    agg("objectToArray"),
    {"$objectToArray": "$dims"},
    doc={"dims": [1, 2]},
    error="$objectToArray requires a document input, found: array",
)


# =============================================================================================
# $indexOfArray (the cases of the page's table not in conformance_cases.py, and its rules)
# =============================================================================================

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/indexOfArray/
expression(
    "$indexOfArray finds a nested array",
    agg("indexOfArray"),
    {"$indexOfArray": [["a", "abc", "de", ["de"]], ["de"]]},
    3,
)
expression(
    "$indexOfArray compares an array whole",
    agg("indexOfArray"),
    {"$indexOfArray": [[1, 2, 3], [1, 2]]},
    -1,
)
expression(
    "$indexOfArray with the start after the end",
    agg("indexOfArray"),
    {"$indexOfArray": [["a", "abc", "b"], "b", 1, 0]},
    -1,
)
expression(
    "$indexOfArray with the start past the end of the array",
    agg("indexOfArray"),
    {"$indexOfArray": [["a", "abc", "b"], "b", 20]},
    -1,
)
expression(
    "$indexOfArray of a string is an error",
    agg("indexOfArray"),
    {"$indexOfArray": ["foo", "foo"]},
    error="$indexOfArray requires an array as a first argument, found: string",
)
project(
    "$indexOfArray over the inventory items",
    agg("indexOfArray"),
    d(
        {"_id": 1, "items": ["one", "two", "three"]},
        {"_id": 2, "items": [1, 2, 3]},
        {"_id": 3, "items": [None, None, 2]},
        {"_id": 4, "items": None},
        {"_id": 5, "amount": 3},
    ),
    {"$indexOfArray": ["$items", 2]},
    [-1, 1, 2, None, None],
)
expression(
    "$indexOfArray: a start written as a whole double",
    agg("indexOfArray"),
    {"$indexOfArray": ["$a", 9, "$s"]},
    4,
    doc={"a": [10, 9, 9, 8, 9], "s": 3.0},
)
expression(
    "$indexOfArray in a constant array, by value and from a start",
    agg("indexOfArray"),
    {"$indexOfArray": [["a", 2, "a", 2.0], "$x", 2]},
    3,
    doc={"x": Int64(2)},
)
expression(
    "$indexOfArray: a negative start is an error",
    agg("indexOfArray"),
    {"$indexOfArray": ["$a", 2, "$s"]},
    doc={"a": [1, 2, 3], "s": -1},
    error="$indexOfArray requires a nonnegative starting index, found: -1",
)
expression(
    "$indexOfArray: a negative end written as a double is an error",
    agg("indexOfArray"),
    {"$indexOfArray": ["$a", 2, 0, "$e"]},
    doc={"a": [1, 2, 3], "e": -5.0},
    error="$indexOfArray requires a nonnegative ending index, found: -5",
)
expression(
    "$indexOfArray: a fractional start is an error",
    agg("indexOfArray"),
    {"$indexOfArray": ["$a", 2, "$s"]},
    doc={"a": [1, 2, 3], "s": 1.5},
    error="requires an integral starting index, found a value of type: double, with value: 1.5",
)
expression(
    "$indexOfArray: a constant first operand must be an array",
    agg("indexOfArray"),
    {"$indexOfArray": [5, "$x"]},
    error="First operand of $indexOfArray must be an array. First argument is of type: int",
)


# =============================================================================================
# $range, $reverseArray
# =============================================================================================

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/range/
expression("$range with a step", agg("range"), {"$range": [0, 10, 2]}, [0, 2, 4, 6, 8])
expression("$range with a negative step", agg("range"), {"$range": [10, 0, -2]}, [10, 8, 6, 4, 2])
expression("$range that never reaches its end", agg("range"), {"$range": [0, 10, -2]}, [])
expression("$range with the default step", agg("range"), {"$range": [0, 5]}, [0, 1, 2, 3, 4])
case(
    "$range: rest stops every 25 miles",
    agg("range"),
    d(
        {"_id": 0, "city": "San Jose", "distance": 42},
        {"_id": 1, "city": "Sacramento", "distance": 88},
        {"_id": 2, "city": "Reno", "distance": 218},
        {"_id": 3, "city": "Los Angeles", "distance": 383},
    ),
    [{"$project": {"_id": 0, "city": 1, "Rest stops": {"$range": [0, "$distance", 25]}}}],
    [
        {"city": "San Jose", "Rest stops": [0, 25]},
        {"city": "Sacramento", "Rest stops": [0, 25, 50, 75]},
        {"city": "Reno", "Rest stops": [0, 25, 50, 75, 100, 125, 150, 175, 200]},
        {
            "city": "Los Angeles",
            "Rest stops": [
                0,
                25,
                50,
                75,
                100,
                125,
                150,
                175,
                200,
                225,
                250,
                275,
                300,
                325,
                350,
                375,
            ],
        },
    ],
)
expression(
    "$range: integral doubles and longs give ints",
    agg("range"),
    {"$range": ["$a", "$b"]},
    [2, 3],
    doc={"a": 2.0, "b": Int64(4)},
)
expression(
    "$range: a fractional end is an error",
    agg("range"),
    {"$range": [0, "$b"]},
    doc={"b": 5.5},
    error="$range requires an ending value that can be represented as a 32-bit integer, "
    "found value: 5.5",
)
expression(
    "$range: a missing start is an error, not null",
    agg("range"),
    {"$range": ["$a", 5]},
    error="$range requires a numeric starting value, found value of type: missing",
)
expression(
    "$range: a step of zero is an error",
    agg("range"),
    {"$range": [0, 5, "$s"]},
    doc={"s": 0},
    error="$range requires a non-zero step value",
)
expression(
    "$range: a fractional step is an error",
    agg("range"),
    {"$range": [0, 5, "$s"]},
    doc={"s": 1.5},
    error="$range requires a step value that can be represented as a 32-bit integer",
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/reverseArray/
expression(
    "$reverseArray of a literal array",
    agg("reverseArray"),
    {"$reverseArray": {"$literal": [1, 2, 3]}},
    [3, 2, 1],
)
expression(
    "$reverseArray of a $slice",
    agg("reverseArray"),
    {"$reverseArray": {"$slice": [["foo", "bar", "baz", "qux"], 1, 2]}},
    ["baz", "bar"],
)
expression("$reverseArray of null is null", agg("reverseArray"), {"$reverseArray": None}, None)
expression(
    "$reverseArray of [] is []", agg("reverseArray"), {"$reverseArray": {"$literal": []}}, []
)
expression(
    "$reverseArray leaves subarrays alone",
    agg("reverseArray"),
    {"$reverseArray": {"$literal": [[1, 2, 3], [4, 5, 6]]}},
    [[4, 5, 6], [1, 2, 3]],
)
case(
    "$reverseArray of the users' favorites",
    agg("reverseArray"),
    d(
        {"_id": 1, "name": "dave123", "favorites": ["chocolate", "cake", "butter", "apples"]},
        {"_id": 2, "name": "li", "favorites": ["apples", "pudding", "pie"]},
        {"_id": 3, "name": "ahn", "favorites": []},
        {"_id": 4, "name": "ty"},
    ),
    [{"$project": {"name": 1, "reverseFavorites": {"$reverseArray": "$favorites"}}}],
    [
        {
            "_id": 1,
            "name": "dave123",
            "reverseFavorites": ["apples", "butter", "cake", "chocolate"],
        },
        {"_id": 2, "name": "li", "reverseFavorites": ["pie", "pudding", "apples"]},
        {"_id": 3, "name": "ahn", "reverseFavorites": []},
        {"_id": 4, "name": "ty", "reverseFavorites": None},
    ],
)
expression(
    "$reverseArray needs an array",
    agg("reverseArray"),
    {"$reverseArray": "$x"},
    doc={"x": "abc"},
    error="The argument to $reverseArray must be an array, but was of type: string",
)


# =============================================================================================
# $sortArray
# =============================================================================================

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/sortArray/
PAT = {"name": "pat", "age": 30, "address": {"street": "12 Baker St", "city": "London"}}
DALLAS = {"name": "dallas", "age": 36, "address": {"street": "12 Cowper St", "city": "Palo Alto"}}
CHARLIE = {
    "name": "charlie",
    "age": 42,
    "address": {"street": "12 French St", "city": "New Brunswick"},
}
ENGINEERS = d({"_id": 1, "team": [PAT, DALLAS, CHARLIE]})
for name, sort_by, result in [
    ("on a field", {"name": 1}, [CHARLIE, DALLAS, PAT]),
    ("on a subfield, descending", {"address.city": -1}, [DALLAS, CHARLIE, PAT]),
    ("on multiple fields", {"age": -1, "name": 1}, [CHARLIE, DALLAS, PAT]),
]:
    case(
        f"$sortArray {name}",
        agg("sortArray"),
        ENGINEERS,
        [{"$project": {"_id": 0, "result": {"$sortArray": {"input": "$team", "sortBy": sort_by}}}}],
        [{"result": result}],
    )
expression(
    "$sortArray of integers",
    agg("sortArray"),
    {"$sortArray": {"input": [1, 4, 1, 6, 12, 5], "sortBy": 1}},
    [1, 1, 4, 5, 6, 12],
)
expression(
    "$sortArray of integers, descending",
    agg("sortArray"),
    {"$sortArray": {"input": [1, 4, 1, 6, 12, 5], "sortBy": -1}},
    [12, 6, 5, 4, 1, 1],
)
MIXED = [
    20,
    4,
    {"a": "Free"},
    6,
    21,
    5,
    "Gratis",
    {"a": None},
    {"a": {"sale": True, "price": 19}},
    Decimal128("10.23"),
    {"a": "On sale"},
]
expression(
    "$sortArray of mixed types, in the BSON order",
    agg("sortArray"),
    {"$sortArray": {"input": MIXED, "sortBy": 1}},
    [
        4,
        5,
        6,
        Decimal128("10.23"),
        20,
        21,
        "Gratis",
        {"a": None},
        {"a": "Free"},
        {"a": "On sale"},
        {"a": {"sale": True, "price": 19}},
    ],
)
# The page prints the order MongoDB gives for the elements that tie (scalars read null, as does
# {a: null}): their input order, which the engine's stable sort keeps.
expression(
    "$sortArray of mixed types on a field: scalars sort as null",
    agg("sortArray"),
    {"$sortArray": {"input": MIXED, "sortBy": {"a": 1}}},
    [
        20,
        4,
        6,
        21,
        5,
        "Gratis",
        {"a": None},
        Decimal128("10.23"),
        {"a": "Free"},
        {"a": "On sale"},
        {"a": {"sale": True, "price": 19}},
    ],
)
expression(
    "$sortArray: the cross-type order, descending",
    agg("sortArray"),
    {"$sortArray": {"input": [True, "a", None, 1, {"x": 1}, [1], 2.5], "sortBy": -1}},
    [True, [1], {"x": 1}, "a", 2.5, 1, None],
)
expression(
    "$sortArray sorts whole arrays lexicographically",
    agg("sortArray"),
    {"$sortArray": {"input": [[2], [1, 5], [1], []], "sortBy": 1}},
    [[], [1], [1, 5], [2]],
)
expression(
    "$sortArray: null and missing fields sort equally",
    agg("sortArray"),
    {"$sortArray": {"input": [{"a": 2}, {"b": 1}, {"a": None}, {"a": 1}], "sortBy": {"a": 1}}},
    [{"b": 1}, {"a": None}, {"a": 1}, {"a": 2}],
)
expression(
    "$sortArray: elements with equal keys keep their order",
    agg("sortArray"),
    {
        "$sortArray": {
            "input": [{"n": "b", "i": 1}, {"n": "a", "i": 2}, {"n": "b", "i": 3}],
            "sortBy": {"n": 1},
        }
    },
    [{"n": "a", "i": 2}, {"n": "b", "i": 1}, {"n": "b", "i": 3}],
)
project(
    "$sortArray of null or missing is null",
    agg("sortArray"),
    d({"_id": 1, "team": None}, {"_id": 2}),
    {"$sortArray": {"input": "$team", "sortBy": 1}},
    [None, None],
)
expression(
    "$sortArray needs an array",
    agg("sortArray"),
    {"$sortArray": {"input": "$team", "sortBy": 1}},
    doc={"team": "pat"},
    error="The input argument to $sortArray must be an array, but was of type: string",
)
for name, sort_by, message in [
    ("a direction of 0", 0, "The $sort element value must be either 1 or -1"),
    ("a string", "name", "The $sort is invalid: use 1/-1 to sort the whole element"),
    ("a field direction of 2", {"name": 2}, "The sort element value must be either 1 or -1"),
    ("an empty pattern", {}, "The sort pattern is empty when it should be a set of fields."),
]:
    expression(
        f"$sortArray refuses {name} as sortBy",
        agg("sortArray"),
        {"$sortArray": {"input": "$team", "sortBy": sort_by}},
        error=message,
    )
expression(
    "$sortArray requires sortBy",
    agg("sortArray"),
    {"$sortArray": {"input": "$team"}},
    error="$sortArray requires 'sortBy' to be specified",
)


# =============================================================================================
# $zip
# =============================================================================================

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/zip/
expression(
    "$zip of three one-element arrays",
    agg("zip"),
    {"$zip": {"inputs": [["a"], ["b"], ["c"]]}},
    [["a", "b", "c"]],
)
expression(
    "$zip stops at the shortest input",
    agg("zip"),
    {"$zip": {"inputs": [["a"], ["b", "c"]]}},
    [["a", "b"]],
)
expression(
    "$zip useLongestLength pads with null",
    agg("zip"),
    {"$zip": {"inputs": [[1], [2, 3]], "useLongestLength": True}},
    [[1, 2], [None, 3]],
)
expression(
    "$zip useLongestLength pads with the defaults",
    agg("zip"),
    {"$zip": {"inputs": [[1], [2, 3], [4]], "useLongestLength": True, "defaults": ["a", "b", "c"]}},
    [[1, 2, 4], ["a", 3, "c"]],
)
case(
    "$zip transposes matrices",
    agg("zip"),
    d(
        {"_id": 1, "matrix": [[1, 2], [2, 3], [3, 4]]},
        {"_id": 2, "matrix": [[8, 7], [7, 6], [5, 4]]},
    ),
    [
        {
            "$project": {
                "_id": False,
                "transposed": {
                    "$zip": {
                        "inputs": [
                            {"$arrayElemAt": ["$matrix", 0]},
                            {"$arrayElemAt": ["$matrix", 1]},
                            {"$arrayElemAt": ["$matrix", 2]},
                        ]
                    }
                },
            }
        }
    ],
    [{"transposed": [[1, 2, 3], [2, 3, 4]]}, {"transposed": [[8, 7, 5], [7, 6, 4]]}],
)
case(
    "$zip with $range keeps the indexes of the elements $filter keeps",
    agg("zip"),
    d(
        {
            "_id": 1,
            "category": "unix",
            "pages": [
                {"title": "awk for beginners", "reviews": 5},
                {"title": "sed for newbies", "reviews": 0},
                {"title": "grep made simple", "reviews": 2},
            ],
        }
    ),
    [
        {
            "$project": {
                "_id": False,
                "pages": {
                    "$filter": {
                        "input": {
                            "$zip": {"inputs": ["$pages", {"$range": [0, {"$size": "$pages"}]}]}
                        },
                        "as": "pageWithIndex",
                        "cond": {
                            "$let": {
                                "vars": {"page": {"$arrayElemAt": ["$$pageWithIndex", 0]}},
                                "in": {"$gte": ["$$page.reviews", 1]},
                            }
                        },
                    }
                },
            }
        }
    ],
    [
        {
            "pages": [
                [{"title": "awk for beginners", "reviews": 5}, 0],
                [{"title": "grep made simple", "reviews": 2}, 2],
            ]
        }
    ],
)
expression(
    "$zip with equal lengths ignores the defaults",
    agg("zip"),
    {"$zip": {"inputs": [[1], [2]], "useLongestLength": True, "defaults": ["a", "b"]}},
    [[1, 2]],
)
project(
    "$zip of a null or missing input is null",
    agg("zip"),
    d({"_id": 1, "a": None}, {"_id": 2}),
    {"$zip": {"inputs": [[1, 2], "$a"]}},
    [None, None],
)
expression(
    "$zip: an input that is not an array is an error",
    agg("zip"),
    {"$zip": {"inputs": [[1, 2], "$a"]}},
    doc={"a": "xy"},
    error='$zip found a non-array expression in input: "xy"',
)
for name, spec, message in [
    (
        "defaults without useLongestLength",
        {"inputs": [[1], [2, 3]], "defaults": [0, 0]},
        "cannot specify defaults unless useLongestLength is true",
    ),
    (
        "defaults of another length",
        {"inputs": [[1], [2, 3]], "useLongestLength": True, "defaults": [0]},
        "defaults and inputs must have the same length",
    ),
    ("no inputs", {"inputs": []}, "$zip requires at least one input array"),
    ("inputs that are not an array", {"inputs": "$a"}, "inputs must be an array of expressions"),
]:
    expression(f"$zip refuses {name}", agg("zip"), {"$zip": spec}, error=message)


# =============================================================================================
# Set operators
# =============================================================================================

# The flowers collection of the $setUnion, $setIntersection and $setIsSubset pages.
FLOWERS = d(
    {"_id": 1, "flowerFieldA": ["rose", "orchid"], "flowerFieldB": ["rose", "orchid"]},
    {"_id": 2, "flowerFieldA": ["rose", "orchid"], "flowerFieldB": ["orchid", "rose", "orchid"]},
    {"_id": 3, "flowerFieldA": ["rose", "orchid"], "flowerFieldB": ["rose", "orchid", "jasmine"]},
    {"_id": 4, "flowerFieldA": ["rose", "orchid"], "flowerFieldB": ["jasmine", "rose"]},
    {"_id": 5, "flowerFieldA": ["rose", "orchid"], "flowerFieldB": []},
    {"_id": 6, "flowerFieldA": ["rose", "orchid"], "flowerFieldB": [["rose"], ["orchid"]]},
    {"_id": 7, "flowerFieldA": ["rose", "orchid"], "flowerFieldB": [["rose", "orchid"]]},
    {"_id": 8, "flowerFieldA": [], "flowerFieldB": []},
    {"_id": 9, "flowerFieldA": [], "flowerFieldB": ["rose"]},
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/setUnion/
expression(
    "$setUnion ignores duplicates and order",
    agg("setUnion"),
    sort_asc({"$setUnion": [["a", "b", "a"], ["b", "a"]]}),
    ["a", "b"],
)
expression(
    "$setUnion does not descend into a nested array",
    agg("setUnion"),
    sort_asc({"$setUnion": [["a", "b"], [["a", "b"]]]}),
    ["a", "b", ["a", "b"]],
)
project(
    "$setUnion of the flower fields",
    agg("setUnion"),
    FLOWERS,
    sort_asc({"$setUnion": ["$flowerFieldA", "$flowerFieldB"]}),
    [
        ["orchid", "rose"],
        ["orchid", "rose"],
        ["jasmine", "orchid", "rose"],
        ["jasmine", "orchid", "rose"],
        ["orchid", "rose"],
        ["orchid", "rose", ["orchid"], ["rose"]],
        ["orchid", "rose", ["rose", "orchid"]],
        [],
        ["rose"],
    ],
)
expression(
    "$setUnion: 2 and 2.0 are one element, the first kept",
    agg("setUnion"),
    sort_asc({"$setUnion": [[1, 2], [2.0, 3]]}),
    [1, 2, 3],
)
project(
    "$setUnion with a null or missing operand is null",
    agg("setUnion"),
    d({"_id": 1, "b": None}, {"_id": 2}),
    {"$setUnion": [["a"], "$b"]},
    [None, None],
)
expression(
    "$setUnion needs arrays",
    agg("setUnion"),
    {"$setUnion": [["a"], "$b"]},
    doc={"b": "a"},
    error="All operands of $setUnion must be arrays. One argument is of type: string",
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/setIntersection/
expression(
    "$setIntersection ignores duplicates and order",
    agg("setIntersection"),
    sort_asc({"$setIntersection": [["a", "b", "a"], ["b", "a"]]}),
    ["a", "b"],
)
expression(
    "$setIntersection does not descend into a nested array",
    agg("setIntersection"),
    {"$setIntersection": [["a", "b"], [["a", "b"]]]},
    [],
)
project(
    "$setIntersection of the flower fields",
    agg("setIntersection"),
    FLOWERS,
    sort_asc({"$setIntersection": ["$flowerFieldA", "$flowerFieldB"]}),
    [["orchid", "rose"], ["orchid", "rose"], ["orchid", "rose"], ["rose"], [], [], [], [], []],
)
expression(
    "$setIntersection: 1 == 1.0 across the operands",
    agg("setIntersection"),
    {"$setIntersection": [[1, 2.0], [Int64(2), 1.0, 5]]},
    [1, 2.0],
)
project(
    "$setIntersection with a null or missing operand is null",
    agg("setIntersection"),
    d({"_id": 1, "b": None}, {"_id": 2}),
    {"$setIntersection": [["a"], "$b"]},
    [None, None],
)
expression(
    "$setIntersection needs arrays",
    agg("setIntersection"),
    {"$setIntersection": [["a"], "$b"]},
    doc={"b": 1},
    error="All operands of $setIntersection must be arrays. One argument is of type: int",
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/setDifference/
expression(
    "$setDifference of equal sets is empty",
    agg("setDifference"),
    {"$setDifference": [["a", "b", "a"], ["b", "a"]]},
    [],
)
expression(
    "$setDifference does not descend into a nested array",
    agg("setDifference"),
    {"$setDifference": [["a", "b"], [["a", "b"]]]},
    ["a", "b"],
)
EXPERIMENTS = d(
    {"_id": 1, "A": ["red", "blue"], "B": ["red", "blue"]},
    {"_id": 2, "A": ["red", "blue"], "B": ["blue", "red", "blue"]},
    {"_id": 3, "A": ["red", "blue"], "B": ["red", "blue", "green"]},
    {"_id": 4, "A": ["red", "blue"], "B": ["green", "red"]},
    {"_id": 5, "A": ["red", "blue"], "B": []},
    {"_id": 6, "A": ["red", "blue"], "B": [["red"], ["blue"]]},
    {"_id": 7, "A": ["red", "blue"], "B": [["red", "blue"]]},
    {"_id": 8, "A": [], "B": []},
    {"_id": 9, "A": [], "B": ["red"]},
)
project(
    "$setDifference: in B only",
    agg("setDifference"),
    EXPERIMENTS,
    {"$setDifference": ["$B", "$A"]},
    [[], [], ["green"], ["green"], [], [["red"], ["blue"]], [["red", "blue"]], [], ["red"]],
)
expression(
    "$setDifference drops duplicates and keeps the first array's order",
    agg("setDifference"),
    {"$setDifference": ["$b", ["x"]]},
    ["c", "a", 1],
    doc={"b": ["c", "a", "c", "x", 1, 1.0]},
)
project(
    "$setDifference with a null or missing operand is null",
    agg("setDifference"),
    d({"_id": 1, "A": ["red"], "B": None}, {"_id": 2, "B": ["red"]}),
    {"$setDifference": ["$A", "$B"]},
    [None, None],
)
expression(
    "$setDifference needs arrays",
    agg("setDifference"),
    {"$setDifference": ["$A", ["red"]]},
    doc={"A": "red"},
    error="both operands of $setDifference must be arrays. First argument is of type: string",
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/setEquals/
expression(
    "$setEquals ignores duplicates and order",
    agg("setEquals"),
    {"$setEquals": [["a", "b", "a"], ["b", "a"]]},
    True,
)
expression(
    "$setEquals does not descend into a nested array",
    agg("setEquals"),
    {"$setEquals": [["a", "b"], [["a", "b"]]]},
    False,
)
project(
    "$setEquals of cakes and cupcakes",
    agg("setEquals"),
    d(
        {"_id": 0, "cakes": ["chocolate", "vanilla"], "cupcakes": ["chocolate", "vanilla"]},
        {"_id": 1, "cakes": ["chocolate", "vanilla"], "cupcakes": ["vanilla", "chocolate"]},
        {"_id": 2, "cakes": ["chocolate", "chocolate"], "cupcakes": ["chocolate"]},
        {"_id": 3, "cakes": ["vanilla"], "cupcakes": ["chocolate"]},
        {"_id": 4, "cakes": ["vanilla"], "cupcakes": []},
    ),
    {"$setEquals": ["$cakes", "$cupcakes"]},
    [True, True, True, False, False],
)
expression(
    "$setEquals of three operands, 1 == 1.0",
    agg("setEquals"),
    {"$setEquals": ["$a", [2, 1.0], [1, 2, 2]]},
    True,
    doc={"a": [Int64(1), 2]},
)
expression(
    "$setEquals needs two operands",
    agg("setEquals"),
    {"$setEquals": [["a"]]},
    error="$setEquals needs at least two arguments had: 1",
)
expression(
    "$setEquals refuses a missing operand",
    agg("setEquals"),
    {"$setEquals": [["a"], "$b"]},
    error="All operands of $setEquals must be arrays. 2-th argument is of type: missing",
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/setIsSubset/
expression(
    "$setIsSubset ignores duplicates and order",
    agg("setIsSubset"),
    {"$setIsSubset": [["a", "b", "a"], ["b", "a"]]},
    True,
)
expression(
    "$setIsSubset does not descend into a nested array",
    agg("setIsSubset"),
    {"$setIsSubset": [["a", "b"], [["a", "b"]]]},
    False,
)
project(
    "$setIsSubset of the flower fields",
    agg("setIsSubset"),
    FLOWERS,
    {"$setIsSubset": ["$flowerFieldA", "$flowerFieldB"]},
    [True, True, True, False, False, False, False, True, True],
)
project(
    "$setIsSubset of a constant superset",
    agg("setIsSubset"),
    FLOWERS[:5],
    {"$setIsSubset": ["$flowerFieldB", ["rose", "orchid", 1]]},
    [True, True, False, False, True],
)
expression(
    "$setIsSubset refuses a missing operand",
    agg("setIsSubset"),
    {"$setIsSubset": ["$a", ["x"]]},
    error="both operands of $setIsSubset must be arrays. First argument is of type: missing",
)
expression(
    "$setIsSubset refuses a constant superset that is not an array",
    agg("setIsSubset"),
    {"$setIsSubset": ["$a", "x"]},
    error="both operands of $setIsSubset must be arrays. Second argument is of type: string",
)


# =============================================================================================
# $getField (reviewed), $setField, $unsetField
# =============================================================================================

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/getField/
DOLLAR_PRICE = d(
    {"_id": 1, "item": "sweatshirt", "$price": 45.99, "qty": 300},
    {"_id": 2, "item": "winter coat", "$price": 499.99, "qty": 200},
    {"_id": 3, "item": "sun dress", "$price": 199.99, "qty": 250},
    {"_id": 4, "item": "leather boots", "$price": 249.99, "qty": 300},
    {"_id": 5, "item": "bow tie", "$price": 9.99, "qty": 180},
)
match(
    "$getField reads a field whose name starts with $",
    agg("getField"),
    DOLLAR_PRICE,
    {"$expr": {"$gt": [{"$getField": {"$literal": "$price"}}, 200]}},
    [2, 4],
)
match(
    "$getField reads a $-named field of a sub-document",
    agg("getField"),
    d(
        {
            "_id": 1,
            "item": "sweatshirt",
            "price.usd": 45.99,
            "quantity": {"$large": 50, "$medium": 50, "$small": 25},
        },
        {
            "_id": 2,
            "item": "winter coat",
            "price.usd": 499.99,
            "quantity": {"$large": 35, "$medium": 35, "$small": 35},
        },
        {
            "_id": 3,
            "item": "sun dress",
            "price.usd": 199.99,
            "quantity": {"$large": 45, "$medium": 40, "$small": 5},
        },
        {
            "_id": 4,
            "item": "leather boots",
            "price.usd": 249.99,
            "quantity": {"$large": 20, "$medium": 30, "$small": 40},
        },
        {
            "_id": 5,
            "item": "bow tie",
            "price.usd": 9.99,
            "quantity": {"$large": 0, "$medium": 10, "$small": 75},
        },
    ),
    {
        "$expr": {
            "$lte": [{"$getField": {"field": {"$literal": "$small"}, "input": "$quantity"}}, 20]
        }
    },
    [3],
)
expression(
    "$getField does not traverse a dotted name",
    agg("getField"),
    {"$getField": {"field": "a.b.c", "input": {"a": {"b": {"c": 5}}}}},
)
expression(
    "$getField of a field named with dots",
    agg("getField"),
    {"$getField": {"field": "a.b.c", "input": {"$literal": {"a.b.c": 5}}}},
    5,
)
# MongoDB 7.0 answers missing here, where the page says null (see the module docstring).
expression(
    "$getField of a missing input is missing",
    agg("getField"),
    {"$getField": {"field": "a", "input": "$nothing"}},
)
expression(
    "$getField of a non-document input is missing",
    agg("getField"),
    {"$getField": {"field": "a", "input": True}},
)
expression(
    "$getField of a missing field of $$CURRENT is missing",
    agg("getField"),
    {"$getField": "nothing"},
)
for name, spec, message in [
    (
        "a field path as the field",
        {"field": "$a", "input": {"a": "b"}},
        "'$a' is a field path reference which is not allowed in this context. "
        "Did you mean {$literal: '$a'}?",
    ),
    (
        "a computed field name",
        {"field": {"$concat": ["a", "b"]}, "input": {"a": 1}},
        "$getField requires 'field' to evaluate to a constant, but got a non-constant argument",
    ),
    (
        "a number as the field",
        5,
        "$getField requires 'field' to evaluate to type String, but got int",
    ),
    (
        "null as the field",
        {"field": None, "input": {"a": 1}},
        "$getField requires 'field' to evaluate to type String, but got null",
    ),
    ("the object form without input", {"field": "a"}, "$getField requires 'input' to be specified"),
    ("an object without field", {"input": {"a": 1}}, "$getField requires 'field' to be specified"),
    (
        "an unknown argument",
        {"field": "a", "input": {"a": "b"}, "unknown": True},
        "$getField found an unknown argument: unknown",
    ),
]:
    expression(f"$getField refuses {name}", agg("getField"), {"$getField": spec}, error=message)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/setField/
PRICES = d(
    {"_id": 1, "item": "sweatshirt", "price": 45.99, "qty": 300},
    {"_id": 2, "item": "winter coat", "price": 499.99, "qty": 200},
    {"_id": 3, "item": "sun dress", "price": 199.99, "qty": 250},
    {"_id": 4, "item": "leather boots", "price": 249.99, "qty": 300},
    {"_id": 5, "item": "bow tie", "price": 9.99, "qty": 180},
)
DOTTED_PRICES = [
    {"_id": p["_id"], "item": p["item"], "qty": p["qty"], "price.usd": p["price"]} for p in PRICES
]
DOLLAR_PRICES = [
    {"_id": p["_id"], "item": p["item"], "qty": p["qty"], "$price": p["price"]} for p in PRICES
]
WITHOUT_PRICE = [{"_id": p["_id"], "item": p["item"], "qty": p["qty"]} for p in PRICES]
case(
    "$setField adds a field whose name contains a period",
    agg("setField"),
    PRICES,
    [
        {
            "$replaceWith": {
                "$setField": {"field": "price.usd", "input": "$$ROOT", "value": "$price"}
            }
        },
        {"$unset": "price"},
    ],
    DOTTED_PRICES,
)
case(
    "$setField adds a field whose name starts with $",
    agg("setField"),
    PRICES,
    [
        {
            "$replaceWith": {
                "$setField": {"field": {"$literal": "$price"}, "input": "$$ROOT", "value": "$price"}
            }
        },
        {"$unset": "price"},
    ],
    DOLLAR_PRICES,
)
case(
    "$setField updates a field whose name contains a period",
    agg("setField"),
    DOTTED_PRICES,
    [
        {"$match": {"_id": 1}},
        {"$replaceWith": {"$setField": {"field": "price.usd", "input": "$$ROOT", "value": 49.99}}},
    ],
    [{"_id": 1, "item": "sweatshirt", "qty": 300, "price.usd": 49.99}],
)
case(
    "$setField updates a field whose name starts with $",
    agg("setField"),
    DOLLAR_PRICES,
    [
        {"$match": {"_id": 1}},
        {
            "$replaceWith": {
                "$setField": {"field": {"$literal": "$price"}, "input": "$$ROOT", "value": 49.99}
            }
        },
    ],
    [{"_id": 1, "item": "sweatshirt", "qty": 300, "$price": 49.99}],
)
case(
    "$setField with $$REMOVE removes a field whose name contains a period",
    agg("setField"),
    DOTTED_PRICES,
    [
        {
            "$replaceWith": {
                "$setField": {"field": "price.usd", "input": "$$ROOT", "value": "$$REMOVE"}
            }
        }
    ],
    WITHOUT_PRICE,
)
case(
    "$setField with $$REMOVE removes a field whose name starts with $",
    agg("setField"),
    DOLLAR_PRICES,
    [
        {
            "$replaceWith": {
                "$setField": {
                    "field": {"$literal": "$price"},
                    "input": "$$ROOT",
                    "value": "$$REMOVE",
                }
            }
        }
    ],
    WITHOUT_PRICE,
)
expression(
    "$setField does not traverse a dotted name",
    agg("setField"),
    {"$setField": {"field": "a.b.c", "input": {"a": {"b": {"c": 5}}}, "value": 1}},
    {"a": {"b": {"c": 5}}, "a.b.c": 1},
)
expression(
    "$setField: a value that is missing removes the field",
    agg("setField"),
    {"$setField": {"field": "a", "input": {"a": 1, "b": 2}, "value": "$nothing"}},
    {"b": 2},
)
project(
    "$setField of a null or missing input is null",
    agg("setField"),
    d({"_id": 1, "doc": None}, {"_id": 2}),
    {"$setField": {"field": "a", "input": "$doc", "value": 1}},
    [None, None],
)
expression(
    "$setField needs a document input",
    agg("setField"),
    {"$setField": {"field": "a", "input": "$doc", "value": 1}},
    doc={"doc": [1]},
    error="$setField requires 'input' to evaluate to type Object",
)
for name, spec, message in [
    ("a non-object argument", 5, "$setField only supports an object as its argument"),
    (
        "a field path as the field",
        {"field": "$a", "input": {}, "value": 0},
        "'$a' is a field path reference which is not allowed in this context",
    ),
    (
        "a computed field name",
        {"field": {"$concat": ["a.b", ".", "c"]}, "input": {}, "value": 0},
        "$setField requires 'field' to evaluate to a constant, but got a non-constant argument",
    ),
    (
        "a boolean as the field",
        {"field": True, "input": {"a": "b"}, "value": 24},
        "$setField requires 'field' to evaluate to type String, but got bool",
    ),
    ("no value", {"field": "a", "input": {}}, "$setField requires 'value' to be specified"),
    ("no input", {"field": "a", "value": 0}, "$setField requires 'input' to be specified"),
    ("no field", {"input": {}, "value": 0}, "$setField requires 'field' to be specified"),
    (
        "an unknown argument",
        {"field": "a", "input": {}, "value": 0, "unknown": True},
        "$setField found an unknown argument: unknown",
    ),
]:
    expression(f"$setField refuses {name}", agg("setField"), {"$setField": spec}, error=message)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/unsetField/
case(
    "$unsetField removes a field whose name contains a period",
    agg("unsetField"),
    DOTTED_PRICES,
    [{"$replaceWith": {"$unsetField": {"field": "price.usd", "input": "$$ROOT"}}}],
    WITHOUT_PRICE,
)
case(
    "$unsetField removes a field whose name starts with $",
    agg("unsetField"),
    DOLLAR_PRICES,
    [{"$replaceWith": {"$unsetField": {"field": {"$literal": "$price"}, "input": "$$ROOT"}}}],
    WITHOUT_PRICE,
)
case(
    "$unsetField with $setField and $getField removes a subfield",
    agg("unsetField"),
    d({"_id": 3, "item": "sun dress", "qty": 250, "price": {"usd": 199.99, "euro": 183.99}}),
    [
        {
            "$replaceWith": {
                "$setField": {
                    "field": "price",
                    "input": "$$ROOT",
                    "value": {"$unsetField": {"field": "euro", "input": {"$getField": "price"}}},
                }
            }
        }
    ],
    [{"_id": 3, "item": "sun dress", "qty": 250, "price": {"usd": 199.99}}],
)
expression(
    "$unsetField of an absent field leaves the document",
    agg("unsetField"),
    {"$unsetField": {"field": "a", "input": {"b": "b"}}},
    {"b": "b"},
)
expression(
    "$unsetField of a null input is null",
    agg("unsetField"),
    {"$unsetField": {"field": "a", "input": None}},
    None,
)
expression(
    "$unsetField refuses a value argument",
    agg("unsetField"),
    {"$unsetField": {"field": "a", "input": {"a": 1}, "value": 1}},
    error="$unsetField found an unknown argument: value",
)
expression(
    "$unsetField needs a document input",
    agg("unsetField"),
    {"$unsetField": {"field": "a", "input": "$doc"}},
    doc={"doc": True},
    error="$setField requires 'input' to evaluate to type Object",
)
