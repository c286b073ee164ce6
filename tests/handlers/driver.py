"""Drive the real Application as a person would, through the recording in-process Bot API."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.app import CoachApplication, build_application, build_services
from bot.clock import FakeClock
from bot.db import Database
from bot.settings import Settings
from bot.transport import ApiCall, FakeUser, InProcessBotApi


@dataclass
class Reply:
    """Everything the bot did in answer to one update."""

    calls: list[ApiCall]

    @property
    def sent(self) -> list[str]:
        return [c.result.get("text", "") for c in self.calls if c.method == "sendMessage" and c.ok]

    @property
    def edits(self) -> list[str]:
        return [
            c.result.get("text", "") for c in self.calls if c.method == "editMessageText" and c.ok
        ]

    @property
    def text(self) -> str:
        """All sent and edited texts, joined (for `in` checks)."""
        return "\n".join(self.edits + self.sent)

    def count(self, method: str) -> int:
        return sum(1 for c in self.calls if c.method == method)


@dataclass
class Person:
    """One person chatting with the bot; the bot can be restarted under them."""

    settings: Settings
    db: Database
    clock: FakeClock
    user: FakeUser = field(default_factory=FakeUser)
    transport: InProcessBotApi = field(init=False)
    app: CoachApplication | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.transport = InProcessBotApi(clock=self.clock)

    async def open(self) -> None:
        services = build_services(self.settings, clock=self.clock, db=self.db)
        self.app = build_application(self.settings, request=self.transport, services=services)
        await self.app.initialize()

    async def close(self) -> None:
        if self.app is not None:
            await self.app.shutdown()
            self.app = None

    async def restart(self) -> None:
        """Stop the bot process and start a new one on the same database and chat."""
        await self.close()
        await self.open()

    async def _process(self, update: dict[str, Any]) -> Reply:
        assert self.app is not None, "call open() first"
        before = len(self.transport.calls)
        await self.app.receive(update)  # through the inbox, as in production
        return Reply(self.transport.calls[before:])

    async def send(self, text: str) -> Reply:
        return await self._process(self.transport.message_update(self.user, text))

    async def send_media(self, kind: str) -> Reply:
        return await self._process(self.transport.media_update(self.user, kind))

    def last_keyboard_message(self) -> dict[str, Any]:
        for message in reversed(self.transport.bot_messages(self.user.id)):
            if (message.get("reply_markup") or {}).get("inline_keyboard"):
                return message
        raise AssertionError("no message with buttons in the chat")

    def buttons(self) -> list[str]:
        rows = self.last_keyboard_message()["reply_markup"]["inline_keyboard"]
        return [b["text"] for row in rows for b in row]

    async def tap(self, label: str, message: dict[str, Any] | None = None) -> Reply:
        """Tap the button whose text is (or contains) `label` on the newest message with
        buttons, or on `message`."""
        message = message or self.last_keyboard_message()
        for row in message["reply_markup"]["inline_keyboard"]:
            for b in row:
                if b["text"] == label or label in b["text"]:
                    return await self.tap_data(b["callback_data"], message)
        labels = [b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row]
        raise AssertionError(f"no button {label!r}; buttons are {labels}")

    async def tap_data(self, data: str, message: dict[str, Any] | None = None) -> Reply:
        message = message or self.last_keyboard_message()
        update = self.transport.callback_update(self.user, message["message_id"], data)
        return await self._process(update)
