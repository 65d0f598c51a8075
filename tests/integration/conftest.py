"""Real servers for integration tests, shared by the whole session.

- PostgreSQL: ``TEST_DATABASE_URL`` (a server URL whose user may CREATE DATABASE) or, unset, an
  embedded server (pgserver) in a temporary directory. Every test gets a fresh, migrated database.
- Prometheus: ``prometheus_with(name, series)`` starts (once per name per session) a real
  Prometheus loaded through promtool with those samples and returns its URL.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import fields
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from etl.config import Settings, load_settings
from etl.db import migrate
from etl.embedded import embedded_database_url
from etl.localprom import LocalPrometheus, SampleSeries
from etl.pipeline import Pipeline, RunSummary
from etl.queries import EXPORTER_METRICS
from etl.rawcosts import RawMetrics
from etl.thanos import ThanosClient

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def pg_server_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return os.environ.get("TEST_DATABASE_URL") or embedded_database_url(tmp_path_factory.mktemp("pg") / "data")


@pytest.fixture
def database_url(pg_server_url: str) -> Iterator[str]:
    """A fresh database on the shared server, migrated to head; dropped after the test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    migrate(engine)
    engine.dispose()
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def prometheus_with(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str, Sequence[SampleSeries]], str]]:
    servers: dict[str, LocalPrometheus] = {}

    def start(name: str, series: Sequence[SampleSeries]) -> str:
        if name not in servers:
            server = LocalPrometheus(series, workdir=tmp_path_factory.mktemp(f"prom-{name}"))
            server.start()
            servers[name] = server
        return servers[name].url

    yield start
    for server in servers.values():
        server.stop()


# Range queries one chunk sends for all its accounts: one per exporter gauge, the exporter's
# health gauge, and one per raw metric of Phase 1.
RANGE_QUERIES_PER_CHUNK = len(EXPORTER_METRICS) + 1 + len(fields(RawMetrics))


def make_settings(thanos_url: str, database_url: str, **env: str) -> Settings:
    """Settings as the CLI would build them from these environment variables."""
    return load_settings(environ={"THANOS_URL": thanos_url, "DATABASE_URL": database_url,
                                  "THANOS_RETRIES": "0", **env})


# A fixed "now" long after the test datasets: every hour of them is complete.
BACKFILL_NOW = datetime(2026, 11, 1, tzinfo=UTC)


def run_backfill(thanos_url: str, database_url: str, engine: Engine, first_day: date, last_day: date,
                 **env: str) -> RunSummary:
    """Backfill [first_day, last_day] through the real pipeline with settings from ``env``."""
    settings = make_settings(thanos_url, database_url, **env)
    pipeline = Pipeline(settings, ThanosClient(settings.thanos), engine)
    return pipeline.run_range(first_day, last_day, now=BACKFILL_NOW)


def daily_rows(engine: Engine) -> dict[tuple[str, date], dict[str, Any]]:
    """Every stored daily row by (account, day)."""
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM k8s_daily_costs")).mappings().all()
    return {(row["cloud_account_id"], row["usage_date"]): dict(row) for row in rows}


def daily_hourly_mismatches(engine: Engine) -> list[tuple[str, date]]:
    """(account, day) of every daily row that is not exactly the sum of its stored hours."""
    summed = ["total_cost", "cpu_cost", "ram_cost", "pv_cost", "network_cost", "load_balancer_cost",
              "management_cost", "network_internet_cost", "network_region_cost", "network_zone_cost",
              "default_priced_hours"]
    sums = ", ".join(f"sum({column}) AS {column}" for column in summed)
    differs = " OR ".join(f"h.{column} <> d.{column}" for column in summed)
    with engine.connect() as connection:
        rows = connection.execute(text(
            f"SELECT d.cloud_account_id, d.usage_date FROM k8s_daily_costs d "
            f"JOIN (SELECT cloud_account_id, (hour_start AT TIME ZONE 'UTC')::date AS day, {sums}, "
            f"             count(*) AS hours FROM k8s_hourly_costs GROUP BY 1, 2) h "
            f"  ON h.cloud_account_id = d.cloud_account_id AND h.day = d.usage_date "
            f"WHERE {differs} OR h.hours <> d.hours_covered"
        )).all()
    return [(row[0], row[1]) for row in rows]


def cli_env(thanos_url: str, database_url: str, **extra: str) -> dict[str, str]:
    """Environment for running the real ``k8s-cost-etl`` console script in a subprocess."""
    return {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "THANOS_URL": thanos_url,
        "DATABASE_URL": database_url,
        "THANOS_RETRIES": "0",
        **extra,
    }


REPO_ROOT = Path(__file__).resolve().parents[2]
