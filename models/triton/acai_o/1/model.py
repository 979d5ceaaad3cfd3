"""Triton Python-backend entry point of this model: the shared ONNX runner.

Triton needs a model.py in every model folder; the implementation lives once, in
models/python_backend/skymesh_onnx_model.py (outside the repository: Triton would take any
folder inside it, even a __pycache__, for a model; and the backend ignores PYTHONPATH).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "python_backend"))

from skymesh_onnx_model import TritonPythonModel

__all__ = ["TritonPythonModel"]
