"""The three contenders of bench_fleet.py, each run as its own process (``python bench/clients.py
VARIANT ...``) so that its wall time, CPU and peak RSS are its own, as a real run's would be:

- ``tool``: the real ``k8s-cost-etl backfill`` (etl.cli.main), with its Thanos calls counted.
- ``floor``: a bare client: one ``query_range`` per metric for all accounts over the whole range at a
  1 h step, the simplest window (``avg_over_time``), then one plain ``COPY`` of as many hourly rows
  as the tool writes. No costing, no daily rows, no run log: what no correct tool can beat.
- ``floorq``: the floor, but asking in the tool's own query forms (etl.source.promql: exporter
  gauges and Phase 1 metrics, all accounts at once): what the tool's machinery costs beyond them.
- ``naive``: what a request handler does: one query per metric per account per day, then an
  ``INSERT ... ON CONFLICT`` of that account-day's rows in one transaction.

Each writes {"queries", "points", "rows"} as JSON to ``--out``. The floor and the naive client import
nothing of the tool (its start-up is not theirs): the driver hands them the metric names, query
templates and columns in ``--spec`` (see spec()).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
if os.environ.get("BENCH_SOURCE"):  # the tool of another checkout (bench_fleet.py's tool@src=DIR)
    sys.path.insert(0, os.environ["BENCH_SOURCE"])

ACCOUNT = "tenant_id"
HOUR = 3600


class Counter:
    def __init__(self) -> None:
        self.queries = 0
        self.points = 0
        self.peak_samples = 0  # the most samples one range query held at once (Prometheus' stats)
        self.lock = threading.Lock()  # the tool's queries run in several threads

    def held(self, data: Any) -> None:
        peak = int(((data.get("stats") or {}).get("samples") or {}).get("peakSamples", 0))
        with self.lock:
            self.peak_samples = max(self.peak_samples, peak)


def _query_range(session: Any, url: str, counter: Counter, query: str, first: date, last: date) -> list[Any]:
    start = datetime(first.year, first.month, first.day, tzinfo=UTC).timestamp() + HOUR
    end = datetime(last.year, last.month, last.day, tzinfo=UTC).timestamp() + 24 * HOUR
    response = session.post(f"{url}/api/v1/query_range", timeout=600,
                            data={"query": query, "start": start, "end": end, "step": HOUR, "stats": "all"})
    response.raise_for_status()
    data = response.json()["data"]
    counter.held(data)
    result: list[Any] = data["result"]
    counter.queries += 1
    counter.points += sum(len(series["values"]) for series in result)
    return result


def _hour_start(ts: float) -> str:
    return datetime.fromtimestamp(ts - HOUR, UTC).isoformat()


def spec(accounts: list[str]) -> dict[str, Any]:
    """What the floor and the naive client need to know of the tool (called by the driver)."""
    from etl.model import COST_COLUMNS, EFFICIENCY_COLUMNS
    from etl.source import plain
    from etl.source import promql as q

    by_node, by_volume = f"{ACCOUNT}, node", f"{ACCOUNT}, persistentvolume, volumename"
    grouped = [(q.CPU_ALLOCATION_METRIC, by_node), (q.RAM_ALLOCATION_METRIC, by_node),
               (q.PVC_ALLOCATION_METRIC, f"{ACCOUNT}, persistentvolume"), (q.CPU_PRICE_METRIC, by_node),
               (q.RAM_PRICE_METRIC, by_node), (q.PV_PRICE_METRIC, by_volume),
               (q.LOAD_BALANCER_COST_METRIC, ACCOUNT), (q.RAM_USAGE_METRIC, ACCOUNT)]
    # One simple query per raw metric the tool reads, grouped by the label it joins on; the first
    # one (CPU allocation) says which raw account-hours exist.
    raw = [f"sum by ({by}) (avg_over_time({metric}{{selector}}[1h]))" for metric, by in grouped]
    raw.append(f"sum by ({ACCOUNT}) (rate({q.CPU_USAGE_METRIC}{{selector}}[1h]))")
    exporter = {**q.EXPORTER_METRICS, "scrape_success": q.EXPORTER_HEALTH_METRIC}
    # The same gauges in the tool's own query forms for all accounts at once: each gauge's
    # time-weighted hour and the exporter's healthy minutes, in the plain forms the tool asks for a
    # chunk it holds clean, as the fleet's are (etl.source.plain; without its check query).
    tool_form = {column: plain.gauge_plain(metric, ACCOUNT, [], trailing_24h=False)
                 for column, metric in q.EXPORTER_METRICS.items()}
    tool_form["scrape_success"] = plain.exporter_coverage_plain(ACCOUNT, [])
    return {"accounts": accounts, "exporter": exporter, "exporter_tool_form": tool_form, "raw": raw,
            "raw_tool_form": _raw_tool_form(), "costs": COST_COLUMNS, "efficiencies": EFFICIENCY_COLUMNS}


class _QueryRecorder:
    """Stands in for the Thanos client to learn the tool's Phase 1 query texts (it answers nothing)."""

    max_concurrent_queries = 1

    def __init__(self) -> None:
        self.queries: list[str] = []

    def query_range(self, query: str, *_: Any) -> list[Any]:
        self.queries.append(query)
        return []

    def query(self, query: str, *_: Any) -> list[Any]:
        """The check of etl.source.plain: nothing unclean, so the plain forms a clean fleet gets."""
        return []


def _raw_tool_form() -> list[str]:
    """The tool's own Phase 1 queries for every account (the first: the sampling probe of CPU
    allocations, which has a series per account-hour with samples): the probes and lookback
    queries; no hold, as the fleet is scraped every 5 minutes."""
    from datetime import date as day

    from etl.model import HourRange
    from etl.source.promql import account_selector
    from etl.source.raw import fetch_raw_metrics

    recorder = _QueryRecorder()
    placeholder = "every-account"  # asked for one account, then its matcher widened to all of them
    fetch_raw_metrics(recorder, ACCOUNT, [placeholder],  # type: ignore[arg-type]
                      HourRange.for_days(day(2025, 1, 1), day(2025, 1, 1)))
    one, every = account_selector(ACCOUNT, [placeholder]), account_selector(ACCOUNT, [])
    return [query.replace(one, every) for query in recorder.queries]


def _rows(spec: dict[str, Any], exporter: dict[str, list[Any]], raw_presence: list[Any]) -> list[tuple[Any, ...]]:
    """Hourly rows (cost columns as they come, no costing): exporter account-hours with a total,
    and raw account-hours with a CPU allocation (zero costs: the floor does not price them)."""
    COST_COLUMNS, EFFICIENCY_COLUMNS = spec["costs"], spec["efficiencies"]
    values: dict[tuple[str, str], dict[str, float]] = {}
    for column, answer in exporter.items():
        for series in answer:
            for ts, value in series["values"]:
                values.setdefault((series["metric"][ACCOUNT], _hour_start(ts)), {})[column] = float(value)
    rows = [(account, hour, *(row.get(c, 0.0) for c in COST_COLUMNS),
             *(row.get(c) for c in EFFICIENCY_COLUMNS), "exporter")
            for (account, hour), row in values.items() if "total_cost" in row]
    raw_hours = {(s["metric"][ACCOUNT], _hour_start(ts)) for s in raw_presence for ts, _ in s["values"]}
    rows += [(account, hour, *(0.0 for _ in COST_COLUMNS), *(None for _ in EFFICIENCY_COLUMNS), "raw")
             for account, hour in sorted(raw_hours)]
    return rows


def _columns(spec: dict[str, Any]) -> list[str]:
    return ["cloud_account_id", "hour_start", *spec["costs"], *spec["efficiencies"], "source_phase"]


def floor(args: argparse.Namespace, counter: Counter) -> int:
    import psycopg2
    import requests

    session = requests.Session()

    def fetch(query: str) -> list[Any]:
        return _query_range(session, args.thanos, counter, query, args.first, args.last)

    spec = json.loads(Path(args.spec).read_text())
    every = f'{{{ACCOUNT}!=""}}'
    if args.variant == "floorq":
        # the tool's query form (evaluated at the hour's end, like the simple one)
        exporter = {column: fetch(query) for column, query in spec["exporter_tool_form"].items()}
    else:
        exporter = {column: fetch(f"sum by ({ACCOUNT}) (avg_over_time({metric}{every}[1h]))")
                    for column, metric in spec["exporter"].items()}
    if args.variant == "floorq":
        raw = [fetch(query) for query in spec["raw_tool_form"]]
    else:
        raw = [fetch(query.replace("{selector}", every)) for query in spec["raw"]]
    rows = _rows(spec, exporter, raw[0])
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(("" if v is None else v for v in row) for row in rows)
    buffer.seek(0)
    with psycopg2.connect(args.db) as connection, connection.cursor() as cursor:
        cursor.copy_expert(f"COPY k8s_hourly_costs ({', '.join(_columns(spec))}) FROM STDIN WITH (FORMAT csv)", buffer)
    return len(rows)


def naive(args: argparse.Namespace, counter: Counter) -> int:
    import psycopg2
    import requests

    session = requests.Session()
    spec = json.loads(Path(args.spec).read_text())
    columns = _columns(spec)
    upsert = (f"INSERT INTO k8s_hourly_costs ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))}) "
              f"ON CONFLICT (cloud_account_id, hour_start) DO UPDATE SET "
              + ", ".join(f"{c} = EXCLUDED.{c}" for c in columns[2:]))
    written = 0
    with psycopg2.connect(args.db) as connection:
        for account in spec["accounts"]:
            one = f'{{{ACCOUNT}="{account}"}}'
            day = args.first
            while day <= args.last:
                if account.startswith("bench-raw"):
                    raw = [_query_range(session, args.thanos, counter, query.replace("{selector}", one), day, day)
                           for query in spec["raw"]]
                    rows = _rows(spec, {}, raw[0])
                else:
                    exporter = {column: _query_range(session, args.thanos, counter,
                                                     f"avg_over_time({metric}{one}[1h])", day, day)
                                for column, metric in spec["exporter"].items()}
                    rows = _rows(spec, exporter, [])
                with connection.cursor() as cursor:
                    cursor.executemany(upsert, rows)
                connection.commit()
                written += len(rows)
                day += timedelta(days=1)
    return written


def tool(args: argparse.Namespace, counter: Counter) -> int:
    try:
        from etl.cli.memory import limit_allocator_caches
    except ImportError:  # a checkout of before it (tool@src=DIR)
        pass
    else:
        limit_allocator_caches()  # as the command line does first, before pandas loads
    from etl.cli import main
    from etl.source.thanos import ThanosClient

    query_range = ThanosClient.query_range
    call = ThanosClient._call

    def counted_range(self: ThanosClient, *a: Any, **k: Any) -> Any:
        answer = query_range(self, *a, **k)
        with counter.lock:
            counter.points += sum(len(series.points) for series in answer)
        return answer

    def counted_call(self: ThanosClient, method: str, path: str, params: dict[str, Any]) -> Any:
        with counter.lock:
            counter.queries += 1
        if path.endswith("/query_range"):  # Prometheus' stats: the samples the query held at once
            data = call(self, method, path, {**params, "stats": "all"})
            counter.held(data)
            return data
        return call(self, method, path, params)

    ThanosClient.query_range = counted_range  # type: ignore[method-assign]
    ThanosClient._call = counted_call  # type: ignore[method-assign]
    argv = ["backfill", "--start", str(args.first), "--end", str(args.last), *args.extra]
    code = main(argv)
    if code:
        raise SystemExit(f"k8s-cost-etl {' '.join(argv)} exited {code}")
    return -1  # the driver counts the tool's rows in the database


VARIANTS: dict[str, Callable[[argparse.Namespace, Counter], int]] = {
    "tool": tool, "floor": floor, "floorq": floor, "naive": naive}


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("variant", choices=sorted(VARIANTS))
    parser.add_argument("--thanos", required=True)
    parser.add_argument("--db", required=True, help="libpq URL (the tool reads DATABASE_URL)")
    parser.add_argument("--first", type=date.fromisoformat, required=True)
    parser.add_argument("--last", type=date.fromisoformat, required=True)
    parser.add_argument("--spec", help="JSON file written by the driver (floor, naive)")
    parser.add_argument("--out", required=True)
    # Anything else is passed on to the tool's backfill.
    args, args.extra = parser.parse_known_args(list(argv) if argv is not None else None)
    counter = Counter()
    rows = VARIANTS[args.variant](args, counter)
    # VmHWM: the peak RSS of this program image (ru_maxrss would include the forking driver's).
    status = Path("/proc/self/status").read_text()
    peak_kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
    Path(args.out).write_text(json.dumps({"queries": counter.queries, "points": counter.points, "rows": rows,
                                          "peak_mb": peak_kb / 1024, "peak_samples": counter.peak_samples}))


if __name__ == "__main__":
    main()
