"""Phase 1 cost math on hand-made frames (no servers); every expectation is worked out in comments."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from etl.costing.raw import DefaultPrices, RawMetrics, raw_hourly_costs, volume_prices
from etl.model import GIB, HOURLY_COLUMNS, NANO

HOUR0 = pd.Timestamp("2026-10-05T00:00Z")
HOUR1 = pd.Timestamp("2026-10-05T01:00Z")
DEFAULTS = DefaultPrices(cpu=0.031611, ram=0.004237, storage=0.00005479452)


def frame(columns: list[str], *rows: tuple[object, ...]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=["cloud_account_id", "hour_start", *columns])


def metrics(**overrides: pd.DataFrame) -> RawMetrics:
    empty = {
        "cpu_allocation": frame(["node", "cores"]),
        "ram_allocation": frame(["node", "bytes"]),
        "pvc_allocation": frame(["persistentvolume", "bytes"]),
        "cpu_price": frame(["node", "price"]),
        "ram_price": frame(["node", "price"]),
        "pv_price": frame(["persistentvolume", "volumename", "price"]),
        "load_balancer": frame(["cost"]),
        "cpu_usage": frame(["cores"]),
        "ram_usage": frame(["bytes"]),
    }
    return RawMetrics(**{**empty, **overrides})


def dollars(nano: object) -> float:
    return int(nano) / NANO  # type: ignore[call-overload]


def test_costs_join_prices_per_account_and_node() -> None:
    result = raw_hourly_costs(metrics(
        cpu_allocation=frame(["node", "cores"], ("a", HOUR0, "n1", 2.0), ("a", HOUR0, "n2", 1.0),
                             ("b", HOUR0, "n1", 1.0)),
        cpu_price=frame(["node", "price"], ("a", HOUR0, "n1", 0.04), ("a", HOUR0, "n2", 0.02),
                        ("b", HOUR0, "n1", 1.0)),
    ), DEFAULTS)
    rows = result.rows.set_index("cloud_account_id")
    assert list(result.rows.columns) == HOURLY_COLUMNS
    assert dollars(rows.loc["a", "cpu_cost"]) == pytest.approx(0.1)  # 2 x 0.04 + 1 x 0.02
    assert dollars(rows.loc["b", "cpu_cost"]) == pytest.approx(1.0)  # 1 x 1.0, not a's price
    assert rows.loc["a", "total_cost"] == rows.loc["a", "cpu_cost"]
    assert rows.loc["a", "default_priced_hours"] == 0
    assert result.defaulted.empty


@pytest.mark.parametrize("price", [None, 0.0, float("nan"), -1.0])
def test_missing_zero_or_nan_price_uses_the_default_and_says_so(price: float | None) -> None:
    prices = frame(["node", "price"]) if price is None else frame(["node", "price"], ("a", HOUR0, "n3", price))
    result = raw_hourly_costs(metrics(
        ram_allocation=frame(["node", "bytes"], ("a", HOUR0, "n3", 4 * GIB)),
        ram_price=prices,
    ), DEFAULTS)
    row = result.rows.iloc[0]
    assert row["ram_cost"] == 16_948_000  # 4 GiB x 0.004237 = 0.016948 $, never 0
    assert row["default_priced_hours"] == 1
    assert row["default_priced_resources"] == "ram:node/n3"
    assert result.defaulted[["cloud_account_id", "resource", "name"]].values.tolist() == [["a", "ram", "n3"]]


def test_zero_allocation_needs_no_price() -> None:
    result = raw_hourly_costs(metrics(cpu_allocation=frame(["node", "cores"], ("a", HOUR0, "n3", 0.0))), DEFAULTS)
    assert result.rows.iloc[0]["cpu_cost"] == 0
    assert result.rows.iloc[0]["default_priced_hours"] == 0
    assert result.defaulted.empty


def test_pv_cost_uses_gib_and_the_volume_price() -> None:
    result = raw_hourly_costs(metrics(
        pvc_allocation=frame(["persistentvolume", "bytes"], ("a", HOUR0, "pv-1", 20 * GIB)),
        pv_price=frame(["persistentvolume", "volumename", "price"], ("a", HOUR0, "", "pv-1", 0.0001)),
    ), DEFAULTS)
    assert result.rows.iloc[0]["pv_cost"] == 2_000_000  # 20 GiB x 0.0001 = 0.002 $


def test_volume_prices_fall_back_to_volumename_and_average_copies() -> None:
    prices = frame(["persistentvolume", "volumename", "price"],
                   ("a", HOUR0, "pv-1", "pv-1", 0.1), ("a", HOUR0, "", "pv-1", 0.3), ("a", HOUR0, "", "pv-2", 0.5))
    by_volume = volume_prices(prices).set_index("persistentvolume")["price"]
    assert by_volume.to_dict() == pytest.approx({"pv-1": 0.2, "pv-2": 0.5})


def test_efficiency_is_used_over_allocated_and_total_is_cost_weighted() -> None:
    result = raw_hourly_costs(metrics(
        cpu_allocation=frame(["node", "cores"], ("a", HOUR0, "n1", 4.0)),
        cpu_price=frame(["node", "price"], ("a", HOUR0, "n1", 0.03)),
        ram_allocation=frame(["node", "bytes"], ("a", HOUR0, "n1", 10 * GIB)),
        ram_price=frame(["node", "price"], ("a", HOUR0, "n1", 0.001)),
        cpu_usage=frame(["cores"], ("a", HOUR0, 1.0)),
        ram_usage=frame(["bytes"], ("a", HOUR0, 5 * GIB)),
    ), DEFAULTS)
    row = result.rows.iloc[0]
    assert row["cpu_efficiency"] == 25.0  # 1 / 4
    assert row["ram_efficiency"] == 50.0  # 5 / 10
    # cpu cost 0.12, ram cost 0.01: (25 x 0.12 + 50 x 0.01) / 0.13 = 26.923077 %
    assert row["total_efficiency"] == 26.9231


def test_efficiency_without_usage_is_unknown_not_zero() -> None:
    result = raw_hourly_costs(metrics(
        cpu_allocation=frame(["node", "cores"], ("a", HOUR0, "n1", 4.0)),
        ram_allocation=frame(["node", "bytes"], ("a", HOUR0, "n1", 10 * GIB)),
        cpu_usage=frame(["cores"], ("a", HOUR0, 1.0)),
    ), DEFAULTS)
    row = result.rows.iloc[0]
    assert row["cpu_efficiency"] == 25.0
    assert math.isnan(row["ram_efficiency"])
    assert math.isnan(row["total_efficiency"])  # half-known total would be a guess


def test_rows_only_for_hours_with_allocations_and_lb_added_to_total() -> None:
    result = raw_hourly_costs(metrics(
        cpu_allocation=frame(["node", "cores"], ("a", HOUR0, "n1", 1.0)),
        cpu_price=frame(["node", "price"], ("a", HOUR0, "n1", 0.05), ("a", HOUR1, "n1", 0.05)),
        load_balancer=frame(["cost"], ("a", HOUR0, 0.025), ("a", HOUR1, 0.025)),
    ), DEFAULTS)
    assert result.rows["hour_start"].tolist() == [HOUR0]  # prices or LB alone are no allocation
    row = result.rows.iloc[0]
    assert row["load_balancer_cost"] == 25_000_000
    assert row["total_cost"] == 75_000_000  # 0.05 + 0.025
    assert row["network_cost"] == row["management_cost"] == 0
    assert row["source_phase"] == "raw"


def test_no_allocations_no_rows() -> None:
    result = raw_hourly_costs(metrics(), DEFAULTS)
    assert result.rows.empty
    assert list(result.rows.columns) == HOURLY_COLUMNS
