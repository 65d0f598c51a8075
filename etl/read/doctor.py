"""`doctor`: check the dependencies and find the known mis-configurations.

Checks, in order: PostgreSQL reachable and its schema at head (and accounts currently
failing, from the run log; accounts whose stored exporter hours in the window were $0 or held over
failed scrapes, or whose namespaces add up to more than the cluster); Thanos reachable; the account
ids seen per phase; configured accounts absent from Thanos; exporter series whose account id sits
under another label than ``account_label`` (typically ``exported_tenant_id`` when Prometheus renamed the exporter's own
``tenant_id`` on scrape), or whose remote-write tenant disagrees with the exporter's own label;
and exporter gauges gone stale.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from sqlalchemy import Engine

from etl.config import Settings
from etl.errors import EtlError
from etl.model import IDLE_NAMESPACE, PHASE_EXPORTER, PHASE_RAW
from etl.source.fetch import accounts_seen
from etl.source.metrics import EXPORTER_METRICS, EXPORTER_PRESENCE_METRIC, RAW_METRICS
from etl.source.promql import accounts_with_samples_within, series_of
from etl.source.thanos import ThanosClient
from etl.store.db import connect, head_revision, schema_mismatch
from etl.store.embedded import resolve_data_dir
from etl.store.locks import AccountLocks
from etl.store.reader import fetch_flagged_hours
from etl.store.runlog import abandoned_runs, failing_accounts, recently_abandoned

log = logging.getLogger(__name__)

Level = Literal["ok", "warning", "error"]
# Labels whose name says they hold a tenant / account id.
ACCOUNTISH_WORDS = ("tenant", "account")
SHOWN_VALUES = 10
# Runs closed as abandoned are listed for this many days.
ABANDONED_SHOWN_DAYS = 7


@dataclass(frozen=True)
class Finding:
    level: Level
    check: str
    message: str

    @property
    def problem(self) -> bool:
        return self.level != "ok"


@dataclass
class DoctorReport:
    findings: list[Finding] = field(default_factory=list)
    accounts_by_phase: dict[str, list[str]] = field(default_factory=dict)  # model.PHASE_EXPORTER / PHASE_RAW
    dependency_down: bool = False

    @property
    def problems(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.problem]

    def add(self, level: Level, check: str, message: str) -> None:
        self.findings.append(Finding(level, check, message))


def _shown(values: Iterable[str]) -> str:
    ordered = sorted(values)
    more = f" and {len(ordered) - SHOWN_VALUES} more" if len(ordered) > SHOWN_VALUES else ""
    return ", ".join(ordered[:SHOWN_VALUES]) + more


def check_database(settings: Settings, report: DoctorReport, since: date) -> None:
    if not settings.database.url:
        report.add("ok", "database", f"DATABASE_URL unset: the embedded PostgreSQL in "
                   f"{resolve_data_dir(settings.database.embedded_data_dir)} (EMBEDDED_PG_DATA_DIR)")
    try:
        engine = connect(settings)
    except EtlError as exc:
        report.add("error", "database", str(exc))
        report.dependency_down = True
        return
    try:
        _check_schema_and_state(engine, report, since)
    finally:
        engine.dispose()


def _check_schema_and_state(engine: Engine, report: DoctorReport, since: date) -> None:
    report.add("ok", "database", "PostgreSQL answers")
    problem = schema_mismatch(engine)
    if problem:
        report.add("error", "schema", problem)
        return
    report.add("ok", "schema", f"schema at head ({head_revision()})")
    _check_runs(engine, report)
    for account, failures, error, last_success in failing_accounts(engine):
        last = f"last success {last_success:%Y-%m-%d %H:%M}Z" if last_success else "never succeeded"
        report.add("warning", "account state",
                   f"account {account} failed its last {failures} attempt(s) ({last}): {error}")
    _check_flagged_hours(engine, report, since)


def _check_flagged_hours(engine: Engine, report: DoctorReport, since: date) -> None:
    """Stored hours to read with care (model.EXPORTER_ZERO_COLUMN, EXPORTER_STALE_COLUMN, NEGATIVE_IDLE_COLUMN)."""
    for account, zero, stale, negative in fetch_flagged_hours(engine, since):
        if zero:
            report.add("warning", "exporter figures",
                       f"the exporter of {account} reported $0 in {zero} stored hour(s) since {since}, with no Phase 1 "
                       "data to contradict it: stored as $0 (exporter_zero_hours); has it lost its prices?")
        if stale:
            report.add("warning", "exporter figures",
                       f"the exporter of {account} reported failed scrapes in {stale} stored hour(s) since {since} "
                       "without Phase 1 data to cover them: its healthy figures were held (exporter_stale_hours)")
        if negative:
            report.add("warning", "namespaces",
                       f"the namespaces of {account} add up to more than its cluster in {negative} stored hour(s) "
                       f"since {since} (negative_idle_hours): its {IDLE_NAMESPACE} rows hold the negative difference "
                       "as it is; check the exporter's namespace gauges (or, in Phase 1, node and volume capacity)")


def _check_runs(engine: Engine, report: DoctorReport) -> None:
    """Runs left `running` by a process that is gone (the next run closes them), and those closed so."""
    with AccountLocks(engine) as locks:
        for run in abandoned_runs(engine, locks):
            report.add("warning", "runs", f"run #{run.id} ({run.command} on {run.host}, started "
                       f"{run.started_at:%Y-%m-%d %H:%M}Z) was left running by a process that is gone; the next "
                       "run or backfill closes it as abandoned and redoes its accounts")
    closed = recently_abandoned(engine, datetime.now(UTC) - timedelta(days=ABANDONED_SHOWN_DAYS))
    if closed:
        report.add("ok", "runs", f"{len(closed)} run(s) of the last {ABANDONED_SHOWN_DAYS} days were abandoned by "
                   f"their process and closed by a later run: {_shown(f'#{run.id}' for run in closed)}")


def _label_findings(settings: Settings, series: list[dict[str, str]], report: DoctorReport) -> dict[str, set[str]]:
    """Findings about exporter series' account labels; returns {other label: account ids it holds}."""
    label, configured = settings.account_label, set(settings.accounts)

    def accountish(name: str, value: str) -> bool:
        return name != label and name != "__name__" and (
            any(word in name.lower() for word in ACCOUNTISH_WORDS) or value in configured)

    unlabelled = 0
    elsewhere: dict[str, set[str]] = defaultdict(set)
    disagreements: dict[str, set[str]] = defaultdict(set)
    for labels in series:
        own = labels.get(label, "")
        others = {name: value for name, value in labels.items() if value and accountish(name, value)}
        if not own:
            unlabelled += 1
            for name, value in others.items():
                elsewhere[name].add(value)
        else:
            for name, value in others.items():
                if value != own:
                    disagreements[name].add(f"{label}={own} vs {name}={value}")
    if unlabelled:
        where = "; ".join(f"under `{name}`: {_shown(values)}" for name, values in sorted(elsewhere.items()))
        hint = (f"they carry account ids {where}. Set ACCOUNT_LABEL to that label, or make the tenant label "
                f"survive (honor_labels: true on the exporter's scrape, or the remote-write tenant/external "
                f"label)") if elsewhere else "and no other label that looks like an account id"
        report.add("error", "account label",
                   f"{unlabelled} series of {EXPORTER_PRESENCE_METRIC} have no `{label}` label: {hint}")
    for name, pairs in sorted(disagreements.items()):
        report.add("warning", "account label",
                   f"series carry both `{label}` (used) and `{name}`, with different ids: {_shown(pairs)}; "
                   f"costs go to the `{label}` value: check that each cluster remote-writes under its own "
                   "cloud account id")
    return elsewhere


def check_thanos(settings: Settings, report: DoctorReport, at: datetime, window_days: int,
                 stale_hours: int) -> None:
    problems_before = len(report.problems)
    try:
        client = ThanosClient(settings.thanos)
        client.ping()
    except EtlError as exc:
        report.add("error", "thanos", str(exc))
        report.dependency_down = True
        return
    report.add("ok", "thanos", f"Thanos at {client.safe_url} answers")
    start, label = at - timedelta(days=window_days), settings.account_label
    try:
        phases = {
            PHASE_EXPORTER: accounts_seen(client, label, EXPORTER_METRICS.values(), start, at),
            PHASE_RAW: accounts_seen(client, label, RAW_METRICS, start, at),
        }
        series = client.series([series_of(EXPORTER_PRESENCE_METRIC)], start, at)
        fresh = {labels.get(label, "") for labels, _ in client.query(
            accounts_with_samples_within(EXPORTER_PRESENCE_METRIC, label, stale_hours), at)}
    except EtlError as exc:
        report.add("error", "thanos", f"querying Thanos failed: {exc}")
        report.dependency_down = True
        return
    report.accounts_by_phase = phases
    seen = set(phases[PHASE_EXPORTER]) | set(phases[PHASE_RAW])
    if not seen:
        report.add("error", "accounts", f"no series with a `{label}` label in the last {window_days} day(s)")
    elsewhere = _label_findings(settings, series, report)
    for account in sorted(set(settings.accounts) - seen):
        found_under = sorted(name for name, values in elsewhere.items() if account in values)
        detail = (f"; it appears under `{'`, `'.join(found_under)}` instead" if found_under
                  else "; nothing carries it")
        report.add("error", "accounts",
                   f"account {account} is configured but has no series under `{label}` in the last "
                   f"{window_days} day(s){detail}")
    present_tenants = {labels.get(label, "") for labels in series} - {""}
    for account in sorted(present_tenants - fresh):
        report.add("warning", "staleness",
                   f"exporter gauges of {account} are stale: no {EXPORTER_PRESENCE_METRIC} sample in the last "
                   f"{stale_hours} h (seen within {window_days} day(s)); is the exporter or remote write down?")
    if len(report.problems) == problems_before:
        report.add("ok", "accounts", f"{len(seen)} account(s) seen, labels and freshness look right")


def diagnose(settings: Settings, at: datetime, window_days: int = 7, stale_hours: int = 3) -> DoctorReport:
    report = DoctorReport()
    check_database(settings, report, (at - timedelta(days=window_days)).date())
    check_thanos(settings, report, at, window_days, stale_hours)
    return report
