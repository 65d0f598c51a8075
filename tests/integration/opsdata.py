"""A small exporter dataset for the operations tests (cycles, concurrency, shutdown).

Accounts ``acct-a``, ``acct-b`` and ``acct-c``; ten UTC days 2026-09-01..10, every hour covered.
On day ``n`` (1..10) account a's exporter reports ``n`` $/h total cost, b reports ``10 + n`` $/h
and c ``100 + n`` $/h, always four samples per hour at the same value, with cpu cost half of it.
So a full day ``n`` is ``24 * rate`` dollars and a day cut at hour ``h`` is ``h * rate`` dollars.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine, text

from etl.extract import utc_midnight
from etl.localprom import SampleSeries, hourly_series

P = "cloudtuner_kubecost_cluster_"
FIRST_DAY = date(2026, 9, 1)
DAYS = [FIRST_DAY + timedelta(days=i) for i in range(10)]
BASE_RATE = {"acct-a": 0, "acct-b": 10, "acct-c": 100}
ACCOUNTS = sorted(BASE_RATE)


def day_number(day: date) -> int:
    return (day - FIRST_DAY).days + 1


def rate(account: str, day: date) -> Decimal:
    """$/h total cost of the account on that day (see the module docstring)."""
    return Decimal(BASE_RATE[account] + day_number(day))


def expected_total(account: str, day: date, hours: int = 24) -> Decimal:
    return hours * rate(account, day)


def dataset(accounts: list[str] = ACCOUNTS, days: list[date] = DAYS,
            missing: dict[str, set[datetime]] | None = None) -> list[SampleSeries]:
    """The samples; ``missing`` drops given hour starts of an account (samples that arrive late)."""
    series = []
    for account in accounts:
        hours = [utc_midnight(day) + timedelta(hours=h) for day in days for h in range(24)]
        kept = [h for h in hours if h not in (missing or {}).get(account, set())]
        values = {h.timestamp(): float(rate(account, h.date())) for h in kept}
        labels = {"tenant_id": account}
        series.append(hourly_series(P + "total_cost", labels, {t: [v] * 4 for t, v in values.items()}))
        series.append(hourly_series(P + "cpu_cost", labels, {t: [v / 2] * 4 for t, v in values.items()}))
    return series


def daily(engine: Engine) -> dict[tuple[str, date], tuple[Decimal, int]]:
    """(account, day) -> (total_cost, hours_covered) as stored."""
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT cloud_account_id, usage_date, total_cost, hours_covered FROM k8s_daily_costs")).all()
    return {(row[0], row[1]): (row[2], row[3]) for row in rows}


def table_snapshot(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """Both cost tables without their updated_at stamps, for comparing two runs' results."""
    snapshot = {}
    with engine.connect() as connection:
        for table in ("k8s_hourly_costs", "k8s_daily_costs"):
            rows = connection.execute(text(f"SELECT * FROM {table} ORDER BY 1, 2")).mappings().all()
            snapshot[table] = [tuple(v for k, v in row.items() if k != "updated_at") for row in rows]
    return snapshot


def account_state(engine: Engine, account: str) -> dict[str, object]:
    with engine.connect() as connection:
        row = connection.execute(text("SELECT * FROM etl_account_state WHERE cloud_account_id = :a"),
                                 {"a": account}).mappings().one()
    return dict(row)


def runs(engine: Engine) -> list[dict[str, object]]:
    with engine.connect() as connection:
        return [dict(r) for r in connection.execute(text("SELECT * FROM etl_runs ORDER BY id")).mappings()]
