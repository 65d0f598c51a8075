"""Ingestion cycles and backfills that several processes can run at once.

A process claims accounts in batches (``run.accounts_per_claim``) by taking their advisory
locks (etl.locks), computes only the accounts it holds, records each account's outcome, and
releases them. An account another process holds is retried once at the end; a cycle then
skips it (that process is doing the work), a backfill waits for it. A cycle also skips an
account some process already computed through the current hour, so N replicas share the
accounts instead of repeating each other.

Catch-up: a cycle recomputes each account from ``min(watermark, today - lookback)`` to now,
bounded by ``run.max_catchup_days``; days beyond the bound are recorded as the account's gap
and the log names the backfill command that fills it.
"""

from __future__ import annotations

import logging
import shlex
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine

from etl.config import Settings
from etl.extract import HourRange
from etl.locks import AccountLocks
from etl.pipeline import (
    Pipeline,
    RunSummary,
    StopRequested,
    day_chunks,
    last_complete_day,
    last_complete_hour_end,
)
from etl.progress import BackfillProgress, start_backfill_run
from etl.runlog import (
    STATUS_ERROR,
    STATUS_FAILED,
    STATUS_INTERRUPTED,
    STATUS_OK,
    AccountState,
    RunTotals,
    finish_run,
    oldest_watermark,
    read_states,
    record_failure,
    record_success,
    set_run_range,
    start_run,
)
from etl.thanos import ThanosClient

log = logging.getLogger(__name__)

DayGap = tuple[date, date]
AccountDaysCallback = Callable[[int], None]
SKIPPED_LOCKED = "locked by another process"
SKIPPED_CURRENT = "already computed through this hour by another process"
SKIPPED_RESUMED = "every chunk finished by an earlier run of this backfill"
LOST_LOCK = ("its account lock was lost while working (the lock's database session ended), so another "
             "process may have worked on it too: not recorded as done; the next run redoes it")


@dataclass(frozen=True)
class CatchupPlan:
    first_day: date
    gap: DayGap | None  # days older than the catch-up bound, left for a backfill


def plan_catchup(watermark: date | None, today: date, lookback_days: int, max_catchup_days: int) -> CatchupPlan:
    """First day a cycle recomputes: min(watermark, today - lookback), never before the bound."""
    first_day = today - timedelta(days=lookback_days)
    if watermark is not None:
        first_day = min(first_day, watermark)
    earliest = today - timedelta(days=max(max_catchup_days, lookback_days))
    if first_day >= earliest:
        return CatchupPlan(first_day, None)
    # Only a known watermark pulls first_day before the bound; the watermark day itself is complete.
    assert watermark is not None
    gap_first, gap_last = watermark + timedelta(days=1), earliest - timedelta(days=1)
    return CatchupPlan(earliest, (gap_first, gap_last) if gap_first <= gap_last else None)


def merge_gaps(old: DayGap | None, new: DayGap | None) -> DayGap | None:
    if old is None or new is None:
        return old or new
    return min(old[0], new[0]), max(old[1], new[1])


def gap_after_backfill(gap: DayGap | None, first_day: date, last_day: date) -> DayGap | None:
    """What remains of a gap once [first_day, last_day] is backfilled (an end trimmed, or all)."""
    if gap is None or last_day < gap[0] or first_day > gap[1]:
        return gap
    if first_day <= gap[0] and last_day >= gap[1]:
        return None
    if first_day <= gap[0]:
        return last_day + timedelta(days=1), gap[1]
    if last_day >= gap[1]:
        return gap[0], first_day - timedelta(days=1)
    return gap  # a hole in the middle: keep the whole gap rather than lose track of a part


def backfill_command(account: str, gap: DayGap) -> str:
    return f"k8s-cost-etl backfill --start {gap[0]} --end {gap[1]} --account {shlex.quote(account)}"


def _state_gap(state: AccountState) -> DayGap | None:
    return (state.gap_first, state.gap_last) if state.gap_first and state.gap_last else None


@dataclass
class CycleOutcome:
    """What one process did in a cycle or backfill; ``summary`` merges every account it computed."""

    run_id: int
    kind: str
    summary: RunSummary
    skipped: dict[str, str] = field(default_factory=dict)
    gaps: dict[str, DayGap] = field(default_factory=dict)
    skipped_chunks: int = 0
    status: str = STATUS_OK

    @property
    def failed(self) -> list[str]:
        return self.summary.failed

    def add(self, summary: RunSummary) -> None:
        self.summary.accounts.update(summary.accounts)
        self.summary.first_day = min(self.summary.first_day, summary.first_day)
        self.summary.interrupted = self.summary.interrupted or summary.interrupted

    def totals(self) -> RunTotals:
        accounts = self.summary.accounts.values()
        errors = [f"{a.account}: {a.errors[-1]}" for a in accounts if a.errors]
        errors += [f"{name}: needs `{backfill_command(name, gap)}`" for name, gap in self.gaps.items()]
        return RunTotals(
            status=self.status,
            accounts_ok=sum(1 for a in accounts if a.ok),
            accounts_failed=len(self.failed),
            accounts_skipped=len(self.skipped),
            rows_written=self.summary.rows_written,
            error="\n".join(errors) or None,
        )


class Runner:
    def __init__(
        self, settings: Settings, client: ThanosClient, engine: Engine, stop_requested: StopRequested | None = None
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.pipeline = Pipeline(settings, client, engine)
        self._stop_requested = stop_requested or (lambda: False)
        self._locks: AccountLocks | None = None  # the locks of the accounts being worked on

    # -- shared machinery --------------------------------------------------------------------------
    def _share(self, names: Sequence[str], wait_for_busy: bool, work: Callable[[list[str]], None]) -> dict[str, str]:
        """Run ``work`` on batches of accounts this process holds the locks of; returns skipped ones."""
        skipped: dict[str, str] = {}
        remaining, busy = list(names), list[str]()
        with AccountLocks(self.engine) as locks:
            while remaining and not self._stop_requested():
                batch: list[str] = []
                while remaining and len(batch) < self.settings.run.accounts_per_claim:
                    name = remaining.pop(0)
                    (batch if locks.try_lock(name) else busy).append(name)
                if batch:
                    self._work_locked(locks, batch, work)
            for name in busy:
                if self._stop_requested():
                    break
                if wait_for_busy:
                    if not locks.wait_lock(name, self._stop_requested):
                        break
                elif not locks.try_lock(name):
                    log.warning("Skipping account %s: %s", name, SKIPPED_LOCKED)
                    skipped[name] = SKIPPED_LOCKED
                    continue
                self._work_locked(locks, [name], work)
        return skipped

    def _still_held(self, names: Iterable[str]) -> set[str]:
        return self._locks.still_held(names) if self._locks is not None else set(names)

    def _work_locked(self, locks: AccountLocks, batch: list[str], work: Callable[[list[str]], None]) -> None:
        log.info("Working on %d account(s): %s", len(batch), ", ".join(batch))
        self._locks = locks
        try:
            work(batch)
        finally:
            self._locks = None
            for name in batch:
                locks.unlock(name)

    def _finish(self, outcome: CycleOutcome, names: Sequence[str]) -> CycleOutcome:
        unreached = set(names) - set(outcome.summary.accounts) - set(outcome.skipped)
        if outcome.summary.interrupted or unreached:
            outcome.status = STATUS_INTERRUPTED
            for name in sorted(unreached):
                outcome.skipped[name] = "not reached before the stop request"
        elif outcome.failed:
            outcome.status = STATUS_FAILED
        finish_run(self.engine, outcome.run_id, outcome.totals())
        return outcome

    def _guarded(self, run_id: int, body: Callable[[], CycleOutcome]) -> CycleOutcome:
        """Close the run row even when the body dies (dependency down, Ctrl-C), then re-raise."""
        try:
            return body()
        except BaseException as exc:
            status = STATUS_INTERRUPTED if isinstance(exc, KeyboardInterrupt) else STATUS_ERROR
            try:
                finish_run(self.engine, run_id, RunTotals(status, error=str(exc) or type(exc).__name__))
            except Exception as log_exc:  # the database may be what failed
                log.error("Could not record the end of run #%d: %s", run_id, log_exc)
            raise

    def _record(self, run_id: int, summary: RunSummary, watermarks: dict[str, date | None],
                through: dict[str, datetime | None], gaps: dict[str, DayGap | None],
                first_due_day: date | None = None) -> None:
        """Record each account's outcome; ``first_due_day`` (cycles) anchors the catch-up of an
        account that fails before it was ever computed (see record_failure)."""
        if summary.interrupted:
            return  # the next run redoes these accounts from their unchanged watermarks
        held = self._still_held(summary.accounts)
        for name, account in summary.accounts.items():
            if account.ok and name not in held:
                log.error("Account %s: %s", name, LOST_LOCK)
                account.errors.append(LOST_LOCK)
            if account.ok:
                record_success(self.engine, run_id, name, watermarks[name], through[name], gaps[name])
            else:
                record_failure(self.engine, name, "; ".join(account.errors), first_due_day)

    # -- ingestion cycle (`run`, a `schedule` tick) --------------------------------------------------
    def run_cycle(self, now: datetime | None = None, accounts: Sequence[str] = (),
                  command: str = "run") -> CycleOutcome:
        """One cycle: each account from its catch-up start through the last complete hour."""
        now = now or datetime.now(UTC)
        run_id = start_run(self.engine, "run", command)
        return self._guarded(run_id, lambda: self._run_cycle(run_id, now, accounts))

    def _run_cycle(self, run_id: int, now: datetime, requested: Sequence[str]) -> CycleOutcome:
        latest_end = last_complete_hour_end(now)
        today = now.astimezone(UTC).date()
        lookback = self.settings.run.lookback_days
        # Discovery looks as far back as the catch-up will: an account that stopped reporting during
        # a downtime still has days to compute.
        oldest = plan_catchup(oldest_watermark(self.engine), today, lookback, self.settings.run.max_catchup_days)
        window = HourRange.for_days(oldest.first_day, today).clipped_to(latest_end)
        names = self.pipeline.resolve_accounts(requested, window)
        outcome = CycleOutcome(run_id, "run", RunSummary(today - timedelta(days=lookback), today))

        def work(batch: list[str]) -> None:
            # Read under the lock: the state another process just wrote is the one that counts.
            states = read_states(self.engine, batch)
            groups: dict[date, list[str]] = defaultdict(list)
            gaps: dict[str, DayGap | None] = {}
            for name in batch:
                state = states[name]
                if state.computed_through is not None and state.computed_through >= latest_end:
                    log.info("Skipping account %s: %s (%s)", name, SKIPPED_CURRENT, latest_end)
                    outcome.skipped[name] = SKIPPED_CURRENT
                    continue
                plan = plan_catchup(state.watermark, today, lookback, self.settings.run.max_catchup_days)
                gap = gaps[name] = merge_gaps(_state_gap(state), plan.gap)
                if gap is not None:
                    outcome.gaps[name] = gap
                    log.warning("Account %s misses %s..%s (older than run.max_catchup_days=%d): run `%s`",
                                name, gap[0], gap[1], self.settings.run.max_catchup_days,
                                backfill_command(name, gap))
                groups[plan.first_day].append(name)
            for first_day, group in sorted(groups.items()):
                log.info("Cycle for %s: %s..%s (through %s)", ", ".join(group), first_day, today, latest_end)
                summary = self.pipeline.run_range(first_day, today, group, now=now,
                                                  stop_requested=self._stop_requested)
                outcome.add(summary)
                # The watermark is the last day that is over; it never moves back.
                complete_day = last_complete_day(latest_end)
                watermarks: dict[str, date | None] = {
                    name: max(filter(None, [states[name].watermark, complete_day])) for name in group}
                self._record(run_id, summary, watermarks, dict.fromkeys(group, latest_end), gaps, first_day)

        outcome.skipped.update(self._share(names, wait_for_busy=False, work=work))
        set_run_range(self.engine, run_id, outcome.summary.first_day, today)
        return self._finish(outcome, names)

    # -- backfill ------------------------------------------------------------------------------------
    def backfill(self, first_day: date, last_day: date, accounts: Sequence[str] = (), restart: bool = False,
                 now: datetime | None = None, progress: AccountDaysCallback | None = None) -> CycleOutcome:
        """Recompute [first_day, last_day]; resumes an unfinished backfill of the same range."""
        now = now or datetime.now(UTC)
        run_id, origin_id = start_backfill_run(self.engine, first_day, last_day, restart)
        return self._guarded(run_id, lambda: self._backfill(run_id, origin_id, first_day, last_day, accounts,
                                                            now, progress))

    def _backfill(self, run_id: int, origin_id: int, first_day: date, last_day: date, requested: Sequence[str],
                  now: datetime, progress: AccountDaysCallback | None) -> CycleOutcome:
        latest_end = last_complete_hour_end(now)
        names = self.pipeline.resolve_accounts(
            requested, HourRange.for_days(first_day, last_day).clipped_to(latest_end))
        tracker = BackfillProgress(self.engine, origin_id, run_id)
        outcome = CycleOutcome(run_id, "backfill", RunSummary(first_day, last_day))

        chunks = day_chunks(first_day, last_day, self.settings.thanos.chunk_days)
        complete_day = min(last_day, last_complete_day(latest_end))

        def work(batch: list[str]) -> None:
            states = read_states(self.engine, batch)
            watermarks: dict[str, date | None] = {}
            for name in batch:
                old = states[name].watermark
                # Only a backfill that joins the watermark extends it; an older island does not.
                contiguous = old is not None and first_day <= old + timedelta(days=1)
                watermarks[name] = max(old, complete_day) if contiguous and old else old
            through = {n: states[n].computed_through for n in batch}
            gaps = {n: gap_after_backfill(_state_gap(states[n]), first_day, last_day) for n in batch}
            finished = tracker.finished_accounts(batch, chunks)
            for name in sorted(finished):
                log.info("Account %s: every chunk was finished by an earlier run of this backfill", name)
                outcome.skipped[name] = SKIPPED_RESUMED
                outcome.skipped_chunks += len(chunks)
                record_success(self.engine, run_id, name, watermarks[name], through[name], gaps[name])
            todo = [name for name in batch if name not in finished]
            if not todo:
                return
            advance = (lambda days: progress(days * len(todo))) if progress else None
            summary = self.pipeline.run_range(first_day, last_day, todo, now=now, progress=advance,
                                              tracker=tracker, stop_requested=self._stop_requested)
            outcome.add(summary)
            self._record(run_id, summary, watermarks, through, gaps)

        outcome.skipped.update(self._share(names, wait_for_busy=True, work=work))
        outcome.skipped_chunks += tracker.skipped_chunks
        return self._finish(outcome, names)
