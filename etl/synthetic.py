"""Synthetic exporter metrics for the demo and the benchmark: a few clusters with a daily
rhythm. Values are deterministic for a given start, so runs can be compared."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from etl.localprom import SampleSeries, hourly_series
from etl.queries import EXPORTER_METRICS

HOUR_SECONDS = 3600

# account -> (cpu $/h, ram $/h, pv $/h, network $/h, lb $/h, management $/h, cpu %, ram %)
DEMO_CLUSTERS: dict[str, tuple[float, ...]] = {
    "demo-prod-eks": (4.20, 2.10, 0.55, 0.35, 0.05, 0.10, 38.0, 61.0),
    "demo-staging-gke": (1.10, 0.60, 0.12, 0.05, 0.025, 0.10, 22.0, 45.0),
    "demo-batch-aks": (2.40, 1.30, 0.30, 0.15, 0.0, 0.0, 71.0, 80.0),
}


def cluster_series(
    account: str, profile: Sequence[float], first_hour: datetime, hours: int, samples_per_hour: int,
    account_label: str = "tenant_id",
) -> list[SampleSeries]:
    cpu, ram, pv, network, lb, management, cpu_eff, ram_eff = profile
    start = first_hour.timestamp()
    by_column: dict[str, dict[float, list[float]]] = {column: {} for column in EXPORTER_METRICS}
    for index in range(hours):
        hour = start + index * HOUR_SECONDS
        # Busier in the working day (UTC) and on weekdays, growing a little each day: CPU and RAM
        # follow the load, storage does not.
        day_index = index // 24
        weekday = datetime.fromtimestamp(hour, first_hour.tzinfo).weekday()
        load = (1.0 + 0.35 * math.sin(2 * math.pi * ((index % 24) - 8) / 24)) * (1 + 0.03 * day_index)
        load *= 0.7 if weekday >= 5 else 1.0
        hourly = {
            "cpu_cost": cpu * load, "ram_cost": ram * load, "pv_cost": pv, "network_cost": network * load,
            "load_balancer_cost": lb,
        }
        hourly["total_cost"] = sum(hourly.values()) + management
        hourly["cpu_efficiency"] = min(100.0, cpu_eff * load)
        hourly["ram_efficiency"] = min(100.0, ram_eff * (0.5 + load / 2))
        hourly["total_efficiency"] = (
            hourly["cpu_efficiency"] * hourly["cpu_cost"] + hourly["ram_efficiency"] * hourly["ram_cost"]
        ) / (hourly["cpu_cost"] + hourly["ram_cost"])
        for column, value in hourly.items():
            by_column[column][hour] = [round(value, 6)] * samples_per_hour
    return [
        hourly_series(EXPORTER_METRICS[column], {account_label: account}, values)
        for column, values in by_column.items()
        if values
    ]


def demo_series(first_hour: datetime, hours: int, samples_per_hour: int = 12) -> list[SampleSeries]:
    return [
        series
        for account, profile in DEMO_CLUSTERS.items()
        for series in cluster_series(account, profile, first_hour, hours, samples_per_hour)
    ]
