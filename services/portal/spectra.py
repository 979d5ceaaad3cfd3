"""Spectra: SkyPortal's ``/api/spectra[/{id}]``, ``GET /api/sources/{obj_id}/spectra``, the
ASCII upload (``/api/spectra/parse/ascii`` parses without saving, ``/api/spectra/ascii``
saves, keeping the file) and our export of one spectrum as json, ascii or csv.

A spectrum is read by the members of its groups and by its owner, and only where its object is
visible to the caller; every spectrum goes to its uploader's own group too, as photometry does.
Only its owner (or a system admin) changes or deletes it.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.portal import grouped, objects
from services.portal.db.models import Instrument, Spectrum, User, spectrum_groups, utcnow
from services.portal.photometry_upload import Export, json_file, upload_groups
from services.portal.replies import iso
from skymesh.runtime.auth import Identity
from skymesh.runtime.errors import Forbidden

TYPES = ("source", "host", "host_center")
KEY = "spectrum_id"
# An ASCII file larger than this is refused (SkyPortal's web form has the same order).
MAX_ASCII_BYTES = 10 * 1024 * 1024
EXPORT_FORMATS = ("json", "ascii", "csv")
FITS_HEADER = re.compile(r"^(?P<key>[^=]+?)\s*=\s*(?P<rest>.*)$")
COLON_HEADER = re.compile(r"^(?P<key>[^:]+?)\s*:\s*(?P<value>.*)$")


# ---- ASCII --------------------------------------------------------------------------------


def _header_value(text: str) -> Any:
    """A header value as JSON: quoted text unquoted, numbers as numbers, T/F as booleans."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1].strip()
    if text in ("T", "F"):
        return text == "T"
    for kind in (int, float):
        try:
            number = kind(text)
        except ValueError:
            continue
        return number if not isinstance(number, float) or math.isfinite(number) else text
    return text


def _fits_value(rest: str) -> tuple[Any, str | None]:
    """``VALUE / COMMENT`` of a FITS card, where a quoted value may hold a slash."""
    rest = rest.strip()
    if rest.startswith("'"):
        end = rest.find("'", 1)
        while end != -1 and rest[end + 1 : end + 2] == "'":  # '' is a quote inside
            end = rest.find("'", end + 2)
        if end != -1:
            value, tail = rest[: end + 1], rest[end + 1 :]
            comment = tail.split("/", 1)[1].strip() if "/" in tail else None
            return _header_value(value.replace("''", "'")), comment or None
    value, _, comment = rest.partition("/")
    return _header_value(value), comment.strip() or None


def parse_header_line(line: str) -> tuple[str, Any] | None:
    """``# KEY: VALUE`` -> (key, value); ``# KEY = VALUE / COMMENT`` -> (key, {value,
    comment}) or (key, value) without a comment; other comments -> None. Keys lower-case."""
    body = line.lstrip("#").strip()
    fits = FITS_HEADER.match(body)
    if fits and ":" not in fits.group("key"):
        value, comment = _fits_value(fits.group("rest"))
        key = fits.group("key").strip().lower()
        return key, value if comment is None else {"value": value, "comment": comment}
    colon = COLON_HEADER.match(body)
    if colon:
        return colon.group("key").strip().lower(), _header_value(colon.group("value"))
    return None


def _column(value: Any, name: str, default: int | None) -> int | None:
    if value is None:
        return default
    index = grouped.integer(value, name)
    if index < 0:
        raise ValueError(f"{name} must be a column index (0 or more), not {index}")
    return index


def parse_ascii(
    text: Any, wave_column: Any = None, flux_column: Any = None, fluxerr_column: Any = None
) -> dict[str, Any]:
    """An ASCII spectrum: ``#`` header lines to altdata, then whitespace- or comma-separated
    columns (a first line of column names is skipped)."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("ascii must be the text of the spectrum file")
    if len(text.encode()) > MAX_ASCII_BYTES:
        raise ValueError(f"The ASCII file is larger than {MAX_ASCII_BYTES} bytes")
    wave = _column(wave_column, "wave_column", 0)
    flux = _column(flux_column, "flux_column", 1)
    error = _column(fluxerr_column, "fluxerr_column", None)
    wanted = [c for c in (wave, flux, error) if c is not None]
    altdata: dict[str, Any] = {}
    rows: list[list[float]] = []
    seen_data = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            parsed = parse_header_line(line)
            if parsed is not None:
                altdata[parsed[0]] = parsed[1]
            continue
        cells = [c for c in re.split(r"[\s,]+", line) if c]
        try:
            values = [float(cells[c]) for c in wanted]
        except ValueError:
            if not seen_data and not rows:
                seen_data = True  # a line of column names
                continue
            raise ValueError(f"Line {number} of the ASCII file is not numeric: {line!r}") from None
        except IndexError:
            raise ValueError(
                f"Line {number} of the ASCII file has {len(cells)} columns; column "
                f"{max(wanted)} was asked for"
            ) from None
        seen_data = True
        rows.append(values)
    if not rows:
        raise ValueError("The ASCII file has no data lines")
    columns = list(zip(*rows, strict=True))
    return {
        "wavelengths": list(columns[0]),
        "fluxes": list(columns[1]),
        "errors": list(columns[2]) if error is not None else None,
        "altdata": altdata,
    }


# ---- validation -----------------------------------------------------------------------------


def _numbers(raw: Any, name: str, nullable: bool = False) -> list[float]:
    if not isinstance(raw, list) or not raw:
        raise ValueError(f"{name} must be a non-empty list of numbers")
    out = []
    for value in raw:
        if value is None and nullable:
            out.append(math.nan)
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{name} must be a list of numbers, not {value!r}")
        out.append(float(value))
    return out


def _observed_at(raw: Any) -> datetime:
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError("Invalid/missing parameters: observed_at (ISO 8601) is required")
    try:
        moment = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"observed_at is not an ISO 8601 time: {raw!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{name} must be a string")
    return value


async def _fields(
    session: AsyncSession, who: Identity, body: dict[str, Any], new: bool
) -> dict[str, Any]:
    """The columns a body sets (all the required ones when ``new``)."""
    fields: dict[str, Any] = {}
    if new or "obj_id" in body:
        obj_id = body.get("obj_id")
        if not obj_id:
            raise ValueError("Invalid/missing parameters: obj_id is required")
        if await objects.visible_obj(session, who, str(obj_id)) is None:
            raise ValueError(f"Invalid object ID: {obj_id}")
        fields["obj_id"] = str(obj_id)
    if new or "instrument_id" in body:
        if body.get("instrument_id") is None:
            raise ValueError("Invalid/missing parameters: instrument_id is required")
        instrument_id = grouped.integer(body["instrument_id"], "instrument_id")
        if await session.get(Instrument, instrument_id) is None:
            raise ValueError(f"Invalid instrument ID: {instrument_id}")
        fields["instrument_id"] = instrument_id
    if new or "observed_at" in body:
        fields["observed_at"] = _observed_at(body.get("observed_at"))
    if new or "wavelengths" in body:
        fields["wavelengths"] = _numbers(body.get("wavelengths"), "wavelengths")
    if new or "fluxes" in body:
        fields["fluxes"] = _numbers(body.get("fluxes"), "fluxes")
    if body.get("errors") is not None:
        fields["errors"] = _numbers(body["errors"], "errors", nullable=True)
    elif "errors" in body:
        fields["errors"] = None
    if "type" in body or new:
        kind = body.get("type") or "source"
        if kind not in TYPES:
            raise ValueError(f"type must be one of {', '.join(TYPES)}, not {kind!r}")
        fields["type"] = kind
    for name in ("units", "label", "origin"):
        if name in body:
            fields[name] = _text(body, name)
    if "altdata" in body:
        if body["altdata"] is not None and not isinstance(body["altdata"], dict):
            raise ValueError("altdata must be an object")
        fields["altdata"] = body["altdata"] or None
    return fields


def _check_lengths(row: Spectrum) -> None:
    lengths = {len(row.wavelengths), len(row.fluxes)}
    if row.errors is not None:
        lengths.add(len(row.errors))
    if len(lengths) > 1:
        raise ValueError(
            "wavelengths, fluxes and errors must have the same length "
            f"({len(row.wavelengths)}, {len(row.fluxes)}"
            + (f", {len(row.errors)})" if row.errors is not None else ")")
        )


# ---- reading and writing ------------------------------------------------------------------------


def _finite(values: list[float] | None) -> list[float | None] | None:
    if values is None:
        return None
    return [v if math.isfinite(v) else None for v in values]


async def spectrum_json(
    session: AsyncSession, row: Spectrum, include_file: bool = False
) -> dict[str, Any]:
    instrument = await session.get(Instrument, row.instrument_id)
    owner = await session.get(User, row.owner_id)
    groups = await grouped.groups_of(session, spectrum_groups, KEY, [row.id])
    found = {
        "id": row.id,
        "obj_id": row.obj_id,
        "instrument_id": row.instrument_id,
        "instrument_name": instrument.name if instrument else None,
        "observed_at": iso(row.observed_at),
        "wavelengths": row.wavelengths,
        "fluxes": row.fluxes,
        "errors": _finite(row.errors),
        "units": row.units,
        "type": row.type,
        "label": row.label,
        "origin": row.origin,
        "altdata": row.altdata,
        "owner_id": row.owner_id,
        "owner": objects.user_json(owner) if owner else None,
        "groups": groups.get(row.id, []),
        "original_file_filename": row.original_file_filename,
        "created_at": iso(row.created_at),
        "modified": iso(row.modified),
    }
    if include_file:
        found["original_file_string"] = row.original_file_string
    return found


async def _readable(session: AsyncSession, who: Identity, spectrum_id: int) -> Spectrum:
    row = await session.get(Spectrum, spectrum_id)
    readable = row is not None and (
        who.admin
        or row.owner_id == who.user_id
        or await grouped.is_readable(session, who, spectrum_groups, KEY, row.id)
    )
    if row is None or not readable or await objects.visible_obj(session, who, row.obj_id) is None:
        raise ValueError(f"Could not access spectrum {spectrum_id}.")
    return row


async def _own(session: AsyncSession, who: Identity, spectrum_id: int) -> Spectrum:
    row = await _readable(session, who, spectrum_id)
    if not grouped.may_edit(who, row.owner_id):
        raise Forbidden(
            "Insufficient permissions: only the owner of a spectrum (or a system admin) may "
            "change or delete it."
        )
    return row


async def post(
    session: AsyncSession,
    who: Identity,
    owner_id: int,
    body: dict[str, Any],
    original: tuple[str, str] | None = None,
) -> int:
    fields = await _fields(session, who, body, new=True)
    group_ids = await upload_groups(session, who, owner_id, body.get("group_ids"))
    row = Spectrum(**fields, owner_id=owner_id)
    if original is not None:
        row.original_file_string, row.original_file_filename = original
    _check_lengths(row)
    session.add(row)
    await session.flush()
    await grouped.link(session, spectrum_groups, KEY, row.id, group_ids)
    return row.id


async def post_ascii(
    session: AsyncSession, who: Identity, owner_id: int, body: dict[str, Any]
) -> int:
    """The ASCII upload: the file parsed (its header in altdata, under the body's own
    altdata), saved with the file itself and its name."""
    filename = body.get("filename")
    if not isinstance(filename, str) or not filename.strip():
        raise ValueError("Invalid/missing parameters: filename is required")
    parsed = parse_ascii(
        body.get("ascii"),
        body.get("wave_column"),
        body.get("flux_column"),
        body.get("fluxerr_column"),
    )
    altdata = {**parsed.pop("altdata"), **(body.get("altdata") or {})}
    spectrum = {
        **{k: v for k, v in body.items() if k not in ("ascii", "filename")},
        **parsed,
        "altdata": altdata or None,
    }
    return await post(session, who, owner_id, spectrum, (body["ascii"], filename))


async def get(
    session: AsyncSession, who: Identity, spectrum_id: int, include_file: bool
) -> dict[str, Any]:
    return await spectrum_json(session, await _readable(session, who, spectrum_id), include_file)


async def update(
    session: AsyncSession, who: Identity, spectrum_id: int, body: dict[str, Any]
) -> None:
    row = await _own(session, who, spectrum_id)
    for name, value in (await _fields(session, who, body, new=False)).items():
        setattr(row, name, value)
    _check_lengths(row)
    if body.get("group_ids") is not None:
        group_ids = await upload_groups(session, who, row.owner_id, body["group_ids"])
        await grouped.link(session, spectrum_groups, KEY, row.id, group_ids)
    row.modified = utcnow()


async def delete(session: AsyncSession, who: Identity, spectrum_id: int) -> None:
    await session.delete(await _own(session, who, spectrum_id))


async def of_obj(session: AsyncSession, who: Identity, obj_id: str) -> dict[str, Any]:
    query = select(Spectrum).where(Spectrum.obj_id == obj_id)
    if not who.admin:
        query = query.where(
            Spectrum.id.in_(grouped.readable_ids(who, spectrum_groups, KEY))
            | (Spectrum.owner_id == who.user_id)
        )
    rows = await session.scalars(query.order_by(Spectrum.observed_at, Spectrum.id))
    return {"obj_id": obj_id, "spectra": [await spectrum_json(session, r) for r in rows]}


# ---- export -----------------------------------------------------------------------------------


def _ascii_header_value(value: Any) -> str:
    if isinstance(value, dict) and set(value) == {"value", "comment"}:
        return f"{_ascii_header_value(value['value'])} / {value['comment']}"
    if isinstance(value, bool):
        return "T" if value else "F"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    if isinstance(value, str):
        # Quoted as a FITS card's text, so that a slash in it is not read as a comment.
        return "'" + value.replace("'", "''") + "'"
    return str(value)


async def export(session: AsyncSession, who: Identity, spectrum_id: int, fmt: str) -> Export:
    """One spectrum as a file. ascii is what ``/api/spectra/ascii`` reads back: ``# KEY =
    VALUE`` header lines (altdata and the spectrum's own fields), then wavelength, flux and,
    when there are errors, flux error columns."""
    fmt = (fmt or "json").lower()
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"format must be one of {', '.join(EXPORT_FORMATS)}")
    row = await _readable(session, who, spectrum_id)
    found = await spectrum_json(session, row)
    stem = f"{row.obj_id}_spectrum_{row.id}"
    if fmt == "json":
        return Export(f"{stem}.json", "application/json", json_file(found))
    errors = found["errors"]
    table = [
        [w, f] + ([errors[i]] if errors is not None else [])
        for i, (w, f) in enumerate(zip(row.wavelengths, row.fluxes, strict=True))
    ]
    names = ["wavelength", "flux"] + (["fluxerr"] if errors is not None else [])
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(names)
        writer.writerows([["" if v is None else repr(v) for v in r] for r in table])
        return Export(f"{stem}.csv", "text/csv", out.getvalue().encode())
    header = {
        "obj_id": row.obj_id,
        "instrument": found["instrument_name"],
        "observed_at": found["observed_at"],
        "type": row.type,
        **({"units": row.units} if row.units else {}),
        **({"label": row.label} if row.label else {}),
        **({"origin": row.origin} if row.origin else {}),
        **(row.altdata or {}),
    }
    lines = [f"# {key.upper()} = {_ascii_header_value(value)}" for key, value in header.items()]
    lines.append("# " + " ".join(names))
    lines += [" ".join("nan" if v is None else repr(v) for v in r) for r in table]
    return Export(f"{stem}.txt", "text/plain", ("\n".join(lines) + "\n").encode())
