"""Authentication shared by every service: JWTs (HS256) and a gRPC server interceptor.

Tokens follow Kowalski: claims ``{user_id, created_at}`` (plus a numeric ``exp``), accepted as
``Bearer <jwt>``, SkyPortal's ``token <jwt>``, or the bare ``<jwt>`` that penquins sends.
Services call each other with a service token signed by the same secret.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import jwt

ALGORITHM = "HS256"
TOKEN_TTL = timedelta(days=int(os.environ.get("SKYMESH_TOKEN_TTL_DAYS", "30")))
SERVICE_PREFIX = "service:"


class AuthError(Exception):
    """A request's credentials are missing or invalid; the message says which."""


@dataclass(frozen=True)
class Identity:
    user_id: str
    admin: bool

    @property
    def is_service(self) -> bool:
        return self.user_id.startswith(SERVICE_PREFIX)


def issue_token(secret: str, user_id: str, admin: bool = False) -> str:
    now = datetime.now(UTC)
    claims = {
        "user_id": user_id,
        "created_at": now.isoformat(),
        "exp": int((now + TOKEN_TTL).timestamp()),
        "admin": admin,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def service_token(secret: str, service: str) -> str:
    return issue_token(secret, f"{SERVICE_PREFIX}{service}", admin=True)


def token_from_header(value: str | None) -> str:
    if not value:
        raise AuthError("missing token: send 'Authorization: Bearer <token>' (POST /api/auth)")
    parts = value.strip().split()
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2 and parts[0].lower() in ("bearer", "token"):
        return parts[1]
    raise AuthError("token is invalid: expected 'Bearer <token>', 'token <token>' or '<token>'")


def verify_token(secret: str, token: str) -> Identity:
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp"]})
    except jwt.ExpiredSignatureError as exc:
        raise AuthError("token is invalid: it has expired, log in again") from exc
    except jwt.InvalidTokenError as exc:
        raise AuthError(f"token is invalid: {exc}") from exc
    user_id = claims.get("user_id")
    if not isinstance(user_id, str) or not user_id:
        raise AuthError("token is invalid: it names no user")
    return Identity(user_id=user_id, admin=bool(claims.get("admin")))


def hash_password(password: str, salt: bytes | None = None) -> str:
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, salt_hex, digest_hex = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    expected = hash_password(password, bytes.fromhex(salt_hex)).split("$")[2]
    return hmac.compare_digest(expected, digest_hex)


def _metadata(context: grpc.aio.ServicerContext | grpc.HandlerCallDetails) -> dict[str, str]:
    # A servicer context has a method, the interceptor's call details an attribute.
    raw = context.invocation_metadata
    if callable(raw):
        raw = raw()
    return {k: v for k, v in (raw or ()) if isinstance(v, str)}


def identity(context: grpc.aio.ServicerContext, secret: str) -> Identity:
    """The caller of an RPC that the interceptor already let through."""
    return verify_token(secret, token_from_header(_metadata(context).get("authorization")))


def _rejecting_handler(handler: grpc.RpcMethodHandler, message: str) -> grpc.RpcMethodHandler:
    async def abort(_request: Any, context: grpc.aio.ServicerContext) -> None:
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, message)

    if handler.request_streaming and handler.response_streaming:
        return grpc.stream_stream_rpc_method_handler(abort)
    if handler.request_streaming:
        return grpc.stream_unary_rpc_method_handler(abort)
    if handler.response_streaming:
        return grpc.unary_stream_rpc_method_handler(abort)
    return grpc.unary_unary_rpc_method_handler(abort)


class AuthInterceptor(grpc.aio.ServerInterceptor):
    """Rejects every RPC without a valid token, except the listed public methods."""

    # Health checks and reflection are for probes and tooling on the loopback.
    ALWAYS_PUBLIC = ("/grpc.health.v1.Health/", "/grpc.reflection.")

    def __init__(self, secret: str, public_methods: frozenset[str] = frozenset()) -> None:
        self.secret = secret
        self.public_methods = public_methods

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        method = handler_call_details.method
        handler = await continuation(handler_call_details)
        if (
            handler is None
            or method in self.public_methods
            or method.startswith(self.ALWAYS_PUBLIC)
        ):
            return handler
        try:
            header = _metadata(handler_call_details).get("authorization")
            verify_token(self.secret, token_from_header(header))
        except AuthError as exc:
            return _rejecting_handler(handler, str(exc))
        return handler
