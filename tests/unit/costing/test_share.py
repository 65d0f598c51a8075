"""Shared costs spread at read time (etl.costing.share): exact to the nano-dollar, hand-worked.

One day of acct: shop 6 (cpu 4, ram 2), search 3 (cpu 2, ram 1), kube-system 1.5 (cpu 1, ram 0.5),
__idle__ 4.5 (cpu 3, ram 1.5): 15 in all. Receivers weigh their own totals, shop 6 : search 3.
"""

from __future__ import annotations

import pandas as pd

from etl.costing.share import SHARED_COLUMN, share_costs
from etl.model import NAMESPACE_COST_COLUMNS, NANO

DAY = pd.Timestamp("2026-10-12").date()


def day(**namespaces: tuple[float, float]) -> pd.DataFrame:
    rows = []
    for name, (cpu, ram) in namespaces.items():
        row = dict.fromkeys(NAMESPACE_COST_COLUMNS, 0)
        row.update(cpu_cost=round(cpu * NANO), ram_cost=round(ram * NANO), total_cost=round((cpu + ram) * NANO))
        rows.append({"cloud_account_id": "acct", "usage_date": DAY, "namespace": name, **row})
    return pd.DataFrame(rows)


DATA = day(shop=(4, 2), search=(2, 1), **{"kube-system": (1, 0.5), "__idle__": (3, 1.5)})


def by_name(frame: pd.DataFrame, *columns: str) -> dict[str, tuple[int, ...]]:
    return {row["namespace"]: tuple(int(row[column]) for column in columns) for _, row in frame.iterrows()}


def test_a_shared_namespace_is_spread_in_proportion_and_totals_stay_exact() -> None:
    shared, kept = share_costs(DATA, {"kube-system"}, share_idle=False)
    # cpu 1 $ = 1e9 nano: shop 6/9 = 666666666.67 -> 666666666, search 333333333.33 -> 333333333, the one
    #   nano left to the larger remainder (shop): 666666667 + 333333333.
    # ram 0.5 $: shop 333333333.33 -> 333333333, search 166666666.67 -> 166666666, the one left to search.
    # Totals received: shop 1.000000000, search 0.500000000; the idle neither gives nor receives.
    assert by_name(shared, "total_cost", "cpu_cost", "ram_cost", SHARED_COLUMN) == {
        "shop": (7_000_000_000, 4_666_666_667, 2_333_333_333, 1_000_000_000),
        "search": (3_500_000_000, 2_333_333_333, 1_166_666_667, 500_000_000),
        "__idle__": (4_500_000_000, 3_000_000_000, 1_500_000_000, 0)}
    assert kept.empty
    for column in NAMESPACE_COST_COLUMNS:  # the shared report's totals equal the unshared ones
        assert shared[column].sum() == DATA[column].sum(), column


def test_the_idle_is_shared_too_when_asked() -> None:
    shared, _ = share_costs(DATA, {"kube-system"}, share_idle=True)
    # cpu 1 + 3 = 4 $: shop 2666666666.67 -> 2666666667 (the larger remainder), search 1333333333;
    # ram 0.5 + 1.5 = 2 $: shop 1333333333, search 666666666.67 -> 666666667. Received: 4 $ and 2 $.
    assert by_name(shared, "total_cost", SHARED_COLUMN) == {"shop": (10_000_000_000, 4_000_000_000),
                                                           "search": (5_000_000_000, 2_000_000_000)}


def test_a_day_without_a_receiver_keeps_its_shared_cost() -> None:
    only_shared = day(**{"kube-system": (1, 0.5), "__idle__": (3, 1.5)})
    shared, kept = share_costs(only_shared, {"kube-system"}, share_idle=True)
    assert by_name(shared, "total_cost") == {"kube-system": (1_500_000_000,), "__idle__": (4_500_000_000,)}
    assert sorted(kept["namespace"]) == ["__idle__", "kube-system"]
