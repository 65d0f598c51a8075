"""The Kubernetes manifests in deploy/ agree with the code: commands, ports, probe paths,
config keys, secret handling and the settings the issue asks for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from etl.cli.commands import COMMANDS
from etl.config import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def manifests() -> dict[str, dict[str, Any]]:
    found = {}
    for path in DEPLOY.glob("*.yaml"):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            found[document["kind"]] = document
    return found


def pod_spec(kind: str) -> dict[str, Any]:
    document = manifests()[kind]
    if kind == "CronJob":
        return dict(document["spec"]["jobTemplate"]["spec"]["template"]["spec"])
    return dict(document["spec"]["template"]["spec"])


def test_configmap_holds_valid_settings_and_no_secret() -> None:
    data = manifests()["ConfigMap"]["data"]["k8s-cost-etl.yaml"]
    settings = Settings.model_validate(yaml.safe_load(data))
    assert settings.database.url is None and settings.thanos.bearer_token is None
    assert settings.schedule.health_port == 9464


def test_workloads_run_real_commands_as_non_root_with_secrets_from_the_secret() -> None:
    expected = {"Deployment": "schedule", "CronJob": "run", "Job": "migrate"}
    for kind, command in expected.items():
        spec = pod_spec(kind)
        [container] = spec["containers"]
        assert container["args"] == [command] and command in COMMANDS
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        env = {item["name"]: item for item in container["env"]}
        assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"]["name"] == "k8s-cost-etl"
        assert "THANOS_BEARER_TOKEN" not in env  # the token is a mounted file, not an env value
        assert spec["automountServiceAccountToken"] is False


def test_cronjob_forbids_overlap() -> None:
    assert manifests()["CronJob"]["spec"]["concurrencyPolicy"] == "Forbid"


def test_deployment_probes_hit_the_health_endpoints() -> None:
    [container] = pod_spec("Deployment")["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["ports"] == [{"name": "metrics", "containerPort": Settings().schedule.health_port}]
    token_mount = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}["thanos-token"]
    token_file = {e["name"]: e.get("value") for e in container["env"]}["THANOS_BEARER_TOKEN_FILE"]
    assert token_file.startswith(token_mount + "/")
