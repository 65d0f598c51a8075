"""Phase 2 fetch: the allocation exporter's gauges -> one wide hourly frame for all accounts."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from functools import partial

import pandas as pd

from etl.model import EXPORTER_HEALTH_COLUMN, KEY_COLUMNS, HourRange
from etl.source.fetch import fetch_hourly, merge_columns
from etl.source.parallel import fetch_concurrently
from etl.source.promql import EXPORTER_HEALTH_METRIC, EXPORTER_METRICS, hourly_average, hourly_last, hourly_minimum
from etl.source.thanos import ThanosClient


def fetch_exporter_gauges(
    client: ThanosClient, account_label: str, accounts: Sequence[str], hours: HourRange, trailing_24h: bool,
    absent: Collection[str] = (),
) -> pd.DataFrame:
    """One query per exporter metric for all ``accounts`` over ``hours``: a wide hourly frame with a
    column per gauge (named after the hourly column it feeds) and EXPORTER_HEALTH_COLUMN.

    ``trailing_24h`` gauges are read as their last value in each hour, hourly ones as the hour's
    average (etl.source.promql). Columns in ``absent`` (optional gauges discovery found no account
    of these publishing) are not asked for: the frame lacks them, as the costing allows.
    """
    build_query = hourly_last if trailing_24h else hourly_average
    queries = {column: build_query(metric, account_label, accounts)
               for column, metric in EXPORTER_METRICS.items() if column not in absent}
    if EXPORTER_HEALTH_COLUMN not in absent:
        queries[EXPORTER_HEALTH_COLUMN] = hourly_minimum(EXPORTER_HEALTH_METRIC, account_label, accounts)
    frames = dict(zip(queries, fetch_concurrently(
        [partial(fetch_hourly, client, query, column, hours, account_label) for column, query in queries.items()],
        client.max_concurrent_queries), strict=True))
    health = frames.pop(EXPORTER_HEALTH_COLUMN, None)
    gauges = merge_columns(list(frames.values()))
    if health is None:
        return gauges
    if health.empty or gauges.empty:
        return gauges
    return gauges.merge(health, on=KEY_COLUMNS, how="left")
