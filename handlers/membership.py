"""Blocked and back. Telegram tells the bot when the person blocks it (my_chat_member
"kicked") and unblocks it ("member"); a message from someone marked blocked also means they are
back (the unblock notice can be missed). Runs before every other group and never stops an
update. Only private chats reach this far (see bot.private_only)."""

from __future__ import annotations

from typing import Any

from telegram import ChatMember, Update
from telegram.ext import Application, TypeHandler

from bot.context import CoachContext
from bot.services import membership

MEMBERSHIP_GROUP = -3


async def on_update(update: Update, context: CoachContext) -> None:
    user = update.effective_user
    if user is None:
        return
    services = context.services
    changed = update.my_chat_member
    if changed is not None:
        if changed.new_chat_member.status in (ChatMember.BANNED, ChatMember.LEFT):
            await membership.blocked(services.checkins, user.id)
        elif changed.new_chat_member.status == ChatMember.MEMBER:
            await membership.back(services.db, services.checkins, user.id)
        return
    if update.message is not None:
        await membership.back(services.db, services.checkins, user.id)


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_handler(TypeHandler(Update, on_update), group=MEMBERSHIP_GROUP)
