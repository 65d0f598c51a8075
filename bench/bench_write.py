"""Write-path benchmark (run by hand, not in CI): the loader's write of one chunk of a claim batch
(etl.store.loader.write_costs: COPY -> stage -> set-based delete and upsert, daily rows included),
timed on an empty table and again once the table holds >= 10 M hourly rows of other accounts, on
one embedded PostgreSQL. The ratio says whether a write's cost grows with the history stored.

    .venv/bin/python bench/bench_write.py [--accounts 50] [--days 30] [--stored 10500000] [--repeat 3]

Prints hourly rows/s of a chunk written for new accounts (inserts) and of the same chunk rewritten
with changed values (updates), at both table sizes, and the ratios.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Engine, create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from etl.costing.rollup import daily_rollup
from etl.model import (
    COST_COLUMNS,
    DAILY_COLUMNS,
    EFFICIENCY_COLUMNS,
    HOURLY_COLUMNS,
    HOURS_COVERED_COLUMN,
    IDLE_COLUMN,
)
from etl.store.db import migrate
from etl.store.embedded import embedded_database_url
from etl.store.loader import write_costs

FIRST_HOUR = pd.Timestamp("2026-01-05T00:00Z")


TEXT_VALUES = {"default_priced_resources": None, "currency": "USD", "clusters": "c1", "source_phase": "exporter"}


def chunk(prefix: str, accounts: int, days: int, seed: int) -> pd.DataFrame:
    """Hourly rows of a claim batch's chunk (random costs, idle and efficiencies)."""
    rng = np.random.default_rng(seed)
    hours = pd.date_range(FIRST_HOUR, periods=days * 24, freq="h", tz="UTC")
    frame = pd.DataFrame({"cloud_account_id": np.repeat([f"{prefix}-{i:05d}" for i in range(accounts)], len(hours)),
                          "hour_start": np.tile(hours, accounts)})
    for column in [*COST_COLUMNS, IDLE_COLUMN]:
        frame[column] = rng.integers(0, 5 * 10**9, len(frame))
    for column in EFFICIENCY_COLUMNS:
        frame[column] = rng.uniform(0, 100, len(frame)).round(4)
    for column in HOURLY_COLUMNS:
        if column.endswith("_hours"):  # the flags: counts of hours
            frame[column] = 0
        elif column in TEXT_VALUES:
            frame[column] = TEXT_VALUES[column]
    return frame[HOURLY_COLUMNS]


def _sql_value(column: str, daily: bool) -> str:
    """The value of ``column`` in the history rows fill writes (a day: the sum of its hours)."""
    money = [*COST_COLUMNS, IDLE_COLUMN]
    if column in money:
        return f"sum({column})" if daily else f"{0.1 * (money.index(column) + 1):.1f}"
    if column in EFFICIENCY_COLUMNS:
        return "50"
    if column == HOURS_COVERED_COLUMN:
        return "24"
    if column.endswith("_hours"):
        return "0"
    if column in TEXT_VALUES:
        value = TEXT_VALUES[column]
        return "NULL" if value is None else f"'{value}'"
    return "NULL"  # potential savings


def fill(engine: Engine, rows: int) -> None:
    """``rows`` hourly rows (and their days) of other accounts, a year each, written in SQL."""
    accounts = -(-rows // 8760)
    hourly = [_sql_value(column, daily=False) for column in HOURLY_COLUMNS[2:]]
    daily = [_sql_value(column, daily=True) for column in DAILY_COLUMNS[2:]]
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(text(
            f"INSERT INTO k8s_hourly_costs ({', '.join(HOURLY_COLUMNS)}) "
            f"SELECT 'history-' || a, h, {', '.join(hourly)} "
            f"FROM generate_series(1, {accounts}) a, "
            f"generate_series(TIMESTAMPTZ '2024-01-01T00:00Z', TIMESTAMPTZ '2024-12-30T23:00Z', '1 hour') h"))
        connection.execute(text(
            f"INSERT INTO k8s_daily_costs ({', '.join(DAILY_COLUMNS)}) "
            f"SELECT cloud_account_id, (hour_start AT TIME ZONE 'UTC')::date, {', '.join(daily)} "
            f"FROM k8s_hourly_costs WHERE cloud_account_id LIKE 'history-%' GROUP BY 1, 2, currency, clusters, "
            f"source_phase"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE k8s_hourly_costs"))
        connection.execute(text("VACUUM ANALYZE k8s_daily_costs"))
    print(f"  filled {stored(engine):,} hourly rows in {time.perf_counter() - started:.0f} s")


def stored(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM k8s_hourly_costs")).scalar_one())


def timed(action: Callable[[], None], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(engine: Engine, args: argparse.Namespace, label: str) -> dict[str, float]:
    """Median seconds to write a new chunk (inserts) and to rewrite it with other values (updates)."""
    before = stored(engine)
    fresh = [chunk(f"{label}-{n}", args.accounts, args.days, n) for n in range(args.repeat)]
    changed = chunk(f"{label}-0", args.accounts, args.days, 99)
    frames = iter(fresh)

    def insert() -> None:
        frame = next(frames)
        write_costs(engine, frame, daily_rollup(frame))

    daily = daily_rollup(changed)
    insert_s = timed(insert, args.repeat)
    update_s = timed(lambda: write_costs(engine, changed, daily), 1)
    rows = len(fresh[0])
    print(f"  {label:<6} ({before:>11,} stored rows): new chunk {insert_s:6.3f} s = {rows / insert_s:8,.0f} "
          f"hourly rows/s; rewritten chunk {update_s:6.3f} s = {rows / update_s:8,.0f} rows/s")
    return {"insert": insert_s, "update": update_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=50, help="accounts of the claim batch")
    parser.add_argument("--days", type=int, default=30, help="days of the chunk")
    parser.add_argument("--stored", type=int, default=10_500_000, help="hourly rows of history to add")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"a chunk of {args.accounts} accounts x {args.days} days = {args.accounts * args.days * 24:,} hourly rows "
          f"(+ {args.accounts * args.days} daily rows), write_costs, median of {args.repeat}")
    with tempfile.TemporaryDirectory() as data_dir:
        engine = create_engine(embedded_database_url(data_dir))
        migrate(engine)
        warm_up = chunk("warm-up", args.accounts, args.days, 7)  # first calls (imports, caches) untimed
        write_costs(engine, warm_up, daily_rollup(warm_up))
        empty = measure(engine, args, "empty")
        fill(engine, args.stored)
        full = measure(engine, args, "full")
        print(f"ratio full/empty: new chunk {full['insert'] / empty['insert']:.2f}, "
              f"rewritten chunk {full['update'] / empty['update']:.2f}")
        engine.dispose()


if __name__ == "__main__":
    main()
