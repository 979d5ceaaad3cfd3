"""How the ml service reads a Triton ensemble's config, and which requests it takes (no server).

The repository's own configs are parsed here; the integration tests serve them from Triton.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from google.protobuf import text_format
from tritonclient.grpc import model_config_pb2

from services.ml.registry import ENSEMBLES, MODELS, ZTF, ModelSpec, Registry
from services.ml.triton_client import TritonFailure, bind_ensemble
from skymesh.config import REPO_ROOT

REPOSITORY = REPO_ROOT / "models" / "triton"
SPECS = {spec.name: spec for spec in MODELS}


def config(path: Path) -> model_config_pb2.ModelConfig:
    return text_format.Parse(path.read_text(), model_config_pb2.ModelConfig())


@pytest.fixture(params=["config.pbtxt", "configs/gpu.pbtxt"])
def ensemble_config(request: pytest.FixtureRequest) -> model_config_pb2.ModelConfig:
    return config(REPOSITORY / ENSEMBLES[ZTF] / request.param)


def test_both_configurations_bind_every_ztf_model_to_the_output_named_after_it(
    ensemble_config: model_config_pb2.ModelConfig,
) -> None:
    binding = bind_ensemble(ENSEMBLES[ZTF], Registry().of_survey(ZTF), ensemble_config)
    assert dict(binding.outputs) == {name: name for name in SPECS}
    assert sorted((tensor, kind.name) for tensor, kind in binding.inputs) == [
        ("features", "features"),
        ("triplets", "triplet"),
    ]
    assert binding.max_batch_size == 128


def test_the_ensemble_takes_requests_of_members_that_need_all_its_inputs() -> None:
    config_ = config(REPOSITORY / ENSEMBLES[ZTF] / "config.pbtxt")
    binding = bind_ensemble(ENSEMBLES[ZTF], Registry().of_survey(ZTF), config_)
    assert binding.covers(list(MODELS))
    assert binding.covers([SPECS["braai"], SPECS["acai_o"]])
    assert binding.covers([SPECS["acai_h"]])
    # braai alone needs no features, and the ensemble needs them.
    assert not binding.covers([SPECS["braai"]])
    assert not binding.covers([])
    other = ModelSpec("acai_x", "v0", ZTF, SPECS["acai_h"].inputs)
    assert not binding.covers([SPECS["acai_h"], other])


def test_a_step_outside_the_surveys_models_is_refused() -> None:
    config_ = config(REPOSITORY / ENSEMBLES[ZTF] / "config.pbtxt")
    without_braai = [spec for spec in MODELS if spec.name != "braai"]
    with pytest.raises(TritonFailure, match="step 'braai' is not one of the models"):
        bind_ensemble(ENSEMBLES[ZTF], without_braai, config_)


def test_a_member_config_is_not_an_ensemble() -> None:
    with pytest.raises(TritonFailure, match="not an ensemble"):
        bind_ensemble("braai", list(MODELS), config(REPOSITORY / "braai" / "config.pbtxt"))


def test_a_step_whose_output_is_not_an_ensemble_output_is_refused() -> None:
    config_ = config(REPOSITORY / ENSEMBLES[ZTF] / "config.pbtxt")
    del config_.output[0]
    with pytest.raises(TritonFailure, match="step 'braai' must map one output"):
        bind_ensemble(ENSEMBLES[ZTF], list(MODELS), config_)


def test_without_ensembles_the_registry_still_selects_models() -> None:
    registry = Registry(ensembles={})
    assert registry.ensembles == {}
    assert [spec.name for spec in registry.select(ZTF, [])] == list(SPECS)
