"""Samples that are not money, through the real console script, a real Prometheus and PostgreSQL:
one account's +Inf, NaN, negative or absurd sample never costs another account its rows; a
non-finite or negative sample is ignored (its hour computed from the finite samples) and named in
a warning; an absurd figure fails that account only (exit 1) with an error naming it.

Exporter gauges here are sampled four times an hour, at :07:30, :22:30, :37:30 and :52:30; each
sample is held for the 5 minutes Prometheus' lookback carries it (promtool data has no staleness
markers), so the four weigh the same and an hour is the mean of its samples. An ignored sample
leaves its 5 minutes without a value and the hour is the mean of the other three.
"""

from __future__ import annotations

import math
import subprocess
import sys
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from etl.demo.prometheus import SampleSeries
from etl.model import utc_midnight
from tests.support.datasets import OFFSETS, P, hour, scrapes, steady
from tests.support.servers import cli_env
from tests.support.tables import daily_rows

DAY = date(2026, 7, 1)
CLEAN = "acct-clean"
INF = "acct-inf"
NAN = "acct-nan"
NEGATIVE = "acct-negative"
HUGE = "acct-huge"
EFFICIENT = "acct-efficient"
RAW_NAN = "acct-raw-nan"


def gauge(account: str, metric: str, value: float, odd: dict[tuple[int, int], float] | None = None) -> SampleSeries:
    """An exporter gauge at ``value`` all DAY, except the samples at (hour, index of OFFSETS) in ``odd``."""
    odd = odd or {}
    samples = [(hour(DAY, h) + offset, odd.get((h, index), value))
               for h in range(24) for index, offset in enumerate(OFFSETS)]
    return SampleSeries(P + metric, {"tenant_id": account, "cluster": account}, samples)


def dataset() -> list[SampleSeries]:
    series: list[SampleSeries] = []
    # CLEAN, INF, NAN, NEGATIVE: total 10 $/h, cpu 4 $/h all day -> 240 $ total, 96 $ cpu, 144 $
    # management, 24 hours, whatever the odd samples below:
    series += [gauge(CLEAN, "total_cost", 10.0), gauge(CLEAN, "cpu_cost", 4.0)]
    # INF: total is +Inf at 05:22:30 -> hour 5 = mean(10, 10, 10) = 10 $.
    series += [gauge(INF, "total_cost", 10.0, {(5, 1): math.inf}), gauge(INF, "cpu_cost", 4.0)]
    # NAN: total NaN at 03:07:30 (the hour stays, at 10 $); cpu NaN at 04:37:30 (hour 4's cpu stays
    # 4 $, not moved into management: management stays 6 $).
    series += [gauge(NAN, "total_cost", 10.0, {(3, 0): math.nan}), gauge(NAN, "cpu_cost", 4.0, {(4, 2): math.nan})]
    # NEGATIVE: cpu -4 at 06:07:30 and total -10 at 07:52:30 are not money: ignored.
    series += [gauge(NEGATIVE, "total_cost", 10.0, {(7, 3): -10.0}), gauge(NEGATIVE, "cpu_cost", 4.0, {(6, 0): -4.0})]
    # HUGE: 7.5e8 $/h. One hour fits in nano-dollars (7.5e17 < 2^63), a day (1.8e19) does not:
    # far above any cluster's cost, it must fail this account, loudly, and only this account.
    series += [gauge(HUGE, "total_cost", 7.5e8)]
    # EFFICIENT: usage far over requests: cpu efficiency 1500 % is real and stored; ram efficiency
    # 1e20 % is not (it fits no column): stored as unknown (NULL), and the costs of the hours are
    # stored all the same: 24 x 10 = 240 $, cpu 24 x 4 = 96 $, ram 24 x 2 = 48 $.
    series += [gauge(EFFICIENT, "total_cost", 10.0), gauge(EFFICIENT, "cpu_cost", 4.0),
               gauge(EFFICIENT, "ram_cost", 2.0), gauge(EFFICIENT, "cpu_efficiency", 1500.0),
               gauge(EFFICIENT, "ram_efficiency", 1e20)]
    # RAW_NAN (Phase 1, scraped every minute): a container of 2 cores on node n1 at 0.05 $/core-h
    # all DAY -> 0.1 $/h. OpenCost publishes one NaN allocation at 02:30 and one NaN price at 03:30.
    # The NaN allocation leaves minute 02:30 without this container: hour 2 = 2 x 0.05 x 59/60
    # = 0.098333333 $ (not 0). The NaN price leaves 59 minutes at 0.05: hour 3 = 0.1 $ (not the
    # default price). Day: 23 x 0.1 + 0.098333333 = 2.398333333 $.
    minutes = scrapes(utc_midnight(DAY).timestamp(), hour(DAY, 24))
    box = {"tenant_id": RAW_NAN, "namespace": "ns", "pod": "app-1", "container": "app", "node": "n1"}
    allocation = steady("container_cpu_allocation", box, 2.0, minutes)
    price = steady("node_cpu_hourly_cost", {"tenant_id": RAW_NAN, "node": "n1"}, 0.05, minutes)
    series += [
        SampleSeries(allocation.metric, allocation.labels,
                     [(t, math.nan if t == hour(DAY, 2) + 1800 else v) for t, v in allocation.samples]),
        SampleSeries(price.metric, price.labels,
                     [(t, math.nan if t == hour(DAY, 3) + 1800 else v) for t, v in price.samples]),
    ]
    return series


@pytest.fixture
def thanos_url(prometheus_with) -> str:  # type: ignore[no-untyped-def]
    return prometheus_with("hostile-samples", dataset())


@pytest.fixture
def backfill(thanos_url: str, database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "etl", "backfill", "--start", DAY.isoformat(), "--end",
                           DAY.isoformat()], env=cli_env(thanos_url, database_url), capture_output=True,
                          text=True, timeout=300, check=False)


def warnings_naming(stderr: str, *words: str) -> list[str]:
    return [line for line in stderr.splitlines() if "WARNING" in line and all(word in line for word in words)]


def test_one_accounts_absurd_figure_fails_that_account_only(backfill: subprocess.CompletedProcess[str],
                                                           engine: Engine) -> None:
    assert backfill.returncode == 1, backfill.stderr
    assert "Traceback" not in backfill.stderr
    days = daily_rows(engine)
    assert (HUGE, DAY) not in days
    assert {account for account, _ in days} == {CLEAN, INF, NAN, NEGATIVE, EFFICIENT, RAW_NAN}
    errors = [line for line in backfill.stderr.splitlines() if "ERROR" in line and HUGE in line]
    assert any(P + "total_cost" in line and "2026-07-01T00:00Z" in line for line in errors), backfill.stderr


@pytest.mark.parametrize("account", [CLEAN, INF, NAN, NEGATIVE])
def test_non_finite_and_negative_samples_are_ignored(backfill: subprocess.CompletedProcess[str], engine: Engine,
                                                     account: str) -> None:
    day = daily_rows(engine)[(account, DAY)]
    assert (day["total_cost"], day["cpu_cost"], day["management_cost"]) == (Decimal("240"), Decimal("96"),
                                                                            Decimal("144"))
    assert day["hours_covered"] == 24


def test_each_ignored_sample_is_named_in_a_warning(backfill: subprocess.CompletedProcess[str]) -> None:
    stderr = backfill.stderr
    assert warnings_naming(stderr, INF, P + "total_cost", "2026-07-01T05:00Z")
    assert warnings_naming(stderr, NAN, P + "total_cost", "2026-07-01T03:00Z")
    assert warnings_naming(stderr, NAN, P + "cpu_cost", "2026-07-01T04:00Z")
    assert warnings_naming(stderr, NEGATIVE, P + "cpu_cost", "2026-07-01T06:00Z")
    assert warnings_naming(stderr, NEGATIVE, P + "total_cost", "2026-07-01T07:00Z")
    assert warnings_naming(stderr, RAW_NAN, "container_cpu_allocation", "2026-07-01T02:00Z")
    assert warnings_naming(stderr, RAW_NAN, "node_cpu_hourly_cost", "2026-07-01T03:00Z")
    assert not warnings_naming(stderr, CLEAN)


def test_large_efficiencies_are_stored_and_absurd_ones_never_block_the_costs(
    backfill: subprocess.CompletedProcess[str], engine: Engine
) -> None:
    day = daily_rows(engine)[(EFFICIENT, DAY)]
    assert (day["total_cost"], day["cpu_cost"], day["ram_cost"]) == (Decimal("240"), Decimal("96"), Decimal("48"))
    assert day["cpu_efficiency"] == Decimal("1500")
    assert day["ram_efficiency"] is None
    assert warnings_naming(backfill.stderr, EFFICIENT, P + "ram_efficiency")


def test_a_nan_raw_sample_neither_zeroes_a_cost_nor_swaps_in_a_default_price(
    backfill: subprocess.CompletedProcess[str], engine: Engine
) -> None:
    day = daily_rows(engine)[(RAW_NAN, DAY)]
    assert day["cpu_cost"] == Decimal("2.398333333")
    assert day["default_priced_hours"] == 0
    assert day["hours_covered"] == 24
