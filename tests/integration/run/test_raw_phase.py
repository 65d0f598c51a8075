"""Phase 1 (raw OpenCost / cAdvisor metrics) backfill against a real Prometheus and PostgreSQL.

Every expected figure below is computed by hand from the samples this module loads; the comments
next to the dataset and the assertions show the arithmetic. OpenCost and cAdvisor series are
scraped every minute, on the minute; the exporter's gauges four times an hour (:07:30, :22:30,
:37:30, :52:30). promtool-loaded data carries no staleness markers, so Prometheus (2.x) still sees
a series' last sample for 5 minutes after it: a pod whose last scrape is at 12:29 counts through
12:34, 35 minutes of hour 12 (docs/phase1.md).
"""

from __future__ import annotations

import logging
from datetime import UTC, date
from decimal import Decimal

import pytest
from sqlalchemy import Engine, text

from etl.demo.prometheus import SampleSeries, hourly_series
from etl.model import utc_midnight
from etl.run.pipeline import RunSummary
from tests.support.datasets import OFFSETS, P, hour, scrapes, steady
from tests.support.opencost import node_prices, pod_workload, pvc
from tests.support.servers import run_backfill
from tests.support.tables import daily_hourly_mismatches, daily_rows

DAY1, DAY2 = date(2026, 10, 5), date(2026, 10, 6)
RAW_A = "acct-p1-alpha"  # raw metrics only: two priced nodes, one unpriced node, PVCs, a load balancer
RAW_B = "acct-p1-beta"  # raw metrics only, same node/volume names as RAW_A, other prices, no usage data
SWITCH = "acct-p1-switch"  # raw metrics all along; exporter deployed at noon of DAY1
RAW_SPARSE = "acct-p1-sparse"  # RAW_B's workload and prices, scraped four times an hour

EXPORTER = P
OPENCOST_METRICS = {"container_cpu_allocation", "container_memory_allocation_bytes", "pod_pvc_allocation",
                    "node_cpu_hourly_cost", "node_ram_hourly_cost", "pv_hourly_cost", "kubecost_load_balancer_cost"}


def with_opencost_restart(series: list[SampleSeries], at: float) -> list[SampleSeries]:
    """OpenCost restarted at ``at``: each of its series continues under a new ``instance`` label
    (a new pod IP), as a real restart does; cAdvisor series are untouched."""
    restarted: list[SampleSeries] = []
    for one in series:
        if one.metric not in OPENCOST_METRICS:
            restarted.append(one)
            continue
        for instance, samples in (("10.1.0.5:9003", [s for s in one.samples if s[0] < at]),
                                  ("10.1.0.9:9003", [s for s in one.samples if s[0] >= at])):
            if samples:
                restarted.append(SampleSeries(one.metric, {**one.labels, "instance": instance}, samples, one.kind))
    return restarted


def dataset() -> list[SampleSeries]:
    all_day1 = scrapes(hour(DAY1, 0), hour(DAY1, 24))
    series: list[SampleSeries] = []

    # RAW_A, DAY1 only.
    #   node n1: 0.04 $/core-h, 0.005 $/GiB-h.  node n2: 0.02 $/core-h, RAM price published as 0
    #   (-> default 0.004237).  node n3: no price series at all (-> defaults 0.031611 / 0.004237).
    #   web-1/app on n1 all day: 2 cores, 4 GiB; uses 1 core, 1 GiB.
    #   batch-1/worker on n2: 4 cores, 8 GiB; uses 3 cores, 6 GiB; runs hours 0-11 and is deleted
    #   at 12:30 (its last scrape is at 12:29; it is seen through 12:34: 35 minutes of hour 12).
    #   orphan-1/main on n3 all day: 2 cores, 4 GiB; uses 0.5 core, 1 GiB.
    #   PVs: pv-web (10 GiB, claimed by web-1) priced 0.0001 $/GiB-h, published under the
    #   `volumename` label only; pv-cache (10 GiB, claimed by orphan-1) has no price in RAW_A.
    #   A load balancer at 0.025 $/h all day.
    #   OpenCost restarts at 06:30: every OpenCost series of hour 6 is split in two halves with
    #   different `instance` labels (both seen 06:30-06:34). That must not change any figure (hour 6
    #   is not charged twice).
    batch_times = scrapes(hour(DAY1, 0), hour(DAY1, 12) + 1800)
    series += pod_workload(RAW_A, "shop", "web-1", "app", "n1", all_day1, 2, 4, 1, 1)
    series += pod_workload(RAW_A, "jobs", "batch-1", "worker", "n2", batch_times, 4, 8, 3, 6)
    series += pod_workload(RAW_A, "misc", "orphan-1", "main", "n3", all_day1, 2, 4, 0.5, 1)
    series += node_prices(RAW_A, "n1", 0.04, 0.005, all_day1)
    series += node_prices(RAW_A, "n2", 0.02, 0.0, all_day1)
    series += [
        pvc(RAW_A, "shop", "web-1", "data", "pv-web", 10, all_day1),
        pvc(RAW_A, "misc", "orphan-1", "cache", "pv-cache", 10, all_day1),
        steady("pv_hourly_cost", {"tenant_id": RAW_A, "volumename": "pv-web"}, 0.0001, all_day1),
        steady("kubecost_load_balancer_cost",
               {"tenant_id": RAW_A, "namespace": "shop", "service_name": "web-lb", "ingress_ip": "10.0.0.1"},
               0.025, all_day1),
    ]
    series = with_opencost_restart(series, at=hour(DAY1, 6) + 1800)

    # RAW_B, DAY1 only: same node and volume names as RAW_A with very different prices, which must
    # not reach RAW_A's rows. b-app on n3 all day: 1 core at 0.5 $/core-h + 1 GiB at 0.25 $/GiB-h
    # = 0.75 $/h -> 18 $ for the day. No cAdvisor series -> efficiencies NULL.
    series += pod_workload(RAW_B, "b", "b-app", "main", "n3", all_day1, 1, 1, None, None)
    series += node_prices(RAW_B, "n1", 1.0, 0.5, all_day1)
    series += node_prices(RAW_B, "n2", 1.0, 0.5, all_day1)
    series += node_prices(RAW_B, "n3", 0.5, 0.25, all_day1)
    series.append(steady("pv_hourly_cost", {"tenant_id": RAW_B, "persistentvolume": "pv-cache",
                                            "volumename": "pv-cache"}, 1.0, all_day1))

    # RAW_SPARSE: RAW_B's b-app and n3 prices, scraped every 15 minutes (:07:30, :22:30, :37:30,
    # :52:30) from 23:00 the day before: 0.75 $/h -> 18 $ for DAY1, as for RAW_B. Each sample is
    # held for the series' own interval (8 samples in two hours: 120 / 7 -> 18 minutes), so every
    # minute of every hour holds one. (Held for the 5-minute lookback only, each sample stood 5 of
    # its 15 minutes: 6 $ of CPU and RAM allocated all day.) The sample of 23:52:30 is held into
    # DAY2's first minutes, which hold no sample of their own: no DAY2 row.
    quarters = [hour(DAY1, h) + offset for h in range(-1, 24) for offset in OFFSETS]
    series += pod_workload(RAW_SPARSE, "b", "b-app", "main", "n3", quarters, 1, 1, None, None)
    series += node_prices(RAW_SPARSE, "n3", 0.5, 0.25, quarters)

    # SWITCH: raw metrics on both days: s-app on s1, 1 core at 0.1 + 1 GiB at 0.01 = 0.11 $/h,
    # using 0.5 core (50 %) and 0.25 GiB (25 %). The exporter starts at 12:00 on DAY1 and runs on:
    # total 1 $/h = cpu 0.6 + ram 0.3 + pv 0.1; efficiency cpu 80, ram 40, total 60. In hour 20 of
    # DAY1 the exporter reports one failed scrape (scrape_success 1, 0, 1, 1): of its 20 minutes
    # with a value (5 per sample) 5 are unhealthy, so a quarter of hour 20 comes from Phase 1.
    both_days = scrapes(hour(DAY1, 0), hour(DAY2, 24))
    series += pod_workload(SWITCH, "s", "s-app", "main", "s1", both_days, 1, 1, 0.5, 0.25)
    series += node_prices(SWITCH, "s1", 0.1, 0.01, both_days)
    exporter_hours = [hour(DAY1, h) for h in range(12, 24)] + [hour(DAY2, h) for h in range(24)]
    for metric, value in (("total_cost", 1.0), ("cpu_cost", 0.6), ("ram_cost", 0.3), ("pv_cost", 0.1),
                          ("cpu_efficiency", 80.0), ("ram_efficiency", 40.0), ("total_efficiency", 60.0)):
        series.append(hourly_series(EXPORTER + metric, {"tenant_id": SWITCH},
                                    {h: [value] * 4 for h in exporter_hours}))
    health = {h: ([1.0, 0.0, 1.0, 1.0] if h == hour(DAY1, 20) else [1.0] * 4) for h in exporter_hours}
    series.append(hourly_series("cloudtuner_kubecost_exporter_scrape_success", {"tenant_id": SWITCH}, health))
    return series


@pytest.fixture
def thanos_url(prometheus_with) -> str:  # type: ignore[no-untyped-def]
    return prometheus_with("raw-phase", dataset())


def backfill(thanos_url: str, database_url: str, engine: Engine, **env: str) -> RunSummary:
    return run_backfill(thanos_url, database_url, engine, DAY1, DAY2, **env)


def hourly_rows(engine: Engine, account: str) -> dict[int, dict]:  # type: ignore[type-arg]
    """The account's DAY1 hourly rows by hour of the day."""
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT * FROM k8s_hourly_costs WHERE cloud_account_id = :a AND hour_start < :end"),
            {"a": account, "end": utc_midnight(DAY2)},
        ).mappings().all()
    return {row["hour_start"].astimezone(UTC).hour: dict(row) for row in rows}


def test_raw_only_account_costs_per_day(thanos_url: str, database_url: str, engine: Engine) -> None:
    summary = backfill(thanos_url, database_url, engine)
    assert not summary.failed
    alpha = daily_rows(engine)[(RAW_A, DAY1)]
    # CPU $/h: web 2 x 0.04 = 0.08; batch 4 x 0.02 = 0.08; orphan 2 x 0.031611 (default) = 0.063222
    #   hours 0-11: 0.223222; hour 12 (batch there 35 minutes: 4 x 35/60 cores on average, x 0.02
    #   = 0.046666667): 0.189888667; hours 13-23: 0.143222.
    #   Day: 12 x 0.223222 + 0.189888667 + 11 x 0.143222 = 4.443994667
    assert alpha["cpu_cost"] == Decimal("4.443994667")
    # RAM $/h: web 4 GiB x 0.005 = 0.02; batch 8 GiB x 0.004237 (n2 price is 0 -> default) = 0.033896;
    #   orphan 4 GiB x 0.004237 (default) = 0.016948. Hours 0-11: 0.070844; hour 12 (batch 8 x 35/60
    #   GiB on average, x 0.004237 = 0.019772667): 0.056720667; hours 13-23: 0.036948.
    #   Day: 12 x 0.070844 + 0.056720667 + 11 x 0.036948 = 1.313276667
    assert alpha["ram_cost"] == Decimal("1.313276667")
    # PV $/h: pv-web 10 GiB x 0.0001 = 0.001; pv-cache 10 GiB x 0.00005479452 (default) = 0.0005479452;
    #   0.0015479452 $/h is stored per hour as 0.001547945 (nano-dollars); day = 24 x that = 0.03715068
    assert alpha["pv_cost"] == Decimal("0.03715068")
    assert alpha["load_balancer_cost"] == Decimal("0.6")  # 24 x 0.025
    assert alpha["network_cost"] == alpha["management_cost"] == Decimal("0")
    assert alpha["total_cost"] == Decimal("6.394422014")  # 4.443994667 + 1.313276667 + 0.03715068 + 0.6
    assert alpha["hours_covered"] == 24
    assert alpha["source_phase"] == "raw"
    # Hourly CPU efficiency (pod-level and pause series excluded): hours 0-11 (1 + 3 + 0.5) / 8 = 56.25 %;
    #   hour 12: batch's counter has 30 samples (12:00-12:29) in the window [11:59:59.999, 12:59:59.999];
    #   rate() extrapolates 0.001 s to its start and half an interval (30 s) past its end:
    #   3 cores x (1740 + 0.001 + 30) s / 3600 s = 1.4750008 cores used of 4 x 35/60 = 2.3333333
    #   allocated: (1 + 1.4750008 + 0.5) / (2 + 2.3333333 + 2) = 46.9737 %;
    #   hours 13-23: (1 + 0.5) / 4 = 37.5 %.  Day, weighted by CPU cost:
    #   (12 x 56.25 x 0.223222 + 46.9737 x 0.189888667 + 11 x 37.5 x 0.143222) / 4.443994667 = 49.2066 %
    assert alpha["cpu_efficiency"] == Decimal("49.2066")
    # RAM: hours 0-11 (1 + 6 + 1) / 16 = 50 %; hour 12 (1 + 6 x 35/60 + 1) / (4 + 8 x 35/60 + 4)
    #   = 5.5 / 12.6666667 = 43.4211 %; hours 13-23 2 / 8 = 25 %.
    #   Day: (12 x 50 x 0.070844 + 43.4211 x 0.056720667 + 11 x 25 x 0.036948) / 1.313276667 = 41.9789 %
    assert alpha["ram_efficiency"] == Decimal("41.9789")
    # Total per hour = (cpu_eff x cpu_cost + ram_eff x ram_cost) / (cpu_cost + ram_cost): hours 0-11
    #   54.7443 %, hour 12 46.1566 %, hours 13-23 34.9366 %; the day weights them by cpu + ram cost:
    #   (12 x 54.7443 x 0.294066 + 46.1566 x 0.246609334 + 11 x 34.9366 x 0.18017) / 5.757271334 = 47.5579 %
    assert alpha["total_efficiency"] == Decimal("47.5579")
    # Every hour priced the unpriced node n3 (and volume pv-cache) with defaults.
    assert alpha["default_priced_hours"] == 24
    assert alpha["default_priced_resources"] == "cpu:node/n3, ram:node/n2, ram:node/n3, storage:pv/pv-cache"


def test_hourly_rows_follow_the_pods(thanos_url: str, database_url: str, engine: Engine) -> None:
    backfill(thanos_url, database_url, engine)
    hours = hourly_rows(engine, RAW_A)
    assert sorted(hours) == list(range(24))
    # OpenCost's restart at 06:30 split its series; hour 6 still costs what hour 5 does
    assert hours[6]["total_cost"] == hours[5]["total_cost"] == Decimal("0.320613945")
    assert hours[11]["cpu_cost"] == Decimal("0.223222")
    assert hours[11]["cpu_efficiency"] == Decimal("56.25")
    # batch-1 is gone at 12:30, seen through 12:34: 35 minutes of 4 cores on n2 at 0.02 -> 0.046666667
    assert hours[12]["cpu_cost"] == Decimal("0.189888667")
    assert hours[12]["ram_efficiency"] == Decimal("43.4211")
    # after the deletion: web + orphan only; n2 needs no (default) RAM price any more
    assert hours[13]["cpu_cost"] == Decimal("0.143222")
    assert hours[13]["total_cost"] == Decimal("0.206717945")  # 0.143222 + 0.036948 + 0.001547945 + 0.025
    assert hours[13]["default_priced_hours"] == 1
    assert hours[13]["default_priced_resources"] == "cpu:node/n3, ram:node/n3, storage:pv/pv-cache"
    assert {row["source_phase"] for row in hours.values()} == {"raw"}


def test_prices_of_one_account_never_price_another(thanos_url: str, database_url: str, engine: Engine) -> None:
    backfill(thanos_url, database_url, engine)
    rows = daily_rows(engine)
    beta = rows[(RAW_B, DAY1)]
    # b-app on RAW_B's n3: 1 core x 0.5 + 1 GiB x 0.25 = 0.75 $/h -> 12 + 6 = 18 $
    assert beta["cpu_cost"] == Decimal("12")
    assert beta["ram_cost"] == Decimal("6")
    assert beta["total_cost"] == Decimal("18")
    assert beta["default_priced_hours"] == 0
    assert beta["default_priced_resources"] is None
    # no cAdvisor series for RAW_B: efficiency unknown, stored as NULL, not 0
    assert beta["cpu_efficiency"] is None
    assert beta["ram_efficiency"] is None
    assert beta["total_efficiency"] is None
    # RAW_A's n3, n2 RAM and pv-cache used the defaults, not RAW_B's prices for the same names
    # (with RAW_B's n3 price RAW_A's CPU would be 2 x 0.5 = 1 $/h for orphan alone).
    assert rows[(RAW_A, DAY1)]["cpu_cost"] == Decimal("4.443994667")
    assert (SWITCH, DAY1) in rows and len(rows) == 5


def test_sparse_samples_cost_as_much_as_dense_ones(thanos_url: str, database_url: str, engine: Engine) -> None:
    backfill(thanos_url, database_url, engine)
    rows = daily_rows(engine)
    sparse = rows[(RAW_SPARSE, DAY1)]
    assert sparse["cpu_cost"] == Decimal("12")  # 24 x 1 core x 0.5
    assert sparse["ram_cost"] == Decimal("6")  # 24 x 1 GiB x 0.25
    assert sparse["total_cost"] == Decimal("18") == rows[(RAW_B, DAY1)]["total_cost"]
    assert sparse["hours_covered"] == 24
    assert (RAW_SPARSE, DAY2) not in rows


def test_mixed_day_takes_each_hour_from_one_phase(thanos_url: str, database_url: str, engine: Engine) -> None:
    backfill(thanos_url, database_url, engine)
    rows = daily_rows(engine)
    day1 = rows[(SWITCH, DAY1)]
    # Raw hours: 0-11 = 12 h x 0.11 = 1.32 $. Exporter hours: 12-19 and 21-23 = 11 h x 1 = 11 $.
    # Hour 20: the exporter's 15 healthy minutes stand for 3/4 of the hour, Phase 1 for the failed
    # quarter: cpu 0.6 x 3/4 + 0.1 x 1/4 = 0.475, ram 0.3 x 3/4 + 0.01 x 1/4 = 0.2275, pv 0.1 x 3/4
    # = 0.075, total 0.7775 $. Raw metrics kept flowing after noon but are not added on top of the
    # exporter's figures.
    assert day1["total_cost"] == Decimal("13.0975")  # 1.32 + 11 + 0.7775
    assert day1["cpu_cost"] == Decimal("8.275")  # 12 x 0.1 + 11 x 0.6 + 0.475
    assert day1["ram_cost"] == Decimal("3.6475")  # 12 x 0.01 + 11 x 0.3 + 0.2275
    assert day1["pv_cost"] == Decimal("1.175")  # 11 x 0.1 + 0.075 (no PVC in the raw metrics)
    assert day1["hours_covered"] == 24
    assert day1["source_phase"] == "mixed"
    assert day1["exporter_stale_hours"] == 0  # Phase 1 covered the failed minutes
    # Hour 20's efficiencies weigh its two parts by cost: cpu (80 x 0.45 + 50 x 0.025) / 0.475
    #   = 78.4211 %, ram (40 x 0.225 + 25 x 0.0025) / 0.2275 = 39.8352 %.
    # CPU efficiency of the day, weighted by CPU cost:
    #   (12 x 0.1 x 50 + 11 x 0.6 x 80 + 0.475 x 78.4211) / 8.275 = 75.5589 %
    assert day1["cpu_efficiency"] == Decimal("75.5589")
    # RAM: (12 x 0.01 x 25 + 11 x 0.3 x 40 + 0.2275 x 39.8352) / 3.6475 = 39.4962 %
    assert day1["ram_efficiency"] == Decimal("39.4962")
    # Total: raw hours (50 x 0.1 + 25 x 0.01) / 0.11 = 47.7273 %, exporter hours 60 %, hour 20
    #   (60 x 0.675 + 47.7273 x 0.0275) / 0.7025 = 59.5196 %:
    #   (12 x 0.11 x 47.7273 + 11 x 0.9 x 60 + 0.7025 x 59.5196) / (12 x 0.11 + 11 x 0.9 + 0.7025) = 58.6129 %
    assert day1["total_efficiency"] == Decimal("58.6129")
    hours = hourly_rows(engine, SWITCH)
    phases = {h: row["source_phase"] for h, row in hours.items()}
    assert phases == {h: ("raw" if h < 12 else "mixed" if h == 20 else "exporter") for h in range(24)}
    assert hours[20]["total_cost"] == Decimal("0.7775")
    assert hours[11]["total_cost"] == Decimal("0.11")
    assert hours[12]["total_cost"] == Decimal("1")
    day2 = rows[(SWITCH, DAY2)]
    assert day2["total_cost"] == Decimal("24")  # exporter only: 24 x 1, no raw 24 x 0.11 on top
    assert day2["source_phase"] == "exporter"


def test_daily_rows_equal_the_sum_of_hourly_rows(thanos_url: str, database_url: str, engine: Engine) -> None:
    backfill(thanos_url, database_url, engine)
    assert daily_hourly_mismatches(engine) == []


def test_default_prices_are_configurable(thanos_url: str, database_url: str, engine: Engine) -> None:
    backfill(thanos_url, database_url, engine, DEFAULT_CPU_PRICE="0.05", ACCOUNTS=RAW_A)
    # orphan's 2 cores on n3 now cost 2 x 0.05 = 0.1 $/h instead of 0.063222:
    #   4.443994667 + 24 x (0.1 - 0.063222) = 5.326666667
    assert daily_rows(engine)[(RAW_A, DAY1)]["cpu_cost"] == Decimal("5.326666667")


def test_logs_name_the_phase_and_the_defaulted_resources(
    thanos_url: str, database_url: str, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        backfill(thanos_url, database_url, engine)
    messages = [record.getMessage() for record in caplog.records]

    def logged(prefix: str) -> bool:
        return any(message.startswith(prefix) for message in messages)

    assert logged(f"No Phase 2 exporter metrics found for {RAW_A}, will use Phase 1")
    assert logged(f"Falling back to Phase 1 raw metric calculations for {RAW_A}")
    assert logged(f"Falling back to Phase 1 raw metric calculations for {SWITCH}")
    assert not logged(f"No Phase 2 exporter metrics found for {SWITCH}")
    assert logged(f"Using Phase 2 exporter metrics for {SWITCH}")
    assert logged(f"No cpu price for node n3 of account {RAW_A} in 24 hour(s)")
    assert any(f"No storage price for pv pv-cache of account {RAW_A}" in message
               and "priced at the default 0.00005479452 USD per GiB-hour" in message for message in messages)
    assert not logged(f"No cpu price for node n3 of account {RAW_B}")
