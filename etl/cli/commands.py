"""The commands: each builds what it needs from the settings, runs, prints through etl.render and
returns its exit code (etl.cli.exits)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from etl.cli.exits import EXIT_ACCOUNT_FAILED, EXIT_DEPENDENCY, EXIT_NO_DATA, EXIT_OK, print_error
from etl.cli.parser import parse_instant
from etl.cli.progress import backfill_progress
from etl.config import Settings
from etl.errors import EtlError, ThanosError
from etl.model import HourRange
from etl.read.doctor import diagnose
from etl.read.namespaces import namespace_costs
from etl.read.report import cluster_costs
from etl.render import (
    doctor_lines,
    namespace_table_lines,
    outcome_lines,
    report_table_lines,
    sandbox_lines,
    summary_lines,
)
from etl.run.catchup import backfill_days, last_complete_hour_end
from etl.run.daemon import Daemon
from etl.run.requested import unknown_accounts
from etl.run.runner import CycleOutcome, Runner
from etl.run.shard import parse_shard
from etl.run.signals import StopSignals
from etl.source.thanos import ThanosClient
from etl.store.db import connect, migrate, require_schema_at_head
from etl.store.reader import fetch_account_span
from etl.store.schema import STATUS_INTERRUPTED

if TYPE_CHECKING:
    from etl.demo import DemoResult

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


def _no_data_message(engine: Engine, account: str, first_day: date, last_day: date) -> str:
    span = fetch_account_span(engine, account)
    if span is None:
        return f"unknown account {account!r}: no cost rows are stored for it (check the id, or backfill it)"
    return (f"no cost rows for account {account!r} between {first_day} and {last_day}; "
            f"its stored days run from {span[0]} to {span[1]}")


def _day_range(args: argparse.Namespace) -> tuple[date, date]:
    """--start and --end, already parsed and ordered by etl.cli.parser.parse_args."""
    return args.start, args.end


def cmd_report(settings: Settings, args: argparse.Namespace) -> int:
    first_day, last_day = _day_range(args)
    engine = _open_database(settings)
    by_namespace = args.by == "namespace"
    report = (namespace_costs(engine, args.account, first_day, last_day, args.share, args.share_idle) if by_namespace
              else cluster_costs(engine, args.account, first_day, last_day))
    if not report["days"]:
        print_error(_no_data_message(engine, args.account, first_day, last_day))
        return EXIT_NO_DATA
    if args.plot:
        from etl.read.plot import plot_daily_costs, plot_namespace_costs

        (plot_namespace_costs if by_namespace else plot_daily_costs)(report, args.plot)
        log.info("Daily cost chart for %s written to %s", args.account, args.plot)
    if args.format == "table":
        _print_lines(namespace_table_lines(report) if by_namespace else report_table_lines(report))
    else:
        print(json.dumps(report, indent=2))
    return EXIT_OK


def cmd_migrate(settings: Settings, _args: argparse.Namespace) -> int:
    before, after = migrate(connect(settings))
    print(f"schema at {after}" + ("" if before == after else f" (was {before or 'empty'})"))
    return EXIT_OK


def _backfill_range(args: argparse.Namespace, now: datetime) -> tuple[date, date]:
    first_day, last_day = _day_range(args)
    days = backfill_days(first_day, last_day, last_complete_hour_end(now))
    if days[1] < last_day:
        log.warning("--end %s is in the future: the backfill stops at %s (today's finished hours); "
                    "`run` keeps today current", last_day, days[1])
    return days


def _known_accounts(settings: Settings, client: ThanosClient, requested: list[str], now: datetime) -> list[str]:
    """The requested ids Thanos knows; the others are warned about and left out (etl.run.requested)."""
    unknown = unknown_accounts(client, settings.account_label, requested, now)
    for name in unknown:
        log.warning("Account %s has no data anywhere in Thanos (no exporter or raw series under `%s`): check the "
                    "id (`k8s-cost-etl doctor` lists the accounts Thanos knows); nothing is recorded for it",
                    name, settings.account_label)
    known = [name for name in requested if name not in unknown]
    if requested and not known:
        raise EtlError("none of the requested accounts has data in Thanos; nothing was computed")
    return known


def _finish(outcome: CycleOutcome, signals: StopSignals, asked: list[str], known: list[str]) -> int:
    """Print the outcome, and the requested accounts left out as unknown to Thanos (a failure the run
    log does not hold: exit 1)."""
    left_out = sorted(set(asked) - set(known))
    _print_lines(outcome_lines(outcome) + [f"unknown {name}: no data anywhere in Thanos, nothing recorded"
                                           for name in left_out])
    if outcome.status == STATUS_INTERRUPTED:
        return signals.exit_code()
    return EXIT_ACCOUNT_FAILED if outcome.failed or left_out else EXIT_OK


def cmd_backfill(settings: Settings, args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    first_day, last_day = _backfill_range(args, now)
    shard = parse_shard(args.shard) if args.shard else None
    engine = _open_database(settings)
    client = _open_thanos(settings)
    requested = _known_accounts(settings, client, args.account, now)
    signals = StopSignals().install()
    runner = Runner(settings, client, engine, stop_requested=signals.requested, allow_removal=args.allow_removal)
    # Resolved here (discovery and the shard included) so the bar knows its total before it starts.
    names = runner.pipeline.resolve_accounts(requested, HourRange.for_days(first_day, last_day).clipped_to(
        last_complete_hour_end(now)), shard)
    with backfill_progress(names, first_day, last_day, settings.thanos.chunk_days) as bar:
        outcome = runner.backfill(first_day, last_day, names, restart=args.restart, now=now, progress=bar.advance,
                                  shard=shard)
    return _finish(outcome, signals, args.account, requested)


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    engine = _open_database(settings)
    client = _open_thanos(settings)
    requested = _known_accounts(settings, client, args.account, datetime.now(UTC))
    signals = StopSignals().install()
    runner = Runner(settings, client, engine, stop_requested=signals.requested, allow_removal=args.allow_removal)
    outcome = runner.run_cycle(accounts=requested)
    return _finish(outcome, signals, args.account, requested)


def cmd_doctor(settings: Settings, args: argparse.Namespace) -> int:
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


def _print_demo(result: DemoResult) -> None:
    _print_lines(summary_lines("demo backfill", result.summary))
    print(f"\nDaily costs stored in {result.database} (table k8s_daily_costs), as "
          "`k8s-cost-etl report --format table` shows them:")
    for report in result.reports:
        print()
        _print_lines(report_table_lines(report))
    print("\nThe same week by namespace (k8s_namespace_daily_costs), as `report --by namespace --format table` shows "
          "it; __idle__ is capacity nobody was allocated (and the management fee):")
    for report in result.namespace_reports:
        print()
        _print_lines(namespace_table_lines(report))


def _serve_demo(result: DemoResult, thanos_url: str, own_database: bool) -> None:
    """Print how to use the running sandbox, then wait for Ctrl-C (or SIGTERM)."""
    _print_demo(result)
    _print_lines(sandbox_lines(thanos_url, result.first_day, result.last_day, own_database=own_database))
    sys.stdout.flush()
    signals = StopSignals().install()
    signals.event.wait()


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from etl.demo import run_demo

    serve = (lambda result, url: _serve_demo(result, url, own_database=bool(args.database_url))) if args.serve else None
    result = run_demo(settings, args.database_url, serve=serve)
    if not args.serve:
        _print_demo(result)
    return EXIT_ACCOUNT_FAILED if result.summary.failed else EXIT_OK


def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    from etl.read.focus import read_focus, write_focus

    first_day, last_day = _day_range(args)
    engine = _open_database(settings)
    rows = read_focus(engine, args.by, args.account, first_day, last_day)
    write_focus(rows, args.output)
    accounts = rows["SubAccountId"].nunique()
    print(f"{len(rows)} FOCUS row(s) ({accounts} account(s), {first_day}..{last_day}) written to {args.output}")
    if rows.empty:
        log.warning("No stored cost rows in %s..%s%s: the file has the header only (run `backfill` first)",
                    first_day, last_day, f" for {', '.join(args.account)}" if args.account else "")
    return EXIT_OK


COMMANDS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
    "migrate": cmd_migrate,
    "backfill": cmd_backfill,
    "run": cmd_run,
    "demo": cmd_demo,
    "report": cmd_report,
    "schedule": cmd_schedule,
    "doctor": cmd_doctor,
    "export": cmd_export,
}


