"""Migration 0002_raw_phase is reversible on a real PostgreSQL."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, inspect

from etl.store.db import alembic_config, current_revision, head_revision

NEW_COLUMNS = {"default_priced_hours", "default_priced_resources"}


def _columns(engine: Engine, table: str) -> set[str]:
    return {column["name"] for column in inspect(engine).get_columns(table)}


def _run(engine: Engine, action: str, revision: str) -> None:
    config: Config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, action)(config, revision)


def test_raw_phase_migration_downgrades_and_upgrades(engine: Engine) -> None:
    # Down to the revision before 0002_raw_phase (undoing any later one too) and back up to head.
    assert current_revision(engine) == head_revision()
    for table in ("k8s_hourly_costs", "k8s_daily_costs"):
        assert _columns(engine, table) >= NEW_COLUMNS
    _run(engine, "downgrade", "0001_cost_tables")
    assert current_revision(engine) == "0001_cost_tables"
    for table in ("k8s_hourly_costs", "k8s_daily_costs"):
        assert not NEW_COLUMNS & _columns(engine, table)
    _run(engine, "upgrade", "head")
    assert current_revision(engine) == head_revision()
    for table in ("k8s_hourly_costs", "k8s_daily_costs"):
        assert _columns(engine, table) >= NEW_COLUMNS
