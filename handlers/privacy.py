"""/privacy, /export and /delete: what is stored, a copy of all of it, and removing all of it
after a confirmation."""

from __future__ import annotations

import io

from telegram import InputFile, Update

from bot.context import CoachContext
from bot.services.privacy import EXPORT_FILENAME
from handlers.callbacks import decode
from handlers.replies import button, edit, keyboard, reply, settle

AREA = "privacy"


async def show_privacy(update: Update, context: CoachContext) -> None:
    await reply(update, context, context.texts.render("privacy.text"))


async def send_export(update: Update, context: CoachContext) -> None:
    """/export: everything stored about the person, as a JSON file in the chat."""
    assert update.effective_user is not None and update.effective_chat is not None
    data = await context.services.privacy.export_json(update.effective_user.id)
    if data is None:
        await reply(update, context, context.texts.render("export.nothing"))
        return
    await context.bot.send_document(
        update.effective_chat.id,
        InputFile(io.BytesIO(data), filename=EXPORT_FILENAME),
        caption=context.texts.render("export.caption"),
    )


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
