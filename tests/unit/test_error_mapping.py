"""One mapping from exceptions to gRPC codes: outages are retryable, bad requests are not."""

from __future__ import annotations

import grpc
import pytest
import sqlalchemy.exc
from asyncpg.exceptions import CannotConnectNowError, CharacterNotInRepertoireError, DataError
from pymongo.errors import AutoReconnect, ExecutionTimeout, ServerSelectionTimeoutError

from services.filters.archive import ArchiveUnavailable
from services.ml.triton_client import TritonUnavailable
from skymesh.runtime.auth import AuthError
from skymesh.runtime.errors import POISON_CODES, Conflict, NotFound, message_of, status_of

UNAVAILABLE = grpc.StatusCode.UNAVAILABLE


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (AutoReconnect("connection closed"), UNAVAILABLE),
        (ServerSelectionTimeoutError("no servers"), UNAVAILABLE),
        (ExecutionTimeout("operation exceeded time limit"), grpc.StatusCode.DEADLINE_EXCEEDED),
        (CannotConnectNowError("the database system is starting up"), UNAVAILABLE),
        (sqlalchemy.exc.OperationalError("SELECT 1", {}, OSError("refused")), UNAVAILABLE),
        (sqlalchemy.exc.InterfaceError("SELECT 1", {}, OSError("closed")), UNAVAILABLE),
        (TritonUnavailable("triton: inference of model 'braai' failed"), UNAVAILABLE),
        (ArchiveUnavailable("archive query failed: UNAVAILABLE"), UNAVAILABLE),
        (ConnectionRefusedError(111, "Connect call failed"), UNAVAILABLE),
        (TimeoutError(), grpc.StatusCode.DEADLINE_EXCEEDED),
        (AuthError("bad token"), grpc.StatusCode.UNAUTHENTICATED),
        (Conflict("revision moved"), grpc.StatusCode.ABORTED),
        (NotFound("no such filter"), grpc.StatusCode.NOT_FOUND),
        (ValueError("filter_id must be a positive integer"), grpc.StatusCode.INVALID_ARGUMENT),
        (RuntimeError("a bug"), None),  # INTERNAL, logged with its traceback
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else str(value),
)
def test_each_exception_has_its_status(exc: BaseException, code: grpc.StatusCode | None) -> None:
    assert status_of(exc) == code


def test_only_a_refused_request_is_poison() -> None:
    outages = {UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.INTERNAL}
    assert not outages & POISON_CODES
    assert grpc.StatusCode.INVALID_ARGUMENT in POISON_CODES


def _db_error(cause: BaseException) -> sqlalchemy.exc.DBAPIError:
    """A DB error as SQLAlchemy's asyncpg dialect raises it: asyncpg's error is the cause."""
    try:
        try:
            raise cause
        except BaseException as exc:
            raise RuntimeError("sqlalchemy.dialects.postgresql.asyncpg.Error") from exc
    except RuntimeError as adapted:
        error = sqlalchemy.exc.DBAPIError("SELECT groups.id FROM groups WHERE id = $1", {}, adapted)
        error.__cause__ = adapted
        return error


def test_a_value_the_database_refuses_is_a_bad_request_not_an_internal_error() -> None:
    # Found by the fuzzer (tests/integration/test_openapi_fuzz.py): ids beyond 32 bits and NUL
    # characters in text answered 500.
    too_big = _db_error(
        DataError(
            "invalid input for query argument $1: 9223372036854775806 (value out of int32 range)"
        )
    )
    assert status_of(too_big) == grpc.StatusCode.INVALID_ARGUMENT
    assert message_of(too_big) == "invalid value 9223372036854775806: value out of int32 range"
    nul = _db_error(
        CharacterNotInRepertoireError('invalid byte sequence for encoding "UTF8": 0x00')
    )
    assert status_of(nul) == grpc.StatusCode.INVALID_ARGUMENT
    assert message_of(nul) == 'invalid value: invalid byte sequence for encoding "UTF8": 0x00'
    # Anything else the database says is still the portal's problem (or an outage).
    assert status_of(_db_error(RuntimeError("a bug"))) is None
