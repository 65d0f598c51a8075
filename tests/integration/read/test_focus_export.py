"""`export --format focus`: stored daily rows as FOCUS 1.0 rows, checked against the FOCUS column
rules (tests/support/focus_rules.py) in CSV and Parquet, with the money exact.

Data: the exporter dataset's acct-plain (tests/support/datasets.py) backfilled for 2026-09-01..02:
  day 1: total 10 $/h x 24 = 240; cpu 4 x 24 = 96, ram 72, pv 24, network 12, lb 6, management 1.25 x 24 = 30
  day 2: every rate doubled -> 480; 192, 144, 48, 24, 12, 60
  potential savings, day 1: cpu 4 x 0.5 x 12 h + 4 x 0.2 x 12 h = 33.6; ram 3 x 0.6 x 24 h = 43.2
  -> 76.8; day 2 doubled -> 153.6. cpu efficiency 65 %, ram 40 %, total 60 %. The exporter publishes
  no namespace gauges: the idle is unknown (x_IdleCost empty).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from etl.read.focus import FOCUS_COLUMNS, GRAINS, REQUIRED_NOT_NULL, STORED_COLUMNS
from etl.store.reader import fetch_daily
from tests.integration.test_cli import k8s_cost_etl
from tests.support.datasets import DAY1, DAY2, PLAIN, exporter_dataset
from tests.support.focus_rules import MANDATORY, NOT_NULL, violations
from tests.support.servers import cli_env, run_backfill

EXPECTED = {  # column -> (day 1, day 2)
    "BilledCost": ("240", "480"), "x_CpuCost": ("96", "192"), "x_RamCost": ("72", "144"),
    "x_PersistentVolumeCost": ("24", "48"), "x_NetworkCost": ("12", "24"), "x_LoadBalancerCost": ("6", "12"),
    "x_ManagementCost": ("30", "60"), "x_GpuCost": ("0", "0"), "x_PotentialSavings": ("76.8", "153.6"),
}


@pytest.fixture
def exported(prometheus_with, database_url: str, engine, tmp_path: Path) -> dict[str, Path]:  # type: ignore[no-untyped-def]
    thanos_url = prometheus_with("exporter-basic", exporter_dataset())
    run_backfill(thanos_url, database_url, engine, DAY1, DAY2, ACCOUNTS=PLAIN)
    files = {}
    for suffix in ("csv", "parquet"):
        files[suffix] = tmp_path / f"costs.{suffix}"
        result = k8s_cost_etl("export", "--format", "focus", "--start", str(DAY1), "--end", str(DAY2),
                              "-o", str(files[suffix]), env=cli_env("http://unused:1", database_url))
        assert result.returncode == 0, result.stderr
        assert f"2 FOCUS row(s) (1 account(s), {DAY1}..{DAY2}) written to {files[suffix]}" in result.stdout
    return files


def test_the_csv_follows_the_focus_rules_with_exact_money(exported: dict[str, Path]) -> None:
    frame = pd.read_csv(exported["csv"], dtype=str, keep_default_na=False, na_values=[""])
    assert list(frame.columns) == FOCUS_COLUMNS
    assert violations(frame.astype(object).where(frame.notna(), None)) == []
    for column, days in EXPECTED.items():
        assert [Decimal(value) for value in frame[column]] == [Decimal(day) for day in days], column
    first = frame.iloc[0]
    assert (first["ChargePeriodStart"], first["ChargePeriodEnd"]) == ("2026-09-01T00:00:00Z", "2026-09-02T00:00:00Z")
    assert (first["BillingPeriodStart"], first["BillingPeriodEnd"]) == ("2026-09-01T00:00:00Z", "2026-10-01T00:00:00Z")
    assert (first["SubAccountId"], first["ServiceName"], first["ServiceCategory"]) == (PLAIN, "Kubernetes", "Compute")
    assert json.loads(first["Tags"]) == {"k8s-cost-etl/cluster": PLAIN}
    efficiency = (first["x_CpuEfficiency"], first["x_RamEfficiency"], first["PricingQuantity"])
    assert efficiency == ("65.0000", "40.0000", "24")
    # the parts add up to the billed cost, to the nano-dollar
    parts = ["x_CpuCost", "x_RamCost", "x_GpuCost", "x_PersistentVolumeCost", "x_NetworkCost", "x_LoadBalancerCost",
             "x_ManagementCost"]
    for _, row in frame.iterrows():
        assert sum(Decimal(row[part]) for part in parts) == Decimal(row["BilledCost"]) == Decimal(row["EffectiveCost"])


def test_the_parquet_file_has_the_same_rows_with_typed_columns(exported: dict[str, Path]) -> None:
    import pyarrow.parquet as pq

    table = pq.read_table(exported["parquet"])
    assert table.column_names == FOCUS_COLUMNS
    assert str(table.schema.field("BilledCost").type) == "decimal128(18, 9)"
    assert str(table.schema.field("ChargePeriodStart").type) == "timestamp[ms, tz=UTC]"
    frame = table.to_pandas()
    assert violations(frame.astype(object).where(frame.notna(), None)) == []
    assert [value for value in frame["BilledCost"]] == [Decimal("240"), Decimal("480")]
    assert frame["x_PotentialSavings"].tolist() == [Decimal("76.8"), Decimal("153.6")]
    assert frame["x_IdleCost"].isna().all()


def test_the_export_module_promises_no_less_than_the_rules(database_url: str, engine) -> None:  # type: ignore[no-untyped-def]
    assert set(MANDATORY) <= set(FOCUS_COLUMNS)
    assert set(NOT_NULL) <= set(REQUIRED_NOT_NULL)
    # every grain's reader returns what the FOCUS shaping reads (a new grain, e.g. per namespace, too)
    for grain in GRAINS.values():
        assert set(STORED_COLUMNS) <= set(grain.read(engine, None, DAY1, DAY1).columns)
    assert set(STORED_COLUMNS) <= set(fetch_daily(engine).columns)


def test_an_unknown_suffix_is_bad_input(database_url: str, tmp_path: Path) -> None:
    result = k8s_cost_etl("export", "--start", str(DAY1), "--end", str(DAY2), "-o", str(tmp_path / "x.xlsx"),
                          env=cli_env("http://unused:1", database_url))
    assert result.returncode == 2 and "must end in .csv or .parquet" in result.stderr
