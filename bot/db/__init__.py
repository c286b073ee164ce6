"""Engine, sessions and migrations for SQLite (default) and PostgreSQL (production)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Protocol

from alembic import command
from alembic.config import Config
from sqlalchemy import event, exc, text
from sqlalchemy.engine import Connection, Row
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.sql.expression import Executable
from sqlalchemy.util import await_only

from bot.db.sqlite_driver import one_trip_dbapi

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# The advisory lock that replicas starting together take in turn while migrating (PostgreSQL).
MIGRATION_LOCK = 0x1C7_0000_0000_0001
# A PostgreSQL connection handed back to the pool this recently (seconds) is taken as alive
# without a ping. Under load nearly every checkout is that recent, and the ping would be a round
# trip more per transaction; a connection lost in that instant fails its statement instead,
# which the services' retries run again on a new one. The bot's own default (HikariCP makes the
# same trade with a 500 ms window).
ALIVE_WINDOW = 0.5


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _ping_in_one_trip(dbapi_connection: Any) -> bool:
    """A check of a PostgreSQL connection, in one round trip. SQLAlchemy's asyncpg adapter pings
    inside BEGIN … ROLLBACK (for pgbouncer's transaction mode, which this bot does not use):
    three round trips. Any failure counts as a lost connection."""
    try:
        await_only(dbapi_connection.driver_connection.fetchrow(";"))
    except Exception:
        return False
    return True


def _used_now(_dbapi_connection: Any, record: Any) -> None:
    """On connect and on return to the pool: when the connection last worked."""
    if record is not None:
        record.info["used_at"] = time.monotonic()


def _ping_unless_recent(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """At checkout: ping a connection that has been idle longer than ALIVE_WINDOW. A failed ping
    drops the pool's connections and the checkout tries a new one, as SQLAlchemy's pre-ping
    does."""
    used_at = record.info.get("used_at")
    if used_at is not None and time.monotonic() - used_at < ALIVE_WINDOW:
        return
    if not _ping_in_one_trip(dbapi_connection):
        raise exc.InvalidatePoolError()


class WriteLog(Protocol):
    async def commit(self, session: AsyncSession) -> bool:
        """Called as a transaction is about to commit; False to roll it back instead."""
        ...


# Set while an update is being handled (bot/once.py): it numbers the update's transactions, so
# one already committed before a crash is not committed again when the update is handled again.
handling_writes: ContextVar[WriteLog | None] = ContextVar("handling_writes", default=None)
# Whether this task already holds the SQLite writer's turn (a transaction inside another).
_writing: ContextVar[bool] = ContextVar("writing", default=False)
# Reads remembered while one update is handled (`Database.first_once`), by statement and
# parameters; None outside `remembering()`. Any write statement forgets them all.
_remembered: ContextVar[dict[tuple[int, tuple[Any, ...]], Any] | None] = ContextVar(
    "remembered_reads", default=None
)


@contextmanager
def remembering() -> Iterator[None]:
    """Let `first_once` remember its reads until the block ends (the handling of one update)."""
    token = _remembered.set({})
    try:
        yield
    finally:
        _remembered.reset(token)


def _forget_on_write(
    _conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool
) -> None:
    """Before any statement but a plain read: what was remembered may be about to change."""
    remembered = _remembered.get()
    if remembered and statement.lstrip()[:6].upper() != "SELECT":
        remembered.clear()


class Database:
    """One engine and its session factory; `schema` isolates PostgreSQL test runs."""

    def __init__(self, url: str, *, schema: str | None = None) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        connect_args: dict[str, Any] = {}
        if not self.is_sqlite and schema:
            connect_args["server_settings"] = {"search_path": schema}
        options: dict[str, Any] = {}
        if url.startswith("sqlite+aiosqlite"):  # one trip to the worker thread per statement
            options["module"] = one_trip_dbapi()
        # A local SQLite file has no connection to lose: no ping before each use.
        asyncpg = url.startswith("postgresql+asyncpg")
        self.engine = create_async_engine(
            url,
            connect_args=connect_args,
            pool_pre_ping=not self.is_sqlite and not asyncpg,
            **options,
        )
        event.listen(self.engine.sync_engine, "before_cursor_execute", _forget_on_write)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        elif asyncpg:
            for name in ("connect", "checkin"):
                event.listen(self.engine.sync_engine, name, _used_now)
            event.listen(self.engine.sync_engine, "checkout", _ping_unless_recent)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # SQLite lets one writer in at a time and makes the others sleep and retry; taking turns
        # here instead keeps a burst of scheduled writes from delaying a reply by those sleeps.
        self._writer = asyncio.Lock() if self.is_sqlite else None

    @asynccontextmanager
    async def write_turn(self) -> AsyncIterator[None]:
        """This process's turn to write (SQLite only; PostgreSQL locks rows, not the file)."""
        if self._writer is None or _writing.get():
            yield
            return
        async with self._writer:
            token = _writing.set(True)
            try:
                yield
            finally:
                _writing.reset(token)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose work is committed on success and rolled back on error."""
        writes = handling_writes.get()
        async with self.write_turn(), self.sessions() as session, session.begin():
            yield session
            if writes is not None and not await writes.commit(session):
                await session.rollback()

    async def rows(
        self, statement: Executable, params: Mapping[str, Any] | None = None
    ) -> list[Row[Any]]:
        """The rows of a read, on a plain connection: for hot reads of a few columns, where an
        ORM session and a statement built anew each time cost more than the query itself.
        `statement` is best built once (module level, with bind parameters)."""
        async with self.engine.connect() as conn:
            if not self.is_sqlite:  # one read needs no BEGIN and ROLLBACK around it
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            return list((await conn.execute(statement, dict(params or {}))).all())

    async def first(
        self, statement: Executable, params: Mapping[str, Any] | None = None
    ) -> Row[Any] | None:
        """The first row of a read (see `rows`), or None."""
        found = await self.rows(statement, params)
        return found[0] if found else None

    async def first_once(self, statement: Executable, params: Mapping[str, Any]) -> Row[Any] | None:
        """`first`, remembered inside `remembering()` until anything is written through this
        process's engines, so the features one update passes through share one read of the
        same row. `statement` must be built once (module level): it is remembered by identity."""
        remembered = _remembered.get()
        if remembered is None:
            return await self.first(statement, params)
        key = (id(statement), tuple(sorted(params.items())))
        if key in remembered:
            return remembered[key]  # type: ignore[no-any-return]
        row = await self.first(statement, params)
        remembered[key] = row
        return row

    async def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (safe to run at every start)."""
        async with self.engine.begin() as conn:
            if not self.is_sqlite:  # replicas starting together: the second finds it done
                await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                   {"key": MIGRATION_LOCK})  # fmt: skip
            await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), "head"))

    async def dispose(self) -> None:
        await self.engine.dispose()
