"""The MongoDB-wire database: SecantusDB here (production runs MongoDB).

SecantusDB is GPL-2.0, so it only ever runs as its own process from the infra venv;
project code talks to it over the wire with PyMongo like to any MongoDB.
"""

from __future__ import annotations

from pymongo import MongoClient
from pymongo.errors import PyMongoError

from skymesh.config import HOST, Settings
from skymesh.infra.process import Managed, port_open


def mongo_ready(uri: str) -> bool:
    try:
        with MongoClient(uri, serverSelectionTimeoutMS=500, connectTimeoutMS=500) as client:
            client.admin.command("ping")
        return True
    except PyMongoError:
        return False


def managed(settings: Settings, in_memory: bool = False) -> Managed:
    data_dir = settings.run_dir / "db"
    data_dir.mkdir(parents=True, exist_ok=True)
    # An explicit empty config stops the launcher from picking up a stray secantusd.toml.
    config = settings.run_dir / "secantusd.toml"
    config.write_text("# all settings are given on the command line by skymesh\n")
    port = settings.ports.mongo
    return Managed(
        name="database",
        argv=[
            str(settings.cache_dir / "infra-venv" / "bin" / "secantusd-py"),
            "--config",
            str(config),
            "--host",
            HOST,
            "--port",
            str(port),
            "--storage-path",
            ":memory:" if in_memory else str(data_dir),
            "--log-level",
            "WARNING",
        ],
        ready=lambda: port_open(port) and mongo_ready(settings.mongo_uri),
        startup_timeout=60,
    )
