"""The read side against a real PostgreSQL: cluster_costs(), the `report` command, the views of
migration 0003, and the chart.

Hourly rows are built by hand, rolled up by etl.costing.rollup.daily_rollup and written through the real
etl.store.write_costs path. The dataset, in $/hour (every figure below is worked out from it):

  acct-report
    2026-08-31  24 h  cpu 0.041875  ram 0.02  pv 0.01  network 0.005  lb 0.001  management 0.1
                      cpu eff 50 %  ram eff 25 %  total eff 40 %
                -> day: cpu 1.005, ram 0.48, pv 0.24, network 0.12, lb 0.024, management 2.4,
                   total 4.269; savings 1.005 x 50 % + 0.48 x 75 % = 0.8625
    2026-09-01  24 h  same costs; cpu eff unknown, ram eff 75 %, total eff unknown
                -> same costs; savings 0.48 x 25 % = 0.12
    2026-09-02  12 h (hours 0-11; 0-5 exporter, 6-11 raw -> "mixed")  cpu 0.08375  ram 0.08
                      cpu eff 80 %  ram eff 120 %  total eff 90 %
                -> cpu 1.005, ram 0.96, total 1.965; savings 1.005 x 20 % + 0 (over-used ram) = 0.201
    2026-09-03  24 h  cpu 0.01, cpu eff 25 %  -> cpu 0.24, total 0.24; savings 0.18
  acct-other    2026-09-01  24 h  cpu 1 -> 24 (must never leak into acct-report)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from alembic import command
from sqlalchemy import Engine, text

from etl.costing.rollup import daily_rollup
from etl.model import COST_COLUMNS, EFFICIENCY_COLUMNS, HOUR_FLAG_COLUMNS, HOURLY_COLUMNS, IDLE_COLUMN, NANO
from etl.read.plot import plot_daily_costs
from etl.read.report import cluster_costs
from etl.store.db import alembic_config, migrate
from etl.store.loader import write_costs
from tests.support.servers import REPO_ROOT

ACCOUNT, OTHER = "acct-report", "acct-other"
AUG31, SEP1, SEP2, SEP3 = date(2026, 8, 31), date(2026, 9, 1), date(2026, 9, 2), date(2026, 9, 3)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def hours_of(account: str, day: date, count: int, phase: str = "exporter", **rates: float | None) -> pd.DataFrame:
    """``count`` hourly rows from the day's midnight; rates in $/h, efficiencies in % (None = unknown)."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    frame = pd.DataFrame({"cloud_account_id": account,
                          "hour_start": [start + timedelta(hours=h) for h in range(count)]})
    for column in COST_COLUMNS:
        frame[column] = round(Decimal(str(rates.get(column) or 0)) * NANO)
    frame["network_internet_cost"] = frame["network_cost"]
    frame["total_cost"] = frame[["cpu_cost", "ram_cost", "pv_cost", "network_cost", "load_balancer_cost",
                                 "management_cost"]].sum(axis=1)
    for column in EFFICIENCY_COLUMNS:
        value = rates.get(column)
        frame[column] = np.nan if value is None else float(value)
    frame[HOUR_FLAG_COLUMNS] = 0
    frame[IDLE_COLUMN] = pd.NA
    frame["default_priced_resources"] = frame["clusters"] = None
    frame["currency"] = "USD"
    frame["source_phase"] = phase
    return frame[HOURLY_COLUMNS]


def load_dataset(engine: Engine) -> None:
    costs = {"cpu_cost": 0.041875, "ram_cost": 0.02, "pv_cost": 0.01, "network_cost": 0.005,
             "load_balancer_cost": 0.001, "management_cost": 0.1}
    sep2 = {"cpu_cost": 0.08375, "ram_cost": 0.08, "cpu_efficiency": 80, "ram_efficiency": 120,
            "total_efficiency": 90}
    hourly = pd.concat([
        hours_of(ACCOUNT, AUG31, 24, **costs, cpu_efficiency=50, ram_efficiency=25, total_efficiency=40),
        hours_of(ACCOUNT, SEP1, 24, **costs, ram_efficiency=75),
        hours_of(ACCOUNT, SEP2, 6, **sep2),
        hours_of(ACCOUNT, SEP2, 12, phase="raw", **sep2).iloc[6:],
        hours_of(ACCOUNT, SEP3, 24, cpu_cost=0.01, cpu_efficiency=25),
        hours_of(OTHER, SEP1, 24, cpu_cost=1.0),
    ], ignore_index=True)
    for _, rows in hourly.groupby("cloud_account_id"):
        write_costs(engine, rows, daily_rollup(rows))


def test_report_sums_across_a_month_boundary(engine: Engine) -> None:
    load_dataset(engine)
    report = cluster_costs(engine, ACCOUNT, AUG31, SEP2)
    # cpu 3 x 1.005 = 3.015 -> 3.02; ram 0.48 + 0.48 + 0.96; lb 2 x 0.024 = 0.048 -> 0.05;
    # total 2 x 4.269 + 1.965 = 10.503 -> 10.50. Sep 3 and acct-other are outside.
    assert report["summary"] == {"total_cost": 10.5, "cpu_cost": 3.02, "ram_cost": 1.92, "pv_cost": 0.48,
                                 "management_cost": 4.8, "load_balancer_cost": 0.05, "network_cost": 0.24,
                                 "gpu_cost": 0.0}
    assert report["breakdown"] == {"management_cost": 4.8, "load_balancer_cost": 0.05,
                                   "network_internet_cost": 0.24, "network_region_cost": 0.0,
                                   "network_zone_cost": 0.0}
    # cpu: (50 x 1.005 + 80 x 1.005) / 2.01 = 65 (Sep 1 unknown, left out of the weights);
    # ram: (25 x 0.48 + 75 x 0.48 + 120 x 0.96) / 1.92 = 85; total: (40 x 1.485 + 90 x 1.965) / 3.45
    assert report["efficiency"] == {"cpu_efficiency": 65.0, "ram_efficiency": 85.0, "total_efficiency": 68.4783}
    assert report["potential_savings"] == 1.18  # 0.8625 + 0.12 + 0.201 = 1.1835
    assert report["start_date"] == int(datetime(2026, 8, 31, tzinfo=UTC).timestamp())
    assert report["end_date"] == int(datetime(2026, 9, 3, tzinfo=UTC).timestamp())
    assert (report["hours_covered"], report["hours_in_range"]) == (60, 72)
    assert report["phases"] == {"exporter": 54, "raw": 6}
    assert [(d["date"], d["hours_covered"], d["source_phase"]) for d in report["days"]] == [
        ("2026-08-31", 24, "exporter"), ("2026-09-01", 24, "exporter"), ("2026-09-02", 12, "mixed")]
    assert [d["potential_savings"] for d in report["days"]] == [0.86, 0.12, 0.2]  # 0.8625, 0.12, 0.201


def test_stored_daily_savings_are_exact(engine: Engine) -> None:
    load_dataset(engine)
    with engine.connect() as connection:
        savings = dict(connection.execute(text(
            "SELECT usage_date, potential_savings FROM k8s_daily_costs WHERE cloud_account_id = :a"
        ), {"a": ACCOUNT}).all())
        other = connection.execute(text(
            "SELECT potential_savings FROM k8s_daily_costs WHERE cloud_account_id = :a"), {"a": OTHER}).scalar()
    assert savings == {AUG31: Decimal("0.8625"), SEP1: Decimal("0.12"), SEP2: Decimal("0.201"),
                       SEP3: Decimal("0.18")}
    assert other is None  # no efficiency known: unknown savings, not $0


def test_unknown_account_or_empty_range_gives_an_empty_result(engine: Engine) -> None:
    load_dataset(engine)
    for account, first, last in ((ACCOUNT, date(2026, 10, 1), date(2026, 10, 31)), ("nobody", AUG31, SEP3)):
        report = cluster_costs(engine, account, first, last)
        assert report["days"] == [] and report["hours_covered"] == 0 and report["phases"] == {}
        assert report["summary"]["total_cost"] == 0.0 and report["potential_savings"] is None


def test_clean_expenses_view(engine: Engine) -> None:
    load_dataset(engine)
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT usage_date, cost_type, cost FROM k8s_clean_expenses WHERE cloud_account_id = :a "
            "ORDER BY usage_date, cost_type"), {"a": ACCOUNT}).all()
        totals_match = connection.execute(text(
            "SELECT bool_and(e.cost = d.total_cost) FROM (SELECT cloud_account_id, usage_date, sum(cost) AS cost "
            "FROM k8s_clean_expenses GROUP BY 1, 2) e JOIN k8s_daily_costs d USING (cloud_account_id, usage_date)"
        )).scalar_one()
    by_day: dict[date, dict[str, Decimal]] = {}
    for day, cost_type, cost in rows:
        by_day.setdefault(day, {})[cost_type] = cost
    assert set(by_day) == {AUG31, SEP1, SEP2, SEP3}
    assert by_day[AUG31] == {"cpu": Decimal("1.005"), "ram": Decimal("0.48"), "gpu": 0, "pv": Decimal("0.24"),
                             "network": Decimal("0.12"), "load_balancer": Decimal("0.024"),
                             "management": Decimal("2.4")}
    assert by_day[SEP2] == {"cpu": Decimal("1.005"), "ram": Decimal("0.96"), "gpu": 0, "pv": 0, "network": 0,
                            "load_balancer": 0, "management": 0}
    assert totals_match  # the seven types add up to total_cost on every day


def test_monthly_costs_view(engine: Engine) -> None:
    load_dataset(engine)
    with engine.connect() as connection:
        rows = {(row["cloud_account_id"], row["month"]): row for row in connection.execute(
            text("SELECT * FROM k8s_monthly_costs")).mappings()}
    assert set(rows) == {(ACCOUNT, date(2026, 8, 1)), (ACCOUNT, SEP1), (OTHER, SEP1)}
    august = rows[(ACCOUNT, date(2026, 8, 1))]  # Aug 31 alone
    assert (august["total_cost"], august["cpu_cost"], august["potential_savings"]) == (
        Decimal("4.269"), Decimal("1.005"), Decimal("0.8625"))
    assert (august["cpu_efficiency"], august["ram_efficiency"], august["total_efficiency"]) == (50, 25, 40)
    assert (august["days_covered"], august["hours_covered"], august["source_phases"]) == (1, 24, "exporter")
    september = rows[(ACCOUNT, SEP1)]  # Sep 1, 2, 3
    assert september["cpu_cost"] == Decimal("2.25")  # 1.005 + 1.005 + 0.24
    assert september["ram_cost"] == Decimal("1.44")  # 0.48 + 0.96
    assert september["total_cost"] == Decimal("6.474")  # 4.269 + 1.965 + 0.24
    assert september["network_internet_cost"] == Decimal("0.12")
    # cpu: Sep 1 unknown -> (80 x 1.005 + 25 x 0.24) / 1.245 = 86.4 / 1.245 = 69.39759...
    assert september["cpu_efficiency"] == Decimal("69.3976")
    assert september["ram_efficiency"] == Decimal("105")  # (75 x 0.48 + 120 x 0.96) / 1.44
    assert september["total_efficiency"] == Decimal("90")  # only Sep 2 known
    assert september["potential_savings"] == Decimal("0.501")  # 0.12 + 0.201 + 0.18
    assert (september["days_covered"], september["hours_covered"]) == (3, 60)
    assert september["source_phases"] == "exporter,mixed"
    other = rows[(OTHER, SEP1)]
    assert other["cpu_efficiency"] is None and other["potential_savings"] is None


def test_migration_backfills_savings_and_is_reversible(engine: Engine) -> None:
    load_dataset(engine)
    # Rounding edges, so the SQL formula must round as the Python one does: 3 nano-dollars of cpu
    # at 50 % (1.5 -> 2), a 4-decimal efficiency on a 9-decimal cost, a negative efficiency
    # (unused share clamped to 100 %) and efficiency over 100 % (clamped to 0).
    edges = pd.concat([
        hours_of("acct-edges", SEP1, 1, cpu_cost=0.000000003, cpu_efficiency=50),
        hours_of("acct-edges", SEP2, 1, cpu_cost=0.123456789, cpu_efficiency=33.3333,
                 ram_cost=7.777777777, ram_efficiency=-5),
        hours_of("acct-edges", SEP3, 1, cpu_cost=2.5, cpu_efficiency=100.0001, ram_cost=0.5, ram_efficiency=99.9999),
    ], ignore_index=True)
    write_costs(engine, edges, daily_rollup(edges))
    with engine.connect() as connection:
        edge_savings = dict(connection.execute(text(
            "SELECT usage_date, potential_savings FROM k8s_daily_costs WHERE cloud_account_id = 'acct-edges'")).all())
    assert edge_savings == {
        SEP1: Decimal("0.000000002"),
        # 123456789 nano x 66.6667 % = 82304567.152263 -> 82304567 nano; ram fully unused: 7.777777777
        SEP2: Decimal("0.082304567") + Decimal("7.777777777"),
        # cpu over-used saves 0; ram 500000000 nano x 0.0001 % = 500 nano
        SEP3: Decimal("0.0000005"),
    }
    query = text("SELECT cloud_account_id, usage_date, potential_savings FROM k8s_daily_costs ORDER BY 1, 2")
    with engine.connect() as connection:
        written_by_python = connection.execute(query).all()
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0001_cost_tables")
    with engine.connect() as connection:
        columns = connection.execute(text(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'k8s_daily_costs'")).scalars()
        assert "potential_savings" not in set(columns)
        views = connection.execute(text("SELECT count(*) FROM information_schema.views "
                                        "WHERE table_name LIKE 'k8s_%'")).scalar_one()
        assert views == 0
    migrate(engine)  # re-adds the column and fills it from the hourly rows in SQL
    with engine.connect() as connection:
        assert connection.execute(query).all() == written_by_python


def run_cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    # THANOS_URL deliberately unset: reading must not need Thanos.
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "DATABASE_URL": database_url}
    return subprocess.run([sys.executable, "-m", "etl", *args], env=env, cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120, check=False)


def test_report_command_json_table_and_chart(database_url: str, engine: Engine, tmp_path: Path) -> None:
    load_dataset(engine)
    chart = tmp_path / "costs.png"
    result = run_cli(database_url, "report", "--account", ACCOUNT, "--start", "2026-08-31", "--end", "2026-09-02",
                     "--plot", str(chart))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == cluster_costs(engine, ACCOUNT, AUG31, SEP2)
    assert chart.read_bytes().startswith(PNG_MAGIC) and chart.stat().st_size > 1000

    table = run_cli(database_url, "report", "--account", ACCOUNT, "--start", "2026-08-31", "--end", "2026-09-02",
                    "--format", "table")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].startswith(f"cluster costs of {ACCOUNT}") and "60 of 72 hour(s)" in lines[0]
    assert lines[1].split()[:4] == ["date", "hours", "phase", "total"]
    # date, hours, phase, total, cpu, ram, gpu, pv, network, lb, management, (idle), cpu eff, ram eff, savings
    # (docs/reading.md shows this table)
    assert lines[2].split() == ["2026-08-31", "24", "exporter", "4.27", "1.01", "0.48", "0.00", "0.24", "0.12",
                                "0.02", "2.40", "-", "50.00", "25.00", "0.86"]
    assert lines[3].split()[8:] == ["0.12", "0.02", "2.40", "-", "-", "75.00", "0.12"]
    assert lines[5].split() == ["total", "60", "10.50", "3.02", "1.92", "0.00", "0.48", "0.24", "0.05", "4.80",
                                "-", "65.00", "85.00", "1.18"]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--account", "nobody", "--start", "2026-08-31", "--end", "2026-09-02"], 4, "unknown account 'nobody'"),
        (["--account", ACCOUNT, "--start", "2026-10-01", "--end", "2026-10-02"], 4,
         "its stored days run from 2026-08-31 to 2026-09-03"),
        (["--account", ACCOUNT, "--start", "2026-09-02", "--end", "2026-09-01"], 2,
         "--start 2026-09-02 is after --end 2026-09-01"),
        (["--account", ACCOUNT, "--start", "2026-02-30", "--end", "2026-09-01"], 2, "not a real calendar date"),
    ],
)
def test_report_command_refuses_clearly(
    database_url: str, engine: Engine, args: list[str], code: int, message: str
) -> None:
    load_dataset(engine)
    result = run_cli(database_url, "report", *args)
    assert (result.returncode, result.stdout) == (code, "")
    assert message in result.stderr


def test_chart_from_the_library(engine: Engine, tmp_path: Path) -> None:
    load_dataset(engine)
    chart = tmp_path / "month.png"
    plot_daily_costs(cluster_costs(engine, ACCOUNT, AUG31, SEP3), chart)
    assert chart.read_bytes()[:8] == PNG_MAGIC
    assert [p.name for p in tmp_path.iterdir()] == ["month.png"]  # no temporary file left behind


def test_example_queries_in_the_docs_run(engine: Engine) -> None:
    load_dataset(engine)
    document = (REPO_ROOT / "docs" / "reading.md").read_text().replace("'acct-1'", f"'{ACCOUNT}'")
    blocks = [block.split("```", 1)[0] for block in document.split("```sql\n")[1:]]
    statements = [s.strip() for block in blocks for s in block.split(";") if s.strip()]
    assert len(statements) == 7  # the last two, per namespace: tests/integration/read/test_namespace_report.py
    with engine.connect() as connection:
        union_rows, per_type, monthly, uncovered, _last_month = (
            connection.execute(text(statement)).all() for statement in statements[:5])
    # September's non-zero rows: Sep 1 all six types, Sep 2 cpu and ram, Sep 3 cpu
    assert len(union_rows) == 9
    # September per type: management 2.4, cpu 1.005 + 1.005 + 0.24, ram 0.48 + 0.96, ...
    assert [tuple(row) for row in per_type] == [
        ("management", Decimal("2.4")), ("cpu", Decimal("2.25")), ("ram", Decimal("1.44")),
        ("pv", Decimal("0.24")), ("network", Decimal("0.12")), ("load_balancer", Decimal("0.024")), ("gpu", 0)]
    assert [row[0] for row in monthly] == [date(2026, 8, 1), SEP1]
    assert len(uncovered) == 3  # no month of the dataset is fully covered
