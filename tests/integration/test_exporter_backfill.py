"""Phase 2 backfill against a real Prometheus and PostgreSQL.

Every expected figure below is computed by hand from the samples this module loads; the
comments next to each dataset say how.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine, text

from etl.extract import utc_midnight
from etl.localprom import SampleSeries, hourly_series
from etl.pipeline import Pipeline
from etl.thanos import ThanosClient
from tests.integration.conftest import make_settings

DAY1, DAY2 = date(2026, 9, 1), date(2026, 9, 2)
P = "cloudtuner_kubecost_cluster_"
PLAIN = "acct-plain"
WEIRD = 'acct-"quoted"\\back'  # an account id holding a double quote and a backslash
GAPPY = "acct-gappy"
RATIO = "acct-ratio"


def hour(day: date, index: int) -> float:
    return utc_midnight(day).timestamp() + index * 3600


def gauge(account: str, metric: str, values_by_hour: dict[float, list[float]]) -> SampleSeries:
    return hourly_series(P + metric, {"tenant_id": account}, values_by_hour)


def dataset() -> list[SampleSeries]:
    series: list[SampleSeries] = []
    # PLAIN: day 1 at total 10 $/h (cpu 4, ram 3, pv 1, network 0.5, lb 0.25 -> management 1.25),
    # day 2 rates doubled. Inside every hour the four samples of total are 9, 11, 9, 11 (avg 10).
    for day, factor in ((DAY1, 1.0), (DAY2, 2.0)):
        hours = [hour(day, h) for h in range(24)]
        series += [
            gauge(PLAIN, "total_cost", {h: [9 * factor, 11 * factor, 9 * factor, 11 * factor] for h in hours}),
            gauge(PLAIN, "cpu_cost", {h: [4 * factor] * 4 for h in hours}),
            gauge(PLAIN, "ram_cost", {h: [3 * factor] * 4 for h in hours}),
            gauge(PLAIN, "pv_cost", {h: [1 * factor] * 4 for h in hours}),
            gauge(PLAIN, "network_cost", {h: [0.5 * factor] * 4 for h in hours}),
            gauge(PLAIN, "lb_cost", {h: [0.25 * factor] * 4 for h in hours}),
            # cpu efficiency 50% in hours 0-11 and 80% in hours 12-23; equal cpu cost per hour
            # -> daily cpu efficiency 65%. ram 40% all day. total efficiency = 60% all day.
            gauge(PLAIN, "cpu_efficiency", {h: [50.0 if i < 12 else 80.0] * 4 for i, h in enumerate(hours)}),
            gauge(PLAIN, "ram_efficiency", {h: [40.0] * 4 for h in hours}),
            gauge(PLAIN, "total_efficiency", {h: [60.0] * 4 for h in hours}),
        ]
    # WEIRD: day 1 only, total 1 $/h and cpu 1 $/h -> 24 $ total, 24 $ cpu, no management.
    day1_hours = [hour(DAY1, h) for h in range(24)]
    series += [
        gauge(WEIRD, "total_cost", {h: [1.0] * 4 for h in day1_hours}),
        gauge(WEIRD, "cpu_cost", {h: [1.0] * 4 for h in day1_hours}),
    ]
    # GAPPY: day 1, data only in hours 0-5 and 18-23 (12 hours) at 2 $/h -> 24 $, hours_covered 12.
    # cpu_cost 1 $/h in hours 0-5 (efficiency 20%) and 3 $/h in hours 18-23 (efficiency 60%):
    # cost-weighted cpu efficiency = (6*1*20 + 6*3*60) / (6*1 + 6*3) = 1200/24 = 50%.
    covered = [hour(DAY1, h) for h in (*range(6), *range(18, 24))]
    series += [
        gauge(GAPPY, "total_cost", {h: [2.0] * 4 for h in covered}),
        gauge(GAPPY, "cpu_cost", {h: [1.0 if h < hour(DAY1, 12) else 3.0] * 4 for h in covered}),
        gauge(GAPPY, "cpu_efficiency", {h: [20.0 if h < hour(DAY1, 12) else 60.0] * 4 for h in covered}),
    ]
    # RATIO: an exporter publishing efficiency as 0-1 ratios: cpu 0.25 all day at 1 $/h cpu cost.
    series += [
        gauge(RATIO, "total_cost", {h: [1.0] * 4 for h in day1_hours}),
        gauge(RATIO, "cpu_cost", {h: [1.0] * 4 for h in day1_hours}),
        gauge(RATIO, "cpu_efficiency", {h: [0.2, 0.3, 0.2, 0.3] for h in day1_hours}),
    ]
    return series


@pytest.fixture
def thanos_url(prometheus_with) -> str:  # type: ignore[no-untyped-def]
    return prometheus_with("exporter-basic", dataset())


def backfill(thanos_url: str, database_url: str, engine: Engine, **env: str):  # type: ignore[no-untyped-def]
    settings = make_settings(thanos_url, database_url, **env)
    pipeline = Pipeline(settings, ThanosClient(settings.thanos), engine)
    return pipeline.run_range(DAY1, DAY2, now=datetime(2026, 11, 1, tzinfo=UTC))


def daily_rows(engine: Engine) -> dict[tuple[str, date], dict]:  # type: ignore[type-arg]
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM k8s_daily_costs")).mappings().all()
    return {(row["cloud_account_id"], row["usage_date"]): dict(row) for row in rows}


def test_backfill_costs_per_account_and_day(thanos_url: str, database_url: str, engine: Engine) -> None:
    summary = backfill(thanos_url, database_url, engine)
    assert not summary.failed
    rows = daily_rows(engine)
    assert set(rows) == {(PLAIN, DAY1), (PLAIN, DAY2), (WEIRD, DAY1), (GAPPY, DAY1), (RATIO, DAY1)}

    plain1 = rows[(PLAIN, DAY1)]
    # 24 h x (10, 4, 3, 1, 0.5, 0.25, 1.25) $/h
    assert plain1["total_cost"] == Decimal("240")
    assert plain1["cpu_cost"] == Decimal("96")
    assert plain1["ram_cost"] == Decimal("72")
    assert plain1["pv_cost"] == Decimal("24")
    assert plain1["network_cost"] == Decimal("12")
    assert plain1["load_balancer_cost"] == Decimal("6")
    assert plain1["management_cost"] == Decimal("30")
    # no network split metrics -> all network is internet
    assert plain1["network_internet_cost"] == Decimal("12")
    assert plain1["network_region_cost"] == plain1["network_zone_cost"] == Decimal("0")
    assert plain1["cpu_efficiency"] == Decimal("65")
    assert plain1["ram_efficiency"] == Decimal("40")
    assert plain1["total_efficiency"] == Decimal("60")
    assert plain1["hours_covered"] == 24
    assert plain1["source_phase"] == "exporter"

    plain2 = rows[(PLAIN, DAY2)]  # rates doubled on day 2
    assert plain2["total_cost"] == Decimal("480")
    assert plain2["management_cost"] == Decimal("60")

    weird = rows[(WEIRD, DAY1)]
    assert weird["total_cost"] == weird["cpu_cost"] == Decimal("24")
    assert weird["management_cost"] == Decimal("0")
    assert weird["cpu_efficiency"] is None  # unknown efficiency is NULL, never 0

    gappy = rows[(GAPPY, DAY1)]
    assert gappy["hours_covered"] == 12
    assert gappy["total_cost"] == Decimal("24")  # no extrapolation over the gap
    assert gappy["cpu_cost"] == Decimal("24")  # 6 x 1 + 6 x 3
    assert gappy["cpu_efficiency"] == Decimal("50")


def test_daily_rows_equal_the_sum_of_hourly_rows(thanos_url: str, database_url: str, engine: Engine) -> None:
    backfill(thanos_url, database_url, engine)
    with engine.connect() as connection:
        mismatches = connection.execute(text(
            "SELECT d.cloud_account_id, d.usage_date FROM k8s_daily_costs d "
            "JOIN (SELECT cloud_account_id, (hour_start AT TIME ZONE 'UTC')::date AS day, "
            "             sum(total_cost) AS total, sum(cpu_cost) AS cpu, count(*) AS hours "
            "      FROM k8s_hourly_costs GROUP BY 1, 2) h "
            "  ON h.cloud_account_id = d.cloud_account_id AND h.day = d.usage_date "
            "WHERE h.total <> d.total_cost OR h.cpu <> d.cpu_cost OR h.hours <> d.hours_covered"
        )).all()
        hourly_count = connection.execute(text("SELECT count(*) FROM k8s_hourly_costs")).scalar_one()
    assert mismatches == []
    assert hourly_count == 24 + 24 + 24 + 12 + 24


def test_rerunning_a_backfill_leaves_identical_rows(thanos_url: str, database_url: str, engine: Engine) -> None:
    backfill(thanos_url, database_url, engine)
    with engine.connect() as connection:
        first_daily = connection.execute(text("SELECT * FROM k8s_daily_costs ORDER BY 1, 2")).all()
        first_hourly = connection.execute(text("SELECT * FROM k8s_hourly_costs ORDER BY 1, 2")).all()
    backfill(thanos_url, database_url, engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT * FROM k8s_daily_costs ORDER BY 1, 2")).all() == first_daily
        assert connection.execute(text("SELECT * FROM k8s_hourly_costs ORDER BY 1, 2")).all() == first_hourly


def test_account_filter_keeps_other_accounts_out(thanos_url: str, database_url: str, engine: Engine) -> None:
    summary = backfill(thanos_url, database_url, engine, ACCOUNTS=WEIRD)
    assert list(summary.accounts) == [WEIRD]
    assert set(daily_rows(engine)) == {(WEIRD, DAY1)}


def test_ratio_efficiency_scale_is_stored_as_percent(thanos_url: str, database_url: str, engine: Engine) -> None:
    # hourly average of 0.2, 0.3, 0.2, 0.3 is 0.25 -> 25 %
    backfill(thanos_url, database_url, engine, EXPORTER_EFFICIENCY_SCALE="ratio", ACCOUNTS=RATIO)
    assert daily_rows(engine)[(RATIO, DAY1)]["cpu_efficiency"] == Decimal("25")
