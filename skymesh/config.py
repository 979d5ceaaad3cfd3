"""Settings of the mesh, read once from the environment (``SKYMESH_*``)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
# The PostgreSQL role the portal connects as (local trust authentication on the loopback).
POSTGRES_USER = "skymesh"


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from exc


def _env_str(name: str, default: str) -> str:
    return os.environ.get(name) or default


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw not in ("0", "1"):
        raise ValueError(f"{name} must be 0 or 1, got {raw!r}")
    return raw == "1"


@dataclass(frozen=True)
class Ports:
    """Every TCP port the mesh listens on; each one is overridable by ``SKYMESH_<NAME>_PORT``."""

    gateway: int = 8080
    envoy_admin: int = 9901
    kafka: int = 9092
    kafka_controller: int = 9093
    mongo: int = 27017
    postgres: int = 5433
    triton_grpc: int = 8001
    triton_http: int = 8000
    triton_metrics: int = 8002
    archive: int = 50051
    portal: int = 50052
    broker: int = 50053
    filters: int = 50054
    ml: int = 50055
    # Each service's Prometheus /metrics (HTTP).
    archive_metrics: int = 9151
    portal_metrics: int = 9152
    broker_metrics: int = 9153
    filters_metrics: int = 9154
    ml_metrics: int = 9155

    @classmethod
    def from_env(cls) -> Ports:
        return cls(
            **{f.name: _env_int(f"SKYMESH_{f.name.upper()}_PORT", f.default) for f in fields(cls)}
        )

    def as_env(self) -> dict[str, str]:
        return {f"SKYMESH_{f.name.upper()}_PORT": str(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True)
class Hosts:
    """Where each mesh service and Triton is reached; each is overridable by
    ``SKYMESH_<NAME>_HOST``: the loopback for a local mesh, Service names in Kubernetes."""

    archive: str = HOST
    portal: str = HOST
    broker: str = HOST
    filters: str = HOST
    ml: str = HOST
    triton: str = HOST

    @classmethod
    def from_env(cls) -> Hosts:
        return cls(
            **{f.name: _env_str(f"SKYMESH_{f.name.upper()}_HOST", f.default) for f in fields(cls)}
        )

    def as_env(self) -> dict[str, str]:
        return {f"SKYMESH_{f.name.upper()}_HOST": getattr(self, f.name) for f in fields(self)}

    def of(self, port_name: str) -> str:
        """The host of a port name of :class:`Ports` (``triton_grpc`` is Triton's)."""
        return getattr(self, port_name.split("_")[0], HOST)


@dataclass(frozen=True)
class Settings:
    ports: Ports = field(default_factory=Ports)
    hosts: Hosts = field(default_factory=Hosts)
    # The address the services' gRPC servers listen on (0.0.0.0 in a container).
    bind_host: str = HOST
    # Connection strings of the databases and Kafka; empty: the local processes on the
    # loopback (see the properties below). A replica set, credentials or a broker list go here.
    mongo_uri_override: str = ""
    postgres_dsn_override: str = ""
    kafka_bootstrap_override: str = ""
    run_dir: Path = REPO_ROOT / ".run"
    cache_dir: Path = REPO_ROOT / ".cache"
    db_name: str = "skymesh"
    admin_user: str = "admin"
    admin_password: str = "admin"
    jwt_secret: str = ""
    # Kowalski's default: every ZTF public/partnership/Caltech topic of a night.
    ztf_topic_regex: str = r"^ztf_\d{8}_programid\d+$"
    winter_topic_regex: str = r"^winter_\d{8}$"
    # Rubin's alert topics are named like lsst-alerts-v11.1 (or lsst_..._alerts_...).
    lsst_topic_regex: str = r"^lsst.*alerts.*$"
    kafka_group_id: str = "skymesh-broker"
    dead_letter_topic: str = "skymesh.deadletter"
    broker_batch_size: int = 256
    # Batches in the pipeline at once (each in a different stage); commits stay in order.
    broker_batches_in_flight: int = 3
    # Kafka's default; the broker keeps polling while it waits, so an outage never hits it.
    kafka_max_poll_interval_ms: int = 300_000
    # /api/queries caps (services/archive/queries/limits.py): the longest a query may run
    # (below the gateway's 310 s route timeout, so the caller gets our message, not Envoy's),
    # and the most documents and BSON bytes one answer may hold (the JSON answer is larger and
    # must fit the gateway's 256 MiB response limit).
    query_max_time_ms: int = 300_000
    query_max_documents: int = 100_000
    query_max_bytes: int = 64 * 1024 * 1024
    # The largest REST request body the gateway accepts (HTTP 413 beyond it).
    gateway_max_request_bytes: int = 32 * 1024 * 1024
    log_level: str = "INFO"
    # The ml service scores a survey's models through its Triton ensemble (one request per
    # chunk); off, one request per model, for a model repository without the ensembles.
    ml_ensembles: bool = True
    # The portal's candidate expiry: an unsaved candidate object older than this many days is
    # deleted (Fritz keeps 7; 1-30 allowed), by a job that runs every interval.
    candidate_expiry_days: int = 7
    candidate_expiry_interval_s: int = 86_400

    @property
    def mongo_uri(self) -> str:
        return self.mongo_uri_override or f"mongodb://{HOST}:{self.ports.mongo}"

    @property
    def postgres_dsn(self) -> str:
        """The portal's PostgreSQL database (SQLAlchemy URL, asyncpg driver)."""
        return (
            self.postgres_dsn_override
            or f"postgresql+asyncpg://{POSTGRES_USER}@{HOST}:{self.ports.postgres}/{self.db_name}"
        )

    @property
    def kafka_bootstrap(self) -> str:
        return self.kafka_bootstrap_override or f"{HOST}:{self.ports.kafka}"

    def address(self, service: str) -> str:
        return f"{self.hosts.of(service)}:{getattr(self.ports, service)}"

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            ports=Ports.from_env(),
            hosts=Hosts.from_env(),
            bind_host=_env_str("SKYMESH_BIND_HOST", HOST),
            mongo_uri_override=_env_str("SKYMESH_MONGO_URI", ""),
            postgres_dsn_override=_env_str("SKYMESH_POSTGRES_DSN", ""),
            kafka_bootstrap_override=_env_str("SKYMESH_KAFKA_BOOTSTRAP", ""),
            run_dir=Path(_env_str("SKYMESH_RUN_DIR", str(REPO_ROOT / ".run"))),
            cache_dir=Path(_env_str("SKYMESH_CACHE_DIR", str(REPO_ROOT / ".cache"))),
            db_name=_env_str("SKYMESH_DB_NAME", "skymesh"),
            admin_user=_env_str("SKYMESH_ADMIN_USER", "admin"),
            admin_password=_env_str("SKYMESH_ADMIN_PASSWORD", "admin"),
            jwt_secret=_env_str("SKYMESH_JWT_SECRET", ""),
            ztf_topic_regex=_env_str("SKYMESH_ZTF_TOPIC_REGEX", r"^ztf_\d{8}_programid\d+$"),
            winter_topic_regex=_env_str("SKYMESH_WINTER_TOPIC_REGEX", r"^winter_\d{8}$"),
            lsst_topic_regex=_env_str("SKYMESH_LSST_TOPIC_REGEX", r"^lsst.*alerts.*$"),
            kafka_group_id=_env_str("SKYMESH_KAFKA_GROUP_ID", "skymesh-broker"),
            dead_letter_topic=_env_str("SKYMESH_DEAD_LETTER_TOPIC", "skymesh.deadletter"),
            broker_batch_size=_env_int("SKYMESH_BROKER_BATCH_SIZE", 256),
            broker_batches_in_flight=_env_int("SKYMESH_BROKER_BATCHES_IN_FLIGHT", 3),
            query_max_time_ms=_env_int("SKYMESH_QUERY_MAX_TIME_MS", 300_000),
            query_max_documents=_env_int("SKYMESH_QUERY_MAX_DOCUMENTS", 100_000),
            query_max_bytes=_env_int("SKYMESH_QUERY_MAX_BYTES", 64 * 1024 * 1024),
            gateway_max_request_bytes=_env_int(
                "SKYMESH_GATEWAY_MAX_REQUEST_BYTES", 32 * 1024 * 1024
            ),
            kafka_max_poll_interval_ms=_env_int("SKYMESH_KAFKA_MAX_POLL_INTERVAL_MS", 300_000),
            log_level=_env_str("SKYMESH_LOG_LEVEL", "INFO"),
            ml_ensembles=_env_bool("SKYMESH_ML_ENSEMBLES", True),
            candidate_expiry_days=_env_int("SKYMESH_CANDIDATE_EXPIRY_DAYS", 7),
            candidate_expiry_interval_s=_env_int("SKYMESH_CANDIDATE_EXPIRY_INTERVAL_S", 86_400),
        )

    def as_env(self) -> dict[str, str]:
        """The environment that reproduces these settings in a child process."""
        return {
            **self.ports.as_env(),
            **self.hosts.as_env(),
            "SKYMESH_BIND_HOST": self.bind_host,
            "SKYMESH_MONGO_URI": self.mongo_uri_override,
            "SKYMESH_POSTGRES_DSN": self.postgres_dsn_override,
            "SKYMESH_KAFKA_BOOTSTRAP": self.kafka_bootstrap_override,
            "SKYMESH_RUN_DIR": str(self.run_dir),
            "SKYMESH_CACHE_DIR": str(self.cache_dir),
            "SKYMESH_DB_NAME": self.db_name,
            "SKYMESH_ADMIN_USER": self.admin_user,
            "SKYMESH_ADMIN_PASSWORD": self.admin_password,
            "SKYMESH_JWT_SECRET": self.jwt_secret,
            "SKYMESH_ZTF_TOPIC_REGEX": self.ztf_topic_regex,
            "SKYMESH_WINTER_TOPIC_REGEX": self.winter_topic_regex,
            "SKYMESH_LSST_TOPIC_REGEX": self.lsst_topic_regex,
            "SKYMESH_KAFKA_GROUP_ID": self.kafka_group_id,
            "SKYMESH_DEAD_LETTER_TOPIC": self.dead_letter_topic,
            "SKYMESH_BROKER_BATCH_SIZE": str(self.broker_batch_size),
            "SKYMESH_BROKER_BATCHES_IN_FLIGHT": str(self.broker_batches_in_flight),
            "SKYMESH_QUERY_MAX_TIME_MS": str(self.query_max_time_ms),
            "SKYMESH_QUERY_MAX_DOCUMENTS": str(self.query_max_documents),
            "SKYMESH_QUERY_MAX_BYTES": str(self.query_max_bytes),
            "SKYMESH_GATEWAY_MAX_REQUEST_BYTES": str(self.gateway_max_request_bytes),
            "SKYMESH_KAFKA_MAX_POLL_INTERVAL_MS": str(self.kafka_max_poll_interval_ms),
            "SKYMESH_LOG_LEVEL": self.log_level,
            "SKYMESH_ML_ENSEMBLES": "1" if self.ml_ensembles else "0",
            "SKYMESH_CANDIDATE_EXPIRY_DAYS": str(self.candidate_expiry_days),
            "SKYMESH_CANDIDATE_EXPIRY_INTERVAL_S": str(self.candidate_expiry_interval_s),
        }
