"""Telegram adapters: parse the update, call a service, render a text from content/, reply.

`register(app)` is the one ordered registry. ORDER MATTERS: within a group the first handler
that accepts an update takes it, so specific handlers come before the catch-alls at the end.
Groups run in order, lowest first, each offering the update to its own list:

- TAPS_GROUP (-2): bookkeeping that never stops an update (tap memory, /start after a block).
- SAFETY_GROUP (-1): the crisis screen; a crisis or abuse message stops there, in any state.
- 0: everything else.
"""

from __future__ import annotations

from typing import Any

from telegram import Bot, BotCommand
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.context import Services
from bot.scheduler import Scheduler
from bot.services.checkin import Claimed
from bot.services.urge import FollowUp
from content.loader import Texts
from handlers import (
    advice,
    checkin,
    journal,
    membership,
    menu,
    onboarding,
    privacy,
    program,
    progress,
    robustness,
    safety,
    settings,
    urge,
)
from handlers.callbacks import pattern
from handlers.errors import on_error

COMMANDS = (
    "start",
    "plan",
    "shouldi",
    "urge",
    "today",  # issue 4: the program
    "phase",
    "progress",
    "journal",
    "moveon",
    "settings",
    "helplines",
    "privacy",
    "export",
    "delete",
    "help",
)
TAPS_GROUP = -2
SAFETY_GROUP = -1


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    membership.register(app)  # blocked and back: before every other group, never stops
    app.add_handlers(
        [
            CallbackQueryHandler(robustness.remember_tap),
        ],
        group=TAPS_GROUP,
    )
    app.add_handler(
        MessageHandler(filters.TEXT | filters.CAPTION, safety.screen_message), group=SAFETY_GROUP
    )
    app.add_handlers(
        [
            # An edit is never taken as a new answer, whatever the state.
            MessageHandler(filters.UpdateType.EDITED_MESSAGE, robustness.on_edited),
            onboarding.conversation(),
            # /urge, "I want to text them", the held draft's buttons. Before advice: a draft
            # pasted for review wins over an old "write it here instead" (issue 7).
            urge.conversation(),
            advice.conversation(),  # /shouldi, "They texted me" and their buttons
            journal.conversation(),  # /journal: writing an entry over several messages
            settings.hard_dates_conversation(),  # /settings → Hard dates → typing one
            CommandHandler("help", menu.show_help),
            CommandHandler("plan", menu.show_plan),
            CommandHandler("settings", settings.send_settings),
            CommandHandler("privacy", privacy.show_privacy),
            CommandHandler("export", privacy.send_export),
            CommandHandler("delete", privacy.ask_to_delete),
            CommandHandler("helplines", safety.show_helplines),
            # The program (issue 4): /today, /phase, /moveon, /progress and their buttons.
            CommandHandler("today", program.show_today),
            CommandHandler("phase", program.show_phase),
            CommandHandler("moveon", program.ask_move_on),
            CommandHandler("progress", progress.show_progress),
            CallbackQueryHandler(program.on_tap, pattern=pattern(program.AREA)),
            CallbackQueryHandler(program.on_tick, pattern=pattern(program.READY)),
            CallbackQueryHandler(program.on_decide_tap, pattern=pattern(program.DECIDE)),
            CallbackQueryHandler(progress.show_progress, pattern=pattern(progress.AREA)),
            CallbackQueryHandler(safety.on_tap, pattern=pattern("safety")),
            CallbackQueryHandler(privacy.confirm_delete, pattern=pattern("privacy", "delete")),
            CallbackQueryHandler(menu.on_menu_tap, pattern=pattern("menu")),
            CallbackQueryHandler(checkin.on_tap, pattern=pattern("checkin")),
            CallbackQueryHandler(settings.on_tap, pattern=pattern("settings")),
            # Catch-alls last.
            CallbackQueryHandler(menu.on_stale_button),
            MessageHandler(filters.ALL & ~filters.StatusUpdate.ALL, menu.on_unexpected),
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

    return Scheduler(services.checkins, send, services.urges, send_follow_up)


def bot_commands(texts: Texts) -> list[BotCommand]:
    return [BotCommand(name, texts.render(f"commands.{name}")) for name in COMMANDS]
