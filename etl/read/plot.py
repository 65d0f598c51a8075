"""The daily cost charts of a report: one stacked bar per day, one colour per cost component (the
cluster report) or per namespace (the namespace report).

matplotlib is the optional ``plot`` extra: imported only when a chart is drawn, and drawn with
the Agg canvas directly (no pyplot, no display, no global backend switch).
"""

from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from etl.errors import InputError, OptionalDependencyError

# Components that add up to a day's total cost, bottom to top, with their legend labels.
STACKED_COMPONENTS = [
    ("cpu_cost", "CPU"), ("ram_cost", "RAM"), ("gpu_cost", "GPU"), ("pv_cost", "Persistent volumes"),
    ("network_cost", "Network"), ("load_balancer_cost", "Load balancers"), ("management_cost", "Management"),
]
# Namespaces drawn one by one (the largest over the range); the rest stack as one "other".
MOST_NAMESPACES = 9


def plot_daily_costs(report: dict[str, Any], path: str | Path) -> None:
    """Write a PNG of the report's per-day costs by component (etl.report.cluster_costs) to ``path``.

    The file appears whole or not at all: it is drawn to a temporary file next to it and renamed.
    """
    stacks = [(label, [day[key] or 0.0 for day in report["days"]]) for key, label in STACKED_COMPONENTS]
    _draw(f"Kubernetes costs of {report['cloud_account_id']} by day (UTC)", report, stacks, path)


def plot_namespace_costs(report: dict[str, Any], path: str | Path) -> None:
    """As plot_daily_costs, by namespace (etl.report.namespace_costs: shared costs as shared there)."""
    names = [entry["namespace"] for entry in report["namespaces"]]
    shown = names if len(names) <= MOST_NAMESPACES + 1 else names[:MOST_NAMESPACES]
    stacks = [(name, [day["namespaces"].get(name, 0.0) for day in report["days"]]) for name in shown]
    if len(shown) < len(names):
        stacks.append(("other", [sum(cost for name, cost in day["namespaces"].items() if name not in shown)
                                 for day in report["days"]]))
    _draw(f"Kubernetes costs of {report['cloud_account_id']} by namespace and day (UTC)", report, stacks, path)


def _draw(title: str, report: dict[str, Any], stacks: list[tuple[str, list[float]]], path: str | Path) -> None:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.dates import DateFormatter, DayLocator
        from matplotlib.figure import Figure
    except ImportError:
        raise OptionalDependencyError(
            "drawing a chart needs matplotlib: install the 'plot' extra (pip install 'k8s-cost-etl[plot]')"
        ) from None
    # Real dates, not labels: a day without rows shows as a gap instead of disappearing.
    days = [date.fromisoformat(day["date"]) for day in report["days"]]
    figure = Figure(figsize=(max(7.0, 0.3 * len(days) + 4), 4.5), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    bottoms = [0.0] * len(days)
    for label, heights in stacks:
        axes.bar(days, heights, width=0.8, bottom=bottoms, label=label)  # type: ignore[arg-type]
        bottoms = [bottom + height for bottom, height in zip(bottoms, heights, strict=True)]
    axes.set_title(title)
    axes.set_ylabel(report.get("currency") or "USD")
    span_days = (days[-1] - days[0]).days + 1 if days else 1
    # matplotlib's date helpers carry no type hints
    axes.xaxis.set_major_locator(DayLocator(interval=-(-span_days // 12)))  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_formatter(DateFormatter("%Y-%m-%d"))  # type: ignore[no-untyped-call]
    axes.tick_params(axis="x", labelrotation=45 if span_days > 4 else 0)
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small")
    target = Path(path)
    try:
        handle, temporary = tempfile.mkstemp(suffix=".png", prefix=f".{target.name}.", dir=target.parent)
        try:
            with os.fdopen(handle, "wb") as file:
                figure.savefig(file, format="png")
            os.chmod(temporary, 0o644)  # mkstemp's 0600 would hide the chart from other readers
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise InputError(f"cannot write the chart to {target}: {exc.strerror or exc}") from None
