"""Phase 1 money from series sampled less often than Prometheus' 5-minute lookback, on a real
Prometheus and PostgreSQL, evaluated as 2.x and as 3.x / Thanos' v3 engine (tests.support.engines).

Each minute of an hour holds a workload's latest sample for as long as the series' own sampling
interval says it stands (etl.source.hold): the densest series of the account's metric has ``n``
samples in the two hours up to the hour's end, so its samples are at most 120 / (n - 1) minutes
apart; that, rounded up to whole minutes (at most 60), is the hold. Dense series (n >= 24: one
sample every 5 minutes or more often) keep the lookback. Every series below starts at 23:00 of
the day before DAY, so DAY's hour 0 is held like any other. Prices and the exporter's gauges are
averaged over the minutes that have a value, which sparse but regular samples do not skew.

Without the hold, a series sampled every 15 minutes holds each sample for the 5 minutes of the
lookback only: a pod allocated all hour was charged 20 minutes of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from etl.demo.prometheus import SampleSeries, hourly_series
from etl.model import GIB
from etl.run.pipeline import Pipeline
from etl.source.thanos import ThanosClient
from tests.support.datasets import MINUTE, OFFSETS, P, cpu_counter, hour, scrapes, steady
from tests.support.engines import ENGINES, EngineUnderTest, serve_as
from tests.support.servers import BACKFILL_NOW, make_settings
from tests.support.tables import daily_hourly_mismatches, daily_rows

DAY = date(2026, 7, 6)
BEFORE, END = hour(DAY, -1), hour(DAY, 24)  # the data runs from 23:00 the day before to DAY's end
QUARTERS = [hour(DAY, h) + offset for h in range(-1, 24) for offset in OFFSETS]  # :07:30 :22:30 :37:30 :52:30

EVERY_15 = "acct-sparse-15m"
EVERY_5 = "acct-sparse-5m"
EVERY_10 = "acct-sparse-10m"
SPARSE_POD = "acct-sparse-pod"
EDGES = "acct-sparse-edges"
SHORT_15S = "acct-short-pod-15s"
DEGRADED = "acct-sparse-degraded"
STOPPED_1M = "acct-stopped-1m"
STOPPED_15M = "acct-stopped-15m"


def box(account: str, pod: str, node: str = "n1") -> dict[str, str]:
    return {"tenant_id": account, "namespace": "ns", "pod": pod, "container": "c", "node": node}


def node(account: str, name: str = "n1") -> dict[str, str]:
    return {"tenant_id": account, "node": name}


def dataset() -> list[SampleSeries]:
    series: list[SampleSeries] = []
    # EVERY_15, four samples an hour (every 15 minutes, at :07:30 :22:30 :37:30 :52:30), all day:
    # web-1 allocated 2 cores and 4 GiB on n1, using 1 core and 1 GiB, with a 10 GiB claim on pv-1,
    # and a load balancer. n1 costs 0.05 $/core-h (hour 12: 0.04, 0.04, 0.08, 0.08, i.e. 0.06 on
    # average) and 0.01 $/GiB-h; pv-1 0.0002 $/GiB-h; the load balancer 0.025 $/h.
    # Hold: 8 samples in any two hours -> 120 / 7 = 17.1 -> 18 minutes, more than the 15-minute
    # gaps: every minute of every hour holds a sample.
    #   cpu 2 x 0.05 = 0.1 $ (hour 12: 2 x 0.06 = 0.12), ram 4 x 0.01 = 0.04, pv 10 x 0.0002 = 0.002,
    #   lb 0.025: 0.167 $ an hour (hour 12: 0.187).
    #   Day: cpu 23 x 0.1 + 0.12 = 2.42, ram 0.96, pv 0.048, lb 0.6, total 4.028 $.
    #   (Held for the lookback only, each sample stood 5 of its 15 minutes: 1.342666667 $.)
    #   Efficiency: cpu 1 / 2 = 50 %, ram 1 / 4 = 25 % (the working set is held like the allocation).
    web = box(EVERY_15, "web-1")
    cpu_price = [(t, 0.04 if hour(DAY, 12) <= t < hour(DAY, 12) + 1800 else 0.08 if hour(DAY, 12) <= t < hour(DAY, 13)
                  else 0.05) for t in QUARTERS]
    series += [
        steady("container_cpu_allocation", web, 2.0, QUARTERS),
        steady("container_memory_allocation_bytes", web, 4.0 * GIB, QUARTERS),
        steady("container_memory_working_set_bytes", web, 1.0 * GIB, QUARTERS),
        cpu_counter(web, 1.0, QUARTERS),
        SampleSeries("node_cpu_hourly_cost", node(EVERY_15), cpu_price),
        steady("node_ram_hourly_cost", node(EVERY_15), 0.01, QUARTERS),
        steady("pod_pvc_allocation", {"tenant_id": EVERY_15, "namespace": "ns", "pod": "web-1",
                                      "persistentvolumeclaim": "data", "persistentvolume": "pv-1"},
               10.0 * GIB, QUARTERS),
        steady("pv_hourly_cost", {"tenant_id": EVERY_15, "persistentvolume": "pv-1"}, 0.0002, QUARTERS),
        steady("kubecost_load_balancer_cost", {"tenant_id": EVERY_15, "namespace": "ns", "service_name": "lb",
                                               "ingress_ip": "10.0.0.1"}, 0.025, QUARTERS),
    ]
    # EVERY_5, every 5 minutes on the minute (:00, :05, ...) and EVERY_10, every 10 minutes at
    # :02:30, :12:30, ...: 1 core on n1 at 0.06 $/core-h, all day: 0.06 $ an hour, 1.44 $ the day.
    # EVERY_5 has 24 samples in two hours: its lookback of 5 minutes reaches each next sample (on
    # 3.x too: at :04 the window (t - 5 min, t] still holds :00). EVERY_10 has 12: held
    # 120 / 11 = 10.9 -> 11 minutes. (Held for the lookback only, EVERY_10's hour was 30 minutes.)
    for account, every, first in ((EVERY_5, 300.0, BEFORE), (EVERY_10, 600.0, BEFORE + 150)):
        times = scrapes(first, END, every)
        series += [steady("container_cpu_allocation", box(account, "app-1"), 1.0, times),
                   steady("node_cpu_hourly_cost", node(account), 0.06, times)]
    # SPARSE_POD, every 15 minutes (QUARTERS): web-1 with 1 core on n1 (0.06 $/core-h) all day, and
    # job-1 with 2 cores, sampled at 10:07:30 and 10:22:30 only (it ran from about 10:05 to 10:25).
    # Hour 10's hold is web-1's: 18 minutes. job-1's last sample is held through 10:40:30, so the
    # minutes 10:08 ... 10:40 hold it: 33 minutes, on both engines (no sample is on a minute).
    #   Hour 10: 0.06 + 2 x 0.06 x 33 / 60 = 0.06 + 0.066 = 0.126 $; day 24 x 0.06 + 0.066 = 1.506 $.
    # That is the tail of a sparse series: held one hold (18 min) after its last sample, whether or
    # not a staleness marker followed (last_over_time does not see markers). Sample-and-hold at the
    # 15-minute interval would say 30 minutes, the pod ran about 20. (Lookback only: 10 minutes.)
    series += [steady("container_cpu_allocation", box(SPARSE_POD, "web-1"), 1.0, QUARTERS),
               steady("container_cpu_allocation", box(SPARSE_POD, "job-1"), 2.0,
                      [hour(DAY, 10) + OFFSETS[0], hour(DAY, 10) + OFFSETS[1]]),
               steady("node_cpu_hourly_cost", node(SPARSE_POD), 0.06, QUARTERS)]
    # EDGES, every 15 minutes exactly on the quarter hours, the first sample of each hour on the
    # hour's boundary: the container has h + 1 cores in hour h (23:00 the day before: 100 cores,
    # 24:00: 25 cores, then nothing). n1 costs 0.01 $/core-h, priced every minute. Each hour holds
    # its own four samples only (the sample at h:00 opens hour h, on 2.x and 3.x alike):
    #   hour h = (h + 1) x 0.01 $; day = 0.01 x (1 + 2 + ... + 24) = 3 $.
    # (Hour 0 holding the 100 cores of 23:45 for a minute would add 1.65 $; hour 23 holding the 25
    # cores of 24:00 for a minute 0.000166667 $.)
    edges = [(hour(DAY, h) + quarter * 900.0, 100.0 if h < 0 else h + 1.0)
             for h in range(-1, 24) for quarter in range(4)]
    series += [SampleSeries("container_cpu_allocation", box(EDGES, "app-1"), [*edges, (END, 25.0)]),
               steady("node_cpu_hourly_cost", node(EDGES), 0.01, scrapes(BEFORE, END + 3600))]
    # SHORT_15S: a cluster whose only pod (1 core on n1, 0.06 $/core-h priced every minute) is
    # scraped every 15 seconds from 10:00 to 10:19:45 (80 samples: dense, the lookback holds). The
    # last sample is still seen 5 minutes later, through 10:24:45: the minutes 10:00 ... 10:24, 25
    # minutes on both engines (3.x at 10:24: (10:19:00, 10:24] holds 10:19:45):
    #   0.06 x 25 / 60 = 0.025 $. With the staleness marker a live scrape writes when the pod goes
    #   away: 20 minutes, 0.02 $.
    series += [steady("container_cpu_allocation", box(SHORT_15S, "job-1"),
                      1.0, scrapes(hour(DAY, 10), hour(DAY, 10) + 20 * MINUTE, 15.0)),
               steady("node_cpu_hourly_cost", node(SHORT_15S), 0.06, scrapes(hour(DAY, 10), hour(DAY, 11)))]
    # STOPPED_1M and STOPPED_15M: a cluster (1 core on n1 at 0.06 $/core-h) whose OpenCost stops
    # for good early in hour 10, scraped every minute (last sample 10:01) or every 15 minutes (last
    # sample 10:07:30). Hours 0-9: 0.06 $ each, 0.6 $.
    # STOPPED_1M: the two hours up to 11:00 hold 62 samples: the lookback holds, through 10:06 on
    # 2.x and 10:05 on 3.x: hour 10 = 0.06 x (2 + 5) / 60 = 0.007 $ (3.x: 0.006 $). (One hour's 2
    # samples alone would have said "every hour" and held the last one 60 minutes.)
    # STOPPED_15M: 5 samples in those two hours (9:07:30 ... 10:07:30): held 120 / 4 = 30 minutes,
    # the minutes 10:00 ... 10:37: hour 10 = 0.06 x 38 / 60 = 0.038 $, 15 minutes more than a
    # 15-minute hold would give: an account whose series all stop is held as its fewer samples say.
    for account, times in ((STOPPED_1M, scrapes(BEFORE, hour(DAY, 10) + 2 * MINUTE)),
                           (STOPPED_15M, [t for t in QUARTERS if t <= hour(DAY, 10) + OFFSETS[0]])):
        series += [steady("container_cpu_allocation", box(account, "app-1"), 1.0, times),
                   steady("node_cpu_hourly_cost", node(account), 0.06, times)]
    # DEGRADED: raw metrics every 15 minutes (QUARTERS): 1 core and 1 GiB on n1 at 0.1 $/core-h and
    # 0.01 $/GiB-h: Phase 1 costs 0.11 $ an hour (cpu 0.1, ram 0.01). The exporter, also four
    # samples an hour, reports total 1 $/h = cpu 0.6 + ram 0.3 + pv 0.1 all day, and one failed
    # scrape in hour 20 (scrape_success 1, 0, 1, 1): 15 of its 20 minutes with a value are healthy,
    # so hour 20 takes 3/4 from the exporter and 1/4 from Phase 1:
    #   cpu 0.6 x 3/4 + 0.1 x 1/4 = 0.475, ram 0.3 x 3/4 + 0.01 x 1/4 = 0.2275, pv 0.075: 0.7775 $.
    #   Day: 23 x 1 + 0.7775 = 23.7775 $. (Phase 1 held for the lookback only was a third of itself:
    #   hour 20 was 0.75 + 0.11 / 3 x 1/4 = 0.759166667 $.)
    series += [steady("container_cpu_allocation", box(DEGRADED, "app-1"), 1.0, QUARTERS),
               steady("container_memory_allocation_bytes", box(DEGRADED, "app-1"), 1.0 * GIB, QUARTERS),
               steady("node_cpu_hourly_cost", node(DEGRADED), 0.1, QUARTERS),
               steady("node_ram_hourly_cost", node(DEGRADED), 0.01, QUARTERS)]
    day_hours = [hour(DAY, h) for h in range(24)]
    for metric, value in (("total_cost", 1.0), ("cpu_cost", 0.6), ("ram_cost", 0.3), ("pv_cost", 0.1)):
        series.append(hourly_series(P + metric, {"tenant_id": DEGRADED}, {h: [value] * 4 for h in day_hours}))
    series.append(hourly_series("cloudtuner_kubecost_exporter_scrape_success", {"tenant_id": DEGRADED},
                                {h: [1.0, 0.0, 1.0, 1.0] if h == hour(DAY, 20) else [1.0] * 4 for h in day_hours}))
    return series


@pytest.fixture(params=ENGINES)
def engine_under_test(request: pytest.FixtureRequest, prometheus_with) -> Iterator[EngineUnderTest]:  # type: ignore[no-untyped-def]
    with serve_as(request.param, prometheus_with, "sparse-samples", dataset()) as served:
        yield served


def backfill(engine_under_test: EngineUnderTest, database_url: str, engine: Engine, *accounts: str) -> dict:  # type: ignore[type-arg]
    settings = make_settings(engine_under_test.url, database_url, ACCOUNTS=",".join(accounts))
    summary = Pipeline(settings, ThanosClient(settings.thanos), engine).run_range(DAY, DAY, now=BACKFILL_NOW)
    assert not summary.failed
    assert daily_hourly_mismatches(engine) == []
    return {account: row for (account, day), row in daily_rows(engine).items() if day == DAY}


def test_a_series_sampled_every_15_minutes_is_present_all_hour(
    engine_under_test: EngineUnderTest, database_url: str, engine: Engine
) -> None:
    day = backfill(engine_under_test, database_url, engine, EVERY_15)[EVERY_15]
    assert day["cpu_cost"] == Decimal("2.42")
    assert day["ram_cost"] == Decimal("0.96")
    assert day["pv_cost"] == Decimal("0.048")
    assert day["load_balancer_cost"] == Decimal("0.6")
    assert day["total_cost"] == Decimal("4.028")
    assert day["hours_covered"] == 24
    assert day["default_priced_hours"] == 0
    assert day["cpu_efficiency"] == Decimal("50")
    assert day["ram_efficiency"] == Decimal("25")


def test_series_sampled_every_5_and_every_10_minutes_are_present_all_hour(
    engine_under_test: EngineUnderTest, database_url: str, engine: Engine
) -> None:
    days = backfill(engine_under_test, database_url, engine, EVERY_5, EVERY_10)
    assert days[EVERY_5]["total_cost"] == days[EVERY_10]["total_cost"] == Decimal("1.44")
    assert days[EVERY_5]["hours_covered"] == days[EVERY_10]["hours_covered"] == 24


def test_a_sparse_pod_ending_mid_hour_is_held_for_the_interval_not_the_hour(
    engine_under_test: EngineUnderTest, database_url: str, engine: Engine
) -> None:
    day = backfill(engine_under_test, database_url, engine, SPARSE_POD)[SPARSE_POD]
    assert day["cpu_cost"] == Decimal("1.506")


def test_a_sparse_sample_on_an_hour_boundary_counts_in_the_hour_it_opens(
    engine_under_test: EngineUnderTest, database_url: str, engine: Engine
) -> None:
    day = backfill(engine_under_test, database_url, engine, EDGES)[EDGES]
    assert day["cpu_cost"] == Decimal("3")
    assert day["hours_covered"] == 24


def test_a_dense_pod_keeps_the_lookback_tail(engine_under_test: EngineUnderTest, database_url: str,
                                             engine: Engine) -> None:
    day = backfill(engine_under_test, database_url, engine, SHORT_15S)[SHORT_15S]
    assert day["cpu_cost"] == Decimal("0.025")  # 25 minutes on both engines (see the dataset)
    assert day["hours_covered"] == 1


def test_a_degraded_exporter_hour_takes_a_full_phase1_share_from_sparse_raw_metrics(
    engine_under_test: EngineUnderTest, database_url: str, engine: Engine
) -> None:
    day = backfill(engine_under_test, database_url, engine, DEGRADED)[DEGRADED]
    assert day["total_cost"] == Decimal("23.7775")
    assert day["cpu_cost"] == Decimal("14.275")  # 23 x 0.6 + 0.475
    assert day["ram_cost"] == Decimal("7.1275")  # 23 x 0.3 + 0.2275
    assert day["source_phase"] == "mixed"
    assert day["exporter_stale_hours"] == 0


def test_a_cluster_that_stops_early_in_an_hour_is_held_as_its_sampling_says(
    engine_under_test: EngineUnderTest, database_url: str, engine: Engine
) -> None:
    days = backfill(engine_under_test, database_url, engine, STOPPED_1M, STOPPED_15M)
    assert days[STOPPED_1M]["cpu_cost"] == Decimal("0.6") + Decimal("0.06") * (2 + engine_under_test.tail_minutes) / 60
    assert days[STOPPED_15M]["cpu_cost"] == Decimal("0.638")  # 0.6 + 0.038
    assert days[STOPPED_1M]["hours_covered"] == days[STOPPED_15M]["hours_covered"] == 11
