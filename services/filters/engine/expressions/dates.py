"""Date expression operators ($dateToString, $dateFromString, $dateToParts, $dateFromParts,
$dateAdd, $dateSubtract, $dateDiff, $dateTrunc, $year ... $isoDayOfWeek) and the system variable
$$NOW.

MongoDB dates are int64 milliseconds since the epoch; here a date is worked on as an int of
milliseconds (UTC) and turned back into a naive UTC datetime, as pymongo decodes dates, only at
the end. Calendar arithmetic is integer arithmetic on the proleptic Gregorian calendar, valid for
any year; only a resulting datetime is limited to Python's years 1-9999 (an EvaluationError
beyond). Time zones are Olson names (zoneinfo, with the tzdata package where the system has no
database) or UTC offsets ("+04:45", "-0530", "+03"), read as MongoDB's timelib reads them; a wall
clock time that a DST change skips or repeats maps to UTC with zoneinfo's fold=0, which is where
timelib puts it too.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import zoneinfo
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from bson import Decimal128, Int64, ObjectId, Timestamp

from ..errors import EvaluationError, PipelineError
from ..values import EPOCH, MISSING, date_to_ms, format_number, type_name
from .conversion import CONVERSION_FAILURE, ConversionFailure
from .core import (
    SYSTEM_VARIABLE_COMPILERS,
    ArgumentMessages,
    Compiler,
    Expr,
    Scope,
    compile_time,
    constant_value,
    is_constant,
    object_arguments,
    operator,
)

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
MINUTE_MS = 60_000
FAILED_TO_PARSE = 9
_UNIT_MS = {"millisecond": 1, "second": 1000, "minute": MINUTE_MS, "hour": HOUR_MS}
_MIN_MS = date_to_ms(dt.datetime.min)
_MAX_MS = date_to_ms(dt.datetime.max.replace(microsecond=999000))
# Instants looked up in a zone's rules are kept a day inside datetime's range (the offset at
# the very edges is that of the nearest representable instant).
_LOOKUP_MIN = _MIN_MS + DAY_MS
_LOOKUP_MAX = _MAX_MS - DAY_MS
_REFERENCE_MS = 946_684_800_000  # 2000-01-01T00:00:00Z, $dateTrunc's reference point
_ISO_DEFAULT_FORMAT = "%Y-%m-%dT%H:%M:%S.%LZ"  # MongoDB 7.0 keeps the Z even with a timezone
_MONTHS = (
    "January February March April May June July August September October November December"
).split()
_MONTH_NUMBERS = {name.lower(): i for i, name in enumerate(_MONTHS, 1)} | {
    name[:3].lower(): i for i, name in enumerate(_MONTHS, 1)
}
_DAYS_OF_WEEK = {
    name: number
    for number, names in enumerate(
        (
            ("monday", "mon"),
            ("tuesday", "tue"),
            ("wednesday", "wed"),
            ("thursday", "thu"),
            ("friday", "fri"),
            ("saturday", "sat"),
            ("sunday", "sun"),
        ),
        1,
    )
    for name in names
}
_SUNDAY = 7
# Largest |amount| $dateAdd accepts per unit (MongoDB's isDateAddAmountValid).
_MAX_DAYS = (2**64 - 1) // DAY_MS + 1
_MAX_YEARS = _MAX_DAYS // 365 + 1
_MAX_AMOUNT = {
    "year": _MAX_YEARS,
    "quarter": _MAX_YEARS * 4,
    "month": _MAX_YEARS * 12,
    "week": _MAX_DAYS // 7,
    "day": _MAX_DAYS,
    "hour": _MAX_DAYS * 24,
    "minute": _MAX_DAYS * 24 * 60,
    "second": _MAX_DAYS * 24 * 3600,
}


# --- the calendar -----------------------------------------------------------------------------


def days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (month 1-12, any year)."""
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146_097 + day_of_era - 719_468


def civil_from_days(days: int) -> tuple[int, int, int]:
    """(year, month, day) of a day counted from 1970-01-01."""
    days += 719_468
    era = days // 146_097
    day_of_era = days - era * 146_097
    year_of_era = (
        day_of_era - day_of_era // 1460 + day_of_era // 36_524 - day_of_era // 146_096
    ) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    shifted_month = (5 * day_of_year + 2) // 153
    day = day_of_year - (153 * shifted_month + 2) // 5 + 1
    month = shifted_month + (3 if shifted_month < 10 else -9)
    return year_of_era + era * 400 + (month <= 2), month, day


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def days_in_month(year: int, month: int) -> int:
    if month == 2:
        return 29 if _is_leap(year) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def _iso_day_of_week(days: int) -> int:
    """1 (Monday) to 7 (Sunday); 1970-01-01 was a Thursday."""
    return (days + 3) % 7 + 1


def _day_of_week(days: int) -> int:
    """1 (Sunday) to 7 (Saturday), as $dayOfWeek counts."""
    return (days + 4) % 7 + 1


def _iso_week_and_year(days: int) -> tuple[int, int]:
    # The ISO week and its year are those of the week's Thursday.
    thursday = days - _iso_day_of_week(days) + 4
    year = civil_from_days(thursday)[0]
    return (thursday - days_from_civil(year, 1, 1)) // 7 + 1, year


def _week(days: int, year: int) -> int:
    # strftime's %U: week 1 starts on the year's first Sunday (MongoDB's TimeZone::week).
    day_of_year = days - days_from_civil(year, 1, 1) + 1
    return (day_of_year - _day_of_week(days) + 7) // 7


def _c_div(a: int, b: int) -> int:
    """C's integer division, truncating toward zero."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b >= 0) else -q


# --- dates in and out -------------------------------------------------------------------------


def date_ms(value: Any) -> int | None:
    """A Date, Timestamp or ObjectId as milliseconds since the epoch (Value::coerceToDate)."""
    if isinstance(value, dt.datetime):
        return date_to_ms(value)
    if isinstance(value, Timestamp):
        return value.time * 1000
    if isinstance(value, ObjectId):
        return int.from_bytes(value.binary[:4], "big") * 1000
    return None


def _coerce_date(value: Any) -> int:
    ms = date_ms(value)
    if ms is None:
        raise EvaluationError(f"can't convert from BSON type {type_name(value)} to Date", 16006)
    return ms


def to_datetime(ms: int) -> dt.datetime:
    """A naive UTC datetime; MongoDB's dates reach far beyond the years Python can hold."""
    if not _MIN_MS <= ms <= _MAX_MS:
        raise EvaluationError(
            f"the date {ms} ms from the epoch lies outside the years 1-9999, which the filter "
            "engine cannot represent"
        )
    return EPOCH + dt.timedelta(milliseconds=ms)


def _lookup_datetime(ms: int) -> dt.datetime:
    return EPOCH + dt.timedelta(milliseconds=min(max(ms, _LOOKUP_MIN), _LOOKUP_MAX))


def _timedelta_ms(delta: dt.timedelta | None) -> int:
    assert delta is not None
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000


# --- time zones -------------------------------------------------------------------------------


class Zone:
    """A time zone: UTC, a fixed UTC offset, or an Olson zone's rules."""

    __slots__ = ("info", "offset", "utc")

    def __init__(self, info: zoneinfo.ZoneInfo | None = None, offset: int = 0) -> None:
        self.info = info
        self.offset = offset  # ms, for a fixed offset
        # MongoDB's isUtcZone: "UTC" or a zero offset, not an Olson zone such as "GMT".
        self.utc = info is None and offset == 0

    def offset_at(self, ms: int) -> int:
        """The zone's UTC offset (ms) at an instant."""
        info = self.info
        if info is None:
            return self.offset
        local = info.fromutc(_lookup_datetime(ms).replace(tzinfo=info))
        return _timedelta_ms(local.utcoffset())

    def to_utc(self, local_ms: int) -> int:
        """The instant of a wall-clock time (ms since the epoch as if it were UTC)."""
        info = self.info
        if info is None:
            return local_ms - self.offset
        wall = _lookup_datetime(local_ms).replace(tzinfo=info)
        return local_ms - _timedelta_ms(wall.utcoffset())

    def local(self, ms: int) -> tuple[int, int]:
        """(days since 1970-01-01, ms into that day) on the zone's wall clock."""
        return divmod(ms + self.offset_at(ms), DAY_MS)


UTC = Zone()
_OFFSET_FORMS = re.compile(r"([+-])([0-9]{2})(?::?([0-9]{2}))?")


@functools.cache
def _olson_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


@functools.lru_cache(maxsize=1024)
def parse_zone(text: str) -> Zone:
    """MongoDB's TimeZoneDatabase::getTimeZone: an Olson name, then ±HH, ±HHMM or ±HH:MM."""
    if text in ("UTC", "Z"):  # "Z": the $dateFromString page lists it beside "UTC" and "GMT"
        return UTC
    if text in _olson_names():
        return Zone(zoneinfo.ZoneInfo(text))
    match = _OFFSET_FORMS.fullmatch(text)
    if match and (len(text) in (3, 5) or text[3] == ":"):
        sign, hours, minutes = match.groups()
        offset = (int(hours) * HOUR_MS + int(minutes or 0) * MINUTE_MS) * (-1 if sign == "-" else 1)
        return Zone(offset=offset) if offset else UTC
    raise EvaluationError(f'unrecognized time zone identifier: "{text}"', 40485)


ZoneGetter = Callable[[dict, list], Zone | None]


def _zone_value(value: Any, context: str) -> Zone | None:
    """makeTimeZone: None for null or missing (the result is then null)."""
    if value is None or value is MISSING:
        return None
    try:
        if type(value) is not str:
            raise EvaluationError(
                f"timezone must evaluate to a string, found {type_name(value)}", 40517
            )
        return parse_zone(value)
    except EvaluationError as exc:
        if not context:
            raise
        raise EvaluationError(
            f"{context} parameter 'timezone' value parsing failed :: caused by :: {exc.message}",
            exc.code,
        ) from None


def _zone_getter(args: dict, c: Compiler, scope: Scope, context: str = "") -> ZoneGetter:
    if "timezone" not in args:
        return _always(UTC)
    return _argument(args, "timezone", c, scope, _zone_value, context)


def _always(value: Any) -> Callable[[dict, list], Any]:
    return lambda doc, frame: value


def _argument(
    args: dict, key: str, c: Compiler, scope: Scope, parse: Callable[..., Any], *extra: Any
) -> Callable[[dict, list], Any]:
    """The argument `key` through parse(value, *extra): parsed once when it is a constant (a bad
    constant is refused before any document, as MongoDB does), else per document."""
    fn = c.compile(args[key], scope)
    if is_constant(fn):
        return _always(compile_time(parse, constant_value(fn), *extra))
    return lambda doc, frame: parse(fn(doc, frame), *extra)


# --- argument checks --------------------------------------------------------------------------

_ARGUMENT_MESSAGES: ArgumentMessages = (
    "{name} only supports an object as its argument",
    "Unrecognized argument to {name}: {key}",
    "Missing '{key}' parameter to {name}",
)
_ARITHMETIC_MESSAGES = (
    "{name} expects an object as its argument",
    _ARGUMENT_MESSAGES[1],
    "{name} requires startDate, unit, and amount to be present",
)
_FROM_STRING_MESSAGES = (
    "{name} only supports an object as an argument, found: {type}",
    *_ARGUMENT_MESSAGES[1:],
)
_PART_MESSAGES = ("", 'unrecognized option to {name}: "{key}"', "missing 'date' argument to {name}")


def _shown(value: Any) -> str:
    """A value as MongoDB's Value::toString prints it inside messages."""
    if type(value) is str:
        return f'"{value}"'
    if value is None:
        return "null"
    if value is MISSING:
        return "missing"
    if type(value) is bool:
        return "true" if value else "false"
    return format_number(value) if isinstance(value, (int, float)) else str(value)


def integral_value(value: Any) -> int | None:
    """The value as an int when it is a number with an integral 64-bit value (integral64Bit)."""
    t = type(value)
    if t is int or t is Int64:
        return int(value)
    if t is float:
        if value.is_integer() and -(2.0**63) <= value < 2.0**63:
            return int(value)
        return None
    if t is Decimal128:
        number = value.to_decimal()
        if number.is_finite() and number == number.to_integral_value():
            integer = int(number)
            return integer if -(2**63) <= integer < 2**63 else None
    return None


def _unit_value(value: Any, name: str) -> str | None:
    if value is None or value is MISSING:
        return None
    if type(value) is not str:
        raise EvaluationError(
            f"{name} requires 'unit' to be a string, but got {type_name(value)}", 5439013
        )
    if value not in ("year", "quarter", "month", "week", "day") and value not in _UNIT_MS:
        raise EvaluationError(
            f"{name} parameter 'unit' value parsing failed :: caused by :: unknown time unit "
            f"value: {value}",
            FAILED_TO_PARSE,
        )
    return value


def _start_of_week_value(value: Any, name: str) -> int | None:
    if value is None or value is MISSING:
        return None
    if type(value) is not str:
        raise EvaluationError(
            f"{name} requires 'startOfWeek' to be a string, but got {type_name(value)}", 5439015
        )
    number = _DAYS_OF_WEEK.get(value.lower())
    if number is None:
        raise EvaluationError(
            f"{name} parameter 'startOfWeek' value cannot be recognized as a day of a week: "
            f"{value}",
            5439016,
        )
    return number


def _start_of_week_getter(args: dict, c: Compiler, scope: Scope, name: str) -> Callable:
    if "startOfWeek" not in args:
        return _always(_SUNDAY)
    fn = c.compile(args["startOfWeek"], scope)
    if is_constant(fn):
        try:
            return _always(_start_of_week_value(constant_value(fn), name))
        except EvaluationError:
            pass  # only an error when the unit turns out to be "week"
    return lambda doc, frame: _start_of_week_value(fn(doc, frame), name)


# --- arithmetic: $dateAdd, $dateSubtract, $dateDiff, $dateTrunc --------------------------------


def add_to_date(ms: int, unit: str, amount: int, zone: Zone) -> int:
    """MongoDB's dateAdd: units of a day or more move the zone's wall clock (keeping its time of
    day, clamping the day to the month's last), smaller units move the instant."""
    if unit == "millisecond":
        return ms + amount
    limit = _MAX_AMOUNT[unit]
    if not -limit < amount < limit:
        raise EvaluationError(f"invalid dateAdd 'amount' parameter value: {amount} {unit}", 5976500)
    step = _UNIT_MS.get(unit)
    if step is not None:
        return ms + amount * step
    days, time_of_day = zone.local(ms)
    if unit == "day":
        days += amount
    elif unit == "week":
        days += 7 * amount
    else:
        months = amount * (12 if unit == "year" else 3 if unit == "quarter" else 1)
        year, month, day = civil_from_days(days)
        carry, month_index = divmod(month - 1 + months, 12)
        year, month = year + carry, month_index + 1
        days = days_from_civil(year, month, min(day, days_in_month(year, month)))
    return zone.to_utc(days * DAY_MS + time_of_day)


def date_diff(start: int, end: int, unit: str, zone: Zone, start_of_week: int) -> int:
    """MongoDB's dateDiff: the number of unit boundaries passed on the zone's wall clock."""
    if unit == "millisecond":
        return end - start
    start_offset, end_offset = zone.offset_at(start), zone.offset_at(end)
    start_day, start_time = divmod(start + start_offset, DAY_MS)
    end_day, end_time = divmod(end + end_offset, DAY_MS)
    if unit in ("year", "quarter", "month"):
        start_year, start_month, _ = civil_from_days(start_day)
        end_year, end_month, _ = civil_from_days(end_day)
        years = end_year - start_year
        if unit == "year":
            return years
        if unit == "quarter":
            return (end_month - 1) // 3 - (start_month - 1) // 3 + 4 * years
        return end_month - start_month + 12 * years
    days = end_day - start_day
    if unit == "day":
        return days
    if unit == "week":
        return (days + _week_day(start_day, start_of_week) - _week_day(end_day, start_of_week)) // 7
    # Hours, minutes and seconds count on the wall clock, corrected by the change of offset.
    shift = start_offset - end_offset
    hours = days * 24 + end_time // HOUR_MS - start_time // HOUR_MS
    if unit == "hour":
        return hours + _c_div(shift, HOUR_MS)
    minutes = hours * 60 + end_time // MINUTE_MS % 60 - start_time // MINUTE_MS % 60
    if unit == "minute":
        return minutes + _c_div(shift, MINUTE_MS)
    return minutes * 60 + end_time // 1000 % 60 - start_time // 1000 % 60 + shift // 1000


def _week_day(days: int, start_of_week: int) -> int:
    """0 for the first day of the week starting on start_of_week (1 Monday - 7 Sunday)."""
    return (_iso_day_of_week(days) - start_of_week + 7) % 7


def truncate_date(ms: int, unit: str, bin_size: int, zone: Zone, start_of_week: int) -> int:
    """MongoDB's truncateDate: the start of the binSize-unit period holding the date, periods
    counted from 2000-01-01 on the zone's wall clock (from the first startOfWeek day on or
    after it for weeks)."""
    reference = _REFERENCE_MS - zone.offset_at(_REFERENCE_MS)
    step = _UNIT_MS.get(unit)
    if step is not None:
        size = bin_size * step
        if size >= 2**63:
            raise EvaluationError("dateTrunc overflowed", 5439002)
        return ms - (ms - reference) % size
    if bin_size > 100_000_000_000:
        raise EvaluationError("dateTrunc unsupported binSize value", 5439006)
    reference_day = days_from_civil(2000, 1, 1)
    if unit == "week":
        adjust = (7 - _week_day(reference_day, start_of_week)) % 7
        reference += adjust * DAY_MS
        reference_day += adjust
    days = zone.local(ms)[0]
    year, month, _ = civil_from_days(days)
    if unit == "day":
        distance = days - reference_day
    elif unit == "week":
        distance = (days - reference_day - _week_day(days, start_of_week)) // 7
    elif unit == "month":
        distance = (year - 2000) * 12 + month - 1
    elif unit == "quarter":
        distance = (year - 2000) * 4 + (month - 1) // 3
    else:
        distance = year - 2000
    return add_to_date(reference, unit, distance - distance % bin_size, zone)


def _date_arithmetic(name: str, sign: int) -> None:
    @operator(name)
    def compile_arithmetic(args: Any, c: Compiler, scope: Scope) -> Expr:
        required = ("startDate", "unit", "amount")
        object_arguments(name, args, required, ("timezone",), _ARITHMETIC_MESSAGES)
        start_fn = c.compile(args["startDate"], scope)
        unit_of = _argument(args, "unit", c, scope, _unit_value, name)
        amount_fn = c.compile(args["amount"], scope)
        zone_of = _zone_getter(args, c, scope)

        def arithmetic(doc: dict, frame: list) -> Any:
            start = start_fn(doc, frame)
            if start is None or start is MISSING:
                return None
            unit = unit_of(doc, frame)
            if unit is None:
                return None
            amount = amount_fn(doc, frame)
            if amount is None or amount is MISSING:
                return None
            zone = zone_of(doc, frame)
            if zone is None:
                return None
            ms = date_ms(start)
            if ms is None:
                raise EvaluationError(
                    f"{name} requires startDate to be convertible to a date", 5166403
                )
            count = integral_value(amount)
            if count is None:
                raise EvaluationError(f"{name} expects integer amount of time units", 5166405)
            if sign < 0 and count == -(2**63):
                raise EvaluationError(
                    f"invalid $dateSubtract 'amount' parameter value: {count}", 6045000
                )
            return to_datetime(add_to_date(ms, unit, sign * count, zone))

        return arithmetic


_date_arithmetic("$dateAdd", 1)
_date_arithmetic("$dateSubtract", -1)


def _date_argument(value: Any, name: str, parameter: str) -> int:
    ms = date_ms(value)
    if ms is None:
        raise EvaluationError(
            f"{name} requires '{parameter}' to be a date, but got {type_name(value)}", 5166307
        )
    return ms


@operator("$dateDiff")
def _date_diff(args: Any, c: Compiler, scope: Scope) -> Expr:
    object_arguments(
        "$dateDiff",
        args,
        ("startDate", "endDate", "unit"),
        ("timezone", "startOfWeek"),
        _ARGUMENT_MESSAGES,
    )
    start_fn = c.compile(args["startDate"], scope)
    end_fn = c.compile(args["endDate"], scope)
    unit_of = _argument(args, "unit", c, scope, _unit_value, "$dateDiff")
    week_start_of = _start_of_week_getter(args, c, scope, "$dateDiff")
    zone_of = _zone_getter(args, c, scope, "$dateDiff")

    def date_diff_fn(doc: dict, frame: list) -> Any:
        start = start_fn(doc, frame)
        if start is None or start is MISSING:
            return None
        end = end_fn(doc, frame)
        if end is None or end is MISSING:
            return None
        unit = unit_of(doc, frame)
        if unit is None:
            return None
        start_of_week = _SUNDAY
        if unit == "week":
            start_of_week = week_start_of(doc, frame)
            if start_of_week is None:
                return None
        zone = zone_of(doc, frame)
        if zone is None:
            return None
        start_ms = _date_argument(start, "$dateDiff", "startDate")
        end_ms = _date_argument(end, "$dateDiff", "endDate")
        return Int64(date_diff(start_ms, end_ms, unit, zone, start_of_week))

    return date_diff_fn


def _bin_size_value(value: Any) -> int | None:
    if value is None or value is MISSING:
        return None
    size = integral_value(value)
    if size is None:
        raise EvaluationError(
            "$dateTrunc requires 'binSize' to be a 64-bit integer, but got value "
            f"'{_shown(value)}' of type {type_name(value)}",
            5439017,
        )
    if size <= 0:
        raise EvaluationError(
            f"$dateTrunc requires 'binSize' to be greater than 0, but got value {size}", 5439018
        )
    return size


@operator("$dateTrunc")
def _date_trunc(args: Any, c: Compiler, scope: Scope) -> Expr:
    object_arguments(
        "$dateTrunc",
        args,
        ("date", "unit"),
        ("binSize", "timezone", "startOfWeek"),
        _ARGUMENT_MESSAGES,
    )
    date_fn = c.compile(args["date"], scope)
    unit_of = _argument(args, "unit", c, scope, _unit_value, "$dateTrunc")
    week_start_of = _start_of_week_getter(args, c, scope, "$dateTrunc")
    zone_of = _zone_getter(args, c, scope, "$dateTrunc")
    bin_size_of = _always(1)
    if "binSize" in args:
        bin_size_of = _argument(args, "binSize", c, scope, _bin_size_value)

    def date_trunc(doc: dict, frame: list) -> Any:
        value = date_fn(doc, frame)
        if value is None or value is MISSING:
            return None
        bin_size = bin_size_of(doc, frame)
        if bin_size is None:
            return None
        unit = unit_of(doc, frame)
        if unit is None:
            return None
        start_of_week = _SUNDAY
        if unit == "week":
            start_of_week = week_start_of(doc, frame)
            if start_of_week is None:
                return None
        zone = zone_of(doc, frame)
        if zone is None:
            return None
        ms = _date_argument(value, "$dateTrunc", "date")
        return to_datetime(truncate_date(ms, unit, bin_size, zone, start_of_week))

    return date_trunc


# --- parts: $year ... $isoDayOfWeek, $dateToParts, $dateFromParts ------------------------------


def _year(days: int, time: int) -> int:
    return civil_from_days(days)[0]


def _month(days: int, time: int) -> int:
    return civil_from_days(days)[1]


def _day_of_month(days: int, time: int) -> int:
    return civil_from_days(days)[2]


def _day_of_year(days: int, time: int) -> int:
    return days - days_from_civil(civil_from_days(days)[0], 1, 1) + 1


_PARTS: dict[str, Callable[[int, int], Any]] = {
    "$year": _year,
    "$month": _month,
    "$dayOfMonth": _day_of_month,
    "$hour": lambda days, time: time // HOUR_MS,
    "$minute": lambda days, time: time // MINUTE_MS % 60,
    "$second": lambda days, time: time // 1000 % 60,
    "$millisecond": lambda days, time: time % 1000,
    "$dayOfYear": _day_of_year,
    "$dayOfWeek": lambda days, time: _day_of_week(days),
    "$week": lambda days, time: _week(days, civil_from_days(days)[0]),
    "$isoWeek": lambda days, time: _iso_week_and_year(days)[0],
    # TimeZone::isoYear is a long long: MongoDB returns a long here, an int for the others.
    "$isoWeekYear": lambda days, time: Int64(_iso_week_and_year(days)[1]),
    "$isoDayOfWeek": lambda days, time: _iso_day_of_week(days),
}


def _register_part(name: str, part: Callable[[int, int], Any]) -> None:
    @operator(name)
    def compile_part(args: Any, c: Compiler, scope: Scope) -> Expr:
        zone_of: ZoneGetter = _always(UTC)
        if isinstance(args, dict) and not (args and next(iter(args)).startswith("$")):
            # {date: <date>, timezone: <zone>}
            object_arguments(name, args, ("date",), ("timezone",), _PART_MESSAGES)
            date_fn = c.compile(args["date"], scope)
            zone_of = _zone_getter(args, c, scope)
        else:
            if isinstance(args, list):
                if len(args) != 1:
                    raise PipelineError(
                        f"{name} accepts exactly one argument if given an array, but was given "
                        f"{len(args)}"
                    )
                args = args[0]
            date_fn = c.compile(args, scope)

        def date_part(doc: dict, frame: list) -> Any:
            value = date_fn(doc, frame)
            if value is None or value is MISSING:
                return None
            ms = _coerce_date(value)
            zone = zone_of(doc, frame)
            if zone is None:
                return None
            return part(*zone.local(ms))

        return date_part


for _name, _part in _PARTS.items():
    _register_part(_name, _part)


@operator("$dateToParts")
def _date_to_parts(args: Any, c: Compiler, scope: Scope) -> Expr:
    object_arguments("$dateToParts", args, ("date",), ("timezone", "iso8601"), _ARGUMENT_MESSAGES)
    date_fn = c.compile(args["date"], scope)
    zone_of = _zone_getter(args, c, scope)
    iso_fn = c.compile(args["iso8601"], scope) if "iso8601" in args else _always(False)

    def date_to_parts(doc: dict, frame: list) -> Any:
        value = date_fn(doc, frame)
        zone = zone_of(doc, frame)
        if zone is None:
            return None
        iso = iso_fn(doc, frame)
        if iso is None or iso is MISSING:
            return None
        if type(iso) is not bool:
            raise EvaluationError(f"iso8601 must evaluate to a bool, found {type_name(iso)}", 40521)
        if value is None or value is MISSING:
            return None
        ms = _coerce_date(value)
        days, time = zone.local(ms)
        clock = {
            "hour": time // HOUR_MS,
            "minute": time // MINUTE_MS % 60,
            "second": time // 1000 % 60,
            "millisecond": time % 1000,
        }
        if iso:
            week, year = _iso_week_and_year(days)
            return {
                "isoWeekYear": year,
                "isoWeek": week,
                "isoDayOfWeek": _iso_day_of_week(days),
                **clock,
            }
        year, month, day = civil_from_days(days)
        return {"year": year, "month": month, "day": day, **clock}

    return date_to_parts


_DATE_PART_BOUND = 32_767  # MongoDB limits most parts to a 16-bit int


def _part_getter(
    args: dict, c: Compiler, scope: Scope, key: str, default: int, bounded: bool
) -> Callable[[dict, list], int | None]:
    """A $dateFromParts field: its integer value, None when null or missing (result null)."""
    if key not in args:
        return _always(default)
    fn = c.compile(args[key], scope)

    def value_of(doc: dict, frame: list) -> int | None:
        value = fn(doc, frame)
        if value is None or value is MISSING:
            return None
        number = integral_value(value)
        if number is None:
            raise EvaluationError(
                f"'{key}' must evaluate to an integer, found {type_name(value)} with value "
                f"{_shown(value)}",
                40515,
            )
        if bounded and not -_DATE_PART_BOUND - 1 <= number <= _DATE_PART_BOUND:
            raise EvaluationError(
                f"'{key}' must evaluate to a value in the range [-32768, 32767]; value "
                f"{number} is not in range",
                31034,
            )
        return number

    return value_of


@operator("$dateFromParts")
def _date_from_parts(args: Any, c: Compiler, scope: Scope) -> Expr:
    natural = ("year", "month", "day")
    iso = ("isoWeekYear", "isoWeek", "isoDayOfWeek")
    clock_keys = ("hour", "minute", "second", "millisecond", "timezone")
    object_arguments("$dateFromParts", args, (), (*natural, *iso, *clock_keys), _ARGUMENT_MESSAGES)
    if "year" not in args and "isoWeekYear" not in args:
        raise PipelineError("$dateFromParts requires either 'year' or 'isoWeekYear' to be present")
    if "year" in args and any(key in args for key in iso):
        raise PipelineError("$dateFromParts does not allow mixing natural dates with ISO dates")
    if "isoWeekYear" in args and any(key in args for key in natural):
        raise PipelineError("$dateFromParts does not allow mixing ISO dates with natural dates")
    clock = [
        _part_getter(args, c, scope, "hour", 0, True),
        _part_getter(args, c, scope, "minute", 0, True),
        _part_getter(args, c, scope, "second", 0, False),
        _part_getter(args, c, scope, "millisecond", 0, False),
    ]
    zone_of = _zone_getter(args, c, scope)
    is_iso = "isoWeekYear" in args
    year_key = "isoWeekYear" if is_iso else "year"
    calendar = [
        _part_getter(args, c, scope, year_key, 1970, False),
        _part_getter(args, c, scope, "isoWeek" if is_iso else "month", 1, True),
        _part_getter(args, c, scope, "isoDayOfWeek" if is_iso else "day", 1, True),
    ]
    year_code = 31095 if is_iso else 40523

    def date_from_parts(doc: dict, frame: list) -> Any:
        times = [fn(doc, frame) for fn in clock]
        if None in times:
            return None
        zone = zone_of(doc, frame)
        if zone is None:
            return None
        fields = [fn(doc, frame) for fn in calendar]
        if None in fields:
            return None
        year, second_field, third_field = fields
        if not 1 <= year <= 9999:  # type: ignore[operator]
            raise EvaluationError(
                f"'{year_key}' must evaluate to an integer in the range 1 to 9999, found {year}",
                year_code,
            )
        if is_iso:
            # Monday of ISO week 1 is the Monday on or before January 4th; parts carry over.
            january_4 = days_from_civil(year, 1, 4)  # type: ignore[arg-type]
            days = january_4 - _iso_day_of_week(january_4) + 1
            days += (second_field - 1) * 7 + third_field - 1  # type: ignore[operator]
        else:
            carry, month_index = divmod(second_field - 1, 12)  # type: ignore[operator]
            days = days_from_civil(year + carry, month_index + 1, 1) + third_field - 1  # type: ignore[operator]
        hour, minute, second, millisecond = times
        local = (
            days * DAY_MS + hour * HOUR_MS + minute * MINUTE_MS + second * 1000 + millisecond  # type: ignore[operator]
        )
        return to_datetime(zone.to_utc(local))

    return date_from_parts


# --- $dateToString ----------------------------------------------------------------------------

_TO_STRING_SPECIFIERS = "bBdGHjLmMSwuUVYzZ"
_FROM_STRING_SPECIFIERS = "bBdGHjLmMSuVYzZ"  # the server's kDateFromStringFormatMap
Tokens = tuple[tuple[bool, str], ...]  # (is a specifier, its letter or literal text)


@functools.lru_cache(maxsize=256)
def format_tokens(text: str, allowed: str) -> Tokens:
    """A format string split into literal runs and specifiers, checked as MongoDB checks it."""
    tokens: list[tuple[bool, str]] = []
    literal: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        i += 1
        if char != "%":
            literal.append(char)
            continue
        if i == len(text):
            raise EvaluationError("Unmatched '%' at end of format string", 18535)
        specifier = text[i]
        i += 1
        if specifier == "%":
            literal.append("%")
            continue
        if specifier not in allowed:
            raise EvaluationError(
                f"Invalid format character '%{specifier}' in format string", 18536
            )
        if literal:
            tokens.append((False, "".join(literal)))
            literal = []
        tokens.append((True, specifier))
    if literal:
        tokens.append((False, "".join(literal)))
    return tuple(tokens)


def _padded(number: int, width: int) -> str:
    if not 0 <= number <= 9999:
        raise EvaluationError(
            "Could not convert date to string: date component was outside the supported range "
            f"of 0-9999: {number}",
            18537,
        )
    return str(number).zfill(width)


def format_date(ms: int, zone: Zone, tokens: Tokens) -> str:
    """TimeZone::formatDate."""
    offset = zone.offset_at(ms)
    days, time = divmod(ms + offset, DAY_MS)
    year, month, day = civil_from_days(days)
    out = []
    for is_specifier, text in tokens:
        if not is_specifier:
            out.append(text)
        elif text == "Y":
            out.append(_padded(year, 4))
        elif text == "m":
            out.append(_padded(month, 2))
        elif text == "d":
            out.append(_padded(day, 2))
        elif text == "H":
            out.append(_padded(time // HOUR_MS, 2))
        elif text == "M":
            out.append(_padded(time // MINUTE_MS % 60, 2))
        elif text == "S":
            out.append(_padded(time // 1000 % 60, 2))
        elif text == "L":
            out.append(_padded(time % 1000, 3))
        elif text == "j":
            out.append(_padded(days - days_from_civil(year, 1, 1) + 1, 3))
        elif text == "w":
            out.append(_padded(_day_of_week(days), 1))
        elif text == "U":
            out.append(_padded(_week(days, year), 2))
        elif text == "G":
            out.append(_padded(_iso_week_and_year(days)[1], 4))
        elif text == "V":
            out.append(_padded(_iso_week_and_year(days)[0], 2))
        elif text == "u":
            out.append(_padded(_iso_day_of_week(days), 1))
        elif text == "z":
            seconds = offset // 1000
            out.append(
                ("-" if seconds < 0 else "+")
                + _padded(abs(_c_div(seconds, 3600)), 2)
                + _padded(abs(_c_div(seconds, 60)) % 60, 2)
            )
        elif text == "Z":
            out.append(str(_c_div(offset // 1000, 60)))
        elif text == "b":
            out.append(_MONTHS[month - 1][:3])
        else:  # "B"
            out.append(_MONTHS[month - 1])
    return "".join(out)


def _format_value(value: Any, name: str, code: int, allowed: str) -> Tokens | None:
    if value is None or value is MISSING:
        return None
    if type(value) is not str:
        raise EvaluationError(
            f"{name} requires that 'format' be a string, found: {type_name(value)} with value "
            f"{_shown(value)}",
            code,
        )
    return format_tokens(value, allowed)


def _format_getter(
    args: dict, c: Compiler, scope: Scope, name: str, code: int, allowed: str
) -> Callable[[dict, list], Tokens | None] | None:
    if "format" not in args:
        return None
    return _argument(args, "format", c, scope, _format_value, name, code, allowed)


_DEFAULT_TOKENS = format_tokens(_ISO_DEFAULT_FORMAT, _TO_STRING_SPECIFIERS)


@operator("$dateToString")
def _date_to_string(args: Any, c: Compiler, scope: Scope) -> Expr:
    optional = ("format", "timezone", "onNull")
    object_arguments("$dateToString", args, ("date",), optional, _ARGUMENT_MESSAGES)
    date_fn = c.compile(args["date"], scope)
    format_of = _format_getter(args, c, scope, "$dateToString", 18533, _TO_STRING_SPECIFIERS)
    zone_of = _zone_getter(args, c, scope)
    on_null = c.compile(args["onNull"], scope) if "onNull" in args else None

    def date_to_string(doc: dict, frame: list) -> Any:
        value = date_fn(doc, frame)
        tokens = format_of(doc, frame) if format_of is not None else _DEFAULT_TOKENS
        zone = zone_of(doc, frame)
        if value is None or value is MISSING:
            return on_null(doc, frame) if on_null is not None else None
        if zone is None or tokens is None:
            return None
        return format_date(_coerce_date(value), zone, tokens)

    return date_to_string


# --- $dateFromString --------------------------------------------------------------------------


class _Parsed:
    """What a date string gave; None for a part it did not."""

    __slots__ = (
        "day",
        "day_of_year",
        "hour",
        "iso_day",
        "iso_week",
        "iso_year",
        "millisecond",
        "minute",
        "month",
        "second",
        "year",
        "zone_name",
        "zone_offset",
    )

    def __init__(self) -> None:
        for slot in self.__slots__:
            setattr(self, slot, None)


def _parse_failure(text: str, reason: str) -> ConversionFailure:
    return ConversionFailure(f"Error parsing date string '{text}'; {reason}")


def _read_zone(parsed: _Parsed, zone: str, text: str) -> None:
    upper = zone.upper()
    if upper in ("Z", "UTC", "GMT"):
        parsed.zone_offset, parsed.zone_name = 0, upper
        return
    match = re.fullmatch(r"([+-])([0-9]{1,2})(?::?([0-9]{2}))?", zone)
    if match is None:
        raise _parse_failure(
            text, "passing a time zone identifier as part of the string is not allowed"
        )
    sign, hours, minutes = match.groups()
    offset = int(hours) * HOUR_MS + int(minutes or 0) * MINUTE_MS
    parsed.zone_offset = -offset if sign == "-" else offset


# The forms a date string may take without a format: ISO 8601 dates ("2017-02-08",
# "2017/02/08"), American ones ("02/08/2017") and month names ("Feb 8, 2017", "8 February 2017"),
# then a time "12:10[:40[.787]]" after a "T" or spaces, then "Z", "UTC", "GMT" or an offset.
_DEFAULT_FORM = re.compile(
    r"\s*(?:(?P<y1>[0-9]{4})(?P<sep>[-/])(?P<m1>[0-9]{1,2})(?P=sep)(?P<d1>[0-9]{1,2})"
    r"|(?P<m2>[0-9]{1,2})/(?P<d2>[0-9]{1,2})/(?P<y2>[0-9]{4})"
    r"|(?P<n3>[A-Za-z]{3,9})\.?\s+(?P<d3>[0-9]{1,2})(?:st|nd|rd|th)?,?\s+(?P<y3>[0-9]{4})"
    r"|(?P<d4>[0-9]{1,2})[ -](?P<n4>[A-Za-z]{3,9})\.?[ -](?P<y4>[0-9]{4}))"
    r"(?:(?:[Tt]|\s+)(?P<H>[0-9]{1,2}):(?P<M>[0-9]{2})"
    r"(?::(?P<S>[0-9]{2})(?:[.,](?P<frac>[0-9]+))?)?)?"
    r"\s*(?P<zone>[A-Za-z][A-Za-z_/+-]*|[+-][0-9:]+)?\s*"
)


def _parse_default(text: str) -> _Parsed:
    match = _DEFAULT_FORM.fullmatch(text)
    if match is None:
        raise _parse_failure(text, "the string is not a date MongoDB's parser reads")
    groups = match.groupdict()
    parsed = _Parsed()
    for y, m, d, n in (("y1", "m1", "d1", ""), ("y2", "m2", "d2", ""), ("y3", "", "d3", "n3")):
        if groups[y] is not None:
            parsed.year, parsed.day = int(groups[y]), int(groups[d])
            parsed.month = int(groups[m]) if m else _month_number(groups[n], text)
    if groups["y4"] is not None:
        parsed.year, parsed.day = int(groups["y4"]), int(groups["d4"])
        parsed.month = _month_number(groups["n4"], text)
    if groups["H"] is not None:
        parsed.hour, parsed.minute = int(groups["H"]), int(groups["M"])
        parsed.second = int(groups["S"] or 0)
        parsed.millisecond = int((groups["frac"] or "0")[:3].ljust(3, "0"))
    if groups["zone"]:
        _read_zone(parsed, groups["zone"], text)
    return parsed


def _month_number(name: str, text: str) -> int:
    number = _MONTH_NUMBERS.get(name.lower().rstrip("."))
    if number is None:
        raise _parse_failure(text, f"the month name '{name}' is unknown")
    return number


_DIGITS = {"Y": 4, "G": 4, "m": 2, "d": 2, "H": 2, "M": 2, "S": 2, "V": 2, "j": 3, "u": 1}
_FIELD_OF = {
    "Y": "year",
    "G": "iso_year",
    "m": "month",
    "d": "day",
    "H": "hour",
    "M": "minute",
    "S": "second",
    "V": "iso_week",
    "j": "day_of_year",
    "u": "iso_day",
}


def _parse_with_format(text: str, tokens: Tokens) -> _Parsed:
    """timelib_parse_from_format with MongoDB's specifier map."""
    parsed = _Parsed()
    pos, end = 0, len(text)
    for is_specifier, item in tokens:
        if not is_specifier:
            for char in item:
                if pos >= end:
                    raise _parse_failure(text, f"{pos}: Data missing")
                if text[pos] != char:
                    raise _parse_failure(
                        text, f"{pos}: The format separator does not match '{text[pos]}'"
                    )
                pos += 1
            continue
        if pos >= end:
            raise _parse_failure(text, f"{pos}: Data missing")
        start = pos
        if item in _DIGITS or item == "L":
            width = 3 if item == "L" else _DIGITS[item]
            while pos < end and pos - start < width and "0" <= text[pos] <= "9":
                pos += 1
            if pos == start or (item == "L" and pos - start < 3):
                raise _parse_failure(text, f"{start}: Unexpected data found. '{text[start]}'")
            number = int(text[start:pos])
            if item == "L":
                parsed.millisecond = number
            else:
                setattr(parsed, _FIELD_OF[item], number)
        elif item in "bB":
            while pos < end and text[pos].isascii() and text[pos].isalpha():
                pos += 1
            if pos == start:
                raise _parse_failure(text, f"{start}: A textual month could not be found")
            parsed.month = _month_number(text[start:pos], text)
        elif item == "z":
            match = re.compile(r"[Zz]|UTC|GMT|[+-][0-9]{1,2}(?::?[0-9]{2})?").match(text, pos)
            if match is None:
                raise _parse_failure(text, f"{start}: The timezone could not be found")
            pos = match.end()
            _read_zone(parsed, match.group(), text)
        else:  # "Z": minutes from UTC
            match = re.compile(r"[+-]?[0-9]{1,4}").match(text, pos)
            if match is None:
                raise _parse_failure(text, f"{start}: The timezone could not be found")
            pos = match.end()
            parsed.zone_offset = int(match.group()) * MINUTE_MS
    if pos < end:
        raise _parse_failure(text, f"{pos}: Trailing data '{text[pos]}'")
    if parsed.iso_year is not None:
        january_4 = days_from_civil(parsed.iso_year, 1, 4)
        days = january_4 - _iso_day_of_week(january_4) + 1
        days += ((parsed.iso_week or 1) - 1) * 7 + (parsed.iso_day or 1) - 1
        parsed.year, parsed.month, parsed.day = civil_from_days(days)
    elif parsed.day_of_year is not None and parsed.year is not None:
        days = days_from_civil(parsed.year, 1, 1) + parsed.day_of_year - 1
        parsed.year, parsed.month, parsed.day = civil_from_days(days)
    return parsed


def parse_date_string(text: str, zone: Zone, tokens: Tokens | None) -> int:
    """TimeZoneDatabase::fromString: ms since the epoch, or ConversionFailure."""
    parsed = _parse_default(text) if tokens is None else _parse_with_format(text, tokens)
    clock = (parsed.hour, parsed.minute, parsed.second, parsed.millisecond)
    hour, minute, second, millisecond = (0 if part is None else part for part in clock)
    if parsed.year is None or parsed.month is None or parsed.day is None:
        raise ConversionFailure(
            f'an incomplete date/time string has been found, with elements missing: "{text}"'
        )
    if not 1 <= parsed.month <= 12 or not 1 <= parsed.day <= days_in_month(
        parsed.year, parsed.month
    ):
        raise _parse_failure(text, "The parsed date was invalid")
    if hour > 23 or minute > 59 or second > 59:
        raise _parse_failure(text, "The parsed time was invalid")
    local = (
        days_from_civil(parsed.year, parsed.month, parsed.day) * DAY_MS
        + hour * HOUR_MS
        + minute * MINUTE_MS
        + second * 1000
        + millisecond
    )
    if parsed.zone_offset is None:
        return zone.to_utc(local)
    if not zone.utc:
        if parsed.zone_name is None:
            raise ConversionFailure(
                "you cannot pass in a date/time string with GMT offset together with a "
                "timezone argument"
            )
        raise ConversionFailure(
            f"you cannot pass in a date/time string with time zone information "
            f"('{parsed.zone_name}') together with a timezone argument"
        )
    return local - parsed.zone_offset


@operator("$dateFromString")
def _date_from_string(args: Any, c: Compiler, scope: Scope) -> Expr:
    optional = ("format", "timezone", "onError", "onNull")
    object_arguments("$dateFromString", args, ("dateString",), optional, _FROM_STRING_MESSAGES)
    string_fn = c.compile(args["dateString"], scope)
    format_of = _format_getter(args, c, scope, "$dateFromString", 40684, _FROM_STRING_SPECIFIERS)
    zone_of = _zone_getter(args, c, scope)
    on_null = c.compile(args["onNull"], scope) if "onNull" in args else None
    on_error = c.compile(args["onError"], scope) if "onError" in args else None

    def date_from_string(doc: dict, frame: list) -> Any:
        text = string_fn(doc, frame)
        tokens = format_of(doc, frame) if format_of is not None else None
        zone = zone_of(doc, frame)
        if text is None or text is MISSING:
            return on_null(doc, frame) if on_null is not None else None
        try:
            if type(text) is not str:
                raise ConversionFailure(
                    "$dateFromString requires that 'dateString' be a string, found: "
                    f"{type_name(text)} with value {_shown(text)}"
                )
            if zone is None or (format_of is not None and tokens is None):
                return None
            ms = parse_date_string(text, zone, tokens)
        except EvaluationError as exc:
            if on_error is None or exc.code != CONVERSION_FAILURE:
                raise
            return on_error(doc, frame)
        return to_datetime(ms)

    return date_from_string


# --- $$NOW ------------------------------------------------------------------------------------

# $$NOW of the run in progress. MongoDB binds it once per aggregation; CompiledPipeline binds
# it once per run(), passes() or passes_each() call (a whole batch) of a pipeline that uses it.
_NOW: ContextVar[dt.datetime | None] = ContextVar("filters_now", default=None)


def current_time() -> dt.datetime:
    """The clock as a MongoDB date: naive UTC, whole milliseconds."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _compile_now() -> Expr:
    get = _NOW.get

    def now(doc: dict, frame: list) -> dt.datetime:
        # Outside a bound call (an expression compiled alone) each evaluation reads the clock.
        bound = get()
        return bound if bound is not None else current_time()

    return now


SYSTEM_VARIABLE_COMPILERS["NOW"] = _compile_now


def with_now(fn: Callable) -> Callable:
    """fn with $$NOW bound to one clock reading for the whole call, unless already bound."""

    @functools.wraps(fn)
    def bound(*args: Any, **kwargs: Any) -> Any:
        if _NOW.get() is not None:
            return fn(*args, **kwargs)
        token = _NOW.set(current_time())
        try:
            return fn(*args, **kwargs)
        finally:
            _NOW.reset(token)

    return bound


def mentions_now(spec: Any) -> bool:
    """Whether a pipeline or expression refers to $$NOW (only then is a clock read bound)."""
    if isinstance(spec, str):
        return spec == "$$NOW" or spec.startswith("$$NOW.")
    if isinstance(spec, dict):
        return any(mentions_now(value) for value in spec.values())
    if isinstance(spec, list):
        return any(mentions_now(value) for value in spec)
    return False
