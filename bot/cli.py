"""Command line: python -m bot [run|chat|migrate] (and the JSON tools that arrive later)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from telegram.error import InvalidToken, NetworkError

from bot.settings import Mode, Settings, SettingsError, load_settings
from content.loader import ContentError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot", description="Breakup Coach — a Telegram self-help coach."
    )
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="run the bot (default): polling or webhook, as MODE says")
    run.add_argument("--mode", choices=[m.value for m in Mode], help="overrides MODE")
    sub.add_parser("chat", help="talk to the bot in this terminal (no token needed)")
    sub.add_parser("migrate", help="bring the database schema up to date")
    return parser


def _fail(message: str, code: int = 2) -> int:
    print(message, file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = args.command or "run"
    try:
        mode = getattr(args, "mode", None)
        overrides = {"mode": mode} if mode else {}
        settings = load_settings(**overrides)
        from bot.app import configure_logging

        if command == "chat":
            configure_logging("WARNING")
            from bot.chat import run_chat

            return asyncio.run(run_chat(settings))
        configure_logging(settings.log_level.value)
        if command == "migrate":
            return asyncio.run(_migrate(settings))
        settings.require_token()
        from bot.app import run

        run(settings)
        return 0
    except SettingsError as exc:
        return _fail(str(exc))
    except ContentError as exc:
        return _fail(f"content error: {exc}")
    except InvalidToken:
        return _fail("BOT_TOKEN: Telegram refused this token; check it with @BotFather.")
    except NetworkError as exc:
        return _fail(f"BOT_API_URL: could not reach the Bot API ({exc.message}).")
    except KeyboardInterrupt:
        return 130


async def _migrate(settings: Settings) -> int:
    from bot.db import Database

    db = Database(settings.database_url)
    try:
        await db.migrate()
    finally:
        await db.dispose()
    print("database is up to date")
    return 0
