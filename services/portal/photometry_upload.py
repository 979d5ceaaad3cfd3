"""Photometry uploads: SkyPortal's ``POST|PUT /api/photometry``, one point's
``GET|PATCH|DELETE /api/photometry/{id}``, ``DELETE /api/photometry/bulk_delete/{upload_id}``
and a light curve's export.

A request is SkyPortal's "flexible" packet: every field a scalar or a list, scalars broadcast
over the lists; in flux space ``{flux, fluxerr, zp}`` or in magnitudes ``{mag, magerr,
limiting_mag, limiting_mag_nsigma=3}``, each with its ``magsys``. Points are stored in AB µJy
(zero point 23.9) and deduplicated on SkyPortal's key (object, instrument, origin, mjd,
fluxerr, flux): POST refuses a duplicate, PUT returns its id and shares it with the new groups
and streams. Every point goes to its uploader's own group too, so its owner always reads it.
"""

from __future__ import annotations

import csv
import io
import json
import math
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Float, Integer, String, and_, column, delete, select, text, values
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.portal import grouped, objects
from services.portal.db.models import (
    Group,
    GroupUser,
    Instrument,
    Photometry,
    Stream,
    photometry_groups,
    photometry_streams,
    stream_users,
)
from services.portal.magsys import MAG_PER_LN, PHOT_ZP, check_system, to_ab_factor
from services.portal.replies import iso
from services.portal.users import sitewide_group_id
from skymesh.runtime.auth import Identity
from skymesh.runtime.errors import Forbidden

# SkyPortal's cap on one request's rows.
MAX_ROWS = 10000
# Rows per statement: asyncpg allows 32767 bind parameters.
ROWS_PER_STATEMENT = 2000
KEY = ("obj_id", "instrument_id", "origin", "mjd", "fluxerr", "flux")
# duplicate_ignore_flux: a point is the stored one taken at the same time in the same band.
KEY_IGNORING_FLUX = ("obj_id", "instrument_id", "origin", "mjd", "filter")
FLUX_FIELDS = ("flux", "fluxerr", "zp")
MAG_FIELDS = ("mag", "magerr", "limiting_mag", "limiting_mag_nsigma")
NUMBERS = ("mjd", "ra", "dec", *FLUX_FIELDS, *MAG_FIELDS)
REQUIRED = ("obj_id", "instrument_id", "mjd", "filter", "magsys")
NOT_PACKET_FIELDS = ("group_ids", "stream_ids")
COLUMN_TYPES = {
    "obj_id": String,
    "instrument_id": Integer,
    "origin": String,
    "filter": String,
    "mjd": Float,
    "flux": Float,
    "fluxerr": Float,
}
NULLABLE = ("origin", "flux")
ADMIN_ONLY = (
    "Ignoring flux/fluxerr when checking for duplicates is reserved to super admin users only"
)


# ---- a request as rows ----------------------------------------------------------------------


def _packet_repr(packet: dict[str, Any]) -> str:
    return json.dumps(packet, default=str, sort_keys=True)


def _number(packet: dict[str, Any], name: str) -> float | None:
    value = packet.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ValueError(
                f'Error parsing packet "{_packet_repr(packet)}": field {name} must be a number.'
            ) from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(
            f'Error parsing packet "{_packet_repr(packet)}": field {name} must be a number.'
        )
    if not math.isfinite(value):
        raise ValueError(
            f'Error parsing packet "{_packet_repr(packet)}": field {name} must be finite.'
        )
    return float(value)


def kind_of(fields: Iterable[str]) -> str:
    """flux or mag: which of SkyPortal's two packet shapes the fields are."""
    present = set(fields)
    if present & set(FLUX_FIELDS):
        return "flux"
    if present & set(MAG_FIELDS[:3]):
        return "mag"
    raise ValueError(
        "Invalid input format: give flux, fluxerr and zp (flux space) or mag, magerr and "
        "limiting_mag (magnitudes), each with magsys"
    )


def split_packets(body: Any) -> tuple[list[dict[str, Any]], str]:
    """The request's points, scalars broadcast over the lists, and their kind."""
    if not isinstance(body, dict):
        raise ValueError(f"Top level JSON must be an instance of `dict`, got {type(body)}.")
    data = {k: v for k, v in body.items() if k not in NOT_PACKET_FIELDS}
    altdata = data.pop("altdata", None)
    lengths = {len(v) for v in data.values() if isinstance(v, list)}
    if isinstance(altdata, list):
        lengths.add(len(altdata))
    if len(lengths) > 1:
        raise ValueError(
            'Unable to coerce passed JSON to a series of packets. Error was: "All arrays must '
            'be of the same length"'
        )
    count = lengths.pop() if lengths else 1
    if count == 0:
        raise ValueError("No photometry: the lists are empty")
    if count > MAX_ROWS:
        raise ValueError(
            f"Maximum number of photometry rows to post exceeded: {count} > {MAX_ROWS}. "
            "Please break up the data into smaller sets and try again"
        )
    if altdata is not None and not isinstance(altdata, (dict, list)):
        raise ValueError("altdata must be an object (or a list of objects, one per point)")
    kind = kind_of(data)
    packets = []
    for i in range(count):
        packet = {k: v[i] if isinstance(v, list) else v for k, v in data.items()}
        point_altdata = altdata[i] if isinstance(altdata, list) else altdata
        if point_altdata is not None and not isinstance(point_altdata, dict):
            raise ValueError("altdata must be an object (or a list of objects, one per point)")
        packet["altdata"] = point_altdata or None
        packets.append(packet)
    return packets, kind


def standardize(packet: dict[str, Any], kind: str) -> dict[str, Any]:
    """One packet as a photometry row: flux and fluxerr in AB µJy, what was posted in
    magnitudes kept in original_user_data (limiting magnitudes are reported as posted)."""
    for name in REQUIRED + (("fluxerr", "zp") if kind == "flux" else ()):
        if packet.get(name) is None or packet.get(name) == "":
            raise ValueError(
                f'Error parsing packet "{_packet_repr(packet)}": missing required field {name}.'
            )
    numbers = {name: _number(packet, name) for name in NUMBERS}
    magsys = check_system(str(packet["magsys"]))
    band = str(packet["filter"])
    if kind == "mag":
        mag, magerr = numbers["mag"], numbers["magerr"]
        if (mag is None) != (magerr is None):
            raise ValueError(
                f'Error parsing packet "{_packet_repr(packet)}": mag and magerr must both be '
                "null, or both be not null."
            )
        nsigma = numbers["limiting_mag_nsigma"]
        nsigma = 3.0 if nsigma is None else nsigma
        if nsigma <= 0:
            raise ValueError(f"limiting_mag_nsigma must be positive, not {nsigma}")
        if mag is not None and magerr is not None:
            flux: float | None = 10 ** (-0.4 * (mag - PHOT_ZP))
            fluxerr = magerr / MAG_PER_LN * flux
        else:
            limit = numbers["limiting_mag"]
            if limit is None:
                raise ValueError(
                    f'Error parsing packet "{_packet_repr(packet)}": missing required field '
                    "limiting_mag (a non-detection needs its limiting magnitude)."
                )
            flux, fluxerr = None, 10 ** (-0.4 * (limit - PHOT_ZP)) / nsigma
        original: dict[str, Any] | None = {"magsys": magsys, "limiting_mag_nsigma": nsigma}
        if "limiting_mag" in packet:
            original["limiting_mag"] = numbers["limiting_mag"]
    else:
        scale = 10 ** (-0.4 * (numbers["zp"] - PHOT_ZP))  # type: ignore[operator]
        flux = None if numbers["flux"] is None else numbers["flux"] * scale
        fluxerr = numbers["fluxerr"] * scale  # type: ignore[operator]
        original = {"magsys": magsys}
    if fluxerr < 0:
        raise ValueError(f'Error parsing packet "{_packet_repr(packet)}": fluxerr is negative.')
    factor = to_ab_factor(magsys, band)
    origin = packet.get("origin")
    if origin is not None and not isinstance(origin, str):
        raise ValueError(f"origin must be a string, not {origin!r}")
    return {
        "obj_id": str(packet["obj_id"]),
        "instrument_id": grouped.integer(packet["instrument_id"], "instrument_id"),
        "mjd": numbers["mjd"],
        "flux": None if flux is None else flux * factor,
        "fluxerr": fluxerr * factor,
        "filter": band,
        "ra": numbers["ra"],
        "dec": numbers["dec"],
        "origin": origin or None,
        "altdata": packet.get("altdata"),
        "original_user_data": original,
    }


def key_of(row: Any, columns: Sequence[str] = KEY) -> tuple[Any, ...]:
    get = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
    return tuple(get(name) for name in columns)


# ---- what a request refers to: objects, instruments, groups, streams --------------------------


async def _check_refs(session: AsyncSession, who: Identity, rows: list[dict[str, Any]]) -> None:
    instruments = {}
    for instrument_id in sorted({r["instrument_id"] for r in rows}):
        instrument = await session.get(Instrument, instrument_id)
        if instrument is None:
            raise ValueError(f"Invalid instrument ID: {instrument_id}")
        instruments[instrument_id] = instrument
    for obj_id in sorted({r["obj_id"] for r in rows}):
        if await objects.visible_obj(session, who, obj_id) is None:
            raise ValueError(f"Invalid object ID: {obj_id}")
    for row in rows:
        instrument = instruments[row["instrument_id"]]
        if instrument.type == "imager" and row["filter"] not in instrument.filters:
            raise ValueError(f"Instrument {instrument.name} has no filter {row['filter']}.")


async def own_group_id(session: AsyncSession, user_id: int) -> int | None:
    return await session.scalar(
        select(Group.id)
        .join(GroupUser, GroupUser.group_id == Group.id)
        .where(GroupUser.user_id == user_id, Group.single_user_group.is_(True))
    )


async def upload_groups(session: AsyncSession, who: Identity, owner_id: int, raw: Any) -> list[int]:
    """``group_ids`` (a list, or "all": the public group), always with the uploader's own."""
    if raw is None or raw == []:
        ids: list[int] = []
    elif raw == "all":
        ids = [await sitewide_group_id(session)]
    elif isinstance(raw, list):
        ids = grouped.id_list(raw)
        found = {g.id: g for g in await session.scalars(select(Group).where(Group.id.in_(ids)))}
        for group_id in ids:
            if group_id not in found:
                raise ValueError(f"No group with ID {group_id}")
        if not who.admin:
            denied = [
                g.id
                for g in found.values()
                if g.id not in who.group_ids and (g.single_user_group or g.private)
            ]
            if denied:
                raise ValueError(
                    f"Invalid group_ids field. User does not have access to group IDs: {denied}."
                )
    else:
        raise ValueError(
            "Invalid group_ids parameter value. Must be a list of IDs (integers) or the "
            "string 'all'."
        )
    own = await own_group_id(session, owner_id)
    return sorted({*ids, own} if own is not None else set(ids))


async def upload_streams(session: AsyncSession, who: Identity, raw: Any) -> list[int]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValueError("Invalid stream_ids parameter value. Must be a list of IDs (integers).")
    ids = grouped.id_list(raw, "stream_ids")
    known = set(await session.scalars(select(Stream.id).where(Stream.id.in_(ids))))
    if not who.admin:
        known &= set(
            await session.scalars(
                select(stream_users.c.stream_id).where(
                    stream_users.c.user_id == who.user_id, stream_users.c.stream_id.in_(ids)
                )
            )
        )
    for stream_id in ids:
        if stream_id not in known:
            raise ValueError(f"No stream with ID {stream_id}")
    return ids


@dataclass
class Upload:
    rows: list[dict[str, Any]]
    group_ids: list[int]
    stream_ids: list[int]


async def parse_upload(
    session: AsyncSession, who: Identity, owner_id: int, body: dict[str, Any]
) -> Upload:
    group_ids = await upload_groups(session, who, owner_id, body.get("group_ids"))
    stream_ids = await upload_streams(session, who, body.get("stream_ids"))
    packets, kind = split_packets(body)
    rows = [standardize(p, kind) for p in packets]
    await _check_refs(session, who, rows)
    return Upload(rows, group_ids, stream_ids)


# ---- writing ----------------------------------------------------------------------------------


def _chunks(rows: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        yield rows[start : start + ROWS_PER_STATEMENT]


async def _lock(session: AsyncSession) -> None:
    # Between looking for duplicates and inserting, no other upload may add the same point
    # (SkyPortal takes the same lock; the broker's inserts wait for it, they do not conflict).
    await session.execute(text("LOCK TABLE photometry IN SHARE ROW EXCLUSIVE MODE"))


async def _existing(
    session: AsyncSession, rows: list[dict[str, Any]], columns: Sequence[str]
) -> dict[tuple[Any, ...], Photometry]:
    """The stored points with the rows' keys (the lowest id where several match)."""
    found: dict[tuple[Any, ...], Photometry] = {}
    wanted = sorted({key_of(r, columns) for r in rows}, key=repr)
    for part in _chunks(wanted):
        table = values(*(column(name, COLUMN_TYPES[name]) for name in columns), name="wanted").data(
            part
        )
        # Equality where the column is never null (so the object index serves the join),
        # IS NOT DISTINCT FROM where null is a value (no origin, a non-detection's flux).
        condition = and_(
            *(
                getattr(Photometry, name).is_not_distinct_from(table.c[name])
                if name in NULLABLE
                else getattr(Photometry, name) == table.c[name]
                for name in columns
            )
        )
        query = select(Photometry).join(table, condition).order_by(Photometry.id)
        for point in (await session.scalars(query)).all():
            found.setdefault(key_of(point, columns), point)
    return found


async def _insert(
    session: AsyncSession, rows: list[dict[str, Any]], owner_id: int, upload_id: str
) -> list[int]:
    if not rows:
        return []
    statement = insert(Photometry).returning(Photometry.id, sort_by_parameter_order=True)
    params = [{**r, "owner_id": owner_id, "upload_id": upload_id} for r in rows]
    try:
        return list((await session.scalars(statement, params)).all())
    except IntegrityError as exc:
        raise ValueError(f"The photometry could not be stored: {exc.orig}") from None


async def _share(
    session: AsyncSession, ids: Iterable[int], group_ids: list[int], stream_ids: list[int]
) -> None:
    ids = sorted(set(ids))
    group_rows = [{"photometry_id": i, "group_id": g} for i in ids for g in group_ids]
    stream_rows = [{"photometry_id": i, "stream_id": s} for i in ids for s in stream_ids]
    for table, rows in ((photometry_groups, group_rows), (photometry_streams, stream_rows)):
        for part in _chunks(rows):
            await session.execute(insert(table).values(part).on_conflict_do_nothing())


def _duplicate_message(points: Iterable[Photometry]) -> str:
    listed = [
        {
            "id": p.id,
            "obj_id": p.obj_id,
            "instrument_id": p.instrument_id,
            "mjd": p.mjd,
            "filter": p.filter,
            "flux": p.flux,
            "fluxerr": p.fluxerr,
            "origin": p.origin,
        }
        for p in points
    ]
    return f"The following photometry already exists in the database: {json.dumps(listed)}."


async def post(
    session: AsyncSession, who: Identity, owner_id: int, body: dict[str, Any]
) -> dict[str, Any]:
    """POST: new points only; any duplicate (stored, or twice in the request) refuses all."""
    upload = await parse_upload(session, who, owner_id, body)
    seen: dict[tuple[Any, ...], int] = {}
    for i, row in enumerate(upload.rows):
        first = seen.setdefault(key_of(row), i)
        if first != i:
            raise ValueError(
                f"Points {first} and {i} of the request are the same point (object, "
                "instrument, origin, mjd, flux and fluxerr)."
            )
    await _lock(session)
    existing = await _existing(session, upload.rows, KEY)
    if existing:
        raise ValueError(_duplicate_message(sorted(existing.values(), key=lambda p: p.id)))
    upload_id = str(uuid.uuid4())
    ids = await _insert(session, upload.rows, owner_id, upload_id)
    await _share(session, ids, upload.group_ids, upload.stream_ids)
    return {"ids": ids, "upload_id": upload_id}


async def put(
    session: AsyncSession,
    who: Identity,
    owner_id: int,
    body: dict[str, Any],
    ignore_flux: bool,
    overwrite_flux: bool,
) -> dict[str, Any]:
    """PUT: every point's id in request order; a duplicate keeps its id and gains the new
    groups and streams (and, with overwrite_flux, the new flux where it has an origin)."""
    if (ignore_flux or overwrite_flux) and not who.admin:
        raise ValueError(ADMIN_ONLY)
    upload = await parse_upload(session, who, owner_id, body)
    columns = KEY_IGNORING_FLUX if ignore_flux else KEY
    await _lock(session)
    existing = await _existing(session, upload.rows, columns)
    ids_by_key = {key: point.id for key, point in existing.items()}
    if ignore_flux and overwrite_flux:
        for row in upload.rows:
            point = existing.get(key_of(row, columns))
            if point is not None and point.origin is not None:
                point.flux, point.fluxerr = row["flux"], row["fluxerr"]
        try:
            await session.flush()
        except IntegrityError as exc:
            raise ValueError(f"The new flux clashes with a stored point: {exc.orig}") from None
    new: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in upload.rows:
        key = key_of(row, columns)
        if key not in ids_by_key:
            new.setdefault(key, row)
    upload_id = str(uuid.uuid4())
    added = await _insert(session, list(new.values()), owner_id, upload_id)
    ids_by_key.update(zip(new, added, strict=True))
    ids = [ids_by_key[key_of(row, columns)] for row in upload.rows]
    await _share(session, ids, upload.group_ids, upload.stream_ids)
    return {"ids": ids, "upload_id": upload_id if added else None}


# ---- one point ----------------------------------------------------------------------------


async def readable_point(session: AsyncSession, who: Identity, photometry_id: int) -> Photometry:
    """The point if the caller reads it and its object; else SkyPortal's 400 (one message for
    missing and unreadable, so that ids tell nothing)."""
    point = await session.get(Photometry, photometry_id)
    readable = point is not None and (who.admin or await _reads_point(session, who, photometry_id))
    if (
        point is None
        or not readable
        or await objects.visible_obj(session, who, point.obj_id) is None
    ):
        raise ValueError(f"Cannot find photometry point with ID: {photometry_id}.")
    return point


async def _reads_point(session: AsyncSession, who: Identity, photometry_id: int) -> bool:
    readable = objects.readable_photometry(who).subquery()
    found = await session.scalar(
        select(readable.c[0]).where(readable.c[0] == photometry_id).limit(1)
    )
    return found is not None


def _check_owner(who: Identity, point: Photometry) -> None:
    if not grouped.may_edit(who, point.owner_id):
        raise Forbidden(
            "Insufficient permissions: only the owner of a photometry point (or a system "
            "admin) may change or delete it."
        )


async def get_point(
    session: AsyncSession, who: Identity, photometry_id: int, fmt: str, magsys: str
) -> dict[str, Any]:
    point = await readable_point(session, who, photometry_id)
    fmt = objects.check_format(fmt)
    instrument = await session.get(Instrument, point.instrument_id)
    groups = await grouped.groups_of(session, photometry_groups, "photometry_id", [point.id])
    return objects.point_json(
        point,
        instrument.name if instrument else "",
        fmt,
        check_system(magsys),
        groups.get(point.id, []),
    )


async def patch_point(
    session: AsyncSession, who: Identity, photometry_id: int, body: dict[str, Any]
) -> None:
    """Changes a point: any of mjd, filter, ra, dec, origin, altdata, its value (in flux or in
    magnitudes, with magsys), group_ids and stream_ids (which replace the point's, its owner's
    own group staying)."""
    point = await readable_point(session, who, photometry_id)
    _check_owner(who, point)
    for fixed in ("obj_id", "instrument_id"):
        if fixed in body and str(body[fixed]) != str(getattr(point, fixed)):
            raise ValueError(f"{fixed} of a photometry point cannot be changed")
    packet: dict[str, Any] = {
        "obj_id": point.obj_id,
        "instrument_id": point.instrument_id,
        "mjd": point.mjd,
        "filter": point.filter,
        "ra": point.ra,
        "dec": point.dec,
        "origin": point.origin,
        "altdata": point.altdata,
    }
    packet.update({k: v for k, v in body.items() if k in packet})
    given = [k for k in (*FLUX_FIELDS, *MAG_FIELDS) if k in body]
    if given:
        kind = kind_of(given)
        packet["magsys"] = body.get("magsys", "ab")
        packet.update({k: body[k] for k in given})
        if kind == "flux":
            packet.setdefault("zp", PHOT_ZP)
            packet.setdefault("fluxerr", None)
    else:
        kind = "flux"
        packet.update({"flux": point.flux, "fluxerr": point.fluxerr, "zp": PHOT_ZP})
        packet["magsys"] = "ab"
    row = standardize(packet, kind)
    if not given:
        row["original_user_data"] = point.original_user_data
    await _check_refs(session, who, [row])
    clash = (await _existing(session, [row], KEY)).get(key_of(row))
    if clash is not None and clash.id != point.id:
        raise ValueError(_duplicate_message([clash]))
    for name, value in row.items():
        setattr(point, name, value)
    if "group_ids" in body:
        group_ids = await upload_groups(session, who, point.owner_id, body["group_ids"])
        await grouped.link(session, photometry_groups, "photometry_id", point.id, group_ids)
    if "stream_ids" in body:
        stream_ids = await upload_streams(session, who, body["stream_ids"])
        await session.execute(
            delete(photometry_streams).where(photometry_streams.c.photometry_id == point.id)
        )
        await _share(session, [point.id], [], stream_ids)
    await session.flush()


async def delete_point(session: AsyncSession, who: Identity, photometry_id: int) -> None:
    point = await readable_point(session, who, photometry_id)
    _check_owner(who, point)
    await session.delete(point)


async def delete_upload(session: AsyncSession, who: Identity, upload_id: str) -> int:
    """Deletes the caller's points of one upload (a system admin: anyone's)."""
    query = delete(Photometry).where(Photometry.upload_id == upload_id)
    if not who.admin:
        query = query.where(Photometry.owner_id == who.user_id)
    deleted = (await session.execute(query.returning(Photometry.id))).all()
    if not deleted:
        raise ValueError(f"No photometry of yours has upload ID {upload_id}")
    return len(deleted)


# ---- export ---------------------------------------------------------------------------------

EXPORT_FORMATS = ("csv", "ascii", "json")
EXPORT_COLUMNS = (
    "id",
    "mjd",
    "filter",
    "instrument_name",
    "origin",
    "mag",
    "magerr",
    "limiting_mag",
    "magsys",
    "flux",
    "fluxerr",
    "zp",
    "ra",
    "dec",
)


@dataclass
class Export:
    filename: str
    content_type: str
    data: bytes


def json_file(value: Any) -> bytes:
    """JSON as the envelope writes it (timestamps as SkyPortal's ISO 8601), for a file."""
    return json.dumps(
        value, default=lambda v: iso(v) if isinstance(v, datetime) else str(v)
    ).encode()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


async def export(
    session: AsyncSession, who: Identity, obj_id: str, fmt: str, magsys: str
) -> Export:
    """The light curve as a file: csv, ascii (whitespace-separated, ``#`` header, ``nan`` for
    nulls) or json, every point the caller reads, in magnitudes and flux."""
    fmt = (fmt or "csv").lower()
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"format must be one of {', '.join(EXPORT_FORMATS)}")
    points = await objects.photometry(session, who, obj_id, "both", magsys)
    stem = f"{obj_id}_photometry"
    if fmt == "json":
        return Export(f"{stem}.json", "application/json", json_file(points))
    table = [[p.get(name) for name in EXPORT_COLUMNS] for p in points]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(EXPORT_COLUMNS)
        writer.writerows([[_cell(v) for v in row] for row in table])
        return Export(f"{stem}.csv", "text/csv", out.getvalue().encode())
    lines = [
        f"# obj_id: {obj_id}",
        f"# magsys: {check_system(magsys)}",
        "# " + " ".join(EXPORT_COLUMNS),
    ]
    for row in table:
        lines.append(" ".join("nan" if v is None else _cell(v).replace(" ", "_") for v in row))
    return Export(f"{stem}.txt", "text/plain", ("\n".join(lines) + "\n").encode())
