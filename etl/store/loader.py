"""The PostgreSQL loader: stage with COPY, then upsert, one transaction per account and range.

A day is replaced whole or not at all: hours that no longer have data are deleted in the same
transaction that writes the new hours, so a failure leaves the previous version. Rows whose
values did not change are not touched (``updated_at`` included): re-loading is a no-op.
Days for which the new fetch holds no data at all are left as they are. Every statement is
built from the declared tables (etl.store.schema).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import Column, Connection, Engine, MetaData, Table, and_, exists, func, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert

from etl.model import DAILY_COLUMNS, EFFICIENCY_DECIMALS, HOURLY_COLUMNS, MONEY_COLUMNS, nano_to_decimal
from etl.store.schema import UPDATED_AT, daily_costs, hourly_costs


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


def _copy_rows(connection: Connection, table: Table, columns: Sequence[str], frame: pd.DataFrame) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for record in frame[list(columns)].itertuples(index=False, name=None):
        writer.writerow([_csv_value(column, value) for column, value in zip(columns, record, strict=True)])
    buffer.seek(0)
    raw = connection.connection.dbapi_connection
    assert raw is not None
    cursor = raw.cursor()
    try:
        cursor.copy_expert(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)", buffer)
    finally:
        cursor.close()


def _stage(connection: Connection, table: Table, columns: Sequence[str], frame: pd.DataFrame) -> Table:
    """A temporary copy of ``table`` (dropped at commit) holding ``frame``."""
    stage = Table(f"stage_{table.name}", MetaData(), *(Column(c.name, c.type) for c in table.columns))
    connection.execute(text(f"CREATE TEMP TABLE {stage.name} (LIKE {table.name} INCLUDING DEFAULTS) ON COMMIT DROP"))
    _copy_rows(connection, stage, columns, frame)
    return stage


def _upsert_from_stage(connection: Connection, table: Table, stage: Table, columns: Sequence[str]) -> int:
    """Insert the staged rows; update a stored row only where a value differs. Returns rows changed."""
    keys = [column.name for column in table.primary_key.columns]
    values = [column for column in columns if column not in keys]
    statement = insert(table).from_select(list(columns), select(*(stage.c[column] for column in columns)))
    statement = statement.on_conflict_do_update(
        index_elements=keys,
        set_={**{column: statement.excluded[column] for column in values}, UPDATED_AT: func.now()},
        where=tuple_(*(table.c[column] for column in values)).is_distinct_from(
            tuple_(*(statement.excluded[column] for column in values))),
    )
    return int(connection.execute(statement).rowcount or 0)


def _utc_day(hour_start: Any) -> Any:
    return func.date(func.timezone("UTC", hour_start))


def _delete_vanished_hours(connection: Connection, stage: Table) -> int:
    """Delete the stored hours of the staged (account, UTC day)s that the stage does not hold."""
    stored = hourly_costs
    days = select(stage.c.cloud_account_id, _utc_day(stage.c.hour_start)).distinct()
    still_there = exists().where(and_(stage.c.cloud_account_id == stored.c.cloud_account_id,
                                      stage.c.hour_start == stored.c.hour_start))
    statement = stored.delete().where(
        tuple_(stored.c.cloud_account_id, _utc_day(stored.c.hour_start)).in_(days), ~still_there)
    return int(connection.execute(statement).rowcount or 0)


def write_costs(engine: Engine, hourly: pd.DataFrame, daily: pd.DataFrame) -> WriteResult:
    """Replace the days present in ``hourly`` (and their daily rows) in one transaction."""
    if hourly.empty:
        return WriteResult(0, 0, 0)
    with engine.begin() as connection:
        hourly_stage = _stage(connection, hourly_costs, HOURLY_COLUMNS, hourly)
        # Hours of a rewritten day that the new data no longer has would otherwise linger.
        deleted = _delete_vanished_hours(connection, hourly_stage)
        changed = _upsert_from_stage(connection, hourly_costs, hourly_stage, HOURLY_COLUMNS)
        daily_stage = _stage(connection, daily_costs, DAILY_COLUMNS, daily)
        changed += _upsert_from_stage(connection, daily_costs, daily_stage, DAILY_COLUMNS)
    return WriteResult(len(hourly), len(daily), changed + deleted, deleted)
