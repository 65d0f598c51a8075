"""Hourly cost rows -> daily rows (UTC days): exact sums, cost-weighted efficiency, summed savings."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from etl.costing.efficiency import combine_efficiencies
from etl.costing.savings import hourly_potential_savings
from etl.model import (
    COST_COLUMNS,
    DAILY_COLUMNS,
    DAILY_KEY_COLUMNS,
    PHASE_MIXED,
    RESOURCE_LIST_SEPARATOR,
    SAVINGS_COLUMN,
)


def join_resource_lists(lists: Iterable[object]) -> str | None:
    """Union of RESOURCE_LIST_SEPARATOR-joined resource lists (None/NaN = empty); None if empty."""
    names: set[str] = set()
    for item in lists:
        if isinstance(item, str) and item:
            names.update(item.split(RESOURCE_LIST_SEPARATOR))
    return RESOURCE_LIST_SEPARATOR.join(sorted(names)) or None


def day_phase(phases: Iterable[str]) -> str:
    distinct = set(phases)
    return distinct.pop() if len(distinct) == 1 else PHASE_MIXED


def usage_dates(frame: pd.DataFrame) -> pd.Series:
    """The UTC day each hourly row belongs to."""
    return pd.to_datetime(frame["hour_start"], utc=True).dt.date


def daily_rollup(hourly: pd.DataFrame) -> pd.DataFrame:
    """Daily rows (UTC days) from hourly rows: exact sums, cost-weighted efficiency.

    A day's efficiency is combined as combine_efficiencies says. A day's potential savings is the
    sum of its hours' savings (hourly_potential_savings), so each hour is judged by its own
    efficiency and hours without one add nothing; NULL when no hour of the day had one.
    """
    if hourly.empty:
        return pd.DataFrame(columns=DAILY_COLUMNS)
    frame = hourly.copy()
    frame["usage_date"] = usage_dates(frame)
    # Hours built without the default-price record (older callers) used no default price.
    for column, nothing in (("default_priced_hours", 0), ("default_priced_resources", None)):
        if column not in frame:
            frame[column] = nothing
    frame[SAVINGS_COLUMN] = hourly_potential_savings(frame)
    groups = frame.groupby(DAILY_KEY_COLUMNS, sort=True)
    daily = groups[COST_COLUMNS].sum().astype("int64")
    daily[SAVINGS_COLUMN] = groups[SAVINGS_COLUMN].sum(min_count=1).astype("Int64")
    daily["hours_covered"] = groups.size()
    daily["default_priced_hours"] = groups["default_priced_hours"].sum().astype("int64")
    daily["default_priced_resources"] = groups["default_priced_resources"].agg(join_resource_lists)
    daily["source_phase"] = groups["source_phase"].agg(day_phase)
    daily = daily.join(combine_efficiencies(frame, DAILY_KEY_COLUMNS))
    return daily.reset_index()[DAILY_COLUMNS]
