"""Splitting a backfill's accounts over N processes with no overlap (``backfill --shard I/N``).

An account belongs to shard ``int(sha256(account id)) mod N``: the same in every process and on
every machine (Python's own ``hash`` is salted per process), whatever order or subset of accounts
each process discovers. So the N pods of a Kubernetes Indexed Job, each given its completion index,
split the fleet between them, and no account is computed twice.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from etl.errors import InputError

log = logging.getLogger(__name__)

_SHARD = re.compile(r"^(\d+)/(\d+)$")


@dataclass(frozen=True)
class Shard:
    index: int
    count: int

    def holds(self, account: str) -> bool:
        digest = hashlib.sha256(account.encode("utf-8")).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index

    def select(self, accounts: Sequence[str]) -> list[str]:
        """The accounts of this shard, in their order (logged: how many of how many)."""
        mine = [account for account in accounts if self.holds(account)]
        log.info("Shard %s: %d of the %d account(s)", self, len(mine), len(accounts))
        return mine

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(raw: str, flag: str = "--shard") -> Shard:
    match = _SHARD.match(raw.strip())
    if not match:
        raise InputError(f"{flag} {raw!r}: expected I/N, e.g. 0/4 (this process's index I of N, 0 <= I < N)")
    index, count = int(match.group(1)), int(match.group(2))
    if count < 1 or index >= count:
        raise InputError(f"{flag} {raw!r}: the index must be at least 0 and below the number of shards")
    return Shard(index, count)
