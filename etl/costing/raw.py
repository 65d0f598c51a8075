"""Pure Phase 1 math: raw allocation and price frames -> hourly cost rows. No I/O.

Per account and UTC hour (see docs/phase1.md):

- CPU cost = sum over nodes of (mean allocated cores on the node in the hour x that node's price
  per core-hour); RAM likewise in GiB (2^30 bytes) with the node's GiB-hour price; PV cost = sum
  over volumes of (mean allocated GiB x that volume's GiB-hour price). Prices are joined on
  (account, hour, node or volume), so one account's prices never apply to another's resources.
- A node or volume with allocations but no usable price (no series, 0, negative or NaN) that hour
  is priced at the configured default, and the row records it (``default_priced_hours`` = 1,
  ``default_priced_resources`` names it). An hour with allocations is never costed at $0.
- Efficiency (percent): CPU = used cores / allocated cores, RAM = used bytes / allocated bytes,
  total = (cpu_eff x cpu_cost + ram_eff x ram_cost) / (cpu_cost + ram_cost). Without usage data
  (or without allocations) an efficiency is NULL, never 0.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields, replace
from decimal import Decimal

import pandas as pd

from etl.costing.efficiency import total_efficiency
from etl.costing.guard import bounded_efficiencies, check_dollars
from etl.model import (
    CLUSTERS_COLUMN,
    COMPONENT_COLUMNS,
    CURRENCY_COLUMN,
    DEFAULT_CURRENCY,
    EFFICIENCY_DECIMALS,
    EXPORTER_STALE_COLUMN,
    EXPORTER_ZERO_COLUMN,
    GIB,
    HOURLY_COLUMNS,
    KEY_COLUMNS,
    NETWORK_SPLIT_COLUMNS,
    NODE_LABEL,
    PHASE_RAW,
    RESOURCE_LIST_SEPARATOR,
    VOLUME_LABEL,
    VOLUME_NAME_LABEL,
    HourRange,
    hour_label,
    to_nano,
)

log = logging.getLogger(__name__)

UNITS = {"cpu": "core-hour", "ram": "GiB-hour", "storage": "GiB-hour"}
DEFAULTED_COLUMNS = [*KEY_COLUMNS, "resource", "kind", "name", "default_price"]


@dataclass(frozen=True)
class DefaultPrices:
    cpu: float  # USD per core-hour
    ram: float  # USD per GiB-hour
    storage: float  # USD per GiB-hour


@dataclass(frozen=True)
class RawMetrics:
    """Hourly frames for all accounts, as fetched (KEY_COLUMNS + key label + one value column).

    cpu_allocation: node, cores          cpu_price: node, price ($/core-hour)
    ram_allocation: node, bytes          ram_price: node, price ($/GiB-hour)
    pvc_allocation: persistentvolume, bytes
    pv_price: persistentvolume, volumename, price ($/GiB-hour)
    load_balancer: cost ($ in the hour)  cpu_usage: cores (mean used)   ram_usage: bytes (mean used)
    """

    cpu_allocation: pd.DataFrame
    ram_allocation: pd.DataFrame
    pvc_allocation: pd.DataFrame
    cpu_price: pd.DataFrame
    ram_price: pd.DataFrame
    pv_price: pd.DataFrame
    load_balancer: pd.DataFrame
    cpu_usage: pd.DataFrame
    ram_usage: pd.DataFrame


@dataclass(frozen=True)
class RawCosts:
    rows: pd.DataFrame  # HOURLY_COLUMNS, source_phase "raw"
    defaulted: pd.DataFrame  # DEFAULTED_COLUMNS: each (account, hour, resource) priced by default


def volume_prices(pv_price: pd.DataFrame) -> pd.DataFrame:
    """Price per (account, hour, persistentvolume): the volume is named by ``persistentvolume``,
    or by ``volumename`` where a series lacks it; copies of one volume's price are averaged."""
    frame = pv_price.copy()
    named = frame[VOLUME_LABEL].astype(str)
    frame[VOLUME_LABEL] = named.where(named != "", frame[VOLUME_NAME_LABEL].astype(str))
    return frame.groupby([*KEY_COLUMNS, VOLUME_LABEL])["price"].mean().reset_index()


def _priced(
    allocation: pd.DataFrame,
    prices: pd.DataFrame,
    key: str,
    amount: str,
    unit: float,
    default_price: float,
    resource: str,
    kind: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cost in USD per (account, hour) of ``allocation`` (amount / unit x price of its key), and
    the allocations priced by default."""
    alloc = allocation.groupby([*KEY_COLUMNS, key])[amount].sum().reset_index()
    joined = alloc.merge(prices[[*KEY_COLUMNS, key, "price"]], on=[*KEY_COLUMNS, key], how="left")
    usable = joined["price"].notna() & (joined["price"] > 0)
    joined["price_used"] = joined["price"].where(usable, default_price)
    joined["cost"] = joined[amount] / unit * joined["price_used"]
    per_hour = joined.groupby(KEY_COLUMNS, as_index=False)[["cost", amount]].sum()
    # A zero allocation costs nothing at any price: only real allocations need a price.
    defaulted = joined[~usable & (joined[amount] > 0)][[*KEY_COLUMNS, key]].rename(columns={key: "name"})
    defaulted = defaulted.assign(resource=resource, kind=kind, default_price=default_price)
    return per_hour, defaulted[DEFAULTED_COLUMNS]


def _hourly_sum(frame: pd.DataFrame, value: str, name: str) -> pd.DataFrame:
    return frame.groupby(KEY_COLUMNS)[value].sum().rename(name).reset_index()


def _efficiency(used: pd.Series, allocated: pd.Series) -> pd.Series:
    """Percent used of allocated; NaN (stored NULL) without usage data or without allocation."""
    allocated = allocated.astype("float64")
    return 100.0 * used.astype("float64") / allocated.where(allocated > 0)


def _resource_names(defaulted: pd.DataFrame) -> pd.DataFrame:
    labels = defaulted["resource"] + ":" + defaulted["kind"] + "/" + defaulted["name"].replace("", "(none)")
    named = defaulted[KEY_COLUMNS].assign(label=labels)
    return (
        named.groupby(KEY_COLUMNS)["label"]
        .agg(lambda values: RESOURCE_LIST_SEPARATOR.join(sorted(set(values))))
        .rename("default_priced_resources")
        .reset_index()
    )


def _with_typed_hours(metrics: RawMetrics) -> RawMetrics:
    """An empty answer has an untyped ``hour_start``; give every frame the same one so joins work."""
    typed = {}
    for item in fields(metrics):
        frame = getattr(metrics, item.name)
        typed[item.name] = frame.assign(hour_start=pd.to_datetime(frame["hour_start"], utc=True))
    return replace(metrics, **typed)


# What each Phase 1 figure is made of, for messages about it.
FIGURES = {
    "cpu_dollars": "Phase 1 cpu_cost (container_cpu_allocation x node_cpu_hourly_cost)",
    "ram_dollars": "Phase 1 ram_cost (container_memory_allocation_bytes x node_ram_hourly_cost)",
    "pv_dollars": "Phase 1 pv_cost (pod_pvc_allocation x pv_hourly_cost)",
    "lb_dollars": "Phase 1 load_balancer_cost (kubecost_load_balancer_cost)",
    "cpu_efficiency": "Phase 1 cpu_efficiency (container_cpu_usage_seconds_total / container_cpu_allocation)",
    "ram_efficiency": "Phase 1 ram_efficiency (container_memory_working_set_bytes / container_memory_allocation_bytes)",
}


def raw_hourly_costs(metrics: RawMetrics, defaults: DefaultPrices, currency: str = DEFAULT_CURRENCY) -> RawCosts:
    """Hourly Phase 1 rows for every account-hour with any CPU, RAM or PVC allocation, in
    ``currency`` (the currency of the prices and defaults)."""
    metrics = _with_typed_hours(metrics)
    cpu, cpu_defaulted = _priced(metrics.cpu_allocation, metrics.cpu_price, NODE_LABEL, "cores", 1.0,
                                 defaults.cpu, "cpu", "node")
    ram, ram_defaulted = _priced(metrics.ram_allocation, metrics.ram_price, NODE_LABEL, "bytes", GIB,
                                 defaults.ram, "ram", "node")
    pv, pv_defaulted = _priced(metrics.pvc_allocation, volume_prices(metrics.pv_price), VOLUME_LABEL, "bytes",
                               GIB, defaults.storage, "storage", "pv")
    defaulted = pd.concat([cpu_defaulted, ram_defaulted, pv_defaulted], ignore_index=True)
    hours = pd.concat([cpu[KEY_COLUMNS], ram[KEY_COLUMNS], pv[KEY_COLUMNS]]).drop_duplicates()
    if hours.empty:
        return RawCosts(pd.DataFrame(columns=HOURLY_COLUMNS), defaulted)
    frame = (
        hours.merge(cpu.rename(columns={"cost": "cpu_dollars", "cores": "cpu_allocated"}), on=KEY_COLUMNS, how="left")
        .merge(ram.rename(columns={"cost": "ram_dollars", "bytes": "ram_allocated"}), on=KEY_COLUMNS, how="left")
        .merge(pv.rename(columns={"cost": "pv_dollars", "bytes": "pv_allocated"}), on=KEY_COLUMNS, how="left")
        .merge(_hourly_sum(metrics.load_balancer, "cost", "lb_dollars"), on=KEY_COLUMNS, how="left")
        .merge(_hourly_sum(metrics.cpu_usage, "cores", "cpu_used"), on=KEY_COLUMNS, how="left")
        .merge(_hourly_sum(metrics.ram_usage, "bytes", "ram_used"), on=KEY_COLUMNS, how="left")
        .merge(_resource_names(defaulted), on=KEY_COLUMNS, how="left")
    )
    check_dollars(frame, list(FIGURES)[:4], FIGURES)
    rows = frame[KEY_COLUMNS].copy()
    # Each hour's component is rounded to nano-dollars once; days are exact sums of stored hours.
    rows["cpu_cost"] = to_nano(frame["cpu_dollars"])
    rows["ram_cost"] = to_nano(frame["ram_dollars"])
    rows["pv_cost"] = to_nano(frame["pv_dollars"])
    rows["network_cost"] = 0  # no raw source for network cost
    rows["load_balancer_cost"] = to_nano(frame["lb_dollars"])
    rows["total_cost"] = rows[COMPONENT_COLUMNS].sum(axis=1).astype("int64")
    rows["management_cost"] = 0
    for column in NETWORK_SPLIT_COLUMNS:
        rows[column] = 0
    efficiencies = {
        "cpu_efficiency": _efficiency(frame["cpu_used"], frame["cpu_allocated"]),
        "ram_efficiency": _efficiency(frame["ram_used"], frame["ram_allocated"]),
    }
    # Unknown CPU or RAM efficiency leaves the total unknown (NaN propagates): never a partial guess.
    efficiencies["total_efficiency"] = total_efficiency(efficiencies, {"cpu_cost": rows["cpu_cost"],
                                                                       "ram_cost": rows["ram_cost"]})
    for column, values in efficiencies.items():
        rows[column] = values.round(EFFICIENCY_DECIMALS)
    rows = bounded_efficiencies(rows, FIGURES)
    resources = frame["default_priced_resources"]
    rows["default_priced_resources"] = resources.where(resources.notna(), None)
    rows["default_priced_hours"] = resources.notna().astype("int64")
    rows[EXPORTER_ZERO_COLUMN] = rows[EXPORTER_STALE_COLUMN] = 0
    rows[CURRENCY_COLUMN] = currency
    rows[CLUSTERS_COLUMN] = None
    rows["source_phase"] = PHASE_RAW
    return RawCosts(rows.sort_values(KEY_COLUMNS).reset_index(drop=True)[HOURLY_COLUMNS], defaulted)


def _plain(price: float) -> str:
    """A price in plain decimal notation (0.00005479452, not 5.479452e-05)."""
    return format(Decimal(repr(price)), "f")


def log_default_prices(defaulted: pd.DataFrame, hours: HourRange) -> None:
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
