"""Phase 2 math: exporter gauges per cluster -> hourly cost rows; every expected figure is worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from etl.costing.exporter import exporter_hours, fit_components_to_total, spread_closing_values
from etl.costing.exporter_namespaces import exporter_costs
from etl.errors import CurrencyMixError, MoneyBoundError
from etl.model import NANO, HourRange

RANGE = HourRange(pd.Timestamp("2026-09-01", tz="UTC"), pd.Timestamp("2026-09-03", tz="UTC"))


def hours(*indexes: int, day: str = "2026-09-01") -> list[pd.Timestamp]:
    return [pd.Timestamp(day, tz="UTC") + pd.Timedelta(hours=i) for i in indexes]


def gauges(account: str, hour_starts: list[pd.Timestamp], cluster: str = "c", currency: str = "USD",
           healthy: int = 60, unhealthy: int = 0, **columns: list[float]) -> pd.DataFrame:
    """The frame etl.source.exporter returns, for one cluster."""
    return pd.DataFrame({"cloud_account_id": account, "hour_start": hour_starts, "cluster": cluster,
                         "currency": currency, "healthy_minutes": healthy, "unhealthy_minutes": unhealthy,
                         **columns})


def costs(frame: pd.DataFrame, scale: str = "percent", trailing: bool = False) -> pd.DataFrame:
    return exporter_hours(frame, RANGE, scale, trailing, "USD")


def test_management_is_the_residual_of_total_over_components() -> None:
    frame = gauges("a", hours(0), total_cost=[10.0], cpu_cost=[4.0], ram_cost=[3.0], pv_cost=[np.nan],
                   network_cost=[0.5], load_balancer_cost=[0.25])
    rows = costs(frame)
    assert rows["management_cost"].tolist() == [int(2.25 * NANO)]  # 10 - (4 + 3 + 0.5 + 0.25)
    assert rows["pv_cost"].tolist() == [0]  # a missing component is no cost, not NaN


def test_components_above_the_total_are_scaled_to_it_exactly() -> None:
    # total 10, components 8 + 4 = 12: cpu 8 x 10/12 = 6.666666666.67, ram 3.333333333.33 nano;
    # the larger remainder (cpu's .67) gets the last nano-dollar: 6666666667 + 3333333333 = 10e9.
    rows = costs(gauges("a", hours(0), total_cost=[10.0], cpu_cost=[8.0], ram_cost=[4.0]))
    assert rows[["cpu_cost", "ram_cost", "management_cost"]].iloc[0].tolist() == [6666666667, 3333333333, 0]
    assert rows["total_cost"].iloc[0] == 10 * NANO


def test_the_network_split_is_scaled_with_the_network_cost() -> None:
    rows = pd.DataFrame({"total_cost": [4], "cpu_cost": [4], "ram_cost": [0], "gpu_cost": [0], "pv_cost": [0],
                         "network_cost": [4],
                         "load_balancer_cost": [0], "network_internet_cost": [3], "network_region_cost": [1],
                         "network_zone_cost": [0]})
    fitted = fit_components_to_total(rows)
    # 4 + 4 = 8 > 4: cpu 2, network 2; the split 3 + 1 scaled by 2/4: 1 + 0 (floored)
    assert fitted.iloc[0][["cpu_cost", "network_cost", "network_internet_cost", "network_region_cost"]].tolist() \
        == [2, 2, 1, 0]


def test_clusters_are_summed_and_their_efficiencies_weighed_by_cost() -> None:
    frame = pd.concat([gauges("a", hours(0), cluster="c1", total_cost=[10.0], cpu_cost=[6.0], cpu_efficiency=[50.0]),
                       gauges("a", hours(0), cluster="c2", total_cost=[4.0], cpu_cost=[2.0], cpu_efficiency=[80.0])])
    row = costs(frame).iloc[0]
    assert (row["total_cost"], row["cpu_cost"], row["management_cost"]) == (14 * NANO, 8 * NANO, 6 * NANO)
    assert row["cpu_efficiency"] == 57.5  # (50 x 6 + 80 x 2) / 8
    assert row["clusters"] == "c1, c2"


def test_two_currencies_in_one_hour_are_refused() -> None:
    frame = pd.concat([gauges("a", hours(0), cluster="c1", total_cost=[10.0]),
                       gauges("a", hours(0), cluster="c2", currency="EUR", total_cost=[5.0])])
    with pytest.raises(CurrencyMixError, match="EUR and USD"):
        costs(frame)


def test_a_gauge_without_currency_is_in_the_configured_currency() -> None:
    rows = exporter_hours(gauges("a", hours(0), currency="", total_cost=[1.0]), RANGE, "percent", False, "EUR")
    assert rows["currency"].tolist() == ["EUR"]


def test_ratio_efficiency_is_stored_as_percent_and_unknown_stays_nan() -> None:
    rows = costs(gauges("a", hours(0), total_cost=[1.0], cpu_efficiency=[0.4567], ram_efficiency=[np.nan]), "ratio")
    assert rows["cpu_efficiency"].tolist() == [45.67]
    assert np.isnan(rows["ram_efficiency"].iloc[0])
    assert np.isnan(rows["total_efficiency"].iloc[0])  # no such gauge at all


def test_an_absurd_efficiency_is_unknown_and_the_costs_stay() -> None:
    rows = costs(gauges("a", hours(0), total_cost=[1.0], cpu_efficiency=[2500.0], ram_efficiency=[1e20]))
    assert rows["cpu_efficiency"].tolist() == [2500.0]
    assert np.isnan(rows["ram_efficiency"].iloc[0])
    assert rows["total_cost"].tolist() == [NANO]


def test_a_figure_beyond_the_sanity_bound_is_refused_by_name() -> None:
    with pytest.raises(MoneyBoundError, match=r"account a: total_cost .* hour 2026-09-01T01:00Z"):
        costs(gauges("a", hours(0, 1), total_cost=[1.0, 7.5e8]))


def test_hours_without_a_healthy_total_have_no_row_but_keep_their_minutes_in_the_account() -> None:
    frame = pd.concat([gauges("a", hours(0), cluster="c1", total_cost=[2.0]),
                       gauges("a", hours(0), cluster="c2", healthy=0, unhealthy=60, total_cost=[np.nan])])
    row = costs(frame).iloc[0]
    # c2 reported only failed scrapes: no figure of its own, but the hour counts as degraded
    assert (row["total_cost"], row["healthy_minutes"], row["unhealthy_minutes"]) == (2 * NANO, 60, 60)


def test_trailing_gauges_take_the_latest_healthy_value_of_each_cluster_and_day() -> None:
    frame = pd.concat([
        gauges("a", [*hours(0, 1, 23), *hours(0, day="2026-09-02")], cluster="c1", total_cost=[1.0, 2.0, np.nan, 7.0],
               cpu_efficiency=[10.0, 20.0, np.nan, 5.0], unhealthy=[0, 0, 60, 0]),
        gauges("a", hours(0, 1, 23), cluster="c2", total_cost=[4.0, 4.0, 4.0]),
    ])
    spread = spread_closing_values(frame)
    c1 = spread[spread["cluster"] == "c1"]
    # day 1 of c1: the latest healthy value is hour 1's (2.0; hour 23 was unhealthy), for every
    # hour c1 was present; efficiency likewise 20
    assert c1["total_cost"].tolist() == [2.0, 2.0, 2.0, 7.0]
    assert c1["cpu_efficiency"].tolist() == [20.0, 20.0, 20.0, 5.0]
    assert spread["unhealthy_minutes"].eq(0).all()
    # the account: c1 + c2 in each hour of day 1
    assert costs(frame, trailing=True)["total_cost"].tolist() == [6 * NANO, 6 * NANO, 6 * NANO, 7 * NANO]


@pytest.mark.parametrize("scale", ["percent", "ratio"])
def test_exporter_costs_of_an_empty_frame(scale: str) -> None:
    empty = gauges("a", [], total_cost=[])
    assert costs(empty, scale).empty


def test_a_chunk_whose_total_answered_nothing_and_without_namespace_gauges_costs_no_hour() -> None:
    # Coverage rows but no total in any hour (total_cost's answer empty), no namespace gauges: no
    # row, no namespace row, no error (before: a merge of a typed hour with an untyped empty one).
    frame = gauges("a", hours(0, 1), total_cost=[np.nan, np.nan], cpu_cost=[1.0, 1.0])
    exported = exporter_costs(frame, pd.DataFrame(), RANGE, "percent", False, "USD")
    assert exported.rows.empty and exported.namespaces.empty
