"""Check-in scheduling at scale: selecting due people among 100,000, CPU per check-in sent,
start-up time with 0 vs 100,000 people, and peak memory. `python bench/scheduler.py`."""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from datetime import timedelta

from sqlalchemy import text

from bench.common import NOW, database, peak_rss_bytes, seed_users, spread_over_a_day
from bot.app import build_application, build_services
from bot.clock import FakeClock
from bot.db import Database
from bot.services.checkin import CheckinService
from bot.settings import Settings
from bot.transport import InProcessBotApi

USERS = 100_000


def settings() -> Settings:
    return Settings(_env_file=None, bot_token=None, default_timezone="UTC")  # type: ignore[call-arg]


async def due_select_ms(db: Database, kind: str) -> float:
    """Median time of the tick's due-query (one minute's due people among 100,000)."""
    if kind == "postgres":
        async with db.engine.begin() as conn:
            await conn.execute(text("ANALYZE"))
    service = CheckinService(db, FakeClock(NOW), "UTC")
    query = service.due_query(NOW + timedelta(minutes=1), limit=500)
    times = []
    for _ in range(9):
        async with db.sessions() as session, session.begin():
            start = time.perf_counter()
            (await session.execute(query)).all()
            times.append((time.perf_counter() - start) * 1000)
            await session.rollback()
    return round(statistics.median(times), 3)


async def checkin_send_cpu_ms(count: int = 2000, kind: str = "sqlite") -> float:
    """Bot-side CPU per scheduled check-in: claim, render, send (in-process), record. CPU of
    this process only (with PostgreSQL the server's own work is in another process)."""
    async with database(kind) as db:
        await seed_users(db, count, due_at=lambda i: NOW)
        clock = FakeClock(NOW)
        transport = InProcessBotApi(clock=clock)
        services = build_services(settings(), clock=clock, db=db)
        app = build_application(settings(), request=transport, services=services,
                                rate_limit=False)  # fmt: skip
        await app.initialize()
        scheduler = app.bot_data["scheduler"]
        start = time.process_time()
        report = await scheduler.tick(app.bot)
        # Subtract the in-process Bot API's own work: in production that is Telegram's CPU.
        cpu = time.process_time() - start - transport.server_cpu_seconds
        await app.shutdown()
        assert report.sent == count, report
        return round(cpu * 1000 / count, 3)


async def startup_seconds(db: Database) -> float:
    """One start: from building the Application to ready (migrations checked, conversations
    loaded, commands registered, the tick scheduled)."""
    transport = InProcessBotApi()
    start = time.perf_counter()
    app = build_application(settings(), request=transport,
                            services=build_services(settings(), db=db))  # fmt: skip
    await app.initialize()
    await app.start()
    elapsed = time.perf_counter() - start
    await app.stop()
    await app.shutdown()
    return elapsed


async def startup_pair(full: Database, empty: Database, runs: int = 7) -> tuple[float, float]:
    """Start-up with no people and with 100,000, interleaved so both see the same machine;
    the fastest of `runs` each, after a warm-up start."""
    await startup_seconds(empty)
    empties, fulls = [], []
    for _ in range(runs):
        empties.append(await startup_seconds(empty))
        fulls.append(await startup_seconds(full))
    return min(empties), min(fulls)


def _stage(name: str, started: float) -> None:
    print(f"  {name}: {time.perf_counter() - started:.1f}s", file=sys.stderr)


async def measure() -> dict[str, float]:
    figures: dict[str, float] = {}
    started = time.perf_counter()
    async with database("sqlite") as db, database("sqlite") as empty_db:
        await seed_users(db, USERS, due_at=spread_over_a_day)
        empty, full = await startup_pair(db, empty_db)
        figures["due_select_ms_sqlite"] = await due_select_ms(db, "sqlite")
    _stage("sqlite: start-up 0 vs 100k, due-query", started)
    started = time.perf_counter()
    async with database("postgres") as db:
        await seed_users(db, USERS, due_at=spread_over_a_day)
        figures["due_select_ms_postgres"] = await due_select_ms(db, "postgres")
    _stage("postgres: due-query", started)
    started = time.perf_counter()
    figures["checkin_send_cpu_ms"] = await checkin_send_cpu_ms(kind="sqlite")
    figures["checkin_send_cpu_ms_postgres"] = await checkin_send_cpu_ms(kind="postgres")
    _stage("check-ins sent", started)
    figures["startup_s_0"] = round(empty, 3)
    figures["startup_s_100k"] = round(full, 3)
    figures["startup_ratio_100k"] = round(full / empty, 3)
    figures["peak_rss_mb"] = round(peak_rss_bytes() / 2**20, 1)
    return figures


if __name__ == "__main__":
    print(json.dumps(asyncio.run(measure()), indent=2))
