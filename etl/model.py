"""The vocabulary every layer shares: cost columns, phases, money units and UTC hours.

Nothing here does I/O or imports another module of the package; the cost math (etl.costing), the
loader and schema (etl.store), the queries (etl.source) and the readers (etl.read) all speak these
names. A rule that is data (which cost weighs which efficiency, which columns make a clean
expense) is written here once and read by both the Python math and the generated SQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pandas as pd

# -- money ----------------------------------------------------------------------------------------
# Money is carried as integer nano-dollars (1e-9 USD) from the moment an hourly figure exists:
# sums over hours are then exact, and a day always equals the sum of its stored hours.
NANO = 1_000_000_000
MONEY_SCALE = 9  # decimal places stored for USD amounts (NUMERIC(18, 9))
EFFICIENCY_DECIMALS = 4  # decimal places stored for efficiency percentages
# Efficiency is stored as NUMERIC(18, 4): usage far over requests (1000 % and more) is real and
# fits; a value of MAX_EFFICIENCY or more is no measurement and is stored as unknown (NULL).
EFFICIENCY_PRECISION = 18
MAX_EFFICIENCY = 10.0 ** (EFFICIENCY_PRECISION - EFFICIENCY_DECIMALS)
GIB = 2**30  # bytes per GiB: prices are per GiB-hour
# The sanity bound of one account-hour: no cluster costs a million a hour. Below it every sum the
# tool makes fits int64 nano-dollars (a day is < 2.4e16, a year < 8.8e18 < 2^63) and a day fits
# NUMERIC(18, 9); a figure above it is refused (etl.costing.guard), never wrapped.
MAX_HOURLY_DOLLARS = 1_000_000
MAX_HOURLY_NANO = MAX_HOURLY_DOLLARS * NANO


def to_nano(dollars: pd.Series) -> pd.Series:
    """USD floats -> integer nano-dollars (missing -> 0). Callers check MAX_HOURLY_NANO first and
    name the account, metric and hour (etl.costing.guard); this only refuses what would wrap."""
    nano = dollars.astype("float64").fillna(0.0) * NANO
    wraps = ~nano.abs().lt(2.0**63)  # also +-inf
    if wraps.any():
        raise ValueError(f"{dollars[wraps].iloc[0]} USD does not fit int64 nano-dollars")
    return nano.round().astype("int64")


def nano_to_decimal(nano: int) -> Decimal:
    return Decimal(int(nano)).scaleb(-MONEY_SCALE)


def decimal_to_nano(dollars: Decimal) -> int:
    """Stored NUMERIC(18,9) USD -> integer nano-dollars, exactly."""
    return int(dollars.scaleb(MONEY_SCALE).to_integral_value())


# -- cost rows ------------------------------------------------------------------------------------
ACCOUNT_COLUMN = "cloud_account_id"
KEY_COLUMNS = [ACCOUNT_COLUMN, "hour_start"]
DAILY_KEY_COLUMNS = [ACCOUNT_COLUMN, "usage_date"]
# The components a total is made of; management_cost is what the total holds beyond them.
COMPONENT_COLUMNS = ["cpu_cost", "ram_cost", "gpu_cost", "pv_cost", "network_cost", "load_balancer_cost"]
NETWORK_SPLIT_COLUMNS = ["network_internet_cost", "network_region_cost", "network_zone_cost"]
COST_COLUMNS = ["total_cost", *COMPONENT_COLUMNS, "management_cost", *NETWORK_SPLIT_COLUMNS]
EFFICIENCY_COLUMNS = ["cpu_efficiency", "ram_efficiency", "total_efficiency"]
SAVINGS_COLUMN = "potential_savings"
# Idle: what the cluster's capacity (nodes, GPUs, volumes) cost beyond what its namespaces were
# allocated, summed over the components that have a capacity. Part of the total, not beside it;
# NULL when unknown (IDLE_UNKNOWN_COLUMN says which hours).
IDLE_COMPONENTS = ["cpu_cost", "ram_cost", "gpu_cost", "pv_cost"]
IDLE_COLUMN = "idle_cost"
MONEY_COLUMNS = [*COST_COLUMNS, SAVINGS_COLUMN, IDLE_COLUMN]
# Phase 1 rows priced (partly) with default prices say so: hours (hourly rows 0 or 1) and which.
DEFAULT_PRICED_COLUMNS = ["default_priced_hours", "default_priced_resources"]
# Exporter hours to read with care (hourly rows 0 or 1, daily rows the number of such hours): the
# exporter reported exactly $0 with no Phase 1 data to contradict it; the exporter reported failed
# scrapes and its healthy values were held over that stretch (no Phase 1 data covered it).
EXPORTER_ZERO_COLUMN = "exporter_zero_hours"
EXPORTER_STALE_COLUMN = "exporter_stale_hours"
# Hours whose idle is unknown: Phase 1 without capacity metrics (the total is what was allocated,
# without idle), or an exporter cluster without namespace gauges (the total holds idle, how much is
# unknown); and hours whose namespaces add up to more than the cluster in some cost column (the
# namespace breakdown's idle row holds negative money, stored as it is).
IDLE_UNKNOWN_COLUMN = "idle_unknown_hours"
NEGATIVE_IDLE_COLUMN = "negative_idle_hours"
# Each counts hours (hourly rows 0 or 1, daily rows a count up to hours_covered).
COUNTED_FLAG_COLUMNS = [EXPORTER_ZERO_COLUMN, EXPORTER_STALE_COLUMN, IDLE_UNKNOWN_COLUMN, NEGATIVE_IDLE_COLUMN]
HOUR_FLAG_COLUMNS = ["default_priced_hours", *COUNTED_FLAG_COLUMNS]
# The currency of a row's money (one per row: two currencies are never added), and the clusters
# (the exporter's `cluster` label) whose figures it sums; NULL when none was named.
CURRENCY_COLUMN = "currency"
DEFAULT_CURRENCY = "USD"  # of Phase 1 prices and of gauges without a currency label, unless configured
CLUSTERS_COLUMN = "clusters"
PHASE_COLUMN = "source_phase"
HOURS_COVERED_COLUMN = "hours_covered"
HOURLY_COLUMNS = [*KEY_COLUMNS, *COST_COLUMNS, IDLE_COLUMN, *EFFICIENCY_COLUMNS, *DEFAULT_PRICED_COLUMNS,
                  *COUNTED_FLAG_COLUMNS, CURRENCY_COLUMN, CLUSTERS_COLUMN, PHASE_COLUMN]
DAILY_COLUMNS = [
    *DAILY_KEY_COLUMNS, *COST_COLUMNS, IDLE_COLUMN, SAVINGS_COLUMN, *EFFICIENCY_COLUMNS, HOURS_COVERED_COLUMN,
    *DEFAULT_PRICED_COLUMNS, *COUNTED_FLAG_COLUMNS, CURRENCY_COLUMN, CLUSTERS_COLUMN, PHASE_COLUMN,
]
# -- the namespace breakdown ------------------------------------------------------------------------
# One row per account, hour (or day) and namespace; for every cost column the namespaces of an
# account-hour, the two special rows included, add up to its cluster row to the nano-dollar.
NAMESPACE_COLUMN = "namespace"  # the same name as the label it comes from (NAMESPACE_LABEL)
IDLE_NAMESPACE = "__idle__"  # the cluster minus its namespaces, per cost column (capacity nobody was allocated)
UNALLOCATED_NAMESPACE = "__unallocated__"  # allocations without a namespace label; exporter hours without namespaces
SPECIAL_NAMESPACES = (IDLE_NAMESPACE, UNALLOCATED_NAMESPACE)  # Kubernetes names cannot hold "_": no clash
NAMESPACE_KEY_COLUMNS = [*KEY_COLUMNS, NAMESPACE_COLUMN]
NAMESPACE_DAILY_KEY_COLUMNS = [*DAILY_KEY_COLUMNS, NAMESPACE_COLUMN]
# The network split stays on the cluster rows: the exporter publishes it per cluster only.
NAMESPACE_COST_COLUMNS = [column for column in COST_COLUMNS if column not in NETWORK_SPLIT_COLUMNS]
NAMESPACE_HOURLY_COLUMNS = [*NAMESPACE_KEY_COLUMNS, *NAMESPACE_COST_COLUMNS, *EFFICIENCY_COLUMNS, CURRENCY_COLUMN,
                            PHASE_COLUMN]
NAMESPACE_DAILY_COLUMNS = [*NAMESPACE_DAILY_KEY_COLUMNS, *NAMESPACE_COST_COLUMNS, SAVINGS_COLUMN, *EFFICIENCY_COLUMNS,
                           HOURS_COVERED_COLUMN, CURRENCY_COLUMN, PHASE_COLUMN]
# default_priced_resources holds e.g. "cpu:node/n3, storage:pv/pv-cache".
RESOURCE_LIST_SEPARATOR = ", "

# -- the frames between etl.source and etl.costing ------------------------------------------------
# The exporter gauge whose presence means "the exporter covered this hour".
EXPORTER_PRESENCE_COLUMN = "total_cost"
# The labels the exporter puts on every gauge: the cluster it measures and the currency of its money.
CLUSTER_LABEL = "cluster"
CURRENCY_LABEL = "currency"
# Per cluster and hour (etl.source.exporter): the minutes with a value of the presence gauge while
# the exporter reported healthy scrapes, and while it reported failed ones (scrape_success 0).
HEALTHY_MINUTES_COLUMN = "healthy_minutes"
UNHEALTHY_MINUTES_COLUMN = "unhealthy_minutes"
# OpenCost's labels naming the node or volume a Phase 1 allocation or price belongs to; the raw
# frames keep them as column names.
NODE_LABEL = "node"
NAMESPACE_LABEL = "namespace"  # a workload's (and the exporter's namespace gauges') namespace
VOLUME_LABEL = "persistentvolume"
VOLUME_NAME_LABEL = "volumename"  # older OpenCost versions name the volume of pv_hourly_cost only here

# -- rules that are data ----------------------------------------------------------------------------
# Which efficiency tells the used share of which cost. It decides three things, each read from
# here: the weight of each efficiency when hours or days are combined (EFFICIENCY_WEIGHTS), a
# Phase 1 hour's total efficiency (etl.costing.efficiency), and the potential savings
# (etl.costing.savings): cost x (1 - efficiency).
EFFICIENCY_OF_COST: dict[str, str] = {"cpu_cost": "cpu_efficiency", "ram_cost": "ram_efficiency"}
TOTAL_EFFICIENCY = "total_efficiency"
# Which costs weigh each efficiency when rows are combined: each its own cost, the total all of them.
EFFICIENCY_WEIGHTS: dict[str, list[str]] = {
    **{efficiency: [cost] for cost, efficiency in EFFICIENCY_OF_COST.items()},
    TOTAL_EFFICIENCY: list(EFFICIENCY_OF_COST),
}
# The cost types of the k8s_clean_expenses view, shaped for the platform's clean_expenses: they add
# up to total_cost (management is what the total holds beyond the other components).
CLEAN_EXPENSE_TYPES: dict[str, str] = {
    "cpu": "cpu_cost", "ram": "ram_cost", "gpu": "gpu_cost", "pv": "pv_cost", "network": "network_cost",
    "load_balancer": "load_balancer_cost", "management": "management_cost",
}

# -- phases -----------------------------------------------------------------------------------------
PHASE_EXPORTER = "exporter"  # Phase 2: the allocation exporter's gauges
PHASE_RAW = "raw"  # Phase 1: raw OpenCost/cAdvisor metrics joined to prices
PHASE_MIXED = "mixed"  # a day holding hours of both
PHASES = (PHASE_EXPORTER, PHASE_RAW, PHASE_MIXED)
# How logs and `doctor` name a phase to people.
PHASE_TITLES = {PHASE_EXPORTER: "exporter (Phase 2)", PHASE_RAW: "raw (Phase 1)", PHASE_MIXED: "mixed"}

# -- UTC hours --------------------------------------------------------------------------------------
HOUR_SECONDS = 3600
HOUR = timedelta(hours=1)


def hour_label(moment: datetime) -> str:
    """An hour as logs show it: 2026-10-05T00:00Z (pd.Timestamp is a datetime too)."""
    return f"{moment:%Y-%m-%dT%H:%MZ}"


def hour_list(starts: Iterable[datetime], shown: int = 6) -> str:
    """Hours as a message lists them: the first ``shown`` (sorted, distinct), then "and N more"."""
    ordered = sorted(set(starts))
    more = f" and {len(ordered) - shown} more" if len(ordered) > shown else ""
    return ", ".join(hour_label(start) for start in ordered[:shown]) + more


def utc_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@dataclass(frozen=True)
class HourRange:
    """UTC hours ``start <= hour_start < end``; both ends on hour boundaries."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        for edge in (self.start, self.end):
            if edge.tzinfo is None or edge.timestamp() % HOUR_SECONDS:
                raise ValueError(f"hour range edge {edge!r} is not an aware UTC hour boundary")

    @classmethod
    def for_days(cls, first_day: date, last_day: date) -> HourRange:
        return cls(utc_midnight(first_day), utc_midnight(last_day) + timedelta(days=1))

    @property
    def hours(self) -> int:
        return int((self.end - self.start) / HOUR)

    def clipped_to(self, latest_end: datetime) -> HourRange:
        return HourRange(self.start, min(self.end, max(latest_end, self.start)))

    def __str__(self) -> str:
        return f"{hour_label(self.start)}..{hour_label(self.end)}"
