"""Per-update cost and memory: a full check-in tap against a bare python-telegram-bot echo
handler on the same in-process transport, and memory per person touched.
`python -m bench.updates`."""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import time
from datetime import timedelta

from sqlalchemy import insert
from telegram import Update
from telegram.ext import Application, MessageHandler, filters

from bench.common import NOW, database, rss_bytes, seed_users
from bench.scheduler import settings
from bot.app import build_application, build_services
from bot.clock import FakeClock
from bot.db.models import Checkin
from bot.transport import FakeUser, InProcessBotApi


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
        await seed_users(db, count, due_at=lambda i: None)
        async with db.transaction() as session:
            await session.execute(
                insert(Checkin),
                [{"user_id": i, "local_date": NOW.date(), "kind": "daily", "status": "sent",
                  "claimed_at": NOW, "sent_at": NOW, "message_id": None}
                 for i in range(1, count + 1)],
            )  # fmt: skip
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
    tap = await checkin_tap_cpu_per_update(count)
    tap_pg = await checkin_tap_cpu_per_update(count, "postgres")
    print(f"  per-update cost: {time.perf_counter() - started:.1f}s", file=sys.stderr)
    started = time.perf_counter()
    per_user = await bytes_per_user()
    print(f"  memory per person: {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return {
        "echo_cpu_ms": round(echo * 1000, 3),
        "checkin_tap_cpu_ms": round(tap * 1000, 3),
        "update_cost_ratio": round(tap / echo, 2),
        "checkin_tap_cpu_ms_postgres": round(tap_pg * 1000, 3),
        "update_cost_ratio_postgres": round(tap_pg / echo, 2),
        "bytes_per_user": round(per_user),
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(measure()), indent=2))
