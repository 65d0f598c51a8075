"""Scheduler cycles driven in-process with an injected clock: catch-up after downtime, the
catch-up bound and its gap, late samples, failing-account isolation, the run log and state.

Expected figures come from tests/integration/opsdata.py: account a costs ``n`` $/h on day ``n``
of September 2026, b ``10 + n`` $/h; a full day is 24 times that.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine

from etl.model import utc_midnight
from etl.run.runner import Runner
from etl.source.promql import account_selector
from etl.source.thanos import ThanosClient
from tests.support import datasets
from tests.support.datasets import DAYS, expected_total
from tests.support.faultproxy import FaultProxy
from tests.support.servers import REPO_ROOT, cli_env, make_settings
from tests.support.tables import account_state, daily, runs

A, B = "acct-a", "acct-b"
D = {day.day: day for day in DAYS}  # D[3] is 2026-09-03


def at(day: date, hour: int, minute: int = 30) -> datetime:
    return utc_midnight(day) + timedelta(hours=hour, minutes=minute)


@pytest.fixture
def thanos_url(prometheus_with) -> str:  # type: ignore[no-untyped-def]
    return prometheus_with("ops-ab", datasets.ops_dataset([A, B]))


def runner(thanos_url: str, database_url: str, engine: Engine, **env: str) -> Runner:
    settings = make_settings(thanos_url, database_url, LOOKBACK_DAYS="1", **env)
    return Runner(settings, ThanosClient(settings.thanos), engine)


def test_first_cycle_writes_lookback_days_and_records_state(thanos_url: str, database_url: str,
                                                           engine: Engine) -> None:
    outcome = runner(thanos_url, database_url, engine).run_cycle(now=at(D[3], 10))
    assert outcome.status == "ok" and not outcome.failed
    # lookback 1 day -> Sept 2 whole and Sept 3 up to the last complete hour (10:00): 10 hours.
    assert daily(engine) == {
        (A, D[2]): (expected_total(A, D[2]), 24), (A, D[3]): (expected_total(A, D[3], 10), 10),
        (B, D[2]): (expected_total(B, D[2]), 24), (B, D[3]): (expected_total(B, D[3], 10), 10),
    }
    state = account_state(engine, A)
    assert state["watermark"] == D[2]  # the last day that is over
    assert state["computed_through"] == datetime(2026, 9, 3, 10, tzinfo=UTC)
    assert state["last_success_run_id"] == outcome.run_id and state["last_error"] is None
    [run] = runs(engine)
    # per account 24 + 10 hourly rows and 2 daily rows
    assert (run["kind"], run["status"], run["accounts_ok"], run["accounts_failed"]) == ("run", "ok", 2, 0)
    assert run["rows_written"] == 2 * (34 + 2)
    assert (run["first_day"], run["last_day"]) == (D[2], D[3]) and run["finished_at"] is not None


def test_cycle_after_a_week_of_downtime_fills_the_week(thanos_url: str, database_url: str, engine: Engine) -> None:
    run = runner(thanos_url, database_url, engine)
    run.run_cycle(now=at(D[3], 10))
    # Down until Sept 9 05:30: the cycle starts at the watermark (Sept 2), not at today - 1.
    outcome = run.run_cycle(now=at(D[9], 5))
    assert outcome.summary.first_day == D[2] and not outcome.failed
    rows = daily(engine)
    for account in (A, B):
        for n in range(2, 9):
            assert rows[(account, D[n])] == (expected_total(account, D[n]), 24), (account, n)
        assert rows[(account, D[9])] == (expected_total(account, D[9], 5), 5)
        assert (account, D[1]) not in rows and (account, D[10]) not in rows
        assert account_state(engine, account)["watermark"] == D[8]


def test_catchup_bound_leaves_a_gap_named_until_a_backfill_fills_it(
    thanos_url: str, database_url: str, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    run = runner(thanos_url, database_url, engine, MAX_CATCHUP_DAYS="3", ACCOUNTS=A)
    run.run_cycle(now=at(D[3], 10))  # watermark Sept 2; Sept 3 has 10 hours
    outcome = run.run_cycle(now=at(D[9], 5))
    # Bound: at most 3 days back -> from Sept 6; Sept 3..5 are the gap (Sept 2 was complete).
    assert outcome.summary.first_day == D[6]
    assert outcome.gaps == {A: (D[3], D[5])}
    assert "k8s-cost-etl backfill --start 2026-09-03 --end 2026-09-05 --account acct-a" in caplog.text
    rows = daily(engine)
    assert rows[(A, D[3])] == (expected_total(A, D[3], 10), 10)  # untouched since the first cycle
    assert (A, D[4]) not in rows and (A, D[5]) not in rows
    assert rows[(A, D[6])] == (expected_total(A, D[6]), 24)
    state = account_state(engine, A)
    assert (state["gap_first"], state["gap_last"]) == (D[3], D[5])
    assert "backfill --start 2026-09-03" in str(runs(engine)[-1]["error"])

    backfill = run.backfill(D[3], D[5], [A], now=at(D[9], 6))
    assert backfill.status == "ok"
    rows = daily(engine)
    for n in (3, 4, 5):
        assert rows[(A, D[n])] == (expected_total(A, D[n]), 24)
    state = account_state(engine, A)
    assert state["gap_first"] is None and state["gap_last"] is None
    assert run.run_cycle(now=at(D[9], 7)).gaps == {}


def test_late_samples_within_the_lookback_are_picked_up(prometheus_with, database_url: str,  # type: ignore[no-untyped-def]
                                                       engine: Engine) -> None:
    # The first Prometheus lacks a's Sept 8 hours 12..23 (they arrive late); the second has them.
    late_hours = {utc_midnight(D[8]) + timedelta(hours=h) for h in range(12, 24)}
    early = prometheus_with("ops-a-early", datasets.ops_dataset([A], DAYS[6:9], missing={A: late_hours}))
    complete = prometheus_with("ops-a-complete", datasets.ops_dataset([A], DAYS[6:9]))
    runner(early, database_url, engine).run_cycle(now=at(D[9], 1))
    assert daily(engine)[(A, D[8])] == (expected_total(A, D[8], 12), 12)
    runner(complete, database_url, engine).run_cycle(now=at(D[9], 2))
    assert daily(engine)[(A, D[8])] == (expected_total(A, D[8]), 24)


def test_failing_account_is_isolated_recorded_and_retried(thanos_url: str, database_url: str,
                                                         engine: Engine) -> None:
    # Faults only for the queries whose account matcher selects b alone.
    with FaultProxy(thanos_url, error_status=502, fail_matching=account_selector("tenant_id", [B])) as proxy:
        # One account per claim: b's queries fail (HTTP 502 from the proxy), a's do not.
        run = runner(proxy.url, database_url, engine, ACCOUNTS=f"{A},{B}", ACCOUNTS_PER_CLAIM="1")
        outcome = run.run_cycle(now=at(D[3], 10))
        assert outcome.failed == [B] and outcome.status == "failed"
        assert "502" in str(outcome.summary.accounts[B].failures[0])
        rows = daily(engine)
        assert rows[(A, D[2])] == (expected_total(A, D[2]), 24)
        assert not any(account == B for account, _ in rows)
        b_state = account_state(engine, B)
        # Never computed: the failure anchors its catch-up at the day before its first due day
        # (Sept 2, today - lookback), so no day the failures covered is skipped later.
        assert b_state["watermark"] == D[1] and b_state["consecutive_failures"] == 1
        assert "502" in str(b_state["last_error"]) and b_state["last_success_at"] is None
        run_row = runs(engine)[-1]
        assert (run_row["status"], run_row["accounts_ok"], run_row["accounts_failed"]) == ("failed", 1, 1)
        assert B in str(run_row["error"])

        proxy.error_status = None  # Thanos recovers: the next hourly cycle retries b
        outcome = run.run_cycle(now=at(D[3], 11))
        assert outcome.status == "ok"
        # 11:00 is a new hour: both accounts recompute; b from its anchored watermark (Sept 1).
        assert daily(engine)[(B, D[2])] == (expected_total(B, D[2]), 24)
        assert daily(engine)[(B, D[3])] == (expected_total(B, D[3], 11), 11)
        b_state = account_state(engine, B)
        assert b_state["consecutive_failures"] == 0 and b_state["last_error"] is None
        assert b_state["watermark"] == D[2]


def test_cli_exit_code_is_1_when_an_account_failed(thanos_url: str, database_url: str, engine: Engine) -> None:
    with FaultProxy(thanos_url, error_status=502, fail_matching=account_selector("tenant_id", [B])) as proxy:
        result = subprocess.run(
            [sys.executable, "-m", "etl", "backfill", "--start", str(D[1]), "--end", str(D[2])],
            cwd=REPO_ROOT, env=cli_env(proxy.url, database_url, ACCOUNTS_PER_CLAIM="1"),
            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAILED" in result.stdout and "run #1: failed" in result.stdout
    # a is unaffected: Sept 1 and 2 at 1 and 2 $/h
    assert daily(engine) == {(A, D[1]): (expected_total(A, D[1]), 24), (A, D[2]): (expected_total(A, D[2]), 24)}


def test_an_account_that_stopped_reporting_during_the_downtime_is_caught_up(
    prometheus_with, database_url: str, engine: Engine  # type: ignore[no-untyped-def]
) -> None:
    # b reports only Sept 1..5; a all ten days. Discovery (no ACCOUNTS) must still find b on Sept 9.
    url = prometheus_with("ops-b-stops", [*datasets.ops_dataset([A]), *datasets.ops_dataset([B], DAYS[:5])])
    run = runner(url, database_url, engine)
    run.run_cycle(now=at(D[3], 10))
    outcome = run.run_cycle(now=at(D[9], 5))
    assert sorted(outcome.summary.accounts) == [A, B]
    rows = daily(engine)
    for n in (2, 3, 4, 5):  # b's days before it stopped: whole, from its watermark Sept 2 on
        assert rows[(B, D[n])] == (expected_total(B, D[n]), 24)
    assert not any(account == B and day > D[5] for account, day in rows)


def test_days_a_new_account_failed_on_are_caught_up_once_it_recovers(thanos_url: str, database_url: str,
                                                                   engine: Engine) -> None:
    # b has never been computed. Its first cycles fail (Sept 3 and Sept 4, lookback 1 day: due from
    # Sept 2). When it recovers on Sept 5 the catch-up must start where its first cycle started,
    # not at today - lookback: Sept 2, 3 and 4 whole, Sept 5 up to 10:00.
    with FaultProxy(thanos_url, error_status=502, fail_matching=account_selector("tenant_id", [B])) as proxy:
        run = runner(proxy.url, database_url, engine, ACCOUNTS=B)
        assert run.run_cycle(now=at(D[3], 10)).failed == [B]
        assert run.run_cycle(now=at(D[4], 10)).failed == [B]
        proxy.error_status = None
        outcome = run.run_cycle(now=at(D[5], 10))
    assert outcome.status == "ok"
    rows = daily(engine)
    for n in (2, 3, 4):
        assert rows[(B, D[n])] == (expected_total(B, D[n]), 24)
    assert rows[(B, D[5])] == (expected_total(B, D[5], 10), 10)
    assert account_state(engine, B)["watermark"] == D[4]


def test_a_cycle_skipping_a_current_account_says_when_and_by_which_run(thanos_url: str, database_url: str,
                                                                        engine: Engine) -> None:
    first = runner(thanos_url, database_url, engine).run_cycle(now=at(D[3], 10))
    second = runner(thanos_url, database_url, engine).run_cycle(now=at(D[3], 10, 45))
    # the same hour: the first cycle (perhaps the user's own) already computed it; say so, not "another process"
    finished = account_state(engine, A)["last_success_at"].astimezone(UTC)
    assert second.skipped[A] == (f"already computed through 2026-09-03T10:00Z at {finished:%Y-%m-%d %H:%M}Z "
                                 f"by run #{first.run_id}")
