"""Making the portal's groups, streams, users, tokens and filters in tests, through REST."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from skymesh.config import Settings
from tests.rest import ok


def admin_client(settings: Settings) -> httpx.Client:
    """An HTTP client of the mesh's gateway, logged in as the admin."""
    gateway = f"http://127.0.0.1:{settings.ports.gateway}"
    login = {"username": settings.admin_user, "password": settings.admin_password}
    token = ok(httpx.post(f"{gateway}/api/auth", json=login))["token"]
    return httpx.Client(base_url=gateway, headers={"Authorization": f"Bearer {token}"}, timeout=60)


def data(response: httpx.Response) -> Any:
    return ok(response)["data"]


def stream(client: httpx.Client, name: str, collection: str, selector: list[int]) -> int:
    """The stream of that name (made if missing), with the admin as a reader."""
    found = [s for s in data(client.get("/api/streams")) if s["name"] == name]
    if found:
        return found[0]["id"]
    altdata = {"collection": collection, "selector": selector}
    stream_id = data(client.post("/api/streams", json={"name": name, "altdata": altdata}))["id"]
    admin_id = data(client.get("/api/internal/profile"))["id"]
    data(client.post(f"/api/streams/{stream_id}/users", json={"user_id": admin_id}))
    return stream_id


def group(client: httpx.Client, name: str, stream_ids: list[int]) -> int:
    """A new group (unique name) reading those streams; its creator (the admin) administers it."""
    group_id = data(client.post("/api/groups", json={"name": f"{name}-{secrets.token_hex(3)}"}))[
        "id"
    ]
    for stream_id in stream_ids:
        data(client.post(f"/api/groups/{group_id}/streams", json={"stream_id": stream_id}))
    return group_id


def portal_filter(client: httpx.Client, name: str, group_id: int, stream_id: int) -> int:
    """SkyPortal's filter: its id is the filter id for Kowalski's routes."""
    body = {"name": name, "group_id": group_id, "stream_id": stream_id}
    return data(client.post("/api/filters", json=body))["id"]


def group_candidates(client: httpx.Client, group_id: int) -> list[str]:
    """The object ids of a group's candidates (its first 100)."""
    params = {"groupIDs": group_id, "numPerPage": 100}
    return [c["id"] for c in data(client.get("/api/candidates", params=params))["candidates"]]


# The filter reads every ZTF programid, through a SkyPortal stream of its group.
ZTF_STREAM = ("ZTF Public+Partnership+Caltech", "ZTF_alerts", [1, 2, 3])
EVERY_ALERT = [{"$match": {"candid": {"$gt": 0}}}]


@contextlib.contextmanager
def passing_every_alert(
    client: httpx.Client, settings: Settings, name: str
) -> Iterator[tuple[int, str]]:
    """A new group's filter that passes every ZTF alert; yields (filter id, version id).
    Afterwards the filter is deleted and the synthetic alerts the test streamed through the
    shared mesh are removed from the archive (other tests count the bundled ones)."""
    from tests.conftest import remove_synthetic_alerts

    stream_id = stream(client, *ZTF_STREAM)
    group_id = group(client, name, [stream_id])
    filter_id = portal_filter(client, name, group_id, stream_id)
    body = {
        "group_id": group_id,
        "filter_id": filter_id,
        "catalog": "ZTF_alerts",
        "permissions": [1, 2, 3],
        "pipeline": EVERY_ALERT,
    }
    fid = ok(client.post("/api/filters", json=body))["data"]["fid"]
    try:
        yield filter_id, fid
    finally:
        client.delete(f"/api/filters/{filter_id}")
        remove_synthetic_alerts(settings)


@dataclass
class User:
    id: int
    username: str
    token: str
    password: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {self.token}"}


def user(
    client: httpx.Client,
    role: str = "Full user",
    streams: tuple[int, ...] = (),
    groups: tuple[int, ...] = (),
    admin_of: tuple[int, ...] = (),
    acls: list[str] | None = None,
) -> User:
    """A new user with a SkyPortal token (all the role's ACLs unless ``acls`` says which)."""
    username = f"user-{secrets.token_hex(4)}"
    password = secrets.token_hex(8)
    body = {"username": username, "password": password, "role": role}
    user_id = int(ok(client.post("/api/users", json=body))["data"]["id"])
    for stream_id in streams:
        data(client.post(f"/api/streams/{stream_id}/users", json={"user_id": user_id}))
    for group_id in (*groups, *admin_of):
        member = {"userID": user_id, "admin": group_id in admin_of}
        data(client.post(f"/api/groups/{group_id}/users", json=member))
    if acls is None:
        roles = {r["id"]: r["acls"] for r in data(client.get("/api/roles"))}
        acls = roles[role]
    token = data(
        client.post("/api/internal/tokens", json={"name": "test", "acls": acls, "user_id": user_id})
    )["token_id"]
    return User(user_id, username, token, password)
