"""Shared fixtures. Every test that takes `db` runs twice: on SQLite and on PostgreSQL.

PostgreSQL is expected at 127.0.0.1:5432 (database `test`, trust auth), or wherever
TEST_POSTGRES_URL points. Locally an unreachable server skips those runs with a reason; in CI
(CI=true) it fails them, so a missing database can never pass as green.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from bot.clock import FakeClock
from bot.db import Database
from bot.settings import Settings

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
_postgres_problem: str | bool | None = False  # False: not checked yet


def _dsn() -> str:
    return POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _probe() -> str | None:
    try:
        conn = await asyncpg.connect(_dsn(), timeout=5)
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        return f"PostgreSQL at {_dsn()} is unreachable: {exc}"
    await conn.close()
    return None


async def postgres_problem() -> str | None:
    global _postgres_problem
    if _postgres_problem is False:
        _postgres_problem = await _probe()
    return _postgres_problem  # type: ignore[return-value]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=None,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'unused.sqlite3'}",
        default_timezone="UTC",
    )


@pytest.fixture(params=["sqlite", "postgres"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """An empty database (not yet migrated) of each kind."""
    if request.param == "sqlite":
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'coach.sqlite3'}")
        yield database
        await database.dispose()
        return
    problem = await postgres_problem()
    if problem:
        if IN_CI:
            pytest.fail(f"{problem} (CI requires the PostgreSQL tier)")
        pytest.skip(problem)
    schema = f"test_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(_dsn())
    try:
        await admin.execute(f'CREATE SCHEMA "{schema}"')
        database = Database(POSTGRES_URL, schema=schema)
        yield database
        await database.dispose()
    finally:
        await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await admin.close()


@pytest.fixture
async def migrated_db(db: Database) -> Database:
    await db.migrate()
    return db
