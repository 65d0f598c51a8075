"""Synthetic metrics for the demo and the benchmark: clusters with a daily rhythm, some with the
allocation exporter (Phase 2) and its namespace gauges, one with only raw OpenCost/cAdvisor metrics
(Phase 1) and its nodes' and volumes' capacity, and one whose exporter is deployed mid-week. Values
are deterministic for a given start. (The benchmark uses cluster_series and raw_cluster_series.)"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from etl.costing.efficiency import total_efficiency
from etl.demo.prometheus import SampleSeries, hourly_series
from etl.model import GIB, HOUR_SECONDS
from etl.source.metrics import (
    CPU_ALLOCATION_METRIC,
    CPU_CAPACITY_METRIC,
    CPU_PRICE_METRIC,
    CPU_USAGE_METRIC,
    EXPORTER_METRICS,
    EXPORTER_NAMESPACE_METRICS,
    PV_CAPACITY_METRIC,
    PV_PRICE_METRIC,
    PVC_ALLOCATION_METRIC,
    RAM_ALLOCATION_METRIC,
    RAM_CAPACITY_METRIC,
    RAM_PRICE_METRIC,
    RAM_USAGE_METRIC,
)

# account -> (cpu $/h, ram $/h, pv $/h, network $/h, lb $/h, management $/h, cpu %, ram %)
DEMO_CLUSTERS: dict[str, tuple[float, ...]] = {
    "demo-prod-eks": (4.20, 2.10, 0.55, 0.35, 0.05, 0.10, 38.0, 61.0),
    "demo-staging-gke": (1.10, 0.60, 0.12, 0.05, 0.025, 0.10, 22.0, 45.0),
    "demo-batch-aks": (2.40, 1.30, 0.30, 0.15, 0.0, 0.0, 71.0, 80.0),
}

# Raw-metric clusters: account -> exporter deployed after this many hours (None: never).
RAW_CLUSTERS: dict[str, int | None] = {
    "demo-legacy-gke": None,  # no exporter at all: every hour from Phase 1
    "demo-batch-aks": 3 * 24 + 12,  # exporter deployed at noon of the fourth day: a mixed day
}
# node -> (USD per core-hour, USD per GiB-hour); node "spot-2" publishes no price (defaults apply)
RAW_NODES: dict[str, tuple[float, float] | None] = {"std-1": (0.0331, 0.0044), "spot-2": None}
# (namespace, pod, container, node, cores allocated, GiB allocated, share of cores used, of RAM used)
RAW_WORKLOADS = [
    ("shop", "api-0", "api", "std-1", 2.0, 4.0, 0.45, 0.70),
    ("shop", "db-0", "postgres", "std-1", 4.0, 16.0, 0.30, 0.85),
    ("batch", "etl-0", "worker", "spot-2", 8.0, 12.0, 0.80, 0.60),
]
RAW_VOLUME = ("shop", "db-0", "data-db-0", "pv-db-0", 100.0, 0.000137)  # claim of 100 GiB at $/GiB-h
# What the raw clusters' nodes and volumes hold (kube-state-metrics): node -> (cores, GiB); volume -> GiB.
# The workloads above leave part of it idle; pv-scratch is claimed by nobody.
RAW_CAPACITY: dict[str, tuple[float, float]] = {"std-1": (8.0, 32.0), "spot-2": (8.0, 16.0)}
RAW_VOLUME_CAPACITY = {"pv-db-0": 100.0, "pv-scratch": 50.0}
# Exporter clusters' namespaces: their share of each component (cpu, ram, pv, network, lb); the
# rest, and the management fee, is the cluster's idle.
DEMO_NAMESPACES = {"shop": 0.40, "search": 0.20, "kube-system": 0.05, "monitoring": 0.05}


def raw_cluster_series(
    account: str, first_hour: datetime, hours: int, samples_per_hour: int, account_label: str = "tenant_id",
) -> list[SampleSeries]:
    """OpenCost allocation and price series and cAdvisor usage for a small cluster, scraped
    ``samples_per_hour`` times an hour from the hour on (every 5 minutes for 12): a workload is
    present at every minute of every hour (etl.source.promql counts its minutes)."""
    start = first_hour.timestamp()
    scrapes = [start + index * HOUR_SECONDS / samples_per_hour for index in range(hours * samples_per_hour)]

    def steady(metric: str, labels: dict[str, str], value: float, kind: str = "gauge") -> SampleSeries:
        return SampleSeries(metric, {account_label: account, **labels}, [(t, value) for t in scrapes], kind)

    series: list[SampleSeries] = []
    for node, prices in RAW_NODES.items():
        if prices is not None:
            series += [steady(CPU_PRICE_METRIC, {"node": node}, prices[0]),
                       steady(RAM_PRICE_METRIC, {"node": node}, prices[1])]
    for namespace, pod, container, node, cores, gib, cpu_used, ram_used in RAW_WORKLOADS:
        labels = {"namespace": namespace, "pod": pod, "container": container, "node": node}
        series += [
            steady(CPU_ALLOCATION_METRIC, labels, cores),
            steady(RAM_ALLOCATION_METRIC, labels, gib * GIB),
            steady(RAM_USAGE_METRIC, labels, gib * ram_used * GIB),
        ]
        # A counter of core-seconds, far from zero as on a long-running kubelet.
        counter = [(t, cores * cpu_used * (t - start + 86_400.0)) for t in scrapes]
        series.append(SampleSeries(CPU_USAGE_METRIC, {account_label: account, **labels}, counter, "counter"))
    namespace, pod, claim, volume, gib, price = RAW_VOLUME
    series += [
        steady(PVC_ALLOCATION_METRIC, {"namespace": namespace, "pod": pod, "persistentvolumeclaim": claim,
                                       "persistentvolume": volume}, gib * GIB),
        steady(PV_PRICE_METRIC, {"persistentvolume": volume}, price),
    ]
    return series


def _hourly(profile: Sequence[float], first_hour: datetime, index: int) -> dict[str, float]:
    """A cluster's $/h components and efficiencies in hour ``index``: busier in the working day (UTC)
    and on weekdays, growing a little each day; CPU and RAM follow the load, storage does not."""
    cpu, ram, pv, network, lb, _, cpu_eff, ram_eff = profile
    hour = first_hour.timestamp() + index * HOUR_SECONDS
    weekday = datetime.fromtimestamp(hour, first_hour.tzinfo).weekday()
    load = (1.0 + 0.35 * math.sin(2 * math.pi * ((index % 24) - 8) / 24)) * (1 + 0.03 * (index // 24))
    load *= 0.7 if weekday >= 5 else 1.0
    hourly = {"cpu_cost": cpu * load, "ram_cost": ram * load, "pv_cost": pv, "network_cost": network * load,
              "load_balancer_cost": lb}
    hourly["cpu_efficiency"] = min(100.0, cpu_eff * load)
    hourly["ram_efficiency"] = min(100.0, ram_eff * (0.5 + load / 2))
    return hourly


COMPONENTS = ("cpu_cost", "ram_cost", "pv_cost", "network_cost", "load_balancer_cost")


def _rounded(hourly: dict[str, float], management: float) -> dict[str, float]:
    """The gauges' values as published (to the micro-dollar), the total the sum of its published parts."""
    published = {column: round(value, 6) for column, value in hourly.items()}
    published["total_cost"] = round(sum(published[column] for column in COMPONENTS) + management, 6)
    published["total_efficiency"] = round(total_efficiency(published, published), 6)
    return published


def cluster_series(
    account: str, profile: Sequence[float], first_hour: datetime, hours: int, samples_per_hour: int,
    account_label: str = "tenant_id",
) -> list[SampleSeries]:
    by_column: dict[str, dict[float, list[float]]] = {column: {} for column in EXPORTER_METRICS}
    for index in range(hours):
        hourly = _rounded(_hourly(profile, first_hour, index), profile[5])
        for column, value in hourly.items():
            by_column[column][first_hour.timestamp() + index * HOUR_SECONDS] = [value] * samples_per_hour
    return [
        hourly_series(EXPORTER_METRICS[column], {account_label: account}, values)
        for column, values in by_column.items()
        if values
    ]


def namespace_series(
    account: str, profile: Sequence[float], first_hour: datetime, hours: int, samples_per_hour: int,
    account_label: str = "tenant_id",
) -> list[SampleSeries]:
    """The exporter's namespace gauges of a cluster_series cluster: DEMO_NAMESPACES' shares of it."""
    series = []
    for namespace, share in DEMO_NAMESPACES.items():
        by_column: dict[str, dict[float, list[float]]] = {column: {} for column in EXPORTER_NAMESPACE_METRICS}
        for index in range(hours):
            hourly = _hourly(profile, first_hour, index)
            hourly = _rounded({**hourly, **{column: hourly[column] * share for column in COMPONENTS}}, 0.0)
            for column, value in hourly.items():
                by_column[column][first_hour.timestamp() + index * HOUR_SECONDS] = [value] * samples_per_hour
        series += [hourly_series(EXPORTER_NAMESPACE_METRICS[column], {account_label: account, "namespace": namespace},
                                 values) for column, values in by_column.items()]
    return series


def capacity_series(account: str, first_hour: datetime, hours: int, samples_per_hour: int,
                    account_label: str = "tenant_id") -> list[SampleSeries]:
    """What a raw_cluster_series cluster's nodes and volumes hold (RAW_CAPACITY, RAW_VOLUME_CAPACITY)."""
    start = first_hour.timestamp()
    scrapes = [start + index * HOUR_SECONDS / samples_per_hour for index in range(hours * samples_per_hour)]

    def steady(metric: str, labels: dict[str, str], value: float) -> SampleSeries:
        return SampleSeries(metric, {account_label: account, **labels}, [(t, value) for t in scrapes])

    series = []
    for node, (cores, gib) in RAW_CAPACITY.items():
        series += [steady(CPU_CAPACITY_METRIC, {"node": node}, cores),
                   steady(RAM_CAPACITY_METRIC, {"node": node}, gib * GIB)]
    for volume, gib in RAW_VOLUME_CAPACITY.items():
        series.append(steady(PV_CAPACITY_METRIC, {"persistentvolume": volume}, gib * GIB))
        if volume != RAW_VOLUME[3]:  # raw_cluster_series prices the claimed one
            series.append(steady(PV_PRICE_METRIC, {"persistentvolume": volume}, RAW_VOLUME[-1]))
    return series


def demo_series(first_hour: datetime, hours: int, samples_per_hour: int = 12) -> list[SampleSeries]:
    series: list[SampleSeries] = []
    for account, profile in DEMO_CLUSTERS.items():
        exporter_from = RAW_CLUSTERS.get(account, 0) or 0
        exporter_start = datetime.fromtimestamp(first_hour.timestamp() + exporter_from * HOUR_SECONDS,
                                                first_hour.tzinfo)
        series += cluster_series(account, profile, exporter_start, hours - exporter_from, samples_per_hour)
        series += namespace_series(account, profile, exporter_start, hours - exporter_from, samples_per_hour)
    for account in RAW_CLUSTERS:
        # Raw metrics keep flowing after the exporter is deployed, as on a real cluster.
        series += raw_cluster_series(account, first_hour, hours, samples_per_hour)
        series += capacity_series(account, first_hour, hours, samples_per_hour)
    return series


def demo_accounts() -> list[str]:
    return sorted({*DEMO_CLUSTERS, *RAW_CLUSTERS})
