"""The run log (``etl_runs``) and per-account state (``etl_account_state``).

Every invocation of ``run``, a ``schedule`` tick or ``backfill`` is one ``etl_runs`` row, opened
``running`` and closed with its outcome; an account's state row answers "when did it last
succeed, up to which day is it complete, what was its last error".
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Engine, text

RUN_KINDS = ("run", "backfill")
# A run's final status: every account ok / some account failed / stopped by a signal /
# could not work at all (dependency down, unexpected crash).
STATUS_OK, STATUS_FAILED, STATUS_INTERRUPTED, STATUS_ERROR = "ok", "failed", "interrupted", "error"
MAX_ERROR_TEXT = 4000


def host_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class AccountState:
    account: str
    watermark: date | None = None
    computed_through: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    consecutive_failures: int = 0
    gap_first: date | None = None
    gap_last: date | None = None


@dataclass(frozen=True)
class RunTotals:
    status: str
    accounts_ok: int = 0
    accounts_failed: int = 0
    accounts_skipped: int = 0
    rows_written: int = 0
    error: str | None = None


def start_run(engine: Engine, kind: str, command: str) -> int:
    """Open a run row; its day range is set once known (set_run_range)."""
    if kind not in RUN_KINDS:
        raise ValueError(f"unknown run kind {kind!r}")
    with engine.begin() as connection:
        return int(connection.execute(
            text("INSERT INTO etl_runs (kind, command, host) VALUES (:kind, :command, :host) RETURNING id"),
            {"kind": kind, "command": command, "host": host_id()},
        ).scalar_one())


def set_run_range(engine: Engine, run_id: int, first_day: date | None, last_day: date | None) -> None:
    with engine.begin() as connection:
        connection.execute(text("UPDATE etl_runs SET first_day = :first, last_day = :last WHERE id = :id"),
                           {"first": first_day, "last": last_day, "id": run_id})


def finish_run(engine: Engine, run_id: int, totals: RunTotals) -> None:
    error = totals.error[:MAX_ERROR_TEXT] if totals.error else None
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE etl_runs SET finished_at = now(), status = :status, accounts_ok = :ok, "
                 "accounts_failed = :failed, accounts_skipped = :skipped, rows_written = :rows, error = :error "
                 "WHERE id = :id"),
            {"status": totals.status, "ok": totals.accounts_ok, "failed": totals.accounts_failed,
             "skipped": totals.accounts_skipped, "rows": totals.rows_written, "error": error, "id": run_id},
        )


def read_states(engine: Engine, accounts: Iterable[str]) -> dict[str, AccountState]:
    """State of each account (a default state for accounts never seen)."""
    names = sorted(set(accounts))
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT cloud_account_id AS account, watermark, computed_through, last_success_at, last_error, "
                 "consecutive_failures, gap_first, gap_last FROM etl_account_state "
                 "WHERE cloud_account_id = ANY(:names)"),
            {"names": names},
        ).mappings().all()
    found = {row["account"]: AccountState(**row) for row in rows}
    return {name: found.get(name, AccountState(name)) for name in names}


def record_success(
    engine: Engine,
    run_id: int,
    account: str,
    watermark: date | None,
    computed_through: datetime | None,
    gap: tuple[date, date] | None,
) -> None:
    """An account's days were all computed: move its watermark, record its gap (None: no gap left)
    and clear its error."""
    gap_first, gap_last = gap or (None, None)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO etl_account_state AS s (cloud_account_id, watermark, computed_through, last_success_at, "
                "  last_success_run_id, last_attempt_at, consecutive_failures, gap_first, gap_last, updated_at) "
                "VALUES (:account, :watermark, :through, now(), :run_id, now(), 0, :gap_first, :gap_last, now()) "
                "ON CONFLICT (cloud_account_id) DO UPDATE SET "
                "  watermark = EXCLUDED.watermark, computed_through = EXCLUDED.computed_through, "
                "  last_success_at = now(), last_success_run_id = :run_id, last_attempt_at = now(), "
                "  last_error = NULL, last_error_at = NULL, consecutive_failures = 0, "
                "  gap_first = EXCLUDED.gap_first, gap_last = EXCLUDED.gap_last, updated_at = now()"
            ),
            {"account": account, "watermark": watermark, "through": computed_through, "run_id": run_id,
             "gap_first": gap_first, "gap_last": gap_last},
        )


def record_failure(engine: Engine, account: str, error: str, first_due_day: date | None = None) -> None:
    """An account failed: keep its watermark (the next cycle retries from there), note the error.

    An account without a watermark yet (never computed) gets the day before ``first_due_day`` (the
    first day the failed cycle was due to compute) as its watermark: nothing before that day was
    due, and without it the cycle that finally succeeds would start at today - lookback and the
    days the failures covered would never be computed.
    """
    watermark = first_due_day - timedelta(days=1) if first_due_day is not None else None
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO etl_account_state AS s (cloud_account_id, watermark, last_attempt_at, last_error, "
                "  last_error_at, consecutive_failures, updated_at) "
                "VALUES (:account, :watermark, now(), :error, now(), 1, now()) "
                "ON CONFLICT (cloud_account_id) DO UPDATE SET last_attempt_at = now(), last_error = :error, "
                "  watermark = COALESCE(s.watermark, EXCLUDED.watermark), "
                "  last_error_at = now(), consecutive_failures = s.consecutive_failures + 1, updated_at = now()"
            ),
            {"account": account, "watermark": watermark, "error": error[:MAX_ERROR_TEXT]},
        )


def last_successes(engine: Engine) -> dict[str, datetime]:
    """Every account's last success time (for the daemon's metrics after a restart)."""
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT cloud_account_id, last_success_at FROM etl_account_state WHERE last_success_at IS NOT NULL"
        )).all()
    return {str(row[0]): row[1] for row in rows}


def oldest_watermark(engine: Engine) -> date | None:
    """The watermark furthest behind: how far back a cycle must look for accounts to catch up."""
    with engine.connect() as connection:
        value = connection.execute(text("SELECT min(watermark) FROM etl_account_state")).scalar_one()
    return value if isinstance(value, date) else None
