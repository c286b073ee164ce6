"""The awkward updates: edits, media, stale and doubled taps, and a database that blinks.
Each gets a kind reply and loses nothing. (Someone coming back after blocking the bot is
handled by the intake's greeting, which restarts their check-ins.)"""

from __future__ import annotations

import logging
from collections import OrderedDict
from datetime import timedelta

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.context import CoachContext
from bot.services.retry import is_transient
from content.loader import Markup
from handlers.common import reply

log = logging.getLogger(__name__)

# Two taps on the same button of the same message this close together are one double tap.
DOUBLE_TAP_WINDOW = timedelta(seconds=10)
_TAPS = "recent_taps"
_KEPT_TAPS = 10
_KEPT_PEOPLE = 5000


# --- taps ------------------------------------------------------------------------------------


def _recent_taps(context: CoachContext) -> OrderedDict[int, list[tuple[int, int, str, object]]]:
    """Recent taps by person, in process memory only and bounded: the least recently seen
    people are forgotten first, so memory does not grow with the number of people."""
    taps = context.bot_data.get(_TAPS)
    if taps is None:
        taps = context.bot_data[_TAPS] = OrderedDict()
    return taps


async def remember_tap(update: Update, context: CoachContext) -> None:
    """Note every tap so a stale-button reply can tell a double tap from a button on an old
    message. Never stops the update."""
    query = update.callback_query
    if query is None or query.message is None or update.effective_user is None:
        return
    now = context.services.clock.now()
    recent = _recent_taps(context)
    user_id = update.effective_user.id
    taps = [t for t in recent.pop(user_id, []) if now - t[3] <= DOUBLE_TAP_WINDOW]
    taps.append((update.update_id, query.message.message_id, query.data or "", now))
    recent[user_id] = taps[-_KEPT_TAPS:]
    while len(recent) > _KEPT_PEOPLE:
        recent.popitem(last=False)


def is_double_tap(update: Update, context: CoachContext) -> bool:
    """Whether this tap repeats one on the same button moments ago (already handled)."""
    query = update.callback_query
    if query is None or query.message is None or update.effective_user is None:
        return False
    now = context.services.clock.now()
    return any(
        update_id != update.update_id
        and message_id == query.message.message_id
        and data == query.data
        and now - at <= DOUBLE_TAP_WINDOW
        for update_id, message_id, data, at in _recent_taps(context).get(
            update.effective_user.id, []
        )
    )


# --- messages --------------------------------------------------------------------------------


async def on_edited(update: Update, context: CoachContext) -> None:
    """An edited message is not read again (it could re-answer a question already moved past):
    say so kindly. Crisis language in an edit has already been answered by the screen."""
    if update.edited_message is None:
        return
    await reply(update, context, context.texts.render("robust.edited"))


async def on_media(update: Update, context: CoachContext) -> None:
    """A sticker, photo, voice note, file or location where text or a tap is expected."""
    from handlers import checkin, menu

    assert update.effective_user is not None
    texts, checkins, user_id = context.texts, context.services.checkins, update.effective_user.id
    checkin_id = await checkins.open_checkin(user_id)
    if checkin_id is not None:
        text, markup = checkin.render(texts, await checkins.view(user_id, checkin_id))
        hint = Markup(text.split("\n")[-1])
        await reply(update, context, texts.render("robust.media_checkin", hint=hint), markup)
        return
    profile = await context.services.intake.profile(user_id)
    if profile is None or not profile.set_up:
        await reply(update, context, texts.render("errors.not_set_up"), menu.begin_button(context))
        return
    await reply(update, context, texts.render("robust.media"), menu.main_menu(context))


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
