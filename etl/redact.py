"""No secret leaves the process: the redaction of every text that goes out (log lines, stderr, the
run log's error columns) and the cap on its length.

Secrets are known by value: the places that learn one (the Thanos client: bearer token, password,
header values, URL user-info; the database connection: its password) register it here, once per
process. Patterns catch the usual shapes too (``Bearer …``/``Basic …`` credentials and the
user-info of any URL), for secrets the process never saw (a proxy echoing someone else's token).
Values shorter than MIN_SECRET_LENGTH are not masked by value: masking every "ab" would destroy
the text and still not hide a two-letter password (use a real one).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

MASK = "***"
MIN_SECRET_LENGTH = 4
# A log line, an stderr line or an error column longer than this is cut (the run log keeps 4000).
MAX_TEXT = 4000
# Text quoted from an upstream answer (Thanos' error field, partial-response warnings).
MAX_UPSTREAM_TEXT = 300

_secrets: set[str] = set()
_PATTERNS = (
    (re.compile(r"\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}"), rf"\1 {MASK}"),
    (re.compile(r"(\w+://)[^/@\s]+@"), rf"\1{MASK}@"),  # URL user-info
)


def register_secrets(values: Iterable[str | None]) -> None:
    """Remember secret values (and their URL-decoded forms) for redact()."""
    for value in values:
        for form in {value, unquote(value)} if value else ():
            if len(form) >= MIN_SECRET_LENGTH:
                _secrets.add(form)


def url_secrets(url: str | None) -> list[str]:
    """The user-info parts (user and password) of a URL."""
    if not url:
        return []
    parts = urlsplit(url)
    return [value for value in (parts.username, parts.password) if value]


def redact(text: str, limit: int = MAX_TEXT) -> str:
    """``text`` with every known secret and credential-shaped token masked, at most ``limit`` long."""
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    if len(text) > limit:
        text = f"{text[:limit]}… ({len(text) - limit} more characters cut)"
    return text


class RedactingFilter(logging.Filter):
    """A handler filter: the record's message and traceback, redacted and capped, before formatting."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage()), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True
