"""Triton Inference Server on CPU: the tritonserver binary that the nvidia-pytriton wheel ships.

The wheel lives in a separate infra venv built from Debian's /usr/bin/python3.11, because the
Python backend stub embeds the system libpython and model.py files import that venv's packages.
"""

from __future__ import annotations

import os
import shutil
import urllib.error
import urllib.request
from pathlib import Path

from skymesh.config import HOST, REPO_ROOT, Settings
from skymesh.infra.process import Managed

MODEL_REPOSITORY = REPO_ROOT / "models" / "triton"
# The stub must match the venv's interpreter, which the infra venv pins to 3.11.
STUB_PYTHON = "3.11"


def infra_venv(settings: Settings) -> Path:
    return settings.cache_dir / "infra-venv"


def site_packages(settings: Settings) -> Path:
    return infra_venv(settings) / "lib" / f"python{STUB_PYTHON}" / "site-packages"


def _dist(settings: Settings) -> Path:
    dist = site_packages(settings) / "pytriton" / "tritonserver"
    if not (dist / "bin" / "tritonserver").exists():
        raise RuntimeError(
            f"tritonserver not found under {dist}: build the infra venv "
            f"({infra_venv(settings)}) with nvidia-pytriton installed"
        )
    return dist


def _copy_if_changed(src: Path, dst: Path) -> None:
    source, target = src.stat(), dst.stat() if dst.exists() else None
    if target and (target.st_size, target.st_mtime_ns) == (source.st_size, source.st_mtime_ns):
        return
    # Copy then rename: a concurrent start never sees a half-written shared library.
    partial = dst.with_name(f".{dst.name}.{os.getpid()}")
    shutil.copy2(src, partial)
    partial.replace(dst)


def backend_directory(settings: Settings) -> Path:
    """Assembles ``<cache>/triton-backends/python`` = the wheel's Python backend + 3.11 stub.

    The wheel keeps one stub per Python version apart from the backend; Triton looks for the
    stub next to libtriton_python.so, which is what pytriton itself arranges at run time.
    """
    dist = _dist(settings)
    target = settings.cache_dir / "triton-backends"
    python_backend = target / "python"
    python_backend.mkdir(parents=True, exist_ok=True)
    for src in (dist / "backends" / "python").iterdir():
        if src.is_file():
            _copy_if_changed(src, python_backend / src.name)
    stub = dist / "python_backend_stubs" / STUB_PYTHON / "triton_python_backend_stub"
    _copy_if_changed(stub, python_backend / stub.name)
    return target


def managed(settings: Settings, model_repository: Path = MODEL_REPOSITORY) -> Managed:
    """Triton serving every model of ``model_repository`` on 127.0.0.1, ready when all load."""
    dist = _dist(settings)
    backends = backend_directory(settings)
    ports = settings.ports
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    venv = infra_venv(settings)
    libs = site_packages(settings) / "nvidia_pytriton.libs"
    env = {
        "LD_LIBRARY_PATH": os.pathsep.join(
            p for p in (str(libs), os.environ.get("LD_LIBRARY_PATH", "")) if p
        ),
        "PATH": os.pathsep.join((str(venv / "bin"), os.environ.get("PATH", os.defpath))),
        # The stub embeds the system interpreter; the venv's packages reach it via PYTHONPATH.
        "PYTHONPATH": str(site_packages(settings)),
        "VIRTUAL_ENV": str(venv),
    }
    argv = [
        str(dist / "bin" / "tritonserver"),
        f"--model-repository={model_repository}",
        f"--backend-directory={backends}",
        # explicit + '*': everything loads at startup, and the ml service may still load or
        # unload models through the repository API later.
        "--model-control-mode=explicit",
        "--load-model=*",
        "--strict-readiness=true",
        "--exit-on-error=true",
        f"--grpc-address={HOST}",
        f"--grpc-port={ports.triton_grpc}",
        f"--http-address={HOST}",
        f"--http-port={ports.triton_http}",
        f"--metrics-address={HOST}",
        f"--metrics-port={ports.triton_metrics}",
        # CPU only: skip the DCGM probe and the pinned (CUDA host) memory pool, and their warnings.
        "--allow-gpu-metrics=false",
        "--pinned-memory-pool-byte-size=0",
        # In-flight requests get a short grace period on SIGTERM, well inside the stop timeout.
        "--exit-timeout-secs=10",
    ]
    url = f"http://{HOST}:{ports.triton_http}/v2/health/ready"
    return Managed(
        name="triton",
        argv=argv,
        ready=lambda: http_ready(url),
        env=env,
        cwd=settings.run_dir,
        startup_timeout=120.0,
    )


# A local probe must never go through an http_proxy from the environment.
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_ready(url: str, timeout: float = 1.0) -> bool:
    try:
        with _NO_PROXY.open(url, timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False
