"""Presence-weighted hourly figures, each sample held for its series' own sampling interval.

An hour of a presence-weighted metric (an allocation, a working set, a load balancer: anything
that counts the minutes it exists) is the sum over the hour's 60 minutes of the samples held at
each minute, / 60. Held for Prometheus' 5-minute lookback only, a series sampled every 15
minutes would exist 20 minutes of every hour. So per account, metric and hour a probe counts the
samples of the account's densest series of the metric in the two hours up to the hour's end
(``sampling_density``), and:

- 24 samples or more (a sample every 5 minutes or more often), or a burst (3 samples of one series
  in one 10-minute tile of those two hours: a short-lived pod scraped every minute): the lookback
  holds them, and a staleness marker ends a series at once (the query of issue 9, unchanged);
- fewer: each sample is held ``hold_minutes`` = 120 / (samples - 1) minutes, rounded up to a
  whole minute, at most 60 (``last_over_time(m[H])`` at each minute): the longest gap a regular
  series with that many samples in two hours can have, so no minute of a continuous series is
  lost, whatever the phase of its samples against the window.

Accounts (and hours) of one hold are asked in one query; the lookback query, asked for every
account, also carries the census of samples that are not money. etl.source.promql argues the
windows; docs/phase1.md states the tails.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import pandas as pd

from etl.model import ACCOUNT_COLUMN, HOUR, KEY_COLUMNS, HourRange
from etl.source.fetch import AccountQuery, fetch_hourly
from etl.source.plain import Checked, fetch_in_forms, presence_sum_plain
from etl.source.promql import (
    DENSE_SAMPLES,
    DENSITY_WINDOW_MINUTES,
    MAX_HOLD_MINUTES,
    hourly_presence_sum,
    sampling_density,
)
from etl.source.thanos import ThanosClient

log = logging.getLogger(__name__)
HOLD_COLUMN = "hold_minutes"


@dataclass(frozen=True)
class Presence:
    """A presence-weighted metric: per account (and ``by`` labels), its workloads' amount summed
    over the hour's minutes / 60, a workload being one combination of the ``identity`` labels
    (etl.source.promql.hourly_presence_sum); ``extra_matchers`` narrow its series."""

    metric: str
    identity: tuple[str, ...]
    by: tuple[str, ...] = ()
    extra_matchers: str = ""

    def query(self, account_label: str, accounts: Sequence[str], hold: int | None = None) -> str:
        return hourly_presence_sum(self.metric, account_label, accounts, self.identity, self.by,
                                   self.extra_matchers, hold)

    def density(self, account_label: str, accounts: Sequence[str]) -> str:
        return sampling_density(self.metric, account_label, accounts, self.extra_matchers)

    def plain_query(self, account_label: str, accounts: Sequence[str]) -> str:
        return presence_sum_plain(self.metric, account_label, accounts, self.by, self.extra_matchers)

    @property
    def checked(self) -> Checked:
        """What etl.source.plain checks before the plain form: one series per workload."""
        return Checked(self.metric, tuple(dict.fromkeys([*self.by, *self.identity])), self.extra_matchers)


def hold_minutes(samples: float) -> int | None:
    """Minutes each sample is held in an hour whose densest series has ``samples`` samples in the
    density window; None: the lookback holds them (and honours staleness markers)."""
    count = round(samples)
    if count >= DENSE_SAMPLES:
        return None
    if count <= 1:
        return MAX_HOLD_MINUTES
    return min(MAX_HOLD_MINUTES, -(-DENSITY_WINDOW_MINUTES // (count - 1)))


def fetch_presence(client: ThanosClient, presence: Presence, column: str, hours: HourRange, account_label: str,
                   accounts: Sequence[str], clean: Collection[str] = ()) -> pd.DataFrame:
    """``presence``'s hourly figures of ``accounts`` over ``hours`` (one row per account, hour and
    ``by`` labels, in ``column``): the lookback query for all, and for the account-hours sampled
    less often than the lookback holds, one query per hold."""
    metric, label, by = presence.metric, account_label, list(presence.by)

    def held_for(hold: int | None, of_accounts: Sequence[str]) -> AccountQuery:
        return AccountQuery.of(lambda some: presence.query(label, some, hold), of_accounts)

    probe = AccountQuery.of(lambda some: presence.density(label, some), accounts)
    density = fetch_hourly(client, probe, "samples", hours, label, (), metric)
    holds = density.assign(**{HOLD_COLUMN: density["samples"].map(hold_minutes)}).dropna(subset=[HOLD_COLUMN])
    # the lookback query: in the plain form for the ``clean`` accounts (etl.source.plain), the full one for the others
    figures = fetch_in_forms(client, accounts, clean, lambda some: presence.plain_query(label, some),
                             lambda some: presence.query(label, some, None), column, hours, label, by, metric)
    if holds.empty:
        return figures
    parts = [_keyed(figures, holds, keep=False)]
    for hold in sorted({int(minutes) for minutes in holds[HOLD_COLUMN]}):
        held = holds[holds[HOLD_COLUMN] == hold]
        held_accounts = sorted(set(held[ACCOUNT_COLUMN]))
        # only the hours from the first to the last one of this hold (often one: an account's first)
        span = HourRange(held["hour_start"].min().to_pydatetime(), held["hour_start"].max().to_pydatetime() + HOUR)
        log.debug("%s, %s: %d account-hour(s) of %d account(s) held %d minutes", metric, span, len(held),
                  len(held_accounts), hold)
        answer = fetch_hourly(client, held_for(hold, held_accounts), column, span, label, by, metric)
        parts.append(_keyed(answer, held, keep=True))
    return pd.concat(parts, ignore_index=True).sort_values([*KEY_COLUMNS, *by]).reset_index(drop=True)


def _keyed(frame: pd.DataFrame, keys: pd.DataFrame, keep: bool) -> pd.DataFrame:
    """The rows of ``frame`` whose account and hour are (keep) or are not (not keep) in ``keys``."""
    marked = frame.merge(keys[KEY_COLUMNS].drop_duplicates(), on=KEY_COLUMNS, how="left", indicator=True)
    inside = marked.pop("_merge") == "both"
    return marked[inside if keep else ~inside].reset_index(drop=True)
