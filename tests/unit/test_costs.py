"""The pure cost math; every expected figure is worked out by hand in the comments."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from etl.costs import (
    NANO,
    daily_rollup,
    day_phase,
    exporter_hourly_costs,
    nano_to_decimal,
    spread_trailing_day_rate,
    to_nano,
)


def hours(*indexes: int, day: str = "2026-09-01") -> list[pd.Timestamp]:
    return [pd.Timestamp(day, tz="UTC") + pd.Timedelta(hours=i) for i in indexes]


def gauges(account: str, hour_starts: list[pd.Timestamp], **columns: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"cloud_account_id": account, "hour_start": hour_starts, **columns})


def test_nano_dollars_round_trip_exactly() -> None:
    assert to_nano(pd.Series([0.1, 1e-10, np.nan])).tolist() == [100_000_000, 0, 0]
    assert nano_to_decimal(123_456_789_012) == Decimal("123.456789012")


def test_management_is_the_positive_residual_of_total_over_components() -> None:
    frame = gauges("a", hours(0, 1), total_cost=[10.0, 5.0], cpu_cost=[4.0, 4.0], ram_cost=[3.0, 3.0],
                   pv_cost=[1.0, np.nan], network_cost=[0.5, 0.0], load_balancer_cost=[0.25, 0.0])
    rows = exporter_hourly_costs(frame, "percent")
    # hour 0: 10 - (4 + 3 + 1 + 0.5 + 0.25) = 1.25; hour 1: 5 - 7 < 0 -> 0 (never negative)
    assert rows["management_cost"].tolist() == [int(1.25 * NANO), 0]
    assert rows["pv_cost"].tolist() == [NANO, 0]  # a missing component is no cost, not NaN


def test_hours_without_total_are_not_covered() -> None:
    frame = gauges("a", hours(0, 1), total_cost=[2.0, np.nan], cpu_cost=[1.0, 1.0])
    assert exporter_hourly_costs(frame, "percent")["hour_start"].tolist() == hours(0)


def test_network_split_defaults_to_internet_and_uses_split_metrics_when_present() -> None:
    frame = gauges("a", hours(0, 1), total_cost=[5.0, 5.0], network_cost=[2.0, 2.0],
                   network_internet_cost=[np.nan, 0.5], network_region_cost=[np.nan, 1.0],
                   network_zone_cost=[np.nan, np.nan])
    rows = exporter_hourly_costs(frame, "percent")
    assert rows["network_internet_cost"].tolist() == [2 * NANO, NANO // 2]
    assert rows["network_region_cost"].tolist() == [0, NANO]
    assert rows["network_zone_cost"].tolist() == [0, 0]


def test_ratio_efficiency_is_stored_as_percent_and_unknown_stays_nan() -> None:
    frame = gauges("a", hours(0), total_cost=[1.0], cpu_efficiency=[0.4567], ram_efficiency=[np.nan])
    rows = exporter_hourly_costs(frame, "ratio")
    assert rows["cpu_efficiency"].tolist() == [45.67]
    assert np.isnan(rows["ram_efficiency"].iloc[0])
    assert np.isnan(rows["total_efficiency"].iloc[0])  # no such gauge at all


def hourly_row(account: str, hour: pd.Timestamp, phase: str = "exporter", **values: float) -> dict:  # type: ignore[type-arg]
    costs = {c: 0 for c in ["total_cost", "cpu_cost", "ram_cost", "pv_cost", "network_cost",
                            "load_balancer_cost", "management_cost", "network_internet_cost",
                            "network_region_cost", "network_zone_cost"]}
    effs = {"cpu_efficiency": np.nan, "ram_efficiency": np.nan, "total_efficiency": np.nan}
    for key, value in values.items():
        if key in costs:
            costs[key] = int(value * NANO)
        else:
            effs[key] = value
    return {"cloud_account_id": account, "hour_start": hour, **costs, **effs, "source_phase": phase}


def test_daily_rollup_sums_and_cost_weights_efficiency() -> None:
    day1 = hours(0, 1, 2)
    frame = pd.DataFrame([
        hourly_row("a", day1[0], total_cost=3, cpu_cost=1, ram_cost=2, cpu_efficiency=10, ram_efficiency=50),
        hourly_row("a", day1[1], total_cost=4, cpu_cost=3, ram_cost=1, cpu_efficiency=50, ram_efficiency=np.nan),
        hourly_row("a", day1[2], total_cost=1, cpu_cost=0, ram_cost=0, cpu_efficiency=90),
        hourly_row("b", hours(5, day="2026-09-02")[0], phase="raw", total_cost=2, cpu_cost=0,
                   cpu_efficiency=30, total_efficiency=np.nan),
    ])
    daily = daily_rollup(frame).set_index(["cloud_account_id", "usage_date"])
    a = daily.loc[("a", date(2026, 9, 1))]
    assert a["total_cost"] == 8 * NANO and a["hours_covered"] == 3 and a["source_phase"] == "exporter"
    # cpu: (10*1 + 50*3 + 90*0) / (1 + 3 + 0) = 160/4 = 40
    assert a["cpu_efficiency"] == 40.0
    # ram: only hour 0 is known -> 50 (hour 1's NaN is excluded from the weights)
    assert a["ram_efficiency"] == 50.0
    assert np.isnan(a["total_efficiency"])
    b = daily.loc[("b", date(2026, 9, 2))]
    # the only known hour has zero cpu cost: weights say nothing, the plain mean (30) is used
    assert b["cpu_efficiency"] == 30.0 and b["source_phase"] == "raw"


def test_day_phase() -> None:
    assert day_phase(["exporter", "exporter"]) == "exporter"
    assert day_phase(["raw"]) == "raw"
    assert day_phase(["raw", "exporter"]) == "mixed"


def test_trailing_rate_takes_the_last_value_of_each_day() -> None:
    frame = gauges("a", [*hours(0, 1, 23), *hours(0, day="2026-09-02")], total_cost=[1.0, 2.0, 3.0, 7.0],
                   cpu_efficiency=[10.0, 20.0, np.nan, 5.0])
    spread = spread_trailing_day_rate(frame)
    # day 1: rate at the end of the day (3.0) for each covered hour; efficiency: last known (20)
    assert spread["total_cost"].tolist() == [3.0, 3.0, 3.0, 7.0]
    assert spread["cpu_efficiency"].tolist() == [20.0, 20.0, 20.0, 5.0]


def test_empty_rollup_has_the_daily_columns() -> None:
    assert "hours_covered" in daily_rollup(pd.DataFrame()).columns


@pytest.mark.parametrize("scale", ["percent", "ratio"])
def test_exporter_costs_of_an_empty_frame(scale: str) -> None:
    empty = pd.DataFrame({"cloud_account_id": [], "hour_start": [], "total_cost": []})
    assert exporter_hourly_costs(empty, scale).empty
