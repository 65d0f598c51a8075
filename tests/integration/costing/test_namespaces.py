"""Idle in both phases and the namespace breakdown, on a real Prometheus and PostgreSQL.

The dataset and every figure's arithmetic are in tests/support/namespaces.py; each test backfills
the day for the accounts it reads (ACCOUNTS), so the shared Prometheus is loaded once.
"""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest
from sqlalchemy import Engine, text

from etl.model import NAMESPACE_DAILY_COLUMNS
from etl.run.pipeline import RunSummary
from tests.support.namespaces import BARE, CAP, DAY, EXP, GPU, MIX, NEG, OLD, dataset
from tests.support.servers import run_backfill
from tests.support.tables import daily_hourly_mismatches, daily_rows, namespace_daily_rows, namespace_mismatches


@pytest.fixture
def thanos_url(prometheus_with) -> str:  # type: ignore[no-untyped-def]
    return prometheus_with("namespaces", dataset())


def backfill(thanos_url: str, database_url: str, engine: Engine, *accounts: str, **env: str) -> RunSummary:
    summary = run_backfill(thanos_url, database_url, engine, DAY, DAY, ACCOUNTS=",".join(accounts), **env)
    assert not summary.failed
    return summary


def namespaces_of(engine: Engine, account: str) -> dict[str, dict[str, object]]:
    return {name: row for (owner, _, name), row in namespace_daily_rows(engine).items() if owner == account}


def quote(value: str) -> str:
    return f"'{value}'"


def money(row: dict[str, object], *columns: str) -> tuple[object, ...]:
    return tuple(row[column] for column in columns)


def test_a_raw_cluster_with_capacity_costs_its_capacity_and_its_idle(thanos_url: str, database_url: str,
                                                                    engine: Engine) -> None:
    backfill(thanos_url, database_url, engine, CAP)
    day = daily_rows(engine)[(CAP, DAY)]
    # 24 x 0.491: the node's capacity, both volumes (the unclaimed one too), the LB and the fee
    # (allocations alone, as before: 5.304)
    assert money(day, "total_cost", "cpu_cost", "ram_cost", "gpu_cost", "pv_cost", "load_balancer_cost",
                 "management_cost") == (Decimal("11.784"), Decimal("4.8"), Decimal("3.84"), Decimal("0"),
                                        Decimal("0.144"), Decimal("0.6"), Decimal("2.4"))
    assert (day["idle_cost"], day["idle_unknown_hours"], day["negative_idle_hours"]) == (Decimal("4.08"), 0, 0)
    assert (day["cpu_efficiency"], day["ram_efficiency"]) == (Decimal("37.5"), Decimal("25"))  # used / capacity
    names = namespaces_of(engine, CAP)
    assert set(names) == {"web", "batch", "__unallocated__", "__idle__"}
    assert money(names["web"], "total_cost", "cpu_cost", "ram_cost", "pv_cost", "load_balancer_cost",
                 "hours_covered") == (Decimal("2.784"), Decimal("1.2"), Decimal("0.96"), Decimal("0.024"),
                                      Decimal("0.6"), 24)
    assert money(names["web"], "cpu_efficiency", "ram_efficiency") == (Decimal("50"), Decimal("50"))
    # web's unused half: 24 x (0.05 x 0.5 + 0.04 x 0.5)
    assert names["web"]["potential_savings"] == Decimal("1.08")
    # the namespace that appears at noon has 12 hours
    assert money(names["batch"], "total_cost", "cpu_cost", "ram_cost", "hours_covered", "cpu_efficiency") == (
        Decimal("1.68"), Decimal("1.2"), Decimal("0.48"), 12, Decimal("100"))
    # the pod without a namespace label
    assert money(names["__unallocated__"], "total_cost", "cpu_cost", "ram_cost", "cpu_efficiency") == (
        Decimal("0.84"), Decimal("0.6"), Decimal("0.24"), None)
    idle = names["__idle__"]
    assert money(idle, "total_cost", "cpu_cost", "ram_cost", "pv_cost", "management_cost", "load_balancer_cost",
                 "cpu_efficiency", "potential_savings") == (Decimal("6.48"), Decimal("1.8"), Decimal("2.16"),
                                                            Decimal("0.12"), Decimal("2.4"), Decimal("0"), None, None)
    assert namespace_mismatches(engine) == []


def test_a_raw_cluster_without_capacity_keeps_its_allocations_and_says_so(
    thanos_url: str, database_url: str, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        backfill(thanos_url, database_url, engine, BARE)
    day = daily_rows(engine)[(BARE, DAY)]
    assert (day["total_cost"], day["idle_cost"], day["idle_unknown_hours"]) == (Decimal("2.88"), None, 24)
    assert {name: row["total_cost"] for name, row in namespaces_of(engine, BARE).items()} == {"app": Decimal("2.88")}
    said = [r.getMessage() for r in caplog.records if BARE in r.getMessage() and "idle unknown" in r.getMessage()]
    assert len(said) == 1 and "24 hour(s)" in said[0] and "no node capacity" in said[0], said


def test_a_gpu_node_costs_what_the_node_costs(thanos_url: str, database_url: str, engine: Engine) -> None:
    backfill(thanos_url, database_url, engine, GPU)
    with engine.connect() as connection:
        hours = connection.execute(text("SELECT DISTINCT total_cost, gpu_cost, idle_cost FROM k8s_hourly_costs "
                                        "WHERE cloud_account_id = :a"), {"a": GPU}).all()
    assert hours == [(Decimal("2.98"), Decimal("2.5"), Decimal("0"))]  # 0.32 + 0.16 + 2.50, not 0.48
    day = daily_rows(engine)[(GPU, DAY)]
    assert money(day, "total_cost", "gpu_cost", "idle_cost") == (Decimal("71.52"), Decimal("60"), Decimal("0"))
    assert set(namespaces_of(engine, GPU)) == {"ml"}  # fully allocated: no idle row


def test_exporter_namespaces_and_the_idle_they_leave(thanos_url: str, database_url: str, engine: Engine) -> None:
    backfill(thanos_url, database_url, engine, EXP, OLD)
    rows = daily_rows(engine)
    assert money(rows[(EXP, DAY)], "total_cost", "idle_cost", "idle_unknown_hours") == (Decimal("240"),
                                                                                        Decimal("24.25"), 0)
    names = namespaces_of(engine, EXP)
    assert {name: (row["total_cost"], row["hours_covered"]) for name, row in names.items()} == {
        "shop": (Decimal("96"), 24), "search": (Decimal("72"), 24), "kube-system": (Decimal("12"), 24),
        "reports": (Decimal("5.75"), 12), "__idle__": (Decimal("54.25"), 24)}  # Kubecost's own __idle__ left out
    assert money(names["shop"], "cpu_efficiency", "ram_efficiency", "total_efficiency") == (
        Decimal("40"), Decimal("60"), Decimal("50"))
    # __idle__: cpu 12 x 0.75 + 0.5 + 11 x 0.25, ram and pv 24 x 0.25, management 24 x 1.25, network and lb 0
    assert money(names["__idle__"], "cpu_cost", "ram_cost", "pv_cost", "management_cost", "network_cost") == (
        Decimal("12.25"), Decimal("6"), Decimal("6"), Decimal("30"), Decimal("0"))
    # an exporter without namespace gauges: all of it __unallocated__, its idle unknown
    assert money(rows[(OLD, DAY)], "total_cost", "idle_cost", "idle_unknown_hours") == (Decimal("48"), None, 24)
    assert {name: row["total_cost"] for name, row in namespaces_of(engine, OLD).items()} == {
        "__unallocated__": Decimal("48")}
    assert namespace_mismatches(engine) == []


def test_a_mixed_day_takes_each_hours_namespaces_from_its_phase(thanos_url: str, database_url: str,
                                                               engine: Engine) -> None:
    backfill(thanos_url, database_url, engine, MIX, STORE_NAMESPACE_HOURS="true")
    day = daily_rows(engine)[(MIX, DAY)]
    assert money(day, "total_cost", "idle_cost", "source_phase") == (Decimal("15.18"), Decimal("7.59"), "mixed")
    names = namespaces_of(engine, MIX)
    assert {name: (row["total_cost"], row["source_phase"]) for name, row in names.items()} == {
        "app": (Decimal("7.59"), "mixed"), "__idle__": (Decimal("7.59"), "mixed")}
    with engine.connect() as connection:
        hour_20 = connection.execute(text(
            "SELECT namespace, total_cost, cpu_cost, ram_cost, pv_cost, source_phase FROM k8s_namespace_hourly_costs "
            "WHERE cloud_account_id = :a AND hour_start = :h ORDER BY namespace"),
            {"a": MIX, "h": f"{DAY}T20:00Z"}).all()
    # 3/4 of the exporter's hour + 1/4 of Phase 1's, each namespace and the idle alike
    assert [tuple(row) for row in hour_20] == [
        ("__idle__", Decimal("0.41"), Decimal("0.25"), Decimal("0.085"), Decimal("0.075"), "mixed"),
        ("app", Decimal("0.41"), Decimal("0.25"), Decimal("0.16"), Decimal("0"), "mixed")]
    assert namespace_mismatches(engine, hourly=True) == [] and namespace_mismatches(engine) == []


def test_a_negative_residual_is_stored_as_it_is_logged_and_flagged(
    thanos_url: str, database_url: str, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        backfill(thanos_url, database_url, engine, NEG)
    day = daily_rows(engine)[(NEG, DAY)]
    assert money(day, "total_cost", "idle_cost", "negative_idle_hours") == (Decimal("8"), Decimal("0"), 4)
    idle = namespaces_of(engine, NEG)["__idle__"]
    assert money(idle, "total_cost", "cpu_cost", "ram_cost") == (Decimal("0"), Decimal("-2"), Decimal("2"))
    said = [r.getMessage() for r in caplog.records if NEG in r.getMessage() and "more than the cluster" in
            r.getMessage()]
    assert len(said) == 1 and "4 hour(s)" in said[0] and f"{DAY}T00:00Z" in said[0], said
    assert namespace_mismatches(engine) == []


def test_a_rewritten_day_replaces_its_namespaces_whole(thanos_url: str, database_url: str, engine: Engine) -> None:
    backfill(thanos_url, database_url, engine, CAP, EXP)
    columns = ", ".join(NAMESPACE_DAILY_COLUMNS)
    with engine.begin() as connection:  # a namespace the day no longer has (e.g. deleted upstream)
        connection.execute(text(f"INSERT INTO k8s_namespace_daily_costs ({columns}) SELECT "
                                f"{columns.replace('namespace', quote('gone'))} FROM k8s_namespace_daily_costs "
                                "WHERE namespace = 'web'"))
    before = namespace_daily_rows(engine)
    backfill(thanos_url, database_url, engine, CAP, EXP)
    after = namespace_daily_rows(engine)
    assert (CAP, DAY, "gone") in before and (CAP, DAY, "gone") not in after
    assert {key: row["updated_at"] for key, row in after.items()} == {
        key: row["updated_at"] for key, row in before.items() if key[2] != "gone"}  # the rest untouched
    with engine.connect() as connection:  # namespace hours are stored only when asked for
        assert connection.execute(text("SELECT count(*) FROM k8s_namespace_hourly_costs")).scalar_one() == 0
    assert daily_hourly_mismatches(engine) == [] and namespace_mismatches(engine) == []
