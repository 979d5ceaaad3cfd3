"""``skymesh``: start, stop and inspect the mesh; feed it alerts."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

from skymesh.catalogs import add_ingest_arguments
from skymesh.config import HOST, REPO_ROOT, Settings
from skymesh.infra import stack, state
from skymesh.infra.process import WATCHDOG, StartupError, Supervisor
from skymesh.produce import alert_files, produce_sync

DATA = REPO_ROOT / "data"
# Survey folder -> the topic a night of it is streamed to (the surveys' own naming).
BUNDLED_ALERTS = {
    DATA / "alerts" / "ztf": lambda night: f"ztf_{night}_programid1",
    DATA / "alerts" / "wntr": lambda night: f"winter_{night}",
}
BUNDLED_CATALOGS = {
    DATA / "catalogs" / "CIRADA_VLASS1QL_table1_components_v1_head100.csv": "VLASS_QL1_components",
    DATA / "catalogs" / "igaps-dr1-215a-small.fits.gz": "IGAPS_DR1",
    DATA / "catalogs" / "ztf_000250_zg_c01_q1_dr5.parquet": "ZTF_sources_DR5",
}
STREAM_TIMEOUT_S = 120
# Generated Rubin alerts streamed next to the bundled ones (objects, alerts of each).
LSST_OBJECTS, LSST_ALERTS_PER_OBJECT = 4, 3
# Components whose main port is named differently in the settings.
PORT_OF = {"database": "mongo", "triton": "triton_grpc"}


def cmd_install(settings: Settings, _: argparse.Namespace) -> int:
    stack.install(settings)
    return 0


def cmd_up(settings: Settings, args: argparse.Namespace) -> int:
    settings = stack.with_secret(settings)
    try:
        stack.up(settings, only=args.only, watch=True)
    except StartupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    api_token = ""
    if args.stream:
        from skymesh import demo

        ingest_bundled_catalogs(settings)
        api_token = demo.set_up(settings)
        stream_bundled(settings)
    print_welcome(settings, api_token)
    return 0


def ingest_bundled_catalogs(settings: Settings) -> None:
    """The bundled catalogs, so that alerts streamed next get cross-matched against them."""
    for path, name in BUNDLED_CATALOGS.items():
        args = parser().parse_args(["catalog", "ingest", str(path), "--name", name])
        if args.func(settings, args) != 0:
            raise SystemExit(f"could not ingest {path}")


def stream_bundled(settings: Settings) -> None:
    """Produces the bundled alerts, one topic per survey night, and waits until archived."""
    total = 0
    for survey_dir, topic_of in BUNDLED_ALERTS.items():
        for night in sorted(p for p in survey_dir.iterdir() if p.is_dir()):
            files = alert_files([night])
            topic = topic_of(night.name)
            produce_sync(files, topic, settings.kafka_bootstrap)
            print(f"produced {len(files)} alerts of {night.name} to {topic}")
            total += len(files)
    total += stream_lsst(settings)
    seen = asyncio.run(wait_archived(settings, total))
    print(f"broker has archived or recognised {seen}/{total} bundled alerts")


def stream_lsst(settings: Settings) -> int:
    """A few generated Rubin alerts (skymesh.synthetic_lsst): the same ones on every run, so
    that a second `make run` finds them archived already. The first object lies 1" from the
    first bundled ZTF alert, which makes it that object's counterpart."""
    from skymesh import synthetic_lsst
    from skymesh.produce import produce_messages
    from skymesh.synthetic import bundled_packets

    _, ztf = bundled_packets()[0]
    objects = synthetic_lsst.objects(LSST_OBJECTS, seed=2026)
    objects[0] = synthetic_lsst.next_to(objects[0], ztf, separation_arcsec=1.0, angle_deg=0.0)
    messages = synthetic_lsst.confluent_messages(
        synthetic_lsst.alerts(objects, LSST_ALERTS_PER_OBJECT, seed=2026, cutouts=True)
    )
    asyncio.run(produce_messages(messages, synthetic_lsst.LSST_TOPIC, settings.kafka_bootstrap))
    print(f"produced {len(messages)} generated LSST alerts to {synthetic_lsst.LSST_TOPIC}")
    return len(messages)


async def wait_archived(settings: Settings, expected: int) -> int:
    from skymesh.broker.v1 import broker_pb2, broker_pb2_grpc
    from skymesh.runtime.clients import service_channel

    async with service_channel(settings, "broker", caller="cli") as channel:
        stub = broker_pb2_grpc.BrokerServiceStub(channel)
        deadline = time.monotonic() + STREAM_TIMEOUT_S
        seen = 0
        while time.monotonic() < deadline:
            status = await stub.Status(broker_pb2.StatusRequest(), timeout=5)
            seen = sum(s.alerts_archived + s.alerts_duplicate for s in status.surveys)
            if seen >= expected:
                break
            await asyncio.sleep(0.5)
        return seen


def print_welcome(settings: Settings, api_token: str = "") -> None:
    url = f"http://{HOST}:{settings.ports.gateway}"
    user, password = settings.admin_user, settings.admin_password
    print(
        f"""
skymesh is running.
  web application        {url}/  (open it in a browser; log in as the admin)
  gateway (REST + gRPC)  {url}
  admin                  {user} / {password}
  logs                   {settings.run_dir / "logs"}/
  stop                   make stop        status: make status

Try:
  TOKEN=$(curl -s -X POST {url}/api/auth -d '{{"username":"{user}","password":"{password}"}}' \\
          | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  curl -s {url}/ -H "Authorization: Bearer $TOKEN"
  curl -s -X POST {url}/api/queries -H "Authorization: Bearer $TOKEN" \\
       -d '{{"query_type":"count_documents","query":{{"catalog":"ZTF_alerts","filter":{{}}}}}}'
  curl -s -X POST {url}/api/queries -H "Authorization: Bearer $TOKEN" \\
       -d '{{"query_type":"find","query":{{"catalog":"ZTF_alerts",
            "filter":{{"objectId":"ZTF20aajcdad"}},"projection":{{"candid":1}}}}}}'
  curl -s -X POST {url}/api/queries -H "Authorization: Bearer $TOKEN" \\
       -d '{{"query_type":"info","query":{{"command":"catalog_names"}}}}'
  curl -s {url}/api/broker/status -H "Authorization: Bearer $TOKEN"
  curl -s {url}/api/broker/deadletters -H "Authorization: Bearer $TOKEN"
"""
    )
    if api_token:
        print(
            f"""The portal (SkyPortal's API), with the admin's API token:
  API_TOKEN={api_token}
  curl -s {url}/api/groups -H "Authorization: token $API_TOKEN"
  curl -s {url}/api/sources/ZTF20aajcdad/annotations -H "Authorization: token $API_TOKEN"
  curl -s "{url}/api/sources/ZTF20aajcdad/photometry?format=flux" \\
       -H "Authorization: token $API_TOKEN"
"""
        )


def cmd_down(settings: Settings, _: argparse.Namespace) -> int:
    stopped = stack.down(settings)
    print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
    return 0


def cmd_stop(settings: Settings, args: argparse.Namespace) -> int:
    stopped = stack.hold(settings, args.components)
    print("stopped: " + (", ".join(stopped) if stopped else "none of them was running"))
    print("held down until `skymesh start " + " ".join(args.components) + "`")
    return 0


def cmd_start(settings: Settings, args: argparse.Namespace) -> int:
    try:
        started = stack.release(stack.with_secret(settings), args.components)
    except StartupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print("started: " + (", ".join(started) if started else "all of them were running"))
    return 0


def cmd_status(settings: Settings, _: argparse.Namespace) -> int:
    status = Supervisor(settings.run_dir).status()
    held = [n for n in stack.ORDER if state.is_held(settings.run_dir, n) and n not in status]
    if not status and not held:
        print("nothing runs (make run starts the mesh)")
        return 0
    restarts = state.read_restarts(settings.run_dir)
    rank = {name: i for i, name in enumerate((*stack.ORDER, WATCHDOG))}
    names = sorted([*status, *held], key=lambda n: rank.get(n, len(rank)))
    print(f"{'NAME':10} {'STATE':28} {'ADDRESS':16} {'HEALTH':12} RESTARTS")
    for name in names:
        pid = status.get(name)
        if name in held or state.is_held(settings.run_dir, name):
            text = f"held down (pid {pid})" if pid else "held down"
        else:
            text = f"running (pid {pid})" if pid else "NOT RUNNING (stale pid file)"
        port = getattr(settings.ports, PORT_OF.get(name, name), None)
        where = f"{HOST}:{port}" if port else ""
        health = "-"
        if name in stack.SERVICES and pid and port:
            health = stack.grpc_health(port) or "NO ANSWER"
        restarted = restarts.get(name)
        count = str(restarted.count) if restarted else "0"
        if restarted and restarted.last:
            count += time.strftime(" (last %Y-%m-%d %H:%M:%S)", time.localtime(restarted.last))
        print(f"{name:10} {text:28} {where:16} {health:12} {count}")
    return 0 if all(status.values()) else 1


def cmd_produce(settings: Settings, args: argparse.Namespace) -> int:
    try:
        files = alert_files(args.paths)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    count = produce_sync(files, args.topic, args.bootstrap or settings.kafka_bootstrap)
    print(f"produced {count} alert(s) to {args.topic}")
    return 0


def cmd_catalog_ingest(settings: Settings, args: argparse.Namespace) -> int:
    from skymesh.catalogs import ingest_command

    return ingest_command(stack.with_secret(settings), args)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="skymesh", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    infra = sub.add_parser("infra", help="manage the cached infrastructure")
    infra_sub = infra.add_subparsers(dest="infra_command", required=True)
    infra_sub.add_parser("install", help="download what the mesh needs (Kafka jars)").set_defaults(
        func=cmd_install
    )
    up = sub.add_parser("up", help="start the mesh in the background")
    up.add_argument("--stream", action="store_true", help="then stream the bundled alerts")
    up.add_argument(
        "--only",
        nargs="+",
        choices=list(stack.components(Settings())),
        help="start only these components",
    )
    up.set_defaults(func=cmd_up)
    sub.add_parser("down", help="stop every process the mesh started").set_defaults(func=cmd_down)
    names = list(stack.ORDER)
    stop = sub.add_parser("stop", help="stop components and keep them down (no watchdog restart)")
    stop.add_argument("components", nargs="+", choices=names)
    stop.set_defaults(func=cmd_stop)
    start = sub.add_parser("start", help="start held or stopped components, waiting until ready")
    start.add_argument("components", nargs="+", choices=names)
    start.set_defaults(func=cmd_start)
    sub.add_parser("status", help="show what runs").set_defaults(func=cmd_status)
    produce = sub.add_parser("produce", help="send Avro alert files to a Kafka topic")
    produce.add_argument("paths", nargs="+", type=Path, help="alert files or folders of them")
    produce.add_argument("--topic", required=True)
    produce.add_argument("--bootstrap", help="Kafka bootstrap servers (default from settings)")
    produce.set_defaults(func=cmd_produce)
    catalog = sub.add_parser("catalog", help="manage the catalogs alerts are cross-matched with")
    catalog_sub = catalog.add_subparsers(dest="catalog_command", required=True)
    ingest = catalog_sub.add_parser(
        "ingest", help="ingest a CSV, FITS or Parquet catalog (all rows or none)"
    )
    add_ingest_arguments(ingest)
    ingest.set_defaults(func=cmd_catalog_ingest)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.func(Settings.from_env(), args)


if __name__ == "__main__":
    sys.exit(main())
