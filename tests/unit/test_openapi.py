"""The OpenAPI document (gateway/openapi.json) is current, valid, lists exactly the routes the
gateway serves, and describes every request and reply as JSON, not as opaque text."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate

from skymesh import gotools, openapi
from skymesh.infra.gateway import OPENAPI_DOCUMENT, http_routes

CACHE_DIR = gotools.default_cache_dir()
VERBS = ("get", "put", "post", "delete", "patch", "head")


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return json.loads(OPENAPI_DOCUMENT.read_text())


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (verb, path, operation)
        for path, item in document["paths"].items()
        for verb, operation in item.items()
        if verb in VERBS
    ]


def schema_at(document: dict[str, Any], ref: str) -> dict[str, Any]:
    return document["components"]["schemas"][ref.rsplit("/", 1)[1]]


def test_the_committed_document_is_what_the_protos_generate(tmp_path: Path) -> None:
    plugin = CACHE_DIR / "go" / "bin" / "protoc-gen-openapi"
    if not plugin.exists() and shutil.which("go") is None and not Path("/usr/local/go").exists():
        pytest.skip("no Go to build protoc-gen-openapi with (make setup installs it)")
    fresh = openapi.render(openapi.build(CACHE_DIR))
    (tmp_path / "openapi.json").write_text(fresh)
    assert fresh == OPENAPI_DOCUMENT.read_text(), (
        "gateway/openapi.json is not what the protos generate: run `make openapi` and commit it"
    )


def test_the_document_is_valid_openapi_3(document: dict[str, Any]) -> None:
    validate(document)
    assert document["openapi"].startswith("3.")


def test_its_paths_are_the_routes_the_gateway_serves(document: dict[str, Any]) -> None:
    served = {(r.verb.lower(), r.path) for r in http_routes()}
    listed = {(verb, path) for verb, path, _ in operations(document)}
    assert listed == served
    assert len(served) > 90
    ids = [op["operationId"] for _, _, op in operations(document)]
    assert len(ids) == len(set(ids))


def test_every_reply_and_body_is_described_as_json(document: dict[str, Any]) -> None:
    for verb, path, operation in operations(document):
        ok = operation["responses"]["200"]
        if verb == "head":
            assert "content" not in ok
            continue
        assert ok["content"], (verb, path)
        for media, described in ok["content"].items():
            assert media != "*/*" and described.get("schema"), (verb, path)
        body = operation.get("requestBody")
        if body:
            schema = body["content"]["application/json"]["schema"]
            # A message (PauseRequest may have no field), never an opaque string or object.
            assert "$ref" in schema, (verb, path, schema)
            assert "properties" in schema_at(document, schema["$ref"]), (verb, path)
        error = operation["responses"]["default"]["content"]["application/json"]["schema"]
        assert error == {"$ref": "#/components/schemas/skymesh.api.v1.Error"}


def test_the_portal_replies_are_skyportals_envelope_with_typed_data(
    document: dict[str, Any],
) -> None:
    reply = document["paths"]["/api/groups/{group_id}"]["get"]["responses"]["200"]
    envelope, data = reply["content"]["application/json"]["schema"]["allOf"]
    assert envelope == {"$ref": "#/components/schemas/skymesh.api.v1.Success"}
    detail = schema_at(document, data["properties"]["data"]["$ref"])
    assert {"id", "name", "users", "streams", "filters"} <= set(detail["properties"])
    # JSON the service writes itself: ids are numbers, nullable values may be null.
    assert detail["properties"]["id"] == {"type": "integer", "format": "int64"}
    assert detail["properties"]["nickname"]["nullable"] is True
    listed = document["paths"]["/api/streams"]["get"]["responses"]["200"]["content"]
    items = listed["application/json"]["schema"]["allOf"][1]["properties"]["data"]
    assert items["type"] == "array"
    assert items["items"] == {"$ref": "#/components/schemas/skymesh.portal.v1.StreamJson"}
    image = document["paths"]["/api/thumbnail/{thumbnail_id}/image"]["get"]["responses"]["200"]
    assert image["content"] == {"image/png": {"schema": {"type": "string", "format": "binary"}}}


def test_kowalskis_routes_have_their_request_and_reply(document: dict[str, Any]) -> None:
    query = document["paths"]["/api/queries"]["post"]
    body = query["requestBody"]["content"]["application/json"]["schema"]
    assert set(schema_at(document, body["$ref"])["properties"]) == {
        "query_type",
        "query",
        "kwargs",
    }
    reply = query["responses"]["200"]["content"]["application/json"]["schema"]
    assert set(schema_at(document, reply["$ref"])["properties"]) == {"status", "message", "data"}
    test = document["paths"]["/api/filters/{filter_id}/test"]["post"]["responses"]["200"]
    reply = schema_at(document, test["content"]["application/json"]["schema"]["$ref"])
    assert set(reply["properties"]) == {"status", "message", "data", "errors"}
    status = document["paths"]["/api/broker/status"]["get"]["responses"]["200"]
    reply = schema_at(document, status["content"]["application/json"]["schema"]["$ref"])
    assert set(reply["properties"]) == {"paused", "surveys"}


def test_who_may_call_is_declared(document: dict[str, Any]) -> None:
    assert document["security"] == [{"bearer": []}, {"token": []}]
    public = {(verb, path) for verb, path, op in operations(document) if op.get("security") == []}
    assert public == {("post", "/api/auth"), ("get", "/api/openapi.json")}
    streams = document["paths"]["/api/streams"]["post"]
    assert streams["x-skymesh-acl"] == "System admin"
    assert streams["description"].endswith("Needs the ACL 'System admin'.")


def test_a_list_value_is_a_json_array(document: dict[str, Any]) -> None:
    # gnostic describes google.protobuf.ListValue as the message {"values": [...]}.
    assert document["components"]["schemas"]["google.protobuf.ListValue"]["type"] == "array"
    detail = document["components"]["schemas"]["skymesh.portal.v1.ObjDetailJson"]
    history = detail["properties"]["redshift_history"]
    assert history["allOf"] == [{"$ref": "#/components/schemas/google.protobuf.ListValue"}]
    assert history["nullable"] is True


def test_path_and_query_ids_are_integers(document: dict[str, Any]) -> None:
    parameters = document["paths"]["/api/groups/{group_id}/users/{user_id}"]["delete"]["parameters"]
    assert [(p["name"], p["in"], p["schema"]) for p in parameters] == [
        ("group_id", "path", {"type": "integer", "format": "int64"}),
        ("user_id", "path", {"type": "integer", "format": "int64"}),
    ]


def test_a_documentation_message_sent_by_an_rpc_is_refused() -> None:
    protos = openapi.Protos(openapi.DESCRIPTOR_SET)
    with pytest.raises(ValueError, match="documentation only"):
        openapi._json_messages(protos, {".skymesh.portal.v1.GroupRequest"})
    with pytest.raises(ValueError, match="no such message"):
        protos.resolve("NoSuchJson", "skymesh.portal.v1")


def test_photometry_spectra_and_followup_routes_are_described(document: dict[str, Any]) -> None:
    def data_of(verb: str, path: str) -> dict[str, Any]:
        content = document["paths"][path][verb]["responses"]["200"]["content"]
        return content["application/json"]["schema"]["allOf"][1]["properties"]["data"]

    upload = document["paths"]["/api/photometry"]["post"]["requestBody"]["content"]
    body = schema_at(document, upload["application/json"]["schema"]["$ref"])
    assert {"obj_id", "instrument_id", "mjd", "filter", "magsys", "group_ids"} <= set(
        body["properties"]
    )
    ids = schema_at(document, data_of("put", "/api/photometry")["$ref"])
    assert ids["properties"]["upload_id"]["nullable"] is True
    spectrum = schema_at(document, data_of("get", "/api/spectra/{spectrum_id}")["$ref"])
    assert {"wavelengths", "fluxes", "errors", "owner", "groups"} <= set(spectrum["properties"])
    allocations = data_of("get", "/api/allocation")
    assert allocations["items"] == {"$ref": "#/components/schemas/skymesh.portal.v1.AllocationJson"}
    page = schema_at(document, data_of("get", "/api/followup_request")["$ref"])
    assert set(page["properties"]) == {"followup_requests", "totalMatches"}
    export = document["paths"]["/api/sources/{obj_id}/photometry/export"]["get"]["responses"]
    assert export["200"]["content"] == {
        "text/csv": {"schema": {"type": "string", "format": "binary"}}
    }
