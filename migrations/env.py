"""Alembic environment. ``k8s-cost-etl migrate`` passes an open connection in
``config.attributes["connection"]`` (holding the migration lock); the ``alembic`` command line
may instead give ``sqlalchemy.url`` in its ini file or DATABASE_URL.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine

config = context.config
connection = config.attributes.get("connection")

if connection is not None:
    context.configure(connection=connection, target_metadata=None, transaction_per_migration=False)
    with context.begin_transaction():
        context.run_migrations()
else:
    url = os.environ.get("DATABASE_URL") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("set DATABASE_URL (or use `k8s-cost-etl migrate`, which also knows the embedded database)")
    if context.is_offline_mode():
        context.configure(url=url, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
    else:
        with create_engine(url).connect() as own_connection:
            context.configure(connection=own_connection, target_metadata=None)
            with context.begin_transaction():
                context.run_migrations()
