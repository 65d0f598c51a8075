"""The rules that make an answer suspect (etl.run.suspect), on hand-made frames: what each rule
finds, and the legitimate absences it must not find (a gauge never published, a gauge that ends, a
stored network split that was all-internet, hours explained by samples that are not money)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd

from etl.model import HOURLY_COLUMNS, NANO, HourRange
from etl.run.suspect import evidence_range, findings
from etl.source.exporter import ExporterAnswer
from etl.source.promql import EXPORTER_METRICS

DAY = pd.Timestamp("2026-06-01T00:00Z")
HOURS = HourRange(DAY.to_pydatetime(), (DAY + pd.Timedelta(days=1)).to_pydatetime())
NO_CENSUS = pd.DataFrame(columns=["cloud_account_id", "hour_start", "column"])
GAUGES = ["total_cost", "cpu_cost", "ram_cost", "pv_cost", "network_cost", "load_balancer_cost",
          "network_internet_cost"]


def at(h: int) -> pd.Timestamp:
    return DAY + pd.Timedelta(hours=h)


def answer(rows: list[dict[str, object]], census: pd.DataFrame = NO_CENSUS) -> ExporterAnswer:
    """Cluster-hours of account "a", cluster "c1" unless given: healthy minutes 20 unless given,
    every gauge of GAUGES NaN unless given."""
    full = [{"cloud_account_id": "a", "cluster": "c1", "currency": "", "healthy_minutes": 20.0,
             "unhealthy_minutes": 0.0, **dict.fromkeys(GAUGES, np.nan), **row} for row in rows]
    frame = pd.DataFrame(full)
    return ExporterAnswer(frame, frame, census)


def hourly(hours: range, phase: str = "exporter", clusters: str | None = "c1", **dollars: float) -> pd.DataFrame:
    """Hourly rows of account "a" (costs in dollars, 0 unless given)."""
    rows = []
    for h in hours:
        row: dict[str, object] = dict.fromkeys(HOURLY_COLUMNS, 0)
        row.update(cloud_account_id="a", hour_start=at(h), source_phase=phase, clusters=clusters, currency="USD",
                   **{column: round(value * NANO) for column, value in dollars.items()})
        rows.append(row)
    return pd.DataFrame(rows, columns=HOURLY_COLUMNS)


NOTHING_STORED = hourly(range(0))


def check(exporter: ExporterAnswer | None, rows: pd.DataFrame = NOTHING_STORED,
          stored: pd.DataFrame = NOTHING_STORED) -> list[str]:
    return findings(exporter, rows, stored, HOURS, ["a"]).get("a", [])


def test_a_clean_answer_with_optional_gauges_absent_or_ending_is_not_suspect() -> None:
    # lb ends at hour 2, network and the split never published, pv from hour 1 on: no evidence.
    clean = answer([{"hour_start": at(h), "total_cost": 10.0, "cpu_cost": 4.0,
                     "load_balancer_cost": 1.0 if h < 2 else np.nan, "pv_cost": np.nan if h == 0 else 1.0}
                    for h in range(5)])
    assert check(clean) == []


def test_total_missing_where_coverage_or_siblings_show_the_cluster() -> None:
    found = check(answer([
        {"hour_start": at(0), "total_cost": 10.0, "cpu_cost": 4.0},
        {"hour_start": at(1), "cpu_cost": 4.0, "healthy_minutes": np.nan},  # total and coverage lost
        {"hour_start": at(2)},  # coverage alone: its healthy minutes are the total's
        {"hour_start": at(3), "healthy_minutes": 0.0, "unhealthy_minutes": 20.0},  # failed scrapes: no
        {"hour_start": at(4), "cpu_efficiency": 50.0, "healthy_minutes": np.nan},  # not money: no
    ]))
    assert found == [f"{EXPORTER_METRICS['total_cost']} has no value in 2 hour(s) where the exporter's coverage or "
                     "its other gauges show the cluster: 2026-06-01T01:00Z, 2026-06-01T02:00Z"]


def test_an_hour_whose_samples_were_no_money_is_explained() -> None:
    census = pd.DataFrame({"cloud_account_id": ["a"], "hour_start": [at(1)], "column": ["total_cost"]})
    assert check(answer([{"hour_start": at(1), "cpu_cost": 4.0, "healthy_minutes": np.nan}], census)) == []


def test_a_gap_per_cluster_but_not_across_two_clusters_of_which_one_has_it() -> None:
    rows = [{"hour_start": at(h), "total_cost": 10.0, "cpu_cost": np.nan if h in (2, 3) else 4.0} for h in range(6)]
    rows += [{"hour_start": at(h), "cluster": "c2", "total_cost": 1.0, "ram_cost": 1.0} for h in range(6)]
    assert check(answer(rows)) == [f"{EXPORTER_METRICS['cpu_cost']} has no value in 2 hour(s) between hours that "
                                   "have one, while the cluster's total has: 2026-06-01T02:00Z, 2026-06-01T03:00Z"]


def test_a_gap_at_the_chunk_ends_needs_stored_hours_on_both_sides() -> None:
    # cpu_cost absent all chunk; the stored hour before it had 4 $ of cpu.
    whole_chunk = answer([{"hour_start": at(h), "total_cost": 10.0} for h in range(24)])
    before = hourly(range(-1, 0), total_cost=10, cpu_cost=4)
    after = hourly(range(24, 25), total_cost=10, cpu_cost=4)
    assert check(whole_chunk, stored=before) == []  # a gauge that ended with the last chunk
    [found] = check(whole_chunk, stored=pd.concat([before, after]))
    assert found.startswith(f"{EXPORTER_METRICS['cpu_cost']} has no value in 24 hour(s) between hours that have one")


def test_a_stored_all_internet_network_is_no_evidence_of_split_gauges() -> None:
    # Without split gauges, a stored hour holds its network cost as internet; the split gauge is
    # asked (its column exists) but has no value: not a lost component.
    split_asked = answer([{"hour_start": at(h), "total_cost": 10.0, "network_cost": 1.0} for h in range(24)])
    stored = hourly(range(-1, 25), total_cost=10, network_cost=1, network_internet_cost=1)
    rows = hourly(range(24), total_cost=10, network_cost=1, network_internet_cost=1)
    assert check(split_asked, rows, stored) == []


def test_stored_hours_the_write_would_delete() -> None:
    exporter = answer([{"hour_start": at(h), "total_cost": 10.0} for h in range(12, 24)])
    stored = pd.concat([hourly(range(24), total_cost=10), hourly(range(24, 48), total_cost=10)])  # DAY2 untouched
    [found] = check(exporter, hourly(range(12, 24), total_cost=10), stored)
    assert found.startswith(f"{EXPORTER_METRICS['total_cost']} has no data for 12 stored hour(s), which the write "
                            "would delete: 2026-06-01T00:00Z")


def test_a_stored_exporter_hour_becoming_phase_1() -> None:
    exporter = answer([{"hour_start": at(1), "healthy_minutes": 0.0, "unhealthy_minutes": 60.0}])
    stored = hourly(range(2), total_cost=2, cpu_cost=1)
    rows = hourly(range(2), phase="raw", clusters=None, total_cost=0.1, cpu_cost=0.1)
    # Hour 1's exporter reported failed scrapes all hour (late news): Phase 1 is right there.
    assert check(exporter, rows, stored) == [
        f"{EXPORTER_METRICS['total_cost']} has no data for 1 stored exporter hour(s), which would become Phase 1 "
        "hours: 2026-06-01T00:00Z"]


def test_a_stored_cluster_whose_series_vanished() -> None:
    exporter = answer([{"hour_start": at(0), "total_cost": 5.0, "cpu_cost": 2.0}])
    stored = hourly(range(1), clusters="c1, c2", total_cost=8, cpu_cost=3)
    rows = hourly(range(1), total_cost=5, cpu_cost=2)
    assert check(exporter, rows, stored) == ["cluster c2 has no series for 1 stored hour(s) that include it: "
                                             "2026-06-01T00:00Z"]


def test_a_stored_component_whose_gauge_has_no_value_but_not_one_at_0() -> None:
    exporter = answer([{"hour_start": at(h), "total_cost": 10.0, "ram_cost": 0.0} for h in range(2)])
    stored = hourly(range(2), total_cost=10, cpu_cost=4, ram_cost=3)
    rows = hourly(range(2), total_cost=10, management_cost=10)
    assert check(exporter, rows, stored) == [
        f"{EXPORTER_METRICS['cpu_cost']} has no value for 2 stored hour(s) in which it had one (its cost would move "
        "into management): 2026-06-01T00:00Z, 2026-06-01T01:00Z"]


def test_a_stored_phase_1_component_now_0() -> None:
    stored = hourly(range(1), phase="raw", clusters=None, total_cost=0.3, cpu_cost=0.1, ram_cost=0.2)
    rows = hourly(range(1), phase="raw", clusters=None, total_cost=0.2, ram_cost=0.2)
    assert check(None, rows, stored) == ["the Phase 1 cpu_cost is 0 in 1 stored Phase 1 hour(s) in which it was not: "
                                         "2026-06-01T00:00Z"]


def test_the_evidence_range_is_the_whole_days_and_an_hour_around_them() -> None:
    clipped = HourRange(datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 6, 3, 13, tzinfo=UTC))
    assert evidence_range(clipped) == HourRange(datetime(2026, 5, 31, 23, tzinfo=UTC),
                                                datetime(2026, 6, 4, 1, tzinfo=UTC))
