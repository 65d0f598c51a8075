"""The commands: each builds what it needs from the settings, runs, prints through etl.render and
returns its exit code (etl.cli.exits)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime

from sqlalchemy import Engine

from etl.cli.exits import EXIT_ACCOUNT_FAILED, EXIT_DEPENDENCY, EXIT_NO_DATA, EXIT_OK, print_error
from etl.cli.parser import parse_day, parse_instant
from etl.config import Settings
from etl.errors import InputError, ThanosError
from etl.read.doctor import diagnose
from etl.read.report import cluster_costs, require_ordered
from etl.render import doctor_lines, outcome_lines, report_table_lines, summary_lines
from etl.run.daemon import Daemon
from etl.run.runner import CycleOutcome, Runner
from etl.run.shard import parse_shard
from etl.run.signals import StopSignals
from etl.source.thanos import ThanosClient
from etl.store.db import connect, migrate, require_schema_at_head
from etl.store.reader import fetch_account_span
from etl.store.schema import STATUS_INTERRUPTED

log = logging.getLogger("etl")


def _print_lines(lines: list[str]) -> None:
    for line in lines:
        print(line)


def _open_database(settings: Settings) -> Engine:
    engine = connect(settings)
    require_schema_at_head(engine)
    return engine


def _open_thanos(settings: Settings) -> ThanosClient:
    client = ThanosClient(settings.thanos)
    client.ping()
    return client


def _progress_bar(total: int | None) -> tuple[Callable[[int], None], Callable[[], None]]:
    from tqdm import tqdm

    bar = tqdm(total=total, unit="account-day", disable=not sys.stderr.isatty(), file=sys.stderr)
    return bar.update, bar.close


def _exit_code(outcome: CycleOutcome, signals: StopSignals) -> int:
    if outcome.status == STATUS_INTERRUPTED:
        return signals.exit_code()
    return EXIT_ACCOUNT_FAILED if outcome.failed else EXIT_OK


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
        print_error(_no_data_message(engine, args.account, first_day, last_day))
        return EXIT_NO_DATA
    if args.plot:
        from etl.read.plot import plot_daily_costs

        plot_daily_costs(report, args.plot)
        log.info("Daily cost chart for %s written to %s", args.account, args.plot)
    if args.format == "table":
        _print_lines(report_table_lines(report))
    else:
        print(json.dumps(report, indent=2))
    return EXIT_OK


def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> int:
    before, after = migrate(connect(settings))
    print(f"schema at {after}" + ("" if before == after else f" (was {before or 'empty'})"))
    return EXIT_OK


def cmd_backfill(settings: Settings, args: argparse.Namespace) -> int:
    first_day, last_day = _day_range(args)
    shard = parse_shard(args.shard) if args.shard else None
    engine = _open_database(settings)
    client = _open_thanos(settings)
    signals = StopSignals().install()
    runner = Runner(settings, client, engine, stop_requested=signals.requested)
    # Counted in account-days; the total is unknown until the accounts are resolved.
    advance, close = _progress_bar(None)
    try:
        outcome = runner.backfill(first_day, last_day, args.account, restart=args.restart, progress=advance,
                                  shard=shard)
    finally:
        close()
    _print_lines(outcome_lines(outcome))
    return _exit_code(outcome, signals)


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    engine = _open_database(settings)
    client = _open_thanos(settings)
    signals = StopSignals().install()
    outcome = Runner(settings, client, engine, stop_requested=signals.requested).run_cycle(accounts=args.account)
    _print_lines(outcome_lines(outcome))
    return _exit_code(outcome, signals)


def cmd_doctor(settings: Settings, args: argparse.Namespace) -> int:
    if args.window_days < 1 or args.stale_hours < 1:
        raise InputError("--window-days and --stale-hours must be at least 1")
    at = parse_instant(args.at, "--at") if args.at else datetime.now(UTC)
    report = diagnose(settings, at, args.window_days, args.stale_hours)
    _print_lines(doctor_lines(report, settings.account_label, args.window_days))
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
    _print_lines(summary_lines("demo backfill", result.summary))
    print(f"\nDaily costs stored in {result.database} (table k8s_daily_costs), as "
          "`k8s-cost-etl report --format table` shows them:")
    for report in result.reports:
        print()
        _print_lines(report_table_lines(report))
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


