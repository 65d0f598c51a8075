"""Alembic environment, on the application's own settings and declared schema.

``k8s-cost-etl migrate`` passes an open connection in ``config.attributes["connection"]`` (holding
the migration lock). The plain ``alembic`` command line connects the way the tool does: the URL in
the ini file if one is set, else the tool's settings (DATABASE_URL, the YAML config file, or the
embedded PostgreSQL). ``target_metadata`` is etl.store.schema's, so ``alembic check`` (and the test
that runs it) fails when a migration and the declared tables drift apart.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from etl.config import load_settings
from etl.store.db import connect
from etl.store.schema import metadata

config = context.config
connection = config.attributes.get("connection")
# Types are compared too: a NUMERIC(7, 4) in the schema and (7, 2) in the database is a drift.
OPTIONS = {"target_metadata": metadata, "compare_type": True}

if connection is not None:
    context.configure(connection=connection, transaction_per_migration=False, **OPTIONS)
    with context.begin_transaction():
        context.run_migrations()
elif context.is_offline_mode():
    url = config.get_main_option("sqlalchemy.url") or load_settings().database.url
    if not url:
        raise SystemExit("offline mode needs DATABASE_URL (or sqlalchemy.url) for the SQL dialect")
    context.configure(url=url, literal_binds=True, **OPTIONS)
    with context.begin_transaction():
        context.run_migrations()
else:
    ini_url = config.get_main_option("sqlalchemy.url")
    engine = create_engine(ini_url) if ini_url else connect(load_settings())
    with engine.connect() as own_connection:
        context.configure(connection=own_connection, **OPTIONS)
        with context.begin_transaction():
            context.run_migrations()
