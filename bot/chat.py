"""Terminal chat mode: the real Application and handlers, with the in-process Bot API.

Typed lines become updates served to getUpdates; what the bot sends is printed. Inline
keyboards print as numbered choices and typing the number taps that button. Reading stops at
the end of standard input, after the bot has finished answering.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any, TextIO

from telegram import Update

from bot.app import build_application
from bot.settings import Settings
from bot.transport import ApiCall, FakeUser, InProcessBotApi
from content import load_content

TERMINAL_USER_ID = 1


class TerminalPrinter:
    """Shows the bot's side of the conversation and remembers the buttons on screen."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
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
        elif call.method == "editMessageText":
            self._message("coach (edited)", result.get("text", ""), result)
        elif call.method == "editMessageReplyMarkup" and result.get("reply_markup"):
            self._keyboard(result)

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
    settings: Settings, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout
) -> int:
    printer = TerminalPrinter(stdout)
    transport = InProcessBotApi(on_call=printer.on_call)
    app = build_application(settings, request=transport)
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
