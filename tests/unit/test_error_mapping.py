"""One mapping from exceptions to gRPC codes: outages are retryable, bad requests are not."""

from __future__ import annotations

import grpc
import pytest
import sqlalchemy.exc
from asyncpg.exceptions import CannotConnectNowError
from pymongo.errors import AutoReconnect, ExecutionTimeout, ServerSelectionTimeoutError

from services.filters.archive import ArchiveUnavailable
from services.ml.triton_client import TritonUnavailable
from skymesh.runtime.auth import AuthError
from skymesh.runtime.errors import POISON_CODES, Conflict, NotFound, status_of

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
