"""Embedded PostgreSQL (the ``pgserver`` wheel ships the server binaries): used when no
DATABASE_URL is set, so the tool runs with nothing to install. The server lives in a local data
directory and stops when the last process using it exits.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

from etl.errors import DatabaseError

log = logging.getLogger(__name__)

# Keep servers referenced for the life of the process: pgserver stops one when it is collected.
_servers: dict[Path, Any] = {}


def embedded_database_url(data_dir: str | Path) -> str:
    """Start (or join) the embedded server under ``data_dir``; return its SQLAlchemy URL."""
    path = Path(data_dir).expanduser().resolve()
    if path not in _servers:
        path.mkdir(parents=True, exist_ok=True)
        log.info("Starting embedded PostgreSQL in %s (set DATABASE_URL to use your own server)", path)
        # platformdirs (used by pgserver) warns when XDG_RUNTIME_DIR is unset, as in containers and
        # CI: harmless here, and noise on the user's terminal.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module="platformdirs")
            import pgserver

            try:
                _servers[path] = pgserver.get_server(path, cleanup_mode="stop")  # type: ignore[attr-defined]
            except Exception as exc:
                raise DatabaseError(f"cannot start the embedded PostgreSQL in {path}: {exc}") from exc
    uri: str = _servers[path].get_uri()
    return uri.replace("postgresql://", "postgresql+psycopg2://", 1)
