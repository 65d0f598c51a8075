"""Invariants of the cost math (Phase 2 hours -> days), checked on generated inputs (hypothesis).

For any exporter gauges of one account and day: money is never negative; a day is exactly the sum
of its hours, column by column, in unbounded integers (so no sum wraps); an hour's total is the sum
of its components plus management; an efficiency is NULL or finite. A computation may instead
refuse an input with an EtlError (a clear error is an acceptable answer to garbage; a wrong row is
not). The hostile inputs below (negative, +Inf, components above the total, a day that would wrap
int64) used to break these invariants; the money hardening (issue 9) fixed each.
"""

from __future__ import annotations

import math
import warnings

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.costing.exporter import exporter_hours
from etl.costing.rollup import daily_rollup
from etl.errors import EtlError
from etl.model import COMPONENT_COLUMNS, COST_COLUMNS, EFFICIENCY_COLUMNS, MONEY_COLUMNS, NANO, HourRange

DAY = pd.Timestamp("2026-09-01", tz="UTC")
HOURS = HourRange(DAY, DAY + pd.Timedelta(days=1))
GAUGES = ["total_cost", *COMPONENT_COLUMNS, *EFFICIENCY_COLUMNS]


def compute(gauges: dict[str, list[float]]) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """(hourly, daily) rows of one account's day of gauges; None when refused with an EtlError."""
    hours = len(gauges["total_cost"])
    # the frame etl.source.exporter returns, for one cluster present all of each hour
    frame = pd.DataFrame({"cloud_account_id": "acct", "hour_start": [DAY + pd.Timedelta(hours=h) for h in range(hours)],
                          "cluster": "c", "currency": "USD", "healthy_minutes": 60, "unhealthy_minutes": 0, **gauges})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            hourly = exporter_hours(frame, HOURS, "percent", False, "USD")
            return hourly, daily_rollup(hourly)
    except EtlError:
        return None


def assert_invariants(gauges: dict[str, list[float]]) -> None:
    result = compute(gauges)
    if result is None:
        return
    hourly, daily = result
    for column in MONEY_COLUMNS:
        for frame in (hourly, daily) if column in hourly else (daily,):
            values = [int(v) for v in frame[column].dropna()]
            assert all(v >= 0 for v in values), f"{column} negative: {values}"
    for column in COST_COLUMNS:  # a day = the sum of its hours, in Python ints: a wrapped int64 shows
        hours_sum = sum(int(v) for v in hourly[column])
        assert [int(v) for v in daily[column]] == ([hours_sum] if len(hourly) else []), column
    for _, hour in hourly.iterrows():
        parts = sum(int(hour[c]) for c in COMPONENT_COLUMNS) + int(hour["management_cost"])
        assert int(hour["total_cost"]) == parts, f"total {hour['total_cost']} != components + management {parts}"
    for frame in (hourly, daily):
        for column in EFFICIENCY_COLUMNS:
            assert all(v is None or pd.isna(v) or math.isfinite(float(v)) for v in frame[column]), column


# Sane gauges: a total up to $100,000/h, components that add up to at most the total, efficiencies
# in 0..100 or unknown, some hours without data.
_fraction = st.floats(min_value=0, max_value=1, allow_nan=False)
_efficiency = st.one_of(st.just(float("nan")), st.floats(min_value=0, max_value=100, allow_nan=False))


@st.composite
def sane_day(draw: st.DrawFn) -> dict[str, list[float]]:
    hours = draw(st.integers(min_value=1, max_value=24))
    columns: dict[str, list[float]] = {column: [] for column in GAUGES}
    for _ in range(hours):
        total = draw(st.one_of(st.just(float("nan")), st.floats(min_value=0, max_value=1e5, allow_nan=False)))
        shares = [draw(_fraction) for _ in COMPONENT_COLUMNS]
        scale = max(1.0, sum(shares))
        columns["total_cost"].append(total)
        for column, share in zip(COMPONENT_COLUMNS, shares, strict=True):
            # rounded down to the nano-dollar so that rounding never lifts the parts above the total
            columns[column].append(math.floor(total * share / scale * NANO) / NANO if total == total else 0.0)
        for column in EFFICIENCY_COLUMNS:
            columns[column].append(draw(_efficiency))
    return columns


@settings(max_examples=150, deadline=None)
@given(sane_day())
def test_invariants_hold_for_sane_gauges(gauges: dict[str, list[float]]) -> None:
    assert_invariants(gauges)


def one_hour(**values: float) -> dict[str, list[float]]:
    return {column: [values.get(column, 0.0 if column != "cpu_efficiency" else 50.0)] for column in GAUGES}


def whole_day(**values: float) -> dict[str, list[float]]:
    return {column: [values.get(column, 0.0)] * 24 for column in GAUGES}


HOSTILE = [
    pytest.param(one_hour(total_cost=-5.0), id="negative total gauge"),
    pytest.param(one_hour(total_cost=10.0, cpu_cost=-3.0), id="negative component gauge"),
    pytest.param(one_hour(total_cost=5.0, cpu_cost=7.0), id="components above the total"),
    pytest.param(one_hour(total_cost=float("inf")), id="+Inf total"),
    pytest.param(one_hour(total_cost=1.0, cpu_cost=float("inf")), id="+Inf component"),
    pytest.param(one_hour(total_cost=1.0, cpu_efficiency=float("inf")), id="+Inf efficiency"),
    pytest.param(whole_day(total_cost=7.5e8), id="7.5e8 $/h for a day wraps int64"),
    # NaN is "no sample", and zero is zero.
    pytest.param(one_hour(total_cost=float("nan"), cpu_cost=float("nan")), id="NaN total: no hour"),
    pytest.param(one_hour(total_cost=1.0, cpu_efficiency=float("nan")), id="NaN efficiency: unknown"),
    pytest.param(whole_day(total_cost=3.5e8), id="3.5e8 $/h for a day still fits"),
]


@pytest.mark.parametrize("gauges", HOSTILE)
def test_invariants_hold_for_hostile_gauges(gauges: dict[str, list[float]]) -> None:
    assert_invariants(gauges)

