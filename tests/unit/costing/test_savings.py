"""Potential savings math (etl.costing.savings): unused CPU/RAM cost per hour, summed per day.

Expected values are worked out by hand in the comments; money is in nano-dollars (1e-9 USD).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd

from etl.costing.rollup import daily_rollup
from etl.costing.savings import hourly_potential_savings, unused_cost
from etl.model import COST_COLUMNS, DAILY_COLUMNS, NANO

NaN = np.nan


def test_unused_cost_is_cost_times_unused_share() -> None:
    costs = pd.Series([10 * NANO, 3, 10**13])
    efficiencies = pd.Series([25.0, 50.0, 12.3456])
    # $10 at 25 % used -> $7.50 unused; 3 nano at 50 % -> 1.5 -> rounds half-up to 2;
    # 1e13 nano ($10,000, big enough that cost x share would overflow int64 if multiplied whole)
    # x (100 - 12.3456) / 100 = 1e13 x 0.876544 = 8_765_440_000_000.
    assert unused_cost(costs, efficiencies).tolist() == [7_500_000_000, 2, 8_765_440_000_000]


def test_unused_cost_is_never_negative_and_unknown_stays_unknown() -> None:
    costs = pd.Series([4 * NANO, 4 * NANO, 4 * NANO, -1 * NANO])
    efficiencies = pd.Series([150.0, NaN, 0.0, 10.0])
    result = unused_cost(costs, efficiencies)
    # over-used (150 %) saves nothing; unknown efficiency is <NA>, not 0; 0 % used -> all $4;
    # a negative cost never turns into savings.
    assert result[0] == 0
    assert result[1] is pd.NA
    assert result[2] == 4 * NANO
    assert result[3] == 0


def hourly(rows: list[tuple[int, int, float, float]], start: datetime) -> pd.DataFrame:
    """Hourly rows (cpu nano, ram nano, cpu eff, ram eff), one per consecutive hour from start."""
    frame = pd.DataFrame(rows, columns=["cpu_cost", "ram_cost", "cpu_efficiency", "ram_efficiency"])
    frame["cloud_account_id"] = "a"
    frame["hour_start"] = [start + timedelta(hours=i) for i in range(len(rows))]
    for column in COST_COLUMNS:
        if column not in frame:
            frame[column] = 0
    frame["total_cost"] = frame["cpu_cost"] + frame["ram_cost"]
    frame["total_efficiency"] = NaN
    frame["source_phase"] = "exporter"
    return frame


def test_hourly_savings_add_known_parts_only() -> None:
    frame = hourly([
        (2 * NANO, 1 * NANO, 50.0, 20.0),  # 2 x 0.5 + 1 x 0.8 = $1.80
        (2 * NANO, 1 * NANO, NaN, 20.0),  # cpu unknown: only ram, 1 x 0.8 = $0.80
        (2 * NANO, 1 * NANO, NaN, NaN),  # nothing known: <NA>
    ], datetime(2026, 9, 1, tzinfo=UTC))
    result = hourly_potential_savings(frame)
    assert result[0] == 1_800_000_000
    assert result[1] == 800_000_000
    assert result[2] is pd.NA


def test_daily_savings_are_the_sum_of_hourly_savings() -> None:
    day1 = datetime(2026, 9, 1, tzinfo=UTC)
    frame = pd.concat([
        # day 1: hour 0 cpu $4 at 25 % -> $3; hour 1 cpu $4 at 75 % -> $1; hour 2 unknown -> nothing.
        # Sum $4. (Applying the day's cost-weighted cpu efficiency, 50 %, to the day's whole cpu
        # cost of $12 would claim $6, counting the unknown hour as if it were 50 % used.)
        hourly([(4 * NANO, 0, 25.0, NaN), (4 * NANO, 0, 75.0, NaN), (4 * NANO, 0, NaN, NaN)], day1),
        # day 2: no efficiency at all -> NULL, not $0.
        hourly([(4 * NANO, 0, NaN, NaN)], day1 + timedelta(days=1)),
    ], ignore_index=True)
    daily = daily_rollup(frame)
    assert list(daily.columns) == DAILY_COLUMNS
    assert daily["potential_savings"][0] == 4 * NANO
    assert daily["cpu_efficiency"][0] == 50.0
    assert daily["potential_savings"][1] is pd.NA
    assert daily["cpu_cost"].tolist() == [12 * NANO, 4 * NANO]
