"""Channels from one service to another: authenticated with a service token, traced."""

from __future__ import annotations

import grpc

from skymesh.config import Settings
from skymesh.portal.v1 import portal_pb2, portal_pb2_grpc
from skymesh.runtime.auth import AuthError, Identity, service_token
from skymesh.runtime.server import server_options


def token_metadata(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


def service_channel(settings: Settings, target: str, caller: str) -> grpc.aio.Channel:
    """A loopback channel to ``target`` (a port name) carrying ``caller``'s token.

    gRPC call credentials need a TLS channel; on the loopback the token travels as
    per-call metadata through an interceptor instead.
    """
    token = service_token(settings.jwt_secret, caller)
    return grpc.aio.insecure_channel(
        settings.address(target),
        # Every address the name resolves to (one on the loopback; each ready replica behind
        # a headless Kubernetes Service), not only the first.
        options=[*server_options(), ("grpc.lb_policy_name", "round_robin")],
        # grpc.aio files an interceptor under the first call type it supports, so each call
        # type gets its own instance.
        interceptors=[
            _UnaryMetadataInterceptor(token_metadata(token)),
            _StreamUnaryMetadataInterceptor(token_metadata(token)),
        ],
    )


class _MetadataInterceptor:
    def __init__(self, metadata: tuple[tuple[str, str], ...]) -> None:
        self.metadata = metadata

    def _with_metadata(self, details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        metadata = grpc.aio.Metadata(*(details.metadata or ()), *self.metadata)
        return details._replace(metadata=metadata)


class _UnaryMetadataInterceptor(_MetadataInterceptor, grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(self, continuation, client_call_details, request):  # type: ignore[no-untyped-def]
        return await continuation(self._with_metadata(client_call_details), request)


class _StreamUnaryMetadataInterceptor(_MetadataInterceptor, grpc.aio.StreamUnaryClientInterceptor):
    async def intercept_stream_unary(self, continuation, client_call_details, request_iterator):  # type: ignore[no-untyped-def]
        return await continuation(self._with_metadata(client_call_details), request_iterator)


def identity_from_proto(message: portal_pb2.Identity) -> Identity:
    return Identity(
        user_id=message.user_id,
        username=message.username,
        acls=frozenset(message.acls),
        token_id=message.token_id,
        streams={name: frozenset(ids.programids) for name, ids in message.streams.items()},
        group_ids=frozenset(message.group_ids),
        admin_group_ids=frozenset(message.admin_group_ids),
    )


def identity_to_proto(who: Identity) -> portal_pb2.Identity:
    return portal_pb2.Identity(
        user_id=who.user_id,
        username=who.username,
        acls=sorted(who.acls),
        token_id=who.token_id,
        streams={
            name: portal_pb2.ProgramIds(programids=sorted(ids)) for name, ids in who.streams.items()
        },
        group_ids=sorted(who.group_ids),
        admin_group_ids=sorted(who.admin_group_ids),
    )


class PortalResolver:
    """Asks the portal who a credential is (every service but the portal itself)."""

    def __init__(self, settings: Settings, caller: str) -> None:
        self.settings = settings
        self.caller = caller
        self._stub: portal_pb2_grpc.PortalServiceStub | None = None

    async def __call__(self, authorization: str) -> Identity:
        if self._stub is None:  # made lazily: channels bind to the running loop
            channel = service_channel(self.settings, "portal", caller=self.caller)
            self._stub = portal_pb2_grpc.PortalServiceStub(channel)
        try:
            reply = await self._stub.Authorize(
                portal_pb2.AuthorizeRequest(authorization=authorization), timeout=10
            )
        except grpc.aio.AioRpcError as exc:
            if exc.code() in (
                grpc.StatusCode.UNAUTHENTICATED,
                grpc.StatusCode.PERMISSION_DENIED,
                grpc.StatusCode.INVALID_ARGUMENT,
            ):
                raise AuthError(exc.details() or "token is invalid") from exc
            raise
        return identity_from_proto(reply)
