"""Command line: ``k8s-cost-etl`` (also ``python -m etl``). The only package that prints.

``main`` parses the arguments, builds the settings once, sets up logging and hands over to the
command (etl.cli.commands, imported only once the arguments are known to be good, so ``--help``
and a mistyped flag answer without loading pandas, SQLAlchemy or the HTTP stack); every expected
error becomes one line on stderr and its family's exit code (etl.cli.exits), with the full chain
of causes logged at DEBUG.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from etl.cli.exits import EXIT_INTERRUPTED, error_exit_code, print_error
from etl.cli.logs import configure_logging
from etl.cli.memory import limit_allocator_caches
from etl.cli.parser import parse_args
from etl.errors import EtlError

log = logging.getLogger("etl")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    limit_allocator_caches()  # before pandas loads (etl.config imports it)
    try:
        from etl.config import load_settings

        settings = load_settings(args.config)
        configure_logging(args.log_level or settings.log_level, args.log_format or settings.log_format)
        from etl.cli.commands import COMMANDS

        return COMMANDS[args.command](settings, args)
    except EtlError as exc:
        log.debug("The error in full:", exc_info=exc)
        print_error(exc)
        return error_exit_code(exc)
    except KeyboardInterrupt:
        print("k8s-cost-etl: interrupted; days already committed are kept", file=sys.stderr)
        return EXIT_INTERRUPTED
