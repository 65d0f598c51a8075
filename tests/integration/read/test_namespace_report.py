"""Reading the namespace breakdown: `report --by namespace` (JSON, table, chart, shared costs), the
namespace views and `export --by namespace`, on the namespace dataset (tests/support/namespaces.py)
backfilled into a real PostgreSQL.

EXP's day (from the dataset's arithmetic): shop 96, search 72, kube-system 12 (cpu 6, ram 6),
reports 5.75, __idle__ 54.25 = 240, the cluster's total.

Sharing kube-system: each of its columns is spread over shop, search and reports in proportion to
their day's totals, 96 : 72 : 5.75 (of 173.75), to the nano-dollar (largest remainder):
  cpu 6 $: shop 3.315107913669 -> 3.315107914 (the largest remainder takes the nano left),
           search 2.486330935252 -> 2.486330935, reports 0.198561151079 -> 0.198561151; ram alike.
  shop +6.630215828 -> 102.630215828 (102.63), search +4.97266187 -> 76.97266187 (76.97),
  reports +0.397122302 -> 6.147122302 (6.15); 6.630215828 + 4.97266187 + 0.397122302 = 12 exactly.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine, text

from etl.report import cluster_costs, namespace_costs
from tests.integration.read.test_report import PNG_MAGIC, run_cli
from tests.support.focus_rules import violations
from tests.support.namespaces import CAP, DAY, EXP, dataset
from tests.support.servers import REPO_ROOT, run_backfill


@pytest.fixture
def loaded(prometheus_with, database_url: str, engine: Engine) -> Engine:  # type: ignore[no-untyped-def]
    summary = run_backfill(prometheus_with("namespaces", dataset()), database_url, engine, DAY, DAY,
                           ACCOUNTS=f"{EXP},{CAP}")
    assert not summary.failed
    return engine


def totals(report: dict[str, object]) -> dict[str, float]:
    return {entry["namespace"]: entry["total_cost"] for entry in report["namespaces"]}  # type: ignore[attr-defined]


def test_the_namespaces_add_up_to_the_cluster_and_sharing_keeps_the_total(loaded: Engine) -> None:
    plain = namespace_costs(loaded, EXP, DAY, DAY)
    assert totals(plain) == {"shop": 96.0, "search": 72.0, "kube-system": 12.0, "reports": 5.75, "__idle__": 54.25}
    assert list(totals(plain)) == ["shop", "search", "kube-system", "reports", "__idle__"]  # largest first, idle last
    cluster = cluster_costs(loaded, EXP, DAY, DAY)["summary"]
    assert {key: plain["summary"][key] for key in cluster} == cluster
    shop = plain["namespaces"][0]
    assert shop["efficiency"] == {"cpu_efficiency": 40.0, "ram_efficiency": 60.0, "total_efficiency": 50.0}
    assert shop["hours_covered"] == 24 and plain["namespaces"][3]["hours_covered"] == 12

    shared = namespace_costs(loaded, EXP, DAY, DAY, share=["kube-system"])
    assert totals(shared) == {"shop": 102.63, "search": 76.97, "reports": 6.15, "__idle__": 54.25}
    assert [entry["shared_cost"] for entry in shared["namespaces"]] == [6.63, 4.97, 0.4, 0.0]
    assert shared["summary"] == plain["summary"]
    assert shared["shared"] == {"namespaces": ["kube-system"], "idle": False, "cost": {"kube-system": 12.0},
                                "not_shared_on": []}
    with_idle = namespace_costs(loaded, EXP, DAY, DAY, share=["kube-system"], share_idle=True)
    assert set(totals(with_idle)) == {"shop", "search", "reports"} and with_idle["summary"] == plain["summary"]


def test_report_by_namespace_on_the_command_line(loaded: Engine, database_url: str, tmp_path: Path) -> None:
    chart = tmp_path / "namespaces.png"
    args = ["report", "--account", EXP, "--start", str(DAY), "--end", str(DAY), "--by", "namespace"]
    result = run_cli(database_url, *args, "--share", "kube-system", "--plot", str(chart))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == namespace_costs(loaded, EXP, DAY, DAY, share=["kube-system"])
    assert chart.read_bytes().startswith(PNG_MAGIC)
    table = run_cli(database_url, *args, "--format", "table").stdout.splitlines()
    assert table[0].startswith(f"namespace costs of {EXP} (USD)")
    # namespace, hours, total, cpu, ram, gpu, pv, network, lb, management, shared, cpu eff, ram eff, savings
    assert table[2].split() == ["shop", "24", "96.00", "48.00", "36.00", "0.00", "12.00", "0.00", "0.00", "0.00",
                                "0.00", "40.00", "60.00", "43.20"]  # savings 24 x (2 x 0.6 + 1.5 x 0.4)
    assert table[-1].split()[:3] == ["total", "240.00", "96.00"]
    refused = run_cli(database_url, "report", "--account", EXP, "--start", str(DAY), "--end", str(DAY), "--share",
                      "kube-system")
    assert refused.returncode == 2 and "--share and --share-idle need --by namespace" in refused.stderr


def test_the_example_queries_of_the_namespace_views_run(loaded: Engine) -> None:
    document = (REPO_ROOT / "docs" / "reading.md").read_text().replace("'acct-1'", f"'{EXP}'")
    blocks = [block.split("```", 1)[0] for block in document.split("```sql\n")[1:]]
    statements = [s.strip() for block in blocks for s in block.split(";") if s.strip()][-2:]
    with loaded.connect() as connection:
        per_namespace, union_rows = (connection.execute(text(statement)).all() for statement in statements)
    # October: shop 96 (40 %), search 72 (30 %), __idle__ 54.25, kube-system 12 (5 %), reports 5.75
    assert [(row[0], row[1], row[2]) for row in per_namespace][:2] == [("shop", Decimal("96"), Decimal("40.00")),
                                                                        ("search", Decimal("72"), Decimal("30.00"))]
    # the types that cost something: shop cpu, ram, pv; search cpu, ram, pv, network, lb; kube-system cpu,
    # ram; reports cpu; __idle__ cpu, ram, pv, management
    assert len(union_rows) == 3 + 5 + 2 + 1 + 4
    assert {row[2] for row in union_rows} == {"shop", "search", "kube-system", "reports", "__idle__"}


def test_the_namespace_views_and_the_focus_export(loaded: Engine, database_url: str, tmp_path: Path) -> None:
    with loaded.connect() as connection:
        clean = connection.execute(text(
            "SELECT namespace, sum(cost) FROM k8s_namespace_clean_expenses WHERE cloud_account_id = :a "
            "GROUP BY namespace ORDER BY namespace"), {"a": CAP}).all()
        monthly = connection.execute(text(
            "SELECT namespace, total_cost, days_covered, hours_covered FROM k8s_namespace_monthly_costs "
            "WHERE cloud_account_id = :a ORDER BY namespace"), {"a": CAP}).all()
    # the seven cost types of each namespace add up to its total (CAP's day: tests/support/namespaces.py)
    assert [tuple(row) for row in clean] == [("__idle__", Decimal("6.48")), ("__unallocated__", Decimal("0.84")),
                                             ("batch", Decimal("1.68")), ("web", Decimal("2.784"))]
    assert [tuple(row) for row in monthly] == [("__idle__", Decimal("6.48"), 1, 24),
                                               ("__unallocated__", Decimal("0.84"), 1, 24),
                                               ("batch", Decimal("1.68"), 1, 12), ("web", Decimal("2.784"), 1, 24)]
    target = tmp_path / "namespaces.csv"
    result = run_cli(database_url, "export", "--start", str(DAY), "--end", str(DAY), "--by", "namespace", "-o",
                     str(target))
    assert result.returncode == 0, result.stderr
    frame = pd.read_csv(target, dtype=str, keep_default_na=False, na_values=[""])
    assert violations(frame.astype(object).where(frame.notna(), None)) == []
    rows = {row["ResourceId"]: row for _, row in frame.iterrows()}
    assert len(rows) == 9  # EXP's five namespaces, CAP's four
    assert sum(Decimal(row["BilledCost"]) for key, row in rows.items() if key.startswith(f"{EXP}/")) == Decimal(240)
    idle = rows[f"{CAP}/__idle__"]
    # its idle is its capacity part (cpu 1.8 + ram 2.16 + pv 0.12); the rest of it is the management fee
    assert (Decimal(idle["x_IdleCost"]), Decimal(idle["BilledCost"])) == (Decimal("4.08"), Decimal("6.48"))
    assert json.loads(idle["Tags"]) == {"k8s-cost-etl/cluster": CAP, "k8s-cost-etl/namespace": "__idle__"}
    assert (idle["ResourceType"], Decimal(rows[f"{CAP}/web"]["x_IdleCost"])) == ("Kubernetes Namespace", 0)
