"""Stored daily costs as FOCUS 1.0 cost and usage rows (FinOps Open Cost and Usage Specification).

One row per account (cluster) and UTC day, or per account, day and namespace: a cost *allocation*,
not an invoice line, so BilledCost = EffectiveCost = ListCost = ContractedCost = the stored total
(no discount or commitment is known here), in the row's currency. Money is exact: stored
NUMERIC(18,9), written as Decimal (CSV text / Parquet decimal128(18, 9)). The rules of every column
are in docs/focus.md; ``FOCUS_COLUMNS`` and ``REQUIRED_NOT_NULL`` are the contract the export test
checks.

A grain (``--by``) is what one row stands for: a function reading its stored rows for a range and
naming its resource and tags. ``cluster`` reads k8s_daily_costs, ``namespace``
k8s_namespace_daily_costs (whose rows of a day add up to the cluster's); everything else is shared.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine

from etl.errors import InputError, OptionalDependencyError
from etl.model import (
    ACCOUNT_COLUMN,
    COMPONENT_COLUMNS,
    CURRENCY_COLUMN,
    EFFICIENCY_COLUMNS,
    IDLE_COLUMN,
    IDLE_COMPONENTS,
    IDLE_NAMESPACE,
    NAMESPACE_COLUMN,
    SAVINGS_COLUMN,
    utc_midnight,
)
from etl.store.reader import fetch_daily, fetch_namespace_daily

FOCUS_VERSION = "1.0"
TAG_PREFIX = "k8s-cost-etl/"  # FOCUS: provider-defined tag keys carry the provider's prefix
# Fixed values of every row: a usage-based compute allocation of Kubernetes.
CONSTANTS = {
    "ChargeCategory": "Usage",
    "ChargeClass": None,  # set only on corrections of an earlier period
    "ChargeFrequency": "Usage-Based",
    "ServiceCategory": "Compute",
    "ServiceName": "Kubernetes",
    "ProviderName": "Kubernetes",
    "PublisherName": "Kubernetes",
    "InvoiceIssuerName": "Kubernetes",
    "PricingUnit": "Hours",
    "ConsumedUnit": "Hours",
}
# Stored component -> its x_ column: the parts that add up to x_... + management = BilledCost.
EXTRA_COST_COLUMNS = {
    "cpu_cost": "x_CpuCost", "ram_cost": "x_RamCost", "gpu_cost": "x_GpuCost", "pv_cost": "x_PersistentVolumeCost",
    "network_cost": "x_NetworkCost", "load_balancer_cost": "x_LoadBalancerCost",
    "management_cost": "x_ManagementCost",
}
EXTRA_EFFICIENCY_COLUMNS = {"cpu_efficiency": "x_CpuEfficiency", "ram_efficiency": "x_RamEfficiency",
                            "total_efficiency": "x_TotalEfficiency"}
FOCUS_COLUMNS = [
    "BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodEnd",
    "BillingPeriodStart", "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargeFrequency",
    "ChargePeriodEnd", "ChargePeriodStart", "ConsumedQuantity", "ConsumedUnit", "ContractedCost",
    "EffectiveCost", "InvoiceIssuerName", "ListCost", "PricingQuantity", "PricingUnit", "ProviderName",
    "PublisherName", "ResourceId", "ResourceName", "ResourceType", "ServiceCategory", "ServiceName",
    "SubAccountId", "SubAccountName", "Tags",
    *EXTRA_COST_COLUMNS.values(), *EXTRA_EFFICIENCY_COLUMNS.values(),
    "x_IdleCost", "x_PotentialSavings", "x_HoursCovered", "x_SourcePhase", "x_DefaultPricedHours",
]
# FOCUS 1.0's columns that must never be null (the others here may be, e.g. ChargeClass).
REQUIRED_NOT_NULL = [
    "BilledCost", "BillingAccountId", "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart",
    "ChargeCategory", "ChargeFrequency", "ChargePeriodEnd", "ChargePeriodStart", "ContractedCost",
    "EffectiveCost", "InvoiceIssuerName", "ListCost", "ProviderName", "PublisherName", "ServiceCategory",
    "ServiceName",
    # not null for Usage rows that are not corrections
    "PricingQuantity", "PricingUnit",
]


@dataclass(frozen=True)
class Grain:
    """What one row stands for: how to read its stored days, and its resource and tags."""

    read: Callable[[Engine, Sequence[str] | None, date, date], pd.DataFrame]
    resource_type: str
    resource_id: Callable[[pd.Series], str]
    tags: Callable[[pd.Series], dict[str, str]]


def _namespace_days(engine: Engine, accounts: Sequence[str] | None, first: date, last: date) -> pd.DataFrame:
    """Namespace days with the columns the shaping reads: the idle row's idle is its capacity part."""
    days = fetch_namespace_daily(engine, accounts, first, last)
    idle = days[IDLE_COMPONENTS].sum(axis=1) if len(days) else pd.Series(dtype=object)
    return days.assign(**{IDLE_COLUMN: idle.where(days[NAMESPACE_COLUMN] == IDLE_NAMESPACE, Decimal(0)),
                          "default_priced_hours": None})


GRAINS: dict[str, Grain] = {
    "cluster": Grain(
        read=lambda engine, accounts, first, last: fetch_daily(engine, accounts, first, last),
        resource_type="Kubernetes Cluster",
        resource_id=lambda row: str(row[ACCOUNT_COLUMN]),
        tags=lambda row: {"cluster": str(row[ACCOUNT_COLUMN])},
    ),
    "namespace": Grain(
        read=_namespace_days,
        resource_type="Kubernetes Namespace",
        resource_id=lambda row: f"{row[ACCOUNT_COLUMN]}/{row[NAMESPACE_COLUMN]}",
        tags=lambda row: {"cluster": str(row[ACCOUNT_COLUMN]), "namespace": str(row[NAMESPACE_COLUMN])},
    ),
}


def _instant(day: date) -> str:
    return f"{utc_midnight(day):%Y-%m-%dT%H:%M:%SZ}"


def _month_bounds(day: date) -> tuple[date, date]:
    first = day.replace(day=1)
    return first, (first + timedelta(days=32)).replace(day=1)


def _decimal(value: Any) -> Decimal | None:
    return None if value is None or pd.isna(value) else Decimal(value)


def focus_row(row: pd.Series, grain: Grain) -> dict[str, Any]:
    """One stored day of one resource as a FOCUS row."""
    account, day = str(row[ACCOUNT_COLUMN]), row["usage_date"]
    period_start, period_end = _month_bounds(day)
    total, hours = Decimal(row["total_cost"]), int(row["hours_covered"])
    resource = grain.resource_id(row)
    tags = {TAG_PREFIX + key: value for key, value in grain.tags(row).items()}
    return {
        **CONSTANTS,
        "BillingCurrency": str(row[CURRENCY_COLUMN]),
        "BilledCost": total, "EffectiveCost": total, "ListCost": total, "ContractedCost": total,
        "BillingAccountId": account, "BillingAccountName": None, "SubAccountId": account, "SubAccountName": None,
        "BillingPeriodStart": _instant(period_start), "BillingPeriodEnd": _instant(period_end),
        "ChargePeriodStart": _instant(day), "ChargePeriodEnd": _instant(day + timedelta(days=1)),
        "ChargeDescription": f"{grain.resource_type} {resource}: allocated cost of {hours} hour(s) on {day} "
                             f"(source: {row['source_phase']})",
        "PricingQuantity": hours, "ConsumedQuantity": hours,
        "ResourceId": resource, "ResourceName": resource, "ResourceType": grain.resource_type,
        "Tags": json.dumps(tags, sort_keys=True, ensure_ascii=False),
        **{column: Decimal(row[stored]) for stored, column in EXTRA_COST_COLUMNS.items()},
        **{column: _decimal(row[stored]) for stored, column in EXTRA_EFFICIENCY_COLUMNS.items()},
        "x_IdleCost": _decimal(row[IDLE_COLUMN]), "x_PotentialSavings": _decimal(row[SAVINGS_COLUMN]),
        "x_HoursCovered": hours, "x_SourcePhase": str(row["source_phase"]),
        "x_DefaultPricedHours": None if pd.isna(row["default_priced_hours"]) else int(row["default_priced_hours"]),
    }


def focus_frame(stored: pd.DataFrame, grain: Grain) -> pd.DataFrame:
    """Stored daily rows (any grain's reader) -> FOCUS rows in FOCUS_COLUMNS order."""
    rows = [focus_row(row, grain) for _, row in stored.iterrows()]
    return pd.DataFrame(rows, columns=FOCUS_COLUMNS)


def read_focus(engine: Engine, by: str, accounts: Sequence[str], first_day: date, last_day: date) -> pd.DataFrame:
    grain = GRAINS[by]
    return focus_frame(grain.read(engine, list(accounts) or None, first_day, last_day), grain)


# The stored columns a grain's reader must return (checked by the export test for every grain).
STORED_COLUMNS = [ACCOUNT_COLUMN, "usage_date", "total_cost", *COMPONENT_COLUMNS, "management_cost",
                  *EFFICIENCY_COLUMNS, SAVINGS_COLUMN, IDLE_COLUMN, "hours_covered", "source_phase",
                  "default_priced_hours", CURRENCY_COLUMN]


DATETIME_COLUMNS = ["BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd"]
MONEY_COLUMNS = ["BilledCost", "EffectiveCost", "ListCost", "ContractedCost", *EXTRA_COST_COLUMNS.values(),
                 "x_IdleCost", "x_PotentialSavings"]


def _parquet_table(frame: pd.DataFrame) -> Any:
    """FOCUS rows with Parquet types: decimal128(18, 9) money, UTC timestamps, nullable strings."""
    try:
        import pyarrow as pa
    except ImportError:
        raise OptionalDependencyError("Parquet output needs the 'parquet' extra: pip install "
                                      "'k8s-cost-etl[parquet]' (or write FILE.csv)") from None
    money, percent = pa.decimal128(18, 9), pa.decimal128(18, 4)  # efficiencies above 1000 % are real
    types = {column: money for column in MONEY_COLUMNS}
    types |= {column: percent for column in EXTRA_EFFICIENCY_COLUMNS.values()}
    types |= {column: pa.timestamp("ms", tz="UTC") for column in DATETIME_COLUMNS}
    types |= {column: pa.int64() for column in ("PricingQuantity", "ConsumedQuantity", "x_HoursCovered",
                                                 "x_DefaultPricedHours")}
    schema = pa.schema([(column, types.get(column, pa.string())) for column in FOCUS_COLUMNS])
    typed = frame.assign(**{column: pd.to_datetime(frame[column], utc=True) for column in DATETIME_COLUMNS})
    return pa.Table.from_pandas(typed, schema=schema, preserve_index=False)


def write_focus(frame: pd.DataFrame, path: str | Path) -> None:
    """Write FOCUS rows as CSV or Parquet (by the file's suffix); the file appears whole or not at all."""
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise InputError(f"-o {target}: the file name must end in .csv or .parquet")
    table = _parquet_table(frame) if suffix == ".parquet" else None
    handle, temporary = tempfile.mkstemp(dir=target.parent if str(target.parent) else ".", suffix=suffix)
    os.close(handle)
    try:
        if table is not None:
            import pyarrow.parquet as pq

            pq.write_table(table, temporary)
        else:
            frame.to_csv(temporary, index=False)
        os.replace(temporary, target)
    except OSError as exc:
        raise InputError(f"-o {target}: cannot write it: {exc.strerror or exc}") from None
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
