"""operations: run log, per-account state, backfill progress

Revision ID: 0004_operations
Revises: 0003_read_side
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_operations"
down_revision = "0003_read_side"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    # One row per process invocation of `run`, a `schedule` tick, or `backfill`.
    op.create_table(
        "etl_runs",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("command", sa.Text, nullable=False),
        sa.Column("host", sa.Text, nullable=False),
        sa.Column("first_day", sa.Date, nullable=True),
        sa.Column("last_day", sa.Date, nullable=True),
        sa.Column("started_at", TIMESTAMP, nullable=False, server_default=sa.func.now()),
        sa.Column("finished_at", TIMESTAMP, nullable=True),
        sa.Column("status", sa.Text, nullable=False, server_default="running"),
        sa.Column("accounts_ok", sa.Integer, nullable=False, server_default="0"),
        sa.Column("accounts_failed", sa.Integer, nullable=False, server_default="0"),
        sa.Column("accounts_skipped", sa.Integer, nullable=False, server_default="0"),
        sa.Column("rows_written", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("error", sa.Text, nullable=True),
        # For a backfill: the run that started it (itself, or the interrupted run it resumes).
        sa.Column("backfill_origin_id", sa.BigInteger, sa.ForeignKey("etl_runs.id"), nullable=True),
        sa.CheckConstraint("kind IN ('run', 'backfill')", name="etl_runs_kind"),
        sa.CheckConstraint(
            "status IN ('running', 'ok', 'failed', 'interrupted', 'error')", name="etl_runs_status"
        ),
    )
    op.create_index("etl_runs_started_at", "etl_runs", ["started_at"])
    op.create_index("etl_runs_backfill_range", "etl_runs", ["kind", "first_day", "last_day"])
    op.create_table(
        "etl_account_state",
        sa.Column("cloud_account_id", sa.Text, primary_key=True),
        # Last UTC day that is over and was computed completely (catch-up starts here).
        sa.Column("watermark", sa.Date, nullable=True),
        # End of the last hour a successful cycle counted; a replica finding it current skips the account.
        sa.Column("computed_through", TIMESTAMP, nullable=True),
        sa.Column("last_success_at", TIMESTAMP, nullable=True),
        sa.Column("last_success_run_id", sa.BigInteger, sa.ForeignKey("etl_runs.id"), nullable=True),
        sa.Column("last_attempt_at", TIMESTAMP, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("last_error_at", TIMESTAMP, nullable=True),
        sa.Column("consecutive_failures", sa.Integer, nullable=False, server_default="0"),
        # Days a catch-up skipped (older than run.max_catchup_days) until a backfill fills them.
        sa.Column("gap_first", sa.Date, nullable=True),
        sa.Column("gap_last", sa.Date, nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "etl_backfill_chunks",
        sa.Column("backfill_origin_id", sa.BigInteger, sa.ForeignKey("etl_runs.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("cloud_account_id", sa.Text, nullable=False),
        sa.Column("chunk_first", sa.Date, nullable=False),
        sa.Column("chunk_last", sa.Date, nullable=False),
        sa.Column("run_id", sa.BigInteger, sa.ForeignKey("etl_runs.id"), nullable=False),
        sa.Column("done_at", TIMESTAMP, nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("backfill_origin_id", "cloud_account_id", "chunk_first", "chunk_last"),
    )


def downgrade() -> None:
    op.drop_table("etl_backfill_chunks")
    op.drop_table("etl_account_state")
    op.drop_index("etl_runs_backfill_range", table_name="etl_runs")
    op.drop_index("etl_runs_started_at", table_name="etl_runs")
    op.drop_table("etl_runs")
