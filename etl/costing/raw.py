"""Pure Phase 1 math: raw allocation, capacity and price frames -> hourly cost rows of each account
and of each of its namespaces. No I/O.

Per account and UTC hour (see docs/phase1.md):

- A namespace's CPU cost = sum over nodes of (its mean allocated cores on the node in the hour x
  that node's price per core-hour); RAM likewise in GiB (2^30 bytes), GPUs per GPU, PV per claimed
  GiB of each volume; its load balancers' cost. Prices are joined on (account, hour, node or
  volume), so one account's prices never apply to another's resources (etl.costing.prices).
- The account's CPU, RAM, GPU and PV costs are what its capacity costs (node capacity, node GPUs,
  volume capacity, each x the same prices) when the account-hour has node capacity metrics; the
  excess over its namespaces is its idle (etl.costing.namespaces). Without them, the account costs
  what its namespaces were allocated, and its idle is unknown (flagged). Management = OpenCost's
  cluster management cost when published; load balancers = the namespaces'.
- A node or volume with an amount but no usable price (no series, 0, negative or NaN) that hour
  is priced at the configured default, and the row records it (``default_priced_hours`` = 1,
  ``default_priced_resources`` names it). An hour with allocations is never costed at $0.
- Efficiency (percent), the used share of the row's cost: a namespace's CPU = used cores /
  allocated cores; the account's used cores / capacity cores (allocated cores without capacity);
  RAM likewise; total = (cpu_eff x cpu_cost + ram_eff x ram_cost) / (cpu_cost + ram_cost). Without
  usage data (or without an amount) an efficiency is NULL, never 0.
- An account-hour has rows only when it has allocations (CPU, RAM, GPU or PVC); capacity, prices or
  load balancers alone make none. Namespace figures are rounded so that they add up to the account's
  allocated figure exactly (etl.costing.apportion.round_to_sum).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, fields, replace
from functools import partial

import numpy as np
import pandas as pd

from etl.costing.apportion import round_to_sum
from etl.costing.efficiency import total_efficiency
from etl.costing.guard import bounded_efficiencies, check_dollars
from etl.costing.prices import (
    CPU,
    DEFAULTED_COLUMNS,
    GPU,
    RAM,
    RESOURCES,
    STORAGE,
    Priced,
    Resource,
    price_resource,
    resource_names,
    volume_prices,
)
from etl.model import (
    ACCOUNT_COLUMN,
    CLUSTERS_COLUMN,
    COMPONENT_COLUMNS,
    COUNTED_FLAG_COLUMNS,
    CURRENCY_COLUMN,
    DEFAULT_CURRENCY,
    EFFICIENCY_DECIMALS,
    HOURLY_COLUMNS,
    IDLE_COLUMN,
    IDLE_UNKNOWN_COLUMN,
    KEY_COLUMNS,
    NAMESPACE_HOURLY_COLUMNS,
    NAMESPACE_KEY_COLUMNS,
    NAMESPACE_LABEL,
    NANO,
    NETWORK_SPLIT_COLUMNS,
    PHASE_RAW,
    UNALLOCATED_NAMESPACE,
    to_nano,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DefaultPrices:
    cpu: float  # USD per core-hour
    ram: float  # USD per GiB-hour
    storage: float  # USD per GiB-hour
    gpu: float = 0.95  # USD per GPU-hour (OpenCost's default)


def _empty(*columns: str) -> pd.DataFrame:
    return pd.DataFrame(columns=[*KEY_COLUMNS, *columns])


@dataclass(frozen=True)
class RawMetrics:
    """Hourly frames for all accounts, as fetched (KEY_COLUMNS + key labels + one value column).

    cpu_allocation: node, namespace, cores     cpu_price: node, price ($/core-hour)
    ram_allocation: node, namespace, bytes     ram_price: node, price ($/GiB-hour)
    pvc_allocation: persistentvolume, namespace, bytes
    pv_price: persistentvolume, volumename, price ($/GiB-hour)
    load_balancer: namespace, cost ($ in the hour)
    cpu_usage: namespace, cores (mean used)    ram_usage: namespace, bytes (mean used)
    Optional (absent: empty): gpu_allocation: node, namespace, gpus; gpu_price: node, price
    ($/GPU-hour); cpu_capacity: node, cores; ram_capacity: node, bytes; gpu_capacity: node, gpus;
    pv_capacity: persistentvolume, bytes; management: cluster, cost ($ in the hour).
    A frame without a namespace column counts as unlabelled (UNALLOCATED_NAMESPACE).
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
    gpu_allocation: pd.DataFrame = field(default_factory=partial(_empty, "node", NAMESPACE_LABEL, "gpus"))
    gpu_price: pd.DataFrame = field(default_factory=partial(_empty, "node", "price"))
    cpu_capacity: pd.DataFrame = field(default_factory=partial(_empty, "node", "cores"))
    ram_capacity: pd.DataFrame = field(default_factory=partial(_empty, "node", "bytes"))
    gpu_capacity: pd.DataFrame = field(default_factory=partial(_empty, "node", "gpus"))
    pv_capacity: pd.DataFrame = field(default_factory=partial(_empty, "persistentvolume", "bytes"))
    management: pd.DataFrame = field(default_factory=partial(_empty, "cluster", "cost"))


@dataclass(frozen=True)
class RawCosts:
    rows: pd.DataFrame  # HOURLY_COLUMNS, source_phase "raw"
    namespaces: pd.DataFrame  # NAMESPACE_HOURLY_COLUMNS of the same account-hours
    defaulted: pd.DataFrame  # DEFAULTED_COLUMNS: each (account, hour, resource) priced by default


def _priced(metrics: RawMetrics, defaults: DefaultPrices) -> dict[Resource, Priced]:
    """Every resource's allocations and capacity priced (RESOURCES order)."""
    inputs = {
        CPU: (metrics.cpu_allocation, metrics.cpu_capacity, metrics.cpu_price, defaults.cpu),
        RAM: (metrics.ram_allocation, metrics.ram_capacity, metrics.ram_price, defaults.ram),
        GPU: (metrics.gpu_allocation, metrics.gpu_capacity, metrics.gpu_price, defaults.gpu),
        STORAGE: (metrics.pvc_allocation, metrics.pv_capacity, volume_prices(metrics.pv_price), defaults.storage),
    }
    return {resource: price_resource(resource, *inputs[resource]) for resource in RESOURCES}


def _typed(metrics: RawMetrics) -> RawMetrics:
    """Every frame with one ``hour_start`` type (an empty answer has an untyped one) so joins work,
    and a namespace label ("" = none) where its figures belong to namespaces."""
    typed = {}
    for item in fields(metrics):
        frame = getattr(metrics, item.name)
        frame = frame.assign(hour_start=pd.to_datetime(frame["hour_start"], utc=True))
        if item.name.endswith(("allocation", "usage")) or item.name == "load_balancer":
            names = frame[NAMESPACE_LABEL] if NAMESPACE_LABEL in frame else pd.Series("", index=frame.index)
            frame = frame.assign(**{NAMESPACE_LABEL: names.astype(str).replace("", UNALLOCATED_NAMESPACE)})
        typed[item.name] = frame
    return replace(metrics, **typed)


def _efficiency(used: pd.Series, amount: pd.Series) -> pd.Series:
    """Percent used of ``amount``; NaN (stored NULL) without usage data or without an amount."""
    amount = amount.astype("float64")
    return 100.0 * used.astype("float64") / amount.where(amount > 0)


def _with_efficiencies(rows: pd.DataFrame, used: pd.DataFrame, amounts: pd.DataFrame) -> pd.DataFrame:
    """The three efficiencies of ``rows``: used cores and bytes over ``amounts`` (cores, bytes)."""
    efficiencies = {"cpu_efficiency": _efficiency(used["cores"], amounts["cores"]),
                    "ram_efficiency": _efficiency(used["bytes"], amounts["bytes"])}
    # Unknown CPU or RAM efficiency leaves the total unknown (NaN propagates): never a partial guess.
    efficiencies["total_efficiency"] = total_efficiency(efficiencies, {cost: rows[cost] for cost in ("cpu_cost",
                                                                                                     "ram_cost")})
    for column, values in efficiencies.items():
        rows[column] = values.to_numpy().round(EFFICIENCY_DECIMALS)
    return bounded_efficiencies(rows, FIGURES)


# What each Phase 1 figure is made of, for messages about it.
FIGURES = {
    "cpu_cost": "Phase 1 cpu_cost (container_cpu_allocation or node capacity x node_cpu_hourly_cost)",
    "ram_cost": "Phase 1 ram_cost (container_memory_allocation_bytes or node capacity x node_ram_hourly_cost)",
    "gpu_cost": "Phase 1 gpu_cost (container_gpu_allocation or node_gpu_count x node_gpu_hourly_cost)",
    "pv_cost": "Phase 1 pv_cost (pod_pvc_allocation or volume capacity x pv_hourly_cost)",
    "load_balancer_cost": "Phase 1 load_balancer_cost (kubecost_load_balancer_cost)",
    "management_cost": "Phase 1 management_cost (kubecost_cluster_management_cost)",
    "cpu_efficiency": "Phase 1 cpu_efficiency (container_cpu_usage_seconds_total / allocated or capacity cores)",
    "ram_efficiency": "Phase 1 ram_efficiency (container_memory_working_set_bytes / allocated or capacity bytes)",
}
PRICED_COSTS = [resource.cost for resource in RESOURCES]


def _namespace_figures(priced: dict[Resource, Priced], metrics: RawMetrics) -> pd.DataFrame:
    """Per (account, hour, namespace) with an allocation in the account-hour: dollars per cost
    column, allocated amounts (cpu_cores, ram_bytes, ...), used cores and bytes."""
    parts = [result.namespaces.rename(columns={"dollars": resource.cost, resource.amount: _amount(resource)})
             for resource, result in priced.items()]
    allocated = pd.concat([part[NAMESPACE_KEY_COLUMNS] for part in parts]).drop_duplicates()
    lb = metrics.load_balancer.groupby(NAMESPACE_KEY_COLUMNS)["cost"].sum().rename("load_balancer_cost")
    # Load balancers of a namespace without allocations still belong to an account-hour that has some.
    hours = allocated[KEY_COLUMNS].drop_duplicates()
    keys = pd.concat([allocated, lb.reset_index()[NAMESPACE_KEY_COLUMNS].merge(hours, on=KEY_COLUMNS)])
    frame = keys.drop_duplicates().merge(lb.reset_index(), on=NAMESPACE_KEY_COLUMNS, how="left")
    for part in parts:
        frame = frame.merge(part, on=NAMESPACE_KEY_COLUMNS, how="left")
    for usage, value in ((metrics.cpu_usage, "cores"), (metrics.ram_usage, "bytes")):
        used = usage.groupby(NAMESPACE_KEY_COLUMNS)[value].sum().rename(f"used_{value}").reset_index()
        frame = frame.merge(used, on=NAMESPACE_KEY_COLUMNS, how="left")
    return frame.fillna({column: 0.0 for column in [*PRICED_COSTS, "load_balancer_cost"]})


def _amount(resource: Resource) -> str:
    return f"{resource.name}_{resource.amount}"


def _account_figures(priced: dict[Resource, Priced], metrics: RawMetrics, hours: pd.DataFrame) -> pd.DataFrame:
    """Per account-hour of ``hours``: capacity dollars per cost column (capacity_cpu_cost, ...),
    capacity amounts (capacity_cpu_cores, ...), management dollars, and whether the node capacity
    (CPU and memory) is known."""
    frame = hours
    for resource, result in priced.items():
        capacity = result.capacity.rename(columns={"dollars": f"capacity_{resource.cost}",
                                                   resource.amount: f"capacity_{_amount(resource)}"})
        frame = frame.merge(capacity, on=KEY_COLUMNS, how="left")
    management = metrics.management.groupby(KEY_COLUMNS)["cost"].sum().rename("management_cost").reset_index()
    frame = frame.merge(management, on=KEY_COLUMNS, how="left").fillna({"management_cost": 0.0})
    known = [metrics.cpu_capacity[KEY_COLUMNS].drop_duplicates(), metrics.ram_capacity[KEY_COLUMNS].drop_duplicates()]
    with_capacity = known[0].merge(known[1], on=KEY_COLUMNS).assign(capacity_known=True)
    frame = frame.merge(with_capacity, on=KEY_COLUMNS, how="left")
    frame["capacity_known"] = frame["capacity_known"].eq(True)
    return frame


def raw_hourly_costs(metrics: RawMetrics, defaults: DefaultPrices, currency: str = DEFAULT_CURRENCY) -> RawCosts:
    """Hourly Phase 1 rows of every account-hour with any CPU, RAM, GPU or PVC allocation, and of its
    namespaces, in ``currency`` (the currency of the prices and defaults)."""
    metrics = _typed(metrics)
    priced = _priced(metrics, defaults)
    defaulted = pd.concat([result.defaulted for result in priced.values()], ignore_index=True)
    namespaces = _namespace_figures(priced, metrics)
    if namespaces.empty:
        return RawCosts(pd.DataFrame(columns=HOURLY_COLUMNS), pd.DataFrame(columns=NAMESPACE_HOURLY_COLUMNS),
                        defaulted[DEFAULTED_COLUMNS])
    money = [*PRICED_COSTS, "load_balancer_cost"]
    check_dollars(namespaces, money, FIGURES)
    allocated = namespaces.groupby(KEY_COLUMNS, as_index=False)[money].sum()
    check_dollars(allocated, money, FIGURES)
    accounts = _account_figures(priced, metrics, allocated[KEY_COLUMNS])
    check_dollars(accounts.rename(columns=lambda c: c.removeprefix("capacity_")), [*PRICED_COSTS, "management_cost"],
                  FIGURES)
    namespace_rows = _namespace_rows(namespaces, currency)
    rows = _account_rows(accounts, namespace_rows, namespaces, defaulted, currency)
    return RawCosts(rows, namespace_rows, defaulted[DEFAULTED_COLUMNS])


def _namespace_rows(figures: pd.DataFrame, currency: str) -> pd.DataFrame:
    rows = figures[NAMESPACE_KEY_COLUMNS].copy()
    in_hour = [figures[ACCOUNT_COLUMN], figures["hour_start"]]
    for column in [*PRICED_COSTS, "load_balancer_cost"]:
        # Each namespace's figure is rounded so the account-hour's figures add up to its rounded sum.
        rows[column] = round_to_sum(figures[column] * NANO, in_hour)
    rows[["network_cost", "management_cost", *NETWORK_SPLIT_COLUMNS]] = 0
    rows["total_cost"] = rows[COMPONENT_COLUMNS].sum(axis=1).astype("int64")
    used = pd.DataFrame({"cores": figures["used_cores"], "bytes": figures["used_bytes"]})
    amounts = pd.DataFrame({"cores": figures["cpu_cores"], "bytes": figures["ram_bytes"]})
    rows = _with_efficiencies(rows, used, amounts)
    rows[CURRENCY_COLUMN] = currency
    rows["source_phase"] = PHASE_RAW
    return rows.sort_values(NAMESPACE_KEY_COLUMNS).reset_index(drop=True)[NAMESPACE_HOURLY_COLUMNS]


def _account_rows(accounts: pd.DataFrame, namespace_rows: pd.DataFrame, figures: pd.DataFrame,
                  defaulted: pd.DataFrame, currency: str) -> pd.DataFrame:
    allocated = namespace_rows.groupby(KEY_COLUMNS, as_index=False)[[*PRICED_COSTS, "load_balancer_cost"]].sum()
    frame = accounts.merge(allocated, on=KEY_COLUMNS).merge(resource_names(defaulted), on=KEY_COLUMNS, how="left")
    amounts = figures.groupby(KEY_COLUMNS, as_index=False)[["cpu_cores", "ram_bytes", "used_cores", "used_bytes"]].sum(
        min_count=1)
    frame = frame.merge(amounts, on=KEY_COLUMNS, how="left")
    known = frame["capacity_known"].to_numpy()
    rows = frame[KEY_COLUMNS].copy()
    for column in PRICED_COSTS:
        # With node capacity the account costs what its capacity costs; without, what was allocated.
        capacity = to_nano(frame[f"capacity_{column}"])
        rows[column] = np.where(known, capacity, frame[column]).astype("int64")
    rows["load_balancer_cost"] = frame["load_balancer_cost"]
    rows["network_cost"] = 0
    rows["management_cost"] = to_nano(frame["management_cost"])
    rows[NETWORK_SPLIT_COLUMNS] = 0
    rows["total_cost"] = rows[[*COMPONENT_COLUMNS, "management_cost"]].sum(axis=1).astype("int64")
    used = pd.DataFrame({"cores": frame["used_cores"], "bytes": frame["used_bytes"]})
    amounts = pd.DataFrame({"cores": frame["capacity_cpu_cores"].where(known, frame["cpu_cores"]),
                            "bytes": frame["capacity_ram_bytes"].where(known, frame["ram_bytes"])})
    rows = _with_efficiencies(rows, used, amounts)
    resources = frame["default_priced_resources"]
    rows["default_priced_resources"] = resources.where(resources.notna(), None)
    rows["default_priced_hours"] = resources.notna().astype("int64")
    rows[COUNTED_FLAG_COLUMNS] = 0
    rows[IDLE_UNKNOWN_COLUMN] = (~known).astype("int64")
    rows[IDLE_COLUMN] = pd.array([pd.NA] * len(rows), dtype="Int64")  # the namespace breakdown computes it
    rows[CURRENCY_COLUMN] = currency
    rows[CLUSTERS_COLUMN] = None
    rows["source_phase"] = PHASE_RAW
    return rows.sort_values(KEY_COLUMNS).reset_index(drop=True)[HOURLY_COLUMNS]


__all__ = ["DEFAULTED_COLUMNS", "DefaultPrices", "RawCosts", "RawMetrics", "raw_hourly_costs", "volume_prices"]
