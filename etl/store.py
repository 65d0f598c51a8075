"""The PostgreSQL loader: stage with COPY, then upsert, one transaction per account and range.

A day is replaced whole or not at all: hours that no longer have data are deleted in the same
transaction that writes the new hours, so a failure leaves the previous version. Rows whose
values did not change are not touched (``updated_at`` included): re-loading is a no-op.
Days for which the new fetch holds no data at all are left as they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, text

from etl.costs import (
    DAILY_COLUMNS,
    DAILY_KEY_COLUMNS,
    EFFICIENCY_DECIMALS,
    HOURLY_COLUMNS,
    KEY_COLUMNS,
    MONEY_COLUMNS,
    nano_to_decimal,
)
from etl.extract import HourRange

HOURLY_TABLE = "k8s_hourly_costs"
DAILY_TABLE = "k8s_daily_costs"


@dataclass(frozen=True)
class WriteResult:
    hourly_rows: int
    daily_rows: int
    rows_changed: int
    hours_removed: int = 0  # stored hours of the rewritten days that the new data no longer has


def _csv_value(column: str, value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return ""  # unquoted empty field = NULL in COPY's CSV format
    if column in MONEY_COLUMNS:
        return str(nano_to_decimal(value))
    if isinstance(value, float):
        return f"{value:.{EFFICIENCY_DECIMALS}f}"
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def _copy_rows(connection: Connection, table: str, columns: Sequence[str], frame: pd.DataFrame) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for record in frame[list(columns)].itertuples(index=False, name=None):
        writer.writerow([_csv_value(column, value) for column, value in zip(columns, record, strict=True)])
    buffer.seek(0)
    raw = connection.connection.dbapi_connection
    assert raw is not None
    cursor = raw.cursor()
    try:
        cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)", buffer)
    finally:
        cursor.close()


def _upsert_from_stage(
    connection: Connection, table: str, stage: str, columns: Sequence[str], keys: Sequence[str]
) -> int:
    values = [column for column in columns if column not in keys]
    assignments = ", ".join(f"{column} = EXCLUDED.{column}" for column in values)
    old = ", ".join(f"{table}.{column}" for column in values)
    new = ", ".join(f"EXCLUDED.{column}" for column in values)
    result = connection.execute(
        text(
            f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(columns)} FROM {stage} "
            f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {assignments}, updated_at = now() "
            f"WHERE ({old}) IS DISTINCT FROM ({new})"
        )
    )
    return int(result.rowcount or 0)


def _stage(connection: Connection, table: str, columns: Sequence[str], frame: pd.DataFrame) -> str:
    stage = f"stage_{table}"
    connection.execute(text(f"CREATE TEMP TABLE {stage} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP"))
    _copy_rows(connection, stage, columns, frame)
    return stage


def write_costs(engine: Engine, hourly: pd.DataFrame, daily: pd.DataFrame) -> WriteResult:
    """Replace the days present in ``hourly`` (and their daily rows) in one transaction."""
    if hourly.empty:
        return WriteResult(0, 0, 0)
    with engine.begin() as connection:
        hourly_stage = _stage(connection, HOURLY_TABLE, HOURLY_COLUMNS, hourly)
        # Hours of a rewritten day that the new data no longer has would otherwise linger.
        deleted = int(connection.execute(
            text(
                f"DELETE FROM {HOURLY_TABLE} AS t "
                f"WHERE (t.cloud_account_id, (t.hour_start AT TIME ZONE 'UTC')::date) IN ("
                f"  SELECT DISTINCT cloud_account_id, (hour_start AT TIME ZONE 'UTC')::date FROM {hourly_stage})"
                f" AND NOT EXISTS (SELECT 1 FROM {hourly_stage} AS s "
                f"  WHERE s.cloud_account_id = t.cloud_account_id AND s.hour_start = t.hour_start)"
            )
        ).rowcount or 0)
        changed = _upsert_from_stage(connection, HOURLY_TABLE, hourly_stage, HOURLY_COLUMNS, KEY_COLUMNS)
        daily_stage = _stage(connection, DAILY_TABLE, DAILY_COLUMNS, daily)
        changed += _upsert_from_stage(connection, DAILY_TABLE, daily_stage, DAILY_COLUMNS, DAILY_KEY_COLUMNS)
    return WriteResult(len(hourly), len(daily), changed + deleted, deleted)


def fetch_daily(
    engine: Engine,
    accounts: Iterable[str] | None = None,
    first_day: date | None = None,
    last_day: date | None = None,
) -> pd.DataFrame:
    """Daily rows as stored (Decimal money), optionally for some accounts and UTC days
    first_day..last_day (inclusive); for reports and tests. No rows -> an empty frame that still
    has the table's columns."""
    conditions: list[str] = []
    params: dict[str, Any] = {}
    if accounts is not None:
        conditions.append("cloud_account_id = ANY(:accounts)")
        params["accounts"] = list(accounts)
    if first_day is not None:
        conditions.append("usage_date >= :first_day")
        params["first_day"] = first_day
    if last_day is not None:
        conditions.append("usage_date <= :last_day")
        params["last_day"] = last_day
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    with engine.connect() as connection:
        result = connection.execute(
            text(f"SELECT * FROM {DAILY_TABLE}{where} ORDER BY cloud_account_id, usage_date"), params
        )
        return pd.DataFrame(result.mappings().all(), columns=list(result.keys()))


def fetch_phase_hours(engine: Engine, account: str, first_day: date, last_day: date) -> dict[str, int]:
    """How many stored hours of UTC days first_day..last_day each source phase produced."""
    hours = HourRange.for_days(first_day, last_day)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                f"SELECT source_phase, count(*) FROM {HOURLY_TABLE} WHERE cloud_account_id = :account "
                "AND hour_start >= :start AND hour_start < :end GROUP BY source_phase ORDER BY source_phase"
            ),
            {"account": account, "start": hours.start, "end": hours.end},
        ).all()
    return {str(phase): int(hours) for phase, hours in rows}


def fetch_account_span(engine: Engine, account: str) -> tuple[date, date] | None:
    """The first and last UTC day with a daily row for the account; None if it has none at all."""
    with engine.connect() as connection:
        first, last = connection.execute(
            text(f"SELECT min(usage_date), max(usage_date) FROM {DAILY_TABLE} WHERE cloud_account_id = :account"),
            {"account": account},
        ).one()
    return None if first is None else (first, last)
