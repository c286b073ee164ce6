"""The bot coaches in private chats only. This gate runs before any handler sees an update:
an update from a group, a supergroup or a channel (or a tap on a message the bot posted
outside a chat, where it cannot tell who is who) never reaches a feature, so no feature can
store anything from a group, post someone's plan there, or move their chat there.

What the bot does answer outside a private chat, storing nothing:
- a command in a group addressed to the bot (or to every bot), and being added to a group:
  one short note that it works in private, with a link that opens the private chat;
- a button tap: a short notice on the tap itself;
- everything else (ordinary group talk, channel posts, other bots' commands): silence.
"""

from __future__ import annotations

import logging

from telegram import Bot, ChatMember, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.error import TelegramError

from content.loader import Texts

log = logging.getLogger(__name__)

GROUPS = frozenset({ChatType.GROUP, ChatType.SUPERGROUP})
JOINED = frozenset({ChatMember.MEMBER, ChatMember.ADMINISTRATOR})


def is_private(update: Update) -> bool:
    """Whether the update comes from a person in their private chat with the bot."""
    chat = update.effective_chat
    return (
        chat is not None
        and chat.type == ChatType.PRIVATE
        and update.effective_user is not None
        and not update.effective_user.is_bot
    )


def private_link(bot: Bot) -> str:
    return f"https://t.me/{bot.username}?start=hi"


def _addressed_command(update: Update, username: str | None) -> bool:
    message = update.message
    if message is None or not message.text or not message.text.startswith("/"):
        return False
    command = message.text.split(maxsplit=1)[0]
    _, at, target = command.partition("@")
    return not at or (username is not None and target.lower() == username.lower())


def _joined(update: Update) -> bool:
    member = update.my_chat_member
    return (
        member is not None
        and member.new_chat_member.status in JOINED
        and (member.old_chat_member.status not in JOINED)
    )


async def answer_outside_private(bot: Bot, texts: Texts, update: Update) -> None:
    """Say, briefly, that the bot works in private; never raises."""
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(texts.render("private_only.tap"), show_alert=True)
            return
        chat = update.effective_chat
        if chat is None or chat.type not in GROUPS:
            return
        if not (_addressed_command(update, bot.username) or _joined(update)):
            return
        link = private_link(bot)
        button = InlineKeyboardButton(texts.render("private_only.open"), url=link)
        await bot.send_message(
            chat.id,
            texts.render("private_only.group", link=link),
            reply_markup=InlineKeyboardMarkup([[button]]),
        )
    except TelegramError as error:  # removed from the group meanwhile, no right to post…
        log.info("could not answer outside a private chat (%s)", type(error).__name__)
