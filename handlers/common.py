"""Small helpers shared by the adapters: sending, editing, keyboards and names."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from bot.context import CoachContext
from handlers.callbacks import encode
from handlers.longtext import split_message

Button = tuple[str, str]  # (label, callback_data)


def keyboard(rows: Sequence[Sequence[Button]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


def in_rows(buttons: Sequence[Button], per_row: int) -> list[list[Button]]:
    return [list(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row)]


def button(label: str, area: str, action: str, arg: object = "") -> Button:
    return (label, encode(area, action, arg))


async def reply(
    update: Update, context: CoachContext, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Send a message to the chat the update came from. A text over Telegram's limit (a long
    quote of what the person wrote) goes out in several parts; the buttons go on the last."""
    chat = update.effective_chat
    if chat is None:
        return
    parts = split_message(text)
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        await context.bot.send_message(chat.id, part, reply_markup=markup if last else None)


async def edit(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Edit the message a button sits on; an identical edit (a double tap) is not an error."""
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise


async def remove_buttons(query: CallbackQuery) -> None:
    """Take the buttons off the tapped message (already gone after a double tap is fine)."""
    try:
        await query.edit_message_reply_markup(None)
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise


async def set_buttons(query: CallbackQuery, markup: InlineKeyboardMarkup) -> None:
    """Replace the buttons on the tapped message in place."""
    try:
        await query.edit_message_reply_markup(markup)
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise


async def settle(query: CallbackQuery) -> None:
    """Stop the button's loading spinner. Best effort: when Telegram refuses (the tap is too
    old, or was answered already) the tap itself is still handled, and nobody is apologised to
    for a spinner."""
    try:
        await query.answer()
    except BadRequest as exc:
        logging.getLogger(__name__).info("a tap could not be answered (%s)", type(exc).__name__)


def display_name(update: Update) -> str:
    user = update.effective_user
    return (user.first_name if user and user.first_name else "there").strip() or "there"
