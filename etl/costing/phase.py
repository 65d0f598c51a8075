"""The phase choice, hour by hour: the exporter's row where it has one, else the Phase 1 row."""

from __future__ import annotations

import logging

import pandas as pd

from etl.model import HOURLY_COLUMNS, KEY_COLUMNS, hour_label

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
    for account, hours in exporter_rows[zero_with_raw].groupby("cloud_account_id")["hour_start"]:
        log.warning("Phase 2 exporter reported $0 for %s in %d hour(s) from %s while Phase 1 raw metrics show "
                    "costed allocations: using Phase 1 for those hours", account, len(hours), hour_label(hours.min()))
    return exporter_rows[~zero_with_raw].reset_index(drop=True)


def choose_phase_per_hour(exporter_rows: pd.DataFrame, raw_rows: pd.DataFrame) -> pd.DataFrame:
    """Per account and hour: the exporter's row where it has one, else the Phase 1 row.
    An exporter hour of $0 yields to a Phase 1 row that has a cost (without_zero_exporter_hours).

    Both inputs are hourly rows (HOURLY_COLUMNS); each (account, hour) appears once in the result,
    so an hour is never counted twice nor lost when the exporter starts or stops mid-day.
    """
    # One hour type on both sides, so the key comparisons below (merge, de-duplication) match.
    exporter_rows = exporter_rows.assign(hour_start=pd.to_datetime(exporter_rows["hour_start"], utc=True))
    raw_rows = raw_rows.assign(hour_start=pd.to_datetime(raw_rows["hour_start"], utc=True))
    exporter_rows = without_zero_exporter_hours(exporter_rows, raw_rows)
    frames = [frame for frame in (exporter_rows, raw_rows) if not frame.empty]
    if not frames:
        return pd.DataFrame(columns=HOURLY_COLUMNS)
    combined = pd.concat(frames, ignore_index=True)
    # Exporter rows come first, so keep="first" prefers them.
    chosen = combined.drop_duplicates(subset=KEY_COLUMNS, keep="first")
    return chosen.sort_values(KEY_COLUMNS).reset_index(drop=True)[HOURLY_COLUMNS]
