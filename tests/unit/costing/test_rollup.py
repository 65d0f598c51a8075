"""Hourly rows -> daily rows: exact sums, cost-weighted efficiency, phases, default-priced hours."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from etl.costing.rollup import daily_rollup, day_phase, join_resource_lists
from etl.model import COST_COLUMNS, NANO
from tests.support.datasets import hourly_rows as hourly


def hours(*indexes: int, day: str = "2026-09-01") -> list[pd.Timestamp]:
    return [pd.Timestamp(day, tz="UTC") + pd.Timedelta(hours=i) for i in indexes]

def hourly_row(account: str, hour: pd.Timestamp, phase: str = "exporter", **values: float) -> dict:  # type: ignore[type-arg]
    costs = dict.fromkeys(COST_COLUMNS, 0)
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

def test_empty_rollup_has_the_daily_columns() -> None:
    assert "hours_covered" in daily_rollup(pd.DataFrame()).columns

def test_daily_rollup_sums_default_priced_hours_and_unions_resources() -> None:
    hours = pd.concat([
        hourly("a", range(0, 3), "raw", 10, "cpu:node/n3"),
        hourly("a", range(3, 5), "raw", 10, "cpu:node/n3, storage:pv/p"),
        hourly("a", range(5, 8), "exporter", 10),
    ], ignore_index=True)
    day = daily_rollup(hours).iloc[0]
    assert day["default_priced_hours"] == 5
    assert day["default_priced_resources"] == "cpu:node/n3, storage:pv/p"
    assert day["hours_covered"] == 8

def test_join_resource_lists_ignores_missing() -> None:
    assert join_resource_lists([None, np.nan, ""]) is None
    assert join_resource_lists(["b, a", "a"]) == "a, b"

def test_daily_rollup_of_hours_without_a_default_price_record() -> None:
    hours = hourly("a", range(2), "exporter", 10).drop(columns=["default_priced_hours", "default_priced_resources"])
    day = daily_rollup(hours).iloc[0]
    assert day["default_priced_hours"] == 0
    assert day["default_priced_resources"] is None
    assert day["total_cost"] == 20
