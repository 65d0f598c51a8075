"""The chart module's failure modes that need no database (the drawing itself is covered in
tests/integration/test_report.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from etl.errors import InputError, OptionalDependencyError
from etl.read.plot import plot_daily_costs

REPORT = {"cloud_account_id": "a", "days": [
    {"date": "2026-09-01", "cpu_cost": 1.0, "ram_cost": 2.0, "gpu_cost": 0.0, "pv_cost": 0.0, "network_cost": 0.0,
     "load_balancer_cost": 0.0, "management_cost": 0.5},
]}


def test_missing_matplotlib_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # None in sys.modules makes the import fail as if the extra were not installed.
    for name in [name for name in sys.modules if name.startswith("matplotlib")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(OptionalDependencyError, match=r"k8s-cost-etl\[plot\]"):
        plot_daily_costs(REPORT, tmp_path / "chart.png")
    assert list(tmp_path.iterdir()) == []


def test_unwritable_target_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot write the chart"):
        plot_daily_costs(REPORT, tmp_path / "missing-dir" / "chart.png")
