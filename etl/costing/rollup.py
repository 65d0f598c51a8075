"""Hourly cost rows -> daily rows (UTC days): exact sums, cost-weighted efficiency, summed savings."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import pandas as pd
from pandas.core.groupby import DataFrameGroupBy

from etl.costing.currency import require_one_currency
from etl.costing.efficiency import combine_efficiencies
from etl.costing.savings import hourly_potential_savings
from etl.model import (
    CLUSTERS_COLUMN,
    COST_COLUMNS,
    CURRENCY_COLUMN,
    DAILY_COLUMNS,
    DAILY_KEY_COLUMNS,
    DEFAULT_CURRENCY,
    HOUR_FLAG_COLUMNS,
    IDLE_COLUMN,
    NAMESPACE_DAILY_COLUMNS,
    NAMESPACE_DAILY_KEY_COLUMNS,
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


def per_group(frame: pd.DataFrame, groups: DataFrameGroupBy[Any, Any], column: str,
              combine: Callable[[list[Any]], object]) -> pd.Series:
    """``groups[column].agg(combine)`` in the order of the groups' aggregates (sorted keys), with
    ``combine`` called on plain lists: a pandas aggregation by a Python function builds a Series per
    group, most of the costing's time with tens of thousands of account-hours in a chunk."""
    buckets: list[list[Any]] = [[] for _ in range(groups.ngroups)]
    for code, value in zip(groups.ngroup().tolist(), frame[column].tolist(), strict=True):
        if code >= 0:  # (a row with a missing key is in no group)
            buckets[code].append(value)
    return pd.Series([combine(bucket) for bucket in buckets], index=groups.size().index, dtype=object)


def usage_dates(frame: pd.DataFrame) -> pd.Series:
    """The UTC day each hourly row belongs to."""
    return pd.to_datetime(frame["hour_start"], utc=True).dt.date


def daily_rollup(hourly: pd.DataFrame, keys: Sequence[str] = DAILY_KEY_COLUMNS,
                 columns: Sequence[str] = DAILY_COLUMNS) -> pd.DataFrame:
    """Daily rows (UTC days) from hourly rows: exact sums, cost-weighted efficiency; per account
    (cluster rows, the defaults) or per ``keys`` (namespace rows: NAMESPACE_DAILY_KEY_COLUMNS and
    NAMESPACE_DAILY_COLUMNS).

    A day's efficiency is combined as combine_efficiencies says. A day's potential savings is the
    sum of its hours' savings (hourly_potential_savings), so each hour is judged by its own
    efficiency and hours without one add nothing; NULL when no hour of the day had one. Its idle is
    the sum of its hours that know it (NULL when none does). A day's flags (HOUR_FLAG_COLUMNS)
    count its flagged hours, its clusters are the union of its hours'. A day holds one currency:
    hours in two raise CurrencyMixError.
    """
    keys, present = list(keys), set(columns)
    if hourly.empty:
        return pd.DataFrame(columns=list(columns))
    frame = hourly.copy()
    frame["usage_date"] = usage_dates(frame)
    # Hours built without these columns (older callers): no flags, no clusters, the default currency.
    for column, nothing in (*((flag, 0) for flag in HOUR_FLAG_COLUMNS), ("default_priced_resources", None),
                            (CLUSTERS_COLUMN, None), (CURRENCY_COLUMN, DEFAULT_CURRENCY), (IDLE_COLUMN, pd.NA)):
        if column not in frame and (column in present or column == CURRENCY_COLUMN):
            frame[column] = nothing
    require_one_currency(frame, keys, "the day")
    frame[SAVINGS_COLUMN] = hourly_potential_savings(frame)
    groups = frame.groupby(keys, sort=True)
    daily = groups[[column for column in COST_COLUMNS if column in present]].sum().astype("int64")
    daily[SAVINGS_COLUMN] = groups[SAVINGS_COLUMN].sum(min_count=1).astype("Int64")
    if IDLE_COLUMN in present:
        daily[IDLE_COLUMN] = groups[IDLE_COLUMN].sum(min_count=1).astype("Int64")
    daily["hours_covered"] = groups.size()
    flags = [flag for flag in HOUR_FLAG_COLUMNS if flag in present]
    daily[flags] = groups[flags].sum().astype("int64")
    for column in ("default_priced_resources", CLUSTERS_COLUMN):
        if column in present:
            daily[column] = per_group(frame, groups, column, join_resource_lists)
    daily[CURRENCY_COLUMN] = groups[CURRENCY_COLUMN].first()
    daily["source_phase"] = per_group(frame, groups, "source_phase", day_phase)
    daily = daily.join(combine_efficiencies(frame, keys))
    return daily.reset_index()[list(columns)]


def namespace_daily_rollup(hourly: pd.DataFrame) -> pd.DataFrame:
    """Namespace hours (NAMESPACE_HOURLY_COLUMNS) -> namespace days, by the same rules."""
    return daily_rollup(hourly, NAMESPACE_DAILY_KEY_COLUMNS, NAMESPACE_DAILY_COLUMNS)
