"""A degraded exporter (`cloudtuner_kubecost_exporter_scrape_success` 0) and the day's closing value of
trailing 24-hour gauges, on a real Prometheus and PostgreSQL.

Gauges are sampled four times an hour, at :07:30, :22:30, :37:30 and :52:30; each sample is held
for the 5 minutes Prometheus' lookback carries it (whole minutes :08-:12, :23-:27, :38-:42 and
:53-:57), so the four samples weigh the same. The Phase 1 side of a degraded hour is tested with
the raw metrics in tests/integration/run/test_raw_phase.py.
"""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from etl.demo.prometheus import SampleSeries
from etl.run.pipeline import Pipeline
from etl.source.thanos import ThanosClient
from tests.support.datasets import OFFSETS, P, hour
from tests.support.servers import BACKFILL_NOW, make_settings
from tests.support.tables import daily_rows

DAY = date(2026, 7, 3)
DEGRADED = "acct-degraded"
RESTARTED = "acct-trailing-restart"
EVENING = "acct-trailing-evening"
TWO_CLUSTERS = "acct-trailing-clusters"
HEALTH = "cloudtuner_kubecost_exporter_scrape_success"


def samples(value_of: dict[int, list[float]]) -> list[tuple[float, float]]:
    """{hour of DAY: its four values} -> samples at the hour's OFFSETS."""
    return [(hour(DAY, h) + offset, value) for h, values in value_of.items() for offset, value in zip(OFFSETS, values,
                                                                                                      strict=True)]


def dataset() -> list[SampleSeries]:
    all_day = range(24)
    series: list[SampleSeries] = []
    # DEGRADED (no Phase 1 data at all, as when the exporter's remote write ships only
    # cloudtuner_kubecost_*): total 10 $/h, cpu 4 $/h all day; the exporter reports one failed
    # scrape, at 05:37:30 (its minutes 05:38-05:42). Hour 5 keeps its three healthy samples: 10 $,
    # cpu 4 $, held over the failed stretch and flagged (exporter_stale_hours = 1). Day: 240 $.
    labels = {"tenant_id": DEGRADED, "cluster": "d"}
    series += [SampleSeries(P + "total_cost", labels, samples({h: [10.0] * 4 for h in all_day})),
               SampleSeries(P + "cpu_cost", labels, samples({h: [4.0] * 4 for h in all_day})),
               SampleSeries(HEALTH, labels,
                            samples({h: [1.0, 1.0, 0.0, 1.0] if h == 5 else [1.0] * 4 for h in all_day}))]
    # Trailing 24-hour gauges (run with EXPORTER_GAUGE_WINDOW=trailing_24h): a day costs its
    # closing value x its covered hours; the closing value is the latest healthy value, one per
    # cluster.
    # RESTARTED: the rate is h + 1 in hour h; the exporter restarts at 23:30 and its new pod
    # publishes 30 from 23:37:30. At the day's last minute with a value (23:57) only the new pod's
    # sample is held: closing value 30 -> 30 x 24 = 720 $. (The mean of each series' last value,
    # (24 + 30) / 2 = 27, would give 648 $.)
    old = {"tenant_id": RESTARTED, "cluster": "r", "pod": "exp-a"}
    series += [SampleSeries(P + "total_cost", old, samples({h: [h + 1.0] * 4 for h in range(23)})
                            + [(hour(DAY, 23) + offset, 24.0) for offset in OFFSETS[:2]]),
               SampleSeries(P + "total_cost", {**old, "pod": "exp-b"},
                            [(hour(DAY, 23) + offset, 30.0) for offset in OFFSETS[2:]])]
    # EVENING: the rate is h + 1 in hour h; from 20:00 the exporter's scrapes fail and it publishes
    # a partial 5 $/h. The closing value is the last healthy one, 20 (hour 19), for every covered
    # hour, the failing evening included: 20 x 24 = 480 $. (The last value, 5, would give 120 $.)
    labels = {"tenant_id": EVENING, "cluster": "e"}
    series += [SampleSeries(P + "total_cost", labels,
                            samples({h: [h + 1.0 if h < 20 else 5.0] * 4 for h in all_day})),
               SampleSeries(HEALTH, labels, samples({h: [1.0 if h < 20 else 0.0] * 4 for h in all_day}))]
    # TWO_CLUSTERS: cluster c1 at 10 $/h and c2 at 5 $/h all day: (10 + 5) x 24 = 360 $.
    for cluster, rate in (("c1", 10.0), ("c2", 5.0)):
        series.append(SampleSeries(P + "total_cost", {"tenant_id": TWO_CLUSTERS, "cluster": cluster},
                                   samples({h: [rate] * 4 for h in all_day})))
    return series


@pytest.fixture
def thanos_url(prometheus_with) -> str:  # type: ignore[no-untyped-def]
    return prometheus_with("degraded-exporter", dataset())


def backfill(thanos_url: str, database_url: str, engine: Engine, accounts: str, **env: str) -> None:
    settings = make_settings(thanos_url, database_url, ACCOUNTS=accounts, **env)
    summary = Pipeline(settings, ThanosClient(settings.thanos), engine).run_range(DAY, DAY, now=BACKFILL_NOW)
    assert not summary.failed


def test_one_failed_scrape_keeps_the_hour_from_its_healthy_samples(
    thanos_url: str, database_url: str, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    backfill(thanos_url, database_url, engine, DEGRADED)
    day = daily_rows(engine)[(DEGRADED, DAY)]
    assert (day["total_cost"], day["cpu_cost"], day["hours_covered"]) == (Decimal("240"), Decimal("96"), 24)
    assert day["exporter_stale_hours"] == 1
    assert day["source_phase"] == "exporter"
    assert any(DEGRADED in r.getMessage() and "failed scrapes" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(("account", "total"), [(RESTARTED, "720"), (EVENING, "480"), (TWO_CLUSTERS, "360")])
def test_the_closing_value_is_the_latest_healthy_value_per_cluster(
    thanos_url: str, database_url: str, engine: Engine, account: str, total: str
) -> None:
    backfill(thanos_url, database_url, engine, account, EXPORTER_GAUGE_WINDOW="trailing_24h")
    day = daily_rows(engine)[(account, DAY)]
    assert (day["total_cost"], day["hours_covered"]) == (Decimal(total), 24)
