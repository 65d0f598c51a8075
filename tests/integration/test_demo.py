"""The README's demo command end to end (a real local Prometheus and the test's PostgreSQL).

Expected figures for the raw-only cluster, by hand from etl.synthetic's RAW_* tables:
  CPU  std-1: (2 + 4) cores x 0.0331 = 0.1986 $/h; spot-2 has no price: 8 x 0.031611 = 0.252888 $/h
  RAM  std-1: (4 + 16) GiB x 0.0044 = 0.088 $/h; spot-2: 12 GiB x 0.004237 = 0.050844 $/h
  PV   100 GiB x 0.000137 = 0.0137 $/h
  -> 0.604032 $/h, 14.496768 $ a day; every hour priced partly with defaults.
  CPU efficiency (2 x 0.45 + 4 x 0.30 + 8 x 0.80) / 14 = 8.5 / 14 = 60.7143 %
  RAM efficiency (4 x 0.70 + 16 x 0.85 + 12 x 0.60) / 32 = 23.6 / 32 = 73.75 %
"""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

from sqlalchemy import Engine, text

from tests.support.servers import cli_env


def test_demo_backfills_a_week_for_every_cluster(database_url: str, engine: Engine) -> None:
    result = subprocess.run([sys.executable, "-m", "etl", "demo", "--database-url", database_url], env=cli_env("", ""),
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert "4 account(s), 7 day(s), 28 daily and 672 hourly row(s)" in result.stdout
    assert "priced with default prices (no published price for cpu:node/spot-2, ram:node/spot-2)" in result.stdout
    with engine.connect() as connection:
        legacy = connection.execute(text(
            "SELECT * FROM k8s_daily_costs WHERE cloud_account_id = 'demo-legacy-gke'")).mappings().all()
        batch = connection.execute(text(
            "SELECT source_phase, hours_covered, default_priced_hours FROM k8s_daily_costs "
            "WHERE cloud_account_id = 'demo-batch-aks' ORDER BY usage_date")).all()
    assert len(legacy) == 7
    for day in legacy:
        assert day["total_cost"] == Decimal("14.496768")
        assert day["cpu_cost"] == Decimal("10.835712")  # 24 x (0.1986 + 0.252888)
        assert day["source_phase"] == "raw" and day["hours_covered"] == 24
        assert day["default_priced_hours"] == 24
        assert day["cpu_efficiency"] == Decimal("60.7143") and day["ram_efficiency"] == Decimal("73.75")
    # exporter deployed at noon of the fourth day: 3 raw days, a mixed day (12 raw hours), 3 exporter days
    assert [row[0] for row in batch] == ["raw"] * 3 + ["mixed"] + ["exporter"] * 3
    assert [row[2] for row in batch] == [24, 24, 24, 12, 0, 0, 0]
