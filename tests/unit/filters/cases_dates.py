"""Conformance cases for dates ($dateToString, $dateAdd, $dateTrunc, $year ... and $$NOW).

Same conventions as conformance_cases.py: each case reproduces an example or a stated rule of
the MongoDB manual page it cites. mongosh's `new Date("Jan 7, 2003")` and `ISODate("2020-12-31")`
are written as the UTC datetimes they stand for; rows whose result depends on the time zone of
the shell that ran them (`new Date("August 14, 2011")` read as local time) are left out.
"""

from __future__ import annotations

from datetime import datetime

from bson import Int64, ObjectId, Timestamp

from tests.unit.filters.conformance_cases import VARIABLES, agg, case, expression, project

D = datetime

# =============================================================================================
# $dateToString
# =============================================================================================

TO_STRING = agg("dateToString")
SALE_DATE = D(2014, 1, 1, 8, 15, 39, 736000)
SALE = {"_id": 1, "item": "abc", "price": 10, "quantity": 2, "date": SALE_DATE}

case(
    "$dateToString: the page's example (UTC, America/New_York, +04:30, %z and %Z)",
    TO_STRING,
    [SALE],
    [
        {
            "$project": {
                "yearMonthDayUTC": {"$dateToString": {"format": "%Y-%m-%d", "date": "$date"}},
                "timewithOffsetNY": {
                    "$dateToString": {
                        "format": "%H:%M:%S:%L%z",
                        "date": "$date",
                        "timezone": "America/New_York",
                    }
                },
                "timewithOffset430": {
                    "$dateToString": {
                        "format": "%H:%M:%S:%L%z",
                        "date": "$date",
                        "timezone": "+04:30",
                    }
                },
                "minutesOffsetNY": {
                    "$dateToString": {
                        "format": "%Z",
                        "date": "$date",
                        "timezone": "America/New_York",
                    }
                },
                "minutesOffset430": {
                    "$dateToString": {"format": "%Z", "date": "$date", "timezone": "+04:30"}
                },
            }
        }
    ],
    [
        {
            "_id": 1,
            "yearMonthDayUTC": "2014-01-01",
            "timewithOffsetNY": "03:15:39:736-0500",
            "timewithOffset430": "12:45:39:736+0430",
            "minutesOffsetNY": "-300",
            "minutesOffset430": "270",
        }
    ],
)
expression(
    "$dateToString: %d %m %Y %H %M %S %L and literal text",
    TO_STRING,
    {"$dateToString": {"format": "%d/%m/%Y at %H:%M:%S.%L", "date": SALE_DATE}},
    "01/01/2014 at 08:15:39.736",
)
# 2016-01-01 is a Friday in ISO week 53 of 2015: %G and %V differ from %Y and %U.
expression(
    "$dateToString: %j %w %u %U %V %G from the specifier table",
    TO_STRING,
    {"$dateToString": {"format": "%j %w %u %U %V %G", "date": D(2016, 1, 1)}},
    "001 6 5 00 53 2015",
)
expression(
    "$dateToString: %U counts weeks from the first Sunday",
    TO_STRING,
    {"$dateToString": {"format": "%U %w %j", "date": D(2014, 12, 31)}},
    "52 4 365",
)
expression(
    "$dateToString: %% is a literal percent sign",
    TO_STRING,
    {"$dateToString": {"format": "100%% %Y", "date": SALE_DATE}},
    "100% 2014",
)
# New in 7.0; the server writes the names capitalized.
expression(
    "$dateToString: %b and %B month names (new in 7.0)",
    TO_STRING,
    {"$dateToString": {"format": "%b / %B", "date": D(2021, 9, 5)}},
    "Sep / September",
)
expression(
    "$dateToString: %z and %Z of a +04:45 offset (the table's example)",
    TO_STRING,
    {"$dateToString": {"format": "%z %Z", "date": SALE_DATE, "timezone": "+04:45"}},
    "+0445 285",
)
expression(
    "$dateToString: a -0530 offset",
    TO_STRING,
    {"$dateToString": {"format": "%H:%M %z", "date": SALE_DATE, "timezone": "-0530"}},
    "02:45 -0530",
)
expression(
    "$dateToString: a +03 offset",
    TO_STRING,
    {"$dateToString": {"format": "%H:%M %z", "date": SALE_DATE, "timezone": "+03"}},
    "11:15 +0300",
)
expression(
    "$dateToString: Europe/London in summer time",
    TO_STRING,
    {
        "$dateToString": {
            "format": "%Y-%m-%d %H:%M %z",
            "date": D(2021, 7, 1, 23, 30),
            "timezone": "Europe/London",
        }
    },
    "2021-07-02 00:30 +0100",
)
expression(
    "$dateToString: no format gives %Y-%m-%dT%H:%M:%S.%LZ",
    TO_STRING,
    {"$dateToString": {"date": SALE_DATE}},
    "2014-01-01T08:15:39.736Z",
)
# The 7.0 default format keeps its Z even in another time zone (removed in 7.1, SERVER-76696).
expression(
    "$dateToString: the default format with a timezone (7.0)",
    TO_STRING,
    {"$dateToString": {"date": SALE_DATE, "timezone": "America/New_York"}},
    "2014-01-01T03:15:39.736Z",
)
expression(
    "$dateToString: a Timestamp date",
    TO_STRING,
    {"$dateToString": {"format": "%Y-%m-%d %H:%M:%S", "date": Timestamp(1500000000, 7)}},
    "2017-07-14 02:40:00",
)
expression(
    "$dateToString: an ObjectId date is its creation time",
    TO_STRING,
    {"$dateToString": {"format": "%Y-%m-%d %H:%M:%S", "date": "$_id"}},
    "2017-07-14 02:40:00",
    doc={"_id": ObjectId("59682f0000000000000000ab")},
)
project(
    "$dateToString: onNull for a null or missing date",
    TO_STRING,
    [{"_id": 1, "date": None}, {"_id": 2}, {"_id": 3, "date": SALE_DATE}],
    {"$dateToString": {"format": "%Y", "date": "$date", "onNull": "no date"}},
    ["no date", "no date", "2014"],
)
project(
    "$dateToString: null for a null or missing date without onNull",
    TO_STRING,
    [{"_id": 1, "date": None}, {"_id": 2}],
    {"$dateToString": {"format": "%Y", "date": "$date"}},
    [None, None],
)
expression(
    "$dateToString: a null timezone gives null",
    TO_STRING,
    {"$dateToString": {"format": "%Y", "date": SALE_DATE, "timezone": "$zone"}},
    None,
)
expression(
    "$dateToString: a date that is not a date",
    TO_STRING,
    {"$dateToString": {"format": "%Y", "date": "2014-01-01"}},
    error="can't convert from BSON type string to Date",
)
expression(
    "$dateToString: a format that is not a string",
    TO_STRING,
    {"$dateToString": {"format": 5, "date": SALE_DATE}},
    error="$dateToString requires that 'format' be a string",
)
expression(
    "$dateToString: an unknown format specifier",
    TO_STRING,
    {"$dateToString": {"format": "%Y-%Q", "date": SALE_DATE}},
    error="Invalid format character '%Q' in format string",
)
expression(
    "$dateToString: a lone % at the end of the format",
    TO_STRING,
    {"$dateToString": {"format": "%Y%", "date": SALE_DATE}},
    error="Unmatched '%' at end of format string",
)
expression(
    "$dateToString: an unknown time zone",
    TO_STRING,
    {"$dateToString": {"format": "%Y", "date": SALE_DATE, "timezone": "Mars/Olympus"}},
    error='unrecognized time zone identifier: "Mars/Olympus"',
)
expression(
    "$dateToString: an unknown time zone from a field",
    TO_STRING,
    {"$dateToString": {"format": "%Y", "date": SALE_DATE, "timezone": "$zone"}},
    doc={"zone": "+5"},
    error='unrecognized time zone identifier: "+5"',
)
expression(
    "$dateToString: date is required",
    TO_STRING,
    {"$dateToString": {"format": "%Y"}},
    error="Missing 'date' parameter to $dateToString",
)
expression(
    "$dateToString: unknown arguments are refused",
    TO_STRING,
    {"$dateToString": {"date": SALE_DATE, "fmt": "%Y"}},
    error="Unrecognized argument to $dateToString: fmt",
)

# =============================================================================================
# $dateFromString
# =============================================================================================

FROM_STRING = agg("dateFromString")

expression(
    "$dateFromString: no time zone means UTC",
    FROM_STRING,
    {"$dateFromString": {"dateString": "2017-02-08T12:10:40.787"}},
    D(2017, 2, 8, 12, 10, 40, 787000),
)
expression(
    "$dateFromString: a timezone argument",
    FROM_STRING,
    {"$dateFromString": {"dateString": "2017-02-08T12:10:40.787", "timezone": "America/New_York"}},
    D(2017, 2, 8, 17, 10, 40, 787000),
)
expression(
    "$dateFromString: a date alone is midnight",
    FROM_STRING,
    {"$dateFromString": {"dateString": "2017-02-08"}},
    D(2017, 2, 8),
)
expression(
    "$dateFromString: format %m-%d-%Y",
    FROM_STRING,
    {"$dateFromString": {"dateString": "06-15-2018", "format": "%m-%d-%Y"}},
    D(2018, 6, 15),
)
expression(
    "$dateFromString: format %d-%m-%Y",
    FROM_STRING,
    {"$dateFromString": {"dateString": "15-06-2018", "format": "%d-%m-%Y"}},
    D(2018, 6, 15),
)
expression(
    "$dateFromString: the default format %Y-%m-%dT%H:%M:%S.%LZ",
    FROM_STRING,
    {"$dateFromString": {"dateString": "2017-02-08T12:10:40.787Z"}},
    D(2017, 2, 8, 12, 10, 40, 787000),
)
expression(
    "$dateFromString: a UTC offset in the string",
    FROM_STRING,
    {"$dateFromString": {"dateString": "2017-02-08T12:10:40.787+05:30"}},
    D(2017, 2, 8, 6, 40, 40, 787000),
)
expression(
    "$dateFromString: format with a full time and %z",
    FROM_STRING,
    {
        "$dateFromString": {
            "dateString": "2018/06/15 13:05:09.123 -0400",
            "format": "%Y/%m/%d %H:%M:%S.%L %z",
        }
    },
    D(2018, 6, 15, 17, 5, 9, 123000),
)
expression(
    "$dateFromString: format %b month names (new in 7.0)",
    FROM_STRING,
    {"$dateFromString": {"dateString": "15 jun 2018", "format": "%d %b %Y"}},
    D(2018, 6, 15),
)
expression(
    "$dateFromString: format with an ISO week date %G-%V-%u",
    FROM_STRING,
    {"$dateFromString": {"dateString": "2017-06-3", "format": "%G-%V-%u"}},
    D(2017, 2, 8),
)
expression(
    "$dateFromString: the timezone option GMT",
    FROM_STRING,
    {"$dateFromString": {"dateString": "2017-02-08T12:10:40.787", "timezone": "GMT"}},
    D(2017, 2, 8, 12, 10, 40, 787000),
)
LOG_MESSAGES = [
    {
        "_id": 1,
        "date": "2017-02-08T12:10:40.787",
        "timezone": "America/New_York",
        "message": "Step 1: Started",
    },
    {"_id": 2, "date": "2017-02-08", "timezone": "-05:00", "message": "Step 1: Ended"},
    {"_id": 3, "message": " Step 1: Ended "},
    {"_id": 4, "date": "2017-02-09", "timezone": "Europe/London", "message": "Step 2: Started"},
    {
        "_id": 5,
        "date": "2017-02-09T03:35:02.055",
        "timezone": "+0530",
        "message": "Step 2: In Progress",
    },
]
case(
    "$dateFromString: logmessages in America/New_York",
    FROM_STRING,
    LOG_MESSAGES,
    [
        {
            "$project": {
                "date": {"$dateFromString": {"dateString": "$date", "timezone": "America/New_York"}}
            }
        }
    ],
    [
        {"_id": 1, "date": D(2017, 2, 8, 17, 10, 40, 787000)},
        {"_id": 2, "date": D(2017, 2, 8, 5)},
        {"_id": 3, "date": None},
        {"_id": 4, "date": D(2017, 2, 9, 5)},
        {"_id": 5, "date": D(2017, 2, 9, 8, 35, 2, 55000)},
    ],
)
case(
    "$dateFromString: logmessages with the timezone from a field",
    FROM_STRING,
    LOG_MESSAGES,
    [{"$project": {"date": {"$dateFromString": {"dateString": "$date", "timezone": "$timezone"}}}}],
    [
        {"_id": 1, "date": D(2017, 2, 8, 17, 10, 40, 787000)},
        {"_id": 2, "date": D(2017, 2, 8, 5)},
        {"_id": 3, "date": None},
        {"_id": 4, "date": D(2017, 2, 9)},
        {"_id": 5, "date": D(2017, 2, 8, 22, 5, 2, 55000)},
    ],
)
UNPARSABLE = [
    {"_id": 1, "date": "2017-02-08T12:10:40.787", "timezone": "America/New_York"},
    {"_id": 2, "date": "20177-02-09T03:35:02.055", "timezone": "America/New_York"},
]
case(
    "$dateFromString: onError returns the unparsable string",
    FROM_STRING,
    UNPARSABLE,
    [
        {
            "$project": {
                "date": {
                    "$dateFromString": {
                        "dateString": "$date",
                        "timezone": "$timezone",
                        "onError": "$date",
                    }
                }
            }
        }
    ],
    [
        {"_id": 1, "date": D(2017, 2, 8, 17, 10, 40, 787000)},
        {"_id": 2, "date": "20177-02-09T03:35:02.055"},
    ],
)
case(
    "$dateFromString: without onError an unparsable string is an error",
    FROM_STRING,
    UNPARSABLE,
    [{"$project": {"date": {"$dateFromString": {"dateString": "$date"}}}}],
    error="Error parsing date string '20177-02-09T03:35:02.055'",
)
case(
    "$dateFromString: onNull gives the epoch for a null string",
    FROM_STRING,
    [
        {"_id": 1, "date": "2017-02-08T12:10:40.787", "timezone": "America/New_York"},
        {"_id": 2, "date": None, "timezone": "America/New_York"},
    ],
    [
        {
            "$project": {
                "date": {
                    "$dateFromString": {
                        "dateString": "$date",
                        "timezone": "$timezone",
                        "onNull": D(1970, 1, 1),
                    }
                }
            }
        }
    ],
    [{"_id": 1, "date": D(2017, 2, 8, 17, 10, 40, 787000)}, {"_id": 2, "date": D(1970, 1, 1)}],
)
expression(
    "$dateFromString: a Z in the string with a timezone argument",
    FROM_STRING,
    {"$dateFromString": {"dateString": "2017-02-08T12:10:40.787Z", "timezone": "Europe/London"}},
    error="you cannot pass in a date/time string with time zone information ('Z')",
)
expression(
    "$dateFromString: an offset in the string with a timezone argument",
    FROM_STRING,
    {"$dateFromString": {"dateString": "2017-02-08 12:10 -0400", "timezone": "+01"}},
    error="you cannot pass in a date/time string with GMT offset together with a timezone",
)
expression(
    "$dateFromString: onError catches a string and timezone that disagree",
    FROM_STRING,
    {
        "$dateFromString": {
            "dateString": "2017-02-08T12:10:40.787Z",
            "timezone": "Europe/London",
            "onError": "bad",
        }
    },
    "bad",
)
expression(
    "$dateFromString: a string that does not fill its format",
    FROM_STRING,
    {"$dateFromString": {"dateString": "06-15", "format": "%m-%d-%Y"}},
    error="Error parsing date string '06-15'",
)
expression(
    "$dateFromString: a string longer than its format",
    FROM_STRING,
    {"$dateFromString": {"dateString": "06-15-2018 12:00", "format": "%m-%d-%Y", "onError": 0}},
    0,
)
expression(
    "$dateFromString: a date without its day is incomplete",
    FROM_STRING,
    {"$dateFromString": {"dateString": "2018-06", "format": "%Y-%m"}},
    error="an incomplete date/time string has been found, with elements missing",
)
expression(
    "$dateFromString: a day past the month's end",
    FROM_STRING,
    {"$dateFromString": {"dateString": "2018-02-30"}},
    error="Error parsing date string '2018-02-30'",
)
expression(
    "$dateFromString: a dateString that is not a string",
    FROM_STRING,
    {"$dateFromString": {"dateString": 20180615}},
    error="$dateFromString requires that 'dateString' be a string, found: int",
)
expression(
    "$dateFromString: onError catches a dateString that is not a string",
    FROM_STRING,
    {"$dateFromString": {"dateString": 20180615, "onError": "not a string"}},
    "not a string",
)
expression(
    "$dateFromString: a format that is not a string",
    FROM_STRING,
    {"$dateFromString": {"dateString": "2018", "format": 2018}},
    error="$dateFromString requires that 'format' be a string, found: int",
)
expression(
    "$dateFromString: an unknown time zone is not caught by onError",
    FROM_STRING,
    {"$dateFromString": {"dateString": "2018-06-15", "timezone": "$zone", "onError": 0}},
    doc={"zone": "Nowhere"},
    error='unrecognized time zone identifier: "Nowhere"',
)
expression(
    "$dateFromString: a missing dateString without onNull is null",
    FROM_STRING,
    {"$dateFromString": {"dateString": "$nothing"}},
    None,
)
expression(
    "$dateFromString: dateString is required",
    FROM_STRING,
    {"$dateFromString": {"format": "%Y"}},
    error="Missing 'dateString' parameter to $dateFromString",
)

# =============================================================================================
# $dateToParts
# =============================================================================================

TO_PARTS = agg("dateToParts")
case(
    "$dateToParts: the page's example (calendar, ISO and America/New_York)",
    TO_PARTS,
    [
        {
            "_id": 2,
            "item": "abc",
            "price": 10,
            "quantity": 2,
            "date": D(2017, 1, 1, 1, 29, 9, 123000),
        }
    ],
    [
        {
            "$project": {
                "date": {"$dateToParts": {"date": "$date"}},
                "date_iso": {"$dateToParts": {"date": "$date", "iso8601": True}},
                "date_timezone": {
                    "$dateToParts": {"date": "$date", "timezone": "America/New_York"}
                },
            }
        }
    ],
    [
        {
            "_id": 2,
            "date": {
                "year": 2017,
                "month": 1,
                "day": 1,
                "hour": 1,
                "minute": 29,
                "second": 9,
                "millisecond": 123,
            },
            "date_iso": {
                "isoWeekYear": 2016,
                "isoWeek": 52,
                "isoDayOfWeek": 7,
                "hour": 1,
                "minute": 29,
                "second": 9,
                "millisecond": 123,
            },
            "date_timezone": {
                "year": 2016,
                "month": 12,
                "day": 31,
                "hour": 20,
                "minute": 29,
                "second": 9,
                "millisecond": 123,
            },
        }
    ],
)
expression(
    "$dateToParts: iso8601 false is the calendar form",
    TO_PARTS,
    {"$dateToParts": {"date": D(2021, 3, 7, 23, 0, 1, 2000), "iso8601": False, "timezone": "+01"}},
    {"year": 2021, "month": 3, "day": 8, "hour": 0, "minute": 0, "second": 1, "millisecond": 2},
)
expression(
    "$dateToParts: a null date gives null",
    TO_PARTS,
    {"$dateToParts": {"date": "$missing"}},
    None,
)
expression(
    "$dateToParts: iso8601 must be a bool",
    TO_PARTS,
    {"$dateToParts": {"date": SALE_DATE, "iso8601": 1}},
    error="iso8601 must evaluate to a bool, found int",
)
expression(
    "$dateToParts: date is required",
    TO_PARTS,
    {"$dateToParts": {"timezone": "UTC"}},
    error="Missing 'date' parameter to $dateToParts",
)

# =============================================================================================
# $dateFromParts
# =============================================================================================

FROM_PARTS = agg("dateFromParts")
case(
    "$dateFromParts: the page's example (calendar, ISO week date, America/New_York)",
    FROM_PARTS,
    [{"_id": 1}],
    [
        {
            "$project": {
                "date": {"$dateFromParts": {"year": 2017, "month": 2, "day": 8, "hour": 12}},
                "date_iso": {
                    "$dateFromParts": {
                        "isoWeekYear": 2017,
                        "isoWeek": 6,
                        "isoDayOfWeek": 3,
                        "hour": 12,
                    }
                },
                "date_timezone": {
                    "$dateFromParts": {
                        "year": 2016,
                        "month": 12,
                        "day": 31,
                        "hour": 23,
                        "minute": 46,
                        "second": 12,
                        "timezone": "America/New_York",
                    }
                },
            }
        }
    ],
    [
        {
            "_id": 1,
            "date": D(2017, 2, 8, 12),
            "date_iso": D(2017, 2, 8, 12),
            "date_timezone": D(2017, 1, 1, 4, 46, 12),
        }
    ],
)
expression(
    "$dateFromParts: month 14 carries into the next year",
    FROM_PARTS,
    {"$dateFromParts": {"year": 2017, "month": 14, "day": 1, "hour": 12}},
    D(2018, 2, 1, 12),
)
expression(
    "$dateFromParts: month 0 borrows from the year before",
    FROM_PARTS,
    {"$dateFromParts": {"year": 2017, "month": 0, "day": 1, "hour": 12}},
    D(2016, 12, 1, 12),
)
expression(
    "$dateFromParts: day 0 is the last day of the month before",
    FROM_PARTS,
    {"$dateFromParts": {"year": 2016, "month": 3, "day": 0}},
    D(2016, 2, 29),
)
expression(
    "$dateFromParts: hours, minutes, seconds and milliseconds carry over",
    FROM_PARTS,
    {
        "$dateFromParts": {
            "year": 2017,
            "month": 12,
            "day": 31,
            "hour": 23,
            "minute": 59,
            "second": 59,
            "millisecond": 1500,
        }
    },
    D(2018, 1, 1, 0, 0, 0, 500000),
)
expression(
    "$dateFromParts: a negative hour borrows a day",
    FROM_PARTS,
    {"$dateFromParts": {"year": 2017, "month": 3, "day": 1, "hour": -1}},
    D(2017, 2, 28, 23),
)
expression(
    "$dateFromParts: isoDayOfWeek 8 carries into the next week",
    FROM_PARTS,
    {"$dateFromParts": {"isoWeekYear": 2017, "isoWeek": 6, "isoDayOfWeek": 8}},
    D(2017, 2, 13),
)
expression(
    "$dateFromParts: the defaults are January 1st, midnight",
    FROM_PARTS,
    {"$dateFromParts": {"year": 2020}},
    D(2020, 1, 1),
)
expression(
    "$dateFromParts: ISO week year alone is the Monday of its week 1",
    FROM_PARTS,
    {"$dateFromParts": {"isoWeekYear": 2021}},
    D(2021, 1, 4),
)
expression(
    "$dateFromParts: a UTC offset timezone",
    FROM_PARTS,
    {"$dateFromParts": {"year": 2017, "month": 2, "day": 8, "hour": 12, "timezone": "-0530"}},
    D(2017, 2, 8, 17, 30),
)
expression(
    "$dateFromParts: integral doubles are accepted",
    FROM_PARTS,
    {"$dateFromParts": {"year": 2017.0, "month": Int64(2), "day": 8.0}},
    D(2017, 2, 8),
)
expression(
    "$dateFromParts: a null part gives null",
    FROM_PARTS,
    {"$dateFromParts": {"year": 2017, "month": "$month"}},
    None,
)
expression(
    "$dateFromParts: a year past 9999 is an error",
    FROM_PARTS,
    {"$dateFromParts": {"year": 10000}},
    error="'year' must evaluate to an integer in the range 1 to 9999, found 10000",
)
expression(
    "$dateFromParts: year 0 is an error",
    FROM_PARTS,
    {"$dateFromParts": {"year": 0}},
    error="'year' must evaluate to an integer in the range 1 to 9999, found 0",
)
expression(
    "$dateFromParts: isoWeekYear past 9999 is an error",
    FROM_PARTS,
    {"$dateFromParts": {"isoWeekYear": 10000}},
    error="'isoWeekYear' must evaluate to an integer in the range 1 to 9999",
)
expression(
    "$dateFromParts: a fractional part is an error",
    FROM_PARTS,
    {"$dateFromParts": {"year": 2017, "month": 1.5}},
    error="'month' must evaluate to an integer, found double with value 1.5",
)
expression(
    "$dateFromParts: a part past 16 bits is an error",
    FROM_PARTS,
    {"$dateFromParts": {"year": 2017, "day": 40000}},
    error="'day' must evaluate to a value in the range [-32768, 32767]; value 40000",
)
expression(
    "$dateFromParts: calendar and ISO fields do not mix",
    FROM_PARTS,
    {"$dateFromParts": {"year": 2017, "isoWeek": 6}},
    error="$dateFromParts does not allow mixing natural dates with ISO dates",
)
expression(
    "$dateFromParts: ISO and calendar fields do not mix",
    FROM_PARTS,
    {"$dateFromParts": {"isoWeekYear": 2017, "month": 6}},
    error="$dateFromParts does not allow mixing ISO dates with natural dates",
)
expression(
    "$dateFromParts: year or isoWeekYear is required",
    FROM_PARTS,
    {"$dateFromParts": {"month": 6}},
    error="$dateFromParts requires either 'year' or 'isoWeekYear' to be present",
)

# =============================================================================================
# $dateAdd and $dateSubtract
# =============================================================================================

DATE_ADD = agg("dateAdd")
DATE_SUBTRACT = agg("dateSubtract")

expression(
    "$dateAdd: a month from October 31st is November 30th",
    DATE_ADD,
    {"$dateAdd": {"startDate": D(2020, 10, 31, 12, 10, 5), "unit": "month", "amount": 1}},
    D(2020, 11, 30, 12, 10, 5),
)
SHIPPING = [
    {"_id": 1, "custId": 456, "purchaseDate": D(2020, 12, 31)},
    {"_id": 2, "custId": 457, "purchaseDate": D(2021, 2, 28)},
    {"_id": 3, "custId": 458, "purchaseDate": D(2021, 2, 26)},
]
project(
    "$dateAdd: three days of shipping",
    DATE_ADD,
    SHIPPING,
    {"$dateAdd": {"startDate": "$purchaseDate", "unit": "day", "amount": 3}},
    [D(2021, 1, 3), D(2021, 3, 3), D(2021, 3, 1)],
)
case(
    "$dateAdd: late shipments in $match",
    DATE_ADD,
    [
        {**SHIPPING[0], "deliveryDate": D(2021, 1, 10)},
        {**SHIPPING[1], "deliveryDate": D(2021, 3, 1)},
        {**SHIPPING[2], "deliveryDate": D(2021, 3, 2)},
    ],
    [
        {
            "$match": {
                "$expr": {
                    "$gt": [
                        "$deliveryDate",
                        {"$dateAdd": {"startDate": "$purchaseDate", "unit": "day", "amount": 5}},
                    ]
                }
            }
        },
        {
            "$project": {
                "_id": 0,
                "custId": 1,
                "purchased": {"$dateToString": {"format": "%Y-%m-%d", "date": "$purchaseDate"}},
                "delivery": {"$dateToString": {"format": "%Y-%m-%d", "date": "$deliveryDate"}},
            }
        },
    ],
    [{"custId": 456, "purchased": "2020-12-31", "delivery": "2021-01-10"}],
)


def _billing_view(operator: str, days: int, hours: int) -> dict:
    def moved(unit: str, amount: int) -> dict:
        return {
            operator: {
                "startDate": "$login",
                "unit": unit,
                "amount": amount,
                "timezone": "$location",
            }
        }

    def shown(date: object, zone: bool) -> dict:
        spec: dict = {"format": "%Y-%m-%d %H:%M", "date": date}
        if zone:
            spec["timezone"] = "$location"
        return {"$dateToString": spec}

    return {
        "_id": 0,
        "location": 1,
        "start": shown("$login", False),
        "days": shown(moved("day", days), False),
        "hours": shown(moved("hour", hours), False),
        "startTZInfo": shown("$login", True),
        "daysTZInfo": shown(moved("day", days), True),
        "hoursTZInfo": shown(moved("hour", hours), True),
    }


case(
    "$dateAdd: a day is not always 24 hours across a DST change",
    DATE_ADD,
    [
        {
            "_id": 1,
            "location": "America/New_York",
            "login": D(2021, 3, 13, 15),
            "logout": D(2021, 3, 14, 23),
        },
        {
            "_id": 2,
            "location": "America/Mexico_City",
            "login": D(2021, 3, 13, 10),
            "logout": D(2021, 3, 14, 13),
        },
    ],
    [{"$project": _billing_view("$dateAdd", 1, 24)}],
    [
        {
            "location": "America/New_York",
            "start": "2021-03-13 15:00",
            "days": "2021-03-14 14:00",
            "hours": "2021-03-14 15:00",
            "startTZInfo": "2021-03-13 10:00",
            "daysTZInfo": "2021-03-14 10:00",
            "hoursTZInfo": "2021-03-14 11:00",
        },
        {
            "location": "America/Mexico_City",
            "start": "2021-03-13 10:00",
            "days": "2021-03-14 10:00",
            "hours": "2021-03-14 10:00",
            "startTZInfo": "2021-03-13 04:00",
            "daysTZInfo": "2021-03-14 04:00",
            "hoursTZInfo": "2021-03-14 04:00",
        },
    ],
)
expression(
    "$dateAdd: a year from February 29th is February 28th",
    DATE_ADD,
    {"$dateAdd": {"startDate": D(2020, 2, 29, 6), "unit": "year", "amount": 1}},
    D(2021, 2, 28, 6),
)
expression(
    "$dateAdd: a quarter from January 31st is April 30th",
    DATE_ADD,
    {"$dateAdd": {"startDate": D(2021, 1, 31), "unit": "quarter", "amount": 1}},
    D(2021, 4, 30),
)
expression(
    "$dateAdd: weeks",
    DATE_ADD,
    {"$dateAdd": {"startDate": D(2021, 12, 28), "unit": "week", "amount": 2}},
    D(2022, 1, 11),
)
expression(
    "$dateAdd: minutes, seconds and milliseconds move the instant",
    DATE_ADD,
    {
        "$dateAdd": {
            "startDate": {
                "$dateAdd": {
                    "startDate": {
                        "$dateAdd": {"startDate": D(2021, 1, 1), "unit": "minute", "amount": 90}
                    },
                    "unit": "second",
                    "amount": -30,
                }
            },
            "unit": "millisecond",
            "amount": 250,
        }
    },
    D(2021, 1, 1, 1, 29, 30, 250000),
)
expression(
    "$dateAdd: a negative amount of months",
    DATE_ADD,
    {"$dateAdd": {"startDate": D(2021, 3, 31), "unit": "month", "amount": -13}},
    D(2020, 2, 29),
)
expression(
    "$dateAdd: months in a time zone keep the local day",
    DATE_ADD,
    {
        "$dateAdd": {
            "startDate": D(2021, 1, 31, 23),  # February 1st, 00:00 in Paris
            "unit": "month",
            "amount": 1,
            "timezone": "Europe/Paris",
        }
    },
    D(2021, 2, 28, 23),
)
expression(
    "$dateAdd: an integral double amount",
    DATE_ADD,
    {"$dateAdd": {"startDate": D(2021, 1, 1), "unit": "day", "amount": 2.0}},
    D(2021, 1, 3),
)
expression(
    "$dateAdd: a Timestamp startDate gives a Date",
    DATE_ADD,
    {"$dateAdd": {"startDate": Timestamp(1500000000, 1), "unit": "hour", "amount": 1}},
    D(2017, 7, 14, 3, 40),
)
project(
    "$dateAdd: null or missing arguments give null",
    DATE_ADD,
    [{"_id": 1, "d": None}, {"_id": 2}, {"_id": 3, "d": D(2021, 1, 1), "n": None}],
    {"$dateAdd": {"startDate": "$d", "unit": "day", "amount": "$n"}},
    [None, None, None],
)
expression(
    "$dateAdd: a fractional amount is an error",
    DATE_ADD,
    {"$dateAdd": {"startDate": D(2021, 1, 1), "unit": "day", "amount": 1.5}},
    error="$dateAdd expects integer amount of time units",
)
expression(
    "$dateAdd: startDate must be a date",
    DATE_ADD,
    {"$dateAdd": {"startDate": "2021-01-01", "unit": "day", "amount": 1}},
    error="$dateAdd requires startDate to be convertible to a date",
)
expression(
    "$dateAdd: an unknown unit",
    DATE_ADD,
    {"$dateAdd": {"startDate": D(2021, 1, 1), "unit": "fortnight", "amount": 1}},
    error="unknown time unit value: fortnight",
)
expression(
    "$dateAdd: unit must be a string",
    DATE_ADD,
    {"$dateAdd": {"startDate": D(2021, 1, 1), "unit": "$u", "amount": 1}},
    doc={"u": 3},
    error="$dateAdd requires 'unit' to be a string, but got int",
)
expression(
    "$dateAdd: startDate, unit and amount are required",
    DATE_ADD,
    {"$dateAdd": {"startDate": D(2021, 1, 1), "unit": "day"}},
    error="$dateAdd requires startDate, unit, and amount to be present",
)
expression(
    "$dateSubtract: a month from March 31st is February 28th",
    DATE_SUBTRACT,
    {"$dateSubtract": {"startDate": D(2021, 3, 31, 12, 10, 5), "unit": "month", "amount": 1}},
    D(2021, 2, 28, 12, 10, 5),
)
CONNECTION_TIME = [
    {"_id": 1, "custId": 457, "login": D(2020, 12, 25, 19, 4), "logout": D(2020, 12, 28, 9, 4)},
    {"_id": 2, "custId": 457, "login": D(2021, 1, 27, 5, 12), "logout": D(2021, 1, 28, 13, 5)},
    {"_id": 3, "custId": 458, "login": D(2021, 1, 22, 6, 27), "logout": D(2021, 1, 31, 11, 0)},
    {"_id": 4, "custId": 459, "login": D(2021, 2, 14, 20, 14), "logout": D(2021, 2, 17, 16, 5)},
    {"_id": 5, "custId": 460, "login": D(2021, 2, 26, 2, 44), "logout": D(2021, 2, 18, 14, 13)},
]
case(
    "$dateSubtract: three hours off the January 2021 logouts",
    DATE_SUBTRACT,
    CONNECTION_TIME,
    [
        {
            "$match": {
                "$expr": {
                    "$and": [
                        {"$eq": [{"$year": "$logout"}, 2021]},
                        {"$eq": [{"$month": "$logout"}, 1]},
                    ]
                }
            }
        },
        {
            "$project": {
                "logoutTime": {
                    "$dateSubtract": {"startDate": "$logout", "unit": "hour", "amount": 3}
                }
            }
        },
    ],
    [{"_id": 2, "logoutTime": D(2021, 1, 28, 10, 5)}, {"_id": 3, "logoutTime": D(2021, 1, 31, 8)}],
)
# The page's relative filter, with logout times far enough from the clock to stay true/false.
case(
    "$dateSubtract: filter on the past week relative to $$NOW",
    DATE_SUBTRACT,
    [
        {"_id": 1, "custId": 459, "logoutTime": D(2999, 2, 17, 16, 5)},
        {"_id": 2, "custId": 460, "logoutTime": D(2021, 2, 18, 14, 13)},
    ],
    [
        {
            "$match": {
                "$expr": {
                    "$gt": [
                        "$logoutTime",
                        {"$dateSubtract": {"startDate": "$$NOW", "unit": "week", "amount": 1}},
                    ]
                }
            }
        },
        {
            "$project": {
                "_id": 0,
                "custId": 1,
                "loggedOut": {"$dateToString": {"format": "%Y-%m-%d", "date": "$logoutTime"}},
            }
        },
    ],
    [{"custId": 459, "loggedOut": "2999-02-17"}],
)
case(
    "$dateSubtract: a day is not always 24 hours across a DST change",
    DATE_SUBTRACT,
    [
        {
            "_id": 1,
            "location": "America/New_York",
            "login": D(2021, 3, 14, 15),
            "logout": D(2021, 3, 14, 23),
        }
    ],
    [{"$project": _billing_view("$dateSubtract", 1, 24)}],
    [
        {
            "location": "America/New_York",
            "start": "2021-03-14 15:00",
            "days": "2021-03-13 16:00",
            "hours": "2021-03-13 15:00",
            "startTZInfo": "2021-03-14 11:00",
            "daysTZInfo": "2021-03-13 11:00",
            "hoursTZInfo": "2021-03-13 10:00",
        }
    ],
)
expression(
    "$dateSubtract: a fractional amount is an error",
    DATE_SUBTRACT,
    {"$dateSubtract": {"startDate": D(2021, 1, 1), "unit": "hour", "amount": 0.5}},
    error="$dateSubtract expects integer amount of time units",
)

# =============================================================================================
# $dateDiff
# =============================================================================================

DATE_DIFF = agg("dateDiff")
case(
    "$dateDiff: average delivery time in days",
    DATE_DIFF,
    [
        {"_id": 1, "custId": 456, "purchased": D(2020, 12, 31), "delivered": D(2021, 1, 5)},
        {"_id": 2, "custId": 457, "purchased": D(2021, 2, 28), "delivered": D(2021, 3, 7)},
        {"_id": 3, "custId": 458, "purchased": D(2021, 2, 16), "delivered": D(2021, 2, 18)},
    ],
    [
        {
            "$group": {
                "_id": None,
                "averageTime": {
                    "$avg": {
                        "$dateDiff": {
                            "startDate": "$purchased",
                            "endDate": "$delivered",
                            "unit": "day",
                        }
                    }
                },
            }
        },
        {"$project": {"_id": 0, "numDays": {"$trunc": ["$averageTime", 1]}}},
    ],
    [{"numDays": 4.6}],
)
SUBSCRIPTIONS = [
    {"_id": 1, "custId": 456, "start": D(2010, 1, 1), "end": D(2011, 1, 1)},
    # mongosh reads ISODate("2011-06-31") as July 1st, as the page's table shows.
    {"_id": 2, "custId": 457, "start": D(2010, 1, 1), "end": D(2011, 7, 1)},
    {"_id": 3, "custId": 458, "start": D(2010, 3, 1), "end": D(2010, 4, 30)},
]
case(
    "$dateDiff: the count only grows when a new unit starts",
    DATE_DIFF,
    SUBSCRIPTIONS,
    [
        {
            "$project": {
                "_id": 0,
                **{
                    field: {"$dateDiff": {"startDate": "$start", "endDate": "$end", "unit": unit}}
                    for field, unit in (("years", "year"), ("months", "month"), ("days", "day"))
                },
            }
        }
    ],
    [
        {"years": Int64(1), "months": Int64(12), "days": Int64(365)},
        {"years": Int64(1), "months": Int64(18), "days": Int64(546)},
        {"years": Int64(0), "months": Int64(1), "days": Int64(60)},
    ],
)
case(
    "$dateDiff: weeks per month with startOfWeek",
    DATE_DIFF,
    [
        {"_id": 1, "month": "January", "start": D(2021, 1, 1), "end": D(2021, 1, 31)},
        {"_id": 2, "month": "February", "start": D(2021, 2, 1), "end": D(2021, 2, 28)},
        {"_id": 3, "month": "March", "start": D(2021, 3, 1), "end": D(2021, 3, 31)},
    ],
    [
        {
            "$project": {
                "_id": 0,
                "wks_default": {
                    "$dateDiff": {"startDate": "$start", "endDate": "$end", "unit": "week"}
                },
                "wks_monday": {
                    "$dateDiff": {
                        "startDate": "$start",
                        "endDate": "$end",
                        "unit": "week",
                        "startOfWeek": "Monday",
                    }
                },
                "wks_friday": {
                    "$dateDiff": {
                        "startDate": "$start",
                        "endDate": "$end",
                        "unit": "week",
                        "startOfWeek": "fri",
                    }
                },
            }
        }
    ],
    [
        {"wks_default": Int64(5), "wks_monday": Int64(4), "wks_friday": Int64(4)},
        {"wks_default": Int64(4), "wks_monday": Int64(3), "wks_friday": Int64(4)},
        {"wks_default": Int64(4), "wks_monday": Int64(4), "wks_friday": Int64(4)},
    ],
)
expression(
    "$dateDiff: the difference can be negative",
    DATE_DIFF,
    {"$dateDiff": {"startDate": D(2021, 3, 1), "endDate": D(2020, 12, 31), "unit": "quarter"}},
    Int64(-1),
)
expression(
    "$dateDiff: one second apart crosses a year boundary",
    DATE_DIFF,
    {
        "$dateDiff": {
            "startDate": D(2020, 12, 31, 23, 59, 59),
            "endDate": D(2021, 1, 1),
            "unit": "year",
        }
    },
    Int64(1),
)
expression(
    "$dateDiff: hours, minutes, seconds and milliseconds count boundaries",
    DATE_DIFF,
    {
        "$map": {
            "input": ["hour", "minute", "second", "millisecond"],
            "in": {
                "$dateDiff": {
                    "startDate": D(2021, 1, 1, 10, 59, 59, 900000),
                    "endDate": D(2021, 1, 1, 11, 0, 0, 100000),
                    "unit": "$$this",
                }
            },
        }
    },
    [Int64(1), Int64(1), Int64(1), Int64(200)],
)
# 2021-03-14 is the start of DST in New York: that local day is 23 hours long.
expression(
    "$dateDiff: days and hours across a DST change in a time zone",
    DATE_DIFF,
    {
        "$map": {
            "input": ["day", "hour"],
            "in": {
                "$dateDiff": {
                    "startDate": D(2021, 3, 14, 5),
                    "endDate": D(2021, 3, 15, 4),
                    "unit": "$$this",
                    "timezone": "America/New_York",
                }
            },
        }
    },
    [Int64(1), Int64(23)],
)
expression(
    "$dateDiff: days in a time zone count local midnights",
    DATE_DIFF,
    {
        "$dateDiff": {
            "startDate": D(2021, 1, 1, 20),
            "endDate": D(2021, 1, 2, 2),
            "unit": "day",
            "timezone": "+05:00",
        }
    },
    Int64(0),
)
project(
    "$dateDiff: null or missing dates give null",
    DATE_DIFF,
    [{"_id": 1, "a": None, "b": D(2021, 1, 1)}, {"_id": 2, "a": D(2021, 1, 1)}],
    {"$dateDiff": {"startDate": "$a", "endDate": "$b", "unit": "day"}},
    [None, None],
)
expression(
    "$dateDiff: startDate must be a date",
    DATE_DIFF,
    {"$dateDiff": {"startDate": "yesterday", "endDate": D(2021, 1, 1), "unit": "day"}},
    error="$dateDiff requires 'startDate' to be a date, but got string",
)
expression(
    "$dateDiff: startOfWeek must name a day",
    DATE_DIFF,
    {
        "$dateDiff": {
            "startDate": D(2021, 1, 1),
            "endDate": D(2021, 2, 1),
            "unit": "week",
            "startOfWeek": "$sow",
        }
    },
    doc={"sow": "someday"},
    error="'startOfWeek' value cannot be recognized as a day of a week: someday",
)
expression(
    "$dateDiff: an unknown time zone",
    DATE_DIFF,
    {
        "$dateDiff": {
            "startDate": D(2021, 1, 1),
            "endDate": D(2021, 2, 1),
            "unit": "day",
            "timezone": "$tz",
        }
    },
    doc={"tz": "Atlantis"},
    error='unrecognized time zone identifier: "Atlantis"',
)
expression(
    "$dateDiff: endDate is required",
    DATE_DIFF,
    {"$dateDiff": {"startDate": D(2021, 1, 1), "unit": "day"}},
    error="Missing 'endDate' parameter to $dateDiff",
)

# =============================================================================================
# $dateTrunc
# =============================================================================================

DATE_TRUNC = agg("dateTrunc")
CAKE_SALES = [
    {
        "_id": 0,
        "type": "chocolate",
        "orderDate": D(2020, 5, 18, 14, 10, 30),
        "state": "CA",
        "price": 13,
        "quantity": 120,
    },
    {
        "_id": 1,
        "type": "chocolate",
        "orderDate": D(2021, 3, 20, 11, 30, 5),
        "state": "WA",
        "price": 14,
        "quantity": 140,
    },
    {
        "_id": 2,
        "type": "vanilla",
        "orderDate": D(2021, 1, 11, 6, 31, 15),
        "state": "CA",
        "price": 12,
        "quantity": 145,
    },
    {
        "_id": 3,
        "type": "vanilla",
        "orderDate": D(2020, 2, 8, 13, 13, 23),
        "state": "WA",
        "price": 13,
        "quantity": 104,
    },
    {
        "_id": 4,
        "type": "strawberry",
        "orderDate": D(2019, 5, 18, 16, 9, 1),
        "state": "CA",
        "price": 41,
        "quantity": 162,
    },
    {
        "_id": 5,
        "type": "strawberry",
        "orderDate": D(2019, 1, 8, 6, 12, 3),
        "state": "WA",
        "price": 43,
        "quantity": 134,
    },
]
case(
    "$dateTrunc: two-week bins from Monday in America/Los_Angeles",
    DATE_TRUNC,
    CAKE_SALES,
    [
        {
            "$project": {
                "_id": 1,
                "orderDate": 1,
                "truncatedOrderDate": {
                    "$dateTrunc": {
                        "date": "$orderDate",
                        "unit": "week",
                        "binSize": 2,
                        "timezone": "America/Los_Angeles",
                        "startOfWeek": "Monday",
                    }
                },
            }
        }
    ],
    [
        {"_id": d["_id"], "orderDate": d["orderDate"], "truncatedOrderDate": t}
        for d, t in zip(
            CAKE_SALES,
            [
                D(2020, 5, 11, 7),
                D(2021, 3, 15, 7),
                D(2021, 1, 4, 8),
                D(2020, 2, 3, 8),
                D(2019, 5, 13, 7),
                D(2019, 1, 7, 8),
            ],
            strict=True,
        )
    ],
)
case(
    "$dateTrunc: six-month bins in $group",
    DATE_TRUNC,
    CAKE_SALES,
    [
        {
            "$group": {
                "_id": {
                    "truncatedOrderDate": {
                        "$dateTrunc": {"date": "$orderDate", "unit": "month", "binSize": 6}
                    }
                },
                "sumQuantity": {"$sum": "$quantity"},
            }
        }
    ],
    [
        {"_id": {"truncatedOrderDate": D(2020, 1, 1)}, "sumQuantity": 224},
        {"_id": {"truncatedOrderDate": D(2021, 1, 1)}, "sumQuantity": 285},
        {"_id": {"truncatedOrderDate": D(2019, 1, 1)}, "sumQuantity": 296},
    ],
    ordered=False,
)
expression(
    "$dateTrunc: one hour",
    DATE_TRUNC,
    {"$dateTrunc": {"date": D(2021, 3, 20, 11, 30, 5), "unit": "hour", "binSize": 1}},
    D(2021, 3, 20, 11),
)
expression(
    "$dateTrunc: two hours",
    DATE_TRUNC,
    {"$dateTrunc": {"date": D(2021, 3, 20, 11, 30, 5), "unit": "hour", "binSize": 2}},
    D(2021, 3, 20, 10),
)
expression(
    "$dateTrunc: ten-year bins start at 2000, 2010, 2020",
    DATE_TRUNC,
    {"$dateTrunc": {"date": D(2029, 12, 31), "unit": "year", "binSize": 10}},
    D(2020, 1, 1),
)
expression(
    "$dateTrunc: the calendar quarter",
    DATE_TRUNC,
    {"$dateTrunc": {"date": D(2021, 8, 20, 11, 30), "unit": "quarter"}},
    D(2021, 7, 1),
)
expression(
    "$dateTrunc: weeks start on Sunday by default",
    DATE_TRUNC,
    {"$dateTrunc": {"date": D(2021, 3, 20, 11, 30, 5), "unit": "week"}},
    D(2021, 3, 14),
)
expression(
    "$dateTrunc: a day in a time zone",
    DATE_TRUNC,
    {"$dateTrunc": {"date": D(2021, 3, 20, 3), "unit": "day", "timezone": "America/New_York"}},
    D(2021, 3, 19, 4),
)
expression(
    "$dateTrunc: minutes and seconds",
    DATE_TRUNC,
    {
        "$dateTrunc": {
            "date": {"$dateTrunc": {"date": D(2021, 3, 20, 11, 37, 5, 500000), "unit": "second"}},
            "unit": "minute",
            "binSize": 15,
        }
    },
    D(2021, 3, 20, 11, 30),
)
expression(
    "$dateTrunc: the proleptic Gregorian calendar before 1583",
    DATE_TRUNC,
    {"$dateTrunc": {"date": D(1500, 3, 15, 12), "unit": "month"}},
    D(1500, 3, 1),
)
project(
    "$dateTrunc: null date, binSize or startOfWeek (for weeks) gives null",
    DATE_TRUNC,
    [
        {"_id": 1, "d": None, "n": 1, "s": "mon"},
        {"_id": 2, "d": D(2021, 1, 1), "n": None, "s": "mon"},
        {"_id": 3, "d": D(2021, 1, 1), "n": 1},
    ],
    {"$dateTrunc": {"date": "$d", "unit": "week", "binSize": "$n", "startOfWeek": "$s"}},
    [None, None, None],
)
expression(
    "$dateTrunc: binSize must be positive",
    DATE_TRUNC,
    {"$dateTrunc": {"date": D(2021, 1, 1), "unit": "day", "binSize": "$n"}},
    doc={"n": 0},
    error="$dateTrunc requires 'binSize' to be greater than 0, but got value 0",
)
expression(
    "$dateTrunc: binSize must be an integer",
    DATE_TRUNC,
    {"$dateTrunc": {"date": D(2021, 1, 1), "unit": "day", "binSize": "$n"}},
    doc={"n": 1.5},
    error="$dateTrunc requires 'binSize' to be a 64-bit integer",
)
expression(
    "$dateTrunc: date must be a date",
    DATE_TRUNC,
    {"$dateTrunc": {"date": "$d", "unit": "day"}},
    doc={"d": 20210101},
    error="$dateTrunc requires 'date' to be a date, but got int",
)
expression(
    "$dateTrunc: unit is required",
    DATE_TRUNC,
    {"$dateTrunc": {"date": D(2021, 1, 1)}},
    error="Missing 'unit' parameter to $dateTrunc",
)

# =============================================================================================
# $year, $month ... $isoDayOfWeek
# =============================================================================================

case(
    "date parts: $year $month $dayOfMonth $hour $minute $second $millisecond $dayOfYear "
    "$dayOfWeek $week",
    agg("week"),
    [SALE],
    [
        {
            "$project": {
                "year": {"$year": "$date"},
                "month": {"$month": "$date"},
                "day": {"$dayOfMonth": "$date"},
                "hour": {"$hour": "$date"},
                "minutes": {"$minute": "$date"},
                "seconds": {"$second": "$date"},
                "milliseconds": {"$millisecond": "$date"},
                "dayOfYear": {"$dayOfYear": "$date"},
                "dayOfWeek": {"$dayOfWeek": "$date"},
                "week": {"$week": "$date"},
            }
        }
    ],
    [
        {
            "_id": 1,
            "year": 2014,
            "month": 1,
            "day": 1,
            "hour": 8,
            "minutes": 15,
            "seconds": 39,
            "milliseconds": 736,
            "dayOfYear": 1,
            "dayOfWeek": 4,
            "week": 0,
        }
    ],
)
for _op, _page, _rows in [
    (
        "$dayOfMonth",
        "dayOfMonth",
        [
            (D(2016, 1, 1), None, 1),
            (D(2003, 1, 7), "", 7),
            (D(1998, 11, 7), None, 7),
            (D(1998, 11, 7), "-0400", 6),
        ],
    ),
    (
        "$dayOfWeek",
        "dayOfWeek",
        [
            (D(2016, 1, 1), None, 6),
            (D(2003, 1, 7), "", 3),
            (D(1998, 11, 7), None, 7),
            (D(1998, 11, 7), "-0400", 6),
        ],
    ),
    (
        "$dayOfYear",
        "dayOfYear",
        [
            (D(2016, 1, 1), None, 1),
            (D(2003, 1, 7), "", 7),
            (D(1998, 11, 7), None, 311),
            (D(1998, 11, 7), "-0400", 310),
        ],
    ),
    (
        "$hour",
        "hour",
        [
            (D(2016, 1, 1, 12), None, 12),
            (D(2003, 1, 7), "", 0),
            (D(2011, 8, 14), "America/Chicago", 19),
            (D(2017, 10, 19), None, 0),
            (D(2017, 10, 19), "+0530", 5),
        ],
    ),
    (
        "$isoDayOfWeek",
        "isoDayOfWeek",
        [
            (D(2016, 1, 1), None, 5),
            (D(2003, 1, 7), "", 2),
            (D(1998, 11, 7), None, 6),
            (D(1998, 11, 7), "-0400", 5),
        ],
    ),
    (
        "$isoWeek",
        "isoWeek",
        [
            (D(2016, 1, 4), "", 1),
            (D(2016, 1, 1), None, 53),
            (D(1998, 11, 2), None, 45),
            (D(1998, 11, 2), "-0500", 44),
        ],
    ),
    (
        "$isoWeekYear",
        "isoWeekYear",
        [
            (D(2015, 5, 26), None, Int64(2015)),
            (D(2003, 1, 7), "", Int64(2003)),
            (D(2017, 1, 2), None, Int64(2017)),
            (D(2017, 1, 2), "-0500", Int64(2016)),
        ],
    ),
]:
    for _i, (_date, _zone, _result) in enumerate(_rows, 1):
        expression(
            f"{_op}: behavior row {_i}",
            agg(_page),
            {_op: _date}
            if _zone is None
            else {_op: {"date": _date}}
            if _zone == ""
            else {_op: {"date": _date, "timezone": _zone}},
            _result,
        )
    expression(
        f"{_op}: a string is not a date",
        agg(_page),
        {_op: "2009-04-09"},
        error="can't convert from BSON type string to Date",
    )
project(
    "$isoWeek: the deliveries example",
    agg("isoWeek"),
    [
        {"_id": 1, "date": D(2006, 10, 24), "city": "Boston"},
        {"_id": 2, "date": D(2011, 8, 18), "city": "Detroit"},
    ],
    {"$isoWeek": "$date"},
    [43, 33],
)
project(
    "$isoWeekYear: the anniversaries example (a long)",
    agg("isoWeekYear"),
    [
        {"_id": 1, "date": D(2016, 1, 1)},
        {"_id": 2, "date": D(2016, 1, 4)},
        {"_id": 3, "date": D(2015, 1, 1)},
        {"_id": 4, "date": D(2014, 4, 21)},
    ],
    {"$isoWeekYear": "$date"},
    [Int64(2015), Int64(2016), Int64(2015), Int64(2014)],
)
project(
    "$isoDayOfWeek: the birthdays example",
    agg("isoDayOfWeek"),
    [
        {"_id": 1, "name": "Betty", "birthday": D(1993, 9, 21)},
        {"_id": 2, "name": "Veronica", "birthday": D(1981, 11, 7)},
    ],
    {"$isoDayOfWeek": "$birthday"},
    [2, 6],
)
expression(
    "$year: in a time zone ahead of UTC",
    agg("year"),
    {"$year": {"date": D(2016, 12, 31, 22), "timezone": "Asia/Tokyo"}},
    2017,
)
expression(
    "$month: a date wrapped in a one-element array",
    agg("month"),
    {"$month": [D(2016, 7, 4)]},
    7,
)
expression(
    "$minute: in a UTC offset with minutes",
    agg("minute"),
    {"$minute": {"date": D(2016, 7, 4, 10, 5), "timezone": "+05:45"}},
    50,
)
expression(
    "$second: an expression as the date",
    agg("second"),
    {"$second": {"$add": [D(2016, 7, 4, 10, 5), 61500]}},
    1,
)
expression(
    "$millisecond: a date before 1970",
    agg("millisecond"),
    {"$millisecond": D(1969, 12, 31, 23, 59, 59, 7000)},
    7,
)
expression(
    "$week: the first Sunday starts week 1",
    agg("week"),
    {"$week": D(2017, 1, 1)},
    1,
)
expression(
    "$dayOfWeek: an ObjectId is read as its creation date",
    agg("dayOfWeek"),
    {"$dayOfWeek": "$_id"},
    6,
    doc={"_id": ObjectId("59682f0000000000000000ab")},
)
project(
    "$year: a null or missing date gives null",
    agg("year"),
    [{"_id": 1, "d": None}, {"_id": 2}],
    {"$year": "$d"},
    [None, None],
)
expression(
    "$hour: a null timezone gives null",
    agg("hour"),
    {"$hour": {"date": D(2016, 1, 1), "timezone": None}},
    None,
)
expression(
    "$hour: more than one argument in an array",
    agg("hour"),
    {"$hour": [D(2016, 1, 1), D(2016, 1, 2)]},
    error="$hour accepts exactly one argument if given an array, but was given 2",
)
expression(
    "$dayOfMonth: unknown options are refused",
    agg("dayOfMonth"),
    {"$dayOfMonth": {"date": D(2016, 1, 1), "zone": "UTC"}},
    error='unrecognized option to $dayOfMonth: "zone"',
)
expression(
    "$dayOfYear: the object form needs a date",
    agg("dayOfYear"),
    {"$dayOfYear": {"timezone": "UTC"}},
    error="missing 'date' argument to $dayOfYear",
)

# =============================================================================================
# $$NOW
# =============================================================================================

expression(
    "$$NOW: the current datetime is after a past date",
    VARIABLES,
    {"$gt": ["$$NOW", D(2024, 1, 1)]},
    True,
)
expression("$$NOW: is a date", VARIABLES, {"$type": "$$NOW"}, "date")
case(
    "$$NOW: the same value throughout all stages of the pipeline",
    VARIABLES,
    [{"_id": 1}, {"_id": 2}, {"_id": 3}],
    [
        {"$project": {"t": "$$NOW"}},
        {"$group": {"_id": "$t", "n": {"$sum": 1}}},
        {"$project": {"_id": 0, "n": 1, "same": {"$eq": ["$_id", "$$NOW"]}}},
    ],
    [{"n": 3, "same": True}],
)
expression(
    "$$NOW: a path into it is missing",
    VARIABLES,
    {"$ifNull": ["$$NOW.year", "none"]},
    "none",
)
