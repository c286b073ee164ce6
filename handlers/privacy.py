"""/privacy and /delete: what is stored, and removing all of it after a confirmation."""

from __future__ import annotations

from telegram import Update

from bot.context import CoachContext
from handlers.callbacks import decode
from handlers.common import button, edit, keyboard, reply, settle

AREA = "privacy"


async def show_privacy(update: Update, context: CoachContext) -> None:
    await reply(update, context, context.texts.render("privacy.text"))


async def ask_to_delete(update: Update, context: CoachContext) -> None:
    texts = context.texts
    choices = keyboard(
        [
            [button(texts.render("delete.yes"), AREA, "delete", "yes")],
            [button(texts.render("delete.no"), AREA, "delete", "no")],
        ]
    )
    await reply(update, context, texts.render("delete.confirm"), choices)


async def confirm_delete(update: Update, context: CoachContext) -> None:
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    await settle(query)
    choice = decode(query.data)
    if choice is None or choice.arg != "yes":
        await edit(query, context.texts.render("delete.kept"))
        return
    await context.services.privacy.delete_everything(update.effective_user.id)
    await edit(query, context.texts.render("delete.done"))
