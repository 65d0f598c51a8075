"""Gauge-window semantics on a real Prometheus: trailing 24-hour gauges, the current partial
day, and samples sitting exactly on hour boundaries. Expected values are worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, text

from etl.demo.prometheus import SampleSeries, hourly_series
from etl.model import utc_midnight
from etl.run.pipeline import Pipeline
from etl.source.thanos import ThanosClient
from tests.support.servers import make_settings

DAY = date(2026, 8, 10)
START = utc_midnight(DAY).timestamp()
P = "cloudtuner_kubecost_cluster_"
TRAILING = "acct-trailing"
EDGES = "acct-edges"


def dataset() -> list[SampleSeries]:
    hours = [START + h * 3600 for h in range(24)]
    # TRAILING: the exporter's trailing-24h average rate climbs 1, 2, ..., 24 $/h through the day;
    # the value at the end of the day is 24 $/h -> the day costs 24 x 24 = 576 $ in trailing mode
    # (and 1 + 2 + ... + 24 = 300 $ if the same gauge were read hour by hour).
    series = [
        hourly_series(P + "total_cost", {"tenant_id": TRAILING}, {h: [i + 1.0] * 2 for i, h in enumerate(hours)}),
        hourly_series(P + "cpu_cost", {"tenant_id": TRAILING}, {h: [i + 1.0] * 2 for i, h in enumerate(hours)}),
    ]
    # EDGES: one sample exactly on every hour boundary 00:00 ... 24:00 with value = the hour's
    # index (0, 1, ..., 24), plus one mid-hour sample per hour with the same value. Each hour h
    # must average only its own samples (h at h:00 and h at h:30) -> h $, never mixing in the
    # sample at (h+1):00. Day total = 0 + 1 + ... + 23 = 276 $.
    edge_samples = [(START + h * 3600, float(h)) for h in range(25)]
    mid_samples = [(START + h * 3600 + 1800, float(h)) for h in range(24)]
    series.append(SampleSeries(P + "total_cost", {"tenant_id": EDGES}, sorted(edge_samples + mid_samples)))
    return series


@pytest.fixture
def thanos_url(prometheus_with) -> str:  # type: ignore[no-untyped-def]
    return prometheus_with("gauge-windows", dataset())


def run(thanos_url: str, database_url: str, engine: Engine, account: str, now: datetime, **env: str) -> None:
    settings = make_settings(thanos_url, database_url, ACCOUNTS=account, **env)
    summary = Pipeline(settings, ThanosClient(settings.thanos), engine).run_range(DAY, DAY, now=now)
    assert not summary.failed


def day_row(engine: Engine, account: str) -> dict:  # type: ignore[type-arg]
    with engine.connect() as connection:
        return dict(connection.execute(
            text("SELECT * FROM k8s_daily_costs WHERE cloud_account_id = :a"), {"a": account}).mappings().one())


LATER = datetime(2026, 11, 1, tzinfo=UTC)


def test_trailing_24h_day_costs_end_of_day_value_times_24(thanos_url: str, database_url: str,
                                                           engine: Engine) -> None:
    run(thanos_url, database_url, engine, TRAILING, LATER, EXPORTER_GAUGE_WINDOW="trailing_24h")
    row = day_row(engine, TRAILING)
    assert row["total_cost"] == Decimal("576") and row["cpu_cost"] == Decimal("576")
    assert row["hours_covered"] == 24


def test_hourly_window_integrates_the_same_gauge(thanos_url: str, database_url: str, engine: Engine) -> None:
    run(thanos_url, database_url, engine, TRAILING, LATER)
    assert day_row(engine, TRAILING)["total_cost"] == Decimal("300")


def test_samples_on_hour_boundaries_are_counted_once(thanos_url: str, database_url: str, engine: Engine) -> None:
    run(thanos_url, database_url, engine, EDGES, LATER)
    row = day_row(engine, EDGES)
    assert row["total_cost"] == Decimal("276")
    assert row["hours_covered"] == 24


def test_the_running_hour_is_not_counted(thanos_url: str, database_url: str, engine: Engine) -> None:
    # At 13:20 the hours 00:00-12:59 are over (13 of them); 13:00-13:59 is still running.
    now = utc_midnight(DAY) + timedelta(hours=13, minutes=20)
    run(thanos_url, database_url, engine, TRAILING, now)
    row = day_row(engine, TRAILING)
    assert row["hours_covered"] == 13
    assert row["total_cost"] == Decimal(sum(range(1, 14)))  # 1 + 2 + ... + 13 = 91
