"""Answers with a metric left out: a well-formed Thanos answer that lacks series (or hours of them)
the other queries of the chunk, or the stored rows, show exist. A store not yet registered or a
shard timing out without a warning looks like this; taken as the truth it deletes stored hours,
moves CPU into management or swaps exporter hours for Phase 1 ones, all with exit 0.

A real Prometheus behind the fault proxy (tests.support.faultproxy.Blank leaves series out of the
answers it matches) and a real PostgreSQL. Every gauge is sampled four times an hour (:07:30,
:22:30, :37:30, :52:30) at one value all hour, so an hour costs that value; a sample is seen for
the 5 minutes of Prometheus' lookback, so a series ending at 11:52:30 has no value in hour 12.
A range query evaluates hour h at its end (h + 1 h): leaving out instants [h1 + 1 h, h2 + 1 h)
leaves out hours h1..h2-1.

The dataset (UTC days DAY1 and DAY2, every hour of both):
- EXP, cluster c1: total 10 $/h, cpu 4 $/h, ram 3 $/h; lb 1 $/h on DAY1 hours 0-11 only (the load
  balancer deleted at noon: a gauge that ends, never suspect). DAY1: total 240, cpu 96, ram 72,
  lb 12, management 240 - 96 - 72 - 12 = 60. DAY2: total 240, cpu 96, ram 72, lb 0, management 72.
  Its namespace shop: total 6 $/h, cpu 3 $/h (a day 144, cpu 72): __idle__ of DAY1 is total 96, cpu 24.
- TWO, clusters c1 (total 5, cpu 2) and c2 (total 3, cpu 1): an hour is total 8, cpu 3,
  management 5; a day 192, cpu 72, management 120, clusters "c1, c2". c1 alone: a day 120.
- MIX, exporter cluster m1 (total 2 $/h, cpu 1 $/h) and raw metrics: a container of 2 cores on
  node n1 at 0.05 $/core-h, scraped every minute: Phase 1 would be 2 x 0.05 = 0.1 $/h. The
  exporter wins every hour: a day 48, cpu 24, management 24 (as Phase 1 it would be 2.4, all cpu).
- CLEAN: total 1 $/h, cpu 1 $/h: a day 24, cpu 24, management 0.
"""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from etl.demo.prometheus import SampleSeries, hourly_series
from etl.model import HOUR_SECONDS, utc_midnight
from etl.run.pipeline import Pipeline, RunSummary
from etl.source.metrics import NAMESPACE_PREFIX
from etl.source.thanos import ThanosClient
from tests.support.datasets import P, hour, scrapes, steady
from tests.support.faultproxy import Blank, FaultProxy
from tests.support.servers import BACKFILL_NOW, cli_env, make_settings
from tests.support.tables import (
    daily_hourly_mismatches,
    daily_rows,
    namespace_daily_rows,
    namespace_mismatches,
    table_snapshot,
)

DAY1, DAY2 = date(2026, 6, 1), date(2026, 6, 2)
EXP, TWO, MIX, CLEAN = "acct-exp", "acct-two", "acct-mix", "acct-clean"
ACCOUNTS = [CLEAN, EXP, MIX, TWO]
TOTAL, CPU = P + "total_cost", P + "cpu_cost"


def gauge(account: str, cluster: str, metric: str, value: float, hours: list[float]) -> SampleSeries:
    return hourly_series(P + metric, {"tenant_id": account, "cluster": cluster}, {h: [value] * 4 for h in hours})


def dataset() -> list[SampleSeries]:
    both = [hour(day, h) for day in (DAY1, DAY2) for h in range(24)]
    morning = [hour(DAY1, h) for h in range(12)]
    minutes = scrapes(utc_midnight(DAY1).timestamp(), hour(DAY2, 24))
    box = {"tenant_id": MIX, "namespace": "ns", "pod": "app-1", "container": "app", "node": "n1"}
    return [
        gauge(EXP, "c1", "total_cost", 10.0, both), gauge(EXP, "c1", "cpu_cost", 4.0, both),
        gauge(EXP, "c1", "ram_cost", 3.0, both), gauge(EXP, "c1", "lb_cost", 1.0, morning),
        *(hourly_series(NAMESPACE_PREFIX + metric, {"tenant_id": EXP, "cluster": "c1", "namespace": "shop"},
                        {h: [value] * 4 for h in both}) for metric, value in (("total_cost", 6.0), ("cpu_cost", 3.0))),
        gauge(TWO, "c1", "total_cost", 5.0, both), gauge(TWO, "c1", "cpu_cost", 2.0, both),
        gauge(TWO, "c2", "total_cost", 3.0, both), gauge(TWO, "c2", "cpu_cost", 1.0, both),
        gauge(MIX, "m1", "total_cost", 2.0, both), gauge(MIX, "m1", "cpu_cost", 1.0, both),
        steady("container_cpu_allocation", box, 2.0, minutes),
        steady("node_cpu_hourly_cost", {"tenant_id": MIX, "node": "n1"}, 0.05, minutes),
        gauge(CLEAN, "k", "total_cost", 1.0, both), gauge(CLEAN, "k", "cpu_cost", 1.0, both),
    ]


# (total, cpu, ram, lb, management, hours) of a clean day, from the module docstring.
CLEAN_DAY1 = {
    EXP: (240, 96, 72, 12, 60, 24), TWO: (192, 72, 0, 0, 120, 24), MIX: (48, 24, 0, 0, 24, 24),
    CLEAN: (24, 24, 0, 0, 0, 24),
}


def figures(engine: Engine, account: str, day: date = DAY1) -> tuple[Decimal, ...]:
    row = daily_rows(engine)[(account, day)]
    return (*(row[c] for c in ("total_cost", "cpu_cost", "ram_cost", "load_balancer_cost", "management_cost")),
            row["hours_covered"])


def instants(day: date, first_hour: int, end_hour: int) -> dict[str, float]:
    """The evaluation instants of hours first_hour..end_hour-1 of ``day`` (Blank's start and end)."""
    return {"start": hour(day, first_hour) + HOUR_SECONDS, "end": hour(day, end_hour) + HOUR_SECONDS}


def gauge_query(metric: str) -> Callable[[str], bool]:
    """The range query of one exporter gauge (not the coverage query, which reads total_cost too)."""
    return lambda query: metric + "{" in query and "etl_minutes" not in query


def every_query(query: str) -> bool:
    return True


@pytest.fixture
def proxy(prometheus_with) -> Iterator[FaultProxy]:  # type: ignore[no-untyped-def]
    with FaultProxy(prometheus_with("vanished-metrics", dataset())) as proxy:
        yield proxy


def backfill(proxy: FaultProxy, database_url: str, engine: Engine, last_day: date = DAY1,
             allow_removal: bool = False, **env: str) -> RunSummary:
    settings = make_settings(proxy.url, database_url, ACCOUNTS=",".join(ACCOUNTS), **env)
    settings.thanos.backoff_seconds = 0
    pipeline = Pipeline(settings, ThanosClient(settings.thanos), engine, allow_removal=allow_removal)
    return pipeline.run_range(DAY1, last_day, now=BACKFILL_NOW)


def failure(summary: RunSummary, account: str) -> str:
    (error,) = summary.accounts[account].failures
    return str(error)


def queries_for(proxy: FaultProxy, account: str) -> list[str]:
    """The range queries sent that name ``account`` and no other account of the dataset."""
    texts = [request.fields["query"][0] for request in proxy.requests if request.path.endswith("/query_range")]
    others = [name for name in ACCOUNTS if name != account]
    return [text for text in texts if account in text and not any(other in text for other in others)]


def test_an_empty_total_cost_answer_fails_its_accounts_and_stores_nothing(
    proxy: FaultProxy, database_url: str, engine: Engine
) -> None:
    # total_cost's query answers nothing, twice; the coverage query (the same series' minutes) and
    # the other gauges answer. Before: the exporter accounts had no hour (exit 0, "nothing
    # written") and MIX was stored as Phase 1: 2.4 $ instead of 48 $.
    proxy.blank(Blank(gauge_query(TOTAL)))
    summary = backfill(proxy, database_url, engine)
    assert sorted(summary.failed) == ACCOUNTS
    message = failure(summary, MIX)
    assert message.startswith("check of 2026-06-01T00:00Z..2026-06-02T00:00Z failed: account acct-mix")
    assert TOTAL in message and "24 hour(s)" in message and "2026-06-01T00:00Z" in message
    assert "--allow-removal" in message
    assert daily_rows(engine) == {}


def test_an_answer_whole_again_when_asked_again_is_written_exactly(
    proxy: FaultProxy, database_url: str, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    # The store registers between the two asks: the second answer is whole, and every figure is
    # the clean one (also EXP's lb_cost, whose series ends at noon: a gauge that ends is no gap).
    proxy.blank(Blank(gauge_query(TOTAL), times=1))
    caplog.set_level(logging.WARNING)
    summary = backfill(proxy, database_url, engine)
    assert not summary.failed
    for account, expected in CLEAN_DAY1.items():
        assert figures(engine, account) == tuple(Decimal(value) for value in expected), account
    assert daily_hourly_mismatches(engine) == []
    assert "asking Thanos again" in caplog.text


def test_only_the_suspect_accounts_are_asked_again(proxy: FaultProxy, database_url: str, engine: Engine) -> None:
    # cpu_cost of EXP misses hours 5-7 in the first answer only: EXP alone is asked again (its
    # queries name no other account), the others are written from the first answer. Its namespace
    # rows are the second answer's too (from the first, __idle__ cpu would be 84 - 72 = 12).
    proxy.blank(Blank(gauge_query(CPU), labels={"tenant_id": EXP}, times=1, **instants(DAY1, 5, 8)))
    summary = backfill(proxy, database_url, engine)
    assert not summary.failed
    assert queries_for(proxy, EXP)
    assert figures(engine, EXP) == (240, 96, 72, 12, 60, 24)
    idle = namespace_daily_rows(engine)[(EXP, DAY1, "__idle__")]
    assert (idle["total_cost"], idle["cpu_cost"]) == (96, 24)
    assert namespace_mismatches(engine) == []


def test_a_gap_inside_a_gauge_fails_the_account_on_a_fresh_backfill(
    proxy: FaultProxy, database_url: str, engine: Engine
) -> None:
    # EXP's cpu_cost is missing in hours 5-7 (before and after it has values, total has values in
    # them). Before: stored with cpu 96 - 3 x 4 = 84 $ and management 60 + 12 = 72 $, exit 0.
    proxy.blank(Blank(gauge_query(CPU), labels={"tenant_id": EXP}, **instants(DAY1, 5, 8)))
    summary = backfill(proxy, database_url, engine)
    assert summary.failed == [EXP]
    message = failure(summary, EXP)
    assert CPU in message and "3 hour(s)" in message and "2026-06-01T05:00Z" in message
    assert (EXP, DAY1) not in daily_rows(engine)
    assert figures(engine, TWO) == (192, 72, 0, 0, 120, 24)


def test_a_gap_at_a_chunk_start_is_seen_against_the_stored_hour_before_it(
    proxy: FaultProxy, database_url: str, engine: Engine
) -> None:
    # One-day chunks: DAY1 is written first; DAY2's answer lacks EXP's cpu_cost in hours 0-3 and has
    # it from hour 4: with DAY1's last hour (cpu 4 $, stored) before them, that is a gap. Before:
    # DAY2 stored with cpu 96 - 16 = 80 $, management 72 + 16 = 88 $.
    proxy.blank(Blank(gauge_query(CPU), labels={"tenant_id": EXP}, **instants(DAY2, 0, 4)))
    summary = backfill(proxy, database_url, engine, last_day=DAY2, THANOS_CHUNK_DAYS="1")
    assert summary.failed == [EXP]
    assert CPU in failure(summary, EXP) and "2026-06-02T00:00Z" in failure(summary, EXP)
    assert figures(engine, EXP, DAY1) == (240, 96, 72, 12, 60, 24)
    assert (EXP, DAY2) not in daily_rows(engine)
    assert figures(engine, TWO, DAY2) == (192, 72, 0, 0, 120, 24)


def rerun_refused(proxy: FaultProxy, database_url: str, engine: Engine, blank: Blank, failed: list[str],
                  *words: str) -> None:
    """Store DAY1 from a whole answer, then recompute it with ``blank`` applied: ``failed`` fail, each
    with ``words`` in its error, and the tables are left as they were."""
    assert not backfill(proxy, database_url, engine).failed
    stored = table_snapshot(engine)
    proxy.blank(blank)
    summary = backfill(proxy, database_url, engine)
    assert sorted(summary.failed) == failed
    for account in failed:
        assert all(word in failure(summary, account) for word in words), failure(summary, account)
    assert table_snapshot(engine) == stored


@pytest.mark.parametrize(("blank", "failed", "words"), [
    # cpu_cost's query answers nothing. Before: every account's cpu became management (EXP: cpu 0,
    # management 156 $), exit 0.
    (Blank(gauge_query(CPU)), ACCOUNTS, (CPU, "24 stored hour(s)")),
    # Every exporter query lacks MIX; its raw metrics answer. Before: DAY1 rewritten as Phase 1,
    # 2.4 $ instead of 48 $, exit 0.
    (Blank(lambda query: "cloudtuner_kubecost" in query, labels={"tenant_id": MIX}), [MIX], (TOTAL, "Phase 1")),
    # Every series of TWO's cluster c2 is missing. Before: DAY1 rewritten from c1 alone, 120 $
    # instead of 192 $, exit 0.
    (Blank(every_query, labels={"tenant_id": TWO, "cluster": "c2"}), [TWO], ("cluster c2",)),
], ids=["cpu-into-management", "exporter-into-phase-1", "cluster-dropped"])
def test_what_vanished_from_stored_hours_is_not_overwritten(
    proxy: FaultProxy, database_url: str, engine: Engine, blank: Blank, failed: list[str], words: tuple[str, ...]
) -> None:
    rerun_refused(proxy, database_url, engine, blank, failed, *words)


def test_stored_hours_are_not_deleted_when_every_metric_lacks_them_unless_allowed(
    proxy: FaultProxy, database_url: str, engine: Engine
) -> None:
    # Every query lacks EXP's hours 0-11 of DAY1 (a store holding them is missing): nothing in
    # the answer contradicts itself, but 12 stored hours would be deleted. Before: DAY1 stored as
    # 12 hours, 120 $, exit 0.
    rerun_refused(proxy, database_url, engine, Blank(every_query, labels={"tenant_id": EXP}, **instants(DAY1, 0, 12)),
                  [EXP], "12 stored hour(s)", TOTAL, "2026-06-01T00:00Z")
    # Removed deliberately: hours 12-23 stay, 12 x 10 = 120 $, cpu 48, ram 36, no lb, management 36.
    summary = backfill(proxy, database_url, engine, allow_removal=True)
    assert not summary.failed
    assert figures(engine, EXP) == (120, 48, 36, 0, 36, 12)
    assert daily_hourly_mismatches(engine) == []


def test_the_console_script_exits_1_and_allow_removal_removes(
    proxy: FaultProxy, database_url: str, engine: Engine
) -> None:
    assert not backfill(proxy, database_url, engine).failed
    proxy.blank(Blank(every_query, labels={"tenant_id": EXP}, **instants(DAY1, 0, 12)))

    def cli(*flags: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "etl", "backfill", "--start", DAY1.isoformat(), "--end",
                               DAY1.isoformat(), "--account", EXP, *flags],
                              env=cli_env(proxy.url, database_url),
                              capture_output=True, text=True, timeout=300, check=False)

    refused = cli()
    assert refused.returncode == 1, refused.stderr
    assert "Traceback" not in refused.stderr
    assert "12 stored hour(s)" in refused.stdout + refused.stderr
    assert figures(engine, EXP) == (240, 96, 72, 12, 60, 24)
    removed = cli("--allow-removal")
    assert removed.returncode == 0, removed.stderr
    assert figures(engine, EXP) == (120, 48, 36, 0, 36, 12)
