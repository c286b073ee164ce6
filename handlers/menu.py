"""/help and the main menu's own buttons."""

from __future__ import annotations

from telegram import Update

from bot.context import CoachContext
from content.loader import Texts
from handlers.replies import COMMANDS, begin_button, main_menu, reply


def help_text(texts: Texts) -> str:
    """Every command the bot registers with Telegram, with the same descriptions: the list
    can never drift from what the bot actually does."""
    lines = [texts.render("help.title")]
    lines += [
        texts.render("help.line", command=name, description=texts.render(f"commands.{name}"))
        for name in COMMANDS
    ]
    return "\n".join(lines) + "\n\n" + texts.render("help.footer")


async def show_help(update: Update, context: CoachContext) -> None:
    await reply(update, context, help_text(context.texts), main_menu(context))


async def unknown_text(update: Update, context: CoachContext) -> None:
    """A message nothing else understood: the menu (or how to begin)."""
    assert update.effective_user is not None
    profile = await context.services.intake.profile(update.effective_user.id)
    if profile is None or not profile.set_up:
        await reply(
            update,
            context,
            context.texts.render("errors.not_set_up"),
            begin_button(context),
        )
        return
    await reply(update, context, context.texts.render("errors.unknown_text"), main_menu(context))


async def stale_menu(update: Update, context: CoachContext) -> None:
    """After an out-of-date button, when no question is waiting: the menu (or how to begin)."""
    assert update.effective_user is not None
    profile = await context.services.intake.profile(update.effective_user.id)
    if profile is None or not profile.set_up:
        await reply(
            update, context, context.texts.render("errors.not_set_up"), begin_button(context)
        )
        return
    await reply(update, context, context.texts.render("robust.stale_menu"), main_menu(context))
