"""Per-account PostgreSQL advisory locks: no two processes work on one account at once.

Session-level locks on one dedicated connection: they outlive the per-chunk write transactions
and vanish with the connection, so a killed process (SIGKILL, lost node) never leaves an account
locked. The key is (namespace, hashtext(account)); two accounts whose hashes collide merely
serialise, which is safe.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from types import TracebackType

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from etl.store.db import describe_error

log = logging.getLogger(__name__)

# First half of the two-int advisory key: keeps these locks apart from other applications' ("k8sc").
ACCOUNT_LOCK_NAMESPACE = 0x6B38_7363
# A run's own lock ("k8ru"), held by its lock session for the run's life: free = the process is gone.
RUN_LOCK_NAMESPACE = 0x6B38_7275


def _run_key(run_id: int) -> dict[str, int]:
    return {"namespace": RUN_LOCK_NAMESPACE, "key": run_id % 2**31}


class AccountLocks:
    def __init__(self, engine: Engine) -> None:
        self._connection: Connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self.held: set[str] = set()

    def _call(self, function: str, account: str) -> bool:
        result = self._connection.execute(
            text(f"SELECT {function}(:namespace, hashtext(:account))"),
            {"namespace": ACCOUNT_LOCK_NAMESPACE, "account": account},
        ).scalar_one()
        return bool(True if result is None else result)

    def try_lock(self, account: str) -> bool:
        """Take the account's lock if it is free; False when another process holds it."""
        if account in self.held:
            return True
        if self._call("pg_try_advisory_lock", account):
            self.held.add(account)
            return True
        return False

    def wait_lock(self, account: str, give_up: Callable[[], bool], poll_seconds: float = 0.5) -> bool:
        """Take the account's lock once the process holding it is done; False if ``give_up`` first.

        Polls rather than blocking in pg_advisory_lock, so a stop request is honoured while waiting.
        """
        if self.try_lock(account):
            return True
        log.info("Waiting for account %s: another process is working on it", account)
        while not give_up():
            time.sleep(poll_seconds)
            if self.try_lock(account):
                return True
        return False

    def reserve_run_id(self) -> int:
        """A new etl_runs id whose run lock this session holds until it closes. Taken before the row
        exists, so no other process ever sees the row `running` with its lock free."""
        run_id = int(self._connection.execute(
            text("SELECT nextval(pg_get_serial_sequence('etl_runs', 'id'))")).scalar_one())
        self._connection.execute(text("SELECT pg_advisory_lock(:namespace, :key)"), _run_key(run_id))
        return run_id

    def run_owner_gone(self, run_id: int) -> bool:
        """True when no session holds the run's lock: the process that opened it has ended (or its
        database session did, and with it the run's claim on its accounts)."""
        if not self._connection.execute(text("SELECT pg_try_advisory_lock(:namespace, :key)"),
                                        _run_key(run_id)).scalar_one():
            return False
        self._connection.execute(text("SELECT pg_advisory_unlock(:namespace, :key)"), _run_key(run_id))
        return True

    def still_held(self, accounts: Iterable[str]) -> set[str]:
        """The accounts whose lock this session really still holds.

        The locks live on this one session, not on the connections that write: if the session
        died (database restart, an idle-connection reaper, a network cut), the server dropped its
        locks and another process may have taken them. Then none is held.
        """
        names = sorted(set(accounts) & self.held)
        if not names:
            return set()
        try:
            return set(self._connection.execute(
                text("SELECT account FROM unnest(CAST(:accounts AS text[])) AS account WHERE EXISTS ("
                     "  SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted "
                     "  AND l.pid = pg_backend_pid() AND l.classid = CAST(:namespace AS oid) "
                     "  AND l.objid = CAST(hashtext(account) AS oid) AND l.objsubid = 2)"),
                {"accounts": names, "namespace": ACCOUNT_LOCK_NAMESPACE},
            ).scalars())
        except SQLAlchemyError as exc:
            log.error("The account-lock session is gone (%s): its locks were dropped with it", describe_error(exc))
            return set()

    def unlock(self, account: str) -> None:
        if account in self.held:
            self.held.discard(account)
            try:
                self._call("pg_advisory_unlock", account)
            except SQLAlchemyError as exc:  # a lost session's locks are already gone
                log.warning("Releasing the lock of account %s failed (%s)", account, describe_error(exc))

    def close(self) -> None:
        """Release everything (closing the session would too)."""
        try:
            for account in sorted(self.held):
                self.unlock(account)
            # The run lock too: the connection goes back to the pool, where a lock would outlive the run.
            self._connection.execute(text("SELECT pg_advisory_unlock_all()"))
        except SQLAlchemyError as exc:  # the server drops a broken session's locks by itself
            log.warning("Releasing account locks failed (%s); closing the session releases them", describe_error(exc))
        finally:
            self.held.clear()
            self._connection.close()

    def __enter__(self) -> AccountLocks:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
