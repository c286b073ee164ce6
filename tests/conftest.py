"""Shared fixtures. Every test that takes `db` runs twice: on SQLite and on PostgreSQL.

PostgreSQL is expected at 127.0.0.1:5432 (database `test`, trust auth), or wherever
TEST_POSTGRES_URL points. Locally an unreachable server skips those runs with a reason; in CI
(CI=true) it fails them, so a missing database can never pass as green.

Each test gets a database of its own. On SQLite it is already migrated: the migrations run
once per session into a template file, and each test starts from a copy of it (a millisecond
instead of a third of a second). On PostgreSQL it is an empty schema, migrated by the app or by
`migrated_db` (copying a template database per test costs more there, in disk writes). A test
that needs a database with no schema at all on both takes `empty_db`.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
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


async def _migrated(url: str) -> None:
    database = Database(url)
    try:
        await database.migrate()
    finally:
        await database.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with every migration applied, made once per session."""
    path = tmp_path_factory.mktemp("template") / "coach.sqlite3"
    asyncio.run(_migrated(f"sqlite+aiosqlite:///{path}"))
    return path


async def _postgres_or_skip() -> None:
    problem = await postgres_problem()
    if problem:
        if IN_CI:
            pytest.fail(f"{problem} (CI requires the PostgreSQL tier)")
        pytest.skip(problem)


@asynccontextmanager
async def _database(kind: str, sqlite_file: Path, template: Path | None) -> AsyncIterator[Database]:
    """A database of `kind` of its own: a SQLite file (a copy of `template` when given), or an
    empty PostgreSQL schema dropped afterwards."""
    if kind == "sqlite":
        if template is not None:
            shutil.copyfile(template, sqlite_file)
        database = Database(f"sqlite+aiosqlite:///{sqlite_file}")
        try:
            yield database
        finally:
            await database.dispose()
        return
    await _postgres_or_skip()
    schema = f"test_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(_dsn())
    try:
        await admin.execute(f'CREATE SCHEMA "{schema}"')
        database = Database(POSTGRES_URL, schema=schema)
        try:
            yield database
        finally:
            await database.dispose()
    finally:
        await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await admin.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def db(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> AsyncIterator[Database]:
    """A database of each kind: on SQLite a copy of the session's migrated template, on
    PostgreSQL an empty schema of its own (the app or `migrated_db` migrates it)."""
    async with _database(request.param, tmp_path / "coach.sqlite3", sqlite_template) as database:
        yield database


@pytest.fixture(params=["sqlite", "postgres"])
async def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A database of each kind with no schema at all (for tests of the migrations)."""
    async with _database(request.param, tmp_path / "coach.sqlite3", None) as database:
        yield database


@pytest.fixture
async def migrated_db(db: Database) -> Database:
    await db.migrate()
    return db
