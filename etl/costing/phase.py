"""The phase choice, hour by hour: the exporter's row where it has one, else the Phase 1 row.

Rules, per account and hour (docs/phase1.md, "Choosing the phase, hour by hour"):

1. An exporter hour of $0 yields to a Phase 1 row that has a cost (an exporter that lost its
   prices reports $0); without one it is stored, flagged (EXPORTER_ZERO_COLUMN) and warned about.
2. An exporter hour with failed-scrape minutes (UNHEALTHY_MINUTES_COLUMN) is degraded: its
   figures come from its healthy minutes. The failed share of the hour, u / (healthy + u), is
   taken from the Phase 1 row when there is one (the hour is then "mixed"); without one the
   healthy figures are held over it and the row is flagged (EXPORTER_STALE_COLUMN).
3. Otherwise the exporter's row, else the Phase 1 row, else no row.
"""

from __future__ import annotations

import logging

import pandas as pd

from etl.costing.parts import combine_parts, scale_parts
from etl.model import (
    ACCOUNT_COLUMN,
    EXPORTER_STALE_COLUMN,
    EXPORTER_ZERO_COLUMN,
    HEALTHY_MINUTES_COLUMN,
    HOURLY_COLUMNS,
    KEY_COLUMNS,
    PHASE_COLUMN,
    PHASE_EXPORTER,
    PHASE_MIXED,
    UNHEALTHY_MINUTES_COLUMN,
    hour_label,
)

log = logging.getLogger(__name__)


def without_zero_exporter_hours(exporter_rows: pd.DataFrame, raw_rows: pd.DataFrame) -> pd.DataFrame:
    """Drop the exporter hours whose total is $0 while the raw metrics show allocations with a cost
    in that hour: an exporter that lost its prices reports $0 (the failure the tool exists to stop),
    and a silent $0 is worse than the Phase 1 figure. The drop is logged per account.
    Both frames' ``hour_start`` must be of one type (choose_phase_per_hour sees to it)."""
    if exporter_rows.empty or raw_rows.empty:
        return exporter_rows
    costly_raw = raw_rows.loc[raw_rows["total_cost"] > 0, KEY_COLUMNS]
    flagged = exporter_rows.merge(costly_raw, on=KEY_COLUMNS, how="left", indicator=True)["_merge"].eq("both")
    zero_with_raw = (exporter_rows["total_cost"] == 0).to_numpy() & flagged.to_numpy()
    for account, hours in exporter_rows[zero_with_raw].groupby(ACCOUNT_COLUMN)["hour_start"]:
        log.warning("Phase 2 exporter reported $0 for %s in %d hour(s) from %s while Phase 1 raw metrics show "
                    "costed allocations: using Phase 1 for those hours", account, len(hours), hour_label(hours.min()))
    return exporter_rows[~zero_with_raw].reset_index(drop=True)


def flag_zero_hours(exporter_rows: pd.DataFrame) -> pd.DataFrame:
    """Flag (and warn once per account about) the exporter hours of exactly $0 that remain."""
    zero = exporter_rows["total_cost"] == 0
    for account, hours in exporter_rows[zero].groupby(ACCOUNT_COLUMN)["hour_start"]:
        log.warning("Phase 2 exporter reported $0 for %s in %d hour(s) from %s and no Phase 1 data contradicts it: "
                    "stored as $0, flagged (exporter_zero_hours)", account, len(hours), hour_label(hours.min()))
    return exporter_rows.assign(**{EXPORTER_ZERO_COLUMN: zero.astype("int64")})


def failed_share(exporter_rows: pd.DataFrame) -> pd.Series:
    """Per exporter row: the share of its hour the exporter reported failed scrapes, u / (h + u)."""
    unhealthy = exporter_rows[UNHEALTHY_MINUTES_COLUMN].fillna(0).astype("int64")
    healthy = exporter_rows[HEALTHY_MINUTES_COLUMN].fillna(0).astype("int64")
    return (unhealthy / (healthy + unhealthy).where(unhealthy > 0, 1)).astype("float64")


def with_degraded_hours(exporter_rows: pd.DataFrame, raw_rows: pd.DataFrame) -> pd.DataFrame:
    """Exporter rows with their degraded hours resolved (rule 2 of the module)."""
    share = failed_share(exporter_rows)
    degraded = share > 0
    if not degraded.any():
        return exporter_rows[HOURLY_COLUMNS]
    failed = share[degraded]
    hurt = exporter_rows[degraded]
    raw = hurt[KEY_COLUMNS].merge(raw_rows, on=KEY_COLUMNS, how="left", indicator=True)
    covered = (raw.pop("_merge") == "both").to_numpy()
    mixed = combine_parts(pd.concat([
        scale_parts(hurt[covered][HOURLY_COLUMNS], 1 - failed[covered]),
        scale_parts(raw[covered][HOURLY_COLUMNS].set_index(hurt.index[covered]), failed[covered]),
    ]))
    held = hurt[~covered][HOURLY_COLUMNS].assign(**{EXPORTER_STALE_COLUMN: 1})
    for account, group in hurt.groupby(ACCOUNT_COLUMN):
        at = hurt.index.get_indexer(group.index)
        log.warning("Phase 2 exporter for %s reported failed scrapes in %d hour(s) from %s: %d of them take the "
                    "failed minutes from Phase 1, %d hold the exporter's healthy figures over them (flagged "
                    "exporter_stale_hours)", account, len(group), hour_label(group["hour_start"].min()),
                    int(covered[at].sum()), int((~covered[at]).sum()))
    return pd.concat([exporter_rows[~degraded][HOURLY_COLUMNS], mixed, held], ignore_index=True)


def choose_phase_per_hour(exporter_rows: pd.DataFrame, raw_rows: pd.DataFrame) -> pd.DataFrame:
    """Per account and hour, one row as the module says. ``exporter_rows`` are hourly rows, with
    the minute columns for degraded hours (without them no hour is degraded); ``raw_rows`` are
    hourly rows. Each (account, hour) appears once in the result, so an hour is never counted
    twice nor lost when the exporter starts or stops mid-day."""
    # One hour type on both sides, so the key comparisons below (merge, de-duplication) match.
    exporter_rows = exporter_rows.assign(hour_start=pd.to_datetime(exporter_rows["hour_start"], utc=True))
    raw_rows = raw_rows.assign(hour_start=pd.to_datetime(raw_rows["hour_start"], utc=True))
    for column in (HEALTHY_MINUTES_COLUMN, UNHEALTHY_MINUTES_COLUMN):
        if column not in exporter_rows:
            exporter_rows[column] = 0
    exporter_rows = without_zero_exporter_hours(exporter_rows, raw_rows)
    exporter_rows = flag_zero_hours(with_degraded_hours(exporter_rows, raw_rows))
    frames = [frame for frame in (exporter_rows, raw_rows) if not frame.empty]
    if not frames:
        return pd.DataFrame(columns=HOURLY_COLUMNS)
    combined = pd.concat(frames, ignore_index=True)
    # Exporter rows (and the mixed ones) come first, so keep="first" prefers them.
    chosen = combined.drop_duplicates(subset=KEY_COLUMNS, keep="first")
    return chosen.sort_values(KEY_COLUMNS).reset_index(drop=True)[HOURLY_COLUMNS]


EXPORTER_SHARE, RAW_SHARE = "exporter_share", "raw_share"


def phase_shares(chosen: pd.DataFrame, exporter_rows: pd.DataFrame) -> pd.DataFrame:
    """Per chosen row (choose_phase_per_hour): the share of its hour taken from the exporter and from
    Phase 1 (1 and 0, 0 and 1, or a degraded hour's healthy and failed shares), so that a breakdown
    of the hour (its namespaces) is taken from the same phases in the same shares."""
    shares = chosen[KEY_COLUMNS].copy()
    phase = chosen[PHASE_COLUMN].to_numpy()
    shares[EXPORTER_SHARE] = (phase == PHASE_EXPORTER).astype("float64")
    mixed = phase == PHASE_MIXED
    if mixed.any():
        exporter = exporter_rows.assign(hour_start=pd.to_datetime(exporter_rows["hour_start"], utc=True))
        failed = exporter[KEY_COLUMNS].assign(failed=failed_share(exporter))
        healthy = 1 - shares[KEY_COLUMNS].merge(failed, on=KEY_COLUMNS, how="left")["failed"].to_numpy()
        shares.loc[mixed, EXPORTER_SHARE] = healthy[mixed]
    shares[RAW_SHARE] = 1 - shares[EXPORTER_SHARE]
    return shares
