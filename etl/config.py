"""One settings object, built once: defaults <- YAML file <- environment variables.

The documented default file is ``config/k8s-cost-etl.yaml``; a test keeps it equal to the
defaults below, so the file is always a true description of what an unset setting means.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from etl.errors import ConfigError
from etl.model import DEFAULT_CURRENCY

CONFIG_FILE_ENV = "K8S_COST_ETL_CONFIG"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ThanosSettings(_Section):
    url: str | None = None
    timeout_seconds: float = Field(default=120.0, gt=0)
    connect_timeout_seconds: float = Field(default=10.0, gt=0)
    retries: int = Field(default=4, ge=0, le=20)
    backoff_seconds: float = Field(default=1.0, ge=0)
    bearer_token: str | None = Field(default=None, repr=False)
    bearer_token_file: str | None = None
    username: str | None = None
    password: str | None = Field(default=None, repr=False)
    headers: dict[str, str] = Field(default_factory=dict, repr=False)
    ca_file: str | None = None
    verify_tls: bool = True
    # Thanos picks downsampled blocks up to this resolution ("auto" = step/5); Prometheus ignores it.
    max_source_resolution: Literal["auto", "0s", "5m", "1h"] = "auto"
    dedup: bool = True
    # One query covers this many days for all accounts. Thanos refuses more than 11,000 points per
    # series; with an hourly step that is 458 days, so the bound keeps every chunk legal. 30 days:
    # a year's backfill is 13 chunks (per-chunk costs amortised), a chunk of a claim batch stays far
    # below 300 MB (bench/bench_fleet.py), and an interrupted backfill redoes at most 30 days.
    chunk_days: int = Field(default=30, ge=1, le=450)
    # Queries of one chunk in flight at once: Thanos evaluates concurrent queries on all its cores.
    max_concurrent_queries: int = Field(default=4, ge=1, le=32)

    @field_validator("url")
    @classmethod
    def _url_has_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") if value else value

    def require_url(self) -> str:
        if not self.url:
            raise ConfigError("THANOS_URL", "is required (set it, or thanos.url in the config file)")
        return self.url


class DatabaseSettings(_Section):
    url: str | None = Field(default=None, repr=False)
    # None: the per-user data directory (etl.store.embedded.default_data_dir).
    embedded_data_dir: str | None = None


class ExporterSettings(_Section):
    efficiency_scale: Literal["percent", "ratio"] = "percent"
    gauge_window: Literal["hourly", "trailing_24h"] = "hourly"


class PricingSettings(_Section):
    """Prices used by Phase 1 where a node or volume has no usable price (no series, 0 or NaN).

    Defaults are OpenCost's own list defaults, so a missing price costs what OpenCost would charge.
    """

    default_cpu_price: float = Field(default=0.031611, gt=0)  # USD per core-hour
    default_ram_price: float = Field(default=0.004237, gt=0)  # USD per GiB-hour
    default_storage_price: float = Field(default=0.00005479452, gt=0)  # USD per GiB-hour
    default_gpu_price: float = Field(default=0.95, gt=0)  # USD per GPU-hour
    # The currency of Phase 1 prices (and of these defaults) and of exporter gauges that carry no
    # `currency` label; stored with every row. An ISO 4217 code.
    currency: str = Field(default=DEFAULT_CURRENCY, pattern=r"^[A-Z]{3}$")


class RunSettings(_Section):
    lookback_days: int = Field(default=3, ge=0, le=366)
    # A cycle catches up from an account's watermark, but never over more days than this; past
    # it the log names the backfill command that fills the gap.
    max_catchup_days: int = Field(default=31, ge=1, le=3660)
    # Accounts a process locks and queries together; smaller batches spread accounts over
    # concurrent replicas, larger ones send fewer queries. None ("auto"): 50, and for a backfill
    # whose chunks are shorter than 30 days up to 500 (etl.run.claims.claim_size).
    accounts_per_claim: int | None = Field(default=None, ge=1, le=10_000)
    # Also store the namespace breakdown per hour (k8s_namespace_hourly_costs), not only per day:
    # about (namespaces + 1) rows per account-hour, so off unless a report needs hours.
    store_namespace_hours: bool = False

    @field_validator("accounts_per_claim", mode="before")
    @classmethod
    def _auto(cls, value: Any) -> Any:
        return None if isinstance(value, str) and value.strip().lower() == "auto" else value


class ScheduleSettings(_Section):
    # Standard 5-field crontab, evaluated in UTC: by default 7 minutes past every hour.
    cron: str = "7 * * * *"
    # Run a cycle as soon as the daemon starts (catch-up after downtime), then follow ``cron``.
    run_on_start: bool = True
    # A tick missed by less than this (busy machine, long cycle) still runs; misses coalesce to one.
    misfire_grace_seconds: int = Field(default=3600, ge=1)
    # /healthz, /readyz and /metrics for the ETL itself; port 0 disables the endpoint. 0.0.0.0 so the
    # kubelet's probes and Prometheus reach it on the pod IP; 127.0.0.1 outside a pod (docs/operations.md).
    health_host: str = "0.0.0.0"
    health_port: int = Field(default=9464, ge=0, le=65535)
    # /metrics labels per-account series with the account id; false: account-free aggregates only.
    metrics_per_account: bool = True

    @field_validator("cron")
    @classmethod
    def _cron_parses(cls, value: str) -> str:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(value, timezone="UTC")
        except ValueError as exc:
            raise ValueError(f"not a 5-field crontab expression ({exc})") from None
        return value


class Settings(_Section):
    thanos: ThanosSettings = Field(default_factory=ThanosSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    exporter: ExporterSettings = Field(default_factory=ExporterSettings)
    pricing: PricingSettings = Field(default_factory=PricingSettings)
    run: RunSettings = Field(default_factory=RunSettings)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    account_label: str = Field(default="tenant_id", pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*$")
    accounts: list[str] = Field(default_factory=list)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # text: "time LEVEL logger: message"; json: one object per line for a cluster's log stack.
    log_format: Literal["text", "json"] = "text"


def _split_list(raw: str) -> list[str]:
    return [item.strip() for item in raw.split(",") if item.strip()]


def _split_headers(raw: str) -> dict[str, str]:
    headers: dict[str, str] = {}
    for item in _split_list(raw):
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ConfigError("THANOS_HEADERS", "expected comma-separated Name=value pairs")
        headers[name.strip()] = value.strip()
    return headers


# environment variable -> (dotted setting path, parser)
ENV_OVERRIDES: dict[str, tuple[str, Any]] = {
    "THANOS_URL": ("thanos.url", str),
    "THANOS_TIMEOUT_SECONDS": ("thanos.timeout_seconds", str),
    "THANOS_RETRIES": ("thanos.retries", str),
    "THANOS_BEARER_TOKEN": ("thanos.bearer_token", str),
    "THANOS_BEARER_TOKEN_FILE": ("thanos.bearer_token_file", str),
    "THANOS_USERNAME": ("thanos.username", str),
    "THANOS_PASSWORD": ("thanos.password", str),
    "THANOS_HEADERS": ("thanos.headers", _split_headers),
    "THANOS_CA_FILE": ("thanos.ca_file", str),
    "THANOS_VERIFY_TLS": ("thanos.verify_tls", str),
    "THANOS_MAX_SOURCE_RESOLUTION": ("thanos.max_source_resolution", str),
    "THANOS_CHUNK_DAYS": ("thanos.chunk_days", str),
    "THANOS_MAX_CONCURRENT_QUERIES": ("thanos.max_concurrent_queries", str),
    "DATABASE_URL": ("database.url", str),
    "EMBEDDED_PG_DATA_DIR": ("database.embedded_data_dir", str),
    "EXPORTER_EFFICIENCY_SCALE": ("exporter.efficiency_scale", str),
    "EXPORTER_GAUGE_WINDOW": ("exporter.gauge_window", str),
    "DEFAULT_CPU_PRICE": ("pricing.default_cpu_price", str),
    "DEFAULT_RAM_PRICE": ("pricing.default_ram_price", str),
    "DEFAULT_STORAGE_PRICE": ("pricing.default_storage_price", str),
    "DEFAULT_GPU_PRICE": ("pricing.default_gpu_price", str),
    "CURRENCY": ("pricing.currency", str),
    "LOOKBACK_DAYS": ("run.lookback_days", str),
    "MAX_CATCHUP_DAYS": ("run.max_catchup_days", str),
    "ACCOUNTS_PER_CLAIM": ("run.accounts_per_claim", str),
    "STORE_NAMESPACE_HOURS": ("run.store_namespace_hours", str),
    "SCHEDULE_CRON": ("schedule.cron", str),
    "SCHEDULE_RUN_ON_START": ("schedule.run_on_start", str),
    "SCHEDULE_MISFIRE_GRACE_SECONDS": ("schedule.misfire_grace_seconds", str),
    "HEALTH_HOST": ("schedule.health_host", str),
    "HEALTH_PORT": ("schedule.health_port", str),
    "METRICS_PER_ACCOUNT": ("schedule.metrics_per_account", str),
    "ACCOUNT_LABEL": ("account_label", str),
    "ACCOUNTS": ("accounts", _split_list),
    "LOG_LEVEL": ("log_level", lambda raw: raw.upper()),
    "LOG_FORMAT": ("log_format", lambda raw: raw.lower()),
}


def _set_path(tree: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    node = tree
    for part in parents:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(part, "must be a mapping")
        node = child
    node[leaf] = value


def _env_name_for(dotted: str) -> str | None:
    return next((env for env, (path, _) in ENV_OVERRIDES.items() if path == dotted), None)


def load_settings(config_file: str | Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Build the settings; raise ConfigError naming the offending field on any problem."""
    environ = os.environ if environ is None else environ
    path: str | Path | None = config_file or environ.get(CONFIG_FILE_ENV)
    tree: dict[str, Any] = {}
    if path:
        try:
            loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError("config file", f"cannot read {path}: {exc.strerror}") from exc
        except UnicodeDecodeError as exc:
            raise ConfigError("config file", f"{path} is not UTF-8 text (byte {exc.start})") from exc
        except yaml.YAMLError as exc:
            raise ConfigError("config file", f"{path} is not valid YAML: {exc}") from exc
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError("config file", f"{path} must hold a mapping at the top level")
        tree = loaded or {}
    for env_name, (dotted, parse) in ENV_OVERRIDES.items():
        raw = environ.get(env_name)
        if raw is not None and raw != "":
            _set_path(tree, dotted, parse(raw))
    try:
        return Settings.model_validate(tree)
    except ValidationError as exc:
        first = exc.errors()[0]
        location = ".".join(str(part) for part in first["loc"])
        env_var = _env_name_for(location)
        field = f"{location} ({env_var})" if env_var else location
        raise ConfigError(field, first["msg"]) from None
