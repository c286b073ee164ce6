"""Telegram adapters: parse the update, call a service, render a text from content/, reply.

`register(app)` is the one ordered registry. ORDER MATTERS: within a group the first handler
that accepts an update takes it, so specific handlers come before the catch-alls at the end.
"""

from __future__ import annotations

from typing import Any

from telegram import Bot, BotCommand
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.context import Services
from bot.scheduler import Scheduler
from bot.services.checkin import Claimed
from content.loader import Texts
from handlers import checkin, menu, onboarding, privacy, settings
from handlers.callbacks import pattern
from handlers.errors import on_error

COMMANDS = ("start", "plan", "settings", "privacy", "delete", "help")


def register(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    app.add_handlers(
        [
            onboarding.conversation(),
            CommandHandler("help", menu.show_help),
            CommandHandler("plan", menu.show_plan),
            CommandHandler("settings", settings.send_settings),
            CommandHandler("privacy", privacy.show_privacy),
            CommandHandler("delete", privacy.ask_to_delete),
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
    app.add_error_handler(on_error)


def make_scheduler(services: Services) -> Scheduler:
    """The tick, sending check-ins rendered from content/."""
    texts = services.content.texts

    async def send(bot: Bot, claimed: Claimed) -> int:
        return await checkin.send_scheduled(bot, texts, claimed)

    return Scheduler(services.checkins, send)


def bot_commands(texts: Texts) -> list[BotCommand]:
    return [BotCommand(name, texts.render(f"commands.{name}")) for name in COMMANDS]
