"""Phase 2 backfill against a real Prometheus and PostgreSQL.

Every expected figure below is computed by hand from the samples of the exporter dataset
(tests.support.datasets.exporter_dataset, shared with the CLI and fault tests); the comments next
to that dataset say how.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import Engine, text

from etl.run.pipeline import RunSummary
from tests.support.datasets import DAY1, DAY2, GAPPY, PLAIN, RATIO, WEIRD, exporter_dataset
from tests.support.servers import run_backfill
from tests.support.tables import daily_hourly_mismatches, daily_rows


@pytest.fixture
def thanos_url(prometheus_with) -> str:  # type: ignore[no-untyped-def]
    return prometheus_with("exporter-basic", exporter_dataset())


def backfill(thanos_url: str, database_url: str, engine: Engine, **env: str) -> RunSummary:
    return run_backfill(thanos_url, database_url, engine, DAY1, DAY2, **env)


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
    # unused cpu: 12 h x 4 $ x 50 % + 12 h x 4 $ x 20 % = 33.6; unused ram: 24 h x 3 $ x 60 % = 43.2
    assert plain1["potential_savings"] == Decimal("76.8")
    assert plain1["hours_covered"] == 24
    assert plain1["source_phase"] == "exporter"

    plain2 = rows[(PLAIN, DAY2)]  # rates doubled on day 2
    assert plain2["total_cost"] == Decimal("480")
    assert plain2["management_cost"] == Decimal("60")

    weird = rows[(WEIRD, DAY1)]
    assert weird["total_cost"] == weird["cpu_cost"] == Decimal("24")
    assert weird["management_cost"] == Decimal("0")
    assert weird["cpu_efficiency"] is None  # unknown efficiency is NULL, never 0
    assert weird["potential_savings"] is None  # and so are the savings it would tell

    gappy = rows[(GAPPY, DAY1)]
    assert gappy["hours_covered"] == 12
    assert gappy["total_cost"] == Decimal("36")  # no extrapolation over the gap
    assert gappy["cpu_cost"] == Decimal("24")  # 6 x 1 + 6 x 3
    assert gappy["cpu_efficiency"] == Decimal("50")


def test_daily_rows_equal_the_sum_of_hourly_rows(thanos_url: str, database_url: str, engine: Engine) -> None:
    backfill(thanos_url, database_url, engine)
    assert daily_hourly_mismatches(engine) == []
    with engine.connect() as connection:
        hourly_count = connection.execute(text("SELECT count(*) FROM k8s_hourly_costs")).scalar_one()
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
