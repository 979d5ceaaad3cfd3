"""The archive's gRPC API: queries, alert ingestion, lookups.

Who may call what is declared in proto/skymesh/archive/v1/archive.proto and enforced by the
shared auth interceptor; the handlers read the caller (:func:`caller`) only to limit what a
stream-restricted caller reads (services/archive/queries/base.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import bson
import grpc
from google.api import httpbody_pb2
from pymongo import AsyncMongoClient

from services.archive import queries
from services.archive.catalogs import ingest_catalog
from services.archive.store import AlertStore
from services.archive.xmatch import XMatchServicer
from skymesh.archive.v1 import archive_pb2, archive_pb2_grpc
from skymesh.config import Settings
from skymesh.runtime.auth import caller
from skymesh.runtime.documents import from_json, to_json
from skymesh.runtime.errors import NotFound, grpc_errors
from skymesh.runtime.readiness import mongo_ready
from skymesh.runtime.server import Service
from skymesh.xmatch.v1 import xmatch_pb2, xmatch_pb2_grpc

SUCCESS_MESSAGE = "Successfully executed query"


class ArchiveServicer(archive_pb2_grpc.ArchiveServiceServicer):
    def __init__(
        self, settings: Settings, client: AsyncMongoClient, xmatch: XMatchServicer
    ) -> None:
        self.settings = settings
        self.db = client[settings.db_name]
        self.store = AlertStore(self.db)
        self.xmatch = xmatch

    def _context(self) -> queries.QueryContext:
        return queries.QueryContext(self.db, caller(), queries.Limits.from_settings(self.settings))

    @grpc_errors
    async def Query(
        self, request: archive_pb2.QueryRequest, context: grpc.aio.ServicerContext
    ) -> archive_pb2.QueryResponse:
        body = {
            "query_type": request.query_type,
            "query": from_json(request.query_json, "query_json"),
            "kwargs": from_json(request.kwargs_json, "kwargs_json") or {},
        }
        data = await queries.execute(self._context(), body)
        return archive_pb2.QueryResponse(
            status="success", message=SUCCESS_MESSAGE, data_json=to_json(data)
        )

    @grpc_errors
    async def QueryHttp(
        self, request: httpbody_pb2.HttpBody, context: grpc.aio.ServicerContext
    ) -> httpbody_pb2.HttpBody:
        body = from_json(request.data, "request body")
        data = await queries.execute(self._context(), body)
        envelope = {"status": "success", "message": SUCCESS_MESSAGE, "data": data}
        return httpbody_pb2.HttpBody(
            content_type="application/json", data=to_json(envelope).encode()
        )

    @grpc_errors
    async def IngestAlerts(
        self, request: archive_pb2.IngestAlertsRequest, context: grpc.aio.ServicerContext
    ) -> archive_pb2.IngestAlertsResponse:
        if not request.catalog:
            raise ValueError("IngestAlerts: catalog is required")
        result = await self.store.ingest(
            request.catalog,
            list(request.alerts_bson),
            list(request.aux_bson),
            self.xmatch.cross_matches if request.cross_match_new_objects else None,
        )
        return archive_pb2.IngestAlertsResponse(
            inserted_candids=result.inserted,
            duplicate_candids=result.duplicates,
            aux_bson=[bson.encode(doc) for doc in result.aux.values()],
        )

    @grpc_errors
    async def GetAlert(
        self, request: archive_pb2.GetAlertRequest, context: grpc.aio.ServicerContext
    ) -> archive_pb2.DocumentResponse:
        projection = (
            None
            if request.include_cutouts
            else {"cutoutScience": 0, "cutoutTemplate": 0, "cutoutDifference": 0}
        )
        ctx = self._context()
        collection = await ctx.collection({"catalog": request.catalog}, "GetAlert")
        restriction = ctx.restriction(collection.name, "GetAlert")
        alert = await collection.find_one(
            queries.restrict({"candid": request.candid}, restriction), projection
        )
        if alert is None:
            raise NotFound(
                f"no alert with candid {request.candid} in {request.catalog}"
                + (" among your streams' programids" if restriction else "")
            )
        return archive_pb2.DocumentResponse(document_json=to_json(alert))

    @grpc_errors
    async def GetObject(
        self, request: archive_pb2.GetObjectRequest, context: grpc.aio.ServicerContext
    ) -> archive_pb2.DocumentResponse:
        ctx = self._context()
        collection = await ctx.collection({"catalog": request.catalog}, "GetObject")
        restriction = ctx.restriction(collection.name, "GetObject")
        # The object's history mixes every programid: refused where the streams restrict.
        aux_restriction = ctx.restriction(f"{collection.name}{queries.AUX_SUFFIX}", "GetObject")
        alerts = await collection.find(
            queries.restrict({"objectId": request.object_id}, restriction),
            {"cutoutScience": 0, "cutoutTemplate": 0, "cutoutDifference": 0},
            sort=[("candidate.jd", 1)],
        ).to_list()
        if not alerts:
            raise NotFound(
                f"no object {request.object_id!r} in {request.catalog}"
                + (" among your streams' programids" if restriction else "")
            )
        aux = await self.db[f"{collection.name}{queries.AUX_SUFFIX}"].find_one(
            queries.restrict({"_id": request.object_id}, aux_restriction)
        )
        document = {"objectId": request.object_id, "alerts": alerts, "aux": aux}
        return archive_pb2.DocumentResponse(document_json=to_json(document))

    @grpc_errors
    async def IngestCatalog(
        self,
        request_iterator: AsyncIterator[archive_pb2.IngestCatalogRequest],
        context: grpc.aio.ServicerContext,
    ) -> archive_pb2.IngestCatalogResponse:
        catalog, ingested = await ingest_catalog(self.db, request_iterator)
        return archive_pb2.IngestCatalogResponse(catalog=catalog, ingested=ingested)


def build(settings: Settings) -> Service:
    client: AsyncMongoClient = AsyncMongoClient(settings.mongo_uri, tz_aware=True)
    # XMatchService has its own contract but lives beside the database it searches; the
    # archive cross-matches new objects with it in-process.
    xmatch = XMatchServicer(client[settings.db_name])
    servicer = ArchiveServicer(settings, client, xmatch)

    async def close() -> None:
        await client.close()

    def register(server: grpc.aio.Server) -> None:
        archive_pb2_grpc.add_ArchiveServiceServicer_to_server(servicer, server)
        xmatch_pb2_grpc.add_XMatchServiceServicer_to_server(xmatch, server)

    return Service(
        name="archive",
        service_names=[
            archive_pb2.DESCRIPTOR.services_by_name["ArchiveService"].full_name,
            xmatch_pb2.DESCRIPTOR.services_by_name["XMatchService"].full_name,
        ],
        register=register,
        on_stop=close,
        ready=mongo_ready(settings.mongo_uri),
    )
