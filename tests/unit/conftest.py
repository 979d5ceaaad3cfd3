"""Fixtures of the Kubernetes tests (test_k8s.py, test_k8s_monitoring.py): kustomize, the
CRDs and both rendered overlays, built or fetched once into the cache."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from skymesh import gotools, k8s

CACHE_DIR = gotools.default_cache_dir()


@pytest.fixture(scope="module")
def kustomize() -> Path:
    binary = k8s.kustomize_path(CACHE_DIR)
    if not binary.exists() and shutil.which("go") is None and not Path("/usr/local/go").exists():
        pytest.skip("no Go to build kustomize with (make setup installs it)")
    return k8s.ensure_kustomize(CACHE_DIR)


@pytest.fixture(scope="module")
def crds() -> Path:
    if not k8s.k8s_crds.crd_dir(CACHE_DIR).exists() and shutil.which("go") is None:
        pytest.skip("no Go to fetch the CRDs with (make setup installs it)")
    return k8s.ensure_crds(CACHE_DIR)


@pytest.fixture(scope="module")
def overlays(kustomize: Path) -> dict[str, list[dict[str, Any]]]:
    return {overlay: k8s.render(kustomize, overlay) for overlay in k8s.OVERLAYS}
