"""What the check of an answer costs (run by hand, not in CI): etl.run.recheck's read of the stored
hours (etl.store.reader.fetch_stored_hours over etl.run.suspect.evidence_range) and the rules
(etl.run.suspect.findings) for one chunk of a claim batch, on a fresh backfill (nothing stored)
and on a rewrite (every hour stored), next to the write of the same chunk, on one embedded
PostgreSQL.

    .venv/bin/python bench/bench_check.py [--accounts 50] [--days 30] [--repeat 5]

The answer is a clean one (one cluster per account, every money gauge with a value every hour):
the rules find nothing and look at every row, which is their common and their most expensive case.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import pandas as pd
from sqlalchemy import create_engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_write import timed
from etl.costing.rollup import daily_rollup
from etl.model import COST_COLUMNS, HOURLY_COLUMNS, NANO, HourRange
from etl.run.suspect import evidence_range, findings
from etl.source.exporter import ExporterAnswer
from etl.source.promql import EXPORTER_COST_METRICS
from etl.store.db import migrate
from etl.store.embedded import embedded_database_url
from etl.store.loader import write_costs
from etl.store.reader import fetch_stored_hours


def chunk(accounts: int, days: int) -> pd.DataFrame:
    """Hourly exporter rows of a claim batch's chunk: every cost 1 $/h, one cluster."""
    hours = pd.date_range("2026-01-05T00:00Z", periods=days * 24, freq="h", tz="UTC")
    frame = pd.DataFrame({"cloud_account_id": [f"acct-{i:05d}" for i in range(accounts) for _ in hours],
                          "hour_start": list(hours) * accounts})
    for column in HOURLY_COLUMNS[2:]:
        frame[column] = NANO if column in COST_COLUMNS else 0
    for column in ("cpu_efficiency", "ram_efficiency", "total_efficiency"):
        frame[column] = 50.0
    return frame.assign(default_priced_resources=None, currency="USD", clusters="c1", source_phase="exporter")


def answer_of(rows: pd.DataFrame) -> ExporterAnswer:
    """The exporter answer the hourly ``rows`` would come from: one cluster, every money gauge."""
    frame = rows[["cloud_account_id", "hour_start"]].assign(cluster="c1", currency="", healthy_minutes=60,
                                                             unhealthy_minutes=0)
    for column in EXPORTER_COST_METRICS:
        frame[column] = rows[column] / NANO
    return ExporterAnswer(frame, frame, pd.DataFrame(columns=["cloud_account_id", "hour_start", "column"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=50, help="accounts of the claim batch")
    parser.add_argument("--days", type=int, default=30, help="days of the chunk")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rows = chunk(args.accounts, args.days)
    accounts = sorted(rows["cloud_account_id"].unique())
    start = rows["hour_start"].min().to_pydatetime()
    hours = HourRange(start, start + pd.Timedelta(days=args.days).to_pytimedelta())
    answer = answer_of(rows)
    print(f"a chunk of {args.accounts} accounts x {args.days} days = {len(rows):,} hourly rows, median of "
          f"{args.repeat}")
    with tempfile.TemporaryDirectory() as data_dir:
        engine = create_engine(embedded_database_url(data_dir))
        migrate(engine)
        for label in ("fresh", "rewrite"):
            stored = fetch_stored_hours(engine, accounts, evidence_range(hours))
            read_s = timed(lambda: fetch_stored_hours(engine, accounts, evidence_range(hours)), args.repeat)
            rules_s = timed(lambda: findings(answer, rows, stored, hours, accounts), args.repeat)  # noqa: B023
            assert findings(answer, rows, stored, hours, accounts) == {}
            write_s = timed(lambda: write_costs(engine, rows, daily_rollup(rows)), 1)
            print(f"  {label:<8} ({len(stored):>6,} stored hours read): read {read_s:6.3f} s, rules {rules_s:6.3f} s, "
                  f"check {read_s + rules_s:6.3f} s; the write {write_s:6.3f} s")
        engine.dispose()


if __name__ == "__main__":
    main()
