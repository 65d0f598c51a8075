"""Per account-hour phase choice, exporter health, and the daily roll-up of default-priced hours."""

from __future__ import annotations

import numpy as np
import pandas as pd

from etl.costs import (
    HOURLY_COLUMNS,
    choose_phase_per_hour,
    daily_rollup,
    join_resource_lists,
    without_unhealthy_hours,
)

DAY = pd.Timestamp("2026-10-05T00:00Z")


def hourly(account: str, hours: range, phase: str, total: int, defaulted: str | None = None) -> pd.DataFrame:
    rows = []
    for h in hours:
        row: dict[str, object] = dict.fromkeys(HOURLY_COLUMNS, 0)
        row.update(cloud_account_id=account, hour_start=DAY + pd.Timedelta(hours=h), total_cost=total,
                   cpu_cost=total, cpu_efficiency=np.nan, ram_efficiency=np.nan, total_efficiency=np.nan,
                   default_priced_hours=int(defaulted is not None), default_priced_resources=defaulted,
                   source_phase=phase)
        rows.append(row)
    return pd.DataFrame(rows, columns=HOURLY_COLUMNS)


def test_exporter_hours_win_and_raw_fills_the_rest() -> None:
    exporter = hourly("a", range(12, 24), "exporter", 1000)
    raw = hourly("a", range(24), "raw", 110)
    chosen = choose_phase_per_hour(exporter, raw)
    assert len(chosen) == 24  # no hour lost, none twice
    phases = chosen.set_index(chosen["hour_start"].dt.hour)["source_phase"]
    assert phases.to_dict() == {h: "raw" if h < 12 else "exporter" for h in range(24)}
    day = daily_rollup(chosen).iloc[0]
    assert day["total_cost"] == 12 * 110 + 12 * 1000
    assert day["source_phase"] == "mixed"


def test_an_exporter_hour_of_zero_dollars_yields_to_costed_raw_allocations(caplog) -> None:  # type: ignore[no-untyped-def]
    # hours 0-1: exporter $0 while raw shows 110 -> raw; hour 2: exporter $0 and raw $0 -> exporter
    # (nothing better to use); hour 3: exporter $0 and no raw row -> exporter; hour 4: exporter 5 wins.
    exporter = pd.concat([hourly("a", range(4), "exporter", 0), hourly("a", range(4, 5), "exporter", 5)])
    raw = pd.concat([hourly("a", range(2), "raw", 110), hourly("a", range(2, 3), "raw", 0),
                     hourly("a", range(4, 5), "raw", 110)])
    chosen = choose_phase_per_hour(exporter, raw)
    by_hour = chosen.set_index(chosen["hour_start"].dt.hour)
    assert by_hour["source_phase"].to_dict() == {0: "raw", 1: "raw", 2: "exporter", 3: "exporter", 4: "exporter"}
    assert by_hour["total_cost"].to_dict() == {0: 110, 1: 110, 2: 0, 3: 0, 4: 5}
    assert "exporter reported $0 for a in 2 hour(s)" in caplog.text


def test_phase_choice_is_per_account() -> None:
    chosen = choose_phase_per_hour(hourly("a", range(2), "exporter", 5), hourly("b", range(2), "raw", 7))
    assert sorted(zip(chosen["cloud_account_id"], chosen["source_phase"], strict=True)) == [
        ("a", "exporter"), ("a", "exporter"), ("b", "raw"), ("b", "raw")]


def test_phase_choice_with_nothing() -> None:
    empty = pd.DataFrame(columns=HOURLY_COLUMNS)
    assert choose_phase_per_hour(empty, empty).empty
    assert len(choose_phase_per_hour(empty, hourly("a", range(3), "raw", 1))) == 3


def test_unhealthy_exporter_hours_count_as_no_data() -> None:
    gauges = pd.DataFrame({
        "cloud_account_id": ["a", "a", "a"],
        "hour_start": [DAY, DAY + pd.Timedelta(hours=1), DAY + pd.Timedelta(hours=2)],
        "total_cost": [1.0, 1.0, 1.0],
        "health": [1.0, 0.0, np.nan],  # healthy, one failed scrape, no health gauge published
    })
    kept = without_unhealthy_hours(gauges, "health")
    assert "health" not in kept
    assert kept["total_cost"].notna().tolist() == [True, False, True]


def test_daily_rollup_sums_default_priced_hours_and_unions_resources() -> None:
    hours = pd.concat([
        hourly("a", range(0, 3), "raw", 10, "cpu:node/n3"),
        hourly("a", range(3, 5), "raw", 10, "cpu:node/n3, storage:pv/p"),
        hourly("a", range(5, 8), "exporter", 10),
    ], ignore_index=True)
    day = daily_rollup(hours).iloc[0]
    assert day["default_priced_hours"] == 5
    assert day["default_priced_resources"] == "cpu:node/n3, storage:pv/p"
    assert day["hours_covered"] == 8


def test_join_resource_lists_ignores_missing() -> None:
    assert join_resource_lists([None, np.nan, ""]) is None
    assert join_resource_lists(["b, a", "a"]) == "a, b"


def test_daily_rollup_of_hours_without_a_default_price_record() -> None:
    hours = hourly("a", range(2), "exporter", 10).drop(columns=["default_priced_hours", "default_priced_resources"])
    day = daily_rollup(hours).iloc[0]
    assert day["default_priced_hours"] == 0
    assert day["default_priced_resources"] is None
    assert day["total_cost"] == 20
