"""The namespace report: an account's cost per namespace over UTC days, read from
k8s_namespace_daily_costs; ``namespace_costs`` is the entry point (``etl.report`` exports it) and
``report --by namespace`` prints it.

- The namespaces, ``__idle__`` and ``__unallocated__`` included, add up to the cluster report's
  figures exactly (summary); money is summed in nano-dollars and rounded to cents only when shown,
  as in etl.read.report.
- ``share`` (e.g. kube-system, monitoring) and ``share_idle``: those namespaces' cost (and the
  idle) is spread over the others per day, in proportion to their cost (etl.costing.share); the
  summary does not change by a nano-dollar. Each namespace says what it received
  (``shared_cost``); ``shared`` says what was spread, and on which days nothing could be (no
  other namespace had a cost), which then stays where it was.
- Efficiency over the range is cost-weighted (etl.costing.efficiency), the namespace's own.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from etl.costing.efficiency import combine_efficiencies
from etl.costing.share import SHARED_COLUMN, share_costs
from etl.errors import CurrencyMixError
from etl.model import (
    CURRENCY_COLUMN,
    EFFICIENCY_COLUMNS,
    HOURS_COVERED_COLUMN,
    IDLE_NAMESPACE,
    NAMESPACE_COLUMN,
    NAMESPACE_COST_COLUMNS,
    SAVINGS_COLUMN,
    SPECIAL_NAMESPACES,
    HourRange,
)
from etl.read.report import cents, daily_in_nano, percent, require_ordered
from etl.store.reader import fetch_namespace_daily


def namespace_costs(engine: Engine, account: str, first_day: date, last_day: date, share: Collection[str] = (),
                    share_idle: bool = False) -> dict[str, Any]:
    """The namespace report of one cloud account over UTC days first_day..last_day (inclusive)."""
    require_ordered(first_day, last_day)
    days = fetch_namespace_daily(engine, [account], first_day, last_day)
    return shape_namespace_report(account, first_day, last_day, days, share, share_idle)


def _sum(values: pd.Series) -> int:
    return sum(int(value) for value in values)


def _namespace(name: str, rows: pd.DataFrame) -> dict[str, Any]:
    savings = rows[SAVINGS_COLUMN].dropna()
    efficiency = combine_efficiencies(rows.assign(key=0), ["key"]).iloc[0]
    return {
        NAMESPACE_COLUMN: name,
        **{column: cents(_sum(rows[column])) for column in NAMESPACE_COST_COLUMNS},
        SHARED_COLUMN: cents(_sum(rows[SHARED_COLUMN])),
        SAVINGS_COLUMN: cents(_sum(savings)) if len(savings) else None,
        "efficiency": {column: percent(efficiency[column]) for column in EFFICIENCY_COLUMNS},
        HOURS_COVERED_COLUMN: int(rows[HOURS_COVERED_COLUMN].sum()),
        "days_covered": len(rows),
    }


def _order(name: str, total: int) -> tuple[bool, int, str]:
    """Largest first, the idle and unallocated rows last."""
    return name in SPECIAL_NAMESPACES, -total, name


def shape_namespace_report(account: str, first_day: date, last_day: date, days: pd.DataFrame,
                           share: Collection[str] = (), share_idle: bool = False) -> dict[str, Any]:
    """The report's object from stored namespace days of the range (see the module docstring)."""
    nano = daily_in_nano(days)
    currencies = sorted(set(nano[CURRENCY_COLUMN])) if len(nano) else []
    if len(currencies) > 1:
        raise CurrencyMixError(account, currencies, f"the range {first_day}..{last_day}")
    shared, kept = share_costs(nano, share, share_idle)
    groups = {str(name): rows for name, rows in shared.groupby(NAMESPACE_COLUMN, sort=True)}
    names = sorted(groups, key=lambda name: _order(name, _sum(groups[name]["total_cost"])))
    givers = nano[nano[NAMESPACE_COLUMN].isin([*share, *([IDLE_NAMESPACE] if share_idle else [])])]
    moved = givers.groupby(NAMESPACE_COLUMN)["total_cost"].agg(_sum).sub(
        kept.groupby(NAMESPACE_COLUMN)["total_cost"].agg(_sum) if len(kept) else pd.Series(dtype="int64"),
        fill_value=0)
    hours = HourRange.for_days(first_day, last_day)
    return {
        "cloud_account_id": account,
        "start_date": int(hours.start.timestamp()),
        "end_date": int(hours.end.timestamp()),
        CURRENCY_COLUMN: currencies[0] if currencies else None,
        "by": NAMESPACE_COLUMN,
        "summary": {column: cents(_sum(nano[column])) for column in NAMESPACE_COST_COLUMNS},
        "shared": {
            "namespaces": sorted(share), "idle": share_idle,
            "cost": {str(name): cents(int(value)) for name, value in moved.fillna(0).items()},
            "not_shared_on": sorted({str(day) for day in kept["usage_date"]}) if len(kept) else [],
        },
        "namespaces": [_namespace(name, groups[name]) for name in names],
        "days": [{"date": str(day), "namespaces": dict(zip(rows[NAMESPACE_COLUMN].astype(str),
                                                            (cents(int(total)) for total in rows["total_cost"]),
                                                            strict=True))}
                 for day, rows in shared.groupby("usage_date", sort=True)],
    }
