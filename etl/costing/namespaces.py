"""The namespace breakdown of the chosen hours: its namespaces, idle included, add up to each
account-hour exactly.

Each account-hour's namespaces come from the phase its row came from (etl.costing.phase), in the
same shares (``phase_shares``): the exporter's namespaces (etl.costing.exporter_namespaces),
Phase 1's (etl.costing.raw), or, for a degraded exporter hour, both scaled to their shares
(etl.costing.parts.scale_parts) and combined per namespace (etl.costing.parts.combine_parts). Then:

- ``__idle__`` (model.IDLE_NAMESPACE) = the account-hour minus its namespaces, per cost column:
  capacity nobody was allocated, and what the cluster holds beyond its namespaces (its management
  fee in Phase 1, the exporter's figures beyond its namespace gauges). A row only where it is not
  all zero. A negative figure (namespaces adding up to more than the cluster) is stored as it is,
  never clipped: logged with the account and the hours, flagged on the account's row
  (``negative_idle_hours``) and reported by ``doctor`` -- unless it is rounding dust: each part is
  rounded to the nano-dollar once per figure (its total and components, management their
  difference), so the namespaces of a fully allocated column (load balancers, network) can exceed
  the cluster's by a few nano-dollars; ROUNDING_NANO per row of the hour is not flagged.
- The account-hour's ``idle_cost`` = ``__idle__``'s CPU + RAM + GPU + PV (model.IDLE_COMPONENTS)
  where its idle is known; NULL where it is not (``idle_unknown_hours``: Phase 1 without node
  capacity, an exporter cluster without namespace gauges), with one warning per account and cause.

So for every account, hour and cost column of the namespace rows, Σ namespaces = the account's row,
to the nano-dollar; days are exact sums of hours, so the same holds per day.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from etl.costing.currency import require_one_currency
from etl.costing.parts import combine_parts, scale_parts
from etl.costing.phase import EXPORTER_SHARE, RAW_SHARE, phase_shares
from etl.model import (
    ACCOUNT_COLUMN,
    CURRENCY_COLUMN,
    EFFICIENCY_COLUMNS,
    IDLE_COLUMN,
    IDLE_COMPONENTS,
    IDLE_NAMESPACE,
    IDLE_UNKNOWN_COLUMN,
    KEY_COLUMNS,
    NAMESPACE_COLUMN,
    NAMESPACE_COST_COLUMNS,
    NAMESPACE_HOURLY_COLUMNS,
    NAMESPACE_KEY_COLUMNS,
    NEGATIVE_IDLE_COLUMN,
    PHASE_COLUMN,
    PHASE_RAW,
    HourRange,
    hour_label,
)

log = logging.getLogger(__name__)
SHOWN_HOURS = 6
# The most a residual can be off by rounding, per namespace row of the hour and the cluster's row:
# half a nano-dollar for the total and each of the six components, management their difference.
ROUNDING_NANO = 4


def _in_shares(namespaces: pd.DataFrame, shares: pd.DataFrame, share: str) -> pd.DataFrame:
    """The namespace parts of the account-hours that take ``share`` of their hour from this phase."""
    if namespaces.empty:
        return namespaces
    frame = namespaces.assign(hour_start=pd.to_datetime(namespaces["hour_start"], utc=True))
    frame = frame.merge(shares[[*KEY_COLUMNS, share]], on=KEY_COLUMNS)
    frame = frame[frame[share] > 0]
    return scale_parts(frame[NAMESPACE_HOURLY_COLUMNS], frame[share])


def namespace_breakdown(rows: pd.DataFrame, exporter_rows: pd.DataFrame, exporter_namespaces: pd.DataFrame,
                        raw_namespaces: pd.DataFrame, hours: HourRange) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The chosen hourly rows (etl.costing.phase.choose_phase_per_hour) with their idle and
    negative-idle flag, and their namespace rows (NAMESPACE_HOURLY_COLUMNS, ``__idle__`` included)."""
    if rows.empty:
        return rows, pd.DataFrame(columns=NAMESPACE_HOURLY_COLUMNS)
    rows = rows.assign(hour_start=pd.to_datetime(rows["hour_start"], utc=True)).reset_index(drop=True)
    shares = phase_shares(rows, exporter_rows)
    parts = [part for part in (_in_shares(exporter_namespaces, shares, EXPORTER_SHARE),
                               _in_shares(raw_namespaces, shares, RAW_SHARE)) if not part.empty]
    namespaces = combine_parts(pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(),
                               NAMESPACE_KEY_COLUMNS, columns=NAMESPACE_HOURLY_COLUMNS)
    currencies = [frame[[*KEY_COLUMNS, CURRENCY_COLUMN]] for frame in (rows, namespaces)]
    require_one_currency(pd.concat(currencies), KEY_COLUMNS, "the hour")
    allocated = namespaces.groupby(KEY_COLUMNS)[NAMESPACE_COST_COLUMNS].sum()
    cluster = rows.set_index(KEY_COLUMNS)[NAMESPACE_COST_COLUMNS]
    residual = cluster.sub(allocated.reindex(cluster.index, fill_value=0)).astype("int64")
    rounded = namespaces.groupby(KEY_COLUMNS).size().reindex(cluster.index, fill_value=0) + 1  # rows of the hour
    negative = residual.lt(-ROUNDING_NANO * rounded, axis=0).any(axis=1).to_numpy()
    known = rows[IDLE_UNKNOWN_COLUMN].to_numpy() == 0
    idle = residual[IDLE_COMPONENTS].sum(axis=1).to_numpy()
    rows[NEGATIVE_IDLE_COLUMN] = negative.astype("int64")
    rows[IDLE_COLUMN] = pd.array(np.where(known, idle, 0), dtype="Int64")
    rows.loc[~known, IDLE_COLUMN] = pd.NA
    _warn(rows, negative, known, hours)
    idle_rows = residual[(residual != 0).any(axis=1).to_numpy()].reset_index()
    idle_rows[NAMESPACE_COLUMN] = IDLE_NAMESPACE
    idle_rows[EFFICIENCY_COLUMNS] = np.nan  # capacity nobody uses has no efficiency
    idle_rows = idle_rows.merge(rows[[*KEY_COLUMNS, CURRENCY_COLUMN, PHASE_COLUMN]], on=KEY_COLUMNS)
    frames = [frame for frame in (namespaces, idle_rows[NAMESPACE_HOURLY_COLUMNS]) if not frame.empty]
    breakdown = pd.concat(frames, ignore_index=True) if frames else namespaces
    return rows, breakdown.sort_values(NAMESPACE_KEY_COLUMNS).reset_index(drop=True)[NAMESPACE_HOURLY_COLUMNS]


def _shown(starts: pd.Series) -> str:
    labels = [hour_label(start) for start in sorted(starts)]
    more = f" and {len(labels) - SHOWN_HOURS} more" if len(labels) > SHOWN_HOURS else ""
    return ", ".join(labels[:SHOWN_HOURS]) + more


def _warn(rows: pd.DataFrame, negative: np.ndarray, known: np.ndarray, hours: HourRange) -> None:
    """One warning per account and kind: negative idle (with its hours), unknown idle (with why)."""
    for account, starts in rows[negative].groupby(ACCOUNT_COLUMN, sort=True)["hour_start"]:
        log.warning("Account %s: its namespaces add up to more than the cluster in %d hour(s) of %s: %s; the %s row "
                    "holds the negative difference as it is (flagged negative_idle_hours; `doctor` lists it)",
                    account, len(starts), hours, _shown(starts), IDLE_NAMESPACE)
    unknown = rows[~known].assign(raw=lambda frame: frame[PHASE_COLUMN] == PHASE_RAW)
    for (name, raw), group in unknown.groupby([ACCOUNT_COLUMN, "raw"], sort=True):
        why = ("Phase 1 found no node capacity (kube_node_status_capacity_cpu_cores and _memory_bytes): those "
               "hours cost what was allocated, without idle" if raw else
               "the exporter published no namespace gauges for them (or for one of their phases or clusters): their "
               "cost is __unallocated__ and their idle unknown")
        # Phase 1 without capacity changes what the total means (no idle in it): a warning. An exporter
        # without namespace gauges (older versions) only leaves the idle unknown inside a full total.
        log.log(logging.WARNING if raw else logging.INFO, "Account %s: idle unknown in %d hour(s) of %s (first %s): %s "
                "(idle_cost NULL, flagged idle_unknown_hours)", name, len(group), hours,
                hour_label(group["hour_start"].min()), why)
