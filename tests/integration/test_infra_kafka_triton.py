"""The real Kafka and Triton start, serve, and stop without leaving a process behind."""

from __future__ import annotations

import asyncio
import dataclasses
import gzip
import io
import uuid
from pathlib import Path

import fastavro
import numpy as np
import onnxruntime as ort
import pytest
import tritonclient.grpc as grpcclient
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from astropy.io import fits

from skymesh.config import REPO_ROOT, Settings
from skymesh.infra import kafka, triton
from skymesh.infra.process import Supervisor, free_port, group_alive

pytestmark = pytest.mark.integration

NIGHT = "20200202"
ALERT = "1127107111615015007.avro"
ALERT_DIR = REPO_ROOT / "data" / "alerts" / "ztf" / NIGHT
BRAAI_ONNX = triton.MODEL_REPOSITORY / "braai" / "1" / "model.onnx"


def _settings(tmp_path: Path, **ports: int) -> Settings:
    base = Settings.from_env()
    return dataclasses.replace(
        base, ports=dataclasses.replace(base.ports, **ports), run_dir=tmp_path / "run"
    )


def _cutout(stamp: bytes) -> np.ndarray:
    with fits.open(io.BytesIO(gzip.decompress(stamp)), ignore_missing_simple=True) as hdus:
        image = np.nan_to_num(np.asarray(hdus[0].data, dtype=np.float32))
    image /= np.linalg.norm(image)
    rows, cols = image.shape
    if (rows, cols) != (63, 63):
        image = np.pad(image, [(0, 63 - rows), (0, 63 - cols)], constant_values=1e-9)
    return image


def triplet(path: Path) -> np.ndarray:
    """Kowalski's braai input: science, template, difference stacked on the last axis."""
    with path.open("rb") as f:
        alert = next(iter(fastavro.reader(f)))
    kinds = ("cutoutScience", "cutoutTemplate", "cutoutDifference")
    return np.stack([_cutout(alert[k]["stampData"]) for k in kinds], axis=-1)


@pytest.mark.integration
def test_kafka_round_trip_and_clean_stop(tmp_path: Path) -> None:
    settings = _settings(tmp_path, kafka=free_port(), kafka_controller=free_port())
    supervisor = Supervisor(settings.run_dir)
    try:
        proc = supervisor.start(kafka.managed(settings))
        payload = uuid.uuid4().bytes
        assert asyncio.run(_round_trip(settings.kafka_bootstrap, payload)) == payload
    finally:
        stopped = supervisor.stop_all()
    assert stopped == ["kafka"]
    assert not group_alive(proc.pid)


async def _round_trip(bootstrap: str, payload: bytes) -> bytes:
    topic = "ztf_20200202_programid1"
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, payload)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id="test", auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), timeout=30)
        await consumer.commit()
    finally:
        await consumer.stop()
    return record.value


@pytest.mark.integration
def test_triton_scores_braai_like_onnxruntime(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path, triton_grpc=free_port(), triton_http=free_port(), triton_metrics=free_port()
    )
    folder = ALERT_DIR
    one = triplet(folder / ALERT)[None]
    night = np.stack([triplet(p) for p in sorted(folder.glob("*.avro"))])
    session = ort.InferenceSession(str(BRAAI_ONNX), providers=["CPUExecutionProvider"])

    supervisor = Supervisor(settings.run_dir)
    try:
        proc = supervisor.start(triton.managed(settings))
        client = grpcclient.InferenceServerClient(url=settings.address("triton_grpc"))
        assert client.is_server_ready()
        assert client.is_model_ready("braai")
        for batch in (one, night):
            request = grpcclient.InferInput("triplets", list(batch.shape), "FP32")
            request.set_data_from_numpy(batch)
            result = client.infer(
                "braai", [request], outputs=[grpcclient.InferRequestedOutput("score")]
            )
            scores = result.as_numpy("score")
            expected = session.run(None, {"conv1_input": batch})[0]
            assert scores.shape == (len(batch), 1)
            np.testing.assert_allclose(scores, expected, rtol=0, atol=1e-5)
        client.close()
    finally:
        stopped = supervisor.stop_all()
    assert stopped == ["triton"]
    assert not group_alive(proc.pid)
