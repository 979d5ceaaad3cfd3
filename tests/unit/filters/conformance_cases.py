"""The conformance table: aggregation cases whose expected results come from the MongoDB manual.

Each case runs `pipeline` over `documents` (a collection, in insertion order) and expects either
`expected` (the output documents) or an error whose message contains `error`. `source` is the
manual page that documents the example or the rule the case checks; most cases reproduce the
page's own example (its collection, pipeline and printed output). Where a page's example uses
Decimal128 or a mongosh double literal, the case notes the adaptation (ints or doubles) and keeps
the result the page's rule gives.

Conventions:
- numbers are typed: 5 is an int (int32), 5.0 a double, Int64(5) a long, as pymongo decodes them;
  expected values are typed the way MongoDB returns them.
- `ordered=False` compares outputs as multisets ($group's output order is unspecified).
- `approx=True` compares doubles to 1e-12 relative (transcendental functions).
- every document has an `_id`, so the same table can run against a real MongoDB
  (tests/unit/filters/test_conformance_mongo.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bson import Int64, ObjectId, Regex

MANUAL = "https://www.mongodb.com/docs/manual/"


def agg(name: str) -> str:
    return f"{MANUAL}reference/operator/aggregation/{name}/"


def query(name: str) -> str:
    return f"{MANUAL}reference/operator/query/{name}/"


SORT_ORDER = f"{MANUAL}reference/bson-type-comparison-order/"
FIELD_PATHS = f"{MANUAL}core/field-paths/"
QUERY_ARRAYS = f"{MANUAL}tutorial/query-arrays/"
QUERY_ARRAY_DOCS = f"{MANUAL}tutorial/query-array-of-documents/"
QUERY_EMBEDDED = f"{MANUAL}tutorial/query-embedded-documents/"
QUERY_NULL = f"{MANUAL}tutorial/query-for-null-fields/"
VARIABLES = f"{MANUAL}reference/aggregation-variables/"
BSON_TYPES = f"{MANUAL}reference/bson-types/"


class _Absent:
    def __repr__(self) -> str:
        return "ABSENT"


ABSENT = _Absent()  # an expression result MongoDB leaves out of the document ("missing")


@dataclass(frozen=True)
class Case:
    name: str
    source: str
    documents: list[dict]
    pipeline: list[dict]
    expected: list[dict] | None = None
    error: str | None = None
    ordered: bool = True
    approx: bool = False
    # Why a real MongoDB cannot reproduce the expectation literally (a seeded $sample, a result
    # that depends on the clock); None for every case the opt-in MongoDB run checks.
    engine_only: str | None = None


CASES: list[Case] = []


def case(
    name: str,
    source: str,
    documents: list[dict],
    pipeline: list[dict],
    expected: list[dict] | None = None,
    *,
    error: str | None = None,
    ordered: bool = True,
    approx: bool = False,
    engine_only: str | None = None,
) -> None:
    CASES.append(
        Case(name, source, documents, pipeline, expected, error, ordered, approx, engine_only)
    )


def expression(
    name: str,
    source: str,
    spec: Any,
    expected: Any = ABSENT,
    *,
    doc: dict | None = None,
    error: str | None = None,
    approx: bool = False,
) -> None:
    """One document; {$project: {_id: 0, r: spec}}; `expected` is r (ABSENT: r is left out)."""
    documents = [{"_id": 1, **(doc or {})}]
    out = [{}] if expected is ABSENT else [{"r": expected}]
    case(
        name,
        source,
        documents,
        [{"$project": {"_id": 0, "r": spec}}],
        None if error else out,
        error=error,
        approx=approx,
    )


def project(
    name: str,
    source: str,
    documents: list[dict],
    spec: dict,
    results: list[Any],
    *,
    approx: bool = False,
) -> None:
    """{$project: {r: spec}} over documents; results[i] is r of document i (ABSENT: left out)."""
    expected = [
        {"_id": d["_id"]} if r is ABSENT else {"_id": d["_id"], "r": r}
        for d, r in zip(documents, results, strict=True)
    ]
    case(name, source, documents, [{"$project": {"r": spec}}], expected, approx=approx)


def match(name: str, source: str, documents: list[dict], filter_: dict, ids: list[Any]) -> None:
    """{$match: filter_}; the output is the documents with these _ids, in collection order."""
    expected = [d for d in documents if d["_id"] in ids]
    assert len(expected) == len(ids), f"{name}: unknown _id in {ids}"
    case(f"query: {name}", source, documents, [{"$match": filter_}], expected)


def d(*fields: dict) -> list[dict]:
    return list(fields)


# =============================================================================================
# $match: the query language
# =============================================================================================

# https://www.mongodb.com/docs/manual/tutorial/query-arrays/ (the page's inventory collection)
QUERY_ARRAYS_INVENTORY = d(
    {"_id": 1, "item": "journal", "qty": 25, "tags": ["blank", "red"], "dim_cm": [14, 21]},
    {"_id": 2, "item": "notebook", "qty": 50, "tags": ["red", "blank"], "dim_cm": [14, 21]},
    {"_id": 3, "item": "paper", "qty": 100, "tags": ["red", "blank", "plain"], "dim_cm": [14, 21]},
    {"_id": 4, "item": "planner", "qty": 75, "tags": ["blank", "red"], "dim_cm": [22.85, 30]},
    {"_id": 5, "item": "postcard", "qty": 45, "tags": ["blue"], "dim_cm": [10, 15.25]},
)
match("array exact equality", QUERY_ARRAYS, QUERY_ARRAYS_INVENTORY, {"tags": ["red", "blank"]}, [2])
match(
    "array $all ignores order",
    QUERY_ARRAYS,
    QUERY_ARRAYS_INVENTORY,
    {"tags": {"$all": ["red", "blank"]}},
    [1, 2, 3, 4],
)
match("array contains element", QUERY_ARRAYS, QUERY_ARRAYS_INVENTORY, {"tags": "red"}, [1, 2, 3, 4])
match("array element $gt", QUERY_ARRAYS, QUERY_ARRAYS_INVENTORY, {"dim_cm": {"$gt": 25}}, [4])
match(
    "array compound condition may use different elements",
    QUERY_ARRAYS,
    QUERY_ARRAYS_INVENTORY,
    {"dim_cm": {"$gt": 15, "$lt": 20}},
    [1, 2, 3, 5],
)
match(
    "$elemMatch on values: one element satisfies all",
    QUERY_ARRAYS,
    QUERY_ARRAYS_INVENTORY,
    {"dim_cm": {"$elemMatch": {"$gt": 22, "$lt": 30}}},
    [4],
)
match(
    "array index position in a path",
    QUERY_ARRAYS,
    QUERY_ARRAYS_INVENTORY,
    {"dim_cm.1": {"$gt": 25}},
    [4],
)
match("$size", QUERY_ARRAYS, QUERY_ARRAYS_INVENTORY, {"tags": {"$size": 3}}, [3])

# https://www.mongodb.com/docs/manual/tutorial/query-array-of-documents/
QUERY_ARRAY_DOCS_INVENTORY = d(
    {
        "_id": 1,
        "item": "journal",
        "instock": [{"warehouse": "A", "qty": 5}, {"warehouse": "C", "qty": 15}],
    },
    {"_id": 2, "item": "notebook", "instock": [{"warehouse": "C", "qty": 5}]},
    {
        "_id": 3,
        "item": "paper",
        "instock": [{"warehouse": "A", "qty": 60}, {"warehouse": "B", "qty": 15}],
    },
    {
        "_id": 4,
        "item": "planner",
        "instock": [{"warehouse": "A", "qty": 40}, {"warehouse": "B", "qty": 5}],
    },
    {
        "_id": 5,
        "item": "postcard",
        "instock": [{"warehouse": "B", "qty": 15}, {"warehouse": "C", "qty": 35}],
    },
)
match(
    "embedded document in array: exact match",
    QUERY_ARRAY_DOCS,
    QUERY_ARRAY_DOCS_INVENTORY,
    {"instock": {"warehouse": "A", "qty": 5}},
    [1],
)
match(
    "embedded document equality is field-order sensitive",
    QUERY_ARRAY_DOCS,
    QUERY_ARRAY_DOCS_INVENTORY,
    {"instock": {"qty": 5, "warehouse": "A"}},
    [],
)
match(
    "dotted path through an array of documents",
    QUERY_ARRAY_DOCS,
    QUERY_ARRAY_DOCS_INVENTORY,
    {"instock.qty": {"$lte": 20}},
    [1, 2, 3, 4, 5],
)
match(
    "array index then field",
    QUERY_ARRAY_DOCS,
    QUERY_ARRAY_DOCS_INVENTORY,
    {"instock.0.qty": {"$lte": 20}},
    [1, 2, 5],
)
match(
    "$elemMatch with a query document",
    QUERY_ARRAY_DOCS,
    QUERY_ARRAY_DOCS_INVENTORY,
    {"instock": {"$elemMatch": {"qty": 5, "warehouse": "A"}}},
    [1],
)
match(
    "$elemMatch range on one element",
    QUERY_ARRAY_DOCS,
    QUERY_ARRAY_DOCS_INVENTORY,
    {"instock": {"$elemMatch": {"qty": {"$gt": 10, "$lte": 20}}}},
    [1, 3, 5],
)
match(
    "range over a path through an array uses any elements",
    QUERY_ARRAY_DOCS,
    QUERY_ARRAY_DOCS_INVENTORY,
    {"instock.qty": {"$gt": 10, "$lte": 20}},
    [1, 3, 4, 5],
)
match(
    "two paths through an array need not meet in one element",
    QUERY_ARRAY_DOCS,
    QUERY_ARRAY_DOCS_INVENTORY,
    {"instock.qty": 5, "instock.warehouse": "A"},
    [1, 4],
)

# https://www.mongodb.com/docs/manual/tutorial/query-embedded-documents/
QUERY_EMBEDDED_INVENTORY = d(
    {
        "_id": 1,
        "item": "journal",
        "qty": 25,
        "size": {"h": 14, "w": 21, "uom": "cm"},
        "status": "A",
    },
    {
        "_id": 2,
        "item": "notebook",
        "qty": 50,
        "size": {"h": 8.5, "w": 11, "uom": "in"},
        "status": "A",
    },
    {
        "_id": 3,
        "item": "paper",
        "qty": 100,
        "size": {"h": 8.5, "w": 11, "uom": "in"},
        "status": "D",
    },
    {
        "_id": 4,
        "item": "planner",
        "qty": 75,
        "size": {"h": 22.85, "w": 30, "uom": "cm"},
        "status": "D",
    },
    {
        "_id": 5,
        "item": "postcard",
        "qty": 45,
        "size": {"h": 10, "w": 15.25, "uom": "cm"},
        "status": "A",
    },
)
match(
    "embedded document equality",
    QUERY_EMBEDDED,
    QUERY_EMBEDDED_INVENTORY,
    {"size": {"h": 14, "w": 21, "uom": "cm"}},
    [1],
)
match(
    "embedded document equality needs the same field order",
    QUERY_EMBEDDED,
    QUERY_EMBEDDED_INVENTORY,
    {"size": {"w": 21, "h": 14, "uom": "cm"}},
    [],
)
match("nested field equality", QUERY_EMBEDDED, QUERY_EMBEDDED_INVENTORY, {"size.uom": "in"}, [2, 3])
match(
    "nested field $lt",
    QUERY_EMBEDDED,
    QUERY_EMBEDDED_INVENTORY,
    {"size.h": {"$lt": 15}},
    [1, 2, 3, 5],
)
match(
    "implicit AND of conditions",
    QUERY_EMBEDDED,
    QUERY_EMBEDDED_INVENTORY,
    {"size.h": {"$lt": 15}, "size.uom": "in", "status": "D"},
    [3],
)

# https://www.mongodb.com/docs/manual/tutorial/query-for-null-fields/
NULL_INVENTORY = d({"_id": 1, "item": None}, {"_id": 2})
match("null matches null and missing", QUERY_NULL, NULL_INVENTORY, {"item": None}, [1, 2])
match("$type null matches only null", QUERY_NULL, NULL_INVENTORY, {"item": {"$type": 10}}, [1])
match(
    "$exists false matches missing", QUERY_NULL, NULL_INVENTORY, {"item": {"$exists": False}}, [2]
)
match(
    "$ne null excludes null and missing", query("ne"), NULL_INVENTORY, {"item": {"$ne": None}}, []
)

# https://www.mongodb.com/docs/manual/reference/operator/query/eq/
EQ_INVENTORY = d(
    {"_id": 1, "item": {"name": "ab", "code": "123"}, "qty": 15, "tags": ["A", "B", "C"]},
    {"_id": 2, "item": {"name": "cd", "code": "123"}, "qty": 20, "tags": ["B"]},
    {"_id": 3, "item": {"name": "ij", "code": "456"}, "qty": 25, "tags": ["A", "B"]},
    {"_id": 4, "item": {"name": "xy", "code": "456"}, "qty": 30, "tags": ["B", "A"]},
    {"_id": 5, "item": {"name": "mn", "code": "000"}, "qty": 20, "tags": [["A", "B"], "C"]},
)
match("$eq", query("eq"), EQ_INVENTORY, {"qty": {"$eq": 20}}, [2, 5])
match("$eq on an embedded field", query("eq"), EQ_INVENTORY, {"item.name": {"$eq": "ab"}}, [1])
match(
    "$eq matches an array element", query("eq"), EQ_INVENTORY, {"tags": {"$eq": "B"}}, [1, 2, 3, 4]
)
match(
    "$eq to an array matches the array or an element that is that array",
    query("eq"),
    EQ_INVENTORY,
    {"tags": {"$eq": ["A", "B"]}},
    [3, 5],
)
COMPANIES = d({"_id": 1, "company": "MongoDB"}, {"_id": 2, "company": "MongoDB2"})
match("implicit equality on a string", query("eq"), COMPANIES, {"company": "MongoDB"}, [1])
match("implicit regex match", query("eq"), COMPANIES, {"company": Regex("MongoDB")}, [1, 2])

# https://www.mongodb.com/docs/manual/reference/operator/query/gt/ (and gte, lt, lte, ne)
COMPARISON_INVENTORY = d(
    {"_id": 1, "item": "nuts", "quantity": 30, "carrier": {"name": "Shipit", "fee": 3}},
    {"_id": 2, "item": "bolts", "quantity": 50, "carrier": {"name": "Shipit", "fee": 4}},
    {"_id": 3, "item": "washers", "quantity": 10, "carrier": {"name": "Shipit", "fee": 1}},
)
match("$gt", query("gt"), COMPARISON_INVENTORY, {"quantity": {"$gt": 20}}, [1, 2])
match("$gte is inclusive", query("gte"), COMPARISON_INVENTORY, {"quantity": {"$gte": 30}}, [1, 2])
match("$lt", query("lt"), COMPARISON_INVENTORY, {"quantity": {"$lt": 20}}, [3])
match("$lte is inclusive", query("lte"), COMPARISON_INVENTORY, {"quantity": {"$lte": 10}}, [3])
match(
    "$lt on an embedded field",
    query("lt"),
    COMPARISON_INVENTORY,
    {"carrier.fee": {"$lt": 4}},
    [1, 3],
)
match("$ne", query("ne"), COMPARISON_INVENTORY, {"quantity": {"$ne": 30}}, [2, 3])
match(
    "$ne matches documents without the field",
    query("ne"),
    COMPARISON_INVENTORY,
    {"carrier.state": {"$ne": "NY"}},
    [1, 2, 3],
)
match(
    "type bracketing: a string bound matches no number",
    SORT_ORDER,
    COMPARISON_INVENTORY,
    {"quantity": {"$gt": "20"}},
    [],
)

# https://www.mongodb.com/docs/manual/reference/operator/query/in/ (and nin)
IN_INVENTORY = d(
    {"_id": 1, "item": "Pens", "quantity": 350, "tags": ["school", "office"]},
    {"_id": 2, "item": "Erasers", "quantity": 15, "tags": ["school", "home"]},
    {"_id": 3, "item": "Maps", "tags": ["office", "storage"]},
    {"_id": 4, "item": "Books", "quantity": 5, "tags": ["school", "storage", "home"]},
)
match("$in", query("in"), IN_INVENTORY, {"quantity": {"$in": [5, 15]}}, [2, 4])
match(
    "$in with regular expressions",
    query("in"),
    IN_INVENTORY,
    {"tags": {"$in": [Regex("^be"), Regex("^st")]}},
    [3, 4],
)
match(
    "$in null matches a missing field", QUERY_NULL, IN_INVENTORY, {"quantity": {"$in": [None]}}, [3]
)
match(
    "$nin includes documents without the field",
    query("nin"),
    IN_INVENTORY,
    {"quantity": {"$nin": [5, 15]}},
    [1, 3],
)
match("$nin on array elements", query("nin"), IN_INVENTORY, {"tags": {"$nin": ["school"]}}, [3])

# https://www.mongodb.com/docs/manual/reference/operator/query/exists/
SPICES = d(
    {"_id": 1, "saffron": 5, "cinnamon": 5, "mustard": None},
    {"_id": 2, "saffron": 3, "cinnamon": None, "mustard": 8},
    {"_id": 3, "saffron": None, "cinnamon": 3, "mustard": 9},
    {"_id": 4, "saffron": 1, "cinnamon": 2, "mustard": 3},
    {"_id": 5, "saffron": 2, "mustard": 5},
    {"_id": 6, "saffron": 3, "cinnamon": 2},
    {"_id": 7, "saffron": 4},
    {"_id": 8, "cinnamon": 2, "mustard": 4},
    {"_id": 9, "cinnamon": 2},
    {"_id": 10, "mustard": 6},
)
match(
    "$exists true includes null values",
    query("exists"),
    SPICES,
    {"saffron": {"$exists": True}},
    [1, 2, 3, 4, 5, 6, 7],
)
match("$exists false", query("exists"), SPICES, {"cinnamon": {"$exists": False}}, [5, 7, 10])

# https://www.mongodb.com/docs/manual/reference/operator/query/type/ (mongosh's 43339374 is a
# double; here written 43339374.0)
ADDRESS_BOOK = d(
    {"_id": 1, "address": "2030 Martian Way", "zipCode": "90698345"},
    {"_id": 2, "address": "156 Lunar Place", "zipCode": 43339374.0},
    {"_id": 3, "address": "2324 Pluto Place", "zipCode": Int64(3921412)},
    {"_id": 4, "address": "55 Saturn Ring", "zipCode": 88602117},
    {"_id": 5, "address": "104 Venus Drive", "zipCode": ["834847278", "1893289032"]},
)
match(
    "$type by alias (array elements count)",
    query("type"),
    ADDRESS_BOOK,
    {"zipCode": {"$type": "string"}},
    [1, 5],
)
match("$type by number", query("type"), ADDRESS_BOOK, {"zipCode": {"$type": 2}}, [1, 5])
match("$type double", query("type"), ADDRESS_BOOK, {"zipCode": {"$type": "double"}}, [2])
match(
    "$type number alias", query("type"), ADDRESS_BOOK, {"zipCode": {"$type": "number"}}, [2, 3, 4]
)
match(
    "$type list of types",
    query("type"),
    ADDRESS_BOOK,
    {"zipCode": {"$type": ["long", "int"]}},
    [3, 4],
)
match("$type array", query("type"), ADDRESS_BOOK, {"zipCode": {"$type": "array"}}, [5])

# https://www.mongodb.com/docs/manual/reference/operator/query/all/
ALL_INVENTORY = d(
    {
        "_id": 1,
        "code": "xyz",
        "tags": ["school", "book", "bag", "headphone", "appliance"],
        "qty": [
            {"size": "S", "num": 10, "color": "blue"},
            {"size": "M", "num": 45, "color": "blue"},
            {"size": "L", "num": 100, "color": "green"},
        ],
    },
    {
        "_id": 2,
        "code": "abc",
        "tags": ["appliance", "school", "book"],
        "qty": [
            {"size": "6", "num": 100, "color": "green"},
            {"size": "6", "num": 50, "color": "blue"},
            {"size": "8", "num": 100, "color": "brown"},
        ],
    },
    {
        "_id": 3,
        "code": "efg",
        "tags": ["school", "book"],
        "qty": [
            {"size": "S", "num": 10, "color": "blue"},
            {"size": "M", "num": 100, "color": "blue"},
            {"size": "L", "num": 100, "color": "green"},
        ],
    },
    {
        "_id": 4,
        "code": "ijk",
        "tags": ["electronics", "school"],
        "qty": [{"size": "M", "num": 100, "color": "green"}],
    },
)
match(
    "$all", query("all"), ALL_INVENTORY, {"tags": {"$all": ["appliance", "school", "book"]}}, [1, 2]
)
match(
    "$all with $elemMatch",
    query("all"),
    ALL_INVENTORY,
    {
        "qty": {
            "$all": [
                {"$elemMatch": {"size": "M", "num": {"$gt": 50}}},
                {"$elemMatch": {"num": 100, "color": "green"}},
            ]
        }
    },
    [3, 4],
)
match(
    "$all on a path through an array", query("all"), ALL_INVENTORY, {"qty.num": {"$all": [50]}}, [2]
)
match(
    "$all with an empty array matches nothing",
    query("all"),
    ALL_INVENTORY,
    {"tags": {"$all": []}},
    [],
)

# https://www.mongodb.com/docs/manual/reference/operator/query/elemMatch/
SCORES_RESULTS = d({"_id": 1, "results": [82, 85, 88]}, {"_id": 2, "results": [75, 88, 89]})
match(
    "$elemMatch element match",
    query("elemMatch"),
    SCORES_RESULTS,
    {"results": {"$elemMatch": {"$gte": 80, "$lt": 85}}},
    [1],
)
SURVEY = d(
    {"_id": 1, "results": [{"product": "abc", "score": 10}, {"product": "xyz", "score": 5}]},
    {"_id": 2, "results": [{"product": "abc", "score": 8}, {"product": "xyz", "score": 7}]},
    {"_id": 3, "results": [{"product": "abc", "score": 7}, {"product": "xyz", "score": 8}]},
    {"_id": 4, "results": [{"product": "abc", "score": 7}, {"product": "def", "score": 8}]},
    {"_id": 5, "results": {"product": "xyz", "score": 7}},
)
match(
    "$elemMatch array of embedded documents",
    query("elemMatch"),
    SURVEY,
    {"results": {"$elemMatch": {"product": "xyz", "score": {"$gte": 8}}}},
    [3],
)
match(
    "$elemMatch needs an array",
    query("elemMatch"),
    SURVEY,
    {"results": {"$elemMatch": {"product": "xyz"}}},
    [1, 2, 3],
)
match(
    "dotted path also matches a non-array embedded document",
    query("elemMatch"),
    SURVEY,
    {"results.product": "xyz"},
    [1, 2, 3, 5],
)

# https://www.mongodb.com/docs/manual/reference/operator/query/size/
SIZES = d(
    {"_id": 1, "field": ["red", "green"]},
    {"_id": 2, "field": ["apple", "lime"]},
    {"_id": 3, "field": "fruit"},
    {"_id": 4, "field": ["orange", "lemon", "grapefruit"]},
)
match(
    "$size only matches arrays of that length",
    query("size"),
    SIZES,
    {"field": {"$size": 2}},
    [1, 2],
)

# https://www.mongodb.com/docs/manual/reference/operator/query/regex/
PRODUCTS = d(
    {"_id": 100, "sku": "abc123", "description": "Single line description."},
    {"_id": 101, "sku": "abc789", "description": "First line\nSecond line"},
    {"_id": 102, "sku": "xyz456", "description": "Many spaces before     line"},
    {"_id": 103, "sku": "xyz789", "description": "Multiple\nline description"},
    {"_id": 104, "sku": "Abc789", "description": "SKU starts with A"},
)
match("$regex", query("regex"), PRODUCTS, {"sku": {"$regex": "789$"}}, [101, 103, 104])
match(
    "$regex case insensitive",
    query("regex"),
    PRODUCTS,
    {"sku": {"$regex": "^ABC", "$options": "i"}},
    [100, 101, 104],
)
match(
    "$regex multiline anchors",
    query("regex"),
    PRODUCTS,
    {"description": {"$regex": "^S", "$options": "m"}},
    [100, 101, 104],
)
match(
    "$regex without m anchors at the start",
    query("regex"),
    PRODUCTS,
    {"description": {"$regex": "^S"}},
    [100, 104],
)
match(
    "$regex dot matches newline with s",
    query("regex"),
    PRODUCTS,
    {"description": {"$regex": "m.*line", "$options": "si"}},
    [102, 103],
)
match("regex object", query("regex"), PRODUCTS, {"sku": Regex("^abc")}, [100, 101])
match(
    "$regex with a regex object and flags",
    query("regex"),
    PRODUCTS,
    {"sku": {"$regex": Regex("^abc", "i")}},
    [100, 101, 104],
)

# https://www.mongodb.com/docs/manual/reference/operator/query/mod/
MOD_INVENTORY = d(
    {"_id": 1, "item": "abc123", "qty": 0},
    {"_id": 2, "item": "xyz123", "qty": 5},
    {"_id": 3, "item": "ijk123", "qty": 12},
)
match("$mod", query("mod"), MOD_INVENTORY, {"qty": {"$mod": [4, 0]}}, [1, 3])
match(
    "$mod truncates a fractional divisor",
    query("mod"),
    MOD_INVENTORY,
    {"qty": {"$mod": [4.5, 0]}},
    [1, 3],
)
case(
    "$mod with one element is refused",
    query("mod"),
    MOD_INVENTORY,
    [{"$match": {"qty": {"$mod": [4]}}}],
    error="malformed mod, not enough elements",
)

# https://www.mongodb.com/docs/manual/reference/operator/query/not/
NOT_INVENTORY = d(
    {"_id": 1, "item": "Pens", "price": 2.5},
    {"_id": 2, "item": "Erasers", "price": 1.99},
    {"_id": 3, "item": "Maps"},
    {"_id": 4, "item": "Books", "price": 1.5},
)
match(
    "$not includes documents without the field",
    query("not"),
    NOT_INVENTORY,
    {"price": {"$not": {"$gt": 1.99}}},
    [2, 3, 4],
)
match(
    "$not with a regex",
    query("not"),
    NOT_INVENTORY,
    {"item": {"$not": Regex("^p.*", "i")}},
    [2, 3, 4],
)
match(
    "$and",
    query("and"),
    NOT_INVENTORY,
    {"$and": [{"price": {"$ne": 1.99}}, {"price": {"$exists": True}}]},
    [1, 4],
)
match(
    "$or",
    query("or"),
    IN_INVENTORY,
    {"$or": [{"quantity": {"$lt": 20}}, {"item": "Maps"}]},
    [2, 3, 4],
)

# https://www.mongodb.com/docs/manual/reference/operator/query/nor/
NOR_INVENTORY = d(
    {"_id": 1, "item": "Pens", "price": 1.99, "sale": True},
    {"_id": 2, "item": "Maps", "price": 1.99},
    {"_id": 3, "item": "Books", "price": 5.0, "sale": False},
    {"_id": 4, "item": "Erasers", "sale": True},
    {"_id": 5, "item": "Rulers"},
)
match(
    "$nor (missing fields count as not matching)",
    query("nor"),
    NOR_INVENTORY,
    {"$nor": [{"price": 1.99}, {"sale": True}]},
    [3, 5],
)

# https://www.mongodb.com/docs/manual/reference/operator/query/expr/
MONTHLY_BUDGET = d(
    {"_id": 1, "category": "food", "budget": 400, "spent": 450},
    {"_id": 2, "category": "drinks", "budget": 100, "spent": 150},
    {"_id": 3, "category": "clothes", "budget": 100, "spent": 50},
    {"_id": 4, "category": "misc", "budget": 500, "spent": 300},
    {"_id": 5, "category": "travel", "budget": 200, "spent": 650},
)
match(
    "$expr compares two fields",
    query("expr"),
    MONTHLY_BUDGET,
    {"$expr": {"$gt": ["$spent", "$budget"]}},
    [1, 2, 5],
)
match(
    "$comment is ignored",
    query("comment"),
    MONTHLY_BUDGET,
    {"category": "misc", "$comment": "misc spending"},
    [4],
)


# =============================================================================================
# Expressions: field paths, variables, literals
# =============================================================================================

# https://www.mongodb.com/docs/manual/core/field-paths/ ("Array of Nested Fields")
PRODUCTS_INSTOCK = d(
    {"_id": 1, "item": "journal", "instock": [{"warehouse": "A"}, {"warehouse": "C"}]},
    {"_id": 2, "item": "notebook", "instock": [{"warehouse": "C"}]},
    {"_id": 3, "item": "paper", "instock": [{"warehouse": "A"}, {"warehouse": "B"}]},
    {"_id": 4, "item": "planner", "instock": [{"warehouse": "A"}, {"warehouse": "B"}]},
    {"_id": 5, "item": "postcard", "instock": [{"warehouse": "B"}, {"warehouse": "C"}]},
)
case(
    "field path through an array returns the array of values",
    FIELD_PATHS,
    PRODUCTS_INSTOCK,
    [{"$project": {"item": 1, "warehouses": "$instock.warehouse"}}],
    [
        {"_id": 1, "item": "journal", "warehouses": ["A", "C"]},
        {"_id": 2, "item": "notebook", "warehouses": ["C"]},
        {"_id": 3, "item": "paper", "warehouses": ["A", "B"]},
        {"_id": 4, "item": "planner", "warehouses": ["A", "B"]},
        {"_id": 5, "item": "postcard", "warehouses": ["B", "C"]},
    ],
)
expression(
    "field path skips array elements without the field",
    FIELD_PATHS,
    "$prv.magpsf",
    [18.5, 18.1],
    doc={"prv": [{"magpsf": 18.5}, {"diffmaglim": 20.1}, {"magpsf": 18.1}, 7]},
)
# The server follows only the documents of an array: a nested array is skipped like a scalar
# (src/mongo/db/pipeline/expression.cpp, ExpressionFieldPath::evaluatePathArray: "if
# (array[i].getType() != Object) continue;"), so "$a.b" over arrays of arrays is [].
expression(
    "field path skips nested arrays",
    FIELD_PATHS,
    "$a.b",
    [],
    doc={"a": [[{"b": 1}, {"b": 2}], [{"b": 3}]]},
)
expression(
    "field path skips nested arrays beside documents",
    FIELD_PATHS,
    "$a.b",
    [0],
    doc={"a": [[{"b": 1}], {"b": 0}, [[{"b": 2}]]]},
)
expression(
    "nested field path",
    FIELD_PATHS,
    "$surface.mean",
    -197.2,
    doc={"surface": {"min": None, "mean": -197.2}},
)
expression("missing field path leaves the field out", FIELD_PATHS, "$nope.deeper", doc={"nope": 5})
expression(
    "$$ROOT is the whole document",
    VARIABLES,
    "$$ROOT",
    {"_id": 1, "x": 5},
    doc={"x": 5},
)
expression("$$CURRENT.field equals $field", VARIABLES, "$$CURRENT.x", 5, doc={"x": 5})
expression(
    "$$REMOVE leaves the field out",
    VARIABLES,
    {"$cond": [{"$gt": ["$x", 3]}, "$$REMOVE", "$x"]},
    doc={"x": 5},
)
expression(
    "array literal turns missing values into null",
    agg("project"),
    ["$x", "$y", "$someField"],
    [1, 1, None],
    doc={"x": 1, "y": 1},
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/literal/
STORE_INVENTORY = d(
    {"_id": 1, "item": "napkins", "price": "$2.50"},
    {"_id": 2, "item": "coffee", "price": "1"},
    {"_id": 3, "item": "tea", "price": "$.99"},
)
project(
    "$literal keeps a $ string from being a field path",
    agg("literal"),
    STORE_INVENTORY,
    {"$eq": ["$price", {"$literal": "$1"}]},
    [False, False, False],
)
expression("$literal of a number in $project", agg("literal"), {"$literal": 1}, 1)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/let/
LET_SALES = d(
    {"_id": 1, "price": 10, "tax": 0.50, "applyDiscount": True},
    {"_id": 2, "price": 10, "tax": 0.25, "applyDiscount": False},
)
case(
    "$let",
    agg("let"),
    LET_SALES,
    [
        {
            "$project": {
                "finalTotal": {
                    "$let": {
                        "vars": {
                            "total": {"$add": ["$price", "$tax"]},
                            "discounted": {
                                "$cond": {"if": "$applyDiscount", "then": 0.9, "else": 1}
                            },
                        },
                        "in": {"$multiply": ["$$total", "$$discounted"]},
                    }
                }
            }
        }
    ],
    [{"_id": 1, "finalTotal": 9.450000000000001}, {"_id": 2, "finalTotal": 10.25}],
)
expression(
    "$let variable holding a document, read by path",
    agg("let"),
    {"$let": {"vars": {"c": "$candidate"}, "in": {"$subtract": ["$$c.magpsf", "$$c.magap"]}}},
    0.5,
    doc={"candidate": {"magpsf": 18.75, "magap": 18.25}},
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/getField/
PRICE_USD = d(
    {"_id": 1, "item": "sweatshirt", "price.usd": 45.99, "qty": 300},
    {"_id": 2, "item": "winter coat", "price.usd": 499.99, "qty": 200},
    {"_id": 3, "item": "sun dress", "price.usd": 199.99, "qty": 250},
    {"_id": 4, "item": "leather boots", "price.usd": 249.99, "qty": 300},
    {"_id": 5, "item": "bow tie", "price.usd": 9.99, "qty": 180},
)
match(
    "$getField reads a field whose name contains a period",
    agg("getField"),
    PRICE_USD,
    {"$expr": {"$gt": [{"$getField": "price.usd"}, 200]}},
    [2, 4],
)
expression(
    "$getField with field and input",
    agg("getField"),
    {"$getField": {"field": {"$literal": "$small"}, "input": "$quantity"}},
    5,
    doc={"quantity": {"$large": 45, "$medium": 40, "$small": 5}},
)
expression(
    "$getField of a null input is null",
    agg("getField"),
    {"$getField": {"field": "a", "input": None}},
    None,
)
expression(
    "$getField of an absent field is missing",
    agg("getField"),
    {"$getField": {"field": "b", "input": {"a": 1}}},
)


# =============================================================================================
# Expressions: arithmetic
# =============================================================================================

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/abs/
TEMPERATURE_CHANGE = d(
    {"_id": 1, "startTemp": 50, "endTemp": 80},
    {"_id": 2, "startTemp": 40, "endTemp": 40},
    {"_id": 3, "startTemp": 90, "endTemp": 70},
    {"_id": 4, "startTemp": 60, "endTemp": 70},
)
project(
    "$abs",
    agg("abs"),
    TEMPERATURE_CHANGE,
    {"$abs": {"$subtract": ["$startTemp", "$endTemp"]}},
    [30, 0, 20, 10],
)
expression("$abs of null is null", agg("abs"), {"$abs": "$missing"}, None)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/add/
ADD_SALES = d(
    {"_id": 1, "item": "abc", "price": 10, "fee": 2, "date": datetime(2014, 3, 1, 8)},
    {"_id": 2, "item": "jkl", "price": 20, "fee": 1, "date": datetime(2014, 3, 1, 9)},
    {"_id": 3, "item": "xyz", "price": 5, "fee": 0, "date": datetime(2014, 3, 15, 9)},
)
case(
    "$add numbers",
    agg("add"),
    ADD_SALES,
    [{"$project": {"item": 1, "total": {"$add": ["$price", "$fee"]}}}],
    [
        {"_id": 1, "item": "abc", "total": 12},
        {"_id": 2, "item": "jkl", "total": 21},
        {"_id": 3, "item": "xyz", "total": 5},
    ],
)
case(
    "$add milliseconds to a date",
    agg("add"),
    ADD_SALES,
    [{"$project": {"item": 1, "billing_date": {"$add": ["$date", 3 * 24 * 60 * 60000]}}}],
    [
        {"_id": 1, "item": "abc", "billing_date": datetime(2014, 3, 4, 8)},
        {"_id": 2, "item": "jkl", "billing_date": datetime(2014, 3, 4, 9)},
        {"_id": 3, "item": "xyz", "billing_date": datetime(2014, 3, 18, 9)},
    ],
)
expression("$add with a missing operand is null", agg("add"), {"$add": [1, "$missing"]}, None)
expression("$add int and double is a double", agg("sum"), {"$type": {"$add": [1, 2.5]}}, "double")
expression("$add int and long is a long", agg("sum"), {"$add": [1, Int64(2)]}, Int64(3))
expression(
    "$add int overflow is promoted to long",
    agg("sum"),
    {"$add": [2147483647, 1]},
    Int64(2147483648),
)
expression(
    "$add of a string is an error",
    agg("add"),
    {"$add": [1, "$s"]},
    doc={"s": "2"},
    error="$add only supports numeric or date types, not string",
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/subtract/
SUBTRACT_SALES = d(
    {
        "_id": 1,
        "item": "abc",
        "price": 10,
        "fee": 2,
        "discount": 5,
        "date": datetime(2014, 3, 1, 8),
    },
    {
        "_id": 2,
        "item": "jkl",
        "price": 20,
        "fee": 1,
        "discount": 2,
        "date": datetime(2014, 3, 1, 9),
    },
)
case(
    "$subtract numbers",
    agg("subtract"),
    SUBTRACT_SALES,
    [
        {
            "$project": {
                "item": 1,
                "total": {"$subtract": [{"$add": ["$price", "$fee"]}, "$discount"]},
            }
        }
    ],
    [{"_id": 1, "item": "abc", "total": 7}, {"_id": 2, "item": "jkl", "total": 19}],
)
case(
    "$subtract milliseconds from a date",
    agg("subtract"),
    SUBTRACT_SALES,
    [{"$project": {"item": 1, "dateDifference": {"$subtract": ["$date", 5 * 60 * 1000]}}}],
    [
        {"_id": 1, "item": "abc", "dateDifference": datetime(2014, 3, 1, 7, 55)},
        {"_id": 2, "item": "jkl", "dateDifference": datetime(2014, 3, 1, 8, 55)},
    ],
)
expression(
    "$subtract two dates gives milliseconds as a long",
    agg("subtract"),
    {"$subtract": ["$end", "$start"]},
    Int64(90_000),
    doc={"start": datetime(2014, 3, 1, 8), "end": datetime(2014, 3, 1, 8, 1, 30)},
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/multiply/
MULTIPLY_SALES = d(
    {"_id": 1, "item": "abc", "price": 10, "quantity": 2},
    {"_id": 2, "item": "jkl", "price": 20, "quantity": 1},
    {"_id": 3, "item": "xyz", "price": 5, "quantity": 10},
)
project(
    "$multiply",
    agg("multiply"),
    MULTIPLY_SALES,
    {"$multiply": ["$price", "$quantity"]},
    [20, 20, 50],
)
expression("$multiply with null is null", agg("multiply"), {"$multiply": [2, None]}, None)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/divide/ (and mod)
CONFERENCE_PLANNING = d(
    {"_id": 1, "city": "New York", "hours": 80, "tasks": 7},
    {"_id": 2, "city": "Singapore", "hours": 40, "tasks": 4},
)
project(
    "$divide returns a double",
    agg("divide"),
    CONFERENCE_PLANNING,
    {"$divide": ["$hours", 8]},
    [10.0, 5.0],
)
expression(
    "$divide by zero is an error",
    agg("divide"),
    {"$divide": [1, "$z"]},
    doc={"z": 0},
    error="can't $divide by zero",
)
project("$mod", agg("mod"), CONFERENCE_PLANNING, {"$mod": ["$hours", "$tasks"]}, [3, 0])
expression(
    "$mod keeps the sign of the dividend", agg("mod"), {"$mod": ["$a", 9]}, -4, doc={"a": -13}
)
expression("$mod of doubles is a double", agg("mod"), {"$mod": [7.5, 2]}, 1.5)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/ceil/ (and floor)
SAMPLES_CEIL = d(
    {"_id": 1, "value": 9.25},
    {"_id": 2, "value": 8.73},
    {"_id": 3, "value": 4.32},
    {"_id": 4, "value": -5.34},
)
project("$ceil", agg("ceil"), SAMPLES_CEIL, {"$ceil": "$value"}, [10.0, 9.0, 5.0, -5.0])
project("$floor", agg("floor"), SAMPLES_CEIL, {"$floor": "$value"}, [9.0, 8.0, 4.0, -6.0])
expression("$ceil of an int is the int", agg("ceil"), {"$ceil": 5}, 5)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/exp/
ACCOUNTS = d(
    {"_id": 1, "interestRate": 0.08, "presentValue": 10000},
    {"_id": 2, "interestRate": 0.0825, "presentValue": 250000},
    {"_id": 3, "interestRate": 0.0425, "presentValue": 1000},
)
project(
    "$exp",
    agg("exp"),
    ACCOUNTS,
    {"$subtract": [{"$exp": "$interestRate"}, 1]},
    [math.exp(0.08) - 1, math.exp(0.0825) - 1, math.exp(0.0425) - 1],
    approx=True,
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/ln/
LN_SALES = d(
    {"_id": 1, "year": "2000", "sales": 8700000},
    {"_id": 2, "year": "2005", "sales": 5000000},
    {"_id": 3, "year": "2010", "sales": 6250000},
)
project(
    "$ln",
    agg("ln"),
    LN_SALES,
    {"$ln": "$sales"},
    [15.978833583624812, 15.424948470398375, 15.648092021712584],
    approx=True,
)
expression(
    "$ln of zero is an error",
    agg("ln"),
    {"$ln": "$z"},
    doc={"z": 0},
    error="$ln's argument must be a positive number",
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/log/
POSITIVE_INTS = d(
    {"_id": 1, "positiveInt": 5},
    {"_id": 2, "positiveInt": 2},
    {"_id": 3, "positiveInt": 23},
    {"_id": 4, "positiveInt": 10},
)
project(
    "$log base 2",
    agg("log"),
    POSITIVE_INTS,
    {"$floor": {"$add": [1, {"$log": ["$positiveInt", 2]}]}},
    [3.0, 2.0, 5.0, 4.0],
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/log10/
H3O = d({"_id": 1, "H3O": 0.0025}, {"_id": 2, "H3O": 0.001}, {"_id": 3, "H3O": 0.02})
project(
    "$log10",
    agg("log10"),
    H3O,
    {"$multiply": [-1, {"$log10": "$H3O"}]},
    [2.6020599913279625, 3.0, 1.6989700043360187],
    approx=True,
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/pow/ (the behaviour table)
expression("$pow integers", agg("pow"), {"$pow": [5, 2]}, 25)
expression("$pow to the zero", agg("pow"), {"$pow": [5, 0]}, 1)
expression("$pow negative exponent gives a double", agg("pow"), {"$pow": [5, -2]}, 0.04)
expression(
    "$pow negative base, fractional exponent is NaN", agg("pow"), {"$pow": [-5, 0.5]}, math.nan
)
expression(
    "$pow of zero to a negative exponent is an error",
    agg("pow"),
    {"$pow": [0, "$e"]},
    doc={"e": -1},
    error="$pow cannot take a base of 0 and a negative exponent",
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/sqrt/
POINTS = d(
    {"_id": 1, "p1": {"x": 5, "y": 8}, "p2": {"x": 0, "y": 5}},
    {"_id": 2, "p1": {"x": -3, "y": 7}, "p2": {"x": 6, "y": 1}},
    {"_id": 3, "p1": {"x": 3, "y": -2}, "p2": {"x": 7, "y": -5}},
)
project(
    "$sqrt distance",
    agg("sqrt"),
    POINTS,
    {
        "$sqrt": {
            "$add": [
                {"$pow": [{"$subtract": ["$p2.y", "$p1.y"]}, 2]},
                {"$pow": [{"$subtract": ["$p2.x", "$p1.x"]}, 2]},
            ]
        }
    },
    [5.830951894845301, 10.816653826391969, 5.0],
    approx=True,
)
expression("$sqrt of null is null", agg("sqrt"), {"$sqrt": None}, None)
expression(
    "$sqrt of a negative number is an error",
    agg("sqrt"),
    {"$sqrt": "$v"},
    doc={"v": -1},
    error="$sqrt's argument must be greater than or equal to 0",
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/trunc/ (and round)
SAMPLES_ROUNDING = d(
    {"_id": 1, "value": 19.25},
    {"_id": 2, "value": 28.73},
    {"_id": 3, "value": 34.32},
    {"_id": 4, "value": -45.39},
)
project(
    "$trunc to one place",
    agg("trunc"),
    SAMPLES_ROUNDING,
    {"$trunc": ["$value", 1]},
    [19.2, 28.7, 34.3, -45.3],
)
project(
    "$trunc to an integer",
    agg("trunc"),
    SAMPLES_ROUNDING,
    {"$trunc": "$value"},
    [19.0, 28.0, 34.0, -45.0],
)
project(
    "$round rounds half to even",
    agg("round"),
    SAMPLES_ROUNDING,
    {"$round": ["$value", 1]},
    [19.2, 28.7, 34.3, -45.4],
)
expression("$round to two places", agg("round"), {"$round": [1234.5678, 2]}, 1234.57)
expression("$round to a negative place", agg("round"), {"$round": [1234.5678, -2]}, 1200.0)
expression("$round past the leading digit", agg("round"), {"$round": [1234.5678, -4]}, 0.0)
expression("$round to zero places", agg("round"), {"$round": [1234.5678, 0]}, 1235.0)
expression(
    "$round of an int to a negative place stays an int", agg("round"), {"$round": [1234, -2]}, 1200
)
expression("$trunc to a negative place", agg("trunc"), {"$trunc": [1234.5678, -2]}, 1200.0)


# =============================================================================================
# Expressions: trigonometry (values from the definitions on each page)
# =============================================================================================

expression(
    "$sin", agg("sin"), {"$sin": {"$degreesToRadians": 30}}, math.sin(math.pi / 6), approx=True
)
expression("$cos", agg("cos"), {"$cos": 0}, 1.0)
expression("$tan", agg("tan"), {"$tan": {"$degreesToRadians": 45}}, 1.0, approx=True)
expression("$asin", agg("asin"), {"$radiansToDegrees": {"$asin": 0.5}}, 30.0, approx=True)
expression("$acos", agg("acos"), {"$radiansToDegrees": {"$acos": 0.5}}, 60.0, approx=True)
expression("$atan", agg("atan"), {"$radiansToDegrees": {"$atan": 1}}, 45.0, approx=True)
expression("$atan2", agg("atan2"), {"$radiansToDegrees": {"$atan2": [3, 3]}}, 45.0, approx=True)
expression("$degreesToRadians", agg("degreesToRadians"), {"$degreesToRadians": 180}, math.pi)
expression("$radiansToDegrees", agg("radiansToDegrees"), {"$radiansToDegrees": math.pi}, 180.0)
expression(
    "$asin outside [-1, 1] is an error",
    agg("asin"),
    {"$asin": "$v"},
    doc={"v": 2},
    error="cannot apply $asin to 2",
)
expression("$sin of null is null", agg("sin"), {"$sin": "$missing"}, None)
# Great-circle separation of two positions (haversine), as filters compute near-source cuts:
# 1 degree of declination apart on the same meridian is 1 degree.
expression(
    "angular distance with trigonometry",
    agg("asin"),
    {
        "$radiansToDegrees": {
            "$multiply": [
                2,
                {
                    "$asin": {
                        "$sqrt": {
                            "$add": [
                                {
                                    "$pow": [
                                        {
                                            "$sin": {
                                                "$divide": [
                                                    {
                                                        "$degreesToRadians": {
                                                            "$subtract": ["$dec2", "$dec1"]
                                                        }
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
                                        {"$cos": {"$degreesToRadians": "$dec1"}},
                                        {"$cos": {"$degreesToRadians": "$dec2"}},
                                        {
                                            "$pow": [
                                                {
                                                    "$sin": {
                                                        "$divide": [
                                                            {
                                                                "$degreesToRadians": {
                                                                    "$subtract": ["$ra2", "$ra1"]
                                                                }
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
                },
            ]
        }
    },
    1.0,
    doc={"ra1": 10.0, "dec1": 20.0, "ra2": 10.0, "dec2": 21.0},
    approx=True,
)


# =============================================================================================
# Expressions: comparison and boolean
# =============================================================================================

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/cmp/ (the same inventory
# serves the pages of $eq, $ne, $gt, $gte, $lt, $lte, $and, $or and $not)
CMP_INVENTORY = d(
    {"_id": 1, "item": "abc1", "description": "product 1", "qty": 300},
    {"_id": 2, "item": "abc2", "description": "product 2", "qty": 200},
    {"_id": 3, "item": "xyz1", "description": "product 3", "qty": 250},
    {"_id": 4, "item": "VWZ1", "description": "product 4", "qty": 300},
    {"_id": 5, "item": "VWZ2", "description": "product 5", "qty": 180},
)
project("$cmp", agg("cmp"), CMP_INVENTORY, {"$cmp": ["$qty", 250]}, [1, -1, 0, 1, -1])
project("$eq", agg("eq"), CMP_INVENTORY, {"$eq": ["$qty", 250]}, [False, False, True, False, False])
project("$ne", agg("ne"), CMP_INVENTORY, {"$ne": ["$qty", 250]}, [True, True, False, True, True])
project("$gt", agg("gt"), CMP_INVENTORY, {"$gt": ["$qty", 250]}, [True, False, False, True, False])
project(
    "$gte", agg("gte"), CMP_INVENTORY, {"$gte": ["$qty", 250]}, [True, False, True, True, False]
)
project("$lt", agg("lt"), CMP_INVENTORY, {"$lt": ["$qty", 250]}, [False, True, False, False, True])
project(
    "$lte", agg("lte"), CMP_INVENTORY, {"$lte": ["$qty", 250]}, [False, True, True, False, True]
)
project(
    "$and",
    agg("and"),
    CMP_INVENTORY,
    {"$and": [{"$gt": ["$qty", 100]}, {"$lt": ["$qty", 250]}]},
    [False, True, False, False, True],
)
project(
    "$or",
    agg("or"),
    CMP_INVENTORY,
    {"$or": [{"$gt": ["$qty", 250]}, {"$lt": ["$qty", 200]}]},
    [True, False, False, True, True],
)
project(
    "$not",
    agg("not"),
    CMP_INVENTORY,
    {"$not": [{"$gt": ["$qty", 250]}]},
    [False, True, True, False, True],
)
expression("$and truthiness of non-boolean values", agg("and"), {"$and": [1, "green"]}, True)
expression("$and of nothing is true", agg("and"), {"$and": []}, True)
expression(
    "$and: arrays are true, even [false]", agg("and"), {"$and": [[None], [False], [0]]}, True
)
expression("$and with null is false", agg("and"), {"$and": [None, True]}, False)
expression("$and with zero is false", agg("and"), {"$and": [0, True]}, False)
expression("$or with [false] is true", agg("or"), {"$or": [[False], False]}, True)
expression("$or of null, 0 and missing is false", agg("or"), {"$or": [None, 0, "$missing"]}, False)
expression("$not of [false] is false", agg("not"), {"$not": [[False]]}, False)
expression("$not of null is true", agg("not"), {"$not": [None]}, True)
# The comparison order across types: https://www.mongodb.com/docs/manual/reference/bson-type-comparison-order/
expression("numbers sort below strings", SORT_ORDER, {"$lt": [100, "1"]}, True)
expression("null sorts below numbers", SORT_ORDER, {"$cmp": [None, -5]}, -1)
expression("strings sort below objects", SORT_ORDER, {"$lt": ["zzz", {"a": 1}]}, True)
expression("objects sort below arrays", SORT_ORDER, {"$gt": [[1], {"a": 1}]}, True)
expression("arrays sort below booleans", SORT_ORDER, {"$lt": [[5], False]}, True)
expression("booleans sort below dates", SORT_ORDER, {"$lt": [True, datetime(1970, 1, 1)]}, True)
expression(
    "ObjectId sorts below booleans",
    SORT_ORDER,
    {"$lt": [ObjectId("5ab9c3da31c2ab715d421285"), False]},
    True,
)
expression("int and double compare by value", SORT_ORDER, {"$eq": [1, 1.0]}, True)
expression("arrays compare element by element", SORT_ORDER, {"$cmp": [[1, 2, 3], [1, 3]]}, -1)
expression("false sorts below true", SORT_ORDER, {"$gt": [True, False]}, True)
# In expressions a missing field is not null: it compares as "undefined", below null (the query
# language, by contrast, matches {field: null} on a missing field; see QUERY_NULL above).
expression(
    "a missing field is not equal to null in an expression",
    SORT_ORDER,
    {"$eq": ["$missing", None]},
    False,
)
expression(
    "a missing field sorts below null in an expression",
    SORT_ORDER,
    {"$lt": ["$missing", None]},
    True,
)
expression(
    "$cond treats a missing condition as false",
    agg("cond"),
    {"$cond": ["$missing", "yes", "no"]},
    "no",
)


# =============================================================================================
# Expressions: conditionals
# =============================================================================================

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/cond/
COND_INVENTORY = d(
    {"_id": 1, "item": "abc1", "qty": 300},
    {"_id": 2, "item": "abc2", "qty": 200},
    {"_id": 3, "item": "xyz1", "qty": 250},
)
project(
    "$cond object form",
    agg("cond"),
    COND_INVENTORY,
    {"$cond": {"if": {"$gte": ["$qty", 250]}, "then": 30, "else": 20}},
    [30, 20, 30],
)
project(
    "$cond array form",
    agg("cond"),
    COND_INVENTORY,
    {"$cond": [{"$gte": ["$qty", 250]}, 30, 20]},
    [30, 20, 30],
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/ifNull/
IFNULL_INVENTORY = d(
    {"_id": 1, "item": "buggy", "description": "toy car", "quantity": 300},
    {"_id": 2, "item": "bicycle", "description": None, "quantity": 200},
    {"_id": 3, "item": "flag"},
)
project(
    "$ifNull replaces null and missing",
    agg("ifNull"),
    IFNULL_INVENTORY,
    {"$ifNull": ["$description", "Unspecified"]},
    ["toy car", "Unspecified", "Unspecified"],
)
project(
    "$ifNull with several inputs",
    agg("ifNull"),
    IFNULL_INVENTORY,
    {"$ifNull": ["$description", "$quantity", "Unspecified"]},
    ["toy car", 200, "Unspecified"],
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/switch/
GRADES_SCORES = d(
    {"_id": 1, "name": "Susan Wilkes", "scores": [87, 86, 78]},
    {"_id": 2, "name": "Bob Hanna", "scores": [71, 64, 81]},
    {"_id": 3, "name": "James Torrelio", "scores": [91, 84, 97]},
)
case(
    "$switch",
    agg("switch"),
    GRADES_SCORES,
    [
        {
            "$project": {
                "name": 1,
                "summary": {
                    "$switch": {
                        "branches": [
                            {"case": {"$gte": [{"$avg": "$scores"}, 90]}, "then": "Doing great!"},
                            {
                                "case": {
                                    "$and": [
                                        {"$gte": [{"$avg": "$scores"}, 80]},
                                        {"$lt": [{"$avg": "$scores"}, 90]},
                                    ]
                                },
                                "then": "Doing pretty well.",
                            },
                            {
                                "case": {"$lt": [{"$avg": "$scores"}, 80]},
                                "then": "Needs improvement.",
                            },
                        ],
                        "default": "No scores found.",
                    }
                },
            }
        }
    ],
    [
        {"_id": 1, "name": "Susan Wilkes", "summary": "Doing pretty well."},
        {"_id": 2, "name": "Bob Hanna", "summary": "Needs improvement."},
        {"_id": 3, "name": "James Torrelio", "summary": "Doing great!"},
    ],
)
expression(
    "$switch without a matching branch or default is an error",
    agg("switch"),
    {"$switch": {"branches": [{"case": {"$eq": ["$x", 1]}, "then": "one"}]}},
    doc={"x": 2},
    error="$switch could not find a matching branch for an input, and no default was specified.",
)


# =============================================================================================
# Expressions: arrays
# =============================================================================================

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/filter/
FILTER_SALES = d(
    {
        "_id": 0,
        "items": [
            {"item_id": 43, "quantity": 2, "price": 10, "name": "pen"},
            {"item_id": 2, "quantity": 1, "price": 240, "name": "briefcase"},
        ],
    },
    {
        "_id": 1,
        "items": [
            {"item_id": 23, "quantity": 3, "price": 110, "name": "notebook"},
            {"item_id": 103, "quantity": 4, "price": 5, "name": "pen"},
            {"item_id": 38, "quantity": 1, "price": 300, "name": "printer"},
        ],
    },
    {"_id": 2, "items": [{"item_id": 4, "quantity": 1, "price": 23, "name": "paper"}]},
)
case(
    "$filter",
    agg("filter"),
    FILTER_SALES,
    [
        {
            "$project": {
                "items": {
                    "$filter": {
                        "input": "$items",
                        "as": "item",
                        "cond": {"$gte": ["$$item.price", 100]},
                    }
                }
            }
        }
    ],
    [
        {"_id": 0, "items": [{"item_id": 2, "quantity": 1, "price": 240, "name": "briefcase"}]},
        {
            "_id": 1,
            "items": [
                {"item_id": 23, "quantity": 3, "price": 110, "name": "notebook"},
                {"item_id": 38, "quantity": 1, "price": 300, "name": "printer"},
            ],
        },
        {"_id": 2, "items": []},
    ],
)
case(
    "$filter with limit",
    agg("filter"),
    FILTER_SALES,
    [
        {
            "$project": {
                "items": {
                    "$filter": {
                        "input": "$items",
                        "as": "item",
                        "cond": {"$gte": ["$$item.price", 100]},
                        "limit": 1,
                    }
                }
            }
        }
    ],
    [
        {"_id": 0, "items": [{"item_id": 2, "quantity": 1, "price": 240, "name": "briefcase"}]},
        {"_id": 1, "items": [{"item_id": 23, "quantity": 3, "price": 110, "name": "notebook"}]},
        {"_id": 2, "items": []},
    ],
)
case(
    "$filter with $regexMatch and the default $$this",
    agg("filter"),
    FILTER_SALES,
    [
        {
            "$project": {
                "items": {
                    "$map": {
                        "input": {
                            "$filter": {
                                "input": "$items",
                                "cond": {
                                    "$regexMatch": {"input": "$$this.name", "regex": Regex("^p")}
                                },
                            }
                        },
                        "in": "$$this.name",
                    }
                }
            }
        }
    ],
    [
        {"_id": 0, "items": ["pen"]},
        {"_id": 1, "items": ["pen", "printer"]},
        {"_id": 2, "items": ["paper"]},
    ],
)
expression(
    "$filter of null is null", agg("filter"), {"$filter": {"input": "$missing", "cond": True}}, None
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/map/
MAP_GRADES = d(
    {"_id": 1, "quizzes": [5, 6, 7]},
    {"_id": 2, "quizzes": []},
    {"_id": 3, "quizzes": [3, 8, 9]},
)
project(
    "$map",
    agg("map"),
    MAP_GRADES,
    {"$map": {"input": "$quizzes", "as": "grade", "in": {"$add": ["$$grade", 2]}}},
    [[7, 8, 9], [], [5, 10, 11]],
)
expression(
    "$map truncating values",
    agg("map"),
    {"$map": {"input": "$distances", "as": "dist", "in": {"$trunc": "$$dist"}}},
    [34.0, 81.0, 44.0],
    doc={"distances": [34.57, 81.96, 44.24]},
)
expression(
    "$map converting units",
    agg("map"),
    {
        "$map": {
            "input": "$tempsC",
            "as": "tempInCelsius",
            "in": {"$add": [{"$multiply": ["$$tempInCelsius", 9 / 5]}, 32]},
        }
    },
    [39.2, 53.6, 62.6],
    doc={"tempsC": [4, 12, 17]},
    approx=True,
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/reduce/ (its table)
expression(
    "$reduce concatenating strings",
    agg("reduce"),
    {
        "$reduce": {
            "input": ["a", "b", "c"],
            "initialValue": "",
            "in": {"$concat": ["$$value", "$$this"]},
        }
    },
    "abc",
)
expression(
    "$reduce into a document",
    agg("reduce"),
    {
        "$reduce": {
            "input": [1, 2, 3, 4],
            "initialValue": {"sum": 5, "product": 2},
            "in": {
                "sum": {"$add": ["$$value.sum", "$$this"]},
                "product": {"$multiply": ["$$value.product", "$$this"]},
            },
        }
    },
    {"sum": 15, "product": 48},
)
expression(
    "$reduce concatenating arrays",
    agg("reduce"),
    {
        "$reduce": {
            "input": [[3, 4], [5, 6]],
            "initialValue": [1, 2],
            "in": {"$concatArrays": ["$$value", "$$this"]},
        }
    },
    [1, 2, 3, 4, 5, 6],
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/size/ (and isArray)
SIZE_INVENTORY = d(
    {"_id": 1, "item": "ABC1", "description": "product 1", "colors": ["blue", "black", "red"]},
    {"_id": 2, "item": "ABC2", "description": "product 2", "colors": ["purple"]},
    {"_id": 3, "item": "XYZ1", "description": "product 3", "colors": []},
    {"_id": 4, "item": "ZZZ1", "description": "product 4 - missing colors"},
    {"_id": 5, "item": "ZZZ2", "description": "product 5 - colors is string", "colors": "blue,red"},
)
project(
    "$size guarded by $isArray",
    agg("size"),
    SIZE_INVENTORY,
    {"$cond": {"if": {"$isArray": "$colors"}, "then": {"$size": "$colors"}, "else": "NA"}},
    [3, 1, 0, "NA", "NA"],
)
expression(
    "$size of a missing field is an error",
    agg("size"),
    {"$size": "$colors"},
    error="The argument to $size must be an array",
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/arrayElemAt/ (its table)
expression("$arrayElemAt", agg("arrayElemAt"), {"$arrayElemAt": [[1, 2, 3], 0]}, 1)
expression("$arrayElemAt negative index", agg("arrayElemAt"), {"$arrayElemAt": [[1, 2, 3], -2]}, 2)
expression(
    "$arrayElemAt out of bounds is missing", agg("arrayElemAt"), {"$arrayElemAt": [[1, 2, 3], 15]}
)
expression(
    "$arrayElemAt of a field path",
    agg("arrayElemAt"),
    {"$arrayElemAt": ["$favorites", -1]},
    "apples",
    doc={"name": "dave123", "favorites": ["chocolate", "cake", "butter", "apples"]},
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/first-array-element/
FIRST_EXAMPLE = d(
    {"_id": 1, "x": [1, 2, 3]},
    {"_id": 2, "x": [[]]},
    {"_id": 3, "x": [None]},
    {"_id": 4, "x": []},
    {"_id": 5, "x": None},
    {"_id": 6},
)
case(
    "$first (array)",
    agg("first-array-element"),
    FIRST_EXAMPLE,
    [{"$addFields": {"firstElem": {"$first": "$x"}}}],
    [
        {"_id": 1, "x": [1, 2, 3], "firstElem": 1},
        {"_id": 2, "x": [[]], "firstElem": []},
        {"_id": 3, "x": [None], "firstElem": None},
        {"_id": 4, "x": []},
        {"_id": 5, "x": None, "firstElem": None},
        {"_id": 6, "firstElem": None},
    ],
)
case(
    "$last (array)",
    agg("last-array-element"),
    FIRST_EXAMPLE,
    [{"$addFields": {"lastElem": {"$last": "$x"}}}],
    [
        {"_id": 1, "x": [1, 2, 3], "lastElem": 3},
        {"_id": 2, "x": [[]], "lastElem": []},
        {"_id": 3, "x": [None], "lastElem": None},
        {"_id": 4, "x": []},
        {"_id": 5, "x": None, "lastElem": None},
        {"_id": 6, "lastElem": None},
    ],
)
expression(
    "$first of a non-array is an error",
    agg("first-array-element"),
    {"$first": "$x"},
    doc={"x": "abc"},
    error="$first's argument must be an array, but is string",
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/slice/ (its table)
expression("$slice from the start", agg("slice"), {"$slice": [[1, 2, 3], 1, 1]}, [2])
expression("$slice from the end", agg("slice"), {"$slice": [[1, 2, 3], -2]}, [2, 3])
expression("$slice past the end", agg("slice"), {"$slice": [[1, 2, 3], 15, 2]}, [])
expression("$slice before the start", agg("slice"), {"$slice": [[1, 2, 3], -15, 2]}, [1, 2])
expression(
    "$slice of a field path",
    agg("slice"),
    {"$slice": ["$favorites", 3]},
    ["chocolate", "cake", "butter"],
    doc={"favorites": ["chocolate", "cake", "butter", "apples"]},
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/in/
FRUIT_STORES = d(
    {"_id": 1, "location": "24th Street", "in_stock": ["apples", "oranges", "bananas"]},
    {"_id": 2, "location": "36th Street", "in_stock": ["bananas", "pears", "apples"]},
    {"_id": 3, "location": "82nd Street", "in_stock": ["cantaloupes", "watermelons", "apples"]},
)
project("$in", agg("in"), FRUIT_STORES, {"$in": ["bananas", "$in_stock"]}, [True, True, False])
expression("$in a literal array", agg("in"), {"$in": [2, [1, 2, 3]]}, True)
expression("$in is not a substring test", agg("in"), {"$in": ["xy", ["xyz", "abc"]]}, False)
expression("$in compares arrays whole", agg("in"), {"$in": [["a"], ["a"]]}, False)
expression("$in finds a nested array", agg("in"), {"$in": [["a"], [["a"]]]}, True)
expression(
    "$in needs an array",
    agg("in"),
    {"$in": ["a", "$missing"]},
    error="$in requires an array as a second argument",
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/concatArrays/
WAREHOUSES = d(
    {"_id": 1, "instock": ["chocolate"], "ordered": ["butter", "apples"]},
    {"_id": 2, "instock": ["apples", "pudding", "pie"]},
    {"_id": 3, "instock": ["pears", "pecans"], "ordered": ["cherries"]},
    {"_id": 4, "instock": ["ice cream"], "ordered": []},
)
project(
    "$concatArrays (null when an input is missing)",
    agg("concatArrays"),
    WAREHOUSES,
    {"$concatArrays": ["$instock", "$ordered"]},
    [["chocolate", "butter", "apples"], None, ["pears", "pecans", "cherries"], ["ice cream"]],
)
# https://www.mongodb.com/docs/manual/reference/operator/aggregation/isArray/
project(
    "$isArray guarding $concatArrays",
    agg("isArray"),
    WAREHOUSES,
    {
        "$cond": {
            "if": {"$and": [{"$isArray": "$instock"}, {"$isArray": "$ordered"}]},
            "then": {"$concatArrays": ["$instock", "$ordered"]},
            "else": "One or more fields is not an array.",
        }
    },
    [
        ["chocolate", "butter", "apples"],
        "One or more fields is not an array.",
        ["pears", "pecans", "cherries"],
        ["ice cream"],
    ],
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/indexOfArray/ (its table)
expression("$indexOfArray", agg("indexOfArray"), {"$indexOfArray": [["a", "abc"], "a"]}, 0)
expression("$indexOfArray not found", agg("indexOfArray"), {"$indexOfArray": [[1, 2], 5]}, -1)
expression(
    "$indexOfArray with a start",
    agg("indexOfArray"),
    {"$indexOfArray": [[10, 9, 9, 8, 9], 9, 3]},
    4,
)
expression(
    "$indexOfArray with an end",
    agg("indexOfArray"),
    {"$indexOfArray": [["a", "abc", "b"], "b", 0, 1]},
    -1,
)
expression(
    "$indexOfArray finds null",
    agg("indexOfArray"),
    {"$indexOfArray": [[None, None, None], None]},
    0,
)
expression(
    "$indexOfArray of null is null", agg("indexOfArray"), {"$indexOfArray": [None, "foo"]}, None
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/sum/ (the expression use;
# also avg, max and min, whose pages use the same students collection)
STUDENTS = d(
    {"_id": 1, "quizzes": [10, 6, 7], "labs": [5, 8], "final": 80, "midterm": 75},
    {"_id": 2, "quizzes": [9, 10], "labs": [8, 8], "final": 95, "midterm": 80},
    {"_id": 3, "quizzes": [4, 5, 5], "labs": [6, 5], "final": 78, "midterm": 70},
)
case(
    "$sum over an array and over arguments",
    agg("sum"),
    STUDENTS,
    [
        {
            "$project": {
                "quizTotal": {"$sum": "$quizzes"},
                "labTotal": {"$sum": "$labs"},
                "examTotal": {"$sum": ["$final", "$midterm"]},
            }
        }
    ],
    [
        {"_id": 1, "quizTotal": 23, "labTotal": 13, "examTotal": 155},
        {"_id": 2, "quizTotal": 19, "labTotal": 16, "examTotal": 175},
        {"_id": 3, "quizTotal": 14, "labTotal": 11, "examTotal": 148},
    ],
)
case(
    "$avg over an array and over arguments",
    agg("avg"),
    STUDENTS,
    [
        {
            "$project": {
                "quizAvg": {"$avg": "$quizzes"},
                "labAvg": {"$avg": "$labs"},
                "examAvg": {"$avg": ["$final", "$midterm"]},
            }
        }
    ],
    [
        {"_id": 1, "quizAvg": 7.666666666666667, "labAvg": 6.5, "examAvg": 77.5},
        {"_id": 2, "quizAvg": 9.5, "labAvg": 8.0, "examAvg": 87.5},
        {"_id": 3, "quizAvg": 4.666666666666667, "labAvg": 5.5, "examAvg": 74.0},
    ],
)
case(
    "$max over an array and over arguments",
    agg("max"),
    STUDENTS,
    [
        {
            "$project": {
                "quizMax": {"$max": "$quizzes"},
                "labMax": {"$max": "$labs"},
                "examMax": {"$max": ["$final", "$midterm"]},
            }
        }
    ],
    [
        {"_id": 1, "quizMax": 10, "labMax": 8, "examMax": 80},
        {"_id": 2, "quizMax": 10, "labMax": 8, "examMax": 95},
        {"_id": 3, "quizMax": 5, "labMax": 6, "examMax": 78},
    ],
)
case(
    "$min over an array and over arguments",
    agg("min"),
    STUDENTS,
    [
        {
            "$project": {
                "quizMin": {"$min": "$quizzes"},
                "labMin": {"$min": "$labs"},
                "examMin": {"$min": ["$final", "$midterm"]},
            }
        }
    ],
    [
        {"_id": 1, "quizMin": 6, "labMin": 5, "examMin": 75},
        {"_id": 2, "quizMin": 9, "labMin": 8, "examMin": 80},
        {"_id": 3, "quizMin": 4, "labMin": 5, "examMin": 70},
    ],
)
expression("$sum ignores non-numeric values", agg("sum"), {"$sum": [1, "2", None, True, 3.5]}, 4.5)
expression("$sum of a missing field is 0", agg("sum"), {"$sum": "$missing"}, 0)
expression("$sum with several operands does not enter arrays", agg("sum"), {"$sum": [[1, 2], 3]}, 3)
expression("$sum int and long gives a long", agg("sum"), {"$sum": [1, Int64(2)]}, Int64(3))
expression(
    "$sum int overflow gives a long", agg("sum"), {"$sum": [2147483647, 1]}, Int64(2147483648)
)
expression("$avg of no numbers is null", agg("avg"), {"$avg": "$missing"}, None)
expression("$max ignores null", agg("max"), {"$max": [None, 3, None]}, 3)
expression("$min of only nulls is null", agg("min"), {"$min": [None, "$missing"]}, None)
expression("$max compares across types", SORT_ORDER, {"$max": [1, "a", None]}, "a")
# The brightening filter: the newest magnitude against the history's, through an array path.
expression(
    "$min over a field path through an array",
    FIELD_PATHS,
    {"$subtract": [{"$min": "$prv_candidates.magpsf"}, "$candidate.magpsf"]},
    0.75,
    doc={
        "candidate": {"magpsf": 17.25},
        "prv_candidates": [{"magpsf": 18.5}, {"magpsf": 18.0}, {"diffmaglim": 20.5}],
    },
)


# =============================================================================================
# Expressions: strings
# =============================================================================================

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/concat/
CONCAT_INVENTORY = d(
    {"_id": 1, "item": "ABC1", "quarter": "13Q1", "description": "product 1"},
    {"_id": 2, "item": "ABC2", "quarter": "13Q4", "description": "product 2"},
    {"_id": 3, "item": "XYZ1", "quarter": "14Q2", "description": None},
)
project(
    "$concat (null when an input is null)",
    agg("concat"),
    CONCAT_INVENTORY,
    {"$concat": ["$item", " - ", "$description"]},
    ["ABC1 - product 1", "ABC2 - product 2", None],
)
expression(
    "$concat of a number is an error",
    agg("concat"),
    {"$concat": ["a", "$n"]},
    doc={"n": 1},
    error="$concat only supports strings, not int",
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/substr/
# (and substrBytes, substrCP)
case(
    "$substr",
    agg("substr"),
    CONCAT_INVENTORY,
    [
        {
            "$project": {
                "item": 1,
                "yearSubstring": {"$substr": ["$quarter", 0, 2]},
                "quarterSubtring": {"$substr": ["$quarter", 2, -1]},
            }
        }
    ],
    [
        {"_id": 1, "item": "ABC1", "yearSubstring": "13", "quarterSubtring": "Q1"},
        {"_id": 2, "item": "ABC2", "yearSubstring": "13", "quarterSubtring": "Q4"},
        {"_id": 3, "item": "XYZ1", "yearSubstring": "14", "quarterSubtring": "Q2"},
    ],
)
case(
    "$substrBytes",
    agg("substrBytes"),
    CONCAT_INVENTORY,
    [
        {
            "$project": {
                "item": 1,
                "yearSubstring": {"$substrBytes": ["$quarter", 0, 2]},
                "quarterSubtring": {
                    "$substrBytes": ["$quarter", 2, {"$subtract": [{"$strLenCP": "$quarter"}, 2]}]
                },
            }
        }
    ],
    [
        {"_id": 1, "item": "ABC1", "yearSubstring": "13", "quarterSubtring": "Q1"},
        {"_id": 2, "item": "ABC2", "yearSubstring": "13", "quarterSubtring": "Q4"},
        {"_id": 3, "item": "XYZ1", "yearSubstring": "14", "quarterSubtring": "Q2"},
    ],
)
FOOD = d(
    {"_id": 1, "name": "apple"},
    {"_id": 2, "name": "banana"},
    {"_id": 3, "name": "éclair"},
    {"_id": 4, "name": "hamburger"},
    {"_id": 5, "name": "jalapeño"},
    {"_id": 6, "name": "pizza"},
    {"_id": 7, "name": "tacos"},
    {"_id": 8, "name": "寿司sushi"},
)
project(
    "$substrBytes counts UTF-8 bytes",
    agg("substrBytes"),
    FOOD[:7],
    {"$substrBytes": ["$name", 0, 3]},
    ["app", "ban", "éc", "ham", "jal", "piz", "tac"],
)
expression(
    "$substrBytes may not split a character",
    agg("substrBytes"),
    {"$substrBytes": ["$name", 0, 2]},
    doc={"name": "寿司sushi"},
    error="Invalid range, ending index is in the middle of a UTF-8 character",
)
project(
    "$substrCP counts code points",
    agg("substrCP"),
    FOOD,
    {"$substrCP": ["$name", 0, 3]},
    ["app", "ban", "écl", "ham", "jal", "piz", "tac", "寿司s"],
)
# https://www.mongodb.com/docs/manual/reference/operator/aggregation/strLenCP/
project("$strLenCP", agg("strLenCP"), FOOD, {"$strLenCP": "$name"}, [5, 6, 6, 9, 8, 5, 5, 7])
expression(
    "$strLenCP of a non-string is an error",
    agg("strLenCP"),
    {"$strLenCP": "$missing"},
    error="$strLenCP requires a string argument, found: missing",
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/toLower/ (and toUpper)
CASE_INVENTORY = d(
    {"_id": 1, "item": "ABC1", "description": "PRODUCT 1"},
    {"_id": 2, "item": "abc2", "description": "Product 2"},
    {"_id": 3, "item": "xyz1", "description": None},
)
case(
    "$toLower (null becomes an empty string)",
    agg("toLower"),
    CASE_INVENTORY,
    [{"$project": {"item": {"$toLower": "$item"}, "description": {"$toLower": "$description"}}}],
    [
        {"_id": 1, "item": "abc1", "description": "product 1"},
        {"_id": 2, "item": "abc2", "description": "product 2"},
        {"_id": 3, "item": "xyz1", "description": ""},
    ],
)
case(
    "$toUpper (null becomes an empty string)",
    agg("toUpper"),
    CASE_INVENTORY,
    [{"$project": {"item": {"$toUpper": "$item"}, "description": {"$toUpper": "$description"}}}],
    [
        {"_id": 1, "item": "ABC1", "description": "PRODUCT 1"},
        {"_id": 2, "item": "ABC2", "description": "PRODUCT 2"},
        {"_id": 3, "item": "XYZ1", "description": ""},
    ],
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/regexMatch/
REGEX_PRODUCTS = d(
    {"_id": 1, "description": "Single LINE description."},
    {"_id": 2, "description": "First lines\nsecond line"},
    {"_id": 3, "description": "Many spaces before     line"},
    {"_id": 4, "description": "Multiple\nline descriptions"},
    {"_id": 5, "description": "anchors, links and hyperlinks"},
    {"_id": 6, "description": "métier work vocation"},
)
project(
    "$regexMatch",
    agg("regexMatch"),
    REGEX_PRODUCTS,
    {"$regexMatch": {"input": "$description", "regex": Regex("line")}},
    [False, True, True, True, False, False],
)
project(
    "$regexMatch case insensitive",
    agg("regexMatch"),
    REGEX_PRODUCTS,
    {"$regexMatch": {"input": "$description", "regex": "line", "options": "i"}},
    [True, True, True, True, False, False],
)
project(
    "$regexMatch multiline anchor",
    agg("regexMatch"),
    REGEX_PRODUCTS,
    {"$regexMatch": {"input": "$description", "regex": Regex("^s", "im")}},
    [True, True, False, False, False, False],
)
expression(
    "$regexMatch of null input is false",
    agg("regexMatch"),
    {"$regexMatch": {"input": "$missing", "regex": "a"}},
    False,
)


# =============================================================================================
# Expressions: types and conversion
# =============================================================================================

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/type/ (mongosh's 8 is a
# double; here written 8.0)
TYPE_COLLECTION = d(
    {"_id": 0, "a": 8.0},
    {"_id": 1, "a": [41.63, 88.19]},
    {"_id": 2, "a": {"a": "apple", "b": "banana", "c": "carrot"}},
    {"_id": 3, "a": "caribou"},
    {"_id": 4, "a": Int64(71)},
    {"_id": 5},
)
project(
    "$type",
    agg("type"),
    TYPE_COLLECTION,
    {"$type": "$a"},
    ["double", "array", "object", "string", "long", "missing"],
)
expression("$type of an int32", agg("type"), {"$type": 5}, "int")
expression(
    "$type of a bool and of null", agg("type"), [{"$type": True}, {"$type": None}], ["bool", "null"]
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/toInt/ (its table)
expression("$toInt of true", agg("toInt"), {"$toInt": True}, 1)
expression("$toInt truncates a double", agg("toInt"), {"$toInt": 1.99999}, 1)
expression("$toInt of a long", agg("toInt"), {"$toInt": Int64(5000)}, 5000)
expression("$toInt of a string", agg("toInt"), {"$toInt": "-2"}, -2)
expression("$toInt of null", agg("toInt"), {"$toInt": None}, None)
expression(
    "$toInt of a decimal string is an error",
    agg("toInt"),
    {"$toInt": "2.5"},
    error="Failed to parse number '2.5' in $convert",
)
expression(
    "$toInt of a long out of range is an error",
    agg("toInt"),
    {"$toInt": Int64(922337203600)},
    error="Conversion would overflow target type",
)
# https://www.mongodb.com/docs/manual/reference/operator/aggregation/toLong/
expression("$toLong of an int", agg("toLong"), {"$toLong": 8}, Int64(8))
expression(
    "$toLong of a date",
    agg("toLong"),
    {"$toLong": datetime(2018, 3, 26, 4, 38, 28, 44000)},
    Int64(1522039108044),
)
expression("$toLong of a string", agg("toLong"), {"$toLong": "-2"}, Int64(-2))
# https://www.mongodb.com/docs/manual/reference/operator/aggregation/toDouble/
expression("$toDouble of false", agg("toDouble"), {"$toDouble": False}, 0.0)
expression("$toDouble of a string", agg("toDouble"), {"$toDouble": "-5.5"}, -5.5)
expression("$toDouble of an exponent string", agg("toDouble"), {"$toDouble": "5e10"}, 50000000000.0)
expression(
    "$toDouble of a date",
    agg("toDouble"),
    {"$toDouble": datetime(2018, 3, 27, 5, 4, 47, 890000)},
    1522127087890.0,
)
# https://www.mongodb.com/docs/manual/reference/operator/aggregation/toBool/
expression("$toBool of a string is true", agg("toBool"), {"$toBool": "false"}, True)
expression("$toBool of an empty string is true", agg("toBool"), {"$toBool": ""}, True)
expression("$toBool of zero is false", agg("toBool"), {"$toBool": 0}, False)
expression("$toBool of a date is true", agg("toBool"), {"$toBool": datetime(2018, 3, 26)}, True)
# https://www.mongodb.com/docs/manual/reference/operator/aggregation/toString/
expression("$toString of a double", agg("toString"), {"$toString": 2.5}, "2.5")
expression("$toString of a bool", agg("toString"), {"$toString": False}, "false")
expression("$toString of a long", agg("toString"), {"$toString": Int64(1000)}, "1000")
expression(
    "$toString of an ObjectId",
    agg("toString"),
    {"$toString": ObjectId("5ab9c3da31c2ab715d421285")},
    "5ab9c3da31c2ab715d421285",
)
expression(
    "$toString of a date",
    agg("toString"),
    {"$toString": datetime(2018, 3, 27, 16, 58, 51, 538000)},
    "2018-03-27T16:58:51.538Z",
)
# https://www.mongodb.com/docs/manual/reference/operator/aggregation/convert/
expression("$convert to int", agg("convert"), {"$convert": {"input": "5", "to": "int"}}, 5)
expression("$convert with a numeric type", agg("convert"), {"$convert": {"input": 5, "to": 1}}, 5.0)
expression(
    "$convert onError",
    agg("convert"),
    {"$convert": {"input": "$price", "to": "double", "onError": "Error", "onNull": 0.0}},
    "Error",
    doc={"price": "a4.99"},
)
expression(
    "$convert onNull",
    agg("convert"),
    {"$convert": {"input": "$price", "to": "double", "onError": "Error", "onNull": 0.0}},
    0.0,
)
expression(
    "$convert an unsupported pair is an error",
    agg("convert"),
    {"$convert": {"input": "$o", "to": "int"}},
    doc={"o": {"a": 1}},
    error="Unsupported conversion from object to int in $convert with no onError value",
)


# =============================================================================================
# Stages
# =============================================================================================

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/match/ (ObjectId _ids of
# the page written as 1..7)
ARTICLES = d(
    {"_id": 1, "author": "dave", "score": 80, "views": 100},
    {"_id": 2, "author": "dave", "score": 85, "views": 521},
    {"_id": 3, "author": "ahn", "score": 60, "views": 1000},
    {"_id": 4, "author": "li", "score": 55, "views": 5000},
    {"_id": 5, "author": "annT", "score": 60, "views": 50},
    {"_id": 6, "author": "li", "score": 94, "views": 999},
    {"_id": 7, "author": "ty", "score": 95, "views": 1000},
)
match("$match equality", agg("match"), ARTICLES, {"author": "dave"}, [1, 2])
case(
    "$match then count with $group",
    agg("match"),
    ARTICLES,
    [
        {"$match": {"$or": [{"score": {"$gt": 70, "$lt": 90}}, {"views": {"$gte": 1000}}]}},
        {"$group": {"_id": None, "count": {"$sum": 1}}},
    ],
    [{"_id": None, "count": 5}],
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/project/
BOOK = {
    "_id": 1,
    "title": "abc123",
    "isbn": "0001122223334",
    "author": {"last": "zzz", "first": "aaa"},
    "copies": 5,
    "lastModified": "2016-07-28",
}
case(
    "$project inclusion keeps _id",
    agg("project"),
    [BOOK],
    [{"$project": {"title": 1, "author": 1}}],
    [{"_id": 1, "title": "abc123", "author": {"last": "zzz", "first": "aaa"}}],
)
case(
    "$project suppressing _id",
    agg("project"),
    [BOOK],
    [{"$project": {"_id": 0, "title": 1, "author": 1}}],
    [{"title": "abc123", "author": {"last": "zzz", "first": "aaa"}}],
)
case(
    "$project exclusion",
    agg("project"),
    [BOOK],
    [{"$project": {"lastModified": 0}}],
    [
        {
            "_id": 1,
            "title": "abc123",
            "isbn": "0001122223334",
            "author": {"last": "zzz", "first": "aaa"},
            "copies": 5,
        }
    ],
)
case(
    "$project excluding embedded fields",
    agg("project"),
    [BOOK],
    [{"$project": {"author.first": 0, "lastModified": 0}}],
    [
        {
            "_id": 1,
            "title": "abc123",
            "isbn": "0001122223334",
            "author": {"last": "zzz"},
            "copies": 5,
        }
    ],
)
case(
    "$project computed fields (a string replaced by a document)",
    agg("project"),
    [BOOK],
    [
        {
            "$project": {
                "title": 1,
                "isbn": {
                    "prefix": {"$substr": ["$isbn", 0, 3]},
                    "group": {"$substr": ["$isbn", 3, 2]},
                    "publisher": {"$substr": ["$isbn", 5, 4]},
                    "title": {"$substr": ["$isbn", 9, 3]},
                    "checkDigit": {"$substr": ["$isbn", 12, 1]},
                },
                "lastName": "$author.last",
                "copiesSold": "$copies",
            }
        }
    ],
    [
        {
            "_id": 1,
            "title": "abc123",
            "isbn": {
                "prefix": "000",
                "group": "11",
                "publisher": "2222",
                "title": "333",
                "checkDigit": "4",
            },
            "lastName": "zzz",
            "copiesSold": 5,
        }
    ],
)
BOOKMARKS = d(
    {"_id": 1, "user": "1234", "stop": {"title": "book1", "author": "xyz", "page": 32}},
    {
        "_id": 2,
        "user": "7890",
        "stop": [
            {"title": "book2", "author": "abc", "page": 5},
            {"title": "book3", "author": "ijk", "page": 100},
        ],
    },
)
case(
    "$project embedded fields, in documents and in arrays",
    agg("project"),
    BOOKMARKS,
    [{"$project": {"stop.title": 1}}],
    [
        {"_id": 1, "stop": {"title": "book1"}},
        {"_id": 2, "stop": [{"title": "book2"}, {"title": "book3"}]},
    ],
)
case(
    "$project nested-document form equals dotted form",
    agg("project"),
    BOOKMARKS,
    [{"$project": {"stop": {"title": 1}}}],
    [
        {"_id": 1, "stop": {"title": "book1"}},
        {"_id": 2, "stop": [{"title": "book2"}, {"title": "book3"}]},
    ],
)
AUTHORS = d(
    {"_id": 1, "title": "abc123", "author": {"last": "zzz", "first": "aaa", "middle": ""}},
    {"_id": 2, "title": "Baked Goods", "author": {"last": "xyz", "first": "abc", "middle": "mmm"}},
    {"_id": 3, "title": "Ice Cream Cakes", "author": {"last": "xyz", "first": "abc"}},
)
case(
    "$project conditionally excluding a field with $$REMOVE",
    agg("project"),
    AUTHORS,
    [
        {
            "$project": {
                "title": 1,
                "author.first": 1,
                "author.last": 1,
                "author.middle": {
                    "$cond": {
                        "if": {"$eq": ["", "$author.middle"]},
                        "then": "$$REMOVE",
                        "else": "$author.middle",
                    }
                },
            }
        }
    ],
    [
        {"_id": 1, "title": "abc123", "author": {"last": "zzz", "first": "aaa"}},
        {
            "_id": 2,
            "title": "Baked Goods",
            "author": {"last": "xyz", "first": "abc", "middle": "mmm"},
        },
        {"_id": 3, "title": "Ice Cream Cakes", "author": {"last": "xyz", "first": "abc"}},
    ],
)
case(
    "$project mixing inclusion and exclusion is refused",
    agg("project"),
    [BOOK],
    [{"$project": {"title": 1, "isbn": 0}}],
    error="exclusion",
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/addFields/
ADDFIELDS_SCORES = d(
    {"_id": 1, "student": "Maya", "homework": [10, 5, 10], "quiz": [10, 8], "extraCredit": 0},
    {"_id": 2, "student": "Ryan", "homework": [5, 6, 5], "quiz": [8, 8], "extraCredit": 8},
)
case(
    "$addFields in two stages",
    agg("addFields"),
    ADDFIELDS_SCORES,
    [
        {"$addFields": {"totalHomework": {"$sum": "$homework"}, "totalQuiz": {"$sum": "$quiz"}}},
        {"$addFields": {"totalScore": {"$add": ["$totalHomework", "$totalQuiz", "$extraCredit"]}}},
    ],
    [
        {
            "_id": 1,
            "student": "Maya",
            "homework": [10, 5, 10],
            "quiz": [10, 8],
            "extraCredit": 0,
            "totalHomework": 25,
            "totalQuiz": 18,
            "totalScore": 43,
        },
        {
            "_id": 2,
            "student": "Ryan",
            "homework": [5, 6, 5],
            "quiz": [8, 8],
            "extraCredit": 8,
            "totalHomework": 16,
            "totalQuiz": 16,
            "totalScore": 40,
        },
    ],
)
VEHICLES = d(
    {"_id": 1, "type": "car", "specs": {"doors": 4, "wheels": 4}},
    {"_id": 2, "type": "motorcycle", "specs": {"doors": 0, "wheels": 2}},
    {"_id": 3, "type": "jet ski"},
)
case(
    "$addFields to an embedded document",
    agg("addFields"),
    VEHICLES,
    [{"$addFields": {"specs.fuel_type": "unleaded"}}],
    [
        {"_id": 1, "type": "car", "specs": {"doors": 4, "wheels": 4, "fuel_type": "unleaded"}},
        {
            "_id": 2,
            "type": "motorcycle",
            "specs": {"doors": 0, "wheels": 2, "fuel_type": "unleaded"},
        },
        {"_id": 3, "type": "jet ski", "specs": {"fuel_type": "unleaded"}},
    ],
)
case(
    "$addFields overwriting a field",
    agg("addFields"),
    [{"_id": 1, "dogs": 10, "cats": 15}],
    [{"$addFields": {"cats": 20}}],
    [{"_id": 1, "dogs": 10, "cats": 20}],
)
case(
    "$addFields replacing _id with another field",
    agg("addFields"),
    d(
        {"_id": 1, "item": "tangerine", "type": "citrus"},
        {"_id": 2, "item": "lemon", "type": "citrus"},
        {"_id": 3, "item": "grapefruit", "type": "citrus"},
    ),
    [{"$addFields": {"_id": "$item", "item": "fruit"}}],
    [
        {"_id": "tangerine", "item": "fruit", "type": "citrus"},
        {"_id": "lemon", "item": "fruit", "type": "citrus"},
        {"_id": "grapefruit", "item": "fruit", "type": "citrus"},
    ],
)
# https://www.mongodb.com/docs/manual/reference/operator/aggregation/set/
case(
    "$set adding an element to an array",
    agg("set"),
    ADDFIELDS_SCORES,
    [{"$match": {"_id": 1}}, {"$set": {"homework": {"$concatArrays": ["$homework", [7]]}}}],
    [{"_id": 1, "student": "Maya", "homework": [10, 5, 10, 7], "quiz": [10, 8], "extraCredit": 0}],
)
case(
    "$set a computed field",
    agg("set"),
    ADDFIELDS_SCORES,
    [
        {"$set": {"quizAverage": {"$avg": "$quiz"}}},
        {"$project": {"_id": 0, "student": 1, "quizAverage": 1}},
    ],
    [{"student": "Maya", "quizAverage": 9.0}, {"student": "Ryan", "quizAverage": 8.0}],
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/unset/
UNSET_BOOKS = d(
    {
        "_id": 1,
        "title": "Antelope Antics",
        "isbn": "0001122223334",
        "author": {"last": "An", "first": "Auntie"},
        "copies": [{"warehouse": "A", "qty": 5}, {"warehouse": "B", "qty": 15}],
    },
    {
        "_id": 2,
        "title": "Bees Babble",
        "isbn": "999999999333",
        "author": {"last": "Bumble", "first": "Bee"},
        "copies": [{"warehouse": "A", "qty": 2}, {"warehouse": "B", "qty": 5}],
    },
)
case(
    "$unset one field",
    agg("unset"),
    UNSET_BOOKS,
    [{"$unset": "copies"}],
    [
        {
            "_id": 1,
            "title": "Antelope Antics",
            "isbn": "0001122223334",
            "author": {"last": "An", "first": "Auntie"},
        },
        {
            "_id": 2,
            "title": "Bees Babble",
            "isbn": "999999999333",
            "author": {"last": "Bumble", "first": "Bee"},
        },
    ],
)
case(
    "$unset embedded fields, also inside arrays",
    agg("unset"),
    UNSET_BOOKS,
    [{"$unset": ["isbn", "author.first", "copies.warehouse"]}],
    [
        {
            "_id": 1,
            "title": "Antelope Antics",
            "author": {"last": "An"},
            "copies": [{"qty": 5}, {"qty": 15}],
        },
        {
            "_id": 2,
            "title": "Bees Babble",
            "author": {"last": "Bumble"},
            "copies": [{"qty": 2}, {"qty": 5}],
        },
    ],
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/unwind/ (prices of the page
# written as ints)
INVENTORY2 = d(
    {"_id": 1, "item": "ABC", "price": 80, "sizes": ["S", "M", "L"]},
    {"_id": 2, "item": "EFG", "price": 120, "sizes": []},
    {"_id": 3, "item": "IJK", "price": 160, "sizes": "M"},
    {"_id": 4, "item": "LMN", "price": 10},
    {"_id": 5, "item": "XYZ", "price": 5.75, "sizes": None},
)
case(
    "$unwind",
    agg("unwind"),
    INVENTORY2,
    [{"$unwind": "$sizes"}],
    [
        {"_id": 1, "item": "ABC", "price": 80, "sizes": "S"},
        {"_id": 1, "item": "ABC", "price": 80, "sizes": "M"},
        {"_id": 1, "item": "ABC", "price": 80, "sizes": "L"},
        {"_id": 3, "item": "IJK", "price": 160, "sizes": "M"},
    ],
)
case(
    "$unwind includeArrayIndex",
    agg("unwind"),
    INVENTORY2,
    [{"$unwind": {"path": "$sizes", "includeArrayIndex": "arrayIndex"}}],
    [
        {"_id": 1, "item": "ABC", "price": 80, "sizes": "S", "arrayIndex": Int64(0)},
        {"_id": 1, "item": "ABC", "price": 80, "sizes": "M", "arrayIndex": Int64(1)},
        {"_id": 1, "item": "ABC", "price": 80, "sizes": "L", "arrayIndex": Int64(2)},
        {"_id": 3, "item": "IJK", "price": 160, "sizes": "M", "arrayIndex": None},
    ],
)
case(
    "$unwind preserveNullAndEmptyArrays",
    agg("unwind"),
    INVENTORY2,
    [{"$unwind": {"path": "$sizes", "preserveNullAndEmptyArrays": True}}],
    [
        {"_id": 1, "item": "ABC", "price": 80, "sizes": "S"},
        {"_id": 1, "item": "ABC", "price": 80, "sizes": "M"},
        {"_id": 1, "item": "ABC", "price": 80, "sizes": "L"},
        {"_id": 2, "item": "EFG", "price": 120},
        {"_id": 3, "item": "IJK", "price": 160, "sizes": "M"},
        {"_id": 4, "item": "LMN", "price": 10},
        {"_id": 5, "item": "XYZ", "price": 5.75, "sizes": None},
    ],
)
case(
    "$unwind then $group by the unwound values",
    agg("unwind"),
    INVENTORY2,
    [
        {"$unwind": {"path": "$sizes", "preserveNullAndEmptyArrays": True}},
        {"$group": {"_id": "$sizes", "averagePrice": {"$avg": "$price"}}},
        {"$sort": {"averagePrice": -1, "_id": 1}},
    ],
    [
        {"_id": "M", "averagePrice": 120.0},
        {"_id": "L", "averagePrice": 80.0},
        {"_id": "S", "averagePrice": 80.0},
        {"_id": None, "averagePrice": 45.25},
    ],
)
UNWIND_SALES = d(
    {
        "_id": "1",
        "items": [
            {
                "name": "pens",
                "tags": ["writing", "office", "school", "stationary"],
                "price": 12,
                "quantity": 5,
            },
            {"name": "envelopes", "tags": ["stationary", "office"], "price": 2, "quantity": 8},
        ],
    },
    {
        "_id": "2",
        "items": [
            {"name": "laptop", "tags": ["office", "electronics"], "price": 800, "quantity": 1},
            {"name": "notepad", "tags": ["stationary", "school"], "price": 15, "quantity": 3},
        ],
    },
)
case(
    "$unwind embedded arrays",
    agg("unwind"),
    UNWIND_SALES,
    [
        {"$unwind": "$items"},
        {"$unwind": "$items.tags"},
        {
            "$group": {
                "_id": "$items.tags",
                "totalSalesAmount": {"$sum": {"$multiply": ["$items.price", "$items.quantity"]}},
            }
        },
    ],
    [
        {"_id": "writing", "totalSalesAmount": 60},
        {"_id": "office", "totalSalesAmount": 876},
        {"_id": "school", "totalSalesAmount": 105},
        {"_id": "stationary", "totalSalesAmount": 121},
        {"_id": "electronics", "totalSalesAmount": 800},
    ],
    ordered=False,
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/sort/
RESTAURANTS = d(
    {"_id": 1, "name": "Central Park Cafe", "borough": "Manhattan"},
    {"_id": 2, "name": "Rock A Feller Bar and Grill", "borough": "Queens"},
    {"_id": 3, "name": "Empire State Pub", "borough": "Brooklyn"},
    {"_id": 4, "name": "Stan's Pizzaria", "borough": "Manhattan"},
    {"_id": 5, "name": "Jane's Deli", "borough": "Brooklyn"},
)
case(
    "$sort on two keys",
    agg("sort"),
    RESTAURANTS,
    [{"$sort": {"borough": 1, "_id": 1}}],
    [RESTAURANTS[2], RESTAURANTS[4], RESTAURANTS[0], RESTAURANTS[3], RESTAURANTS[1]],
)
case(
    "$sort descending",
    agg("sort"),
    ARTICLES,
    [{"$sort": {"score": -1, "_id": 1}}, {"$project": {"_id": 1}}],
    [{"_id": 7}, {"_id": 6}, {"_id": 2}, {"_id": 1}, {"_id": 3}, {"_id": 5}, {"_id": 4}],
)
MIXED = d(
    {"_id": 1, "v": "text"},
    {"_id": 2, "v": 5},
    {"_id": 3},
    {"_id": 4, "v": {"a": 1}},
    {"_id": 5, "v": True},
    {"_id": 6, "v": None},
)
case(
    "$sort across types follows the comparison order (missing as null)",
    SORT_ORDER,
    MIXED,
    [{"$sort": {"v": 1, "_id": 1}}, {"$project": {"_id": 1}}],
    [{"_id": 3}, {"_id": 6}, {"_id": 2}, {"_id": 1}, {"_id": 4}, {"_id": 5}],
)
ARRAYS_TO_SORT = d(
    {"_id": 1, "v": [1, 9]},
    {"_id": 2, "v": 5},
    {"_id": 3, "v": []},
    {"_id": 4, "v": None},
    {"_id": 5, "v": [3, 4]},
)
case(
    "$sort ascending uses an array's smallest element; [] sorts before null",
    SORT_ORDER,
    ARRAYS_TO_SORT,
    [{"$sort": {"v": 1}}, {"$project": {"_id": 1}}],
    [{"_id": 3}, {"_id": 4}, {"_id": 1}, {"_id": 5}, {"_id": 2}],
)
case(
    "$sort descending uses an array's largest element",
    SORT_ORDER,
    ARRAYS_TO_SORT,
    [{"$sort": {"v": -1}}, {"$project": {"_id": 1}}],
    [{"_id": 1}, {"_id": 2}, {"_id": 5}, {"_id": 4}, {"_id": 3}],
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/limit/ (and skip)
case(
    "$limit",
    agg("limit"),
    ARTICLES,
    [{"$sort": {"_id": 1}}, {"$limit": 2}, {"$project": {"author": 1}}],
    [{"_id": 1, "author": "dave"}, {"_id": 2, "author": "dave"}],
)
case(
    "$skip",
    agg("skip"),
    ARTICLES,
    [{"$sort": {"_id": 1}}, {"$skip": 5}, {"$project": {"author": 1}}],
    [{"_id": 6, "author": "li"}, {"_id": 7, "author": "ty"}],
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/count/
COUNT_SCORES = d(
    {"_id": 1, "subject": "History", "score": 88},
    {"_id": 2, "subject": "History", "score": 92},
    {"_id": 3, "subject": "History", "score": 97},
    {"_id": 4, "subject": "History", "score": 71},
    {"_id": 5, "subject": "History", "score": 79},
    {"_id": 6, "subject": "History", "score": 83},
)
case(
    "$count",
    agg("count"),
    COUNT_SCORES,
    [{"$match": {"score": {"$gt": 80}}}, {"$count": "passing_scores"}],
    [{"passing_scores": 4}],
)
case(
    "$count of nothing outputs nothing",
    agg("count"),
    COUNT_SCORES,
    [{"$match": {"score": {"$gt": 100}}}, {"$count": "passing_scores"}],
    [],
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/replaceRoot/ (and replaceWith)
PRODUCE = d(
    {
        "_id": 1,
        "fruit": ["apples", "oranges"],
        "in_stock": {"oranges": 20, "apples": 60},
        "on_order": {"oranges": 35, "apples": 75},
    },
    {
        "_id": 2,
        "vegetables": ["beets", "yams"],
        "in_stock": {"beets": 130, "yams": 200},
        "on_order": {"beets": 90, "yams": 145},
    },
)
case(
    "$replaceRoot with an embedded document",
    agg("replaceRoot"),
    PRODUCE,
    [{"$replaceRoot": {"newRoot": "$in_stock"}}],
    [{"oranges": 20, "apples": 60}, {"beets": 130, "yams": 200}],
)
case(
    "$replaceWith with an embedded document",
    agg("replaceWith"),
    PRODUCE,
    [{"$replaceWith": "$in_stock"}],
    [{"oranges": 20, "apples": 60}, {"beets": 130, "yams": 200}],
)
CONTACTS = d(
    {"_id": 1, "first_name": "Gary", "last_name": "Sheffield", "city": "New York"},
    {"_id": 2, "first_name": "Nancy", "last_name": "Walker", "city": "Anaheim"},
    {"_id": 3, "first_name": "Peter", "last_name": "Sumner", "city": "Toledo"},
)
case(
    "$replaceRoot with a new document",
    agg("replaceRoot"),
    CONTACTS,
    [{"$replaceRoot": {"newRoot": {"full_name": {"$concat": ["$first_name", " ", "$last_name"]}}}}],
    [{"full_name": "Gary Sheffield"}, {"full_name": "Nancy Walker"}, {"full_name": "Peter Sumner"}],
)
case(
    "$replaceRoot of a missing field is an error",
    agg("replaceRoot"),
    d({"_id": 1, "name": {"first": "John", "last": "Backus"}}, {"_id": 2, "name": "Grace"}),
    [{"$replaceRoot": {"newRoot": "$name"}}],
    error="must evaluate to an object",
)


# =============================================================================================
# $group and its accumulators
# =============================================================================================

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/group/ (the sales collection
# of the accumulator pages, with the int prices of their earlier editions)
GROUP_SALES = d(
    {"_id": 1, "item": "abc", "price": 10, "quantity": 2, "date": datetime(2014, 1, 1, 8)},
    {"_id": 2, "item": "jkl", "price": 20, "quantity": 1, "date": datetime(2014, 2, 3, 9)},
    {"_id": 3, "item": "xyz", "price": 5, "quantity": 5, "date": datetime(2014, 2, 3, 9, 5)},
    {"_id": 4, "item": "abc", "price": 10, "quantity": 10, "date": datetime(2014, 2, 15, 8)},
    {"_id": 5, "item": "xyz", "price": 5, "quantity": 10, "date": datetime(2014, 2, 15, 9, 5)},
)
case(
    "$group $sum",
    agg("sum"),
    GROUP_SALES,
    [
        {
            "$group": {
                "_id": "$item",
                "totalAmount": {"$sum": {"$multiply": ["$price", "$quantity"]}},
                "count": {"$sum": 1},
            }
        }
    ],
    [
        {"_id": "abc", "totalAmount": 120, "count": 2},
        {"_id": "jkl", "totalAmount": 20, "count": 1},
        {"_id": "xyz", "totalAmount": 75, "count": 2},
    ],
    ordered=False,
)
case(
    "$group $avg",
    agg("avg"),
    GROUP_SALES,
    [
        {
            "$group": {
                "_id": "$item",
                "avgAmount": {"$avg": {"$multiply": ["$price", "$quantity"]}},
                "avgQuantity": {"$avg": "$quantity"},
            }
        }
    ],
    [
        {"_id": "xyz", "avgAmount": 37.5, "avgQuantity": 7.5},
        {"_id": "jkl", "avgAmount": 20.0, "avgQuantity": 1.0},
        {"_id": "abc", "avgAmount": 60.0, "avgQuantity": 6.0},
    ],
    ordered=False,
)
case(
    "$group $max",
    agg("max"),
    GROUP_SALES,
    [
        {
            "$group": {
                "_id": "$item",
                "maxTotalAmount": {"$max": {"$multiply": ["$price", "$quantity"]}},
                "maxQuantity": {"$max": "$quantity"},
            }
        }
    ],
    [
        {"_id": "xyz", "maxTotalAmount": 50, "maxQuantity": 10},
        {"_id": "jkl", "maxTotalAmount": 20, "maxQuantity": 1},
        {"_id": "abc", "maxTotalAmount": 100, "maxQuantity": 10},
    ],
    ordered=False,
)
case(
    "$group $min",
    agg("min"),
    GROUP_SALES,
    [{"$group": {"_id": "$item", "minQuantity": {"$min": "$quantity"}}}],
    [
        {"_id": "xyz", "minQuantity": 5},
        {"_id": "jkl", "minQuantity": 1},
        {"_id": "abc", "minQuantity": 2},
    ],
    ordered=False,
)
case(
    "$group $first after $sort",
    agg("first"),
    GROUP_SALES,
    [
        {"$sort": {"item": 1, "date": 1}},
        {"$group": {"_id": "$item", "firstSalesDate": {"$first": "$date"}}},
    ],
    [
        {"_id": "abc", "firstSalesDate": datetime(2014, 1, 1, 8)},
        {"_id": "jkl", "firstSalesDate": datetime(2014, 2, 3, 9)},
        {"_id": "xyz", "firstSalesDate": datetime(2014, 2, 3, 9, 5)},
    ],
    ordered=False,
)
case(
    "$group $last after $sort",
    agg("last"),
    GROUP_SALES,
    [
        {"$sort": {"item": 1, "date": 1}},
        {"$group": {"_id": "$item", "lastSalesDate": {"$last": "$date"}}},
    ],
    [
        {"_id": "abc", "lastSalesDate": datetime(2014, 2, 15, 8)},
        {"_id": "jkl", "lastSalesDate": datetime(2014, 2, 3, 9)},
        {"_id": "xyz", "lastSalesDate": datetime(2014, 2, 15, 9, 5)},
    ],
    ordered=False,
)
case(
    "$group $push",
    agg("push"),
    GROUP_SALES,
    [
        {"$sort": {"date": 1}},
        {
            "$group": {
                "_id": "$item",
                "itemsSold": {"$push": {"quantity": "$quantity", "price": "$price"}},
            }
        },
    ],
    [
        {"_id": "abc", "itemsSold": [{"quantity": 2, "price": 10}, {"quantity": 10, "price": 10}]},
        {"_id": "jkl", "itemsSold": [{"quantity": 1, "price": 20}]},
        {"_id": "xyz", "itemsSold": [{"quantity": 5, "price": 5}, {"quantity": 10, "price": 5}]},
    ],
    ordered=False,
)
case(
    "$group $addToSet",
    agg("addToSet"),
    GROUP_SALES,
    [{"$group": {"_id": "$item", "prices": {"$addToSet": "$price"}}}],
    [{"_id": "abc", "prices": [10]}, {"_id": "jkl", "prices": [20]}, {"_id": "xyz", "prices": [5]}],
    ordered=False,
)
case(
    "$group $count",
    agg("count-accumulator"),
    GROUP_SALES,
    [{"$group": {"_id": "$item", "n": {"$count": {}}}}],
    [{"_id": "abc", "n": 2}, {"_id": "jkl", "n": 1}, {"_id": "xyz", "n": 2}],
    ordered=False,
)
case(
    "$group by null counts everything",
    agg("group"),
    GROUP_SALES,
    [
        {
            "$group": {
                "_id": None,
                "totalSaleAmount": {"$sum": {"$multiply": ["$price", "$quantity"]}},
                "count": {"$sum": 1},
            }
        }
    ],
    [{"_id": None, "totalSaleAmount": 215, "count": 5}],
)
case(
    "$group by a document",
    agg("group"),
    GROUP_SALES,
    [{"$group": {"_id": {"item": "$item", "price": "$price"}, "qty": {"$sum": "$quantity"}}}],
    [
        {"_id": {"item": "abc", "price": 10}, "qty": 12},
        {"_id": {"item": "jkl", "price": 20}, "qty": 1},
        {"_id": {"item": "xyz", "price": 5}, "qty": 15},
    ],
    ordered=False,
)
case(
    "$group puts null and missing keys together",
    agg("group"),
    d({"_id": 1, "k": None, "v": 1}, {"_id": 2, "v": 2}, {"_id": 3, "k": "a", "v": 3}),
    [{"$group": {"_id": "$k", "total": {"$sum": "$v"}}}],
    [{"_id": None, "total": 3}, {"_id": "a", "total": 3}],
    ordered=False,
)
case(
    "$group groups numbers by value across types",
    agg("group"),
    d({"_id": 1, "k": 1, "v": 1}, {"_id": 2, "k": 1.0, "v": 2}, {"_id": 3, "k": Int64(1), "v": 3}),
    [{"$group": {"_id": "$k", "total": {"$sum": "$v"}}}],
    [{"_id": 1, "total": 6}],
)
BAD_DATA = d(
    {"_id": 1, "price": 6, "quantity": 6},
    {"_id": 2, "item": "album", "price": 5, "quantity": 5},
    {"_id": 7, "item": "tape", "price": 6, "quantity": 6},
    {"_id": 8, "price": 5, "quantity": 5},
    {"_id": 9, "item": "album", "price": 3, "quantity": ""},
    {"_id": 10, "item": "tape", "price": 3, "quantity": 4},
    {"_id": 12, "item": "cd", "price": 7},
)
case(
    "$first of a missing field is null",
    agg("first"),
    BAD_DATA,
    [
        {"$sort": {"item": 1, "price": 1}},
        {"$group": {"_id": "$item", "inStock": {"$first": "$quantity"}}},
    ],
    [
        {"_id": None, "inStock": 5},
        {"_id": "album", "inStock": ""},
        {"_id": "cd", "inStock": None},
        {"_id": "tape", "inStock": 4},
    ],
    ordered=False,
)
case(
    "$push skips missing values",
    agg("push"),
    d({"_id": 1, "g": 1, "v": 1}, {"_id": 2, "g": 1}, {"_id": 3, "g": 1, "v": None}),
    [{"$group": {"_id": "$g", "vs": {"$push": "$v"}}}],
    [{"_id": 1, "vs": [1, None]}],
)
case(
    "$max and $min ignore null and missing",
    agg("min"),
    d(
        {"_id": 1, "g": 1, "v": None},
        {"_id": 2, "g": 1},
        {"_id": 3, "g": 1, "v": 4},
        {"_id": 4, "g": 1, "v": 2},
    ),
    [{"$group": {"_id": "$g", "lo": {"$min": "$v"}, "hi": {"$max": "$v"}}}],
    [{"_id": 1, "lo": 2, "hi": 4}],
)
case(
    "$avg and $sum ignore non-numbers",
    agg("avg"),
    d(
        {"_id": 1, "g": 1, "v": "x"},
        {"_id": 2, "g": 1, "v": 4},
        {"_id": 3, "g": 1, "v": 2.0},
        {"_id": 4, "g": 1},
    ),
    [{"$group": {"_id": "$g", "mean": {"$avg": "$v"}, "total": {"$sum": "$v"}}}],
    [{"_id": 1, "mean": 3.0, "total": 6.0}],
)
case(
    "$group without _id is refused",
    agg("group"),
    GROUP_SALES,
    [{"$group": {"total": {"$sum": 1}}}],
    error="_id",
)


# =============================================================================================
# A Kowalski-style filter end to end (every stage it uses is documented above)
# =============================================================================================

ALERTS = d(
    {
        "_id": 1,
        "candid": 1,
        "objectId": "ZTF20aaaaaaa",
        "candidate": {
            "drb": 0.99,
            "isdiffpos": "t",
            "magpsf": 17.25,
            "jd": 2459000.5,
            "programid": 1,
        },
        "classifications": {"braai": 0.95},
        "prv_candidates": [{"magpsf": 18.0, "jd": 2458990.5}, {"magpsf": 18.5, "jd": 2458980.5}],
    },
    {
        "_id": 2,
        "candid": 2,
        "objectId": "ZTF20aaaaaab",
        "candidate": {
            "drb": 0.5,
            "isdiffpos": "t",
            "magpsf": 19.0,
            "jd": 2459000.6,
            "programid": 1,
        },
        "classifications": {"braai": 0.99},
        "prv_candidates": [],
    },
    {
        "_id": 3,
        "candid": 3,
        "objectId": "ZTF20aaaaaac",
        "candidate": {
            "drb": 0.97,
            "isdiffpos": "f",
            "magpsf": 16.0,
            "jd": 2459000.7,
            "programid": 2,
        },
        "classifications": {"braai": 0.9},
    },
)
case(
    "a Kowalski filter: cuts, history and an annotation",
    agg("project"),
    ALERTS,
    [
        {
            "$match": {
                "candidate.programid": {"$in": [1, 2]},
                "candidate.drb": {"$gt": 0.9},
                "classifications.braai": {"$gt": 0.8},
            }
        },
        {"$match": {"candidate.isdiffpos": {"$in": ["t", "1", 1, True]}}},
        {
            "$project": {
                "_id": 0,
                "objectId": 1,
                "annotations.brightening": {
                    "$round": [
                        {"$subtract": [{"$min": "$prv_candidates.magpsf"}, "$candidate.magpsf"]},
                        2,
                    ]
                },
                "annotations.n_prv": {"$size": {"$ifNull": ["$prv_candidates", []]}},
                "annotations.age": {"$subtract": ["$candidate.jd", {"$min": "$prv_candidates.jd"}]},
            }
        },
        {"$match": {"annotations.brightening": {"$gt": 0.5}}},
    ],
    [{"objectId": "ZTF20aaaaaaa", "annotations": {"brightening": 0.75, "n_prv": 2, "age": 20.0}}],
)


# The operator families added for MongoDB 7.0's full expression set live in their own modules;
# importing them appends their cases to CASES.
from tests.unit.filters import (  # noqa: E402
    cases_arrays,
    cases_dates,
    cases_stages,
    cases_strings,
)

del cases_arrays, cases_dates, cases_stages, cases_strings
