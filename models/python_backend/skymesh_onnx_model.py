"""Triton Python-backend model that runs a model folder's ONNX file with onnxruntime on CPU.

Every model of ``models/triton`` uses this one implementation: each ``<model>/1/model.py``
only puts this folder on ``sys.path`` and re-exports :class:`TritonPythonModel`.

It serves single- and multi-input models alike. Each tensor that config.pbtxt declares is bound
to the ONNX tensor of the same name, or else to the ONNX tensor at the same position, so the
CPU config may rename the graph's tensors ("triplets" -> "conv1_input") while the GPU config
(ONNX Runtime backend) must use the graph's own names.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import triton_python_backend_utils as pb_utils


def joined(arrays: list[np.ndarray]) -> np.ndarray:
    # One request (the usual case: the ml service sends whole batches) needs no copy.
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)


def bind_tensors(
    kind: str, declared: Sequence[dict[str, Any]], graph: Sequence[Any]
) -> list[tuple[str, str]]:
    """Pairs each tensor declared in config.pbtxt with its ONNX tensor: by name, else position.

    Returns ``[(triton_name, onnx_name), ...]``; a count or shape that disagrees with the graph
    fails the model's load with a message, instead of scoring garbage later.
    """
    if len(declared) != len(graph):
        raise ValueError(
            f"config.pbtxt declares {len(declared)} {kind}s, the ONNX graph has {len(graph)}"
        )
    by_name = {tensor.name: tensor for tensor in graph}
    pairs = []
    for position, tensor in enumerate(declared):
        onnx_tensor = by_name.get(tensor["name"], graph[position])
        # ONNX shapes include the batch dimension (symbolic); config dims exclude it.
        onnx_dims = [d if isinstance(d, int) else -1 for d in onnx_tensor.shape[1:]]
        dims = [int(d) for d in tensor["dims"]]
        if dims != onnx_dims:
            raise ValueError(
                f"{kind} {tensor['name']!r} has dims {dims} in config.pbtxt, but its ONNX "
                f"tensor {onnx_tensor.name!r} has {onnx_dims}"
            )
        pairs.append((tensor["name"], onnx_tensor.name))
    if len({onnx for _, onnx in pairs}) != len(pairs):
        raise ValueError(f"two config {kind}s map to the same ONNX tensor: {pairs}")
    return pairs


class TritonPythonModel:
    def initialize(self, args: dict[str, str]) -> None:
        config = json.loads(args["model_config"])
        params = {k: v["string_value"] for k, v in config.get("parameters", {}).items()}
        options = ort.SessionOptions()
        options.intra_op_num_threads = int(params.get("intra_op_num_threads", "1"))
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        # Triton's own log says which instance failed; keep ORT's warnings out of it.
        options.log_severity_level = 3
        # args["model_repository"] is this model's folder (not this file's: it is shared).
        onnx_path = Path(args["model_repository"]) / args["model_version"] / "model.onnx"
        self.session = ort.InferenceSession(
            str(onnx_path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self.inputs = bind_tensors("input", config["input"], self.session.get_inputs())
        self.outputs = bind_tensors("output", config["output"], self.session.get_outputs())

    def execute(self, requests: list) -> list:
        # The dynamic batcher hands over several requests: run them as one onnxruntime batch.
        try:
            per_input = {
                triton_name: [
                    pb_utils.get_input_tensor_by_name(request, triton_name).as_numpy()
                    for request in requests
                ]
                for triton_name, _ in self.inputs
            }
            # Triton guarantees every input of one request has the same batch size.
            sizes = [len(array) for array in per_input[self.inputs[0][0]]]
            feeds = {
                onnx_name: joined(per_input[triton_name]).astype(np.float32, copy=False)
                for triton_name, onnx_name in self.inputs
            }
            results = self.session.run([onnx for _, onnx in self.outputs], feeds)
        except Exception as exc:  # one bad batch must not take the model down
            error = pb_utils.TritonError(f"onnxruntime failed: {exc}")
            return [pb_utils.InferenceResponse(output_tensors=[], error=error) for _ in requests]
        responses = []
        start = 0
        for size in sizes:
            stop = start + size
            tensors = [
                pb_utils.Tensor(
                    triton_name, np.ascontiguousarray(result[start:stop], dtype=np.float32)
                )
                for (triton_name, _), result in zip(self.outputs, results, strict=True)
            ]
            responses.append(pb_utils.InferenceResponse(output_tensors=tensors))
            start = stop
        return responses

    def finalize(self) -> None:
        self.session = None
