"""Shaping the cluster-costs report from stored daily rows (etl.report), without a database.

The daily rows below are what etl.store.fetch_daily returns (Decimal money, None for unknown
efficiency); every expected figure is worked out by hand in the comments.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pandas as pd
import pytest

from etl.errors import CurrencyMixError, InputError
from etl.model import COST_COLUMNS
from etl.read.report import cents, days_of_interval, require_ordered, shape_report

ACCOUNT = "acct-1"
AUG31, SEP1, SEP2 = date(2026, 8, 31), date(2026, 9, 1), date(2026, 9, 2)


def stored_day(day: date, phase: str = "exporter", hours: int = 24, defaulted: tuple[int, str | None] = (0, None),
               **values: str | None) -> dict[str, object]:
    row: dict[str, object] = {"cloud_account_id": ACCOUNT, "usage_date": day}
    row.update({column: Decimal("0") for column in COST_COLUMNS})
    row.update({"potential_savings": None, "cpu_efficiency": None, "ram_efficiency": None,
                "total_efficiency": None, "hours_covered": hours, "source_phase": phase,
                "default_priced_hours": defaulted[0], "default_priced_resources": defaulted[1],
                "exporter_zero_hours": 0, "exporter_stale_hours": 0, "idle_unknown_hours": 0, "negative_idle_hours": 0,
                "idle_cost": None, "currency": "USD", "clusters": None})
    row.update({key: None if value is None else Decimal(value) for key, value in values.items()})
    return row


def three_days() -> pd.DataFrame:
    same_costs = {"cpu_cost": "1.005", "ram_cost": "0.48", "pv_cost": "0.24", "network_cost": "0.12",
                  "network_internet_cost": "0.12", "load_balancer_cost": "0.024", "management_cost": "2.4",
                  "total_cost": "4.269"}  # 1.005 + 0.48 + 0.24 + 0.12 + 0.024 + 2.4
    return pd.DataFrame([
        # savings 1.005 x 50 % + 0.48 x 75 % = 0.8625
        stored_day(AUG31, **same_costs, cpu_efficiency="50", ram_efficiency="25", total_efficiency="40",
                   potential_savings="0.8625"),
        # cpu efficiency unknown all day; savings only from ram: 0.48 x 25 % = 0.12
        stored_day(SEP1, **same_costs, ram_efficiency="75", potential_savings="0.12"),
        # 12 hours; ram 120 % used saves nothing: savings 1.005 x 20 % = 0.201
        # 3 of its raw hours had no price for node n3
        stored_day(SEP2, phase="mixed", hours=12, defaulted=(3, "cpu:node/n3"), cpu_cost="1.005", ram_cost="0.96",
                   total_cost="1.965",
                   cpu_efficiency="80", ram_efficiency="120", total_efficiency="90", potential_savings="0.201"),
    ])


def test_sums_are_exact_and_rounded_to_cents_only_at_the_end() -> None:
    report = shape_report(ACCOUNT, AUG31, SEP2, three_days(), {"exporter": 54, "raw": 6})
    summary = report["summary"]
    # cpu: 3 x 1.005 = 3.015 -> 3.02 (rounding each day first would give 3 x 1.01 = 3.03)
    assert summary["cpu_cost"] == 3.02
    assert summary["ram_cost"] == 1.92  # 0.48 + 0.48 + 0.96
    assert summary["pv_cost"] == 0.48
    assert summary["network_cost"] == 0.24
    assert summary["load_balancer_cost"] == 0.05  # 0.048
    assert summary["management_cost"] == 4.8
    assert summary["total_cost"] == 10.5  # 4.269 x 2 + 1.965 = 10.503
    assert report["breakdown"] == {"management_cost": 4.8, "load_balancer_cost": 0.05,
                                   "network_internet_cost": 0.24, "network_region_cost": 0.0,
                                   "network_zone_cost": 0.0}
    assert report["potential_savings"] == 1.18  # 0.8625 + 0.12 + 0.201 = 1.1835
    assert report["days"][0]["cpu_cost"] == 1.01  # 1.005 half-up
    assert report["days"][0]["potential_savings"] == 0.86  # 0.8625


def test_range_efficiency_is_cost_weighted_without_unknown_days() -> None:
    efficiency = shape_report(ACCOUNT, AUG31, SEP2, three_days(), {})["efficiency"]
    # cpu: Sep 1 unknown, left out: (50 x 1.005 + 80 x 1.005) / 2.01 = 65
    # (counting it as 0 % would give 43.33)
    assert efficiency["cpu_efficiency"] == 65.0
    # ram: (25 x 0.48 + 75 x 0.48 + 120 x 0.96) / 1.92 = 163.2 / 1.92 = 85
    assert efficiency["ram_efficiency"] == 85.0
    # total, weighted by cpu + ram cost: (40 x 1.485 + 90 x 1.965) / 3.45 = 236.25 / 3.45 = 68.47826...
    assert efficiency["total_efficiency"] == 68.4783


def test_json_shape_key_by_key() -> None:
    report = shape_report(ACCOUNT, AUG31, SEP2, three_days(), {"raw": 6, "exporter": 54})
    assert list(report) == ["cloud_account_id", "start_date", "end_date", "summary", "currency", "efficiency",
                            "potential_savings", "breakdown", "hours_covered", "hours_in_range", "phases",
                            "idle_cost", "default_priced_hours", "exporter_zero_hours", "exporter_stale_hours",
                            "idle_unknown_hours", "negative_idle_hours", "days"]
    assert report["currency"] == "USD"
    assert report["cloud_account_id"] == ACCOUNT
    # [2026-08-31 00:00 UTC, 2026-09-03 00:00 UTC)
    assert report["start_date"] == int(datetime(2026, 8, 31, tzinfo=UTC).timestamp()) == 1788134400
    assert report["end_date"] == int(datetime(2026, 9, 3, tzinfo=UTC).timestamp()) == 1788134400 + 3 * 86400
    assert list(report["summary"]) == ["total_cost", "cpu_cost", "ram_cost", "pv_cost", "management_cost",
                                       "load_balancer_cost", "network_cost", "gpu_cost"]
    assert list(report["efficiency"]) == ["cpu_efficiency", "ram_efficiency", "total_efficiency"]
    assert list(report["breakdown"]) == ["management_cost", "load_balancer_cost", "network_internet_cost",
                                         "network_region_cost", "network_zone_cost"]
    assert report["hours_covered"] == 24 + 24 + 12
    assert report["hours_in_range"] == 72
    assert report["phases"] == {"exporter": 54, "raw": 6}
    assert [day["date"] for day in report["days"]] == ["2026-08-31", "2026-09-01", "2026-09-02"]
    second = report["days"][1]
    assert second["cpu_efficiency"] is None and second["ram_efficiency"] == 75.0
    assert (second["hours_covered"], second["source_phase"]) == (24, "exporter")
    assert report["days"][2]["source_phase"] == "mixed"
    assert set(second) == {"date", *COST_COLUMNS, "potential_savings", "cpu_efficiency", "ram_efficiency",
                           "total_efficiency", "hours_covered", "source_phase", "default_priced_hours",
                           "default_priced_resources", "exporter_zero_hours", "exporter_stale_hours", "currency",
                           "clusters", "idle_cost", "idle_unknown_hours", "negative_idle_hours"}
    assert report["default_priced_hours"] == 3
    assert (second["default_priced_hours"], second["default_priced_resources"]) == (0, None)
    assert report["days"][2]["default_priced_resources"] == "cpu:node/n3"


def test_two_currencies_in_a_range_are_refused_not_summed() -> None:
    days = three_days()
    days.loc[1, "currency"] = "EUR"
    with pytest.raises(CurrencyMixError, match="EUR and USD"):
        shape_report(ACCOUNT, AUG31, SEP2, days, {})


def test_range_sums_never_wrap() -> None:
    # 400 days at the largest daily figure the sanity bound allows (24 x 1,000,000 = 24,000,000 a
    # day): 9.6e9 dollars = 9.6e18 nano-dollars, beyond int64 (9.22e18). The sum is exact anyway.
    days = pd.DataFrame([stored_day(date(2025, 1, 1) + pd.Timedelta(days=i), total_cost="24000000")
                         for i in range(400)])
    report = shape_report(ACCOUNT, date(2025, 1, 1), date(2026, 2, 4), days, {})
    assert report["summary"]["total_cost"] == 9_600_000_000.0


def test_no_rows_give_an_empty_well_formed_result() -> None:
    empty = pd.DataFrame(columns=list(stored_day(AUG31)))
    report = shape_report(ACCOUNT, SEP1, SEP1, empty, {})
    assert report["days"] == [] and report["hours_covered"] == 0 and report["hours_in_range"] == 24
    assert set(report["summary"].values()) == {0.0}
    assert report["efficiency"] == {"cpu_efficiency": None, "ram_efficiency": None, "total_efficiency": None}
    assert report["potential_savings"] is None
    assert report["phases"] == {}


def test_savings_unknown_on_every_day_are_none_not_zero() -> None:
    days = pd.DataFrame([stored_day(SEP1, cpu_cost="5", total_cost="5")])
    assert shape_report(ACCOUNT, SEP1, SEP1, days, {})["potential_savings"] is None


def test_cents_round_half_up() -> None:
    assert cents(5_000_000) == 0.01  # $0.005
    assert cents(4_999_999) == 0.0
    assert cents(None) is None


def test_start_after_end_is_refused() -> None:
    with pytest.raises(InputError, match="after"):
        require_ordered(SEP2, SEP1)


def test_api_interval_to_days() -> None:
    sep1 = int(datetime(2026, 9, 1, tzinfo=UTC).timestamp())
    oct1 = int(datetime(2026, 10, 1, tzinfo=UTC).timestamp())
    # [Sep 1 00:00, Oct 1 00:00) is September; Oct 1 itself is not touched
    assert days_of_interval(sep1, oct1) == (date(2026, 9, 1), date(2026, 9, 30))
    # one second into Oct 1 touches it
    assert days_of_interval(sep1, oct1 + 1) == (date(2026, 9, 1), date(2026, 10, 1))
    with pytest.raises(InputError, match="not after"):
        days_of_interval(oct1, oct1)
