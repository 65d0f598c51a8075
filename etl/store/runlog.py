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
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, func, select
from sqlalchemy.dialects.postgresql import insert

from etl.redact import redact
from etl.store.locks import AccountLocks
from etl.store.schema import RUN_KINDS, STATUS_ERROR, STATUS_RUNNING, UPDATED_AT, account_state, runs

MAX_ERROR_TEXT = 4000
ABANDONED = "abandoned"


def host_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class AccountState:
    account: str
    watermark: date | None = None
    computed_through: datetime | None = None
    last_success_at: datetime | None = None
    last_success_run_id: int | None = None
    last_error: str | None = None
    consecutive_failures: int = 0
    gap_first: date | None = None
    gap_last: date | None = None

    def computed_by(self) -> str:
        """When and by which run the account was last computed: "at 2026-10-05 13:07Z by run #42"."""
        when = f"{self.last_success_at.astimezone(UTC):%Y-%m-%d %H:%M}Z" if self.last_success_at else "?"
        return f"at {when} by run #{self.last_success_run_id}"


@dataclass(frozen=True)
class RunTotals:
    status: str
    accounts_ok: int = 0
    accounts_failed: int = 0
    accounts_skipped: int = 0
    rows_written: int = 0
    error: str | None = None


def start_run(engine: Engine, kind: str, command: str, run_id: int | None = None) -> int:
    """Open a run row (with ``run_id`` when reserved: etl.store.locks.AccountLocks.reserve_run_id);
    its day range is set once known (set_run_range)."""
    if kind not in RUN_KINDS:
        raise ValueError(f"unknown run kind {kind!r}")
    values = {"kind": kind, "command": command, "host": host_id(), **({"id": run_id} if run_id is not None else {})}
    with engine.begin() as connection:
        return int(connection.execute(runs.insert().values(**values).returning(runs.c.id)).scalar_one())


@dataclass(frozen=True)
class OpenRun:
    id: int
    command: str
    host: str
    started_at: datetime


def abandoned_runs(engine: Engine, locks: AccountLocks, exclude: int | None = None) -> list[OpenRun]:
    """Runs still `running` whose process is gone: their run lock is free (the lock session ends
    with the process, so a SIGKILL, a lost node or a database restart all free it)."""
    query = (select(runs.c.id, runs.c.command, runs.c.host, runs.c.started_at)
             .where(runs.c.status == STATUS_RUNNING, runs.c.id != (exclude or 0)).order_by(runs.c.id))
    with engine.connect() as connection:
        candidates = [OpenRun(**row) for row in connection.execute(query).mappings()]
    return [run for run in candidates if locks.run_owner_gone(run.id)]


def close_abandoned(engine: Engine, run: OpenRun, closed_by: int) -> None:
    """Close a run whose process is gone as ``error`` (a process that still lives and finishes
    later overwrites this with its own outcome)."""
    with engine.begin() as connection:
        connection.execute(runs.update().where(runs.c.id == run.id, runs.c.status == STATUS_RUNNING).values(
            finished_at=func.now(), status=STATUS_ERROR,
            error=f"{ABANDONED}: its process ({run.host}) ended without closing it; closed by run #{closed_by}"))


def recently_abandoned(engine: Engine, since: datetime) -> list[OpenRun]:
    """Runs closed as abandoned (by close_abandoned) that started after ``since``."""
    query = (select(runs.c.id, runs.c.command, runs.c.host, runs.c.started_at)
             .where(runs.c.status == STATUS_ERROR, runs.c.error.startswith(ABANDONED), runs.c.started_at >= since)
             .order_by(runs.c.id))
    with engine.connect() as connection:
        return [OpenRun(**row) for row in connection.execute(query).mappings()]


def set_run_range(engine: Engine, run_id: int, first_day: date | None, last_day: date | None) -> None:
    with engine.begin() as connection:
        connection.execute(runs.update().where(runs.c.id == run_id).values(first_day=first_day, last_day=last_day))


def finish_run(engine: Engine, run_id: int, totals: RunTotals) -> None:
    with engine.begin() as connection:
        connection.execute(runs.update().where(runs.c.id == run_id).values(
            finished_at=func.now(), status=totals.status, accounts_ok=totals.accounts_ok,
            accounts_failed=totals.accounts_failed, accounts_skipped=totals.accounts_skipped,
            rows_written=totals.rows_written, error=redact(totals.error, MAX_ERROR_TEXT) if totals.error else None,
        ))


def read_states(engine: Engine, accounts: Iterable[str]) -> dict[str, AccountState]:
    """State of each account (a default state for accounts never seen)."""
    names = sorted(set(accounts))
    state = account_state.c
    query = select(state.cloud_account_id.label("account"), state.watermark, state.computed_through,
                   state.last_success_at, state.last_success_run_id, state.last_error, state.consecutive_failures,
                   state.gap_first, state.gap_last).where(state.cloud_account_id.in_(names))
    with engine.connect() as connection:
        rows = connection.execute(query).mappings().all()
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
    now = func.now()
    progress = {"watermark": watermark, "computed_through": computed_through, "gap_first": gap_first,
                "gap_last": gap_last}
    success = {"last_success_at": now, "last_success_run_id": run_id, "last_attempt_at": now,
               "consecutive_failures": 0, UPDATED_AT: now}
    statement = insert(account_state).values(cloud_account_id=account, **progress, **success)
    statement = statement.on_conflict_do_update(
        index_elements=[account_state.c.cloud_account_id],
        set_={**progress, **success, "last_error": None, "last_error_at": None},
    )
    with engine.begin() as connection:
        connection.execute(statement)


def record_failure(engine: Engine, account: str, error: str, first_due_day: date | None = None) -> None:
    """An account failed: keep its watermark (the next cycle retries from there), note the error.

    An account without a watermark yet (never computed) gets the day before ``first_due_day`` (the
    first day the failed cycle was due to compute) as its watermark: nothing before that day was
    due, and without it the cycle that finally succeeds would start at today - lookback and the
    days the failures covered would never be computed.
    """
    watermark = first_due_day - timedelta(days=1) if first_due_day is not None else None
    now = func.now()
    error = redact(error, MAX_ERROR_TEXT)
    statement = insert(account_state).values(
        cloud_account_id=account, watermark=watermark, last_attempt_at=now, last_error=error, last_error_at=now,
        consecutive_failures=1, **{UPDATED_AT: now})
    statement = statement.on_conflict_do_update(
        index_elements=[account_state.c.cloud_account_id],
        set_={"last_attempt_at": now, "last_error": error, "last_error_at": now, UPDATED_AT: now,
              "watermark": func.coalesce(account_state.c.watermark, statement.excluded.watermark),
              "consecutive_failures": account_state.c.consecutive_failures + 1},
    )
    with engine.begin() as connection:
        connection.execute(statement)


def last_successes(engine: Engine) -> dict[str, datetime]:
    """Every account's last success time (for the daemon's metrics after a restart)."""
    state = account_state.c
    with engine.connect() as connection:
        rows = connection.execute(
            select(state.cloud_account_id, state.last_success_at).where(state.last_success_at.is_not(None))).all()
    return {str(account): when for account, when in rows}


def oldest_watermark(engine: Engine) -> date | None:
    """The watermark furthest behind: how far back a cycle must look for accounts to catch up."""
    with engine.connect() as connection:
        value = connection.execute(select(func.min(account_state.c.watermark))).scalar_one()
    return value if isinstance(value, date) else None


def failing_accounts(engine: Engine) -> list[tuple[str, int, str, datetime | None]]:
    """(account, consecutive failures, last error, last success) of every account whose last attempt failed."""
    state = account_state.c
    with engine.connect() as connection:
        rows = connection.execute(
            select(state.cloud_account_id, state.consecutive_failures, state.last_error, state.last_success_at)
            .where(state.last_error.is_not(None)).order_by(state.cloud_account_id)).all()
    return [(str(account), int(failures), str(error), last) for account, failures, error, last in rows]
