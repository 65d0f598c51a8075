"""Every metric name and every PromQL text the tool sends, in one place.

Hourly windows: a query evaluated at ``hour_start + HOUR_WINDOW_MS`` with a range of
``HOUR_WINDOW_MS`` milliseconds sees exactly the samples with ``hour_start <= t < hour_start + 1h``.
Prometheus 2.x range selectors include both ends and 3.x excludes the left one; over integer
millisecond timestamps both read the same samples, so no sample is ever counted in two hours.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

HOUR_SECONDS = 3600
HOUR_WINDOW_MS = HOUR_SECONDS * 1000 - 1
HOUR_WINDOW = f"{HOUR_WINDOW_MS}ms"
# Seconds from an hour's start to the evaluation instant that covers that hour.
HOUR_EVAL_OFFSET_SECONDS = HOUR_WINDOW_MS / 1000

EXPORTER_PREFIX = "cloudtuner_kubecost_cluster_"

# Phase 2: allocation exporter gauges -> hourly column they feed.
EXPORTER_COST_METRICS: dict[str, str] = {
    "total_cost": EXPORTER_PREFIX + "total_cost",
    "cpu_cost": EXPORTER_PREFIX + "cpu_cost",
    "ram_cost": EXPORTER_PREFIX + "ram_cost",
    "pv_cost": EXPORTER_PREFIX + "pv_cost",
    "network_cost": EXPORTER_PREFIX + "network_cost",
    "load_balancer_cost": EXPORTER_PREFIX + "lb_cost",
    # Optional split of network cost; absent -> all network cost counts as internet.
    "network_internet_cost": EXPORTER_PREFIX + "network_internet_cost",
    "network_region_cost": EXPORTER_PREFIX + "network_region_cost",
    "network_zone_cost": EXPORTER_PREFIX + "network_zone_cost",
}
EXPORTER_EFFICIENCY_METRICS: dict[str, str] = {
    "cpu_efficiency": EXPORTER_PREFIX + "cpu_efficiency",
    "ram_efficiency": EXPORTER_PREFIX + "ram_efficiency",
    "total_efficiency": EXPORTER_PREFIX + "total_efficiency",
}
EXPORTER_METRICS: dict[str, str] = {**EXPORTER_COST_METRICS, **EXPORTER_EFFICIENCY_METRICS}
# The gauge whose presence means "the exporter covered this hour".
EXPORTER_PRESENCE_COLUMN = "total_cost"

# Phase 1: raw OpenCost / cAdvisor metrics (used for account discovery here; costed in raw.py).
RAW_METRICS: tuple[str, ...] = (
    "container_cpu_allocation",
    "container_memory_allocation_bytes",
    "pod_pvc_allocation",
    "node_cpu_hourly_cost",
    "node_ram_hourly_cost",
    "pv_hourly_cost",
)


def promql_string(value: str) -> str:
    """Quote a value as a PromQL double-quoted string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def account_selector(account_label: str, accounts: Sequence[str]) -> str:
    """Label matcher restricting a selector to the given accounts (empty -> every account)."""
    if not accounts:
        return f'{account_label}!=""'
    # RE2 treats a backslash before punctuation as that literal character, so re.escape is safe.
    alternatives = "|".join(re.escape(account) for account in sorted(set(accounts)))
    return f"{account_label}=~{promql_string(alternatives)}"


def hourly_average(metric: str, account_label: str, accounts: Sequence[str]) -> str:
    """Per account, the mean of the metric over one hour (evaluate at hour start + HOUR_WINDOW).

    An account's gauge is cluster-level, so several series of one account at once are copies
    (an exporter restart changes its pod label; an HA pair that dedup did not merge): averaging,
    not summing, them keeps one cluster's cost counted once.
    """
    selector = f"{metric}{{{account_selector(account_label, accounts)}}}"
    return f"avg by ({account_label}) (avg_over_time({selector}[{HOUR_WINDOW}]))"


def hourly_last(metric: str, account_label: str, accounts: Sequence[str]) -> str:
    """Per account, the metric's last value within each hour (for trailing-window gauges)."""
    selector = f"{metric}{{{account_selector(account_label, accounts)}}}"
    return f"avg by ({account_label}) (last_over_time({selector}[{HOUR_WINDOW}]))"


def discovery_matchers(metrics: Sequence[str], account_label: str) -> list[str]:
    """``match[]`` selectors for the label-values API: series of these metrics carrying the label."""
    return [f'{metric}{{{account_label}!=""}}' for metric in metrics]


def series_of(metric: str) -> str:
    """``match[]`` selector for every series of one metric, whatever its labels."""
    return f"{{__name__={promql_string(metric)}}}"


def accounts_with_samples_within(metric: str, account_label: str, hours: int) -> str:
    """Instant query: one series per account that has a sample of ``metric`` in the last ``hours``."""
    return f'count by ({account_label}) (count_over_time({metric}{{{account_label}!=""}}[{hours}h]))'
