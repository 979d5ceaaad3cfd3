"""Apache Kafka (KRaft, single node) from Maven Central jars, supervised as a plain JVM process."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import socket
import struct
import subprocess
import uuid
from pathlib import Path

from skymesh.config import HOST, Settings
from skymesh.infra.process import Managed, port_open

POM = Path(__file__).with_name("kafka-pom.xml")
_MARKER = ".resolved"
NODE_ID = 1

_LOG4J = """\
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
# per-request, state-change and cleaner chatter drowns the useful lines at INFO
log4j.logger.kafka.request.logger=WARN
log4j.logger.kafka.network.RequestChannel$=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.log.LogCleaner=WARN
log4j.logger.kafka.authorizer.logger=WARN
log4j.logger.org.apache.kafka.clients=WARN
log4j.logger.org.apache.kafka.storage.internals.log=WARN
log4j.logger.kafka.log.UnifiedLog=WARN
log4j.logger.kafka.log.LogManager=WARN
log4j.logger.kafka.server.DelayedOperationPurgatory$ExpiredOperationReaper=WARN
log4j.logger.kafka.server.ClientQuotaManager$ThrottledChannelReaper=WARN
"""


def _java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return str(Path(java_home) / "bin" / "java")
    if (java := shutil.which("java")) is None:
        raise RuntimeError("java not found: install a JDK/JRE 17+ or set JAVA_HOME")
    return java


def ensure_installed(settings: Settings) -> Path:
    """Resolves the broker's jars into ``<cache>/kafka/lib`` once per pom; returns that folder."""
    lib = settings.cache_dir / "kafka" / "lib"
    digest = hashlib.sha256(POM.read_bytes()).hexdigest()
    marker = lib / _MARKER
    if marker.exists() and marker.read_text().strip() == digest:
        return lib
    mvn = shutil.which("mvn")
    if mvn is None:
        raise RuntimeError("mvn not found: Maven is needed once to download Kafka's jars")
    print(f"kafka: resolving jars from Maven Central into {lib} (once)", flush=True)
    # Resolve into a scratch folder and swap it in, so an interrupted download never looks done.
    staging = lib.with_name("lib.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [
            mvn,
            "-B",
            "-q",
            "-Dstyle.color=never",
            f"-Dmaven.repo.local={settings.cache_dir / 'm2'}",
            "-f",
            str(POM),
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={staging}",
        ],
        cwd=staging.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or not any(staging.glob("kafka_2.13-*.jar")):
        raise RuntimeError(
            f"resolving Kafka with Maven failed (exit {result.returncode}):\n"
            f"{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )
    shutil.rmtree(lib, ignore_errors=True)
    staging.rename(lib)
    marker.write_text(digest + "\n")
    return lib


def _cluster_id() -> str:
    # Kafka's Uuid text form: URL-safe base64 of 16 bytes, unpadded; never leading '-' (CLI flag).
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


def _server_properties(settings: Settings, log_dir: Path) -> str:
    port, cport = settings.ports.kafka, settings.ports.kafka_controller
    props = {
        "process.roles": "broker,controller",
        "node.id": str(NODE_ID),
        "controller.quorum.voters": f"{NODE_ID}@{HOST}:{cport}",
        "listeners": f"PLAINTEXT://{HOST}:{port},CONTROLLER://{HOST}:{cport}",
        "advertised.listeners": f"PLAINTEXT://{HOST}:{port}",
        "inter.broker.listener.name": "PLAINTEXT",
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(log_dir),
        "num.partitions": "1",
        "auto.create.topics.enable": "true",
        "default.replication.factor": "1",
        "min.insync.replicas": "1",
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        # A single consumer group member should not wait 3 s for peers that never come.
        "group.initial.rebalance.delay.ms": "0",
        # Alert packets with cutouts are ~100 kB; ZTF's brokers allow bigger messages too.
        "message.max.bytes": "10485760",
        "replica.fetch.max.bytes": "10485760",
    }
    return "".join(f"{key}={value}\n" for key, value in props.items())


def managed(settings: Settings) -> Managed:
    """Writes the broker's config, formats its storage on first use, and returns its spec."""
    lib = ensure_installed(settings)
    run = settings.run_dir / "kafka"
    log_dir = run / "data"
    log_dir.mkdir(parents=True, exist_ok=True)
    config = run / "server.properties"
    config.write_text(_server_properties(settings, log_dir))
    log4j = run / "log4j.properties"
    log4j.write_text(_LOG4J)
    java = _java()
    classpath = f"{lib}/*"
    jvm = [java, "-Xms256m", "-Xmx512m", f"-Dlog4j.configuration=file:{log4j}", "-cp", classpath]
    if not (log_dir / "meta.properties").exists():
        result = subprocess.run(
            [*jvm, "kafka.tools.StorageTool", "format", "-t", _cluster_id(), "-c", str(config)],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"formatting Kafka storage in {log_dir} failed (exit {result.returncode}):\n"
                f"{result.stdout[-3000:]}{result.stderr[-3000:]}"
            )
    port = settings.ports.kafka
    return Managed(
        name="kafka",
        argv=[*jvm, "kafka.Kafka", str(config)],
        ready=lambda: port_open(port) and broker_registered(port),
        cwd=run,
        startup_timeout=90.0,
    )


def broker_registered(port: int, host: str = HOST, timeout: float = 2.0) -> bool:
    """True when the broker answers a Metadata request listing itself.

    Kafka accepts connections (and even ApiVersions) before the controller unfences it; only an
    unfenced broker appears in Metadata responses, and then producers and consumers work.
    """
    # Metadata v4 (non-flexible; kept by Kafka 4.x): no topics, no auto-creation.
    client_id = b"skymesh-probe"
    correlation_id = 0x5C1
    body = struct.pack(">hhih", 3, 4, correlation_id, len(client_id)) + client_id
    body += struct.pack(">ib", 0, 0)
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(struct.pack(">i", len(body)) + body)
            size = struct.unpack(">i", _recv_exact(sock, 4))[0]
            response = _recv_exact(sock, size)
    except (OSError, struct.error):
        return False
    # correlation_id, throttle_time_ms, brokers: [node_id, host, port, rack], ...
    if len(response) < 12:
        return False
    got_id, _throttle, n_brokers = struct.unpack_from(">iii", response)
    if got_id != correlation_id or n_brokers < 1:
        return False
    return struct.unpack_from(">i", response, 12)[0] == NODE_ID


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < n:
        chunk = sock.recv(n - len(chunks))
        if not chunk:
            raise OSError("connection closed")
        chunks += chunk
    return bytes(chunks)
