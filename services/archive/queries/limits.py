"""The caps on one query: how long it runs and how large its answer may be.

The server's caps are settings (``SKYMESH_QUERY_MAX_TIME_MS``, ``_MAX_DOCUMENTS``,
``_MAX_BYTES``, see skymesh/config.py); a caller may ask for less with ``kwargs.max_time_ms``,
``kwargs.max_documents`` and ``kwargs.max_bytes``, never for more. The time cap is enforced
here around the whole query, whether or not the database honours ``maxTimeMS``. The answer is
counted as the database hands it over (documents, and their BSON bytes), and the query stops
with an error as soon as it passes a cap: never a silently truncated answer, and never more
than one cap's worth (plus one database batch) held in memory.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import bson

from services.archive.queries.base import Limits, QueryError

MIB = 1024 * 1024


def time_limit_ms(kwargs: Mapping[str, Any], query_type: str, limits: Limits) -> int:
    """``kwargs.max_time_ms``, by default and at most the server's cap."""
    value = kwargs.get("max_time_ms", limits.max_time_ms)
    return _requested(value, "max_time_ms", limits.max_time_ms, query_type)


def timed_out(query_type: str, time_ms: int) -> QueryError:
    return QueryError(
        f"{query_type}: the query exceeded max_time_ms={time_ms} and was stopped; narrow the "
        "filter, add kwargs.limit, or ask for a longer kwargs.max_time_ms"
    )


def _requested(value: Any, name: str, cap: int, query_type: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise QueryError(f"{query_type}: kwargs.{name} must be a positive integer")
    if value > cap:
        raise QueryError(
            f"{query_type}: kwargs.{name}={value} is more than this server allows (at most {cap})"
        )
    return value


@dataclass
class Budget:
    """Counts an answer's documents and bytes; raises once either passes its cap."""

    query_type: str
    max_documents: int
    max_bytes: int
    # How to ask for less, in this query type's terms.
    advice: str
    documents: int = 0
    bytes: int = 0

    @classmethod
    def of(cls, query_type: str, kwargs: Mapping[str, Any], limits: Limits, advice: str) -> Budget:
        return cls(
            query_type,
            _requested(
                kwargs.get("max_documents", limits.max_documents),
                "max_documents",
                limits.max_documents,
                query_type,
            ),
            _requested(
                kwargs.get("max_bytes", limits.max_bytes), "max_bytes", limits.max_bytes, query_type
            ),
            advice,
        )

    def database_limit(self, limit: int) -> int:
        """A find's limit (0: none) that lets the database stop one document past the cap."""
        return min(limit, self.max_documents + 1) if limit else self.max_documents + 1

    def add(self, document: Mapping[str, Any], size: int | None = None) -> None:
        self.documents += 1
        if self.documents > self.max_documents:
            raise QueryError(
                f"{self.query_type}: the answer has more than max_documents="
                f"{self.max_documents} documents; {self.advice}"
            )
        self.bytes += len(bson.encode(document)) if size is None else size
        if self.bytes > self.max_bytes:
            raise QueryError(
                f"{self.query_type}: the answer is larger than max_bytes={self.max_bytes} "
                f"({self.max_bytes / MIB:g} MiB of BSON); {self.advice}, or a projection "
                "that leaves out large fields such as the cutouts"
            )
