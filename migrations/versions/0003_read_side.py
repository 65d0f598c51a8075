"""read side: k8s_daily_costs.potential_savings, views k8s_clean_expenses and k8s_monthly_costs

Revision ID: 0003_read_side
Revises: 0002_raw_phase
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_read_side"
down_revision = "0002_raw_phase"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(18, 9)
COST_COLUMNS = [
    "total_cost", "cpu_cost", "ram_cost", "pv_cost", "network_cost", "load_balancer_cost",
    "management_cost", "network_internet_cost", "network_region_cost", "network_zone_cost",
]
# The cost types of k8s_clean_expenses: they add up to total_cost (management is what the total
# holds beyond the other components).
CLEAN_EXPENSE_TYPES = {
    "cpu": "cpu_cost", "ram": "ram_cost", "pv": "pv_cost", "network": "network_cost",
    "load_balancer": "load_balancer_cost", "management": "management_cost",
}
# efficiency -> the cost that weighs it when days are combined (etl.costs.EFFICIENCY_WEIGHTS)
EFFICIENCY_WEIGHTS = {
    "cpu_efficiency": "cpu_cost",
    "ram_efficiency": "ram_cost",
    "total_efficiency": "cpu_cost + ram_cost",
}


def _unused(cost: str, efficiency: str) -> str:
    """cost x (1 - efficiency/100), unused share clamped to [0, 1], NULL when efficiency is NULL;
    rounded half-up to 9 decimals exactly as etl.costs.unused_cost does in nano-dollars."""
    return (
        f"round(GREATEST({cost}, 0) * LEAST(GREATEST(100 - {efficiency}, 0), 100) / 100, 9)"
    )


# Savings of each existing hour, summed per day (as etl.costs.daily_rollup does for new loads).
BACKFILL_SAVINGS = f"""
UPDATE k8s_daily_costs AS d SET potential_savings = h.savings
FROM (
    SELECT cloud_account_id, (hour_start AT TIME ZONE 'UTC')::date AS usage_date,
           sum(CASE WHEN cpu_efficiency IS NULL AND ram_efficiency IS NULL THEN NULL
                    ELSE COALESCE({_unused("cpu_cost", "cpu_efficiency")}, 0)
                       + COALESCE({_unused("ram_cost", "ram_efficiency")}, 0) END) AS savings
    FROM k8s_hourly_costs
    GROUP BY 1, 2
) AS h
WHERE h.cloud_account_id = d.cloud_account_id AND h.usage_date = d.usage_date
"""


def _efficiency(column: str, weight: str) -> str:
    """Cost-weighted over the days whose efficiency is known; plain mean where those days cost 0."""
    known = f"FILTER (WHERE {column} IS NOT NULL)"
    return (
        f"round(COALESCE(sum({column} * ({weight})) {known} / NULLIF(sum({weight}) {known}, 0), "
        f"avg({column})), 4) AS {column}"
    )


CLEAN_EXPENSES_VIEW = f"""
CREATE VIEW k8s_clean_expenses AS
SELECT d.cloud_account_id, d.usage_date, c.cost_type, c.cost, d.source_phase
FROM k8s_daily_costs AS d
CROSS JOIN LATERAL (VALUES {", ".join(f"('{kind}', d.{column})" for kind, column in CLEAN_EXPENSE_TYPES.items())})
    AS c (cost_type, cost)
"""

MONTHLY_VIEW = f"""
CREATE VIEW k8s_monthly_costs AS
SELECT cloud_account_id,
       date_trunc('month', usage_date)::date AS month,
       {", ".join(f"sum({column}) AS {column}" for column in COST_COLUMNS)},
       {", ".join(_efficiency(column, weight) for column, weight in EFFICIENCY_WEIGHTS.items())},
       sum(potential_savings) AS potential_savings,
       count(*)::integer AS days_covered,
       sum(hours_covered)::integer AS hours_covered,
       string_agg(DISTINCT source_phase, ',' ORDER BY source_phase) AS source_phases
FROM k8s_daily_costs
GROUP BY cloud_account_id, date_trunc('month', usage_date)
"""


def upgrade() -> None:
    # NULL = no hour of the day had a known CPU or RAM efficiency: unknown, not "nothing to save".
    op.add_column("k8s_daily_costs", sa.Column("potential_savings", MONEY, nullable=True))
    op.execute(BACKFILL_SAVINGS)
    op.execute(CLEAN_EXPENSES_VIEW)
    op.execute(MONTHLY_VIEW)


def downgrade() -> None:
    op.execute("DROP VIEW k8s_monthly_costs")
    op.execute("DROP VIEW k8s_clean_expenses")
    op.drop_column("k8s_daily_costs", "potential_savings")
