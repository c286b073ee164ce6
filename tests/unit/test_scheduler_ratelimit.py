"""The two-lane rate limiter: replies first, scheduled sends with what is left, paid broadcast,
and 429s honoured."""

from __future__ import annotations

import asyncio
import time

from telegram.error import RetryAfter

from bot.ratelimit import SCHEDULED, Bucket, TwoLaneRateLimiter, scheduled_lane
from bot.settings import Settings


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_scheduled_taker_steps_aside_while_a_reply_is_waiting() -> None:
    clock = Ticks()
    bucket = Bucket(rate=30, burst=1, clock=clock)
    assert bucket.try_take(urgent=False) == 0.0  # the saved-up token
    clock.now += 1 / 30
    bucket.urgent_waiting = 1  # a reply is waiting for that token
    assert bucket.try_take(urgent=False) > 0
    assert bucket.try_take(urgent=True) == 0.0


def test_the_bucket_refills_at_its_rate_and_never_beyond_its_burst() -> None:
    clock = Ticks()
    bucket = Bucket(rate=2, burst=3, clock=clock)
    assert [bucket.try_take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.try_take() == 0.5
    clock.now += 100
    assert [bucket.try_take() == 0.0 for _ in range(4)] == [True, True, True, False]


async def test_replies_are_not_queued_behind_a_burst_of_scheduled_sends() -> None:
    limiter = TwoLaneRateLimiter(overall_per_second=20)
    done: list[str] = []

    async def call(name: str) -> dict:
        done.append(name)
        return {}

    async def scheduled(i: int) -> None:
        with scheduled_lane():
            await limiter.process_request(call, (f"s{i}",), {}, "sendMessage",
                                          {"chat_id": 1000 + i}, None)  # fmt: skip

    burst = [asyncio.create_task(scheduled(i)) for i in range(60)]
    await asyncio.sleep(0.2)
    started, before = time.monotonic(), len(done)
    await limiter.process_request(call, ("reply",), {}, "sendMessage", {"chat_id": 1}, None)
    waited = time.monotonic() - started
    assert waited < 0.2  # at 20/s a place behind the rest of the burst would be ~2 s away
    assert done.index("reply") <= before + 1 < 40
    for task in burst:
        task.cancel()


async def test_paid_broadcast_marks_scheduled_sends_and_not_replies() -> None:
    limiter = TwoLaneRateLimiter(paid_broadcast=True, scheduled_timeout=20)
    seen: list[tuple[dict, dict]] = []

    async def call(endpoint: str, data: dict, **kwargs: object) -> dict:
        seen.append((dict(data), kwargs))
        return {}

    data: dict = {"chat_id": 5, "text": "x"}
    await limiter.process_request(call, ("sendMessage", data), {"read_timeout": 5},
                                  "sendMessage", data, {"lane": SCHEDULED})  # fmt: skip
    reply: dict = {"chat_id": 6, "text": "y"}
    await limiter.process_request(call, ("sendMessage", reply), {"read_timeout": 5},
                                  "sendMessage", reply, None)  # fmt: skip
    (scheduled_data, scheduled_kwargs), (reply_data, reply_kwargs) = seen
    assert scheduled_data["allow_paid_broadcast"] is True
    assert scheduled_kwargs["read_timeout"] == 20
    assert "allow_paid_broadcast" not in reply_data and reply_kwargs["read_timeout"] == 5


async def test_paid_broadcast_runs_at_full_speed_only_while_nobody_is_being_answered() -> None:
    """The paid budget is Telegram's; the CPU is ours: while a person's update is handled,
    scheduled sends take the free lane's leftovers instead of a thousand a second."""
    limiter = TwoLaneRateLimiter(overall_per_second=10, paid_broadcast=True)

    async def call(*args: object, **kwargs: object) -> dict:
        return {}

    async def burst(count: int, within: float) -> int:
        async def one(i: int) -> None:
            with scheduled_lane():
                await limiter.process_request(call, (), {}, "sendMessage",
                                              {"chat_id": 2000 + i}, None)  # fmt: skip

        tasks = [asyncio.create_task(one(i)) for i in range(count)]
        await asyncio.sleep(within)
        for task in tasks:
            task.cancel()
        return sum(1 for task in tasks if task.done() and not task.cancelled())

    assert await burst(60, 0.3) == 60
    limiter.overall.tokens, limiter.overall.updated = 0.0, time.monotonic()  # burst spent
    with limiter.answering():
        sent = await burst(60, 0.3)
    assert 1 <= sent <= 6  # ~10 a second for 0.3 s
    assert limiter.people_being_answered == 0


async def test_without_the_setting_nothing_is_paid_for() -> None:
    limiter = TwoLaneRateLimiter.from_settings(Settings(_env_file=None))  # type: ignore[call-arg]
    data: dict = {"chat_id": 5}

    async def call(*args: object, **kwargs: object) -> dict:
        return {}

    with scheduled_lane():
        await limiter.process_request(call, (), {}, "sendMessage", data, None)
    assert "allow_paid_broadcast" not in data


async def test_a_429_is_retried_after_the_pause_telegram_asked_for() -> None:
    limiter = TwoLaneRateLimiter(max_retries=2)
    attempts: list[float] = []

    async def call() -> dict:
        attempts.append(time.monotonic())
        if len(attempts) == 1:
            raise RetryAfter(0)
        return {"ok": True}

    assert await limiter.process_request(call, (), {}, "sendMessage", {"chat_id": 1}, None) == {
        "ok": True
    }
    assert len(attempts) == 2


def test_the_lease_must_outlast_the_send_timeout() -> None:
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="SEND_LEASE_SECONDS"):
        Settings(_env_file=None, send_timeout_seconds=30, send_lease_seconds=20)  # type: ignore[call-arg]
