"""/help, /plan, /settings, and the catch-alls for stale buttons and unexpected messages."""

from __future__ import annotations

from telegram import Update

from bot.context import CoachContext
from handlers.common import button, keyboard, remove_buttons, reply

AREA = "menu"


def main_menu(context: CoachContext) -> object:
    texts = context.texts
    return keyboard(
        [
            [button(texts.render("menu.my_plan"), AREA, "plan"),
             button(texts.render("menu.settings"), AREA, "settings")],
            [button(texts.render("menu.help"), AREA, "help"),
             button(texts.render("menu.privacy"), AREA, "privacy")],
        ]
    )  # fmt: skip


async def show_help(update: Update, context: CoachContext) -> None:
    await reply(update, context, context.texts.render("help.text"), main_menu(context))


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
    """A button from an old message (after a restart, a content change, or a double tap)."""
    query = update.callback_query
    assert query is not None
    await query.answer(context.texts.render("errors.stale_button")[:200])
    if query.message is not None:
        await remove_buttons(query)


def begin_button(context: CoachContext) -> object:
    return keyboard([[button(context.texts.render("menu.begin"), "intake", "begin")]])


async def on_unexpected(update: Update, context: CoachContext) -> None:
    from handlers import checkin, settings

    assert update.effective_user is not None
    if update.effective_message is not None and update.effective_message.text:
        if await settings.try_typed_command(update, context):
            return
        if await checkin.try_typed_answer(update, context):
            return
    profile = await context.services.intake.profile(update.effective_user.id)
    if profile is None or not profile.set_up:
        await reply(
            update, context, context.texts.render("errors.not_set_up"), begin_button(context)
        )
        return
    await reply(update, context, context.texts.render("errors.unknown_text"), main_menu(context))
