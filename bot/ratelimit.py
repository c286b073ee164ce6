"""Telegram's rate budget, in two lanes: people talking to the bot first, scheduled sends after.

Telegram allows a bot about 30 messages a second in all and about one a second in each chat;
above that it answers 429 with a `retry_after`. PTB hands every Bot API call to a rate limiter
(`BaseRateLimiter.process_request`); this one shares the overall budget between two lanes:

- **interactive** (the default): replies, edits and answers to someone who just wrote or tapped.
  It takes a token from the overall bucket as soon as one is free.
- **scheduled**: check-ins and follow-ups sent by the tick. It takes a token only while no
  interactive call is waiting, so a burst of 2,000 due check-ins never stands between a person
  and their reply. With `ALLOW_PAID_BROADCAST` the scheduled lane sends with
  `allow_paid_broadcast=True` (Telegram charges Stars per message) and has its own budget of
  up to 1,000 a second, outside the free 30. That budget is used only while nobody's update is
  being handled: the budget is Telegram's, but the CPU is this process's, and a thousand sends
  a second would leave a person's reply waiting for its turn on the event loop. While someone
  is being answered, scheduled sends fall back to the free lane's leftovers.

A call is in the scheduled lane when the scheduler marks it (`scheduled_lane()`, a context
variable that follows the tick's tasks) or when it passes `rate_limit_args={"lane":
"scheduled"}`. Scheduled sends also keep to about one message a second per chat; interactive
replies are paced by the person they answer (one reply per message or tap). A 429 pauses every
lane for its `retry_after`, then the call is tried again, up to `max_retries` times.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import time
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

from cachetools import TTLCache
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

INTERACTIVE, SCHEDULED = "interactive", "scheduled"
OVERALL_PER_SECOND = 30.0  # Telegram's free broadcast limit for one bot
PER_CHAT_PER_SECOND = 1.0  # Telegram's guidance for one chat
PER_CHAT_BURST = 3.0  # the bot's own default: a few at once is fine, the rate is what counts
PAID_PER_SECOND = 1000.0  # with allow_paid_broadcast
# Calls that carry no message and are not counted against the message limits.
UNCOUNTED = frozenset({"answerCallbackQuery", "getMe", "setMyCommands", "deleteWebhook",
                       "setWebhook", "getWebhookInfo", "getFile", "close", "logOut"})  # fmt: skip

_lane: contextvars.ContextVar[str] = contextvars.ContextVar("rate_lane", default=INTERACTIVE)


@contextlib.contextmanager
def scheduled_lane() -> Iterator[None]:
    """Calls made inside this block (and the tasks it starts) use the scheduled lane."""
    token = _lane.set(SCHEDULED)
    try:
        yield
    finally:
        _lane.reset(token)


def lane_of(rate_limit_args: Any) -> str:
    if isinstance(rate_limit_args, dict) and rate_limit_args.get("lane") == SCHEDULED:
        return SCHEDULED
    return _lane.get()


class Bucket:
    """A token bucket (`rate` tokens a second, at most `burst` saved up) whose low-priority
    takers step aside while a high-priority taker is waiting. `clock` is monotonic seconds."""

    def __init__(
        self, rate: float, burst: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = max(1.0, burst)
        self.clock = clock
        self.tokens = self.burst
        self.updated = clock()
        self.urgent_waiting = 0

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def try_take(self, urgent: bool = True) -> float:
        """Take a token now (0.0), or say how long to wait before asking again."""
        self._refill()
        if not urgent and self.urgent_waiting:
            return 1.0 / self.rate
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate

    async def take(self, urgent: bool = True) -> None:
        if urgent:
            self.urgent_waiting += 1
        try:
            while (wait := self.try_take(urgent)) > 0:  # noqa: ASYNC110 - waits for time
                await asyncio.sleep(wait)
        finally:
            if urgent:
                self.urgent_waiting -= 1


class TwoLaneRateLimiter(BaseRateLimiter[dict[str, Any]]):
    """Interactive replies first, scheduled sends with what is left; see the module doc."""

    def __init__(
        self,
        *,
        overall_per_second: float = OVERALL_PER_SECOND,
        per_chat_per_second: float = PER_CHAT_PER_SECOND,
        paid_broadcast: bool = False,
        paid_per_second: float = PAID_PER_SECOND,
        scheduled_timeout: float | None = None,
        max_retries: int = 3,
    ) -> None:
        self.overall = Bucket(overall_per_second, burst=overall_per_second)
        self.paid = Bucket(paid_per_second, burst=paid_per_second) if paid_broadcast else None
        self.per_chat_per_second = per_chat_per_second
        self.scheduled_timeout = scheduled_timeout
        self.max_retries = max_retries
        # One small bucket per chat, forgotten a minute after its last use.
        self._chats: TTLCache[int | str, Bucket] = TTLCache(maxsize=100_000, ttl=60)
        self._resume_at = 0.0  # after a 429, every lane waits until then
        self.people_being_answered = 0  # updates from people being handled right now

    @contextlib.contextmanager
    def answering(self) -> Iterator[None]:
        """Held while a person's update is handled (see the paid lane in the module doc)."""
        self.people_being_answered += 1
        try:
            yield
        finally:
            self.people_being_answered -= 1

    @classmethod
    def from_settings(cls, settings: Any) -> TwoLaneRateLimiter:
        return cls(
            paid_broadcast=settings.allow_paid_broadcast,
            scheduled_timeout=settings.send_timeout_seconds,
        )

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    def _chat_bucket(self, chat_id: int | str) -> Bucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            # A short burst is fine (a check-in and a follow-up due in the same minute).
            bucket = self._chats[chat_id] = Bucket(self.per_chat_per_second, burst=PER_CHAT_BURST)
        return bucket

    async def _paused(self) -> None:
        while (wait := self._resume_at - time.monotonic()) > 0:  # noqa: ASYNC110 - time
            await asyncio.sleep(wait)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        lane = lane_of(rate_limit_args)
        counted = endpoint not in UNCOUNTED
        chat_id = data.get("chat_id")
        if lane == SCHEDULED:
            if self.paid is not None and endpoint.startswith("send"):
                data["allow_paid_broadcast"] = True
            if self.scheduled_timeout is not None:
                # A slow API that still delivers must not look like a failure: the tick's
                # lease is longer than this, so the send is not tried again while in flight.
                kwargs = {**kwargs, "read_timeout": self.scheduled_timeout,
                          "write_timeout": self.scheduled_timeout}  # fmt: skip
        for attempt in range(self.max_retries + 1):
            await self._paused()
            if counted:
                if chat_id is not None and lane == SCHEDULED:
                    await self._chat_bucket(chat_id).take()
                if (
                    lane == SCHEDULED
                    and data.get("allow_paid_broadcast")
                    and not self.people_being_answered
                ):
                    assert self.paid is not None
                    await self.paid.take()
                else:
                    await self.overall.take(urgent=lane == INTERACTIVE)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if attempt == self.max_retries:
                    raise
                wait = exc._retry_after.total_seconds() + 0.1
                log.info("Telegram asked to slow down: every lane waits %.1f s", wait)
                self._resume_at = max(self._resume_at, time.monotonic() + wait)
        raise AssertionError("unreachable")  # pragma: no cover
