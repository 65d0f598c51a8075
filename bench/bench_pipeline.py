"""End-to-end benchmark (run by hand): a real local Prometheus with synthetic exporter data for
many clusters, backfilled into an embedded PostgreSQL with different chunk sizes side by side
in one run. Prints wall time, account-days/s, Thanos queries and peak RSS for each, and the
ratios against the default chunk size. Machines here are shared and noisy: compare ratios.

    .venv/bin/python bench/bench_pipeline.py [--accounts 50] [--days 30] [--chunks 1,7,30]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from datetime import date, timedelta

from sqlalchemy import create_engine, text

from etl.config import load_settings
from etl.demo.dataset import DEMO_CLUSTERS, cluster_series
from etl.demo.prometheus import LocalPrometheus
from etl.model import utc_midnight
from etl.run.pipeline import Pipeline
from etl.source.thanos import ThanosClient
from etl.store.db import migrate
from etl.store.embedded import embedded_database_url

FIRST_DAY = date(2026, 6, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=50)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--chunks", default="1,7,30", help="chunk sizes in days to compare")
    args = parser.parse_args()
    profiles = list(DEMO_CLUSTERS.values())
    series = [
        one
        for index in range(args.accounts)
        for one in cluster_series(f"bench-{index:04d}", profiles[index % len(profiles)], utc_midnight(FIRST_DAY),
                                  args.days * 24, samples_per_hour=4)
    ]
    last_day = FIRST_DAY + timedelta(days=args.days - 1)
    with tempfile.TemporaryDirectory() as data_dir, LocalPrometheus(series) as prometheus:
        engine = create_engine(embedded_database_url(data_dir))
        migrate(engine)
        results: dict[int, float] = {}
        print(f"{args.accounts} accounts x {args.days} days, {sum(len(s.samples) for s in series):,} samples")
        for chunk_days in (int(value) for value in args.chunks.split(",")):
            with engine.begin() as connection:
                connection.execute(text("TRUNCATE k8s_hourly_costs, k8s_daily_costs"))
            settings = load_settings(environ={"THANOS_URL": prometheus.url, "THANOS_CHUNK_DAYS": str(chunk_days)})
            client = ThanosClient(settings.thanos)
            started = time.perf_counter()
            summary = Pipeline(settings, client, engine).run_range(FIRST_DAY, last_day)
            elapsed = time.perf_counter() - started
            assert not summary.failed, summary.failed
            results[chunk_days] = elapsed
            peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"chunk_days={chunk_days:>3}: {elapsed:7.2f} s, {args.accounts * args.days / elapsed:8.1f} "
                  f"account-days/s, {summary.rows_written:,} rows, peak RSS so far {peak_mib:,.0f} MiB")
        baseline = results.get(7) or next(iter(results.values()))
        for chunk_days, elapsed in results.items():
            print(f"ratio chunk_days={chunk_days} vs default: {baseline / elapsed:.2f}x faster")


if __name__ == "__main__":
    main()
