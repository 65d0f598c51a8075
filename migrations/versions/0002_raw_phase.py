"""raw phase: record which hours were priced with default prices

Revision ID: 0002_raw_phase
Revises: 0001_cost_tables
Create Date: 2026-11-26

Phase 1 prices a node or volume without a usable price at the configured default price. Those
figures are estimates, so every row says so:

- ``default_priced_hours``: hours of the row that used at least one default price (hourly rows:
  0 or 1; daily rows: the sum over the day's hours).
- ``default_priced_resources``: which resources were priced with a default, e.g.
  ``cpu:node/n3, storage:pv/pv-cache`` (daily rows: the union over the day); NULL when none.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_raw_phase"
down_revision = "0001_cost_tables"
branch_labels = None
depends_on = None

TABLES = ("k8s_hourly_costs", "k8s_daily_costs")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("default_priced_hours", sa.Integer, nullable=False, server_default="0"))
        op.add_column(table, sa.Column("default_priced_resources", sa.Text, nullable=True))
    op.create_check_constraint(
        "k8s_hourly_costs_default_priced_hours", "k8s_hourly_costs", "default_priced_hours BETWEEN 0 AND 1"
    )
    op.create_check_constraint(
        "k8s_daily_costs_default_priced_hours", "k8s_daily_costs",
        "default_priced_hours BETWEEN 0 AND hours_covered",
    )


def downgrade() -> None:
    op.drop_constraint("k8s_daily_costs_default_priced_hours", "k8s_daily_costs", type_="check")
    op.drop_constraint("k8s_hourly_costs_default_priced_hours", "k8s_hourly_costs", type_="check")
    for table in TABLES:
        op.drop_column(table, "default_priced_resources")
        op.drop_column(table, "default_priced_hours")
