"""Phase 1 fetch: raw OpenCost / cAdvisor metrics -> hourly frames for all accounts.

One query per metric for all accounts per time chunk (like exporter.py); allocations and prices
come back per (account, node or volume) so that etl.costing.raw can join them and spot missing
prices.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import pandas as pd

from etl.costing.raw import RawMetrics
from etl.model import NODE_LABEL, VOLUME_LABEL, VOLUME_NAME_LABEL, HourRange
from etl.source.fetch import fetch_hourly
from etl.source.parallel import fetch_concurrently
from etl.source.promql import (
    CONTAINER_IDENTITY,
    CPU_ALLOCATION_METRIC,
    CPU_PRICE_METRIC,
    CPU_USAGE_METRIC,
    LOAD_BALANCER_COST_METRIC,
    LOAD_BALANCER_IDENTITY,
    PV_PRICE_METRIC,
    PVC_ALLOCATION_METRIC,
    PVC_IDENTITY,
    RAM_ALLOCATION_METRIC,
    RAM_PRICE_METRIC,
    RAM_USAGE_METRIC,
    REAL_CONTAINERS,
    hourly_average,
    hourly_counter_rate,
    hourly_presence_sum,
)
from etl.source.thanos import ThanosClient


def fetch_raw_metrics(
    client: ThanosClient, account_label: str, accounts: Sequence[str], hours: HourRange
) -> RawMetrics:
    """One query per raw metric for all ``accounts`` over ``hours`` (see RawMetrics for the frames)."""
    label = account_label

    def fetch(query: str, column: str, by: Sequence[str] = ()) -> Callable[[], pd.DataFrame]:
        return partial(fetch_hourly, client, query, column, hours, label, by)

    node, volume, volume_names = [NODE_LABEL], [VOLUME_LABEL], [VOLUME_LABEL, VOLUME_NAME_LABEL]
    calls = dict(
        cpu_allocation=fetch(hourly_presence_sum(CPU_ALLOCATION_METRIC, label, accounts, CONTAINER_IDENTITY, node,
                                                 REAL_CONTAINERS), "cores", node),
        ram_allocation=fetch(hourly_presence_sum(RAM_ALLOCATION_METRIC, label, accounts, CONTAINER_IDENTITY, node,
                                                 REAL_CONTAINERS), "bytes", node),
        pvc_allocation=fetch(hourly_presence_sum(PVC_ALLOCATION_METRIC, label, accounts, PVC_IDENTITY, volume),
                             "bytes", volume),
        cpu_price=fetch(hourly_average(CPU_PRICE_METRIC, label, accounts, node), "price", node),
        ram_price=fetch(hourly_average(RAM_PRICE_METRIC, label, accounts, node), "price", node),
        pv_price=fetch(hourly_average(PV_PRICE_METRIC, label, accounts, volume_names), "price", volume_names),
        load_balancer=fetch(hourly_presence_sum(LOAD_BALANCER_COST_METRIC, label, accounts, LOAD_BALANCER_IDENTITY),
                            "cost"),
        cpu_usage=fetch(hourly_counter_rate(CPU_USAGE_METRIC, label, accounts, REAL_CONTAINERS), "cores"),
        ram_usage=fetch(hourly_presence_sum(RAM_USAGE_METRIC, label, accounts, CONTAINER_IDENTITY, (),
                                            REAL_CONTAINERS), "bytes"),
    )
    frames = fetch_concurrently(list(calls.values()), client.max_concurrent_queries)
    return RawMetrics(**dict(zip(calls, frames, strict=True)))
