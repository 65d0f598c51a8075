"""One run's session: its lock session, its `etl_runs` row, and what happens when it dies.

The run row's id is reserved on the lock session, which holds the run's own lock until it closes;
so a row left `running` whose lock is free belongs to a process that is gone, and the next run
closes it (status ``error``, "abandoned"). The row is closed even when the run's body dies; when
PostgreSQL itself fails mid-run (killed, restarted, read-only), the run ends with one line naming
the failure (DatabaseLostError, exit 1), its row closed as ``failed`` if the database still answers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from etl.errors import DatabaseLostError
from etl.store.db import describe_error
from etl.store.locks import AccountLocks
from etl.store.runlog import RunTotals, abandoned_runs, close_abandoned, finish_run
from etl.store.schema import STATUS_ERROR, STATUS_FAILED, STATUS_INTERRUPTED

log = logging.getLogger(__name__)

Result = TypeVar("Result")


def run_in_session(engine: Engine, open_run: Callable[[int], int],
                   body: Callable[[AccountLocks, int], Result]) -> Result:
    """Open the lock session, the run row (``open_run`` inserts it with the reserved id and returns
    it), close the runs whose process is gone, then run ``body``."""
    run_id: int | None = None
    try:
        with AccountLocks(engine) as locks:
            run_id = open_run(locks.reserve_run_id())
            for run in abandoned_runs(engine, locks, exclude=run_id):
                log.warning("Run #%d (%s on %s, started %s) was left running by a process that is gone: "
                            "closing it as abandoned", run.id, run.command, run.host, run.started_at)
                close_abandoned(engine, run, run_id)
            try:
                return body(locks, run_id)
            except BaseException as exc:
                _close_failed_run(engine, run_id, exc)
                raise
    except SQLAlchemyError as exc:
        raise DatabaseLostError(describe_error(exc), run_id) from None


def _close_failed_run(engine: Engine, run_id: int, exc: BaseException) -> None:
    if isinstance(exc, KeyboardInterrupt):
        status, error = STATUS_INTERRUPTED, str(exc) or "KeyboardInterrupt"
    elif isinstance(exc, SQLAlchemyError):
        status, error = STATUS_FAILED, f"PostgreSQL failed: {describe_error(exc)}"
    else:
        status, error = STATUS_ERROR, str(exc) or type(exc).__name__
    try:
        finish_run(engine, run_id, RunTotals(status, error=error))
    except SQLAlchemyError as log_exc:  # the database may be what failed
        log.error("Could not record the end of run #%d: %s", run_id, describe_error(log_exc))
