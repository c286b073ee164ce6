"""One reading per message: within `one_update()`, a pure reading of a text (the screen, the
understanding) computed a second time for the same arguments returns the first result. The
handlers of one update read the same message several times (the safety screen, the listening
step, a typed check-in answer); the memo lives only as long as the update, so no message text
outlives its handling in memory."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Hashable, Iterator
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")

_readings: ContextVar[dict[Hashable, object] | None] = ContextVar("readings", default=None)


@contextlib.contextmanager
def one_update() -> Iterator[None]:
    """Remember readings until the block ends (the handling of one update)."""
    token = _readings.set({})
    try:
        yield
    finally:
        _readings.reset(token)


def remembered(key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()`, or its result from earlier in the same update; outside `one_update()`
    nothing is remembered."""
    readings = _readings.get()
    if readings is None:
        return compute()
    if key in readings:
        return readings[key]  # type: ignore[return-value]
    result = readings[key] = compute()
    return result
