"""Phase 2: the allocation exporter's hourly gauges -> hourly cost rows per account.

The input (etl.source.exporter) has one row per (account, hour, cluster, currency) in which the
exporter's presence gauge has a real sample: a float column per exporter gauge named after the
hourly column it feeds (NaN = no healthy value that hour), HEALTHY_MINUTES_COLUMN and
UNHEALTHY_MINUTES_COLUMN. Each cluster is costed on its own, then the clusters of an account are
summed (etl.costing.parts); the output keeps both minute columns for the phase choice.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from etl.costing.apportion import largest_remainder
from etl.costing.guard import bounded_efficiencies, check_dollars
from etl.costing.parts import combine_parts
from etl.costing.rollup import usage_dates
from etl.model import (
    ACCOUNT_COLUMN,
    CLUSTER_LABEL,
    CLUSTERS_COLUMN,
    COMPONENT_COLUMNS,
    COST_COLUMNS,
    CURRENCY_COLUMN,
    CURRENCY_LABEL,
    EFFICIENCY_COLUMNS,
    EFFICIENCY_DECIMALS,
    EXPORTER_PRESENCE_COLUMN,
    HEALTHY_MINUTES_COLUMN,
    HOUR_FLAG_COLUMNS,
    HOURLY_COLUMNS,
    IDLE_COLUMN,
    IDLE_UNKNOWN_COLUMN,
    KEY_COLUMNS,
    NETWORK_SPLIT_COLUMNS,
    PHASE_EXPORTER,
    UNHEALTHY_MINUTES_COLUMN,
    HourRange,
    hour_label,
    to_nano,
)

log = logging.getLogger(__name__)
MINUTE_COLUMNS = [HEALTHY_MINUTES_COLUMN, UNHEALTHY_MINUTES_COLUMN]
CLUSTER_KEYS = [*KEY_COLUMNS, CLUSTER_LABEL, CURRENCY_LABEL]
EXPORTER_COLUMNS = [*HOURLY_COLUMNS, *MINUTE_COLUMNS]
NETWORK = COMPONENT_COLUMNS.index("network_cost")


def fit_components_to_total(rows: pd.DataFrame) -> pd.DataFrame:
    """Where the components add up to more than the total, scale them to the total in proportion
    (largest remainder, exact to the nano-dollar) and the network split with the network cost.

    The total is what the cluster costs; the components are the exporter's breakdown of it, and
    a breakdown larger than the whole is scaled to it so that the six clean-expense types
    (components and management, model.CLEAN_EXPENSE_TYPES) always add up to the total.
    """
    over = (rows[COMPONENT_COLUMNS].sum(axis=1) > rows["total_cost"]).to_numpy()
    if not over.any():
        return rows
    scaled_columns = [*COMPONENT_COLUMNS, *NETWORK_SPLIT_COLUMNS]
    # Python integers (exact: a product of two nano-dollar figures leaves int64), row by row, but
    # read and written once for all the rows: a pandas lookup per row cost ~1 ms.
    totals = rows["total_cost"].to_numpy("int64")[over].tolist()
    components = rows[COMPONENT_COLUMNS].to_numpy("int64")[over].tolist()
    splits = rows[NETWORK_SPLIT_COLUMNS].to_numpy("int64")[over].tolist()
    fitted = []
    for total, parts, network_split in zip(totals, components, splits, strict=True):
        shares = largest_remainder(total, parts)
        before, after = parts[NETWORK], shares[NETWORK]
        fitted.append([*shares, *(value * after // before if before else 0 for value in network_split)])
    rows.loc[rows.index[over], scaled_columns] = pd.DataFrame(fitted, columns=scaled_columns,
                                                              index=rows.index[over]).astype("int64")
    return rows


def _warn_scaled(rows: pd.DataFrame, scaled: pd.Series, hours: HourRange, whose: str) -> None:
    for account, count in rows[scaled].groupby(ACCOUNT_COLUMN).size().items():
        log.warning("Phase 2 exporter for %s reported components (cpu, ram, pv, network, lb) above %s total cost in "
                    "%d hour(s) of %s: the components are scaled to the total, management 0", account, whose, count,
                    hours)


def cluster_hourly_costs(gauges: pd.DataFrame, efficiency_scale: str, currency: str,
                         names: Mapping[str, str], hours: HourRange,
                         keys: Sequence[str] = CLUSTER_KEYS) -> pd.DataFrame:
    """Hourly rows per cluster (``keys``: CLUSTER_KEYS, or with a namespace for the namespace
    gauges) where the total has a value.

    A rate averaged over one hour times one hour is that hour's cost, so the rates are used as
    dollars directly. A missing component is 0; management is what the total holds beyond the
    components (fit_components_to_total when they exceed it). ``efficiency_scale`` is "percent" or
    "ratio" (0-1 gauges, stored x 100). A gauge without a currency label is in ``currency``. The
    idle is unknown (etl.costing.namespaces knows it where the cluster has namespace gauges).
    """
    frame = gauges[gauges[EXPORTER_PRESENCE_COLUMN].notna()].copy()
    check_dollars(frame, ["total_cost", *COMPONENT_COLUMNS, *NETWORK_SPLIT_COLUMNS], names)
    rows = frame[list(keys)].copy()
    for column in ["total_cost", *COMPONENT_COLUMNS]:
        rows[column] = to_nano(frame[column]) if column in frame else 0
    split_present = pd.Series(False, index=frame.index)
    for column in NETWORK_SPLIT_COLUMNS:
        if column in frame:
            split_present |= frame[column].notna()
    for column in NETWORK_SPLIT_COLUMNS:
        split = to_nano(frame[column]) if column in frame else pd.Series(0, index=frame.index)
        rows[column] = split.where(split_present, 0).astype("int64")
    # Without the optional split, all network cost is internet egress (what the API reports today).
    rows.loc[~split_present, "network_internet_cost"] = rows.loc[~split_present, "network_cost"]
    scaled = rows[COMPONENT_COLUMNS].sum(axis=1) > rows["total_cost"]
    _warn_scaled(rows, scaled, hours, "its" if list(keys) == CLUSTER_KEYS else "a namespace's")
    rows = fit_components_to_total(rows)
    # Total includes costs the exporter does not break out (e.g. cluster management fees).
    rows["management_cost"] = rows["total_cost"] - rows[COMPONENT_COLUMNS].sum(axis=1)
    scale = 100.0 if efficiency_scale == "ratio" else 1.0
    for column in EFFICIENCY_COLUMNS:
        values = frame[column] * scale if column in frame else pd.Series(np.nan, index=frame.index)
        rows[column] = values.astype("float64").round(EFFICIENCY_DECIMALS)
    rows = bounded_efficiencies(rows, names)
    rows[HOUR_FLAG_COLUMNS] = 0
    rows[IDLE_UNKNOWN_COLUMN] = 1
    rows[IDLE_COLUMN] = pd.array([pd.NA] * len(rows), dtype="Int64")
    rows["default_priced_resources"] = None
    rows[CURRENCY_COLUMN] = frame[CURRENCY_LABEL].replace("", currency)
    rows[CLUSTERS_COLUMN] = frame[CLUSTER_LABEL].where(frame[CLUSTER_LABEL] != "", None)
    rows["source_phase"] = PHASE_EXPORTER
    for column in MINUTE_COLUMNS:
        if column in frame:
            rows[column] = frame[column].astype("int64")
    rows[COST_COLUMNS] = rows[COST_COLUMNS].astype("int64")
    return rows.reset_index(drop=True)


def spread_closing_values(gauges: pd.DataFrame, keys: Sequence[str] = CLUSTER_KEYS) -> pd.DataFrame:
    """For gauges that publish a trailing 24-hour average rate: every hour a cluster (``keys``: a
    cluster's namespace) was present in a day takes its closing value of that day, the latest healthy
    value (per gauge), so a fully covered day costs (closing rate) x 24 h, and a cluster with no
    healthy value all day has no exporter figure that day. Failed scrapes do not reach the closing
    value, so no hour of it counts as unhealthy any more."""
    keys = list(keys)
    frame = gauges.sort_values(keys).copy()
    if frame.empty:
        return frame
    day_keys = [*(frame[key] for key in keys if key != "hour_start"), usage_dates(frame)]
    value_columns = [c for c in frame.columns if c not in keys and c not in MINUTE_COLUMNS]
    frame[value_columns] = frame.groupby(day_keys)[value_columns].transform("last")
    if UNHEALTHY_MINUTES_COLUMN in frame:
        frame[UNHEALTHY_MINUTES_COLUMN] = 0
    return frame.reset_index(drop=True)


def warn_unhealthy(gauges: pd.DataFrame, hours: HourRange) -> None:
    """One warning per account whose exporter reported only failed scrapes in some hours: those
    hours have no exporter figure. (Hours with some healthy minutes: etl.costing.phase.)"""
    lost = gauges[(gauges[UNHEALTHY_MINUTES_COLUMN] > 0) & gauges[EXPORTER_PRESENCE_COLUMN].isna()]
    for account, starts in lost.groupby(ACCOUNT_COLUMN, sort=True)["hour_start"]:
        log.warning("Phase 2 exporter for %s reported only failed scrapes in %d hour(s) of %s (from %s): those hours "
                    "count as having no exporter data", account, starts.nunique(), hours, hour_label(starts.min()))


def prepared_gauges(gauges: pd.DataFrame, hours: HourRange, trailing_24h: bool) -> pd.DataFrame:
    """The gauges as the hours are costed from them: closing values spread over the day for
    trailing 24-hour gauges; each with the warnings about hours without a healthy value."""
    if not trailing_24h:
        warn_unhealthy(gauges, hours)
        return gauges
    gauges = spread_closing_values(gauges)
    for account, lost in gauges[gauges[EXPORTER_PRESENCE_COLUMN].isna()].groupby(ACCOUNT_COLUMN)["hour_start"]:
        log.warning("Phase 2 exporter for %s published no healthy value of its trailing 24-hour rate on the "
                    "day(s) of %d hour(s) of %s: those hours count as having no exporter data", account,
                    lost.nunique(), hours)
    return gauges


def account_hours(clusters: pd.DataFrame, gauges: pd.DataFrame) -> pd.DataFrame:
    """The accounts' hourly rows from their clusters' (etl.costing.parts), with the healthy and
    unhealthy minutes summed over every cluster present for the phase choice (etl.costing.phase)."""
    # Minutes of every cluster present, also one without a healthy value: its failed stretch makes
    # the account's hour a degraded one (etl.costing.phase), rather than one silently short of it.
    minutes = gauges.groupby(KEY_COLUMNS)[MINUTE_COLUMNS].sum().reset_index()
    accounts = combine_parts(clusters.drop(columns=MINUTE_COLUMNS), KEY_COLUMNS)
    return accounts.merge(minutes, on=KEY_COLUMNS, how="left")[EXPORTER_COLUMNS]


def exporter_hours(gauges: pd.DataFrame, hours: HourRange, efficiency_scale: str, trailing_24h: bool,
                   currency: str, names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Phase 2 hourly rows of every account with exporter data in ``hours``: the account's
    clusters summed (etl.costing.parts), with HEALTHY_MINUTES_COLUMN and UNHEALTHY_MINUTES_COLUMN
    summed over its clusters for the phase choice (etl.costing.phase). ``names`` maps a column to
    the metric it comes from, for messages. Without namespace gauges the idle is unknown
    (etl.costing.exporter_namespaces costs both)."""
    if gauges.empty:
        return pd.DataFrame(columns=EXPORTER_COLUMNS)
    gauges = prepared_gauges(gauges, hours, trailing_24h)
    return account_hours(cluster_hourly_costs(gauges, efficiency_scale, currency, names or {}, hours), gauges)
