"""The ml service scores alert batches through the real Triton exactly like onnxruntime does.

Expected scores come from onnxruntime run here on the same ONNX files and the same inputs.
Triton's statistics tell which path a request took: the ZTF ensemble, or one model at a time.
The model repository's configurations are checked against the ONNX graphs without a server.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import onnxruntime as ort
import pytest
import tritonclient.grpc as triton_grpc
from google.protobuf import text_format
from tritonclient.grpc import model_config_pb2

from services.broker.surveys.ml_inputs import make_triplet, ztf_features
from services.ml.registry import ENSEMBLES, MODELS, ZTF
from skymesh.config import Settings
from skymesh.infra import stack
from skymesh.infra.triton import MODEL_REPOSITORY
from skymesh.ml.v1 import ml_pb2, ml_pb2_grpc
from skymesh.runtime.clients import service_channel
from tests.conftest import mesh_settings
from tests.polling import wait_for

REPOSITORY_MODELS = sorted(p.parent.parent.name for p in MODEL_REPOSITORY.glob("*/1/model.onnx"))
ENSEMBLE = ENSEMBLES[ZTF]
TRIPLET_DIMS = [63, 63, 3]
FEATURE_DIMS = [25]


def onnx_session(model: str) -> ort.InferenceSession:
    path = MODEL_REPOSITORY / model / "1" / "model.onnx"
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def onnx_scores(model: str, triplets: np.ndarray, features: np.ndarray) -> np.ndarray:
    """The model's scores from onnxruntime directly, inputs told apart by their ONNX shapes."""
    session = onnx_session(model)
    by_dims = {tuple(TRIPLET_DIMS): triplets, tuple(FEATURE_DIMS): features}
    feeds = {tensor.name: by_dims[tuple(tensor.shape[1:])] for tensor in session.get_inputs()}
    (scores,) = session.run(None, feeds)
    assert scores.shape == (len(triplets), 1)
    return scores[:, 0]


@pytest.fixture(scope="module")
def inputs(ztf_alerts: dict[int, dict[str, Any]]) -> tuple[list[int], np.ndarray, np.ndarray]:
    """candids, triplets [N, 63, 63, 3] and features [N, 25] of every bundled ZTF alert."""
    candids = sorted(ztf_alerts)
    triplets = np.stack([make_triplet(ztf_alerts[c]) for c in candids])
    features = np.stack([ztf_features(ztf_alerts[c]["candidate"]) for c in candids])
    return candids, triplets, features


def alert_inputs(
    candids: list[int], triplets: np.ndarray, features: np.ndarray
) -> list[ml_pb2.AlertInput]:
    return [
        ml_pb2.AlertInput(candid=c, triplet=t.tobytes(), features=f.tolist())
        for c, t, f in zip(candids, triplets, features, strict=True)
    ]


def _start(tmp: Path, components: tuple[str, ...]) -> tuple[Settings, Any]:
    settings = mesh_settings(tmp)
    return settings, stack.up(settings, only=components, report=lambda _: None)


@pytest.fixture(scope="module")
def ml(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Triton on the project's model repository and the ml service, on free ports."""
    settings, supervisor = _start(tmp_path_factory.mktemp("ml-run"), ("triton", "ml"))
    try:
        yield settings
    finally:
        supervisor.stop_all()


@pytest.fixture(scope="module")
def ml_without_triton(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """The ml service alone: its Triton port has nothing listening."""
    settings, supervisor = _start(tmp_path_factory.mktemp("ml-alone-run"), ("ml",))
    try:
        yield settings
    finally:
        supervisor.stop_all()


@pytest.fixture
async def stub(ml: Settings) -> AsyncIterator[ml_pb2_grpc.MLServiceStub]:
    async with service_channel(ml, "ml", caller="test") as channel:
        yield ml_pb2_grpc.MLServiceStub(channel)


def triton_client(settings: Settings) -> triton_grpc.InferenceServerClient:
    return triton_grpc.InferenceServerClient(url=settings.address("triton_grpc"))


def successful_requests(settings: Settings, model: str) -> int:
    client = triton_client(settings)
    try:
        (stats,) = client.get_inference_statistics(model).model_stats
    finally:
        client.close()
    return stats.inference_stats.success.count


def request_counts(settings: Settings, models: list[str]) -> dict[str, int]:
    return {model: successful_requests(settings, model) for model in models}


def expect_requests(settings: Settings, before: dict[str, int], expected: dict[str, int]) -> None:
    """Each model of ``before`` has served ``expected`` more requests. Triton counts a request
    when it releases it, just after its response: polled, with a deadline."""
    wait_for(
        lambda: {m: n - before[m] for m, n in request_counts(settings, list(before)).items()},
        lambda counted: counted == expected,
        timeout=30,
        what=f"Triton's request counts to move by {expected}",
    )


@pytest.mark.integration
async def test_scores_every_bundled_ztf_alert_like_onnxruntime(
    stub: ml_pb2_grpc.MLServiceStub, inputs: tuple[list[int], np.ndarray, np.ndarray]
) -> None:
    candids, triplets, features = inputs
    assert len(candids) == 28
    response = await stub.Score(
        ml_pb2.ScoreRequest(survey="ZTF", alerts=alert_inputs(candids, triplets, features))
    )
    assert [result.candid for result in response.results] == candids
    assert sorted(response.versions) == REPOSITORY_MODELS
    assert response.versions["braai"] == "d6_m9"
    assert all(response.versions[m] == "d1_dnn_20201130" for m in REPOSITORY_MODELS if "acai" in m)
    for model in REPOSITORY_MODELS:
        served = np.array([result.scores[model] for result in response.results])
        expected = onnx_scores(model, triplets, features)
        np.testing.assert_allclose(served, expected, rtol=0, atol=1e-5, err_msg=model)
        assert np.all((served >= 0) & (served <= 1)), model


@pytest.mark.integration
async def test_batches_larger_than_max_batch_size_are_chunked(
    ml: Settings,
    stub: ml_pb2_grpc.MLServiceStub,
    inputs: tuple[list[int], np.ndarray, np.ndarray],
) -> None:
    client = triton_client(ml)
    try:
        max_batch = {
            m: client.get_model_config(m).config.max_batch_size for m in ("braai", "acai_o")
        }
    finally:
        client.close()
    count = 2 * max(max_batch.values()) + 3
    picks = np.arange(count) % len(inputs[0])
    candids = [inputs[0][i] for i in picks]
    triplets, features = inputs[1][picks], inputs[2][picks]
    before = {m: successful_requests(ml, m) for m in max_batch}

    response = await stub.Score(
        ml_pb2.ScoreRequest(
            survey="ZTF",
            alerts=alert_inputs(candids, triplets, features),
            models=list(max_batch),
        )
    )

    assert dict(response.versions).keys() == max_batch.keys()
    assert [result.candid for result in response.results] == candids
    expect_requests(ml, before, {m: math.ceil(count / size) for m, size in max_batch.items()})
    for model in max_batch:
        served = np.array([result.scores[model] for result in response.results])
        expected = onnx_scores(model, triplets, features)
        np.testing.assert_allclose(served, expected, rtol=0, atol=1e-5, err_msg=model)


@pytest.mark.integration
async def test_every_ztf_model_scores_from_one_ensemble_request(
    ml: Settings,
    stub: ml_pb2_grpc.MLServiceStub,
    inputs: tuple[list[int], np.ndarray, np.ndarray],
) -> None:
    candids, triplets, features = inputs
    before = request_counts(ml, [ENSEMBLE, *REPOSITORY_MODELS])

    response = await stub.Score(
        ml_pb2.ScoreRequest(survey="ZTF", alerts=alert_inputs(candids, triplets, features))
    )

    # One request reached Triton, and each member ran once from it (not once more on its own).
    expect_requests(ml, before, dict.fromkeys(before, 1))
    assert sorted(response.versions) == REPOSITORY_MODELS
    for model in REPOSITORY_MODELS:
        served = np.array([result.scores[model] for result in response.results])
        expected = onnx_scores(model, triplets, features)
        np.testing.assert_allclose(served, expected, rtol=0, atol=1e-5, err_msg=model)


@pytest.mark.integration
async def test_a_batch_larger_than_the_ensembles_max_batch_size_is_chunked(
    ml: Settings,
    stub: ml_pb2_grpc.MLServiceStub,
    inputs: tuple[list[int], np.ndarray, np.ndarray],
) -> None:
    client = triton_client(ml)
    try:
        max_batch = client.get_model_config(ENSEMBLE).config.max_batch_size
    finally:
        client.close()
    count = 2 * max_batch + 3
    picks = np.arange(count) % len(inputs[0])
    candids = [inputs[0][i] for i in picks]
    triplets, features = inputs[1][picks], inputs[2][picks]
    before = request_counts(ml, [ENSEMBLE, *REPOSITORY_MODELS])

    response = await stub.Score(
        ml_pb2.ScoreRequest(survey="ZTF", alerts=alert_inputs(candids, triplets, features))
    )

    expect_requests(ml, before, dict.fromkeys(before, 3))
    assert [result.candid for result in response.results] == candids
    for model in REPOSITORY_MODELS:
        served = np.array([result.scores[model] for result in response.results])
        expected = onnx_scores(model, triplets, features)
        np.testing.assert_allclose(served, expected, rtol=0, atol=1e-5, err_msg=model)


@pytest.mark.integration
async def test_a_subset_of_the_members_runs_only_those_members(
    ml: Settings,
    stub: ml_pb2_grpc.MLServiceStub,
    inputs: tuple[list[int], np.ndarray, np.ndarray],
) -> None:
    candids, triplets, features = inputs
    wanted = ["acai_v", "braai"]
    before = request_counts(ml, [ENSEMBLE, *REPOSITORY_MODELS])

    response = await stub.Score(
        ml_pb2.ScoreRequest(
            survey="ZTF", alerts=alert_inputs(candids, triplets, features), models=wanted
        )
    )

    # Triton runs only the steps whose outputs the request asks for.
    expect_requests(ml, before, {m: int(m in (ENSEMBLE, *wanted)) for m in before})
    assert dict(response.versions) == {"acai_v": "d1_dnn_20201130", "braai": "d6_m9"}
    for model in wanted:
        served = np.array([result.scores[model] for result in response.results])
        assert all(set(result.scores) == set(wanted) for result in response.results)
        expected = onnx_scores(model, triplets, features)
        np.testing.assert_allclose(served, expected, rtol=0, atol=1e-5, err_msg=model)


@pytest.mark.integration
async def test_a_request_without_features_goes_to_its_model_alone(
    ml: Settings,
    stub: ml_pb2_grpc.MLServiceStub,
    inputs: tuple[list[int], np.ndarray, np.ndarray],
) -> None:
    candids, triplets, _ = inputs
    alerts = [
        ml_pb2.AlertInput(candid=c, triplet=t.tobytes())
        for c, t in zip(candids, triplets, strict=True)
    ]
    before = request_counts(ml, [ENSEMBLE, *REPOSITORY_MODELS])

    await stub.Score(ml_pb2.ScoreRequest(survey="ZTF", alerts=alerts, models=["braai"]))

    # The ensemble takes features too, which braai's callers need not send.
    expect_requests(ml, before, {m: int(m == "braai") for m in before})


@pytest.mark.integration
async def test_a_model_without_features_needs_none(
    stub: ml_pb2_grpc.MLServiceStub, inputs: tuple[list[int], np.ndarray, np.ndarray]
) -> None:
    candids, triplets, _ = inputs
    alerts = [
        ml_pb2.AlertInput(candid=c, triplet=t.tobytes())
        for c, t in zip(candids, triplets, strict=True)
    ]
    response = await stub.Score(ml_pb2.ScoreRequest(survey="ZTF", alerts=alerts, models=["braai"]))
    assert dict(response.versions) == {"braai": "d6_m9"}
    served = np.array([result.scores["braai"] for result in response.results])
    expected = onnx_scores("braai", triplets, np.zeros((len(candids), 25), np.float32))
    np.testing.assert_allclose(served, expected, rtol=0, atol=1e-5)


@pytest.mark.integration
async def test_an_empty_batch_scores_nothing(stub: ml_pb2_grpc.MLServiceStub) -> None:
    response = await stub.Score(ml_pb2.ScoreRequest(survey="ZTF", models=["acai_n"]))
    assert list(response.results) == []
    assert dict(response.versions) == {"acai_n": "d1_dnn_20201130"}


def short_triplet(alerts: list[ml_pb2.AlertInput]) -> ml_pb2.ScoreRequest:
    alerts[1].triplet = b"\0" * 100
    return ml_pb2.ScoreRequest(survey="ZTF", alerts=alerts)


def missing_feature(alerts: list[ml_pb2.AlertInput]) -> ml_pb2.ScoreRequest:
    del alerts[1].features[-1]
    return ml_pb2.ScoreRequest(survey="ZTF", alerts=alerts)


def survey_without_models(alerts: list[ml_pb2.AlertInput]) -> ml_pb2.ScoreRequest:
    return ml_pb2.ScoreRequest(survey="WNTR", alerts=alerts)


def unknown_model(alerts: list[ml_pb2.AlertInput]) -> ml_pb2.ScoreRequest:
    return ml_pb2.ScoreRequest(survey="ZTF", alerts=alerts, models=["acai_h", "braii"])


@pytest.mark.integration
@pytest.mark.parametrize(
    ("malformed", "message"),
    [
        (short_triplet, "alerts[1] (candid 42): triplet has 100 bytes, expected 47628"),
        (missing_feature, "alerts[1] (candid 42): 24 features, expected 25"),
        (survey_without_models, "no models are configured for survey 'WNTR'"),
        (unknown_model, "unknown model(s) for survey ZTF: 'braii'"),
    ],
)
async def test_a_malformed_request_is_invalid_argument_naming_the_problem(
    stub: ml_pb2_grpc.MLServiceStub,
    inputs: tuple[list[int], np.ndarray, np.ndarray],
    malformed: Callable[[list[ml_pb2.AlertInput]], ml_pb2.ScoreRequest],
    message: str,
) -> None:
    alerts = alert_inputs([7, 42], inputs[1][:2], inputs[2][:2])
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await stub.Score(malformed(alerts))
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert message in failure.value.details()


@pytest.mark.integration
async def test_list_models_shows_the_registry_ready(stub: ml_pb2_grpc.MLServiceStub) -> None:
    response = await stub.ListModels(ml_pb2.ListModelsRequest())
    models = {model.name: model for model in response.models}
    assert sorted(models) == REPOSITORY_MODELS
    assert all(model.ready and model.survey == "ZTF" for model in models.values())
    assert list(models["braai"].inputs) == ["triplet"]
    assert sorted(models["acai_v"].inputs) == ["features", "triplet"]
    assert models["acai_v"].version == "d1_dnn_20201130"


async def score_when_available(
    stub: ml_pb2_grpc.MLServiceStub, request: ml_pb2.ScoreRequest
) -> ml_pb2.ScoreResponse:
    """Retries on UNAVAILABLE, as the broker does (the channel to Triton may be backing off)."""
    while True:
        try:
            return await stub.Score(request)
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.UNAVAILABLE:
                raise
        await asyncio.sleep(0.2)


@pytest.mark.integration
async def test_without_triton_score_is_unavailable_and_recovers_when_triton_is_back(
    ml_without_triton: Settings, inputs: tuple[list[int], np.ndarray, np.ndarray]
) -> None:
    settings = ml_without_triton
    candids, triplets, features = (part[:3] for part in inputs)
    request = ml_pb2.ScoreRequest(
        survey="ZTF", alerts=alert_inputs(candids, triplets, features), models=["acai_h"]
    )
    async with service_channel(settings, "ml", caller="test") as channel:
        stub = ml_pb2_grpc.MLServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as failure:
            await stub.Score(request)
        assert failure.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "triton" in failure.value.details()
        listed = await stub.ListModels(ml_pb2.ListModelsRequest())
        assert sorted(m.name for m in listed.models) == REPOSITORY_MODELS
        assert not any(m.ready for m in listed.models)

        # Triton comes up on the port the ml service was given: no restart of the service.
        # (The fixture stops it with the rest of this run folder.)
        await asyncio.to_thread(stack.up, settings, only=("triton",), report=lambda _: None)
        async with asyncio.timeout(60):
            response = await score_when_available(stub, request)
    served = np.array([result.scores["acai_h"] for result in response.results])
    expected = onnx_scores("acai_h", triplets, features)
    np.testing.assert_allclose(served, expected, rtol=0, atol=1e-5)


# The model repository, checked against the ONNX graphs (no server needed).


def read_config(path: Path) -> model_config_pb2.ModelConfig:
    return text_format.Parse(path.read_text(), model_config_pb2.ModelConfig())


def test_the_registry_and_the_repository_hold_the_same_models() -> None:
    assert sorted(spec.name for spec in MODELS) == REPOSITORY_MODELS
    assert len(REPOSITORY_MODELS) == 6


@pytest.mark.parametrize("model", REPOSITORY_MODELS)
def test_both_configurations_fit_the_onnx_graph(model: str) -> None:
    folder = MODEL_REPOSITORY / model
    graph = onnx_session(model).get_inputs()
    graph_dims = [list(tensor.shape[1:]) for tensor in graph]
    cpu = read_config(folder / "config.pbtxt")
    gpu = read_config(folder / "configs" / "gpu.pbtxt")
    assert cpu.name == gpu.name == model
    assert cpu.max_batch_size == gpu.max_batch_size > 0
    for config in (cpu, gpu):
        assert [list(tensor.dims) for tensor in config.input] == graph_dims
        assert all(t.data_type == model_config_pb2.TYPE_FP32 for t in config.input)
        assert [list(tensor.dims) for tensor in config.output] == [[1]]
    # ONNX Runtime serves the graph's own tensor names; the CPU variant may rename them.
    assert gpu.platform == "onnxruntime_onnx"
    assert [tensor.name for tensor in gpu.input] == [tensor.name for tensor in graph]
    assert [t.name for t in gpu.output] == [t.name for t in onnx_session(model).get_outputs()]
    assert [group.kind for group in gpu.instance_group] == [
        model_config_pb2.ModelInstanceGroup.KIND_GPU
    ]
    # CPU: one instance, one onnxruntime thread (a 2-core machine runs six of them).
    assert cpu.backend == "python"
    assert [(g.kind, g.count) for g in cpu.instance_group] == [
        (model_config_pb2.ModelInstanceGroup.KIND_CPU, 1)
    ]
    assert cpu.parameters["intra_op_num_threads"].string_value == "1"
    assert (folder / "LICENSE").read_text().startswith("MIT License")


@pytest.mark.parametrize("variant", ["config.pbtxt", "configs/gpu.pbtxt"])
def test_the_ensemble_steps_use_the_tensors_their_members_declare(variant: str) -> None:
    """Each configuration of the ensemble over the same configuration of its members: the GPU
    members (ONNX Runtime) name their tensors after the graphs, the CPU ones need not."""
    folder = MODEL_REPOSITORY / ENSEMBLE
    ensemble = read_config(folder / variant)
    assert ensemble.name == ENSEMBLE
    assert ensemble.platform == "ensemble"
    # Triton loads a model only with a version folder, though an ensemble has nothing in it.
    assert (folder / "1").is_dir()
    inputs = {tensor.name: tensor for tensor in ensemble.input}
    outputs = {tensor.name: tensor for tensor in ensemble.output}
    steps = ensemble.ensemble_scheduling.step
    members = [step.model_name for step in steps]
    assert sorted(members) == sorted(spec.name for spec in MODELS if spec.survey == ZTF)
    # One output per member, named after it (its classifications.<model> key).
    assert sorted(outputs) == sorted(members)
    for step in steps:
        member = read_config(MODEL_REPOSITORY / step.model_name / variant)
        assert member.max_batch_size == ensemble.max_batch_size, step.model_name
        member_inputs = {tensor.name: tensor for tensor in member.input}
        assert sorted(step.input_map) == sorted(member_inputs), step.model_name
        for key, value in step.input_map.items():
            assert list(inputs[value].dims) == list(member_inputs[key].dims), (key, value)
            assert inputs[value].data_type == member_inputs[key].data_type
        (member_output,) = member.output
        assert dict(step.output_map) == {member_output.name: step.model_name}
        assert list(outputs[step.model_name].dims) == list(member_output.dims)
        assert outputs[step.model_name].data_type == member_output.data_type


def test_every_model_py_is_the_same_entry_point() -> None:
    entry_points = {
        (MODEL_REPOSITORY / m / "1" / "model.py").read_text() for m in REPOSITORY_MODELS
    }
    assert len(entry_points) == 1
