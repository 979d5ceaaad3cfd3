"""Synthetic alert streams made from the bundled real ZTF alerts, for benchmarks and load tests."""

from __future__ import annotations

import copy
import io
import random
from typing import Any

import fastavro

from skymesh.config import REPO_ROOT

ZTF_DIR = REPO_ROOT / "data" / "alerts" / "ztf"
BENCH_CANDID_BASE = 3 * 10**18
# Object ids of the synthetic alerts start so (two alerts each).
SYNTHETIC_OBJECT_PREFIX = "ZTF26bench"


def bundled_packets() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(writer schema, packet) of every bundled ZTF alert."""
    found = []
    for path in sorted(ZTF_DIR.rglob("*.avro")):
        with path.open("rb") as fh:
            reader = fastavro.reader(fh)
            found.extend((reader.writer_schema, packet) for packet in reader)
    return found


def synthetic_messages(n: int, seed: int, first: int = 0) -> list[bytes]:
    """n Avro messages: real packets with new candids, object ids (two alerts per object),
    and jittered positions, times and magnitudes; cutouts and history stay real."""
    rng = random.Random(seed)
    sources = bundled_packets()
    messages = []
    for index in range(first, first + n):
        schema, source = sources[index % len(sources)]
        packet = copy.deepcopy(source)
        candid = BENCH_CANDID_BASE + index
        candidate = packet["candidate"]
        candidate["candid"] = candid
        candidate["jd"] += rng.uniform(-0.5, 0.5)
        candidate["magpsf"] += rng.gauss(0, 0.3)
        candidate["ra"] = (candidate["ra"] + rng.uniform(-0.05, 0.05)) % 360
        candidate["dec"] = max(-89.9, min(89.9, candidate["dec"] + rng.uniform(-0.05, 0.05)))
        packet["candid"] = candid
        packet["objectId"] = f"{SYNTHETIC_OBJECT_PREFIX}{index // 2:07d}"
        buffer = io.BytesIO()
        fastavro.writer(buffer, schema, [packet])
        messages.append(buffer.getvalue())
    return messages
