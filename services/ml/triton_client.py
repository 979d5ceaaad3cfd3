"""Batched scoring through Triton's gRPC API (``tritonclient.grpc.aio``).

Tensor names, shapes and ``max_batch_size`` come from each model's Triton config, read on
first use, so the same client serves the CPU and the GPU configurations of the repository.
A survey's ensemble (see the registry) takes each chunk's inputs once and answers every
member's score; its members are its config's steps.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import tritonclient.grpc.aio as triton_aio
from prometheus_client import Histogram
from tritonclient.grpc import model_config_pb2
from tritonclient.utils import InferenceServerException

from services.ml.inputs import InputKind
from services.ml.registry import ModelSpec
from skymesh.runtime.errors import Unavailable
from skymesh.runtime.metrics import LATENCY_BUCKETS

log = logging.getLogger(__name__)

# Bounds a call to a Triton that hangs, so the broker sees UNAVAILABLE and retries.
INFER_TIMEOUT_S = 60.0
CONFIG_TIMEOUT_S = 10.0
READY_TIMEOUT_S = 2.0
# Chunks of one model (or ensemble) in flight at once: enough to keep Triton's queue fed, while
# a large request does not hold a copy of every chunk's tensors at the same time.
CHUNKS_IN_FLIGHT = 4
# Triton's answers that mean "not now" rather than "wrong": the caller should retry.
RETRYABLE = {"StatusCode.UNAVAILABLE", "StatusCode.DEADLINE_EXCEEDED", "StatusCode.NOT_FOUND"}


TRITON_SECONDS = Histogram(
    "skymesh_ml_triton_request_seconds",
    "Time of one Triton inference request (a chunk of alerts), by model or ensemble.",
    ["model"],
    buckets=LATENCY_BUCKETS,
)


class TritonUnavailable(Unavailable):
    """Triton is unreachable, or does not serve the model now: retry later."""


class TritonFailure(RuntimeError):
    """Triton answered with an error that retrying will not fix."""


def _error(model: str, what: str, exc: InferenceServerException) -> Exception:
    message = f"triton: {what} of model {model!r} failed: {exc.message()}"
    if exc.status() in RETRYABLE:
        return TritonUnavailable(message)
    return TritonFailure(message)


@dataclass(frozen=True)
class ModelBinding:
    """A model's tensors as its Triton config declares them."""

    name: str
    max_batch_size: int
    # Triton input name -> the AlertInput part it takes.
    inputs: tuple[tuple[str, InputKind], ...]
    output: str


@dataclass(frozen=True)
class EnsembleBinding:
    """A Triton ensemble: the inputs sent once per chunk, one output per member model."""

    name: str
    max_batch_size: int
    # Triton input name -> the AlertInput part it takes.
    inputs: tuple[tuple[str, InputKind], ...]
    # Member model -> the ensemble output that carries its score (from the ensemble's steps).
    outputs: Mapping[str, str]

    def covers(self, specs: Sequence[ModelSpec]) -> bool:
        """Whether it can score ``specs``: members only, which need every input it takes (a
        triplet-only request may have no features; Triton runs only the requested members)."""
        needed = {kind for spec in specs for kind in spec.inputs}
        return (
            bool(specs)
            and all(spec.name in self.outputs for spec in specs)
            and {kind for _, kind in self.inputs} <= needed
        )


def _bind_inputs(
    model: str, kinds: Sequence[InputKind], config: model_config_pb2.ModelConfig
) -> tuple[tuple[str, InputKind], ...]:
    """Each FP32 input of the config, recognised among ``kinds`` by its dims."""
    inputs = []
    for tensor in config.input:
        dims = tuple(tensor.dims)
        matches = [kind for kind in kinds if kind.dims == dims]
        if tensor.data_type != model_config_pb2.TYPE_FP32 or len(matches) != 1:
            raise TritonFailure(
                f"model {model!r}: Triton input {tensor.name!r} (dims {list(dims)}) is not "
                f"one of its FP32 inputs {[(k.name, list(k.dims)) for k in kinds]}"
            )
        inputs.append((tensor.name, matches[0]))
    return tuple(inputs)


def bind(spec: ModelSpec, config: model_config_pb2.ModelConfig) -> ModelBinding:
    """Matches the registry's inputs to the config's tensors by shape; FP32, batched, 1 output."""
    if config.max_batch_size < 1:
        raise TritonFailure(f"model {spec.name!r}: Triton config has no batching")
    if len(config.output) != 1:
        raise TritonFailure(
            f"model {spec.name!r}: expected 1 output, config has {len(config.output)}"
        )
    inputs = _bind_inputs(spec.name, spec.inputs, config)
    if sorted(kind.name for _, kind in inputs) != sorted(kind.name for kind in spec.inputs):
        raise TritonFailure(
            f"model {spec.name!r}: Triton inputs {[name for name, _ in inputs]} do not cover "
            f"{[kind.name for kind in spec.inputs]}"
        )
    return ModelBinding(spec.name, config.max_batch_size, inputs, config.output[0].name)


def bind_ensemble(
    name: str, models: Sequence[ModelSpec], config: model_config_pb2.ModelConfig
) -> EnsembleBinding:
    """Reads an ensemble's members from its steps, each one of ``models`` (its survey's) with
    one output, mapped to an FP32 output of the ensemble; inputs are recognised by shape."""
    if config.platform != "ensemble":
        raise TritonFailure(f"model {name!r}: Triton config is not an ensemble")
    if config.max_batch_size < 1:
        raise TritonFailure(f"model {name!r}: Triton config has no batching")
    kinds = list(dict.fromkeys(kind for spec in models for kind in spec.inputs))
    inputs = _bind_inputs(name, kinds, config)
    if len({kind for _, kind in inputs}) != len(inputs):
        shapes = [(tensor, kind.name) for tensor, kind in inputs]
        raise TritonFailure(f"ensemble {name!r}: two inputs of the same shape {shapes}")
    known = {spec.name for spec in models}
    declared = {t.name for t in config.output if t.data_type == model_config_pb2.TYPE_FP32}
    outputs: dict[str, str] = {}
    for step in config.ensemble_scheduling.step:
        model = step.model_name
        if model not in known or model in outputs:
            raise TritonFailure(
                f"ensemble {name!r}: step {model!r} is not one of the models {sorted(known)}, "
                "or is there twice"
            )
        tensors = list(step.output_map.values())
        if len(tensors) != 1 or tensors[0] not in declared:
            raise TritonFailure(
                f"ensemble {name!r}: step {model!r} must map one output to one of the "
                f"ensemble's FP32 outputs {sorted(declared)}, maps {tensors}"
            )
        outputs[model] = tensors[0]
    if not outputs:
        raise TritonFailure(f"ensemble {name!r}: Triton config has no steps")
    return EnsembleBinding(name, config.max_batch_size, inputs, outputs)


class TritonScorer:
    def __init__(self, url: str) -> None:
        self.url = url
        self.client = triton_aio.InferenceServerClient(url=url)
        self._bindings: dict[str, ModelBinding] = {}
        self._ensembles: dict[str, EnsembleBinding] = {}

    async def _config(self, model: str) -> model_config_pb2.ModelConfig:
        try:
            response = await self.client.get_model_config(model, client_timeout=CONFIG_TIMEOUT_S)
        except InferenceServerException as exc:
            raise _error(model, "reading the config", exc) from exc
        return response.config

    async def binding(self, spec: ModelSpec) -> ModelBinding:
        if (cached := self._bindings.get(spec.name)) is not None:
            return cached
        binding = self._bindings[spec.name] = bind(spec, await self._config(spec.name))
        log.info(
            "model bound",
            extra={
                "fields": {
                    "model": spec.name,
                    "inputs": [name for name, _ in binding.inputs],
                    "output": binding.output,
                    "max_batch_size": binding.max_batch_size,
                }
            },
        )
        return binding

    async def ensemble_binding(self, name: str, models: Sequence[ModelSpec]) -> EnsembleBinding:
        """The ensemble ``name`` over some of ``models``, read from Triton on first use."""
        if (cached := self._ensembles.get(name)) is not None:
            return cached
        binding = self._ensembles[name] = bind_ensemble(name, models, await self._config(name))
        log.info(
            "ensemble bound",
            extra={
                "fields": {
                    "model": name,
                    "inputs": [tensor for tensor, _ in binding.inputs],
                    "outputs": dict(binding.outputs),
                    "max_batch_size": binding.max_batch_size,
                }
            },
        )
        return binding

    async def score(self, spec: ModelSpec, arrays: Mapping[InputKind, np.ndarray]) -> np.ndarray:
        """The model's score per alert, float32 [N], in chunks of its max_batch_size."""
        try:
            binding = await self.binding(spec)
            columns = await self._score(
                binding.name, binding.max_batch_size, binding.inputs, (binding.output,), arrays
            )
        except (TritonUnavailable, TritonFailure):
            # The model may have been reloaded with another config: read it again next time.
            self._bindings.pop(spec.name, None)
            raise
        return columns[binding.output]

    async def score_ensemble(
        self,
        ensemble: EnsembleBinding,
        specs: Sequence[ModelSpec],
        arrays: Mapping[InputKind, np.ndarray],
    ) -> dict[str, np.ndarray]:
        """Each of ``specs``' scores per alert, float32 [N], from one request per chunk."""
        outputs = tuple(ensemble.outputs[spec.name] for spec in specs)
        try:
            columns = await self._score(
                ensemble.name, ensemble.max_batch_size, ensemble.inputs, outputs, arrays
            )
        except (TritonUnavailable, TritonFailure):
            self._ensembles.pop(ensemble.name, None)
            raise
        return {spec.name: columns[output] for spec, output in zip(specs, outputs, strict=True)}

    async def _score(
        self,
        model: str,
        max_batch_size: int,
        inputs: Sequence[tuple[str, InputKind]],
        outputs: Sequence[str],
        arrays: Mapping[InputKind, np.ndarray],
    ) -> dict[str, np.ndarray]:
        """Output name -> float32 [N], in chunks of max_batch_size, a few in flight at once."""
        count = len(arrays[inputs[0][1]])
        limit = asyncio.Semaphore(CHUNKS_IN_FLIGHT)

        async def chunk(start: int) -> dict[str, np.ndarray]:
            async with limit:
                stop = min(start + max_batch_size, count)
                return await self._infer(model, inputs, outputs, arrays, start, stop)

        parts = await asyncio.gather(*(chunk(start) for start in range(0, count, max_batch_size)))
        return {
            output: np.concatenate([part[output] for part in parts])
            if parts
            else np.empty(0, dtype=np.float32)
            for output in outputs
        }

    async def _infer(
        self,
        model: str,
        inputs: Sequence[tuple[str, InputKind]],
        outputs: Sequence[str],
        arrays: Mapping[InputKind, np.ndarray],
        start: int,
        stop: int,
    ) -> dict[str, np.ndarray]:
        tensors = []
        for name, kind in inputs:
            part = np.ascontiguousarray(arrays[kind][start:stop], dtype=np.float32)
            tensor = triton_aio.InferInput(name, list(part.shape), "FP32")
            tensor.set_data_from_numpy(part)
            tensors.append(tensor)
        started = time.perf_counter()
        try:
            result = await self.client.infer(
                model,
                tensors,
                outputs=[triton_aio.InferRequestedOutput(output) for output in outputs],
                client_timeout=INFER_TIMEOUT_S,
            )
        except InferenceServerException as exc:
            raise _error(model, "inference", exc) from exc
        finally:
            TRITON_SECONDS.labels(model).observe(time.perf_counter() - started)
        scores = {}
        for output in outputs:
            column = result.as_numpy(output)
            if column is None or column.shape[0] != stop - start:
                shape = None if column is None else column.shape
                raise TritonFailure(
                    f"triton: model {model!r} returned {shape} as {output!r} for "
                    f"{stop - start} alerts"
                )
            scores[output] = column.reshape(stop - start, -1)[:, 0]
        return scores

    async def ready(self, name: str) -> bool:
        try:
            return bool(await self.client.is_model_ready(name, client_timeout=READY_TIMEOUT_S))
        except InferenceServerException:
            return False

    async def close(self) -> None:
        await self.client.close()
