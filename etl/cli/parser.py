"""The command line's grammar: commands, flags, their help, and the parsing of dates and times.

Imports nothing heavy, so ``--help`` and a mistyped flag answer at once.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime

from etl import __version__
from etl.cli.logs import LOG_FORMATS
from etl.errors import InputError

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# etl.config.CONFIG_FILE_ENV, spelled here so that --help does not import pydantic and YAML (a
# unit test keeps the two equal).
CONFIG_FILE_ENV = "K8S_COST_ETL_CONFIG"
LOG_LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR"]


def parse_day(raw: str, flag: str) -> date:
    if not _DATE.match(raw):
        raise InputError(f"{flag} {raw!r}: expected a date as YYYY-MM-DD")
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise InputError(f"{flag} {raw!r}: not a real calendar date") from None
    if day == date.max:  # a range ends at the midnight after its last day, which this day lacks
        raise InputError(f"{flag} {raw!r}: too far in the future")
    return day


def _day_flag(flag: str) -> Callable[[str], date]:
    """argparse ``type`` of a date flag: a bad date is an argument error, answered before any import."""
    def parse(raw: str) -> date:
        try:
            return parse_day(raw, flag)
        except InputError as exc:
            raise argparse.ArgumentTypeError(str(exc).removeprefix(f"{flag} ")) from None

    return parse


def _count(low: int, high: int) -> Callable[[str], int]:
    """argparse ``type`` of a whole number within [low, high] (a larger one would overflow a date)."""
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{raw!r}: not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value}: must be between {low} and {high}")
        return value

    return parse


def _names(raw: str) -> list[str]:
    """argparse ``type`` of a comma-separated list of names."""
    names = [name.strip() for name in raw.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"{raw!r}: no namespace named")
    return names


def _day_range_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--start", required=True, type=_day_flag("--start"), metavar="YYYY-MM-DD",
                        help="first UTC day")
    parser.add_argument("--end", required=True, type=_day_flag("--end"), metavar="YYYY-MM-DD",
                        help="last UTC day (inclusive)")


def _allow_removal_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--allow-removal", action="store_true",
                        help="store Thanos' answer as it is even where it lacks data the stored rows or the rest of "
                        "the answer show existed (by default such an account fails, exit 1): stored hours it lacks "
                        "are deleted, components it lacks become 0. Only when that data is really gone from Thanos")


def _global_flags(parser: argparse.ArgumentParser, default: object) -> None:
    """The flags every command takes, before or after the command's name. A subcommand's copy
    defaults to SUPPRESS, so it sets a value only when given and never hides the global one."""
    parser.add_argument("--config", metavar="FILE", default=default, help=f"YAML settings file (or ${CONFIG_FILE_ENV})")
    parser.add_argument("--log-level", choices=LOG_LEVELS, default=default,
                        help="override the configured log level (LOG_LEVEL)")
    parser.add_argument("--log-format", choices=LOG_FORMATS, default=default,
                        help="text (default) or json: one JSON object per line, for a cluster's log stack (LOG_FORMAT)")


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
    _global_flags(parser, None)
    shared = argparse.ArgumentParser(add_help=False)
    _global_flags(shared, argparse.SUPPRESS)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, **kwargs: str) -> argparse.ArgumentParser:
        return subparsers.add_parser(name, parents=[shared], **kwargs)  # type: ignore[arg-type]

    command("migrate", help="bring the database schema to the latest version",
                        description="Apply pending migrations; safe to run from several processes at once.")

    backfill = command(
        "backfill", help="rebuild a historical range of days",
        description="Recompute the given UTC days (inclusive) from Thanos and upsert them. "
        "Re-running never double counts.",
    )
    _day_range_flags(backfill)
    backfill.add_argument("--account", action="append", default=[], metavar="ID",
                          help="only this account (repeatable); default: configured or discovered accounts")
    backfill.add_argument("--shard", metavar="I/N",
                          help="only the accounts of shard I of N (0 <= I < N, split by a hash of the account id), "
                          "so N processes, e.g. the pods of a Kubernetes Indexed Job given "
                          "--shard $(JOB_COMPLETION_INDEX)/N, share a backfill with no overlap")
    backfill.add_argument("--restart", action="store_true",
                          help="recompute every chunk, even those an interrupted earlier backfill of the same "
                          "range finished (by default such a backfill is resumed)")
    _allow_removal_flag(backfill)

    run = command(
        "run", help="one ingestion cycle: catch up each account through the last complete hour",
        description="Recompute each account from min(its watermark, today - run.lookback_days) "
        "(LOOKBACK_DAYS, default 3) through the last complete hour, so late samples and downtime "
        "are caught up (at most run.max_catchup_days days). Safe to run while other processes run: "
        "an account another process is working on is skipped.",
    )
    run.add_argument("--account", action="append", default=[], metavar="ID", help="only this account")
    _allow_removal_flag(run)

    demo = command(
        "demo", help="backfill a synthetic week from a local Prometheus and print the daily costs",
        description="Starts a local Prometheus (needs the prometheus and promtool binaries) loaded with a "
        "synthetic week for four clusters (exporter, raw-only and mixed), backfills it into the embedded "
        "database through the real pipeline, and prints the daily cost tables. DATABASE_URL is ignored: demo "
        "accounts go into another database only when --database-url names it.",
    )
    demo.add_argument("--serve", action="store_true",
                      help="keep the demo Prometheus running after the backfill, print the `export THANOS_URL=...` "
                      "line to use it with backfill, run, doctor and schedule, and stop on Ctrl-C")
    demo.add_argument("--database-url", metavar="URL",
                      help="write the demo accounts into this database instead of the embedded one")

    report = command(
        "report", help="an account's cluster costs for a range of days, read from PostgreSQL",
        description="Print what the platform's kubecost_cluster_costs endpoint returns for one cloud account "
        "over UTC days START..END (inclusive), from the stored daily rows, with per-day rows added. Money is "
        "summed exactly and rounded to cents only when shown. Reads only the database (THANOS_URL unused).",
        epilog="Exit code 4: no cost rows for the account in the range (an unknown account, or days not "
        "loaded yet: run `backfill` for them). See docs/reading.md for the JSON keys.",
    )
    report.add_argument("--account", required=True, metavar="ID", help="cloud account id (the tenant_id label)")
    _day_range_flags(report)
    report.add_argument("--format", choices=["json", "table"], default="json",
                        help="json: the endpoint's object (default); table: per-day rows and totals")
    report.add_argument("--plot", metavar="FILE.png",
                        help="also draw a stacked daily cost chart by component, or by namespace with --by namespace "
                        "(needs the 'plot' extra)")
    report.add_argument("--by", choices=["cluster", "namespace"], default="cluster",
                        help="cluster: the endpoint's object (default); namespace: the cost of each namespace, the "
                        "idle and the unallocated, adding up to the cluster's")
    report.add_argument("--share", type=_names, default=[], metavar="NS[,NS...]",
                        help="with --by namespace: spread these namespaces' cost (e.g. kube-system,monitoring) over "
                        "the others, per day in proportion to their cost; the totals do not change")
    report.add_argument("--share-idle", action="store_true",
                        help="with --by namespace: spread the idle (__idle__) over the namespaces the same way")

    doctor = command(
        "doctor", help="check Thanos, the database and the account labels; non-zero exit on a problem",
        description="Checks PostgreSQL (reachable, schema at head, accounts failing), Thanos (reachable), "
        "lists the account ids seen per phase, and flags: a configured account absent in Thanos, account ids "
        "under another label than account_label (e.g. exported_tenant_id), remote-write and exporter tenant "
        "ids that disagree, and exporter gauges gone stale. Exit 0 when all is well, 1 on a problem, 3 when "
        "Thanos or PostgreSQL is unreachable.",
    )
    doctor.add_argument("--window-days", type=_count(1, 3660), default=7, metavar="N",
                        help="look for accounts and series in the last N days (default 7)")
    doctor.add_argument("--stale-hours", type=_count(1, 8784), default=3, metavar="H",
                        help="exporter gauges without a sample for H hours are stale (default 3)")
    doctor.add_argument("--at", metavar="YYYY-MM-DDTHH:MM", help="check as of this UTC time (default: now)")

    export = command(
        "export", help="write stored daily costs as a FinOps FOCUS file (CSV or Parquet)",
        description="Write the stored daily rows of UTC days START..END (inclusive) as FOCUS 1.x cost and usage "
        "rows: one row per account and day (--by cluster) or per account, day and namespace (--by namespace), "
        "ChargePeriodStart/End, BilledCost = EffectiveCost = ListCost in the row's currency, SubAccountId = the cloud "
        "account, and x_ columns for the cost split, idle, efficiency and potential savings. Reads only the database. "
        "See docs/focus.md.",
    )
    export.add_argument("--format", choices=["focus"], default="focus", help="the export format (focus)")
    _day_range_flags(export)
    export.add_argument("--account", action="append", default=[], metavar="ID",
                        help="only this account (repeatable); default: every account")
    export.add_argument("--by", choices=["cluster", "namespace"], default="cluster",
                        help="one row per account and day (cluster), or per account, day and namespace (namespace)")
    export.add_argument("-o", "--output", required=True, metavar="FILE.csv|FILE.parquet",
                        help="the file to write; its suffix picks CSV or Parquet (Parquet needs the 'parquet' extra)")

    command(
        "schedule", help="run forever: one ingestion cycle per cron tick, with health and metrics",
        description="Long-running daemon: runs the `run` cycle on schedule.cron (SCHEDULE_CRON, UTC, default "
        "7 minutes past every hour) and at start-up (schedule.run_on_start), one cycle at a time, missed "
        "ticks coalesced. Serves /healthz, /readyz and /metrics on schedule.health_port (HEALTH_PORT, "
        "default 9464; 0 disables). SIGTERM/SIGINT: the cycle in flight stops at a chunk boundary, "
        "everything before it committed, and the process exits 0. Several replicas share the accounts.",
    )
    return parser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The arguments, or an argument error (exit 2) before anything heavy is imported."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "start", None) and args.start > args.end:
        parser.exit(2, f"{parser.prog} {args.command}: error: --start {args.start} is after --end {args.end}\n")
    if args.command == "report" and args.by != "namespace" and (args.share or args.share_idle):
        parser.exit(2, f"{parser.prog} report: error: --share and --share-idle need --by namespace\n")
    return args


def parse_instant(raw: str, flag: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise InputError(f"{flag} {raw!r}: expected a UTC time as YYYY-MM-DDTHH:MM") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
