"""Plain forms of the hourly queries (exporter gauges, Phase 1 presence sums), and the check that allows them.

The exporter's hourly figures (etl.source.promql.exporter_gauge, exporter_coverage) are one-minute
subqueries over an expression: the gauge filtered to amounts (``>= 0 < Inf``), its copies averaged
per account, cluster and currency, the minutes of failed scrapes taken out (``unless`` the health
gauge is 0), and the census of samples that are not money. Prometheus evaluates such an
expression at every minute of the chunk, operator by operator: most of the tool's query time.

For a chunk of a batch where a gauge has one series per account, cluster and currency, no sample
that is not money, and no exporter reported a failed scrape, none of that changes a value: at
every minute the filter keeps the one series' value, the average of one value is that value, the
health join removes nothing, and the census is empty. The plain form asks the bare series through
the same subquery (same minutes, same lookback, same values in the same order), an order of
magnitude faster, and each of its series is one cluster's (with the series' other labels, which
the fetch does not read). ``unclean_check`` asks, in one instant query at the chunk's end, which
accounts of the batch are not so for which gauge in the chunk and the two hours before it (a sample
there is still held in the chunk's first minutes: 5 minutes by Prometheus' default lookback, longer
if a Thanos is configured so); those accounts keep the full form for that gauge (for every gauge,
after a failed scrape), the others of the batch are asked plainly. Per account, because across a
fleet some exporter restarts (two series of one cluster) in almost every batch's chunk. A check
Thanos refuses as too large keeps the full form for every account and gauge.

Phase 1's presence-weighted figures (etl.source.promql.hourly_presence_sum: per minute, the sum over
workloads of each workload's copies averaged, summed over the hour's minutes) have a plain form by
the same argument, for an account whose metric has one series per workload and no sample that is
not money in the window: the average of one copy is that copy, and a sum over the workloads of
sums over the minutes is the sum over the minutes of the sums over the workloads
(``presence_sum_plain``; the same terms added in another order, so equal up to the last bits of a
float, far below a nano-dollar). Held queries (etl.source.hold) keep the full form.

Phase 1's prices (etl.source.promql.hourly_price: per minute, the copies of a node's or volume's
price averaged, 0 and what is not money left out) have the exporter gauges' plain form, for an
account whose price metric has one series per node (or volume) and only positive amounts in the
window (``Checked.positive``: a 0 is no price).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from etl.model import HourRange
from etl.source.fetch import AccountQuery, fetch_hourly
from etl.source.metrics import EXPORTER_GROUPING, EXPORTER_HEALTH_METRIC, EXPORTER_PRESENCE_METRIC
from etl.source.promql import HOUR_MINUTES, MINUTES_LABEL, MINUTES_PER_HOUR, present_in_hour, series_selector
from etl.source.thanos import QueryTooLargeError, ThanosClient

CHECK_LABEL = "etl_unclean"
HEALTH = "health"  # the check's value when an exporter reported a failed scrape (health 0) in the window
# Checked before the chunk too: samples held into its first minutes (a lookback up to two hours).
MARGIN_MINUTES = 120


@dataclass(frozen=True)
class Checked:
    """A metric as the check sees it: ``per_series`` are the labels (besides the account) whose
    every combination may have one series; ``extra_matchers`` narrow the metric's series."""

    metric: str
    per_series: tuple[str, ...]
    extra_matchers: str = ""
    positive: bool = False  # a 0 is not an amount either (a price)


def exporter_checked(metrics: Mapping[str, str]) -> dict[str, Checked]:
    """Exporter gauges (column -> metric): one series per cluster and currency."""
    return {column: Checked(metric, EXPORTER_GROUPING) for column, metric in metrics.items()}


def unclean_check(checked: Mapping[str, Checked], account_label: str, accounts: Sequence[str], minutes: int,
                  health: bool = True) -> str:
    """Instant query: per account, a series (CHECK_LABEL = column) per metric of ``checked`` that,
    within the last ``minutes``, has a sample that is not money (NaN, infinite, negative: as the
    census counts them; 0 too if ``positive``) or two series of one ``per_series`` combination;
    and, with ``health``, one
    (CHECK_LABEL = HEALTH) when its exporter's health gauge is 0 (or less) there."""
    window = f"[{minutes}m]"
    parts = []
    for column, metric in checked.items():
        selector = f"{series_selector(metric.metric, account_label, accounts, metric.extra_matchers)}{window}"
        grouping = ", ".join([account_label, *metric.per_series])
        # Two passes over the window's samples (Prometheus does not share work between the parts of
        # a query, and this check is a large share of a batch's query time): per series 1, or 2
        # when its sum is NaN or infinite (a NaN or infinite sample); summed per combination, over
        # 1 means copies or such a sample. A negative sample (or -Inf) shows in the minimum.
        copies_or_not_finite = f"sum by ({grouping}) (2 - (sum_over_time({selector}) < bool Inf)) > 1"
        negative = f"min_over_time({selector}) {'<=' if metric.positive else '<'} 0"
        unclean = f"count by ({account_label}) ({copies_or_not_finite} or {negative})"
        parts.append(f'label_replace({unclean}, "{CHECK_LABEL}", "{column}", "", "")')
    if health:
        health_gauge = series_selector(EXPORTER_HEALTH_METRIC, account_label, accounts)
        parts.append(f'label_replace(count by ({account_label}) (min_over_time({health_gauge}{window}) <= 0), '
                     f'"{CHECK_LABEL}", "{HEALTH}", "", "")')
    return " or ".join(parts)


def presence_sum_plain(metric: str, account_label: str, accounts: Sequence[str], by: Sequence[str],
                       extra_matchers: str = "") -> str:
    """etl.source.promql.hourly_presence_sum (the lookback) for accounts with one series per workload
    and only money: the sum over the series of their sums over the hour's minutes."""
    selector = series_selector(metric, account_label, accounts, extra_matchers)
    grouping = ", ".join([account_label, *by])
    return (f"sum by ({grouping}) (sum_over_time({selector}{HOUR_MINUTES})) / {MINUTES_PER_HOUR} "
            f"and on ({grouping}) {present_in_hour(selector, grouping)}")


def gauge_plain(metric: str, account_label: str, accounts: Sequence[str], trailing_24h: bool = False) -> str:
    """etl.source.promql.exporter_gauge for a clean gauge (per series = per cluster), and
    etl.source.promql.hourly_price for a clean price (per series = per node or volume)."""
    function = "last_over_time" if trailing_24h else "avg_over_time"
    return f"{function}({series_selector(metric, account_label, accounts)}{HOUR_MINUTES})"


def exporter_coverage_plain(account_label: str, accounts: Sequence[str]) -> str:
    """etl.source.promql.exporter_coverage for a clean presence gauge without failed scrapes: every
    minute with a value is healthy, none is not."""
    selector = series_selector(EXPORTER_PRESENCE_METRIC, account_label, accounts)
    grouping = ", ".join([account_label, *EXPORTER_GROUPING])
    minutes = f"count_over_time({selector}{HOUR_MINUTES}) and on ({grouping}) {present_in_hour(selector, grouping)}"
    return f'label_replace({minutes}, "{MINUTES_LABEL}", "healthy", "", "")'


def clean_accounts(client: ThanosClient, checked: Mapping[str, Checked], account_label: str, accounts: Sequence[str],
                   hours: HourRange, health: bool = True) -> dict[str, set[str]]:
    """Per column of ``checked``, the ``accounts`` whose metric may be asked in the plain form over
    ``hours`` (with ``health``: none for an account whose exporter reported a failed scrape; none at
    all when the check is refused as too large)."""
    minutes = hours.hours * 60 + MARGIN_MINUTES
    try:
        answer = client.query(unclean_check(checked, account_label, accounts, minutes, health), hours.end)
    except QueryTooLargeError:
        return {column: set() for column in checked}
    unclean: dict[str, set[str]] = {}
    for labels, _ in answer:
        unclean.setdefault(labels.get(CHECK_LABEL, ""), set()).add(labels.get(account_label, ""))
    degraded = unclean.get(HEALTH, set())
    return {column: set(accounts) - degraded - unclean.get(column, set()) for column in checked}


def fetch_in_forms(client: ThanosClient, accounts: Sequence[str], clean: Collection[str],
                   plain: Callable[[Sequence[str]], str], full: Callable[[Sequence[str]], str], column: str,
                   hours: HourRange, account_label: str, by: Sequence[str], metric: str,
                   census_into: list[pd.DataFrame] | None = None) -> pd.DataFrame:
    """etl.source.fetch.fetch_hourly of ``accounts``, in the plain form for those in ``clean``."""
    answers = [fetch_hourly(client, query, column, hours, account_label, by, metric, census_into)
               for query in in_forms(accounts, clean, plain, full)]
    return pd.concat([answer for answer in answers if not answer.empty] or answers[:1], ignore_index=True)


def in_forms(accounts: Sequence[str], clean: Collection[str], plain: Callable[[Sequence[str]], str],
             full: Callable[[Sequence[str]], str]) -> list[AccountQuery]:
    """The queries of ``accounts``: the ``plain`` form for those in ``clean``, the ``full`` one for the
    others (the full one alone when there is no account: it then asks nothing)."""
    plain_accounts = [account for account in accounts if account in clean]
    full_accounts = [account for account in accounts if account not in clean]
    queries = [AccountQuery.of(plain, plain_accounts)] if plain_accounts else []
    return queries + ([AccountQuery.of(full, full_accounts)] if full_accounts or not plain_accounts else [])
