"""The active filters of each catalog, compiled once and kept in memory, live-reloaded.

A change made through this process takes effect at once (:meth:`FilterRegistry.apply`);
one made by another replica is seen by polling the filters' revision counters every
``POLL_INTERVAL_S`` seconds, and only the filters whose revision moved are read and compiled.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from services.filters.compiled import CompiledFilter, compile_filter
from services.filters.store import REVISION, FilterStore

log = logging.getLogger(__name__)

POLL_INTERVAL_S = 2.0


class FilterRegistry:
    def __init__(self, store: FilterStore) -> None:
        self.store = store
        # filter_id -> the compiled active version (inactive or broken filters are absent).
        self._compiled: dict[int, CompiledFilter] = {}
        # filter_id -> the revision last applied (present for every stored filter).
        self._revisions: dict[int, int] = {}
        # catalog -> its active filters; rebuilt on change, read without locking.
        self._by_catalog: dict[str, tuple[CompiledFilter, ...]] = {}

    def active(self, catalog: str) -> tuple[CompiledFilter, ...]:
        return self._by_catalog.get(catalog, ())

    def apply(self, document: dict[str, Any]) -> None:
        """Takes a stored document (just written, or read by the poll) into account."""
        filter_id = document["filter_id"]
        revision = document.get(REVISION, 0)
        if self._revisions.get(filter_id, -1) > revision:
            return  # we already hold a newer revision
        self._revisions[filter_id] = revision
        self._compiled.pop(filter_id, None)
        if document.get("active", False):
            try:
                self._compiled[filter_id] = compile_filter(document)
            except (ValueError, LookupError) as exc:
                # Stored filters were validated; this only happens if the engine changed.
                fields = {"filter_id": filter_id, "error": str(exc)}
                log.error("active filter does not compile; skipped", extra={"fields": fields})
        self._rebuild()

    def remove(self, filter_id: int) -> None:
        self._revisions.pop(filter_id, None)
        if self._compiled.pop(filter_id, None) is not None:
            self._rebuild()

    def _rebuild(self) -> None:
        by_catalog: dict[str, list[CompiledFilter]] = {}
        for filter_id in sorted(self._compiled):
            compiled = self._compiled[filter_id]
            by_catalog.setdefault(compiled.catalog, []).append(compiled)
        self._by_catalog = {catalog: tuple(items) for catalog, items in by_catalog.items()}

    async def refresh(self) -> int:
        """Reads what changed in the collection since the last refresh; returns how many."""
        known = dict(self._revisions)
        revisions = await self.store.revisions()
        changed = [fid for fid, rev in revisions.items() if self._revisions.get(fid) != rev]
        # Only what we knew before reading: a filter created here meanwhile is not deleted.
        deleted = [
            fid
            for fid, rev in known.items()
            if fid not in revisions and self._revisions.get(fid) == rev
        ]
        for filter_id in deleted:
            self.remove(filter_id)
        if changed:
            for document in await self.store.find(changed):
                self.apply(document)
        if changed or deleted:
            fields = {"changed": changed, "deleted": deleted, "active": len(self._compiled)}
            log.info("filters reloaded", extra={"fields": fields})
        return len(changed) + len(deleted)

    async def poll_forever(self, interval: float = POLL_INTERVAL_S) -> None:
        while True:
            try:
                await self.refresh()
            except Exception:  # a database hiccup must not end the reload loop
                log.exception("filter reload failed; retrying")
            await asyncio.sleep(interval)
