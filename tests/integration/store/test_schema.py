"""The declared schema (etl.store.schema, etl.store.views) and the migrations never drift apart."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, text

from etl.store.db import alembic_config, migrate
from etl.store.schema import metadata
from etl.store.views import VIEWS, create_view


def schema_differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def view_definition(engine: Engine, name: str) -> str:
    with engine.connect() as connection:
        return str(connection.execute(text("SELECT pg_get_viewdef(CAST(:name AS regclass), true)"),
                                      {"name": name}).scalar_one())


def test_the_migrated_tables_are_the_declared_tables(engine: Engine) -> None:
    assert schema_differences(engine) == []


def test_the_migrated_views_are_the_views_generated_from_the_rules(engine: Engine) -> None:
    for name in VIEWS:
        with engine.begin() as connection:
            connection.execute(text(create_view(name, as_name=f"generated_{name}")))
        assert view_definition(engine, name) == view_definition(engine, f"generated_{name}"), name


def test_a_drift_is_detected(engine: Engine) -> None:
    """The check can fail: a column the declarations have and the database lacks is reported."""
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE k8s_daily_costs DROP COLUMN default_priced_resources"))
    differences = schema_differences(engine)
    assert any("default_priced_resources" in str(difference) for difference in differences)


def test_every_migration_goes_down_to_nothing_and_back_to_the_declared_schema(engine: Engine) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    with engine.connect() as connection:
        left = connection.execute(text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' "
                                       "AND tablename <> 'alembic_version'")).scalar_one()
    assert left == 0
    migrate(engine)
    assert schema_differences(engine) == []
