"""Driving the real pipeline and the real CLI against the test servers."""

from __future__ import annotations

import os
from dataclasses import fields
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Engine

from etl.config import Settings, load_settings
from etl.costing.raw import RawMetrics
from etl.run.pipeline import Pipeline, RunSummary
from etl.source.promql import EXPORTER_METRICS
from etl.source.raw import PRESENCE_WEIGHTED
from etl.source.thanos import ThanosClient

REPO_ROOT = Path(__file__).resolve().parents[2]

# Range queries one chunk sends for all its accounts: one per exporter gauge, the exporter's
# coverage (its healthy and failed minutes), one per raw metric of Phase 1, and the probe of each
# presence-weighted metric's sampling (series sampled every 5 minutes or more often: no held query).
RANGE_QUERIES_PER_CHUNK = len(EXPORTER_METRICS) + 1 + len(fields(RawMetrics)) + len(PRESENCE_WEIGHTED)

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
