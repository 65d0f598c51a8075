"""Reading stored cost rows back (reports, `doctor`, tests), built from the declared tables."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy import BigInteger, Engine, Table, cast, func, select

from etl.model import ACCOUNT_COLUMN, CLUSTERS_COLUMN, COST_COLUMNS, NANO, PHASE_COLUMN, HourRange
from etl.store.schema import daily_costs, hourly_costs, namespace_daily_costs


def _days(engine: Engine, table: Table, accounts: Iterable[str] | None, first_day: date | None,
          last_day: date | None) -> pd.DataFrame:
    query = select(table)
    if accounts is not None:
        query = query.where(table.c.cloud_account_id.in_(list(accounts)))
    if first_day is not None:
        query = query.where(table.c.usage_date >= first_day)
    if last_day is not None:
        query = query.where(table.c.usage_date <= last_day)
    keys = [column for column in table.primary_key.columns]
    with engine.connect() as connection:
        result = connection.execute(query.order_by(*keys))
        return pd.DataFrame(result.mappings().all(), columns=list(result.keys()))


def fetch_daily(
    engine: Engine,
    accounts: Iterable[str] | None = None,
    first_day: date | None = None,
    last_day: date | None = None,
) -> pd.DataFrame:
    """Daily rows as stored (Decimal money), optionally for some accounts and UTC days
    first_day..last_day (inclusive); for reports and tests. No rows -> an empty frame that still
    has the table's columns."""
    return _days(engine, daily_costs, accounts, first_day, last_day)


def fetch_namespace_daily(
    engine: Engine,
    accounts: Iterable[str] | None = None,
    first_day: date | None = None,
    last_day: date | None = None,
) -> pd.DataFrame:
    """Namespace days as stored (as fetch_daily), by account, day and namespace."""
    return _days(engine, namespace_daily_costs, accounts, first_day, last_day)


def fetch_phase_hours(engine: Engine, account: str, first_day: date, last_day: date) -> dict[str, int]:
    """How many stored hours of UTC days first_day..last_day each source phase produced."""
    hours = HourRange.for_days(first_day, last_day)
    phase = hourly_costs.c.source_phase
    query = (select(phase, func.count())
             .where(hourly_costs.c.cloud_account_id == account, hourly_costs.c.hour_start >= hours.start,
                    hourly_costs.c.hour_start < hours.end)
             .group_by(phase).order_by(phase))
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return {str(name): int(count) for name, count in rows}


def fetch_stored_hours(engine: Engine, accounts: Iterable[str], hours: HourRange) -> pd.DataFrame:
    """The stored hours of ``accounts`` in ``hours``: account, hour, phase, clusters and the money
    columns in integer nano-dollars (exact: the columns hold 9 decimals). Served by the primary key."""
    table = hourly_costs.c
    money = [cast(table[column] * NANO, BigInteger).label(column) for column in COST_COLUMNS]
    # Hours as epoch seconds: a driver's aware datetime per row costs more than the rest of the read.
    epoch = cast(func.extract("epoch", table.hour_start), BigInteger).label("hour_start")
    query = (select(table.cloud_account_id, epoch, table[PHASE_COLUMN], table[CLUSTERS_COLUMN], *money)
             .where(table.cloud_account_id.in_(sorted(set(accounts))), table.hour_start >= hours.start,
                    table.hour_start < hours.end))
    with engine.connect() as connection:
        result = connection.execute(query)
        # plain tuples: pandas probing each Row object's attributes costs more than the query
        frame = pd.DataFrame([tuple(row) for row in result], columns=list(result.keys()))
    frame = frame.astype({ACCOUNT_COLUMN: object, "hour_start": "int64", **dict.fromkeys(COST_COLUMNS, "int64")})
    return frame.assign(hour_start=pd.to_datetime(frame["hour_start"], unit="s", utc=True))


def fetch_account_span(engine: Engine, account: str) -> tuple[date, date] | None:
    """The first and last UTC day with a daily row for the account; None if it has none at all."""
    day = daily_costs.c.usage_date
    with engine.connect() as connection:
        first, last = connection.execute(
            select(func.min(day), func.max(day)).where(daily_costs.c.cloud_account_id == account)).one()
    return None if first is None else (first, last)


def stored_through(engine: Engine, accounts: Iterable[str]) -> datetime | None:
    """End of the latest hour stored for any of ``accounts`` (None: no hour stored)."""
    query = select(func.max(hourly_costs.c.hour_start)).where(hourly_costs.c.cloud_account_id.in_(sorted(accounts)))
    with engine.connect() as connection:
        latest = connection.execute(query).scalar_one()
    return None if latest is None else latest + timedelta(hours=1)


def fetch_flagged_hours(engine: Engine, since: date) -> list[tuple[str, int, int, int]]:
    """Per account with any since ``since`` (a UTC day): its exporter_zero_hours,
    exporter_stale_hours and negative_idle_hours, summed over its stored days."""
    zero, stale = func.sum(daily_costs.c.exporter_zero_hours), func.sum(daily_costs.c.exporter_stale_hours)
    negative = func.sum(daily_costs.c.negative_idle_hours)
    query = (select(daily_costs.c.cloud_account_id, zero, stale, negative)
             .where(daily_costs.c.usage_date >= since)
             .group_by(daily_costs.c.cloud_account_id)
             .having((zero > 0) | (stale > 0) | (negative > 0))
             .order_by(daily_costs.c.cloud_account_id))
    with engine.connect() as connection:
        return [(str(account), int(zeros), int(stales), int(negatives))
                for account, zeros, stales, negatives in connection.execute(query)]

