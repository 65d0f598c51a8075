"""Signals at random points and random transport faults in front of the real Prometheus.

Data: the operations dataset (tests.support.datasets: accounts a, b, c; day n of September 2026
costs ``base + n`` $/h, 24 hours a day), so every stored day must be exactly ``24 * rate`` and
every stored hour ``rate``: a day either holds its exact figure or is absent, never a wrong one.

- signals: a backfill (one day per chunk, one account per claim, behind a slow proxy) gets
  SIGTERM, SIGINT or SIGKILL at a random moment, again and again; after every stop the stored days
  are exact, no run is left `running` once the next one started, and the final rerun ends exact.
- transport: the next requests answer 429, 503, a body that is not JSON, a partial response, or
  are slow, in a random order; whatever the exit code, stored days are exact, and a clean rerun
  completes them.
The seeds are fixed (and printed in the test id), so a failure replays.
"""

from __future__ import annotations

import contextlib
import random
import signal
import subprocess

import pytest
from sqlalchemy import Engine, text

from tests.support import datasets, processes
from tests.support.datasets import ACCOUNTS, DAYS, expected_total
from tests.support.faultproxy import NOT_JSON, Fault, FaultProxy
from tests.support.servers import cli_env
from tests.support.tables import daily, daily_hourly_mismatches, runs

BACKFILL = ["backfill", "--start", str(DAYS[0]), "--end", str(DAYS[-1])]
EXPECTED = {(a, d): (expected_total(a, d), 24) for a in ACCOUNTS for d in DAYS}
SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGKILL)
# What a stopped process may exit with: done first (0), its handler's 130/143, or killed before it
# installed one / by SIGKILL (-N). Never 1: a stop is not a failed account.
STOPPED_EXITS = {0, 130, 143, -signal.SIGTERM, -signal.SIGINT, -signal.SIGKILL}


@pytest.fixture
def thanos_url(prometheus_with) -> str:  # type: ignore[no-untyped-def]
    return str(prometheus_with("ops-abc", datasets.ops_dataset()))


def assert_stored_days_exact(engine: Engine) -> None:
    stored = daily(engine)
    assert {key: value for key, value in stored.items() if value != EXPECTED.get(key)} == {}
    assert daily_hourly_mismatches(engine) == []


def interrupt_at_random(seed: int, stops: int, thanos_url: str, database_url: str, engine: Engine) -> None:
    rng = random.Random(seed)
    with FaultProxy(thanos_url, delay_seconds=0.03) as proxy:
        env = cli_env(proxy.url, database_url, ACCOUNTS_PER_CLAIM="1", THANOS_CHUNK_DAYS="1")
        for _ in range(stops):
            process = processes.start(BACKFILL, env)
            with contextlib.suppress(subprocess.TimeoutExpired):  # still running then: the moment to strike
                process.wait(timeout=rng.uniform(1.0, 6.0))
            result = processes.stop(process, rng.choice(SIGNALS))
            assert result.returncode in STOPPED_EXITS, str(result)
            assert "Traceback" not in result.stderr, result.stderr
            assert_stored_days_exact(engine)
        final = processes.finish(processes.start(BACKFILL, env))
    assert final.returncode == 0, str(final)
    assert daily(engine) == EXPECTED
    assert [run["id"] for run in runs(engine) if run["status"] == "running"] == []


@pytest.mark.parametrize("seed", [7])
def test_signals_at_random_points_then_an_exact_resume(seed: int, thanos_url: str, database_url: str,
                                                       engine: Engine) -> None:
    interrupt_at_random(seed, 2, thanos_url, database_url, engine)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [11, 23, 42, 101, 2026])
def test_many_signals_at_random_points_then_an_exact_resume(seed: int, thanos_url: str, database_url: str,
                                                            engine: Engine) -> None:
    interrupt_at_random(seed, 6, thanos_url, database_url, engine)


def random_faults(rng: random.Random, count: int) -> list[Fault]:
    kinds = [Fault(status=429), Fault(status=503), Fault(body=NOT_JSON), Fault(add_warnings=True),
             Fault(delay_seconds=0.5), Fault()]
    return [rng.choice(kinds) for _ in range(count)]


def transport_faults(seed: int, thanos_url: str, database_url: str, engine: Engine) -> None:
    rng = random.Random(seed)
    with FaultProxy(thanos_url) as proxy:
        proxy.inject(*random_faults(rng, 60))
        env = cli_env(proxy.url, database_url, THANOS_CHUNK_DAYS="2", THANOS_RETRIES="1")
        faulty = processes.finish(processes.start(BACKFILL, env))
    assert faulty.returncode in {0, 1, 3}, str(faulty)
    assert "Traceback" not in faulty.stderr, faulty.stderr
    assert_stored_days_exact(engine)
    clean = processes.finish(processes.start(BACKFILL, cli_env(thanos_url, database_url)))
    assert clean.returncode == 0, str(clean)
    assert daily(engine) == EXPECTED
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM k8s_hourly_costs")).scalar_one() == 24 * 10 * 3


@pytest.mark.parametrize("seed", [3])
def test_random_transport_faults_never_store_a_wrong_day(seed: int, thanos_url: str, database_url: str,
                                                         engine: Engine) -> None:
    transport_faults(seed, thanos_url, database_url, engine)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [5, 8, 13, 21, 34])
def test_more_random_transport_faults_never_store_a_wrong_day(seed: int, thanos_url: str, database_url: str,
                                                              engine: Engine) -> None:
    transport_faults(seed, thanos_url, database_url, engine)
