"""The Kubernetes manifests of ``k8s/``: rendered with kustomize, validated offline.

kustomize (the CLI, ``sigs.k8s.io/kustomize/kustomize/v5``) is built once from the Go module
proxy into ``.cache/kustomize/bin``, as skymesh.openapi builds its generator. Every object
that an overlay renders is then checked against the Kubernetes OpenAPI schemas that the
``kubernetes-validate`` package bundles (strict: no field the schema does not know), for
:data:`KUBERNETES_VERSION`; custom resources (the Prometheus Operator's) against their CRDs,
fetched once from the Go module proxy (skymesh.k8s_crds). Nothing is downloaded at validation
time and no cluster is needed.

``python -m skymesh.k8s`` renders and validates both overlays (``make k8s-validate``);
``--install`` only builds kustomize and fetches the CRDs (``make setup``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from skymesh import k8s_crds
from skymesh.config import REPO_ROOT
from skymesh.openapi import _go, _toolchain

K8S_DIR = REPO_ROOT / "k8s"
OVERLAYS = ("dev", "prod")
KUSTOMIZE = "sigs.k8s.io/kustomize/kustomize/v5"
# The newest whose go.mod asks for no newer Go than 1.26 (v5.8.3 needs 1.27).
KUSTOMIZE_VERSION = "v5.8.2"
# The Kubernetes version the objects are validated for (its schemas ship in kubernetes-validate).
KUBERNETES_VERSION = "1.34.0"


def default_cache_dir() -> Path:
    return Path(os.environ.get("SKYMESH_CACHE_DIR", str(REPO_ROOT / ".cache")))


def kustomize_path(cache_dir: Path) -> Path:
    return cache_dir.resolve() / "kustomize" / "bin" / "kustomize"


def ensure_kustomize(cache_dir: Path, go: str | None = None) -> Path:
    """Builds the kustomize CLI into ``<cache>/kustomize/bin`` once per version."""
    binary = kustomize_path(cache_dir)
    bin_dir = binary.parent
    marker = bin_dir / ".version"
    if binary.exists() and marker.exists() and marker.read_text().strip() == KUSTOMIZE_VERSION:
        return binary
    print(f"k8s: building {KUSTOMIZE}@{KUSTOMIZE_VERSION} into {bin_dir} (once)", flush=True)
    staging = bin_dir.with_name("bin.partial")
    build_cache = bin_dir.with_name("build.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    env = k8s_crds.go_env(cache_dir, GOBIN=str(staging), GOCACHE=str(build_cache), CGO_ENABLED="0")
    result = subprocess.run(
        [_toolchain(go or _go(), env), "install", f"{KUSTOMIZE}@{KUSTOMIZE_VERSION}"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or not (staging / binary.name).exists():
        raise RuntimeError(
            f"building {KUSTOMIZE} failed (exit {result.returncode}):\n"
            f"{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )
    shutil.rmtree(build_cache, ignore_errors=True)
    shutil.rmtree(bin_dir, ignore_errors=True)
    staging.rename(bin_dir)
    marker.write_text(KUSTOMIZE_VERSION + "\n")
    return binary


def render(kustomize: Path, overlay: str) -> list[dict[str, Any]]:
    """Every object that ``kustomize build k8s/overlays/<overlay>`` writes."""
    result = subprocess.run(
        [str(kustomize), "build", str(K8S_DIR / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"kustomize build {overlay} failed:\n{result.stderr}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def ensure_crds(cache_dir: Path, go: str | None = None) -> Path:
    """The CRDs of the custom resources that k8s/ uses, in ``<cache>/crds`` (fetched once)."""
    return k8s_crds.ensure_crds(cache_dir, go or _go())


def validate(
    objects: list[dict[str, Any]],
    version: str = KUBERNETES_VERSION,
    crds: Path | None = None,
) -> list[str]:
    """What is wrong with each object under the strict schemas of ``version``, or of its CRD
    (in ``crds``, by default the cache's) for a custom resource (none: [])."""
    import kubernetes_validate

    crds = crds or k8s_crds.crd_dir(default_cache_dir())
    problems = []
    for obj in objects:
        if k8s_crds.is_custom(obj):
            problems += k8s_crds.validate(obj, crds, version)
            continue
        name = f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = "/".join(str(p) for p in exc.absolute_path)
            problems.append(f"{name}: {path}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            problems.append(f"{name}: {exc.message}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--install", action="store_true", help="only build kustomize and fetch the CRDs"
    )
    args = parser.parse_args(argv)
    cache_dir = default_cache_dir()
    kustomize = ensure_kustomize(cache_dir)
    crds = ensure_crds(cache_dir)
    if args.install:
        return 0
    failed = False
    for overlay in OVERLAYS:
        objects = render(kustomize, overlay)
        problems = validate(objects, crds=crds)
        for problem in problems:
            print(f"{overlay}: {problem}", file=sys.stderr)
        failed = failed or bool(problems)
        verdict = "invalid" if problems else "valid"
        print(
            f"{overlay}: {len(objects)} objects, {verdict} for Kubernetes {KUBERNETES_VERSION} "
            f"(custom resources: the CRDs of {crds.name})"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
