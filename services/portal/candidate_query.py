"""GET /api/candidates: its parameters, read and checked as SkyPortal reads them; the one SQL
statement that orders the matching objects; and the cache of ordered id lists behind queryID.

The list shows an object once, ranked by its latest pass (passed_at) over the chosen filters
within the date window, so the statement aggregates the candidates of those filters per object
first (an index-only scan of ix_candidates_filter_passed_at) and filters and orders objects
after. Annotations and classifications count only where the caller reads them (SkyPortal ranks
and filters by annotations the caller cannot read; skymesh does not, so nothing of another
group's data leaks through the order or the count).
"""

from __future__ import annotations

import json
import math
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    Text,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB, aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.portal.db.models import (
    Annotation,
    Candidate,
    Classification,
    Filter,
    Group,
    Listing,
    Obj,
    Source,
    annotation_groups,
    classification_groups,
)
from skymesh.runtime.auth import Identity

SAVED_STATUSES = (
    "all",
    "savedToAllSelected",
    "savedToAnySelected",
    "savedToAnyAccessible",
    "notSavedToAnyAccessible",
    "notSavedToAnySelected",
    "notSavedToAllSelected",
)
# SkyPortal's web client sends these for an unset date.
BLANK_DATES = frozenset({"", "null", "undefined"})
DEFAULT_PER_PAGE = 25
MAX_PER_PAGE = 500
# Fritz keeps a query's ordered ids for 120 minutes.
QUERY_TTL_S = 120 * 60
# The cache holds at most this many object ids over all queries (a few hundred MB at most).
MAX_CACHED_IDS = 2_000_000
PAGE_OUT_OF_RANGE = "Page number out of range."


@dataclass(frozen=True)
class AnnotationFilter:
    """``{"origin", "key", "value"}`` (equality) or ``{"origin", "key", "min", "max"}``."""

    origin: str
    key: str
    # The value as JSON text, for equality; None for a range.
    value: str | None = None
    low: float = -math.inf
    high: float = math.inf


@dataclass
class Params:
    group_ids: list[int] | None = None
    filter_ids: list[int] | None = None
    saved_status: str = "all"
    start: datetime | None = None
    end: datetime | None = None
    annotation_filters: list[AnnotationFilter] = field(default_factory=list)
    sort_origin: str | None = None
    sort_key: str | None = None
    sort_desc: bool = False
    classifications: list[str] = field(default_factory=list)
    classifications_reject: list[str] = field(default_factory=list)
    min_redshift: float | None = None
    max_redshift: float | None = None
    list_name: str | None = None
    list_name_reject: str | None = None
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    query_id: str = ""


def _ids(text: str, name: str, what: str) -> list[int] | None:
    """A comma-separated id list; None when the parameter is not given."""
    if not text.strip():
        return None
    try:
        return list(dict.fromkeys(int(part) for part in text.split(",") if part.strip()))
    except ValueError:
        raise ValueError(f"Invalid {name} value -- select at least one {what}") from None


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def parse_date(text: str, name: str) -> datetime | None:
    """An ISO 8601 date or time, UTC unless it says otherwise."""
    if text.strip().lower() in BLANK_DATES:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise ValueError(f"Invalid {name} value: {exc}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _number(text: str, name: str) -> float | None:
    if not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"Invalid values for {name} - could not convert to float") from None
    if math.isnan(value):
        raise ValueError(f"Invalid values for {name} - could not convert to float")
    return value


def _json_text(value: Any) -> str | None:
    """The JSON text of a value, None where JSON has no text for it (NaN, infinities)."""
    try:
        return json.dumps(value, allow_nan=False)
    except ValueError:
        return None


def _json_items(text: str) -> list[tuple[str, Any]]:
    """Comma-joined JSON values, each with its text; read value by value, so that commas
    and braces inside strings are the string's."""
    unparsable = ValueError("Could not parse JSON objects for annotation filtering")
    decoder = json.JSONDecoder()
    items = []
    position, end = 0, len(text)
    while True:
        while position < end and text[position].isspace():
            position += 1
        try:
            value, stop = decoder.raw_decode(text, position)
        except json.JSONDecodeError:
            raise unparsable from None
        items.append((text[position:stop], value))
        position = stop
        while position < end and text[position].isspace():
            position += 1
        if position == end:
            return items
        if text[position] != ",":
            raise unparsable
        position += 1


def parse_annotation_filters(text: str) -> list[AnnotationFilter]:
    found = []
    for item, spec in _json_items(text):
        if not isinstance(spec, dict):
            raise ValueError("Could not parse JSON objects for annotation filtering")
        for required in ("origin", "key"):
            if not isinstance(spec.get(required), str) or not spec[required]:
                raise ValueError(
                    f'Invalid annotation filter list item {item}: "{required}" is required.'
                )
        if "value" in spec:
            value = spec["value"]
            if not isinstance(value, str):
                value = _json_text(value)
                if value is None:
                    raise ValueError(f"Invalid annotation filter list item: {item}.")
            found.append(AnnotationFilter(spec["origin"], spec["key"], value=value))
        elif "min" in spec and "max" in spec:
            try:
                low, high = float(spec["min"]), float(spec["max"])
            except (TypeError, ValueError):
                low = high = math.nan
            if math.isnan(low) or math.isnan(high) or isinstance(spec["min"], bool):
                raise ValueError(
                    f"Invalid annotation filter list item: {item}. "
                    "The min/max provided is not a valid number."
                )
            found.append(AnnotationFilter(spec["origin"], spec["key"], low=low, high=high))
        else:
            raise ValueError(
                f"Invalid annotation filter list item: {item}. "
                'Should have either "value" or "min" and "max"'
            )
    return found


def parse_paging(page_text: str, per_page_text: str) -> tuple[int, int]:
    try:
        page = int(page_text) if page_text.strip() else 1
    except ValueError:
        raise ValueError("Invalid page number value.") from None
    try:
        per_page = int(per_page_text) if per_page_text.strip() else DEFAULT_PER_PAGE
    except ValueError:
        raise ValueError("Invalid numPerPage value.") from None
    if page < 1:
        raise ValueError(PAGE_OUT_OF_RANGE)
    if per_page < 1:
        raise ValueError("Number per page must be greater than 0.")
    return page, min(per_page, MAX_PER_PAGE)


def parse(request: Any) -> Params:
    """The request's parameters (a ListCandidatesRequest), each checked; ValueError names
    the first bad one in SkyPortal's words."""
    params = Params()
    params.group_ids = _ids(request.groupIDs, "groupIDs", "group")
    params.filter_ids = _ids(request.filterIDs, "filterIDs", "filter")
    params.saved_status = request.savedStatus.strip() or "all"
    if params.saved_status not in SAVED_STATUSES:
        raise ValueError(
            f"Invalid savedStatus: {params.saved_status}. Must be one of the enumerated options."
        )
    params.start = parse_date(request.startDate, "startDate")
    params.end = parse_date(request.endDate, "endDate")
    if request.annotationFilterList.strip():
        params.annotation_filters = parse_annotation_filters(request.annotationFilterList)
    if request.sortByAnnotationOrigin.strip():
        params.sort_origin = request.sortByAnnotationOrigin.strip()
        params.sort_key = request.sortByAnnotationKey.strip()
        if not params.sort_key:
            raise ValueError("sortByAnnotationKey is required with sortByAnnotationOrigin")
        order = request.sortByAnnotationOrder.strip().lower() or "asc"
        if order not in ("asc", "desc"):
            raise ValueError(f"Invalid sortByAnnotationOrder: {order}. Must be asc or desc.")
        params.sort_desc = order == "desc"
    params.classifications = _names(request.classifications)
    params.classifications_reject = _names(request.classificationsReject)
    params.min_redshift = _number(request.minRedshift, "minRedshift")
    params.max_redshift = _number(request.maxRedshift, "maxRedshift")
    params.list_name = request.listName.strip() or None
    params.list_name_reject = request.listNameReject.strip() or None
    params.page, params.per_page = parse_paging(request.pageNumber, request.numPerPage)
    params.query_id = request.queryID.strip()
    return params


def check_page(page: int, per_page: int, total: int) -> None:
    """SkyPortal's rule: a page past the last one (or other than 1 of nothing) is refused."""
    last = max(1, math.ceil(total / per_page))
    if page < 1 or page > last:
        raise ValueError(PAGE_OUT_OF_RANGE)


# ---- who sees what ------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """The caller's groups (None: every group, for System admins), the selected groups, and
    the filters whose candidates are listed."""

    accessible: frozenset[int] | None
    selected: tuple[int, ...]
    filter_ids: tuple[int, ...]

    def reads(self, group_column: Any) -> ColumnElement[bool]:
        if self.accessible is None:
            return true()
        return group_column.in_(sorted(self.accessible))


async def resolve_scope(session: AsyncSession, who: Identity, params: Params) -> Scope:
    """SkyPortal's rule: groupIDs selects those groups' filters the caller reads (and wins);
    filterIDs selects those filters the caller reads and their groups; neither selects every
    filter of the caller's groups. "Selected" is then cut to the caller's groups."""
    accessible = None if who.admin else frozenset(who.group_ids)
    readable = select(Filter.id, Filter.group_id).order_by(Filter.id)
    if accessible is not None:
        readable = readable.where(Filter.group_id.in_(sorted(accessible)))
    if params.group_ids is not None:
        rows = (await session.execute(readable.where(Filter.group_id.in_(params.group_ids)))).all()
        selected = params.group_ids
    elif params.filter_ids is not None:
        rows = (await session.execute(readable.where(Filter.id.in_(params.filter_ids)))).all()
        selected = sorted({group_id for _, group_id in rows})
    else:
        rows = (await session.execute(readable)).all()
        if accessible is None:
            selected = list(await session.scalars(select(Group.id).order_by(Group.id)))
        else:
            selected = sorted(accessible)
    if accessible is not None:
        selected = [g for g in selected if g in accessible]
    return Scope(accessible, tuple(selected), tuple(filter_id for filter_id, _ in rows))


# ---- the ordered ids ------------------------------------------------------------------------


def _readable_annotation(scope: Scope, annotation: Any) -> ColumnElement[bool]:
    if scope.accessible is None:
        return true()
    return exists().where(
        annotation_groups.c.annotation_id == annotation.id,
        annotation_groups.c.group_id.in_(sorted(scope.accessible)),
    )


def _annotation_matches(rule: AnnotationFilter, annotation: Any) -> ColumnElement[bool]:
    value = annotation.data[rule.key]
    if rule.value is not None:
        # Equal as text (a string, or a number or boolean written as the text given), or as
        # JSON where the text is JSON (5 matches 5.0, "true" matches true).
        same = value.astext == rule.value
        try:
            parsed = json.loads(rule.value)
        except json.JSONDecodeError:
            return same
        canonical = _json_text(parsed)
        if canonical is None:
            return same
        return same | (value == cast(literal(canonical, Text), JSONB))
    # Only numbers are in a range: anything else (text, objects) never matches.
    number = case((func.jsonb_typeof(value) == "number", value.astext.cast(Float)))
    return and_(number >= rule.low, number <= rule.high)


def _classified(scope: Scope, obj_id: Any, names: list[str]) -> ColumnElement[bool]:
    readable = (
        true()
        if scope.accessible is None
        else exists().where(
            classification_groups.c.classification_id == Classification.id,
            classification_groups.c.group_id.in_(sorted(scope.accessible)),
        )
    )
    return exists().where(
        Classification.obj_id == obj_id, Classification.classification.in_(names), readable
    )


def _listed(who: Identity, obj_id: Any, name: str) -> ColumnElement[bool]:
    return exists().where(
        Listing.user_id == who.user_id, Listing.list_name == name, Listing.obj_id == obj_id
    )


def _saved(scope: Scope, status: str, obj_id: Any) -> ColumnElement[bool] | None:
    """SkyPortal's saved statuses; only active Sources count (an invitation does not)."""
    if status == "all":
        return None
    active = select(Source.obj_id).where(Source.active.is_(True))
    selected = list(scope.selected)
    if status.endswith("AllSelected"):
        saved = (
            active.where(Source.group_id.in_(selected))
            .group_by(Source.obj_id)
            .having(func.count(Source.group_id) == len(selected))
        )
    elif status.endswith("AnySelected"):
        saved = active.where(Source.group_id.in_(selected))
    else:  # ...AnyAccessible
        saved = active.where(scope.reads(Source.group_id))
    return obj_id.not_in(saved) if status.startswith("not") else obj_id.in_(saved)


def _window(params: Params, scope: Scope) -> list[ColumnElement[bool]]:
    """The candidate rows in play: the scope's filters, within the dates."""
    window = [Candidate.filter_id.in_(scope.filter_ids)]
    if params.start is not None:
        window.append(Candidate.passed_at >= params.start)
    if params.end is not None:
        window.append(Candidate.passed_at <= params.end)
    return window


def candidate_rows(params: Params, scope: Scope) -> Select:
    """GET /api/candidates_filter: the Candidate rows themselves (filters, dates and saved
    status only), by passed_at, the oldest first, so that later passes append to the end."""
    query = select(Candidate).where(*_window(params, scope))
    saved = _saved(scope, params.saved_status, Candidate.obj_id)
    if saved is not None:
        query = query.where(saved)
    return query.order_by(Candidate.passed_at, Candidate.id)


def ordered_ids(who: Identity, params: Params, scope: Scope) -> Select:
    """Every matching object's id, in the list's order, as one array (one row: tens of
    thousands of ids come back several times faster than as as many rows)."""
    latest = (
        select(Candidate.obj_id, func.max(Candidate.passed_at).label("passed_at"))
        .where(*_window(params, scope))
        .group_by(Candidate.obj_id)
        .subquery("latest")
    )
    obj_id = latest.c.obj_id
    query = select(obj_id).select_from(latest)
    if params.min_redshift is not None or params.max_redshift is not None:
        query = query.join(Obj, Obj.id == obj_id)
        if params.min_redshift is not None:
            query = query.where(Obj.redshift >= params.min_redshift)
        if params.max_redshift is not None:
            query = query.where(Obj.redshift <= params.max_redshift)
    saved = _saved(scope, params.saved_status, obj_id)
    if saved is not None:
        query = query.where(saved)
    for rule in params.annotation_filters:
        annotation = aliased(Annotation)
        query = query.where(
            exists().where(
                annotation.obj_id == obj_id,
                annotation.origin == rule.origin,
                _annotation_matches(rule, annotation),
                _readable_annotation(scope, annotation),
            )
        )
    if params.classifications:
        query = query.where(_classified(scope, obj_id, params.classifications))
    if params.classifications_reject:
        query = query.where(~_classified(scope, obj_id, params.classifications_reject))
    if params.list_name is not None:
        query = query.where(_listed(who, obj_id, params.list_name))
    if params.list_name_reject is not None:
        query = query.where(~_listed(who, obj_id, params.list_name_reject))
    order: list[Any] = []
    if params.sort_origin is not None and params.sort_key is not None:
        # (object, origin) is unique: the outer join keeps one row per object, and objects
        # without that annotation (or key) sort last either way.
        annotation = aliased(Annotation)
        query = query.outerjoin(
            annotation,
            and_(
                annotation.obj_id == obj_id,
                annotation.origin == params.sort_origin,
                _readable_annotation(scope, annotation),
            ),
        )
        value = annotation.data[params.sort_key]
        order.append(value.desc().nulls_last() if params.sort_desc else value.asc().nulls_last())
    order += [latest.c.passed_at.desc(), obj_id]
    return query.with_only_columns(func.array_agg(aggregate_order_by(obj_id, *order)))


# ---- queryID ----------------------------------------------------------------------------------


@dataclass
class _Entry:
    owner: tuple[Any, ...]
    ids: tuple[str, ...]
    expires: float


class QueryCache:
    """Ordered id lists by query id, in this process, for QUERY_TTL_S. A query id serves only
    the caller who got it, with the groups they had then: anyone else (or the same user after
    a change of groups) gets a fresh query."""

    def __init__(
        self,
        ttl_s: float = QUERY_TTL_S,
        max_ids: int = MAX_CACHED_IDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s = ttl_s
        self.max_ids = max_ids
        self.clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._held = 0

    @staticmethod
    def owner(who: Identity) -> tuple[Any, ...]:
        return (who.user_id, who.admin, frozenset(who.group_ids))

    def get(self, query_id: str, who: Identity) -> tuple[str, ...] | None:
        self._expire()
        entry = self._entries.get(query_id)
        if entry is None or entry.owner != self.owner(who):
            return None
        return entry.ids

    def put(self, who: Identity, ids: list[str]) -> str:
        query_id = str(uuid.uuid4())
        if len(ids) > self.max_ids:
            return query_id  # too large to keep: a later page queries again
        self._entries[query_id] = _Entry(self.owner(who), tuple(ids), self.clock() + self.ttl_s)
        self._held += len(ids)
        while self._held > self.max_ids:
            self._drop(next(iter(self._entries)))
        return query_id

    def _expire(self) -> None:
        now = self.clock()
        # Entries are kept in insertion order, so the expired ones come first.
        while self._entries:
            query_id, entry = next(iter(self._entries.items()))
            if entry.expires > now:
                break
            self._drop(query_id)

    def _drop(self, query_id: str) -> None:
        entry = self._entries.pop(query_id)
        self._held -= len(entry.ids)

    def __len__(self) -> int:
        return len(self._entries)
