"""Every metric name the tool reads, and the labels and matchers that pick its series.

The PromQL text built from them lives in etl.source.promql; the columns each metric feeds are the
vocabulary's (etl.model).
"""

from __future__ import annotations

from etl.model import (
    CLUSTER_LABEL,
    CURRENCY_LABEL,
    EXPORTER_PRESENCE_COLUMN,
    NAMESPACE_LABEL,
    NETWORK_SPLIT_COLUMNS,
    VOLUME_LABEL,
)

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
# The same gauges per cluster and namespace (the namespace breakdown; optional): cost gauges carry
# `currency`, efficiencies not. Kubecost's own `__idle__`, `__unmounted__`, ... rows are no namespace.
NAMESPACE_PREFIX = "cloudtuner_kubecost_namespace_"
EXPORTER_NAMESPACE_COST_METRICS: dict[str, str] = {
    column: NAMESPACE_PREFIX + metric.removeprefix(EXPORTER_PREFIX)
    for column, metric in EXPORTER_COST_METRICS.items() if column not in NETWORK_SPLIT_COLUMNS
}
EXPORTER_NAMESPACE_EFFICIENCY_METRICS: dict[str, str] = {
    column: NAMESPACE_PREFIX + metric.removeprefix(EXPORTER_PREFIX)
    for column, metric in EXPORTER_EFFICIENCY_METRICS.items()
}
EXPORTER_NAMESPACE_METRICS = {**EXPORTER_NAMESPACE_COST_METRICS, **EXPORTER_NAMESPACE_EFFICIENCY_METRICS}
REAL_NAMESPACES = f'{NAMESPACE_LABEL}!~"__.*__"'
# The exporter's own health: 0 when its last fetch from the allocation API failed (optional).
EXPORTER_HEALTH_METRIC = "cloudtuner_kubecost_exporter_scrape_success"
# How the exporter's gauges are grouped besides the account (etl.costing sums the clusters).
EXPORTER_GROUPING = (CLUSTER_LABEL, CURRENCY_LABEL)

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
# Optional: GPUs (allocated, their price, and each node's GPUs), the capacity of nodes and volumes
# (kube-state-metrics v1 names, as OpenCost publishes them), and the cluster management fee.
GPU_ALLOCATION_METRIC = "container_gpu_allocation"  # GPUs, per container; label node
GPU_PRICE_METRIC = "node_gpu_hourly_cost"  # USD per GPU-hour; label node
GPU_CAPACITY_METRIC = "node_gpu_count"  # GPUs of a node; label node
CPU_CAPACITY_METRIC = "kube_node_status_capacity_cpu_cores"  # cores of a node; label node
RAM_CAPACITY_METRIC = "kube_node_status_capacity_memory_bytes"  # bytes of a node; label node
PV_CAPACITY_METRIC = "kube_persistentvolume_capacity_bytes"  # bytes of a volume; label persistentvolume
MANAGEMENT_COST_METRIC = "kubecost_cluster_management_cost"  # USD per hour of a cluster's management fee
# The metrics that make an account a Phase 1 account (capacity alone costs nothing: no allocations).
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
# One container's cAdvisor counter: `id` (its cgroup) changes when the container restarts.
USAGE_IDENTITY = (*CONTAINER_IDENTITY, "id")
# cAdvisor also exposes a pod-level aggregate (container="") and the pause container
# (container="POD"); counting them would count every container twice.
REAL_CONTAINERS = 'container!="", container!="POD"'
