"""python-telegram-bot persistence on our own tables: one row per conversation key.

Only ConversationHandler states live here. Everything else about a person (their answers, their
progress) is stored in our own models the moment it happens, so user_data, chat_data, bot_data
and callback_data are deliberately not persisted (see `store_data` below): the database models,
not a pickled dict, are the source of truth. The methods for them follow PTB's documented
pattern for disabled stores.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete, select
from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import ConversationDict, ConversationKey

from bot.clock import Clock
from bot.db import Database
from bot.db.models import ConversationState
from bot.db.queries import upsert


def encode_key(key: ConversationKey) -> str:
    return json.dumps(list(key), separators=(",", ":"))


def decode_key(raw: str) -> ConversationKey:
    return tuple(json.loads(raw))


class DatabasePersistence(BasePersistence[dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    def __init__(self, db: Database, clock: Clock, update_interval: float = 60) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=False, callback_data=False
            ),
            update_interval=update_interval,
        )
        self.db = db
        self.clock = clock

    # --- conversations: the part we persist ------------------------------------------------

    async def get_conversations(self, name: str) -> ConversationDict:
        async with self.db.sessions() as session:
            rows = await session.execute(
                select(ConversationState.key, ConversationState.state).where(
                    ConversationState.name == name
                )
            )
            return {decode_key(key): json.loads(state) for key, state in rows}

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        async with self.db.transaction() as session:
            if new_state is None:
                await session.execute(
                    delete(ConversationState).where(
                        ConversationState.name == name,
                        ConversationState.key == encode_key(key),
                    )
                )
                return
            await upsert(
                session,
                ConversationState,
                {
                    "name": name,
                    "key": encode_key(key),
                    "state": json.dumps(new_state),
                    "updated_at": self.clock.now(),
                },
                keys=("name", "key"),
            )

    async def flush(self) -> None:
        """Every write above is committed immediately; nothing is buffered."""

    # --- stores switched off by `store_data` (PTB never calls these) -----------------------

    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def get_bot_data(self) -> dict[Any, Any]:
        return {}

    async def get_callback_data(self) -> None:
        return None

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        return None

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        return None

    async def update_bot_data(self, data: dict[Any, Any]) -> None:
        return None

    async def update_callback_data(self, data: Any) -> None:
        return None

    async def drop_user_data(self, user_id: int) -> None:
        return None

    async def drop_chat_data(self, chat_id: int) -> None:
        return None

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        return None

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        return None

    async def refresh_bot_data(self, bot_data: dict[Any, Any]) -> None:
        return None
