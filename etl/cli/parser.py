"""The command line's grammar: commands, flags, their help, and the parsing of dates and times.

Imports nothing heavy, so ``--help`` and a mistyped flag answer at once.
"""

from __future__ import annotations

import argparse
import re
from datetime import UTC, date, datetime

from etl import __version__
from etl.config import CONFIG_FILE_ENV
from etl.errors import InputError

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_day(raw: str, flag: str) -> date:
    if not _DATE.match(raw):
        raise InputError(f"{flag} {raw!r}: expected a date as YYYY-MM-DD")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InputError(f"{flag} {raw!r}: not a real calendar date") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="k8s-cost-etl",
        description="Turn Kubernetes cost metrics kept in Thanos into daily cost rows in PostgreSQL.",
        epilog=f"Settings come from a YAML file (--config or ${CONFIG_FILE_ENV}) overridden by environment "
        "variables such as THANOS_URL, DATABASE_URL and ACCOUNTS; see config/k8s-cost-etl.yaml. "
        "Exit codes: 0 ok, 1 an account failed (or doctor found a problem), 2 bad input or configuration, "
        "3 Thanos or database unreachable, 4 no cost rows to report, 130/143 stopped by SIGINT/SIGTERM.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--config", metavar="FILE", help="YAML settings file")
    parser.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        help="override the configured log level")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("migrate", help="bring the database schema to the latest version",
                        description="Apply pending migrations; safe to run from several processes at once.")

    backfill = commands.add_parser(
        "backfill", help="rebuild a historical range of days",
        description="Recompute the given UTC days (inclusive) from Thanos and upsert them. "
        "Re-running never double counts.",
    )
    backfill.add_argument("--start", required=True, metavar="YYYY-MM-DD", help="first UTC day")
    backfill.add_argument("--end", required=True, metavar="YYYY-MM-DD", help="last UTC day (inclusive)")
    backfill.add_argument("--account", action="append", default=[], metavar="ID",
                          help="only this account (repeatable); default: configured or discovered accounts")
    backfill.add_argument("--shard", metavar="I/N",
                          help="only the accounts of shard I of N (0 <= I < N, split by a hash of the account id), "
                          "so N processes, e.g. the pods of a Kubernetes Indexed Job given "
                          "--shard $(JOB_COMPLETION_INDEX)/N, share a backfill with no overlap")
    backfill.add_argument("--restart", action="store_true",
                          help="recompute every chunk, even those an interrupted earlier backfill of the same "
                          "range finished (by default such a backfill is resumed)")

    run = commands.add_parser(
        "run", help="one ingestion cycle: catch up each account through the last complete hour",
        description="Recompute each account from min(its watermark, today - run.lookback_days) "
        "(LOOKBACK_DAYS, default 3) through the last complete hour, so late samples and downtime "
        "are caught up (at most run.max_catchup_days days). Safe to run while other processes run: "
        "an account another process is working on is skipped.",
    )
    run.add_argument("--account", action="append", default=[], metavar="ID", help="only this account")

    commands.add_parser(
        "demo", help="backfill a synthetic week from a local Prometheus and print the daily costs",
        description="Starts a local Prometheus (needs the prometheus and promtool binaries) loaded with a "
        "synthetic week for four clusters (exporter, raw-only and mixed), backfills it into the database "
        "(embedded unless DATABASE_URL is set) through the real pipeline, and prints the daily cost tables.",
    )

    report = commands.add_parser(
        "report", help="an account's cluster costs for a range of days, read from PostgreSQL",
        description="Print what the platform's kubecost_cluster_costs endpoint returns for one cloud account "
        "over UTC days START..END (inclusive), from the stored daily rows, with per-day rows added. Money is "
        "summed exactly and rounded to cents only when shown. Reads only the database (THANOS_URL unused).",
        epilog="Exit code 4: no cost rows for the account in the range (an unknown account, or days not "
        "loaded yet: run `backfill` for them). See docs/reading.md for the JSON keys.",
    )
    report.add_argument("--account", required=True, metavar="ID", help="cloud account id (the tenant_id label)")
    report.add_argument("--start", required=True, metavar="YYYY-MM-DD", help="first UTC day")
    report.add_argument("--end", required=True, metavar="YYYY-MM-DD", help="last UTC day (inclusive)")
    report.add_argument("--format", choices=["json", "table"], default="json",
                        help="json: the endpoint's object (default); table: per-day rows and totals")
    report.add_argument("--plot", metavar="FILE.png",
                        help="also draw a stacked daily cost chart by component (needs the 'plot' extra)")

    doctor = commands.add_parser(
        "doctor", help="check Thanos, the database and the account labels; non-zero exit on a problem",
        description="Checks PostgreSQL (reachable, schema at head, accounts failing), Thanos (reachable), "
        "lists the account ids seen per phase, and flags: a configured account absent in Thanos, account ids "
        "under another label than account_label (e.g. exported_tenant_id), remote-write and exporter tenant "
        "ids that disagree, and exporter gauges gone stale. Exit 0 when all is well, 1 on a problem, 3 when "
        "Thanos or PostgreSQL is unreachable.",
    )
    doctor.add_argument("--window-days", type=int, default=7, metavar="N",
                        help="look for accounts and series in the last N days (default 7)")
    doctor.add_argument("--stale-hours", type=int, default=3, metavar="H",
                        help="exporter gauges without a sample for H hours are stale (default 3)")
    doctor.add_argument("--at", metavar="YYYY-MM-DDTHH:MM", help="check as of this UTC time (default: now)")

    commands.add_parser(
        "schedule", help="run forever: one ingestion cycle per cron tick, with health and metrics",
        description="Long-running daemon: runs the `run` cycle on schedule.cron (SCHEDULE_CRON, UTC, default "
        "7 minutes past every hour) and at start-up (schedule.run_on_start), one cycle at a time, missed "
        "ticks coalesced. Serves /healthz, /readyz and /metrics on schedule.health_port (HEALTH_PORT, "
        "default 9464; 0 disables). SIGTERM/SIGINT: the cycle in flight stops at a chunk boundary, "
        "everything before it committed, and the process exits 0. Several replicas share the accounts.",
    )
    return parser


def parse_instant(raw: str, flag: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise InputError(f"{flag} {raw!r}: expected a UTC time as YYYY-MM-DDTHH:MM") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
