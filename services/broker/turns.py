"""Several batches in the pipeline at once, each stage taking them in the order they came.

Batch N+1 may be decoded while batch N is scored and batch N-1 archived, but no batch enters
a stage before the batch ahead of it has left that stage: an object's alerts are archived,
filtered and posted in Kafka order, however the batches overlap.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence


class Ticket:
    """One batch's place in line: it waits for the batch ahead at every stage."""

    def __init__(
        self, ahead: dict[str, asyncio.Future[None]], mine: dict[str, asyncio.Future[None]]
    ) -> None:
        self._ahead = ahead
        self._mine = mine

    @contextlib.asynccontextmanager
    async def turn(self, stage: str) -> AsyncIterator[None]:
        """Waits until the batch ahead has left ``stage``, then holds it until done."""
        if (ahead := self._ahead.get(stage)) is not None:
            await asyncio.shield(ahead)
        try:
            yield
        finally:
            self._leave(stage)

    def _leave(self, stage: str) -> None:
        if not (future := self._mine[stage]).done():
            future.set_result(None)

    def close(self) -> None:
        """Lets the batch behind pass every stage this one skipped (no items left, or failed)."""
        for stage in self._mine:
            self._leave(stage)


class Turns:
    def __init__(self, stages: Sequence[str]) -> None:
        self.stages = tuple(stages)
        self._last: dict[str, asyncio.Future[None]] = {}

    def enter(self) -> Ticket:
        """The next batch's ticket: behind every batch that entered before it."""
        loop = asyncio.get_running_loop()
        mine = {stage: loop.create_future() for stage in self.stages}
        ahead, self._last = self._last, mine
        return Ticket(ahead, mine)
