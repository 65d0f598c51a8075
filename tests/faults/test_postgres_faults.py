"""PostgreSQL killed (SIGKILL to the postmaster and its backends) or turned read-only in the middle
of a backfill, on a server the test owns (tests.support.ownedpg).

The process must end with exit 1 and one line naming the failure (no traceback); its run row is
closed as failed when the database still answers, else it stays `running` until `doctor` shows it
and the next run closes it as abandoned; and the rerun leaves every day exact.

Data: the operations dataset (tests.support.datasets: accounts a, b, c; day n of September 2026
costs ``base + n`` $/h, 24 hours a day), so every day's expected total is ``24 * rate``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, create_engine, text

from etl.errors import DatabaseLostError
from etl.run.runner import Runner
from etl.source.thanos import ThanosClient
from etl.store.db import connect
from tests.support import datasets, processes
from tests.support.datasets import ACCOUNTS, DAYS, expected_total
from tests.support.faultproxy import FaultProxy
from tests.support.ownedpg import OwnedPostgres
from tests.support.servers import cli_env, make_settings
from tests.support.tables import daily, runs

BACKFILL = ["backfill", "--start", str(DAYS[0]), "--end", str(DAYS[-1])]
SLOW = {"ACCOUNTS_PER_CLAIM": "1", "THANOS_CHUNK_DAYS": "1"}


@pytest.fixture
def thanos_url(prometheus_with) -> str:  # type: ignore[no-untyped-def]
    return str(prometheus_with("ops-abc", datasets.ops_dataset()))


@pytest.fixture
def owned_pg() -> Iterator[OwnedPostgres]:
    with OwnedPostgres() as server:
        server.create_database()
        yield server


def chunks_done(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT count(*) FROM etl_backfill_chunks")).scalar_one())
    finally:
        engine.dispose()


def assert_one_error_line(result: processes.Finished, *words: str) -> None:
    assert result.returncode == 1, str(result)
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("k8s-cost-etl: error:")]
    assert len(errors) == 1 and result.stderr.rstrip().endswith(errors[0]), result.stderr
    for word in words:
        assert word in errors[0], errors[0]


def assert_every_day_exact(engine: Engine) -> None:
    assert daily(engine) == {(a, d): (expected_total(a, d), 24) for a in ACCOUNTS for d in DAYS}
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM k8s_hourly_costs")).scalar_one() == 24 * 10 * 3


def backfill_until_chunks_then(owned_pg: OwnedPostgres, thanos_url: str, fault: str) -> processes.Finished:
    with FaultProxy(thanos_url, delay_seconds=0.05) as proxy:
        process = processes.start(BACKFILL, cli_env(proxy.url, owned_pg.url, **SLOW))
        processes.wait_until(lambda: chunks_done(owned_pg.url) >= 4, 120, "four chunks committed")
        if fault == "kill":
            owned_pg.kill()
        else:
            owned_pg.set_read_only(True)
        return processes.finish(process, timeout=120)


def test_postgres_killed_mid_backfill_one_line_then_an_exact_rerun(owned_pg: OwnedPostgres,
                                                                   thanos_url: str) -> None:
    result = backfill_until_chunks_then(owned_pg, thanos_url, "kill")
    assert_one_error_line(result, "PostgreSQL failed during run #1")
    owned_pg.start()
    engine = create_engine(owned_pg.url)
    try:
        assert runs(engine)[0]["status"] == "running"  # nobody could close it: the database was gone
        rerun = processes.finish(processes.start(BACKFILL, cli_env(thanos_url, owned_pg.url)))
        assert rerun.returncode == 0, str(rerun)
        first = runs(engine)[0]
        assert first["status"] == "error" and str(first["error"]).startswith("abandoned: its process")
        # (after a crash a sequence jumps ahead: the rerun's id is not necessarily 2)
        assert f"closed by run #{runs(engine)[-1]['id']}" in str(first["error"])
        assert_every_day_exact(engine)
    finally:
        engine.dispose()


def test_postgres_read_only_mid_backfill_doctor_shows_the_stale_run_and_the_rerun_is_exact(
        owned_pg: OwnedPostgres, thanos_url: str) -> None:
    result = backfill_until_chunks_then(owned_pg, thanos_url, "read-only")
    assert_one_error_line(result, "PostgreSQL failed during run #1", "read-only")
    owned_pg.set_read_only(False)
    engine = create_engine(owned_pg.url)
    try:
        assert runs(engine)[0]["status"] == "running"  # a read-only database could not record its end
        doctor = processes.finish(processes.start(["doctor"], cli_env(thanos_url, owned_pg.url)))
        assert doctor.returncode == 1, str(doctor)
        assert "run #1 (backfill on" in doctor.stdout and "left running by a process that is gone" in doctor.stdout
        rerun = processes.finish(processes.start(BACKFILL, cli_env(thanos_url, owned_pg.url)))
        assert rerun.returncode == 0, str(rerun)
        assert runs(engine)[0]["status"] == "error"
        doctor = processes.finish(processes.start(["doctor"], cli_env(thanos_url, owned_pg.url)))
        assert "left running" not in doctor.stdout and "were abandoned by their process" in doctor.stdout
        assert_every_day_exact(engine)
    finally:
        engine.dispose()


def test_postgres_restarted_mid_cycle_the_run_row_is_closed_as_failed(owned_pg: OwnedPostgres,
                                                                     thanos_url: str) -> None:
    # The database comes back before the run ends: the run can (and must) close its own row.
    settings = make_settings(thanos_url, owned_pg.url, LOOKBACK_DAYS="2", **SLOW)
    engine = connect(settings)  # the tool's own engine (pre-ping: reconnects after the restart)
    calls = 0

    def restart_once_working() -> bool:
        nonlocal calls
        calls += 1
        if calls == 3:
            owned_pg.kill()
            owned_pg.start()
        return False

    runner = Runner(settings, ThanosClient(settings.thanos), engine, stop_requested=restart_once_working)
    try:
        # The lock session died with the server: the run cannot claim safely any more and ends.
        with pytest.raises(DatabaseLostError, match="PostgreSQL failed during run #1"):
            runner.run_cycle(now=datetime(2026, 9, 8, 0, 30, tzinfo=UTC))
        first = runs(engine)[0]
        assert first["status"] == "failed" and str(first["error"]).startswith("PostgreSQL failed: ")
        rerun = Runner(settings, ThanosClient(settings.thanos), engine).run_cycle(
            now=datetime(2026, 9, 8, 0, 30, tzinfo=UTC))
        assert rerun.status == "ok"
        # lookback 2 at Sept 8 00:30: Sept 6 and 7 whole for every account; acct-a, whose failure
        # anchored its watermark at Sept 5 (the day before its first due day), also recomputes Sept 5.
        expected = {(a, d): (expected_total(a, d), 24) for a in ACCOUNTS for d in DAYS[5:7]}
        expected[("acct-a", DAYS[4])] = (expected_total("acct-a", DAYS[4]), 24)
        assert daily(engine) == expected
    finally:
        engine.dispose()
