"""Follow-up at table level (SKYPORTAL_SPEC.md §6): allocations of instrument time to groups,
and follow-up requests on objects against an allocation. No facility is contacted: a request
stays "pending submission" until someone (or a facility's own script) updates its status.

An allocation is read by the members of its group; writing one needs "Manage allocations" (and,
but for system admins, membership of its group). A request is read by its requester, the
members of its allocation's group and of its target groups, where its object is visible; its
requester (or a system admin) changes or deletes it.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.portal import grouped, objects
from services.portal.db.models import (
    Allocation,
    Classification,
    FollowupRequest,
    Group,
    Instrument,
    Obj,
    Spectrum,
    User,
    followup_request_target_groups,
    utcnow,
)
from services.portal.groups import group_json
from skymesh.runtime.auth import Identity
from skymesh.runtime.errors import Forbidden

KEY = "followup_request_id"
# A request in one of these is still live: a duplicate of it is not made again.
LIVE = ("pending submission", "submitted")
STATUSES = ("pending submission", "submitted", "completed", "deleted", "rejected")
MAX_PER_PAGE = 1000


# ---- allocations --------------------------------------------------------------------------


def _date(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be an ISO 8601 date")
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{name} is not an ISO 8601 date: {value!r}") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def _validity(body: dict[str, Any]) -> list[dict[str, str]] | None:
    """validity_ranges [{start_date, end_date}], or the older single start_date/end_date."""
    raw = body.get("validity_ranges")
    if raw is None and ("start_date" in body or "end_date" in body):
        raw = [{"start_date": body.get("start_date"), "end_date": body.get("end_date")}]
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise ValueError("validity_ranges must be a list of {start_date, end_date}")
    ranges = []
    for item in raw:
        if not isinstance(item, dict):
            raise ValueError("validity_ranges must be a list of {start_date, end_date}")
        start = _date(item.get("start_date"), "start_date")
        end = _date(item.get("end_date"), "end_date")
        if end <= start:
            raise ValueError("a validity range must end after it starts")
        ranges.append({"start_date": start, "end_date": end})
    return ranges


def _hours(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError("hours_allocated must be a non-negative number")
    return float(value)


async def _allocation_fields(
    session: AsyncSession, who: Identity, body: dict[str, Any], new: bool
) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if new or "instrument_id" in body:
        if body.get("instrument_id") is None:
            raise ValueError("Invalid/missing parameters: instrument_id is required")
        instrument_id = grouped.integer(body["instrument_id"], "instrument_id")
        if await session.get(Instrument, instrument_id) is None:
            raise ValueError(f"Invalid instrument ID: {instrument_id}")
        fields["instrument_id"] = instrument_id
    if new or "group_id" in body:
        if body.get("group_id") is None:
            raise ValueError("Invalid/missing parameters: group_id is required")
        group_id = grouped.integer(body["group_id"], "group_id")
        if await session.get(Group, group_id) is None:
            raise ValueError(f"Invalid group ID: {group_id}")
        if not who.admin and group_id not in who.group_ids:
            raise Forbidden(f"Insufficient permissions: you are not a member of group {group_id}")
        fields["group_id"] = group_id
    if new or "hours_allocated" in body:
        if body.get("hours_allocated") is None:
            raise ValueError("Invalid/missing parameters: hours_allocated is required")
        fields["hours_allocated"] = _hours(body["hours_allocated"])
    for name in ("pi", "proposal_id"):
        if name in body:
            value = body[name]
            if value is not None and not isinstance(value, str):
                raise ValueError(f"{name} must be a string")
            fields[name] = value
    validity = _validity(body)
    if validity is not None:
        fields["validity_ranges"] = validity
    return fields


async def allocation_json(session: AsyncSession, row: Allocation) -> dict[str, Any]:
    instrument = await session.get(Instrument, row.instrument_id)
    group = await session.get(Group, row.group_id)
    return {
        "id": row.id,
        "instrument_id": row.instrument_id,
        "group_id": row.group_id,
        "pi": row.pi,
        "proposal_id": row.proposal_id,
        "validity_ranges": row.validity_ranges or [],
        "hours_allocated": row.hours_allocated,
        "instrument": {"id": instrument.id, "name": instrument.name} if instrument else None,
        "group": group_json(group) if group else None,
        "created_at": row.created_at,
    }


async def _readable_allocation(
    session: AsyncSession, who: Identity, allocation_id: int
) -> Allocation:
    row = await session.get(Allocation, allocation_id)
    if row is None or not (who.admin or row.group_id in who.group_ids):
        raise ValueError(f"Could not access allocation with ID {allocation_id}.")
    return row


async def post_allocation(session: AsyncSession, who: Identity, body: dict[str, Any]) -> int:
    row = Allocation(**await _allocation_fields(session, who, body, new=True))
    session.add(row)
    await session.flush()
    return row.id


async def list_allocations(
    session: AsyncSession, who: Identity, instrument_id: str
) -> list[dict[str, Any]]:
    query = select(Allocation).order_by(Allocation.id)
    if not who.admin:
        query = query.where(Allocation.group_id.in_(who.group_ids))
    if instrument_id.strip():
        query = query.where(
            Allocation.instrument_id == grouped.integer(instrument_id, "instrument_id")
        )
    return [await allocation_json(session, row) for row in await session.scalars(query)]


async def get_allocation(
    session: AsyncSession, who: Identity, allocation_id: int
) -> dict[str, Any]:
    return await allocation_json(session, await _readable_allocation(session, who, allocation_id))


async def update_allocation(
    session: AsyncSession, who: Identity, allocation_id: int, body: dict[str, Any]
) -> None:
    row = await _readable_allocation(session, who, allocation_id)
    for name, value in (await _allocation_fields(session, who, body, new=False)).items():
        setattr(row, name, value)


async def delete_allocation(session: AsyncSession, who: Identity, allocation_id: int) -> None:
    await session.delete(await _readable_allocation(session, who, allocation_id))


# ---- follow-up requests -------------------------------------------------------------------


def _status(value: Any) -> str:
    if not isinstance(value, str) or not (value in STATUSES or value.startswith("failed")):
        raise ValueError(
            f"status must be one of {', '.join(STATUSES)} or start with 'failed', not {value!r}"
        )
    return value


def _separation_arcsec(a: Obj, b: Obj) -> float:
    if None in (a.ra, a.dec, b.ra, b.dec):
        return math.inf
    ra1, dec1, ra2, dec2 = map(math.radians, (a.ra, a.dec, b.ra, b.dec))  # type: ignore[arg-type]
    # The haversine form: exact at the arcsecond scales a radius means.
    h = (
        math.sin((dec2 - dec1) / 2) ** 2
        + math.cos(dec1) * math.cos(dec2) * math.sin((ra2 - ra1) / 2) ** 2
    )
    return math.degrees(2 * math.asin(min(1.0, math.sqrt(h)))) * 3600


async def _why_not(
    session: AsyncSession, obj: Obj, allocation_ids: list[int], body: dict[str, Any]
) -> str | None:
    """Why a request with not_if_… conditions is not made (None: it is)."""
    if body.get("not_if_duplicates"):
        radius = body.get("radius") or 0
        if isinstance(radius, bool) or not isinstance(radius, (int, float)) or radius < 0:
            raise ValueError("radius must be a non-negative number of arcseconds")
        live = await session.execute(
            select(FollowupRequest.id, Obj)
            .join(Obj, Obj.id == FollowupRequest.obj_id)
            .where(
                FollowupRequest.allocation_id.in_(allocation_ids),
                FollowupRequest.status.in_(LIVE),
            )
        )
        for request_id, other in live.all():
            if other.id == obj.id or _separation_arcsec(obj, other) <= radius:
                return f"A live follow-up request ({request_id}) already exists for this source."
    if body.get("not_if_classified"):
        classified = await session.scalar(
            select(Classification.id).where(Classification.obj_id == obj.id).limit(1)
        )
        if classified is not None:
            return "The source is already classified."
    if body.get("not_if_spectra_exist"):
        spectrum = await session.scalar(
            select(Spectrum.id).where(Spectrum.obj_id == obj.id).limit(1)
        )
        if spectrum is not None:
            return "The source already has spectra."
    return None


async def _target_groups(session: AsyncSession, raw: Any) -> list[int]:
    if raw is None:
        return []
    ids = grouped.id_list(raw, "target_group_ids")
    found = set(await session.scalars(select(Group.id).where(Group.id.in_(ids))))
    missing = [i for i in ids if i not in found]
    if missing:
        raise ValueError(f"Invalid target_group_ids: no group with ID {missing[0]}")
    return ids


async def post_request(
    session: AsyncSession, who: Identity, requester_id: int, body: dict[str, Any]
) -> dict[str, Any]:
    """A new request -> {id, request_status}; with a not_if_… condition that holds, nothing
    is made -> {id: null, ignored: true, message}. not_if_tns_* are accepted and never hold
    (skymesh does not read TNS)."""
    obj_id = body.get("obj_id")
    if not obj_id:
        raise ValueError("Invalid/missing parameters: obj_id is required")
    obj = await objects.visible_obj(session, who, str(obj_id))
    if obj is None:
        raise ValueError(f"Invalid object ID: {obj_id}")
    if body.get("allocation_id") is None:
        raise ValueError("Invalid/missing parameters: allocation_id is required")
    allocation = await _readable_allocation(
        session, who, grouped.integer(body["allocation_id"], "allocation_id")
    )
    payload = body.get("payload") or {}
    if not isinstance(payload, dict):
        raise ValueError("payload must be an object")
    targets = await _target_groups(session, body.get("target_group_ids"))
    ignored = [
        grouped.integer(i, "ignore_allocation_ids") for i in body.get("ignore_allocation_ids") or []
    ]
    why = await _why_not(session, obj, [allocation.id, *ignored], body)
    if why is not None:
        return {"id": None, "ignored": True, "message": why}
    row = FollowupRequest(
        obj_id=obj.id,
        allocation_id=allocation.id,
        requester_id=requester_id,
        last_modified_by_id=requester_id,
        payload=payload,
        status="pending submission",
    )
    session.add(row)
    await session.flush()
    await grouped.link(session, followup_request_target_groups, KEY, row.id, targets)
    return {"id": row.id, "request_status": row.status}


def _readable_requests(who: Identity) -> Any:
    """The condition on FollowupRequest (joined to its Allocation) that the caller reads it."""
    targeted = grouped.readable_ids(who, followup_request_target_groups, KEY)
    return (
        (FollowupRequest.requester_id == who.user_id)
        | Allocation.group_id.in_(who.group_ids)
        | FollowupRequest.id.in_(targeted)
    ) & FollowupRequest.obj_id.in_(grouped.visible_obj_ids(who))


async def request_json(session: AsyncSession, row: FollowupRequest) -> dict[str, Any]:
    allocation = await session.get(Allocation, row.allocation_id)
    requester = await session.get(User, row.requester_id)
    targets = await grouped.groups_of(session, followup_request_target_groups, KEY, [row.id])
    return {
        "id": row.id,
        "obj_id": row.obj_id,
        "allocation_id": row.allocation_id,
        "allocation": await allocation_json(session, allocation) if allocation else None,
        "requester_id": row.requester_id,
        "requester": objects.user_json(requester) if requester else None,
        "last_modified_by_id": row.last_modified_by_id,
        "payload": row.payload,
        "status": row.status,
        "target_groups": targets.get(row.id, []),
        "created_at": row.created_at,
        "modified": row.modified,
    }


def _page(raw: str, name: str, default: int, most: int | None = None) -> int:
    if not raw.strip():
        return default
    value = grouped.integer(raw, name)
    if value < 1 or (most is not None and value > most):
        bound = f" and at most {most}" if most is not None else ""
        raise ValueError(f"{name} must be at least 1{bound}")
    return value


async def list_requests(
    session: AsyncSession,
    who: Identity,
    source_id: str,
    status: str,
    page_number: str,
    num_per_page: str,
) -> dict[str, Any]:
    """{followup_requests, totalMatches}: newest first; sourceID and status match substrings."""
    page = _page(page_number, "pageNumber", 1)
    per_page = _page(num_per_page, "numPerPage", 100, MAX_PER_PAGE)
    query = select(FollowupRequest).join(Allocation, Allocation.id == FollowupRequest.allocation_id)
    if not who.admin:
        query = query.where(_readable_requests(who))
    if source_id.strip():
        query = query.where(FollowupRequest.obj_id.contains(source_id.strip(), autoescape=True))
    if status.strip():
        query = query.where(FollowupRequest.status.contains(status.strip(), autoescape=True))
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = await session.scalars(
        query.order_by(FollowupRequest.created_at.desc(), FollowupRequest.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return {
        "followup_requests": [await request_json(session, r) for r in rows],
        "totalMatches": total,
    }


async def of_obj(session: AsyncSession, who: Identity, obj_id: str) -> list[dict[str, Any]]:
    query = (
        select(FollowupRequest)
        .join(Allocation, Allocation.id == FollowupRequest.allocation_id)
        .where(FollowupRequest.obj_id == obj_id)
        .order_by(FollowupRequest.created_at, FollowupRequest.id)
    )
    if not who.admin:
        query = query.where(_readable_requests(who))
    return [await request_json(session, r) for r in await session.scalars(query)]


async def _readable_request(
    session: AsyncSession, who: Identity, request_id: int
) -> FollowupRequest:
    query = (
        select(FollowupRequest)
        .join(Allocation, Allocation.id == FollowupRequest.allocation_id)
        .where(FollowupRequest.id == request_id)
    )
    if not who.admin:
        query = query.where(_readable_requests(who))
    row = await session.scalar(query)
    if row is None:
        raise ValueError(f"Could not find follow-up request with ID {request_id}.")
    return row


async def _own_request(session: AsyncSession, who: Identity, request_id: int) -> FollowupRequest:
    row = await _readable_request(session, who, request_id)
    if not grouped.may_edit(who, row.requester_id):
        raise Forbidden(
            "Insufficient permissions: only the requester (or a system admin) may change or "
            "delete a follow-up request."
        )
    return row


async def get_request(session: AsyncSession, who: Identity, request_id: int) -> dict[str, Any]:
    return await request_json(session, await _readable_request(session, who, request_id))


async def update_request(
    session: AsyncSession, who: Identity, editor_id: int, request_id: int, body: dict[str, Any]
) -> None:
    row = await _own_request(session, who, request_id)
    if "obj_id" in body and str(body["obj_id"]) != row.obj_id:
        raise ValueError("obj_id of a follow-up request cannot be changed")
    if body.get("allocation_id") is not None:
        allocation = await _readable_allocation(
            session, who, grouped.integer(body["allocation_id"], "allocation_id")
        )
        row.allocation_id = allocation.id
    if "payload" in body:
        if not isinstance(body["payload"], dict):
            raise ValueError("payload must be an object")
        row.payload = body["payload"]
    if "status" in body:
        row.status = _status(body["status"])
    if "target_group_ids" in body:
        targets = await _target_groups(session, body["target_group_ids"])
        await grouped.link(session, followup_request_target_groups, KEY, row.id, targets)
    row.last_modified_by_id = editor_id
    row.modified = utcnow()


async def delete_request(session: AsyncSession, who: Identity, request_id: int) -> None:
    await session.delete(await _own_request(session, who, request_id))


async def auto_request(session: AsyncSession, obj_id: str, decision: Any, requester_id: int) -> int:
    """A filter's auto_followup request (Kowalski's step 5): made unless the object already
    has a live or completed request on the allocation or one of ignore_allocation_ids, so a
    re-delivered alert adds nothing. An unknown allocation is skipped. -> requests made."""
    if not isinstance(decision, dict) or decision.get("allocation_id") is None:
        return 0
    try:
        allocation_id = grouped.integer(decision["allocation_id"], "allocation_id")
        ignored = [
            grouped.integer(i, "ignore_allocation_ids")
            for i in decision.get("ignore_allocation_ids") or []
        ]
        targets = grouped.id_list(decision.get("target_group_ids") or [], "target_group_ids")
    except ValueError:
        return 0
    if await session.get(Allocation, allocation_id) is None:
        return 0
    existing = await session.scalar(
        select(FollowupRequest.id)
        .where(
            FollowupRequest.obj_id == obj_id,
            FollowupRequest.allocation_id.in_([allocation_id, *ignored]),
            FollowupRequest.status.in_((*LIVE, "completed")),
        )
        .limit(1)
    )
    if existing is not None:
        return 0
    payload = decision.get("payload")
    row = FollowupRequest(
        obj_id=obj_id,
        allocation_id=allocation_id,
        requester_id=requester_id,
        last_modified_by_id=requester_id,
        payload=payload if isinstance(payload, dict) else {},
        status="pending submission",
    )
    session.add(row)
    await session.flush()
    known = set(await session.scalars(select(Group.id).where(Group.id.in_(targets))))
    await grouped.link(
        session, followup_request_target_groups, KEY, row.id, sorted(known & set(targets))
    )
    return 1
