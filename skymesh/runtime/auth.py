"""Authentication and access control shared by every service: one gRPC server interceptor.

Credentials, as the clients send them in ``Authorization``:
- Kowalski JWTs (HS256, claims ``{user_id, created_at, exp}``) from ``POST /api/auth``, as
  ``Bearer <jwt>``, SkyPortal's ``token <jwt>``, or the bare ``<jwt>`` that penquins sends;
- SkyPortal API tokens, ``token <uuid>``, each with its own ACLs;
- service tokens: JWTs for ``service:<name>``, signed with the mesh's secret.

Who may call a method is declared once, in its ``.proto`` (``skymesh.auth.v1.access``), and
enforced here for every service. Who a credential is (its user, ACLs, groups and streams) is
the portal's knowledge: the portal resolves credentials from its database, every other
service asks the portal's ``Authorize`` through :class:`PortalResolver`, with a short cache.
"""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import os
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import jwt
from google.protobuf import descriptor_pool

from skymesh.auth.v1 import access_pb2

ALGORITHM = "HS256"
TOKEN_TTL = timedelta(days=int(os.environ.get("SKYMESH_TOKEN_TTL_DAYS", "30")))
SERVICE_PREFIX = "service:"
SYSTEM_ADMIN = "System admin"
# SkyPortal answers a missing ACL with this 401.
MISSING_ACL = "HTTP 401: Unauthorized"


class AuthError(Exception):
    """A request's credentials are missing or invalid; the message says which (HTTP 401)."""


@dataclass(frozen=True)
class Identity:
    """Who calls, and what they may do and read."""

    user_id: int
    username: str
    acls: frozenset[str] = frozenset()
    token_id: str = ""
    # Alert collection -> programids the caller's streams may read. Every collection that
    # some stream governs is present (with an empty set when the caller has none of them).
    streams: Mapping[str, frozenset[int]] = field(default_factory=dict)
    group_ids: frozenset[int] = frozenset()
    admin_group_ids: frozenset[int] = frozenset()
    service: bool = False

    @property
    def admin(self) -> bool:
        return SYSTEM_ADMIN in self.acls

    @property
    def is_service(self) -> bool:
        return self.service

    def has(self, acl: str) -> bool:
        return self.admin or acl in self.acls

    def programids(self, collection: str) -> frozenset[int] | None:
        """The programids of ``collection`` the caller may read; None means all of them."""
        if self.admin or collection not in self.streams:
            return None
        return self.streams[collection]


def service_identity(name: str) -> Identity:
    return Identity(user_id=0, username=name, acls=frozenset({SYSTEM_ADMIN}), service=True)


def issue_token(secret: str, user_id: str, admin: bool = False) -> str:
    """A Kowalski JWT for a username (or ``service:<name>``)."""
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


def is_jwt(token: str) -> bool:
    return token.count(".") == 2


def verify_token(secret: str, token: str) -> str:
    """The ``user_id`` claim of a valid JWT signed with ``secret``."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], options={"require": ["exp"]})
    except jwt.ExpiredSignatureError as exc:
        raise AuthError("token is invalid: it has expired, log in again") from exc
    except jwt.InvalidTokenError as exc:
        raise AuthError(f"token is invalid: {exc}") from exc
    user_id = claims.get("user_id")
    if not isinstance(user_id, str) or not user_id:
        raise AuthError("token is invalid: it names no user")
    return user_id


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


# ---- who calls ------------------------------------------------------------------------------

_caller: contextvars.ContextVar[Identity] = contextvars.ContextVar("skymesh_caller")


def caller() -> Identity:
    """The caller of the RPC being served (set by :class:`AuthInterceptor`)."""
    try:
        return _caller.get()
    except LookupError:
        raise AuthError("missing token") from None


# A resolver turns an Authorization header (a user's JWT or a SkyPortal token) into who it is.
Resolver = Callable[[str], Awaitable[Identity]]


class CachedResolver:
    """A resolver with a short cache: a revoked token stops working within ``ttl_s``."""

    def __init__(self, resolve: Resolver, ttl_s: float = 5.0, max_entries: int = 10_000) -> None:
        self.resolve = resolve
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._cache: dict[str, tuple[float, Identity]] = {}

    async def __call__(self, authorization: str) -> Identity:
        now = time.monotonic()
        hit = self._cache.get(authorization)
        if hit is not None and hit[0] > now:
            return hit[1]
        who = await self.resolve(authorization)
        if len(self._cache) >= self.max_entries:
            self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
            if len(self._cache) >= self.max_entries:
                self._cache.clear()
        self._cache[authorization] = (now + self.ttl_s, who)
        return who


def access_rules(service_names: Iterable[str]) -> dict[str, access_pb2.Access]:
    """``/package.Service/Method`` -> its declared access, read from the compiled protos."""
    pool = descriptor_pool.Default()
    rules = {}
    for name in service_names:
        for method in pool.FindServiceByName(name).methods:
            options = method.GetOptions()
            if options.HasExtension(access_pb2.access):
                rules[f"/{name}/{method.name}"] = options.Extensions[access_pb2.access]
    return rules


def _metadata(details: grpc.HandlerCallDetails) -> dict[str, str]:
    return {k: v for k, v in (details.invocation_metadata or ()) if isinstance(v, str)}


def handler_with(
    handler: grpc.RpcMethodHandler, behaviour: Callable[..., Any]
) -> grpc.RpcMethodHandler:
    """A handler of the same kind and serialisers as ``handler`` that runs ``behaviour``."""
    kinds = {
        (False, False): grpc.unary_unary_rpc_method_handler,
        (True, False): grpc.stream_unary_rpc_method_handler,
        (False, True): grpc.unary_stream_rpc_method_handler,
        (True, True): grpc.stream_stream_rpc_method_handler,
    }
    return kinds[(handler.request_streaming, handler.response_streaming)](
        behaviour,
        request_deserializer=handler.request_deserializer,
        response_serializer=handler.response_serializer,
    )


def _rejecting(
    handler: grpc.RpcMethodHandler, code: grpc.StatusCode, message: str
) -> grpc.RpcMethodHandler:
    async def abort(_request: Any, context: grpc.aio.ServicerContext) -> None:
        await context.abort(code, message)

    return handler_with(handler, abort)


def _as(handler: grpc.RpcMethodHandler, who: Identity) -> grpc.RpcMethodHandler:
    """The handler, run with ``who`` as :func:`caller`."""
    inner = (
        handler.unary_unary or handler.stream_unary or handler.unary_stream or handler.stream_stream
    )
    if handler.response_streaming:

        async def streaming(request: Any, context: grpc.aio.ServicerContext) -> Any:
            _caller.set(who)
            async for reply in inner(request, context):
                yield reply

        return handler_with(handler, streaming)

    async def unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
        _caller.set(who)
        return await inner(request, context)

    return handler_with(handler, unary)


class AuthInterceptor(grpc.aio.ServerInterceptor):
    """Authenticates every RPC and enforces the access its ``.proto`` declares."""

    # Health checks and reflection are for probes and tooling on the loopback.
    ALWAYS_PUBLIC = ("/grpc.health.v1.Health/", "/grpc.reflection.")

    def __init__(
        self, secret: str, rules: Mapping[str, access_pb2.Access], resolve: Resolver
    ) -> None:
        self.secret = secret
        self.rules = rules
        self.resolve = resolve

    async def authenticate(self, header: str | None) -> Identity:
        token = token_from_header(header)
        if is_jwt(token):
            user = verify_token(self.secret, token)
            if user.startswith(SERVICE_PREFIX):
                return service_identity(user)
        return await self.resolve(header or "")

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        method = handler_call_details.method
        handler = await continuation(handler_call_details)
        if handler is None or method.startswith(self.ALWAYS_PUBLIC):
            return handler
        rule = self.rules.get(method, access_pb2.Access())
        if rule.public:
            return handler
        try:
            who = await self.authenticate(_metadata(handler_call_details).get("authorization"))
        except AuthError as exc:
            return _rejecting(handler, grpc.StatusCode.UNAUTHENTICATED, str(exc))
        except grpc.aio.AioRpcError as exc:
            # The portal could not say who this is: an outage, not a refusal.
            return _rejecting(
                handler, grpc.StatusCode.UNAVAILABLE, f"cannot check credentials: {exc.details()}"
            )
        if rule.internal and not who.is_service:
            return _rejecting(
                handler, grpc.StatusCode.PERMISSION_DENIED, "only the mesh's services call this"
            )
        if rule.acl and not who.has(rule.acl):
            return _rejecting(
                handler,
                grpc.StatusCode.UNAUTHENTICATED,
                f"{MISSING_ACL}: this needs the ACL '{rule.acl}'",
            )
        return _as(handler, who)
