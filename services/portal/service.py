"""The portal's gRPC API. This slice serves login, ping and user management."""

from __future__ import annotations

import grpc
from google.protobuf import struct_pb2
from pymongo import AsyncMongoClient

from services.portal.users import UserStore
from skymesh.config import Settings
from skymesh.portal.v1 import portal_pb2, portal_pb2_grpc
from skymesh.runtime.auth import AuthError, identity, issue_token
from skymesh.runtime.errors import Forbidden, grpc_errors
from skymesh.runtime.server import Service

SERVICE = portal_pb2.DESCRIPTOR.services_by_name["PortalService"].full_name


def envelope(message: str, data: struct_pb2.Value | None = None) -> portal_pb2.Envelope:
    return portal_pb2.Envelope(status="success", message=message, data=data)


class PortalServicer(portal_pb2_grpc.PortalServiceServicer):
    def __init__(self, settings: Settings, client: AsyncMongoClient) -> None:
        self.settings = settings
        self.users = UserStore(client[settings.db_name])

    def _require_admin(self, context: grpc.aio.ServicerContext) -> None:
        if not identity(context, self.settings.jwt_secret).admin:
            raise Forbidden("only admins manage users")

    @grpc_errors
    async def Auth(
        self, request: portal_pb2.AuthRequest, context: grpc.aio.ServicerContext
    ) -> portal_pb2.AuthResponse:
        if not request.username or not request.password:
            raise ValueError("username and password are required")
        user = await self.users.authenticate(request.username, request.password)
        if user is None:
            raise AuthError("Unauthorized: wrong username or password")
        token = issue_token(self.settings.jwt_secret, user["_id"], admin=bool(user.get("admin")))
        return portal_pb2.AuthResponse(status="success", token=token)

    @grpc_errors
    async def Ping(
        self, request: portal_pb2.PingRequest, context: grpc.aio.ServicerContext
    ) -> portal_pb2.Envelope:
        return envelope("greetings from skymesh!")

    @grpc_errors
    async def CreateUser(
        self, request: portal_pb2.CreateUserRequest, context: grpc.aio.ServicerContext
    ) -> portal_pb2.Envelope:
        self._require_admin(context)
        await self.users.create(request.username, request.password, request.email, request.admin)
        return envelope(f"added user {request.username}")

    @grpc_errors
    async def UpdateUser(
        self, request: portal_pb2.UpdateUserRequest, context: grpc.aio.ServicerContext
    ) -> portal_pb2.Envelope:
        self._require_admin(context)
        await self.users.update(request.username, request.password, request.email)
        return envelope(f"updated user {request.username}")

    @grpc_errors
    async def DeleteUser(
        self, request: portal_pb2.DeleteUserRequest, context: grpc.aio.ServicerContext
    ) -> portal_pb2.Envelope:
        self._require_admin(context)
        if request.username == self.settings.admin_user:
            raise ValueError("the configured admin cannot be deleted")
        await self.users.delete(request.username)
        return envelope(f"removed user {request.username}")


def build(settings: Settings) -> Service:
    client: AsyncMongoClient = AsyncMongoClient(settings.mongo_uri, tz_aware=True)
    servicer = PortalServicer(settings, client)

    async def start() -> None:
        await servicer.users.ensure_admin(settings.admin_user, settings.admin_password)

    async def close() -> None:
        await client.close()

    return Service(
        name="portal",
        service_names=[SERVICE],
        register=lambda server: portal_pb2_grpc.add_PortalServiceServicer_to_server(
            servicer, server
        ),
        public_methods=frozenset({f"/{SERVICE}/Auth"}),
        on_start=start,
        on_stop=close,
    )
