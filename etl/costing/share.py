"""Shared costs, at read time: some namespaces' cost (kube-system, monitoring, ...) and, if asked,
the idle are spread over the other namespaces of the same account and day, in proportion to each
one's own cost that day. Nothing stored changes.

- Receivers are the namespaces neither shared nor ``__idle__`` (``__unallocated__`` receives: it
  is workload cost without a label); each weighs its own total_cost of the day (a negative one
  weighs 0). A day whose receivers cost nothing keeps its shared cost where it is (``kept``).
- Each component and the management cost are split on their own (largest remainder, integer
  nano-dollars, etl.costing.apportion); a receiver's total is the sum of its parts. So for every
  cost column the shared report's totals equal the unshared ones exactly.
- Efficiencies and savings stay the receivers' own: sharing moves money, not usage.
"""

from __future__ import annotations

from collections.abc import Collection

import pandas as pd

from etl.costing.apportion import largest_remainder
from etl.model import (
    ACCOUNT_COLUMN,
    COMPONENT_COLUMNS,
    IDLE_NAMESPACE,
    NAMESPACE_COLUMN,
)

SHARED_COLUMN = "shared_cost"  # what a receiver got (nano-dollars)
SPLIT = [*COMPONENT_COLUMNS, "management_cost"]


def share_costs(days: pd.DataFrame, shared: Collection[str], share_idle: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``days``: namespace days in nano-dollars (etl.read.report.in_nano). Returns the days with
    the shared namespaces' cost spread (their rows gone, SHARED_COLUMN added), and the rows of the
    days that could not be shared (no receiver had a cost), as they were."""
    givers = set(shared) | ({IDLE_NAMESPACE} if share_idle else set())
    out, kept = [], []
    for _, day in days.groupby([ACCOUNT_COLUMN, "usage_date"], sort=True):
        day = day.assign(**{SHARED_COLUMN: 0})
        giving = day[NAMESPACE_COLUMN].isin(givers)
        receiving = ~giving & (day[NAMESPACE_COLUMN] != IDLE_NAMESPACE)
        weights = [max(int(total), 0) for total in day.loc[receiving, "total_cost"]]
        if not giving.any() or sum(weights) == 0:
            out.append(day)
            kept.append(day[giving])
            continue
        receivers = day[receiving].copy()
        for column in SPLIT:
            amount = sum(int(value) for value in day.loc[giving, column])
            receivers[column] += largest_remainder(amount, weights)
        before = day.loc[receiving, "total_cost"]
        receivers["total_cost"] = receivers[SPLIT].sum(axis=1).astype("int64")
        receivers[SHARED_COLUMN] = receivers["total_cost"] - before
        out.append(pd.concat([receivers, day[~giving & ~receiving]]))
    columns = [*days.columns, SHARED_COLUMN]
    frame = pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=columns)
    return frame[columns], pd.concat(kept, ignore_index=True) if kept else pd.DataFrame(columns=days.columns)
