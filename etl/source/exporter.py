"""Phase 2 fetch: the allocation exporter's gauges -> one hourly frame per cluster for all accounts."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from etl.model import HEALTHY_MINUTES_COLUMN, KEY_COLUMNS, UNHEALTHY_MINUTES_COLUMN, HourRange
from etl.source.fetch import fetch_hourly, merge_columns
from etl.source.promql import (
    EXPORTER_GROUPING,
    EXPORTER_METRICS,
    EXPORTER_PRESENCE_METRIC,
    MINUTES_LABEL,
    exporter_coverage,
    exporter_gauge,
)
from etl.source.thanos import ThanosClient

CLUSTER_KEYS = [*KEY_COLUMNS, *EXPORTER_GROUPING]
MINUTE_COLUMNS = {"healthy": HEALTHY_MINUTES_COLUMN, "unhealthy": UNHEALTHY_MINUTES_COLUMN}


def fetch_exporter_gauges(
    client: ThanosClient, account_label: str, accounts: Sequence[str], hours: HourRange, trailing_24h: bool
) -> pd.DataFrame:
    """One query per exporter metric for all ``accounts`` over ``hours``, and one for the exporter's
    coverage: a frame per (account, hour, cluster, currency) with a column per gauge (named after
    the hourly column it feeds; NaN = no healthy value that hour) and the healthy and unhealthy
    minutes (HEALTHY_MINUTES_COLUMN, UNHEALTHY_MINUTES_COLUMN; 0 = none, and a cluster-hour
    without a real sample of the presence gauge has no row). See etl.source.promql for the windows.
    """
    frames = [
        fetch_hourly(client, exporter_gauge(metric, account_label, accounts, trailing_24h), column, hours,
                     account_label, EXPORTER_GROUPING, metric)
        for column, metric in EXPORTER_METRICS.items()
    ]
    coverage = fetch_hourly(client, exporter_coverage(account_label, accounts), "minutes", hours, account_label,
                            [*EXPORTER_GROUPING, MINUTES_LABEL], EXPORTER_PRESENCE_METRIC)
    minutes = (coverage.pivot_table(index=CLUSTER_KEYS, columns=MINUTES_LABEL, values="minutes", aggfunc="sum")
               .reindex(columns=list(MINUTE_COLUMNS)).fillna(0).astype("int64").rename(columns=MINUTE_COLUMNS)
               .reset_index())
    gauges = merge_columns(frames, CLUSTER_KEYS)
    return minutes.merge(gauges, on=CLUSTER_KEYS, how="left").sort_values(CLUSTER_KEYS).reset_index(drop=True)
