"""The `schedule` daemon: ticks driven in-process with an injected clock, its metrics and health
endpoints, Thanos down during a tick, and SIGTERM to a real `k8s-cost-etl schedule` process.

Data: tests/integration/opsdata.py (day n of September 2026 costs ``n`` $/h for account a and
``10 + n`` $/h for b; the same formula continues for any later day).
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, text

from etl.run.daemon import JOB_ID, Daemon
from etl.run.health import HealthServer
from etl.source.thanos import ThanosClient
from tests.support import datasets
from tests.support.datasets import ACCOUNTS, DAYS, expected_total
from tests.support.faultproxy import FaultProxy
from tests.support.servers import EXPORTER_RANGE_QUERIES, REPO_ROOT, cli_env, make_settings
from tests.support.tables import daily, runs

A, B = "acct-a", "acct-b"


@pytest.fixture
def thanos_url(prometheus_with) -> str:  # type: ignore[no-untyped-def]
    return prometheus_with("ops-ab", datasets.ops_dataset([A, B]))


def metric_values(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    body = requests.get(f"{url}/metrics", timeout=5).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body) for sample in family.samples
    }


def daemon_for(thanos_url: str, database_url: str, engine: Engine, **env: str) -> Daemon:
    settings = make_settings(thanos_url, database_url, LOOKBACK_DAYS="1", **env)
    return Daemon(settings, ThanosClient(settings.thanos), engine)


def test_tick_computes_and_exports_metrics_and_readiness(thanos_url: str, database_url: str,
                                                        engine: Engine) -> None:
    daemon = daemon_for(thanos_url, database_url, engine)
    server = HealthServer("127.0.0.1", 0, daemon.metrics, daemon.health).start()
    url = f"http://127.0.0.1:{server.port}"
    try:
        assert requests.get(f"{url}/readyz", timeout=5).status_code == 503  # no cycle finished yet
        assert requests.get(f"{url}/healthz", timeout=5).status_code == 503  # scheduler not started
        before = time.time()
        outcome = daemon.tick(now=datetime(2026, 9, 3, 10, 30, tzinfo=UTC))
        assert outcome is not None and outcome.status == "ok"
        # lookback 1: Sept 2 (24 h) and Sept 3 through 10:00 (10 h) per account
        assert daily(engine)[(A, DAYS[2])] == (expected_total(A, DAYS[2], 10), 10)
        assert requests.get(f"{url}/readyz", timeout=5).status_code == 200
        values = metric_values(url)
    finally:
        server.stop()
    for account in (A, B):
        assert values[("k8s_cost_etl_account_last_success_timestamp_seconds", (("account", account),))] >= before
    # 2 accounts x (34 hourly + 2 daily) rows
    assert values[("k8s_cost_etl_rows_upserted_total", ())] == 72
    assert values[("k8s_cost_etl_cycles_total", (("status", "ok"),))] == 1
    assert values[("k8s_cost_etl_cycle_duration_seconds_count", ())] == 1
    # both accounts in one claim, Sept 2..3 in one chunk: one range query per metric for both
    query_range = (("endpoint", "/api/v1/query_range"),)
    assert values[("k8s_cost_etl_thanos_request_duration_seconds_count", query_range)] == EXPORTER_RANGE_QUERIES
    assert values.get(("k8s_cost_etl_thanos_request_errors_total", query_range), 0) == 0


def test_tick_survives_thanos_down_and_reports_it(thanos_url: str, database_url: str, engine: Engine) -> None:
    with FaultProxy(thanos_url, error_status=503) as proxy:
        daemon = daemon_for(proxy.url, database_url, engine)
        assert daemon.tick(now=datetime(2026, 9, 3, 10, 30, tzinfo=UTC)) is None
    assert daemon.health.last_status == "error"
    [run] = runs(engine)
    assert run["status"] == "error" and "503" in str(run["error"])
    cycles = daemon.metrics.registry.get_sample_value("k8s_cost_etl_cycles_total", {"status": "error"})
    errors = daemon.metrics.registry.get_sample_value(
        "k8s_cost_etl_thanos_request_errors_total", {"endpoint": "/api/v1/label/values"})
    assert cycles == 1 and errors == 1


def test_a_tick_while_a_cycle_runs_is_skipped(thanos_url: str, database_url: str, engine: Engine) -> None:
    daemon = daemon_for(thanos_url, database_url, engine)
    with daemon._cycle_lock:  # a cycle in flight
        assert daemon.tick(now=datetime(2026, 9, 3, 10, 30, tzinfo=UTC)) is None
    assert runs(engine) == []


def test_scheduler_job_follows_the_cron_and_coalesces(thanos_url: str, database_url: str, engine: Engine) -> None:
    daemon = daemon_for(thanos_url, database_url, engine, SCHEDULE_CRON="7 */2 * * *",
                        SCHEDULE_MISFIRE_GRACE_SECONDS="600", SCHEDULE_RUN_ON_START="false")
    job = daemon.build_scheduler().get_job(JOB_ID)
    assert job.coalesce is True and job.max_instances == 1 and job.misfire_grace_time == 600
    at = datetime(2026, 9, 3, 10, 30, tzinfo=UTC)
    assert job.trigger.get_next_fire_time(None, at) == datetime(2026, 9, 3, 12, 7, tzinfo=UTC)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_sigterm_mid_cycle_exits_cleanly_with_whole_days(prometheus_with, database_url: str,  # type: ignore[no-untyped-def]
                                                        engine: Engine) -> None:
    # The daemon uses the real clock: load the three days before today (real UTC date).
    today = datetime.now(UTC).date()
    days = [today - timedelta(days=n) for n in (3, 2, 1)]
    prom = prometheus_with(f"ops-recent-{today}", datasets.ops_dataset(ACCOUNTS, days))
    port = free_port()
    with FaultProxy(prom, delay_seconds=0.1) as proxy:  # ~1.2 s per chunk: time to stop mid-cycle
        env = cli_env(proxy.url, database_url, LOOKBACK_DAYS="3", THANOS_CHUNK_DAYS="1", ACCOUNTS_PER_CLAIM="1",
                      HEALTH_HOST="127.0.0.1", HEALTH_PORT=str(port))
        process = subprocess.Popen([sys.executable, "-m", "etl", "schedule"], cwd=REPO_ROOT, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 60
            while not daily(engine):  # the first chunk (one account, one day) is committed
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.05)
            assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
            process.send_signal(signal.SIGTERM)
            _out, err = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 0, err
    assert "Scheduler stopped" in err
    [run] = runs(engine)
    assert (run["command"], run["status"]) == ("schedule", "interrupted")
    rows = daily(engine)
    assert 1 <= len(rows) < len(ACCOUNTS) * len(days)  # stopped mid-cycle
    # every day written is whole: 24 hours, the full day's cost, and 24 hourly rows behind it
    assert all(rows[key] == (expected_total(*key), 24) for key in rows)
    with engine.connect() as connection:
        per_day = connection.execute(text(
            "SELECT count(*) FROM k8s_hourly_costs GROUP BY cloud_account_id, (hour_start AT TIME ZONE 'UTC')::date"
        )).scalars().all()
    assert set(per_day) == {24}
    # nothing recorded as done for accounts the stop interrupted: the next cycle redoes them
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM etl_account_state")).scalar_one() == 0




def test_a_cycle_failing_on_an_expected_error_logs_one_line_not_a_traceback(
    thanos_url: str, database_url: str, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with FaultProxy(thanos_url, error_status=503) as proxy, caplog.at_level("INFO"):
        daemon_for(proxy.url, database_url, engine).tick(now=datetime(2026, 9, 3, 10, 30, tzinfo=UTC))
    [failure] = [record for record in caplog.records if record.getMessage().startswith("Cycle failed")]
    assert failure.exc_info is None and "HTTP 503" in failure.getMessage()
    assert failure.getMessage().endswith("the next tick retries")


def test_metrics_without_account_ids_and_a_loopback_bind(thanos_url: str, database_url: str, engine: Engine) -> None:
    daemon = daemon_for(thanos_url, database_url, engine, METRICS_PER_ACCOUNT="false", HEALTH_HOST="127.0.0.1")
    schedule = daemon.settings.schedule
    server = HealthServer(schedule.health_host, 0, daemon.metrics, daemon.health).start()
    try:
        assert server._server.server_address[0] == "127.0.0.1"
        before = time.time()
        assert daemon.tick(now=datetime(2026, 9, 3, 10, 30, tzinfo=UTC)) is not None
        body = requests.get(f"http://127.0.0.1:{server.port}/metrics", timeout=5).text
        values = metric_values(f"http://127.0.0.1:{server.port}")
    finally:
        server.stop()
    assert A not in body and B not in body and 'account="' not in body
    assert values[("k8s_cost_etl_oldest_account_last_success_timestamp_seconds", ())] >= before
    assert values[("k8s_cost_etl_account_failures_total", ())] == 0
