"""A batch's next chunk is fetched while this one is costed and written (etl.run.prefetch), and
the tables are those of one chunk after another.

Data: tests/support/datasets.ops_dataset (accounts acct-a, -b, -c; day n of September 2026 costs
``base + n`` $/h for 24 hours). Ten days in two-day chunks: five chunks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from itertools import pairwise

from sqlalchemy import Engine

from etl.run import pipeline as pipeline_module
from etl.run.pipeline import Pipeline
from etl.run.runner import Runner
from etl.source.thanos import ThanosClient
from tests.support import datasets
from tests.support.datasets import ACCOUNTS, DAYS, expected_total
from tests.support.servers import BACKFILL_NOW, make_settings
from tests.support.tables import daily


def test_the_next_chunk_is_asked_while_this_one_is_written_and_the_money_is_the_same(
    prometheus_with, database_url: str, engine: Engine, monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    url = prometheus_with("ops-abc", datasets.ops_dataset())
    settings = make_settings(url, database_url, THANOS_CHUNK_DAYS="2", THANOS_MAX_CONCURRENT_QUERIES="1")
    events: list[tuple[str, float]] = []  # ("query", its first instant) or ("write", its first hour)

    class Recording(ThanosClient):
        def query_range(self, query, start, end, *args, **kwargs):  # type: ignore[no-untyped-def]
            events.append(("query", start))
            return super().query_range(query, start, end, *args, **kwargs)

    write_costs = pipeline_module.write_costs

    def recorded_write(engine, hourly, *args, **kwargs):  # type: ignore[no-untyped-def]
        events.append(("write", hourly["hour_start"].min().timestamp()))
        return write_costs(engine, hourly, *args, **kwargs)

    monkeypatch.setattr(pipeline_module, "write_costs", recorded_write)
    summary = Pipeline(settings, Recording(settings.thanos), engine).run_range(DAYS[0], DAYS[-1], now=BACKFILL_NOW)

    assert not summary.failed
    assert daily(engine) == {(a, d): (expected_total(a, d), 24) for a in ACCOUNTS for d in DAYS}
    writes = [index for index, (kind, _) in enumerate(events) if kind == "write"]
    assert len(writes) == 5
    for chunk, write in enumerate(writes[:-1]):
        next_start = datetime.combine(DAYS[2 * (chunk + 1)], time(), UTC).timestamp()
        # some query of the next chunk was sent before this chunk's write began
        assert any(kind == "query" and start >= next_start for kind, start in events[:write]), chunk


class CountingTracker:
    """A backfill's chunk tracker (etl.run.pipeline.ChunkTracker) in which acct-a finished the
    second chunk before; it counts how often each chunk is asked about."""

    def __init__(self) -> None:
        self.asked: Counter[tuple[date, date]] = Counter()

    def pending(self, first: date, last: date, accounts: Sequence[str]) -> list[str]:
        self.asked[(first, last)] += 1
        return [name for name in accounts if (first, name) != (DAYS[2], "acct-a")]

    def completed(self, first: date, last: date, accounts: Sequence[str]) -> None:
        pass


def test_each_chunk_is_asked_about_once_though_its_fetch_starts_ahead(
    prometheus_with, database_url: str, engine: Engine,  # type: ignore[no-untyped-def]
) -> None:
    # BackfillProgress counts every account-chunk it reports done as skipped (the "resumed: N" line).
    url = prometheus_with("ops-abc", datasets.ops_dataset())
    settings = make_settings(url, database_url, THANOS_CHUNK_DAYS="2")
    tracker = CountingTracker()
    summary = Pipeline(settings, ThanosClient(settings.thanos), engine).run_range(
        DAYS[0], DAYS[-1], now=BACKFILL_NOW, tracker=tracker)
    assert not summary.failed
    assert tracker.asked == {(DAYS[index], DAYS[index + 1]): 1 for index in range(0, 10, 2)}
    assert (("acct-a", DAYS[2]) not in daily(engine)) and ("acct-b", DAYS[2]) in daily(engine)


def test_the_next_claim_batch_is_asked_while_this_one_is_written(
    prometheus_with, database_url: str, engine: Engine, monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    # One account per claim batch, one chunk per batch: acct-b's first queries go out before
    # acct-a's rows are written, acct-c's before acct-b's; every figure as computed one by one.
    url = prometheus_with("ops-abc", datasets.ops_dataset())
    settings = make_settings(url, database_url, THANOS_CHUNK_DAYS="10", ACCOUNTS_PER_CLAIM="1",
                             THANOS_MAX_CONCURRENT_QUERIES="1")
    events: list[tuple[str, str]] = []

    class Recording(ThanosClient):
        def query_range(self, query, *args, **kwargs):  # type: ignore[no-untyped-def]
            events.extend(("query", name) for name in ACCOUNTS if name in query)
            return super().query_range(query, *args, **kwargs)

    write_costs = pipeline_module.write_costs

    def recorded_write(engine, hourly, *args, **kwargs):  # type: ignore[no-untyped-def]
        events.extend(("write", str(name)) for name in sorted(set(hourly["cloud_account_id"])))
        return write_costs(engine, hourly, *args, **kwargs)

    monkeypatch.setattr(pipeline_module, "write_costs", recorded_write)
    outcome = Runner(settings, Recording(settings.thanos), engine).backfill(DAYS[0], DAYS[-1], now=BACKFILL_NOW)

    assert outcome.status == "ok" and not outcome.summary.failed
    assert daily(engine) == {(a, d): (expected_total(a, d), 24) for a in ACCOUNTS for d in DAYS}
    writes = [events.index(("write", name)) for name in ACCOUNTS]
    assert writes == sorted(writes)
    for name, following in pairwise(ACCOUNTS):
        assert events.index(("query", following)) < events.index(("write", name))
