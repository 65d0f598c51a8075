"""Queries Thanos refuses as too large are asked in parts, and the parts add up exactly to the
whole (etl.source.fetch.ask_in_parts), on a real Prometheus whose ``--query.max-samples`` is set
low and a real PostgreSQL.

Prometheus 2.42 refuses a query that would hold more samples at once than ``--query.max-samples``
with HTTP 422, ``"errorType":"execution"``, ``"error":"query processing would load too many
samples into memory in query execution"``. The hourly queries' subqueries hold about
2 x series x (minutes of the range + 60) samples, so a shorter range, or fewer accounts, passes.

Data, two UTC days (DAY1, DAY2), every series scraped once a minute on the minute unless said:
- EXP_A, exporter cluster a1: total_cost 1, 2, 3, 4, 1, 2, ... $/h in hours 0, 1, 2, 3, 4, 5, ...
  of the two days (1 + h mod 4 for hour h = 0..47 counted from DAY1 00:00), cpu_cost half of it.
  A day: 6 x (1 + 2 + 3 + 4) = 60 $, cpu 30 $, management 30 $. Hour 5 of DAY2 (h = 29): 2 $.
- EXP_B, exporter clusters b1 at 10 $/h and b2 at 0.5 $/h: 24 x 10.5 = 252 $ a day.
- RAW, Phase 1 only: app on n1 both days, 2 cores and 4 GiB; n1 at 0.05 $/core-h, 0.01 $/GiB-h:
  0.1 + 0.04 = 0.14 $/h. batch on n2 on DAY1 from 00:00 to 11:59 (its last scrape), 4 cores and
  8 GiB; n2 at 0.02 $/core-h and 0.005 $/GiB-h: 0.08 + 0.04 = 0.12 $/h for hours 0-11 (in hour 12
  only its tail is seen: no sample of its own there, so no charge).
  DAY1: 24 x 0.14 + 12 x 0.12 = 3.36 + 1.44 = 4.8 $ (cpu 24 x 0.1 + 12 x 0.08 = 3.36, ram
  24 x 0.04 + 12 x 0.04 = 1.44); DAY2: 3.36 $ (cpu 2.4, ram 0.96).
- SPARSE, Phase 1 only, scraped every 15 minutes (:07:30, :22:30, :37:30, :52:30) from 23:00 the
  day before: one pod on n3, 1 core at 0.5 $/core-h + 1 GiB at 0.25 $/GiB-h = 0.75 $/h; each sample
  is held 18 minutes (etl.source.hold), so every minute holds one: 18 $ a day.
"""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from etl.demo.prometheus import SampleSeries
from etl.errors import ChunkError
from etl.model import GIB
from etl.run.pipeline import RunSummary
from tests.support.datasets import OFFSETS, P, hour, scrapes, steady
from tests.support.faultproxy import FaultProxy
from tests.support.servers import run_backfill
from tests.support.tables import daily_hourly_mismatches, daily_rows, table_snapshot, wipe

DAY1, DAY2 = date(2026, 10, 5), date(2026, 10, 6)
EXP_A, EXP_B, RAW, SPARSE = "acct-split-exp-a", "acct-split-exp-b", "acct-split-raw", "acct-split-sparse"
ACCOUNTS = (EXP_A, EXP_B, RAW, SPARSE)


def box(account: str, pod: str, node: str) -> dict[str, str]:
    return {"tenant_id": account, "namespace": "ns", "pod": pod, "container": "c", "node": node}


def workload(account: str, pod: str, node: str, cores: float, gib: float, times: list[float]) -> list[SampleSeries]:
    return [steady("container_cpu_allocation", box(account, pod, node), cores, times),
            steady("container_memory_allocation_bytes", box(account, pod, node), gib * GIB, times)]


def prices(account: str, node: str, cpu: float, ram: float, times: list[float]) -> list[SampleSeries]:
    labels = {"tenant_id": account, "node": node}
    return [steady("node_cpu_hourly_cost", labels, cpu, times), steady("node_ram_hourly_cost", labels, ram, times)]


def dataset() -> list[SampleSeries]:
    start = hour(DAY1, 0)
    both_days = scrapes(start, hour(DAY2, 24))
    series: list[SampleSeries] = []
    a1 = {"tenant_id": EXP_A, "cluster": "a1", "currency": "USD"}
    rate = {t: 1.0 + int((t - start) // 3600) % 4 for t in both_days}
    series.append(SampleSeries(P + "total_cost", a1, [(t, rate[t]) for t in both_days]))
    series.append(SampleSeries(P + "cpu_cost", a1, [(t, rate[t] / 2) for t in both_days]))
    for cluster, dollars in (("b1", 10.0), ("b2", 0.5)):
        series.append(steady(P + "total_cost", {"tenant_id": EXP_B, "cluster": cluster, "currency": "USD"},
                             dollars, both_days))
    series += workload(RAW, "app", "n1", 2, 4, both_days)
    series += workload(RAW, "batch", "n2", 4, 8, scrapes(start, hour(DAY1, 12)))
    series += prices(RAW, "n1", 0.05, 0.01, both_days)
    series += prices(RAW, "n2", 0.02, 0.005, both_days)
    quarters = [hour(DAY1, h) + offset for h in range(-1, 48) for offset in OFFSETS]
    series += workload(SPARSE, "web", "n3", 1, 1, quarters)
    series += prices(SPARSE, "n3", 0.5, 0.25, quarters)
    return series


# Peak samples one query holds at once on this data: the largest query of a 2-day chunk of all four
# accounts holds 8,600 to 9,000 (found by bisecting the limit; ~18,000 before the plain forms of
# Phase 1, etl.source.plain); one hour of one account at most ~1,700 (the probe of a metric's
# sampling over two hours of raw samples).
WHOLE_CHUNK_FITS = "--query.max-samples=50000000"  # Prometheus' default
ONLY_DAYS_FIT = "--query.max-samples=6000"  # the larger queries pass for a day, not for two
ONLY_SINGLE_ACCOUNTS_FIT = "--query.max-samples=350"  # only parts of one account pass
NOTHING_FITS = "--query.max-samples=100"


@pytest.fixture(scope="module")
def data() -> list[SampleSeries]:
    return dataset()


def backfill(prometheus_with, data: list[SampleSeries], flag: str, database_url: str,  # type: ignore[no-untyped-def]
             engine: Engine) -> RunSummary:
    url = prometheus_with(f"splits{flag.rsplit('=', 1)[1]}", data, flags=[flag])
    return run_backfill(url, database_url, engine, DAY1, DAY2, THANOS_CHUNK_DAYS="2")


def assert_hand_computed(engine: Engine) -> None:
    rows = daily_rows(engine)
    for day in (DAY1, DAY2):
        assert rows[(EXP_A, day)]["total_cost"] == Decimal("60")  # 6 x (1 + 2 + 3 + 4)
        assert rows[(EXP_A, day)]["cpu_cost"] == Decimal("30")
        assert rows[(EXP_A, day)]["management_cost"] == Decimal("30")
        assert rows[(EXP_B, day)]["total_cost"] == Decimal("252")  # 24 x (10 + 0.5)
        assert rows[(SPARSE, day)]["total_cost"] == Decimal("18")  # 24 x 0.75
        assert all(rows[(account, day)]["hours_covered"] == 24 for account in ACCOUNTS)
    assert rows[(RAW, DAY1)]["total_cost"] == Decimal("4.8")  # 24 x 0.14 + 12 x 0.12
    assert rows[(RAW, DAY1)]["cpu_cost"] == Decimal("3.36")  # 24 x 0.1 + 12 x 0.08
    assert rows[(RAW, DAY1)]["ram_cost"] == Decimal("1.44")  # 24 x 0.04 + 12 x 0.04
    assert rows[(RAW, DAY2)]["total_cost"] == Decimal("3.36")  # 24 x 0.14
    assert len(rows) == 8
    assert daily_hourly_mismatches(engine) == []


@pytest.mark.parametrize("flag", [ONLY_DAYS_FIT, ONLY_SINGLE_ACCOUNTS_FIT])
def test_refused_queries_are_asked_in_parts_that_add_up_exactly(
    prometheus_with, data: list[SampleSeries], flag: str, database_url: str,  # type: ignore[no-untyped-def]
    engine: Engine, caplog: pytest.LogCaptureFixture,
) -> None:
    unsplit = backfill(prometheus_with, data, WHOLE_CHUNK_FITS, database_url, engine)
    assert not unsplit.failed
    assert_hand_computed(engine)
    whole = table_snapshot(engine)
    wipe(engine)

    with caplog.at_level(logging.INFO, logger="etl.source.fetch"):
        split = backfill(prometheus_with, data, flag, database_url, engine)
    assert not split.failed
    assert_hand_computed(engine)
    assert table_snapshot(engine) == whole  # every hourly and daily row, to the nano-dollar
    splits = [record for record in caplog.records if "as too large" in record.getMessage()]
    assert splits and {record.levelno for record in splits} == {logging.INFO}
    messages = [record.getMessage() for record in splits]
    assert all("(query processing would load too many samples into memory in query execution)" in message
               for message in messages)
    # each refusal halves the parts: 48 hours -> 24 -> ...
    assert any("over 2026-10-05T00:00Z..2026-10-07T00:00Z" in message and "in parts of at most 24 hour(s) and "
               "2 account(s)" in message for message in messages)
    if flag == ONLY_SINGLE_ACCOUNTS_FIT:  # down to single hours, then to single accounts
        assert any("for 2 account(s) over 2026-10-05T00:00Z..2026-10-05T01:00Z" in message
                   and "in parts of at most 1 hour(s) and 1 account(s)" in message for message in messages)


def test_a_part_still_refused_fails_the_chunk_clearly_and_stores_nothing(
    prometheus_with, data: list[SampleSeries], database_url: str, engine: Engine,  # type: ignore[no-untyped-def]
) -> None:
    summary = backfill(prometheus_with, data, NOTHING_FITS, database_url, engine)
    assert sorted(summary.failed) == sorted(ACCOUNTS)
    failures = [error for account in summary.accounts.values() for error in account.failures]
    assert all(isinstance(error, ChunkError) and error.step == "fetch" for error in failures)
    assert all("as too large even for one hour (2026-10-05T00:00Z..2026-10-05T01:00Z) of account acct-split-"
               in str(error) and "would load too many samples into memory" in str(error)
               and "raise that limit (Prometheus: --query.max-samples" in str(error) for error in failures)
    assert daily_rows(engine) == {}


# Thanos' Store answers a Series call beyond --store.limits.request-series with this error; Thanos
# Query turns it into HTTP 422 "execution" (pkg/store/bucket.go, pkg/api/query/v1.go).
THANOS_SERIES_LIMIT = ("expanding series: proxy Series(): rpc error: code = ResourceExhausted desc = exceeded series "
                       "limit: limit 2 violated (got 3)")
EXPORTER_PAIR = f"{EXP_A}|{EXP_B}"  # the account matcher of the exporter queries of both accounts


def test_a_limit_on_series_splits_the_accounts_first_and_is_not_retried(
    prometheus_with, data: list[SampleSeries], database_url: str, engine: Engine,  # type: ignore[no-untyped-def]
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = prometheus_with("splits50000000", data, flags=[WHOLE_CHUNK_FITS])
    # Every query of both exporter accounts is refused the way Thanos refuses it; one account passes.
    with FaultProxy(url, error_status=422, error_text=THANOS_SERIES_LIMIT, fail_matching=EXPORTER_PAIR) as proxy:
        with caplog.at_level(logging.INFO, logger="etl.source.fetch"):
            summary = run_backfill(proxy.url, database_url, engine, DAY1, DAY2, THANOS_CHUNK_DAYS="2",
                                   THANOS_RETRIES="3")
        refused = [r for r in proxy.requests
                   if r.path.endswith("/query_range") and EXPORTER_PAIR in " ".join(r.fields.get("query", []))]
    assert not summary.failed
    assert_hand_computed(engine)
    messages = [record.getMessage() for record in caplog.records if "as too large" in record.getMessage()]
    # one refused request per exporter query (not retried), each split into the two accounts over both days
    assert len(refused) == len(messages) > 0
    assert all("for 2 account(s) over 2026-10-05T00:00Z..2026-10-07T00:00Z" in message and "exceeded series limit"
               in message and "in parts of at most 48 hour(s) and 1 account(s)" in message for message in messages)
