from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from etl.config import Settings, load_settings
from etl.errors import ConfigError

DEFAULT_FILE = Path(__file__).resolve().parents[2] / "config" / "k8s-cost-etl.yaml"


def test_documented_default_file_equals_built_in_defaults() -> None:
    assert load_settings(DEFAULT_FILE, environ={}) == Settings()


def _setting_paths(model: type[BaseModel], prefix: str = "") -> set[str]:
    paths = set()
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            paths |= _setting_paths(annotation, f"{prefix}{name}.")
        else:
            paths.add(prefix + name)
    return paths


def _file_paths(tree: dict[str, Any], prefix: str = "") -> set[str]:
    paths = set()
    for key, value in tree.items():
        if isinstance(value, dict) and value:
            paths |= _file_paths(value, f"{prefix}{key}.")
        else:
            paths.add(prefix + key)
    return paths


def test_documented_default_file_lists_every_setting() -> None:
    documented = _file_paths(yaml.safe_load(DEFAULT_FILE.read_text()))
    assert documented == _setting_paths(Settings)


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("thanos:\n  url: http://from-file:9090\n  chunk_days: 3\naccounts: [x]\n")
    settings = load_settings(config, environ={
        "THANOS_URL": "http://from-env:10902/", "ACCOUNTS": " a, b ,,c ",
        "THANOS_HEADERS": "THANOS-TENANT=t1, X-Scope-OrgID=org",
    })
    assert settings.thanos.url == "http://from-env:10902"  # trailing slash dropped
    assert settings.thanos.chunk_days == 3  # from the file
    assert settings.accounts == ["a", "b", "c"]
    assert settings.thanos.headers == {"THANOS-TENANT": "t1", "X-Scope-OrgID": "org"}


@pytest.mark.parametrize(
    ("environ", "field"),
    [
        ({"THANOS_URL": "thanos:9090"}, "thanos.url (THANOS_URL)"),
        ({"THANOS_CHUNK_DAYS": "500"}, "thanos.chunk_days (THANOS_CHUNK_DAYS)"),
        ({"EXPORTER_EFFICIENCY_SCALE": "fraction"}, "exporter.efficiency_scale (EXPORTER_EFFICIENCY_SCALE)"),
        ({"LOOKBACK_DAYS": "-1"}, "run.lookback_days (LOOKBACK_DAYS)"),
        ({"ACCOUNT_LABEL": "tenant-id"}, "account_label (ACCOUNT_LABEL)"),
        ({"THANOS_HEADERS": "no-equals-sign"}, "THANOS_HEADERS"),
    ],
)
def test_invalid_values_name_the_field(environ: dict[str, str], field: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ=environ)
    assert caught.value.field == field
    assert field in str(caught.value)


def test_unknown_key_in_file_is_rejected(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("thanos:\n  uri: http://typo:9090\n")
    with pytest.raises(ConfigError, match=r"thanos\.uri"):
        load_settings(config, environ={})


def test_secrets_do_not_appear_in_repr() -> None:
    settings = load_settings(environ={"THANOS_BEARER_TOKEN": "s3cr3t-token", "THANOS_PASSWORD": "hunter2",
                                      "DATABASE_URL": "postgresql://u:dbpass@h/d"})
    text = repr(settings)
    assert "s3cr3t-token" not in text and "hunter2" not in text and "dbpass" not in text


def test_missing_thanos_url_is_reported_by_name() -> None:
    with pytest.raises(ConfigError, match="THANOS_URL"):
        load_settings(environ={}).thanos.require_url()


def test_a_config_file_that_is_not_utf8_is_a_configuration_error(tmp_path: Path) -> None:
    config = tmp_path / "latin1.yaml"
    config.write_bytes("account_label: tenant_id  # caf\xe9\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=r"config file: .*latin1\.yaml is not UTF-8 text"):
        load_settings(config, environ={})
