"""Phase 2 fetch: the allocation exporter's gauges -> one hourly frame per cluster for all accounts."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Literal

import pandas as pd

from etl.model import (
    CLUSTER_LABEL,
    EXPORTER_PRESENCE_COLUMN,
    HEALTHY_MINUTES_COLUMN,
    KEY_COLUMNS,
    NAMESPACE_LABEL,
    UNHEALTHY_MINUTES_COLUMN,
    HourRange,
)
from etl.source.fetch import fetch_hourly, merge_columns
from etl.source.metrics import (
    EXPORTER_GROUPING,
    EXPORTER_METRICS,
    EXPORTER_NAMESPACE_COST_METRICS,
    EXPORTER_NAMESPACE_EFFICIENCY_METRICS,
    EXPORTER_PRESENCE_METRIC,
    REAL_NAMESPACES,
)
from etl.source.parallel import fetch_concurrently
from etl.source.plain import (
    clean_accounts,
    exporter_checked,
    exporter_coverage_plain,
    fetch_in_forms,
    gauge_plain,
)
from etl.source.promql import MINUTES_LABEL, exporter_coverage, exporter_gauge
from etl.source.thanos import ThanosClient

CLUSTER_KEYS = [*KEY_COLUMNS, *EXPORTER_GROUPING]
# The namespace gauges: costs per cluster, currency and namespace; efficiencies carry no currency.
NAMESPACE_GROUPING = (*EXPORTER_GROUPING, NAMESPACE_LABEL)
NAMESPACE_EFFICIENCY_GROUPING = (CLUSTER_LABEL, NAMESPACE_LABEL)
MINUTE_COLUMNS = {"healthy": HEALTHY_MINUTES_COLUMN, "unhealthy": UNHEALTHY_MINUTES_COLUMN}


@dataclass(frozen=True)
class ExporterAnswer:
    """What the exporter queries of a chunk answered, whole.

    ``gauges``: the frame the costing reads (fetch_exporter_gauges). ``answered``: a row per
    (account, hour, cluster, currency) that any of the queries answered for, the same columns,
    minutes NaN where the coverage query has no row (an hour held by the lookback alone). ``census``:
    the (account, hour) whose samples of the gauge feeding ``column`` were partly not money. The
    checks of etl.run.suspect compare them.
    """

    gauges: pd.DataFrame
    answered: pd.DataFrame
    census: pd.DataFrame


def fetch_exporter_gauges(
    client: ThanosClient, account_label: str, accounts: Sequence[str], hours: HourRange, trailing_24h: bool,
    absent: Collection[str] = (),
) -> pd.DataFrame:
    """One query per exporter metric for all ``accounts`` over ``hours``, and one for the exporter's
    coverage: a frame per (account, hour, cluster, currency) with a column per gauge (named after
    the hourly column it feeds; NaN = no healthy value that hour) and the healthy and unhealthy
    minutes (HEALTHY_MINUTES_COLUMN, UNHEALTHY_MINUTES_COLUMN; 0 = none, and a cluster-hour
    without a real sample of the presence gauge has no row). See etl.source.promql for the windows.

    Columns in ``absent`` (optional gauges discovery found no account of these publishing) are not
    asked for: the frame lacks them, as the costing allows. A gauge the chunk holds clean is asked
    in its plain form (etl.source.plain: the same figures, far less work for Thanos). The queries
    run concurrently (``thanos.max_concurrent_queries``).
    """
    return fetch_exporter_answer(client, account_label, accounts, hours, trailing_24h, absent).gauges


def fetch_exporter_answer(
    client: ThanosClient, account_label: str, accounts: Sequence[str], hours: HourRange, trailing_24h: bool,
    absent: Collection[str] = (),
) -> ExporterAnswer:
    """fetch_exporter_gauges' queries, and all that they answered (ExporterAnswer)."""
    columns = [column for column in EXPORTER_METRICS if column not in absent]
    if not accounts:  # an empty account matcher would match every account: ask nothing
        empty = pd.DataFrame(columns=[*CLUSTER_KEYS, *MINUTE_COLUMNS.values(), *columns])
        return ExporterAnswer(empty, empty, pd.DataFrame(columns=[*KEY_COLUMNS, "column"]))
    clean = clean_accounts(client, exporter_checked({column: EXPORTER_METRICS[column] for column in columns}),
                           account_label, accounts, hours)

    def gauge_forms(metric: str) -> tuple[Callable[[Sequence[str]], str], Callable[[Sequence[str]], str]]:
        return (lambda some: gauge_plain(metric, account_label, some, trailing_24h),
                lambda some: exporter_gauge(metric, account_label, some, trailing_24h))

    census: list[pd.DataFrame] = []
    calls = [partial(fetch_in_forms, client, accounts, clean[column], *gauge_forms(EXPORTER_METRICS[column]), column,
                     hours, account_label, EXPORTER_GROUPING, EXPORTER_METRICS[column], census)
             for column in columns]
    calls.append(partial(fetch_in_forms, client, accounts, clean[EXPORTER_PRESENCE_COLUMN],
                         lambda some: exporter_coverage_plain(account_label, some),
                         lambda some: exporter_coverage(account_label, some), "minutes", hours, account_label,
                         [*EXPORTER_GROUPING, MINUTES_LABEL], EXPORTER_PRESENCE_METRIC))
    *frames, minutes_frame = fetch_concurrently(calls, client.max_concurrent_queries)
    minutes = (minutes_frame.pivot_table(index=CLUSTER_KEYS, columns=MINUTES_LABEL, values="minutes", aggfunc="sum")
               .reindex(columns=list(MINUTE_COLUMNS)).fillna(0).astype("int64").rename(columns=MINUTE_COLUMNS)
               .reset_index())
    gauges = merge_columns(frames, CLUSTER_KEYS)

    def joined(how: Literal["left", "outer"]) -> pd.DataFrame:
        return minutes.merge(gauges, on=CLUSTER_KEYS, how=how).sort_values(CLUSTER_KEYS).reset_index(drop=True)

    bad = pd.concat(census, ignore_index=True) if census else pd.DataFrame(columns=[*KEY_COLUMNS, "column"])
    return ExporterAnswer(joined("left"), joined("outer"), bad)


def fetch_namespace_gauges(client: ThanosClient, account_label: str, accounts: Sequence[str], hours: HourRange,
                           trailing_24h: bool) -> pd.DataFrame:
    """One query per namespace gauge for all ``accounts`` over ``hours``: a frame per (account,
    hour, cluster, currency, namespace) with a column per gauge. Cost gauges come summed over the
    cluster's healthy minutes with a value (etl.costing.exporter_namespaces divides them by the
    cluster's: a namespace absent from a minute costs nothing in it), or as trailing closing values;
    efficiencies averaged over those minutes. Kubecost's ``__*__`` rows are left out."""
    keys = [*KEY_COLUMNS, *NAMESPACE_GROUPING]
    costs, efficiencies = EXPORTER_NAMESPACE_COST_METRICS, EXPORTER_NAMESPACE_EFFICIENCY_METRICS
    if not accounts:  # an empty account matcher would match every account: ask nothing
        return pd.DataFrame(columns=[*keys, *costs, *efficiencies])

    def ask(column: str, metric: str, by: Sequence[str], summed: bool) -> Callable[[], pd.DataFrame]:
        query = exporter_gauge(metric, account_label, accounts, trailing_24h, by, summed, REAL_NAMESPACES)
        return partial(fetch_hourly, client, query, column, hours, account_label, by, metric)

    calls = [ask(column, metric, NAMESPACE_GROUPING, True) for column, metric in costs.items()]
    calls += [ask(column, metric, NAMESPACE_EFFICIENCY_GROUPING, False) for column, metric in efficiencies.items()]
    frames = fetch_concurrently(calls, client.max_concurrent_queries)
    per_namespace = [*KEY_COLUMNS, *NAMESPACE_EFFICIENCY_GROUPING]
    return merge_columns(frames[:len(costs)], keys).merge(merge_columns(frames[len(costs):], per_namespace),
                                                          on=per_namespace, how="left")
