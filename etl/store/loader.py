"""The PostgreSQL loader: one COPY into a stage, then set-based delete and upsert, in one transaction.

A write holds any number of accounts (the pipeline writes a claim batch's chunk at once). A day is
replaced whole or not at all, its namespace rows with it (a namespace gone from a rewritten day is
deleted): the stored hours of the rewritten (account, UTC day)s that the new
data no longer has are deleted in the same transaction that writes the new hours, so a failure
leaves the previous version. Rows whose values did not change are not touched (``updated_at``
included): re-loading is a no-op. Days for which the new data holds no hour are left as they are.

The cost of a write does not grow with the history the tables hold: every statement that reaches a
stored table is served by its primary key. The rewritten days are staged as [day_start,
day_start + 24 h) ranges of ``hour_start`` (a predicate on a function of ``hour_start`` would read
the whole table), and the staged days are analysed so the planner sees how few they are.
Money is staged as integer nano-dollars (BIGINT) and scaled to NUMERIC in SQL, exactly.
Every statement is built from the declared tables (etl.store.schema).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, Table, text
from sqlalchemy.dialects import postgresql

from etl.errors import RemovalRefusedError
from etl.model import (
    ACCOUNT_COLUMN,
    DAILY_COLUMNS,
    EFFICIENCY_DECIMALS,
    HOURLY_COLUMNS,
    MONEY_COLUMNS,
    MONEY_SCALE,
    NAMESPACE_COLUMN,
    NAMESPACE_DAILY_COLUMNS,
    NAMESPACE_HOURLY_COLUMNS,
)
from etl.store.schema import UPDATED_AT, daily_costs, hourly_costs, namespace_daily_costs, namespace_hourly_costs

HOURLY_STAGE, DAILY_STAGE, DAYS_STAGE = "stage_k8s_hourly_costs", "stage_k8s_daily_costs", "stage_rewritten_days"
NAMESPACE_DAILY_STAGE, NAMESPACE_HOURLY_STAGE = "stage_k8s_namespace_daily_costs", "stage_k8s_namespace_hourly_costs"


@dataclass(frozen=True)
class NamespaceRows:
    """The namespace breakdown of the rows written with it: its days, and its hours when they are
    stored (run.store_namespace_hours; None: the rewritten days keep no namespace hours)."""

    daily: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=NAMESPACE_DAILY_COLUMNS))
    hourly: pd.DataFrame | None = None

    def of(self, account: str) -> NamespaceRows:
        hourly = None if self.hourly is None else self.hourly[self.hourly[ACCOUNT_COLUMN] == account]
        return NamespaceRows(self.daily[self.daily[ACCOUNT_COLUMN] == account], hourly)


@dataclass(frozen=True)
class WriteResult:
    hourly_rows: int
    daily_rows: int
    rows_changed: int
    hours_removed: int = 0  # stored hours of the rewritten days that the new data no longer has
    hours_removed_by_account: dict[str, int] = field(default_factory=dict)


def _stage(connection: Connection, table: Table, name: str, columns: Sequence[str], frame: pd.DataFrame) -> None:
    """A temporary table ``name`` (dropped at commit) holding ``frame``: the declared columns'
    types, money as BIGINT nano-dollars, the declared primary key; filled by one COPY in key order
    (the order the upsert then walks the stored index in). Not analysed (ANALYZE would cost as much
    as the COPY): its primary key serves the lookups into it whatever the planner estimates."""
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    types = {column: "bigint" if column in MONEY_COLUMNS else table.c[column].type.compile(dialect)
             for column in columns}
    keys = [column.name for column in table.primary_key.columns]
    connection.execute(text(f"CREATE TEMP TABLE {name} ({', '.join(f'{c} {types[c]}' for c in columns)}, "
                            f"PRIMARY KEY ({', '.join(keys)})) ON COMMIT DROP"))
    values = frame[list(columns)].sort_values(keys)
    for column in columns:
        if column in MONEY_COLUMNS:
            values[column] = values[column].astype("Int64")  # refuses a fractional nano-dollar
        elif isinstance(values[column].dtype, pd.DatetimeTZDtype):
            # formatted at once (whole seconds, as hours are): to_csv and strftime format aware
            # timestamps one by one, slower than everything else together
            utc = values[column].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
            values[column] = np.char.add(np.datetime_as_string(utc, unit="s"), "Z")
    buffer = io.StringIO()
    # An unquoted empty field is NULL in COPY's CSV format; floats are the efficiency percentages.
    values.to_csv(buffer, index=False, header=False, na_rep="", float_format=f"%.{EFFICIENCY_DECIMALS}f")
    buffer.seek(0)
    raw = connection.connection.dbapi_connection
    assert raw is not None
    cursor = raw.cursor()
    try:
        cursor.copy_expert(f"COPY {name} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)", buffer)
    finally:
        cursor.close()


def _staged_value(column: str) -> str:
    """The stage's value as the stored table holds it (money: nano-dollars -> USD, exactly)."""
    return f"CAST({column} AS numeric) * 1e-{MONEY_SCALE}" if column in MONEY_COLUMNS else column


def upsert_statement(table: Table, stage: str, columns: Sequence[str]) -> str:
    """Insert the staged rows; update a stored row only where a value differs."""
    keys = [column.name for column in table.primary_key.columns]
    values = [column for column in columns if column not in keys]
    stored, new = ", ".join(f"t.{c}" for c in values), ", ".join(f"EXCLUDED.{c}" for c in values)
    return (
        f"INSERT INTO {table.name} AS t ({', '.join(columns)}) "
        f"SELECT {', '.join(_staged_value(c) for c in columns)} FROM {stage} "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET "
        f"{', '.join(f'{c} = EXCLUDED.{c}' for c in values)}, {UPDATED_AT} = now() "
        f"WHERE ({stored}) IS DISTINCT FROM ({new})"
    )


def rewritten_days_statement() -> str:
    """The (account, UTC day) ranges the staged hours rewrite, as [day_start, day_start + 24 h)."""
    return (
        f"CREATE TEMP TABLE {DAYS_STAGE} ON COMMIT DROP AS "
        f"SELECT DISTINCT {ACCOUNT_COLUMN}, date_trunc('day', hour_start, 'UTC') AS day_start FROM {HOURLY_STAGE}"
    )


def delete_vanished_statement() -> str:
    """Delete the stored hours of the rewritten days that the stage does not hold. The range join
    is served by the primary key (account, hour_start); 24 hours, not '1 day', so the session's
    time zone cannot make a day 23 or 25 hours long."""
    stored, account = hourly_costs.name, ACCOUNT_COLUMN
    return (
        f"DELETE FROM {stored} AS h USING {DAYS_STAGE} AS d "
        f"WHERE h.{account} = d.{account} AND h.hour_start >= d.day_start "
        f"AND h.hour_start < d.day_start + interval '24 hours' "
        f"AND NOT EXISTS (SELECT 1 FROM {HOURLY_STAGE} AS s "
        f"WHERE s.{account} = h.{account} AND s.hour_start = h.hour_start) "
        f"RETURNING h.{account}, h.hour_start"
    )


def stage_hours(connection: Connection, hourly: pd.DataFrame) -> None:
    """Stage the hourly rows (HOURLY_STAGE) and the days they rewrite (DAYS_STAGE)."""
    _stage(connection, hourly_costs, HOURLY_STAGE, HOURLY_COLUMNS, hourly)
    connection.execute(text(rewritten_days_statement()))
    connection.execute(text(f"ANALYZE {DAYS_STAGE}"))


def delete_vanished_namespaces_statement(hourly: bool, staged: bool) -> str:
    """Delete the stored namespace days (``hourly``: hours) of the rewritten days that the stage
    does not hold (no stage: all of them). Served by the primary key (account, day or hour, namespace)."""
    table, stage = (namespace_hourly_costs, NAMESPACE_HOURLY_STAGE) if hourly else (namespace_daily_costs,
                                                                                     NAMESPACE_DAILY_STAGE)
    when = "hour_start" if hourly else "usage_date"
    in_day = ("n.hour_start >= d.day_start AND n.hour_start < d.day_start + interval '24 hours'" if hourly
              else "n.usage_date = CAST(d.day_start AT TIME ZONE 'UTC' AS date)")
    vanished = (f" AND NOT EXISTS (SELECT 1 FROM {stage} AS s WHERE s.{ACCOUNT_COLUMN} = n.{ACCOUNT_COLUMN} "
                f"AND s.{when} = n.{when} AND s.{NAMESPACE_COLUMN} = n.{NAMESPACE_COLUMN})" if staged else "")
    return (f"DELETE FROM {table.name} AS n USING {DAYS_STAGE} AS d "
            f"WHERE n.{ACCOUNT_COLUMN} = d.{ACCOUNT_COLUMN} AND {in_day}{vanished}")


def write_namespaces(connection: Connection, namespaces: NamespaceRows) -> int:
    """Replace the namespace rows of the days staged (DAYS_STAGE) whole: rows changed or removed."""
    changed = 0
    for rows, table, stage, columns in ((namespaces.daily, namespace_daily_costs, NAMESPACE_DAILY_STAGE,
                                         NAMESPACE_DAILY_COLUMNS),
                                        (namespaces.hourly, namespace_hourly_costs, NAMESPACE_HOURLY_STAGE,
                                         NAMESPACE_HOURLY_COLUMNS)):
        if rows is not None:
            _stage(connection, table, stage, columns, rows)
        hourly = table is namespace_hourly_costs
        changed += connection.execute(text(delete_vanished_namespaces_statement(hourly, rows is not None))).rowcount
        if rows is not None:
            changed += connection.execute(text(upsert_statement(table, stage, columns))).rowcount
    return changed


def write_costs(engine: Engine, hourly: pd.DataFrame, daily: pd.DataFrame, namespaces: NamespaceRows | None = None,
                allow_removal: bool = False) -> WriteResult:
    """Replace the (account, day)s present in ``hourly`` (their daily rows and their namespace rows,
    none when ``namespaces`` is None) in one transaction.

    Stored hours of those days that ``hourly`` lacks are deleted only if ``allow_removal``; otherwise
    the write raises RemovalRefusedError naming them and nothing is written (a store missing from
    Thanos' answer must not delete what an earlier answer held; etl.run.suspect says why first)."""
    if hourly.empty:
        return WriteResult(0, 0, 0)
    with engine.begin() as connection:
        stage_hours(connection, hourly)
        # Hours of a rewritten day that the new data no longer has would otherwise linger.
        deleted = connection.execute(text(delete_vanished_statement())).all()
        if deleted and not allow_removal:
            refused: dict[str, list[datetime]] = {}
            for name, start in deleted:
                refused.setdefault(str(name), []).append(start)
            raise RemovalRefusedError(refused)  # rolls the transaction back
        removed = pd.Series([name for name, _ in deleted], dtype=object)
        changed = connection.execute(text(upsert_statement(hourly_costs, HOURLY_STAGE, HOURLY_COLUMNS))).rowcount
        _stage(connection, daily_costs, DAILY_STAGE, DAILY_COLUMNS, daily)
        changed += connection.execute(text(upsert_statement(daily_costs, DAILY_STAGE, DAILY_COLUMNS))).rowcount
        # A day's cluster row and its namespace rows are written together, never one without the other.
        changed += write_namespaces(connection, namespaces or NamespaceRows())
    by_account = {str(name): int(count) for name, count in removed.value_counts().items()}
    return WriteResult(len(hourly), len(daily), int(changed or 0) + len(removed), len(removed), by_account)
