"""Instruments: the survey instruments the broker posts photometry as, and SkyPortal's
``POST /api/instrument`` for others (a follow-up camera, a spectrograph).

SkyPortal hangs instruments off telescopes; skymesh keeps only what photometry and spectra
need: a name, the filters an imager's photometry may be in, a type and a band.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.portal.db.models import Instrument
from services.portal.objects import instrument_json
from skymesh.runtime.errors import NotFound

# The surveys' instruments, with the filters their plug-ins name (services/broker/surveys/).
SURVEY_INSTRUMENTS: dict[str, tuple[str, ...]] = {
    "ZTF": ("ztfg", "ztfr", "ztfi"),
    "WINTER": ("ps1::y", "2massj", "2massh"),
    "LSST": ("lsstu", "lsstg", "lsstr", "lssti", "lsstz", "lssty"),
}
TYPES = ("imager", "spectrograph", "imaging spectrograph")


async def ensure_survey_instruments(session: AsyncSession) -> None:
    """Each survey instrument exists with at least its survey's filters (at start, so that
    ``GET /api/instrument?name=ZTF`` answers before the first alert)."""
    for name, filters in SURVEY_INSTRUMENTS.items():
        instrument = await session.scalar(select(Instrument).where(Instrument.name == name))
        if instrument is None:
            session.add(Instrument(name=name, filters=list(filters), type="imager"))
        elif not set(filters) <= set(instrument.filters):
            instrument.filters = sorted(set(instrument.filters) | set(filters))
    await session.flush()


def _filters(raw: Any) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(f, str) and f for f in raw):
        raise ValueError("filters must be a list of filter names")
    return list(dict.fromkeys(raw))


async def create(session: AsyncSession, body: dict[str, Any]) -> int:
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValueError("name is required")
    kind = body.get("type", "imager")
    if kind not in TYPES:
        raise ValueError(f"type must be one of {', '.join(TYPES)}, not {kind!r}")
    if await session.scalar(select(Instrument.id).where(Instrument.name == name)) is not None:
        raise ValueError(f"Instrument with name {name} already exists.")
    band = body.get("band")
    instrument = Instrument(
        name=name,
        filters=_filters(body.get("filters")),
        type=kind,
        band=band if isinstance(band, str) else None,
    )
    session.add(instrument)
    await session.flush()
    return instrument.id


async def get(session: AsyncSession, instrument_id: int) -> dict[str, Any]:
    instrument = await session.get(Instrument, instrument_id)
    if instrument is None:
        raise NotFound(f"Could not load instrument with ID {instrument_id}")
    return instrument_json(instrument)
