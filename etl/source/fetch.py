"""Range-query answers -> hourly frames, and the accounts Thanos knows.

The boundary where numbers come in: a figure that is not money (NaN, -Inf, negative) never
enters a frame, and every sample the queries left out (the census, etl.source.promql.with_census)
is named in a warning: account, metric and hours.

A query Thanos refuses as too large (etl.source.thanos.QueryTooLargeError: Prometheus'
``--query.max-samples``, Thanos' store limits, a query-frontend's longest range) is asked in parts
(``ask_in_parts``). Each refusal halves the part size, its hours (rounded up) down to single hours,
then its accounts down to single accounts (accounts first when the limit counts series, which a
shorter range hardly lessens), and the rest of the query is asked in parts of that size: a few
refused requests find the size that passes, whatever the limit. The parts are exact: they tile
the hours and accounts without overlap; an hour's figure is evaluated at that hour's end whatever
the range around it; a per-account query's answer for two sets of accounts is the two answers
side by side; each instant of each part is checked to be one that part asked for. A part of one
hour and one account still refused fails the whole query: never a partial answer.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import reduce

import numpy as np
import pandas as pd

from etl.model import ACCOUNT_COLUMN, HOUR, HOUR_SECONDS, KEY_COLUMNS, HourRange, hour_list
from etl.source.metrics import EXPORTER_METRICS, RAW_METRICS
from etl.source.promql import CENSUS_LABEL, HOUR_EVAL_OFFSET_SECONDS, discovery_matchers
from etl.source.thanos import QueryTooLargeError, Series, ThanosClient

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


@dataclass(frozen=True)
class AccountQuery:
    """A query per account: ``text(accounts)`` is its PromQL for any subset of ``accounts``, and
    every series of its answer carries the account label, so the answers for two halves of the
    accounts, side by side, are the answer for all of them."""

    text: Callable[[Sequence[str]], str]
    accounts: tuple[str, ...]

    @classmethod
    def of(cls, text: Callable[[Sequence[str]], str], accounts: Sequence[str]) -> AccountQuery:
        return cls(text, tuple(accounts))


def fetch_hourly(
    client: ThanosClient, query: AccountQuery | str, column: str, hours: HourRange, account_label: str,
    labels: Sequence[str] = (), metric: str | None = None, census_into: list[pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Evaluate an hourly-window query once per hour of ``hours``; one row per account, hour and
    combination of the ``labels`` the query groups by (missing label -> ""). ``metric`` names the
    figure in warnings (default: ``column``). ``census_into`` receives the (account, hour) whose
    samples were partly not money, with a ``column`` column (etl.run.suspect: such an hour may
    lack the figure for a reason the warning gives). A query refused as too large is asked in parts
    (``ask_in_parts``; a plain text only in parts of its hours)."""
    if hours.hours == 0:
        return pd.DataFrame(columns=[*KEY_COLUMNS, *labels, column])
    name = metric or column
    answer = ask_in_parts(client, query, hours, name)
    census = [series for series in answer if CENSUS_LABEL in series.labels]
    if census:
        bad = series_to_frame(census, "series", account_label)
        _warn_per_account(bad, name, hours,
                          "ignored samples that are not money (NaN, infinite or negative) of {metric}; each of those "
                          "hours is computed from its other samples")
        if census_into is not None:
            census_into.append(bad[KEY_COLUMNS].assign(column=column))
    values = [series for series in answer if CENSUS_LABEL not in series.labels]
    return usable_figures(series_to_frame(values, column, account_label, labels), column, name, hours)


def ask_in_parts(client: ThanosClient, query: AccountQuery | str, hours: HourRange, metric: str) -> list[Series]:
    """The range answer of ``query`` at the end of every hour of ``hours``: one range query or, when
    Thanos refuses it as too large, parts of it (see the module docstring); each halving of the
    parts is logged. QueryTooLargeError when one hour of one account is still refused."""
    whole = query if isinstance(query, AccountQuery) else AccountQuery(lambda _: query, ())
    size = _Size(hours.hours, len(whole.accounts))
    pending = deque([(whole, hours)])
    answer: list[Series] = []
    while pending:
        part, part_hours = pending.popleft()
        if not size.holds(part, part_hours):
            pending.extendleft(reversed(size.cut(part, part_hours)))
            continue
        try:
            first_eval = part_hours.start.timestamp() + HOUR_EVAL_OFFSET_SECONDS
            last_eval = part_hours.end.timestamp() - HOUR_SECONDS + HOUR_EVAL_OFFSET_SECONDS
            answer += client.query_range(part.text(part.accounts), first_eval, last_eval, HOUR_SECONDS)
        except QueryTooLargeError as refusal:
            if not size.halve(part, part_hours, refusal.per_series):
                who = f"account {part.accounts[0]}" if part.accounts else "all accounts"
                raise QueryTooLargeError(
                    f"Thanos refuses the query of {metric} as too large even for one hour ({part_hours}) of {who}: "
                    f"{refusal.reason}; raise that limit (Prometheus: --query.max-samples; Thanos: the store "
                    "limits); nothing of this chunk was stored", refusal.reason, refusal.per_series) from None
            log.info("Thanos refused the query of %s for %s over %s as too large (%s); asking it and the rest of "
                     "%s in parts of at most %d hour(s) and %s", metric, _accounts(len(part.accounts)), part_hours,
                     refusal.reason, hours, size.hours, _accounts(size.accounts))
            pending.appendleft((part, part_hours))
    return answer


@dataclass
class _Size:
    """The largest part a query is asked in: ``hours`` of ``accounts`` (0: a query not per account)."""

    hours: int
    accounts: int

    def holds(self, part: AccountQuery, hours: HourRange) -> bool:
        return hours.hours <= self.hours and len(part.accounts) <= self.accounts

    def halve(self, part: AccountQuery, hours: HourRange, accounts_first: bool) -> bool:
        """Half the refused part's hours (rounded up), or else half its accounts (accounts first for a
        limit on series); False: one hour of one account, nothing left to halve."""
        can_time, can_accounts = hours.hours > 1, len(part.accounts) > 1
        if can_accounts and (accounts_first or not can_time):
            self.accounts = -(-len(part.accounts) // 2)
        elif can_time:
            self.hours = -(-hours.hours // 2)
        else:
            return False
        return True

    def cut(self, part: AccountQuery, hours: HourRange) -> list[tuple[AccountQuery, HourRange]]:
        """``part`` over ``hours`` cut into parts of this size: consecutive hours, then accounts in order."""
        windows = [HourRange(hours.start + first * HOUR, min(hours.end, hours.start + (first + self.hours) * HOUR))
                   for first in range(0, hours.hours, self.hours)]
        accounts = part.accounts
        groups = [accounts[first:first + self.accounts] for first in range(0, len(accounts), self.accounts or 1)]
        return [(replace(part, accounts=group), window) for window in windows for group in groups or [accounts]]


def _accounts(count: int) -> str:
    return f"{count} account(s)" if count else "all accounts"


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
        starts = set(group["hour_start"])
        log.warning("Account %s: %s in %d hour(s) of %s: %s", account, what.format(metric=metric), len(starts),
                    hours, hour_list(starts, SHOWN_HOURS))


def merge_columns(frames: list[pd.DataFrame], keys: Sequence[str] = KEY_COLUMNS) -> pd.DataFrame:
    """Outer-join per-metric frames on ``keys`` (account, hour, ...) into one wide frame."""
    if not frames:
        return pd.DataFrame(columns=list(keys))
    merged = reduce(lambda left, right: left.merge(right, on=list(keys), how="outer"), frames)
    return merged.sort_values(list(keys)).reset_index(drop=True)

