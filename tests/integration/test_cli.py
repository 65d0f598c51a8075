"""The real console script in a subprocess: happy path and error paths (one clear line, no traceback)."""

from __future__ import annotations

import socket
import subprocess
import sys
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from etl.store.db import head_revision
from tests.support.datasets import PLAIN, WEIRD, exporter_dataset
from tests.support.servers import cli_env


def k8s_cost_etl(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "etl", *args], env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


@pytest.fixture
def thanos_url(prometheus_with) -> str:  # type: ignore[no-untyped-def]
    return prometheus_with("exporter-basic", exporter_dataset())


def dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again on exit: nothing listens there


def assert_one_clean_error(result: subprocess.CompletedProcess[str], code: int, needle: str) -> None:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and needle in errors[0], result.stderr


def test_backfill_fills_the_tables_and_prints_a_summary(thanos_url: str, database_url: str, engine: Engine) -> None:
    result = k8s_cost_etl("backfill", "--start", "2026-09-01", "--end", "2026-09-02",
                          "--account", PLAIN, "--account", WEIRD, env=cli_env(thanos_url, database_url))
    assert result.returncode == 0, result.stderr
    assert "2 account(s), 2 day(s), 3 daily and 72 hourly row(s)" in result.stdout
    assert f"Using Phase 2 exporter metrics for {PLAIN}" in result.stderr
    with engine.connect() as connection:
        total = connection.execute(text(
            "SELECT sum(total_cost) FROM k8s_daily_costs WHERE cloud_account_id = :a"), {"a": PLAIN}).scalar_one()
    assert total == Decimal("720")  # 24 h x 10 $/h + 24 h x 20 $/h


def test_migrate_is_idempotent(database_url: str) -> None:
    # the fixture already migrated this database: a second migrate changes nothing
    result = k8s_cost_etl("migrate", env=cli_env("http://unused:1", database_url))
    assert result.returncode == 0
    assert result.stdout.strip() == f"schema at {head_revision()}"


def test_help_lists_the_commands() -> None:
    result = k8s_cost_etl("--help", env=cli_env("", ""))
    assert result.returncode == 0
    for command in ("migrate", "backfill", "run"):
        assert command in result.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--start", "2026-13-01", "--end", "2026-09-02"], "not a real calendar date"),
        (["--start", "01/09/2026", "--end", "2026-09-02"], "expected a date as YYYY-MM-DD"),
        (["--start", "2026-09-03", "--end", "2026-09-02"], "--start 2026-09-03 is after --end 2026-09-02"),
    ],
)
def test_bad_dates_exit_2(args: list[str], needle: str, thanos_url: str, database_url: str) -> None:
    assert_one_clean_error(k8s_cost_etl("backfill", *args, env=cli_env(thanos_url, database_url)), 2, needle)


def test_invalid_config_names_the_field_and_exits_2(thanos_url: str, database_url: str) -> None:
    env = cli_env(thanos_url, database_url, THANOS_CHUNK_DAYS="zero")
    assert_one_clean_error(k8s_cost_etl("run", env=env), 2, "THANOS_CHUNK_DAYS")


def test_missing_thanos_url_exits_2(database_url: str) -> None:
    env = cli_env("", database_url)
    del env["THANOS_URL"]
    assert_one_clean_error(k8s_cost_etl("run", env=env), 2, "THANOS_URL")


def test_unreachable_thanos_exits_3(database_url: str) -> None:
    env = cli_env(f"http://127.0.0.1:{dead_port()}", database_url)
    assert_one_clean_error(k8s_cost_etl("backfill", "--start", "2026-09-01", "--end", "2026-09-01", env=env),
                           3, "cannot connect to Thanos")


def test_unreachable_database_exits_3_without_leaking_the_password(thanos_url: str) -> None:
    env = cli_env(thanos_url, f"postgresql://etl:db-secret@127.0.0.1:{dead_port()}/x")
    result = k8s_cost_etl("run", env=env)
    assert_one_clean_error(result, 3, "cannot connect to PostgreSQL")
    assert "db-secret" not in result.stderr


def test_unmigrated_database_says_to_migrate(thanos_url: str, pg_server_url: str) -> None:
    # the server's default database was never migrated by the fixtures
    result = k8s_cost_etl("run", env=cli_env(thanos_url, pg_server_url))
    assert_one_clean_error(result, 3, "run `k8s-cost-etl migrate` first")


def test_two_concurrent_migrates_on_an_empty_database(pg_server_url: str) -> None:
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)
    try:
        env = cli_env("http://unused:1", url)
        processes = [subprocess.Popen([sys.executable, "-m", "etl", "migrate"], env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outcomes = [(process.wait(timeout=120), process.stderr.read() if process.stderr else "")
                    for process in processes]
        assert [code for code, _ in outcomes] == [0, 0], outcomes
        engine = create_engine(url)
        with engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
            tables = connection.execute(text(
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_name IN ('k8s_hourly_costs', 'k8s_daily_costs')")).scalar_one()
        engine.dispose()
        assert versions == [head_revision()]
        assert tables == 2
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
