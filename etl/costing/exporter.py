"""Phase 2: the allocation exporter's hourly gauges -> hourly cost rows.

The input (etl.source.exporter) is one wide frame: KEY_COLUMNS, one float column per exporter
gauge named after the hourly column it feeds (NaN = no sample that hour) and, when the exporter
publishes its own health, EXPORTER_HEALTH_COLUMN.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from etl.costing.rollup import usage_dates
from etl.model import (
    COMPONENT_COLUMNS,
    EFFICIENCY_COLUMNS,
    EFFICIENCY_DECIMALS,
    EXPORTER_HEALTH_COLUMN,
    EXPORTER_PRESENCE_COLUMN,
    HOURLY_COLUMNS,
    KEY_COLUMNS,
    NETWORK_SPLIT_COLUMNS,
    PHASE_EXPORTER,
    HourRange,
    to_nano,
)

log = logging.getLogger(__name__)



def exporter_hourly_costs(gauges: pd.DataFrame, efficiency_scale: str) -> pd.DataFrame:
    """Hourly cost rows from the exporter's hourly-averaged gauges ($/hour, efficiency).

    An hour counts only where ``total_cost`` has data. A rate averaged over one hour times one
    hour is that hour's cost, so the rates are used as dollars directly. ``efficiency_scale`` is
    "percent" or "ratio" (0-1 gauges, stored x 100).
    """
    frame = gauges[gauges[EXPORTER_PRESENCE_COLUMN].notna()].copy()
    rows = frame[KEY_COLUMNS].copy()
    for column in ["total_cost", *COMPONENT_COLUMNS]:
        rows[column] = to_nano(frame[column]) if column in frame else 0
    # Total includes costs the exporter does not break out (e.g. cluster management fees).
    rows["management_cost"] = (rows["total_cost"] - rows[COMPONENT_COLUMNS].sum(axis=1)).clip(lower=0)
    split_present = pd.Series(False, index=frame.index)
    for column in NETWORK_SPLIT_COLUMNS:
        if column in frame:
            split_present |= frame[column].notna()
    for column in NETWORK_SPLIT_COLUMNS:
        split = to_nano(frame[column]) if column in frame else pd.Series(0, index=frame.index)
        rows[column] = split.where(split_present, 0).astype("int64")
    # Without the optional split, all network cost is internet egress (what the API reports today).
    rows.loc[~split_present, "network_internet_cost"] = rows.loc[~split_present, "network_cost"]
    scale = 100.0 if efficiency_scale == "ratio" else 1.0
    for column in EFFICIENCY_COLUMNS:
        values = frame[column] * scale if column in frame else pd.Series(np.nan, index=frame.index)
        rows[column] = values.astype("float64").round(EFFICIENCY_DECIMALS)
    rows["default_priced_hours"] = 0
    rows["default_priced_resources"] = None
    rows["source_phase"] = PHASE_EXPORTER
    return rows[HOURLY_COLUMNS].reset_index(drop=True)


def unhealthy_hours(gauges: pd.DataFrame) -> pd.Series:
    """The rows whose EXPORTER_HEALTH_COLUMN (the lowest ``scrape_success`` of the hour) is 0: the exporter
    reported a failed scrape of its source. NaN (the exporter does not publish it) counts as healthy."""
    return gauges[EXPORTER_HEALTH_COLUMN].notna() & (gauges[EXPORTER_HEALTH_COLUMN] <= 0)


def without_unhealthy_hours(gauges: pd.DataFrame, hours: HourRange) -> pd.DataFrame:
    """Blank the exporter's figures for hours in which it reported a failed scrape of its source
    (unhealthy_hours): at least one of its figures that hour may be stale or partial, so the hour
    counts as having no exporter data and falls back to Phase 1. Logged per account.
    """
    if EXPORTER_HEALTH_COLUMN not in gauges:
        return gauges
    unhealthy = unhealthy_hours(gauges)
    for account, count in gauges[unhealthy & gauges[EXPORTER_PRESENCE_COLUMN].notna()].groupby(
            "cloud_account_id").size().items():
        log.warning("Phase 2 exporter for %s reported failed scrapes in %d hour(s) of %s: those hours "
                    "count as having no exporter data", account, count, hours)
    frame = gauges.drop(columns=[EXPORTER_HEALTH_COLUMN])
    frame.loc[unhealthy, EXPORTER_PRESENCE_COLUMN] = np.nan
    return frame


def spread_trailing_day_rate(gauges: pd.DataFrame) -> pd.DataFrame:
    """For gauges that publish a trailing 24-hour average rate: each hour of a day takes the rate
    last seen in that day, so a fully covered day costs (rate at the end of the day) x 24 h and
    an hour without data still counts for nothing.
    """
    covered = gauges[gauges[EXPORTER_PRESENCE_COLUMN].notna()].sort_values(KEY_COLUMNS).copy()
    if covered.empty:
        return covered
    day_keys = [covered["cloud_account_id"], usage_dates(covered)]
    value_columns = [c for c in covered.columns if c not in KEY_COLUMNS]
    covered[value_columns] = covered.groupby(day_keys)[value_columns].transform("last")
    return covered.reset_index(drop=True)


def exporter_hours(gauges: pd.DataFrame, hours: HourRange, efficiency_scale: str, trailing_24h: bool) -> pd.DataFrame:
    """Phase 2 hourly cost rows of every account with exporter data in ``hours``.

    For trailing_24h gauges the day's last rate is spread over the day's covered hours first;
    hours the exporter reported unhealthy are then dropped (they fall back to Phase 1).
    """
    if trailing_24h:
        health = gauges[[*KEY_COLUMNS, EXPORTER_HEALTH_COLUMN]] if EXPORTER_HEALTH_COLUMN in gauges else None
        gauges = spread_trailing_day_rate(gauges.drop(columns=[EXPORTER_HEALTH_COLUMN], errors="ignore"))
        if health is not None and not gauges.empty:
            gauges = gauges.merge(health, on=KEY_COLUMNS, how="left")
    return exporter_hourly_costs(without_unhealthy_hours(gauges, hours), efficiency_scale)
