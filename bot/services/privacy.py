"""A person's right to have everything about them removed."""

from __future__ import annotations

import json

from sqlalchemy import delete

from bot.db import Database
from bot.db.models import ConversationState, User


class PrivacyService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def delete_everything(self, user_id: int) -> None:
        """Remove every row about the person: their user row (profile rows cascade) and their
        conversation positions. Committed in one transaction."""
        private_key = json.dumps([user_id, user_id], separators=(",", ":"))
        async with self.db.transaction() as session:
            await session.execute(
                delete(ConversationState).where(ConversationState.key == private_key)
            )
            await session.execute(delete(User).where(User.id == user_id))
