"""Phase 1 extraction: raw OpenCost / cAdvisor metrics -> one hourly frame for all accounts.

One query per metric for all accounts per time chunk (like exporter.py); allocations and prices
come back per (account, node or volume) so that rawcosts.py can join them and spot missing prices.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from decimal import Decimal

import pandas as pd

from etl.config import Settings
from etl.costs import hour_label
from etl.extract import HourRange, fetch_hourly
from etl.queries import (
    CONTAINER_IDENTITY,
    CPU_ALLOCATION_METRIC,
    CPU_PRICE_METRIC,
    CPU_USAGE_METRIC,
    LOAD_BALANCER_COST_METRIC,
    LOAD_BALANCER_IDENTITY,
    NODE_LABEL,
    PV_PRICE_METRIC,
    PVC_ALLOCATION_METRIC,
    PVC_IDENTITY,
    RAM_ALLOCATION_METRIC,
    RAM_PRICE_METRIC,
    RAM_USAGE_METRIC,
    REAL_CONTAINERS,
    VOLUME_LABEL,
    VOLUME_NAME_LABEL,
    hourly_average,
    hourly_counter_rate,
    hourly_presence_sum,
)
from etl.rawcosts import NODE_KEY, VOLUME_KEY, VOLUME_NAME_KEY, DefaultPrices, RawMetrics, raw_hourly_costs
from etl.thanos import ThanosClient

log = logging.getLogger(__name__)

UNITS = {"cpu": "core-hour", "ram": "GiB-hour", "storage": "GiB-hour"}


def fetch_raw_metrics(
    client: ThanosClient, settings: Settings, accounts: Sequence[str], hours: HourRange
) -> RawMetrics:
    label = settings.account_label

    def fetch(query: str, column: str, labels: Sequence[str] = (), names: Sequence[str] = ()) -> pd.DataFrame:
        frame = fetch_hourly(client, query, column, hours, label, labels)
        return frame.rename(columns=dict(zip(labels, names, strict=True)))

    node, volume = [NODE_LABEL], [VOLUME_LABEL]
    return RawMetrics(
        cpu_allocation=fetch(hourly_presence_sum(CPU_ALLOCATION_METRIC, label, accounts, CONTAINER_IDENTITY, node,
                                                 REAL_CONTAINERS), "cores", node, [NODE_KEY]),
        ram_allocation=fetch(hourly_presence_sum(RAM_ALLOCATION_METRIC, label, accounts, CONTAINER_IDENTITY, node,
                                                 REAL_CONTAINERS), "bytes", node, [NODE_KEY]),
        pvc_allocation=fetch(hourly_presence_sum(PVC_ALLOCATION_METRIC, label, accounts, PVC_IDENTITY, volume),
                             "bytes", volume, [VOLUME_KEY]),
        cpu_price=fetch(hourly_average(CPU_PRICE_METRIC, label, accounts, node), "price", node, [NODE_KEY]),
        ram_price=fetch(hourly_average(RAM_PRICE_METRIC, label, accounts, node), "price", node, [NODE_KEY]),
        pv_price=fetch(hourly_average(PV_PRICE_METRIC, label, accounts, [VOLUME_LABEL, VOLUME_NAME_LABEL]),
                       "price", [VOLUME_LABEL, VOLUME_NAME_LABEL], [VOLUME_KEY, VOLUME_NAME_KEY]),
        load_balancer=fetch(hourly_presence_sum(LOAD_BALANCER_COST_METRIC, label, accounts, LOAD_BALANCER_IDENTITY),
                            "cost"),
        cpu_usage=fetch(hourly_counter_rate(CPU_USAGE_METRIC, label, accounts, REAL_CONTAINERS), "cores"),
        ram_usage=fetch(hourly_presence_sum(RAM_USAGE_METRIC, label, accounts, CONTAINER_IDENTITY, (),
                                            REAL_CONTAINERS), "bytes"),
    )


def _plain(price: float) -> str:
    """A price in plain decimal notation (0.00005479452, not 5.479452e-05)."""
    return format(Decimal(repr(price)), "f")


def _warn_default_prices(defaulted: pd.DataFrame, hours: HourRange) -> None:
    """One warning per account and resource priced by default in ``hours`` (not one per hour)."""
    if defaulted.empty:
        return
    groups = defaulted.groupby(["cloud_account_id", "resource", "kind", "name"], sort=True)
    for (account, resource, kind, name), group in groups:
        log.warning(
            "No %s price for %s %s of account %s in %d hour(s) of %s (first %s): priced at the default "
            "%s USD per %s in Phase 1", resource, kind, name or "(none)", account, len(group), hours,
            hour_label(group["hour_start"].min()), _plain(float(group["default_price"].iloc[0])),
            UNITS[str(resource)],
        )


def raw_hourly_rows(
    client: ThanosClient, settings: Settings, accounts: Sequence[str], hours: HourRange
) -> pd.DataFrame:
    """Phase 1 hourly cost rows (see rawcosts.raw_hourly_costs) for every account with allocations."""
    metrics = fetch_raw_metrics(client, settings, accounts, hours)
    pricing = settings.pricing
    costs = raw_hourly_costs(
        metrics, DefaultPrices(pricing.default_cpu_price, pricing.default_ram_price, pricing.default_storage_price)
    )
    _warn_default_prices(costs.defaulted, hours)
    return costs.rows
