"""Range-query answers -> hourly frames, and the accounts Thanos knows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import reduce

import numpy as np
import pandas as pd

from etl.model import HOUR_SECONDS, KEY_COLUMNS, HourRange
from etl.source.promql import EXPORTER_METRICS, HOUR_EVAL_OFFSET_SECONDS, RAW_METRICS, discovery_matchers
from etl.source.thanos import Series, ThanosClient


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
    labels: Sequence[str] = (),
) -> pd.DataFrame:
    """Evaluate an hourly-window query once per hour of ``hours``; one row per account, hour and
    combination of the ``labels`` the query groups by (missing label -> "")."""
    if hours.hours == 0:
        return pd.DataFrame(columns=[*KEY_COLUMNS, *labels, column])
    first_eval = hours.start.timestamp() + HOUR_EVAL_OFFSET_SECONDS
    last_eval = hours.end.timestamp() - HOUR_SECONDS + HOUR_EVAL_OFFSET_SECONDS
    answer = client.query_range(query, first_eval, last_eval, HOUR_SECONDS)
    return series_to_frame(answer, column, account_label, labels)


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
        "cloud_account_id": per_point(account_label),
        **{label: per_point(label) for label in labels},
        "hour_index": hour_index,
        column: points[:, 1],
    })
    frame["hour_start"] = pd.to_datetime(frame["hour_index"] * HOUR_SECONDS, unit="s", utc=True)
    # NaN samples (stale markers, 0/0 averages) carry no information: drop them like absent ones.
    frame = frame[frame[column].notna()]
    return frame[[*KEY_COLUMNS, *labels, column]].reset_index(drop=True)


def merge_columns(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Outer-join per-metric frames on (account, hour) into one wide frame."""
    if not frames:
        return pd.DataFrame(columns=KEY_COLUMNS)
    merged = reduce(lambda left, right: left.merge(right, on=KEY_COLUMNS, how="outer"), frames)
    return merged.sort_values(KEY_COLUMNS).reset_index(drop=True)
