"""Splitting money into integer nano-dollar parts that add up to a whole exactly.

- ``largest_remainder``: an amount in proportion to weights (components scaled to a total, shared
  namespaces' cost spread over the others): each part is the floor of its exact share, and the
  nano-dollars left go one each to the largest remainders (ties: the earlier part).
- ``round_to_sum``: amounts computed in floats (Phase 1 allocations x prices) to integers whose sum
  per group is the group's float sum rounded once: a cluster's figure is then the exact sum of its
  namespaces' figures, and the same figure a rounding of the cluster's sum gives.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd


def largest_remainder(amount: int, weights: Sequence[int]) -> list[int]:
    """``amount`` (any sign) split in proportion to ``weights`` (>= 0, not all 0) into integers
    that add up to it exactly."""
    whole = sum(weights)
    shares = [amount * weight // whole for weight in weights]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(amount * weights[i] % whole), i))
    for i in by_remainder[: amount - sum(shares)]:
        shares[i] += 1
    return shares


def round_to_sum(values: pd.Series, groups: Sequence[pd.Series]) -> pd.Series:
    """``values`` (floats) rounded to int64 so that each group's parts add up to the rounding of the
    group's running sum: each part is the step of the rounded cumulative sum (within 1 of its value)."""
    if values.empty:
        return values.astype("int64")
    keys = [group.to_numpy() for group in groups]
    running = values.astype("float64").groupby(keys, sort=False).cumsum().round()
    before = running.groupby(keys, sort=False).shift(1, fill_value=0.0)
    return (running - before).astype("int64")
