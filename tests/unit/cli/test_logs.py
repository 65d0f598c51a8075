"""Log lines cannot be forged or broken by what they quote: ids, label values, upstream text."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from etl.cli.exits import print_error
from etl.cli.logs import configure_logging, escape_control

FORGED_ID = "acct-1\n2026-10-01 00:00:00,000 ERROR etl: forged\r\x1b[2J\u2028\u202e"


class Stderr:
    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def getvalue(self) -> str:
        return self.capsys.readouterr().err


@pytest.fixture
def stderr(capsys: pytest.CaptureFixture[str]) -> Iterator[Stderr]:
    yield Stderr(capsys)
    logging.basicConfig(force=True, handlers=[logging.NullHandler()])


def test_escape_control_makes_one_visible_line() -> None:
    assert escape_control(FORGED_ID) == (
        "acct-1\\n2026-10-01 00:00:00,000 ERROR etl: forged\\r\\x1b[2J\\u2028\\u202e")
    assert escape_control("acct-ü €") == "acct-ü €"  # printable text is untouched


def test_text_log_line_of_a_forged_id_stays_one_line(stderr: Stderr) -> None:
    configure_logging("INFO", "text")
    logging.getLogger("etl.test").warning("Skipping account %s: %s", FORGED_ID, "locked")
    [line] = stderr.getvalue().splitlines()
    assert "acct-1\\n2026-10-01" in line and "\x1b" not in line


def test_text_traceback_lines_are_indented_so_none_poses_as_a_record(stderr: Stderr) -> None:
    configure_logging("DEBUG", "text")
    try:
        raise ValueError(FORGED_ID)
    except ValueError:
        logging.getLogger("etl.test").debug("failed", exc_info=True)
    output = stderr.getvalue()
    first, *rest = output.splitlines()
    assert first.endswith("DEBUG etl.test: failed")
    assert rest and all(line.startswith("    ") for line in rest)
    assert "\x1b" not in output


def test_json_log_is_one_object_per_line_with_the_message_escaped(stderr: Stderr) -> None:
    configure_logging("INFO", "json")
    logging.getLogger("etl.test").warning("Using Phase 2 exporter metrics for %s", FORGED_ID)
    [line] = stderr.getvalue().splitlines()
    entry = json.loads(line)
    assert entry["level"] == "WARNING" and entry["logger"] == "etl.test"
    assert entry["message"].startswith("Using Phase 2 exporter metrics for acct-1\\n2026")
    assert "\x1b" not in entry["message"] and entry["time"].endswith("+00:00")


def test_the_error_line_escapes_too(stderr: Stderr) -> None:
    print_error(f"account {FORGED_ID} failed")
    assert len(stderr.getvalue().splitlines()) == 1
