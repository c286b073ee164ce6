"""Shared fixtures. Every test that takes `db` runs twice: on SQLite and on PostgreSQL.

PostgreSQL is expected at 127.0.0.1:5432 (database `test`, trust auth), or wherever
TEST_POSTGRES_URL points. Locally an unreachable server skips those runs with a reason; in CI
(CI=true) it fails them, so a missing database can never pass as green.

Each test gets a database of its own that is already migrated: the migrations run once per
session into a template (a SQLite file, a PostgreSQL database), and each test starts from a
copy of it, which costs a few milliseconds instead of running every migration again. A test
that needs a database with no schema at all takes `empty_db`.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
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


def _database_url(name: str) -> str:
    """POSTGRES_URL with its database name replaced."""
    base, _, _ = POSTGRES_URL.rpartition("/")
    return f"{base}/{name}"


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


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str | None]:
    """The name of a PostgreSQL database with every migration applied, made once per session
    (None when the server is unreachable; the `db` fixture then skips or fails)."""
    if asyncio.run(postgres_problem()):
        yield None
        return
    name = f"coach_template_{uuid.uuid4().hex[:12]}"

    async def admin(statement: str) -> None:
        conn = await asyncpg.connect(_dsn())
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        asyncio.run(_migrated(_database_url(name)))
        yield name
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _postgres_or_skip() -> None:
    problem = await postgres_problem()
    if problem:
        if IN_CI:
            pytest.fail(f"{problem} (CI requires the PostgreSQL tier)")
        pytest.skip(problem)


@pytest.fixture(params=["sqlite", "postgres"])
async def db(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_template: Path,
    postgres_template: str | None,
) -> AsyncIterator[Database]:
    """A migrated database of each kind, a copy of the session's template."""
    if request.param == "sqlite":
        path = tmp_path / "coach.sqlite3"
        shutil.copyfile(sqlite_template, path)
        database = Database(f"sqlite+aiosqlite:///{path}")
        yield database
        await database.dispose()
        return
    await _postgres_or_skip()
    name = f"test_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(_dsn())
    try:
        await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{postgres_template}"')
        database = Database(_database_url(name))
        yield database
        await database.dispose()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A database of each kind with no schema at all (for tests of the migrations)."""
    if request.param == "sqlite":
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'coach.sqlite3'}")
        yield database
        await database.dispose()
        return
    await _postgres_or_skip()
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
