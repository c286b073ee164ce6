"""The awkward updates: edits, media and a database that blinks (stale and doubled taps: the
routing table and handlers/taps.py).
Each gets a kind reply and loses nothing. (Someone coming back after blocking the bot is
handled by the intake's greeting, which restarts their check-ins.)"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.context import CoachContext
from bot.services.retry import is_transient
from handlers.replies import begin_button, main_menu, reply

log = logging.getLogger(__name__)


# --- messages --------------------------------------------------------------------------------


async def on_edited(update: Update, context: CoachContext) -> None:
    """An edited message is not read again (it could re-answer a question already moved past):
    say so kindly. Crisis language in an edit has already been answered by the screen."""
    if update.edited_message is None:
        return
    await reply(update, context, context.texts.render("robust.edited"))


async def on_media(update: Update, context: CoachContext) -> None:
    """A sticker, photo, voice note, file or location where text or a tap is expected (an open
    check-in answers it first, see the routing table)."""
    assert update.effective_user is not None
    texts = context.texts
    profile = await context.services.intake.profile(update.effective_user.id)
    if profile is None or not profile.set_up:
        await reply(update, context, texts.render("errors.not_set_up"), begin_button(context))
        return
    await reply(update, context, texts.render("robust.media"), main_menu(context))


# --- the database ------------------------------------------------------------------------------


async def on_database_error(update: object, context: CoachContext) -> None:
    """Registered before the general error handler: when the database stayed unreachable
    through the services' retries, say plainly that the message was not saved, so the person
    sends it again instead of believing it was kept. Other errors go on to handlers.errors."""
    if not is_transient(context.error):
        return
    update_id = update.update_id if isinstance(update, Update) else None
    log.warning(
        "update %s: database unavailable (%s); asked to send again",
        update_id,
        type(context.error).__name__,
    )
    if isinstance(update, Update) and update.effective_chat is not None:
        if update.callback_query is not None:
            try:  # stop the spinner, unless the handler already did
                await update.callback_query.answer()
            except Exception as error:
                log.debug("callback already answered (%s)", type(error).__name__)
        try:
            await context.bot.send_message(
                update.effective_chat.id, context.texts.render("robust.not_saved")
            )
        except Exception as error:  # the apology itself failed: nothing more to do
            log.warning("could not send the not-saved note (%s)", type(error).__name__)
    raise ApplicationHandlerStop
