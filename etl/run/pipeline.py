"""Fetch -> cost -> write for a range of UTC days: all accounts per query, chunk by chunk."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from typing import Protocol

import pandas as pd
from sqlalchemy import Engine

from etl.config import Settings
from etl.costing.rollup import daily_rollup, namespace_daily_rollup
from etl.errors import ChunkError, EtlError, SuspectAnswerError
from etl.model import (
    ACCOUNT_COLUMN,
    PHASE_COLUMN,
    PHASE_EXPORTER,
    PHASE_RAW,
    HourRange,
)
from etl.run.catchup import day_chunks, last_complete_hour_end
from etl.run.chunk import CostedChunk, FetchedChunk, cost_chunk, fetch_chunk
from etl.run.notices import DefaultPriceNotices
from etl.run.prefetch import Prefetch
from etl.run.recheck import AnswerCheck
from etl.run.shard import Shard
from etl.run.sources import SourceDiscovery
from etl.source.fetch import discover_accounts
from etl.source.thanos import ThanosClient
from etl.store.loader import NamespaceRows, WriteResult, write_costs

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int], None]
StopRequested = Callable[[], bool]


class ChunkTracker(Protocol):
    """Remembers finished chunks so an interrupted backfill resumes (etl.store.resume)."""

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
    failures: list[EtlError] = field(default_factory=list)  # ChunkError, LockLostError

    @property
    def ok(self) -> bool:
        return not self.failures


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


class Pipeline:
    def __init__(self, settings: Settings, client: ThanosClient, engine: Engine, allow_removal: bool = False) -> None:
        """``allow_removal``: store answers that look incomplete as they are, deleting the stored
        hours they lack (etl.run.recheck); otherwise such an account fails for the chunk."""
        self.settings = settings
        self.client = client
        self.engine = engine
        self.notices = DefaultPriceNotices()
        self.discovery = SourceDiscovery(client, settings.account_label)
        self.allow_removal = allow_removal
        self.check = AnswerCheck(engine, allow_removal, settings.thanos.backoff_seconds)
        self.prefetch: Prefetch[FetchedChunk] = Prefetch()  # the next chunk's fetch, ahead

    def resolve_accounts(self, requested: Sequence[str], hours: HourRange, shard: Shard | None = None) -> list[str]:
        """The accounts asked for, else configured, else discovered; only ``shard``'s if given."""
        accounts = self._all_accounts(requested, hours)
        return shard.select(accounts) if shard else accounts

    def _all_accounts(self, requested: Sequence[str], hours: HourRange) -> list[str]:
        if requested:
            return sorted(set(requested))
        if self.settings.accounts:
            return sorted(set(self.settings.accounts))
        accounts = discover_accounts(self.client, self.settings.account_label, hours)
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
        then: Sequence[str] = (),
    ) -> RunSummary:
        """Recompute [first_day, last_day] (UTC, inclusive) for the accounts; never raises per account.

        ``tracker`` skips chunks already done and records the ones finished; ``stop_requested`` is
        asked before each chunk, so a shutdown never leaves a chunk half-written. ``then``: the
        accounts the next call likely asks for the same days; their first fetch starts ahead.
        """
        latest_end = last_complete_hour_end(now or datetime.now(UTC))
        self.notices = DefaultPriceNotices()  # each account is in one run_range call per run
        full_range = HourRange.for_days(first_day, last_day).clipped_to(latest_end)
        names = self.resolve_accounts(accounts, full_range)
        summary = RunSummary(first_day, last_day, {name: AccountSummary(name) for name in names})
        chunks = day_chunks(first_day, last_day, self.settings.thanos.chunk_days)

        @cache  # once per chunk: the tracker counts the account-chunks it skips
        def work(index: int) -> tuple[HourRange, list[str]]:
            """The hours and the accounts still to do of chunk ``index``."""
            chunk_first, chunk_last = chunks[index]
            hours = HourRange.for_days(chunk_first, chunk_last).clipped_to(latest_end)
            pending = tracker.pending(chunk_first, chunk_last, names) if tracker and names else names
            return hours, (pending if hours.hours else [])

        first_of_then = HourRange.for_days(*chunks[0]).clipped_to(latest_end), list(then)  # (none done yet)
        finished = False
        try:
            for index, (chunk_first, chunk_last) in enumerate(chunks):
                if stop_requested and stop_requested():
                    log.warning("Stop requested: leaving before %s; every finished chunk is committed", chunk_first)
                    summary.interrupted = True
                    break
                hours, pending = work(index)
                if pending:
                    upcoming = work(index + 1) if index + 1 < len(chunks) else first_of_then
                    failed = self._run_chunk(hours, [summary.accounts[name] for name in pending], full_range,
                                             upcoming if upcoming[0].hours and upcoming[1] else None)
                    # A chunk still growing (it holds the current hour) is never recorded as done.
                    if tracker and hours == HourRange.for_days(chunk_first, chunk_last):
                        tracker.completed(chunk_first, chunk_last, [name for name in pending if name not in failed])
                if progress:
                    progress((chunk_last - chunk_first).days + 1)
            finished = not summary.interrupted
        finally:
            if not finished:  # else what waits ahead is the next call's (``then``)
                self.prefetch.drop()
        for account in summary.accounts.values():
            _log_account_outcome(account)
        return summary

    def hourly_costs(self, accounts: Sequence[str], hours: HourRange, window: HourRange | None = None) -> CostedChunk:
        """Both phases' hourly rows of ``accounts`` in ``hours``, one phase chosen per account-hour,
        and the accounts that could not be costed (etl.run.chunk). Raises if the fetch failed.

        Each phase is asked only for the accounts discovery saw with its metrics in ``window``
        (default ``hours``), and optional gauges no account of them has are not asked for
        (etl.run.sources).
        """
        return self._costed(self._fetch(accounts, hours, window or hours), accounts, hours)

    def _fetch(self, accounts: Sequence[str], hours: HourRange, window: HourRange) -> FetchedChunk:
        return fetch_chunk(self.client, self.settings, self.discovery.for_batch(accounts, window), hours)

    def _costed(self, fetched: FetchedChunk, accounts: Sequence[str], hours: HourRange) -> CostedChunk:
        costed = cost_chunk(fetched, self.settings, hours, accounts)
        self.notices.warn(costed.defaulted, costed.rows, hours)
        return costed

    def _run_chunk(self, hours: HourRange, accounts: list[AccountSummary], window: HourRange,
                   upcoming: tuple[HourRange, list[str]] | None = None) -> set[str]:
        """Fetch, cost and write one chunk for these accounts; returns the names of those that failed.
        Once its answers are in, the ``upcoming`` chunk's (hours, accounts) fetch starts (etl.run.prefetch)."""
        names = [account.account for account in accounts]
        try:
            try:
                fetched = self.prefetch.take((tuple(names), hours, window), lambda: self._fetch(names, hours, window))
            finally:
                if upcoming is not None:
                    next_hours, next_names = upcoming
                    self.prefetch.start((tuple(next_names), next_hours, window),
                                        lambda: self._fetch(next_names, next_hours, window))
            costed = self._costed(fetched, names, hours)
        except EtlError as exc:
            failure = ChunkError("fetch", names, hours, exc)
            log.error("Fetching %s failed for all %d account(s): %s", hours, len(names), exc)
            for account in accounts:
                account.failures.append(failure)
            return set(names)
        costed = self.check.checked(costed, names, hours, lambda again: self.hourly_costs(again, hours, window))
        by_name = {account.account: account for account in accounts}
        failed = set()
        for account_name, cause in sorted(costed.failures.items()):
            step = "check" if isinstance(cause, SuspectAnswerError) else "cost"
            log.error("%s of %s for %s failed, nothing of it written: %s", step.capitalize(), hours, account_name,
                      cause)
            by_name[account_name].failures.append(ChunkError(step, [account_name], hours, cause))
            failed.add(account_name)
        hourly = costed.rows[costed.rows[ACCOUNT_COLUMN].isin(list(by_name))].reset_index(drop=True)
        for name, rows in hourly.groupby(ACCOUNT_COLUMN, sort=True):
            _log_phase_choice(str(name), rows, hours)
        # One roll-up and one write for the whole batch; one account per write only if that fails.
        daily = daily_rollup(hourly)
        namespace_hours = costed.namespaces[costed.namespaces[ACCOUNT_COLUMN].isin(list(by_name))]
        namespaces = NamespaceRows(namespace_daily_rollup(namespace_hours),
                                   namespace_hours if self.settings.run.store_namespace_hours else None)
        for group_hourly, group_daily, result in self._write(hourly, daily, hours, namespaces):
            for name, rows in group_hourly.groupby(ACCOUNT_COLUMN, sort=True):
                summary = by_name[str(name)]
                if isinstance(result, Exception):
                    summary.failures.append(ChunkError("write", [summary.account], hours, result))
                    failed.add(summary.account)
                    continue
                days = group_daily[group_daily[ACCOUNT_COLUMN] == name]
                _record_write(summary, rows, days, result.hours_removed_by_account.get(str(name), 0), hours)
        return failed

    def _write(self, hourly: pd.DataFrame, daily: pd.DataFrame, hours: HourRange,
               namespaces: NamespaceRows) -> list[tuple[pd.DataFrame, pd.DataFrame, WriteResult | Exception]]:
        """Write every account's rows (with their namespace rows) in one transaction; if that fails,
        each account in its own, so that one account's bad row never costs another account its rows."""
        try:
            return [(hourly, daily, write_costs(self.engine, hourly, daily, namespaces, self.allow_removal))]
        except Exception as exc:
            accounts = sorted(hourly[ACCOUNT_COLUMN].unique())
            if len(accounts) < 2:
                log.error("Writing %s for %s failed: %s", hours, ", ".join(accounts), exc)
                return [(hourly, daily, exc)]
            log.warning("Writing %s for %d accounts at once failed (%s): writing them one by one",
                        hours, len(accounts), exc)
        outcomes: list[tuple[pd.DataFrame, pd.DataFrame, WriteResult | Exception]] = []
        for name in accounts:
            one_hourly = hourly[hourly[ACCOUNT_COLUMN] == name]
            one_daily = daily[daily[ACCOUNT_COLUMN] == name]
            one_namespaces = namespaces.of(name)
            try:
                outcomes.append((one_hourly, one_daily, write_costs(self.engine, one_hourly, one_daily,
                                                                    one_namespaces, self.allow_removal)))
            except Exception as exc:  # one account's failed write must not stop the others
                log.error("Writing %s for %s failed: %s", hours, name, exc)
                outcomes.append((one_hourly, one_daily, exc))
        return outcomes


def _record_write(account: AccountSummary, hourly: pd.DataFrame, daily: pd.DataFrame, hours_removed: int,
                  hours: HourRange) -> None:
    if hours_removed:  # only with --allow-removal (etl.store.loader refuses otherwise)
        log.warning("Recomputing %s for %s removed %d stored hour(s) that Thanos no longer has data for "
                    "(--allow-removal)", hours, account.account, hours_removed)
    account.hourly_rows += len(hourly)
    account.daily_rows += len(daily)
    account.exporter_hours += int((hourly[PHASE_COLUMN] == PHASE_EXPORTER).sum())
    account.raw_hours += int((hourly[PHASE_COLUMN] == PHASE_RAW).sum())
    account.phases.update(daily[PHASE_COLUMN])


def _log_phase_choice(account: str, hourly: pd.DataFrame, hours: HourRange) -> None:
    raw_hours = int((hourly[PHASE_COLUMN] == PHASE_RAW).sum())
    if not raw_hours:
        return
    if raw_hours == len(hourly):
        log.info("No Phase 2 exporter metrics found for %s, will use Phase 1 (%s)", account, hours)
    log.info("Falling back to Phase 1 raw metric calculations for %s: %d hour(s) of %s without Phase 2 "
             "exporter data", account, raw_hours, hours)


def _log_account_outcome(account: AccountSummary) -> None:
    if account.failures:
        log.error("Account %s had %d failed chunk(s); it will be retried", account.account, len(account.failures))
    if account.exporter_hours:
        log.info("Using Phase 2 exporter metrics for %s: %d hour(s) over %d day(s)",
                 account.account, account.exporter_hours, account.daily_rows)
    if account.raw_hours:
        log.info("Using Phase 1 raw metric calculations for %s: %d hour(s) over %d day(s)",
                 account.account, account.raw_hours, account.daily_rows)
    if not account.hourly_rows and not account.failures:
        log.warning("No Phase 2 exporter metrics found for %s, and no Phase 1 raw metrics either: "
                    "nothing written", account.account)
