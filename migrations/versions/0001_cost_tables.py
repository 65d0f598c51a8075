"""cost tables: k8s_hourly_costs and k8s_daily_costs

Revision ID: 0001_cost_tables
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_cost_tables"
down_revision = None
branch_labels = None
depends_on = None

# USD with 9 decimals: hourly figures keep sub-cent precision and daily sums stay exact.
MONEY = sa.Numeric(18, 9)
PERCENT = sa.Numeric(7, 4)
COST_COLUMNS = [
    "total_cost", "cpu_cost", "ram_cost", "pv_cost", "network_cost", "load_balancer_cost",
    "management_cost", "network_internet_cost", "network_region_cost", "network_zone_cost",
]
EFFICIENCY_COLUMNS = ["cpu_efficiency", "ram_efficiency", "total_efficiency"]
PHASE_CHECK = "source_phase IN ('exporter', 'raw', 'mixed')"


def _measure_columns() -> list[sa.Column]:
    return [
        *(sa.Column(name, MONEY, nullable=False) for name in COST_COLUMNS),
        *(sa.Column(name, PERCENT, nullable=True) for name in EFFICIENCY_COLUMNS),
    ]


def upgrade() -> None:
    op.create_table(
        "k8s_hourly_costs",
        sa.Column("cloud_account_id", sa.Text, nullable=False),
        sa.Column("hour_start", sa.DateTime(timezone=True), nullable=False),
        *_measure_columns(),
        sa.Column("source_phase", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("cloud_account_id", "hour_start"),
        sa.CheckConstraint(PHASE_CHECK, name="k8s_hourly_costs_source_phase"),
    )
    op.create_table(
        "k8s_daily_costs",
        sa.Column("cloud_account_id", sa.Text, nullable=False),
        sa.Column("usage_date", sa.Date, nullable=False),
        *_measure_columns(),
        sa.Column("hours_covered", sa.Integer, nullable=False),
        sa.Column("source_phase", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("cloud_account_id", "usage_date"),
        sa.CheckConstraint(PHASE_CHECK, name="k8s_daily_costs_source_phase"),
        sa.CheckConstraint("hours_covered BETWEEN 0 AND 24", name="k8s_daily_costs_hours_covered"),
    )
    op.create_index("k8s_daily_costs_usage_date", "k8s_daily_costs", ["usage_date"])


def downgrade() -> None:
    op.drop_index("k8s_daily_costs_usage_date", table_name="k8s_daily_costs")
    op.drop_table("k8s_daily_costs")
    op.drop_table("k8s_hourly_costs")
