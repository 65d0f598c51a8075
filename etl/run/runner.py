"""Ingestion cycles and backfills that several processes can run at once.

A process claims accounts in batches (etl.run.claims.claim_size) by taking their advisory
locks, computes only the accounts it holds, records each account's outcome, and releases them;
an account another process holds is waited for at the end (etl.run.claims). A cycle skips an
account some process already computed through the current hour, so N replicas share the
accounts instead of repeating each other. What days each account needs is etl.run.catchup's.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine

from etl.config import Settings
from etl.errors import LockLostError
from etl.model import HourRange, hour_label
from etl.run.catchup import (
    DayGap,
    backfill_command,
    day_chunks,
    gap_after_backfill,
    last_complete_day,
    last_complete_hour_end,
    merge_gaps,
    plan_catchup,
)
from etl.run.claims import claim_size, held_batches, writing_clock
from etl.run.pipeline import AccountSummary, Pipeline, RunSummary, StopRequested
from etl.run.session import run_in_session
from etl.run.shard import Shard
from etl.source.thanos import ThanosClient
from etl.store.locks import AccountLocks
from etl.store.resume import BackfillProgress, start_backfill_run
from etl.store.runlog import (
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
from etl.store.schema import STATUS_FAILED, STATUS_INTERRUPTED, STATUS_OK

log = logging.getLogger(__name__)

AccountDaysCallback = Callable[[int], None]
SKIPPED_CURRENT = "already computed"  # then: through which hour, when and by which run (perhaps one's own)
SKIPPED_RESUMED = "every chunk finished by an earlier run of this backfill"
SKIPPED_STOPPED = "not reached before the stop request"


def _state_gap(state: AccountState) -> DayGap | None:
    return (state.gap_first, state.gap_last) if state.gap_first and state.gap_last else None


@dataclass
class CycleOutcome:
    """What one process did in a cycle or backfill: the ranges it ran, merged for reporting."""

    run_id: int
    kind: str
    first_day: date  # the range asked for; a catch-up may reach further back (see `summary`)
    last_day: date
    ranges: list[RunSummary] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    gaps: dict[str, DayGap] = field(default_factory=dict)
    skipped_chunks: int = 0
    status: str = STATUS_OK

    @property
    def summary(self) -> RunSummary:
        """Every account computed, over the widest range any of them ran."""
        accounts: dict[str, AccountSummary] = {}
        for summary in self.ranges:
            accounts.update(summary.accounts)
        first_day = min([self.first_day, *(summary.first_day for summary in self.ranges)])
        return RunSummary(first_day, self.last_day, accounts, any(summary.interrupted for summary in self.ranges))

    @property
    def failed(self) -> list[str]:
        return self.summary.failed

    def totals(self) -> RunTotals:
        summary = self.summary
        accounts = summary.accounts.values()
        errors = [f"{a.account}: {a.failures[-1]}" for a in accounts if a.failures]
        errors += [f"{name}: needs `{backfill_command(name, gap)}`" for name, gap in self.gaps.items()]
        return RunTotals(
            status=self.status,
            accounts_ok=sum(1 for a in accounts if a.ok),
            accounts_failed=len(summary.failed),
            accounts_skipped=len(self.skipped),
            rows_written=summary.rows_written,
            error="\n".join(errors) or None,
        )


class Runner:
    def __init__(
        self, settings: Settings, client: ThanosClient, engine: Engine, stop_requested: StopRequested | None = None,
        allow_removal: bool = False,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.pipeline = Pipeline(settings, client, engine, allow_removal)
        self._stop_requested = stop_requested or (lambda: False)

    # -- shared machinery --------------------------------------------------------------------------
    def _claims(self, locks: AccountLocks, names: Sequence[str], per_claim: int) -> Iterator[list[str]]:
        return held_batches(locks, names, per_claim, self._stop_requested)

    def _finish(self, outcome: CycleOutcome, names: Sequence[str]) -> CycleOutcome:
        summary = outcome.summary
        unreached = set(names) - set(summary.accounts) - set(outcome.skipped)
        if summary.interrupted or unreached:
            outcome.status = STATUS_INTERRUPTED
            for name in sorted(unreached):
                outcome.skipped[name] = SKIPPED_STOPPED
        elif summary.failed:
            outcome.status = STATUS_FAILED
        finish_run(self.engine, outcome.run_id, outcome.totals())
        return outcome

    def _record(self, locks: AccountLocks, run_id: int, summary: RunSummary, watermarks: dict[str, date | None],
                through: dict[str, datetime | None], gaps: dict[str, DayGap | None],
                first_due_day: date | None = None) -> None:
        """Record each account's outcome; ``first_due_day`` (cycles) anchors the catch-up of an
        account that fails before it was ever computed (see record_failure)."""
        if summary.interrupted:
            return  # the next run redoes these accounts from their unchanged watermarks
        held = locks.still_held(summary.accounts)
        for name, account in summary.accounts.items():
            if account.ok and name not in held:
                lost = LockLostError(name)
                log.error("%s", lost)
                account.failures.append(lost)
            if account.ok:
                record_success(self.engine, run_id, name, watermarks[name], through[name], gaps[name])
            else:
                record_failure(self.engine, name, "; ".join(map(str, account.failures)), first_due_day)

    # -- ingestion cycle (`run`, a `schedule` tick) --------------------------------------------------
    def run_cycle(self, now: datetime | None = None, accounts: Sequence[str] = (),
                  command: str = "run") -> CycleOutcome:
        """One cycle: each account from its catch-up start through the last complete hour."""
        now = now or datetime.now(UTC)
        return run_in_session(self.engine, lambda run_id: start_run(self.engine, "run", command, run_id),
                              lambda locks, run_id: self._run_cycle(locks, run_id, now, accounts))

    def _run_cycle(self, locks: AccountLocks, run_id: int, now: datetime, requested: Sequence[str]) -> CycleOutcome:
        latest_end = last_complete_hour_end(now)
        today = now.astimezone(UTC).date()
        lookback = self.settings.run.lookback_days
        # Discovery looks as far back as the catch-up will: an account that stopped reporting during
        # a downtime still has days to compute.
        oldest = plan_catchup(oldest_watermark(self.engine), today, lookback, self.settings.run.max_catchup_days)
        window = HourRange.for_days(oldest.first_day, today).clipped_to(latest_end)
        names = self.pipeline.resolve_accounts(requested, window)
        outcome = CycleOutcome(run_id, "run", today - timedelta(days=lookback), today)
        for batch in self._claims(locks, names, claim_size(self.settings.run.accounts_per_claim, None)):
            self._cycle_batch(locks, outcome, batch, now)
        set_run_range(self.engine, run_id, outcome.summary.first_day, today)
        return self._finish(outcome, names)

    def _cycle_batch(self, locks: AccountLocks, outcome: CycleOutcome, batch: list[str], now: datetime) -> None:
        """Catch up the accounts of one held batch, grouped by the day their catch-up starts."""
        lookback, max_catchup = self.settings.run.lookback_days, self.settings.run.max_catchup_days
        # Read under the lock: the state another process just wrote is the one that counts.
        states = read_states(self.engine, batch)
        current = last_complete_hour_end(now)
        now = writing_clock(self.engine, now, states)
        latest_end, today = last_complete_hour_end(now), now.astimezone(UTC).date()
        groups: dict[date, list[str]] = defaultdict(list)
        gaps: dict[str, DayGap | None] = {}
        for name in batch:
            state = states[name]
            if state.computed_through is not None and state.computed_through >= current:
                outcome.skipped[name] = f"{SKIPPED_CURRENT} through {hour_label(current)} {state.computed_by()}"
                log.info("Skipping account %s: %s", name, outcome.skipped[name])
                continue
            plan = plan_catchup(state.watermark, today, lookback, max_catchup)
            gap = gaps[name] = merge_gaps(_state_gap(state), plan.gap)
            if gap is not None:
                outcome.gaps[name] = gap
                log.warning("Account %s misses %s..%s (older than run.max_catchup_days=%d): run `%s`",
                            name, gap[0], gap[1], max_catchup, backfill_command(name, gap))
            groups[plan.first_day].append(name)
        # The watermark is the last day that is over; it never moves back.
        complete_day = last_complete_day(latest_end)
        for first_day, group in sorted(groups.items()):
            log.info("Cycle for %s: %s..%s (through %s)", ", ".join(group), first_day, today, latest_end)
            summary = self.pipeline.run_range(first_day, today, group, now=now, stop_requested=self._stop_requested)
            outcome.ranges.append(summary)
            watermarks: dict[str, date | None] = {
                name: max(filter(None, [states[name].watermark, complete_day])) for name in group}
            self._record(locks, outcome.run_id, summary, watermarks, dict.fromkeys(group, latest_end), gaps, first_day)

    # -- backfill ------------------------------------------------------------------------------------
    def backfill(self, first_day: date, last_day: date, accounts: Sequence[str] = (), restart: bool = False,
                 now: datetime | None = None, progress: AccountDaysCallback | None = None,
                 shard: Shard | None = None) -> CycleOutcome:
        """Recompute [first_day, last_day] for ``shard``'s accounts (None: all); resumes that backfill."""
        now = now or datetime.now(UTC)
        origins: dict[int, int] = {}

        def open_run(reserved: int) -> int:
            run_id, origins[run_id] = start_backfill_run(self.engine, first_day, last_day, restart, reserved,
                                                         str(shard) if shard else None)
            return run_id

        return run_in_session(self.engine, open_run, lambda locks, run_id: self._backfill(
            locks, run_id, origins[run_id], first_day, last_day, accounts, now, progress, shard))

    def _backfill(self, locks: AccountLocks, run_id: int, origin_id: int, first_day: date, last_day: date,
                  requested: Sequence[str], now: datetime, progress: AccountDaysCallback | None,
                  shard: Shard | None) -> CycleOutcome:
        latest_end = last_complete_hour_end(now)
        names = self.pipeline.resolve_accounts(
            requested, HourRange.for_days(first_day, last_day).clipped_to(latest_end), shard)
        tracker = BackfillProgress(self.engine, origin_id, run_id)
        outcome = CycleOutcome(run_id, "backfill", first_day, last_day)
        chunk_days = min((last_day - first_day).days + 1, self.settings.thanos.chunk_days)
        per_claim = claim_size(self.settings.run.accounts_per_claim, chunk_days)
        handed_out: set[str] = set()
        try:
            for batch in self._claims(locks, names, per_claim):
                handed_out.update(batch)
                # the batch the claims most likely hand out next (none busy): its first fetch starts ahead
                then = [name for name in names if name not in handed_out][:per_claim]
                self._backfill_batch(locks, outcome, tracker, batch, now, progress, then)
        finally:
            self.pipeline.prefetch.drop()
        outcome.skipped_chunks += tracker.skipped_chunks
        return self._finish(outcome, names)

    def _backfill_batch(self, locks: AccountLocks, outcome: CycleOutcome, tracker: BackfillProgress,
                        batch: list[str], now: datetime, progress: AccountDaysCallback | None,
                        then: Sequence[str] = ()) -> None:
        """Backfill the accounts of one held batch, skipping those an earlier run of it finished."""
        first_day, last_day = outcome.first_day, outcome.last_day
        chunks = day_chunks(first_day, last_day, self.settings.thanos.chunk_days)
        states = read_states(self.engine, batch)
        now = writing_clock(self.engine, now, states)
        complete_day = min(last_day, last_complete_day(last_complete_hour_end(now)))
        watermarks: dict[str, date | None] = {}
        for name in batch:
            old = states[name].watermark
            # Only a backfill that joins the watermark extends it; an older island does not.
            contiguous = old is not None and first_day <= old + timedelta(days=1)
            watermarks[name] = max(old, complete_day) if contiguous and old else old
        through = {name: states[name].computed_through for name in batch}
        gaps = {name: gap_after_backfill(_state_gap(states[name]), first_day, last_day) for name in batch}
        finished = tracker.finished_accounts(batch, chunks)
        for name in sorted(finished):
            log.info("Account %s: every chunk was finished by an earlier run of this backfill", name)
            outcome.skipped[name] = SKIPPED_RESUMED
            outcome.skipped_chunks += len(chunks)
            record_success(self.engine, outcome.run_id, name, watermarks[name], through[name], gaps[name])
        todo = [name for name in batch if name not in finished]
        if not todo:
            return
        advance = (lambda days: progress(days * len(todo))) if progress else None
        summary = self.pipeline.run_range(first_day, last_day, todo, now=now, progress=advance, tracker=tracker,
                                          stop_requested=self._stop_requested, then=then)
        outcome.ranges.append(summary)
        self._record(locks, outcome.run_id, summary, watermarks, through, gaps)

