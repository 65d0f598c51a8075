"""Resumable backfills: which (account, chunk) of a backfill is already done.

A backfill is identified by its day range. Its first run is the *origin*; a later run of the same
range joins that origin as long as none of its runs finished ``ok`` (an interrupted, killed or
partly failed backfill), and then skips the chunks already recorded as done. Once a run of it
finished ``ok``, the same command starts a fresh backfill that recomputes everything.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date

from sqlalchemy import Engine, text

from etl.store.runlog import host_id

log = logging.getLogger(__name__)

# pg_advisory_xact_lock key serialising "find or create the backfill origin" ("k8sbf" in ASCII).
BACKFILL_START_LOCK_KEY = 0x6B_3873_6266


def start_backfill_run(engine: Engine, first_day: date, last_day: date, restart: bool,
                       run_id: int | None = None, shard: str | None = None) -> tuple[int, int]:
    """Open the etl_runs row of a backfill (with ``run_id`` when reserved); returns (run id, origin
    run id). Backfills of one range that split the accounts (``backfill --shard 1/4``, the command
    recorded) each resume their own."""
    command = f"backfill --shard {shard}" if shard else "backfill"
    with engine.begin() as connection:
        # Two backfills of one range started at once must agree on one origin to share progress.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": BACKFILL_START_LOCK_KEY})
        origin = None if restart else connection.execute(
            text(
                "SELECT o.id FROM etl_runs o WHERE o.kind = 'backfill' AND o.id = o.backfill_origin_id "
                "AND o.first_day = :first AND o.last_day = :last AND o.command = :command AND NOT EXISTS ("
                "  SELECT 1 FROM etl_runs r WHERE r.backfill_origin_id = o.id AND r.status = 'ok') "
                "ORDER BY o.id DESC LIMIT 1"
            ),
            {"first": first_day, "last": last_day, "command": command},
        ).scalar_one_or_none()
        run_id = int(connection.execute(
            text("INSERT INTO etl_runs (id, kind, command, host, first_day, last_day, backfill_origin_id) "
                 "VALUES (COALESCE(:id, nextval(pg_get_serial_sequence('etl_runs', 'id'))), 'backfill', "
                 ":command, :host, :first, :last, :origin) RETURNING id"),
            {"id": run_id, "command": command, "host": host_id(), "first": first_day, "last": last_day,
             "origin": origin},
        ).scalar_one())
        if origin is None:
            origin = run_id
            connection.execute(text("UPDATE etl_runs SET backfill_origin_id = id WHERE id = :id"), {"id": run_id})
        else:
            log.info("Resuming backfill #%d of %s..%s: chunks it finished are skipped", origin, first_day, last_day)
    return run_id, int(origin)


class BackfillProgress:
    """The pipeline's chunk tracker for one backfill run (see Pipeline.run_range)."""

    def __init__(self, engine: Engine, origin_id: int, run_id: int) -> None:
        self.engine = engine
        self.origin_id = origin_id
        self.run_id = run_id
        self.skipped_chunks = 0

    def pending(self, first: date, last: date, accounts: Sequence[str]) -> list[str]:
        """The accounts for which no run of this backfill finished a chunk covering first..last."""
        with self.engine.connect() as connection:
            done = set(connection.execute(
                text("SELECT cloud_account_id FROM etl_backfill_chunks WHERE backfill_origin_id = :origin "
                     "AND cloud_account_id = ANY(:accounts) AND chunk_first <= :first AND chunk_last >= :last"),
                {"origin": self.origin_id, "accounts": list(accounts), "first": first, "last": last},
            ).scalars())
        if done:
            self.skipped_chunks += len(done)
            log.info("Skipping %s..%s for %d account(s) finished by an earlier run of this backfill",
                     first, last, len(done))
        return [name for name in accounts if name not in done]

    def finished_accounts(self, accounts: Sequence[str], chunks: Sequence[tuple[date, date]]) -> set[str]:
        """The accounts for which every one of ``chunks`` is done (nothing left to resume)."""
        if not accounts or not chunks:
            return set()
        with self.engine.connect() as connection:
            return set(connection.execute(
                text("SELECT account FROM unnest(CAST(:accounts AS text[])) AS account WHERE NOT EXISTS ("
                     "  SELECT 1 FROM unnest(CAST(:firsts AS date[]), CAST(:lasts AS date[])) AS c(first, last) "
                     "  WHERE NOT EXISTS (SELECT 1 FROM etl_backfill_chunks d WHERE d.backfill_origin_id = :origin "
                     "    AND d.cloud_account_id = account AND d.chunk_first <= c.first AND d.chunk_last >= c.last))"),
                {"accounts": list(accounts), "firsts": [c[0] for c in chunks], "lasts": [c[1] for c in chunks],
                 "origin": self.origin_id},
            ).scalars())

    def completed(self, first: date, last: date, accounts: Sequence[str]) -> None:
        if not accounts:
            return
        with self.engine.begin() as connection:
            connection.execute(
                text("INSERT INTO etl_backfill_chunks (backfill_origin_id, cloud_account_id, chunk_first, "
                     "chunk_last, run_id) SELECT :origin, account, :first, :last, :run_id "
                     "FROM unnest(CAST(:accounts AS text[])) AS account ON CONFLICT DO NOTHING"),
                {"origin": self.origin_id, "first": first, "last": last, "run_id": self.run_id,
                 "accounts": list(accounts)},
            )
