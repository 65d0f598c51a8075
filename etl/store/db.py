"""Database connection and schema state: engine creation, migrations, head check."""

from __future__ import annotations

import logging
from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from etl.config import Settings
from etl.errors import ConfigError, DatabaseError
from etl.redact import register_secrets
from etl.store.embedded import embedded_database_url

log = logging.getLogger(__name__)

# pg_advisory_xact_lock key serialising concurrent `migrate` runs ("k8scost" in ASCII).
MIGRATION_LOCK_KEY = 0x6B38_7363_6F73_74


def database_url(settings: Settings) -> str:
    return settings.database.url or embedded_database_url(settings.database.embedded_data_dir)


# URL schemes naming PostgreSQL: SQLAlchemy's, and libpq's / Heroku's `postgres://`.
POSTGRES_SCHEMES = ("postgresql", "postgres")
DATABASE_URL_FIELD = "database.url (DATABASE_URL)"
EXAMPLE_URL = "postgresql://user:password@host:5432/db"


def postgres_url(url: str) -> URL:
    """``url`` as a SQLAlchemy URL for psycopg2; ConfigError unless it names PostgreSQL."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(DATABASE_URL_FIELD, f"is not a database URL ({EXAMPLE_URL})") from None
    backend, _, driver = parsed.drivername.partition("+")
    if backend not in POSTGRES_SCHEMES:
        raise ConfigError(DATABASE_URL_FIELD, f"{backend}:// is not PostgreSQL: the tool stores its rows in "
                          f"PostgreSQL only ({EXAMPLE_URL})")
    if driver not in ("", "psycopg2"):
        raise ConfigError(DATABASE_URL_FIELD, f"driver {driver!r} is not installed; use postgresql:// (psycopg2)")
    return parsed.set(drivername="postgresql+psycopg2")


def connect(settings: Settings) -> Engine:
    """An engine whose database answered a first query, or DatabaseError."""
    parsed = postgres_url(database_url(settings))
    safe = parsed.render_as_string(hide_password=True)
    register_secrets([parsed.password if isinstance(parsed.password, str) else None])
    try:
        engine = create_engine(parsed, pool_pre_ping=True, connect_args={"connect_timeout": 10})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise DatabaseError(f"cannot connect to PostgreSQL at {safe}: {describe_error(exc)}") from None
    return engine


def describe_error(exc: BaseException) -> str:
    """The driver's first line (no SQL text, no parameters, no SQLAlchemy help link)."""
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("migrations")))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def migrate(engine: Engine) -> tuple[str | None, str | None]:
    """Bring the schema to head; safe when several processes run it at once. Returns (from, to)."""
    config = alembic_config()
    with engine.begin() as connection:
        # The second process waits here, then finds the schema at head and does nothing.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        before = MigrationContext.configure(connection).get_current_revision()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    after = current_revision(engine)
    return before, after


def schema_mismatch(engine: Engine) -> str | None:
    """None when the schema is at head; else what it is at, what this version needs, and the fix."""
    current, head = current_revision(engine), head_revision()
    if current == head:
        return None
    return f"database schema is at {current or 'nothing'}, this version needs {head}: run `k8s-cost-etl migrate` first"


def require_schema_at_head(engine: Engine) -> None:
    problem = schema_mismatch(engine)
    if problem:
        raise DatabaseError(problem)
