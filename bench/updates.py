"""Per-update cost and memory: a full check-in tap against a bare python-telegram-bot echo
handler and against the tap's floor, on the same in-process transport, and memory per person
touched. `python -m bench.updates`.

- `tap_floor_ms`: the least any check-in tap can cost the bot: two bare Bot API calls (answer
  the tap, edit the message) through PTB's Bot, plus one bare UPDATE on the same kind of
  engine, without the application. Measured right after the tap itself, in the same run, so
  `tap_vs_floor` compares like with like.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import time
from datetime import timedelta

from sqlalchemy import insert, text
from telegram import Update
from telegram.ext import Application, MessageHandler, filters

from bench.common import NOW, database, rss_bytes, seed_users
from bench.scheduler import settings
from bot.app import build_application, build_services
from bot.clock import FakeClock
from bot.db import Database
from bot.db.models import Checkin
from bot.transport import FakeUser, InProcessBotApi


async def seed_checkins(db: Database, count: int, first_id: int = 1) -> None:
    """`count` set-up people, each with today's check-in sent and unanswered (ids in order)."""
    await seed_users(db, count, due_at=lambda i: None, first_id=first_id)
    async with db.transaction() as session:
        await session.execute(
            insert(Checkin),
            [{"user_id": i, "local_date": NOW.date(), "kind": "daily", "status": "sent",
              "claimed_at": NOW, "sent_at": NOW, "message_id": None}
             for i in range(first_id, first_id + count)],
        )  # fmt: skip


async def tap_floor_per_update(count: int, kind: str = "sqlite") -> float:
    """CPU for answerCallbackQuery + editMessageText through PTB's bare Bot, plus one
    `UPDATE checkins SET mood = … WHERE id = …` on the same kind of engine."""
    async with database(kind) as db:
        await seed_checkins(db, count)
        transport = InProcessBotApi(clock=FakeClock(NOW + timedelta(minutes=5)))
        app = Application.builder().token("1:bench").request(transport).build()
        await app.initialize()
        bot = app.bot
        sent = [await bot.send_message(i, "Daily check-in") for i in range(1, count + 1)]
        store = text("UPDATE checkins SET mood = :mood WHERE id = :id")
        async with db.engine.begin() as conn:  # the pool is warm, as it is for the tap
            await conn.execute(store, {"mood": 1, "id": 1})
        transport.server_cpu_seconds = 0.0
        start = time.process_time()
        for i, message in enumerate(sent, start=1):
            await bot.answer_callback_query(f"cq{i}")
            async with db.engine.begin() as conn:
                await conn.execute(store, {"mood": 4, "id": i})
            await bot.edit_message_text("Daily check-in\nMood: 4/5", i, message.message_id)
        cpu = time.process_time() - start - transport.server_cpu_seconds
        await app.shutdown()
        return cpu / count


async def echo_cpu_per_update(count: int) -> float:
    """CPU per update for the smallest real bot: reply with the same text."""
    transport = InProcessBotApi()

    async def echo(update: Update, context: object) -> None:
        assert update.message is not None
        await update.message.reply_text(update.message.text or "")

    app = Application.builder().token("1:bench").request(transport).build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    await app.initialize()
    updates = [
        Update.de_json(transport.message_update(FakeUser(id=10_000 + i), f"hello {i}"), app.bot)
        for i in range(count)
    ]
    start = time.process_time()
    for update in updates:
        await app.process_update(update)
    cpu = time.process_time() - start - transport.server_cpu_seconds
    await app.shutdown()
    return cpu / count


async def checkin_tap_cpu_per_update(count: int, kind: str = "sqlite") -> float:
    """CPU per update for a check-in tap: decode, load, write the answer, edit the message."""
    async with database(kind) as db:
        await seed_checkins(db, count)
        clock = FakeClock(NOW + timedelta(minutes=5))
        transport = InProcessBotApi(clock=clock)
        services = build_services(settings(), clock=clock, db=db)
        app = build_application(settings(), request=transport, services=services,
                                rate_limit=False)  # fmt: skip
        await app.initialize()
        updates = []
        for i in range(1, count + 1):
            person = FakeUser(id=i)
            sent = await app.bot.send_message(i, "Daily check-in", reply_markup=None)
            updates.append(Update.de_json(transport.callback_update(
                person, sent.message_id, f"checkin:mood:{i}.4"), app.bot))  # fmt: skip
        transport.server_cpu_seconds = 0.0
        start = time.process_time()
        for update in updates:
            await app.process_update(update)
        cpu = time.process_time() - start - transport.server_cpu_seconds
        await app.shutdown()
        return cpu / count


async def bytes_per_user(count: int = 10_000) -> float:
    """Process memory (resident set) growth per person after each of `count` people has talked
    to the bot (/start: a user row written and a conversation position held in memory)."""
    async with database("sqlite") as db:
        transport = InProcessBotApi()
        services = build_services(settings(), clock=FakeClock(NOW), db=db)
        app = build_application(settings(), request=transport, services=services,
                                rate_limit=False)  # fmt: skip
        await app.initialize()
        for i in range(1, 201):  # warm up every code path and cache first
            await app.process_update(
                Update.de_json(transport.message_update(FakeUser(id=i), "/start"), app.bot)
            )
        transport.calls.clear()
        transport.messages.clear()
        gc.collect()
        before = rss_bytes()
        for i in range(1_000_000, 1_000_000 + count):
            update = transport.message_update(FakeUser(id=i), "/start")
            await app.process_update(Update.de_json(update, app.bot))
            # The in-process server's own history is not the bot's memory.
            transport.calls.clear()
            transport.messages.clear()
        gc.collect()
        after = rss_bytes()
        await app.shutdown()
        return max(0, after - before) / count


async def measure(count: int = 1000) -> dict[str, float]:
    started = time.perf_counter()
    echo = await echo_cpu_per_update(count)
    figures: dict[str, float] = {"echo_cpu_ms": round(echo * 1000, 3)}
    for kind, suffix in (("sqlite", ""), ("postgres", "_postgres")):
        tap = await checkin_tap_cpu_per_update(count, kind)
        floor = await tap_floor_per_update(count, kind)
        figures[f"checkin_tap_cpu_ms{suffix}"] = round(tap * 1000, 3)
        figures[f"update_cost_ratio{suffix}"] = round(tap / echo, 2)
        figures[f"tap_floor_ms{suffix}"] = round(floor * 1000, 3)
        figures[f"tap_vs_floor{suffix}"] = round(tap / floor, 2)
    print(f"  per-update cost: {time.perf_counter() - started:.1f}s", file=sys.stderr)
    started = time.perf_counter()
    figures["bytes_per_user"] = round(await bytes_per_user())
    print(f"  memory per person: {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return figures


if __name__ == "__main__":
    print(json.dumps(asyncio.run(measure()), indent=2))
