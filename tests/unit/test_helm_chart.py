"""The Helm chart (deploy/helm/k8s-cost-etl) renders valid Kubernetes objects in both modes, runs real
commands with the settings the code accepts, and agrees with the plain manifests in deploy/.

Rendered with the real `helm template` (scripts/helm.sh puts it in .venv/bin) and validated against
the Kubernetes OpenAPI schemas by kubernetes-validate, strictly (unknown fields are errors).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from etl.cli.commands import COMMANDS
from etl.config import Settings
from tests.unit.test_deploy_manifests import manifests, pod_spec

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "deploy" / "helm" / "k8s-cost-etl"
HELM = shutil.which("helm") or (str(REPO / ".venv" / "bin" / "helm") if (REPO / ".venv/bin/helm").exists() else None)
KUBERNETES_VERSION = "1.30.0"

pytestmark = pytest.mark.skipif(HELM is None, reason="helm not installed (scripts/helm.sh installs it)")


def render(*values: str) -> dict[str, dict[str, Any]]:
    """``helm template`` with ``--set`` values: kind -> object (one of each kind in this chart)."""
    assert HELM is not None
    args = [HELM, "template", "costs", str(CHART), "--namespace", "finops"]
    for value in values:
        args += ["--set", value]
    output = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return {document["kind"]: document for document in yaml.safe_load_all(output) if document}


def chart_pod(objects: dict[str, dict[str, Any]], kind: str) -> dict[str, Any]:
    if kind == "CronJob":
        return dict(objects[kind]["spec"]["jobTemplate"]["spec"]["template"]["spec"])
    return dict(objects[kind]["spec"]["template"]["spec"])


MODES = {
    "deployment": ("mode=deployment", "serviceMonitor.enabled=true"),
    "cronjob": ("mode=cronjob",),
    "no-token": ("mode=cronjob", "thanosBearerToken.enabled=false", "migrate.enabled=false"),
}


@pytest.mark.parametrize("mode", MODES)
def test_every_rendered_object_is_valid_kubernetes(mode: str) -> None:
    for kind, document in render(*MODES[mode]).items():
        if kind == "ServiceMonitor":  # a CRD: not in the core schemas
            assert document["spec"]["endpoints"][0]["port"] == "metrics"
            continue
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_deployment_mode_runs_the_daemon_with_probes_metrics_and_a_migrate_hook() -> None:
    objects = render(*MODES["deployment"])
    assert set(objects) == {"ServiceAccount", "ConfigMap", "Service", "Deployment", "Job", "ServiceMonitor"}
    settings = Settings.model_validate(yaml.safe_load(objects["ConfigMap"]["data"]["k8s-cost-etl.yaml"]))
    assert settings.schedule.cron == "7 * * * *" and settings.database.url is None
    [container] = chart_pod(objects, "Deployment")["containers"]
    assert container["args"] == ["schedule"] and "schedule" in COMMANDS
    assert container["ports"] == [{"name": "metrics", "containerPort": settings.schedule.health_port}]
    hook = objects["Job"]
    assert hook["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert hook["spec"]["template"]["spec"]["containers"][0]["args"] == ["migrate"]
    assert objects["Service"]["spec"]["ports"][0]["targetPort"] == "metrics"


def test_cronjob_mode_runs_one_cycle_per_tick_without_overlap() -> None:
    objects = render("mode=cronjob", "schedule=15 * * * *")
    assert "Deployment" not in objects and "Service" not in objects
    assert objects["CronJob"]["spec"]["schedule"] == "15 * * * *"
    assert objects["CronJob"]["spec"]["concurrencyPolicy"] == "Forbid"
    [container] = chart_pod(objects, "CronJob")["containers"]
    assert container["args"] == ["run"]


def test_secrets_are_references_and_the_token_is_optional() -> None:
    with_token = chart_pod(render("mode=cronjob"), "CronJob")
    without = chart_pod(render(*MODES["no-token"]), "CronJob")
    env = {item["name"]: item for item in with_token["containers"][0]["env"]}
    assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {"name": "k8s-cost-etl", "key": "database-url"}
    assert "THANOS_BEARER_TOKEN" not in env and "THANOS_BEARER_TOKEN_FILE" in env
    assert "thanos-token" in {volume["name"] for volume in with_token["volumes"]}
    assert "THANOS_BEARER_TOKEN_FILE" not in {item["name"] for item in without["containers"][0]["env"]}
    assert "thanos-token" not in {volume["name"] for volume in without["volumes"]}


@pytest.mark.parametrize(("kind", "mode"), [("Deployment", "deployment"), ("CronJob", "cronjob")])
def test_the_plain_manifests_are_the_chart_with_its_defaults(kind: str, mode: str) -> None:
    """deploy/*.yaml and the chart must not drift: the same pod, container and settings."""
    chart, plain = chart_pod(render(f"mode={mode}"), kind), pod_spec(kind)
    keys = ("automountServiceAccountToken", "terminationGracePeriodSeconds", "securityContext", "restartPolicy")
    assert {key: chart.get(key) for key in keys} == {key: plain.get(key) for key in keys}
    [chart_container], [plain_container] = chart["containers"], plain["containers"]
    for key in ("args", "env", "ports", "livenessProbe", "readinessProbe", "securityContext", "resources",
                "volumeMounts"):
        assert chart_container.get(key) == plain_container.get(key), key
    assert [volume["name"] for volume in chart["volumes"]] == [volume["name"] for volume in plain["volumes"]]
    chart_settings = yaml.safe_load(render(f"mode={mode}")["ConfigMap"]["data"]["k8s-cost-etl.yaml"])
    plain_settings = yaml.safe_load(manifests()["ConfigMap"]["data"]["k8s-cost-etl.yaml"])
    assert Settings.model_validate(chart_settings) == Settings.model_validate(plain_settings)


def test_the_plain_manifests_are_valid_kubernetes() -> None:
    for path in sorted((REPO / "deploy").glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
