"""/help, /plan, /settings, and the catch-alls for stale buttons and unexpected messages."""

from __future__ import annotations

import contextlib

from telegram import Update
from telegram.error import BadRequest

from bot.context import CoachContext
from content.loader import Texts
from handlers.common import button, keyboard, remove_buttons, reply

AREA = "menu"


def main_menu(context: CoachContext) -> object:
    texts = context.texts
    return keyboard(
        [
            [button(texts.render("advice.menu_button"), "advice", "start")],
            [button(texts.render("urge.menu_button"), "urge", "start")],  # issue 7
            [button(texts.render("program.menu.today"), "program", "today"),  # issue 4
             button(texts.render("program.menu.phase"), "program", "phase")],
            [button(texts.render("program.menu.journal"), "journal", "list"),
             button(texts.render("program.menu.progress"), "progress", "show")],
            [button(texts.render("menu.my_plan"), AREA, "plan"),
             button(texts.render("menu.settings"), AREA, "settings")],
            [button(texts.render("menu.help"), AREA, "help"),
             button(texts.render("menu.privacy"), AREA, "privacy")],
        ]
    )  # fmt: skip


def help_text(texts: Texts) -> str:
    """Every command the bot registers with Telegram, with the same descriptions: the list
    can never drift from what the bot actually does."""
    from handlers import COMMANDS

    lines = [texts.render("help.title")]
    lines += [
        texts.render("help.line", command=name, description=texts.render(f"commands.{name}"))
        for name in COMMANDS
    ]
    return "\n".join(lines) + "\n\n" + texts.render("help.footer")


async def show_help(update: Update, context: CoachContext) -> None:
    await reply(update, context, help_text(context.texts), main_menu(context))


async def show_plan(update: Update, context: CoachContext) -> None:
    from handlers.onboarding import send_plan

    assert update.effective_user is not None
    profile = await context.services.intake.profile(update.effective_user.id)
    if profile is None or not profile.set_up:
        await reply(
            update, context, context.texts.render("errors.not_set_up"), begin_button(context)
        )
        return
    await send_plan(update, context, profile)


async def on_menu_tap(update: Update, context: CoachContext) -> None:
    from handlers.callbacks import decode
    from handlers.privacy import show_privacy

    query = update.callback_query
    assert query is not None
    await query.answer()
    data = decode(query.data)
    action = data.action if data else ""
    from handlers.settings import send_settings

    handlers = {
        "plan": show_plan,
        "settings": send_settings,
        "help": show_help,
        "privacy": show_privacy,
    }
    await handlers.get(action, show_help)(update, context)


async def on_stale_button(update: Update, context: CoachContext) -> None:
    """A button from an old message (after a restart or a content change, or forged): say it is
    out of date, take it away and show where things are now. The second tap of a double tap
    (already handled by the first) only stops the spinner, so the menu is not sent twice."""
    from handlers import robustness

    query = update.callback_query
    assert query is not None
    if robustness.is_double_tap(update, context):
        await query.answer()
        return
    await query.answer(context.texts.render("errors.stale_button")[:200])
    if query.message is not None:
        with contextlib.suppress(BadRequest):  # too old to edit: the menu below still helps
            await remove_buttons(query)
    await show_where_things_are(update, context)


async def show_where_things_are(update: Update, context: CoachContext) -> None:
    """After a stale button: the question they are on, else the main menu (or how to begin)."""
    from handlers.safety import carry_on_intake

    assert update.effective_user is not None
    texts = context.texts
    profile = await context.services.intake.profile(update.effective_user.id)
    if profile is not None and profile.intake_step is not None:
        lead = texts.render("robust.stale_question")
        if await carry_on_intake(update, context, profile.intake_step, lead):
            return
    if profile is None or not profile.set_up:
        await reply(
            update, context, context.texts.render("errors.not_set_up"), begin_button(context)
        )
        return
    await reply(update, context, context.texts.render("robust.stale_menu"), main_menu(context))


def begin_button(context: CoachContext) -> object:
    return keyboard([[button(context.texts.render("menu.begin"), "intake", "begin")]])


async def on_unexpected(update: Update, context: CoachContext) -> None:
    from handlers import advice, checkin, robustness, safety, settings, urge

    assert update.effective_user is not None
    text = update.effective_message.text if update.effective_message else None
    if text and await settings.try_typed_command(update, context):
        return
    if await safety.try_on_hold(update, context):  # a safety hold: no coaching, a gentle word
        return
    if not text:
        await robustness.on_media(update, context)  # sticker, photo, voice, file, location
        return
    if await checkin.try_typed_answer(update, context):
        return
    if await urge.try_free_text(update, context):  # "I'm about to text her" (before "should I")
        return
    if await advice.try_free_text(update, context):  # "should I text her?", "he texted me"
        return
    profile = await context.services.intake.profile(update.effective_user.id)
    if profile is None or not profile.set_up:
        await reply(
            update, context, context.texts.render("errors.not_set_up"), begin_button(context)
        )
        return
    await reply(update, context, context.texts.render("errors.unknown_text"), main_menu(context))
