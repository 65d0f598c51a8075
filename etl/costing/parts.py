"""Parts of one account-hour -> the account-hour: the clusters remote-writing under one account,
and the shares of a degraded exporter hour (exporter for its healthy minutes, Phase 1 for the
rest). One rule for both, and for any later breakdown (namespaces) that sums parts:

- money is summed exactly in nano-dollars (and bound-checked, etl.costing.guard);
- each efficiency is weighed by the cost it tells the used share of (etl.costing.efficiency);
- one currency per account-hour: parts in two currencies raise CurrencyMixError, never a sum;
- clusters and default-priced resources are united, flags (HOUR_FLAG_COLUMNS) are 1 if any part's is,
  the idle is the sum of the parts that know it;
- the phase is the parts' phase, or "mixed" when they differ.

``scale_parts`` takes a share of parts (a fraction of the hour) to the nano-dollar, rebuilding the
total as the sum of its components and management so that the parts still add up exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from etl.costing.currency import require_one_currency
from etl.costing.efficiency import combine_efficiencies
from etl.costing.guard import check_nano
from etl.costing.rollup import day_phase, join_resource_lists, per_group
from etl.model import (
    CLUSTERS_COLUMN,
    COMPONENT_COLUMNS,
    COST_COLUMNS,
    CURRENCY_COLUMN,
    EFFICIENCY_COLUMNS,
    HOUR_FLAG_COLUMNS,
    HOURLY_COLUMNS,
    IDLE_COLUMN,
    KEY_COLUMNS,
    NETWORK_SPLIT_COLUMNS,
    PHASE_COLUMN,
)


def combine_parts(parts: pd.DataFrame, keys: Sequence[str] = KEY_COLUMNS, extra_sums: Sequence[str] = (),
                  columns: Sequence[str] = HOURLY_COLUMNS) -> pd.DataFrame:
    """One row per ``keys`` group of ``parts`` (rows of ``columns``: HOURLY_COLUMNS, or
    NAMESPACE_HOURLY_COLUMNS), combined as the module says; the ``extra_sums`` columns (e.g.
    minutes) are summed too."""
    keys, present = list(keys), set(columns)
    if parts.empty:
        return pd.DataFrame(columns=[*columns, *extra_sums])
    require_one_currency(parts, keys, "the hour")
    groups = parts.groupby(keys, sort=True)
    costs = [column for column in COST_COLUMNS if column in present]
    combined = groups[[*costs, *extra_sums]].sum()
    check_nano(combined.reset_index(), costs)
    if IDLE_COLUMN in present:
        combined[IDLE_COLUMN] = groups[IDLE_COLUMN].sum(min_count=1).astype("Int64")
    flags = [flag for flag in HOUR_FLAG_COLUMNS if flag in present]
    combined[flags] = groups[flags].max()
    for column in ("default_priced_resources", CLUSTERS_COLUMN):
        if column in present:
            combined[column] = per_group(parts, groups, column, join_resource_lists)
    combined[CURRENCY_COLUMN] = groups[CURRENCY_COLUMN].first()
    combined[PHASE_COLUMN] = per_group(parts, groups, PHASE_COLUMN, day_phase)
    combined = combined.join(combine_efficiencies(parts, keys))
    return combined.reset_index()[[*columns, *extra_sums]]


def scale_parts(rows: pd.DataFrame, share: pd.Series) -> pd.DataFrame:
    """``rows`` (hourly rows) with their money times ``share`` (0..1, per row), rounded half-even to
    the nano-dollar per component; the total is the sum of the scaled components and management."""
    scaled = rows.copy()
    factor = share.astype("float64").to_numpy()
    for column in [*COMPONENT_COLUMNS, "management_cost", *(c for c in NETWORK_SPLIT_COLUMNS if c in rows)]:
        scaled[column] = np.rint(rows[column].astype("float64").to_numpy() * factor).astype("int64")
    scaled["total_cost"] = scaled[[*COMPONENT_COLUMNS, "management_cost"]].sum(axis=1).astype("int64")
    if IDLE_COLUMN in rows:
        scaled[IDLE_COLUMN] = (rows[IDLE_COLUMN].astype("Float64") * factor).round().astype("Int64")
    for column in EFFICIENCY_COLUMNS:
        scaled[column] = rows[column]
    return scaled
