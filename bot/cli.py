"""Command line: python -m bot [run|chat|migrate] (and the JSON tools that arrive later)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TextIO

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
    chat = sub.add_parser("chat", help="talk to the bot in this terminal (no token needed)")
    when = chat.add_mutually_exclusive_group()
    when.add_argument(
        "--date",
        type=date.fromisoformat,
        help="run the whole bot (the daily tick too) as if today were this date, e.g. 2027-01-15",
    )
    when.add_argument(
        "--days-later",
        type=int,
        metavar="N",
        help="run the whole bot N days from now, to see later steps of the plan",
    )
    chat.add_argument(
        "--files",
        default="coach_chat_files",
        metavar="DIR",
        help="where the chart (/progress) and the export (/export) are saved",
    )
    sub.add_parser("migrate", help="bring the database schema up to date")
    sub.add_parser(
        "advise", help="read one JSON situation on stdin, print the JSON verdict ('should I text?')"
    )
    sub.add_parser(
        "screen", help="read messages, one per line; print one JSON line each: risk, matched, level"
    )
    understand = sub.add_parser(
        "understand",
        help="read messages (one per line), print one JSON line each: intent, topic, risk",
    )
    understand.add_argument(
        "--expecting",
        choices=["feeling"],
        help="read every line as the answer to a question (feeling: 'how do you feel now?')",
    )
    # review: what in a draft message works against the person, before it is sent.
    review = sub.add_parser(
        "review", help="read one draft message on stdin, print the JSON review (findings, rewrites)"
    )
    review.add_argument(
        "--situation",
        metavar="FILE",
        help="a JSON situation, as for advise (default: no contact over, calm)",
    )
    return parser


def _fail(message: str, code: int = 2) -> int:
    print(message, file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command = args.command or "run"
    if command == "advise":
        return advise_command(sys.stdin, sys.stdout)
    if command == "screen":
        return screen_command(sys.stdin, sys.stdout)
    if command == "review":
        return review_command(sys.stdin, sys.stdout, args.situation)
    if command == "understand":
        return understand_command(sys.stdin, sys.stdout, args.expecting)
    try:
        mode = getattr(args, "mode", None)
        overrides = {"mode": mode} if mode else {}
        settings = load_settings(**overrides)
        from bot.app import configure_logging

        if command == "chat":
            configure_logging("WARNING")
            from bot.chat import clock_for, run_chat

            return asyncio.run(
                run_chat(
                    settings,
                    clock=clock_for(getattr(args, "date", None), getattr(args, "days_later", None)),
                    files_dir=Path(args.files),
                )
            )
        configure_logging(
            settings.log_level.value, secrets=[settings.bot_token, settings.webhook_secret]
        )
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


def advise_command(stdin: TextIO, stdout: TextIO) -> int:
    """One JSON situation in, one JSON verdict out (exit 0); a bad field: one line, exit 2."""
    from content.advice import SituationError, advise, parse_situation

    raw = stdin.read()
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        return _fail(f"input: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})")
    try:
        situation = parse_situation(data)
    except SituationError as exc:
        return _fail(str(exc))
    json.dump(advise(situation).to_dict(), stdout, ensure_ascii=False)
    stdout.write("\n")
    return 0


def screen_command(stdin: TextIO, stdout: TextIO) -> int:
    """One message per line in, one JSON object per line out: {"risk", "matched", "level"}.

    `risk` is none, self_harm, possible_self_harm, danger, violence or abuse; `level` is none,
    ask or act. Each line is screened on its own (no context across lines)."""
    from content.screen import load_patterns, screen

    load_patterns()
    for line in stdin:
        result = screen(line.rstrip("\n"))
        stdout.write(json.dumps(result.to_dict()) + "\n")
    stdout.flush()
    return 0


def understand_command(stdin: TextIO, stdout: TextIO, expecting: str | None = None) -> int:
    """One message per line in, one JSON object per line out: {"intent", "topic", "risk"}.
    A broken data file: one line, exit 2; a stray byte in the input is read as a replacement
    character, never a traceback."""
    from content.screen import load_patterns
    from content.understand import load_book, understand

    try:
        load_patterns()
        load_book()
    except ContentError as exc:
        return _fail(f"content error: {exc}")
    if hasattr(stdin, "reconfigure"):
        stdin.reconfigure(errors="replace")
    for line in stdin:
        result = understand(line.rstrip("\r\n"), expecting=expecting)
        stdout.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
    stdout.flush()
    return 0


def review_command(stdin: TextIO, stdout: TextIO, situation_file: str | None = None) -> int:
    """One draft on stdin (all of it), one JSON review out: {"clean", "findings", "rewrites"}
    (exit 0). A bad --situation file or field: one line, exit 2."""
    from content.advice import SituationError, parse_situation
    from content.review import load_review_book, review

    situation = None
    if situation_file is not None:
        try:
            with open(situation_file, encoding="utf-8") as fh:
                raw = fh.read()
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            return _fail(f"--situation: cannot read {situation_file} ({reason})")
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            return _fail(
                f"--situation: {situation_file} is not valid JSON "
                f"({exc.msg} at line {exc.lineno} column {exc.colno})"
            )
        try:
            situation = parse_situation(data)
        except SituationError as exc:
            return _fail(str(exc))
    try:
        load_review_book()
    except ContentError as exc:
        return _fail(f"content error: {exc}")
    if hasattr(stdin, "reconfigure"):
        stdin.reconfigure(errors="replace")  # a stray byte is not worth a traceback
    draft = stdin.read().rstrip("\r\n")
    json.dump(review(draft, situation).to_dict(), stdout, ensure_ascii=False)
    stdout.write("\n")
    return 0
