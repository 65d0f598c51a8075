"""A PostgreSQL server the test owns: started from pgserver's binaries as a process group of its
own, so a test can kill it with SIGKILL (postmaster and backends at once, as a node loss would),
start it again on the same data, or turn it read-only, without touching the session's server."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

from sqlalchemy import create_engine, text

from etl.store.db import migrate

DATABASE = "etl"


def _bin(name: str) -> str:
    from pgserver._commands import POSTGRES_BIN_PATH  # type: ignore[import-untyped]

    return str(POSTGRES_BIN_PATH / name)


def _system_user() -> str | None:
    """PostgreSQL refuses to run as root: then it runs as pgserver's own system user."""
    if os.geteuid() != 0:
        return None
    from pgserver._commands import POSTGRES_BIN_PATH
    from pgserver.utils import ensure_user_exists  # type: ignore[import-untyped]

    ensure_user_exists("pgserver")
    # Traverse-only (o+x) on the directories above the programs: nothing becomes listable or readable.
    for directory in [POSTGRES_BIN_PATH.parent, *POSTGRES_BIN_PATH.parent.parents]:
        mode = directory.stat().st_mode
        if not mode & stat.S_IXOTH:
            directory.chmod(mode | stat.S_IXOTH)
    return "pgserver"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class OwnedPostgres:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="owned-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.user = _system_user()
        self.process: subprocess.Popen[bytes] | None = None
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        subprocess.run([_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "utf8"],
                       check=True, capture_output=True, user=self.user)

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def start(self) -> OwnedPostgres:
        self.process = subprocess.Popen(
            [_bin("postgres"), "-D", str(self.data), "-p", str(self.port), "-c", "listen_addresses=127.0.0.1",
             "-c", f"unix_socket_directories={self.root}", "-c", "fsync=off"],
            user=self.user, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while subprocess.run([_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                             capture_output=True).returncode != 0:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("the owned PostgreSQL did not start")
            time.sleep(0.1)
        return self

    def create_database(self) -> str:
        """An empty, migrated database ``etl``; returns its URL."""
        admin = create_engine(self.url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
            connection.execute(text(f"CREATE DATABASE {DATABASE}"))
        admin.dispose()
        engine = create_engine(self.url)
        migrate(engine)
        engine.dispose()
        return self.url

    def kill(self) -> None:
        """SIGKILL to the postmaster and every backend at once."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None

    def set_read_only(self, read_only: bool) -> None:
        """Every new transaction, in new and existing sessions, read-only (as after a fail-over to
        a standby, or a full disk's emergency setting)."""
        admin = create_engine(self.url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f"ALTER SYSTEM SET default_transaction_read_only = {'on' if read_only else 'off'}"))
            connection.execute(text("SELECT pg_reload_conf()"))
        admin.dispose()
        time.sleep(0.5)  # the backends apply the reloaded setting at their next command

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process = None

    def __enter__(self) -> OwnedPostgres:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
