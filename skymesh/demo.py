"""What ``make run`` sets up in the portal (data/portal/demo.json), through the public API.

Idempotent: a demo group that exists already is left as it is.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from skymesh.config import HOST, REPO_ROOT, Settings

DEMO = REPO_ROOT / "data" / "portal" / "demo.json"


class Gateway:
    def __init__(self, settings: Settings) -> None:
        self.url = f"http://{HOST}:{settings.ports.gateway}"
        login = {"username": settings.admin_user, "password": settings.admin_password}
        self.token = self.call("POST", "/api/auth", login, auth=False)["token"]

    def call(self, method: str, path: str, body: Any = None, auth: bool = True) -> Any:
        request = urllib.request.Request(
            self.url + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.token}"} if auth else {},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.load(response)
        except urllib.error.HTTPError as exc:
            raise SystemExit(f"{method} {path}: {exc.code} {exc.read().decode()}") from None


def set_up(settings: Settings) -> str:
    """Creates the demo streams, group and filters if missing; returns an API token for the
    admin (SkyPortal's ``Authorization: token <id>``)."""
    demo = json.loads(DEMO.read_text())
    api = Gateway(settings)
    me = api.call("GET", "/api/internal/profile")["data"]["id"]
    tokens = api.call("GET", "/api/internal/tokens")["data"]
    token = next((t["id"] for t in tokens if t["name"] == "make run"), None)
    if token is None:
        acls = api.call("GET", "/api/acls")["data"]
        token = api.call("POST", "/api/internal/tokens", {"name": "make run", "acls": acls})[
            "data"
        ]["token_id"]
    groups = api.call("GET", "/api/groups")["data"]["all_groups"]
    if any(g["name"] == demo["group"]["name"] for g in groups):
        return token
    streams = {s["name"]: s["id"] for s in api.call("GET", "/api/streams")["data"]}
    for stream in demo["streams"]:
        if stream["name"] not in streams:
            streams[stream["name"]] = api.call("POST", "/api/streams", stream)["data"]["id"]
        api.call("POST", f"/api/streams/{streams[stream['name']]}/users", {"user_id": me})
    group_id = api.call("POST", "/api/groups", demo["group"])["data"]["id"]
    for name in {f["stream"] for f in demo["filters"]}:
        api.call("POST", f"/api/groups/{group_id}/streams", {"stream_id": streams[name]})
    for spec in demo["filters"]:
        link = {"name": spec["name"], "group_id": group_id, "stream_id": streams[spec["stream"]]}
        filter_id = api.call("POST", "/api/filters", link)["data"]["id"]
        version = {"filter_id": filter_id, "group_id": group_id, "pipeline": spec["pipeline"]}
        api.call("POST", "/api/filters", version)
        if "autosave" in spec:
            api.call(
                "PATCH", "/api/filters", {"filter_id": filter_id, "autosave": spec["autosave"]}
            )
    return token
