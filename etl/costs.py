"""Pure cost math: no I/O, so every rule here is unit-tested without servers.

Money is carried as integer nano-dollars (1e-9 USD) from the moment an hourly figure is
computed: sums over hours are then exact, and a day always equals the sum of its stored hours.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

NANO = 1_000_000_000
MONEY_SCALE = 9  # decimal places stored for USD amounts
EFFICIENCY_DECIMALS = 4

KEY_COLUMNS = ["cloud_account_id", "hour_start"]
DAILY_KEY_COLUMNS = ["cloud_account_id", "usage_date"]
COMPONENT_COLUMNS = ["cpu_cost", "ram_cost", "pv_cost", "network_cost", "load_balancer_cost"]
NETWORK_SPLIT_COLUMNS = ["network_internet_cost", "network_region_cost", "network_zone_cost"]
COST_COLUMNS = ["total_cost", *COMPONENT_COLUMNS, "management_cost", *NETWORK_SPLIT_COLUMNS]
EFFICIENCY_COLUMNS = ["cpu_efficiency", "ram_efficiency", "total_efficiency"]
# Which cost weighs each efficiency when hours are combined into a day.
EFFICIENCY_WEIGHTS: dict[str, list[str]] = {
    "cpu_efficiency": ["cpu_cost"],
    "ram_efficiency": ["ram_cost"],
    "total_efficiency": ["cpu_cost", "ram_cost"],
}
# Which cost each efficiency tells the unused share of, for potential savings.
SAVINGS_PARTS: dict[str, str] = {"cpu_cost": "cpu_efficiency", "ram_cost": "ram_efficiency"}
SAVINGS_COLUMN = "potential_savings"
MONEY_COLUMNS = [*COST_COLUMNS, SAVINGS_COLUMN]
# Phase 1 rows priced (partly) with default prices say so (migration 0002_raw_phase).
DEFAULT_PRICED_COLUMNS = ["default_priced_hours", "default_priced_resources"]
HOURLY_COLUMNS = [*KEY_COLUMNS, *COST_COLUMNS, *EFFICIENCY_COLUMNS, *DEFAULT_PRICED_COLUMNS, "source_phase"]
DAILY_COLUMNS = [
    *DAILY_KEY_COLUMNS, *COST_COLUMNS, SAVINGS_COLUMN, *EFFICIENCY_COLUMNS, "hours_covered",
    *DEFAULT_PRICED_COLUMNS, "source_phase",
]
RESOURCE_LIST_SEPARATOR = ", "

PHASE_EXPORTER = "exporter"
PHASE_RAW = "raw"
PHASE_MIXED = "mixed"


def hour_label(moment: datetime) -> str:
    """An hour as logs show it: 2026-10-05T00:00Z (pd.Timestamp is a datetime too)."""
    return f"{moment:%Y-%m-%dT%H:%MZ}"


def to_nano(dollars: pd.Series) -> pd.Series:
    """USD floats -> integer nano-dollars (missing -> 0)."""
    return (dollars.fillna(0.0) * NANO).round().astype("int64")


def nano_to_decimal(nano: int) -> Decimal:
    return Decimal(int(nano)).scaleb(-MONEY_SCALE)


def decimal_to_nano(dollars: Decimal) -> int:
    """Stored NUMERIC(18,9) USD -> integer nano-dollars, exactly."""
    return int(dollars.scaleb(MONEY_SCALE).to_integral_value())


def unused_cost(cost_nano: pd.Series, efficiency: pd.Series) -> pd.Series:
    """Nano-dollars of ``cost`` allocated but not used: cost x (1 - efficiency/100), <NA> where the
    efficiency is unknown.

    The unused share is clamped to [0, 1]: an efficiency above 100 % (usage over requests) saves
    nothing rather than a negative amount. Integer arithmetic on the efficiency's stored
    EFFICIENCY_DECIMALS gives exactly what the NUMERIC formula in migration 0003 gives, rounded
    half-up to the nano-dollar.
    """
    scale = 100 * 10**EFFICIENCY_DECIMALS  # efficiency 100 % in units of its last stored decimal
    known = efficiency.notna()
    unused = ((100.0 - efficiency.astype("float64").where(known, 100.0)) * 10**EFFICIENCY_DECIMALS).round()
    unused_units = unused.clip(lower=0, upper=scale).astype("int64")
    cost = cost_nano.astype("int64").clip(lower=0)
    whole, rest = cost // scale, cost % scale  # split so no product can overflow int64
    savings: pd.Series = whole * unused_units + (rest * unused_units + scale // 2) // scale
    return savings.astype("Int64").where(known, pd.NA)


def hourly_potential_savings(hourly: pd.DataFrame) -> pd.Series:
    """Per hour: unused CPU cost + unused RAM cost (SAVINGS_PARTS); a part whose efficiency is
    unknown adds nothing, and an hour where neither efficiency is known has <NA>, never 0.
    """
    parts = [unused_cost(hourly[cost], hourly[efficiency]) for cost, efficiency in SAVINGS_PARTS.items()]
    any_known = pd.concat([part.notna() for part in parts], axis=1).any(axis=1)
    total = sum((part.fillna(0) for part in parts), start=pd.Series(0, index=hourly.index, dtype="Int64"))
    return total.where(any_known, pd.NA)


def exporter_hourly_costs(gauges: pd.DataFrame, efficiency_scale: str) -> pd.DataFrame:
    """Hourly cost rows from the exporter's hourly-averaged gauges ($/hour, efficiency).

    ``gauges`` has KEY_COLUMNS plus one float column per exporter gauge (NaN = no sample).
    An hour counts only where ``total_cost`` has data. A rate averaged over one hour times one
    hour is that hour's cost, so the rates are used as dollars directly.
    """
    frame = gauges[gauges["total_cost"].notna()].copy()
    rows = frame[KEY_COLUMNS].copy()
    for column in ["total_cost", *COMPONENT_COLUMNS]:
        rows[column] = to_nano(frame[column]) if column in frame else 0
    # Total includes costs the exporter does not break out (e.g. cluster management fees).
    rows["management_cost"] = (rows["total_cost"] - rows[COMPONENT_COLUMNS].sum(axis=1)).clip(lower=0)
    split_present = pd.Series(False, index=frame.index)
    for column in NETWORK_SPLIT_COLUMNS:
        if column in frame:
            split_present |= frame[column].notna()
    for column in NETWORK_SPLIT_COLUMNS:
        split = to_nano(frame[column]) if column in frame else pd.Series(0, index=frame.index)
        rows[column] = split.where(split_present, 0).astype("int64")
    # Without the optional split, all network cost is internet egress (what the API reports today).
    rows.loc[~split_present, "network_internet_cost"] = rows.loc[~split_present, "network_cost"]
    scale = 100.0 if efficiency_scale == "ratio" else 1.0
    for column in EFFICIENCY_COLUMNS:
        values = frame[column] * scale if column in frame else pd.Series(np.nan, index=frame.index)
        rows[column] = values.astype("float64").round(EFFICIENCY_DECIMALS)
    rows["default_priced_hours"] = 0
    rows["default_priced_resources"] = None
    rows["source_phase"] = PHASE_EXPORTER
    return rows[HOURLY_COLUMNS].reset_index(drop=True)


def unhealthy_hours(gauges: pd.DataFrame, health_column: str) -> pd.Series:
    """The rows whose ``health_column`` (the lowest ``scrape_success`` of the hour) is 0: the exporter
    reported a failed scrape of its source. NaN (the exporter does not publish it) counts as healthy."""
    return gauges[health_column].notna() & (gauges[health_column] <= 0)


def without_unhealthy_hours(gauges: pd.DataFrame, health_column: str) -> pd.DataFrame:
    """Blank the exporter's figures for hours in which it reported a failed scrape of its source
    (unhealthy_hours): at least one of its figures that hour may be stale or partial, so the hour
    counts as having no exporter data and falls back to Phase 1.
    """
    if health_column not in gauges:
        return gauges
    unhealthy = unhealthy_hours(gauges, health_column)
    frame = gauges.drop(columns=[health_column])
    frame.loc[unhealthy, "total_cost"] = np.nan
    return frame


def without_zero_exporter_hours(exporter_rows: pd.DataFrame, raw_rows: pd.DataFrame) -> pd.DataFrame:
    """Drop the exporter hours whose total is $0 while the raw metrics show allocations with a cost
    in that hour: an exporter that lost its prices reports $0 (the failure the tool exists to stop),
    and a silent $0 is worse than the Phase 1 figure. The drop is logged per account.
    Both frames' ``hour_start`` must be of one type (choose_phase_per_hour sees to it)."""
    if exporter_rows.empty or raw_rows.empty:
        return exporter_rows
    costly_raw = raw_rows.loc[raw_rows["total_cost"] > 0, KEY_COLUMNS]
    flagged = exporter_rows.merge(costly_raw, on=KEY_COLUMNS, how="left", indicator=True)["_merge"].eq("both")
    zero_with_raw = (exporter_rows["total_cost"] == 0).to_numpy() & flagged.to_numpy()
    for account, hours in exporter_rows[zero_with_raw].groupby("cloud_account_id")["hour_start"]:
        log.warning("Phase 2 exporter reported $0 for %s in %d hour(s) from %s while Phase 1 raw metrics show "
                    "costed allocations: using Phase 1 for those hours", account, len(hours), hour_label(hours.min()))
    return exporter_rows[~zero_with_raw].reset_index(drop=True)


def choose_phase_per_hour(exporter_rows: pd.DataFrame, raw_rows: pd.DataFrame) -> pd.DataFrame:
    """Per account and hour: the exporter's row where it has one, else the Phase 1 row.
    An exporter hour of $0 yields to a Phase 1 row that has a cost (without_zero_exporter_hours).

    Both inputs are hourly rows (HOURLY_COLUMNS); each (account, hour) appears once in the result,
    so an hour is never counted twice nor lost when the exporter starts or stops mid-day.
    """
    # One hour type on both sides, so the key comparisons below (merge, de-duplication) match.
    exporter_rows, raw_rows = (frame.assign(hour_start=pd.to_datetime(frame["hour_start"], utc=True))
                               for frame in (exporter_rows, raw_rows))
    exporter_rows = without_zero_exporter_hours(exporter_rows, raw_rows)
    frames = [frame for frame in (exporter_rows, raw_rows) if not frame.empty]
    if not frames:
        return pd.DataFrame(columns=HOURLY_COLUMNS)
    combined = pd.concat(frames, ignore_index=True)
    # Exporter rows come first, so keep="first" prefers them.
    chosen = combined.drop_duplicates(subset=KEY_COLUMNS, keep="first")
    return chosen.sort_values(KEY_COLUMNS).reset_index(drop=True)[HOURLY_COLUMNS]


def join_resource_lists(lists: Iterable[object]) -> str | None:
    """Union of RESOURCE_LIST_SEPARATOR-joined resource lists (None/NaN = empty); None if empty."""
    names: set[str] = set()
    for item in lists:
        if isinstance(item, str) and item:
            names.update(item.split(RESOURCE_LIST_SEPARATOR))
    return RESOURCE_LIST_SEPARATOR.join(sorted(names)) or None


def day_phase(phases: Iterable[str]) -> str:
    distinct = set(phases)
    return distinct.pop() if len(distinct) == 1 else PHASE_MIXED


def daily_rollup(hourly: pd.DataFrame) -> pd.DataFrame:
    """Daily rows (UTC days) from hourly rows: exact sums, cost-weighted efficiency.

    A day's efficiency is combined as combine_efficiencies says. A day's potential savings is the
    sum of its hours' savings (hourly_potential_savings), so each hour is judged by its own
    efficiency and hours without one add nothing; NULL when no hour of the day had one.
    """
    if hourly.empty:
        return pd.DataFrame(columns=DAILY_COLUMNS)
    frame = hourly.copy()
    frame["usage_date"] = usage_dates(frame)
    # Hours built without the default-price record (older callers) used no default price.
    for column, nothing in (("default_priced_hours", 0), ("default_priced_resources", None)):
        if column not in frame:
            frame[column] = nothing
    frame[SAVINGS_COLUMN] = hourly_potential_savings(frame)
    groups = frame.groupby(DAILY_KEY_COLUMNS, sort=True)
    daily = groups[COST_COLUMNS].sum().astype("int64")
    daily[SAVINGS_COLUMN] = groups[SAVINGS_COLUMN].sum(min_count=1).astype("Int64")
    daily["hours_covered"] = groups.size()
    daily["default_priced_hours"] = groups["default_priced_hours"].sum().astype("int64")
    daily["default_priced_resources"] = groups["default_priced_resources"].agg(join_resource_lists)
    daily["source_phase"] = groups["source_phase"].agg(day_phase)
    daily = daily.join(combine_efficiencies(frame, DAILY_KEY_COLUMNS))
    return daily.reset_index()[DAILY_COLUMNS]


def combine_efficiencies(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """EFFICIENCY_COLUMNS per ``keys`` group, each the mean of the group's known efficiencies
    weighted by the matching cost (EFFICIENCY_WEIGHTS); where every known row had zero cost the
    weights say nothing and the plain mean is used; with no known row it is NaN (NULL), never 0.
    Used for hours -> day and for days -> a report's range.
    """
    frame = frame.copy()
    helper_columns = []
    for column, weight_columns in EFFICIENCY_WEIGHTS.items():
        known = frame[column].notna()
        weight = frame[weight_columns].sum(axis=1).astype("float64").where(known, 0.0)
        efficiency = frame[column].astype("float64").where(known, 0.0)
        frame[f"{column}__weighted"] = efficiency * weight
        frame[f"{column}__weight"] = weight
        frame[f"{column}__plain"] = efficiency
        frame[f"{column}__known"] = known.astype("int64")
        helper_columns += [f"{column}__{part}" for part in ("weighted", "weight", "plain", "known")]
    sums = frame.groupby(keys, sort=True)[helper_columns].sum()
    combined = pd.DataFrame(index=sums.index)
    for column in EFFICIENCY_WEIGHTS:
        weight, known = sums[f"{column}__weight"], sums[f"{column}__known"]
        weighted = sums[f"{column}__weighted"] / weight.where(weight > 0)
        plain = sums[f"{column}__plain"] / known.where(known > 0)
        combined[column] = weighted.where(weight > 0, plain).round(EFFICIENCY_DECIMALS)
    return combined


def usage_dates(frame: pd.DataFrame) -> pd.Series:
    """The UTC day each hourly row belongs to."""
    return pd.to_datetime(frame["hour_start"], utc=True).dt.date


def spread_trailing_day_rate(gauges: pd.DataFrame) -> pd.DataFrame:
    """For gauges that publish a trailing 24-hour average rate: each hour of a day takes the rate
    last seen in that day, so a fully covered day costs (rate at the end of the day) x 24 h and
    an hour without data still counts for nothing.
    """
    covered = gauges[gauges["total_cost"].notna()].sort_values(KEY_COLUMNS).copy()
    if covered.empty:
        return covered
    day_keys = [covered["cloud_account_id"], usage_dates(covered)]
    value_columns = [c for c in covered.columns if c not in KEY_COLUMNS]
    covered[value_columns] = covered.groupby(day_keys)[value_columns].transform("last")
    return covered.reset_index(drop=True)
