"""The SQL views, generated from the rules in etl.model (one home for each rule).

- ``k8s_clean_expenses``: one row per account, day and cost type (model.CLEAN_EXPENSE_TYPES),
  shaped for the platform's clean_expenses, with the day's currency; the types add up to the
  day's total.
- ``k8s_monthly_costs``: exact monthly sums per currency (two currencies are never added);
  efficiencies weighted by cost as
  model.EFFICIENCY_WEIGHTS says (the same rule etl.costing.efficiency applies in Python), the plain
  mean where the known days cost nothing.

Migrations create views with the SQL of their time; a test holds the views of a migrated database
equal to the ones generated here, so a rule changed in Python without a migration fails CI.
"""

from __future__ import annotations

from etl.model import (
    CLEAN_EXPENSE_TYPES,
    COST_COLUMNS,
    CURRENCY_COLUMN,
    EFFICIENCY_DECIMALS,
    EFFICIENCY_WEIGHTS,
    SAVINGS_COLUMN,
)
from etl.store.schema import daily_costs

DAILY = daily_costs.name


def _weighted_efficiency(column: str, weight: str) -> str:
    """Cost-weighted over the days whose efficiency is known; plain mean where those days cost 0."""
    known = f"FILTER (WHERE {column} IS NOT NULL)"
    return (
        f"round(COALESCE(sum({column} * ({weight})) {known} / NULLIF(sum({weight}) {known}, 0), "
        f"avg({column})), {EFFICIENCY_DECIMALS}) AS {column}"
    )


def clean_expenses_select() -> str:
    values = ", ".join(f"('{kind}', d.{column})" for kind, column in CLEAN_EXPENSE_TYPES.items())
    return (
        f"SELECT d.cloud_account_id, d.usage_date, c.cost_type, c.cost, d.{CURRENCY_COLUMN}, d.source_phase\n"
        f"FROM {DAILY} AS d\n"
        f"CROSS JOIN LATERAL (VALUES {values})\n"
        f"    AS c (cost_type, cost)"
    )


def monthly_costs_select() -> str:
    efficiencies = ", ".join(_weighted_efficiency(column, " + ".join(weights))
                             for column, weights in EFFICIENCY_WEIGHTS.items())
    return (
        f"SELECT cloud_account_id,\n"
        f"       date_trunc('month', usage_date)::date AS month,\n"
        f"       {CURRENCY_COLUMN},\n"
        f"       {', '.join(f'sum({column}) AS {column}' for column in COST_COLUMNS)},\n"
        f"       {efficiencies},\n"
        f"       sum({SAVINGS_COLUMN}) AS {SAVINGS_COLUMN},\n"
        f"       count(*)::integer AS days_covered,\n"
        f"       sum(hours_covered)::integer AS hours_covered,\n"
        f"       string_agg(DISTINCT source_phase, ',' ORDER BY source_phase) AS source_phases\n"
        f"FROM {DAILY}\n"
        f"GROUP BY cloud_account_id, date_trunc('month', usage_date), {CURRENCY_COLUMN}"
    )


# view name -> its SELECT, as the schema at head must hold it
VIEWS = {
    "k8s_clean_expenses": clean_expenses_select,
    "k8s_monthly_costs": monthly_costs_select,
}


def create_view(name: str, as_name: str | None = None) -> str:
    """``CREATE VIEW`` for one of VIEWS (optionally under another name, for comparisons)."""
    return f"CREATE VIEW {as_name or name} AS\n{VIEWS[name]()}"
