"""etl.redact: known secret values and credential-shaped text are masked; long text is cut."""

from __future__ import annotations

import logging

from etl.redact import MASK, RedactingFilter, redact, register_secrets, url_secrets


def test_known_values_their_url_decoded_forms_and_credential_shapes_are_masked() -> None:
    register_secrets(["s3cr3t/token+x", None, "ab", *url_secrets("https://etl:p%40ss-word@thanos:9090")])
    text = ("echo: Authorization: Bearer abcdefgh12345678 token=s3cr3t/token+x "
            "url=http://someone:else@host/x pass=p@ss-word short=ab")
    assert redact(text) == (f"echo: Authorization: Bearer {MASK} token={MASK} url=http://{MASK}@host/x "
                            f"pass={MASK} short=ab")  # two letters are not masked by value


def test_long_text_is_cut_and_says_how_much() -> None:
    assert redact("x" * 20, limit=5) == "xxxxx… (15 more characters cut)"


def test_the_log_filter_redacts_message_arguments_and_tracebacks() -> None:
    register_secrets(["filter-secret-1"])
    try:
        raise ValueError("boom filter-secret-1")
    except ValueError:
        record = logging.LogRecord("etl", logging.ERROR, __file__, 1, "got %s", ("filter-secret-1",),
                                   exc_info=__import__("sys").exc_info())
    assert RedactingFilter().filter(record)
    formatted = logging.Formatter().format(record)
    assert "filter-secret-1" not in formatted and f"got {MASK}" in formatted and f"boom {MASK}" in formatted
