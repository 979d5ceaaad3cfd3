"""Triton Python-backend model: runs the ONNX file beside this one with onnxruntime on CPU.

Generic over single-input, single-output ONNX models: the Triton tensor names come from
config.pbtxt, the ONNX ones from the graph, so the two may differ ("triplets" -> "conv1_input").
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import triton_python_backend_utils as pb_utils


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
        onnx_path = Path(__file__).resolve().parent / "model.onnx"
        self.session = ort.InferenceSession(
            str(onnx_path), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self.onnx_input = self.session.get_inputs()[0].name
        self.onnx_output = self.session.get_outputs()[0].name
        self.input_name = config["input"][0]["name"]
        self.output_name = config["output"][0]["name"]

    def execute(self, requests: list) -> list:
        # The dynamic batcher hands over several requests: run them as one onnxruntime batch.
        arrays = [
            pb_utils.get_input_tensor_by_name(request, self.input_name).as_numpy()
            for request in requests
        ]
        try:
            batch = arrays[0] if len(arrays) == 1 else np.concatenate(arrays)
            outputs = self.session.run(
                [self.onnx_output], {self.onnx_input: batch.astype(np.float32, copy=False)}
            )[0].astype(np.float32, copy=False)
        except Exception as exc:  # one bad batch must not take the model down
            error = pb_utils.TritonError(f"onnxruntime failed: {exc}")
            return [pb_utils.InferenceResponse(output_tensors=[], error=error) for _ in requests]
        responses = []
        start = 0
        for array in arrays:
            stop = start + len(array)
            tensor = pb_utils.Tensor(self.output_name, np.ascontiguousarray(outputs[start:stop]))
            responses.append(pb_utils.InferenceResponse(output_tensors=[tensor]))
            start = stop
        return responses

    def finalize(self) -> None:
        self.session = None
