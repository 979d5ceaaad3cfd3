"""What the filters service reads from the archive: alerts and aux documents, over gRPC.

The filters service never reads alert collections itself; it asks the archive's Query API
(Kowalski's find / info) with its service token, like any other client.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import grpc

from services.filters.upstream import Stream
from skymesh.archive.v1 import archive_pb2, archive_pb2_grpc
from skymesh.config import Settings
from skymesh.runtime.clients import service_channel
from skymesh.runtime.documents import from_json, to_json
from skymesh.runtime.errors import Unavailable

CALL_TIMEOUT_S = 310.0
OUTAGE_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})
DEFAULT_MAX_TIME_MS = 30_000


class ArchiveUnavailable(Unavailable):
    """The archive did not answer; the request may be retried."""


class ArchiveReader:
    def __init__(self, settings: Settings) -> None:
        self.channel = service_channel(settings, "archive", caller="filters")
        self.stub = archive_pb2_grpc.ArchiveServiceStub(self.channel)

    async def close(self) -> None:
        await self.channel.close()

    async def query(
        self, query_type: str, query: dict[str, Any], kwargs: dict[str, Any] | None = None
    ) -> Any:
        request = archive_pb2.QueryRequest(
            query_type=query_type, query_json=to_json(query), kwargs_json=to_json(kwargs or {})
        )
        try:
            response = await self.stub.Query(request, timeout=CALL_TIMEOUT_S)
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.INVALID_ARGUMENT:
                raise ValueError(f"archive refused the query: {exc.details()}") from None
            if exc.code() not in OUTAGE_CODES:
                raise  # the archive's own verdict, passed on as it is
            raise ArchiveUnavailable(
                f"archive query failed: {exc.code().name}: {exc.details()}"
            ) from None
        return from_json(response.data_json, "archive answer")

    async def has_catalog(self, catalog: str) -> bool:
        names = await self.query("info", {"command": "catalog_names"})
        return catalog in (names or [])

    def _without_cutouts(self, stream: Stream) -> dict[str, int]:
        return {name: 0 for name in stream.cutout_fields}

    async def newest_alert(
        self, stream: Stream, permissions: Iterable[int]
    ) -> dict[str, Any] | None:
        """The newest alert the filter may see, or None when there is none."""
        if not await self.has_catalog(stream.catalog):
            return None
        alerts = await self.query(
            "find",
            {
                "catalog": stream.catalog,
                "filter": stream.programid_match(permissions),
                "projection": self._without_cutouts(stream),
            },
            {"sort": [[stream.jd_key, -1], ["candid", -1]], "limit": 1},
        )
        return alerts[0] if alerts else None

    async def alerts(
        self, stream: Stream, selector: dict[str, Any], max_time_ms: int = DEFAULT_MAX_TIME_MS
    ) -> list[dict[str, Any]]:
        """The alerts matching ``selector`` (a find filter), oldest first, without cutouts."""
        if not await self.has_catalog(stream.catalog):
            return []
        return await self.query(
            "find",
            {
                "catalog": stream.catalog,
                "filter": selector,
                "projection": self._without_cutouts(stream),
            },
            {"sort": [[stream.jd_key, 1], ["candid", 1]], "max_time_ms": max_time_ms},
        )

    async def aux(
        self, stream: Stream, object_ids: Iterable[Any], max_time_ms: int = DEFAULT_MAX_TIME_MS
    ) -> dict[Any, dict[str, Any]]:
        """object id -> its aux document (history and cross-matches)."""
        wanted = sorted({object_id for object_id in object_ids if object_id is not None})
        if not wanted or not await self.has_catalog(stream.aux_collection):
            return {}
        documents = await self.query(
            "find",
            {"catalog": stream.aux_collection, "filter": {"_id": {"$in": wanted}}},
            {"max_time_ms": max_time_ms},
        )
        return {document["_id"]: document for document in documents}
