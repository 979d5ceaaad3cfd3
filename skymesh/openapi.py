"""The REST API's OpenAPI 3 document, generated from the protos: ``gateway/openapi.json``.

google/gnostic's ``protoc-gen-openapi`` writes a path for every ``google.api.http`` rule, its
parameters, and a schema for every message a route reads or answers. It is built once from
the Go module proxy into ``.cache/go`` and run over proto/ by grpc_tools' protoc. What it
cannot know comes from the same descriptor set that the gateway's config is made from:

- the JSON of routes that read or answer a ``google.api.HttpBody`` or a
  ``google.protobuf.Struct`` (opaque to it) is described by the messages that each RPC's
  ``(skymesh.api.v1.openapi)`` option names (``skymesh/api/v1/openapi.proto``);
- HEAD rules (``custom``, which it skips), the error envelope the gateway writes, and who
  may call what (the ``(skymesh.auth.v1.access)`` option).

Run as ``python -m skymesh.openapi`` (``make openapi``) to rewrite the document;
``--check`` compares instead (a unit test does the same).
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc_tools
import yaml
from google.protobuf import descriptor_pb2
from grpc_tools import protoc

from skymesh import __version__, gotools
from skymesh.api.v1 import openapi_pb2
from skymesh.auth.v1 import access_pb2
from skymesh.config import REPO_ROOT
from skymesh.gotools import GoTool
from skymesh.infra.gateway import DESCRIPTOR_SET, OPENAPI_DOCUMENT, Route, http_routes
from skymesh.protogen import PROTO_DIR, _googleapis_dir, proto_files

DOCUMENT = OPENAPI_DOCUMENT
GENERATOR = "github.com/google/gnostic/cmd/protoc-gen-openapi"
GENERATOR_VERSION = "v0.7.1"
TITLE = "skymesh"
DESCRIPTION = (
    "The REST API of skymesh's gateway: Kowalski's (queries, filters) and SkyPortal's "
    "(the portal). Generated from the protos (make openapi); errors are "
    '{"status": "error", "message": ...}.'
)
# A throw-away service that names each documentation message, so that the generator writes
# their schemas (it writes only the schemas that some route reaches); it is never kept.
DOCS_PACKAGE = "skymesh_openapi_docs"
DOCS_PATH = "/_openapi_docs/"
ENVELOPE = ".skymesh.api.v1.Success"
ERROR = ".skymesh.api.v1.Error"
# Names of JSON types the option may give instead of a message.
JSON_TYPES = ("string", "integer", "number", "boolean", "object")
INT64 = {
    descriptor_pb2.FieldDescriptorProto.TYPE_INT64,
    descriptor_pb2.FieldDescriptorProto.TYPE_UINT64,
    descriptor_pb2.FieldDescriptorProto.TYPE_SINT64,
    descriptor_pb2.FieldDescriptorProto.TYPE_FIXED64,
    descriptor_pb2.FieldDescriptorProto.TYPE_SFIXED64,
}


# ---- the generator -------------------------------------------------------------------------

PROTOC_GEN_OPENAPI = GoTool(GENERATOR, GENERATOR_VERSION)


def ensure_generator(cache_dir: Path) -> Path:
    """Builds protoc-gen-openapi once per version (skymesh.gotools); returns its path."""
    return gotools.ensure(cache_dir, PROTOC_GEN_OPENAPI)


# ---- the descriptor set ----------------------------------------------------------------------


class Protos:
    """Messages and routes of the descriptor set, by full name (".pkg.Message")."""

    def __init__(self, descriptor_set: Path) -> None:
        files = descriptor_pb2.FileDescriptorSet.FromString(descriptor_set.read_bytes())
        self.messages: dict[str, descriptor_pb2.DescriptorProto] = {}
        self.file_of: dict[str, str] = {}
        for file in files.file:
            for name, message in _walk(f".{file.package}", file.message_type):
                self.messages[name] = message
                self.file_of[name] = file.name
        self.routes = http_routes(descriptor_set)

    def resolve(self, name: str, package: str) -> str:
        """A name of the option: a JSON type, or a message, full (with a dot) or in the RPC's
        own package."""
        if name in JSON_TYPES:
            return name
        full = f".{name}" if "." in name else f".{package}.{name}"
        if full not in self.messages:
            raise ValueError(f"(skymesh.api.v1.openapi) names {name!r}: no such message")
        return full

    def closure(self, names: set[str]) -> set[str]:
        """The messages these reach through their fields, themselves included."""
        seen: set[str] = set()
        todo = list(names)
        while todo:
            name = todo.pop()
            if name in seen or name not in self.messages:
                continue
            seen.add(name)
            todo.extend(field.type_name for field in self.messages[name].field if field.type_name)
        return seen


def _walk(prefix: str, messages: Any) -> Iterator[tuple[str, descriptor_pb2.DescriptorProto]]:
    for message in messages:
        name = f"{prefix}.{message.name}"
        yield name, message
        yield from _walk(name, message.nested_type)


def _doc_option(route: Route) -> openapi_pb2.OpenApi:
    options = route.method.options
    if options.HasExtension(openapi_pb2.openapi):
        return options.Extensions[openapi_pb2.openapi]
    return openapi_pb2.OpenApi()


def _access(route: Route) -> access_pb2.Access:
    options = route.method.options
    if options.HasExtension(access_pb2.access):
        return options.Extensions[access_pb2.access]
    return access_pb2.Access()


def _package(route: Route) -> str:
    return route.service.rsplit(".", 1)[0]


# ---- running the generator --------------------------------------------------------------------


def _schema_name(full: str) -> str:
    # gnostic's fq_schema_naming: package + "." + (Parent_)Message
    return full.lstrip(".")


def _docs_proto(protos: Protos, names: list[str]) -> str:
    imports = "".join(f'import "{f}";\n' for f in sorted({protos.file_of[n] for n in names}))
    rpcs = "".join(
        f"  rpc M{i}(google.protobuf.Empty) returns ({name}) {{\n"
        f'    option (google.api.http) = {{get: "{DOCS_PATH}{i}"}};\n'
        "  }\n"
        for i, name in enumerate(names)
    )
    return (
        'syntax = "proto3";\n'
        f"package {DOCS_PACKAGE};\n"
        'import "google/api/annotations.proto";\n'
        'import "google/protobuf/empty.proto";\n'
        f"{imports}"
        f"service Docs {{\n{rpcs}}}\n"
    )


def _run_generator(plugin: Path, protos: Protos, doc_messages: list[str]) -> dict[str, Any]:
    files = proto_files()
    with tempfile.TemporaryDirectory(prefix="skymesh-openapi-") as tmp:
        work = Path(tmp)
        docs_file = f"{DOCS_PACKAGE}/docs.proto"
        docs = work / "protos" / docs_file
        docs.parent.mkdir(parents=True)
        docs.write_text(_docs_proto(protos, doc_messages))
        out = work / "out"
        out.mkdir()
        # Go import paths, which protoc-gen-openapi's library insists on and never uses.
        go_packages = [f"M{f}=skymesh/{Path(f).parent}" for f in [*files, docs_file]]
        params = ",".join(
            [
                *go_packages,
                "naming=proto",
                "fq_schema_naming=true",
                "default_response=false",
                f"title={TITLE}",
                f"version={__version__}",
            ]
        )
        args = [
            "grpc_tools.protoc",
            f"-I{PROTO_DIR}",
            f"-I{work / 'protos'}",
            f"-I{_googleapis_dir()}",
            f"-I{Path(grpc_tools.__file__).parent / '_proto'}",
            f"--plugin=protoc-gen-openapi={plugin}",
            f"--openapi_out={params}:{out}",
            *files,
            docs_file,
        ]
        if protoc.main(args) != 0:
            raise RuntimeError("protoc-gen-openapi failed; see the messages above")
        return yaml.safe_load((out / "openapi.yaml").read_text())


# ---- completing the generator's document ---------------------------------------------------


def _ref(full: str) -> dict[str, str]:
    if full in JSON_TYPES:
        return {"type": full}
    return {"$ref": f"#/components/schemas/{_schema_name(full)}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _doc_names(protos: Protos) -> dict[tuple[str, str, int], dict[str, str]]:
    """(verb, path, binding) -> the option's message names, resolved to full names."""
    named = {}
    for route in protos.routes:
        option = _doc_option(route)
        names = {
            field: protos.resolve(getattr(option, field), _package(route))
            for field in ("body", "data", "reply")
            if getattr(option, field)
        }
        named[(route.verb, route.path, route.binding)] = names
    return named


def _json_messages(protos: Protos, names: set[str]) -> set[str]:
    """The documentation messages and what they reach: JSON that a service writes itself,
    where a 64-bit integer is a number and an absent value is null."""
    documented = {n for n in protos.closure(names) if not n.startswith(".google.")}
    typed = {t for r in protos.routes for t in (r.method.input_type, r.method.output_type)}
    shared = documented & protos.closure(typed)
    if shared:
        raise ValueError(
            f"{sorted(shared)} describe JSON (skymesh.api.v1.openapi) and are sent by RPCs too; "
            "a documentation message is for documentation only"
        )
    return documented


def _as_json_schema(schema: dict[str, Any], message: descriptor_pb2.DescriptorProto) -> None:
    properties = schema.get("properties", {})
    for field in message.field:
        prop = properties.get(field.name)
        if prop is None:
            continue
        if field.type in INT64:
            target = prop["items"] if "items" in prop else prop
            target["type"] = "integer"
            target["format"] = "int64"
        if field.proto3_optional:
            if "$ref" in prop:
                properties[field.name] = prop = {"allOf": [{"$ref": prop.pop("$ref")}]}
            prop["nullable"] = True


_SECTION = re.compile(r"^\s*----.*$\n?", re.MULTILINE)


def _tidy(operation: dict[str, Any]) -> None:
    """Section rulers of the .proto ("---- groups ----") are not an RPC's description."""
    if "description" in operation:
        text = _SECTION.sub("", operation["description"]).strip()
        if text:
            operation["description"] = text
        else:
            del operation["description"]


def _unindent(node: Any) -> None:
    """Comment lines come with the space after their //."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "description" and isinstance(value, str):
                node[key] = value.replace("\n ", "\n")
            else:
                _unindent(value)
    elif isinstance(node, list):
        for item in node:
            _unindent(item)


def _param_types(operation: dict[str, Any], message: descriptor_pb2.DescriptorProto) -> None:
    """Path and query parameters are text: a 64-bit field reads as an integer there."""
    fields = {f.name: f for f in message.field}
    for parameter in operation.get("parameters", []):
        field = fields.get(parameter["name"])
        if field is not None and field.type in INT64:
            schema = parameter["schema"]
            target = schema["items"] if "items" in schema else schema
            target["type"] = "integer"
            target["format"] = "int64"


def _head(route: Route, document: dict[str, Any]) -> dict[str, Any]:
    """A HEAD rule: the generator skips custom rules; the gateway answers status and headers."""
    get = document["paths"].get(route.path, {}).get("get", {})
    return {
        "tags": [route.service.rsplit(".", 1)[1]],
        "description": f"The status and headers GET {route.path} would answer, without a body.",
        "operationId": f"{route.service.rsplit('.', 1)[1]}_{route.method.name}",
        "parameters": [copy.deepcopy(p) for p in get.get("parameters", []) if p["in"] == "path"],
        "responses": {"200": {"description": "OK"}},
    }


def complete(document: dict[str, Any], protos: Protos) -> dict[str, Any]:
    """Adds to the generator's document what only the descriptor set's options say."""
    paths = document["paths"]
    for path in [p for p in paths if p.startswith(DOCS_PATH)]:
        del paths[path]
    document["tags"] = [t for t in document.get("tags", []) if t["name"] != "Docs"]
    document["info"]["description"] = DESCRIPTION
    schemas = document["components"]["schemas"]
    if "google.protobuf.ListValue" in schemas:
        # gnostic describes the message ({"values": [...]}); its JSON is the array itself.
        schemas["google.protobuf.ListValue"] = {
            "type": "array",
            "items": {"$ref": "#/components/schemas/google.protobuf.Value"},
            "description": "A JSON array (google.protobuf.ListValue).",
        }
    named = _doc_names(protos)
    documented = {n for d in named.values() for n in d.values()} - set(JSON_TYPES)
    for name in _json_messages(protos, documented):
        if _schema_name(name) in schemas:
            _as_json_schema(schemas[_schema_name(name)], protos.messages[name])
    document["components"]["securitySchemes"] = {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A login token from POST /api/auth (Kowalski's JWT).",
        },
        "token": {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "'token <uuid>': a SkyPortal API token (/api/internal/tokens).",
        },
    }
    document["security"] = [{"bearer": []}, {"token": []}]
    for route in protos.routes:
        verb = route.verb.lower()
        if route.verb == "HEAD":
            paths.setdefault(route.path, {})[verb] = _head(route, document)
        operation = paths[route.path][verb]
        if route.binding:
            operation["operationId"] += f"_{route.binding}"
        _tidy(operation)
        _param_types(operation, protos.messages[route.method.input_type])
        names = named[(route.verb, route.path, route.binding)]
        option = _doc_option(route)
        if "body" in names:
            operation["requestBody"]["content"] = _json(_ref(names["body"]))
        content: dict[str, Any] = {}
        if option.media_type:
            content[option.media_type] = {"schema": {"type": "string", "format": "binary"}}
        if "data" in names:
            data = _ref(names["data"])
            if option.data_list:
                data = {"type": "array", "items": data}
            content.update(
                _json({"allOf": [_ref(ENVELOPE), {"type": "object", "properties": {"data": data}}]})
            )
        elif "reply" in names:
            content.update(_json(_ref(names["reply"])))
        if content:
            operation["responses"]["200"]["content"] = content
        operation["responses"]["default"] = {
            "description": "An error, in the gateway's envelope",
            "content": _json(_ref(ERROR)),
        }
        access = _access(route)
        if access.public:
            operation["security"] = []
        elif access.acl:
            operation["x-skymesh-acl"] = access.acl
            note = f"Needs the ACL '{access.acl}'."
            operation["description"] = f"{operation.get('description', '')}\n\n{note}".strip()
    _unindent(document)
    return document


def build(cache_dir: Path, descriptor_set: Path = DESCRIPTOR_SET) -> dict[str, Any]:
    protos = Protos(descriptor_set)
    names = {n for d in _doc_names(protos).values() for n in d.values()} - set(JSON_TYPES)
    messages = sorted(names | {ENVELOPE, ERROR})
    document = _run_generator(ensure_generator(cache_dir), protos, messages)
    return complete(document, protos)


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    parser.add_argument("--install", action="store_true", help="only build the generator")
    args = parser.parse_args(argv)
    cache_dir = gotools.default_cache_dir()
    if args.install:
        ensure_generator(cache_dir)
        return 0
    text = render(build(cache_dir))
    if args.check:
        if DOCUMENT.exists() and DOCUMENT.read_text() == text:
            return 0
        print(f"{DOCUMENT} is not current: run `make openapi`", file=sys.stderr)
        return 1
    DOCUMENT.write_text(text)
    print(f"wrote {DOCUMENT.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
