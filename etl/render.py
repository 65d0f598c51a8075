"""The text the CLI prints: run summaries, the report table, doctor's findings. Pure: each function
returns lines; only etl.cli prints them."""

from __future__ import annotations

from typing import Any

from etl.costing.rollup import join_resource_lists
from etl.model import PHASE_TITLES
from etl.read.doctor import DoctorReport
from etl.run.catchup import backfill_command
from etl.run.pipeline import RunSummary
from etl.run.runner import CycleOutcome

# (heading, key in a day row / the summary) of the report's table format
REPORT_TABLE_COLUMNS = [
    ("total", "total_cost"), ("cpu", "cpu_cost"), ("ram", "ram_cost"), ("gpu", "gpu_cost"), ("pv", "pv_cost"),
    ("network", "network_cost"), ("lb", "load_balancer_cost"), ("management", "management_cost"),
]
DOCTOR_MARKS = {"ok": "ok     ", "warning": "WARNING", "error": "ERROR  "}


def money(value: float | None) -> str:
    return "-" if value is None else f"{value:,.2f}"


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def summary_lines(kind: str, summary: RunSummary) -> list[str]:
    """What a range run wrote, one line per account with its days, hours, phases and status."""
    total_hours = sum(a.hourly_rows for a in summary.accounts.values())
    total_days = sum(a.daily_rows for a in summary.accounts.values())
    lines = [f"{kind} {summary.first_day}..{summary.last_day}: {len(summary.accounts)} account(s), "
             f"{summary.days} day(s), {total_days} daily and {total_hours} hourly row(s) written"]
    if not summary.accounts:
        return lines
    width = max(len("account"), *(len(name) for name in summary.accounts))
    phases = {name: ",".join(sorted(account.phases)) or "-" for name, account in summary.accounts.items()}
    phase_width = max(len("phase"), *(len(phase) for phase in phases.values()))
    lines.append(f"{'account':<{width}}  {'days':>5}  {'hours':>6}  {'phase':<{phase_width}}  status")
    for name, account in summary.accounts.items():
        status = "ok" if account.ok else f"FAILED: {account.failures[-1]}"
        if account.ok and not account.hourly_rows:
            status = "no data"
        lines.append(f"{name:<{width}}  {account.daily_rows:>5}  {account.hourly_rows:>6}  "
                     f"{phases[name]:<{phase_width}}  {status}")
    return lines


def outcome_lines(outcome: CycleOutcome) -> list[str]:
    """A cycle's or backfill's summary, what it skipped and why, gaps left, and its run id and status."""
    lines = summary_lines(outcome.kind, outcome.summary)
    if outcome.skipped_chunks:
        lines.append(f"resumed: {outcome.skipped_chunks} account-chunk(s) finished by an earlier run were skipped")
    lines += [f"skipped {name}: {reason}" for name, reason in outcome.skipped.items()]
    lines += [f"gap {name}: {gap[0]}..{gap[1]} not computed; run `{backfill_command(name, gap)}`"
              for name, gap in outcome.gaps.items()]
    lines.append(f"run #{outcome.run_id}: {outcome.status}")
    return lines


def report_table_lines(report: dict[str, Any]) -> list[str]:
    """The report (etl.read.report.cluster_costs) as per-day rows, a total row and notes."""
    phases = ", ".join(f"{phase} {hours} h" for phase, hours in report["phases"].items()) or "-"
    first, last = report["days"][0]["date"], report["days"][-1]["date"]
    lines = [f"cluster costs of {report['cloud_account_id']} ({report['currency']}), days with data {first}..{last}: "
             f"{report['hours_covered']} of {report['hours_in_range']} hour(s) covered; phases: {phases}"]
    rows = [
        [day["date"], str(day["hours_covered"]), day["source_phase"],
         *(money(day[key]) for _, key in REPORT_TABLE_COLUMNS), money(day["idle_cost"]),
         percent(day["cpu_efficiency"]), percent(day["ram_efficiency"]), money(day["potential_savings"])]
        for day in report["days"]
    ]
    efficiency = report["efficiency"]
    rows.append(["total", str(report["hours_covered"]), "",
                 *(money(report["summary"][key]) for _, key in REPORT_TABLE_COLUMNS), money(report["idle_cost"]),
                 percent(efficiency["cpu_efficiency"]), percent(efficiency["ram_efficiency"]),
                 money(report["potential_savings"])])
    headings = ["date", "hours", "phase", *(heading for heading, _ in REPORT_TABLE_COLUMNS), "(idle)",
                "cpu eff %", "ram eff %", "savings"]
    lines += _aligned([headings, *rows], 3)
    lines.append(f"total efficiency: {percent(efficiency['total_efficiency'])} %")
    if report["default_priced_hours"]:
        resources = join_resource_lists(day["default_priced_resources"] for day in report["days"]) or ""
        lines.append(f"{report['default_priced_hours']} hour(s) priced with default prices (no published price "
                     f"for {resources}): see pricing.default_* in the config")
    if report["exporter_zero_hours"]:
        lines.append(f"{report['exporter_zero_hours']} hour(s) where the exporter reported $0 (no Phase 1 data to "
                     "contradict it)")
    if report["exporter_stale_hours"]:
        lines.append(f"{report['exporter_stale_hours']} hour(s) holding the exporter's healthy figures over its "
                     "failed scrapes (no Phase 1 data covered them)")
    if report["idle_unknown_hours"]:
        lines.append(f"{report['idle_unknown_hours']} hour(s) whose idle is unknown (Phase 1 without node capacity "
                     "metrics, or an exporter without namespace gauges): (idle) counts the other hours")
    if report["negative_idle_hours"]:
        lines.append(f"{report['negative_idle_hours']} hour(s) whose namespaces add up to more than the cluster "
                     "(see `report --by namespace`)")
    return lines


def _aligned(table: list[list[str]], left: int) -> list[str]:
    """The table's rows as lines: the first ``left`` columns left-aligned, the others right-aligned."""
    widths = [max(len(cells[i]) for cells in table) for i in range(len(table[0]))]
    return ["  ".join(cell.ljust(width) if i < left else cell.rjust(width)
                      for i, (cell, width) in enumerate(zip(cells, widths, strict=True))).rstrip() for cells in table]


NAMESPACE_TABLE_COLUMNS = [*REPORT_TABLE_COLUMNS, ("shared", "shared_cost")]


def namespace_table_lines(report: dict[str, Any]) -> list[str]:
    """The namespace report (etl.read.namespaces.namespace_costs) as one row per namespace and a total."""
    dates = [day["date"] for day in report["days"]]
    shared = report["shared"]
    lines = [f"namespace costs of {report['cloud_account_id']} ({report['currency']}), days with data "
             f"{dates[0]}..{dates[-1]}"]
    if shared["namespaces"] or shared["idle"]:
        spread = ", ".join(f"{name} {money(cost)}" for name, cost in shared["cost"].items()) or "nothing"
        lines.append(f"shared in proportion to each namespace's cost, per day: {spread}")
    rows = [[entry["namespace"], str(entry["hours_covered"]),
             *(money(entry[key]) for _, key in NAMESPACE_TABLE_COLUMNS),
             percent(entry["efficiency"]["cpu_efficiency"]), percent(entry["efficiency"]["ram_efficiency"]),
             money(entry["potential_savings"])] for entry in report["namespaces"]]
    summary = report["summary"]
    rows.append(["total", "", *(money(summary.get(key, 0.0)) for _, key in NAMESPACE_TABLE_COLUMNS[:-1]), "", "", "",
                 ""])
    headings = ["namespace", "hours", *(heading for heading, _ in NAMESPACE_TABLE_COLUMNS), "cpu eff %", "ram eff %",
                "savings"]
    lines += _aligned([headings, *rows], 1)
    if shared["not_shared_on"]:
        lines.append(f"not shared on {', '.join(shared['not_shared_on'])}: no other namespace had a cost")
    return lines


def doctor_lines(report: DoctorReport, account_label: str, window_days: int) -> list[str]:
    """Each finding with its level, then the accounts seen per phase."""
    lines = [f"[{DOCTOR_MARKS[finding.level]}] {finding.check}: {finding.message}" for finding in report.findings]
    if report.accounts_by_phase:
        lines.append(f"accounts seen under `{account_label}` in the last {window_days} day(s):")
        lines += [f"  {PHASE_TITLES[phase]}: {', '.join(accounts) or '-'}"
                  for phase, accounts in report.accounts_by_phase.items()]
    return lines


def sandbox_lines(thanos_url: str, first_day: object, last_day: object, own_database: bool) -> list[str]:
    """How to point the other commands at the running demo sandbox (``demo --serve``)."""
    database = ("  export DATABASE_URL=...               # the URL you gave --database-url" if own_database
                else "  unset DATABASE_URL                    # the embedded database the demo wrote to")
    return [
        "",
        f"Sandbox running: a Prometheus with the demo's synthetic week at {thanos_url}. In another terminal:",
        f"  export THANOS_URL={thanos_url}",
        database,
        "  k8s-cost-etl doctor                   # the demo data ends at midnight: its gauges show as stale",
        f"  k8s-cost-etl backfill --start {first_day} --end {last_day}",
        f"  k8s-cost-etl export --format focus --start {first_day} --end {last_day} -o costs.csv",
        "Ctrl-C stops the sandbox (the stored rows stay).",
    ]
