"""Phase 1 fetch: raw OpenCost / cAdvisor metrics -> hourly frames for all accounts.

One query per metric for all accounts per time chunk (like exporter.py); allocations and prices
come back per (account, node or volume) so that etl.costing.raw can join them and spot missing
prices.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from etl.costing.raw import RawMetrics
from etl.model import NODE_LABEL, VOLUME_LABEL, VOLUME_NAME_LABEL, HourRange
from etl.source.fetch import fetch_hourly
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
    hourly_presence_sum,
    hourly_price,
)
from etl.source.thanos import ThanosClient


def fetch_raw_metrics(
    client: ThanosClient, account_label: str, accounts: Sequence[str], hours: HourRange
) -> RawMetrics:
    """One query per raw metric for all ``accounts`` over ``hours`` (see RawMetrics for the frames)."""
    label = account_label

    def fetch(metric: str, query: str, column: str, by: Sequence[str] = ()) -> pd.DataFrame:
        return fetch_hourly(client, query, column, hours, label, by, metric)

    def allocation(metric: str, identity: Sequence[str], by: Sequence[str], extra: str = "") -> str:
        return hourly_presence_sum(metric, label, accounts, identity, by, extra)

    def price(metric: str, by: Sequence[str]) -> str:
        return hourly_price(metric, label, accounts, by)

    node, volume, volume_names = [NODE_LABEL], [VOLUME_LABEL], [VOLUME_LABEL, VOLUME_NAME_LABEL]
    cpu, ram, pvc = CPU_ALLOCATION_METRIC, RAM_ALLOCATION_METRIC, PVC_ALLOCATION_METRIC
    lb, used_cpu, used_ram = LOAD_BALANCER_COST_METRIC, CPU_USAGE_METRIC, RAM_USAGE_METRIC
    return RawMetrics(
        cpu_allocation=fetch(cpu, allocation(cpu, CONTAINER_IDENTITY, node, REAL_CONTAINERS), "cores", node),
        ram_allocation=fetch(ram, allocation(ram, CONTAINER_IDENTITY, node, REAL_CONTAINERS), "bytes", node),
        pvc_allocation=fetch(pvc, allocation(pvc, PVC_IDENTITY, volume), "bytes", volume),
        cpu_price=fetch(CPU_PRICE_METRIC, price(CPU_PRICE_METRIC, node), "price", node),
        ram_price=fetch(RAM_PRICE_METRIC, price(RAM_PRICE_METRIC, node), "price", node),
        pv_price=fetch(PV_PRICE_METRIC, price(PV_PRICE_METRIC, volume_names), "price", volume_names),
        load_balancer=fetch(lb, allocation(lb, LOAD_BALANCER_IDENTITY, ()), "cost"),
        cpu_usage=fetch(used_cpu, hourly_counter_rate(used_cpu, label, accounts, USAGE_IDENTITY, REAL_CONTAINERS),
                        "cores"),
        ram_usage=fetch(used_ram, allocation(used_ram, CONTAINER_IDENTITY, (), REAL_CONTAINERS), "bytes"),
    )
