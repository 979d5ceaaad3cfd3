"""The counterparts' histories a filter reads: for each object with aliases in another
survey (services/archive/counterparts.py), those objects' aux documents, fetched from the
archive once per batch and attached to the object's own aux document. What of them a filter
sees is upstream.counterpart_histories' business (only what that survey shares)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from services.filters.archive import ArchiveReader
from services.filters.upstream import COUNTERPARTS, STREAMS


async def attach(archive: ArchiveReader, aux: Mapping[Any, dict[str, Any]]) -> None:
    """Adds ``counterparts`` (survey -> aux documents) to each aux document with aliases."""
    wanted: dict[str, set[Any]] = {}
    for document in aux.values():
        for survey, ids in (document.get("aliases") or {}).items():
            stream = STREAMS.get(f"{survey}_alerts")
            if stream is not None and stream.shared_history:
                wanted.setdefault(survey, set()).update(ids)
    if not wanted:
        return
    surveys = sorted(wanted)
    fetched = await asyncio.gather(
        *(archive.aux(STREAMS[f"{s}_alerts"], wanted[s]) for s in surveys)
    )
    found = dict(zip(surveys, fetched, strict=True))
    for document in aux.values():
        aliases = document.get("aliases") or {}
        document[COUNTERPARTS] = {
            survey: [found[survey][i] for i in ids if i in found[survey]]
            for survey, ids in aliases.items()
            if survey in found
        }
