"""Phase 1 fetch: raw OpenCost / cAdvisor metrics -> hourly frames for all accounts.

One query per metric for all accounts per time chunk (like exporter.py); allocations come back per
(account, node or volume, namespace), capacity and prices per (account, node or volume), so that
etl.costing.raw can join them and spot missing prices. Presence-weighted metrics (allocations,
capacity, the working set, load balancers) go through etl.source.hold: a probe of their sampling
first, and one more query per hold of sparser series. Presences and prices are asked in their plain
forms (etl.source.plain) for the accounts that one check finds clean.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from functools import partial

import pandas as pd

from etl.costing.raw import RawMetrics
from etl.model import CLUSTER_LABEL, NAMESPACE_LABEL, NODE_LABEL, VOLUME_LABEL, VOLUME_NAME_LABEL, HourRange
from etl.source.fetch import AccountQuery, fetch_hourly
from etl.source.hold import Presence, fetch_presence
from etl.source.metrics import (
    CONTAINER_IDENTITY,
    CPU_ALLOCATION_METRIC,
    CPU_CAPACITY_METRIC,
    CPU_PRICE_METRIC,
    CPU_USAGE_METRIC,
    GPU_ALLOCATION_METRIC,
    GPU_CAPACITY_METRIC,
    GPU_PRICE_METRIC,
    LOAD_BALANCER_COST_METRIC,
    LOAD_BALANCER_IDENTITY,
    MANAGEMENT_COST_METRIC,
    PV_CAPACITY_METRIC,
    PV_PRICE_METRIC,
    PVC_ALLOCATION_METRIC,
    PVC_IDENTITY,
    RAM_ALLOCATION_METRIC,
    RAM_CAPACITY_METRIC,
    RAM_PRICE_METRIC,
    RAM_USAGE_METRIC,
    REAL_CONTAINERS,
    USAGE_IDENTITY,
)
from etl.source.parallel import fetch_concurrently
from etl.source.plain import Checked, clean_accounts, fetch_in_forms, gauge_plain
from etl.source.promql import hourly_counter_rate, hourly_price
from etl.source.thanos import ThanosClient

# The presence-weighted metrics (etl.source.hold): each costs a probe of its sampling, one query,
# and one more per hold of the account-hours sampled less often than the lookback. Allocations and
# usage per namespace (and node or volume), capacity per node or volume.
ON_NODE, ON_VOLUME, IN_NAMESPACE = (NODE_LABEL, NAMESPACE_LABEL), (VOLUME_LABEL, NAMESPACE_LABEL), (NAMESPACE_LABEL,)
CPU_ALLOCATION = Presence(CPU_ALLOCATION_METRIC, CONTAINER_IDENTITY, ON_NODE, REAL_CONTAINERS)
RAM_ALLOCATION = Presence(RAM_ALLOCATION_METRIC, CONTAINER_IDENTITY, ON_NODE, REAL_CONTAINERS)
GPU_ALLOCATION = Presence(GPU_ALLOCATION_METRIC, CONTAINER_IDENTITY, ON_NODE, REAL_CONTAINERS)
PVC_ALLOCATION = Presence(PVC_ALLOCATION_METRIC, PVC_IDENTITY, ON_VOLUME)
LOAD_BALANCERS = Presence(LOAD_BALANCER_COST_METRIC, LOAD_BALANCER_IDENTITY, IN_NAMESPACE)
WORKING_SET = Presence(RAM_USAGE_METRIC, CONTAINER_IDENTITY, IN_NAMESPACE, REAL_CONTAINERS)
CPU_CAPACITY = Presence(CPU_CAPACITY_METRIC, (NODE_LABEL,), (NODE_LABEL,))
RAM_CAPACITY = Presence(RAM_CAPACITY_METRIC, (NODE_LABEL,), (NODE_LABEL,))
GPU_CAPACITY = Presence(GPU_CAPACITY_METRIC, (NODE_LABEL,), (NODE_LABEL,))
PV_CAPACITY = Presence(PV_CAPACITY_METRIC, (VOLUME_LABEL,), (VOLUME_LABEL,))
# RawMetrics' frame -> its presence-weighted metric
PRESENCES = dict(cpu_allocation=CPU_ALLOCATION, ram_allocation=RAM_ALLOCATION, gpu_allocation=GPU_ALLOCATION,
                 pvc_allocation=PVC_ALLOCATION, load_balancer=LOAD_BALANCERS, ram_usage=WORKING_SET,
                 cpu_capacity=CPU_CAPACITY, ram_capacity=RAM_CAPACITY, gpu_capacity=GPU_CAPACITY,
                 pv_capacity=PV_CAPACITY)


@dataclass(frozen=True)
class Price:
    """A price (or fee) metric, averaged per account and ``by`` labels (etl.source.promql.hourly_price)."""

    metric: str
    by: tuple[str, ...]
    column: str = "price"

    @property
    def checked(self) -> Checked:
        """What etl.source.plain checks before the plain form: one series per ``by``, all positive."""
        return Checked(self.metric, self.by, positive=True)


NODE, VOLUME_NAMES = (NODE_LABEL,), (VOLUME_LABEL, VOLUME_NAME_LABEL)
# RawMetrics' frame -> its price
PRICES = dict(cpu_price=Price(CPU_PRICE_METRIC, NODE), ram_price=Price(RAM_PRICE_METRIC, NODE),
              pv_price=Price(PV_PRICE_METRIC, VOLUME_NAMES), gpu_price=Price(GPU_PRICE_METRIC, NODE),
              management=Price(MANAGEMENT_COST_METRIC, (CLUSTER_LABEL,), "cost"))


def fetch_raw_metrics(
    client: ThanosClient, account_label: str, accounts: Sequence[str], hours: HourRange, absent: Collection[str] = ()
) -> RawMetrics:
    """One query per raw metric for all ``accounts`` over ``hours`` (see RawMetrics for the frames);
    the optional frames named in ``absent`` (no account of these publishes them) are not asked."""
    label = account_label
    if not accounts:
        # An empty account matcher would match every account: ask for no hour, and every fetch
        # answers its empty frame without a request.
        hours = HourRange(hours.start, hours.start)

    # Which accounts each presence-weighted metric and price may be asked plainly for
    # (etl.source.plain): one check.
    checked = {name: presence.checked for name, presence in PRESENCES.items() if name not in absent}
    checked |= {name: price.checked for name, price in PRICES.items() if name not in absent}
    clean = clean_accounts(client, checked, label, accounts, hours, health=False) if accounts and checked else {}

    def present(name: str, column: str) -> Callable[[], pd.DataFrame]:
        return partial(fetch_presence, client, PRESENCES[name], column, hours, label, accounts, clean.get(name, ()))

    def price(name: str) -> Callable[[], pd.DataFrame]:
        metric, by = PRICES[name].metric, PRICES[name].by
        return partial(fetch_in_forms, client, accounts, clean.get(name, ()),
                       lambda some: gauge_plain(metric, label, some),
                       lambda some: hourly_price(metric, label, some, by), PRICES[name].column, hours, label, by,
                       metric)

    used_cpu = CPU_USAGE_METRIC

    def used_rate(some: Sequence[str]) -> str:
        return hourly_counter_rate(used_cpu, label, some, USAGE_IDENTITY, REAL_CONTAINERS, IN_NAMESPACE)

    calls: dict[str, Callable[[], pd.DataFrame]] = dict(
        cpu_allocation=present("cpu_allocation", "cores"),
        ram_allocation=present("ram_allocation", "bytes"),
        pvc_allocation=present("pvc_allocation", "bytes"),
        cpu_price=price("cpu_price"),
        ram_price=price("ram_price"),
        pv_price=price("pv_price"),
        load_balancer=present("load_balancer", "cost"),
        cpu_usage=partial(fetch_hourly, client, AccountQuery.of(used_rate, accounts), "cores", hours, label,
                          IN_NAMESPACE, used_cpu),
        ram_usage=present("ram_usage", "bytes"),
        gpu_allocation=present("gpu_allocation", "gpus"),
        gpu_price=price("gpu_price"),
        cpu_capacity=present("cpu_capacity", "cores"),
        ram_capacity=present("ram_capacity", "bytes"),
        gpu_capacity=present("gpu_capacity", "gpus"),
        pv_capacity=present("pv_capacity", "bytes"),
        management=price("management"),
    )
    asked = {name: call for name, call in calls.items() if name not in absent}
    frames = fetch_concurrently(list(asked.values()), client.max_concurrent_queries)
    return RawMetrics(**dict(zip(asked, frames, strict=True)))
