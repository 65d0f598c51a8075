"""Several processes on one database: account locks, shared work, nothing counted twice.

Data: tests/integration/opsdata.py (accounts a, b, c; day n of September 2026 costs
``base + n`` $/h, 24 hours a day). A full backfill of the ten days writes, per account,
240 hourly rows and 10 daily rows.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, text

from etl.run.runner import SKIPPED_CURRENT, CycleOutcome, Runner
from etl.source.thanos import ThanosClient
from etl.store.locks import AccountLocks
from tests.support import datasets, tables
from tests.support.datasets import ACCOUNTS, DAYS, expected_total
from tests.support.faultproxy import FaultProxy
from tests.support.servers import REPO_ROOT, cli_env, make_settings
from tests.support.tables import daily, runs

ROWS_PER_ACCOUNT = 240 + 10


@pytest.fixture
def thanos_url(prometheus_with) -> str:  # type: ignore[no-untyped-def]
    return prometheus_with("ops-abc", datasets.ops_dataset())


def assert_all_days_exact(engine: Engine, days: list[date]) -> None:
    assert daily(engine) == {(a, d): (expected_total(a, d), 24) for a in ACCOUNTS for d in days}
    with engine.connect() as connection:
        hourly = connection.execute(text("SELECT count(*) FROM k8s_hourly_costs")).scalar_one()
    assert hourly == 24 * len(days) * len(ACCOUNTS)


def test_a_cycle_waits_for_an_account_another_process_holds_and_then_computes_it(
        thanos_url: str, database_url: str, engine: Engine) -> None:
    # The holder (a backfill of other days, say) does not compute this cycle's hours: skipping the
    # account because it was locked left today's hours missing while every process reported ok.
    settings = make_settings(thanos_url, database_url, LOOKBACK_DAYS="1")
    now = datetime(2026, 9, 5, 12, 30, tzinfo=UTC)
    holder = AccountLocks(engine)
    assert holder.try_lock("acct-b")
    release = threading.Timer(1.0, holder.close)
    release.start()
    try:
        outcome = Runner(settings, ThanosClient(settings.thanos), engine).run_cycle(now=now)
    finally:
        release.join()
    assert outcome.status == "ok" and outcome.skipped == {}
    # lookback 1: Sept 4 whole and Sept 5 through 12:00, for every account, b included
    assert daily(engine) == {**{(a, DAYS[3]): (expected_total(a, DAYS[3]), 24) for a in ACCOUNTS},
                             **{(a, DAYS[4]): (expected_total(a, DAYS[4], 12), 12) for a in ACCOUNTS}}


def test_a_cycle_skips_an_account_computed_through_its_hour_while_it_waited(
        thanos_url: str, database_url: str, engine: Engine) -> None:
    now = datetime(2026, 9, 5, 12, 30, tzinfo=UTC)
    with FaultProxy(thanos_url, delay_seconds=0.2) as slow:
        first = make_settings(slow.url, database_url, LOOKBACK_DAYS="1", ACCOUNTS="acct-a")
        other_replica = threading.Thread(
            target=lambda: Runner(first, ThanosClient(first.thanos), engine).run_cycle(now=now))
        other_replica.start()  # claims acct-a and computes it slowly
        time.sleep(1.0)
        settings = make_settings(thanos_url, database_url, LOOKBACK_DAYS="1", ACCOUNTS="acct-a")
        outcome = Runner(settings, ThanosClient(settings.thanos), engine).run_cycle(now=now)
        other_replica.join(timeout=120)
    assert slow.requests_seen > 0  # the other replica did the work
    assert list(outcome.skipped) == ["acct-a"] and outcome.status == "ok"
    # says through which hour, when and by which run (here the other replica's, run #1)
    assert outcome.skipped["acct-a"].startswith(f"{SKIPPED_CURRENT} through 2026-09-05T12:00Z at ")
    assert outcome.skipped["acct-a"].endswith("by run #1")
    assert outcome.summary.rows_written == 0


def test_a_process_with_an_older_clock_never_removes_hours_a_newer_one_wrote(
        thanos_url: str, database_url: str, engine: Engine) -> None:
    # A backfill started at 10:59 reaches an account after a cycle started at 11:01 wrote it through
    # 11:00 (or a cycle waits behind a backfill that wrote further): rewriting today from the older
    # clock deleted hour 10 of today, and the later cycles of that hour skipped the account as current.
    settings = make_settings(thanos_url, database_url, LOOKBACK_DAYS="0", ACCOUNTS="acct-a")
    runner = Runner(settings, ThanosClient(settings.thanos), engine)
    early, late = datetime(2026, 9, 5, 10, 59, tzinfo=UTC), datetime(2026, 9, 5, 11, 1, tzinfo=UTC)
    runner.run_cycle(now=late)
    runner.backfill(DAYS[4], DAYS[4], now=early)
    assert daily(engine) == {("acct-a", DAYS[4]): (expected_total("acct-a", DAYS[4], 11), 11)}
    tables.wipe(engine)
    runner.backfill(DAYS[4], DAYS[4], now=late)
    runner.run_cycle(now=early)
    assert daily(engine) == {("acct-a", DAYS[4]): (expected_total("acct-a", DAYS[4], 11), 11)}


def test_replicas_ticking_at_once_share_the_accounts(thanos_url: str, database_url: str, engine: Engine) -> None:
    now = datetime(2026, 9, 6, 0, 30, tzinfo=UTC)  # lookback 4 -> Sept 2..5 whole days
    outcomes: list[CycleOutcome] = []
    with FaultProxy(thanos_url, delay_seconds=0.02) as proxy:
        settings = make_settings(proxy.url, database_url, LOOKBACK_DAYS="4", ACCOUNTS_PER_CLAIM="1")

        def replica() -> None:
            outcomes.append(Runner(settings, ThanosClient(settings.thanos), engine).run_cycle(now=now))

        threads = [threading.Thread(target=replica) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert len(outcomes) == 2 and all(o.status == "ok" for o in outcomes)
    computed = [name for o in outcomes for name in o.summary.accounts]
    # every account computed by exactly one replica; the other skipped it
    assert sorted(computed) == ACCOUNTS
    assert sum(len(o.skipped) for o in outcomes) == len(ACCOUNTS)
    # 4 days x (24 hourly + 1 daily) rows per account, written once in total
    assert sum(o.summary.rows_written for o in outcomes) == len(ACCOUNTS) * 4 * 25
    assert_all_days_exact(engine, DAYS[1:5])


def test_two_backfill_processes_at_once_count_every_day_once(thanos_url: str, database_url: str,
                                                            engine: Engine) -> None:
    for _attempt in range(3):
        tables.wipe(engine)
        with FaultProxy(thanos_url, delay_seconds=0.03) as proxy:
            env = cli_env(proxy.url, database_url, ACCOUNTS_PER_CLAIM="1", THANOS_CHUNK_DAYS="2")
            command = [sys.executable, "-m", "etl", "backfill", "--start", str(DAYS[0]), "--end", str(DAYS[-1])]
            processes = [subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, text=True) for _ in range(2)]
            results = [process.communicate(timeout=300) for process in processes]
        for process, (out, err) in zip(processes, results, strict=True):
            assert process.returncode == 0, out + err
        assert_all_days_exact(engine, DAYS)
        backfills = [run for run in runs(engine) if run["kind"] == "backfill"]
        assert len(backfills) == 2 and all(run["status"] == "ok" for run in backfills)
        first, second = backfills
        if max(first["started_at"], second["started_at"]) >= min(  # type: ignore[type-var]
                first["finished_at"], second["finished_at"]):  # type: ignore[type-var]
            # One finished before the other started (a loaded machine starts a process slowly):
            # not at once, and a finished backfill is rightly started afresh. Try again.
            continue
        # Both joined one backfill (the one whose run reached the start first; run ids are reserved
        # earlier, in either order), and between them wrote every row exactly once.
        assert first["backfill_origin_id"] == second["backfill_origin_id"] in (first["id"], second["id"])
        written = [int(str(run["rows_written"])) for run in backfills]
        assert sum(written) == ROWS_PER_ACCOUNT * len(ACCOUNTS)
        return
    pytest.fail("in three attempts one backfill always finished before the other started")
    # one account per claim: each account was computed whole by one of the two processes
    assert all(rows % ROWS_PER_ACCOUNT == 0 for rows in written)
    with engine.connect() as connection:
        chunks = connection.execute(text("SELECT count(*) FROM etl_backfill_chunks")).scalar_one()
    assert chunks == len(ACCOUNTS) * 5  # ten days in two-day chunks, each done once



def test_an_account_whose_lock_session_died_is_not_recorded_as_done(thanos_url: str, database_url: str,
                                                                    engine: Engine) -> None:
    # The advisory locks live on their own session. If that session dies while a process works
    # (database restart, idle-connection reaper, network cut), the server drops the locks and
    # another process may take the account and record its own state. The first process must then
    # not record the account as done (watermark, computed-through, gap) from the state it read.
    settings = make_settings(thanos_url, database_url, ACCOUNTS="acct-a", LOOKBACK_DAYS="1")
    calls = 0

    def kill_lock_session_once_working() -> bool:
        # Asked once before the account is claimed, then before each chunk: at the first chunk
        # the account is locked, and its lock session is cut from the server side.
        nonlocal calls
        calls += 1
        if calls == 2:
            with engine.connect() as connection:
                connection.execute(text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND pid <> pg_backend_pid() "
                    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"))
        return False

    runner = Runner(settings, ThanosClient(settings.thanos), engine, stop_requested=kill_lock_session_once_working)
    outcome = runner.run_cycle(now=datetime(2026, 9, 5, 10, 30, tzinfo=UTC))
    assert calls >= 2
    assert outcome.failed == ["acct-a"] and outcome.status == "failed"
    state = tables.account_state(engine, "acct-a")
    # Not advanced to Sept 4 (the last complete day): the failure only anchors the never-computed
    # account at the day before its first due day (Sept 4 = today - lookback).
    assert state["watermark"] == date(2026, 9, 3) and state["computed_through"] is None
    assert "lock" in str(state["last_error"])
