"""Clusters, currencies and totals of the exporter, on a real Prometheus and PostgreSQL.

The exporter labels every gauge with `cluster` and `currency`. Several clusters remote-writing
under one account are summed; several series of one cluster (replicas, a restart) are copies and
averaged; two currencies are never added. Gauges are sampled four times an hour (:07:30, :22:30,
:37:30, :52:30) at constant values here, so every hour of DAY is alike and a day is 24 hours.
"""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import Engine, text

from etl.demo.prometheus import SampleSeries
from etl.report import cluster_costs
from etl.run.pipeline import Pipeline, RunSummary
from etl.source.thanos import ThanosClient
from tests.support.datasets import OFFSETS, P, hour
from tests.support.servers import BACKFILL_NOW, make_settings
from tests.support.tables import daily_rows

DAY = date(2026, 7, 4)
TWO_CLUSTERS = "acct-two-clusters"
EURO = "acct-euro"
TWO_CURRENCIES = "acct-two-currencies"
OVER = "acct-components-over-total"
ZERO = "acct-zero"


def gauge(account: str, metric: str, value: float, hours: range = range(24), **labels: str) -> SampleSeries:
    samples = [(hour(DAY, h) + offset, value) for h in hours for offset in OFFSETS]
    return SampleSeries(P + metric, {"tenant_id": account, "currency": "USD", **labels}, samples)


def dataset() -> list[SampleSeries]:
    series: list[SampleSeries] = []
    # TWO_CLUSTERS: cluster c1 (exported twice: an HA pair of exporters, pods exp-1 and exp-2) at
    # total 10 $/h, cpu 6 $/h, cpu efficiency 50 %; cluster c2 at total 4 $/h, cpu 2 $/h, cpu
    # efficiency 80 %. Per hour: total 10 + 4 = 14 $, cpu 6 + 2 = 8 $, management (10 - 6) +
    # (4 - 2) = 6 $, cpu efficiency weighted by cpu cost (50 x 6 + 80 x 2) / 8 = 57.5 %.
    # Day: 336 $, cpu 192 $, management 144 $. (Averaging the three series would give 8 $/h.)
    for pod in ("exp-1", "exp-2"):
        series += [gauge(TWO_CLUSTERS, "total_cost", 10.0, cluster="c1", pod=pod),
                   gauge(TWO_CLUSTERS, "cpu_cost", 6.0, cluster="c1", pod=pod),
                   gauge(TWO_CLUSTERS, "cpu_efficiency", 50.0, cluster="c1", pod=pod)]
    series += [gauge(TWO_CLUSTERS, "total_cost", 4.0, cluster="c2"), gauge(TWO_CLUSTERS, "cpu_cost", 2.0, cluster="c2"),
               gauge(TWO_CLUSTERS, "cpu_efficiency", 80.0, cluster="c2")]
    # EURO: one cluster billing in EUR: 3 EUR/h -> 72 EUR, stored as EUR.
    series += [SampleSeries(P + "total_cost", {"tenant_id": EURO, "cluster": "paris", "currency": "EUR"},
                            gauge(EURO, "total_cost", 3.0).samples)]
    # TWO_CURRENCIES: cluster c1 in USD (10 $/h), cluster c2 in EUR (5 EUR/h): no sum of the two
    # means anything; the account fails with both currencies named, the others are written.
    series += [gauge(TWO_CURRENCIES, "total_cost", 10.0, cluster="c1"),
               SampleSeries(P + "total_cost", {"tenant_id": TWO_CURRENCIES, "cluster": "c2", "currency": "EUR"},
                            gauge(TWO_CURRENCIES, "total_cost", 5.0).samples)]
    # OVER: total 10 $/h but cpu 8 + ram 4 = 12 $/h. The total is kept (it is what the cluster
    # costs); the components are scaled to it in proportion, to the nano-dollar:
    # cpu 8 x 10/12 = 6.666666667, ram 4 x 10/12 = 3.333333333 (their sum is exactly 10), management
    # 0. Day: cpu 160.000000008, ram 79.999999992, sum 240 = the total.
    series += [gauge(OVER, "total_cost", 10.0, cluster="o"), gauge(OVER, "cpu_cost", 8.0, cluster="o"),
               gauge(OVER, "ram_cost", 4.0, cluster="o")]
    # ZERO: the exporter reports exactly 0 $ in hours 0 and 1 (and 5 $/h after), no Phase 1 data:
    # the $0 hours are stored, but flagged and warned about. Day 22 x 5 = 110 $.
    series += [gauge(ZERO, "total_cost", 0.0, range(2), cluster="z"),
               gauge(ZERO, "total_cost", 5.0, range(2, 24), cluster="z")]
    return series


@pytest.fixture
def summary(prometheus_with, database_url: str, engine: Engine, caplog: pytest.LogCaptureFixture) -> RunSummary:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.INFO)
    settings = make_settings(prometheus_with("clusters-currency", dataset()), database_url)
    return Pipeline(settings, ThanosClient(settings.thanos), engine).run_range(DAY, DAY, now=BACKFILL_NOW)


def test_clusters_are_summed_and_their_copies_averaged(summary: RunSummary, engine: Engine) -> None:
    day = daily_rows(engine)[(TWO_CLUSTERS, DAY)]
    assert (day["total_cost"], day["cpu_cost"], day["management_cost"]) == (Decimal("336"), Decimal("192"),
                                                                            Decimal("144"))
    assert day["cpu_efficiency"] == Decimal("57.5")
    assert day["clusters"] == "c1, c2"
    assert day["currency"] == "USD"


def test_the_currency_is_stored_with_the_rows(summary: RunSummary, engine: Engine) -> None:
    day = daily_rows(engine)[(EURO, DAY)]
    assert (day["total_cost"], day["currency"], day["clusters"]) == (Decimal("72"), "EUR", "paris")
    with engine.connect() as connection:
        hourly = connection.execute(text("SELECT DISTINCT currency FROM k8s_hourly_costs WHERE cloud_account_id = :a"),
                                    {"a": EURO}).scalars().all()
    assert hourly == ["EUR"]


def test_two_currencies_are_never_added(summary: RunSummary, engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    assert summary.failed == [TWO_CURRENCIES]
    assert (TWO_CURRENCIES, DAY) not in daily_rows(engine)
    errors = [r.getMessage() for r in caplog.get_records("setup")
              if r.levelno == logging.ERROR and TWO_CURRENCIES in r.getMessage()]
    assert any("EUR" in message and "USD" in message for message in errors), errors


def test_components_over_the_total_are_scaled_so_clean_expenses_add_up(summary: RunSummary, engine: Engine) -> None:
    day = daily_rows(engine)[(OVER, DAY)]
    assert day["total_cost"] == Decimal("240")
    assert (day["cpu_cost"], day["ram_cost"], day["management_cost"]) == (Decimal("160.000000008"),
                                                                          Decimal("79.999999992"), Decimal("0"))
    with engine.connect() as connection:
        clean = connection.execute(text("SELECT sum(cost) FROM k8s_clean_expenses WHERE cloud_account_id = :a"),
                                   {"a": OVER}).scalar_one()
    assert clean == day["total_cost"]


def test_an_exporter_hour_of_zero_dollars_is_stored_flagged_and_warned(
    summary: RunSummary, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    day = daily_rows(engine)[(ZERO, DAY)]
    assert (day["total_cost"], day["hours_covered"], day["exporter_zero_hours"]) == (Decimal("110"), 24, 2)
    warnings = [r.getMessage() for r in caplog.get_records("setup")
                if r.levelno == logging.WARNING and ZERO in r.getMessage() and "$0" in r.getMessage()]
    assert len(warnings) == 1 and "2 hour(s)" in warnings[0], warnings
    report = cluster_costs(engine, ZERO, DAY, DAY)
    assert report["exporter_zero_hours"] == 2
    assert report["days"][0]["exporter_zero_hours"] == 2
