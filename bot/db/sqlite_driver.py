"""SQLAlchemy's aiosqlite adapter, with each statement run in one trip to the worker thread.

aiosqlite runs every call on its connection's own thread, and SQLAlchemy's adapter makes four
such calls per statement (open a cursor, execute, fetch the rows, close the cursor). Each trip
hands the GIL to the worker and back, and on a busy machine those hand-offs cost more CPU than
SQLite's own work on a small statement. Here the four steps run together in one function on the
worker thread, with the same results (description, rows, rowcount, lastrowid) and the same error
handling as the adapter's own cursor. Commit and rollback make their trip only when a transaction
is open (sqlite3 does nothing otherwise; a read opens none). Server-side cursors and executemany
are the adapter's own.

It reaches the worker thread through aiosqlite's `_execute` and `_conn`, as SQLAlchemy's
adapter itself does (`_conn`, `_tx`): aiosqlite offers no public way to run a function there.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from typing import Any

from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)

_Result = tuple[Any, list[Any] | None, int | None, int]


def _run(connection: sqlite3.Connection, operation: str, parameters: Any) -> _Result:
    """On the worker thread: one statement, start to finish."""
    cursor = connection.cursor()
    try:
        if parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        if cursor.description:
            return cursor.description, cursor.fetchall(), -1, -1
        return None, None, cursor.lastrowid, cursor.rowcount
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        try:
            connection = self._connection
            description, rows, lastrowid, rowcount = self.await_(
                connection._execute(_run, connection._conn, operation, parameters)
            )
            self.description = description
            if rows is not None:
                self._rows = deque(rows)
            self.lastrowid, self.rowcount = lastrowid, rowcount
        except Exception as error:
            self._adapt_connection._handle_exception(error)


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()

    def _in_transaction(self) -> bool:
        # Read on this thread while the worker is idle: every call on the connection is awaited
        # before the next is made. Reading it is what sqlite3's own commit and rollback do first.
        return bool(self._connection._conn.in_transaction)

    def commit(self) -> None:
        """sqlite3 commits only when a transaction is open; so does this, without the trip."""
        if self._in_transaction():
            super().commit()

    def rollback(self) -> None:
        """The same for rollback: the pool's rollback when a connection comes back after a
        commit, and the end of a read, cost nothing."""
        if self._in_transaction():
            super().rollback()

    def cursor(self, server_side: bool = False) -> AsyncAdapt_aiosqlite_cursor:
        if server_side:
            return super().cursor(server_side)
        return OneTripCursor(self)


class OneTripDbapi(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module to hand to create_async_engine(module=...) for sqlite+aiosqlite."""

    def connect(self, *args: Any, **kwargs: Any) -> Any:
        connection = super().connect(*args, **kwargs)
        if type(connection) is AsyncAdapt_aiosqlite_connection:
            connection.__class__ = OneTripConnection  # the same slots: only cursor() differs
        return connection


def one_trip_dbapi() -> OneTripDbapi:
    import aiosqlite

    return OneTripDbapi(aiosqlite, sqlite3)
