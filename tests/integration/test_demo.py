"""The README's walk end to end: `demo --serve` (a real local Prometheus and the test's PostgreSQL),
then `backfill` and `export --format focus` against the sandbox it keeps running.

Expected figures for the raw-only cluster, by hand from etl.demo.dataset's RAW_* tables: what its
nodes and volumes hold (capacity) at their prices.
  CPU  std-1: 8 cores x 0.0331 = 0.2648 $/h; spot-2 has no price: 8 x 0.031611 = 0.252888 $/h
  RAM  std-1: 32 GiB x 0.0044 = 0.1408 $/h; spot-2: 16 GiB x 0.004237 = 0.067792 $/h
  PV   (100 + 50 unclaimed) GiB x 0.000137 = 0.02055 $/h
  -> 0.74683 $/h, 17.92392 $ a day; every hour priced partly with defaults.
  Allocated: CPU (2 + 4) x 0.0331 + 8 x 0.031611 = 0.451488, RAM 20 x 0.0044 + 12 x 0.004237 = 0.138844,
  PV 100 x 0.000137 = 0.0137 -> 0.604032 $/h; idle 0.142798 $/h, 3.427152 $ a day.
  CPU efficiency (2 x 0.45 + 4 x 0.30 + 8 x 0.80) / 16 cores = 8.5 / 16 = 53.125 %
  RAM efficiency (4 x 0.70 + 16 x 0.85 + 12 x 0.60) / 48 GiB = 23.6 / 48 = 49.1667 %
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from tests.support.servers import cli_env


def test_demo_serves_a_sandbox_the_other_commands_use(database_url: str, pg_server_url: str, engine: Engine,
                                                     tmp_path: Path) -> None:
    # DATABASE_URL names another database: the demo must not write there, only where --database-url says
    env = cli_env("", pg_server_url)
    demo = subprocess.Popen([sys.executable, "-m", "etl", "demo", "--serve", "--database-url", database_url],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        stdout = read_until(demo, "Ctrl-C stops the sandbox")
        thanos_url = re.search(r"export THANOS_URL=(\S+)", stdout).group(1)  # type: ignore[union-attr]
        check_demo_tables(stdout, engine)
        # the README's third step: the other commands against the sandbox
        first, last = re.search(r"backfill --start (\S+) --end (\S+)", stdout).groups()  # type: ignore[union-attr]
        backfill = subprocess.run([sys.executable, "-m", "etl", "backfill", "--start", first, "--end", last],
                                  env=cli_env(thanos_url, database_url), capture_output=True, text=True, timeout=300)
        assert backfill.returncode == 0, backfill.stderr
        assert "4 account(s), 7 day(s), 28 daily and 672 hourly row(s)" in backfill.stdout
        focus = tmp_path / "costs.csv"
        export = subprocess.run([sys.executable, "-m", "etl", "export", "--format", "focus", "--start", first,
                                 "--end", last, "-o", str(focus)], env=cli_env(thanos_url, database_url),
                                capture_output=True, text=True, timeout=120)
        assert export.returncode == 0, export.stderr
        assert "28 FOCUS row(s) (4 account(s)" in export.stdout
        demo.send_signal(signal.SIGINT)
        assert demo.wait(timeout=60) == 0
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
    other = create_engine(pg_server_url)
    with other.connect() as connection:
        assert connection.execute(text("SELECT to_regclass('k8s_daily_costs')")).scalar_one() is None
    other.dispose()


def read_until(process: subprocess.Popen[str], marker: str, timeout: float = 300) -> str:
    assert process.stdout is not None
    deadline, lines = time.monotonic() + timeout, []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            pytest.fail(f"demo ended early ({process.wait()}): {process.stderr.read() if process.stderr else ''}")
        lines.append(line)
        if marker in line:
            return "".join(lines)
    pytest.fail(f"no {marker!r} within {timeout} s")


def check_demo_tables(stdout: str, engine: Engine) -> None:
    assert "4 account(s), 7 day(s), 28 daily and 672 hourly row(s)" in stdout
    assert "priced with default prices (no published price for cpu:node/spot-2, ram:node/spot-2)" in stdout
    # the raw cluster's week by namespace: batch 168 x (0.252888 + 0.050844) = 51.026976, shop 168 x
    # (0.1986 + 0.088 + 0.0137) = 50.4504, its idle 7 x 3.427152 = 23.990064 (together 168 x 0.74683)
    legacy_table = stdout.split("namespace costs of demo-legacy-gke (USD)")[1].split("namespace costs of")[0]
    assert [line.split()[:3] for line in legacy_table.splitlines()[2:5]] == [
        ["batch", "168", "51.03"], ["shop", "168", "50.45"], ["__idle__", "168", "23.99"]]
    with engine.connect() as connection:
        legacy = connection.execute(text(
            "SELECT * FROM k8s_daily_costs WHERE cloud_account_id = 'demo-legacy-gke'")).mappings().all()
        batch = connection.execute(text(
            "SELECT source_phase, hours_covered, default_priced_hours FROM k8s_daily_costs "
            "WHERE cloud_account_id = 'demo-batch-aks' ORDER BY usage_date")).all()
    assert len(legacy) == 7
    for day in legacy:
        assert day["total_cost"] == Decimal("17.92392")
        assert day["cpu_cost"] == Decimal("12.424512")  # 24 x (0.2648 + 0.252888)
        assert day["idle_cost"] == Decimal("3.427152")
        assert day["source_phase"] == "raw" and day["hours_covered"] == 24
        assert day["default_priced_hours"] == 24
        assert day["cpu_efficiency"] == Decimal("53.125") and day["ram_efficiency"] == Decimal("49.1667")
    # exporter deployed at noon of the fourth day: 3 raw days, a mixed day (12 raw hours), 3 exporter days
    assert [row[0] for row in batch] == ["raw"] * 3 + ["mixed"] + ["exporter"] * 3
    assert [row[2] for row in batch] == [24, 24, 24, 12, 0, 0, 0]
