"""Logging that never holds what people write, nor a secret.

Two guards sit on the root handlers, so they cover every library's records too:

- `PrivateTextFilter` rewrites each record before it is formatted. Arguments that can carry a
  person's words (Telegram objects, dicts, lists, bytes, and any string in a library's record)
  become a placeholder naming their type; numbers, booleans and None stay. A record whose
  message is not a plain template is replaced by its type name. Exceptions keep their type and
  traceback, never their message: database errors quote the SQL parameters, and parsing
  errors quote the data.
- `RedactSecrets` replaces the bot token and the webhook secret wherever they appear.

Our own modules (bot, handlers, content, bench) log ids and type names; their string
arguments are kept, everything else is redacted as above.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

OUR_LOGGERS = ("bot", "handlers", "content", "bench", "__main__")
# Libraries that would log request bodies, SQL parameters or every update at DEBUG/INFO.
QUIET_LOGGERS = {
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "apscheduler": logging.WARNING,
    "sqlalchemy": logging.WARNING,
    "aiosqlite": logging.WARNING,
    "asyncpg": logging.WARNING,
    "tornado.access": logging.WARNING,
    "hpack": logging.WARNING,
}
_KEPT = (int, float, bool, type(None))


def _ours(name: str) -> bool:
    return any(name == root or name.startswith(root + ".") for root in OUR_LOGGERS)


def _placeholder(value: object) -> str:
    return f"<{type(value).__name__}>"


def _safe_arg(value: object, ours: bool) -> object:
    if isinstance(value, _KEPT):
        return value
    if ours and isinstance(value, str):
        return value
    return _placeholder(value)


def _exception_without_message(exc_info: Any) -> str:
    kind, error, tb = exc_info
    lines = traceback.format_tb(tb) if tb is not None else []
    name = getattr(kind, "__qualname__", None) or type(error).__name__
    chain = error.__cause__ or error.__context__ if error is not None else None
    cause = f" (after {type(chain).__name__})" if chain is not None else ""
    return "Traceback (most recent call last):\n" + "".join(lines) + f"{name}{cause}"


class PrivateTextFilter(logging.Filter):
    """Strips anything a person could have written from a record (see the module docstring)."""

    def filter(self, record: logging.LogRecord) -> bool:
        ours = _ours(record.name)
        if not isinstance(record.msg, str):
            record.msg, record.args = _placeholder(record.msg), None
        elif record.args:
            if isinstance(record.args, dict):
                record.args = {k: _safe_arg(v, ours) for k, v in record.args.items()}
            else:
                record.args = tuple(_safe_arg(a, ours) for a in record.args)
            try:
                record.getMessage()
            except (TypeError, ValueError):  # a %d fed a placeholder: keep the template only
                record.args = None
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = _exception_without_message(record.exc_info)
            record.exc_info = None
        return True


class RedactSecrets(logging.Formatter):
    """Never let a secret (the bot token, the webhook secret) reach the logs: PTB puts the
    token in some exception messages, and request URLs contain it."""

    def __init__(self, fmt: str, secrets: list[str]) -> None:
        super().__init__(fmt)
        self.secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        return text


def guard(handler: logging.Handler, secrets: list[str | None] | None = None) -> None:
    """Put both guards on one handler."""
    handler.setFormatter(
        RedactSecrets(
            "%(asctime)s %(levelname)s %(name)s: %(message)s", [s for s in secrets or [] if s]
        )
    )
    if not any(isinstance(f, PrivateTextFilter) for f in handler.filters):
        handler.addFilter(PrivateTextFilter())


def configure_logging(level: str, secrets: list[str | None] | None = None) -> None:
    logging.basicConfig(level=level, force=True)
    for handler in logging.getLogger().handlers:
        guard(handler, secrets)
    for name, quiet in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(quiet)
