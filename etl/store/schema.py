"""The database schema, declared once as SQLAlchemy ``Table`` objects.

The loader, the readers, the run log and the views are built from these tables; Alembic's
``migrations/env.py`` uses this metadata, and a test fails when the migrations and these
declarations drift apart (``alembic check``). Column names come from the vocabulary (etl.model).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    Table,
    Text,
    func,
)

from etl.model import (
    ACCOUNT_COLUMN,
    CLUSTERS_COLUMN,
    COST_COLUMNS,
    COUNTED_FLAG_COLUMNS,
    CURRENCY_COLUMN,
    DEFAULT_CURRENCY,
    EFFICIENCY_COLUMNS,
    EFFICIENCY_DECIMALS,
    EFFICIENCY_PRECISION,
    HOURS_COVERED_COLUMN,
    IDLE_COLUMN,
    MONEY_SCALE,
    NAMESPACE_COLUMN,
    NAMESPACE_COST_COLUMNS,
    PHASE_COLUMN,
    PHASES,
    SAVINGS_COLUMN,
)

metadata = MetaData()

# USD with 9 decimals: hourly figures keep sub-cent precision and daily sums stay exact.
MONEY = Numeric(18, MONEY_SCALE)
# Usage far over requests is real: 1000 % and more must fit (model.MAX_EFFICIENCY).
PERCENT = Numeric(EFFICIENCY_PRECISION, EFFICIENCY_DECIMALS)
TIMESTAMP = DateTime(timezone=True)
UPDATED_AT = "updated_at"
PHASE_CHECK = f"{PHASE_COLUMN} IN ({', '.join(repr(phase) for phase in PHASES)})"


def _money_measures(costs: list[str]) -> list[Column[Any]]:
    """The money, efficiency and phase columns every cost table carries (cluster and namespace)."""
    return [
        *(Column(name, MONEY, nullable=False) for name in costs),
        *(Column(name, PERCENT, nullable=True) for name in EFFICIENCY_COLUMNS),
        Column(PHASE_COLUMN, Text, nullable=False),
    ]


def _cost_measures() -> list[Column[Any]]:
    """The columns both cluster cost tables carry."""
    return [
        *_money_measures(COST_COLUMNS),
        # Phase 1 hours priced with default prices because a node or volume published none, and which
        # resources (e.g. "cpu:node/n3, storage:pv/pv-cache"); NULL when none.
        Column("default_priced_hours", Integer, nullable=False, server_default="0"),
        Column("default_priced_resources", Text, nullable=True),
        # Hours to read with care (model.COUNTED_FLAG_COLUMNS): the exporter reported exactly $0 (no
        # Phase 1 data contradicting it); it reported failed scrapes and its healthy figures were
        # held over them; the idle is unknown; the namespaces add up to more than the cluster.
        *(Column(flag, Integer, nullable=False, server_default="0") for flag in COUNTED_FLAG_COLUMNS),
        # The currency of the row's money, and the exporter clusters it sums (NULL: none named).
        Column(CURRENCY_COLUMN, Text, nullable=False, server_default=DEFAULT_CURRENCY),
        Column(CLUSTERS_COLUMN, Text, nullable=True),
        Column(UPDATED_AT, TIMESTAMP, nullable=False, server_default=func.now()),
        # Capacity nobody was allocated (part of total_cost); NULL = unknown (idle_unknown_hours).
        Column(IDLE_COLUMN, MONEY, nullable=True),
    ]


def _namespace_measures() -> list[Column[Any]]:
    return [
        *_money_measures(NAMESPACE_COST_COLUMNS),
        Column(CURRENCY_COLUMN, Text, nullable=False, server_default=DEFAULT_CURRENCY),
        Column(UPDATED_AT, TIMESTAMP, nullable=False, server_default=func.now()),
    ]


def _flag_checks(table: str, most: str) -> list[CheckConstraint]:
    """Each counted flag counts hours: 0 or 1 on an hourly row, at most hours_covered on a daily one."""
    return [CheckConstraint(f"{flag} BETWEEN 0 AND {most}", name=f"{table}_{flag}") for flag in COUNTED_FLAG_COLUMNS]


hourly_costs = Table(
    "k8s_hourly_costs", metadata,
    Column(ACCOUNT_COLUMN, Text, nullable=False),
    Column("hour_start", TIMESTAMP, nullable=False),
    *_cost_measures(),
    PrimaryKeyConstraint(ACCOUNT_COLUMN, "hour_start"),
    CheckConstraint(PHASE_CHECK, name="k8s_hourly_costs_source_phase"),
    CheckConstraint("default_priced_hours BETWEEN 0 AND 1", name="k8s_hourly_costs_default_priced_hours"),
    *_flag_checks("k8s_hourly_costs", "1"),
)

daily_costs = Table(
    "k8s_daily_costs", metadata,
    Column(ACCOUNT_COLUMN, Text, nullable=False),
    Column("usage_date", Date, nullable=False),
    *_cost_measures(),
    Column(HOURS_COVERED_COLUMN, Integer, nullable=False),
    # Cost of allocated but unused CPU and RAM; NULL = no hour of the day had a known efficiency.
    Column(SAVINGS_COLUMN, MONEY, nullable=True),
    PrimaryKeyConstraint(ACCOUNT_COLUMN, "usage_date"),
    CheckConstraint(PHASE_CHECK, name="k8s_daily_costs_source_phase"),
    CheckConstraint("hours_covered BETWEEN 0 AND 24", name="k8s_daily_costs_hours_covered"),
    CheckConstraint("default_priced_hours BETWEEN 0 AND hours_covered", name="k8s_daily_costs_default_priced_hours"),
    *_flag_checks("k8s_daily_costs", HOURS_COVERED_COLUMN),
    Index("k8s_daily_costs_usage_date", "usage_date"),
)

# The namespace breakdown of the cluster rows (model.NAMESPACE_*): for every account, hour or day and
# cost column, its namespaces (the idle and unallocated rows included) add up to its cluster row.
# The hourly table is filled only when run.store_namespace_hours is on (its volume).
namespace_hourly_costs = Table(
    "k8s_namespace_hourly_costs", metadata,
    Column(ACCOUNT_COLUMN, Text, nullable=False),
    Column("hour_start", TIMESTAMP, nullable=False),
    Column(NAMESPACE_COLUMN, Text, nullable=False),
    *_namespace_measures(),
    PrimaryKeyConstraint(ACCOUNT_COLUMN, "hour_start", NAMESPACE_COLUMN),
    CheckConstraint(PHASE_CHECK, name="k8s_namespace_hourly_costs_source_phase"),
)

namespace_daily_costs = Table(
    "k8s_namespace_daily_costs", metadata,
    Column(ACCOUNT_COLUMN, Text, nullable=False),
    Column("usage_date", Date, nullable=False),
    Column(NAMESPACE_COLUMN, Text, nullable=False),
    *_namespace_measures(),
    Column(HOURS_COVERED_COLUMN, Integer, nullable=False),
    Column(SAVINGS_COLUMN, MONEY, nullable=True),
    PrimaryKeyConstraint(ACCOUNT_COLUMN, "usage_date", NAMESPACE_COLUMN),
    CheckConstraint(PHASE_CHECK, name="k8s_namespace_daily_costs_source_phase"),
    CheckConstraint("hours_covered BETWEEN 1 AND 24", name="k8s_namespace_daily_costs_hours_covered"),
    Index("k8s_namespace_daily_costs_usage_date", "usage_date"),
)

# One row per process invocation of `run`, a `schedule` tick, or `backfill`.
RUN_KINDS = ("run", "backfill")
# A run's status: in flight / every account ok / some account failed / stopped by a signal /
# could not work at all (dependency down, unexpected crash).
STATUS_RUNNING, STATUS_OK, STATUS_FAILED, STATUS_INTERRUPTED, STATUS_ERROR = (
    "running", "ok", "failed", "interrupted", "error")
RUN_STATUSES = (STATUS_RUNNING, STATUS_OK, STATUS_FAILED, STATUS_INTERRUPTED, STATUS_ERROR)

runs = Table(
    "etl_runs", metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("kind", Text, nullable=False),
    Column("command", Text, nullable=False),
    Column("host", Text, nullable=False),
    Column("first_day", Date, nullable=True),
    Column("last_day", Date, nullable=True),
    Column("started_at", TIMESTAMP, nullable=False, server_default=func.now()),
    Column("finished_at", TIMESTAMP, nullable=True),
    Column("status", Text, nullable=False, server_default=STATUS_RUNNING),
    Column("accounts_ok", Integer, nullable=False, server_default="0"),
    Column("accounts_failed", Integer, nullable=False, server_default="0"),
    Column("accounts_skipped", Integer, nullable=False, server_default="0"),
    Column("rows_written", BigInteger, nullable=False, server_default="0"),
    Column("error", Text, nullable=True),
    # For a backfill: the run that started it (itself, or the interrupted run it resumes).
    Column("backfill_origin_id", BigInteger, ForeignKey("etl_runs.id"), nullable=True),
    CheckConstraint(f"kind IN ({', '.join(repr(kind) for kind in RUN_KINDS)})", name="etl_runs_kind"),
    CheckConstraint(f"status IN ({', '.join(repr(status) for status in RUN_STATUSES)})", name="etl_runs_status"),
    Index("etl_runs_started_at", "started_at"),
    Index("etl_runs_backfill_range", "kind", "first_day", "last_day"),
)

account_state = Table(
    "etl_account_state", metadata,
    Column(ACCOUNT_COLUMN, Text, primary_key=True),
    # Last UTC day that is over and was computed completely (catch-up starts here).
    Column("watermark", Date, nullable=True),
    # End of the last hour a successful cycle counted; a replica finding it current skips the account.
    Column("computed_through", TIMESTAMP, nullable=True),
    Column("last_success_at", TIMESTAMP, nullable=True),
    Column("last_success_run_id", BigInteger, ForeignKey("etl_runs.id"), nullable=True),
    Column("last_attempt_at", TIMESTAMP, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("last_error_at", TIMESTAMP, nullable=True),
    Column("consecutive_failures", Integer, nullable=False, server_default="0"),
    # Days a catch-up skipped (older than run.max_catchup_days) until a backfill fills them.
    Column("gap_first", Date, nullable=True),
    Column("gap_last", Date, nullable=True),
    Column(UPDATED_AT, TIMESTAMP, nullable=False, server_default=func.now()),
)

backfill_chunks = Table(
    "etl_backfill_chunks", metadata,
    Column("backfill_origin_id", BigInteger, ForeignKey("etl_runs.id", ondelete="CASCADE"), nullable=False),
    Column(ACCOUNT_COLUMN, Text, nullable=False),
    Column("chunk_first", Date, nullable=False),
    Column("chunk_last", Date, nullable=False),
    Column("run_id", BigInteger, ForeignKey("etl_runs.id"), nullable=False),
    Column("done_at", TIMESTAMP, nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("backfill_origin_id", ACCOUNT_COLUMN, "chunk_first", "chunk_last"),
)
