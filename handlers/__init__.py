"""Telegram adapters, and the one routing table.

`register(app)` wires every update through here. Groups run in order, lowest first:

- TAPS_GROUP (-2): tap memory, which never stops an update.
- SAFETY_GROUP (-1): the crisis screen, on every text and caption (new or edited, typed answers
  included); a crisis or abuse message is answered there and goes no further.
- 0: edits, then COMMANDS, then CALLBACKS by area (handlers/callbacks.py's codec), then the text
  route for every other message:
  1. what the person is expected to answer (bot/services/conversation.py): the awaited key's
     feature, before the first dot, in ANSWERS;
  2. typed check-in commands ("pause for a week"), then a gentle word while a safety hold is
     open, then media, then a typed answer to today's check-in;
  3. the understood intent, through INTENTS;
  4. the unknown-message reply (also for an unknown /command).

Features never import each other: when one feature's step leads into another's, it hands back a
`Then` (handlers/replies.py) or raises `StaleButton`, and this module does the rest.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Bot, BotCommand, Update
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.context import CoachContext, Services
from bot.scheduler import Scheduler
from bot.services.checkin import CheckinView, Claimed
from bot.services.conversation import Expected
from bot.services.listening import intent_of
from bot.services.urge import FollowUp
from content.loader import Texts
from content.understand import understand
from handlers import (
    advice,
    checkin,
    journal,
    listening,
    membership,
    menu,
    onboarding,
    paths,
    privacy,
    program,
    progress,
    robustness,
    safety,
    safety_plan,
    settings,
    sources,
    taps,
    urge,
)
from handlers.callbacks import decode
from handlers.errors import on_error
from handlers.replies import COMMANDS, StaleButton, Then, remove_buttons, settle

TAPS_GROUP = -2
SAFETY_GROUP = -1

Handler = Callable[[Update, CoachContext], Awaitable[Any]]


async def _settled(update: Update, context: CoachContext, then: Handler) -> Any:
    """For a button that shows something: stop the spinner first."""
    assert update.callback_query is not None
    await settle(update.callback_query)
    return await then(update, context)


def _tap(then: Handler) -> Handler:
    async def handle(update: Update, context: CoachContext) -> Any:
        return await _settled(update, context, then)

    return handle


async def _checkin_tap(update: Update, context: CoachContext) -> None:
    view = await checkin.on_tap(update, context)
    if view is not None:
        await _after_checkin(update, context, view)


async def _after_checkin(update: Update, context: CoachContext, view: CheckinView) -> None:
    """Once a check-in answer is in: the milestone and the program's word on it."""
    await program.after_checkin(update, context, view, checkin.milestone_text(context.texts, view))
    if view.done and view.contact == "them":  # what they wrote about: the path's next step
        await paths.ask_what_they_wrote(update, context)


# --- the table -------------------------------------------------------------------------------

COMMAND_HANDLERS: dict[str, Handler] = {
    "start": onboarding.start,
    "plan": program.show_plan,
    "shouldi": advice.on_command,
    "urge": urge.on_command,
    "today": program.show_today,
    "phase": program.show_phase,
    "progress": progress.show_progress,
    "journal": journal.show_journal,
    "moveon": program.ask_move_on,
    "settings": settings.send_settings,
    "helplines": safety.show_helplines,
    "safetyplan": safety_plan.show_plan,
    "privacy": privacy.show_privacy,
    "export": privacy.send_export,
    "delete": privacy.ask_to_delete,
    "sources": sources.show_sources,
    "help": menu.show_help,
}

# "area" or "area:action" (the more specific wins) → the feature's tap handler.
CALLBACKS: dict[str, Handler] = {
    "intake": onboarding.on_tap,
    "settings:edit": onboarding.edit_setting,
    "settings:redo": onboarding.redo_setup,
    "settings:add_hard": settings.ask_hard_date,
    "settings:no_hard": settings.cancel_hard_date,
    "settings": settings.on_tap,
    "advice": advice.on_tap,
    "urge": urge.on_tap,
    "journal": journal.on_tap,
    "program": program.on_tap,
    "ready": program.on_tick,
    "decide": program.on_decide_tap,
    "progress": progress.show_progress,
    "safety": safety.on_tap,
    "splan": safety_plan.on_tap,
    "privacy:delete": privacy.confirm_delete,
    "checkin": _checkin_tap,
    "paths": paths.on_tap,
    "listen": listening.on_tap,
    "menu:plan": _tap(program.show_plan),
    "menu:settings": _tap(settings.send_settings),
    "menu:privacy": _tap(privacy.show_privacy),
    "menu": _tap(menu.show_help),
}

# The awaited key's feature → the function that takes the person's next message.
ANSWERS: dict[str, Callable[[Update, CoachContext, Expected], Awaitable[Then | None]]] = {
    "intake": onboarding.on_answer,
    "advice": advice.on_answer,
    "urge": urge.on_answer,
    "journal": journal.on_answer,
    "settings": settings.on_answer,
    "safety": safety_plan.on_answer,
    "listen": listening.on_answer,
}

# The awaited key's feature → how to ask again what was awaited, after care or an old button.
ASK_AGAIN: dict[str, Callable[[Update, CoachContext, Expected, str], Awaitable[bool]]] = {
    "intake": onboarding.ask_again,
    "safety": safety_plan.ask_again,
    "urge": urge.ask_again,
    "advice": advice.ask_again,
    "journal": journal.ask_again,
    "settings": settings.ask_again,
    "listen": listening.ask_again,
}

# An understood intent (content/understand.py names them) → the feature that answers it.
INTENTS: dict[str, Handler] = {
    "urge": urge.begin,
    "should_i_text": advice.begin_should_i,
    "they_texted": advice.they_texted_typed,
    "slip": listening.on_slip,
    "feeling": listening.on_feeling,
    # A risk the safety screen let through (the person has just said they are safe).
    "crisis": listening.on_heavy,
    "danger": listening.on_heavy,
    "change_goal": listening.on_change_goal,
    "progress": listening.on_progress,
    "greeting": listening.on_greeting,
    "thanks": listening.on_thanks,
    "other": listening.on_other,
}


# --- following up what a feature hands back ----------------------------------------------------


async def carry_on(update: Update, context: CoachContext, lead_id: str) -> bool:
    """Ask again what the person was answering before, if anything; returns whether it did."""
    assert update.effective_user is not None
    expected = await context.services.conversation.expected(update.effective_user.id)
    if expected is None or expected.feature not in ASK_AGAIN:
        return False
    return await ASK_AGAIN[expected.feature](
        update, context, expected, context.texts.render(lead_id)
    )


async def offer_carry_on(update: Update, context: CoachContext) -> bool:
    """Once the person is safe again: if they were answering something, one tap brings it back
    (nothing is asked before they are ready). Returns whether it was offered."""
    assert update.effective_user is not None
    expected = await context.services.conversation.expected(update.effective_user.id)
    if expected is None or expected.feature not in ASK_AGAIN:
        return False
    await safety.offer_carry_on(update, context)
    return True


async def on_stale_button(update: Update, context: CoachContext) -> None:
    """A button from an old message (after a restart or a content change, or forged): say it is
    out of date, take it away and show where things are now: the question they are on, else
    the menu. The second tap of a double tap (already handled by the first) only stops the
    spinner, so the menu is not sent twice."""
    query = update.callback_query
    assert query is not None
    if taps.is_double_tap(update, context):
        await query.answer()
        return
    await query.answer(context.texts.render("errors.stale_button")[:200])
    if query.message is not None:
        with contextlib.suppress(BadRequest):  # too old to edit: the menu below still helps
            await remove_buttons(query)
    if not await carry_on(update, context, "robust.stale_question"):
        await menu.stale_menu(update, context)


async def follow(update: Update, context: CoachContext, then: object) -> None:
    match then:
        case Then.STALE:
            await on_stale_button(update, context)
        case Then.CARRY_ON:
            await carry_on(update, context, "safety.carry_on")
        case Then.OFFER_CARRY_ON:
            await offer_carry_on(update, context)
        case Then.RESUME:
            if not await carry_on(update, context, "safetycare.resume.lead"):
                await safety.nothing_to_resume(update, context)
        case Then.SETTINGS:
            await settings.send_settings(update, context)
        case Then.PLAN:
            await program.show_plan(update, context)


# --- the routes --------------------------------------------------------------------------------


async def on_callback(update: Update, context: CoachContext) -> None:
    query = update.callback_query
    assert query is not None
    data = decode(query.data)
    handler = None
    if data is not None:
        handler = CALLBACKS.get(f"{data.area}:{data.action}") or CALLBACKS.get(data.area)
    if handler is None:
        await on_stale_button(update, context)
        return
    try:
        then = await handler(update, context)
    except StaleButton:
        then = Then.STALE
    await follow(update, context, then)


async def on_screen(update: Update, context: CoachContext) -> None:
    """The safety screen, first for every text and caption."""
    then = await safety.screen_message(update, context)
    if then is None:
        return
    if update.edited_message is None:
        await follow(update, context, then)
    raise ApplicationHandlerStop


async def on_message(update: Update, context: CoachContext) -> None:
    """The text route, for every message no command took (an unknown /command included: it
    answers nothing that is awaited and gets the unknown-message reply)."""
    assert update.effective_user is not None and update.effective_message is not None
    if filters.COMMAND.check_update(update):
        await menu.unknown_text(update, context)
        return
    user_id = update.effective_user.id
    expected = await context.services.conversation.expected(user_id)
    if expected is not None and expected.feature in ANSWERS:
        then = await ANSWERS[expected.feature](update, context, expected)
        if then is not Then.UNHANDLED:
            await follow(update, context, then)
            return
    text = update.effective_message.text
    if text and await settings.try_typed_command(update, context):
        return
    if await safety.try_on_hold(update, context):  # a safety hold: no coaching, a gentle word
        return
    if not text:  # sticker, photo, voice, file, location
        if not await checkin.try_media(update, context):
            await robustness.on_media(update, context)
        return
    answered = await checkin.try_typed_answer(update, context)
    if isinstance(answered, CheckinView):
        await _after_checkin(update, context, answered)
    if answered:
        return
    expecting = listening.expecting_of(expected)
    intent = understand(text, expecting=expecting).intent
    if intent == "other":  # their ex's own name: "Alex texted me"
        profile = await context.services.intake.profile(user_id)
        intent = intent_of(text, profile.ex_name if profile else None) or intent
    if intent == "feeling" and expecting is not None:
        await listening.on_feeling(update, context, expecting)
        return
    if intent in INTENTS:
        await INTENTS[intent](update, context)
        return
    await menu.unknown_text(update, context)


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    membership.register(app)  # blocked and back: before every other group, never stops
    listening.install(app)  # breathing steps left by a restart or another process
    assert tuple(COMMAND_HANDLERS) == COMMANDS, "every command is listed in /help, in order"
    app.add_handler(CallbackQueryHandler(taps.remember_tap), group=TAPS_GROUP)
    app.add_handler(MessageHandler(filters.TEXT | filters.CAPTION, on_screen), group=SAFETY_GROUP)
    app.add_handlers(
        [
            # An edit is never taken as a new answer, whatever is awaited.
            MessageHandler(filters.UpdateType.EDITED_MESSAGE, robustness.on_edited),
            *(CommandHandler(name, handler) for name, handler in COMMAND_HANDLERS.items()),
            CallbackQueryHandler(on_callback),
            MessageHandler(filters.ALL & ~filters.StatusUpdate.ALL, on_message),
        ],
        group=0,
    )
    app.add_error_handler(robustness.on_database_error)  # before on_error: it may stop there
    app.add_error_handler(on_error)


def make_scheduler(services: Services) -> Scheduler:
    """The tick, sending check-ins and held drafts' follow-ups rendered from content/."""
    texts = services.content.texts

    async def send(bot: Bot, claimed: Claimed) -> int:
        return await checkin.send_scheduled(bot, texts, claimed)

    async def send_follow_up(bot: Bot, follow_up: FollowUp) -> int:
        return await urge.send_follow_up(bot, texts, follow_up)

    return Scheduler(
        services.checkins,
        send,
        services.urges,
        send_follow_up,
        forget_signals=services.safety.forget_old_signals,
    )


def bot_commands(texts: Texts) -> list[BotCommand]:
    return [BotCommand(name, texts.render(f"commands.{name}")) for name in COMMANDS]
