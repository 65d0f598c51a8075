"""The command line's allocator settings (etl.cli.memory): made before pandas loads, the operator's own win."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from etl.cli.memory import limit_allocator_caches


def test_pyarrow_uses_the_system_allocator_unless_told_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
    limit_allocator_caches()
    assert os.environ["ARROW_DEFAULT_MEMORY_POOL"] == "system"
    monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "jemalloc")
    limit_allocator_caches()
    assert os.environ["ARROW_DEFAULT_MEMORY_POOL"] == "jemalloc"


def test_the_command_line_sets_it_before_pandas_loads() -> None:
    # A fresh interpreter: a command that loads the settings (and pandas, and pyarrow) and fails on
    # its database URL; pyarrow's pool is then the system allocator's.
    code = ("import os, sys\n"
            "os.environ.pop('ARROW_DEFAULT_MEMORY_POOL', None); os.environ['DATABASE_URL'] = 'sqlite://'\n"
            "from etl.cli import main\n"
            "assert 'pandas' not in sys.modules\n"
            "assert main(['report', '--account', 'a', '--start', '2026-01-01', '--end', '2026-01-02']) == 2\n"
            "import pyarrow\n"
            "print(pyarrow.default_memory_pool().backend_name)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "system"
