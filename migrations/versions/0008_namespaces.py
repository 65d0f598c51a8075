"""namespaces: gpu_cost, idle_cost and their flags on the cluster tables, the namespace tables and views

Revision ID: 0008_namespaces
Revises: 0005_money
Create Date: 2026-12-07

On both cluster cost tables:

- ``gpu_cost``: a component of the total (Phase 1: GPUs allocated, and GPU capacity as an asset).
  Rows stored before hold 0 (their GPUs, if any, were not costed).
- ``idle_cost`` (nullable): capacity nobody was allocated, part of the total.
- ``idle_unknown_hours`` / ``negative_idle_hours``: hours whose idle is unknown, and hours whose
  namespaces add up to more than the cluster. Rows stored before know no idle: their hours are
  counted as unknown (a backfill of their range restates them).

New tables ``k8s_namespace_daily_costs`` and ``k8s_namespace_hourly_costs`` (the breakdown of the
cluster rows per namespace), and views ``k8s_namespace_clean_expenses`` and
``k8s_namespace_monthly_costs``; the two cluster views gain the GPU (and the monthly one the idle).
The views' SQL is frozen here as it was generated (etl.store.views) at this revision.
"""

from __future__ import annotations

import importlib

import sqlalchemy as sa
from alembic import op

revision = "0008_namespaces"
down_revision = "0005_money"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(18, 9)
PERCENT = sa.Numeric(18, 4)
TABLES = {"k8s_hourly_costs": "1", "k8s_daily_costs": "hours_covered"}  # table -> most flagged hours
FLAGS = ("idle_unknown_hours", "negative_idle_hours")
COST_COLUMNS = (
    "total_cost", "cpu_cost", "ram_cost", "gpu_cost", "pv_cost", "network_cost", "load_balancer_cost",
    "management_cost", "network_internet_cost", "network_region_cost", "network_zone_cost",
)
NAMESPACE_COST_COLUMNS = COST_COLUMNS[:-3]  # without the network split (a cluster's only)
EFFICIENCY_COLUMNS = ("cpu_efficiency", "ram_efficiency", "total_efficiency")
PHASE_CHECK = "source_phase IN ('exporter', 'raw', 'mixed')"
CLEAN_EXPENSE_VALUES = (
    "('cpu', d.cpu_cost), ('ram', d.ram_cost), ('gpu', d.gpu_cost), ('pv', d.pv_cost), "
    "('network', d.network_cost), ('load_balancer', d.load_balancer_cost), ('management', d.management_cost)"
)
EFFICIENCY_WEIGHTS = {
    "cpu_efficiency": "cpu_cost",
    "ram_efficiency": "ram_cost",
    "total_efficiency": "cpu_cost + ram_cost",
}


def _efficiency(column: str, weight: str) -> str:
    known = f"FILTER (WHERE {column} IS NOT NULL)"
    return (f"round(COALESCE(sum({column} * ({weight})) {known} / NULLIF(sum({weight}) {known}, 0), "
            f"avg({column})), 4) AS {column}")


def _clean_expenses(view: str, table: str, keys: str) -> str:
    return (f"CREATE VIEW {view} AS\n"
            f"SELECT {keys}, c.cost_type, c.cost, d.currency, d.source_phase\n"
            f"FROM {table} AS d\n"
            f"CROSS JOIN LATERAL (VALUES {CLEAN_EXPENSE_VALUES})\n"
            f"    AS c (cost_type, cost)")


def _monthly(view: str, table: str, by: str, costs: tuple[str, ...], sums: str) -> str:
    return (f"CREATE VIEW {view} AS\n"
            f"SELECT cloud_account_id,\n"
            f"       date_trunc('month', usage_date)::date AS month,\n"
            + "".join(f"       {column},\n" for column in by.split(", ") if column)
            + "       currency,\n"
            f"       {', '.join(f'sum({column}) AS {column}' for column in costs)},\n"
            f"       {', '.join(_efficiency(column, weight) for column, weight in EFFICIENCY_WEIGHTS.items())},\n"
            f"       {sums},\n"
            f"       count(*)::integer AS days_covered,\n"
            f"       sum(hours_covered)::integer AS hours_covered,\n"
            f"       string_agg(DISTINCT source_phase, ',' ORDER BY source_phase) AS source_phases\n"
            f"FROM {table}\n"
            f"GROUP BY cloud_account_id, date_trunc('month', usage_date), {by + ', ' if by else ''}currency")


VIEWS = {
    "k8s_clean_expenses": _clean_expenses("k8s_clean_expenses", "k8s_daily_costs",
                                          "d.cloud_account_id, d.usage_date"),
    "k8s_monthly_costs": _monthly("k8s_monthly_costs", "k8s_daily_costs", "", COST_COLUMNS,
                                  "sum(potential_savings) AS potential_savings, sum(idle_cost) AS idle_cost, "
                                  "sum(idle_unknown_hours)::integer AS idle_unknown_hours"),
    "k8s_namespace_clean_expenses": _clean_expenses("k8s_namespace_clean_expenses", "k8s_namespace_daily_costs",
                                                    "d.cloud_account_id, d.usage_date, d.namespace"),
    "k8s_namespace_monthly_costs": _monthly("k8s_namespace_monthly_costs", "k8s_namespace_daily_costs", "namespace",
                                            NAMESPACE_COST_COLUMNS, "sum(potential_savings) AS potential_savings"),
}


def _namespace_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("namespace", sa.Text, nullable=False),
        *(sa.Column(name, MONEY, nullable=False) for name in NAMESPACE_COST_COLUMNS),
        *(sa.Column(name, PERCENT, nullable=True) for name in EFFICIENCY_COLUMNS),
        sa.Column("source_phase", sa.Text, nullable=False),
        sa.Column("currency", sa.Text, nullable=False, server_default="USD"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    ]


def upgrade() -> None:
    op.execute("DROP VIEW k8s_monthly_costs")
    op.execute("DROP VIEW k8s_clean_expenses")
    for table, most in TABLES.items():
        op.add_column(table, sa.Column("gpu_cost", MONEY, nullable=False, server_default="0"))
        op.alter_column(table, "gpu_cost", server_default=None)
        op.add_column(table, sa.Column("idle_cost", MONEY, nullable=True))
        for flag in FLAGS:
            op.add_column(table, sa.Column(flag, sa.Integer, nullable=False, server_default="0"))
            op.create_check_constraint(f"{table}_{flag}", table, f"{flag} BETWEEN 0 AND {most}")
        # Rows stored before know no idle: say so (a backfill of their range restates them).
        op.execute(f"UPDATE {table} SET idle_unknown_hours = {most}")
    op.create_table(
        "k8s_namespace_hourly_costs",
        sa.Column("cloud_account_id", sa.Text, nullable=False),
        sa.Column("hour_start", sa.DateTime(timezone=True), nullable=False),
        *_namespace_columns(),
        sa.PrimaryKeyConstraint("cloud_account_id", "hour_start", "namespace"),
        sa.CheckConstraint(PHASE_CHECK, name="k8s_namespace_hourly_costs_source_phase"),
    )
    op.create_table(
        "k8s_namespace_daily_costs",
        sa.Column("cloud_account_id", sa.Text, nullable=False),
        sa.Column("usage_date", sa.Date, nullable=False),
        *_namespace_columns(),
        sa.Column("hours_covered", sa.Integer, nullable=False),
        sa.Column("potential_savings", MONEY, nullable=True),
        sa.PrimaryKeyConstraint("cloud_account_id", "usage_date", "namespace"),
        sa.CheckConstraint(PHASE_CHECK, name="k8s_namespace_daily_costs_source_phase"),
        sa.CheckConstraint("hours_covered BETWEEN 1 AND 24", name="k8s_namespace_daily_costs_hours_covered"),
    )
    op.create_index("k8s_namespace_daily_costs_usage_date", "k8s_namespace_daily_costs", ["usage_date"])
    for view in VIEWS.values():
        op.execute(view)


def downgrade() -> None:
    for view in reversed(VIEWS):
        op.execute(f"DROP VIEW {view}")
    op.drop_table("k8s_namespace_daily_costs")
    op.drop_table("k8s_namespace_hourly_costs")
    for table in TABLES:
        for flag in FLAGS:
            op.drop_constraint(f"{table}_{flag}", table, type_="check")
            op.drop_column(table, flag)
        op.drop_column(table, "idle_cost")
        op.drop_column(table, "gpu_cost")
    # The views as the previous revision left them.
    for view in importlib.import_module("migrations.versions.0005_money")._views(currency=True):
        op.execute(view)
