"""How efficiencies combine: within an hour (a Phase 1 total) and over hours or days.

Both follow one rule, model.EFFICIENCY_WEIGHTS: an efficiency is weighed by the cost it tells the
used share of, and the total efficiency by all of those costs. The SQL of the monthly view is
generated from the same table (etl.store.views).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from etl.model import EFFICIENCY_DECIMALS, EFFICIENCY_OF_COST, EFFICIENCY_WEIGHTS


def total_efficiency(efficiencies: Mapping[str, Any], costs: Mapping[str, Any]) -> Any:
    """The total efficiency of one hour from its component efficiencies (keyed by efficiency
    column) and costs (keyed by cost column): the cost-weighted mean of the components.

    Works on floats and on Series alike. An unknown (NaN) component leaves the total unknown, never
    a partial guess; zero weight gives NaN (a Series) or raises ZeroDivisionError (floats: callers
    with possibly zero costs pass Series).
    """
    weighted = sum(efficiencies[EFFICIENCY_OF_COST[cost]] * costs[cost] for cost in EFFICIENCY_OF_COST)
    weight = sum(costs[cost] for cost in EFFICIENCY_OF_COST)
    if isinstance(weight, pd.Series):
        weight = weight.astype("float64").where(weight > 0)
    return weighted / weight


def combine_efficiencies(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """EFFICIENCY_WEIGHTS columns per ``keys`` group, each the mean of the group's known
    efficiencies weighted by the matching cost; where every known row had zero cost the weights say
    nothing and the plain mean is used; with no known row it is NaN (NULL), never 0.
    Used for hours -> day and for days -> a report's range.
    """
    frame = frame.copy()
    helper_columns = []
    for column, weight_columns in EFFICIENCY_WEIGHTS.items():
        known = frame[column].notna()
        weight = frame[weight_columns].sum(axis=1).astype("float64").where(known, 0.0)
        efficiency = frame[column].astype("float64").where(known, 0.0)
        frame[f"{column}__weighted"] = efficiency * weight
        frame[f"{column}__weight"] = weight
        frame[f"{column}__plain"] = efficiency
        frame[f"{column}__known"] = known.astype("int64")
        helper_columns += [f"{column}__{part}" for part in ("weighted", "weight", "plain", "known")]
    sums = frame.groupby(keys, sort=True)[helper_columns].sum()
    combined = pd.DataFrame(index=sums.index)
    for column in EFFICIENCY_WEIGHTS:
        weight, known = sums[f"{column}__weight"], sums[f"{column}__known"]
        weighted = sums[f"{column}__weighted"] / weight.where(weight > 0)
        plain = sums[f"{column}__plain"] / known.where(known > 0)
        combined[column] = weighted.where(weight > 0, plain).round(EFFICIENCY_DECIMALS)
    return combined
