"""Reading the stored tables back, for assertions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, text

from etl.model import COST_COLUMNS, NAMESPACE_COST_COLUMNS


def daily_rows(engine: Engine) -> dict[tuple[str, date], dict[str, Any]]:
    """Every stored daily row by (account, day)."""
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM k8s_daily_costs")).mappings().all()
    return {(row["cloud_account_id"], row["usage_date"]): dict(row) for row in rows}


def daily_hourly_mismatches(engine: Engine) -> list[tuple[str, date]]:
    """(account, day) of every daily row that is not exactly the sum of its stored hours."""
    summed = [*COST_COLUMNS, "default_priced_hours"]
    sums = ", ".join(f"sum({column}) AS {column}" for column in summed)
    differs = " OR ".join(f"h.{column} <> d.{column}" for column in summed)
    with engine.connect() as connection:
        rows = connection.execute(text(
            f"SELECT d.cloud_account_id, d.usage_date FROM k8s_daily_costs d "
            f"JOIN (SELECT cloud_account_id, (hour_start AT TIME ZONE 'UTC')::date AS day, {sums}, "
            f"             count(*) AS hours FROM k8s_hourly_costs GROUP BY 1, 2) h "
            f"  ON h.cloud_account_id = d.cloud_account_id AND h.day = d.usage_date "
            f"WHERE {differs} OR h.hours <> d.hours_covered"
        )).all()
    return [(row[0], row[1]) for row in rows]


def daily(engine: Engine) -> dict[tuple[str, date], tuple[Decimal, int]]:
    """(account, day) -> (total_cost, hours_covered) as stored."""
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT cloud_account_id, usage_date, total_cost, hours_covered FROM k8s_daily_costs")).all()
    return {(row[0], row[1]): (row[2], row[3]) for row in rows}


def table_snapshot(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """Both cost tables without their updated_at stamps, for comparing two runs' results."""
    snapshot = {}
    with engine.connect() as connection:
        for table in ("k8s_hourly_costs", "k8s_daily_costs"):
            rows = connection.execute(text(f"SELECT * FROM {table} ORDER BY 1, 2")).mappings().all()
            snapshot[table] = [tuple(v for k, v in row.items() if k != "updated_at") for row in rows]
    return snapshot


def account_state(engine: Engine, account: str) -> dict[str, object]:
    with engine.connect() as connection:
        row = connection.execute(text("SELECT * FROM etl_account_state WHERE cloud_account_id = :a"),
                                 {"a": account}).mappings().one()
    return dict(row)


def runs(engine: Engine) -> list[dict[str, object]]:
    with engine.connect() as connection:
        return [dict(r) for r in connection.execute(text("SELECT * FROM etl_runs ORDER BY id")).mappings()]


def wipe(engine: Engine) -> None:
    """Empty every table the tool writes (costs, run log, account state, backfill progress)."""
    with engine.begin() as connection:
        connection.execute(text("TRUNCATE k8s_hourly_costs, k8s_daily_costs, k8s_namespace_hourly_costs, "
                                "k8s_namespace_daily_costs, etl_backfill_chunks, etl_account_state, etl_runs"))


def namespace_daily_rows(engine: Engine) -> dict[tuple[str, date, str], dict[str, Any]]:
    """Every stored namespace day by (account, day, namespace)."""
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM k8s_namespace_daily_costs")).mappings().all()
    return {(row["cloud_account_id"], row["usage_date"], row["namespace"]): dict(row) for row in rows}


def namespace_mismatches(engine: Engine, hourly: bool = False) -> list[tuple[object, ...]]:
    """(account, day or hour, column, cluster, Σ namespaces) wherever the namespace rows of a stored
    cluster row do not add up to it exactly (``hourly``: the hours)."""
    cluster, namespaces, when = (("k8s_hourly_costs", "k8s_namespace_hourly_costs", "hour_start") if hourly else
                                 ("k8s_daily_costs", "k8s_namespace_daily_costs", "usage_date"))
    found = []
    with engine.connect() as connection:
        for column in NAMESPACE_COST_COLUMNS:
            found += connection.execute(text(
                f"SELECT c.cloud_account_id, c.{when}, '{column}', c.{column}, n.sum FROM {cluster} c "
                f"LEFT JOIN (SELECT cloud_account_id, {when}, sum({column}) FROM {namespaces} GROUP BY 1, 2) n "
                f"USING (cloud_account_id, {when}) WHERE n.sum IS DISTINCT FROM c.{column}")).all()
    return [tuple(row) for row in found]
