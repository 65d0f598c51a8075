"""The cluster-costs report: what the platform's ``kubecost_cluster_costs`` endpoint returns, read
from PostgreSQL. ``cluster_costs`` is the entry point for the platform's API code and the
``report`` command; reading (etl.store) is kept apart from shaping (the pure functions here).

- Range: UTC days ``first_day..last_day``, both included. ``start_date`` and ``end_date`` are unix
  seconds of the half-open interval [first_day 00:00 UTC, the day after last_day 00:00 UTC), the
  way the platform's API passes timestamps: a report for 2026-09-01..2026-09-30 has
  ``end_date`` = 2026-10-01 00:00 UTC.
- Money: daily rows are summed as integer nano-dollars (exact, Python integers: no range can
  wrap) and each figure is rounded to cents, half-up, only when it is put in the result; so
  rounded components need not add up to the rounded total to the cent, and the days' rounded
  figures need not add up to the range's. ``currency`` says in which currency; a range holding
  two currencies is refused (CurrencyMixError), never summed.
- Flags: ``exporter_zero_hours`` (the exporter reported $0, no Phase 1 data contradicting it),
  ``exporter_stale_hours`` (failed-scrape stretches held from the exporter's healthy figures),
  ``idle_unknown_hours`` and ``negative_idle_hours`` (etl.costing.namespaces), per day and over
  the range, like ``default_priced_hours``. ``idle_cost`` (part of the total) over the days that
  know it.
- Efficiency over the range: each day's stored efficiency weighted by that day's matching cost
  (etl.costing.efficiency.combine_efficiencies), days with unknown efficiency left out; None when no day has one.
- potential_savings: the sum of the days' stored savings (each day's is the sum of its hours',
  etl.costing.savings.hourly_potential_savings); None when no day of the range has a known efficiency.
- Nothing stored for the account in the range: a well-formed result with zero costs, None
  efficiencies and savings, ``hours_covered`` 0 and no ``days``. Callers tell "no data" by ``days``.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from etl.costing.efficiency import combine_efficiencies
from etl.errors import CurrencyMixError, InputError
from etl.model import (
    CLUSTERS_COLUMN,
    COST_COLUMNS,
    COUNTED_FLAG_COLUMNS,
    CURRENCY_COLUMN,
    EFFICIENCY_COLUMNS,
    IDLE_COLUMN,
    NETWORK_SPLIT_COLUMNS,
    SAVINGS_COLUMN,
    HourRange,
    decimal_to_nano,
    nano_to_decimal,
)
from etl.store.reader import fetch_daily, fetch_phase_hours

SUMMARY_COLUMNS = [
    "total_cost", "cpu_cost", "ram_cost", "pv_cost", "management_cost", "load_balancer_cost", "network_cost",
    "gpu_cost",
]
BREAKDOWN_COLUMNS = ["management_cost", "load_balancer_cost", *NETWORK_SPLIT_COLUMNS]
CENT = Decimal("0.01")
log = logging.getLogger(__name__)


def cluster_costs(engine: Engine, account: str, first_day: date, last_day: date) -> dict[str, Any]:
    """The report for one cloud account over UTC days first_day..last_day (inclusive).

    Raises InputError if first_day is after last_day; an account or range without rows gives an
    empty, well-formed result (see the module docstring).
    """
    require_ordered(first_day, last_day)
    daily = fetch_daily(engine, [account], first_day, last_day)
    phase_hours = fetch_phase_hours(engine, account, first_day, last_day)
    log.info("Report for %s, %s..%s: %d stored day(s), hours per phase %s", account, first_day, last_day,
             len(daily), phase_hours or "none")
    return shape_report(account, first_day, last_day, daily, phase_hours)


def days_of_interval(start: int, end: int) -> tuple[date, date]:
    """The UTC days touched by the unix-second interval [start, end), as the platform's API passes
    ranges: e.g. (1788220800, 1790812800) = [2026-09-01, 2026-10-01) -> 2026-09-01..2026-09-30.
    Daily rows are whole days, so a report covers every day the interval touches."""
    if end <= start:
        raise InputError(f"end_date {end} is not after start_date {start}")
    first = datetime.fromtimestamp(start, UTC).date()
    last = datetime.fromtimestamp(end - 1, UTC).date()
    return first, last


def require_ordered(first_day: date, last_day: date) -> None:
    if first_day > last_day:
        raise InputError(f"start {first_day} is after end {last_day}")


def cents(nano: int | None) -> float | None:
    """Nano-dollars -> USD rounded half-up to the cent, for presentation only."""
    if nano is None:
        return None
    return float(nano_to_decimal(nano).quantize(CENT, rounding=ROUND_HALF_UP))


def percent(value: float | None) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def daily_in_nano(daily: pd.DataFrame) -> pd.DataFrame:
    """Stored daily rows, of the cluster or the namespaces (Decimal money, Decimal or None
    efficiency) -> nano-dollar integers and float efficiencies (NaN = unknown), the units
    etl.costing computes in."""
    frame = daily.copy()
    for column in COST_COLUMNS:
        if column in frame:
            frame[column] = pd.Series([decimal_to_nano(value) for value in frame[column]], index=frame.index,
                                      dtype="int64")
    for column in (SAVINGS_COLUMN, IDLE_COLUMN):
        if column in frame:
            frame[column] = pd.Series([pd.NA if pd.isna(value) else decimal_to_nano(value) for value in frame[column]],
                                      index=frame.index, dtype="Int64")
    for column in EFFICIENCY_COLUMNS:
        frame[column] = pd.to_numeric(frame[column].astype("object"), errors="coerce").astype("float64")
    return frame


def range_totals(daily: pd.DataFrame) -> dict[str, Any]:
    """Exact nano-dollar sums, summed savings and idle (None if no day has any) and cost-weighted
    efficiencies (None if unknown) of daily rows already in nano (daily_in_nano)."""
    totals: dict[str, Any] = {column: sum(int(value) for value in daily[column])
                              for column in COST_COLUMNS if column in daily}
    for column in (SAVINGS_COLUMN, IDLE_COLUMN):
        known = daily[column].dropna() if column in daily else pd.Series(dtype="Int64")
        totals[column] = sum(int(value) for value in known) if len(known) else None
    if daily.empty:
        totals.update(dict.fromkeys(EFFICIENCY_COLUMNS))
    else:
        combined = combine_efficiencies(daily.assign(range_key=0), ["range_key"]).iloc[0]
        totals.update({column: percent(combined[column]) for column in EFFICIENCY_COLUMNS})
    return totals


def day_row(row: pd.Series) -> dict[str, Any]:
    """One day of the report: every stored figure, money in cents."""
    savings, resources = row[SAVINGS_COLUMN], row["default_priced_resources"]
    return {
        "date": row["usage_date"].isoformat(),
        **{column: cents(int(row[column])) for column in COST_COLUMNS},
        SAVINGS_COLUMN: None if pd.isna(savings) else cents(int(savings)),
        IDLE_COLUMN: None if pd.isna(row[IDLE_COLUMN]) else cents(int(row[IDLE_COLUMN])),
        **{column: percent(row[column]) for column in EFFICIENCY_COLUMNS},
        "hours_covered": int(row["hours_covered"]),
        "source_phase": str(row["source_phase"]),
        "default_priced_hours": int(row["default_priced_hours"]),
        "default_priced_resources": None if pd.isna(resources) else str(resources) or None,
        **{flag: int(row[flag]) for flag in COUNTED_FLAG_COLUMNS},
        CURRENCY_COLUMN: str(row[CURRENCY_COLUMN]),
        CLUSTERS_COLUMN: None if pd.isna(row[CLUSTERS_COLUMN]) else str(row[CLUSTERS_COLUMN]),
    }


def shape_report(
    account: str, first_day: date, last_day: date, daily: pd.DataFrame, phase_hours: dict[str, int]
) -> dict[str, Any]:
    """The endpoint's JSON object from stored daily rows of the range and its hours per phase.

    The first five keys are the platform endpoint's shape; ``currency``, ``hours_covered``,
    ``hours_in_range``, ``phases`` (stored hours per source phase), the flagged hours
    (``default_priced_hours``, ``exporter_zero_hours``, ``exporter_stale_hours``) and ``days`` are
    additions it can ignore.
    """
    nano = daily_in_nano(daily)
    currencies = sorted(set(nano[CURRENCY_COLUMN])) if len(nano) else []
    if len(currencies) > 1:
        raise CurrencyMixError(account, currencies, f"the range {first_day}..{last_day}")
    totals = range_totals(nano)
    hours = HourRange.for_days(first_day, last_day)

    def hours_flagged(column: str) -> int:
        return int(nano[column].sum()) if len(nano) else 0

    return {
        "cloud_account_id": account,
        "start_date": int(hours.start.timestamp()),
        "end_date": int(hours.end.timestamp()),
        "summary": {column: cents(totals[column]) for column in SUMMARY_COLUMNS},
        CURRENCY_COLUMN: currencies[0] if currencies else None,
        "efficiency": {column: totals[column] for column in EFFICIENCY_COLUMNS},
        "potential_savings": cents(totals[SAVINGS_COLUMN]),
        "breakdown": {column: cents(totals[column]) for column in BREAKDOWN_COLUMNS},
        "hours_covered": int(nano["hours_covered"].sum()) if len(nano) else 0,
        "hours_in_range": hours.hours,
        "phases": dict(sorted(phase_hours.items())),
        # Part of the total: capacity nobody was allocated, over the days that know it.
        IDLE_COLUMN: cents(totals[IDLE_COLUMN]),
        # Phase 1 hours priced with default prices because a node or volume published none.
        "default_priced_hours": hours_flagged("default_priced_hours"),
        # Exporter hours to read with care (see the module docstring).
        **{flag: hours_flagged(flag) for flag in COUNTED_FLAG_COLUMNS},
        "days": [day_row(row) for _, row in nano.iterrows()],
    }
