from dataclasses import replace

from skymesh.config import HOST, Ports, Settings
from skymesh.infra.gateway import envoy_config, mesh_services


def test_every_service_is_transcoded_and_routed_to_its_process() -> None:
    settings = replace(Settings(), ports=Ports(gateway=1111, archive=2222, portal=3333))
    config = envoy_config(settings)
    services = mesh_services()
    assert {name.split(".")[1] for name in services} == {
        "archive",
        "xmatch",
        "ml",
        "filters",
        "portal",
        "broker",
    }
    hcm = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0][
        "typed_config"
    ]
    transcoder = next(
        f for f in hcm["http_filters"] if f["name"] == "envoy.filters.http.grpc_json_transcoder"
    )["typed_config"]
    assert set(transcoder["services"]) == set(services)
    routes = {
        r["match"]["prefix"]: r["route"]["cluster"]
        for r in hcm["route_config"]["virtual_hosts"][0]["routes"]
        if "route" in r
    }
    assert routes["/skymesh.archive.v1.ArchiveService/"] == "archive"
    assert routes["/skymesh.xmatch.v1.XMatchService/"] == "archive"  # hosted by the archive
    clusters = {c["name"]: c for c in config["static_resources"]["clusters"]}
    assert set(routes.values()) <= set(clusters)
    endpoint = clusters["portal"]["load_assignment"]["endpoints"][0]["lb_endpoints"][0]
    assert endpoint["endpoint"]["address"]["socket_address"] == {
        "address": HOST,
        "port_value": 3333,
    }
    listener = config["static_resources"]["listeners"][0]["address"]["socket_address"]
    assert listener == {"address": HOST, "port_value": 1111}
    # Anything else gets a JSON 404, matched last.
    last = hcm["route_config"]["virtual_hosts"][0]["routes"][-1]
    assert last["match"] == {"prefix": "/"} and last["direct_response"]["status"] == 404
    # The Lua envelope filter must come before the transcoder to see its error bodies.
    names = [f["name"] for f in hcm["http_filters"]]
    assert names.index("envoy.filters.http.lua") < names.index(
        "envoy.filters.http.grpc_json_transcoder"
    )


def test_rest_bodies_are_capped_with_the_envelope_and_grpc_streams_are_not() -> None:
    settings = replace(Settings(), gateway_max_request_bytes=1234)
    hcm = envoy_config(settings)["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][
        0
    ]["typed_config"]
    names = [f["name"] for f in hcm["http_filters"]]
    # Before the transcoder, whose limits only ever grow the stream's buffer.
    assert names.index("envoy.filters.http.buffer") < names.index(
        "envoy.filters.http.grpc_json_transcoder"
    )
    buffer = next(f for f in hcm["http_filters"] if f["name"] == "envoy.filters.http.buffer")
    assert buffer["typed_config"]["max_request_bytes"] == 1234
    routes = hcm["route_config"]["virtual_hosts"][0]["routes"]
    for route in routes:
        if "route" in route:  # native gRPC
            assert route["typed_per_filter_config"]["envoy.filters.http.buffer"]["disabled"]
    assert "typed_per_filter_config" not in routes[-1]  # REST, before transcoding
    mappers = {
        m["filter"]["status_code_filter"]["comparison"]["value"]["default_value"]: m
        for m in hcm["local_reply_config"]["mappers"]
    }
    body = mappers[413]["body_format_override"]["json_format"]
    assert body["status"] == "error" and "at most 1234 bytes" in body["message"]
    assert mappers[431]["body_format_override"]["json_format"]["status"] == "error"


def test_the_web_bundle_is_served_file_by_file_and_its_page_at_the_applications_paths(
    tmp_path,
) -> None:
    import re

    from skymesh.infra.gateway import TRANSCODER_FILTER, web_routes

    assert web_routes(tmp_path) == []  # no bundle built: no routes
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<html></html>")
    (tmp_path / "assets" / "index-abc123.js").write_text("x")
    (tmp_path / "favicon.svg").write_text("<svg/>")
    routes = web_routes(tmp_path)
    by_path = {r["match"].get("path"): r for r in routes if "path" in r["match"]}
    script = by_path["/assets/index-abc123.js"]
    assert script["direct_response"]["body"]["filename"] == str(
        tmp_path / "assets" / "index-abc123.js"
    )
    headers = {h["header"]["key"]: h["header"]["value"] for h in script["response_headers_to_add"]}
    assert headers["content-type"] == "text/javascript; charset=utf-8"
    assert "immutable" in headers["cache-control"]
    icon = {
        h["header"]["key"]: h["header"]["value"]
        for h in by_path["/favicon.svg"]["response_headers_to_add"]
    }
    assert icon == {"content-type": "image/svg+xml", "cache-control": "no-cache"}
    # `/` is the application only for a browser asking for HTML (else Kowalski's ping).
    page = by_path["/"]
    assert {"name": "accept", "string_match": {"contains": "text/html"}} in page["match"]["headers"]
    assert page["typed_per_filter_config"][TRANSCODER_FILTER]["disabled"] is True
    # Every other path outside /api/ is one of the application's own routes.
    app = next(r for r in routes if "safe_regex" in r["match"])
    pattern = re.compile(app["match"]["safe_regex"]["regex"])
    for path in ("/candidates", "/source/ZTF20aaaaaaa", "/groups", "/a", "/ap", "/api", "/apix"):
        assert pattern.fullmatch(path), path
    for path in ("/api/sources", "/api/", "/"):
        assert not pattern.fullmatch(path), path
