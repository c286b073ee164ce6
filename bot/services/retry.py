"""A database that is briefly unreachable should cost a moment, not a person's answer.

Each public service method that runs its own transaction carries `@retry_transient`: when the
database connection fails (a restart, a failover, a dropped connection, a locked SQLite file) the
whole method runs again, up to `len(DELAYS) + 1` attempts with a short wait in between (tenacity).
A method is one transaction, so an attempt that failed left nothing behind and trying again is
safe. Only the outermost call retries: a service calling another is retried as a whole. Methods
that take an open `session` carry no decorator: retrying inside a broken transaction cannot help.

When every attempt fails the error reaches the handlers' error handler, which tells the person
that nothing was saved and asks them to send it again (handlers/robustness.py).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from sqlalchemy import exc as sa_exc
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

log = logging.getLogger(__name__)

# Seconds to wait before the second and the third attempt. Tests set these to zero.
DELAYS: tuple[float, ...] = (0.2, 1.0)

T = TypeVar("T")
P = ParamSpec("P")
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


def _warn(what: str, error: BaseException | None, attempt: int) -> None:
    log.warning(
        "%s: database unavailable (%s), attempt %s; retrying",
        what,
        type(error).__name__,
        attempt,
    )


def _retrying_for(what: str) -> AsyncRetrying:
    """The attempts after the first: tenacity counts them from 1, the log from 2."""

    def wait(state: RetryCallState) -> float:
        return DELAYS[min(state.attempt_number, len(DELAYS) - 1)]

    def log_attempt(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        _warn(what, error, state.attempt_number + 1)

    return AsyncRetrying(
        retry=retry_if_exception(is_transient),
        stop=stop_after_attempt(len(DELAYS)),
        wait=wait,
        before_sleep=log_attempt,
        reraise=True,
    )


async def with_retries(call: Callable[[], Awaitable[T]], what: str = "call") -> T:
    """Run `call`, again after each transient database error, up to len(DELAYS) more times.
    Inside another retried call it runs once: the outer one retries the whole.

    The first attempt runs on its own, so the common case (it works) costs no retry machinery;
    tenacity runs the attempts after a transient failure."""
    if _retrying.get():
        return await call()
    token = _retrying.set(True)
    try:
        try:
            return await call()
        except Exception as error:
            if not is_transient(error) or not DELAYS:
                raise
            _warn(what, error, 1)
        await asyncio.sleep(DELAYS[0])
        async for attempt in _retrying_for(what):
            with attempt:
                return await call()
        raise AssertionError("unreachable")  # pragma: no cover  (reraise=True re-raises)
    finally:
        _retrying.reset(token)


def retry_transient(method: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Decorate a service method that runs one transaction of its own."""

    @functools.wraps(method)
    async def call(*args: P.args, **kwargs: P.kwargs) -> T:
        return await with_retries(lambda: method(*args, **kwargs), method.__qualname__)

    return call


__all__ = ["DELAYS", "is_transient", "retry_transient", "with_retries"]
