"""The Go and TypeScript clients (clients/, generated from proto/) against the real mesh.

Their own test suites run here with SKYMESH_* describing a scene made for them: a group whose
filter passed a few synthetic alerts (its candidates, read back through REST), and a bundled
ZTF alert to look for. The Go tests call the gateway over gRPC, the TypeScript tests over
gRPC-web; both log in, query, cone-search, create and test a filter and list candidates.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from skymesh import gotools
from skymesh.config import Settings
from skymesh.produce import produce_messages
from skymesh.protogen import GO_CLIENT_DIR, TS_CLIENT_DIR
from skymesh.synthetic import SYNTHETIC_OBJECT_PREFIX, synthetic_messages
from tests.metrics import scrape, value
from tests.polling import wait_for
from tests.portal import group_candidates, passing_every_alert
from tests.rest import ok

pytestmark = pytest.mark.integration

CACHE_DIR = gotools.default_cache_dir()
CANDIDATE_OBJECTS = 3
ZTF_TOPIC = "ztf_20231012_programid1"


def processed(settings: Settings) -> float:
    """ZTF alerts the broker has processed to the end (posted, offsets committed)."""
    samples = scrape(settings, "broker")
    return value(samples, "skymesh_broker_alerts_total", survey="ZTF", outcome="processed")


@pytest.fixture(scope="module")
def scene(
    archived: Settings, client: httpx.Client, ztf_alerts: dict[int, dict]
) -> Iterator[dict[str, str]]:
    with passing_every_alert(client, archived, "clients") as (filter_id, _fid):
        group_id = ok(client.get(f"/api/filters/{filter_id}"))["data"]["group_id"]
        before = processed(archived)
        produced = 0

        def one_more_object() -> list[str]:
            nonlocal produced
            # Each object of the synthetic stream has two alerts: even indices are new ones.
            (message,) = synthetic_messages(1, seed=13, first=first + 2 * produced)
            asyncio.run(produce_messages([message], ZTF_TOPIC, archived.kafka_bootstrap))
            produced += 1
            return group_candidates(client, group_id)

        first = 2 * secrets.randbelow(10**8)
        # The broker loads a new filter within seconds: the first alerts may pass none.
        wait_for(
            one_more_object,
            lambda found: len(found) >= CANDIDATE_OBJECTS,
            timeout=90,
            what=f"{CANDIDATE_OBJECTS} candidates of the group",
        )
        # Once every alert produced is through the broker, the candidates are final.
        wait_for(
            lambda: processed(archived),
            lambda count: count >= before + produced,
            timeout=60,
            what=f"the broker to process the {produced} alerts produced",
        )
        candidates = group_candidates(client, group_id)
        assert all(c.startswith(SYNTHETIC_OBJECT_PREFIX) for c in candidates), candidates
        alert = ztf_alerts[max(ztf_alerts)]
        yield {
            "SKYMESH_GATEWAY": f"127.0.0.1:{archived.ports.gateway}",
            "SKYMESH_USERNAME": archived.admin_user,
            "SKYMESH_PASSWORD": archived.admin_password,
            "SKYMESH_GROUP_ID": str(group_id),
            "SKYMESH_FILTER_ID": str(filter_id),
            "SKYMESH_CANDID": str(alert["candid"]),
            "SKYMESH_OBJECT_ID": alert["objectId"],
            "SKYMESH_RA": repr(alert["candidate"]["ra"]),
            "SKYMESH_DEC": repr(alert["candidate"]["dec"]),
            "SKYMESH_CANDIDATES": ",".join(candidates),
        }


def run(command: list[str], cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{output[-6000:]}"
    return output


def test_the_go_client_against_the_mesh(scene: dict[str, str]) -> None:
    env = gotools.go_env(CACHE_DIR, **scene)
    go = gotools.toolchain(gotools.go(), env)
    unformatted = run([str(Path(go).with_name("gofmt")), "-l", "."], GO_CLIENT_DIR, env)
    assert not unformatted.strip(), f"gofmt would change: {unformatted}"
    output = run([go, "test", "-count=1", "-v", "./..."], GO_CLIENT_DIR, env)
    names = re.findall(r"^func (Test\w+)\(t \*testing\.T\)", _go_tests(), re.M)
    assert len(names) >= 7, names
    for name in names:
        assert f"--- PASS: {name} " in output, f"{name} did not pass:\n{output[-4000:]}"
    assert "--- SKIP" not in output, output[-4000:]


def test_the_typescript_client_against_the_mesh(scene: dict[str, str]) -> None:
    env = {**os.environ, **scene}
    run(["npm", "run", "--silent", "build"], TS_CLIENT_DIR, env)
    output = run(["node", "--test", "--test-reporter=tap", "dist/test/"], TS_CLIENT_DIR, env)
    declared = sum(
        len(re.findall(r"^\s*test\(", path.read_text(), re.M))
        for path in (TS_CLIENT_DIR / "test").glob("*.test.ts")
    )
    passed = re.search(r"^# pass (\d+)$", output, re.M)
    assert passed and int(passed.group(1)) == declared >= 9, output[-4000:]
    assert re.search(r"^# fail 0$", output, re.M), output[-4000:]
    assert "SKYMESH_GATEWAY is not set" not in output, output[-4000:]


def _go_tests() -> str:
    return "".join(p.read_text() for p in GO_CLIENT_DIR.rglob("*_test.go"))
