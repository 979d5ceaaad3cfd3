"""Conformance cases for strings, types, bitwise, data size, timestamps and hyperbolic trigonometry.

Same conventions as conformance_cases.py: each case reproduces an example or a stated rule of
the MongoDB manual page it cites. mongosh numbers are doubles: where a page's result depends on
that (an error naming "double", a BSON size), the case writes the double.
"""

from __future__ import annotations

import math
from datetime import datetime

from bson import Binary, Decimal128, Int64, ObjectId, Regex, Timestamp

from tests.unit.filters.conformance_cases import (
    CONCAT_INVENTORY,
    FOOD,
    REGEX_PRODUCTS,
    agg,
    case,
    d,
    expression,
    match,
    project,
    query,
)

# =============================================================================================
# Strings
# =============================================================================================

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/split/ (its table)
for text, separator, parts in [
    ("June-15-2013", "-", ["June", "15", "2013"]),
    ("banana split", "a", ["b", "n", "n", " split"]),
    ("Hello World", " ", ["Hello", "World"]),
    ("astronomical", "astro", ["", "nomical"]),
    ("pea green boat", "owl", ["pea green boat"]),
]:
    expression(
        f"$split {text!r} on {separator!r}", agg("split"), {"$split": [text, separator]}, parts
    )
expression(
    "$split by a number is an error (mongosh's 7 is a double)",
    agg("split"),
    {"$split": ["headphone jack", 7.0]},
    error="$split requires an expression that evaluates to a string as a second argument, "
    "found: double",
)
expression(
    "$split by a regex is an error",
    agg("split"),
    {"$split": ["headphone jack", Regex("jack")]},
    error="$split requires an expression that evaluates to a string as a second argument, "
    "found: regex",
)
# The page's rule that both inputs must be strings is about non-null values: a null or missing
# one gives null (the server's ExpressionSplit), and an empty separator is refused.
expression("$split of a missing string is null", agg("split"), {"$split": ["$nothing", "-"]}, None)
expression(
    "$split by an empty separator is an error",
    agg("split"),
    {"$split": ["abc", ""]},
    error="$split requires a non-empty separator",
)
DELIVERIES = d(
    {"_id": 1, "city": "Berkeley, CA", "qty": 648},
    {"_id": 2, "city": "Bend, OR", "qty": 491},
    {"_id": 3, "city": "Kensington, CA", "qty": 233},
    {"_id": 4, "city": "Eugene, OR", "qty": 842},
    {"_id": 5, "city": "Reno, NV", "qty": 655},
    {"_id": 6, "city": "Portland, OR", "qty": 408},
    {"_id": 7, "city": "Sacramento, CA", "qty": 574},
)
case(
    "$split cities into states, then total by state",
    agg("split"),
    DELIVERIES,
    [
        {"$project": {"city_state": {"$split": ["$city", ", "]}, "qty": 1}},
        {"$unwind": "$city_state"},
        {"$match": {"city_state": Regex("[A-Z]{2}")}},
        {"$group": {"_id": {"state": "$city_state"}, "total_qty": {"$sum": "$qty"}}},
        {"$sort": {"total_qty": -1}},
    ],
    [
        {"_id": {"state": "OR"}, "total_qty": 1741},
        {"_id": {"state": "CA"}, "total_qty": 1455},
        {"_id": {"state": "NV"}, "total_qty": 655},
    ],
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/strLenBytes/ (its table; a
# "$..." string is a field path, so "$€λG" goes through $literal)
for text, size in [
    ("abcde", 5),
    ("Hello World!", 12),
    ("cafeteria", 9),
    ("cafétéria", 11),
    ("", 0),
    ("寿司", 6),
]:
    expression(f"$strLenBytes of {text!r}", agg("strLenBytes"), {"$strLenBytes": text}, size)
expression(
    "$strLenBytes counts the bytes of € and λ",
    agg("strLenBytes"),
    {"$strLenBytes": {"$literal": "$€λG"}},
    7,
)
FOOD_WITH_SUSHI = [*FOOD[:7], {"_id": 8, "name": "寿司"}]
project(
    "$strLenBytes of single and multibyte names",
    agg("strLenBytes"),
    FOOD_WITH_SUSHI,
    {"$strLenBytes": "$name"},
    [5, 6, 7, 9, 9, 5, 5, 6],
)
expression(
    "$strLenBytes of a non-string is an error",
    agg("strLenBytes"),
    {"$strLenBytes": "$missing"},
    error="$strLenBytes requires a string argument, found: missing",
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/strcasecmp/
project(
    "$strcasecmp",
    agg("strcasecmp"),
    CONCAT_INVENTORY,
    {"$strcasecmp": ["$quarter", "13q4"]},
    [-1, 0, 1],
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/trim/ (and ltrim, rtrim)
for name, spec, result in [
    ("$trim", {"input": "  \n good  bye \t  "}, "good  bye"),
    ("$trim", {"input": " ggggoodbyeeeee", "chars": "ge"}, " ggggoodby"),
    ("$trim", {"input": "    ggggoodbyeeeee", "chars": " ge"}, "oodby"),
    ("$ltrim", {"input": "  \n good  bye \t  "}, "good  bye \t  "),
    ("$ltrim", {"input": " ggggoodbyeeeee", "chars": "ge"}, " ggggoodbyeeeee"),
    ("$ltrim", {"input": "    ggggoodbyeeeee ", "chars": " gd"}, "oodbyeeeee "),
    ("$rtrim", {"input": "  \n good  bye \t  "}, "  \n good  bye"),
    ("$rtrim", {"input": "ggggoodbyeeeee   ", "chars": "ge"}, "ggggoodbyeeeee   "),
    ("$rtrim", {"input": " ggggoodbyeeeee   ", "chars": "e "}, " ggggoodby"),
]:
    expression(
        f"{name} {spec['input']!r} of {spec.get('chars', 'whitespace')!r}",
        agg(name[1:]),
        {name: spec},
        result,
    )
TRIM_INVENTORY = d(
    {"_id": 1, "item": "ABC1", "quarter": "13Q1", "description": " product 1"},
    {
        "_id": 2,
        "item": "ABC2",
        "quarter": "13Q4",
        "description": "product 2 \n The product is in stock.  \n\n  ",
    },
    {"_id": 3, "item": "XYZ1", "quarter": "14Q2", "description": None},
)
for name, results in [
    ("$trim", ["product 1", "product 2 \n The product is in stock.", None]),
    ("$ltrim", ["product 1", "product 2 \n The product is in stock.  \n\n  ", None]),
    ("$rtrim", [" product 1", "product 2 \n The product is in stock.", None]),
]:
    case(
        f"{name} of descriptions (null stays null)",
        agg(name[1:]),
        TRIM_INVENTORY,
        [{"$project": {"item": 1, "description": {name: {"input": "$description"}}}}],
        [
            {"_id": doc["_id"], "item": doc["item"], "description": result}
            for doc, result in zip(TRIM_INVENTORY, results, strict=True)
        ],
    )
expression(
    "$trim's default set is the page's whitespace list, null character included",
    agg("trim"),
    {"$trim": {"input": "\u2000\u00a0\0\x0b\u1680 x\u200a\r\u2009"}},
    "x",
)
expression(
    "$trim's default set leaves other Unicode spaces",
    agg("trim"),
    {"$trim": {"input": "\u3000x\u2028"}},
    "\u3000x\u2028",
)
expression(
    "$trim of a non-string is an error",
    agg("trim"),
    {"$trim": {"input": 5}},
    error="$trim requires its input to be a string, got 5 (of type int) instead.",
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/indexOfBytes/
# https://www.mongodb.com/docs/manual/reference/operator/aggregation/indexOfCP/ (their tables)
for arguments, in_bytes, in_code_points in [
    (["cafeteria", "e"], 3, 3),
    (["cafétéria", "é"], 3, 3),
    (["cafétéria", "e"], -1, -1),
    (["cafétéria", "t"], 5, 4),
    (["foo.bar.fi", ".", 5], 7, 7),
    (["vanilla", "ll", 0, 2], -1, -1),
    (["vanilla", "ll", 12], -1, -1),
    (["vanilla", "ll", 5, 2], -1, -1),
    (["vanilla", "nilla", 3], -1, -1),
    ([None, "foo"], None, None),
]:
    expression(
        f"$indexOfBytes {arguments}", agg("indexOfBytes"), {"$indexOfBytes": arguments}, in_bytes
    )
    expression(
        f"$indexOfCP {arguments}", agg("indexOfCP"), {"$indexOfCP": arguments}, in_code_points
    )
INDEX_INVENTORY = d(
    {"_id": 1, "item": "foo"},
    {"_id": 2, "item": "fóofoo"},
    {"_id": 3, "item": "the foo bar"},
    {"_id": 4, "item": "hello world fóo"},
    {"_id": 5, "item": None},
    {"_id": 6, "amount": 3},
)
project(
    "$indexOfBytes of foo in items",
    agg("indexOfBytes"),
    INDEX_INVENTORY,
    {"$indexOfBytes": ["$item", "foo"]},
    [0, 4, 4, -1, None, None],
)
project(
    "$indexOfCP of foo in items",
    agg("indexOfCP"),
    INDEX_INVENTORY,
    {"$indexOfCP": ["$item", "foo"]},
    [0, 3, 4, -1, None, None],
)
expression(
    "$indexOfCP with a negative start is an error",
    agg("indexOfCP"),
    {"$indexOfCP": ["vanilla", "ll", -1]},
    error="$indexOfCP requires a nonnegative starting index, found: -1",
)
expression(
    "$indexOfBytes with a negative start is an error",
    agg("indexOfBytes"),
    {"$indexOfBytes": ["vanilla", "ll", -1]},
    error="$indexOfBytes requires a nonnegative starting index, found: -1",
)
expression(
    "$indexOfBytes with a fractional end is an error",
    agg("indexOfBytes"),
    {"$indexOfBytes": ["vanilla", "ll", 0, 2.5]},
    error="requires an integral ending index, found a value of type: double, with value: 2.5",
)
expression(
    "$indexOfCP of a null substring is an error",
    agg("indexOfCP"),
    {"$indexOfCP": ["vanilla", None]},
    error="$indexOfCP requires a string as the second argument, found: null",
)
expression(
    "$indexOfBytes of a non-string is an error",
    agg("indexOfBytes"),
    {"$indexOfBytes": [5, "5"]},
    error="$indexOfBytes requires a string as the first argument, found: int",
)
expression(
    "$indexOfCP takes an integral double start",
    agg("indexOfCP"),
    {"$indexOfCP": ["foo.bar.fi", ".", 5.0]},
    7,
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/replaceOne/
# https://www.mongodb.com/docs/manual/reference/operator/aggregation/replaceAll/
PAINT_INVENTORY = d(
    {"_id": 1, "item": "blue paint"},
    {"_id": 2, "item": "blue and green paint"},
    {"_id": 3, "item": "blue paint with blue paintbrush"},
    {"_id": 4, "item": "blue paint with green paintbrush"},
)
for name, results in [
    (
        "$replaceOne",
        [
            "red paint",
            "blue and green paint",
            "red paint with blue paintbrush",
            "red paint with green paintbrush",
        ],
    ),
    (
        "$replaceAll",
        [
            "red paint",
            "blue and green paint",
            "red paint with red paintbrush",
            "red paint with green paintbrush",
        ],
    ),
]:
    case(
        name,
        agg(name[1:]),
        PAINT_INVENTORY,
        [
            {
                "$project": {
                    "item": {
                        name: {"input": "$item", "find": "blue paint", "replacement": "red paint"}
                    }
                }
            }
        ],
        [
            {"_id": doc["_id"], "item": result}
            for doc, result in zip(PAINT_INVENTORY, results, strict=True)
        ],
    )
    for spec in [
        {"input": None, "find": "abc", "replacement": "ABC"},
        {"input": "abc", "find": None, "replacement": "ABC"},
        {"input": "abc", "find": "abc", "replacement": None},
    ]:
        null_field = next(key for key, value in spec.items() if value is None)
        expression(f"{name} with a null {null_field} is null", agg(name[1:]), {name: spec}, None)
    project(
        f"{name} is case and diacritic sensitive",
        agg(name[1:]),
        d({"_id": 1, "name": "cafe"}, {"_id": 2, "name": "Cafe"}, {"_id": 3, "name": "café"}),
        {name: {"input": "$name", "find": "Cafe", "replacement": "CAFE"}},
        ["cafe", "CAFE", "café"],
    )
    project(
        f"{name} does no unicode normalization",
        agg(name[1:]),
        d({"_id": 1, "name": "caf\xe9"}, {"_id": 2, "name": "cafe\u0301"}),
        {name: {"input": "$name", "find": "café", "replacement": "CAFE"}},
        ["CAFE", "cafe\u0301"],
    )
    expression(
        f"{name} of a number is an error, even beside a null",
        agg(name[1:]),
        {name: {"input": None, "find": 5, "replacement": "x"}},
        error=f"{name} requires that 'find' be a string, found: 5",
    )
expression(
    "$replaceOne replaces the first instance only",
    agg("replaceOne"),
    {"$replaceOne": {"input": "a.b.c", "find": ".", "replacement": "-"}},
    "a-b.c",
)
expression(
    "$replaceOne of a missing input is null",
    agg("replaceOne"),
    {"$replaceOne": {"input": "$nothing", "find": "a", "replacement": "b"}},
    None,
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/regexFind/
CONTACTS = d(
    {"_id": 1, "fname": "Carol", "lname": "Smith", "phone": "718-555-0113"},
    {"_id": 2, "fname": "Daryl", "lname": "Doe", "phone": "212-555-8832"},
    {"_id": 3, "fname": "Polly", "lname": "Andrews", "phone": "208-555-1932"},
    {"_id": 4, "fname": "Colleen", "lname": "Duncan", "phone": "775-555-0187"},
    {"_id": 5, "fname": "Luna", "lname": "Clarke", "phone": "917-555-4414"},
)


def found(match: str, idx: int, *captures: str | None) -> dict:
    return {"match": match, "idx": idx, "captures": list(captures)}


project(
    "$regexFind captures, a group that captured nothing is null",
    agg("regexFind"),
    CONTACTS,
    {"$regexFind": {"input": "$fname", "regex": Regex("(C(ar)*)ol")}},
    [found("Carol", 0, "Car", "ar"), None, None, found("Col", 0, "C", None), None],
)
project(
    "$regexFind captures of alternatives",
    agg("regexFind"),
    CONTACTS,
    {"$regexFind": {"input": "$phone", "regex": Regex("^(718).*|^(212).*|^(917).*")}},
    [
        found("718-555-0113", 0, "718", None, None),
        found("212-555-8832", 0, None, "212", None),
        None,
        None,
        found("917-555-4414", 0, None, None, "917"),
    ],
)
for title, spec, results in [
    (
        "case sensitive",
        {"regex": Regex("line")},
        [None, found("line", 6), found("line", 23), found("line", 9), None, None],
    ),
    (
        "with a group",
        {"regex": Regex("lin(e|k)")},
        [
            None,
            found("line", 6, "e"),
            found("line", 23, "e"),
            found("line", 9, "e"),
            found("link", 9, "k"),
            None,
        ],
    ),
    ("idx counts code points", {"regex": Regex("tier")}, [None] * 5 + [found("tier", 2)]),
    (
        "option i in the regex",
        {"regex": Regex("line", "i")},
        [found("LINE", 7), found("line", 6), found("line", 23), found("line", 9), None, None],
    ),
    (
        "options i and m",
        {"regex": Regex("^s", "im")},
        [found("S", 0), found("s", 12), None, None, None, None],
    ),
    (
        "option x ignores spaces and comments",
        {"regex": Regex("lin(e|k) # matches line or link"), "options": "x"},
        [
            None,
            found("line", 6, "e"),
            found("line", 23, "e"),
            found("line", 9, "e"),
            found("link", 9, "k"),
            None,
        ],
    ),
    (
        "options s and i",
        {"regex": Regex("m.*line"), "options": "si"},
        [
            None,
            None,
            found("Many spaces before     line", 0),
            found("Multiple\nline", 0),
            None,
            None,
        ],
    ),
    (
        "option i in options with a string regex",
        {"regex": "line", "options": "i"},
        [found("LINE", 7), found("line", 6), found("line", 23), found("line", 9), None, None],
    ),
]:
    project(
        f"$regexFind {title}",
        agg("regexFind"),
        REGEX_PRODUCTS,
        {"$regexFind": {"input": "$description", **spec}},
        results,
    )
# The page prints comment 3 as below in its output (its insert shows an earlier wording).
FEEDBACK = d(
    {"_id": 1, "comment": "Hi, I'm just reading about MongoDB -- aunt.arc.tica@example.com"},
    {"_id": 2, "comment": "I wanted to concatenate a string"},
    {"_id": 3, "comment": "I can't find how to convert a date to string. cam@mongodb.com"},
    {"_id": 4, "comment": "It's just me. I'm testing.  fred@MongoDB.com"},
)
EMAIL = Regex("[a-z0-9_.+-]+@[a-z0-9_.+-]+\\.[a-z0-9_.+-]+", "i")
case(
    "$regexFind to parse an email, then keep the match",
    agg("regexFind"),
    FEEDBACK,
    [
        {"$addFields": {"email": {"$regexFind": {"input": "$comment", "regex": EMAIL}}}},
        {"$set": {"email": "$email.match"}},
    ],
    [
        {**FEEDBACK[0], "email": "aunt.arc.tica@example.com"},
        FEEDBACK[1],
        {**FEEDBACK[2], "email": "cam@mongodb.com"},
        {**FEEDBACK[3], "email": "fred@MongoDB.com"},
    ],
)
EMPLOYEE_EMAILS = d(
    {"_id": 1, "name": "Aunt Arc Tikka", "email": "aunt.tica@example.com"},
    {"_id": 2, "name": "Belle Gium", "email": "belle.gium@example.com"},
    {"_id": 3, "name": "Cam Bo Dia", "email": "cam.dia@example.com"},
    {"_id": 4, "name": "Fred"},
)
case(
    "$regexFind captured user names",
    agg("regexFind"),
    EMPLOYEE_EMAILS,
    [
        {
            "$addFields": {
                "username": {
                    "$regexFind": {
                        "input": "$email",
                        "regex": Regex("^([a-z0-9_.+-]+)@[a-z0-9_.+-]+\\.[a-z0-9_.+-]+$"),
                        "options": "i",
                    }
                }
            }
        },
        {"$set": {"username": {"$arrayElemAt": ["$username.captures", 0]}}},
    ],
    [
        {**EMPLOYEE_EMAILS[0], "username": "aunt.tica"},
        {**EMPLOYEE_EMAILS[1], "username": "belle.gium"},
        {**EMPLOYEE_EMAILS[2], "username": "cam.dia"},
        {**EMPLOYEE_EMAILS[3], "username": None},
    ],
)
expression(
    "$regexFind options in both regex and options is an error",
    agg("regexFind"),
    {"$regexFind": {"input": "line", "regex": Regex("line", "i"), "options": "i"}},
    error="$regexFind: found regex option(s) specified in both 'regex' and 'option' fields",
)
expression(
    "$regexFind of a missing input is null",
    agg("regexFind"),
    {"$regexFind": {"input": "$nothing", "regex": "a"}},
    None,
)
expression(
    "$regexFind of a non-string input is an error",
    agg("regexFind"),
    {"$regexFind": {"input": 5, "regex": "a"}},
    error="$regexFind needs 'input' to be of type string",
)
expression(
    "$regexFind with an unknown option is an error",
    agg("regexFind"),
    {"$regexFind": {"input": "$s", "regex": "a", "options": "g"}},
    doc={"s": "abc"},
    error="$regexFind invalid flag in regex options: g",
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/regexFindAll/
project(
    "$regexFindAll captures",
    agg("regexFindAll"),
    CONTACTS,
    {"$regexFindAll": {"input": "$fname", "regex": Regex("(C(ar)*)ol")}},
    [[found("Carol", 0, "Car", "ar")], [], [], [found("Col", 0, "C", None)], []],
)
for title, spec, results in [
    (
        "case sensitive",
        {"regex": Regex("line")},
        [
            [],
            [found("line", 6), found("line", 19)],
            [found("line", 23)],
            [found("line", 9)],
            [],
            [],
        ],
    ),
    (
        "with a group",
        {"regex": Regex("lin(e|k)")},
        [
            [],
            [found("line", 6, "e"), found("line", 19, "e")],
            [found("line", 23, "e")],
            [found("line", 9, "e")],
            [found("link", 9, "k"), found("link", 24, "k")],
            [],
        ],
    ),
    ("idx counts code points", {"regex": Regex("tier")}, [[]] * 5 + [[found("tier", 2)]]),
    (
        "option i",
        {"regex": Regex("line", "i")},
        [
            [found("LINE", 7)],
            [found("line", 6), found("line", 19)],
            [found("line", 23)],
            [found("line", 9)],
            [],
            [],
        ],
    ),
    (
        "options i and m",
        {"regex": Regex("^s", "im")},
        [[found("S", 0)], [found("s", 12)], [], [], [], []],
    ),
    (
        "options s and i",
        {"regex": Regex("m.*line"), "options": "si"},
        [[], [], [found("Many spaces before     line", 0)], [found("Multiple\nline", 0)], [], []],
    ),
]:
    project(
        f"$regexFindAll {title}",
        agg("regexFindAll"),
        REGEX_PRODUCTS,
        {"$regexFindAll": {"input": "$description", **spec}},
        results,
    )
FEEDBACK_ALL = [
    *FEEDBACK[:2],
    {
        "_id": 3,
        "comment": "How do I convert a date to string? Contact me at either cam@mongodb.com or "
        "c.dia@mongodb.com",
    },
    FEEDBACK[3],
]
case(
    "$regexFindAll to parse every email, then keep the matches",
    agg("regexFindAll"),
    FEEDBACK_ALL,
    [
        {"$addFields": {"email": {"$regexFindAll": {"input": "$comment", "regex": EMAIL}}}},
        {"$set": {"email": "$email.match"}},
    ],
    [
        {**FEEDBACK_ALL[0], "email": ["aunt.arc.tica@example.com"]},
        {**FEEDBACK_ALL[1], "email": []},
        {**FEEDBACK_ALL[2], "email": ["cam@mongodb.com", "c.dia@mongodb.com"]},
        {**FEEDBACK_ALL[3], "email": ["fred@MongoDB.com"]},
    ],
)
case(
    "$regexFindAll captured names gathered with $reduce",
    agg("regexFindAll"),
    FEEDBACK_ALL,
    [
        {
            "$addFields": {
                "names": {
                    "$regexFindAll": {
                        "input": "$comment",
                        "regex": Regex("([a-z0-9_.+-]+)@[a-z0-9_.+-]+\\.[a-z0-9_.+-]+", "i"),
                    }
                }
            }
        },
        {
            "$set": {
                "names": {
                    "$reduce": {
                        "input": "$names.captures",
                        "initialValue": [],
                        "in": {"$concatArrays": ["$$value", "$$this"]},
                    }
                }
            }
        },
    ],
    [
        {**FEEDBACK_ALL[0], "names": ["aunt.arc.tica"]},
        {**FEEDBACK_ALL[1], "names": []},
        {**FEEDBACK_ALL[2], "names": ["cam", "c.dia"]},
        {**FEEDBACK_ALL[3], "names": ["fred"]},
    ],
)
expression(
    "$regexFindAll of a missing input is an empty array",
    agg("regexFindAll"),
    {"$regexFindAll": {"input": "$nothing", "regex": "a"}},
    [],
)
expression(
    "$regexFindAll options in both places is an error",
    agg("regexFindAll"),
    {"$regexFindAll": {"input": "$s", "regex": Regex("a", "m"), "options": "i"}},
    doc={"s": "abc"},
    error="$regexFindAll: found regex option(s) specified in both 'regex' and 'option' fields",
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/regexMatch/ (the options
# rules it shares with $regexFind)
expression(
    "$regexMatch options in both places is an error, even empty ones",
    agg("regexMatch"),
    {"$regexMatch": {"input": "$s", "regex": Regex("a", "i"), "options": ""}},
    doc={"s": "abc"},
    error="$regexMatch: found regex option(s) specified in both 'regex' and 'option' fields",
)
expression(
    "$regexMatch of a null regex is false",
    agg("regexMatch"),
    {"$regexMatch": {"input": "abc", "regex": None}},
    False,
)


# =============================================================================================
# Types
# =============================================================================================

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/isNumber/
SENSORS = d(
    {"_id": 1, "reading": Decimal128("26.0000000000000")},
    {"_id": 2, "reading": Int64(25)},
    {"_id": 3, "reading": 24},
    {"_id": 4, "reading": 24.0},
    {"_id": 5, "reading": "24"},
    {"_id": 6, "reading": [Decimal128("26.0000000000000")]},
)
case(
    "$isNumber and $type of readings",
    agg("isNumber"),
    SENSORS,
    [{"$addFields": {"isNumber": {"$isNumber": "$reading"}, "hasType": {"$type": "$reading"}}}],
    [
        {**doc, "isNumber": is_number, "hasType": type_}
        for doc, is_number, type_ in zip(
            SENSORS,
            [True, True, True, True, False, False],
            ["decimal", "long", "int", "double", "string", "array"],
            strict=True,
        )
    ],
)
expression("$isNumber of a missing field is false", agg("isNumber"), {"$isNumber": "$x"}, False)
GRADES = d(
    {"_id": 1, "student_id": 457864153, "class_id": "M044", "grade": "A"},
    {"_id": 2, "student_id": 457864153, "class_id": "M103", "grade": 3.0},
    {"_id": 3, "student_id": 978451637, "class_id": "M320", "grade": "C"},
    {"_id": 4, "student_id": 978451637, "class_id": "M001", "grade": 4.0},
)
case(
    "$isNumber picks numeric grades, letters are mapped",
    agg("isNumber"),
    GRADES,
    [
        {
            "$addFields": {
                "points": {
                    "$cond": {
                        "if": {"$isNumber": "$grade"},
                        "then": "$grade",
                        "else": {
                            "$switch": {
                                "branches": [
                                    {"case": {"$eq": ["$grade", letter]}, "then": points}
                                    for letter, points in [
                                        ("A", 4.0),
                                        ("B", 3.0),
                                        ("C", 2.0),
                                        ("D", 1.0),
                                        ("F", 0.0),
                                    ]
                                ]
                            }
                        },
                    }
                }
            }
        },
        {"$group": {"_id": "$student_id", "GPA": {"$avg": "$points"}}},
    ],
    [{"_id": 457864153, "GPA": 3.5}, {"_id": 978451637, "GPA": 3.0}],
    ordered=False,
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/toDecimal/ (its table; the
# page's example multiplies decimals, which the engine does not do)
for value, result in [
    (True, "1"),
    (False, "0"),
    (2.5, "2.50000000000000"),
    (5, "5"),
    (Int64(10000), "10000"),
    ("-5.5", "-5.5"),
    (datetime(2018, 3, 27, 5, 4, 47, 890000), "1522127087890"),
]:
    expression(
        f"$toDecimal of {value!r}", agg("toDecimal"), {"$toDecimal": value}, Decimal128(result)
    )
expression("$toDecimal of null", agg("toDecimal"), {"$toDecimal": None}, None)
expression(
    "$toDecimal of a hexadecimal string is an error",
    agg("toDecimal"),
    {"$toDecimal": "0x6400"},
    error="Illegal hexadecimal input in $convert with no onError value: 0x6400",
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/toObjectId/
expression(
    "$toObjectId of a 24 hex digit string",
    agg("toObjectId"),
    {"$toObjectId": "5ab9cbfa31c2ab715d42129e"},
    ObjectId("5ab9cbfa31c2ab715d42129e"),
)
expression(
    "$toObjectId of a shorter string is an error",
    agg("toObjectId"),
    {"$toObjectId": "5ab9cbfa31c2ab715d42129"},
    error="Failed to parse objectId '5ab9cbfa31c2ab715d42129' in $convert with no onError value",
)
OID_ORDERS = d(
    {"_id": "5ab9cbe531c2ab715d42129a", "item": "apple", "qty": 10},
    {"_id": ObjectId("5ab9d0b831c2ab715d4212a8"), "item": "pie", "qty": 5},
    {"_id": ObjectId("5ab9d2d331c2ab715d4212b3"), "item": "ice cream", "qty": 20},
    {"_id": "5ab9e16431c2ab715d4212b4", "item": "almonds", "qty": 50},
)
case(
    "$toObjectId of string and ObjectId ids, sorted",
    agg("toObjectId"),
    OID_ORDERS,
    [
        {"$addFields": {"convertedId": {"$toObjectId": "$_id"}}},
        {"$sort": {"convertedId": -1}},
    ],
    [{**OID_ORDERS[i], "convertedId": ObjectId(str(OID_ORDERS[i]["_id"]))} for i in (3, 2, 1, 0)],
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/toDate/ (its table; the
# Timestamp row is the current page's)
for value, result in [
    (120000000000.5, datetime(1973, 10, 20, 21, 20)),
    (Decimal128("1253372036000.50"), datetime(2009, 9, 19, 14, 53, 56)),
    (Int64(1100000000000), datetime(2004, 11, 9, 11, 33, 20)),
    (Int64(-1100000000000), datetime(1935, 2, 22, 12, 26, 40)),
    (ObjectId("5ab9c3da31c2ab715d421285"), datetime(2018, 3, 27, 4, 8, 58)),
    ("2018-03-20", datetime(2018, 3, 20)),
    ("2018-03-20 11:00:06 +0500", datetime(2018, 3, 20, 6, 0, 6)),
    ("2018-03-20T12:00:00Z", datetime(2018, 3, 20, 12)),
    ("2018-03-20T12:00:00+0500", datetime(2018, 3, 20, 7)),
    (Timestamp(1637688118, 1), datetime(2021, 11, 23, 17, 21, 58)),
]:
    expression(f"$toDate of {value!r}", agg("toDate"), {"$toDate": value}, result)
expression(
    "$toDate of a string that is no date is an error",
    agg("toDate"),
    {"$toDate": "Friday"},
    error="Friday",
)
expression(
    "$toDate of an int is an error (only longs and doubles count milliseconds)",
    agg("toDate"),
    {"$toDate": 5},
    error="Unsupported conversion from int to date in $convert with no onError value",
)
DATE_ORDERS = d(
    {"_id": 1, "item": "apple", "qty": 5, "price": 2, "order_date": datetime(2018, 3, 20)},
    {"_id": 2, "item": "pie", "qty": 10, "price": 3, "order_date": datetime(2018, 3, 22)},
    {"_id": 3, "item": "ice cream", "qty": 2, "price": 4, "order_date": "2018-03-15"},
    {"_id": 4, "item": "almonds", "qty": 5, "price": 7, "order_date": "2018-03-15 +10:00"},
)
case(
    "$toDate of dates and date strings, sorted",
    agg("toDate"),
    DATE_ORDERS,
    [
        {"$addFields": {"convertedDate": {"$toDate": "$order_date"}}},
        {"$sort": {"convertedDate": 1}},
    ],
    [
        {**DATE_ORDERS[3], "convertedDate": datetime(2018, 3, 14, 14)},
        {**DATE_ORDERS[2], "convertedDate": datetime(2018, 3, 15)},
        {**DATE_ORDERS[0], "convertedDate": datetime(2018, 3, 20)},
        {**DATE_ORDERS[1], "convertedDate": datetime(2018, 3, 22)},
    ],
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/convert/ (its tables for
# the decimal, date and objectId targets and decimal inputs)
for spec, result in [
    ({"input": Decimal128("5"), "to": "bool"}, True),
    ({"input": Decimal128("0"), "to": "bool"}, False),
    ({"input": Decimal128("5.5000"), "to": "int"}, 5),
    (
        {
            "input": Decimal128("9223372036000.000"),
            "to": "int",
            "onError": "Could not convert to type integer.",
        },
        "Could not convert to type integer.",
    ),
    ({"input": 2.5, "to": "decimal"}, Decimal128("2.50000000000000")),
    ({"input": 5, "to": "decimal"}, Decimal128("5")),
    ({"input": Decimal128("5.5000"), "to": "long"}, Int64(5)),
    (
        {
            "input": Decimal128("9223372036854775808.000"),
            "to": "long",
            "onError": "Could not convert to type long.",
        },
        "Could not convert to type long.",
    ),
    (
        {"input": "5e550", "to": "double", "onError": "Could not convert to type double."},
        "Could not convert to type double.",
    ),
    ({"input": 120000000000.5, "to": "date"}, datetime(1973, 10, 20, 21, 20)),
    ({"input": "2018-03-03", "to": "date"}, datetime(2018, 3, 3)),
    (
        {"input": "Friday", "to": "date", "onError": "Could not convert to type date."},
        "Could not convert to type date.",
    ),
    (
        {"input": "5ab9cbfa31c2ab715d42129e", "to": "objectId"},
        ObjectId("5ab9cbfa31c2ab715d42129e"),
    ),
    (
        {
            "input": "5ab9cbfa31c2ab715d42129",
            "to": "objectId",
            "onError": "Could not convert to type ObjectId.",
        },
        "Could not convert to type ObjectId.",
    ),
    ({"input": "5ab9cbfa31c2ab715d42129e", "to": 7}, ObjectId("5ab9cbfa31c2ab715d42129e")),
    ({"input": Int64(1100000000000), "to": 9}, datetime(2004, 11, 9, 11, 33, 20)),
    ({"input": "-5.5", "to": 19}, Decimal128("-5.5")),
]:
    expression(f"$convert {spec}", agg("convert"), {"$convert": spec}, result)
expression(
    "$convert of a decimal out of the int range is an error",
    agg("convert"),
    {"$convert": {"input": Decimal128("9223372036000.000"), "to": "int"}},
    error="Conversion would overflow target type in $convert with no onError value",
)
expression(
    "$toString of a decimal",
    agg("convert"),
    {"$toString": Decimal128("2.50000000000000")},
    "2.50000000000000",
)
expression(
    "$toDouble of a decimal",
    agg("convert"),
    {"$toDouble": Decimal128("-5.5")},
    -5.5,
)


# =============================================================================================
# Bitwise expressions
# =============================================================================================

SWITCHES = d({"_id": 0, "a": 0, "b": 127}, {"_id": 1, "a": 2, "b": 3}, {"_id": 2, "a": 3, "b": 5})
# https://www.mongodb.com/docs/manual/reference/operator/aggregation/bitAnd/
project("$bitAnd of two ints", agg("bitAnd"), SWITCHES, {"$bitAnd": ["$a", "$b"]}, [0, 2, 1])
project(
    "$bitAnd of an int and a long is a long",
    agg("bitAnd"),
    SWITCHES,
    {"$bitAnd": ["$a", Int64(63)]},
    [Int64(0), Int64(2), Int64(3)],
)
expression("$bitAnd with a null operand is null", agg("bitAnd"), {"$bitAnd": [1, None]}, None)
expression(
    "$bitAnd of a double is an error",
    agg("bitAnd"),
    {"$bitAnd": [1, 1.0]},
    error="$bitAnd only supports int and long operands.",
)
# https://www.mongodb.com/docs/manual/reference/operator/aggregation/bitOr/
project("$bitOr of two ints", agg("bitOr"), SWITCHES, {"$bitOr": ["$a", "$b"]}, [127, 3, 7])
expression("$bitOr of an empty array is int 0", agg("bitOr"), {"$bitOr": []}, 0)
expression(
    "$bitOr of a string is an error",
    agg("bitOr"),
    {"$bitOr": [1, "1"]},
    error="$bitOr only supports int and long operands.",
)
# https://www.mongodb.com/docs/manual/reference/operator/aggregation/bitXor/
project("$bitXor of two ints", agg("bitXor"), SWITCHES, {"$bitXor": ["$a", "$b"]}, [127, 1, 6])
expression("$bitXor of an empty array is int 0", agg("bitXor"), {"$bitXor": []}, 0)
expression("$bitXor with a missing operand is null", agg("bitXor"), {"$bitXor": [1, "$x"]}, None)
expression(
    "$bitXor of a decimal is an error",
    agg("bitXor"),
    {"$bitXor": [Decimal128("1")]},
    error="$bitXor only supports int and long operands.",
)
# https://www.mongodb.com/docs/manual/reference/operator/aggregation/bitNot/
project("$bitNot of ints", agg("bitNot"), SWITCHES, {"$bitNot": "$a"}, [-1, -3, -4])
expression("$bitNot of a long", agg("bitNot"), {"$bitNot": [Int64(5)]}, Int64(-6))
expression("$bitNot of null", agg("bitNot"), {"$bitNot": None}, None)
expression(
    "$bitNot of a double is an error",
    agg("bitNot"),
    {"$bitNot": 1.5},
    error="$bitNot only supports int and long, not: double.",
)


# =============================================================================================
# Bitwise query operators
# =============================================================================================

# The collection of the four pages; BinData(0, "Zg==") is the byte 0b01100110, written as bytes
# because that is how pymongo encodes and decodes BinData subtype 0 (the documents come back).
BITS = d(
    {"_id": 1, "a": 54, "binaryValueofA": "00110110"},
    {"_id": 2, "a": 20, "binaryValueofA": "00010100"},
    {"_id": 3, "a": 20.0, "binaryValueofA": "00010100"},
    {"_id": 4, "a": b"\x66", "binaryValueofA": "01100110"},
)
BIN_0x20 = Binary(b"\x20")  # BinData(0, "IA==")
BIN_0x30 = Binary(b"\x30")  # BinData(0, "MC==") and BinData(0, "MA==")
for operator_name, examples in [
    ("$bitsAllClear", [([1, 5], [2, 3]), (35, [2, 3]), (BIN_0x20, [2, 3])]),
    ("$bitsAllSet", [([1, 5], [1, 4]), (50, [1]), (BIN_0x30, [1])]),
    ("$bitsAnyClear", [([1, 5], [2, 3]), (35, [1, 2, 3, 4]), (BIN_0x30, [2, 3, 4])]),
    ("$bitsAnySet", [([1, 5], [1, 4]), (35, [1, 4]), (BIN_0x30, [1, 2, 3, 4])]),
]:
    for operand, ids in examples:
        kind = (
            "bit positions"
            if isinstance(operand, list)
            else "BinData mask"
            if isinstance(operand, Binary)
            else "numeric mask"
        )
        match(
            f"{operator_name} with a {kind}",
            query(operator_name[1:]),
            BITS,
            {"a": {operator_name: operand}},
            ids,
        )
SIGNED = d({"_id": 1, "a": -5}, {"_id": 2, "a": 5}, {"_id": 3, "a": Int64(-5)})
match(
    "$bitsAllSet sign-extends negative numbers (bit 200 of -5 is set)",
    query("bitsAllSet"),
    SIGNED,
    {"a": {"$bitsAllSet": [200]}},
    [1, 3],
)
match(
    "$bitsAnyClear sees bit 200 of +5 clear",
    query("bitsAnyClear"),
    SIGNED,
    {"a": {"$bitsAnyClear": [200]}},
    [2],
)
FRACTIONS = d(
    {"_id": 1, "a": 20.5},
    {"_id": 2, "a": 20.0},
    {"_id": 3, "a": 1e300},
    {"_id": 4, "a": "20"},
    {"_id": 5, "a": [1.5, 4]},
)
match(
    "$bitsAnySet never matches a value that is no 64-bit integer",
    query("bitsAnySet"),
    FRACTIONS,
    {"a": {"$bitsAnySet": [2]}},
    [2, 5],
)
match(
    "$bitsAllClear never matches a value that is no 64-bit integer",
    query("bitsAllClear"),
    FRACTIONS,
    {"a": {"$bitsAllClear": [0]}},
    [2, 5],
)
case(
    "$bitsAllSet with a negative mask is an error",
    query("bitsAllSet"),
    BITS,
    [{"$match": {"a": {"$bitsAllSet": -1}}}],
    error="Expected a positive number",
)


# =============================================================================================
# Data size and timestamps
# =============================================================================================

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/bsonSize/ (mongosh numbers
# are doubles; the page's whole-document sizes are 3 bytes above an encoding of the documents it
# shows, so the cases use its current_task sizes)
EMPLOYEES = d(
    {
        "_id": 1,
        "name": "Alice",
        "email": "alice@company.com",
        "position": "Software Developer",
        "current_task": {
            "project_id": 1.0,
            "project_name": "Aggregation Improvements",
            "project_duration": 5.0,
            "hours": 20.0,
        },
    },
    {
        "_id": 2,
        "name": "Bob",
        "email": "bob@company.com",
        "position": "Sales",
        "current_task": {
            "project_id": 2.0,
            "project_name": "Write Blog Posts",
            "project_duration": 2.0,
            "hours": 10.0,
            "notes": "Progress is slow. Waiting for feedback.",
        },
    },
    {
        "_id": 3,
        "name": "Charlie",
        "email": "charlie@company.com",
        "position": "HR (On Leave)",
        "current_task": None,
    },
    {
        "_id": 4,
        "name": "Dianne",
        "email": "diane@company.com",
        "position": "Web Designer",
        "current_task": {
            "project_id": 3.0,
            "project_name": "Update Home Page",
            "notes": "Need to scope this project.",
        },
    },
)
case(
    "$bsonSize of a field holding a document (null for null)",
    agg("bsonSize"),
    EMPLOYEES,
    [{"$project": {"name": "$name", "task_object_size": {"$bsonSize": "$current_task"}}}],
    [
        {"_id": doc["_id"], "name": doc["name"], "task_object_size": size}
        for doc, size in zip(EMPLOYEES, [109, 152, None, 99], strict=True)
    ],
)
case(
    "$bsonSize to find the largest task",
    agg("bsonSize"),
    EMPLOYEES,
    [
        {"$project": {"name": "$name", "task_object_size": {"$bsonSize": "$current_task"}}},
        {"$sort": {"task_object_size": -1}},
        {"$limit": 1},
    ],
    [{"_id": 2, "name": "Bob", "task_object_size": 152}],
)
expression(
    "$bsonSize of a string is an error",
    agg("bsonSize"),
    {"$bsonSize": "abc"},
    error="$bsonSize requires a document input, found: string",
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/binarySize/
for text, size in [("abcde", 5), ("Hello World!", 12), ("cafétéria", 11), ("", 0), ("寿司", 6)]:
    expression(f"$binarySize of {text!r}", agg("binarySize"), {"$binarySize": text}, size)
expression("$binarySize of $€λG", agg("binarySize"), {"$binarySize": {"$literal": "$€λG"}}, 7)
IMAGES = d(
    {"_id": 1, "name": "cat.jpg", "binary": Binary(bytes(16))},
    {"_id": 2, "name": "big_ben.jpg", "binary": Binary(bytes(41))},
    {"_id": 3, "name": "tea_set.jpg", "binary": Binary(bytes(16))},
    {"_id": 4, "name": "concert.jpg", "binary": Binary(bytes(269))},
    {"_id": 5, "name": "empty.jpg", "binary": Binary(b"")},
)
project(
    "$binarySize of BinData (the page's images, same lengths)",
    agg("binarySize"),
    IMAGES,
    {"$binarySize": "$binary"},
    [16, 41, 16, 269, 0],
)
expression("$binarySize of null", agg("binarySize"), {"$binarySize": None}, None)
expression(
    "$binarySize of a number is an error",
    agg("binarySize"),
    {"$binarySize": 5},
    error="$binarySize requires a string or BinData argument, found: int",
)

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/tsSecond/ (and tsIncrement)
STOCK_SALES = d(
    {"_id": 0, "symbol": "MDB", "saleTimestamp": Timestamp(1622731060, 1)},
    {"_id": 1, "symbol": "MDB", "saleTimestamp": Timestamp(1622731060, 2)},
    {"_id": 2, "symbol": "MSFT", "saleTimestamp": Timestamp(1714124193, 1)},
    {"_id": 3, "symbol": "MSFT", "saleTimestamp": Timestamp(1714124193, 2)},
    {"_id": 4, "symbol": "MSFT", "saleTimestamp": Timestamp(1714124193, 3)},
)
for name, field, values in [
    ("$tsSecond", "saleSeconds", [1622731060] * 2 + [1714124193] * 3),
    ("$tsIncrement", "saleIncrement", [1, 2, 1, 2, 3]),
]:
    case(
        f"{name} of sale timestamps is a long",
        agg(name[1:]),
        STOCK_SALES,
        [{"$project": {"_id": 0, "saleTimestamp": 1, field: {name: "$saleTimestamp"}}}],
        [
            {"saleTimestamp": doc["saleTimestamp"], field: Int64(value)}
            for doc, value in zip(STOCK_SALES, values, strict=True)
        ],
    )
    expression(f"{name} of a missing field is null", agg(name[1:]), {name: "$nothing"}, None)
    expression(
        f"{name} of a non-timestamp is an error",
        agg(name[1:]),
        {name: 5},
        error=f"Argument to {name} must be a timestamp, but is int",
    )
case(
    "$tsIncrement to keep even ordinals",
    agg("tsIncrement"),
    STOCK_SALES,
    [{"$match": {"$expr": {"$eq": [{"$mod": [{"$tsIncrement": "$saleTimestamp"}, 2]}, 0]}}}],
    [STOCK_SALES[1], STOCK_SALES[3]],
)


# =============================================================================================
# Hyperbolic trigonometry (the pages use Decimal128; here doubles, values from the definitions)
# =============================================================================================

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/cosh/ (and sinh, tanh)
ANGLE = 53.1301023541559787031443874490659
for name, function in [("$sinh", math.sinh), ("$cosh", math.cosh), ("$tanh", math.tanh)]:
    expression(
        f"{name} of an angle in degrees",
        agg(name[1:]),
        {name: {"$degreesToRadians": "$angle"}},
        function(math.radians(ANGLE)),
        doc={"angle": ANGLE},
        approx=True,
    )
    expression(f"{name} of null", agg(name[1:]), {name: None}, None)
    expression(f"{name} of NaN", agg(name[1:]), {name: math.nan}, math.nan)
expression("$cosh of -Infinity", agg("cosh"), {"$cosh": -math.inf}, math.inf)
expression("$cosh of Infinity", agg("cosh"), {"$cosh": math.inf}, math.inf)
expression("$sinh of -Infinity", agg("sinh"), {"$sinh": -math.inf}, -math.inf)
expression("$tanh of Infinity", agg("tanh"), {"$tanh": math.inf}, 1.0)
# https://www.mongodb.com/docs/manual/reference/operator/aggregation/asinh/ (and acosh, atanh)
for name, x, function in [
    ("$asinh", 1.0, math.asinh),
    ("$acosh", 3.0, math.acosh),
    ("$atanh", 0.5, math.atanh),
]:
    expression(
        f"{name} in radians", agg(name[1:]), {name: "$x"}, function(x), doc={"x": x}, approx=True
    )
    expression(
        f"{name} in degrees",
        agg(name[1:]),
        {"$radiansToDegrees": {name: "$x"}},
        math.degrees(function(x)),
        doc={"x": x},
        approx=True,
    )
    expression(f"{name} of null", agg(name[1:]), {name: "$nothing"}, None)
    expression(f"{name} of NaN", agg(name[1:]), {name: math.nan}, math.nan)
expression("$acosh of Infinity", agg("acosh"), {"$acosh": math.inf}, math.inf)
expression(
    "$acosh below 1 is an error",
    agg("acosh"),
    {"$acosh": "$x"},
    doc={"x": 0},
    error="cannot apply $acosh to 0, value must in [1,inf]",
)
expression("$atanh of 1", agg("atanh"), {"$atanh": 1}, math.inf)
expression("$atanh of -1", agg("atanh"), {"$atanh": -1}, -math.inf)
expression(
    "$atanh of -Infinity is an error",
    agg("atanh"),
    {"$atanh": "$x"},
    doc={"x": -math.inf},
    error="cannot apply $atanh to -inf",
)
expression("$asinh of -Infinity", agg("asinh"), {"$asinh": -math.inf}, -math.inf)


# =============================================================================================
# $let and $literal
# =============================================================================================

# https://www.mongodb.com/docs/manual/reference/operator/aggregation/let/ (its stated rules)
expression(
    "$let variables cannot see each other in the vars block",
    agg("let"),
    {"$let": {"vars": {"low": 1, "high": "$$low"}, "in": {"$gt": ["$$low", "$$high"]}}},
    error="undefined variable: low",
)
expression(
    "$let reassigns an outer variable only inside its in",
    agg("let"),
    {
        "$let": {
            "vars": {"x": 1},
            "in": [{"$let": {"vars": {"x": {"$add": ["$$x", 1]}}, "in": "$$x"}}, "$$x"],
        }
    },
    [2, 1],
)
expression(
    "$let reads system variables in vars",
    agg("let"),
    {"$let": {"vars": {"doc": "$$ROOT"}, "in": {"$multiply": ["$$doc.price", "$$doc.qty"]}}},
    20,
    doc={"price": 5, "qty": 4},
)
# https://www.mongodb.com/docs/manual/reference/operator/aggregation/literal/
expression(
    "$literal keeps an operator object as an object",
    agg("literal"),
    {"$literal": {"$add": [2, 3]}},
    {"$add": [2, 3]},
)
expression(
    "$literal of $literal is the inner object",
    agg("literal"),
    {"$literal": {"$literal": 1}},
    {"$literal": 1},
)
project(
    "$literal compares a price with a $ string",
    agg("literal"),
    d({"_id": 1, "price": "$1.00"}, {"_id": 2, "price": "1.00"}),
    {"$eq": ["$price", {"$literal": "$1.00"}]},
    [True, False],
)
expression(
    "$literal of an array keeps its $ strings",
    agg("literal"),
    {"$literal": ["$a", "$$b"]},
    ["$a", "$$b"],
)
