"""Monitoring on Kubernetes: the Prometheus Operator component (PodMonitor + Grafana dashboard)
of the prod overlay, the plain Prometheus scrape config, and the dashboard's queries against
the metrics the services export; custom resources validated against their CRDs."""

from __future__ import annotations

import copy
import importlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import yaml

from skymesh import k8s
from skymesh.config import REPO_ROOT, Ports
from skymesh.infra.gateway import mesh_services
from tests.unit.test_k8s import containers, of_kind

MONITORING = REPO_ROOT / "k8s" / "components" / "monitoring"
DASHBOARD = MONITORING / "skymesh-dashboard.json"
SCRAPE_CONFIG = REPO_ROOT / "k8s" / "monitoring" / "prometheus-scrape.yaml"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
WORKLOADS = ("Deployment", "StatefulSet", "Job")


def scraped_workloads(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The workloads whose pods ask Prometheus to scrape them (prometheus.io/scrape)."""
    return {
        name: workload
        for name, workload in of_kind(objects, *WORKLOADS).items()
        if pod_template(workload)["metadata"].get("annotations", {}).get("prometheus.io/scrape")
        == "true"
    }


def pod_template(workload: dict[str, Any]) -> dict[str, Any]:
    return workload["spec"]["template"]


# --- the Prometheus Operator's component


def test_prod_has_the_pod_monitor_and_the_dashboard_and_dev_needs_no_operator(
    overlays: dict[str, list[dict[str, Any]]],
) -> None:
    assert not [o for o in overlays["dev"] if k8s.k8s_crds.is_custom(o)]
    assert "skymesh-grafana-dashboard" not in of_kind(overlays["dev"], "ConfigMap")
    prod = overlays["prod"]
    assert set(of_kind(prod, "PodMonitor")) == {"skymesh"}
    dashboard = of_kind(prod, "ConfigMap")["skymesh-grafana-dashboard"]
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert dashboard["data"] == {DASHBOARD.name: DASHBOARD.read_text()}


def test_the_pod_monitor_scrapes_each_mesh_service_on_its_metrics_port(
    overlays: dict[str, list[dict[str, Any]]],
) -> None:
    prod = overlays["prod"]
    monitor = of_kind(prod, "PodMonitor")["skymesh"]
    spec = monitor["spec"]
    # Pods of its own namespace (no namespaceSelector), which is the mesh's.
    assert "namespaceSelector" not in spec
    namespaces = {o["metadata"]["namespace"] for o in of_kind(prod, *WORKLOADS).values()}
    assert namespaces == {monitor["metadata"]["namespace"]} == {"skymesh"}
    wanted = spec["selector"]["matchLabels"]
    selected = {
        name: workload
        for name, workload in of_kind(prod, *WORKLOADS).items()
        if wanted.items() <= pod_template(workload)["metadata"]["labels"].items()
    }
    assert set(selected) == set(scraped_workloads(prod)) == set(mesh_services().values())
    (endpoint,) = spec["podMetricsEndpoints"]
    for name, workload in selected.items():
        template = pod_template(workload)
        ports = {p["name"]: p["containerPort"] for p in containers(workload)[0]["ports"]}
        assert ports[endpoint["port"]] == getattr(Ports(), f"{name}_metrics"), name
        annotations = template["metadata"]["annotations"]
        assert annotations["prometheus.io/port"] == str(ports[endpoint["port"]]), name
        assert annotations["prometheus.io/path"] == endpoint["path"], name
        # The job is the service's name, as the plain scrape config makes it.
        assert template["metadata"]["labels"][spec["jobLabel"]] == name


def test_custom_resources_are_validated_against_their_crds(crds: Path) -> None:
    monitor = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": "skymesh", "labels": {"app.kubernetes.io/part-of": "skymesh"}},
        "spec": {
            "selector": {"matchLabels": {"app.kubernetes.io/component": "mesh"}},
            "endpoints": [{"port": "metrics", "path": "/metrics", "interval": "30s"}],
        },
    }
    assert k8s.validate([monitor], crds=crds) == []

    def problems(change: str, value: Any) -> list[str]:
        obj = copy.deepcopy(monitor)
        *parents, last = change.split(".")
        node: Any = obj
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[last] = value
        return k8s.validate([obj], crds=crds)

    # A misspelt field, anywhere: refused, where it is.
    (problem,) = problems("spec.endpoints.0.intervall", "30s")
    assert "ServiceMonitor/skymesh: spec/endpoints/0:" in problem and "'intervall'" in problem
    (problem,) = problems("spec.selectr", {})
    assert "'selectr'" in problem
    (problem,) = problems("metadata.label", {})
    assert problem.startswith("ServiceMonitor/skymesh: metadata:") and "'label'" in problem
    # Wrong types, values the schema's enum does not hold, versions not served, bad names.
    assert problems("spec.endpoints.0.port", 9153)
    assert problems("spec.endpoints.0.scheme", "gopher")
    assert problems("apiVersion", "monitoring.coreos.com/v1beta1") == [
        "ServiceMonitor/skymesh: monitoring.coreos.com serves ['v1'], not 'v1beta1'"
    ]
    assert problems("metadata.name", "Sky_Mesh")
    assert problems("kind", "PrometheusRule")
    # Where the CRD keeps unknown fields, they are let through; a missing CRD is reported.
    assert k8s.validate([monitor], crds=crds / "absent")[0].endswith(
        "is missing: run `python -m skymesh.k8s --install`"
    )


# --- the plain Prometheus scrape config


def sanitise(name: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_]", "_", name)


def discovered(pod: dict[str, Any], namespace: str, name: str, ip: str) -> Iterator[dict[str, str]]:
    """The targets of Prometheus' Kubernetes discovery (role pod) for a running pod: one per
    container port, and one per container without ports."""
    meta = pod["metadata"]
    common = {
        "__meta_kubernetes_namespace": namespace,
        "__meta_kubernetes_pod_name": name,
        "__meta_kubernetes_pod_ip": ip,
        "__meta_kubernetes_pod_phase": "Running",
        "__meta_kubernetes_pod_ready": "true",
    }
    for kind in ("label", "annotation"):
        for key, value in meta.get(f"{kind}s", {}).items():
            common[f"__meta_kubernetes_pod_{kind}_{sanitise(key)}"] = value
            common[f"__meta_kubernetes_pod_{kind}present_{sanitise(key)}"] = "true"
    for container in pod["spec"]["containers"]:
        labels = {
            **common,
            "__meta_kubernetes_pod_container_name": container["name"],
            "__meta_kubernetes_pod_container_init": "false",
        }
        if not container.get("ports"):
            yield {**labels, "__address__": ip}
        for port in container.get("ports", []):
            yield {
                **labels,
                "__address__": f"{ip}:{port['containerPort']}",
                "__meta_kubernetes_pod_container_port_name": port.get("name", ""),
                "__meta_kubernetes_pod_container_port_number": str(port["containerPort"]),
                "__meta_kubernetes_pod_container_port_protocol": port.get("protocol", "TCP"),
            }


def expand(match: re.Match[str], replacement: str) -> str:
    """A relabelling's replacement with ``$1``, ``${1}``, ``$name`` filled in."""

    def group(ref: re.Match[str]) -> str:
        name = ref.group(1) or ref.group(2)
        return match.group(int(name) if name.isdigit() else name) or ""

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", group, replacement)


def relabel(labels: dict[str, str], rules: list[dict[str, Any]]) -> dict[str, str] | None:
    """Prometheus' relabelling (the actions the config uses); None: the target is dropped."""
    labels = dict(labels)
    for rule in rules:
        action = rule.get("action", "replace")
        value = rule.get("separator", ";").join(
            labels.get(source, "") for source in rule.get("source_labels", [])
        )
        regex = re.compile(rule.get("regex", "(.*)"))
        match = regex.fullmatch(value)
        if (action == "keep" and not match) or (action == "drop" and match):
            return None
        if action == "keepequal" and value != labels.get(rule["target_label"], ""):
            return None
        if action == "replace" and match:
            result = expand(match, rule.get("replacement", "$1"))
            if result:
                labels[rule["target_label"]] = result
            else:
                labels.pop(rule["target_label"], None)
        if action not in ("keep", "drop", "keepequal", "replace"):
            raise AssertionError(f"relabel action {action!r} is not simulated here")
    return labels


def targets(
    config: dict[str, Any], pods: list[tuple[str, str, dict[str, Any]]]
) -> list[dict[str, str]]:
    """What Prometheus would scrape of ``pods`` (namespace, name, pod template): the final
    labels of each target, with its address and path."""
    found = []
    for job in config["scrape_configs"]:
        (sd,) = job["kubernetes_sd_configs"]
        assert sd["role"] == "pod"
        for index, (namespace, name, pod) in enumerate(pods):
            if namespace not in sd["namespaces"]["names"]:
                continue
            for target in discovered(pod, namespace, name, f"10.1.0.{index}"):
                defaults = {"job": job["job_name"], "__metrics_path__": "/metrics"}
                kept = relabel({**defaults, **target}, job["relabel_configs"])
                if kept is not None:
                    found.append(
                        {
                            "instance": kept["__address__"],
                            **{k: v for k, v in kept.items() if not k.startswith("__meta_")},
                        }
                    )
    return found


def test_the_scrape_config_keeps_each_annotated_pod_once_on_its_annotated_port(
    overlays: dict[str, list[dict[str, Any]]],
) -> None:
    config = yaml.safe_load(SCRAPE_CONFIG.read_text())
    (job,) = config["scrape_configs"]
    namespaces = {
        overlay: next(iter(of_kind(objects, "Namespace"))) for overlay, objects in overlays.items()
    }
    assert set(job["kubernetes_sd_configs"][0]["namespaces"]["names"]) == set(namespaces.values())
    # The annotations it reads are exactly those the deployments set.
    read = set(re.findall(r"__meta_kubernetes_pod_annotation_(\w+)", SCRAPE_CONFIG.read_text()))
    for overlay, objects in overlays.items():
        namespace = namespaces[overlay]
        set_ = {
            sanitise(key)
            for workload in scraped_workloads(objects).values()
            for key in pod_template(workload)["metadata"]["annotations"]
        }
        assert read == set_ == {"prometheus_io_scrape", "prometheus_io_port", "prometheus_io_path"}
        pods = [
            (namespace, f"{name}-0", pod_template(workload))
            for name, workload in of_kind(objects, *WORKLOADS).items()
        ]
        # An annotated pod outside the mesh's namespaces is not discovered.
        pods.append(("default", "broker-0", pod_template(of_kind(objects, "Deployment")["broker"])))
        found = targets(config, pods)
        expected = []
        for index, (_, pod_name, pod) in enumerate(pods[:-1]):
            annotations = pod["metadata"].get("annotations", {})
            if annotations.get("prometheus.io/scrape") != "true":
                continue
            name = pod["metadata"]["labels"]["app.kubernetes.io/name"]
            expected.append(
                {
                    "instance": f"10.1.0.{index}:{annotations['prometheus.io/port']}",
                    "__address__": f"10.1.0.{index}:{getattr(Ports(), f'{name}_metrics')}",
                    "__metrics_path__": annotations["prometheus.io/path"],
                    "job": name,
                    "namespace": namespace,
                    "pod": pod_name,
                }
            )
        assert sorted(found, key=str) == sorted(expected, key=str), overlay
        assert {t["job"] for t in found} == set(mesh_services().values()), overlay
        assert {k for t in found for k in t if not k.startswith("__")} == TARGET_LABELS


def test_the_scrape_config_drops_pods_that_are_not_running() -> None:
    config = yaml.safe_load(SCRAPE_CONFIG.read_text())
    (job,) = config["scrape_configs"]
    pod = {
        "metadata": {
            "labels": {"app.kubernetes.io/name": "broker"},
            "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "9153"},
        },
        "spec": {"containers": [{"name": "broker", "ports": [{"containerPort": 9153}]}]},
    }
    (target,) = discovered(pod, "skymesh", "broker-0", "10.1.0.1")
    assert relabel(target, job["relabel_configs"]) is not None
    for phase in ("Pending", "Succeeded", "Failed", "Unknown"):
        stopped = {**target, "__meta_kubernetes_pod_phase": phase}
        assert relabel(stopped, job["relabel_configs"]) is None, phase
    unannotated = {k: v for k, v in target.items() if "annotation" not in k}
    assert relabel(unannotated, job["relabel_configs"]) is None


# --- the Grafana dashboard

# The labels that both the PodMonitor and the scrape config give every target.
TARGET_LABELS = {"job", "instance", "namespace", "pod"}
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "offset"}
KEYWORDS |= {"and", "or", "unless", "atan2", "inf", "nan"}
# The suffixes of a metric family's samples in the text exposition format, by type.
SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
    "info": ("_info",),
    "untyped": ("",),
}


def exported_metrics() -> dict[str, set[str]]:
    """Every sample name the services' /metrics can answer, with its label names: what each
    service's modules register when imported (gRPC calls, Triton requests, the process), and
    the broker's own collector, asked for its families the way a scrape does."""
    from prometheus_client import REGISTRY, CollectorRegistry

    from services.broker.metrics import BrokerCollector
    from services.broker.pipeline import FilterCounter, SurveyCounters

    for process in set(mesh_services().values()):
        importlib.import_module(f"services.{process}.service")
    counters = SurveyCounters()
    counters.filters[(1, "v1")] = FilterCounter()  # so that the per-filter families have samples
    consumer = SimpleNamespace(
        survey=SimpleNamespace(name="ZTF"), processor=SimpleNamespace(counters=counters), last_lag=0
    )
    broker = CollectorRegistry()
    broker.register(BrokerCollector([consumer]))  # type: ignore[list-item]
    # A labelled metric without children has no samples to read its label names from: those
    # come from the metric object (prometheus_client keeps them in _labelnames).
    collectors = [*REGISTRY._collector_to_names, *broker._collector_to_names]
    exported: dict[str, set[str]] = {}
    for collector in collectors:
        declared = set(getattr(collector, "_labelnames", ()))
        for family in collector.collect():
            labels = declared | {label for sample in family.samples for label in sample.labels}
            for suffix in SUFFIXES[family.type]:
                exported[family.name + suffix] = labels - {"le"}
            for sample in family.samples:
                exported.setdefault(sample.name, set()).update(sample.labels)
            if family.type == "histogram":
                exported[family.name + "_bucket"] = labels | {"le"}
    assert {"skymesh_broker_alerts_total", "skymesh_grpc_server_handling_seconds_bucket"} <= set(
        exported
    )
    assert exported["skymesh_grpc_server_handling_seconds_count"] == {
        "grpc_service",
        "grpc_method",
        "grpc_code",
    }
    return exported


def label_names(expr: str) -> set[str]:
    """The label names a PromQL expression matches on or groups by."""
    names = {
        name
        for matchers in re.findall(r"\{([^}]*)\}", expr)
        for name in re.findall(r"(\w+)\s*(?:=~|!~|!=|=)", matchers)
    }
    for clause in re.findall(
        r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)", expr
    ):
        names |= {name.strip() for name in clause.split(",") if name.strip()}
    return names


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    expr = re.sub(r"\{[^}]*\}|\[[^\]]*\]", " ", expr)
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", expr)
    names = set()
    for found in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", expr):
        if expr[found.end() :].lstrip().startswith("(") or found.group() in KEYWORDS:
            continue  # a function or an aggregation, or a keyword
        names.add(found.group())
    return names


def dashboard_panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def datasource_references(node: Any) -> Iterator[Any]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "datasource":
                yield value
            else:
                yield from datasource_references(value)
    elif isinstance(node, list):
        for item in node:
            yield from datasource_references(item)


def test_metric_names_are_read_from_promql() -> None:
    assert metric_names(
        'histogram_quantile(0.95, sum by (le, grpc_method) (rate(a_bucket{x="y{"}[5m]))) '
        "/ ignoring (stage) group_left sum(rate(b_total[$__rate_interval])) > bool 0 or c"
    ) == {"a_bucket", "b_total", "c"}


def test_every_dashboard_query_uses_metrics_that_the_services_export() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    exported = exported_metrics()
    targets = [t for p in dashboard_panels(dashboard) for t in p.get("targets", [])]
    exprs = [t["expr"] for t in targets]
    assert len(exprs) >= 20
    used: set[str] = set()
    for target in targets:
        expr = target["expr"]
        names = metric_names(expr)
        assert names, expr
        assert names <= set(exported), (expr, sorted(names - set(exported)))
        used |= names
        # Labels: the metrics' own and those the scrape gives every target; a legend shows
        # only labels that the query keeps.
        labels = TARGET_LABELS.union(*(exported[name] for name in names))
        assert label_names(expr) <= labels, (expr, sorted(label_names(expr) - labels))
        legend = set(re.findall(r"\{\{\s*(\w+)\s*\}\}", target["legendFormat"]))
        assert legend <= label_names(expr) & labels, (expr, target["legendFormat"])
        # Only the chosen namespace's series, in every selector.
        selectors = re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*\{([^}]*)\}", expr)
        assert len(selectors) == len(re.findall(r"\bskymesh_\w+", expr)), expr
        assert all('namespace="$namespace"' in s for s in selectors), expr
        if "histogram_quantile" in expr:
            assert all(n.endswith("_bucket") for n in names), expr
            assert re.search(r"\bby \(le\b", expr), expr
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            query = variable["query"]["query"]
            (name, label) = re.findall(r"label_values\(\s*([A-Za-z_:][\w:]*).*,\s*(\w+)\)$", query)[
                0
            ]
            assert label in TARGET_LABELS | exported[name], variable["name"]
    # Every part of the list has its panel.
    for wanted in (
        "skymesh_broker_alerts_total",
        "skymesh_broker_consumer_lag",
        "skymesh_broker_batches_in_flight",
        "skymesh_broker_alert_latency_seconds_bucket",
        "skymesh_broker_stage_seconds_total",
        "skymesh_broker_stage_cpu_seconds_total",
        "skymesh_ml_triton_request_seconds_bucket",
        "skymesh_broker_filter_passes_total",
        "skymesh_broker_filter_errors_total",
        "skymesh_grpc_server_handling_seconds_bucket",
        "skymesh_grpc_server_handling_seconds_count",
    ):
        assert wanted in used, wanted
    assert any("PortalService" in expr for expr in exprs)


def test_the_dashboard_is_well_formed() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert 36 <= dashboard["schemaVersion"] <= 41
    assert dashboard["uid"] and dashboard["title"]
    panels = list(dashboard_panels(dashboard))
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), "panel ids are not unique"
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    assert variables["namespace"]["type"] == "query"
    # Every data source is the variable's: the dashboard works on any Prometheus.
    references = list(datasource_references(dashboard))
    assert references and all(r == DATASOURCE for r in references), references
    for panel in panels:
        grid = panel["gridPos"]
        assert 0 <= grid["x"] and grid["x"] + grid["w"] <= 24, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == DATASOURCE, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == DATASOURCE, panel["title"]
        refs = [t["refId"] for t in panel["targets"]]
        assert len(refs) == len(set(refs)), panel["title"]
