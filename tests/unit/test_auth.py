import time
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import grpc
import jwt
import pytest

from skymesh.archive.v1 import archive_pb2
from skymesh.auth.v1 import access_pb2
from skymesh.broker.v1 import broker_pb2
from skymesh.ml.v1 import ml_pb2
from skymesh.portal.v1 import portal_pb2
from skymesh.runtime import auth
from skymesh.runtime.auth import (
    ALGORITHM,
    SYSTEM_ADMIN,
    AuthError,
    AuthInterceptor,
    CachedResolver,
    Identity,
    access_rules,
    caller,
    check_password,
    hash_password,
    issue_token,
    service_token,
    token_from_header,
    verify_token,
)
from skymesh.xmatch.v1 import xmatch_pb2

SECRET = "unit-test-secret-of-at-least-32-bytes!"
ALICE = Identity(user_id=7, username="alice", acls=frozenset({"Upload data"}))


class Resolver:
    """A portal stand-in: answers ALICE and records what it was asked."""

    def __init__(self, who: Identity = ALICE) -> None:
        self.who = who
        self.asked: list[str] = []

    async def __call__(self, authorization: str) -> Identity:
        self.asked.append(authorization)
        return self.who


def test_token_round_trip_carries_kowalski_claims() -> None:
    token = issue_token(SECRET, "alice")
    claims = jwt.decode(token, SECRET, algorithms=[ALGORITHM])
    assert claims["user_id"] == "alice" and "created_at" in claims
    assert isinstance(claims["exp"], int)  # numeric, unlike Kowalski's string exp
    assert verify_token(SECRET, token) == "alice"


async def test_service_tokens_are_admin_services_without_asking_the_portal() -> None:
    resolver = Resolver()
    interceptor = AuthInterceptor(SECRET, {}, resolver)
    who = await interceptor.authenticate(f"Bearer {service_token(SECRET, 'broker')}")
    assert who.is_service and who.admin and who.username == "service:broker"
    assert who.programids("ZTF_alerts") is None
    assert resolver.asked == []


async def test_user_credentials_are_resolved_by_the_portal() -> None:
    resolver = Resolver()
    interceptor = AuthInterceptor(SECRET, {}, resolver)
    header = f"Bearer {issue_token(SECRET, 'alice')}"
    assert await interceptor.authenticate(header) == ALICE
    # A SkyPortal token is no JWT: only the portal knows it.
    assert await interceptor.authenticate("token 1b4e28ba-2fa1-11d2-883f-0016d3cca427") == ALICE
    assert resolver.asked == [header, "token 1b4e28ba-2fa1-11d2-883f-0016d3cca427"]
    # A JWT that is not ours is refused before the portal is asked.
    with pytest.raises(AuthError, match="Signature verification failed"):
        await interceptor.authenticate(issue_token("another-secret-of-at-least-32-bytes", "a"))
    with pytest.raises(AuthError, match="missing token"):
        await interceptor.authenticate(None)
    assert len(resolver.asked) == 2


@pytest.mark.parametrize("scheme", ["Bearer {}", "bearer {}", "token {}", "{}"])
def test_header_schemes(scheme: str) -> None:
    token = issue_token(SECRET, "bob")
    assert token_from_header(scheme.format(token)) == token


@pytest.mark.parametrize(
    ("header", "message"),
    [(None, "missing token"), ("", "missing token"), ("Basic a b", "token is invalid")],
)
def test_bad_headers(header: str | None, message: str) -> None:
    with pytest.raises(AuthError, match=message):
        token_from_header(header)


def test_wrong_secret_expired_and_userless_tokens_are_invalid() -> None:
    with pytest.raises(AuthError, match="Signature verification failed"):
        verify_token(SECRET, issue_token("another-secret-of-at-least-32-bytes", "alice"))
    expired = jwt.encode({"user_id": "a", "exp": int(time.time()) - 10}, SECRET, ALGORITHM)
    with pytest.raises(AuthError, match="expired"):
        verify_token(SECRET, expired)
    userless = jwt.encode({"exp": int(time.time()) + 60}, SECRET, ALGORITHM)
    with pytest.raises(AuthError, match="names no user"):
        verify_token(SECRET, userless)
    with pytest.raises(AuthError, match="token is invalid"):
        verify_token(SECRET, "garbage")


def test_password_hashes_verify_and_are_salted() -> None:
    stored = hash_password("correct horse")
    assert check_password("correct horse", stored)
    assert not check_password("wrong horse", stored)
    assert stored != hash_password("correct horse")
    assert not check_password("x", "not-a-hash")


# ---- the resolver's cache ---------------------------------------------------------------------


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """The auth module's monotonic clock, moved by hand (only the module's: the event loop
    keeps the real one)."""
    now = SimpleNamespace(value=1000.0)
    monkeypatch.setattr(auth, "time", SimpleNamespace(monotonic=lambda: now.value))
    return now


async def test_cached_resolver_serves_within_ttl_and_asks_again_after(
    clock: SimpleNamespace,
) -> None:
    resolver = Resolver()
    cached = CachedResolver(resolver, ttl_s=5.0)
    assert await cached("token a") == ALICE
    clock.value += 4.9
    assert await cached("token a") == ALICE
    assert resolver.asked == ["token a"]
    await cached("token b")  # another credential is its own entry
    assert resolver.asked == ["token a", "token b"]
    clock.value += 0.2  # 5.1 s after the first answer: expired
    assert await cached("token a") == ALICE
    assert resolver.asked == ["token a", "token b", "token a"]


async def test_cached_resolver_does_not_cache_refusals(clock: SimpleNamespace) -> None:
    calls = []

    async def refuse(authorization: str) -> Identity:
        calls.append(authorization)
        raise AuthError("token is invalid")

    cached = CachedResolver(refuse, ttl_s=5.0)
    for _ in range(2):
        with pytest.raises(AuthError):
            await cached("token revoked")
    assert calls == ["token revoked", "token revoked"]


async def test_cached_resolver_stays_bounded(clock: SimpleNamespace) -> None:
    resolver = Resolver()
    cached = CachedResolver(resolver, ttl_s=5.0, max_entries=3)
    for name in "abcde":
        await cached(f"token {name}")
    assert len(cached._cache) <= 3
    assert await cached("token e") == ALICE and resolver.asked[-1] == "token e"


# ---- access declared in the protos ------------------------------------------------------------


def service_name(module: Any, service: str) -> str:
    return module.DESCRIPTOR.services_by_name[service].full_name


def test_access_rules_are_read_from_the_compiled_protos() -> None:
    portal = service_name(portal_pb2, "PortalService")
    rules = access_rules([portal])
    assert rules[f"/{portal}/CreateUser"].acl == SYSTEM_ADMIN
    assert rules[f"/{portal}/Auth"].public
    assert rules[f"/{portal}/PostPasses"].internal
    assert f"/{portal}/Ping" not in rules  # undeclared: any authenticated caller


def test_the_mesh_services_declare_their_access() -> None:
    archive = service_name(archive_pb2, "ArchiveService")
    xmatch = service_name(xmatch_pb2, "XMatchService")
    ml = service_name(ml_pb2, "MLService")
    broker = service_name(broker_pb2, "BrokerService")
    rules = access_rules([archive, xmatch, ml, broker])
    declared = {
        method: ("internal" if rule.internal else "public" if rule.public else rule.acl)
        for method, rule in rules.items()
    }
    assert declared == {
        f"/{archive}/IngestAlerts": "internal",
        f"/{archive}/IngestCatalog": SYSTEM_ADMIN,
        f"/{ml}/Score": "internal",
        f"/{broker}/Pause": SYSTEM_ADMIN,
        f"/{broker}/Resume": SYSTEM_ADMIN,
        f"/{broker}/ListDeadLetters": SYSTEM_ADMIN,
        f"/{broker}/Replay": SYSTEM_ADMIN,
    }


# ---- the interceptor enforces them ------------------------------------------------------------


@dataclass
class CallDetails:
    method: str
    invocation_metadata: tuple[tuple[str, str], ...]


class Aborted(Exception):
    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(details)
        self.code = code


class Context:
    async def abort(self, code: grpc.StatusCode, details: str) -> None:
        raise Aborted(code, details)


RULES = {
    "/test.Service/Login": access_pb2.Access(public=True),
    "/test.Service/Batch": access_pb2.Access(internal=True),
    "/test.Service/Admin": access_pb2.Access(acl=SYSTEM_ADMIN),
    "/test.Service/Upload": access_pb2.Access(acl="Upload data"),
}


async def call(method: str, header: str | None) -> Any:
    """Calls ``method`` through the interceptor; the handler answers who called."""

    async def who_calls(_request: Any, _context: Any) -> Any:
        try:
            return caller()
        except AuthError:
            return None

    async def continuation(_details: Any) -> grpc.RpcMethodHandler:
        return grpc.unary_unary_rpc_method_handler(who_calls)

    interceptor = AuthInterceptor(SECRET, RULES, Resolver())
    metadata = (("authorization", header),) if header else ()
    handler = await interceptor.intercept_service(continuation, CallDetails(method, metadata))
    return await handler.unary_unary(None, Context())


async def test_the_interceptor_enforces_the_declared_access() -> None:
    user = f"Bearer {issue_token(SECRET, 'alice')}"
    broker = f"Bearer {service_token(SECRET, 'broker')}"
    assert await call("/test.Service/Login", None) is None  # public: nobody needed
    assert await call("/test.Service/Other", user) == ALICE  # undeclared: any user
    assert await call("/test.Service/Upload", user) == ALICE
    assert (await call("/test.Service/Batch", broker)).is_service
    assert (await call("/test.Service/Admin", broker)).is_service
    refusals = [
        ("/test.Service/Other", None, grpc.StatusCode.UNAUTHENTICATED, "missing token"),
        ("/test.Service/Batch", user, grpc.StatusCode.PERMISSION_DENIED, "mesh's services"),
        ("/test.Service/Admin", user, grpc.StatusCode.UNAUTHENTICATED, "'System admin'"),
    ]
    for method, header, code, message in refusals:
        with pytest.raises(Aborted, match=message) as aborted:
            await call(method, header)
        assert aborted.value.code == code
