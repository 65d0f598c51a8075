"""Extract -> transform -> load for a range of UTC days, all accounts per query, chunk by chunk."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

import pandas as pd
from sqlalchemy import Engine

from etl.config import Settings
from etl.costs import PHASE_EXPORTER, PHASE_RAW, choose_phase_per_hour, daily_rollup
from etl.errors import EtlError
from etl.exporter import exporter_hourly_rows
from etl.extract import HourRange, accounts_seen
from etl.queries import EXPORTER_METRICS, RAW_METRICS
from etl.raw import raw_hourly_rows
from etl.store import write_costs
from etl.thanos import ThanosClient

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int], None]
StopRequested = Callable[[], bool]


class ChunkTracker(Protocol):
    """Remembers finished chunks so an interrupted backfill resumes (etl.progress)."""

    def pending(self, first: date, last: date, accounts: Sequence[str]) -> list[str]: ...

    def completed(self, first: date, last: date, accounts: Sequence[str]) -> None: ...


@dataclass
class AccountSummary:
    account: str
    hourly_rows: int = 0
    daily_rows: int = 0  # one per day written: also the number of days
    exporter_hours: int = 0
    raw_hours: int = 0
    phases: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class RunSummary:
    first_day: date
    last_day: date
    accounts: dict[str, AccountSummary] = field(default_factory=dict)
    # Stopped between chunks on request (SIGTERM): the chunks done are committed whole.
    interrupted: bool = False

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    @property
    def failed(self) -> list[str]:
        return [name for name, account in self.accounts.items() if not account.ok]

    @property
    def rows_written(self) -> int:
        return sum(a.hourly_rows + a.daily_rows for a in self.accounts.values())


def last_complete_hour_end(now: datetime) -> datetime:
    """End of the latest hour that is over: a running hour's average is not yet its cost."""
    return now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def last_complete_day(latest_end: datetime) -> date:
    """The last UTC day that is over when the hours before ``latest_end`` (last_complete_hour_end) are."""
    return latest_end.date() - timedelta(days=1)


def day_chunks(first_day: date, last_day: date, chunk_days: int) -> list[tuple[date, date]]:
    chunks = []
    start = first_day
    while start <= last_day:
        end = min(start + timedelta(days=chunk_days - 1), last_day)
        chunks.append((start, end))
        start = end + timedelta(days=1)
    return chunks


def discover_accounts(client: ThanosClient, settings: Settings, hours: HourRange) -> list[str]:
    """Every account id carried by an exporter or raw metric within ``hours``."""
    return accounts_seen(client, settings.account_label, [*EXPORTER_METRICS.values(), *RAW_METRICS],
                         hours.start, hours.end)


class Pipeline:
    def __init__(self, settings: Settings, client: ThanosClient, engine: Engine) -> None:
        self.settings = settings
        self.client = client
        self.engine = engine

    def resolve_accounts(self, requested: Sequence[str], hours: HourRange) -> list[str]:
        if requested:
            return sorted(set(requested))
        if self.settings.accounts:
            return sorted(set(self.settings.accounts))
        accounts = discover_accounts(self.client, self.settings, hours)
        log.info("Discovered %d account(s) in Thanos: %s", len(accounts), ", ".join(accounts) or "none")
        if not accounts:
            log.warning("No accounts to process in %s: none configured (ACCOUNTS) and none found in Thanos under `%s`",
                        hours, self.settings.account_label)
        return accounts

    def run_range(
        self,
        first_day: date,
        last_day: date,
        accounts: Sequence[str] = (),
        now: datetime | None = None,
        progress: ProgressCallback | None = None,
        tracker: ChunkTracker | None = None,
        stop_requested: StopRequested | None = None,
    ) -> RunSummary:
        """Recompute [first_day, last_day] (UTC, inclusive) for the accounts; never raises per account.

        ``tracker`` skips chunks already done and records the ones finished; ``stop_requested`` is
        asked before each chunk, so a shutdown never leaves a chunk half-written.
        """
        latest_end = last_complete_hour_end(now or datetime.now(UTC))
        full_range = HourRange.for_days(first_day, last_day).clipped_to(latest_end)
        summary = RunSummary(first_day, last_day)
        names = self.resolve_accounts(accounts, full_range)
        summary.accounts = {name: AccountSummary(name) for name in names}
        for chunk_first, chunk_last in day_chunks(first_day, last_day, self.settings.thanos.chunk_days):
            if stop_requested and stop_requested():
                log.warning("Stop requested: leaving before %s; every finished chunk is committed", chunk_first)
                summary.interrupted = True
                break
            whole_chunk = HourRange.for_days(chunk_first, chunk_last)
            hours = whole_chunk.clipped_to(latest_end)
            pending = tracker.pending(chunk_first, chunk_last, names) if tracker and names else names
            if pending and hours.hours:
                errors_before = {name: len(summary.accounts[name].errors) for name in pending}
                # A view of the summary holding only the pending accounts (same AccountSummary objects).
                self._run_chunk(hours, RunSummary(first_day, last_day, {n: summary.accounts[n] for n in pending}))
                # A chunk still growing (it holds the current hour) is never recorded as done.
                if tracker and hours == whole_chunk:
                    tracker.completed(chunk_first, chunk_last, [
                        name for name in pending if len(summary.accounts[name].errors) == errors_before[name]])
            if progress:
                progress((chunk_last - chunk_first).days + 1)
        for account in summary.accounts.values():
            self._log_account_outcome(account)
        return summary

    def _run_chunk(self, hours: HourRange, summary: RunSummary) -> None:
        names = list(summary.accounts)
        try:
            log.debug("Fetching Phase 2 exporter metrics for %d account(s), %s", len(names), hours)
            exporter = exporter_hourly_rows(self.client, self.settings, names, hours)
            log.debug("Fetching Phase 1 raw metrics for %d account(s), %s", len(names), hours)
            raw = raw_hourly_rows(self.client, self.settings, names, hours)
            # Both or nothing: writing exporter hours alone would delete a day's stored raw hours.
            hourly = choose_phase_per_hour(exporter, raw)
        except EtlError as exc:
            log.error("Fetching %s failed for all %d account(s): %s", hours, len(names), exc)
            for account in summary.accounts.values():
                account.errors.append(f"{hours}: {exc}")
            return
        for name, rows in hourly.groupby("cloud_account_id", sort=True):
            if str(name) in summary.accounts:
                self._log_phase_choice(str(name), rows, hours)
                self._load_account(summary.accounts[str(name)], rows.reset_index(drop=True), hours)

    @staticmethod
    def _log_phase_choice(account: str, hourly: pd.DataFrame, hours: HourRange) -> None:
        raw_hours = int((hourly["source_phase"] == PHASE_RAW).sum())
        if not raw_hours:
            return
        if raw_hours == len(hourly):
            log.info("No Phase 2 exporter metrics found for %s, will use Phase 1 (%s)", account, hours)
        log.info("Falling back to Phase 1 raw metric calculations for %s: %d hour(s) of %s without Phase 2 "
                 "exporter data", account, raw_hours, hours)

    def _load_account(self, account: AccountSummary, hourly: pd.DataFrame, hours: HourRange) -> None:
        daily = daily_rollup(hourly)
        try:
            result = write_costs(self.engine, hourly, daily)
        except Exception as exc:  # one account's failed write must not stop the others
            log.error("Writing %s for %s failed: %s", hours, account.account, exc)
            account.errors.append(f"{hours}: {exc}")
            return
        if result.hours_removed:
            # Legitimate after a correction upstream, but also what an unregistered Thanos store
            # (a partial answer without warnings) looks like: say so rather than drop them silently.
            log.warning("Recomputing %s for %s removed %d stored hour(s) that Thanos no longer has data for",
                        hours, account.account, result.hours_removed)
        account.hourly_rows += result.hourly_rows
        account.daily_rows += result.daily_rows
        account.exporter_hours += int((hourly["source_phase"] == PHASE_EXPORTER).sum())
        account.raw_hours += int((hourly["source_phase"] == PHASE_RAW).sum())
        account.phases.update(daily["source_phase"])

    @staticmethod
    def _log_account_outcome(account: AccountSummary) -> None:
        if account.errors:
            log.error("Account %s had %d failed chunk(s); it will be retried", account.account,
                      len(account.errors))
        if account.exporter_hours:
            log.info("Using Phase 2 exporter metrics for %s: %d hour(s) over %d day(s)",
                     account.account, account.exporter_hours, account.daily_rows)
        if account.raw_hours:
            log.info("Using Phase 1 raw metric calculations for %s: %d hour(s) over %d day(s)",
                     account.account, account.raw_hours, account.daily_rows)
        if not account.hourly_rows and not account.errors:
            log.warning("No Phase 2 exporter metrics found for %s, and no Phase 1 raw metrics either: "
                        "nothing written", account.account)
