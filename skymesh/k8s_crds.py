"""Custom resources of ``k8s/`` (the Prometheus Operator's PodMonitor, ServiceMonitor)
validated offline against their CustomResourceDefinitions' schemas.

``kubernetes-validate`` knows only Kubernetes' own kinds. The CRDs come from the Prometheus
Operator's Go module (its zip carries them under ``example/prometheus-operator-crd/``),
downloaded once from the Go module proxy by ``--install`` and kept in ``.cache/crds``. An
object is checked against the ``openAPIV3Schema`` of the version it names, which must be
served, made strict like kubernetes-validate's ``--strict``: an object schema that lists its
properties refuses any other, unless it says ``x-kubernetes-preserve-unknown-fields``. Its
metadata is checked against Kubernetes' ObjectMeta. CEL rules (``x-kubernetes-validations``)
are not evaluated: only an API server does that.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft7Validator, Draft202012Validator

from skymesh import gotools

PROMETHEUS_OPERATOR = "github.com/prometheus-operator/prometheus-operator"
# The newest version of the root module that the Go module proxy serves (v0.95.2 is refused).
PROMETHEUS_OPERATOR_VERSION = "v0.85.0"
CRDS_IN_MODULE = "example/prometheus-operator-crd"
# (group, kind) -> its CRD's file: the custom kinds that k8s/ may use.
CRDS = {
    ("monitoring.coreos.com", "PodMonitor"): "monitoring.coreos.com_podmonitors.yaml",
    ("monitoring.coreos.com", "ServiceMonitor"): "monitoring.coreos.com_servicemonitors.yaml",
}
GROUPS = {group for group, _ in CRDS}
# A DNS subdomain (RFC 1123), as the API server requires of most names.
NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"


def crd_dir(cache_dir: Path) -> Path:
    return cache_dir.resolve() / "crds" / f"prometheus-operator-{PROMETHEUS_OPERATOR_VERSION}"


def ensure_crds(cache_dir: Path) -> Path:
    """Copies the CRDs of :data:`CRDS` out of the Operator's module into the cache, once."""
    target = crd_dir(cache_dir)
    if all((target / name).exists() for name in CRDS.values()):
        return target
    module = f"{PROMETHEUS_OPERATOR}@{PROMETHEUS_OPERATOR_VERSION}"
    print(f"k8s: downloading the CRDs of {module} (once)", flush=True)
    with tempfile.TemporaryDirectory() as outside_any_module:
        env = gotools.go_env(cache_dir)
        result = subprocess.run(
            [gotools.toolchain(gotools.go(), env), "mod", "download", "-json", module],
            env=env,
            cwd=outside_any_module,
            capture_output=True,
            text=True,
            check=False,
        )
    info = json.loads(result.stdout) if result.stdout.strip() else {}
    if result.returncode != 0 or "Dir" not in info:
        raise RuntimeError(
            f"downloading {module} failed (exit {result.returncode}):\n"
            f"{info.get('Error', '')}{result.stderr[-3000:]}"
        )
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name in CRDS.values():
        shutil.copyfile(Path(info["Dir"]) / CRDS_IN_MODULE / name, staging / name)
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


def is_custom(obj: dict[str, Any]) -> bool:
    """Whether the object's API group is one whose CRDs this module validates against."""
    return str(obj.get("apiVersion", "")).partition("/")[0] in GROUPS


def strict(schema: Any) -> Any:
    """The schema with ``additionalProperties: false`` on each object schema that lists its
    properties and does not preserve unknown fields; OpenAPI's ``nullable`` as JSON Schema."""
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    if isinstance(out.get("properties"), dict):
        out["properties"] = {name: strict(sub) for name, sub in out["properties"].items()}
        if (
            not out.get("x-kubernetes-preserve-unknown-fields")
            and "additionalProperties" not in out
        ):
            out["additionalProperties"] = False
    for key in ("items", "additionalProperties", "not"):
        if isinstance(out.get(key), dict):
            out[key] = strict(out[key])
    for key in ("allOf", "anyOf", "oneOf"):
        if isinstance(out.get(key), list):
            out[key] = [strict(sub) for sub in out[key]]
    if out.get("nullable") and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


@cache
def _versions(path: Path) -> dict[str, Draft7Validator]:
    """The served versions of a CRD, each with its strict schema's validator."""
    crd = yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return {
        version["name"]: Draft7Validator(strict(version["schema"]["openAPIV3Schema"]))
        for version in crd["spec"]["versions"]
        if version.get("served")
    }


@cache
def _object_meta(kubernetes_version: str) -> Draft202012Validator:
    """Kubernetes' strict ObjectMeta schema, as kubernetes-validate bundles it."""
    from kubernetes_validate.utils import schema_contents

    definitions = schema_contents(
        f"kubernetes-json-schema/v{kubernetes_version}-local-strict/_definitions.json",
        kubernetes_version,
    )
    return Draft202012Validator({**definitions, "$ref": f"#/$defs/{OBJECT_META}"})


def validate(obj: dict[str, Any], crds: Path, kubernetes_version: str) -> list[str]:
    """What is wrong with a custom resource (none: [])."""
    metadata = obj.get("metadata")
    name = f"{obj.get('kind')}/{metadata.get('name') if isinstance(metadata, dict) else None}"
    group, _, version = str(obj.get("apiVersion", "")).partition("/")
    file = CRDS.get((group, str(obj.get("kind"))))
    if file is None:
        return [f"{name}: no CRD of {group} for kind {obj.get('kind')} (skymesh/k8s_crds.py)"]
    if not (crds / file).exists():
        return [f"{name}: {crds / file} is missing: run `python -m skymesh.k8s --install`"]
    served = _versions(crds / file)
    if version not in served:
        return [f"{name}: {group} serves {sorted(served)}, not {version!r}"]
    problems = [
        f"{name}: {_path(error.absolute_path)}: {error.message}"
        for error in served[version].iter_errors(obj)
    ]
    if not isinstance(metadata, dict):
        return [*problems, f"{name}: metadata: not an object"]
    problems += [
        f"{name}: {_path(['metadata', *error.absolute_path])}: {error.message}"
        for error in _object_meta(kubernetes_version).iter_errors(metadata)
    ]
    given = metadata.get("name")
    if not isinstance(given, str) or len(given) > 253 or not NAME.fullmatch(given):
        problems.append(f"{name}: metadata/name: not a DNS subdomain name")
    return problems


def _path(parts: Iterable[object]) -> str:
    return "/".join(str(part) for part in parts) or "(the object)"
