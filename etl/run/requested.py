"""Accounts asked for by id (``--account``): is the id known to Thanos at all?

A mistyped id must not run "successfully" and get a state row whose last-success metric then fires
the staleness alert forever. An id that no exporter or raw series has ever carried, anywhere in
Thanos' history, is reported and left out: no success and no state is recorded for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from etl.source.fetch import accounts_seen
from etl.source.metrics import EXPORTER_METRICS, RAW_METRICS
from etl.source.thanos import ThanosClient

# From the start of Unix time: every block Thanos has, however old.
ALL_HISTORY_START = datetime(1970, 1, 1, tzinfo=UTC)


def unknown_accounts(client: ThanosClient, account_label: str, requested: Sequence[str],
                     now: datetime) -> list[str]:
    """The ``requested`` ids that no exporter or raw metric series has ever carried under ``account_label``."""
    if not requested:
        return []
    known = set(accounts_seen(client, account_label, [*EXPORTER_METRICS.values(), *RAW_METRICS],
                              ALL_HISTORY_START, now))
    return sorted(set(requested) - known)
