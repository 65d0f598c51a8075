"""Default-price warnings: once per account and resource per run, and only for hours that used them.

Dataset (accounts NOTICE and SPARSE, whose node u1 publishes no price at all), three UTC days, one
chunk per day:
  raw metrics all three days: pod on u1 with 1 core and 1 GiB allocated, scraped every minute
  (NOTICE) or four times an hour (SPARSE: :07:30, :22:30, :37:30, :52:30 from 23:00 the day
  before; each sample is held for the series' own interval, so the pod is there all hour);
  exporter only on DAY2: total 2 $/h (cpu 1, ram 1), so DAY2's hours take the exporter's figures.
Phase 1 hour at the defaults: 1 core x 0.031611 + 1 GiB x 0.004237 = 0.035848 $/h
  -> DAY1 and DAY3: 24 x 0.035848 = 0.860352 $ each, 24 default-priced hours.
  (SPARSE held for the 5-minute lookback only: 20 minutes an hour, 0.286783992 $ a day.)
DAY2: 24 x 2 = 48 $ from the exporter, no default-priced hour.
So the cpu and ram defaults of u1 are one fact each per account in this run: warned once (in the
DAY1 chunk), not again for DAY3's chunk, and never for DAY2, whose hours did not use them.
"""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from etl.demo.prometheus import SampleSeries, hourly_series
from etl.model import GIB
from tests.support.datasets import OFFSETS, P, hour, scrapes, steady
from tests.support.servers import run_backfill
from tests.support.tables import daily_rows

NOTICE = "acct-notice"
SPARSE = "acct-notice-sparse"
ACCOUNTS = (NOTICE, SPARSE)
DAY1, DAY2, DAY3 = date(2026, 10, 12), date(2026, 10, 13), date(2026, 10, 14)


def dataset() -> list[SampleSeries]:
    every_minute = scrapes(hour(DAY1, 0), hour(DAY3, 24))
    quarters = [hour(DAY1, h) + offset for h in range(-1, 72) for offset in OFFSETS]
    series = []
    for account, times in ((NOTICE, every_minute), (SPARSE, quarters)):
        labels = {"tenant_id": account, "namespace": "n", "pod": "p", "container": "c", "node": "u1"}
        series += [steady("container_cpu_allocation", labels, 1.0, times),
                   steady("container_memory_allocation_bytes", labels, 1.0 * GIB, times)]
        exporter_hours = [hour(DAY2, h) for h in range(24)]
        for metric, value in (("total_cost", 2.0), ("cpu_cost", 1.0), ("ram_cost", 1.0)):
            series.append(hourly_series(P + metric, {"tenant_id": account}, {h: [value] * 4 for h in exporter_hours}))
    return series


@pytest.fixture
def thanos_url(prometheus_with) -> str:  # type: ignore[no-untyped-def]
    return prometheus_with("default-price-notices", dataset())


def test_default_prices_are_warned_once_per_run_and_only_for_phase1_hours(
    thanos_url: str, database_url: str, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        run_backfill(thanos_url, database_url, engine, DAY1, DAY3, THANOS_CHUNK_DAYS="1")
    warnings = [record.getMessage() for record in caplog.records if "priced at the default" in record.getMessage()]
    assert len(warnings) == 4, warnings  # cpu and ram of u1, each once per account
    rows = daily_rows(engine)
    for account in ACCOUNTS:
        assert sum(f"node u1 of account {account} in 24 hour(s) of {DAY1}T00:00Z" in message
                   for message in warnings) == 2, warnings
        assert [rows[(account, day)]["total_cost"] for day in (DAY1, DAY2, DAY3)] == [
            Decimal("0.860352"), Decimal("48"), Decimal("0.860352")], account
        assert [rows[(account, day)]["default_priced_hours"] for day in (DAY1, DAY2, DAY3)] == [24, 0, 24]


def test_a_new_run_warns_again(thanos_url: str, database_url: str, engine: Engine,
                               caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        run_backfill(thanos_url, database_url, engine, DAY2, DAY3, THANOS_CHUNK_DAYS="1")
        run_backfill(thanos_url, database_url, engine, DAY2, DAY3, THANOS_CHUNK_DAYS="1")
    warnings = [record.getMessage() for record in caplog.records if "priced at the default" in record.getMessage()]
    # DAY2's hours came from the exporter: each run warns once per account and resource, for DAY3's chunk
    assert len(warnings) == 8 and all(f"of {DAY3}T00:00Z" in message for message in warnings), warnings
