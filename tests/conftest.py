"""Shared fixtures. Every test that takes `db` runs twice: on SQLite and on PostgreSQL.

PostgreSQL is expected at 127.0.0.1:5432 (database `test`, trust auth), or wherever
TEST_POSTGRES_URL points. Locally an unreachable server skips those runs with a reason; in CI
(CI=true) it fails them, so a missing database can never pass as green.

Each test gets an already migrated database that nothing else touches while it runs. On
SQLite the migrations run once per session into a template file, and each test starts from a
copy of it (a millisecond instead of a third of a second). On PostgreSQL each test process
migrates one schema of its own once, and every table in it is emptied after each test (the
rows deleted and the id sequences restarted in one round trip, a few milliseconds, where
migrating a fresh schema took a third of a second). A test
that needs a database with no schema at all on both takes `empty_db`.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest

from bot.clock import FakeClock
from bot.db import Database
from bot.db.models import Base
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


@pytest.fixture(autouse=True)
def _one_at_a_time_when_marked_alone(request: pytest.FixtureRequest) -> Iterator[None]:
    """With the suite on several workers, a test marked `alone` (a proof bounded in time)
    runs while no other test of the run does: it waits for the running ones to finish, and
    the others wait for it. Two locks: a gate taken briefly before every test, held by the
    `alone` test until it has the run lock to itself, so a stream of ordinary tests can never
    keep it waiting."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if not run:
        yield
        return
    alone = request.node.get_closest_marker("alone") is not None
    base = Path(tempfile.gettempdir()) / f"breakup-coach-tests-{run}"
    with open(f"{base}.gate", "a") as gate, open(f"{base}.lock", "a") as lock:
        fcntl.flock(gate, fcntl.LOCK_EX)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX if alone else fcntl.LOCK_SH)
        finally:
            fcntl.flock(gate, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


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


async def _migrated(url: str, *, schema: str | None = None) -> None:
    database = Database(url, schema=schema)
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
    """A database of `kind` for one test. Given the SQLite `template`, it is migrated: a copy of
    the template, or this process's migrated PostgreSQL schema (emptied afterwards). Without
    it, it is empty: a new SQLite file, or a new PostgreSQL schema dropped afterwards."""
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
    if template is not None:
        schema = await _migrated_schema()
        database = Database(POSTGRES_URL, schema=schema)
        try:
            yield database
        finally:
            await database.dispose()
            await _empty_tables(schema)
        return
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


_schema: str | None = None


async def _migrated_schema() -> str:
    """This test process's migrated PostgreSQL schema, made on first use."""
    global _schema
    if _schema is None:
        schema = f"test_{uuid.uuid4().hex[:16]}"
        admin = await asyncpg.connect(_dsn())
        try:
            await admin.execute(f'CREATE SCHEMA "{schema}"')
        finally:
            await admin.close()
        await _migrated(f"{POSTGRES_URL}", schema=schema)
        _schema = schema
    return _schema


async def _empty_tables(schema: str) -> None:
    """Every table of `schema` emptied and its ids restarted; the migrations stay applied.
    Deleting the few rows a test leaves, children first, is quicker than TRUNCATE here."""
    global _emptying
    if _emptying is None:
        admin = await asyncpg.connect(_dsn())
        try:
            sequences = await admin.fetch(
                "SELECT sequencename FROM pg_sequences WHERE schemaname = $1", schema
            )
        finally:
            await admin.close()
        deletes = [
            f'DELETE FROM "{schema}"."{t.name}"' for t in reversed(Base.metadata.sorted_tables)
        ]
        restarts = [f'ALTER SEQUENCE "{schema}"."{r["sequencename"]}" RESTART' for r in sequences]
        _emptying = "; ".join(["BEGIN", *deletes, *restarts, "COMMIT"])
    admin = await asyncpg.connect(_dsn())
    try:
        await admin.execute(_emptying)
    finally:
        await admin.close()


_emptying: str | None = None


@pytest.fixture(scope="session", autouse=True)
def _drop_the_migrated_schema() -> Iterator[None]:
    yield
    if _schema is not None:
        asyncio.run(_drop_schema(_schema))


async def _drop_schema(schema: str) -> None:
    admin = await asyncpg.connect(_dsn())
    try:
        await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await admin.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def db(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> AsyncIterator[Database]:
    """A migrated database of each kind: on SQLite a copy of the session's migrated template,
    on PostgreSQL this test process's migrated schema, emptied after the test."""
    async with _database(request.param, tmp_path / "coach.sqlite3", sqlite_template) as database:
        yield database


@pytest.fixture(params=["sqlite", "postgres"])
async def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A database of each kind with no schema at all (for tests of the migrations)."""
    async with _database(request.param, tmp_path / "coach.sqlite3", None) as database:
        yield database


@pytest.fixture
async def migrated_db(db: Database) -> Database:
    """The same as `db` (already migrated); kept for tests that say they need the schema."""
    return db
