"""Per account-hour phase choice: exporter hours win, Phase 1 fills the rest, a $0 exporter hour yields."""

from __future__ import annotations

import pandas as pd

from etl.costing.phase import choose_phase_per_hour
from etl.costing.rollup import daily_rollup
from etl.model import HOURLY_COLUMNS
from tests.support.datasets import hourly_rows as hourly


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


def test_zero_exporter_hours_without_contradiction_are_flagged() -> None:
    exporter = pd.concat([hourly("a", range(2), "exporter", 0), hourly("a", range(2, 3), "exporter", 5)])
    chosen = choose_phase_per_hour(exporter, hourly("b", range(1), "raw", 1))
    flags = chosen[chosen["cloud_account_id"] == "a"]["exporter_zero_hours"].tolist()
    assert flags == [1, 1, 0]


def test_a_degraded_hour_takes_its_failed_share_from_phase_1_or_holds_and_is_flagged() -> None:
    # hour 0: 45 healthy and 15 failed minutes, Phase 1 has the hour: 3/4 x 1000 + 1/4 x 200 = 800,
    # mixed; hour 1: the same without Phase 1: 1000 held, flagged stale.
    exporter = hourly("a", range(2), "exporter", 1000, management_cost=0).assign(healthy_minutes=45,
                                                                                  unhealthy_minutes=15)
    chosen = choose_phase_per_hour(exporter, hourly("a", range(1), "raw", 200))
    assert chosen["total_cost"].tolist() == [800, 1000]
    assert chosen["cpu_cost"].tolist() == [800, 1000]
    assert chosen["source_phase"].tolist() == ["mixed", "exporter"]
    assert chosen["exporter_stale_hours"].tolist() == [0, 1]
