"""Channels from one service to another: authenticated with a service token, traced."""

from __future__ import annotations

import grpc

from skymesh.config import Settings
from skymesh.runtime.auth import service_token
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
        options=server_options(),
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
