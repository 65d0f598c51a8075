"""Range-query answers -> hourly frames, and the accounts Thanos knows.

The boundary where numbers come in: a figure that is not money (NaN, -Inf, negative) never
enters a frame, and every sample the queries left out (the census, etl.source.promql.with_census)
is named in a warning: account, metric and hours.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import reduce

import numpy as np
import pandas as pd

from etl.model import ACCOUNT_COLUMN, HOUR_SECONDS, KEY_COLUMNS, HourRange, hour_label
from etl.source.metrics import EXPORTER_METRICS, RAW_METRICS
from etl.source.promql import CENSUS_LABEL, HOUR_EVAL_OFFSET_SECONDS, discovery_matchers
from etl.source.thanos import Series, ThanosClient

log = logging.getLogger(__name__)
SHOWN_HOURS = 6  # hours a warning lists before it says "and N more"


def accounts_seen(
    client: ThanosClient, account_label: str, metrics: Iterable[str], start: datetime, end: datetime
) -> list[str]:
    """Every account id (sorted) carried by a series of ``metrics`` within [start, end]."""
    return client.label_values(account_label, discovery_matchers(list(metrics), account_label), start, end)


def discover_accounts(client: ThanosClient, account_label: str, hours: HourRange) -> list[str]:
    """Every account id carried by an exporter or raw metric within ``hours``."""
    return accounts_seen(client, account_label, [*EXPORTER_METRICS.values(), *RAW_METRICS], hours.start, hours.end)


def fetch_hourly(
    client: ThanosClient, query: str, column: str, hours: HourRange, account_label: str,
    labels: Sequence[str] = (), metric: str | None = None,
) -> pd.DataFrame:
    """Evaluate an hourly-window query once per hour of ``hours``; one row per account, hour and
    combination of the ``labels`` the query groups by (missing label -> ""). ``metric`` names the
    figure in warnings (default: ``column``)."""
    if hours.hours == 0:
        return pd.DataFrame(columns=[*KEY_COLUMNS, *labels, column])
    first_eval = hours.start.timestamp() + HOUR_EVAL_OFFSET_SECONDS
    last_eval = hours.end.timestamp() - HOUR_SECONDS + HOUR_EVAL_OFFSET_SECONDS
    answer = client.query_range(query, first_eval, last_eval, HOUR_SECONDS)
    census = [series for series in answer if CENSUS_LABEL in series.labels]
    name = metric or column
    if census:
        _warn_per_account(series_to_frame(census, "series", account_label), name, hours,
                          "ignored samples that are not money (NaN, infinite or negative) of {metric}; each of those "
                          "hours is computed from its other samples")
    values = [series for series in answer if CENSUS_LABEL not in series.labels]
    return usable_figures(series_to_frame(values, column, account_label, labels), column, name, hours)


def series_to_frame(
    answer: list[Series], column: str, account_label: str, labels: Sequence[str] = ()
) -> pd.DataFrame:
    # Column-wise over all series at once (an answer holds hundreds of thousands of points).
    sizes = [len(series.points) for series in answer]
    points = np.concatenate([series.points for series in answer]) if answer else np.empty((0, 2))
    hour_index = np.round((points[:, 0] - HOUR_EVAL_OFFSET_SECONDS) / HOUR_SECONDS).astype("int64")

    def per_point(label: str) -> np.ndarray:
        return np.repeat(np.array([series.labels.get(label, "") for series in answer], dtype=object), sizes)

    frame = pd.DataFrame({
        ACCOUNT_COLUMN: per_point(account_label),
        **{label: per_point(label) for label in labels},
        "hour_index": hour_index,
        column: points[:, 1],
    })
    frame["hour_start"] = pd.to_datetime(frame["hour_index"] * HOUR_SECONDS, unit="s", utc=True)
    frame[column] = frame[column].astype("float64")
    return frame[[*KEY_COLUMNS, *labels, column]].reset_index(drop=True)


def usable_figures(frame: pd.DataFrame, column: str, metric: str, hours: HourRange) -> pd.DataFrame:
    """The frame without hourly figures that are no amount: NaN (a NaN sample a sum could not leave
    out, a stale marker, 0/0) or negative, each named in a warning. +Inf stays: only a figure beyond
    any bound makes it, and the cost math refuses it by name (etl.costing.guard)."""
    values = frame[column]
    unusable = values.isna() | (values < 0)
    if unusable.any():
        _warn_per_account(frame[unusable], metric, hours,
                          "dropped hourly figures of {metric} that are no amount (NaN or negative); those "
                          "hours go without that figure")
    return frame[~unusable].reset_index(drop=True)


def _warn_per_account(frame: pd.DataFrame, metric: str, hours: HourRange, what: str) -> None:
    for account, group in frame.groupby(ACCOUNT_COLUMN, sort=True):
        starts = sorted(set(group["hour_start"]))
        shown = ", ".join(hour_label(start) for start in starts[:SHOWN_HOURS])
        more = f" and {len(starts) - SHOWN_HOURS} more" if len(starts) > SHOWN_HOURS else ""
        log.warning("Account %s: %s in %d hour(s) of %s: %s%s", account, what.format(metric=metric), len(starts),
                    hours, shown, more)


def merge_columns(frames: list[pd.DataFrame], keys: Sequence[str] = KEY_COLUMNS) -> pd.DataFrame:
    """Outer-join per-metric frames on ``keys`` (account, hour, ...) into one wide frame."""
    if not frames:
        return pd.DataFrame(columns=list(keys))
    merged = reduce(lambda left, right: left.merge(right, on=list(keys), how="outer"), frames)
    return merged.sort_values(list(keys)).reset_index(drop=True)

