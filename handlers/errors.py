"""The error handler: log what failed (never what the person wrote), and apologise kindly."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden

from bot.context import CoachContext

log = logging.getLogger("bot.errors")


async def on_error(update: object, context: CoachContext) -> None:
    error = context.error
    user_id = (
        update.effective_user.id if isinstance(update, Update) and update.effective_user else None
    )
    if isinstance(error, Forbidden):
        log.info("user %s has blocked the bot", user_id)
        return
    log.error(
        "update %s for user %s failed: %s",
        update.update_id if isinstance(update, Update) else None,
        user_id,
        type(error).__name__,
        exc_info=(type(error), error, error.__traceback__) if error else None,
    )
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await context.bot.send_message(
                update.effective_chat.id, context.texts.render("errors.generic")
            )
        except Exception:  # the apology itself failed (network, blocked): nothing more to do
            log.warning("could not tell user %s about the error", user_id)
