"""Builders of raw OpenCost / cAdvisor / kube-state-metrics series, as a real cluster exposes them."""

from __future__ import annotations

from etl.demo.prometheus import SampleSeries
from etl.model import GIB
from tests.support.datasets import cpu_counter, steady


def container(account: str, namespace: str, pod: str, name: str, node: str) -> dict[str, str]:
    """A container's labels; an empty namespace is no namespace label at all."""
    labels = {"tenant_id": account, "namespace": namespace, "pod": pod, "container": name, "node": node}
    return {key: value for key, value in labels.items() if value or key == "container"}


def pod_workload(
    account: str, namespace: str, pod: str, name: str, node: str, times: list[float],
    cores: float, ram_gib: float, used_cores: float | None, used_gib: float | None, gpus: float = 0,
) -> list[SampleSeries]:
    """OpenCost allocation series for one container (GPUs only when it has some) and, when usage is
    given, the cAdvisor series a real kubelet exposes for its pod: the container, the pod-level
    aggregate (container="") and the pause container (container="POD"). The aggregate and pause
    series must not be counted."""
    labels = container(account, namespace, pod, name, node)
    series = [
        steady("container_cpu_allocation", labels, cores, times),
        steady("container_memory_allocation_bytes", labels, ram_gib * GIB, times),
    ]
    if gpus:
        series.append(steady("container_gpu_allocation", labels, gpus, times))
    if used_cores is not None and used_gib is not None:
        pod_level = container(account, namespace, pod, "", node)
        pause = container(account, namespace, pod, "POD", node)
        series += [
            cpu_counter(labels, used_cores, times),
            cpu_counter(pod_level, used_cores + 0.01, times),
            cpu_counter(pause, 0.01, times),
            steady("container_memory_working_set_bytes", labels, used_gib * GIB, times),
            steady("container_memory_working_set_bytes", pod_level, (used_gib + 0.05) * GIB, times),
            steady("container_memory_working_set_bytes", pause, 0.05 * GIB, times),
        ]
    return series


def node_prices(
    account: str, node: str, cpu: float | None, ram: float | None, times: list[float], gpu: float | None = None,
) -> list[SampleSeries]:
    labels = {"tenant_id": account, "node": node, "instance_type": "m5.large"}
    series = []
    for metric, price in (("node_cpu_hourly_cost", cpu), ("node_ram_hourly_cost", ram), ("node_gpu_hourly_cost", gpu)):
        if price is not None:
            series.append(steady(metric, labels, price, times))
    return series


def node_capacity(account: str, node: str, cores: float, gib: float, times: list[float],
                  gpus: float | None = None) -> list[SampleSeries]:
    """A node's capacity as OpenCost publishes it (kube-state-metrics v1 names) and its GPUs."""
    labels = {"tenant_id": account, "node": node, "job": "opencost"}
    series = [steady("kube_node_status_capacity_cpu_cores", labels, cores, times),
              steady("kube_node_status_capacity_memory_bytes", labels, gib * GIB, times)]
    if gpus is not None:
        series.append(steady("node_gpu_count", labels, gpus, times))
    return series


def volume(account: str, name: str, gib: float, price: float, times: list[float]) -> list[SampleSeries]:
    """A persistent volume's capacity and price, claimed or not."""
    labels = {"tenant_id": account, "persistentvolume": name}
    return [steady("kube_persistentvolume_capacity_bytes", labels, gib * GIB, times),
            steady("pv_hourly_cost", labels, price, times)]


def pvc(account: str, namespace: str, pod: str, claim: str, volume: str, gib: float,
        times: list[float]) -> SampleSeries:
    labels = {"tenant_id": account, "namespace": namespace, "pod": pod, "persistentvolumeclaim": claim,
              "persistentvolume": volume}
    return steady("pod_pvc_allocation", labels, gib * GIB, times)
