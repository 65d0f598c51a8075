"""Command line: ``k8s-cost-etl`` (also ``python -m etl``). The only package that prints.

``main`` parses the arguments, builds the settings once, sets up logging and hands over to the
command (etl.cli.commands, imported only once the arguments are known to be good); every expected
error becomes one line on stderr and its family's exit code (etl.cli.exits).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from etl.cli.exits import EXIT_INTERRUPTED, error_exit_code, print_error
from etl.cli.parser import build_parser
from etl.errors import EtlError
from etl.redact import RedactingFilter


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    for handler in logging.getLogger().handlers:  # no secret in any log line (etl.redact)
        handler.addFilter(RedactingFilter())
    # Their INFO lines (server start-up chatter, "Context impl") are noise at our INFO level.
    for chatty in ("pgserver", "alembic", "urllib3"):
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.getLogger().level))


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        from etl.cli.commands import COMMANDS
        from etl.config import load_settings

        settings = load_settings(args.config)
        _configure_logging(args.log_level or settings.log_level)
        return COMMANDS[args.command](settings, args)
    except EtlError as exc:
        print_error(exc)
        return error_exit_code(exc)
    except KeyboardInterrupt:
        print("k8s-cost-etl: interrupted; days already committed are kept", file=sys.stderr)
        return EXIT_INTERRUPTED
