"""Fleet benchmark (run by hand, not in CI): the tool, the floor and the naive approach side by side
in one run, on a real Prometheus serving a cached synthetic fleet and an embedded PostgreSQL.

    .venv/bin/python bench/bench_fleet.py --accounts 100 --days 30 [--raw-share 0.1] [--repeat 3]
        [--variants tool,floor,naive] [--naive-accounts 50] [--shards 2] [--tool-args "..."]

A variant ``tool@chunk=7@claim=25@conc=2`` is the tool with those settings (THANOS_CHUNK_DAYS,
ACCOUNTS_PER_CLAIM, THANOS_MAX_CONCURRENT_QUERIES), to compare settings side by side in one run;
``tool@src=DIR`` is the tool of the source tree DIR (e.g. ``git archive main | tar -x -C DIR``), to
compare code before and after a change side by side.

Each contender runs as its own process (bench/clients.py), on empty tables. Per contender it prints
the wall time (median of the repeats), hourly rows/s, requests sent and samples received, the CPU
seconds of the process, of Prometheus and of PostgreSQL, the peak RSS of the process and the most
samples one of its range queries held at once in Prometheus (``stats=all``); then the
ratios, the checksum of the tool's tables (equal before and after an optimisation means the money
did not change) and an extrapolation to 10,000 accounts x 365 days from the measured CPU seconds.
The machine is shared and noisy: compare within one run, and repeat.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from sqlalchemy import Engine, create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.clients import spec
from bench.fleet import Fleet, samples_stored, tsdb
from etl.demo.prometheus import LocalPrometheus
from etl.store.db import migrate
from etl.store.embedded import embedded_database_url

HERE = Path(__file__).resolve().parent
TABLES = ("k8s_hourly_costs, k8s_daily_costs, k8s_namespace_hourly_costs, k8s_namespace_daily_costs, "
          "etl_backfill_chunks, etl_account_state, etl_runs")
TARGET_ACCOUNT_DAYS = 10_000 * 365
SETTING_ALIASES = {"chunk": "THANOS_CHUNK_DAYS", "claim": "ACCOUNTS_PER_CLAIM", "conc": "THANOS_MAX_CONCURRENT_QUERIES",
                   "src": "BENCH_SOURCE"}


def contender(variant: str) -> tuple[str, dict[str, str]]:
    """``tool@chunk=7`` -> ("tool", {"THANOS_CHUNK_DAYS": "7"})."""
    kind, *settings = variant.split("@")
    return kind, {SETTING_ALIASES.get(key, key): value for key, value in (item.split("=", 1) for item in settings)}


@dataclass
class Measure:
    wall: float
    cpu: float  # the contender's own process(es)
    prometheus_cpu: float
    postgres_cpu: float
    peak_rss_mb: float
    queries: int
    points: int
    rows: int
    peak_samples: int  # the most samples one range query held at once in Prometheus


@dataclass
class Results:
    runs: dict[str, list[Measure]] = field(default_factory=dict)

    def median(self, variant: str, attribute: str) -> float:
        return statistics.median(getattr(run, attribute) for run in self.runs[variant])


def process_tree_cpu(process: psutil.Process) -> float:
    """CPU seconds of a server: its own, its live children's, and those of children it reaped."""
    total = 0.0
    for one in [process, *process.children(recursive=True)]:
        try:
            times = one.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
        if one is process:
            total += getattr(times, "children_user", 0.0) + getattr(times, "children_system", 0.0)
    return total


def checksum(engine: Engine) -> str:
    """md5 of every stored hourly and daily row (updated_at left out), in key order."""
    parts = []
    with engine.connect() as connection:
        for table, key in (("k8s_hourly_costs", "cloud_account_id, hour_start"),
                           ("k8s_daily_costs", "cloud_account_id, usage_date")):
            parts.append(connection.execute(text(
                f"SELECT md5(string_agg(row_to_json(t)::jsonb - 'updated_at' #>> '{{}}', E'\\n' ORDER BY {key})) "
                f"FROM {table} t")).scalar_one())
    return "/".join(str(part)[:12] for part in parts)


def hourly_rows(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM k8s_hourly_costs")).scalar_one())


def run_variant(variant: str, fleet: Fleet, prometheus: LocalPrometheus, engine: Engine, db_url: str,
                postmaster: psutil.Process, work: Path, naive_accounts: list[str], tool_args: list[str],
                shards: int, profile: str | None = None) -> Measure:
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {TABLES} CASCADE"))
        connection.execute(text("CHECKPOINT"))
    prom = psutil.Process(prometheus.pid)
    prom_before, pg_before = process_tree_cpu(prom), process_tree_cpu(postmaster)
    libpq = db_url.replace("postgresql+psycopg2://", "postgresql://", 1)
    kind, settings = contender(variant)
    name = variant.replace("/", "_")  # for file names
    env = {**os.environ, "THANOS_URL": prometheus.url, "DATABASE_URL": libpq, "LOG_LEVEL": "WARNING",
           "THANOS_RETRIES": "0", **settings}
    (work / "spec.json").write_text(json.dumps(spec(naive_accounts)))
    processes = []
    started = time.perf_counter()
    count = shards if kind == "tool" else 1
    for index in range(count):
        extra = [*tool_args, *(["--shard", f"{index}/{shards}"] if shards > 1 else [])] if kind == "tool" else []
        command = [sys.executable, str(HERE / "clients.py"), kind, "--thanos", prometheus.url, "--db", libpq,
                   "--first", str(fleet.first_day), "--last", str(fleet.last_day), "--spec",
                   str(work / "spec.json"), "--out", str(work / f"{name}-{index}.json"), *extra]
        if profile and kind == "tool":
            # py-spy's collapsed stacks of the tool (one file per shard): where its time goes; with
            # idle samples (waiting on Thanos or PostgreSQL) unless BENCH_CPU_PROFILE is set.
            idle = [] if os.environ.get("BENCH_CPU_PROFILE") else ["--idle"]
            command = [str(Path(sys.executable).parent / "py-spy"), "record", *idle, "--rate", "100", "--format",
                       "raw", "--output", f"{profile}.{index}.txt", "--", *command]
        processes.append(subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL))
    cpu = 0.0
    for process in processes:
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode:
            raise SystemExit(f"{variant} failed with exit code {process.returncode}")
        cpu += usage.ru_utime + usage.ru_stime
    wall = time.perf_counter() - started
    time.sleep(0.3)  # let the postmaster reap the contender's backends (their CPU is counted then)
    counts = [json.loads((work / f"{name}-{index}.json").read_text()) for index in range(count)]
    rows = hourly_rows(engine)
    peak = max(c["peak_mb"] for c in counts)
    return Measure(wall, cpu, process_tree_cpu(prom) - prom_before, process_tree_cpu(postmaster) - pg_before,
                   peak, sum(c["queries"] for c in counts), sum(c["points"] for c in counts), rows,
                   max(c.get("peak_samples", 0) for c in counts))


def print_results(fleet: Fleet, results: Results, naive_share: float, checksums: set[str]) -> None:
    print(f"\n{fleet}: medians of {len(next(iter(results.runs.values())))} run(s)")
    print(f"{'':<22} {'wall s':>8} {'rows/s':>9} {'requests':>9} {'samples':>11} {'cpu s':>7} "
          f"{'prom cpu':>9} {'pg cpu':>7} {'peak RSS':>9} {'peak held':>11}")
    for variant in results.runs:
        scale = 1 / naive_share if variant == "naive" else 1.0
        wall = results.median(variant, "wall") * scale
        rows = results.median(variant, "rows") * scale
        print(f"{variant:<22} {wall:>8.1f} {rows / wall:>9,.0f} {results.median(variant, 'queries') * scale:>9,.0f} "
              f"{results.median(variant, 'points') * scale:>11,.0f} {results.median(variant, 'cpu') * scale:>7.1f} "
              f"{results.median(variant, 'prometheus_cpu') * scale:>9.1f} "
              f"{results.median(variant, 'postgres_cpu') * scale:>7.1f} "
              f"{results.median(variant, 'peak_rss_mb'):>6,.0f} MB "
              f"{results.median(variant, 'peak_samples'):>11,.0f}")
    if naive_share < 1:
        print(f"(naive measured on {naive_share:.0%} of the accounts and scaled up)")
    walls = {v: results.median(v, "wall") * (1 / naive_share if v == "naive" else 1) for v in results.runs}
    if "tool" in walls and "floorq" in walls:
        print(f"tool/floorq = {walls['tool'] / walls['floorq']:.2f}x (the floor in the tool's query form)")
    if "tool" in walls and "floor" in walls:
        print(f"tool/floor = {walls['tool'] / walls['floor']:.2f}x", end="")
        if "naive" in walls:
            print(f"   naive/tool = {walls['naive'] / walls['tool']:.2f}   naive/floor = "
                  f"{walls['naive'] / walls['floor']:.2f}", end="")
        print()
    for variant in walls:
        if variant != "tool" and contender(variant)[0] == "tool" and "floor" in walls:
            print(f"{variant}/floor = {walls[variant] / walls['floor']:.2f}x   "
                  f"{variant}/tool = {walls[variant] / walls.get('tool', float('nan')):.2f}x")
    if "tool" in results.runs:
        print(f"tool output checksum (hourly/daily): {', '.join(sorted(checksums))}"
              + ("" if len(checksums) == 1 else "   <- DIFFERS between runs (the money changed)"))
        extrapolate(fleet, results)


def extrapolate(fleet: Fleet, results: Results) -> None:
    """10,000 accounts x 365 days from the CPU seconds per account-day measured here. Valid because a
    write's cost does not grow with the rows stored (bench_write.py) and the work per account-day
    is the same at 30 x 365 and at 1000 x 7 (compare their lines)."""
    account_days = fleet.accounts * fleet.days
    total = {part: results.median("tool", attribute) / account_days * TARGET_ACCOUNT_DAYS / 3600
             for part, attribute in (("tool", "cpu"), ("prometheus", "prometheus_cpu"), ("postgres", "postgres_cpu"))}
    wall = results.median("tool", "wall") / account_days * TARGET_ACCOUNT_DAYS / 3600
    print(f"10,000 accounts x 365 days, from the parts measured here: tool {total['tool']:.2f} CPU-h, "
          f"Prometheus {total['prometheus']:.2f} CPU-h, PostgreSQL {total['postgres']:.2f} CPU-h")
    print(f"  one process on this machine (its wall time per account-day): {wall:.1f} h; "
          f"all of it on this machine's 2 cores, any number of replicas: >= {sum(total.values()) / 2:.1f} h")
    print("  N replicas on their own cores (--shard I/N), Thanos on P cores, PostgreSQL on one: "
          "max(tool/N, Prometheus/P, PostgreSQL) hours")
    for cores in (1, 4, 16):
        bounds = {n: max(total["tool"] / n, total["prometheus"] / cores, total["postgres"]) for n in (1, 2, 4, 8)}
        print(f"    P={cores:<2}  " + "  ".join(f"N={n}: {bound:.2f} h" for n, bound in bounds.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=100)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--raw-share", type=float, default=0.1, help="share of raw-only (Phase 1) accounts")
    parser.add_argument("--scrape", type=int, default=300, help="scrape interval in seconds")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--variants", default="tool,floor,naive")
    parser.add_argument("--naive-accounts", type=int, default=0, help="run naive on this many accounts (0: all)")
    parser.add_argument("--shards", type=int, default=1, help="run the tool as N processes with --shard I/N")
    parser.add_argument("--tool-args", default="", help="extra arguments for the tool's backfill")
    parser.add_argument("--py-spy", metavar="PREFIX", help="profile the tool with py-spy into PREFIX.N.txt")
    parser.add_argument("--cache", type=Path, default=HERE.parent / ".bench-cache")
    args = parser.parse_args()
    fleet = Fleet(args.accounts, args.days, args.raw_share, args.scrape)
    print(f"fleet: {fleet}")
    blocks = tsdb(fleet, args.cache)
    print(f"  {samples_stored(fleet, args.cache):,} samples in the TSDB")
    accounts = [*fleet.exporter_accounts, *fleet.raw_accounts]
    naive_accounts = accounts
    if args.naive_accounts:
        # the same mix of exporter and raw accounts as the fleet
        step = max(1, len(accounts) // args.naive_accounts)
        naive_accounts = accounts[::step][: args.naive_accounts]
    naive_share = len(naive_accounts) / len(accounts)
    variants = args.variants.split(",")
    results, checksums = Results(), set()
    with tempfile.TemporaryDirectory() as work_dir, LocalPrometheus([], blocks=blocks) as prometheus:
        work = Path(work_dir)
        work.chmod(0o711)  # as root the embedded server runs as another user, which must traverse it
        db_url = embedded_database_url(work / "pg")
        engine = create_engine(db_url)
        migrate(engine)
        with engine.connect() as connection:
            backend = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
        postmaster = psutil.Process(backend).parent()
        assert postmaster is not None
        for repeat in range(args.repeat):
            for variant in variants:
                measure = run_variant(variant, fleet, prometheus, engine, db_url, postmaster, work,
                                      naive_accounts, args.tool_args.split(), args.shards, args.py_spy)
                if contender(variant)[0] == "tool":
                    checksums.add(checksum(engine))
                results.runs.setdefault(variant, []).append(measure)
                print(f"  run {repeat + 1} {variant}: {measure.wall:.1f} s, {measure.rows:,} rows, "
                      f"{measure.queries:,} requests, peak {measure.peak_rss_mb:.0f} MB, "
                      f"prometheus cpu {measure.prometheus_cpu:.1f} s", flush=True)
        engine.dispose()
    print_results(fleet, results, naive_share, checksums)


if __name__ == "__main__":
    main()
