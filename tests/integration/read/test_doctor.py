"""`doctor` against a real Prometheus whose tenant labels are wrong in the known ways, and
against a healthy one.

The "wrong" dataset (all samples hourly, 4 per hour, September 2026, checked as of Sept 5 12:00):
- acct-good: exporter gauge under tenant_id, through Sept 5 11:xx -> fine.
- acct-renamed: the exporter's own label was renamed on scrape: only exported_tenant_id.
- a series with tenant_id=acct-cluster-x (remote write) but exported_tenant_id=acct-exporter-y.
- acct-stale: under tenant_id, but its samples stop on Sept 5 at 02:00 (10 hours before).
- acct-raw: a raw (Phase 1) metric only.
Configured accounts: acct-good, acct-renamed, acct-missing (nowhere), acct-stale.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import Engine

from etl.costing.rollup import daily_rollup
from etl.demo.prometheus import SampleSeries, hourly_series
from etl.model import PHASE_EXPORTER, PHASE_RAW, utc_midnight
from etl.read.doctor import diagnose
from etl.store.loader import write_costs
from tests.support import datasets
from tests.support.datasets import hourly_rows
from tests.support.servers import REPO_ROOT, cli_env, make_settings

AT = datetime(2026, 9, 5, 12, 0, tzinfo=UTC)
TOTAL = "cloudtuner_kubecost_cluster_total_cost"


def hours_until(end: datetime) -> dict[float, list[float]]:
    start = utc_midnight(datasets.FIRST_DAY)
    count = int((end - start) / timedelta(hours=1))
    return {(start + timedelta(hours=h)).timestamp(): [1.0] * 4 for h in range(count)}


def wrong_labels() -> list[SampleSeries]:
    fresh = hours_until(AT)
    return [
        hourly_series(TOTAL, {"tenant_id": "acct-good", "job": "exporter"}, fresh),
        hourly_series(TOTAL, {"exported_tenant_id": "acct-renamed", "job": "exporter"}, fresh),
        hourly_series(TOTAL, {"tenant_id": "acct-cluster-x", "exported_tenant_id": "acct-exporter-y"}, fresh),
        hourly_series(TOTAL, {"tenant_id": "acct-stale"}, hours_until(AT - timedelta(hours=10))),
        hourly_series("container_cpu_allocation", {"tenant_id": "acct-raw", "pod": "p"}, fresh),
    ]


@pytest.fixture
def wrong_url(prometheus_with) -> str:  # type: ignore[no-untyped-def]
    return prometheus_with("doctor-wrong", wrong_labels())


CONFIGURED = "acct-good,acct-renamed,acct-missing,acct-stale"


def test_doctor_flags_each_known_misconfiguration(wrong_url: str, database_url: str) -> None:
    report = diagnose(make_settings(wrong_url, database_url, ACCOUNTS=CONFIGURED), AT)
    assert not report.dependency_down
    assert report.accounts_by_phase == {
        PHASE_EXPORTER: ["acct-cluster-x", "acct-good", "acct-stale"],
        PHASE_RAW: ["acct-raw"],
    }
    problems = {(f.level, f.check, f.message) for f in report.problems}
    messages = "\n".join(m for _, _, m in problems)
    assert len(problems) == 5, messages
    # the series without tenant_id, and where its id is
    assert any(level == "error" and check == "account label" and "1 series" in m and "`exported_tenant_id`: "
               "acct-renamed" in m for level, check, m in problems), messages
    # configured accounts not found under tenant_id: one is elsewhere, one nowhere
    assert any("account acct-renamed is configured" in m and "under `exported_tenant_id` instead" in m
               for _, _, m in problems), messages
    assert any("account acct-missing is configured" in m and "nothing carries it" in m for _, _, m in problems)
    # remote-write tenant and the exporter's own label disagree
    assert any(level == "warning" and "tenant_id=acct-cluster-x vs exported_tenant_id=acct-exporter-y" in m
               for level, _, m in problems), messages
    # stale gauges: acct-stale only (acct-good and acct-cluster-x have samples within 3 h)
    stale = [m for _, check, m in problems if check == "staleness"]
    assert len(stale) == 1 and "acct-stale" in stale[0]


def test_doctor_cli_exit_codes(wrong_url: str, prometheus_with, database_url: str) -> None:  # type: ignore[no-untyped-def]
    command = [sys.executable, "-m", "etl", "doctor", "--at", "2026-09-05T12:00"]
    wrong = subprocess.run(command, cwd=REPO_ROOT, env=cli_env(wrong_url, database_url, ACCOUNTS=CONFIGURED),
                           capture_output=True, text=True, timeout=120)
    assert wrong.returncode == 1, wrong.stdout + wrong.stderr
    assert "5 problem(s) found" in wrong.stdout and "exporter (Phase 2): acct-cluster-x, acct-good, acct-stale" \
        in wrong.stdout

    # A healthy dataset (opsdata: a and b through Sept 10 23:52), checked at Sept 10 23:59: exit 0.
    healthy_url = prometheus_with("ops-ab", datasets.ops_dataset(["acct-a", "acct-b"]))
    healthy = subprocess.run([*command[:-1], "2026-09-10T23:59"], cwd=REPO_ROOT,
                             env=cli_env(healthy_url, database_url, ACCOUNTS="acct-a,acct-b"),
                             capture_output=True, text=True, timeout=120)
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert "no problems found" in healthy.stdout

    down = subprocess.run(command, cwd=REPO_ROOT, env=cli_env("http://127.0.0.1:9", database_url),
                          capture_output=True, text=True, timeout=120)
    assert down.returncode == 3 and "[ERROR  ] thanos" in down.stdout


def test_doctor_names_stored_exporter_hours_to_read_with_care(wrong_url: str, database_url: str,
                                                              engine: Engine) -> None:
    # acct-zero: 2 stored hours where the exporter reported $0; acct-held: 1 hour held over failed
    # scrapes; acct-over: 3 hours whose namespaces add up to more than the cluster; acct-fine:
    # nothing flagged. (HOURLY_DAY, 2026-10-05, is within 7 days of the check.)
    hourly = pd.concat([hourly_rows("acct-zero", range(2), "exporter", 0, exporter_zero_hours=1),
                        hourly_rows("acct-held", range(1), "exporter", 5, exporter_stale_hours=1),
                        hourly_rows("acct-over", range(3), "exporter", 5, negative_idle_hours=1),
                        hourly_rows("acct-fine", range(3), "exporter", 5)])
    write_costs(engine, hourly, daily_rollup(hourly))
    report = diagnose(make_settings(wrong_url, database_url, ACCOUNTS=CONFIGURED), datetime(2026, 10, 6, tzinfo=UTC))
    flagged = [f.message for f in report.problems if f.check == "exporter figures"]
    assert len(flagged) == 2, flagged
    assert any("acct-zero reported $0 in 2 stored hour(s)" in message for message in flagged)
    assert any("acct-held reported failed scrapes in 1 stored hour(s)" in message for message in flagged)
    over = [f.message for f in report.problems if f.check == "namespaces"]
    assert len(over) == 1 and "acct-over add up to more than its cluster in 3 stored hour(s)" in over[0], over
