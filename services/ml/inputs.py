"""What a model takes from an ``AlertInput``, and how a batch of them becomes arrays.

Each model input is recognised by its shape in the model's Triton config, so the CPU config
("triplets") and the GPU config (the ONNX graph's own names, e.g. "conv1_input") both work.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from skymesh.ml.v1 import ml_pb2

TRIPLET_DIMS = (63, 63, 3)
TRIPLET_BYTES = int(np.prod(TRIPLET_DIMS)) * 4  # float32
FEATURE_COUNT = 25


def _where(index: int, alert: ml_pb2.AlertInput) -> str:
    return f"alerts[{index}] (candid {alert.candid})"


def triplet_array(alerts: Sequence[ml_pb2.AlertInput]) -> np.ndarray:
    """float32 [N, 63, 63, 3] from each alert's row-major float32 bytes."""
    for index, alert in enumerate(alerts):
        if len(alert.triplet) != TRIPLET_BYTES:
            raise ValueError(
                f"{_where(index, alert)}: triplet has {len(alert.triplet)} bytes, expected "
                f"{TRIPLET_BYTES} (float32 {list(TRIPLET_DIMS)}, row-major)"
            )
    joined = b"".join(alert.triplet for alert in alerts)
    return np.frombuffer(joined, dtype="<f4").reshape(len(alerts), *TRIPLET_DIMS)


def feature_array(alerts: Sequence[ml_pb2.AlertInput]) -> np.ndarray:
    """float32 [N, 25]: each alert's features, in the survey's documented order."""
    for index, alert in enumerate(alerts):
        if len(alert.features) != FEATURE_COUNT:
            raise ValueError(
                f"{_where(index, alert)}: {len(alert.features)} features, expected "
                f"{FEATURE_COUNT} (the order in models/README.md)"
            )
    values = itertools.chain.from_iterable(alert.features for alert in alerts)
    flat = np.fromiter(values, dtype=np.float32, count=len(alerts) * FEATURE_COUNT)
    return flat.reshape(len(alerts), FEATURE_COUNT)


@dataclass(frozen=True)
class InputKind:
    """One part of an ``AlertInput`` that models consume."""

    # The AlertInput field, as ListModels reports it.
    name: str
    # Dims of one alert's tensor, without the batch dimension.
    dims: tuple[int, ...]
    to_array: Callable[[Sequence[ml_pb2.AlertInput]], np.ndarray]


TRIPLET = InputKind("triplet", TRIPLET_DIMS, triplet_array)
FEATURES = InputKind("features", (FEATURE_COUNT,), feature_array)
INPUT_KINDS = (TRIPLET, FEATURES)


def batch_arrays(
    alerts: Sequence[ml_pb2.AlertInput], kinds: set[InputKind]
) -> dict[InputKind, np.ndarray]:
    """The arrays the selected models need; raises ValueError naming a malformed alert."""
    return {kind: kind.to_array(alerts) for kind in INPUT_KINDS if kind in kinds}
