"""Every metric name and every PromQL text the tool sends, in one place.

Hourly windows: a query evaluated at the hour's END (``hour_start + 1h``) with the range
``HOUR_RANGE`` (``HOUR_WINDOW_MS`` milliseconds ``offset 1ms``) sees exactly the samples with
``hour_start <= t < hour_start + 1h``. Prometheus 2.x range selectors include both ends and 3.x
excludes the left one; over integer millisecond timestamps no sample is ever counted in two hours.
The evaluation instants are whole hours, i.e. multiples of the 1 h step, on purpose: Thanos'
query-frontend rounds a range query's start and end down to a multiple of its step by default,
and instants off that grid would be moved one hour back.
"""

from __future__ import annotations

from collections.abc import Sequence

from etl.model import EXPORTER_PRESENCE_COLUMN, HOUR_SECONDS, VOLUME_LABEL

HOUR_WINDOW_MS = HOUR_SECONDS * 1000 - 1
HOUR_WINDOW = f"{HOUR_WINDOW_MS}ms"
# The range selector of one hour, for evaluation at the hour's end: [end - 1h, end - 1ms].
HOUR_RANGE = f"[{HOUR_WINDOW}] offset 1ms"
# Seconds from an hour's start to the evaluation instant that covers that hour (step-aligned).
HOUR_EVAL_OFFSET_SECONDS = HOUR_SECONDS

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
EXPORTER_PRESENCE_METRIC = EXPORTER_METRICS[EXPORTER_PRESENCE_COLUMN]
# The exporter's own health: 0 when its last fetch from the allocation API failed (optional).
EXPORTER_HEALTH_METRIC = "cloudtuner_kubecost_exporter_scrape_success"

# Phase 1: raw OpenCost / cAdvisor metrics (fetched in etl.source.raw, costed in etl.costing.raw).
CPU_ALLOCATION_METRIC = "container_cpu_allocation"  # cores, per container; label node
RAM_ALLOCATION_METRIC = "container_memory_allocation_bytes"  # bytes, per container; label node
PVC_ALLOCATION_METRIC = "pod_pvc_allocation"  # bytes, per pod and claim; label persistentvolume
CPU_PRICE_METRIC = "node_cpu_hourly_cost"  # USD per core-hour; label node
RAM_PRICE_METRIC = "node_ram_hourly_cost"  # USD per GiB-hour; label node
PV_PRICE_METRIC = "pv_hourly_cost"  # USD per GiB-hour; label persistentvolume and/or volumename
LOAD_BALANCER_COST_METRIC = "kubecost_load_balancer_cost"  # USD per hour, per load balancer (optional)
CPU_USAGE_METRIC = "container_cpu_usage_seconds_total"  # cAdvisor counter, core-seconds
RAM_USAGE_METRIC = "container_memory_working_set_bytes"  # cAdvisor gauge, bytes
RAW_METRICS: tuple[str, ...] = (
    CPU_ALLOCATION_METRIC,
    RAM_ALLOCATION_METRIC,
    PVC_ALLOCATION_METRIC,
    CPU_PRICE_METRIC,
    RAM_PRICE_METRIC,
    PV_PRICE_METRIC,
)
# What identifies one workload of a metric (see hourly_presence_sum), from OpenCost's labels.
CONTAINER_IDENTITY = ("namespace", "pod", "container")
PVC_IDENTITY = ("namespace", "pod", "persistentvolumeclaim", VOLUME_LABEL)
LOAD_BALANCER_IDENTITY = ("namespace", "service_name", "ingress_ip")
# cAdvisor also exposes a pod-level aggregate (container="") and the pause container
# (container="POD"); counting them would count every container twice.
REAL_CONTAINERS = 'container!="", container!="POD"'


def promql_string(value: str) -> str:
    """Quote a value as a PromQL double-quoted string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


# The characters that are special in an RE2 regex outside a character class.
REGEX_META_CHARACTERS = frozenset("\\.+*?()|[]{}^$")


def _regex_literal(value: str) -> str:
    """``value`` as an RE2 literal, escaping only the regex metacharacters. Prometheus turns a
    matcher that is an alternation of such literals into a lookup of each value (set matching); a
    backslash before any other character (as re.escape puts before "-") makes it match every value
    of the label against the whole regex instead, in every query."""
    return "".join(f"\\{char}" if char in REGEX_META_CHARACTERS else char for char in value)


def account_selector(account_label: str, accounts: Sequence[str]) -> str:
    """Label matcher restricting a selector to the given accounts (empty -> every account)."""
    if not accounts:
        return f'{account_label}!=""'
    alternatives = "|".join(_regex_literal(account) for account in sorted(set(accounts)))
    return f"{account_label}=~{promql_string(alternatives)}"


def _selector(metric: str, account_label: str, accounts: Sequence[str], extra_matchers: str = "") -> str:
    matchers = account_selector(account_label, accounts)
    return f"{metric}{{{matchers}, {extra_matchers}}}" if extra_matchers else f"{metric}{{{matchers}}}"


def _grouping(account_label: str, by: Sequence[str]) -> str:
    return ", ".join([account_label, *by])


def hourly_average(metric: str, account_label: str, accounts: Sequence[str], by: Sequence[str] = ()) -> str:
    """Per account (and ``by`` labels), the mean of the metric over one hour: every sample of the
    hour weighs the same, whichever series holds it.

    Evaluate at hour start + HOUR_EVAL_OFFSET_SECONDS. An account's exporter gauge is cluster-level,
    so several series of one account at once are copies (an HA pair that dedup did not merge):
    averaging, not summing, them keeps one cluster's cost counted once. The same holds for a node's
    or a volume's price. A restart of the exporting process changes its ``pod`` or ``instance``
    label and splits a series within the hour: pooling the samples (sum over count) weighs each
    part by its share of the hour, where a mean of the series' means would weigh 5 minutes of the
    new series like the 55 minutes of the old one.
    """
    selector = _selector(metric, account_label, accounts)
    grouping = _grouping(account_label, by)
    return (
        f"sum by ({grouping}) (sum_over_time({selector}{HOUR_RANGE})) / "
        f"sum by ({grouping}) (count_over_time({selector}{HOUR_RANGE}))"
    )


def hourly_last(metric: str, account_label: str, accounts: Sequence[str]) -> str:
    """Per account, the metric's last value within each hour (for trailing-window gauges)."""
    selector = _selector(metric, account_label, accounts)
    return f"avg by ({account_label}) (last_over_time({selector}{HOUR_RANGE}))"


def hourly_minimum(metric: str, account_label: str, accounts: Sequence[str]) -> str:
    """Per account, the lowest value the metric took within each hour (any 0 of a health gauge)."""
    selector = _selector(metric, account_label, accounts)
    return f"min by ({account_label}) (min_over_time({selector}{HOUR_RANGE}))"


def hourly_presence_sum(
    metric: str,
    account_label: str,
    accounts: Sequence[str],
    identity: Sequence[str],
    by: Sequence[str] = (),
    extra_matchers: str = "",
) -> str:
    """Per account (and ``by`` labels), the sum over workloads of each workload's mean over the
    WHOLE hour; a workload is one combination of the ``identity`` labels (e.g. namespace, pod,
    container).

    A workload present for part of the hour (a pod created or deleted at :30) must count for that
    part only; ``avg_over_time`` would charge it for the full hour. So each workload's samples are
    summed and divided by the number of samples a workload present all hour has: the largest
    sample count of any of the account's workloads of this metric in that hour (they share one
    scrape interval). Samples are pooled per workload, not per series, because a restart of the
    exporting process (OpenCost) changes its ``instance`` label and splits every series in two
    within that hour; counted per series each half would pass for a full hour and the hour would
    be charged twice. Where no workload spans the full hour this falls back to the mean over the
    samples seen, i.e. never below what ``avg_over_time`` would give.
    """
    selector = _selector(metric, account_label, accounts, extra_matchers)
    per_workload = _grouping(account_label, [*by, *(label for label in identity if label not in by)])
    workload_sums = f"sum by ({per_workload}) (sum_over_time({selector}{HOUR_RANGE}))"
    full_hour_samples = (
        f"max by ({account_label}) (sum by ({_grouping(account_label, identity)}) "
        f"(count_over_time({selector}{HOUR_RANGE})))"
    )
    return (
        f"sum by ({_grouping(account_label, by)}) ("
        f"{workload_sums} / on ({account_label}) group_left() {full_hour_samples})"
    )


def hourly_counter_rate(
    metric: str, account_label: str, accounts: Sequence[str], extra_matchers: str = ""
) -> str:
    """Per account, the summed per-second rate of a counter over each hour window.

    For a CPU-seconds counter this is the mean number of cores used in the hour. ``rate`` sees
    only the samples inside the hour, so the increase between the hour's last sample and the next
    hour's first one is not observed; Prometheus extrapolates the observed increase to the window
    edges (when the first/last sample is within 1.1 sample intervals of them; else by half an
    interval, and never before the counter would have been 0). For a container scraped all hour
    that yields exactly the hour's usage at a steady rate; for one that starts or stops inside the
    hour, its usage up to about half a scrape interval past its last sample. ``increase`` would give
    the same figure times the window length (3599.999 s, not 3600 s); ``rate`` divides it back out.
    Counter resets (container restarts) are handled by ``rate``.
    """
    selector = _selector(metric, account_label, accounts, extra_matchers)
    return f"sum by ({account_label}) (rate({selector}{HOUR_RANGE}))"


def discovery_matchers(metrics: Sequence[str], account_label: str) -> list[str]:
    """``match[]`` selectors for the label-values API: series of these metrics carrying the label."""
    return [f'{metric}{{{account_label}!=""}}' for metric in metrics]


def series_of(metric: str) -> str:
    """``match[]`` selector for every series of one metric, whatever its labels."""
    return f"{{__name__={promql_string(metric)}}}"


def accounts_with_samples_within(metric: str, account_label: str, hours: int) -> str:
    """Instant query: one series per account that has a sample of ``metric`` in the last ``hours``."""
    return f'count by ({account_label}) (count_over_time({metric}{{{account_label}!=""}}[{hours}h]))'
