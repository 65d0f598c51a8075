"""The exporter's plain query forms (etl.source.plain) give exactly the full forms' figures where the
check allows them, and the check refuses them wherever they would not, on a real Prometheus.

Data: one UTC day, every series scraped once a minute on the minute (the hour's 60 subquery points
each see the sample of their own minute), cluster c1 in USD unless said.
- CLEAN: total_cost 2 $/h for the first 30 minutes of every hour and 4 $/h for the last 30:
  (30 x 2 + 30 x 4) / 60 = 3 $ an hour; cpu_cost 1 $/h; health 1 all day.
- COPIES: total_cost from two exporter pods at once (an HA pair not deduplicated), 2 and 4 $/h:
  each minute averages them, 3 $; per series the plain form would give two rows of 2 and 4.
- BEFORE: total_cost 1 $/h from 00:03 on, and one sample of -5 at 23:58 the day before, held into
  00:00-00:02 by the lookback (outside every hour's census window): the full form leaves those
  minutes out (hour 0 = its 57 minutes at 1 $/h = 1 $), the plain form would average -5 into them
  ((3 x -5 + 57 x 1) / 60 = 0.7 $).
- DEGRADED: total_cost 1 $/h; health 0 at 10:00-10:29: those minutes are not healthy.
- NAN, INF, MINUS_INF: total_cost 1 $/h with one sample at 12:30 of NaN, +Inf or -Inf: not money,
  which the full form leaves out and the plain form would not.
"""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest

from etl.config import load_settings
from etl.demo.prometheus import SampleSeries
from etl.model import HourRange
from etl.source.exporter import fetch_exporter_answer
from etl.source.fetch import fetch_hourly
from etl.source.hold import fetch_presence
from etl.source.metrics import CPU_PRICE_METRIC
from etl.source.plain import clean_accounts, exporter_checked, exporter_coverage_plain, gauge_plain
from etl.source.promql import (
    EXPORTER_GROUPING,
    EXPORTER_HEALTH_METRIC,
    MINUTES_LABEL,
    exporter_coverage,
    exporter_gauge,
    hourly_price,
)
from etl.source.raw import CPU_ALLOCATION, PRICES, fetch_raw_metrics
from etl.source.thanos import ThanosClient
from tests.support.datasets import MINUTE, P, hour, scrapes

DAY = date(2026, 6, 10)
HOURS = HourRange.for_days(DAY, DAY)
CLEAN, COPIES, BEFORE, DEGRADED = "acct-plain-clean", "acct-plain-copies", "acct-plain-before", "acct-plain-degraded"
NOT_MONEY = {"acct-plain-nan": math.nan, "acct-plain-inf": math.inf, "acct-plain-minus-inf": -math.inf}
GAUGES = {"total_cost": P + "total_cost", "cpu_cost": P + "cpu_cost"}


def cluster(account: str, **extra: str) -> dict[str, str]:
    return {"tenant_id": account, "cluster": "c1", "currency": "USD", **extra}


def dataset() -> list[SampleSeries]:
    day = scrapes(hour(DAY, 0), hour(DAY, 24))
    half_hourly = [(t, 2.0 if (t - hour(DAY, 0)) % 3600 < 1800 else 4.0) for t in day]
    return [
        SampleSeries(P + "total_cost", cluster(CLEAN), half_hourly),
        SampleSeries(P + "cpu_cost", cluster(CLEAN), [(t, 1.0) for t in day]),
        SampleSeries(EXPORTER_HEALTH_METRIC, cluster(CLEAN), [(t, 1.0) for t in day]),
        SampleSeries(P + "total_cost", cluster(COPIES, pod="exporter-a"), [(t, 2.0) for t in day]),
        SampleSeries(P + "total_cost", cluster(COPIES, pod="exporter-b"), [(t, 4.0) for t in day]),
        SampleSeries(P + "total_cost", cluster(BEFORE),
                     [(hour(DAY, 0) - 2 * MINUTE, -5.0)] + [(t, 1.0) for t in day if t >= hour(DAY, 0) + 3 * MINUTE]),
        SampleSeries(P + "total_cost", cluster(DEGRADED), [(t, 1.0) for t in day]),
        SampleSeries(EXPORTER_HEALTH_METRIC, cluster(DEGRADED),
                     [(t, 0.0 if hour(DAY, 10) <= t < hour(DAY, 10) + 1800 else 1.0) for t in day]),
        *(SampleSeries(P + "total_cost", cluster(account),
                       [(t, bad if t == hour(DAY, 12) + 1800 else 1.0) for t in day])
          for account, bad in NOT_MONEY.items()),
    ]


@pytest.fixture(scope="module")
def client(prometheus_with) -> ThanosClient:  # type: ignore[no-untyped-def]
    url = prometheus_with("plain-forms", dataset())
    return ThanosClient(load_settings(environ={"THANOS_URL": url}).thanos)


def gauge(client: ThanosClient, account: str, plain: bool) -> pd.DataFrame:
    form = gauge_plain if plain else exporter_gauge
    return fetch_hourly(client, form(GAUGES["total_cost"], "tenant_id", [account], False), "total_cost", HOURS,
                        "tenant_id", EXPORTER_GROUPING)


def coverage(client: ThanosClient, account: str, plain: bool) -> pd.DataFrame:
    form = exporter_coverage_plain if plain else exporter_coverage
    return fetch_hourly(client, form("tenant_id", [account]), "minutes", HOURS, "tenant_id",
                        [*EXPORTER_GROUPING, MINUTES_LABEL])


def test_a_clean_chunk_is_asked_plainly_and_gives_the_same_figures(client: ThanosClient) -> None:
    checked = exporter_checked(GAUGES)
    assert clean_accounts(client, checked, "tenant_id", [CLEAN], HOURS) == {column: {CLEAN} for column in GAUGES}
    plain, full = gauge(client, CLEAN, plain=True), gauge(client, CLEAN, plain=False)
    pd.testing.assert_frame_equal(plain, full)  # every hour, to the last bit
    assert list(full["total_cost"]) == [3.0] * 24  # (30 x 2 + 30 x 4) / 60
    plain_minutes, full_minutes = coverage(client, CLEAN, plain=True), coverage(client, CLEAN, plain=False)
    pd.testing.assert_frame_equal(plain_minutes, full_minutes)
    assert set(full_minutes[MINUTES_LABEL]) == {"healthy"} and list(full_minutes["minutes"]) == [60.0] * 24


@pytest.mark.parametrize("account", [COPIES, BEFORE])
def test_copies_or_a_bad_sample_held_into_the_chunk_keep_the_full_form(client: ThanosClient, account: str) -> None:
    # no cpu_cost series: clean
    clean = clean_accounts(client, exporter_checked(GAUGES), "tenant_id", [account], HOURS)
    assert clean == {"total_cost": set(), "cpu_cost": {account}}
    full = gauge(client, account, plain=False)
    assert not gauge(client, account, plain=True).equals(full)  # what the check prevents
    if account == COPIES:
        assert list(full["total_cost"]) == [3.0] * 24  # each minute averages 2 and 4
    else:
        assert list(full["total_cost"]) == [1.0] * 24  # the -5 held into hour 0 left out
        assert gauge(client, account, plain=True)["total_cost"].iloc[0] == pytest.approx(0.7)


@pytest.mark.parametrize("account", list(NOT_MONEY))
def test_a_sample_that_is_not_money_keeps_the_full_form(client: ThanosClient, account: str) -> None:
    clean = clean_accounts(client, exporter_checked(GAUGES), "tenant_id", [account], HOURS)
    assert clean == {"total_cost": set(), "cpu_cost": {account}}
    full = gauge(client, account, plain=False)
    assert list(full["total_cost"]) == [1.0] * 24  # the bad minute left out of hour 12
    assert not gauge(client, account, plain=True).equals(full)  # what the check prevents


def test_a_failed_scrape_keeps_the_full_form_for_every_gauge(client: ThanosClient) -> None:
    clean = clean_accounts(client, exporter_checked(GAUGES), "tenant_id", [DEGRADED], HOURS)
    assert clean == {column: set() for column in GAUGES}
    minutes = coverage(client, DEGRADED, plain=False)
    hour_10 = minutes[minutes["hour_start"] == pd.Timestamp(hour(DAY, 10), unit="s", tz="UTC")]
    assert dict(zip(hour_10[MINUTES_LABEL], hour_10["minutes"], strict=True)) == {"healthy": 30.0, "unhealthy": 30.0}
    assert not coverage(client, DEGRADED, plain=True).equals(minutes)


class Recording(ThanosClient):
    """The client, keeping the text of every range query it sends."""

    sent: list[str]

    def query_range(self, query: str, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.sent.append(query)
        return super().query_range(query, *args, **kwargs)


def test_each_account_of_a_batch_is_checked_on_its_own(client: ThanosClient) -> None:
    # Copies in one account (an exporter restart anywhere in a batch's chunk, common in a fleet) keep
    # the full form for that account only; before, the whole batch lost the plain form for the gauge.
    batch = [CLEAN, COPIES, DEGRADED]
    assert clean_accounts(client, exporter_checked(GAUGES), "tenant_id", batch, HOURS) == {"total_cost": {CLEAN},
                                                                          "cpu_cost": {CLEAN, COPIES}}
    recording = Recording(client._settings)
    recording.sent = []
    answer = fetch_exporter_answer(recording, "tenant_id", batch, HOURS, False)
    plain_total = [query for query in recording.sent if query.startswith(f"avg_over_time({GAUGES['total_cost']}{{")]
    assert len(plain_total) == 1 and CLEAN in plain_total[0] and COPIES not in plain_total[0]
    # the same figures as the full forms for all three: CLEAN 3 $, COPIES 3 $, DEGRADED 1 $ an hour
    full = pd.concat([gauge(client, account, plain=False) for account in batch], ignore_index=True)
    got = answer.gauges.dropna(subset=["total_cost"])

    def figures(frame: pd.DataFrame) -> list[tuple[str, pd.Timestamp, float]]:
        return sorted(zip(frame["cloud_account_id"].astype(str), frame["hour_start"], frame["total_cost"], strict=True))

    assert figures(got) == figures(full)  # to the last bit
    assert {account for account, _, _ in figures(got)} == set(batch) and len(got) == 3 * 24


# Phase 1 (one more UTC day of the same Prometheus): container_cpu_allocation, scraped every minute.
# - RAW_CLEAN on node n1: web/web-1 2 cores all day; short/short-1 1 core sampled from 10:20 to 10:39,
#   its last sample held by the 5-minute lookback (no staleness marker): 25 of hour 10's minutes,
#   short = 25 / 60 in hour 10; web 2 every hour.
# - RAW_COPIES: app/app-1 reported by two OpenCost pods at once, 2 and 4 cores: each minute averages
#   them, 3 an hour; per series the plain form would sum 2 + 4 = 6.
# Prices (node_cpu_hourly_cost of node n1):
# - RAW_CLEAN 0.02 $ per core-hour for the first 30 minutes of every hour, 0.04 for the last 30: 0.03.
# - RAW_COPIES from both OpenCost pods, 0.02 and 0.04: each minute averages them, 0.03; per series
#   the plain form would give two prices of one node.
# - RAW_ZERO 0.04, but 0 at 12:00-12:29: a 0 is no price, hour 12 is 0.04 (the plain form: 0.02).
RAW_DAY = date(2026, 6, 11)
RAW_HOURS = HourRange.for_days(RAW_DAY, RAW_DAY)
RAW_CLEAN, RAW_COPIES, RAW_ZERO = "acct-plain-raw-clean", "acct-plain-raw-copies", "acct-plain-raw-zero"


def raw_dataset() -> list[SampleSeries]:
    day = scrapes(hour(RAW_DAY, 0), hour(RAW_DAY, 24))
    short = [(t, 1.0) for t in day if hour(RAW_DAY, 10) + 20 * MINUTE <= t < hour(RAW_DAY, 10) + 40 * MINUTE]

    def box(account: str, pod: str, **extra: str) -> dict[str, str]:
        return {"tenant_id": account, "namespace": pod.split("-")[0], "pod": pod, "container": "main", "node": "n1",
                **extra}

    return [
        SampleSeries("container_cpu_allocation", box(RAW_CLEAN, "web-1"), [(t, 2.0) for t in day]),
        SampleSeries("container_cpu_allocation", box(RAW_CLEAN, "short-1"), short),
        *(SampleSeries("container_cpu_allocation", box(RAW_COPIES, "app-1", instance=f"opencost-{name}"),
                       [(t, cores) for t in day]) for name, cores in (("a", 2.0), ("b", 4.0))),
        SampleSeries(CPU_PRICE_METRIC, {"tenant_id": RAW_CLEAN, "node": "n1", "instance": "opencost-a"},
                     [(t, 0.02 if (t - hour(RAW_DAY, 0)) % 3600 < 1800 else 0.04) for t in day]),
        *(SampleSeries(CPU_PRICE_METRIC, {"tenant_id": RAW_COPIES, "node": "n1", "instance": f"opencost-{name}"},
                       [(t, price) for t in day]) for name, price in (("a", 0.02), ("b", 0.04))),
        SampleSeries(CPU_PRICE_METRIC, {"tenant_id": RAW_ZERO, "node": "n1"},
                     [(t, 0.0 if hour(RAW_DAY, 12) <= t < hour(RAW_DAY, 12) + 1800 else 0.04) for t in day]),
    ]


@pytest.fixture(scope="module")
def raw_client(prometheus_with) -> ThanosClient:  # type: ignore[no-untyped-def]
    url = prometheus_with("plain-forms-raw", raw_dataset())
    return ThanosClient(load_settings(environ={"THANOS_URL": url}).thanos)


def test_phase_1_presence_sums_are_asked_plainly_per_clean_account(raw_client: ThanosClient) -> None:
    batch = [RAW_CLEAN, RAW_COPIES]
    checked = {"cpu_allocation": CPU_ALLOCATION.checked}
    assert clean_accounts(raw_client, checked, "tenant_id", batch, RAW_HOURS, health=False) == {
        "cpu_allocation": {RAW_CLEAN}}
    recording = Recording(raw_client._settings)
    recording.sent = []
    plain = fetch_presence(recording, CPU_ALLOCATION, "cores", RAW_HOURS, "tenant_id", batch, clean={RAW_CLEAN})
    full = fetch_presence(raw_client, CPU_ALLOCATION, "cores", RAW_HOURS, "tenant_id", batch)
    assert any(query.startswith("sum by (tenant_id, node, namespace) (sum_over_time(container_cpu_allocation{")
               and RAW_CLEAN in query and RAW_COPIES not in query for query in recording.sent)

    def cores(frame: pd.DataFrame) -> dict[tuple[str, int, str], float]:
        return {(str(row.cloud_account_id), row.hour_start.hour, str(row.namespace)): row.cores
                for row in frame.itertuples()}

    expected = {**{(RAW_CLEAN, h, "web"): 2.0 for h in range(24)},
                (RAW_CLEAN, 10, "short"): 25 / 60, **{(RAW_COPIES, h, "app"): 3.0 for h in range(24)}}
    assert cores(full) == pytest.approx(expected, rel=1e-12)
    assert cores(plain) == pytest.approx(cores(full), rel=1e-12)  # the same terms in another order


def test_phase_1_prices_are_asked_plainly_per_clean_account(raw_client: ThanosClient) -> None:
    batch = [RAW_CLEAN, RAW_COPIES, RAW_ZERO]
    assert clean_accounts(raw_client, {"cpu_price": PRICES["cpu_price"].checked}, "tenant_id", batch, RAW_HOURS,
                          health=False) == {"cpu_price": {RAW_CLEAN}}
    recording = Recording(raw_client._settings)
    recording.sent = []
    got = fetch_raw_metrics(recording, "tenant_id", batch, RAW_HOURS).cpu_price
    plain = [query for query in recording.sent if query.startswith(f"avg_over_time({CPU_PRICE_METRIC}{{")]
    assert len(plain) == 1 and RAW_CLEAN in plain[0] and RAW_COPIES not in plain[0] and RAW_ZERO not in plain[0]
    full = fetch_hourly(raw_client, hourly_price(CPU_PRICE_METRIC, "tenant_id", batch, ["node"]), "price", RAW_HOURS,
                        "tenant_id", ["node"])

    def prices(frame: pd.DataFrame) -> dict[tuple[str, int, str], float]:
        return {(str(row.cloud_account_id), row.hour_start.hour, str(row.node)): row.price
                for row in frame.itertuples()}

    expected = {(account, h, "n1"): 0.04 if account == RAW_ZERO else 0.03 for account in batch for h in range(24)}
    assert prices(full) == pytest.approx(expected, rel=1e-12)
    assert prices(got) == prices(full)  # to the last bit
