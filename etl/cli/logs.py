"""Logging setup: one stderr handler, text or JSON lines, and control characters escaped.

Every value that reaches a log line may come from outside: account ids and label values from
Thanos, upstream error text, file names. A newline in one of them would start a forged log line of
its own (``acct\\n2026-10-01 ERROR ...``), an escape sequence would repaint the terminal. So the
handler's filter (``EscapeControlCharacters``) rewrites every record's message once, before either
formatter sees it: control characters become visible escapes (``\\n``, ``\\x1b``, ``\\u2028``). In
the text format a traceback (shown at DEBUG) keeps its lines, each indented, so no line of it can
pose as a record of its own; the JSON format puts one record on one line by construction.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from types import TracebackType
from typing import Literal

from etl.redact import RedactingFilter

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]

LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# C0 and C1 controls and DEL, the Unicode line and paragraph separators, and the bidirectional
# overrides and isolates (which reorder what a terminal shows).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Their INFO lines (server start-up chatter, "Context impl") are noise at our INFO level.
CHATTY_LOGGERS = ("pgserver", "alembic", "urllib3")


def _escape_one(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def escape_control(text: str) -> str:
    """``text`` with every control character shown as an escape: one line, nothing hidden."""
    return _CONTROL.sub(_escape_one, text)


class EscapeControlCharacters(logging.Filter):
    """Renders each record's message once, escaped; both formatters then print it as it is."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = escape_control(record.getMessage())
        record.args = None
        return True


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        # The traceback (already redacted by etl.redact's filter when it ran) with its continuation
        # lines indented: a record starts at column 0, nothing else does.
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        plain = record.exc_text
        if plain:
            record.exc_text = "\n".join("    " + escape_control(line) for line in plain.splitlines())
        try:
            return super().format(record)
        finally:
            record.exc_text = plain


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message[, exception]."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str, log_format: LogFormat = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter())  # no secret in any log line (etl.redact), then one line each
    handler.addFilter(EscapeControlCharacters())
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    logging.basicConfig(level=level, handlers=[handler], force=True)
    for chatty in CHATTY_LOGGERS:
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.getLogger().level))
