"""Candidates by hand and the scanning list: POST /api/candidates (SkyPortal's upload, which
Kowalski uses), DELETE /api/candidates/{obj_id}/{filter_id}, and GET /api/candidates.

A posted candidate is the row the broker's PostPasses writes (passes.insert_candidate), keyed
for SkyPortal's idempotence on (object, filter, passed_at) and for the broker's on (object,
filter, passing alert). The list answers a page with two statements at most: the ordered ids
of every match (skipped when a queryID's cached list serves), then one statement for the
page's objects with everything the scanning page shows of each.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord
from sqlalchemy import Boolean, Integer, String, bindparam, delete, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.portal import candidate_query, objects
from services.portal.candidate_query import QueryCache
from services.portal.db.models import Candidate, Filter, Obj
from services.portal.passes import insert_candidate
from services.portal.replies import iso
from skymesh.runtime.auth import Identity

# SkyPortal's Obj id alphabet (its sources' rule): the id is a path segment of every route.
OBJ_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-;:+.")
# Queries of this process, for queryID.
QUERIES = QueryCache()


def _number(body: dict[str, Any], key: str) -> float | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"Invalid/missing parameters: {key} must be a finite number")
    return float(value)


def _new_obj(body: dict[str, Any], obj_id: str) -> dict[str, Any]:
    """The columns of a new Obj from SkyPortal's Obj fields (other keys are ignored)."""
    if not set(obj_id) <= OBJ_ID_CHARS:
        raise ValueError(
            f"Invalid/missing parameters: id {obj_id!r} may hold only letters, digits and "
            "_ - ; : + ."
        )
    if body.get("ra") is None:
        raise ValueError("RA must not be null for a new Obj")
    if body.get("dec") is None:
        raise ValueError("Dec must not be null for a new Obj")
    ra, dec = _number(body, "ra"), _number(body, "dec")
    assert ra is not None and dec is not None
    if not -90 <= dec <= 90:
        raise ValueError("Invalid/missing parameters: dec must be between -90 and 90")
    altdata = body.get("altdata")
    if altdata is not None and not isinstance(altdata, dict):
        raise ValueError("Invalid/missing parameters: altdata must be an object")
    origin = body.get("origin")
    if origin is not None and not isinstance(origin, str):
        raise ValueError("Invalid/missing parameters: origin must be a string")
    alias = body.get("alias")
    if isinstance(alias, str):
        alias = [alias]
    if alias is not None and not (
        isinstance(alias, list) and all(isinstance(a, str) for a in alias)
    ):
        raise ValueError("Invalid/missing parameters: alias must be a list of strings")
    return {
        "id": obj_id,
        "ra": ra,
        "dec": dec,
        "redshift": _number(body, "redshift"),
        "altdata": altdata,
        "score": _number(body, "score"),
        "origin": origin,
        "alias": alias,
    }


def _passed_at(body: dict[str, Any]) -> datetime:
    value = body.get("passed_at")
    if value is None:
        raise ValueError("Missing required parameter: `passed_at`.")
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise ValueError(f"Invalid passedAt value: {exc}") from None
    # Kowalski sends UTC without an offset.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _filter_ids(body: dict[str, Any]) -> list[int]:
    if "filter_ids" not in body:
        raise ValueError("Missing required filter_ids parameter.")
    wanted = body["filter_ids"]
    if not isinstance(wanted, list):
        wanted = [wanted]
    try:
        return list(dict.fromkeys(int(f) for f in wanted if not isinstance(f, bool)))
    except (TypeError, ValueError):
        raise ValueError("Invalid filter_ids: a list of filter ids is expected") from None


def _alert_id(body: dict[str, Any]) -> int | None:
    value = body.get("passing_alert_id")
    if value is None:
        return None
    try:
        if isinstance(value, bool) or isinstance(value, float):
            raise ValueError
        return int(value)
    except ValueError:
        raise ValueError("Invalid passing_alert_id: an integer (an alert's candid)") from None


def _redshift_entry(body: dict[str, Any], who: Identity) -> dict[str, Any]:
    """One redshift_history entry, as SkyPortal appends it."""
    entry = {
        "set_by_user_id": who.user_id,
        "set_at_utc": datetime.now(UTC).replace(tzinfo=None).isoformat(),
        "value": body["redshift"],
        "uncertainty": body.get("redshift_error"),
    }
    origin = body.get("redshift_origin")
    if isinstance(origin, str) and origin.strip():
        entry["origin"] = origin
    return entry


async def post(session: AsyncSession, who: Identity, body: Any) -> list[int]:
    """The candidate ids of the posted pass, one per filter of the caller's groups (all
    filters for System admins) among filter_ids, in their order; a repeated post returns the
    same ids and changes nothing."""
    if not isinstance(body, dict):
        raise ValueError("the body must be a JSON object")
    if body.get("id") in (None, ""):
        raise ValueError("Missing required parameter: `id`.")
    raw_id = body["id"]
    obj_id = str(int(raw_id)) if isinstance(raw_id, float) and raw_id.is_integer() else str(raw_id)
    known = await session.scalar(select(Obj.id).where(Obj.id == obj_id))
    new = None if known is not None else _new_obj(body, obj_id)
    passed_at = _passed_at(body)
    wanted = _filter_ids(body)
    alert_id = _alert_id(body)
    readable = select(Filter.id).where(Filter.id.in_(wanted))
    if not who.admin:
        readable = readable.where(Filter.group_id.in_(sorted(who.group_ids)))
    found = set(await session.scalars(readable))
    filter_ids = [f for f in wanted if f in found]
    if not filter_ids:
        raise ValueError("At least one valid filter ID must be provided.")
    if new is not None:
        if new["redshift"] is not None:
            new["redshift_history"] = [_redshift_entry(body, who)]
        await session.execute(insert(Obj).values(**new).on_conflict_do_nothing())
    # Posts of one object queue here, so that the (object, filter, passed_at) check below
    # sees the rows a concurrent post of the same pass committed.
    obj = (
        await session.execute(select(Obj).where(Obj.id == obj_id).with_for_update())
    ).scalar_one()
    uploader = None if who.is_service else who.user_id
    ids: list[int] = []
    added = False
    for filter_id in filter_ids:
        same = await session.scalar(
            select(Candidate.id).where(
                Candidate.obj_id == obj_id,
                Candidate.filter_id == filter_id,
                Candidate.passed_at == passed_at,
            )
        )
        if same is None:
            same = await insert_candidate(session, obj_id, filter_id, passed_at, alert_id, uploader)
            added = added or same is not None
        if same is None:
            # The broker recorded this alert's pass already (at another passed_at).
            same = await session.scalar(
                select(Candidate.id).where(
                    Candidate.obj_id == obj_id,
                    Candidate.filter_id == filter_id,
                    Candidate.passing_alert_id == alert_id,
                )
            )
        assert same is not None
        ids.append(same)
    # A null redshift is no redshift: nothing to record (SkyPortal appends a null value).
    if added and new is None and body.get("redshift") is not None:
        obj.redshift_history = [*(obj.redshift_history or []), _redshift_entry(body, who)]
    return ids


async def remove(session: AsyncSession, who: Identity, obj_id: str, filter_id: int) -> None:
    query = select(Candidate.id).where(Candidate.obj_id == obj_id, Candidate.filter_id == filter_id)
    if not who.admin:
        readable = select(Filter.id).where(Filter.group_id.in_(sorted(who.group_ids)))
        query = query.where(Candidate.filter_id.in_(readable))
    ids = list(await session.scalars(query))
    if not ids:
        raise ValueError("Invalid (obj_id, filter_id) pairing - no matching candidates")
    await session.execute(delete(Candidate).where(Candidate.id.in_(ids)))


# ---- the list ---------------------------------------------------------------------------------


async def listing(session: AsyncSession, who: Identity, request: Any) -> dict[str, Any]:
    params = candidate_query.parse(request)
    scope = await candidate_query.resolve_scope(session, who, params)
    ids = QUERIES.get(params.query_id, who) if params.query_id else None
    query_id = params.query_id
    if ids is None:
        found: list[str] = []
        if scope.filter_ids:
            statement = candidate_query.ordered_ids(who, params, scope)
            found = list(await session.scalar(statement) or ())
        query_id = QUERIES.put(who, found)
        ids = tuple(found)
    candidate_query.check_page(params.page, params.per_page, len(ids))
    start = (params.page - 1) * params.per_page
    page = list(ids[start : start + params.per_page])
    candidates = await page_details(session, who, page, scope)
    if objects.flag(request.includePhotometry) or objects.flag(request.includeComments):
        for entry in candidates:
            if objects.flag(request.includePhotometry):
                entry["photometry"] = await objects.photometry(
                    session, who, entry["id"], "both", "ab"
                )
            if objects.flag(request.includeComments):
                entry["comments"] = await objects.comments(session, who, entry["id"])
    return {
        "candidates": candidates,
        "totalMatches": len(ids),
        "pageNumber": params.page,
        "numPerPage": params.per_page,
        "queryID": query_id,
    }


async def candidate_rows(session: AsyncSession, who: Identity, request: Any) -> dict[str, Any]:
    """GET /api/candidates_filter: a page of Candidate rows; totalMatches on page 1 only (a
    client keeps it while it pages, as SkyPortal expects)."""
    params = candidate_query.parse(request)
    scope = await candidate_query.resolve_scope(session, who, params)
    rows: list[Candidate] = []
    total = 0
    if scope.filter_ids:
        statement = candidate_query.candidate_rows(params, scope)
        start = (params.page - 1) * params.per_page
        rows = list(await session.scalars(statement.limit(params.per_page).offset(start)))
        if params.page == 1:
            counted = select(func.count()).select_from(statement.order_by(None).subquery())
            total = await session.scalar(counted) or 0
    answer: dict[str, Any] = {
        "candidates": [
            {
                "id": c.id,
                "obj_id": c.obj_id,
                "filter_id": c.filter_id,
                "passed_at": c.passed_at,
                "passing_alert_id": c.passing_alert_id,
                "uploader_id": c.uploader_id,
                "created_at": c.created_at,
            }
            for c in rows
        ]
    }
    if params.page == 1:
        answer["totalMatches"] = total
    return answer


# Everything the scanning page shows of each object of a page, in one statement: each nested
# list is a JSON aggregate of the caller's readable rows (:admin reads every group's).
# is_source is any Source row the caller reads (unsaved and invited too), saved_groups only
# the active ones, as SkyPortal's handler computes them; savedStatus counts active ones only.
PAGE_DETAILS = text(
    """
SELECT o.id, o.ra, o.dec, o.redshift, o.redshift_history, o.altdata, o.score, o.origin,
       o.alias, o.created_at, o.modified,
  (SELECT coalesce(jsonb_agg(jsonb_build_object(
            'id', t.id, 'obj_id', t.obj_id, 'type', t.type, 'created_at', t.created_at)
          ORDER BY t.type), '[]')
     FROM thumbnails t WHERE t.obj_id = o.id) AS thumbnails,
  (SELECT coalesce(jsonb_agg(jsonb_build_object(
            'id', a.id, 'obj_id', a.obj_id, 'origin', a.origin, 'data', a.data,
            'author_id', a.author_id, 'created_at', a.created_at, 'modified', a.modified,
            'group_ids', (SELECT array_agg(ag.group_id) FROM annotation_groups ag
                           WHERE ag.annotation_id = a.id))
          ORDER BY a.origin), '[]')
     FROM annotations a
    WHERE a.obj_id = o.id
      AND (:admin OR EXISTS (SELECT 1 FROM annotation_groups ag
                              WHERE ag.annotation_id = a.id AND ag.group_id = ANY(:groups))))
    AS annotations,
  EXISTS (SELECT 1 FROM sources s
           WHERE s.obj_id = o.id AND (:admin OR s.group_id = ANY(:groups))) AS is_source,
  (SELECT coalesce(jsonb_agg(jsonb_build_object(
            'id', g.id, 'name', g.name, 'nickname', g.nickname, 'description', g.description,
            'private', g.private, 'single_user_group', g.single_user_group,
            'created_at', g.created_at)
          ORDER BY g.id), '[]')
     FROM sources s JOIN groups g ON g.id = s.group_id
    WHERE s.obj_id = o.id AND s.active AND (:admin OR s.group_id = ANY(:groups)))
    AS saved_groups,
  (SELECT coalesce(jsonb_agg(jsonb_build_object(
            'id', c.id, 'obj_id', c.obj_id, 'classification', c.classification,
            'taxonomy_id', c.taxonomy_id, 'probability', c.probability, 'ml', c.ml,
            'origin', c.origin, 'author_id', c.author_id, 'created_at', c.created_at,
            'modified', c.modified)
          ORDER BY c.created_at, c.id), '[]')
     FROM classifications c
    WHERE c.obj_id = o.id
      AND (:admin OR EXISTS (SELECT 1 FROM classification_groups cg
                              WHERE cg.classification_id = c.id
                                AND cg.group_id = ANY(:groups))))
    AS classifications,
  passes.group_ids AS passing_group_ids,
  passes.last_passed_at AS last_detected_at
FROM unnest(CAST(:ids AS varchar[])) WITH ORDINALITY AS page(id, position)
JOIN objs o ON o.id = page.id
CROSS JOIN LATERAL (
  SELECT coalesce(array_agg(DISTINCT f.group_id), '{}') AS group_ids,
         max(c.passed_at) AS last_passed_at
    FROM candidates c JOIN filters f ON f.id = c.filter_id
   WHERE c.obj_id = o.id AND (:admin OR f.group_id = ANY(:groups))
) AS passes
ORDER BY page.position
"""
).bindparams(
    bindparam("ids", type_=ARRAY(String)),
    bindparam("groups", type_=ARRAY(Integer)),
    bindparam("admin", type_=Boolean),
)
PAGE_COLUMNS = PAGE_DETAILS.columns(
    redshift_history=JSONB,
    altdata=JSONB,
    thumbnails=JSONB,
    annotations=JSONB,
    saved_groups=JSONB,
    classifications=JSONB,
)
# Timestamps inside the JSON aggregates, written as every other answer writes them.
STAMPS = ("created_at", "modified")


def _stamped(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for row in rows:
        for key in STAMPS:
            if isinstance(row.get(key), str):
                row[key] = iso(datetime.fromisoformat(row[key]))
    return rows


def galactic(ras: list[float | None], decs: list[float | None]) -> list[tuple[Any, Any]]:
    """(l, b) in degrees of many positions with one transformation (None where unknown)."""
    known = [i for i, (ra, dec) in enumerate(zip(ras, decs, strict=True)) if ra is not None]
    found: list[tuple[Any, Any]] = [(None, None)] * len(ras)
    if known:
        coords = SkyCoord(
            np.array([ras[i] for i in known]) * u.deg, np.array([decs[i] for i in known]) * u.deg
        ).galactic
        for i, lon, lat in zip(known, coords.l.deg, coords.b.deg, strict=True):
            found[i] = (float(lon), float(lat))
    return found


async def page_details(
    session: AsyncSession, who: Identity, ids: list[str], scope: candidate_query.Scope
) -> list[dict[str, Any]]:
    if not ids:
        return []
    groups = sorted(scope.accessible or ())
    rows = (
        (await session.execute(PAGE_COLUMNS, {"ids": ids, "groups": groups, "admin": who.admin}))
        .mappings()
        .all()
    )
    selected = set(scope.selected)
    positions = galactic([r["ra"] for r in rows], [r["dec"] for r in rows])
    page = []
    for row, (lon, lat) in zip(rows, positions, strict=True):
        annotations = _stamped(list(row["annotations"]))
        # The selected groups' annotations first, each part by origin (SkyPortal's order).
        mine = [a for a in annotations if selected & set(a.get("group_ids") or ())]
        others = [a for a in annotations if not selected & set(a.get("group_ids") or ())]
        for annotation in annotations:
            annotation.pop("group_ids", None)
        thumbnails = _stamped(list(row["thumbnails"]))
        for thumbnail in thumbnails:
            thumbnail["public_url"] = f"/api/thumbnail/{thumbnail['id']}/image"
        page.append(
            {
                "id": row["id"],
                "ra": row["ra"],
                "dec": row["dec"],
                "redshift": row["redshift"],
                "redshift_history": row["redshift_history"],
                "altdata": row["altdata"],
                "score": row["score"],
                "origin": row["origin"],
                "alias": row["alias"] or [],
                "created_at": row["created_at"],
                "modified": row["modified"],
                "gal_lon": lon,
                "gal_lat": lat,
                # No redshift, no distance: SkyPortal's computed fields stay null.
                "dm": None,
                "luminosity_distance": None,
                "thumbnails": thumbnails,
                "annotations": mine + others,
                "is_source": row["is_source"],
                "saved_groups": _stamped(list(row["saved_groups"])),
                "classifications": _stamped(list(row["classifications"])),
                "passing_group_ids": sorted(row["passing_group_ids"]),
                "last_detected_at": row["last_detected_at"],
            }
        )
    return page
