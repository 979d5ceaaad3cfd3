"""The portal's gRPC API: identity, groups, streams, filters, and the candidates the broker
posts, on PostgreSQL. Who may call each RPC is declared in portal.proto and enforced by the
shared interceptor; handlers check only what depends on the data (group admin, visibility).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from google.api import httpbody_pb2
from google.protobuf import json_format
from sqlalchemy.ext.asyncio import AsyncSession

from services.portal import (
    annotations,
    apidoc,
    candidates,
    classifications,
    comments,
    dashboard,
    expiry,
    filters,
    followup,
    groups,
    identity,
    instruments,
    listings,
    objects,
    passes,
    photometry_upload,
    preferences,
    sources,
    spectra,
    tokens,
    users,
)
from services.portal.db.models import User
from services.portal.db.session import engine, migrate, sessions
from services.portal.replies import attachment, png, success
from skymesh.config import Settings
from skymesh.portal.v1 import portal_pb2, portal_pb2_grpc
from skymesh.runtime.auth import AuthError, Identity, caller, issue_token
from skymesh.runtime.clients import identity_to_proto
from skymesh.runtime.errors import NotFound, grpc_errors
from skymesh.runtime.readiness import postgres_ready
from skymesh.runtime.server import Service

SERVICE = portal_pb2.DESCRIPTOR.services_by_name["PortalService"].full_name
Body = httpbody_pb2.HttpBody


def envelope(message: str) -> portal_pb2.Envelope:
    return portal_pb2.Envelope(status="success", message=message)


def struct(message: Any, name: str) -> dict[str, Any] | None:
    """A Struct field as a dict, or None when the request left it out."""
    if not message.HasField(name):
        return None
    return json_format.MessageToDict(getattr(message, name))


def optional(message: Any, name: str) -> Any:
    return getattr(message, name) if message.HasField(name) else None


class PortalServicer(portal_pb2_grpc.PortalServiceServicer):
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = engine(settings.postgres_dsn)
        self.sessions = sessions(self.engine)
        self.broker_user_id = 0
        self.expiry = expiry.ExpiryJob(
            self.sessions, settings.candidate_expiry_days, settings.candidate_expiry_interval_s
        )

    @asynccontextmanager
    async def tx(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session, session.begin():
            yield session

    async def start(self) -> None:
        await migrate(self.settings.postgres_dsn)
        async with self.tx() as session:
            await identity.ensure_reference_data(session)
            await users.ensure_user(
                session, self.settings.admin_user, self.settings.admin_password, "Super admin"
            )
            bot = await users.ensure_user(session, users.BROKER_USER, "", "Super admin", True)
            self.broker_user_id = bot.id
            await classifications.ensure_sitewide_taxonomy(session)
            await instruments.ensure_survey_instruments(session)

    async def resolve(self, authorization: str) -> Identity:
        return await identity.resolve(self.sessions, self.settings.jwt_secret, authorization)

    # ---- identity -------------------------------------------------------------------

    @grpc_errors
    async def Auth(self, request, context):  # type: ignore[no-untyped-def]
        if not request.username or not request.password:
            raise ValueError("username and password are required")
        async with self.tx() as session:
            user = await users.authenticate(session, request.username, request.password)
        if user is None:
            raise AuthError("Unauthorized: wrong username or password")
        token = issue_token(self.settings.jwt_secret, user.username)
        return portal_pb2.AuthResponse(status="success", token=token)

    @grpc_errors
    async def Ping(self, request, context):  # type: ignore[no-untyped-def]
        return envelope("greetings from skymesh!")

    @grpc_errors
    async def Authorize(self, request, context):  # type: ignore[no-untyped-def]
        return identity_to_proto(await self.resolve(request.authorization))

    @grpc_errors
    async def GetProfile(self, request, context):  # type: ignore[no-untyped-def]
        who = caller()
        async with self.tx() as session:
            user = await session.get(User, who.user_id)
            if user is None:
                raise NotFound("the mesh's services have no profile")
            return success(
                {
                    "id": user.id,
                    "username": user.username,
                    "email": user.email,
                    "is_bot": user.is_bot,
                    "acls": sorted(who.acls),
                    "permissions": sorted(await identity.user_acls_of(session, user.id)),
                    "roles": sorted(await identity.roles_of(session, user.id)),
                    "groups": sorted(who.group_ids),
                    "streams": {k: sorted(v) for k, v in who.streams.items()},
                    "preferences": user.preferences,
                    "created_at": user.created_at,
                    "first_name": user.first_name,
                    "last_name": user.last_name,
                    "contact_email": user.email,
                }
            )

    # ---- users --------------------------------------------------------------------------

    @grpc_errors
    async def CreateUser(self, request, context):  # type: ignore[no-untyped-def]
        users.check_new_password(request.password)
        role = request.role or ("Super admin" if request.admin else "Full user")
        async with self.tx() as session:
            user = await users.create_user(
                session, request.username, request.password, request.email, role
            )
            return portal_pb2.Envelope(
                status="success",
                message=f"added user {request.username}",
                data=json_format.ParseDict({"id": user.id}, portal_pb2.Envelope().data),
            )

    @grpc_errors
    async def UpdateUser(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            await users.update_user(session, request.username, request.password, request.email)
        return envelope(f"updated user {request.username}")

    @grpc_errors
    async def DeleteUser(self, request, context):  # type: ignore[no-untyped-def]
        if request.username in (self.settings.admin_user, users.BROKER_USER):
            raise ValueError(f"{request.username!r} is the mesh's own account; it stays")
        async with self.tx() as session:
            await users.delete_user(session, request.username)
        return envelope(f"removed user {request.username}")

    # ---- roles, ACLs, tokens ---------------------------------------------------------

    @grpc_errors
    async def ListACLs(self, request, context):  # type: ignore[no-untyped-def]
        return success(list(identity.ALL_ACLS))

    @grpc_errors
    async def ListRoles(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            return success(await tokens.roles(session))

    @grpc_errors
    async def GrantACLs(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            await tokens.grant(session, caller(), request.user_id, list(request.aclIds), [])
        return success()

    @grpc_errors
    async def GrantRoles(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            await tokens.grant(session, caller(), request.user_id, [], list(request.roleIds))
        return success()

    @grpc_errors
    async def CreateToken(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            token_id = await tokens.create_token(
                session, caller(), request.name, list(request.acls), request.user_id
            )
        return success({"token_id": token_id})

    @grpc_errors
    async def ListTokens(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            return success(await tokens.list_tokens(session, caller()))

    @grpc_errors
    async def GetToken(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            return success(await tokens.get_token(session, caller(), request.token_id))

    @grpc_errors
    async def RenameToken(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            await tokens.rename_token(session, caller(), request.token_id, request.name)
        return success()

    @grpc_errors
    async def DeleteToken(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            await tokens.delete_token(session, caller(), request.token_id)
        return success()

    # ---- groups --------------------------------------------------------------------------

    @grpc_errors
    async def CreateGroup(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            group_id = await groups.create_group(
                session,
                caller(),
                request.name,
                request.nickname,
                request.description,
                request.private,
                list(request.group_admins),
            )
        return success({"id": group_id})

    @grpc_errors
    async def ListGroups(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            return success(await groups.list_groups(session, caller()))

    @grpc_errors
    async def GetGroup(self, request, context):  # type: ignore[no-untyped-def]
        include = request.includeGroupUsers.strip().lower() not in ("false", "f", "no", "0")
        async with self.tx() as session:
            return success(await groups.group_detail(session, caller(), request.group_id, include))

    @grpc_errors
    async def UpdateGroup(self, request, context):  # type: ignore[no-untyped-def]
        changes = {
            key: getattr(request, key)
            for key in ("name", "nickname", "description")
            if request.HasField(key)
        }
        if not changes:
            raise ValueError("nothing to update: give name, nickname or description")
        async with self.tx() as session:
            await groups.update_group(session, caller(), request.group_id, changes)
        return success()

    @grpc_errors
    async def DeleteGroup(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            await groups.delete_group(session, caller(), request.group_id)
        return success()

    @grpc_errors
    async def AddGroupUser(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            added = await groups.add_member(
                session,
                caller(),
                request.group_id,
                request.userID,
                bool(optional(request, "admin")),
                optional(request, "canSave") is not False,
            )
        return success(added)

    @grpc_errors
    async def UpdateGroupUser(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            await groups.update_member(
                session,
                caller(),
                request.group_id,
                request.userID,
                optional(request, "admin"),
                optional(request, "canSave"),
            )
        return success()

    @grpc_errors
    async def RemoveGroupUser(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            await groups.remove_member(session, caller(), request.group_id, request.user_id)
        return success()

    @grpc_errors
    async def AddGroupStream(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            await groups.add_stream(session, caller(), request.group_id, request.stream_id)
        return success({"group_id": request.group_id, "stream_id": request.stream_id})

    @grpc_errors
    async def RemoveGroupStream(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            await groups.remove_stream(session, caller(), request.group_id, request.stream_id)
        return success()

    @grpc_errors
    async def RequestAdmission(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            request_id = await groups.request_admission(session, caller(), request.groupID)
        return success({"id": request_id})

    @grpc_errors
    async def ListAdmissionRequests(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            return success(await groups.list_admission_requests(session, caller(), request.groupID))

    @grpc_errors
    async def AnswerAdmission(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            await groups.answer_admission(session, caller(), request.request_id, request.status)
        return success()

    # ---- streams ------------------------------------------------------------------------

    @grpc_errors
    async def CreateStream(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            stream_id = await groups.create_stream(
                session,
                request.name,
                struct(request, "altdata") or {},
                bool(optional(request, "auto_join")),
            )
        return success({"id": stream_id})

    @grpc_errors
    async def ListStreams(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            return success(await groups.list_streams(session, caller()))

    @grpc_errors
    async def GetStream(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            stream = await groups.readable_stream(session, caller(), request.stream_id)
            return success(groups.stream_json(stream))

    @grpc_errors
    async def UpdateStream(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            await groups.update_stream(
                session,
                request.stream_id,
                optional(request, "name"),
                struct(request, "altdata"),
                optional(request, "auto_join"),
            )
        return success()

    @grpc_errors
    async def DeleteStream(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            await groups.delete_stream(session, request.stream_id)
        return success()

    @grpc_errors
    async def AddStreamUser(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            await groups.add_stream_user(session, caller(), request.stream_id, request.user_id)
        return success({"stream_id": request.stream_id, "user_id": request.user_id})

    @grpc_errors
    async def RemoveStreamUser(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            await groups.remove_stream_user(session, request.stream_id, request.user_id)
        return success()

    # ---- filters --------------------------------------------------------------------------

    @grpc_errors
    async def ListPortalFilters(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            return success(await filters.readable(session, caller()))

    @grpc_errors
    async def UpdatePortalFilter(self, request, context):  # type: ignore[no-untyped-def]
        if request.group_id or request.stream_id:
            raise ValueError("Cannot update group_id or stream_id.")
        async with self.tx() as session:
            await filters.update(
                session,
                caller(),
                request.filter_id,
                optional(request, "name"),
                struct(request, "altdata"),
            )
        return success()

    @grpc_errors
    async def CreatePortalFilter(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            who = caller()
            if request.acting_user_id:
                actor = await session.get(User, request.acting_user_id)
                if actor is None:
                    raise ValueError(f"no user with id {request.acting_user_id}")
                acls = await identity.user_acls_of(session, actor.id)
                who = await identity.identity_of(session, actor, acls)
            filter_id = await filters.create(
                session,
                who,
                request.name,
                request.group_id,
                request.stream_id,
                struct(request, "altdata"),
            )
            return await filters.link(session, filter_id)

    @grpc_errors
    async def DeletePortalFilter(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            return await filters.delete(session, request.filter_id)

    @grpc_errors
    async def GetFilterLink(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            return await filters.link(session, request.filter_id)

    @grpc_errors
    async def ListInstruments(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            return success(await objects.instruments(session, request.name))

    # ---- candidates and sources ------------------------------------------------------------

    @grpc_errors
    async def PostPasses(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            posted = await passes.post_passes(session, list(request.alerts), self.broker_user_id)
        return posted.reply()

    @grpc_errors
    async def WithoutThumbnails(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            having = await objects.with_thumbnails(session, list(request.obj_ids))
        return portal_pb2.ObjIds(obj_ids=[o for o in request.obj_ids if o not in having])

    @grpc_errors
    async def HeadCandidate(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            if not await objects.is_candidate(session, caller(), request.obj_id):
                raise NotFound(f"no candidate {request.obj_id}")
        return success()

    @grpc_errors
    async def HeadSource(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            if not await objects.is_source(session, caller(), request.obj_id):
                raise NotFound(f"no source {request.obj_id}")
        return success()

    async def _obj_detail(
        self, session: AsyncSession, who: Identity, obj_id: str, request: Any
    ) -> dict[str, Any] | None:
        obj = await objects.visible_obj(session, who, obj_id)
        if obj is None:
            return None
        detail = objects.obj_json(obj)
        detail["annotations"] = await objects.annotations(session, who, obj_id)
        detail["is_source"] = await objects.is_source(session, who, obj_id)
        # Saved = an active Source; invitations only when asked for (SkyPortal's includeRequested).
        detail["saved_groups"] = await objects.source_groups(
            session, who, obj_id, objects.flag(request.includeRequested)
        )
        detail["classifications"] = await classifications.of_obj(session, who, obj_id)
        detail["thumbnails"] = await objects.thumbnails(session, obj_id)
        if objects.flag(request.includePhotometry):
            detail["photometry"] = await objects.photometry(session, who, obj_id, "both", "ab")
        if objects.flag(request.includeComments):
            detail["comments"] = await objects.comments(session, who, obj_id)
        return detail

    @grpc_errors
    async def GetCandidate(self, request, context):  # type: ignore[no-untyped-def]
        who = caller()
        async with self.tx() as session:
            if not await objects.is_candidate(session, who, request.obj_id):
                raise ValueError("Invalid ID")
            detail = await self._obj_detail(session, who, request.obj_id, request)
            assert detail is not None
            alerts = await objects.passing_alerts(session, who, request.obj_id)
            detail["last_detected_at"] = max((a["passed_at"] for a in alerts), default=None)
            if objects.flag(request.includeAlerts):
                detail["passing_alerts"] = alerts
            return success(detail)

    @grpc_errors
    async def GetSource(self, request, context):  # type: ignore[no-untyped-def]
        who = caller()
        async with self.tx() as session:
            detail = await self._obj_detail(session, who, request.obj_id, request)
            if detail is None:
                raise NotFound(f"Source {request.obj_id} not found")
            detail["groups"] = detail.pop("saved_groups")
            detail["followup_requests"] = await followup.of_obj(session, who, request.obj_id)
            if not objects.flag(request.includeThumbnails):
                detail.pop("thumbnails")
        # A page opened counts as a view for the dashboard (after the reads: it never fails).
        await dashboard.record_view(self.sessions, who, request.obj_id)
        return success(detail)

    async def _readable(self, session: AsyncSession, who: Identity, obj_id: str) -> None:
        if await objects.visible_obj(session, who, obj_id) is None:
            raise NotFound(f"Source {obj_id} not found")

    @grpc_errors
    async def GetSourceGroups(self, request, context):  # type: ignore[no-untyped-def]
        who = caller()
        async with self.tx() as session:
            await self._readable(session, who, request.obj_id)
            return success(await objects.source_groups(session, who, request.obj_id))

    @grpc_errors
    async def ListAnnotations(self, request, context):  # type: ignore[no-untyped-def]
        who = caller()
        async with self.tx() as session:
            await self._readable(session, who, request.obj_id)
            return success(await objects.annotations(session, who, request.obj_id))

    @grpc_errors
    async def ListComments(self, request, context):  # type: ignore[no-untyped-def]
        who = caller()
        async with self.tx() as session:
            await self._readable(session, who, request.obj_id)
            return success(await objects.comments(session, who, request.obj_id))

    @grpc_errors
    async def GetPhotometry(self, request, context):  # type: ignore[no-untyped-def]
        who = caller()
        async with self.tx() as session:
            await self._readable(session, who, request.obj_id)
            return success(
                await objects.photometry(
                    session, who, request.obj_id, request.format, request.magsys
                )
            )

    @grpc_errors
    async def GetThumbnailImage(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            return png(await objects.thumbnail_png(session, caller(), request.thumbnail_id))

    # ---- candidates: upload, delete, the scanning list ---------------------------------------

    @grpc_errors
    async def PostCandidates(self, request, context):  # type: ignore[no-untyped-def]
        try:
            body = json.loads(request.data or b"{}")
        except ValueError as exc:
            raise ValueError(f"the body is not valid JSON: {exc}") from None
        async with self.tx() as session:
            return success({"ids": await candidates.post(session, caller(), body)})

    @grpc_errors
    async def DeleteCandidate(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            await candidates.remove(session, caller(), request.obj_id, request.filter_id)
        return success()

    @grpc_errors
    async def ListCandidates(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            return success(await candidates.listing(session, caller(), request))

    @grpc_errors
    async def ListCandidateRows(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            return success(await candidates.candidate_rows(session, caller(), request))

    # ---- sources, source_groups, listings, candidate expiry (services/portal/sources.py,
    # listings.py, expiry.py) -------------------------------------------------------------

    @grpc_errors
    async def PostSource(self, request, context):  # type: ignore[no-untyped-def]
        new = sources.NewSource(
            id=request.id,
            ra=optional(request, "ra"),
            dec=optional(request, "dec"),
            redshift=optional(request, "redshift"),
            redshift_error=optional(request, "redshift_error"),
            altdata=struct(request, "altdata"),
            score=optional(request, "score"),
            origin=optional(request, "origin"),
            alias=list(request.alias),
            group_ids=list(request.group_ids),
            ignore_if_in_group_ids=struct(request, "ignore_if_in_group_ids"),
            saver_per_group_id=dict(request.saver_per_group_id),
        )
        async with self.tx() as session:
            return success(await sources.save(session, caller(), new))

    @grpc_errors
    async def ListSources(self, request, context):  # type: ignore[no-untyped-def]
        query = sources.parse_query(
            page_number=request.pageNumber,
            num_per_page=request.numPerPage,
            source_id=request.sourceID,
            rejected=request.rejectedSourceIDs,
            ra=request.ra,
            dec=request.dec,
            radius=request.radius,
            saved_before=request.savedBefore,
            saved_after=request.savedAfter,
            sort_by=request.sortBy,
            sort_order=request.sortOrder,
            group_ids=request.group_ids,
            include_thumbnails=objects.flag(request.includeThumbnails),
            include_comments=objects.flag(request.includeComments),
            remove_nested=objects.flag(request.removeNested),
            list_name=request.listName,
            include_requested=objects.flag(request.includeRequested),
        )
        async with self.tx() as session:
            return success(await sources.list_sources(session, caller(), query))

    @grpc_errors
    async def UpdateSource(self, request, context):  # type: ignore[no-untyped-def]
        changes = {
            key: getattr(request, key)
            for key in ("ra", "dec", "redshift", "redshift_error", "score", "origin")
            if request.HasField(key)
        }
        if request.HasField("altdata"):
            changes["altdata"] = struct(request, "altdata")
        if request.HasField("alias"):
            changes["alias"] = [str(a) for a in json_format.MessageToDict(request.alias)]
        async with self.tx() as session:
            await sources.update(session, caller(), request.obj_id, changes)
        return success()

    @grpc_errors
    async def DeleteSource(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            await sources.unsave(session, caller(), request.obj_id, request.group_id)
        return success()

    @grpc_errors
    async def PostSourceGroups(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            await sources.source_groups(
                session,
                caller(),
                request.objId,
                list(request.inviteGroupIds),
                list(request.unsaveGroupIds),
            )
        return success()

    @grpc_errors
    async def UpdateSourceGroup(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            await sources.answer(
                session,
                caller(),
                request.obj_id,
                request.groupID,
                optional(request, "active"),
                optional(request, "requested"),
            )
        return success()

    @grpc_errors
    async def PostListing(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            listing_id = await listings.add(
                session, caller(), request.obj_id, request.list_name, request.user_id
            )
        return success({"id": listing_id})

    @grpc_errors
    async def ListListings(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            return success(
                await listings.listings(session, caller(), request.user_id, request.listName)
            )

    @grpc_errors
    async def DeleteListing(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            await listings.remove(session, caller(), request.listing_id)
        return success()

    @grpc_errors
    async def ExpireCandidates(self, request, context):  # type: ignore[no-untyped-def]
        purged = await self.expiry.run(expiry.parse_now(request.now), request.dryRun)
        return success(purged.json())

    @grpc_errors
    async def BulkDeleteCandidates(self, request, context):  # type: ignore[no-untyped-def]
        if request.maxAgeMonths < 1:
            raise ValueError("maxAgeMonths must be a positive number of months")
        batch = request.batchSize or expiry.BATCH_SIZE
        if not 1 <= batch <= expiry.MAX_BATCH_SIZE:
            raise ValueError(f"batchSize must be between 1 and {expiry.MAX_BATCH_SIZE}")
        cutoff = expiry.months_before(expiry.parse_now(""), request.maxAgeMonths)
        purged = await expiry.purge(
            self.sessions,
            cutoff,
            dry_run=request.dryRun,
            batch_size=min(batch, expiry.BATCH_SIZE),
            limit=batch,
        )
        return success(purged.json())

    # ---- source data: annotations, comments, taxonomies, classifications ----------------

    def author_of(self, who: Identity) -> int:
        """The user a post is made as: the mesh's services post as the broker's account."""
        return self.broker_user_id if who.is_service else who.user_id

    @grpc_errors
    async def PostAnnotation(self, request, context):  # type: ignore[no-untyped-def]
        who = caller()
        async with self.tx() as session:
            annotation_id = await annotations.post(
                session, who, self.author_of(who), request.obj_id, struct(request, "body") or {}
            )
        return success({"annotation_id": annotation_id})

    @grpc_errors
    async def GetAnnotation(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            return success(
                await annotations.get(session, caller(), request.obj_id, request.annotation_id)
            )

    @grpc_errors
    async def UpdateAnnotation(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            await annotations.update(
                session,
                caller(),
                request.obj_id,
                request.annotation_id,
                struct(request, "body") or {},
            )
        return success()

    @grpc_errors
    async def DeleteAnnotation(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            await annotations.delete(session, caller(), request.obj_id, request.annotation_id)
        return success()

    @grpc_errors
    async def PostComment(self, request, context):  # type: ignore[no-untyped-def]
        who = caller()
        async with self.tx() as session:
            comment_id = await comments.post(
                session, who, self.author_of(who), request.obj_id, struct(request, "body") or {}
            )
        return success({"comment_id": comment_id})

    @grpc_errors
    async def GetComment(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            return success(
                await comments.get(session, caller(), request.obj_id, request.comment_id)
            )

    @grpc_errors
    async def UpdateComment(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            await comments.update(
                session, caller(), request.obj_id, request.comment_id, struct(request, "body") or {}
            )
        return success()

    @grpc_errors
    async def DeleteComment(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            await comments.delete(session, caller(), request.obj_id, request.comment_id)
        return success()

    @grpc_errors
    async def GetCommentAttachment(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            found = await comments.attachment(
                session, caller(), request.obj_id, request.comment_id, request.download
            )
        if isinstance(found, dict):
            return success(found)
        # Envoy passes response metadata on as headers: the browser saves the file by name.
        await context.send_initial_metadata(
            (("content-disposition", comments.disposition(found.name)),)
        )
        return attachment(found.data)

    @grpc_errors
    async def PostTaxonomy(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            taxonomy_id = await classifications.post_taxonomy(
                session, caller(), struct(request, "body") or {}
            )
        return success({"taxonomy_id": taxonomy_id})

    @grpc_errors
    async def ListTaxonomies(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            return success(await classifications.list_taxonomies(session, caller()))

    @grpc_errors
    async def GetTaxonomy(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            return success(
                await classifications.get_taxonomy(session, caller(), request.taxonomy_id)
            )

    @grpc_errors
    async def DeleteTaxonomy(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            await classifications.delete_taxonomy(session, caller(), request.taxonomy_id)
        return success()

    @grpc_errors
    async def PostClassification(self, request, context):  # type: ignore[no-untyped-def]
        who = caller()
        async with self.tx() as session:
            return success(
                await classifications.post_classifications(
                    session, who, self.author_of(who), struct(request, "body") or {}
                )
            )

    @grpc_errors
    async def ListClassifications(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            return success(
                await classifications.list_classifications(
                    session,
                    caller(),
                    request.startDate,
                    request.endDate,
                    objects.flag(request.includeTaxonomy),
                    request.numPerPage,
                    request.pageNumber,
                )
            )

    @grpc_errors
    async def GetClassification(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            return success(
                await classifications.get_classification(
                    session,
                    caller(),
                    request.classification_id,
                    objects.flag(request.includeTaxonomy),
                )
            )

    @grpc_errors
    async def UpdateClassification(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            await classifications.update_classification(
                session, caller(), request.classification_id, struct(request, "body") or {}
            )
        return success()

    @grpc_errors
    async def DeleteClassification(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            await classifications.delete_classification(
                session, caller(), request.classification_id
            )
        return success()

    @grpc_errors
    async def ListObjClassifications(self, request, context):  # type: ignore[no-untyped-def]
        who = caller()
        async with self.tx() as session:
            await self._readable(session, who, request.obj_id)
            return success(await classifications.of_obj(session, who, request.obj_id))

    # ---- photometry upload, instruments, spectra, follow-up (photometry_upload.py,
    # instruments.py, spectra.py, followup.py) -------------------------------------------

    async def _file(self, context: Any, found: photometry_upload.Export) -> Body:
        await context.send_initial_metadata(
            (("content-disposition", comments.disposition(found.filename)),)
        )
        return Body(content_type=found.content_type, data=found.data)

    @grpc_errors
    async def PostPhotometry(self, request, context):  # type: ignore[no-untyped-def]
        who = caller()
        async with self.tx() as session:
            return success(
                await photometry_upload.post(
                    session, who, self.author_of(who), struct(request, "body") or {}
                )
            )

    @grpc_errors
    async def PutPhotometry(self, request, context):  # type: ignore[no-untyped-def]
        who = caller()
        async with self.tx() as session:
            return success(
                await photometry_upload.put(
                    session,
                    who,
                    self.author_of(who),
                    struct(request, "body") or {},
                    objects.flag(request.duplicate_ignore_flux),
                    objects.flag(request.overwrite_flux),
                )
            )

    @grpc_errors
    async def GetPhotometryPoint(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            return success(
                await photometry_upload.get_point(
                    session, caller(), request.photometry_id, request.format, request.magsys
                )
            )

    @grpc_errors
    async def UpdatePhotometryPoint(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            await photometry_upload.patch_point(
                session, caller(), request.photometry_id, struct(request, "body") or {}
            )
        return success()

    @grpc_errors
    async def DeletePhotometryPoint(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            await photometry_upload.delete_point(session, caller(), request.photometry_id)
        return success()

    @grpc_errors
    async def DeletePhotometryUpload(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            count = await photometry_upload.delete_upload(session, caller(), request.upload_id)
        return success({"message": f"Deleted {count} photometry point(s)."})

    @grpc_errors
    async def ExportPhotometry(self, request, context):  # type: ignore[no-untyped-def]
        who = caller()
        async with self.tx() as session:
            await self._readable(session, who, request.obj_id)
            found = await photometry_upload.export(
                session, who, request.obj_id, request.format, request.magsys
            )
        return await self._file(context, found)

    @grpc_errors
    async def PostInstrument(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            return success({"id": await instruments.create(session, struct(request, "body") or {})})

    @grpc_errors
    async def GetInstrument(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            return success(await instruments.get(session, request.instrument_id))

    @grpc_errors
    async def PostSpectrum(self, request, context):  # type: ignore[no-untyped-def]
        who = caller()
        async with self.tx() as session:
            spectrum_id = await spectra.post(
                session, who, self.author_of(who), struct(request, "body") or {}
            )
        return success({"id": spectrum_id})

    @grpc_errors
    async def GetSpectrum(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            return success(
                await spectra.get(
                    session,
                    caller(),
                    request.spectrum_id,
                    objects.flag(request.includeOriginalFile),
                )
            )

    @grpc_errors
    async def UpdateSpectrum(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            await spectra.update(
                session, caller(), request.spectrum_id, struct(request, "body") or {}
            )
        return success()

    @grpc_errors
    async def DeleteSpectrum(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            await spectra.delete(session, caller(), request.spectrum_id)
        return success()

    @grpc_errors
    async def ListObjSpectra(self, request, context):  # type: ignore[no-untyped-def]
        who = caller()
        async with self.tx() as session:
            await self._readable(session, who, request.obj_id)
            return success(await spectra.of_obj(session, who, request.obj_id))

    @grpc_errors
    async def ParseSpectrumAscii(self, request, context):  # type: ignore[no-untyped-def]
        body = struct(request, "body") or {}
        return success(
            spectra.parse_ascii(
                body.get("ascii"),
                body.get("wave_column"),
                body.get("flux_column"),
                body.get("fluxerr_column"),
            )
        )

    @grpc_errors
    async def PostSpectrumAscii(self, request, context):  # type: ignore[no-untyped-def]
        who = caller()
        async with self.tx() as session:
            spectrum_id = await spectra.post_ascii(
                session, who, self.author_of(who), struct(request, "body") or {}
            )
        return success({"id": spectrum_id})

    @grpc_errors
    async def ExportSpectrum(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            found = await spectra.export(session, caller(), request.spectrum_id, request.format)
        return await self._file(context, found)

    @grpc_errors
    async def PostAllocation(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            allocation_id = await followup.post_allocation(
                session, caller(), struct(request, "body") or {}
            )
        return success({"id": allocation_id})

    @grpc_errors
    async def ListAllocations(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            return success(
                await followup.list_allocations(session, caller(), request.instrument_id)
            )

    @grpc_errors
    async def GetAllocation(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            return success(await followup.get_allocation(session, caller(), request.allocation_id))

    @grpc_errors
    async def UpdateAllocation(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            await followup.update_allocation(
                session, caller(), request.allocation_id, struct(request, "body") or {}
            )
        return success()

    @grpc_errors
    async def DeleteAllocation(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            await followup.delete_allocation(session, caller(), request.allocation_id)
        return success()

    @grpc_errors
    async def PostFollowupRequest(self, request, context):  # type: ignore[no-untyped-def]
        who = caller()
        async with self.tx() as session:
            return success(
                await followup.post_request(
                    session, who, self.author_of(who), struct(request, "body") or {}
                )
            )

    @grpc_errors
    async def ListFollowupRequests(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            return success(
                await followup.list_requests(
                    session,
                    caller(),
                    request.sourceID,
                    request.status,
                    request.pageNumber,
                    request.numPerPage,
                )
            )

    @grpc_errors
    async def GetFollowupRequest(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            return success(
                await followup.get_request(session, caller(), request.followup_request_id)
            )

    @grpc_errors
    async def UpdateFollowupRequest(self, request, context):  # type: ignore[no-untyped-def]
        who = caller()
        async with self.tx() as session:
            await followup.update_request(
                session,
                who,
                self.author_of(who),
                request.followup_request_id,
                struct(request, "body") or {},
            )
        return success()

    @grpc_errors
    async def DeleteFollowupRequest(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            await followup.delete_request(session, caller(), request.followup_request_id)
        return success()

    # ---- the dashboard: top and recent sources, the news feed, the profile's preferences ------

    @grpc_errors
    async def ListSourceViews(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            return success(
                await dashboard.source_views(
                    session, caller(), request.maxNumSources, request.sinceDaysAgo
                )
            )

    @grpc_errors
    async def ListRecentSources(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            return success(await dashboard.recent_sources(session, caller(), request.maxNumSources))

    @grpc_errors
    async def GetNewsFeed(self, request, context):  # type: ignore[no-untyped-def]
        async with self.tx() as session:
            return success(await dashboard.news_feed(session, caller(), request.numItems))

    @grpc_errors
    async def UpdateProfile(self, request, context):  # type: ignore[no-untyped-def]
        change = preferences.check_change(struct(request, "body"))
        async with self.tx() as session:
            await preferences.update_profile(session, caller(), change)
        return success()

    # ---- the OpenAPI document ---------------------------------------------------------------

    @grpc_errors
    async def GetOpenApi(self, request, context):  # type: ignore[no-untyped-def]
        return apidoc.reply()


def build(settings: Settings) -> Service:
    try:
        expiry.check_days(settings.candidate_expiry_days)
        expiry.check_interval(settings.candidate_expiry_interval_s)
    except ValueError as exc:
        raise SystemExit(f"portal: {exc}") from None
    servicer = PortalServicer(settings)

    async def close() -> None:
        await servicer.engine.dispose()

    return Service(
        name="portal",
        service_names=[SERVICE],
        register=lambda server: portal_pb2_grpc.add_PortalServiceServicer_to_server(
            servicer, server
        ),
        resolver=servicer.resolve,
        on_start=servicer.start,
        on_stop=close,
        background=[servicer.expiry.forever],
        ready=postgres_ready(settings.postgres_dsn),
    )
