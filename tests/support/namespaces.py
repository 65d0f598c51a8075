"""The namespace dataset: idle in both phases and a namespace breakdown, one UTC day (DAY), money
worked out by hand in the comments. Raw (OpenCost / cAdvisor / kube-state-metrics) series are
scraped every minute on the minute; exporter gauges four times an hour (OFFSETS: :07:30, :22:30,
:37:30, :52:30), each held 5 minutes by the lookback (20 minutes with a value per hour).

CAP (Phase 1 with capacity): node n1, 4 cores and 16 GiB at 0.05 $/core-h and 0.01 $/GiB-h:
  capacity cpu 0.20 $/h, ram 0.16 $/h. Volumes pv-data (10 GiB, claimed by web) and pv-spare
  (50 GiB, claimed by nobody) at 0.0001 $/GiB-h: capacity 0.006 $/h. Management fee 0.10 $/h.
  - web/web-1: 1 core, 4 GiB (uses 0.5 core, 2 GiB), claims 10 GiB of pv-data, a load balancer
    at 0.025 $/h: cpu 0.05 + ram 0.04 + pv 0.001 + lb 0.025 = 0.116 $/h.
  - batch/job-1 from 12:00 (a namespace appearing mid-day): 2 cores, 4 GiB (uses all of it):
    cpu 0.10 + ram 0.04 = 0.14 $/h.
  - orphan, a pod without a namespace label: 0.5 core, 1 GiB (no usage): cpu 0.025 + ram 0.01
    = 0.035 $/h -> __unallocated__.
  Hours 0-11: cluster cpu 0.20 + ram 0.16 + pv 0.006 + lb 0.025 + management 0.10 = 0.491 $/h;
    idle cpu 0.20 - 0.075 = 0.125, ram 0.16 - 0.05 = 0.11, pv 0.006 - 0.001 = 0.005: idle_cost
    0.24; __idle__ = idle + management = 0.34 (0.116 + 0.035 + 0.34 = 0.491).
  Hours 12-23: the same cluster; idle cpu 0.025, ram 0.07, pv 0.005: idle_cost 0.10; __idle__ 0.20
    (0.116 + 0.14 + 0.035 + 0.20 = 0.491).
  Day: cluster 24 x 0.491 = 11.784 (cpu 4.8, ram 3.84, pv 0.144, lb 0.6, management 2.4), idle_cost
    12 x 0.24 + 12 x 0.10 = 4.08. Namespaces: web 2.784 (cpu 1.2, ram 0.96, pv 0.024, lb 0.6), batch
    1.68 (12 hours: cpu 1.2, ram 0.48), __unallocated__ 0.84 (cpu 0.6, ram 0.24), __idle__ 12 x 0.34
    + 12 x 0.20 = 6.48 (cpu 1.8, ram 2.16, pv 0.12, management 2.4); 2.784 + 1.68 + 0.84 + 6.48 = 11.784.
    (Allocations only, as before: 12 x 0.151 + 12 x 0.291 = 5.304.)
  Efficiency, the used share of the row's cost: cluster hours 0-11 cpu 0.5/4 = 12.5 %, ram 2/16 =
    12.5 %; hours 12-23 cpu 2.5/4 = 62.5 %, ram 6/16 = 37.5 % (every hour costs the same: the day
    37.5 % and 25 %); web 50 % and 50 %, batch 100 % and 100 %, __unallocated__ unknown.
BARE (Phase 1 without capacity): app/app-1 on n1, 2 cores at 0.05 + 2 GiB at 0.01 = 0.12 $/h: the
  day 2.88 (allocations only), idle unknown in 24 hours; namespace app 2.88, no __idle__.
GPU: node g1, 4 cores at 0.08, 16 GiB at 0.01, 1 GPU at 2.50 $/GPU-h: 0.32 + 0.16 + 2.50 = 2.98
  $/h, all allocated to ml/train-1 (4 cores, 16 GiB, 1 GPU). Stored: 2.98 $/h (0.48 before, its
  CPU and RAM only); day 71.52, gpu 60; idle 0.
EXP (exporter with namespace gauges), cluster c1: total 10 = cpu 4 + ram 3 + pv 1 + network 0.5 +
  lb 0.25 (management 1.25). Namespaces: shop 4 = cpu 2 + ram 1.5 + pv 0.5 (efficiency cpu 40,
  ram 60, total 50); search 3 = cpu 1 + ram 1 + pv 0.25 + network 0.5 + lb 0.25; kube-system 0.5 =
  cpu 0.25 + ram 0.25; reports 0.5 = cpu 0.5 from 12:30 (its first sample 12:37:30: 10 of hour 12's
  20 minutes with a value -> 0.25 in hour 12). Kubecost's own __idle__ gauge (2.5) is no namespace.
  __idle__ hours 0-11: cpu 0.75, ram 0.25, pv 0.25, management 1.25 = 2.5 (idle_cost 1.25); hour 12:
  cpu 0.5 -> 2.25 (idle_cost 1.0); hours 13-23: cpu 0.25 -> 2.0 (idle_cost 0.75).
  Day: 240; shop 96, search 72, kube-system 12, reports 0.25 + 11 x 0.5 = 5.75 (12 hours), __idle__
  30 + 2.25 + 22 = 54.25; idle_cost 15 + 1 + 8.25 = 24.25. (96 + 72 + 12 + 5.75 + 54.25 = 240.)
MIX (a mixed day): Phase 1 all day (node m1 2 cores at 0.1, 4 GiB at 0.02: capacity 0.28 $/h; app/
  app-0 1 core, 2 GiB: 0.14 $/h, idle 0.14 = cpu 0.1 + ram 0.04), the exporter from 12:00 (total 1 =
  cpu 0.6 + ram 0.3 + pv 0.1; namespace app 0.5 = cpu 0.3 + ram 0.2; idle cpu 0.3 + ram 0.1 + pv 0.1 =
  0.5). Hour 20 the exporter reports one failed scrape of four (scrape_success 1, 0, 1, 1): 15 healthy
  minutes, 5 failed: 3/4 of the exporter's hour + 1/4 of Phase 1's: cluster cpu 0.45 + 0.05, ram
  0.225 + 0.02, pv 0.075 = 0.82; app cpu 0.225 + 0.025, ram 0.15 + 0.01 = 0.41; __idle__ 0.41.
  Day: cluster 12 x 0.28 + 11 x 1 + 0.82 = 15.18; app 12 x 0.14 + 11 x 0.5 + 0.41 = 7.59; __idle__
  7.59; idle_cost 7.59.
NEG (namespaces above the cluster), hours 0-3: cluster total 2 = cpu 1 + ram 1; namespace a 1.5 =
  cpu 1.5, namespace b 0.5 = ram 0.5: __idle__ cpu -0.5, ram +0.5, total 0 each hour; stored as it
  is (day: cpu -2, ram 2), flagged negative_idle_hours 4; idle_cost 0.
OLD (an exporter without namespace gauges): total 2 $/h all day: __unallocated__ 48, idle unknown.
"""

from __future__ import annotations

from datetime import date

from etl.demo.prometheus import SampleSeries
from tests.support.datasets import OFFSETS, P, hour, scrapes, steady
from tests.support.opencost import node_capacity, node_prices, pod_workload, pvc, volume

DAY = date(2026, 10, 12)
CAP, BARE, GPU = "acct-ns-capacity", "acct-ns-bare", "acct-ns-gpu"
EXP, MIX, NEG, OLD = "acct-ns-exporter", "acct-ns-mixed", "acct-ns-negative", "acct-ns-old-exporter"
ACCOUNTS = [CAP, BARE, GPU, EXP, MIX, NEG, OLD]
NS = "cloudtuner_kubecost_namespace_"


def gauge(metric: str, account: str, value: float, hours: range = range(24), offsets: tuple[float, ...] = OFFSETS,
          **labels: str) -> SampleSeries:
    """An exporter gauge (full name) of cluster c1 in USD, sampled at ``offsets`` of ``hours``."""
    samples = [(hour(DAY, h) + offset, value) for h in hours for offset in offsets]
    return SampleSeries(metric, {"tenant_id": account, "cluster": "c1", "currency": "USD", **labels}, samples)


def cluster(account: str, hours: range = range(24), **costs: float) -> list[SampleSeries]:
    return [gauge(P + metric, account, value, hours) for metric, value in costs.items()]


def namespace(account: str, name: str, hours: range = range(24), **gauges: float) -> list[SampleSeries]:
    """A namespace's gauges; its efficiencies, as the exporter publishes them, without a currency."""
    series = [gauge(NS + metric, account, value, hours, namespace=name) for metric, value in gauges.items()]
    for one in series:
        if one.metric.endswith("_efficiency"):
            del one.labels["currency"]
    return series


def raw_series() -> list[SampleSeries]:
    day = scrapes(hour(DAY, 0), hour(DAY, 24))
    afternoon = scrapes(hour(DAY, 12), hour(DAY, 24))
    series = [
        *node_capacity(CAP, "n1", 4, 16, day), *node_prices(CAP, "n1", 0.05, 0.01, day),
        *volume(CAP, "pv-data", 10, 0.0001, day), *volume(CAP, "pv-spare", 50, 0.0001, day),
        steady("kubecost_cluster_management_cost", {"tenant_id": CAP, "provisioner_name": "EKS"}, 0.10, day),
        *pod_workload(CAP, "web", "web-1", "app", "n1", day, 1, 4, 0.5, 2),
        pvc(CAP, "web", "web-1", "data", "pv-data", 10, day),
        steady("kubecost_load_balancer_cost",
               {"tenant_id": CAP, "namespace": "web", "service_name": "web-lb", "ingress_ip": "10.0.0.1"}, 0.025, day),
        *pod_workload(CAP, "batch", "job-1", "job", "n1", afternoon, 2, 4, 2, 4),
        *pod_workload(CAP, "", "orphan", "main", "n1", day, 0.5, 1, None, None),
        *node_prices(BARE, "n1", 0.05, 0.01, day),
        *pod_workload(BARE, "app", "app-1", "app", "n1", day, 2, 2, None, None),
        *node_capacity(GPU, "g1", 4, 16, day, gpus=1), *node_prices(GPU, "g1", 0.08, 0.01, day, gpu=2.50),
        *pod_workload(GPU, "ml", "train-1", "trainer", "g1", day, 4, 16, None, None, gpus=1),
        *node_capacity(MIX, "m1", 2, 4, day), *node_prices(MIX, "m1", 0.1, 0.02, day),
        *pod_workload(MIX, "app", "app-0", "app", "m1", day, 1, 2, None, None),
    ]
    return series


def exporter_series() -> list[SampleSeries]:
    series = [
        *cluster(EXP, total_cost=10, cpu_cost=4, ram_cost=3, pv_cost=1, network_cost=0.5, lb_cost=0.25),
        *namespace(EXP, "shop", total_cost=4, cpu_cost=2, ram_cost=1.5, pv_cost=0.5, cpu_efficiency=40,
                   ram_efficiency=60, total_efficiency=50),
        *namespace(EXP, "search", total_cost=3, cpu_cost=1, ram_cost=1, pv_cost=0.25, network_cost=0.5, lb_cost=0.25),
        *namespace(EXP, "kube-system", total_cost=0.5, cpu_cost=0.25, ram_cost=0.25),
        *namespace(EXP, "__idle__", total_cost=2.5),
        *(gauge(NS + metric, EXP, 0.5, range(12, 13), OFFSETS[2:], namespace="reports") for metric in ("total_cost",
                                                                                                        "cpu_cost")),
        *namespace(EXP, "reports", range(13, 24), total_cost=0.5, cpu_cost=0.5),
        *cluster(MIX, range(12, 24), total_cost=1, cpu_cost=0.6, ram_cost=0.3, pv_cost=0.1),
        *namespace(MIX, "app", range(12, 24), total_cost=0.5, cpu_cost=0.3, ram_cost=0.2),
        SampleSeries("cloudtuner_kubecost_exporter_scrape_success", {"tenant_id": MIX, "cluster": "c1"},
                     [(hour(DAY, h) + offset, 0.0 if (h, offset) == (20, OFFSETS[1]) else 1.0)
                      for h in range(12, 24) for offset in OFFSETS]),
        *cluster(NEG, range(4), total_cost=2, cpu_cost=1, ram_cost=1),
        *namespace(NEG, "a", range(4), total_cost=1.5, cpu_cost=1.5),
        *namespace(NEG, "b", range(4), total_cost=0.5, ram_cost=0.5),
        *cluster(OLD, total_cost=2),
    ]
    return series


def dataset() -> list[SampleSeries]:
    return [*raw_series(), *exporter_series()]
