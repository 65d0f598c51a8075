"""Migration 0004 (run log, account state, backfill progress) is reversible."""

from __future__ import annotations

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from etl.store.db import alembic_config, current_revision, migrate

OPERATIONS_TABLES = {"etl_runs", "etl_account_state", "etl_backfill_chunks"}


def tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_operations_migration_downgrades_and_upgrades_again(engine: Engine) -> None:
    assert tables(engine) >= OPERATIONS_TABLES
    config = alembic_config()
    # whatever this migration ends up chained after, step back to exactly that revision
    below = ScriptDirectory.from_config(config).get_revision("0004_operations").down_revision
    assert isinstance(below, str)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, below)
    assert not tables(engine) & OPERATIONS_TABLES
    assert tables(engine) >= {"k8s_hourly_costs", "k8s_daily_costs"}
    assert current_revision(engine) == below
    migrate(engine)
    assert tables(engine) >= OPERATIONS_TABLES
