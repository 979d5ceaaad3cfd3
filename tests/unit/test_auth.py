import time

import jwt
import pytest

from skymesh.runtime.auth import (
    ALGORITHM,
    AuthError,
    check_password,
    hash_password,
    issue_token,
    service_token,
    token_from_header,
    verify_token,
)

SECRET = "unit-test-secret-of-at-least-32-bytes!"


def test_token_round_trip_carries_kowalski_claims() -> None:
    token = issue_token(SECRET, "alice")
    claims = jwt.decode(token, SECRET, algorithms=[ALGORITHM])
    assert claims["user_id"] == "alice" and "created_at" in claims
    assert isinstance(claims["exp"], int)  # numeric, unlike Kowalski's string exp
    identity = verify_token(SECRET, token)
    assert identity.user_id == "alice" and not identity.admin and not identity.is_service


def test_service_tokens_are_admin_services() -> None:
    identity = verify_token(SECRET, service_token(SECRET, "broker"))
    assert identity.is_service and identity.admin


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
