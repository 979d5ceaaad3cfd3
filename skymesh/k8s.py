"""The Kubernetes manifests of ``k8s/``: rendered with kustomize, validated offline.

kustomize (the CLI, ``sigs.k8s.io/kustomize/kustomize/v5``) is built once from the Go module
proxy by skymesh.gotools, as the protoc plugins are. Every object
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
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from skymesh import gotools, k8s_crds
from skymesh.config import REPO_ROOT

K8S_DIR = REPO_ROOT / "k8s"
OVERLAYS = ("dev", "prod")
KUSTOMIZE = "sigs.k8s.io/kustomize/kustomize/v5"
# The newest whose go.mod asks for no newer Go than 1.26 (v5.8.3 needs 1.27).
KUSTOMIZE_VERSION = "v5.8.2"
KUSTOMIZE_TOOL = gotools.GoTool(KUSTOMIZE, KUSTOMIZE_VERSION)
# The Kubernetes version the objects are validated for (its schemas ship in kubernetes-validate).
KUBERNETES_VERSION = "1.34.0"


def kustomize_path(cache_dir: Path) -> Path:
    return gotools.tool_path(cache_dir, KUSTOMIZE_TOOL)


def ensure_kustomize(cache_dir: Path) -> Path:
    """Builds the kustomize CLI once per version (skymesh.gotools)."""
    return gotools.ensure(cache_dir, KUSTOMIZE_TOOL)


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


def ensure_crds(cache_dir: Path) -> Path:
    """The CRDs of the custom resources that k8s/ uses, in ``<cache>/crds`` (fetched once)."""
    return k8s_crds.ensure_crds(cache_dir)


def validate(
    objects: list[dict[str, Any]],
    version: str = KUBERNETES_VERSION,
    crds: Path | None = None,
) -> list[str]:
    """What is wrong with each object under the strict schemas of ``version``, or of its CRD
    (in ``crds``, by default the cache's) for a custom resource (none: [])."""
    import kubernetes_validate

    crds = crds or k8s_crds.crd_dir(gotools.default_cache_dir())
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
    cache_dir = gotools.default_cache_dir()
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
