"""Bounds on what may become money or an efficiency: a figure beyond them is bad data, refused by
name (money) or stored as unknown (efficiency), never wrapped, never allowed to block other figures.

- Money: every figure of one account-hour must stay below model.MAX_HOURLY_DOLLARS (in its
  currency). Above it (or infinite) the account's chunk fails with a MoneyBoundError naming the
  account, the metric and the hour; below it no sum the tool makes can leave int64 nano-dollars.
- Efficiency: a finite percentage below model.MAX_EFFICIENCY is stored (usage over requests makes
  1000 % real); anything else is unknown (NaN, stored NULL), with a warning naming account, metric
  and hours. Costs of the hour are stored either way.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
import pandas as pd

from etl.errors import MoneyBoundError
from etl.model import (
    ACCOUNT_COLUMN,
    EFFICIENCY_COLUMNS,
    MAX_EFFICIENCY,
    MAX_HOURLY_DOLLARS,
    MAX_HOURLY_NANO,
    NANO,
    hour_label,
)

log = logging.getLogger(__name__)


def _name(column: str, names: Mapping[str, str]) -> str:
    return names.get(column, column)


def check_dollars(frame: pd.DataFrame, columns: list[str], names: Mapping[str, str] | None = None) -> None:
    """Raise MoneyBoundError for the first (account, hour) whose USD-per-hour figure in ``columns``
    is beyond MAX_HOURLY_DOLLARS, infinite or negative. ``names`` maps a column to the metric it came
    from. (The queries already leave negative and non-finite samples out, as missing: a negative figure
    here did not come through them, and is refused rather than stored as negative money.)"""
    for column in columns:
        if column not in frame:
            continue
        values = frame[column].astype("float64")
        beyond = ~((values >= 0) & (values < MAX_HOURLY_DOLLARS)) & values.notna()
        if beyond.any():
            row = frame[beyond].sort_values(["hour_start", ACCOUNT_COLUMN]).iloc[0]
            raise MoneyBoundError(str(row[ACCOUNT_COLUMN]), _name(column, names or {}),
                                  hour_label(row["hour_start"]), float(row[column]), MAX_HOURLY_DOLLARS)


def check_nano(frame: pd.DataFrame, columns: list[str]) -> None:
    """As check_dollars, for sums already in integer nano-dollars (clusters of one account)."""
    for column in columns:
        beyond = frame[column].abs() >= MAX_HOURLY_NANO
        if beyond.any():
            row = frame[beyond].sort_values(["hour_start", ACCOUNT_COLUMN]).iloc[0]
            raise MoneyBoundError(str(row[ACCOUNT_COLUMN]), f"the sum of {column}", hour_label(row["hour_start"]),
                                  int(row[column]) / NANO, MAX_HOURLY_DOLLARS)


def bounded_efficiencies(frame: pd.DataFrame, names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The frame with each EFFICIENCY_COLUMNS value that is no storable percentage (infinite,
    negative, MAX_EFFICIENCY or more) made NaN, and a warning per account and column."""
    frame = frame.copy()
    for column in EFFICIENCY_COLUMNS:
        if column not in frame:
            continue
        values = frame[column].astype("float64")
        absurd = values.notna() & ~((values >= 0) & (values < MAX_EFFICIENCY))
        if absurd.any():
            for account, hours in frame[absurd].groupby(ACCOUNT_COLUMN, sort=True)["hour_start"]:
                log.warning("Account %s: %s is no storable percentage (e.g. %.6g) in %d hour(s) from %s: stored "
                            "as unknown (NULL); the costs of those hours are stored", account,
                            _name(column, names or {}), values[absurd].iloc[0], len(hours), hour_label(hours.min()))
        frame[column] = values.where(~absurd, np.nan)
    return frame
