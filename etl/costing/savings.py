"""Potential savings: the cost of allocated but unused CPU and RAM (model.EFFICIENCY_OF_COST)."""

from __future__ import annotations

import pandas as pd

from etl.model import EFFICIENCY_DECIMALS, EFFICIENCY_OF_COST


def unused_cost(cost_nano: pd.Series, efficiency: pd.Series) -> pd.Series:
    """Nano-dollars of ``cost`` allocated but not used: cost x (1 - efficiency/100), <NA> where the
    efficiency is unknown.

    The unused share is clamped to [0, 1]: an efficiency above 100 % (usage over requests) saves
    nothing rather than a negative amount. Integer arithmetic on the efficiency's stored
    EFFICIENCY_DECIMALS gives exactly what the NUMERIC formula in migration 0003 gives, rounded
    half-up to the nano-dollar.
    """
    scale = 100 * 10**EFFICIENCY_DECIMALS  # efficiency 100 % in units of its last stored decimal
    known = efficiency.notna()
    unused = ((100.0 - efficiency.astype("float64").where(known, 100.0)) * 10**EFFICIENCY_DECIMALS).round()
    unused_units = unused.clip(lower=0, upper=scale).astype("int64")
    cost = cost_nano.astype("int64").clip(lower=0)
    whole, rest = cost // scale, cost % scale  # split so no product can overflow int64
    savings: pd.Series = whole * unused_units + (rest * unused_units + scale // 2) // scale
    return savings.astype("Int64").where(known, pd.NA)


def hourly_potential_savings(hourly: pd.DataFrame) -> pd.Series:
    """Per hour: the unused part of each cost that has an efficiency (EFFICIENCY_OF_COST); a part
    whose efficiency is unknown adds nothing, and an hour where none is known has <NA>, never 0.
    """
    parts = [unused_cost(hourly[cost], hourly[efficiency]) for cost, efficiency in EFFICIENCY_OF_COST.items()]
    any_known = pd.concat([part.notna() for part in parts], axis=1).any(axis=1)
    total = sum((part.fillna(0) for part in parts), start=pd.Series(0, index=hourly.index, dtype="Int64"))
    return total.where(any_known, pd.NA)
