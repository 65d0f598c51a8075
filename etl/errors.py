"""Exceptions a user can act on. The CLI maps each family to an exit code."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the CLI imports this module before it knows it needs pandas (etl.model)
    from datetime import datetime

    from etl.model import HourRange


class EtlError(Exception):
    """Base class for every expected failure; its message is shown to the user as-is."""


class ConfigError(EtlError):
    """A setting is missing or invalid. ``field`` names it the way the user spells it."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        super().__init__(f"invalid configuration: {field}: {problem}")


class InputError(EtlError):
    """A command-line argument is invalid (bad date, start after end, ...)."""


class DependencyError(EtlError):
    """Thanos or PostgreSQL cannot be reached or answered in a way we cannot use."""


class ThanosError(DependencyError):
    """The query API failed, timed out, or returned a body we cannot parse."""


class PartialResponseError(ThanosError):
    """Thanos answered with warnings: the data is incomplete and must not be stored as complete."""


class DatabaseError(DependencyError):
    """PostgreSQL cannot be reached, or the schema is not migrated."""


class OptionalDependencyError(InputError):
    """A feature needs an optional extra that is not installed (e.g. ``plot`` for charts)."""


class DataError(EtlError):
    """One account's data cannot be turned into money (an absurd figure, two currencies in one sum):
    that account fails (step "cost"), the others are written. ``account`` names it."""

    def __init__(self, account: str, message: str) -> None:
        self.account = account
        super().__init__(message)


class MoneyBoundError(DataError):
    """A figure of one account-hour beyond model.MAX_HOURLY_DOLLARS (or negative): bad data, never
    stored (nor wrapped)."""

    def __init__(self, account: str, metric: str, hour: str, amount: float, bound: int) -> None:
        self.metric = metric
        self.hour = hour
        where = "negative" if amount < 0 else f"beyond the sanity bound of {bound:,} per account-hour"
        super().__init__(account, f"account {account}: {metric} is {amount:.6g} per hour in hour {hour}, {where}: "
                                  "refusing to store this account's figures (check the source of that metric)")


class CurrencyMixError(DataError):
    """Two currencies would be added into one figure of one account."""

    def __init__(self, account: str, currencies: Sequence[str], where: str) -> None:
        self.currencies = tuple(sorted(currencies))
        super().__init__(account, f"account {account}: {where} holds money in {' and '.join(self.currencies)}; "
                                  "two currencies are never added: refusing to store this account's figures "
                                  "(one account's clusters must report one currency)")


class SuspectAnswerError(DataError):
    """Thanos' answer for one account of a chunk lacks a metric that the rest of the answer, or the
    stored rows, show exists (etl.run.suspect), also when asked again: nothing of the account's chunk
    is stored (step "check"). ``findings`` says what is missing, where."""

    def __init__(self, account: str, findings: Sequence[str], asked_again: str) -> None:
        self.findings = tuple(findings)
        super().__init__(account, f"account {account}: Thanos' answer looks incomplete ({asked_again}): "
                                  f"{'; '.join(self.findings)}. Nothing of this chunk was written for the account; "
                                  "if that data is really gone from Thanos, rerun with --allow-removal to store "
                                  "the answer as it is")


class RemovalRefusedError(EtlError):
    """A write would have deleted stored hours that the new data lacks, and removal was not allowed
    (etl.store.loader): the transaction is rolled back. ``hours_by_account`` names them."""

    def __init__(self, hours_by_account: dict[str, list[datetime]]) -> None:
        from etl.model import hour_list  # pandas is loaded by whoever writes

        self.hours_by_account = hours_by_account
        named = "; ".join(f"account {account}: {len(hours)} stored hour(s) ({hour_list(hours)})"
                          for account, hours in sorted(hours_by_account.items()))
        super().__init__(f"the write would delete stored hours that the new data lacks, refused: {named}; "
                         "rerun with --allow-removal if that data is really gone from Thanos")


class ChunkError(EtlError):
    """One step of one chunk of days failed for some accounts; the others were not affected.

    ``step`` is "fetch" (Thanos, for every account of the chunk at once), "cost", "check" (its
    answer looks incomplete: SuspectAnswerError) or "write" (one account); ``accounts`` and
    ``hours`` say what is missing; ``cause`` is the original error. Kept
    as an object so the run log, the summary and the exit code can each say what they need.
    """

    def __init__(self, step: str, accounts: Sequence[str], hours: HourRange, cause: BaseException) -> None:
        self.step = step
        self.accounts = tuple(accounts)
        self.hours = hours
        self.cause = cause
        super().__init__(f"{step} of {hours} failed: {cause}")


class LockLostError(EtlError):
    """The account's lock session ended while this process worked on it: another process may have
    worked on it too, so it is not recorded as done."""

    def __init__(self, account: str) -> None:
        self.account = account
        super().__init__(f"account {account}: its account lock was lost while working (the lock's database "
                         "session ended), so another process may have worked on it too: not recorded as done; "
                         "the next run redoes it")


class DatabaseLostError(EtlError):
    """PostgreSQL failed in the middle of a run (killed, restarted, turned read-only, disk full).

    Not a DependencyError (exit 3, "unreachable before anything started"): the run had started and
    some accounts may be written, so it ends like a run whose accounts failed (exit 1). Days are
    written whole per transaction, so what was committed stays exact and the next run redoes the rest.
    """

    def __init__(self, reason: str, run_id: int | None) -> None:
        self.reason = reason
        self.run_id = run_id
        where = f"during run #{run_id}" if run_id is not None else "while opening the run"
        super().__init__(f"PostgreSQL failed {where}: {reason}; days committed before are kept whole, "
                         "the next run redoes the rest")
