"""Driving the real pipeline and the real CLI against the test servers."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Engine

from etl.config import Settings, load_settings
from etl.model import NETWORK_SPLIT_COLUMNS
from etl.run.pipeline import Pipeline, RunSummary
from etl.run.sources import GROUPS
from etl.source.metrics import EXPORTER_METRICS
from etl.source.thanos import ThanosClient

REPO_ROOT = Path(__file__).resolve().parents[2]

# Which accounts publish which metrics (etl.run.sources): one label-values request per group of metrics,
# once per range.
DISCOVERY_REQUESTS = len(GROUPS)
# Range queries one chunk sends for accounts that have only exporter gauges, without the optional
# network split (the exporter and operations datasets): one per other gauge and one for the
# exporter's coverage (its healthy and failed minutes), for all accounts at once, and no Phase 1 query.
EXPORTER_RANGE_QUERIES = len(EXPORTER_METRICS) - len(NETWORK_SPLIT_COLUMNS) + 1
# And one instant query per chunk before them: which gauges the chunk holds clean (etl.source.plain).
EXPORTER_CHECKS = 1

# A fixed "now" long after the test datasets: every hour of them is complete.
BACKFILL_NOW = datetime(2026, 11, 1, tzinfo=UTC)


def make_settings(thanos_url: str, database_url: str, **env: str) -> Settings:
    """Settings as the CLI would build them from these environment variables."""
    return load_settings(environ={"THANOS_URL": thanos_url, "DATABASE_URL": database_url,
                                  "THANOS_RETRIES": "0", **env})


def run_backfill(thanos_url: str, database_url: str, engine: Engine, first_day: date, last_day: date,
                 **env: str) -> RunSummary:
    """Backfill [first_day, last_day] through the real pipeline with settings from ``env``."""
    settings = make_settings(thanos_url, database_url, **env)
    pipeline = Pipeline(settings, ThanosClient(settings.thanos), engine)
    return pipeline.run_range(first_day, last_day, now=BACKFILL_NOW)


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
