"""Parts of an account-hour (clusters, shares of a degraded hour) -> the account-hour."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from etl.costing.parts import combine_parts, scale_parts
from etl.errors import MoneyBoundError
from etl.model import MAX_HOURLY_NANO
from tests.support.datasets import hourly_rows as hourly


def test_money_is_summed_exactly_and_flags_and_clusters_united() -> None:
    parts = pd.concat([hourly("a", range(1), "exporter", 7, clusters="c1", exporter_stale_hours=1),
                       hourly("a", range(1), "raw", 5, default_priced_hours=1, default_priced_resources="cpu:node/n")])
    row = combine_parts(parts).iloc[0]
    assert (row["total_cost"], row["cpu_cost"]) == (12, 12)
    assert (row["exporter_stale_hours"], row["default_priced_hours"]) == (1, 1)
    assert (row["clusters"], row["default_priced_resources"], row["source_phase"]) == ("c1", "cpu:node/n", "mixed")


def test_efficiencies_are_weighed_by_their_cost() -> None:
    parts = pd.concat([hourly("a", range(1), "exporter", 300, cpu_efficiency=20.0),
                       hourly("a", range(1), "exporter", 100, cpu_efficiency=np.nan)])
    assert combine_parts(parts)["cpu_efficiency"].tolist() == [20.0]  # unknown parts weigh nothing


def test_a_sum_beyond_the_bound_is_refused() -> None:
    half = MAX_HOURLY_NANO // 2 + 1
    with pytest.raises(MoneyBoundError, match="account a"):
        combine_parts(pd.concat([hourly("a", range(1), "exporter", half), hourly("a", range(1), "exporter", half)]))


def test_scaled_parts_still_add_up_to_their_total() -> None:
    rows = hourly("a", range(1), "exporter", 10, cpu_cost=3, ram_cost=3, management_cost=4)
    scaled = scale_parts(rows, pd.Series([1 / 3])).iloc[0]
    # 3/3 = 1 each, management 4/3 -> 1; the total is their sum, 3 (not round(10/3) = 3 by luck)
    assert scaled[["cpu_cost", "ram_cost", "management_cost", "total_cost"]].tolist() == [1, 1, 1, 3]
