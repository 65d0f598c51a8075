"""Exceptions a user can act on. The CLI maps each family to an exit code."""

from __future__ import annotations


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
