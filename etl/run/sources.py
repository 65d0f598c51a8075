"""Which metrics a claim batch has: each phase is asked only for the accounts that publish it.

Account discovery (the label values of the account label on the series of a group of metrics) tells,
for a whole range, which accounts carry Phase 2 exporter gauges, the optional network split and
namespace gauges, raw Phase 1 metrics and their optional GPU, capacity and management metrics. A
chunk then sends the Phase 1 queries only for the batch's accounts with raw metrics (none when it
has none), the exporter queries only for those with exporter gauges, and leaves out optional
metrics no account of the batch publishes.

Discovery may list an account that has no sample in a given chunk (its query then comes back
empty), never the reverse: a query left out on its word would have returned nothing, so the
figures do not change, only the number of requests.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

from etl.model import EXPORTER_PRESENCE_COLUMN, NETWORK_SPLIT_COLUMNS, HourRange
from etl.source.fetch import accounts_seen
from etl.source.metrics import (
    CPU_CAPACITY_METRIC,
    EXPORTER_METRICS,
    EXPORTER_NAMESPACE_METRICS,
    EXPORTER_PRESENCE_METRIC,
    GPU_ALLOCATION_METRIC,
    GPU_CAPACITY_METRIC,
    MANAGEMENT_COST_METRIC,
    PV_CAPACITY_METRIC,
    RAM_CAPACITY_METRIC,
    RAW_METRICS,
)
from etl.source.parallel import fetch_concurrently
from etl.source.thanos import ThanosClient

GROUPS: dict[str, list[str]] = {
    "exporter": [EXPORTER_PRESENCE_METRIC],
    "network_split": [EXPORTER_METRICS[column] for column in NETWORK_SPLIT_COLUMNS],
    "namespaces": [EXPORTER_NAMESPACE_METRICS[EXPORTER_PRESENCE_COLUMN]],
    "raw": list(RAW_METRICS),
    "gpu": [GPU_ALLOCATION_METRIC, GPU_CAPACITY_METRIC],
    "capacity": [CPU_CAPACITY_METRIC, RAM_CAPACITY_METRIC, PV_CAPACITY_METRIC],
    "management": [MANAGEMENT_COST_METRIC],
}
# The optional Phase 1 frames (etl.costing.raw.RawMetrics) of each group, left unasked without it.
RAW_OPTIONAL: dict[str, list[str]] = {
    "gpu": ["gpu_allocation", "gpu_price", "gpu_capacity"],
    "capacity": ["cpu_capacity", "ram_capacity", "pv_capacity"],
    "management": ["management"],
}


@dataclass(frozen=True)
class Sources:
    """The accounts of a batch each phase (and the exporter's namespace gauges) is asked for, and
    the optional exporter columns and Phase 1 frames left unasked."""

    exporter: list[str]
    raw: list[str]
    absent: list[str]
    namespaces: list[str] = field(default_factory=list)
    raw_absent: list[str] = field(default_factory=list)


class SourceDiscovery:
    """One label-values request per group for every account at once, remembered for the last range
    asked about (a backfill asks once for all its claim batches)."""

    def __init__(self, client: ThanosClient, account_label: str) -> None:
        self.client = client
        self.account_label = account_label
        self._window: HourRange | None = None
        self._present: dict[str, set[str]] = {}
        self._lock = threading.Lock()  # a fetch ahead (etl.run.prefetch) may ask from another thread

    def for_batch(self, accounts: Sequence[str], window: HourRange) -> Sources:
        with self._lock:
            if self._window != window:
                found = fetch_concurrently(
                    [partial(accounts_seen, self.client, self.account_label, metrics, window.start, window.end)
                     for metrics in GROUPS.values()], self.client.max_concurrent_queries)
                self._present = {group: set(accounts) for group, accounts in zip(GROUPS, found, strict=True)}
                self._window = window
            seen = self._present
        present = {group: sorted(set(accounts) & found) for group, found in seen.items()}
        absent = [] if present["network_split"] else list(NETWORK_SPLIT_COLUMNS)
        raw = set(present["raw"])
        raw_absent = [frame for group, frames in RAW_OPTIONAL.items() if not raw & set(present[group])
                      for frame in frames]
        namespaces = sorted(set(present["exporter"]) & set(present["namespaces"]))
        return Sources(present["exporter"], present["raw"], absent, namespaces, raw_absent)
