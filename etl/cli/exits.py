"""Exit codes, one per error family (etl.errors), and how the CLI reports an error: one line.

0 success; 1 some account failed, or ``doctor`` found a problem; 2 bad input or configuration;
3 Thanos or PostgreSQL unreachable or unusable (schema not migrated); 4 ``report`` found no cost
rows for the account in the range; 128 + the signal's number (130 SIGINT, 143 SIGTERM) when ``run``
or ``backfill`` stopped on a signal after committing the chunk in flight.
"""

from __future__ import annotations

import sys

from etl.cli.logs import escape_control
from etl.errors import ConfigError, DependencyError, EtlError, InputError
from etl.redact import redact

EXIT_OK, EXIT_ACCOUNT_FAILED, EXIT_BAD_INPUT, EXIT_DEPENDENCY, EXIT_NO_DATA = 0, 1, 2, 3, 4
EXIT_INTERRUPTED = 130


def print_error(message: object) -> None:
    """One line on stderr; ids and upstream text in it cannot break it into more (etl.cli.logs)."""
    print(f"k8s-cost-etl: error: {escape_control(redact(str(message)))}", file=sys.stderr)


def error_exit_code(exc: EtlError) -> int:
    """The exit code of an error family (etl.errors)."""
    if isinstance(exc, ConfigError | InputError):
        return EXIT_BAD_INPUT
    if isinstance(exc, DependencyError):
        return EXIT_DEPENDENCY
    return EXIT_ACCOUNT_FAILED
