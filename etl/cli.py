"""Command line: the only module that prints and picks exit codes.

Exit codes: 0 success; 1 some account failed, or ``doctor`` found a problem; 2 bad input or
configuration; 3 Thanos or PostgreSQL unreachable or unusable (schema not migrated); 4 ``report``
found no cost rows for the account in the range; 128 + the signal's number (130 SIGINT, 143 SIGTERM)
when ``run`` or ``backfill`` stopped on a signal after committing the chunk in flight.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine

from etl import __version__
from etl.config import CONFIG_FILE_ENV, Settings, load_settings
from etl.costs import join_resource_lists
from etl.cycle import CycleOutcome, Runner, backfill_command
from etl.db import connect, migrate, require_schema_at_head
from etl.doctor import diagnose
from etl.errors import ConfigError, DependencyError, EtlError, InputError, ThanosError
from etl.pipeline import RunSummary
from etl.report import cluster_costs, require_ordered
from etl.runlog import STATUS_INTERRUPTED
from etl.scheduler import Daemon
from etl.shutdown import StopSignals
from etl.store import fetch_account_span
from etl.thanos import ThanosClient

EXIT_OK, EXIT_ACCOUNT_FAILED, EXIT_BAD_INPUT, EXIT_DEPENDENCY, EXIT_NO_DATA = 0, 1, 2, 3, 4
log = logging.getLogger("etl")
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


def _print_error(message: object) -> None:
    print(f"k8s-cost-etl: error: {message}", file=sys.stderr)


def _error_exit_code(exc: EtlError) -> int:
    """The exit code of an error family (etl.errors)."""
    if isinstance(exc, ConfigError | InputError):
        return EXIT_BAD_INPUT
    if isinstance(exc, DependencyError):
        return EXIT_DEPENDENCY
    return EXIT_ACCOUNT_FAILED


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    # Their INFO lines (server start-up chatter, "Context impl") are noise at our INFO level.
    for chatty in ("pgserver", "alembic", "urllib3"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.getLogger().level))


def _open_database(settings: Settings) -> Engine:
    engine = connect(settings)
    require_schema_at_head(engine)
    return engine


def _open_thanos(settings: Settings) -> ThanosClient:
    client = ThanosClient(settings.thanos)
    client.ping()
    return client


def _print_summary(kind: str, summary: RunSummary) -> None:
    total_hours = sum(a.hourly_rows for a in summary.accounts.values())
    total_days = sum(a.daily_rows for a in summary.accounts.values())
    print(
        f"{kind} {summary.first_day}..{summary.last_day}: {len(summary.accounts)} account(s), "
        f"{summary.days} day(s), {total_days} daily and {total_hours} hourly row(s) written"
    )
    if not summary.accounts:
        return
    width = max(len("account"), *(len(name) for name in summary.accounts))
    phases = {name: ",".join(sorted(account.phases)) or "-" for name, account in summary.accounts.items()}
    phase_width = max(len("phase"), *(len(phase) for phase in phases.values()))
    print(f"{'account':<{width}}  {'days':>5}  {'hours':>6}  {'phase':<{phase_width}}  status")
    for name, account in summary.accounts.items():
        status = "ok" if account.ok else f"FAILED: {account.errors[-1]}"
        if account.ok and not account.hourly_rows:
            status = "no data"
        print(f"{name:<{width}}  {account.daily_rows:>5}  {account.hourly_rows:>6}  "
              f"{phases[name]:<{phase_width}}  {status}")


def _progress_bar(total: int | None) -> tuple[Callable[[int], None], Callable[[], None]]:
    from tqdm import tqdm

    bar = tqdm(total=total, unit="account-day", disable=not sys.stderr.isatty(), file=sys.stderr)
    return bar.update, bar.close


def _print_outcome(outcome: CycleOutcome) -> None:
    _print_summary(outcome.kind, outcome.summary)
    if outcome.skipped_chunks:
        print(f"resumed: {outcome.skipped_chunks} account-chunk(s) finished by an earlier run were skipped")
    for name, reason in outcome.skipped.items():
        print(f"skipped {name}: {reason}")
    for name, gap in outcome.gaps.items():
        print(f"gap {name}: {gap[0]}..{gap[1]} not computed; run `{backfill_command(name, gap)}`")
    print(f"run #{outcome.run_id}: {outcome.status}")


def _exit_code(outcome: CycleOutcome, signals: StopSignals) -> int:
    if outcome.status == STATUS_INTERRUPTED:
        return signals.exit_code()
    return EXIT_ACCOUNT_FAILED if outcome.failed else EXIT_OK


def _money(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


REPORT_TABLE_COLUMNS = [  # (heading, key in a day row / the summary) for the table format
    ("total", "total_cost"), ("cpu", "cpu_cost"), ("ram", "ram_cost"), ("pv", "pv_cost"),
    ("network", "network_cost"), ("lb", "load_balancer_cost"), ("management", "management_cost"),
]


def _print_report_table(report: dict[str, Any]) -> None:
    phases = ", ".join(f"{phase} {hours} h" for phase, hours in report["phases"].items()) or "-"
    first, last = report["days"][0]["date"], report["days"][-1]["date"]
    print(f"cluster costs of {report['cloud_account_id']} (USD), days with data {first}..{last}: "
          f"{report['hours_covered']} of {report['hours_in_range']} hour(s) covered; phases: {phases}")
    rows = [
        [day["date"], str(day["hours_covered"]), day["source_phase"],
         *(_money(day[key]) for _, key in REPORT_TABLE_COLUMNS),
         _percent(day["cpu_efficiency"]), _percent(day["ram_efficiency"]), _money(day["potential_savings"])]
        for day in report["days"]
    ]
    efficiency = report["efficiency"]
    rows.append(["total", str(report["hours_covered"]), "",
                 *(_money(report["summary"][key]) for _, key in REPORT_TABLE_COLUMNS),
                 _percent(efficiency["cpu_efficiency"]), _percent(efficiency["ram_efficiency"]),
                 _money(report["potential_savings"])])
    headings = ["date", "hours", "phase", *(heading for heading, _ in REPORT_TABLE_COLUMNS),
                "cpu eff %", "ram eff %", "savings"]
    widths = [max(len(cells[i]) for cells in [headings, *rows]) for i in range(len(headings))]
    for cells in [headings, *rows]:
        print("  ".join(cell.ljust(width) if i < 3 else cell.rjust(width)
                        for i, (cell, width) in enumerate(zip(cells, widths, strict=True))))
    print(f"total efficiency: {_percent(efficiency['total_efficiency'])} %")
    if report["default_priced_hours"]:
        resources = join_resource_lists(day["default_priced_resources"] for day in report["days"]) or ""
        print(f"{report['default_priced_hours']} hour(s) priced with default prices (no published price for "
              f"{resources}): see pricing.default_* in the config")


def _no_data_message(engine: Engine, account: str, first_day: date, last_day: date) -> str:
    span = fetch_account_span(engine, account)
    if span is None:
        return f"unknown account {account!r}: no cost rows are stored for it (check the id, or backfill it)"
    return (f"no cost rows for account {account!r} between {first_day} and {last_day}; "
            f"its stored days run from {span[0]} to {span[1]}")


def _day_range(args: argparse.Namespace) -> tuple[date, date]:
    first_day, last_day = parse_day(args.start, "--start"), parse_day(args.end, "--end")
    require_ordered(first_day, last_day)
    return first_day, last_day


def cmd_report(settings: Settings, args: argparse.Namespace) -> int:
    first_day, last_day = _day_range(args)
    engine = _open_database(settings)
    report = cluster_costs(engine, args.account, first_day, last_day)
    if not report["days"]:
        _print_error(_no_data_message(engine, args.account, first_day, last_day))
        return EXIT_NO_DATA
    if args.plot:
        from etl.plot import plot_daily_costs

        plot_daily_costs(report, args.plot)
        log.info("Daily cost chart for %s written to %s", args.account, args.plot)
    if args.format == "table":
        _print_report_table(report)
    else:
        print(json.dumps(report, indent=2))
    return EXIT_OK


def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> int:
    before, after = migrate(connect(settings))
    print(f"schema at {after}" + ("" if before == after else f" (was {before or 'empty'})"))
    return EXIT_OK


def cmd_backfill(settings: Settings, args: argparse.Namespace) -> int:
    first_day, last_day = _day_range(args)
    engine = _open_database(settings)
    client = _open_thanos(settings)
    signals = StopSignals().install()
    runner = Runner(settings, client, engine, stop_requested=signals.requested)
    # Counted in account-days; the total is unknown until the accounts are resolved.
    advance, close = _progress_bar(None)
    try:
        outcome = runner.backfill(first_day, last_day, args.account, restart=args.restart, progress=advance)
    finally:
        close()
    _print_outcome(outcome)
    return _exit_code(outcome, signals)


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    engine = _open_database(settings)
    client = _open_thanos(settings)
    signals = StopSignals().install()
    outcome = Runner(settings, client, engine, stop_requested=signals.requested).run_cycle(accounts=args.account)
    _print_outcome(outcome)
    return _exit_code(outcome, signals)


def parse_instant(raw: str, flag: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise InputError(f"{flag} {raw!r}: expected a UTC time as YYYY-MM-DDTHH:MM") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def cmd_doctor(settings: Settings, args: argparse.Namespace) -> int:
    if args.window_days < 1 or args.stale_hours < 1:
        raise InputError("--window-days and --stale-hours must be at least 1")
    at = parse_instant(args.at, "--at") if args.at else datetime.now(UTC)
    report = diagnose(settings, at, args.window_days, args.stale_hours)
    marks = {"ok": "ok     ", "warning": "WARNING", "error": "ERROR  "}
    for finding in report.findings:
        print(f"[{marks[finding.level]}] {finding.check}: {finding.message}")
    if report.accounts_by_phase:
        print(f"accounts seen under `{settings.account_label}` in the last {args.window_days} day(s):")
        for phase, accounts in report.accounts_by_phase.items():
            print(f"  {phase}: {', '.join(accounts) or '-'}")
    if report.dependency_down:
        return EXIT_DEPENDENCY
    print(f"{len(report.problems)} problem(s) found" if report.problems else "no problems found")
    return EXIT_ACCOUNT_FAILED if report.problems else EXIT_OK


def cmd_schedule(settings: Settings, _args: argparse.Namespace) -> int:
    engine = _open_database(settings)
    client = ThanosClient(settings.thanos)
    try:
        client.ping()
    except ThanosError as exc:  # a daemon waits for Thanos to come back; each cycle retries
        log.warning("Thanos is not answering yet (%s); the cycles will retry", exc)
    signals = StopSignals().install()
    Daemon(settings, client, engine, stop=signals.event).serve()
    return EXIT_OK


def cmd_demo(settings: Settings, _args: argparse.Namespace) -> int:
    from etl.demo import run_demo

    result = run_demo(settings)
    _print_summary("demo backfill", result.summary)
    print(f"\nDaily costs stored in {result.database} (table k8s_daily_costs), as "
          "`k8s-cost-etl report --format table` shows them:")
    for report in result.reports:
        print()
        _print_report_table(report)
    return EXIT_ACCOUNT_FAILED if result.summary.failed else EXIT_OK


COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
    "migrate": cmd_migrate,
    "backfill": cmd_backfill,
    "run": cmd_run,
    "demo": cmd_demo,
    "report": cmd_report,
    "schedule": cmd_schedule,
    "doctor": cmd_doctor,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
        _configure_logging(args.log_level or settings.log_level)
        return COMMANDS[args.command](settings, args)
    except EtlError as exc:
        _print_error(exc)
        return _error_exit_code(exc)
    except KeyboardInterrupt:
        print("k8s-cost-etl: interrupted; days already committed are kept", file=sys.stderr)
        return 130
