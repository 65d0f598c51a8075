"""Where the tool's time goes: py-spy's collapsed stacks (bench_fleet.py --py-spy, idle samples
included, so waiting on Thanos or PostgreSQL counts) summed into the pipeline's steps. A sample
counts for the first step (in the order below) found in its stack.

    .venv/bin/python bench/profile_shares.py PREFIX.0.txt [...]
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

# step -> frames (function names, as py-spy prints them "name (file:line)") that mark it
STEPS: list[tuple[str, tuple[str, ...]]] = [
    ("start-up (imports, settings, schema check)", ("_find_and_load", "require_schema_at_head", "ping")),
    ("write: delete of vanished hours", ("_delete_vanished_hours", "delete_vanished_statement")),
    ("write: upserts", ("_upsert_from_stage", "upsert_statement")),
    ("write: staging (CSV, COPY, analyse)", ("_stage", "_copy_rows")),
    ("write: statements and commit", ("write_costs",)),
    ("daily roll-up", ("daily_rollup",)),
    ("Thanos: HTTP and Prometheus time", ("_request_once",)),
    # the main thread waiting on a chunk's queries in flight (etl.source.parallel): Thanos time, and
    # the parsing and costing the query threads do meanwhile
    ("Thanos: a chunk's queries in flight (waited for)", ("fetch_concurrently", "for_batch")),
    ("Thanos: answer parsing", ("query_range", "series", "label_values")),
    ("answers -> frames", ("series_to_frame", "merge_columns", "fetch_hourly", "fetch_exporter_gauges",
                           "fetch_raw_metrics")),
    ("costing (phases, Phase 1, Phase 2)", ("exporter_hours", "raw_hourly_costs", "choose_phase_per_hour",
                                            "log_default_prices")),
    ("run log, locks, resume", ("record_success", "record_failure", "try_lock", "unlock", "still_held", "pending",
                                "completed", "finished_accounts", "read_states", "start_backfill_run",
                                "finish_run")),
]


def shares(paths: list[Path]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for path in paths:
        for line in path.read_text().splitlines():
            stack, _, number = line.rpartition(" ")
            if not stack.startswith("<module>"):
                continue  # not the main thread (an idle helper thread: pool, server, progress bar)
            # "Class.method (file:line)" -> "method"
            frames = {frame.split(" (")[0].rpartition(".")[2] for frame in stack.split(";")}
            step = next((name for name, marks in STEPS if not frames.isdisjoint(marks)), "other")
            counts[step] += int(number)
    return counts


def main() -> None:
    counts = shares([Path(arg) for arg in sys.argv[1:]])
    total = sum(counts.values())
    for step, count in counts.most_common():
        print(f"{count / total:6.1%}  {step}")
    print(f"{total} samples")


if __name__ == "__main__":
    main()
