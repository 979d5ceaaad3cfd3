"""Envoy as the REST/JSON gateway: config generated from the descriptor set of proto/.

Every ``skymesh.<service>.v1`` service in the descriptor set becomes a transcoded route to
the process that serves it; native gRPC and gRPC-web clients can use the same port.

``python -m skymesh.infra.gateway --k8s`` writes the same config for Kubernetes
(``make k8s-envoy`` -> ``k8s/base/gateway/envoy.yaml``, which a unit test checks is current):
listening on every address, each service at its Service's name (resolved by DNS, every ready
replica), the descriptor set and the Lua filter at their paths in the gateway image, and the
web application served by the pod's web container instead of file by file.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import os
import sys
import urllib.request
from dataclasses import fields
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor_pb2

from skymesh.config import HOST, REPO_ROOT, Hosts, Settings
from skymesh.infra.process import Managed

DESCRIPTOR_SET = REPO_ROOT / "gen" / "descriptor.pb"
LUA_ERROR_ENVELOPE = REPO_ROOT / "gateway" / "error_envelope.lua"
# The REST API's OpenAPI document (`make openapi`), which the portal serves.
OPENAPI_DOCUMENT = REPO_ROOT / "gateway" / "openapi.json"
# The web application's bundle (`make web`); Envoy serves its files itself.
WEB_BUNDLE = REPO_ROOT / "web" / "dist"
# Envoy refuses direct-response files above this size (its default is 4 KiB).
MAX_STATIC_FILE_BYTES = 32 * 1024 * 1024
TRANSCODER_FILTER = "envoy.filters.http.grpc_json_transcoder"
READ_METHODS = {"name": ":method", "string_match": {"safe_regex": {"regex": "GET|HEAD"}}}
# Services that share another service's process.
HOSTED_BY = {"xmatch": "archive"}
ROUTE_TIMEOUT_S = 310
# Query answers with cutouts run to tens of MB; Envoy's 1 MiB default would cut them off.
BODY_LIMIT_BYTES = 256 * 1024 * 1024
MAX_DOWNSTREAM_CONNECTIONS = 10_000
# Envoy's default (60 KiB), named for the 431 message below.
MAX_REQUEST_HEADERS_KB = 60
BUFFER_FILTER = "envoy.filters.http.buffer"
NOT_FOUND_BODY = '{"status":"error","message":"no such API route; see proto/README.md"}'
KEEP_PARENT = '"$@" & child=$!; trap \'kill -TERM "$child"\' TERM INT; wait "$child"'
TYPE_URL = "type.googleapis.com/"  # Kowalski's default max_time_ms is 300 s

# Kubernetes (k8s/): the committed config, and where the gateway image keeps its files.
K8S_ENVOY_CONFIG = REPO_ROOT / "k8s" / "base" / "gateway" / "envoy.yaml"
K8S_DESCRIPTOR_SET = "/etc/skymesh/descriptor.pb"
K8S_LUA_ERROR_ENVELOPE = "/etc/skymesh/error_envelope.lua"
K8S_LISTEN = "0.0.0.0"
# The gateway pod's web container (k8s/images/web.Dockerfile) serves the bundle here.
K8S_WEB_PORT = 8081


def k8s_settings() -> Settings:
    """The settings the gateway sees in a cluster: the defaults, each service (and Triton) at
    the name of its Service, as k8s/base/config/settings.env says to the services."""
    return Settings(hosts=Hosts(**{f.name: f.name for f in fields(Hosts)}))


def mesh_services(descriptor_set: Path = DESCRIPTOR_SET) -> dict[str, str]:
    """Full gRPC service name -> port name of the process serving it."""
    files = descriptor_pb2.FileDescriptorSet.FromString(descriptor_set.read_bytes())
    services = {}
    for file in files.file:
        parts = file.package.split(".")
        if len(parts) == 3 and parts[0] == "skymesh":
            for service in file.service:
                services[f"{file.package}.{service.name}"] = HOSTED_BY.get(parts[1], parts[1])
    return services


class Route(NamedTuple):
    """One REST route the transcoder serves: a google.api.http rule or one of its bindings."""

    verb: str  # GET, POST, ..., or a custom rule's kind (HEAD)
    path: str  # the rule's template: /api/groups/{group_id}
    service: str  # full gRPC service name
    method: descriptor_pb2.MethodDescriptorProto
    binding: int  # 0: the rule itself, n: its nth additional binding
    rule: http_pb2.HttpRule


def http_routes(descriptor_set: Path = DESCRIPTOR_SET) -> list[Route]:
    """Every REST route of the mesh's services, in the descriptor's order."""
    files = descriptor_pb2.FileDescriptorSet.FromString(descriptor_set.read_bytes())
    services = mesh_services(descriptor_set)
    found = []
    for file in files.file:
        for service in file.service:
            name = f"{file.package}.{service.name}"
            if name not in services:
                continue
            for method in service.method:
                if not method.options.HasExtension(annotations_pb2.http):
                    continue
                top = method.options.Extensions[annotations_pb2.http]
                for index, rule in enumerate([top, *top.additional_bindings]):
                    kind = rule.WhichOneof("pattern")
                    if kind == "custom":
                        verb, path = rule.custom.kind, rule.custom.path
                    else:
                        verb, path = kind.upper(), getattr(rule, kind)
                    found.append(Route(verb, path, name, method, index, rule))
    return found


def _cluster(
    name: str, port: int, http2: bool = True, host: str = HOST, dns: bool = False
) -> dict[str, Any]:
    cluster: dict[str, Any] = {
        "name": name,
        # A Service's name resolves to every ready replica (re-resolved every 5 s).
        **({"type": "STRICT_DNS", "dns_lookup_family": "V4_ONLY"} if dns else {"type": "STATIC"}),
        "connect_timeout": "2s",
        "per_connection_buffer_limit_bytes": BODY_LIMIT_BYTES,
        "load_assignment": {
            "cluster_name": name,
            "endpoints": [
                {
                    "lb_endpoints": [
                        {
                            "endpoint": {
                                "address": {"socket_address": {"address": host, "port_value": port}}
                            }
                        }
                    ]
                }
            ],
        },
    }
    if http2:
        cluster["typed_extension_protocol_options"] = {
            "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                "@type": TYPE_URL + "envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                "explicit_http_config": {"http2_protocol_options": {}},
            }
        }
    return cluster


def _tracing(otlp_endpoint: str | None) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The HCM tracing block and the collector cluster, when OTLP export is configured."""
    if not otlp_endpoint:
        return None, None
    hostport = otlp_endpoint.split("://", 1)[-1].rstrip("/")
    host, _, port = hostport.rpartition(":")
    tracing = {
        "random_sampling": {"value": 100},
        "provider": {
            "name": "envoy.tracers.opentelemetry",
            "typed_config": {
                "@type": TYPE_URL + "envoy.config.trace.v3.OpenTelemetryConfig",
                "grpc_service": {"envoy_grpc": {"cluster_name": "otel_collector"}, "timeout": "2s"},
                "service_name": "skymesh-gateway",
            },
        },
    }
    cluster = _cluster("otel_collector", int(port))
    cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"][
        "socket_address"
    ]["address"] = host or HOST
    return tracing, cluster


def _local_replies(max_request_bytes: int) -> dict[str, Any]:
    """Envoy's own 413, 431 and 503 answers as the envelope every other error has: they never
    reach a service, and the Lua filter only reshapes the transcoder's JSON errors."""
    local = {
        413: (
            f"request body too large: this gateway accepts at most {max_request_bytes} bytes "
            f"({max_request_bytes / 2**20:g} MiB) per request"
        ),
        431: (
            "request headers too large: this gateway accepts at most "
            f"{MAX_REQUEST_HEADERS_KB} KiB of headers per request"
        ),
        # The service behind the route does not answer (stopped, restarting).
        503: "service unavailable, retry shortly: %LOCAL_REPLY_BODY%",
    }
    return {
        "mappers": [
            {
                "filter": {
                    "status_code_filter": {
                        "comparison": {
                            "op": "EQ",
                            "value": {
                                "default_value": status,
                                "runtime_key": f"skymesh.gateway.local_reply_{status}",
                            },
                        }
                    }
                },
                "body_format_override": {
                    "json_format": {"status": "error", "message": message},
                },
            }
            for status, message in local.items()
        ]
    }


def _static_file_route(path: str, file: Path, cache_control: str) -> dict[str, Any]:
    content_type = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    if content_type.startswith("text/") or content_type.endswith(("javascript", "json")):
        content_type += "; charset=utf-8"
    return {
        "match": {"path": path, "headers": [READ_METHODS]},
        "direct_response": {"status": 200, "body": {"filename": str(file)}},
        "response_headers_to_add": [
            {"header": {"key": "content-type", "value": content_type}},
            {"header": {"key": "cache-control", "value": cache_control}},
        ],
        # GET / is also Kowalski's ping; a browser asking for a page gets the application.
        "typed_per_filter_config": {
            TRANSCODER_FILTER: {
                "@type": TYPE_URL + "envoy.config.route.v3.FilterConfig",
                "disabled": True,
            }
        },
    }


# Every path outside /api/ (and other than `/`): the web application's own routes.
APP_PATHS = "/(?:[^a].*|a(?:[^p].*)?|ap(?:[^i].*)?|api(?:[^/].*)?)"


def web_routes(bundle: Path = WEB_BUNDLE) -> list[dict[str, Any]]:
    """The web application: each file of the bundle at its path, and its page at `/` for
    browsers and at every other path outside /api/ (the application's own routes)."""
    index = bundle / "index.html"
    if not index.is_file():
        return []
    routes = []
    for file in sorted(bundle.rglob("*")):
        if file.is_file() and file != index:
            # Vite names assets by their content hash: they never change under one name.
            relative = file.relative_to(bundle).as_posix()
            immutable = relative.startswith("assets/")
            cache = "public, max-age=31536000, immutable" if immutable else "no-cache"
            routes.append(_static_file_route(f"/{relative}", file, cache))
    page = _static_file_route("/", index, "no-cache")
    page["match"]["headers"].append({"name": "accept", "string_match": {"contains": "text/html"}})
    routes.append(page)
    app_paths = _static_file_route("/", index, "no-cache")
    app_paths["match"] = {
        "safe_regex": {"regex": APP_PATHS},
        "headers": app_paths["match"]["headers"],
    }
    routes.append(app_paths)
    return routes


def k8s_web_routes() -> list[dict[str, Any]]:
    """The web application's routes of web_routes(), to the pod's web container (which
    answers its page at the application's own paths)."""
    routes = []
    for route in web_routes_matching():
        del route["direct_response"], route["response_headers_to_add"]
        route["route"] = {"cluster": "web", "timeout": "30s"}
        routes.append(route)
    return routes


def web_routes_matching() -> list[dict[str, Any]]:
    """The page at `/` for browsers and at every other path outside /api/ (matches only)."""
    page = _static_file_route("/", Path("index.html"), "no-cache")
    page["match"]["headers"].append({"name": "accept", "string_match": {"contains": "text/html"}})
    app_paths = _static_file_route("/", Path("index.html"), "no-cache")
    app_paths["match"] = {"safe_regex": {"regex": APP_PATHS}, "headers": [READ_METHODS]}
    return [page, app_paths]


def envoy_config(
    settings: Settings, descriptor_set: Path = DESCRIPTOR_SET, k8s: bool = False
) -> dict[str, Any]:
    """Envoy's config; ``k8s``: for the gateway pod of k8s/ (see the module's docstring)."""
    listen = K8S_LISTEN if k8s else HOST
    services = mesh_services(descriptor_set)
    processes = sorted(set(services.values()))
    routes = [
        {
            "match": {"prefix": f"/{service}/"},
            "route": {"cluster": services[service], "timeout": f"{ROUTE_TIMEOUT_S}s"},
            # Native gRPC streams (a catalog's rows) pass unbuffered; the services bound
            # their messages. REST requests match the catch-all until transcoded.
            "typed_per_filter_config": {
                BUFFER_FILTER: {
                    "@type": TYPE_URL + "envoy.extensions.filters.http.buffer.v3.BufferPerRoute",
                    "disabled": True,
                }
            },
        }
        for service in sorted(services)
    ]
    routes.extend(k8s_web_routes() if k8s else web_routes())
    routes.append(
        {
            "match": {"prefix": "/"},
            "direct_response": {
                "status": 404,
                "body": {"inline_string": NOT_FOUND_BODY},
            },
            "response_headers_to_add": [
                {"header": {"key": "content-type", "value": "application/json"}}
            ],
        }
    )
    # In a cluster the config is a committed file: no tracing from this shell's environment.
    tracing, collector = _tracing(None if k8s else os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"))
    hcm: dict[str, Any] = {
        "@type": TYPE_URL
        + "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        "stat_prefix": "gateway",
        "codec_type": "AUTO",
        "generate_request_id": True,
        "max_request_headers_kb": MAX_REQUEST_HEADERS_KB,
        "local_reply_config": _local_replies(settings.gateway_max_request_bytes),
        "route_config": {
            "name": "mesh",
            "max_direct_response_body_size_bytes": MAX_STATIC_FILE_BYTES,
            "virtual_hosts": [{"name": "mesh", "domains": ["*"], "routes": routes}],
        },
        "http_filters": [
            {
                # gRPC-web (browsers, the TypeScript client) to gRPC and back, first: every
                # filter after it sees the plain gRPC call that the routes above serve.
                "name": "envoy.filters.http.grpc_web",
                "typed_config": {
                    "@type": TYPE_URL + "envoy.extensions.filters.http.grpc_web.v3.GrpcWeb"
                },
            },
            {
                # Before the transcoder: on the way back it sees the transcoded JSON.
                "name": "envoy.filters.http.lua",
                "typed_config": {
                    "@type": TYPE_URL + "envoy.extensions.filters.http.lua.v3.Lua",
                    "default_source_code": {
                        "filename": K8S_LUA_ERROR_ENVELOPE if k8s else str(LUA_ERROR_ENVELOPE)
                    },
                },
            },
            {
                # Refuses a REST body over the limit with 413 before anything reaches a
                # service. The transcoder cannot: its max_request_body_size only ever raises
                # Envoy's per-stream buffer limit, which answers need at 256 MiB.
                "name": BUFFER_FILTER,
                "typed_config": {
                    "@type": TYPE_URL + "envoy.extensions.filters.http.buffer.v3.Buffer",
                    "max_request_bytes": settings.gateway_max_request_bytes,
                },
            },
            {
                "name": "envoy.filters.http.grpc_json_transcoder",
                "typed_config": {
                    "@type": TYPE_URL
                    + "envoy.extensions.filters.http.grpc_json_transcoder.v3.GrpcJsonTranscoder",
                    "proto_descriptor": K8S_DESCRIPTOR_SET if k8s else str(descriptor_set),
                    "services": sorted(services),
                    "convert_grpc_status": True,
                    "print_options": {
                        "always_print_primitive_fields": True,
                        "preserve_proto_field_names": True,
                    },
                    # penquins and scripts send keys the typed requests do not have.
                    "request_validation_options": {"reject_unknown_query_parameters": False},
                    "ignore_unknown_query_parameters": True,
                    # Form-encoded query strings (browsers' URLSearchParams, Tornado's reading
                    # of them) write a space as "+": "SN+Ia" is the class "SN Ia".
                    "query_param_unescape_plus": True,
                    "max_request_body_size": BODY_LIMIT_BYTES,
                    "max_response_body_size": BODY_LIMIT_BYTES,
                },
            },
            {
                "name": "envoy.filters.http.router",
                "typed_config": {
                    "@type": TYPE_URL + "envoy.extensions.filters.http.router.v3.Router"
                },
            },
        ],
    }
    if tracing:
        hcm["tracing"] = tracing
    clusters = [
        _cluster(name, getattr(settings.ports, name), host=settings.hosts.of(name), dns=k8s)
        for name in processes
    ]
    if k8s:
        clusters.append(_cluster("web", K8S_WEB_PORT, http2=False))
    if collector:
        clusters.append(collector)
    return {
        "admin": {
            "address": {
                "socket_address": {"address": listen, "port_value": settings.ports.envoy_admin}
            }
        },
        "overload_manager": {
            "resource_monitors": [
                {
                    "name": "envoy.resource_monitors.global_downstream_max_connections",
                    "typed_config": {
                        "@type": TYPE_URL
                        + "envoy.extensions.resource_monitors.downstream_connections.v3"
                        + ".DownstreamConnectionsConfig",
                        "max_active_downstream_connections": MAX_DOWNSTREAM_CONNECTIONS,
                    },
                }
            ]
        },
        "static_resources": {
            "listeners": [
                {
                    "name": "gateway",
                    "per_connection_buffer_limit_bytes": BODY_LIMIT_BYTES,
                    "address": {
                        "socket_address": {"address": listen, "port_value": settings.ports.gateway}
                    },
                    "filter_chains": [
                        {
                            "filters": [
                                {
                                    "name": "envoy.filters.network.http_connection_manager",
                                    "typed_config": hcm,
                                }
                            ]
                        }
                    ],
                }
            ],
            "clusters": clusters,
        },
    }


def envoy_ready(admin_port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{admin_port}/ready", timeout=1) as resp:
            return resp.status == 200
    except OSError:
        return False


def managed(settings: Settings) -> Managed:
    config_path = settings.run_dir / "envoy.json"
    config_path.parent.mkdir(parents=True, exist_ok=True)
    config_path.write_text(json.dumps(envoy_config(settings), indent=1))
    envoy = [
        str(settings.cache_dir / "infra-venv" / "bin" / "envoy"),
        "-c",
        str(config_path),
        "--log-level",
        "warning",
        "--base-id",
        str(settings.ports.gateway),  # lets several Envoys share the host
    ]
    return Managed(
        name="gateway",
        # Envoy gets SIGTERM when its parent exits (seen here: it died as soon as the
        # short-lived `skymesh up` returned); a shell that waits for it stays as its parent.
        argv=["/bin/sh", "-c", KEEP_PARENT, "envoy", *envoy],
        ready=lambda: envoy_ready(settings.ports.envoy_admin),
        startup_timeout=30,
    )


def render_k8s(descriptor_set: Path = DESCRIPTOR_SET) -> str:
    """k8s/base/gateway/envoy.yaml: the gateway pod's config, as YAML."""
    header = (
        "# Generated by `python -m skymesh.infra.gateway --k8s` (make k8s-envoy) from proto/:\n"
        "# do not edit. tests/unit/test_k8s.py checks that it is current.\n"
    )
    config = envoy_config(k8s_settings(), descriptor_set, k8s=True)
    return header + yaml.dump(config, Dumper=_PlainDumper, sort_keys=False, width=100)


class _PlainDumper(yaml.SafeDumper):
    """Writes a value that the config holds twice out twice: no YAML anchors and aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Envoy's config for the gateway")
    parser.add_argument(
        "--k8s", action="store_true", help="the Kubernetes gateway pod's config (YAML)"
    )
    parser.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
    args = parser.parse_args(argv)
    if args.k8s:
        text = render_k8s()
    else:
        text = json.dumps(envoy_config(Settings.from_env()), indent=1) + "\n"
    if args.output:
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
