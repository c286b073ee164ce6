"""Shared helpers for the benchmarks: databases, seeding, timing. Figures, never asserts."""

from __future__ import annotations

import asyncio
import os
import random
import resource
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg
from sqlalchemy import insert

from bot.db import Database
from bot.db.models import Profile, User

POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL",
    os.environ.get("TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"),
)
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def rss_bytes() -> int:
    """Current resident memory of this process (Linux)."""
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


@asynccontextmanager
async def database(kind: str) -> AsyncIterator[Database]:
    """A fresh, migrated database of `kind` ('sqlite' or 'postgres'), removed afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            db = Database(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}")
            await db.migrate()
            try:
                yield db
            finally:
                await db.dispose()
        return
    dsn = POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://", 1)
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(dsn)
    await admin.execute(f'CREATE SCHEMA "{schema}"')
    db = Database(POSTGRES_URL, schema=schema)
    try:
        await db.migrate()
        yield db
    finally:
        await db.dispose()
        await admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await admin.close()


async def seed_users(
    db: Database, count: int, *, due_at: Callable[[int], datetime | None], first_id: int = 1
) -> None:
    """`count` set-up people; person i's next check-in is due_at(i)."""
    rng = random.Random(7)
    batch = 5000
    for start in range(first_id, first_id + count, batch):
        ids = range(start, min(start + batch, first_id + count))
        users = [
            {"id": i, "chat_id": i, "first_name": "P", "language_code": "en", "is_active": True,
             "created_at": NOW, "last_seen_at": NOW}
            for i in ids
        ]  # fmt: skip
        profiles = [
            {"user_id": i, "ex_name": None, "timezone": "UTC", "checkin_hour": rng.randrange(24),
             "intake_completed_at": NOW, "updated_at": NOW, "no_contact_days": 30,
             "no_contact_started_on": date(2026, 5, 20), "phase": "no_contact",
             "next_checkin_at": due_at(i)}
            for i in ids
        ]  # fmt: skip
        async with db.transaction() as session:
            await session.execute(insert(User), users)
            await session.execute(insert(Profile), profiles)


def spread_over_a_day(i: int) -> datetime:
    """Check-ins spread evenly over the next 24 hours, minute by minute."""
    return NOW + timedelta(minutes=i % 1440)


def run(coro: Awaitable[object]) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]
