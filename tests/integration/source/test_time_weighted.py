"""An hour's cost is the integral of its rate over the hour, on a real Prometheus and PostgreSQL,
evaluated both as Prometheus 2.x does (this server) and as 3.x / Thanos' v3 engine do (left-open
ranges and lookback, emulated exactly: tests.support.engines).

Each sample stands for the time until the next one (sample and hold, sampled every minute of
the hour). promtool-loaded data carries no staleness markers, so a series' last sample is still
seen for 5 minutes after it: through last + 5 min on 2.x (its lookback includes the left edge),
through last + 4 min on 3.x, at whole minutes. The expected figures below say where that counts.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from etl.demo.prometheus import SampleSeries
from etl.model import GIB, utc_midnight
from etl.run.pipeline import Pipeline
from etl.source.thanos import ThanosClient
from tests.support.datasets import MINUTE, P, cpu_counter, hour, scrapes, steady
from tests.support.engines import ENGINES, EngineUnderTest, serve_as
from tests.support.servers import BACKFILL_NOW, make_settings
from tests.support.tables import daily_rows

DAY = date(2026, 7, 2)
START = utc_midnight(DAY).timestamp()
SCRAPE_CHANGE = "acct-scrape-change"
SHORT_POD = "acct-short-pod"
EDGES = "acct-edges"
HA_PAIR = "acct-ha-pair"


def dataset() -> list[SampleSeries]:
    ten, eleven = hour(DAY, 10), hour(DAY, 11)
    series: list[SampleSeries] = []
    # SCRAPE_CHANGE: the exporter's total is 3 $/h from 10:00 to 10:30, scraped every 15 s (120
    # samples), then 1 $/h from 10:30 to 11:00, scraped every 60 s (30 samples). Weighed by time:
    # (30 min x 3 + 30 min x 1) / 60 min = 2 $ for hour 10. (A plain mean of the samples gives
    # (120 x 3 + 30 x 1) / 150 = 2.6 $.) Hour 11 sees the 10:59 sample for a few minutes but holds
    # no sample of its own: it is no hour of the exporter.
    series.append(SampleSeries(P + "total_cost", {"tenant_id": SCRAPE_CHANGE},
                               [(t, 3.0) for t in scrapes(ten, ten + 1800, 15.0)]
                               + [(t, 1.0) for t in scrapes(ten + 1800, eleven, 60.0)]))
    # SHORT_POD: a cluster whose only pod (1 core on node n1, 0.06 $/core-h) ran 20 minutes,
    # scraped every minute from 10:00 to 10:19. Its last sample is seen through 10:24 on 2.x
    # (25 minutes) and through 10:23 on 3.x (24 minutes): 1 x 0.06 x 25/60 = 0.025 $ and
    # 1 x 0.06 x 24/60 = 0.024 $. (With the staleness marker a live scrape writes it would be
    # 20 minutes, 0.02 $.) Charging the full hour would be 0.06 $.
    pod = {"tenant_id": SHORT_POD, "namespace": "ns", "pod": "job-1", "container": "main", "node": "n1"}
    series.append(steady("container_cpu_allocation", pod, 1.0, scrapes(ten, ten + 20 * MINUTE)))
    series.append(steady("node_cpu_hourly_cost", {"tenant_id": SHORT_POD, "node": "n1"}, 0.06,
                         scrapes(ten, eleven)))
    # EDGES: a sample exactly on every hour boundary 00:00 ... 24:00 worth 2h, and one at h:30
    # worth 0, for hour h. Each sample is held until the next, so hour h averages 2h over its first
    # half-hour... as far as the 5-minute lookback carries it: 00-05 (2.x: 6 minutes) or 00-04 (3.x:
    # 5 minutes), then 0 for as long. Either way the hour is (2h + 0) / 2 = h $, never mixing in the
    # sample at (h+1):00, and the day is 0 + 1 + ... + 23 = 276 $. A window that drops the sample on
    # its left edge (the old one on 3.x) would give 0 $ for every hour.
    edges = [(START + h * 3600, 2.0 * h) for h in range(25)] + [(START + h * 3600 + 1800, 0.0) for h in range(24)]
    series.append(SampleSeries(P + "total_cost", {"tenant_id": EDGES}, sorted(edges)))
    # HA_PAIR: two Prometheus replicas scrape the same OpenCost and cAdvisor and remote-write both
    # copies (label `replica`, no deduplication). Hour 10, every minute: a container allocated 2
    # cores and 4 GiB on n1 (0.05 $/core-h, 0.01 $/GiB-h) using 1 core and 1 GiB.
    # CPU 2 x 0.05 = 0.1 $, RAM 4 x 0.01 = 0.04 $: each copy counted once.
    # CPU efficiency 1 / 2 = 50 % (summing both copies of the usage counter would say 100 %),
    # RAM 1 / 4 = 25 %.
    minutes = scrapes(ten, eleven)
    for replica in ("a", "b"):
        box = {"tenant_id": HA_PAIR, "namespace": "ns", "pod": "api-1", "container": "api", "node": "n1",
               "replica": replica}
        node = {"tenant_id": HA_PAIR, "node": "n1", "replica": replica}
        series += [
            steady("container_cpu_allocation", box, 2.0, minutes),
            steady("container_memory_allocation_bytes", box, 4.0 * GIB, minutes),
            steady("node_cpu_hourly_cost", node, 0.05, minutes),
            steady("node_ram_hourly_cost", node, 0.01, minutes),
            cpu_counter(box, 1.0, minutes),
            steady("container_memory_working_set_bytes", box, 1.0 * GIB, minutes),
        ]
    return series


@pytest.fixture(params=ENGINES)
def engine_under_test(request: pytest.FixtureRequest, prometheus_with) -> Iterator[EngineUnderTest]:  # type: ignore[no-untyped-def]
    with serve_as(request.param, prometheus_with, "time-weighted", dataset()) as served:
        yield served


def backfill(engine_under_test: EngineUnderTest, database_url: str, engine: Engine, account: str) -> dict:  # type: ignore[type-arg]
    settings = make_settings(engine_under_test.url, database_url, ACCOUNTS=account)
    summary = Pipeline(settings, ThanosClient(settings.thanos), engine).run_range(DAY, DAY, now=BACKFILL_NOW)
    assert not summary.failed
    return daily_rows(engine)[(account, DAY)]


def test_each_sample_weighs_the_time_it_stands_for(engine_under_test: EngineUnderTest, database_url: str,
                                                   engine: Engine) -> None:
    day = backfill(engine_under_test, database_url, engine, SCRAPE_CHANGE)
    assert day["total_cost"] == Decimal("2")
    assert day["hours_covered"] == 1


def test_a_pod_present_20_minutes_costs_its_minutes_not_the_hour(engine_under_test: EngineUnderTest, database_url: str,
                                                                  engine: Engine) -> None:
    day = backfill(engine_under_test, database_url, engine, SHORT_POD)
    minutes = 20 + engine_under_test.tail_minutes  # 25 on 2.x, 24 on 3.x (see the dataset)
    assert day["cpu_cost"] == Decimal("0.06") * minutes / 60
    assert day["total_cost"] == day["cpu_cost"]
    assert day["hours_covered"] == 1


def test_a_sample_on_an_hour_boundary_counts_in_one_hour_on_both_engines(
    engine_under_test: EngineUnderTest, database_url: str, engine: Engine
) -> None:
    day = backfill(engine_under_test, database_url, engine, EDGES)
    assert day["total_cost"] == Decimal("276")
    assert day["hours_covered"] == 24


def test_copies_of_an_ha_pair_count_once_in_costs_and_usage(engine_under_test: EngineUnderTest, database_url: str,
                                                            engine: Engine) -> None:
    day = backfill(engine_under_test, database_url, engine, HA_PAIR)
    assert day["cpu_cost"] == Decimal("0.1")
    assert day["ram_cost"] == Decimal("0.04")
    assert day["cpu_efficiency"] == Decimal("50")
    assert day["ram_efficiency"] == Decimal("25")
