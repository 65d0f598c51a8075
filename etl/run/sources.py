"""Which metrics a claim batch has: each phase is asked only for the accounts that publish it.

Account discovery (the label values of the account label on the series of a group of metrics) tells,
for a whole range, which accounts carry Phase 2 exporter gauges, the optional network split and
raw Phase 1 metrics. A chunk then sends the Phase 1 queries only for
the batch's accounts with raw metrics (none when it has none), the exporter queries only for those
with exporter gauges, and leaves out optional gauges no account of the batch publishes.

Discovery may list an account that has no sample in a given chunk (its query then comes back
empty), never the reverse: a query left out on its word would have returned nothing, so the
figures do not change, only the number of requests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from etl.model import NETWORK_SPLIT_COLUMNS, HourRange
from etl.source.fetch import accounts_seen
from etl.source.parallel import fetch_concurrently
from etl.source.promql import EXPORTER_METRICS, EXPORTER_PRESENCE_METRIC, RAW_METRICS
from etl.source.thanos import ThanosClient

GROUPS: dict[str, list[str]] = {
    "exporter": [EXPORTER_PRESENCE_METRIC],
    "network_split": [EXPORTER_METRICS[column] for column in NETWORK_SPLIT_COLUMNS],
    "raw": list(RAW_METRICS),
}


@dataclass(frozen=True)
class Sources:
    """The accounts of a batch each phase is asked for, and the exporter columns left unasked."""

    exporter: list[str]
    raw: list[str]
    absent: list[str]


class SourceDiscovery:
    """One label-values request per group for every account at once, remembered for the last range
    asked about (a backfill asks once for all its claim batches)."""

    def __init__(self, client: ThanosClient, account_label: str) -> None:
        self.client = client
        self.account_label = account_label
        self._window: HourRange | None = None
        self._present: dict[str, set[str]] = {}

    def for_batch(self, accounts: Sequence[str], window: HourRange) -> Sources:
        if self._window != window:
            found = fetch_concurrently(
                [partial(accounts_seen, self.client, self.account_label, metrics, window.start, window.end)
                 for metrics in GROUPS.values()], self.client.max_concurrent_queries)
            self._present = {group: set(accounts) for group, accounts in zip(GROUPS, found, strict=True)}
            self._window = window
        present = {group: sorted(set(accounts) & found) for group, found in self._present.items()}
        absent = [] if present["network_split"] else list(NETWORK_SPLIT_COLUMNS)
        return Sources(present["exporter"], present["raw"], absent)
