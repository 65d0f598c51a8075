"""Loader benchmark (run by hand): COPY + staged upsert (store.write_costs) versus a plain
SQLAlchemy executemany of INSERT ... ON CONFLICT, side by side in one run on one embedded
PostgreSQL, printing rows/s and the ratio. Machines here are shared and noisy: compare ratios.

    .venv/bin/python bench/bench_store.py [--accounts 20] [--days 30] [--repeat 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable

import numpy as np
import pandas as pd
from sqlalchemy import Engine, create_engine, text

from etl.costing.rollup import daily_rollup
from etl.model import COST_COLUMNS, EFFICIENCY_COLUMNS, HOURLY_COLUMNS, nano_to_decimal
from etl.store.db import migrate
from etl.store.embedded import embedded_database_url
from etl.store.loader import write_costs


def hourly_frame(account: str, days: int, rng: np.random.Generator) -> pd.DataFrame:
    hours = pd.date_range("2026-01-01", periods=days * 24, freq="h", tz="UTC")
    frame = pd.DataFrame({"cloud_account_id": account, "hour_start": hours})
    for column in COST_COLUMNS:
        frame[column] = rng.integers(0, 5 * 10**9, len(hours))
    for column in EFFICIENCY_COLUMNS:
        frame[column] = rng.uniform(0, 100, len(hours)).round(4)
    frame["default_priced_hours"] = frame["exporter_zero_hours"] = frame["exporter_stale_hours"] = 0
    frame["default_priced_resources"] = frame["clusters"] = None
    frame["currency"] = "USD"
    frame["source_phase"] = "exporter"
    return frame[HOURLY_COLUMNS]


def naive_upsert(engine: Engine, hourly: pd.DataFrame) -> None:
    columns = HOURLY_COLUMNS
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns[2:])
    statement = text(f"INSERT INTO k8s_hourly_costs ({', '.join(columns)}) VALUES "
                     f"({', '.join(':' + c for c in columns)}) ON CONFLICT (cloud_account_id, hour_start) "
                     f"DO UPDATE SET {updates}")
    records = [
        {c: (nano_to_decimal(v) if c in COST_COLUMNS else v) for c, v in row.items()}
        for row in hourly.to_dict("records")
    ]
    with engine.begin() as connection:
        connection.execute(statement, records)


def timed(label: str, action: Callable[[], None], rows: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - started)
    print(f"{label:<32} {rows / best:>12,.0f} hourly rows/s (best of {repeat})")
    return rows / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    frames = [hourly_frame(f"bench-{i}", args.days, rng) for i in range(args.accounts)]
    rows = sum(len(f) for f in frames)
    with tempfile.TemporaryDirectory() as data_dir:
        engine = create_engine(embedded_database_url(data_dir))
        migrate(engine)

        def staged() -> None:
            for frame in frames:
                write_costs(engine, frame, daily_rollup(frame))

        def naive() -> None:
            for frame in frames:
                naive_upsert(engine, frame)

        def reset() -> None:
            with engine.begin() as connection:
                connection.execute(text("TRUNCATE k8s_hourly_costs, k8s_daily_costs"))

        print(f"{args.accounts} accounts x {args.days} days = {rows:,} hourly rows per pass")
        reset()
        fast = timed("COPY + staged upsert (+ daily)", staged, rows, args.repeat)
        reset()
        slow = timed("executemany INSERT ON CONFLICT", naive, rows, args.repeat)
        print(f"ratio staged/naive: {fast / slow:.1f}x")


if __name__ == "__main__":
    main()
