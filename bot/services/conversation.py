"""What the bot expects a person to answer next: the one record of it, in the database.

A key names the feature and the wait, "<feature>.<what>" ("urge.draft", "journal.entry",
"settings.hard_date", "intake.edit", ...); the text route in handlers/__init__.py sends the
person's next message to the feature named before the first dot. A little JSON travels with the
key (`data`). Where the person is in the intake is not stored twice: a person whose profile has an
`intake_step` and who awaits nothing else is answering that question ("intake.ask").

Any process can serve the next message: nothing here lives in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update

from bot.clock import Clock
from bot.db import Database
from bot.db import queries as q
from bot.db.models import User
from bot.services.retry import retry_transient

INTAKE_ASK = "intake.ask"


@dataclass(frozen=True, slots=True)
class Expected:
    key: str
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def feature(self) -> str:
        return self.key.partition(".")[0]


class ConversationService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    @retry_transient
    async def expect(self, user_id: int, key: str, data: dict[str, Any] | None = None) -> None:
        """From now on the person's next message answers `key` (replacing any other wait)."""
        async with self.db.transaction() as session:
            await session.execute(
                update(User)
                .where(User.id == user_id)
                .values(awaiting=key, awaiting_data=data, awaiting_since=self.clock.now())
            )

    @retry_transient
    async def expected(self, user_id: int) -> Expected | None:
        """What the person's next message answers, or None when nothing is awaited."""
        row = await q.person(self.db, user_id)
        if row is None:
            return None
        awaiting, data, intake_step = row.awaiting, row.awaiting_data, row.intake_step
        if awaiting:
            return Expected(awaiting, dict(data or {}))
        if intake_step:
            return Expected(INTAKE_ASK, {"step": intake_step})
        return None

    @retry_transient
    async def clear(self, user_id: int, key: str | None = None) -> None:
        """Nothing is awaited any more; with `key`, only if that is still what is awaited (an
        answer to an older wait never wipes a newer one). A key ending in ".*" matches every
        wait of that feature ("advice.*")."""
        condition = User.id == user_id
        if key is not None and key.endswith(".*"):
            condition = condition & User.awaiting.startswith(key[:-1], autoescape=True)
        elif key is not None:
            condition = condition & (User.awaiting == key)
        async with self.db.transaction() as session:
            await session.execute(
                update(User)
                .where(condition)
                .values(awaiting=None, awaiting_data=None, awaiting_since=None)
            )
