"""The SQL views, generated from the rules in etl.model (one home for each rule).

- ``k8s_clean_expenses``: one row per account, day and cost type (model.CLEAN_EXPENSE_TYPES),
  shaped for the platform's clean_expenses, with the day's currency; the types add up to the
  day's total.
- ``k8s_monthly_costs``: exact monthly sums per currency (two currencies are never added);
  efficiencies weighted by cost as
  model.EFFICIENCY_WEIGHTS says (the same rule etl.costing.efficiency applies in Python), the plain
  mean where the known days cost nothing.
- ``k8s_namespace_clean_expenses`` and ``k8s_namespace_monthly_costs``: the same two, one level
  down: per namespace (the namespace is the resource), from k8s_namespace_daily_costs.

Migrations create views with the SQL of their time; a test holds the views of a migrated database
equal to the ones generated here, so a rule changed in Python without a migration fails CI.
"""

from __future__ import annotations

from etl.model import (
    ACCOUNT_COLUMN,
    CLEAN_EXPENSE_TYPES,
    COST_COLUMNS,
    CURRENCY_COLUMN,
    EFFICIENCY_DECIMALS,
    EFFICIENCY_WEIGHTS,
    IDLE_COLUMN,
    IDLE_UNKNOWN_COLUMN,
    NAMESPACE_COLUMN,
    NAMESPACE_COST_COLUMNS,
    SAVINGS_COLUMN,
)
from etl.store.schema import daily_costs, namespace_daily_costs

DAILY, NAMESPACE_DAILY = daily_costs.name, namespace_daily_costs.name


def _weighted_efficiency(column: str, weight: str) -> str:
    """Cost-weighted over the days whose efficiency is known; plain mean where those days cost 0."""
    known = f"FILTER (WHERE {column} IS NOT NULL)"
    return (
        f"round(COALESCE(sum({column} * ({weight})) {known} / NULLIF(sum({weight}) {known}, 0), "
        f"avg({column})), {EFFICIENCY_DECIMALS}) AS {column}"
    )


def _clean_expenses(table: str, keys: list[str]) -> str:
    values = ", ".join(f"('{kind}', d.{column})" for kind, column in CLEAN_EXPENSE_TYPES.items())
    shown = ", ".join(f"d.{key}" for key in keys)
    return (
        f"SELECT {shown}, c.cost_type, c.cost, d.{CURRENCY_COLUMN}, d.source_phase\n"
        f"FROM {table} AS d\n"
        f"CROSS JOIN LATERAL (VALUES {values})\n"
        f"    AS c (cost_type, cost)"
    )


def _monthly(table: str, by: list[str], costs: list[str], sums: list[str]) -> str:
    efficiencies = ", ".join(_weighted_efficiency(column, " + ".join(weights))
                             for column, weights in EFFICIENCY_WEIGHTS.items())
    shown = "".join(f"       {column},\n" for column in by)
    groups = ", ".join([ACCOUNT_COLUMN, "date_trunc('month', usage_date)", *by, CURRENCY_COLUMN])
    return (
        f"SELECT {ACCOUNT_COLUMN},\n"
        f"       date_trunc('month', usage_date)::date AS month,\n"
        f"{shown}"
        f"       {CURRENCY_COLUMN},\n"
        f"       {', '.join(f'sum({column}) AS {column}' for column in costs)},\n"
        f"       {efficiencies},\n"
        f"       {', '.join(sums)},\n"
        f"       count(*)::integer AS days_covered,\n"
        f"       sum(hours_covered)::integer AS hours_covered,\n"
        f"       string_agg(DISTINCT source_phase, ',' ORDER BY source_phase) AS source_phases\n"
        f"FROM {table}\n"
        f"GROUP BY {groups}"
    )


def _sum(column: str, cast: str = "") -> str:
    return f"sum({column}){cast} AS {column}"


def clean_expenses_select() -> str:
    return _clean_expenses(DAILY, [ACCOUNT_COLUMN, "usage_date"])


def monthly_costs_select() -> str:
    # idle_cost: the sum over the days that know it; idle_unknown_hours says how many hours do not.
    sums = [_sum(SAVINGS_COLUMN), _sum(IDLE_COLUMN), _sum(IDLE_UNKNOWN_COLUMN, "::integer")]
    return _monthly(DAILY, [], COST_COLUMNS, sums)


def namespace_clean_expenses_select() -> str:
    return _clean_expenses(NAMESPACE_DAILY, [ACCOUNT_COLUMN, "usage_date", NAMESPACE_COLUMN])


def namespace_monthly_costs_select() -> str:
    return _monthly(NAMESPACE_DAILY, [NAMESPACE_COLUMN], NAMESPACE_COST_COLUMNS, [_sum(SAVINGS_COLUMN)])


# view name -> its SELECT, as the schema at head must hold it
VIEWS = {
    "k8s_clean_expenses": clean_expenses_select,
    "k8s_monthly_costs": monthly_costs_select,
    "k8s_namespace_clean_expenses": namespace_clean_expenses_select,
    "k8s_namespace_monthly_costs": namespace_monthly_costs_select,
}


def create_view(name: str, as_name: str | None = None) -> str:
    """``CREATE VIEW`` for one of VIEWS (optionally under another name, for comparisons)."""
    return f"CREATE VIEW {as_name or name} AS\n{VIEWS[name]()}"
