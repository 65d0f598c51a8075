"""Shared extraction plumbing: hour ranges, and range-query answers -> hourly frames."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import reduce

import pandas as pd

from etl.costs import KEY_COLUMNS, hour_label
from etl.queries import HOUR_EVAL_OFFSET_SECONDS, HOUR_SECONDS, discovery_matchers
from etl.thanos import Series, ThanosClient

HOUR = timedelta(hours=1)


def utc_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@dataclass(frozen=True)
class HourRange:
    """UTC hours ``start <= hour_start < end``; both ends on hour boundaries."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        for edge in (self.start, self.end):
            if edge.tzinfo is None or edge.timestamp() % HOUR_SECONDS:
                raise ValueError(f"hour range edge {edge!r} is not an aware UTC hour boundary")

    @classmethod
    def for_days(cls, first_day: date, last_day: date) -> HourRange:
        return cls(utc_midnight(first_day), utc_midnight(last_day) + timedelta(days=1))

    @property
    def hours(self) -> int:
        return int((self.end - self.start) / HOUR)

    def clipped_to(self, latest_end: datetime) -> HourRange:
        return HourRange(self.start, min(self.end, max(latest_end, self.start)))

    def __str__(self) -> str:
        return f"{hour_label(self.start)}..{hour_label(self.end)}"


def accounts_seen(
    client: ThanosClient, account_label: str, metrics: Iterable[str], start: datetime, end: datetime
) -> list[str]:
    """Every account id (sorted) carried by a series of ``metrics`` within [start, end]."""
    return client.label_values(account_label, discovery_matchers(list(metrics), account_label), start, end)


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
    records = [
        (
            series.labels.get(account_label, ""),
            *(series.labels.get(label, "") for label in labels),
            round((ts - HOUR_EVAL_OFFSET_SECONDS) / HOUR_SECONDS),
            value,
        )
        for series in answer
        for ts, value in series.points
    ]
    frame = pd.DataFrame(records, columns=["cloud_account_id", *labels, "hour_index", column])
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
