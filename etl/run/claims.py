"""Which accounts a process may work on, and the clock it computes them at.

A process works on an account only while it holds the account's advisory lock (etl.store.locks),
in batches of ``claim_size`` accounts. An account busy elsewhere is waited for, never skipped
for being busy: the holder may be a backfill of other days, or a cycle of an earlier hour, and
its work is not this process's work. Once the lock is held, the state the holder recorded says
whether anything is left to do (a cycle skips an account already computed through its hour).

Exactness when processes overlap also needs one clock rule: a day is rewritten whole, so a
process whose "now" is older than what another process already wrote would delete the newer
hours of today. A batch is therefore computed at the latest of the process' own clock, the
accounts' computed-through hour and their latest stored hour: all of them hours that are over.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime

from sqlalchemy import Engine

from etl.store.locks import AccountLocks
from etl.store.reader import stored_through
from etl.store.runlog import AccountState

log = logging.getLogger(__name__)
# "auto" claims (run.accounts_per_claim unset): a batch's chunk holds about as many account-days as
# 40-50 accounts over a 30-day chunk, so its answers take about as much memory; a backfill whose
# chunks are shorter takes more accounts per claim: fewer, larger queries, and far less of the
# per-chunk work that does not grow with the rows (a week for 1,000 accounts: 17.0 s with claims of
# 100, 23.4 s with 50). Cycles keep 50: their accounts catch up over different numbers of days.
AUTO_CLAIM, AUTO_CLAIM_ACCOUNT_DAYS, MAX_AUTO_CLAIM = 50, 1200, 500


def claim_size(configured: int | None, chunk_days: int | None) -> int:
    """Accounts per claim batch: ``configured`` if set, else (auto) for chunks of ``chunk_days``
    days (None: a cycle's)."""
    if configured is not None:
        return configured
    if chunk_days is None:
        return AUTO_CLAIM
    return min(MAX_AUTO_CLAIM, max(AUTO_CLAIM, AUTO_CLAIM_ACCOUNT_DAYS // chunk_days))


def held_batches(locks: AccountLocks, names: Sequence[str], per_claim: int,
                 stop_requested: Callable[[], bool]) -> Iterator[list[str]]:
    """Batches of ``names`` whose locks this process holds, each released once the caller is done
    with it. Accounts busy elsewhere come last, one at a time, each waited for (until a stop
    request); no other lock is held while waiting, so two processes never wait for each other."""
    remaining, busy = list(names), list[str]()
    while remaining and not stop_requested():
        batch: list[str] = []
        while remaining and len(batch) < per_claim:
            name = remaining.pop(0)
            (batch if locks.try_lock(name) else busy).append(name)
        if batch:
            yield from _holding(locks, batch)
    for name in busy:
        if stop_requested() or not locks.wait_lock(name, stop_requested):
            break
        yield from _holding(locks, [name])


def _holding(locks: AccountLocks, batch: list[str]) -> Iterator[list[str]]:
    """Hand out ``batch`` (whose locks are held) and release its locks once the caller is done."""
    log.info("Working on %d account(s): %s", len(batch), ", ".join(batch))
    try:
        yield batch
    finally:
        for name in batch:
            locks.unlock(name)


def writing_clock(engine: Engine, now: datetime, states: Mapping[str, AccountState]) -> datetime:
    """The "now" a held batch is computed at: never before what was already computed or stored
    for its accounts (read under their locks), so no process shrinks a day another one wrote."""
    floors = [state.computed_through for state in states.values() if state.computed_through is not None]
    stored = stored_through(engine, states)
    return max([now, *floors, *([stored] if stored is not None else [])])
