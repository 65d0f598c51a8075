"""Phase 1 fetch: raw OpenCost / cAdvisor metrics -> hourly frames for all accounts.

One query per metric for all accounts per time chunk (like exporter.py); allocations and prices
come back per (account, node or volume) so that etl.costing.raw can join them and spot missing
prices. Presence-weighted metrics (allocations, the working set, load balancers) go through
etl.source.hold: a probe of their sampling first, and one more query per hold of sparser series.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import pandas as pd

from etl.costing.raw import RawMetrics
from etl.model import NODE_LABEL, VOLUME_LABEL, VOLUME_NAME_LABEL, HourRange
from etl.source.fetch import AccountQuery, fetch_hourly
from etl.source.hold import Presence, fetch_presence
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
    USAGE_IDENTITY,
    hourly_counter_rate,
    hourly_price,
)
from etl.source.thanos import ThanosClient

# The presence-weighted metrics (etl.source.hold): each costs a probe of its sampling, one query,
# and one more per hold of the account-hours sampled less often than the lookback.
CPU_ALLOCATION = Presence(CPU_ALLOCATION_METRIC, CONTAINER_IDENTITY, (NODE_LABEL,), REAL_CONTAINERS)
RAM_ALLOCATION = Presence(RAM_ALLOCATION_METRIC, CONTAINER_IDENTITY, (NODE_LABEL,), REAL_CONTAINERS)
PVC_ALLOCATION = Presence(PVC_ALLOCATION_METRIC, PVC_IDENTITY, (VOLUME_LABEL,))
LOAD_BALANCERS = Presence(LOAD_BALANCER_COST_METRIC, LOAD_BALANCER_IDENTITY)
WORKING_SET = Presence(RAM_USAGE_METRIC, CONTAINER_IDENTITY, (), REAL_CONTAINERS)
PRESENCE_WEIGHTED = (CPU_ALLOCATION, RAM_ALLOCATION, PVC_ALLOCATION, LOAD_BALANCERS, WORKING_SET)


def fetch_raw_metrics(
    client: ThanosClient, account_label: str, accounts: Sequence[str], hours: HourRange
) -> RawMetrics:
    """One query per raw metric for all ``accounts`` over ``hours`` (see RawMetrics for the frames)."""
    label = account_label
    if not accounts:
        # An empty account matcher would match every account: ask for no hour, and every fetch
        # answers its empty frame without a request.
        hours = HourRange(hours.start, hours.start)

    def fetch(metric: str, query: Callable[[Sequence[str]], str], column: str,
              by: Sequence[str] = ()) -> Callable[[], pd.DataFrame]:
        return partial(fetch_hourly, client, AccountQuery.of(query, accounts), column, hours, label, by, metric)

    def present(presence: Presence, column: str) -> Callable[[], pd.DataFrame]:
        return partial(fetch_presence, client, presence, column, hours, label, accounts)

    def price(metric: str, by: Sequence[str]) -> Callable[[], pd.DataFrame]:
        return fetch(metric, lambda some: hourly_price(metric, label, some, by), "price", by)

    node, volume_names = [NODE_LABEL], [VOLUME_LABEL, VOLUME_NAME_LABEL]
    used_cpu = CPU_USAGE_METRIC
    calls = dict(
        cpu_allocation=present(CPU_ALLOCATION, "cores"),
        ram_allocation=present(RAM_ALLOCATION, "bytes"),
        pvc_allocation=present(PVC_ALLOCATION, "bytes"),
        cpu_price=price(CPU_PRICE_METRIC, node),
        ram_price=price(RAM_PRICE_METRIC, node),
        pv_price=price(PV_PRICE_METRIC, volume_names),
        load_balancer=present(LOAD_BALANCERS, "cost"),
        cpu_usage=fetch(used_cpu, lambda some: hourly_counter_rate(used_cpu, label, some, USAGE_IDENTITY,
                                                                   REAL_CONTAINERS), "cores"),
        ram_usage=present(WORKING_SET, "bytes"),
    )
    frames = fetch_concurrently(list(calls.values()), client.max_concurrent_queries)
    return RawMetrics(**dict(zip(calls, frames, strict=True)))
