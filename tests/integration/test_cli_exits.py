"""Honest exits and messages of the real console script: every bad input is one line naming the
field and exit 2; an unknown account is not a success; a future range is clipped, not "ok" over nothing;
logs are one line per record in both formats, whatever the ids hold."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from etl.demo.prometheus import SampleSeries
from tests.integration.test_cli import assert_one_clean_error, k8s_cost_etl
from tests.support.datasets import DAY1, PLAIN, exporter_dataset, exporter_gauge, hour
from tests.support.servers import cli_env

TODAY = datetime.now(UTC).date()
# An account id holding a newline that would forge a log line of its own, and an escape sequence.
FORGED = "acct-forge\n2026-09-01 00:00:00,000 ERROR etl: forged line\x1b[31m"


@pytest.fixture
def thanos_url(prometheus_with) -> str:  # type: ignore[no-untyped-def]
    forged: list[SampleSeries] = [exporter_gauge(FORGED, "total_cost", {hour(DAY1, h): [1.0] * 4 for h in range(24)})]
    return prometheus_with("exporter-basic-forged", exporter_dataset() + forged)


@pytest.mark.parametrize(("url", "needle"), [
    ("sqlite:///tmp/costs.db", "database.url (DATABASE_URL): sqlite:// is not PostgreSQL"),
    ("mysql://etl:pw@127.0.0.1/costs", "database.url (DATABASE_URL): mysql:// is not PostgreSQL"),
])
def test_a_database_url_that_is_not_postgresql_is_a_configuration_error(url: str, needle: str) -> None:
    assert_one_clean_error(k8s_cost_etl("run", env=cli_env("http://unused:1", url)), 2, needle)


def test_postgres_scheme_works_like_postgresql(database_url: str) -> None:
    libpq_style = make_url(database_url).set(drivername="postgres").render_as_string(hide_password=False)
    result = k8s_cost_etl("migrate", env=cli_env("http://unused:1", libpq_style))
    assert result.returncode == 0, result.stderr


def test_a_config_file_that_is_not_utf8_is_one_line(tmp_path: Path, database_url: str) -> None:
    config = tmp_path / "c.yaml"
    config.write_bytes(b"account_label: caf\xe9\n")
    result = k8s_cost_etl("run", "--config", str(config), env=cli_env("http://unused:1", database_url))
    assert_one_clean_error(result, 2, "config file: ")
    assert "is not UTF-8 text" in result.stderr


def test_an_unusable_embedded_data_directory_is_one_line() -> None:
    env = cli_env("http://unused:1", "", EMBEDDED_PG_DATA_DIR="/proc/no-such-place/pgdata")
    del env["DATABASE_URL"]
    assert_one_clean_error(k8s_cost_etl("migrate", env=env), 2, "EMBEDDED_PG_DATA_DIR): cannot use /proc/")


def test_end_at_the_last_representable_day_is_one_line(database_url: str) -> None:
    result = k8s_cost_etl("report", "--account", PLAIN, "--start", "2026-09-01", "--end", "9999-12-31",
                          env=cli_env("http://unused:1", database_url))
    assert_one_clean_error(result, 2, "argument --end: '9999-12-31': too far in the future")


def test_a_future_end_is_clipped_to_today_with_a_notice(thanos_url: str, database_url: str) -> None:
    result = k8s_cost_etl("backfill", "--start", str(TODAY), "--end", "9999-12-30",
                          env=cli_env(thanos_url, database_url))
    assert result.returncode == 0, result.stderr
    assert f"--end 9999-12-30 is in the future: the backfill stops at {TODAY}" in result.stderr
    assert f"backfill {TODAY}..{TODAY}:" in result.stdout


def test_a_start_after_the_last_complete_hour_is_bad_input(thanos_url: str, database_url: str) -> None:
    tomorrow = TODAY + timedelta(days=1)
    result = k8s_cost_etl("backfill", "--start", str(tomorrow), "--end", str(tomorrow),
                          env=cli_env(thanos_url, database_url))
    assert_one_clean_error(result, 2, f"--start {tomorrow} is after the last complete hour")


def test_a_mistyped_account_is_a_warning_exit_1_and_records_nothing(thanos_url: str, database_url: str,
                                                                    engine: Engine) -> None:
    result = k8s_cost_etl("backfill", "--start", "2026-09-01", "--end", "2026-09-01", "--account", PLAIN,
                          "--account", "acct-typo", env=cli_env(thanos_url, database_url))
    assert result.returncode == 1, result.stderr
    assert "Account acct-typo has no data anywhere in Thanos" in result.stderr and "Traceback" not in result.stderr
    assert "unknown acct-typo: no data anywhere in Thanos, nothing recorded" in result.stdout
    with engine.connect() as connection:
        states = connection.execute(text("SELECT cloud_account_id FROM etl_account_state")).scalars().all()
        # PLAIN: 24 h x 10 $/h on 2026-09-01 (tests/support/datasets.py)
        total = connection.execute(text("SELECT total_cost FROM k8s_daily_costs WHERE cloud_account_id = :a"),
                                   {"a": PLAIN}).scalar_one()
    assert states == [PLAIN] and total == 240


def test_only_unknown_accounts_compute_nothing(thanos_url: str, database_url: str, engine: Engine) -> None:
    result = k8s_cost_etl("run", "--account", "acct-typo", env=cli_env(thanos_url, database_url))
    assert_one_clean_error(result, 1, "none of the requested accounts has data in Thanos")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM etl_account_state")).scalar_one() == 0


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_forged_account_id_cannot_forge_a_log_line(log_format: str, thanos_url: str, database_url: str) -> None:
    # --log-format after the command, as a global flag
    result = k8s_cost_etl("backfill", "--start", "2026-09-01", "--end", "2026-09-01", "--log-format", log_format,
                          env=cli_env(thanos_url, database_url))
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert not any(line.startswith("2026-09-01 00:00:00,000 ERROR") for line in lines)
    assert "\x1b" not in result.stderr
    messages = [json.loads(line)["message"] for line in lines] if log_format == "json" else lines
    assert any("acct-forge\\n2026-09-01 00:00:00,000 ERROR etl: forged line\\x1b[31m" in line for line in messages)
