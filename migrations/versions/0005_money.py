"""money: currency and clusters on every cost row, exporter flags, efficiency wide enough

Revision ID: 0005_money
Revises: 0004_operations
Create Date: 2026-11-30

On both cost tables:

- ``currency`` (ISO code, default USD for the rows stored before): the currency of the row's money;
  two currencies are never added, so the monthly view groups by it and the clean-expenses view
  shows it.
- ``clusters``: the exporter clusters (label ``cluster``) the row sums, comma-separated; NULL when
  none was named (Phase 1, or an exporter without the label).
- ``exporter_zero_hours`` / ``exporter_stale_hours``: hours the exporter reported exactly $0 with
  no Phase 1 data to contradict it, and hours whose failed-scrape stretch was held from the
  exporter's healthy figures (hourly rows 0 or 1, daily rows a count).
- efficiency columns NUMERIC(7,4) -> NUMERIC(18,4): usage far over requests (1000 % and more) is
  real. A downgrade stores the efficiencies that no longer fit as NULL (unknown).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_money"
down_revision = "0004_operations"
branch_labels = None
depends_on = None

TABLES = {"k8s_hourly_costs": "1", "k8s_daily_costs": "hours_covered"}  # table -> most flagged hours
EFFICIENCY_COLUMNS = ("cpu_efficiency", "ram_efficiency", "total_efficiency")
FLAGS = ("exporter_zero_hours", "exporter_stale_hours")
COST_COLUMNS = (
    "total_cost", "cpu_cost", "ram_cost", "pv_cost", "network_cost", "load_balancer_cost",
    "management_cost", "network_internet_cost", "network_region_cost", "network_zone_cost",
)
CLEAN_EXPENSE_VALUES = (
    "('cpu', d.cpu_cost), ('ram', d.ram_cost), ('pv', d.pv_cost), ('network', d.network_cost), "
    "('load_balancer', d.load_balancer_cost), ('management', d.management_cost)"
)
EFFICIENCY_WEIGHTS = {
    "cpu_efficiency": "cpu_cost",
    "ram_efficiency": "ram_cost",
    "total_efficiency": "cpu_cost + ram_cost",
}


def _efficiency(column: str, weight: str) -> str:
    known = f"FILTER (WHERE {column} IS NOT NULL)"
    return (
        f"round(COALESCE(sum({column} * ({weight})) {known} / NULLIF(sum({weight}) {known}, 0), "
        f"avg({column})), 4) AS {column}"
    )


def _views(currency: bool) -> list[str]:
    """The two views with (head) or without (0003/0004) the currency."""
    shown, grouped = (", d.currency", ", currency") if currency else ("", "")
    clean = (f"CREATE VIEW k8s_clean_expenses AS\n"
             f"SELECT d.cloud_account_id, d.usage_date, c.cost_type, c.cost{shown}, d.source_phase\n"
             f"FROM k8s_daily_costs AS d\n"
             f"CROSS JOIN LATERAL (VALUES {CLEAN_EXPENSE_VALUES})\n"
             f"    AS c (cost_type, cost)")
    monthly = ("CREATE VIEW k8s_monthly_costs AS\n"
               "SELECT cloud_account_id,\n"
               "       date_trunc('month', usage_date)::date AS month,\n"
               + ("       currency,\n" if currency else "")
               + f"       {', '.join(f'sum({column}) AS {column}' for column in COST_COLUMNS)},\n"
               f"       {', '.join(_efficiency(column, weight) for column, weight in EFFICIENCY_WEIGHTS.items())},\n"
               f"       sum(potential_savings) AS potential_savings,\n"
               f"       count(*)::integer AS days_covered,\n"
               f"       sum(hours_covered)::integer AS hours_covered,\n"
               f"       string_agg(DISTINCT source_phase, ',' ORDER BY source_phase) AS source_phases\n"
               f"FROM k8s_daily_costs\n"
               f"GROUP BY cloud_account_id, date_trunc('month', usage_date){grouped}")
    return [clean, monthly]


def _drop_views() -> None:
    # The views read the efficiency columns, whose type cannot change under them.
    op.execute("DROP VIEW k8s_monthly_costs")
    op.execute("DROP VIEW k8s_clean_expenses")


def upgrade() -> None:
    _drop_views()
    for table, most in TABLES.items():
        for column in EFFICIENCY_COLUMNS:
            op.alter_column(table, column, type_=sa.Numeric(18, 4), existing_type=sa.Numeric(7, 4),
                            existing_nullable=True)
        for flag in FLAGS:
            op.add_column(table, sa.Column(flag, sa.Integer, nullable=False, server_default="0"))
            op.create_check_constraint(f"{table}_{flag}", table, f"{flag} BETWEEN 0 AND {most}")
        op.add_column(table, sa.Column("currency", sa.Text, nullable=False, server_default="USD"))
        op.add_column(table, sa.Column("clusters", sa.Text, nullable=True))
    for view in _views(currency=True):
        op.execute(view)


def downgrade() -> None:
    _drop_views()
    for table in TABLES:
        op.drop_column(table, "clusters")
        op.drop_column(table, "currency")
        for flag in FLAGS:
            op.drop_constraint(f"{table}_{flag}", table, type_="check")
            op.drop_column(table, flag)
        for column in EFFICIENCY_COLUMNS:
            op.execute(f"UPDATE {table} SET {column} = NULL WHERE abs({column}) >= 1000")
            op.alter_column(table, column, type_=sa.Numeric(7, 4), existing_type=sa.Numeric(18, 4),
                            existing_nullable=True)
    for view in _views(currency=False):
        op.execute(view)
