"""How many updates of a realistic mix one core handles. `python -m bench.mixed`.

- `mixed_updates_per_s`: the whole application on one core (one process, one event loop),
  as updates per second of the process's CPU time, working through a realistic mix: check-in
  taps 40%, free text 30% (screened and understood), commands 20%, intake answers 10%.
  Updates are handled the way the running bot handles them, a few at a time, each person's in
  order.

CPU spent inside the in-process Bot API (in production that work is Telegram's) is subtracted,
as in bench/updates.py. CPU rather than wall time, because wall time on a shared machine
measures the neighbours: every aiosqlite statement is a hop to a worker thread that waits for
the scheduler.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from telegram import Update

from bench.common import NOW, database, seed_users
from bench.scheduler import settings
from bench.updates import seed_checkins
from bot.app import CONCURRENT_UPDATES, build_application, build_services
from bot.clock import FakeClock
from bot.transport import FakeUser, InProcessBotApi

# Free text people write to the bot, of the kinds the listening covers (feelings, urges, the
# ex writing, questions, small talk), none of them a crisis. The bench's own sample.
FREE_TEXT = (
    "I miss her so much today",
    "should I text him? it's been two weeks",
    "he sent me a message this morning asking how I am",
    "had a good day at work for once",
    "I can't stop looking at their photos",
    "feeling a bit lonely this evening",
    "what if they've already moved on",
    "thanks, that helped",
    "I keep thinking it was all my fault",
    "went for a long walk with a friend",
    "do you think it's ok to call her on her birthday",
    "I'm so angry at him right now",
)
COMMANDS = ("/help", "/plan", "/today", "/settings", "/phase")
MIX = (("tap", 40), ("text", 30), ("command", 20), ("intake", 10))


def _interleave(streams: dict[str, list[list[dict[str, Any]]]], seed: int = 11) -> list[Any]:
    """One sequence of updates in the MIX proportions. Each stream is a list of people, each a
    list of updates that must stay in order; people are taken whole, in turn."""
    rng = random.Random(seed)
    queues = {kind: [u for person in people for u in person] for kind, people in streams.items()}
    kinds = [kind for kind, weight in MIX for _ in range(weight)]
    order: list[Any] = []
    while any(queues.values()):
        kind = rng.choice(kinds)
        if queues[kind]:
            order.append(queues[kind].pop(0))
    return order


async def _handle(app: Any, updates: Iterable[Update]) -> None:
    """As the running bot does: CONCURRENT_UPDATES at a time; the application itself keeps
    each person's updates in turn."""
    gate = asyncio.Semaphore(CONCURRENT_UPDATES)

    async def one(update: Update) -> None:
        async with gate:
            await app.process_update(update)

    await asyncio.gather(*(one(u) for u in updates))


async def mixed_updates_per_second(total: int = 1000, kind: str = "sqlite") -> float:
    """Updates per second of CPU (every thread of the process; the Bot API server's share
    subtracted) for the MIX: what one core can handle, however busy the machine is."""
    weights = dict(MIX)
    tappers = total * weights["tap"] // 100 // 3  # three taps answer one check-in
    talkers = max(1, total * weights["text"] // 100 // 3)  # three messages each
    commanders = max(1, total * weights["command"] // 100 // 2)  # two commands each
    newcomers = total * weights["intake"] // 100  # one intake answer each
    async with database(kind) as db:
        clock = FakeClock(NOW + timedelta(minutes=5))
        await seed_checkins(db, tappers, first_id=1)
        await seed_users(db, talkers + commanders, due_at=lambda i: None, first_id=100_001)
        transport = InProcessBotApi(clock=clock)
        services = build_services(settings(), clock=clock, db=db)
        app = build_application(settings(), request=transport, services=services,
                                rate_limit=False)  # fmt: skip
        await app.initialize()

        def update(data: dict[str, Any]) -> Update:
            return Update.de_json(data, app.bot)

        taps = []
        for i in range(1, tappers + 1):
            person = FakeUser(id=i)
            sent = await app.bot.send_message(i, "Daily check-in")
            taps.append([
                update(transport.callback_update(person, sent.message_id, f"checkin:{f}:{i}.{v}"))
                for f, v in (("contact", "none"), ("mood", "4"), ("urge", "some"))
            ])  # fmt: skip
        rng = random.Random(5)
        texts = [
            [update(transport.message_update(FakeUser(id=100_001 + i), rng.choice(FREE_TEXT)))
             for _ in range(3)]
            for i in range(talkers)
        ]  # fmt: skip
        commands = [
            [update(transport.message_update(FakeUser(id=100_001 + talkers + i), c))
             for c in rng.sample(COMMANDS, 2)]
            for i in range(commanders)
        ]  # fmt: skip
        starters = [FakeUser(id=200_001 + i) for i in range(newcomers)]
        for person in starters:  # each is at the intake's first question
            await app.process_update(update(transport.message_update(person, "/start")))
        intake = [[update(transport.message_update(p, rng.choice(("Alex", "Sam", "Jo"))))]
                  for p in starters]  # fmt: skip
        order = _interleave({"tap": taps, "text": texts, "command": commands, "intake": intake})
        calls_before = len(transport.calls)
        transport.server_cpu_seconds = 0.0
        started = time.process_time()
        await _handle(app, order)
        cpu = time.process_time() - started - transport.server_cpu_seconds
        failed = [c for c in transport.calls[calls_before:] if not c.ok]
        await app.shutdown()
        if failed:
            print(f"  mixed: {len(failed)} Bot API calls failed", file=sys.stderr)
        return len(order) / cpu


async def measure() -> dict[str, float]:
    started = time.perf_counter()
    figures = {
        "mixed_updates_per_s": round(await mixed_updates_per_second()),
        "mixed_updates_per_s_postgres": round(await mixed_updates_per_second(kind="postgres")),
    }
    print(f"  mixed updates: {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return figures


if __name__ == "__main__":
    print(json.dumps(asyncio.run(measure()), indent=2))
