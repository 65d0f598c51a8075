"""The FOCUS 1.0 rules a file can be checked against without the provider's books: the columns a
dataset must have, which must never be null, allowed values, formats, and the relations between
columns. Written from the specification's column definitions, independently of etl.read.focus;
``violations`` returns what breaks them (empty = conformant to these rules)."""

from __future__ import annotations

import json
import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import pandas as pd

# Mandatory columns of FOCUS 1.0.
MANDATORY = [
    "BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodEnd",
    "BillingPeriodStart", "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargePeriodEnd",
    "ChargePeriodStart", "ContractedCost", "EffectiveCost", "InvoiceIssuerName", "ListCost", "PricingQuantity",
    "PricingUnit", "ProviderName", "PublisherName", "ServiceCategory", "ServiceName",
]
# Columns FOCUS 1.0 defines beyond them (conditional / recommended); anything else must start with x_.
DEFINED = {*MANDATORY, "AvailabilityZone", "ChargeFrequency", "CommitmentDiscountCategory", "CommitmentDiscountId",
           "CommitmentDiscountName", "CommitmentDiscountStatus", "CommitmentDiscountType", "ConsumedQuantity",
           "ConsumedUnit", "ContractedUnitPrice", "ListUnitPrice", "PricingCategory", "RegionId", "RegionName",
           "ResourceId", "ResourceName", "ResourceType", "SkuId", "SkuPriceId", "SubAccountId", "SubAccountName",
           "Tags"}
NOT_NULL = ["BilledCost", "BillingAccountId", "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart",
            "ChargeCategory", "ChargePeriodEnd", "ChargePeriodStart", "ContractedCost", "EffectiveCost",
            "InvoiceIssuerName", "ListCost", "ProviderName", "PublisherName", "ServiceCategory", "ServiceName"]
CHARGE_CATEGORIES = {"Usage", "Purchase", "Tax", "Credit", "Adjustment"}
CHARGE_FREQUENCIES = {"One-Time", "Recurring", "Usage-Based"}
SERVICE_CATEGORIES = {
    "AI and Machine Learning", "Analytics", "Business Applications", "Compute", "Databases", "Developer Tools",
    "Multicloud", "Identity", "Integration", "Internet of Things", "Management and Governance", "Media",
    "Migration", "Mobile", "Networking", "Security", "Storage", "Web", "Other",
}
COST_COLUMNS = ["BilledCost", "EffectiveCost", "ListCost", "ContractedCost"]
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
PASCAL_CASE = re.compile(r"^[A-Z][A-Za-z]*$")


def _null(value: Any) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT or value is pd.NA


def _instant(value: Any) -> datetime | None:
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime() if value.tzinfo is not None and value.utcoffset().total_seconds() == 0 else None
    if isinstance(value, str) and DATETIME.match(value):
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return None


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def violations(frame: pd.DataFrame) -> list[str]:
    found = [f"missing mandatory column {name}" for name in MANDATORY if name not in frame.columns]
    for name in frame.columns:
        if name not in DEFINED and not name.startswith("x_"):
            found.append(f"column {name} is neither a FOCUS column nor prefixed x_")
        if name in DEFINED and not PASCAL_CASE.match(name):
            found.append(f"column {name} is not PascalCase")
    for index, row in frame.iterrows():
        where = f"row {index}"
        found += [f"{where}: {name} is null" for name in NOT_NULL if name in row and _null(row[name])]
        if row.get("ChargeCategory") not in CHARGE_CATEGORIES:
            found.append(f"{where}: ChargeCategory {row.get('ChargeCategory')!r}")
        if not _null(row.get("ChargeClass")) and row["ChargeClass"] != "Correction":
            found.append(f"{where}: ChargeClass {row['ChargeClass']!r}")
        if "ChargeFrequency" in row and row["ChargeFrequency"] not in CHARGE_FREQUENCIES:
            found.append(f"{where}: ChargeFrequency {row['ChargeFrequency']!r}")
        if row.get("ServiceCategory") not in SERVICE_CATEGORIES:
            found.append(f"{where}: ServiceCategory {row.get('ServiceCategory')!r}")
        if not re.fullmatch(r"[A-Z]{3}", str(row.get("BillingCurrency"))):
            found.append(f"{where}: BillingCurrency {row.get('BillingCurrency')!r} is not an ISO 4217 code")
        instants = {name: _instant(row.get(name)) for name in
                    ("ChargePeriodStart", "ChargePeriodEnd", "BillingPeriodStart", "BillingPeriodEnd")}
        found += [f"{where}: {name} {row.get(name)!r} is not an ISO 8601 UTC date-time"
                  for name, value in instants.items() if value is None]
        if all(instants.values()):
            if not instants["ChargePeriodStart"] < instants["ChargePeriodEnd"]:  # type: ignore[operator]
                found.append(f"{where}: ChargePeriodStart is not before ChargePeriodEnd")
            if not (instants["BillingPeriodStart"] <= instants["ChargePeriodStart"]  # type: ignore[operator]
                    and instants["ChargePeriodEnd"] <= instants["BillingPeriodEnd"]):  # type: ignore[operator]
                found.append(f"{where}: the charge period is not inside the billing period")
        for name in COST_COLUMNS:
            if _decimal(row.get(name)) is None:
                found.append(f"{where}: {name} {row.get(name)!r} is not a decimal number")
        if row.get("ChargeCategory") in ("Usage", "Purchase") and _null(row.get("ChargeClass")):
            found += [f"{where}: {name} is null on a Usage row" for name in ("PricingQuantity", "PricingUnit")
                      if _null(row.get(name))]
        if "Tags" in row and not _null(row["Tags"]):
            tags = json.loads(row["Tags"])
            if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
                found.append(f"{where}: Tags is not a JSON object of strings")
    return found
