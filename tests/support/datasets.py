"""Datasets with hand-worked money, and the sample builders test modules share.

Test modules that check figures keep their own dataset next to the arithmetic in their comments;
what lives here is shared: the sample-time helpers and the operations dataset below.

The operations dataset (cycles, concurrency, shutdown): accounts ``acct-a``, ``acct-b`` and
``acct-c``; ten UTC days 2026-09-01..10, every hour covered.
On day ``n`` (1..10) account a's exporter reports ``n`` $/h total cost, b reports ``10 + n`` $/h
and c ``100 + n`` $/h, always four samples per hour at the same value, with cpu cost half of it.
So a full day ``n`` is ``24 * rate`` dollars and a day cut at hour ``h`` is ``h * rate`` dollars.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd

from etl.demo.prometheus import SampleSeries, hourly_series
from etl.model import HOUR_SECONDS, HOURLY_COLUMNS, utc_midnight
from etl.source.metrics import EXPORTER_PREFIX

# -- sample builders -------------------------------------------------------------------------------
P = EXPORTER_PREFIX  # cloudtuner_kubecost_cluster_
# Seconds into the hour of the 4 samples an hour most datasets use: :07:30, :22:30, :37:30, :52:30,
# never on an hour edge, so every full-hour series has 4 samples an hour.
OFFSETS = (450.0, 1350.0, 2250.0, 3150.0)


def hour(day: date, index: int) -> float:
    """Unix seconds of hour ``index`` of the UTC ``day``."""
    return utc_midnight(day).timestamp() + index * HOUR_SECONDS


def sample_times(day: date, hours: range, extra: tuple[float, ...] = ()) -> list[float]:
    """The sample instants (OFFSETS) of ``hours`` of ``day``, plus the ``extra`` instants."""
    return [hour(day, h) + offset for h in hours for offset in OFFSETS] + list(extra)


MINUTE = 60.0


def scrapes(start: float, end: float, every: float = MINUTE) -> list[float]:
    """Scrape instants ``start, start + every, ...`` before ``end`` (unix seconds): a target
    scraped every ``every`` seconds. Minute-aligned scrapes make each minute of the hourly
    subqueries (etl.source.promql) see the sample taken at that very minute."""
    return [start + index * every for index in range(round((end - start) / every))]


def steady(metric: str, labels: dict[str, str], value: float, times: list[float]) -> SampleSeries:
    """A gauge holding ``value`` at every instant of ``times``."""
    return SampleSeries(metric, labels, [(t, value) for t in times])


def cpu_counter(labels: dict[str, str], cores: float, times: list[float]) -> SampleSeries:
    """container_cpu_usage_seconds_total growing by ``cores`` core-seconds per second."""
    origin = times[0] - 100_000  # a long-running counter: far from 0, so no zero-clamping applies
    return SampleSeries("container_cpu_usage_seconds_total", labels,
                        [(t, cores * (t - origin)) for t in times], kind="counter")


def exporter_gauge(account: str, metric: str, values_by_hour: dict[float, list[float]]) -> SampleSeries:
    """An exporter cluster gauge (``metric`` without the prefix) of one account."""
    return hourly_series(P + metric, {"tenant_id": account}, values_by_hour)


# -- the exporter dataset (Phase 2 backfill, CLI and fault tests) -----------------------------------
DAY1, DAY2 = date(2026, 9, 1), date(2026, 9, 2)
PLAIN = "acct-plain"
WEIRD = 'acct-"quoted"\\back'  # an account id holding a double quote and a backslash
GAPPY = "acct-gappy"
RATIO = "acct-ratio"


def exporter_dataset() -> list[SampleSeries]:
    """Four exporter accounts over DAY1..DAY2; the expected money is in the comments."""
    series: list[SampleSeries] = []
    # PLAIN: day 1 at total 10 $/h (cpu 4, ram 3, pv 1, network 0.5, lb 0.25 -> management 1.25),
    # day 2 rates doubled. Inside every hour the four samples of total are 9, 11, 9, 11 (avg 10).
    for day, factor in ((DAY1, 1.0), (DAY2, 2.0)):
        hours = [hour(day, h) for h in range(24)]
        series += [
            exporter_gauge(PLAIN, "total_cost", {h: [9 * factor, 11 * factor, 9 * factor, 11 * factor] for h in hours}),
            exporter_gauge(PLAIN, "cpu_cost", {h: [4 * factor] * 4 for h in hours}),
            exporter_gauge(PLAIN, "ram_cost", {h: [3 * factor] * 4 for h in hours}),
            exporter_gauge(PLAIN, "pv_cost", {h: [1 * factor] * 4 for h in hours}),
            exporter_gauge(PLAIN, "network_cost", {h: [0.5 * factor] * 4 for h in hours}),
            exporter_gauge(PLAIN, "lb_cost", {h: [0.25 * factor] * 4 for h in hours}),
            # cpu efficiency 50% in hours 0-11 and 80% in hours 12-23; equal cpu cost per hour
            # -> daily cpu efficiency 65%. ram 40% all day. total efficiency = 60% all day.
            exporter_gauge(PLAIN, "cpu_efficiency", {h: [50.0 if i < 12 else 80.0] * 4 for i, h in enumerate(hours)}),
            exporter_gauge(PLAIN, "ram_efficiency", {h: [40.0] * 4 for h in hours}),
            exporter_gauge(PLAIN, "total_efficiency", {h: [60.0] * 4 for h in hours}),
        ]
    # WEIRD: day 1 only, total 1 $/h and cpu 1 $/h -> 24 $ total, 24 $ cpu, no management.
    day1_hours = [hour(DAY1, h) for h in range(24)]
    series += [
        exporter_gauge(WEIRD, "total_cost", {h: [1.0] * 4 for h in day1_hours}),
        exporter_gauge(WEIRD, "cpu_cost", {h: [1.0] * 4 for h in day1_hours}),
    ]
    # GAPPY: day 1, data only in hours 0-5 and 18-23 (12 hours) at 3 $/h -> 36 $, hours_covered 12.
    # cpu_cost 1 $/h in hours 0-5 (efficiency 20%) and 3 $/h in hours 18-23 (efficiency 60%):
    # cost-weighted cpu efficiency = (6*1*20 + 6*3*60) / (6*1 + 6*3) = 1200/24 = 50%.
    covered = [hour(DAY1, h) for h in (*range(6), *range(18, 24))]
    series += [
        exporter_gauge(GAPPY, "total_cost", {h: [3.0] * 4 for h in covered}),
        exporter_gauge(GAPPY, "cpu_cost", {h: [1.0 if h < hour(DAY1, 12) else 3.0] * 4 for h in covered}),
        exporter_gauge(GAPPY, "cpu_efficiency", {h: [20.0 if h < hour(DAY1, 12) else 60.0] * 4 for h in covered}),
    ]
    # RATIO: an exporter publishing efficiency as 0-1 ratios: cpu 0.25 all day at 1 $/h cpu cost.
    series += [
        exporter_gauge(RATIO, "total_cost", {h: [1.0] * 4 for h in day1_hours}),
        exporter_gauge(RATIO, "cpu_cost", {h: [1.0] * 4 for h in day1_hours}),
        exporter_gauge(RATIO, "cpu_efficiency", {h: [0.2, 0.3, 0.2, 0.3] for h in day1_hours}),
    ]
    return series


# -- hand-made hourly cost rows (for the pure math) ----------------------------------------------
HOURLY_DAY = pd.Timestamp("2026-10-05T00:00Z")


def hourly_rows(account: str, hours: Iterable[int], phase: str, total: int, defaulted: str | None = None,
                **columns: object) -> pd.DataFrame:
    """Hourly cost rows of HOURLY_DAY's ``hours``: ``total`` nano-dollars each, all of it CPU, no
    efficiency, in USD; ``defaulted`` names the resources priced by default (then
    default_priced_hours = 1); ``columns`` set any other column."""
    rows = []
    for h in hours:
        row: dict[str, object] = dict.fromkeys(HOURLY_COLUMNS, 0)
        row.update(cloud_account_id=account, hour_start=HOURLY_DAY + pd.Timedelta(hours=h), total_cost=total,
                   cpu_cost=total, cpu_efficiency=np.nan, ram_efficiency=np.nan, total_efficiency=np.nan,
                   default_priced_hours=int(defaulted is not None), default_priced_resources=defaulted,
                   currency="USD", clusters=None, source_phase=phase)
        row.update(columns)
        rows.append(row)
    return pd.DataFrame(rows, columns=HOURLY_COLUMNS)


# -- the operations dataset ------------------------------------------------------------------------
FIRST_DAY = date(2026, 9, 1)
DAYS = [FIRST_DAY + timedelta(days=i) for i in range(10)]
BASE_RATE = {"acct-a": 0, "acct-b": 10, "acct-c": 100}
ACCOUNTS = sorted(BASE_RATE)


def day_number(day: date) -> int:
    return (day - FIRST_DAY).days + 1


def rate(account: str, day: date) -> Decimal:
    """$/h total cost of the account on that day (see the module docstring)."""
    return Decimal(BASE_RATE[account] + day_number(day))


def expected_total(account: str, day: date, hours: int = 24) -> Decimal:
    return hours * rate(account, day)


def ops_dataset(accounts: list[str] = ACCOUNTS, days: list[date] = DAYS,
            missing: dict[str, set[datetime]] | None = None) -> list[SampleSeries]:
    """The samples; ``missing`` drops given hour starts of an account (samples that arrive late)."""
    series = []
    for account in accounts:
        hours = [utc_midnight(day) + timedelta(hours=h) for day in days for h in range(24)]
        kept = [h for h in hours if h not in (missing or {}).get(account, set())]
        values = {h.timestamp(): float(rate(account, h.date())) for h in kept}
        labels = {"tenant_id": account}
        series.append(hourly_series(P + "total_cost", labels, {t: [v] * 4 for t, v in values.items()}))
        series.append(hourly_series(P + "cpu_cost", labels, {t: [v / 2] * 4 for t, v in values.items()}))
    return series
