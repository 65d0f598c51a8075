"""Embedded PostgreSQL (the ``pgserver`` wheel ships the server binaries, in the ``embedded``
extra): used when no DATABASE_URL is set, so the tool runs on one user's machine with nothing to
install. The server lives in one per-user data directory and stops when the last process using it
exits.

Where: ``database.embedded_data_dir`` (EMBEDDED_PG_DATA_DIR), else ``$XDG_DATA_HOME/k8s-cost-etl/pgdata``
(``~/.local/share/k8s-cost-etl/pgdata``), so every working directory finds the same database.

Private: the directories this module creates are 0700. PostgreSQL refuses to run as root, so for
root pgserver runs the server as a system user ``pgserver`` and, left alone, makes every parent of
the data directory readable by everyone (``/root`` included). Here nothing is loosened: root's
default data directory is ``/var/lib/k8s-cost-etl/pgdata`` (its parents are traversable already),
the directories created for it belong to ``pgserver`` with mode 0700, and a data directory below a
private parent is refused with the reason. (The server's programs, inside the installed package, may
need traverse-only access, o+x, to a private parent such as /root: that is granted and logged.)
Embedded mode is for a single user's machine; a shared
or production database is a real PostgreSQL (DATABASE_URL).
"""

from __future__ import annotations

import logging
import os
import stat
import warnings
from pathlib import Path
from typing import Any

from etl.errors import ConfigError, DatabaseError

log = logging.getLogger(__name__)

DATA_DIR_FIELD = "database.embedded_data_dir (EMBEDDED_PG_DATA_DIR)"
APP_DIR = "k8s-cost-etl"
ROOT_DATA_DIR = Path("/var/lib") / APP_DIR / "pgdata"
SERVER_USER_AS_ROOT = "pgserver"  # the system user pgserver runs the server as when we are root
PRIVATE = 0o700
# pgserver's record of the processes using a server; it writes it world-readable.
PGSERVER_OWN_FILES = (".handle_pids.json",)

# Keep servers referenced for the life of the process: pgserver stops one when it is collected.
_servers: dict[Path, Any] = {}


def _as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def default_data_dir(environ: dict[str, str] | None = None) -> Path:
    """The per-user data directory: $XDG_DATA_HOME/k8s-cost-etl/pgdata (root: /var/lib/k8s-cost-etl/pgdata)."""
    if _as_root():
        return ROOT_DATA_DIR
    environ = dict(os.environ) if environ is None else environ
    base = environ.get("XDG_DATA_HOME") or ""
    base_dir = Path(base) if Path(base).is_absolute() else Path.home() / ".local" / "share"
    return base_dir / APP_DIR / "pgdata"


def resolve_data_dir(configured: str | None) -> Path:
    return Path(configured).expanduser().resolve() if configured else default_data_dir()


def _server_user() -> tuple[int, int]:
    """(uid, gid) of the system user pgserver runs the server as when we are root (created if missing)."""
    import pwd

    _pgserver().utils.ensure_user_exists(SERVER_USER_AS_ROOT)
    entry = pwd.getpwnam(SERVER_USER_AS_ROOT)
    return entry.pw_uid, entry.pw_gid


def _traversable_by(directory: Path, uid: int, gid: int) -> bool:
    info = directory.stat()
    if info.st_uid == uid:
        return bool(info.st_mode & stat.S_IXUSR)
    return bool(info.st_mode & (stat.S_IXGRP if info.st_gid == gid else stat.S_IXOTH))


def _require_reachable(path: Path) -> None:
    """As root: the server's user must reach ``path``. Replaces pgserver's ensure_prefix_permissions,
    which would chmod every parent o+rx. The data directory's parents are never loosened (refused
    instead); the server's programs (in the installed package) get traverse-only (o+x) where they need
    it, never read or list, and the log says where."""
    uid, gid = _server_user()
    programs = "pginstall" in path.parts
    for parent in path.parents:
        if _traversable_by(parent, uid, gid):
            continue
        if programs:
            log.warning("Letting the system user `%s` traverse %s (o+x, no listing) to run PostgreSQL's programs "
                        "in %s; install the tool outside a private directory to avoid it", SERVER_USER_AS_ROOT,
                        parent, path)
            parent.chmod(stat.S_IMODE(parent.stat().st_mode) | stat.S_IXOTH)
            continue
        raise ConfigError(DATA_DIR_FIELD, (
            f"{parent} is private (mode {stat.S_IMODE(parent.stat().st_mode):o}): as root the embedded "
            f"PostgreSQL runs as the system user `{SERVER_USER_AS_ROOT}`, which cannot reach {path} through it "
            f"and it is not loosened; choose a data directory elsewhere (the default for root is {ROOT_DATA_DIR}), "
            "run as a normal user, or set DATABASE_URL"))


def _make_private_dirs(path: Path) -> None:
    """Create ``path`` and its missing parents with mode 0700 (as root: owned by the server's user)."""
    missing = [directory for directory in [path, *path.parents] if not directory.exists()]
    owner = _server_user() if _as_root() else None
    if owner:
        _require_reachable(missing[-1] if missing else path)
    try:
        for directory in reversed(missing):
            directory.mkdir(mode=PRIVATE)
            if owner:
                os.chown(directory, *owner)
        if not os.access(path, os.W_OK | os.X_OK):
            raise PermissionError(13, "Permission denied")
    except OSError as exc:
        raise ConfigError(DATA_DIR_FIELD, f"cannot use {path}: {exc.strerror or exc}") from None


def _pgserver() -> Any:
    # platformdirs (used by pgserver) warns when XDG_RUNTIME_DIR is unset, as in containers and
    # CI: harmless here, and noise on the user's terminal.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module="platformdirs")
        try:
            import pgserver
            import pgserver.postgres_server
            import pgserver.utils
        except ImportError:
            raise ConfigError("DATABASE_URL", "is not set and the embedded PostgreSQL is not installed: set it, "
                              "or install the 'embedded' extra (pip install 'k8s-cost-etl[embedded]')") from None
    # Never let pgserver loosen the parents: check them instead (it calls this only as root).
    pgserver.postgres_server.ensure_prefix_permissions = _require_reachable  # type: ignore[attr-defined]
    return pgserver


def _start(path: Path) -> Any:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", module="platformdirs")
        try:
            server = _pgserver().get_server(path, cleanup_mode="stop")
        except ConfigError:
            raise
        except Exception as exc:
            raise DatabaseError(f"cannot start the embedded PostgreSQL in {path}: {exc}") from exc
    for name in PGSERVER_OWN_FILES:
        if (path / name).exists():
            (path / name).chmod(0o600)
    return server


def embedded_database_url(data_dir: str | Path | None = None) -> str:
    """Start (or join) the embedded server under ``data_dir`` (None: the per-user default); return
    its SQLAlchemy URL."""
    path = resolve_data_dir(str(data_dir) if data_dir else None)
    if path not in _servers:
        fresh = not (path / "PG_VERSION").exists()
        _make_private_dirs(path)
        log.info("%s embedded PostgreSQL in %s (set DATABASE_URL to use your own server)",
                 "Creating a new" if fresh else "Using the", path)
        _servers[path] = _start(path)
    uri: str = _servers[path].get_uri()
    return uri.replace("postgresql://", "postgresql+psycopg2://", 1)


def stop_embedded(data_dir: str | Path) -> None:
    """Stop this process's use of the server under ``data_dir`` (the server stops with its last user)."""
    server = _servers.pop(resolve_data_dir(str(data_dir)), None)
    if server is not None:
        server.cleanup()
