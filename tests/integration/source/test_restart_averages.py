"""Hour averages across a restart of the exporting process, on a real Prometheus and PostgreSQL.

A restart gives every series a new ``pod`` / ``instance`` label, so within that hour one gauge
has two series covering different parts of it. The hour's figure weighs each value by the time it
stood, whichever series holds it, not the mean of the two series' means. The restart happens at
:45 of hour 5. Expected figures are worked out by hand below.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from etl.demo.prometheus import SampleSeries
from etl.model import utc_midnight
from etl.run.pipeline import Pipeline
from etl.source.thanos import ThanosClient
from tests.support.datasets import OFFSETS, scrapes
from tests.support.servers import make_settings
from tests.support.tables import daily_rows

DAY = date(2026, 8, 20)
START = utc_midnight(DAY).timestamp()

RESTART = START + 5 * 3600 + 2700  # 05:45
EXPORTER = "acct-exporter-restart"
RAW = "acct-raw-restart"


def split_at_restart(metric: str, labels: dict[str, str], label: str, before: tuple[str, float],
                     after: tuple[str, float], times: list[float]) -> list[SampleSeries]:
    """One gauge sampled at ``times``: value before[1] under label=before[0] until the restart,
    then after[1] under label=after[0]."""
    return [
        SampleSeries(metric, {**labels, label: before[0]}, [(t, before[1]) for t in times if t < RESTART]),
        SampleSeries(metric, {**labels, label: after[0]}, [(t, after[1]) for t in times if t >= RESTART]),
    ]


def dataset() -> list[SampleSeries]:
    # EXPORTER: total 10 $/h from exporter pod a, then 14 $/h from pod b after the restart, sampled
    # at :07:30, :22:30, :37:30 and :52:30, each sample held for the 5 minutes the lookback carries
    # it (promtool data has no staleness markers): hour 5 holds 10 at :08-:12, :23-:27, :38-:42 and
    # 14 at :53-:57.
    #   hours 0-4: 10 $; hour 5: (15 x 10 + 5 x 14) / 20 = 11 $; hours 6-23: 14 $
    #   day = 5 x 10 + 11 + 18 x 14 = 50 + 11 + 252 = 313 $ (the mean of means would give 12 $ in hour 5).
    quarter_hours = [START + h * 3600 + offset for h in range(24) for offset in OFFSETS]
    series = split_at_restart("cloudtuner_kubecost_cluster_total_cost", {"tenant_id": EXPORTER}, "pod",
                              ("exporter-a", 10.0), ("exporter-b", 14.0), quarter_hours)
    # RAW, scraped every minute: one container of 1 core on node n1 all day; OpenCost restarts
    # (new instance label) at 05:45 and comes back with n1's CPU price at 0.08 $/core-h instead of
    # 0.04. The old series' last samples (05:44) are still seen through 05:49 (no staleness marker
    # in promtool data), so for 5 minutes both copies are there: the allocation counts once (copies
    # are averaged: 1 core), the price is their mean, 0.06.
    #   hours 0-4: 0.04 $; hour 5: 1 core x (45 x 0.04 + 5 x 0.06 + 10 x 0.08) / 60 = 2.9 / 60
    #   = 0.048333333 $; hours 6-23: 0.08 $.
    #   day cpu = 5 x 0.04 + 0.048333333 + 18 x 0.08 = 0.2 + 0.048333333 + 1.44 = 1.688333333 $
    #   (charging both copies of the allocation would double hour 5; with the staleness marker a
    #   live restart writes, hour 5 would be (45 x 0.04 + 15 x 0.08) / 60 = 0.05 $).
    minutes = scrapes(START, START + 24 * 3600)
    container = {"tenant_id": RAW, "namespace": "ns", "pod": "app-1", "container": "app", "node": "n1"}
    series += split_at_restart("container_cpu_allocation", container, "instance",
                               ("10.1.0.5:9003", 1.0), ("10.1.0.9:9003", 1.0), minutes)
    series += split_at_restart("node_cpu_hourly_cost", {"tenant_id": RAW, "node": "n1"}, "instance",
                               ("10.1.0.5:9003", 0.04), ("10.1.0.9:9003", 0.08), minutes)
    return series


@pytest.fixture
def thanos_url(prometheus_with) -> str:  # type: ignore[no-untyped-def]
    return prometheus_with("restart-averages", dataset())


def test_an_hour_average_weighs_every_sample_once_across_a_restart(
    thanos_url: str, database_url: str, engine: Engine
) -> None:
    settings = make_settings(thanos_url, database_url, ACCOUNTS=f"{EXPORTER},{RAW}")
    summary = Pipeline(settings, ThanosClient(settings.thanos), engine).run_range(
        DAY, DAY, now=datetime(2026, 11, 1, tzinfo=UTC))
    assert not summary.failed
    days = daily_rows(engine)
    assert days[(EXPORTER, DAY)]["total_cost"] == Decimal("313")
    assert days[(RAW, DAY)]["cpu_cost"] == Decimal("1.688333333")
    assert days[(RAW, DAY)]["total_cost"] == Decimal("1.688333333")
    assert days[(RAW, DAY)]["default_priced_hours"] == 0
