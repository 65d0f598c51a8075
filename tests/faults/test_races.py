"""Concurrent real processes over overlapping days: the tables must equal one clean run's.

Every mix of `backfill` (over past days only, or through today), `run` and `schedule` (its first
cycle) is started at once against the live dataset (tests.support.livedata) behind a slow proxy,
one account per claim and one day per chunk, so the processes interleave on every account. Each
must exit 0, and afterwards both cost tables must equal, row for row, what the same commands leave
when run one after another (in-process, at the same clock hour). A mix that straddled an hour
boundary is run again: its processes did not all see the same "last complete hour".
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from etl.run.runner import Runner
from etl.source.thanos import ThanosClient
from tests.support import processes
from tests.support.faultproxy import FaultProxy
from tests.support.livedata import LIVE_ACCOUNTS
from tests.support.servers import cli_env, make_settings
from tests.support.tables import runs, table_snapshot, wipe

LOOKBACK_DAYS = "2"
SETTINGS = {"ACCOUNTS_PER_CLAIM": "1", "THANOS_CHUNK_DAYS": "1", "LOOKBACK_DAYS": LOOKBACK_DAYS,
            "HEALTH_PORT": "0", "SCHEDULE_CRON": "0 0 1 1 *"}
KINDS = ("backfill-past", "backfill-today", "run", "schedule")


def _backfill_range(kind: str, today: datetime) -> tuple[str, str]:
    day = today.date()
    last = day if kind == "backfill-today" else day - timedelta(days=1)
    return str(day - timedelta(days=4)), str(last)


def _command(kind: str, today: datetime) -> list[str]:
    if kind.startswith("backfill"):
        first, last = _backfill_range(kind, today)
        return ["backfill", "--start", first, "--end", last]
    return [kind]


def _days(kinds: Sequence[str], now: datetime) -> set[object]:
    """The days the commands cover: a backfill its range, a cycle today - lookback .. today; none after
    the day of the last complete hour (from 00:00 to 01:00 UTC today has none yet)."""
    today, days = now.date(), set[object]()
    through = (now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)).date()
    for kind in kinds:
        first, last = ((today - timedelta(days=4), datetime.fromisoformat(_backfill_range(kind, now)[1]).date())
                       if kind.startswith("backfill") else (today - timedelta(days=int(LOOKBACK_DAYS)), today))
        days |= {first + timedelta(days=n) for n in range((min(last, through) - first).days + 1)}
    return days


def _concurrently(kinds: Sequence[str], env: dict[str, str], engine: Engine, now: datetime) -> list[processes.Finished]:
    started = [processes.start(_command(kind, now), env) for kind in kinds]
    finished = []
    for kind, process in zip(kinds, started, strict=True):
        if kind == "schedule":  # its first cycle (run_on_start) is the one that races; then stop it
            processes.wait_until(lambda: any(r["command"] == "schedule" and r["status"] != "running"
                                             for r in runs(engine)), 300, "the schedule's first cycle")
            finished.append(processes.stop(process))
        else:
            finished.append(processes.finish(process))
    return finished


def _clean(kinds: Sequence[str], thanos_url: str, database_url: str, engine: Engine, now: datetime) -> None:
    """The same commands one after another: backfills first (a cycle's days are their union either way)."""
    settings = make_settings(thanos_url, database_url, **SETTINGS)
    runner = Runner(settings, ThanosClient(settings.thanos), engine)
    for kind in sorted(set(kinds), key=lambda k: not k.startswith("backfill")):
        if kind.startswith("backfill"):
            first, last = _backfill_range(kind, now)
            runner.backfill(datetime.fromisoformat(first).date(), datetime.fromisoformat(last).date(), now=now)
        else:
            runner.run_cycle(now=now)


def assert_mix_exact(kinds: Sequence[str], thanos_url: str, database_url: str, engine: Engine) -> None:
    for _attempt in range(2):
        wipe(engine)
        with FaultProxy(thanos_url, delay_seconds=0.03) as proxy:
            started = datetime.now(UTC)
            finished = _concurrently(kinds, cli_env(proxy.url, database_url, **SETTINGS), engine, started)
        ended = datetime.now(UTC)
        if started.replace(minute=0, second=0, microsecond=0) != ended.replace(minute=0, second=0, microsecond=0):
            continue  # an hour ended meanwhile: the processes saw different last complete hours
        for result in finished:
            assert result.returncode == 0, str(result)
        concurrent = table_snapshot(engine)
        wipe(engine)
        _clean(kinds, thanos_url, database_url, engine, started)
        clean = table_snapshot(engine)
        assert len(clean["k8s_daily_costs"]) == len(LIVE_ACCOUNTS) * len(_days(kinds, started))
        assert concurrent == clean, f"{kinds}: the tables differ from a clean run's"
        return
    pytest.fail("two attempts straddled an hour boundary")


@pytest.mark.parametrize("kinds", [("backfill-past", "run", "run"), ("backfill-today", "run", "schedule")])
def test_a_backfill_and_cycles_at_once_leave_the_tables_of_a_clean_run(
        kinds: tuple[str, ...], live_thanos: str, database_url: str, engine: Engine) -> None:
    assert_mix_exact(kinds, live_thanos, database_url, engine)


ALL_MIXES = [mix for mix in itertools.combinations_with_replacement(KINDS, 3)
             if mix not in {("backfill-past", "run", "run"), ("backfill-today", "run", "schedule")}]


@pytest.mark.slow
@pytest.mark.parametrize("kinds", ALL_MIXES, ids="+".join)
def test_every_mix_of_three_processes_leaves_the_tables_of_a_clean_run(
        kinds: tuple[str, ...], live_thanos: str, database_url: str, engine: Engine) -> None:
    assert_mix_exact(kinds, live_thanos, database_url, engine)
