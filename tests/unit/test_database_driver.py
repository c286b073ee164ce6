"""The database connections: on SQLite each statement is one trip to aiosqlite's worker thread
with the stock adapter's results and errors; on PostgreSQL a connection lost while it sat in the
pool is noticed before use and replaced."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiosqlite
import asyncpg
import pytest
from sqlalchemy import exc, text

import bot.db as db_module
from bot.db import Database
from bot.inbox import Inbox
from bot.services.retry import is_transient
from tests.conftest import POSTGRES_URL, postgres_problem


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'driver.sqlite3'}")
    async with database.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)"))
    yield database
    await database.dispose()


@pytest.fixture
def trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of every function sent to an aiosqlite worker thread."""
    sent: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        sent.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    return sent


async def test_a_sqlite_statement_is_one_trip_and_a_read_needs_no_commit_or_rollback(
    sqlite_db, trips
):
    async with sqlite_db.engine.connect() as conn:  # the pool's connection, opened once
        await conn.execute(text("SELECT 1"))
    trips.clear()
    async with sqlite_db.engine.begin() as conn:
        await conn.execute(text("SELECT v FROM t"))
    assert trips == ["_run"]
    trips.clear()
    async with sqlite_db.engine.begin() as conn:
        await conn.execute(text("INSERT INTO t (v) VALUES ('a')"))
    assert trips == ["_run", "commit"]


async def test_sqlite_results_and_errors_are_the_stock_adapters(sqlite_db):
    async with sqlite_db.engine.begin() as conn:
        inserted = await conn.execute(text("INSERT INTO t (v) VALUES ('a'), ('b')"))
        assert inserted.rowcount == 2
        one = await conn.execute(text("INSERT INTO t (v) VALUES ('c')"))
        assert one.lastrowid == 3
        changed = await conn.execute(text("UPDATE t SET v = v || '!' WHERE id < 3"))
        assert changed.rowcount == 2
        rows = (await conn.execute(text("SELECT id, v FROM t ORDER BY id"))).all()
        assert [tuple(r) for r in rows] == [(1, "a!"), (2, "b!"), (3, "c")]
        returned = await conn.execute(text("UPDATE t SET v = 'd' WHERE id = 3 RETURNING v"))
        assert returned.scalar_one() == "d"
    with pytest.raises(exc.IntegrityError):
        async with sqlite_db.engine.begin() as conn:
            await conn.execute(text("INSERT INTO t (v) VALUES ('d')"))
    async with sqlite_db.engine.connect() as conn:  # the failed one was rolled back
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar_one() == 3


async def _postgres() -> Database:
    problem = await postgres_problem()
    if problem:
        pytest.skip(problem)
    return Database(POSTGRES_URL)


async def _pid(database: Database) -> int:
    async with database.engine.connect() as conn:
        return (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()


async def _kill(pid: int) -> None:
    admin = await asyncpg.connect(POSTGRES_URL.replace("postgresql+asyncpg", "postgresql"))
    try:
        await admin.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()


async def test_a_postgres_connection_killed_while_idle_in_the_pool_is_replaced_before_use(
    monkeypatch,
):
    database = await _postgres()
    monkeypatch.setattr(db_module, "ALIVE_WINDOW", 0.0)  # every pooled connection counts as idle
    try:
        first = await _pid(database)
        await _kill(first)
        assert await _pid(database) != first
    finally:
        await database.dispose()


async def test_a_postgres_connection_killed_right_after_use_fails_once_as_transient():
    database = await _postgres()
    try:
        first = await _pid(database)
        await _kill(first)
        with pytest.raises(exc.DBAPIError) as failed:  # used a moment ago: not pinged
            await _pid(database)
        assert is_transient(failed.value)  # so the services' retries run it again
        assert await _pid(database) != first
    finally:
        await database.dispose()


async def test_a_persons_turn_on_postgres_survives_a_connection_killed_right_after_use():
    database = await _postgres()
    inbox = Inbox(database)
    try:
        async with inbox.turn(7):
            pass
        await _kill(await _pid(database))  # the pool's one connection, used a moment ago
        async with inbox.turn(7):
            assert await _pid(database) > 0
    finally:
        await database.dispose()
