"""An interrupted backfill (SIGKILL, Ctrl-C) resumes: the rerun skips finished chunks and the
tables end exactly as after an uninterrupted backfill.

Data: tests/integration/opsdata.py (accounts a, b, c; day n of September 2026 costs
``base + n`` $/h for 24 hours). Ten days in two-day chunks = 5 chunks per account.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, text

from tests.support import datasets
from tests.support.datasets import ACCOUNTS, DAYS, expected_total
from tests.support.faultproxy import FaultProxy
from tests.support.servers import REPO_ROOT, cli_env
from tests.support.tables import daily, runs, table_snapshot

BACKFILL = [sys.executable, "-m", "etl", "backfill", "--start", str(DAYS[0]), "--end", str(DAYS[-1])]
CHUNKS = len(ACCOUNTS) * 5


@pytest.fixture
def thanos_url(prometheus_with) -> str:  # type: ignore[no-untyped-def]
    return prometheus_with("ops-abc", datasets.ops_dataset())


def chunks_done(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM etl_backfill_chunks")).scalar_one())


def wait_for(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def run_backfill(thanos_url: str, database_url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    env = cli_env(thanos_url, database_url, THANOS_CHUNK_DAYS="2")
    return subprocess.run([*BACKFILL, *extra], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300)


def interrupt_backfill(thanos_url: str, database_url: str, engine: Engine, signum: int) -> int:
    """Start a slowed-down backfill, send ``signum`` once it finished 2 chunks; its exit code."""
    with FaultProxy(thanos_url, delay_seconds=0.05) as proxy:
        process = subprocess.Popen(BACKFILL, cwd=REPO_ROOT, env=cli_env(proxy.url, database_url, THANOS_CHUNK_DAYS="2"),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for(lambda: chunks_done(engine) >= 2)
            process.send_signal(signum)
            return process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()


def assert_complete(engine: Engine) -> None:
    assert daily(engine) == {(a, d): (expected_total(a, d), 24) for a in ACCOUNTS for d in DAYS}


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "ctrl-c"])
def test_interrupted_backfill_resumes_and_ends_like_an_uninterrupted_one(
    thanos_url: str, database_url: str, engine: Engine, signum: int
) -> None:
    code = interrupt_backfill(thanos_url, database_url, engine, signum)
    done_before = chunks_done(engine)
    assert 2 <= done_before < CHUNKS
    first = runs(engine)[0]
    if signum == signal.SIGINT:
        # Ctrl-C: the chunk in flight is finished and committed, the run recorded as interrupted.
        assert code == 130 and first["status"] == "interrupted"
    else:
        assert code == -signal.SIGKILL and first["status"] == "running"  # killed: nobody closed it

    resumed = run_backfill(thanos_url, database_url)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert f"resumed: {done_before} account-chunk(s)" in resumed.stdout
    second = runs(engine)[1]
    assert second["backfill_origin_id"] == first["id"] and second["status"] == "ok"
    # the rerun wrote only the chunks not finished before: 2 days x (48 hourly + 2 daily) rows each
    assert second["rows_written"] == (CHUNKS - done_before) * 50
    assert_complete(engine)
    resumed_tables = table_snapshot(engine)

    # The same backfill again starts afresh (the previous one finished ok) and changes nothing.
    again = run_backfill(thanos_url, database_url)
    assert again.returncode == 0 and "resumed:" not in again.stdout
    assert runs(engine)[2]["backfill_origin_id"] == runs(engine)[2]["id"]
    assert runs(engine)[2]["rows_written"] == CHUNKS * 50
    assert table_snapshot(engine) == resumed_tables


def test_restart_flag_recomputes_every_chunk(thanos_url: str, database_url: str, engine: Engine) -> None:
    interrupt_backfill(thanos_url, database_url, engine, signal.SIGKILL)
    restarted = run_backfill(thanos_url, database_url, "--restart")
    assert restarted.returncode == 0 and "resumed:" not in restarted.stdout
    assert runs(engine)[-1]["rows_written"] == CHUNKS * 50
    assert_complete(engine)


def test_shards_split_a_backfill_with_no_overlap_and_each_is_its_own_backfill(thanos_url: str, database_url: str,
                                                                              engine: Engine) -> None:
    # Three pods of an Indexed Job: --shard 0/3, 1/3, 2/3. sha256 puts acct-b in shard 0, acct-a in
    # shard 1 and acct-c in shard 2 (tests/unit/run/test_shard.py holds the rule): each pod computes
    # its account only, together every account once, the money as an unsharded backfill's.
    seen: list[set[str]] = []
    for index in range(3):
        done = run_backfill(thanos_url, database_url, "--shard", f"{index}/3")
        assert done.returncode == 0, done.stderr
        seen.append({account for account, _ in daily(engine)})
    assert seen == [{"acct-b"}, {"acct-a", "acct-b"}, set(ACCOUNTS)]
    assert daily(engine) == {(a, d): (expected_total(a, d), 24) for a in ACCOUNTS for d in DAYS}
    # each shard is a backfill of its own (its own origin), so a restarted pod resumes its shard
    backfills = runs(engine)
    assert [run["command"] for run in backfills] == [f"backfill --shard {index}/3" for index in range(3)]
    assert [run["backfill_origin_id"] for run in backfills] == [run["id"] for run in backfills]
    bad = run_backfill(thanos_url, database_url, "--shard", "3/3")
    assert bad.returncode == 2 and "--shard '3/3'" in bad.stderr
