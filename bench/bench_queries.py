"""What the hourly queries cost Prometheus (run by hand): one backfill of a synthetic fleet through
the real pipeline against a real local Prometheus, then every range query it sent replayed with
``stats=all``. Prints the number of range queries, Prometheus' own engine time for the backfill
(``prometheus_engine_query_duration_seconds_sum``), the cost of two Phase 1 accounts, and per
query kind (``(probe)``: a metric's sampling, ``(held)``: samples held longer than the lookback)
the peak samples held at once and the samples read. Run it with each checkout's own interpreter
to compare them on the same data (``PYTHONPATH`` does not override an editable install's ``etl``):

    .venv/bin/python bench/bench_queries.py [--accounts 10] [--days 3] [--containers 10] [--sparse 0]
    /path/to/other/checkout/.venv/bin/python bench/bench_queries.py ...

Data: ``--accounts`` exporter accounts (13 gauges each) and as many Phase 1 accounts (per
container: two allocations, a usage counter and a working set; two priced nodes), every series
scraped once a minute, as OpenCost and the exporter are by default, except that the first
``--sparse`` Phase 1 accounts are scraped every 15 minutes (at :07:30, :22:30, :37:30, :52:30).
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import requests
from sqlalchemy import create_engine, text

from etl.config import load_settings
from etl.demo.prometheus import LocalPrometheus, SampleSeries
from etl.model import GIB, utc_midnight
from etl.run.pipeline import Pipeline
from etl.source.thanos import ThanosClient
from etl.store.db import migrate
from etl.store.embedded import embedded_database_url

FIRST_DAY = date(2026, 6, 1)
EXPORTER = "cloudtuner_kubecost_cluster_"
# gauge -> $/h or %
GAUGES = {"total_cost": 10.0, "cpu_cost": 4.0, "ram_cost": 3.0, "pv_cost": 1.0, "network_cost": 0.5, "lb_cost": 0.25,
          "network_internet_cost": 0.2, "network_region_cost": 0.2, "network_zone_cost": 0.1, "cpu_efficiency": 50.0,
          "ram_efficiency": 40.0, "total_efficiency": 45.0}


def dataset(accounts: int, days: int, containers: int, sparse: int = 0) -> list[SampleSeries]:
    start = utc_midnight(FIRST_DAY).timestamp()
    every_minute = [start + 60.0 * index for index in range(days * 24 * 60)]
    quarters = [start + 450.0 + 900.0 * index for index in range(days * 24 * 4)]

    def gauge(metric: str, labels: dict[str, str], value: float, times: list[float]) -> SampleSeries:
        return SampleSeries(metric, labels, [(t, value) for t in times])

    series = []
    for index in range(accounts):
        cluster = {"tenant_id": f"exp-{index:03d}", "cluster": f"c{index}", "currency": "USD"}
        series += [gauge(EXPORTER + name, cluster, value, every_minute) for name, value in GAUGES.items()]
        series.append(gauge("cloudtuner_kubecost_exporter_scrape_success", cluster, 1.0, every_minute))
        tenant = {"tenant_id": f"raw-{index:03d}"}
        times = quarters if index < sparse else every_minute
        for node in ("n1", "n2"):
            series += [gauge("node_cpu_hourly_cost", {**tenant, "node": node}, 0.03, times),
                       gauge("node_ram_hourly_cost", {**tenant, "node": node}, 0.004, times)]
        for number in range(containers):
            box = {**tenant, "namespace": "ns", "pod": f"p{number}", "container": "c", "node": f"n{number % 2 + 1}"}
            series += [gauge("container_cpu_allocation", box, 1.0, times),
                       gauge("container_memory_allocation_bytes", box, 2.0 * GIB, times),
                       gauge("container_memory_working_set_bytes", box, 1.0 * GIB, times),
                       SampleSeries("container_cpu_usage_seconds_total", box,
                                    [(t, 0.5 * (t - start + 1e5)) for t in times], "counter")]
    return series


class RecordingClient(ThanosClient):
    """The real client, remembering every range query it sent."""

    sent: list[tuple[str, float, float, int]]

    def query_range(self, query: str, start: float, end: float, step_seconds: int) -> Any:
        self.sent.append((query, start, end, step_seconds))
        return super().query_range(query, start, end, step_seconds)


def engine_seconds(url: str) -> float:
    text = requests.get(f"{url}/metrics", timeout=30).text
    return sum(float(value) for value in re.findall(r'^prometheus_engine_query_duration_seconds_sum\{[^}]*\} (\S+)$',
                                                     text, re.MULTILINE))


def kind(query: str) -> str:
    """A short name for a query: its first metric name, and whether it probes a metric's sampling or
    holds its samples for longer than the lookback (etl.source.hold)."""
    match = re.search(r"(cloudtuner_kubecost_\w+|container_\w+|node_\w+|pod_\w+|pv_\w+|kubecost_\w+)", query)
    name = match.group(1) if match else query[:40]
    if "etl_probe" in query:
        return f"{name} (probe)"
    return f"{name} (held)" if re.search(r"last_over_time\(\w+\{[^}]*\}\[\d+m\]\)", query) else name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=10)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--containers", type=int, default=10)
    parser.add_argument("--sparse", type=int, default=0, help="Phase 1 accounts scraped every 15 minutes")
    args = parser.parse_args()
    series = dataset(args.accounts, args.days, args.containers, args.sparse)
    last_day = FIRST_DAY + timedelta(days=args.days - 1)
    with tempfile.TemporaryDirectory() as data_dir, LocalPrometheus(series) as prometheus:
        print(f"{len(series):,} series, {sum(len(s.samples) for s in series):,} samples, {args.days} day(s)")
        engine = create_engine(embedded_database_url(data_dir))
        migrate(engine)
        settings = load_settings(environ={"THANOS_URL": prometheus.url, "THANOS_CHUNK_DAYS": str(args.days)})
        client = RecordingClient(settings.thanos)
        client.sent = []
        before, started = engine_seconds(prometheus.url), time.perf_counter()
        summary = Pipeline(settings, client, engine).run_range(FIRST_DAY, last_day)
        wall, server = time.perf_counter() - started, engine_seconds(prometheus.url) - before
        assert not summary.failed, summary.failed
        with engine.connect() as connection:
            costs = dict(connection.execute(text(
                "SELECT cloud_account_id, sum(total_cost) FROM k8s_daily_costs GROUP BY 1")).all())
        for account in sorted({"raw-000", f"raw-{args.accounts - 1:03d}"}):
            scraped = "every 15 minutes" if int(account[4:]) < args.sparse else "every minute"
            print(f"{account} (scraped {scraped}): {costs.get(account)} $ over {args.days} day(s)")
        print(f"backfill: {len(client.sent)} range queries, {wall:.1f} s wall, {server:.2f} s Prometheus engine time")
        stats: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for query, start, end, step in client.sent:
            answer = requests.post(f"{prometheus.url}/api/v1/query_range", timeout=300, data={
                "query": query, "start": start, "end": end, "step": step, "stats": "all"}).json()
            samples = answer["data"]["stats"]["samples"]
            stats[kind(query)][0] = max(stats[kind(query)][0], int(samples["peakSamples"]))
            stats[kind(query)][1] += int(samples["totalQueryableSamples"])
        print(f"{'query of':<48} {'peak samples':>14} {'samples read':>14}")
        for name, (peak, total) in sorted(stats.items()):
            print(f"{name:<48} {peak:>14,} {total:>14,}")
        print(f"{'all':<48} {max(p for p, _ in stats.values()):>14,} {sum(t for _, t in stats.values()):>14,}")


if __name__ == "__main__":
    main()
