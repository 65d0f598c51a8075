"""Phase 2 math: exporter gauges -> hourly cost rows; every expected figure is worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from etl.costing.exporter import exporter_hourly_costs, spread_trailing_day_rate, without_unhealthy_hours
from etl.model import EXPORTER_HEALTH_COLUMN, NANO, HourRange
from tests.support.datasets import HOURLY_DAY as DAY


def hours(*indexes: int, day: str = "2026-09-01") -> list[pd.Timestamp]:
    return [pd.Timestamp(day, tz="UTC") + pd.Timedelta(hours=i) for i in indexes]

def gauges(account: str, hour_starts: list[pd.Timestamp], **columns: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"cloud_account_id": account, "hour_start": hour_starts, **columns})

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

def test_trailing_rate_takes_the_last_value_of_each_day() -> None:
    frame = gauges("a", [*hours(0, 1, 23), *hours(0, day="2026-09-02")], total_cost=[1.0, 2.0, 3.0, 7.0],
                   cpu_efficiency=[10.0, 20.0, np.nan, 5.0])
    spread = spread_trailing_day_rate(frame)
    # day 1: rate at the end of the day (3.0) for each covered hour; efficiency: last known (20)
    assert spread["total_cost"].tolist() == [3.0, 3.0, 3.0, 7.0]
    assert spread["cpu_efficiency"].tolist() == [20.0, 20.0, 20.0, 5.0]

@pytest.mark.parametrize("scale", ["percent", "ratio"])
def test_exporter_costs_of_an_empty_frame(scale: str) -> None:
    empty = pd.DataFrame({"cloud_account_id": [], "hour_start": [], "total_cost": []})
    assert exporter_hourly_costs(empty, scale).empty

def test_unhealthy_exporter_hours_count_as_no_data() -> None:
    gauges = pd.DataFrame({
        "cloud_account_id": ["a", "a", "a"],
        "hour_start": [DAY, DAY + pd.Timedelta(hours=1), DAY + pd.Timedelta(hours=2)],
        "total_cost": [1.0, 1.0, 1.0],
        EXPORTER_HEALTH_COLUMN: [1.0, 0.0, np.nan],  # healthy, one failed scrape, no health gauge published
    })
    kept = without_unhealthy_hours(gauges, HourRange(DAY, DAY + pd.Timedelta(hours=3)))
    assert EXPORTER_HEALTH_COLUMN not in kept
    assert kept["total_cost"].notna().tolist() == [True, False, True]
