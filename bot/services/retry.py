"""A database that is briefly unreachable should cost a moment, not a person's answer.

`retry_transient_errors(services)` makes every public coroutine method of every service retry
when the database connection fails (a restart, a failover, a dropped connection, a locked SQLite
file): up to `len(DELAYS) + 1` attempts with a short wait in between. Each service method is one
transaction, so an attempt that failed left nothing behind and trying again is safe.

Only the outermost service call retries (a service calling another is retried as a whole), and
methods that take an open `session` are left alone: retrying inside a broken transaction cannot
help. When every attempt fails the error reaches the handlers' error handler, which tells the
person that nothing was saved and asks them to send it again (handlers/robustness.py).
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import functools
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import exc as sa_exc

log = logging.getLogger(__name__)

# Seconds to wait before the second and the third attempt. Tests set these to zero.
DELAYS: tuple[float, ...] = (0.2, 1.0)

T = TypeVar("T")
_retrying = contextvars.ContextVar("retrying", default=False)


def is_transient(error: BaseException | None) -> bool:
    """A failure to reach the database that may well be gone a moment later."""
    if error is None:
        return False
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(
        error,
        (
            sa_exc.OperationalError,  # connection refused or lost, SQLite "database is locked"
            sa_exc.InterfaceError,
            sa_exc.DisconnectionError,
            sa_exc.TimeoutError,  # no free connection in the pool
            ConnectionError,
            TimeoutError,
        ),
    )


async def with_retries(call: Callable[[], Awaitable[T]], what: str = "call") -> T:
    """Run `call`, again after each transient database error, up to len(DELAYS) more times."""
    if _retrying.get():
        return await call()
    token = _retrying.set(True)
    try:
        for attempt, delay in enumerate((*DELAYS, None), start=1):
            try:
                return await call()
            except Exception as error:
                if delay is None or not is_transient(error):
                    raise
                log.warning(
                    "%s: database unavailable (%s), attempt %s; retrying",
                    what,
                    type(error).__name__,
                    attempt,
                )
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover
    finally:
        _retrying.reset(token)


def _retryable(cls: type, name: str) -> bool:
    if name.startswith("_"):
        return False
    member = inspect.getattr_static(cls, name, None)
    if not inspect.iscoroutinefunction(member):  # also rules out static/class methods
        return False
    return "session" not in inspect.signature(member).parameters


def _wrap(service: object, name: str) -> Callable[..., Awaitable[Any]]:
    cls = type(service)

    @functools.wraps(getattr(cls, name))
    async def call(*args: Any, **kwargs: Any) -> Any:
        # Looked up on every call, so a method replaced on the class (a test) is used too.
        method = getattr(cls, name)
        return await with_retries(
            lambda: method(service, *args, **kwargs), f"{cls.__name__}.{name}"
        )

    return call


def retry_transient(service: T) -> T:
    """Make the service's public coroutine methods retry transient database errors."""
    for name in dir(type(service)):
        if _retryable(type(service), name):
            setattr(service, name, _wrap(service, name))
    return service


def retry_transient_errors(services: object) -> None:
    """Apply `retry_transient` to every service (an object from bot.services) in `services`."""
    for field in dataclasses.fields(services):  # type: ignore[arg-type]
        value = getattr(services, field.name)
        if type(value).__module__.startswith("bot.services."):
            retry_transient(value)
