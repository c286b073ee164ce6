"""Terminal chat mode: the real Application and handlers, with the in-process Bot API.

Typed lines become updates served to getUpdates; what the bot sends is printed. Inline
keyboards print as numbered choices and typing the number taps that button. Reading stops at
the end of standard input, after the bot has finished answering.

`clock_for` moves the whole bot (the daily tick too) to another day, so later steps of the plan
can be tried in minutes; pictures and files the bot sends are saved under `files_dir` and their
paths printed.
"""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from telegram import Update

from bot.app import build_application, build_services
from bot.clock import Clock, SystemClock
from bot.context import Services
from bot.db import queries as q
from bot.scheduler import SCHEDULER_KEY, Scheduler
from bot.services.timing import effective_hour, local_date_of, local_moment
from bot.settings import Settings
from bot.transport import ApiCall, FakeUser, InProcessBotApi
from content import load_content

TERMINAL_USER_ID = 1
FILE_FIELDS = {"sendPhoto": "photo", "sendDocument": "document"}


@dataclass(slots=True)
class ShiftedClock:
    """The real clock, moved by a fixed number of days: time still passes as the chat goes on."""

    shift: timedelta

    def now(self) -> datetime:
        return datetime.now(UTC) + self.shift

    def move_to(self, moment: datetime) -> None:
        """From now on, the clock reads `moment` (and time passes from there)."""
        self.shift += moment - self.now()


async def checkin_moment(services: Services, user_id: int, now: datetime) -> datetime | None:
    """When the person's check-in falls on the local day `now` is in, or None without one."""
    async with services.db.sessions() as session:
        profile = await q.get_profile(session, user_id)
        if profile is None or profile.checkin_hour is None or profile.intake_completed_at is None:
            return None
        zone = services.checkins.zone(profile)
        hour = effective_hour(profile.checkin_hour, profile.quiet_start, profile.quiet_end)
        return local_moment(local_date_of(now, zone), hour, zone)


def clock_for(on: date | None = None, days_later: int | None = None) -> Clock:
    """The clock the chat runs on: today, a given date (at the current time of day), or N days
    from now."""
    if on is not None:
        return ShiftedClock(timedelta(days=(on - datetime.now(UTC).date()).days))
    if days_later:
        return ShiftedClock(timedelta(days=days_later))
    return SystemClock()


class TerminalPrinter:
    """Shows the bot's side of the conversation and remembers the buttons on screen."""

    def __init__(self, out: TextIO, files_dir: Path | None = None) -> None:
        self.out = out
        self.files_dir = files_dir
        self.saved = 0
        self.buttons: list[tuple[int, str]] = []  # (message_id, callback_data), numbered from 1

    def on_call(self, call: ApiCall) -> None:
        result: Any = call.result
        if not isinstance(result, dict) or "error" in result:
            if call.method == "answerCallbackQuery" and call.params.get("text"):
                self._write(f"  ({call.params['text']})")
            return
        if call.method in ("sendMessage", "sendPhoto", "sendDocument"):
            body = result.get("text") or result.get("caption") or ""
            if call.method == "sendPhoto":
                body = f"[picture] {body}"
            elif call.method == "sendDocument":
                body = f"[file] {body}"
            self._message("coach", body, result)
            self._save(call)
        elif call.method == "editMessageText":
            self._message("coach (edited)", result.get("text", ""), result)
        elif call.method == "editMessageReplyMarkup" and result.get("reply_markup"):
            self._keyboard(result)

    def _save(self, call: ApiCall) -> None:
        """Save a picture or file the bot sent, and say where it is."""
        data = call.files.get(FILE_FIELDS.get(call.method, ""))
        if self.files_dir is None or not data:
            return
        self.files_dir.mkdir(parents=True, exist_ok=True)
        self.saved += 1
        default = "chart.png" if call.method == "sendPhoto" else "export.json"
        name = Path(str(call.params.get("filename") or default)).name
        path = (self.files_dir / f"{self.saved:02d}-{name}").resolve()
        path.write_bytes(data)
        self._write("    " + load_content().texts.render("story.chat.saved", path=str(path)))

    def _message(self, who: str, text: str, message: dict[str, Any]) -> None:
        lines = text.splitlines() or [""]
        self._write(f"\n{who}> {lines[0]}")
        for line in lines[1:]:
            self._write(f"    {line}" if line else "")
        self._keyboard(message)

    def _keyboard(self, message: dict[str, Any]) -> None:
        rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
        if not rows:
            return
        self.buttons = []
        for row in rows:
            labels = []
            for b in row:
                self.buttons.append((message["message_id"], b.get("callback_data", "")))
                labels.append(f"[{len(self.buttons)}] {b.get('text', '')}")
            self._write("    " + "   ".join(labels))

    def _write(self, line: str) -> None:
        self.out.write(line + "\n")
        self.out.flush()


async def _read_line(stream: TextIO) -> str:
    return await asyncio.get_running_loop().run_in_executor(None, stream.readline)


async def run_chat(
    settings: Settings,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    *,
    clock: Clock | None = None,
    files_dir: Path | None = None,
) -> int:
    printer = TerminalPrinter(stdout, files_dir)
    transport = InProcessBotApi(on_call=printer.on_call)
    services = build_services(settings, clock=clock or SystemClock())
    app = build_application(settings, request=transport, services=services)
    user = FakeUser(
        id=TERMINAL_USER_ID,
        first_name=os.environ.get("COACH_CHAT_NAME", "friend"),
        language_code=(os.environ.get("LANG") or "en")[:2],
    )
    echo = not stdin.isatty()
    await app.initialize()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1, allowed_updates=Update.ALL_TYPES)
    await app.start()
    stdout.write(load_content().texts.render("chat.banner"))
    stdout.flush()
    if isinstance(clock, ShiftedClock):
        # The day moved: the chat runs at that day's check-in time, so the tick delivers the
        # check-in due that day first (the day's other hours would miss or skip it).
        moment = await checkin_moment(services, TERMINAL_USER_ID, clock.now())
        if moment is not None:
            clock.move_to(moment)
        scheduler: Scheduler = app.bot_data[SCHEDULER_KEY]
        await scheduler.tick(app.bot)
    sent = 0
    try:
        while True:
            line = await _read_line(stdin)
            if line == "":
                break
            text = line.strip()
            if not text:
                continue
            if echo:
                printer._write(f"\nyou> {text}")
            if text.isdigit() and 1 <= int(text) <= len(printer.buttons):
                message_id, data = printer.buttons[int(text) - 1]
                update = transport.callback_update(user, message_id, data)
            else:
                update = transport.message_update(user, text)
            sent += 1
            transport.queue(update)
            await app.wait_for_updates(sent)
    except (KeyboardInterrupt, asyncio.CancelledError):
        pass
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    return 0
