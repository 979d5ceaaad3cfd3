"""Batched scoring through Triton's gRPC API (``tritonclient.grpc.aio``).

Tensor names, shapes and ``max_batch_size`` come from each model's Triton config, read on
first use, so the same client serves the CPU and the GPU configurations of the repository.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import tritonclient.grpc.aio as triton_aio
from tritonclient.grpc import model_config_pb2
from tritonclient.utils import InferenceServerException

from services.ml.inputs import InputKind
from services.ml.registry import ModelSpec
from skymesh.runtime.errors import Unavailable

log = logging.getLogger(__name__)

# Bounds a call to a Triton that hangs, so the broker sees UNAVAILABLE and retries.
INFER_TIMEOUT_S = 60.0
CONFIG_TIMEOUT_S = 10.0
READY_TIMEOUT_S = 2.0
# Chunks of one model in flight at once: enough to keep Triton's queue fed, while a large
# request does not hold a copy of every chunk's tensors at the same time.
CHUNKS_IN_FLIGHT = 4
# Triton's answers that mean "not now" rather than "wrong": the caller should retry.
RETRYABLE = {"StatusCode.UNAVAILABLE", "StatusCode.DEADLINE_EXCEEDED", "StatusCode.NOT_FOUND"}


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


def bind(spec: ModelSpec, config: model_config_pb2.ModelConfig) -> ModelBinding:
    """Matches the registry's inputs to the config's tensors by shape; FP32, batched, 1 output."""
    if config.max_batch_size < 1:
        raise TritonFailure(f"model {spec.name!r}: Triton config has no batching")
    if len(config.output) != 1:
        raise TritonFailure(
            f"model {spec.name!r}: expected 1 output, config has {len(config.output)}"
        )
    inputs = []
    for tensor in config.input:
        dims = tuple(tensor.dims)
        kinds = [kind for kind in spec.inputs if kind.dims == dims]
        if tensor.data_type != model_config_pb2.TYPE_FP32 or len(kinds) != 1:
            raise TritonFailure(
                f"model {spec.name!r}: Triton input {tensor.name!r} (dims {list(dims)}) is not "
                f"one of its FP32 inputs {[(k.name, list(k.dims)) for k in spec.inputs]}"
            )
        inputs.append((tensor.name, kinds[0]))
    if sorted(kind.name for _, kind in inputs) != sorted(kind.name for kind in spec.inputs):
        raise TritonFailure(
            f"model {spec.name!r}: Triton inputs {[name for name, _ in inputs]} do not cover "
            f"{[kind.name for kind in spec.inputs]}"
        )
    return ModelBinding(spec.name, config.max_batch_size, tuple(inputs), config.output[0].name)


class TritonScorer:
    def __init__(self, url: str) -> None:
        self.url = url
        self.client = triton_aio.InferenceServerClient(url=url)
        self._bindings: dict[str, ModelBinding] = {}

    async def binding(self, spec: ModelSpec) -> ModelBinding:
        if (cached := self._bindings.get(spec.name)) is not None:
            return cached
        try:
            response = await self.client.get_model_config(
                spec.name, client_timeout=CONFIG_TIMEOUT_S
            )
        except InferenceServerException as exc:
            raise _error(spec.name, "reading the config", exc) from exc
        binding = self._bindings[spec.name] = bind(spec, response.config)
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

    async def score(self, spec: ModelSpec, arrays: Mapping[InputKind, np.ndarray]) -> np.ndarray:
        """The model's score per alert, float32 [N], in chunks of its max_batch_size."""
        try:
            binding = await self.binding(spec)
            count = len(next(iter(arrays.values())))
            size = binding.max_batch_size
            limit = asyncio.Semaphore(CHUNKS_IN_FLIGHT)

            async def chunk(start: int) -> np.ndarray:
                async with limit:
                    return await self._infer(binding, arrays, start, min(start + size, count))

            parts = await asyncio.gather(*(chunk(start) for start in range(0, count, size)))
        except (TritonUnavailable, TritonFailure):
            # The model may have been reloaded with another config: read it again next time.
            self._bindings.pop(spec.name, None)
            raise
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.float32)

    async def _infer(
        self,
        binding: ModelBinding,
        arrays: Mapping[InputKind, np.ndarray],
        start: int,
        stop: int,
    ) -> np.ndarray:
        inputs = []
        for name, kind in binding.inputs:
            part = np.ascontiguousarray(arrays[kind][start:stop], dtype=np.float32)
            tensor = triton_aio.InferInput(name, list(part.shape), "FP32")
            tensor.set_data_from_numpy(part)
            inputs.append(tensor)
        try:
            result = await self.client.infer(
                binding.name,
                inputs,
                outputs=[triton_aio.InferRequestedOutput(binding.output)],
                client_timeout=INFER_TIMEOUT_S,
            )
        except InferenceServerException as exc:
            raise _error(binding.name, "inference", exc) from exc
        scores = result.as_numpy(binding.output)
        if scores is None or scores.shape[0] != stop - start:
            shape = None if scores is None else scores.shape
            raise TritonFailure(
                f"triton: model {binding.name!r} returned {shape} for {stop - start} alerts"
            )
        return scores.reshape(stop - start, -1)[:, 0]

    async def ready(self, name: str) -> bool:
        try:
            return bool(await self.client.is_model_ready(name, client_timeout=READY_TIMEOUT_S))
        except InferenceServerException:
            return False

    async def close(self) -> None:
        await self.client.close()
