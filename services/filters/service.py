"""The filters service's gRPC API: Kowalski's filter routes, validation, Evaluate and /test.

Who may call: the shared interceptor enforces what filters.proto declares (Evaluate is the
broker's). A filter is managed by the admins of its group and by system admins; its members
may read it. A filter's id is its SkyPortal filter's: the portal says which group owns it and
which stream (collection + programids) it reads, so those are never taken from the request.
"""

from __future__ import annotations

import logging
from typing import Any

import bson
import grpc
from bson.errors import BSONError
from google.api import httpbody_pb2
from google.protobuf import json_format
from pymongo import AsyncMongoClient

from services.filters import counterparts
from services.filters.archive import ArchiveReader
from services.filters.compiled import compile_filter
from services.filters.dry_run import dry_run
from services.filters.evaluation import FilterPassed, Outcome, evaluate
from services.filters.filter_test import parse_selection, run_test
from services.filters.registry import FilterRegistry
from services.filters.store import FilterStore, new_version, public
from services.filters.upstream import stream_of
from services.filters.validation import (
    CheckedParts,
    check_auto_followup,
    check_autosave,
    check_filter,
    check_followup_needs_autosave,
    check_permissions,
)
from services.filters.wire import (
    http_reply,
    optional_value,
    to_struct,
    to_value,
    typed_request,
)
from skymesh.config import Settings
from skymesh.filters.v1 import filters_pb2, filters_pb2_grpc
from skymesh.portal.v1 import portal_pb2, portal_pb2_grpc
from skymesh.runtime.auth import MISSING_ACL, AuthError, caller
from skymesh.runtime.clients import service_channel
from skymesh.runtime.documents import from_json, to_json
from skymesh.runtime.errors import Forbidden, NotFound, grpc_errors
from skymesh.runtime.readiness import grpc_service_ready
from skymesh.runtime.server import Service

log = logging.getLogger(__name__)

SERVICE = filters_pb2.DESCRIPTOR.services_by_name["FiltersService"].full_name
# Per-alert errors logged and returned by /test, at most (the count is always whole).
MAX_ERROR_EXAMPLES = 20


def envelope(message: str, data: Any = None) -> filters_pb2.FilterEnvelope:
    reply = filters_pb2.FilterEnvelope(status="success", message=message)
    if data is not None:
        reply.data.CopyFrom(to_value(data))
    return reply


def filter_pass(passed: FilterPassed) -> filters_pb2.FilterPass:
    compiled = passed.filter
    return filters_pb2.FilterPass(
        candid=int(passed.candid),
        object_id=str(passed.object_id),
        filter_id=compiled.filter_id,
        group_id=compiled.group_id,
        fid=compiled.fid,
        annotations_json=to_json(passed.annotations),
        autosave=passed.autosave is not False,
        autosave_json=to_json(passed.autosave) if isinstance(passed.autosave, dict) else "",
        auto_followup_json=to_json(passed.auto_followup) if passed.auto_followup else "",
        update_annotations=compiled.update_annotations,
    )


def _log_failures(outcome: Outcome, catalog: str) -> None:
    for failed in outcome.failed[:MAX_ERROR_EXAMPLES]:
        fields = {
            "catalog": catalog,
            "filter_id": failed.filter.filter_id,
            "fid": failed.filter.fid,
            "candid": failed.candid,
            "error": failed.message,
        }
        log.warning("filter failed on an alert", extra={"fields": fields})


class FiltersServicer(filters_pb2_grpc.FiltersServiceServicer):
    def __init__(
        self,
        settings: Settings,
        store: FilterStore,
        registry: FilterRegistry,
        archive: ArchiveReader,
        portal: portal_pb2_grpc.PortalServiceStub,
    ) -> None:
        self.settings = settings
        self.store = store
        self.registry = registry
        self.archive = archive
        self.portal = portal

    async def _link(self, filter_id: int) -> portal_pb2.FilterLink:
        try:
            return await self.portal.GetFilterLink(
                portal_pb2.FilterLinkRequest(filter_id=filter_id), timeout=10
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.NOT_FOUND:
                raise
        raise NotFound(
            f"no filter with id {filter_id}: create it first with POST /api/filters "
            "{name, group_id, stream_id}, which gives its id"
        )

    async def _managed(self, filter_id: int) -> portal_pb2.FilterLink:
        """The filter's link, if the caller manages it (its group's admins, system admins,
        with the ACL that every write of the portal needs)."""
        who = caller()
        if not who.has("Upload data"):
            raise AuthError(f"{MISSING_ACL}: this needs the ACL 'Upload data'")
        link = await self._link(filter_id)
        if not (who.admin or link.group_id in who.admin_group_ids):
            raise Forbidden(f"filter {filter_id} is managed by the admins of group {link.group_id}")
        return link

    async def _readable(self, filter_id: int) -> portal_pb2.FilterLink:
        link = await self._link(filter_id)
        who = caller()
        if not (who.admin or link.group_id in who.group_ids):
            raise NotFound(f"no filter with id {filter_id}")
        return link

    async def _check_new_version(
        self, request: filters_pb2.CreateFilterRequest
    ) -> tuple[dict[str, Any], CheckedParts, str]:
        """The filter's stored fields, its checked parts and the dry run's message."""
        if request.filter_id < 1:
            raise ValueError("filter_id must be a positive integer")
        link = await self._managed(request.filter_id)
        if request.group_id and request.group_id != link.group_id:
            raise ValueError(
                f"Filter id {request.filter_id} belongs to group_id {link.group_id}, "
                f"not {request.group_id}"
            )
        if request.catalog and request.catalog != link.collection:
            raise ValueError(
                f"Filter id {request.filter_id} reads {link.collection} (its stream "
                f"{link.stream_name!r}), not {request.catalog}"
            )
        if request.permissions and sorted(set(request.permissions)) != sorted(link.selector):
            raise ValueError(
                f"Filter id {request.filter_id}'s permissions are its stream's programids "
                f"{sorted(link.selector)} ({link.stream_name!r}), not {list(request.permissions)}"
            )
        request.group_id = link.group_id
        request.catalog = link.collection
        request.permissions[:] = sorted(link.selector)
        existing = await self.store.get(request.filter_id)
        if existing is not None:
            if existing["group_id"] != request.group_id:
                raise ValueError(
                    f"Filter id {request.filter_id} belongs to group_id "
                    f"{existing['group_id']}, not {request.group_id}"
                )
            # Kowalski: catalog and permissions come with the stream; a version keeps them.
            catalog, permissions = existing["catalog"], existing["permissions"]
        else:
            if not request.catalog:
                raise ValueError("catalog is required: the alert stream to filter, e.g. ZTF_alerts")
            catalog = request.catalog
            permissions = check_permissions(list(request.permissions), stream_of(catalog))
        stream = stream_of(catalog)
        parts = check_filter(
            optional_value(request, "pipeline"),
            optional_value(request, "autosave"),
            optional_value(request, "auto_followup"),
        )
        message = await dry_run(
            self.archive, stream, permissions, parts.compiled, request.filter_id
        )
        spec = {
            "filter_id": request.filter_id,
            "group_id": request.group_id,
            "catalog": catalog,
            "permissions": permissions,
            "autosave": parts.autosave,
            "auto_followup": parts.auto_followup,
            "update_annotations": request.update_annotations,
        }
        return spec, parts, message

    @grpc_errors
    async def CreateFilter(
        self, request: filters_pb2.CreateFilterRequest, context: grpc.aio.ServicerContext
    ) -> filters_pb2.FilterEnvelope:
        """A new filter, or a new version of one (which becomes the active one). A new
        version changes nothing else: autosave, auto_followup and update_annotations are
        edited with UpdateFilter, as in Kowalski."""
        spec, parts, message = await self._check_new_version(request)
        assert parts.pipeline is not None
        version = new_version(parts.pipeline.text)
        document, _ = await self.store.create_or_append(spec, version)
        self.registry.apply(document)
        return envelope(f"{message}\nsaved new filter version: {version['fid']}", version)

    @grpc_errors
    async def CreateFilterHttp(
        self, request: httpbody_pb2.HttpBody, context: grpc.aio.ServicerContext
    ) -> httpbody_pb2.HttpBody:
        body = from_json(request.data, "request body")
        if isinstance(body, dict) and "pipeline" not in body and "name" in body:
            return await self._create_portal_filter(body)
        typed = typed_request(request.data, filters_pb2.CreateFilterRequest())
        return http_reply(await self.CreateFilter(typed, context))

    async def _create_portal_filter(self, body: dict[str, Any]) -> httpbody_pb2.HttpBody:
        """SkyPortal's POST /api/filters: the filter's name, group and stream."""
        who = caller()
        if not who.has("Upload data"):
            raise AuthError(f"{MISSING_ACL}: this needs the ACL 'Upload data'")
        request = portal_pb2.CreatePortalFilterRequest(acting_user_id=who.user_id)
        try:
            json_format.ParseDict(
                {k: body[k] for k in ("name", "group_id", "stream_id", "altdata") if k in body},
                request,
            )
        except json_format.ParseError as exc:
            raise ValueError(f"invalid filter: {exc}") from None
        link = await self.portal.CreatePortalFilter(request, timeout=10)
        reply = {"status": "success", "data": {"id": link.filter_id}}
        return httpbody_pb2.HttpBody(content_type="application/json", data=to_json(reply).encode())

    @grpc_errors
    async def UpdateFilterHttp(
        self, request: httpbody_pb2.HttpBody, context: grpc.aio.ServicerContext
    ) -> httpbody_pb2.HttpBody:
        typed = typed_request(request.data, filters_pb2.UpdateFilterRequest())
        return http_reply(await self.UpdateFilter(typed, context))

    @grpc_errors
    async def ValidateFilter(
        self, request: filters_pb2.CreateFilterRequest, context: grpc.aio.ServicerContext
    ) -> filters_pb2.FilterEnvelope:
        _, _, message = await self._check_new_version(request)
        return envelope(message)

    @grpc_errors
    async def UpdateFilter(
        self, request: filters_pb2.UpdateFilterRequest, context: grpc.aio.ServicerContext
    ) -> filters_pb2.FilterEnvelope:
        await self._managed(request.filter_id)
        current = await self.store.require(request.filter_id)
        changes: dict[str, Any] = {}
        if request.HasField("active"):
            changes["active"] = request.active
        if request.HasField("active_fid"):
            if request.active_fid not in [v["fid"] for v in current.get("fv", [])]:
                raise ValueError(
                    f"Cannot set active_fid to {request.active_fid}: "
                    "filter version fid not in filter.fv"
                )
            changes["active_fid"] = request.active_fid
        if request.HasField("update_annotations"):
            changes["update_annotations"] = request.update_annotations
        parts = CheckedParts()
        autosave = optional_value(request, "autosave")
        if autosave is not None:
            check_autosave(autosave, parts)
            changes["autosave"] = parts.autosave
        auto_followup = optional_value(request, "auto_followup")
        if auto_followup is not None:
            check_auto_followup(auto_followup, parts)
            changes["auto_followup"] = parts.auto_followup
        if not changes:
            raise ValueError(
                "nothing to update: give active, active_fid, autosave, auto_followup "
                "or update_annotations"
            )
        check_followup_needs_autosave(
            changes.get("auto_followup", current.get("auto_followup")),
            changes.get("autosave", current.get("autosave")),
        )
        if parts.compiled:
            await dry_run(
                self.archive,
                stream_of(current["catalog"]),
                current["permissions"],
                parts.compiled,
                request.filter_id,
            )
        document = await self.store.update(current, changes)
        self.registry.apply(document)
        return envelope(f"Updated filter id {request.filter_id}", public(document))

    @grpc_errors
    async def GetFilter(
        self, request: filters_pb2.GetFilterRequest, context: grpc.aio.ServicerContext
    ) -> filters_pb2.FilterEnvelope:
        link = await self._readable(request.filter_id)
        document = await self.store.get(request.filter_id)
        # Kowalski's document (when it has versions) with SkyPortal's name, group and stream.
        found = {
            **(public(document) if document else {}),
            "id": link.filter_id,
            "name": link.name,
            "group_id": link.group_id,
            "stream_id": link.stream_id,
        }
        return envelope(f"Retrieved filter id {request.filter_id}", found)

    @grpc_errors
    async def DeleteFilter(
        self, request: filters_pb2.DeleteFilterRequest, context: grpc.aio.ServicerContext
    ) -> filters_pb2.FilterEnvelope:
        await self._managed(request.filter_id)
        if await self.store.get(request.filter_id) is not None:
            await self.store.delete(request.filter_id)
        self.registry.remove(request.filter_id)
        await self.portal.DeletePortalFilter(
            portal_pb2.FilterLinkRequest(filter_id=request.filter_id), timeout=10
        )
        return envelope(f"Removed filter id {request.filter_id}")

    @grpc_errors
    async def ListFilters(
        self, request: filters_pb2.ListFiltersRequest, context: grpc.aio.ServicerContext
    ) -> filters_pb2.ListFiltersResponse:
        documents = await self.store.list(request.group_id, request.active_only)
        return filters_pb2.ListFiltersResponse(
            filters=[to_struct(public(document)) for document in documents]
        )

    @grpc_errors
    async def TestFilter(
        self, request: filters_pb2.TestFilterRequest, context: grpc.aio.ServicerContext
    ) -> httpbody_pb2.HttpBody:
        await self._readable(request.filter_id)
        selection = parse_selection(
            list(request.object_ids),
            optional_value(request, "start_date"),
            optional_value(request, "end_date"),
            request.max_time_ms,
        )
        document = await self.store.require(request.filter_id)
        if not document.get("fv"):
            raise ValueError(f"Filter id {request.filter_id} has no versions")
        try:
            compiled = compile_filter(document, request.filter_version or None)
        except LookupError as exc:
            raise ValueError(str(exc)) from None
        stream = stream_of(document["catalog"])
        try:
            outcome = await run_test(self.archive, stream, compiled, selection)
        except TimeoutError:
            raise ValueError(
                f"failure: operation exceeded time limit (max_time_ms={selection.max_time_ms})"
            ) from None
        _log_failures(outcome, stream.catalog)
        message = "filter test successful"
        if outcome.failed:
            first = outcome.failed[0]
            message += (
                f"; the filter failed on {len(outcome.failed)} alert(s), "
                f"e.g. candid {first.candid}: {first.message}"
            )
        body = {
            "status": "success",
            "message": message,
            "data": [p.output for p in outcome.passed],
            # Run-time errors of this version, each on one alert (the others were evaluated).
            "errors": {
                "filter_id": compiled.filter_id,
                "fid": compiled.fid,
                "alerts_evaluated": outcome.evaluated,
                "count": len(outcome.failed),
                "examples": [
                    {"candid": failed.candid, "message": failed.message}
                    for failed in outcome.failed[:MAX_ERROR_EXAMPLES]
                ],
            },
        }
        return httpbody_pb2.HttpBody(content_type="application/json", data=to_json(body).encode())

    @grpc_errors
    async def Evaluate(
        self, request: filters_pb2.EvaluateRequest, context: grpc.aio.ServicerContext
    ) -> filters_pb2.EvaluateResponse:
        stream = stream_of(request.catalog)
        alerts = [_decode(raw, "alerts_bson", i) for i, raw in enumerate(request.alerts_bson)]
        aux = {}
        for i, raw in enumerate(request.aux_bson):
            document = _decode(raw, "aux_bson", i)
            aux[document.get("_id")] = document
        filters = self.registry.active(request.catalog)
        if filters:
            await counterparts.attach(self.archive, aux)
        outcome = evaluate(stream, filters, alerts, aux)
        _log_failures(outcome, request.catalog)
        return filters_pb2.EvaluateResponse(
            passes=[filter_pass(passed) for passed in outcome.passed],
            filters_evaluated=len(filters),
            errors=[
                filters_pb2.FilterError(
                    filter_id=failed.filter.filter_id,
                    group_id=failed.filter.group_id,
                    fid=failed.filter.fid,
                    candid=int(failed.candid),
                    message=failed.message,
                )
                for failed in outcome.failed
            ],
        )


def _decode(raw: bytes, field: str, index: int) -> dict[str, Any]:
    try:
        return bson.decode(raw)
    except (BSONError, ValueError, IndexError) as exc:
        raise ValueError(f"{field}[{index}] is not a BSON document: {exc}") from None


def build(settings: Settings) -> Service:
    client: AsyncMongoClient = AsyncMongoClient(settings.mongo_uri, tz_aware=True)
    store = FilterStore(client[settings.db_name])
    registry = FilterRegistry(store)
    archive = ArchiveReader(settings)
    portal_channel = service_channel(settings, "portal", caller="filters")
    portal = portal_pb2_grpc.PortalServiceStub(portal_channel)
    servicer = FiltersServicer(settings, store, registry, archive, portal)

    async def start() -> None:
        await store.ensure_indexes()
        await registry.refresh()

    async def stop() -> None:
        await archive.close()
        await portal_channel.close()
        await client.close()

    return Service(
        name="filters",
        service_names=[SERVICE],
        register=lambda server: filters_pb2_grpc.add_FiltersServiceServicer_to_server(
            servicer, server
        ),
        on_start=start,
        on_stop=stop,
        background=[registry.poll_forever],
        # Its alerts' history comes from the archive (which needs the database).
        ready=grpc_service_ready(settings.address("archive")),
    )
