from __future__ import annotations

import logging

from bot.app import RedactSecrets


def test_secrets_never_reach_the_logs_even_inside_tracebacks():
    formatter = RedactSecrets("%(message)s", ["123:SECRET", "hook-secret"])
    try:
        raise RuntimeError("The token `123:SECRET` was rejected")
    except RuntimeError as exc:
        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "GET /bot123:SECRET/getMe",
                                   None, (type(exc), exc, exc.__traceback__))  # fmt: skip
    text = formatter.format(record)
    assert "123:SECRET" not in text
    assert "GET /bot[redacted]/getMe" in text
    assert "The token `[redacted]` was rejected" in text
