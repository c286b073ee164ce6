"""A person's rights over their data: a copy of everything stored about them, and removal.

"Everything" is found from the schema itself, so a table added later is covered without
touching this file: the `users` row (which also holds what the bot expects them to answer next)
and every row of every table with a `user_id` column. A table that fits neither fails the privacy
tests until it is looked at.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock, SystemClock
from bot.db import Database
from bot.db.models import Base, User
from bot.services.retry import retry_transient

# Updates waiting in the inbox (or remembered there for a day, emptied, as ids already seen),
# and the ledgers of the update being handled (bot/once.py, ids only): exported and deleted
# like everything else, but on their own they are not "something stored".
TRANSIENT_TABLES = frozenset({"inbox", "reply_ledger", "update_writes"})
EXPORT_FILENAME = "breakup-coach-export.json"
EXPORT_FORMAT = 1


def ownership(table: Table, user_id: int) -> ColumnElement[bool] | None:
    """The condition selecting the person's rows in `table`; None for a table that holds no
    personal rows (there is none today; see the module docstring)."""
    if table is User.__table__:
        return table.c.id == user_id
    if "user_id" in table.c:
        return table.c.user_id == user_id
    return None


def personal_tables() -> Iterator[Table]:
    """Every table with rows about people, parents first (users before what refers to it)."""
    for table in Base.metadata.sorted_tables:
        if ownership(table, 0) is not None:
            yield table


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


class PrivacyService:
    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self.db = db
        self.clock = clock or SystemClock()

    @retry_transient
    async def export(self, user_id: int) -> dict[str, Any] | None:
        """Everything stored about the person, table by table; None if nothing is stored."""
        async with self.db.sessions() as session:
            tables = {
                table.name: await self._rows(session, table, user_id) for table in personal_tables()
            }
        if not any(rows for name, rows in tables.items() if name not in TRANSIENT_TABLES):
            return None
        return {
            "about": "Everything Breakup Coach stores about you.",
            "format": EXPORT_FORMAT,
            "exported_at": self.clock.now().isoformat(),
            "user_id": user_id,
            "tables": tables,
        }

    @retry_transient
    async def export_json(self, user_id: int) -> bytes | None:
        data = await self.export(user_id)
        if data is None:
            return None
        return json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8")

    @staticmethod
    async def _rows(session: AsyncSession, table: Table, user_id: int) -> list[dict[str, Any]]:
        condition = ownership(table, user_id)
        assert condition is not None
        order = list(table.primary_key.columns)
        result = await session.execute(select(table).where(condition).order_by(*order))
        return [{k: _plain(v) for k, v in row._mapping.items()} for row in result]

    @retry_transient
    async def delete_everything(self, user_id: int) -> None:
        """Remove every row about the person from every table, children first (so nothing
        depends on the foreign keys' cascade), in one transaction. Pending work (claimed
        check-ins, held drafts waiting for their follow-up) lives in those rows and goes too."""
        async with self.db.transaction() as session:
            for table in reversed(list(personal_tables())):
                condition = ownership(table, user_id)
                assert condition is not None
                await session.execute(delete(table).where(condition))
