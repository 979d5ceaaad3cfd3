"""The OpenAPI document as a client sees it: the gateway serves it (publicly) at
/api/openapi.json, and a schema-driven fuzzer (schemathesis) that reads it and calls every
portal route, as the admin, gets no 5xx.

This module runs a small mesh of its own (PostgreSQL, the database for the filters, the
portal, the filters service and Envoy), since the fuzzer writes and deletes at random. It
seeds one of each thing through REST (stream, group, filter, candidate, source, annotation,
comment, classification, listing) and gives the fuzzer their ids as the examples of the
parameters of those names, so that its requests reach real rows as well as missing ones.
The run is bounded: a fixed seed, a few examples per operation, a time budget, loopback only.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from skymesh.config import Settings
from skymesh.infra import stack
from skymesh.infra.gateway import OPENAPI_DOCUMENT
from tests.conftest import mesh_settings
from tests.portal import admin_client, data, group, portal_filter, stream

pytestmark = pytest.mark.integration

ADMIN_PASSWORD = "openapi-test-admin"
COMPONENTS = ("database", "postgres", "portal", "filters", "gateway")
OBJ_ID = "ZTF26fuzzaaa"
CANDID = 3127561445515015011
# The fuzzer's bounds: examples per operation, seconds for the whole run, and the seed.
MAX_EXAMPLES = 5
MAX_TIME_S = 100
SEED = 20261203
CHECKS = ("not_a_server_error", "content_type_conformance", "response_schema_conformance")


@dataclass
class Fuzzed:
    settings: Settings
    http: httpx.Client
    examples: dict[str, Any]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.ports.gateway}"


def seed(http: httpx.Client) -> dict[str, Any]:
    """One of each thing, made as a user would; parameter name -> an id that exists."""
    stream_id = stream(http, "fuzz", "ZTF_alerts", [1, 2])
    group_id = group(http, "fuzz", [stream_id])
    filter_id = portal_filter(http, "fuzz", group_id, stream_id)
    body = {
        "id": OBJ_ID,
        "ra": 10.5,
        "dec": -20.25,
        "filter_ids": [filter_id],
        "passed_at": "2026-03-01T00:00:00",
        "passing_alert_id": CANDID,
    }
    data(http.post("/api/candidates", content=json.dumps(body)))
    data(http.post("/api/sources", json={"id": OBJ_ID, "group_ids": [group_id]}))
    annotation = {"origin": "fuzz", "data": {"score": 0.5}, "group_ids": [group_id]}
    annotation_id = data(http.post(f"/api/sources/{OBJ_ID}/annotations", json=annotation))[
        "annotation_id"
    ]
    comment = {"text": "fuzz", "attachment": {"name": "a.txt", "body": "ZnV6eg=="}}
    comment_id = data(http.post(f"/api/sources/{OBJ_ID}/comments", json=comment))["comment_id"]
    taxonomy = data(http.get("/api/taxonomy"))[0]
    classification = {
        "obj_id": OBJ_ID,
        "classification": "Ia",
        "taxonomy_id": taxonomy["id"],
        "probability": 0.9,
    }
    classification_id = data(http.post("/api/classification", json=classification))[
        "classification_id"
    ]
    listing_id = data(http.post("/api/listing", json={"obj_id": OBJ_ID, "list_name": "favorites"}))[
        "id"
    ]
    profile = data(http.get("/api/internal/profile"))
    token_id = data(http.post("/api/internal/tokens", json={"name": "fuzz", "acls": []}))[
        "token_id"
    ]
    thumbnails = data(http.get(f"/api/candidates/{OBJ_ID}"))["thumbnails"]
    examples: dict[str, Any] = {
        "obj_id": OBJ_ID,
        "stream_id": stream_id,
        "group_id": group_id,
        "groupID": group_id,
        "filter_id": filter_id,
        "annotation_id": annotation_id,
        "comment_id": comment_id,
        "taxonomy_id": taxonomy["id"],
        "classification_id": classification_id,
        "listing_id": listing_id,
        "user_id": profile["id"],
        "token_id": token_id,
        "username": "fuzz-nobody",
    }
    if thumbnails:
        examples["thumbnail_id"] = thumbnails[0]["id"]
    return examples


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzzed]:
    settings = mesh_settings(tmp_path_factory.mktemp("openapi-run"), admin_password=ADMIN_PASSWORD)
    supervisor = stack.up(settings, only=COMPONENTS, in_memory_db=True, report=lambda _: None)
    try:
        http = admin_client(settings)
        yield Fuzzed(settings, http, seed(http))
        http.close()
    finally:
        supervisor.stop_all()


def with_examples(document: dict[str, Any], examples: dict[str, Any]) -> dict[str, Any]:
    """The document with the seeded ids as examples of the path and query parameters of
    those names."""
    for item in document["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                if parameter["name"] in examples:
                    parameter["example"] = examples[parameter["name"]]
    return document


def test_the_gateway_serves_the_committed_document_without_a_token(fuzzed: Fuzzed) -> None:
    response = httpx.get(f"{fuzzed.url}/api/openapi.json", timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.content == OPENAPI_DOCUMENT.read_bytes()
    assert response.json()["paths"]["/api/openapi.json"]["get"]["security"] == []


# ---- what the fuzzer found (each answered 500, or text/plain, before) -------------------------


def refusal(response: httpx.Response) -> str:
    """A 400 in the gateway's JSON error envelope; returns its message."""
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/json", response.headers
    envelope = response.json()
    assert envelope["status"] == "error", envelope
    return envelope["message"]


def test_an_id_beyond_32_bits_is_a_bad_request(fuzzed: Fuzzed) -> None:
    big = 2**31
    for path in (
        f"/api/groups/{big}",
        f"/api/streams/{big}",
        f"/api/taxonomy/{big}",
        f"/api/classification/{big}",
        f"/api/listing/{big}",
        f"/api/thumbnail/{big}/image",
        f"/api/sources/{OBJ_ID}/comments/{big}",
        f"/api/sources/{OBJ_ID}/annotations/{big}",
    ):
        message = refusal(fuzzed.http.get(path))
        assert message == f"invalid value {big}: value out of int32 range", path
    group_id = group(fuzzed.http, "big-ids", [])
    message = refusal(fuzzed.http.post(f"/api/groups/{group_id}/users", json={"userID": 2**40}))
    assert message == f"invalid value {2**40}: value out of int32 range"
    # The largest 32-bit id is an id like any other: not found.
    assert refusal(fuzzed.http.get(f"/api/groups/{big - 1}")) == f"Invalid group ID {big - 1}"


def test_a_nul_character_in_text_or_json_is_a_bad_request(fuzzed: Fuzzed) -> None:
    nul = 'invalid value: invalid byte sequence for encoding "UTF8": 0x00'
    comment = fuzzed.http.post(f"/api/sources/{OBJ_ID}/comments", json={"text": "a\u0000b"})
    assert refusal(comment) == nul
    assert refusal(fuzzed.http.get("/api/sources/a%00b/annotations")) == nul
    annotation = {"origin": "nul", "data": {"note": "a\u0000b"}}
    message = refusal(fuzzed.http.post(f"/api/sources/{OBJ_ID}/annotations", json=annotation))
    assert message == "invalid value: unsupported Unicode escape sequence"
    # Nothing was kept.
    comments = data(fuzzed.http.get(f"/api/sources/{OBJ_ID}/comments"))
    assert all("\u0000" not in c["text"] for c in comments)


def test_the_gateways_own_refusals_are_in_the_json_envelope(fuzzed: Fuzzed) -> None:
    message = refusal(fuzzed.http.get("/api/groups/abc"))
    assert message == 'group_id: invalid value "abc" for type TYPE_INT64'
    # Bytes that are not UTF-8, quoted back, become U+FFFD; quotes and controls are escaped.
    message = refusal(fuzzed.http.get("/api/groups/%FF%22%0A"))
    assert message == 'group_id: invalid value "\ufffd"\n" for type TYPE_INT64'
    assert refusal(fuzzed.http.post("/api/groups", content=b"not json")).startswith(
        "Unexpected token."
    )


def test_the_fuzzer_finds_no_server_error_on_the_portals_routes(
    fuzzed: Fuzzed, tmp_path: Path
) -> None:
    """Besides 5xx, the fuzzer checks each answer against the document: its media type, and
    its body against the reply's schema (so the documented shapes are the real ones)."""
    document = httpx.get(f"{fuzzed.url}/api/openapi.json", timeout=30).json()
    schema = tmp_path / "openapi.json"
    schema.write_text(json.dumps(with_examples(document, fuzzed.examples)))
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--no-color",
        "run",
        str(schema),
        "--url",
        fuzzed.url,
        "--include-tag",
        "PortalService",
        "--checks",
        ",".join(CHECKS),
        "--header",
        f"Authorization: {fuzzed.http.headers['Authorization']}",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--max-time",
        str(MAX_TIME_S),
        "--seed",
        str(SEED),
        # One worker: CPython 3.11's ast.parse is not safe in threads, and Hypothesis calls
        # it while it draws ("AST constructor recursion depth mismatch").
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--report",
        "json",
        "--report-dir",
        str(tmp_path),
    ]
    # Run in the test's folder: the fuzzer keeps its caches in the working directory.
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=MAX_TIME_S + 120,
        check=False,
        cwd=tmp_path,
    )
    output = result.stdout[-20000:] + result.stderr[-5000:]
    (report_path,) = tmp_path.glob("json-*.json")
    report = json.loads(report_path.read_text())
    portal = [
        op
        for item in document["paths"].values()
        for op in item.values()
        if op["tags"] == ["PortalService"]
    ]
    assert report["operations"]["tested"] == len(portal) > 80, output
    assert report["test_cases"]["generated"] > 1000, output
    assert (report["failures"], report["errors"]) == ([], []), output
    assert result.returncode == 0, output
