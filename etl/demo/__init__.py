"""`k8s-cost-etl demo`: a local Prometheus loaded with a synthetic week for a few clusters,
backfilled into the embedded PostgreSQL through the real pipeline; with ``serve`` the Prometheus
stays up as a sandbox for the other commands.

The demo never writes into the configured DATABASE_URL: demo accounts in a real cost database would
be wrong figures in its reports. It uses the embedded database unless given another explicitly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from etl.config import Settings
from etl.demo.dataset import demo_accounts, demo_series
from etl.demo.prometheus import LocalPrometheus
from etl.model import utc_midnight
from etl.read.namespaces import namespace_costs
from etl.read.report import cluster_costs
from etl.run.pipeline import Pipeline, RunSummary
from etl.source.thanos import ThanosClient
from etl.store.db import connect, migrate

log = logging.getLogger(__name__)

DEMO_DAYS = 7


@dataclass
class DemoResult:
    summary: RunSummary
    reports: list[dict[str, Any]]  # etl.report.cluster_costs of each demo account over the week
    namespace_reports: list[dict[str, Any]]  # etl.report.namespace_costs of each, likewise
    database: str
    first_day: date
    last_day: date


# Called with the result and the sandbox Prometheus' URL while it still runs; it returns to stop it.
Serve = Callable[[DemoResult, str], None]


def run_demo(settings: Settings, database_url: str | None = None, serve: Serve | None = None,
             today: date | None = None) -> DemoResult:
    """Backfill the last DEMO_DAYS complete UTC days of synthetic data into ``database_url`` (None: the
    embedded database, whatever DATABASE_URL says); return what was stored."""
    today = today or datetime.now(UTC).date()
    first_day, last_day = today - timedelta(days=DEMO_DAYS), today - timedelta(days=1)
    series = demo_series(utc_midnight(first_day), DEMO_DAYS * 24)
    with LocalPrometheus(series) as prometheus:
        log.info("Demo Prometheus with a synthetic week for %d clusters at %s", len(demo_accounts()),
                 prometheus.url)
        demo_settings = settings.model_copy(deep=True)
        demo_settings.thanos.url = prometheus.url
        demo_settings.accounts = []
        demo_settings.database.url = database_url
        engine = connect(demo_settings)
        migrate(engine)
        pipeline = Pipeline(demo_settings, ThanosClient(demo_settings.thanos), engine)
        summary = pipeline.run_range(first_day, last_day)
        reports = [cluster_costs(engine, account, first_day, last_day) for account in demo_accounts()]
        namespaces = [namespace_costs(engine, account, first_day, last_day) for account in demo_accounts()]
        result = DemoResult(summary, reports, namespaces, engine.url.render_as_string(hide_password=True), first_day,
                            last_day)
        if serve:
            serve(result, prometheus.url)
    return result
