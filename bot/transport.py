"""An in-process Bot API server: the double behind terminal chat mode and the handler tests.

`InProcessBotApi` is a python-telegram-bot `BaseRequest`: the real `Application` talks to it
exactly as it would talk to Telegram over HTTPS. It keeps the chat history, hands queued user
updates to getUpdates, records every call (method and parameters), and enforces the Bot API
rules that catch real bugs: HTML must parse, texts must fit 4096 characters, callback_data must
fit 64 bytes, and editing a message into itself is "not modified".
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from telegram.request import BaseRequest, RequestData

from bot.clock import Clock

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
ALLOWED_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
     "tg-spoiler", "span", "blockquote", "tg-emoji"}
)  # fmt: skip


class BotApiError(Exception):
    def __init__(self, code: int, description: str, **parameters: Any) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


@dataclass(frozen=True)
class ApiCall:
    method: str
    params: dict[str, Any]
    result: Any = None
    files: dict[str, bytes] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not (isinstance(self.result, dict) and "error" in self.result)


@dataclass(frozen=True)
class FakeUser:
    """Someone chatting with the bot (the terminal user, or a person in a test)."""

    id: int = 1001
    first_name: str = "Sam"
    language_code: str | None = "en"

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            data["language_code"] = self.language_code
        return data


class _TelegramHtml(HTMLParser):
    """Checks text the way Telegram does for parse_mode=HTML and yields the plain text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.plain: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            raise BotApiError(400, f"Bad Request: can't parse entities: unsupported tag <{tag}>")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            raise BotApiError(400, f"Bad Request: can't parse entities: unexpected </{tag}>")
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.plain.append(data)


def plain_text(text: str, parse_mode: str | None) -> str:
    if (parse_mode or "").upper() != "HTML":
        return text
    parser = _TelegramHtml()
    parser.feed(text)
    parser.close()
    if parser.stack:
        raise BotApiError(
            400, f"Bad Request: can't parse entities: <{parser.stack[-1]}> not closed"
        )
    return "".join(parser.plain)


class InProcessBotApi(BaseRequest):
    """Plays the Bot API server inside this process and records every call made to it."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        bot_id: int = 777000111,
        bot_username: str = "breakup_coach_bot",
        on_call: Callable[[ApiCall], None] | None = None,
    ) -> None:
        self.clock = clock
        self.bot_user = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "Breakup Coach",
            "username": bot_username,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.on_call = on_call
        self.calls: list[ApiCall] = []
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.commands: list[dict[str, Any]] = []
        self.webhook: dict[str, Any] = {"url": ""}
        self._pending: deque[dict[str, Any]] = deque()
        self._arrived: asyncio.Event | None = None
        self._next_update_id = 1
        self._next_message_id = 1
        self._injected: dict[str, deque[BotApiError]] = {}
        # CPU spent playing the server (not the bot's own cost), for the benchmarks.
        self.server_cpu_seconds = 0.0

    # --- BaseRequest -------------------------------------------------------------------------

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        if url.endswith("/getUpdates"):  # it waits for updates; its time is not server work
            return await self._serve(url, request_data)
        started = time.process_time()
        try:
            return await self._serve(url, request_data)
        finally:
            self.server_cpu_seconds += time.process_time() - started

    async def _serve(self, url: str, request_data: RequestData | None) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        files = {
            name: content if isinstance(content, bytes) else content.read()
            for name, (_fname, content, *_rest) in (
                request_data.multipart_data.items() if request_data else ()
            )
        }
        try:
            injected = self._injected.get(api_method)
            if injected:
                raise injected.popleft()
            handler = getattr(self, f"_api_{api_method}", None)
            if handler is None:
                raise BotApiError(404, "Not Found: method not found")
            result = await handler(params, files)
        except BotApiError as exc:
            self._record(ApiCall(api_method, params, {"error": exc.description}, files))
            body: dict[str, Any] = {
                "ok": False,
                "error_code": exc.code,
                "description": exc.description,
            }
            if exc.parameters:
                body["parameters"] = exc.parameters
            return exc.code, json.dumps(body).encode()
        # Results are snapshots: later edits must not rewrite what an earlier call returned.
        result = copy.deepcopy(result)
        if api_method != "getUpdates" or result:
            self._record(ApiCall(api_method, params, result, files))
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def _record(self, call: ApiCall) -> None:
        self.calls.append(call)
        if self.on_call is not None:
            self.on_call(call)

    # --- the user's side -----------------------------------------------------------------------

    def _now(self) -> int:
        return int(self.clock.now().timestamp()) if self.clock else int(time.time())

    def _new_update(self, **payload: Any) -> dict[str, Any]:
        update = {"update_id": self._next_update_id, **payload}
        self._next_update_id += 1
        return update

    def _private_chat(self, user: FakeUser) -> dict[str, Any]:
        return {"id": user.id, "type": "private", "first_name": user.first_name}

    def message_update(self, user: FakeUser, text: str) -> dict[str, Any]:
        """A text message from `user` (commands get their bot_command entity, as in Telegram)."""
        message: dict[str, Any] = {
            "message_id": self._take_message_id(),
            "date": self._now(),
            "chat": self._private_chat(user),
            "from": user.as_json(),
            "text": text,
        }
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        self.messages[(user.id, message["message_id"])] = message
        return self._new_update(message=message)

    def media_update(self, user: FakeUser, kind: str) -> dict[str, Any]:
        """A non-text message (sticker, photo, voice, document, location) from `user`."""
        samples: dict[str, Any] = {
            "sticker": {"file_id": "stk", "file_unique_id": "stk1", "type": "regular",
                        "width": 512, "height": 512, "is_animated": False, "is_video": False},
            "photo": [{"file_id": "ph", "file_unique_id": "ph1", "width": 90, "height": 90}],
            "voice": {"file_id": "vc", "file_unique_id": "vc1", "duration": 3},
            "document": {"file_id": "dc", "file_unique_id": "dc1", "file_name": "x.pdf"},
            "location": {"latitude": 51.5, "longitude": -0.12},
        }  # fmt: skip
        message = {
            "message_id": self._take_message_id(),
            "date": self._now(),
            "chat": self._private_chat(user),
            "from": user.as_json(),
            kind: samples[kind],
        }
        return self._new_update(message=message)

    def callback_update(self, user: FakeUser, message_id: int, data: str) -> dict[str, Any]:
        """`user` taps the inline button carrying `data` under bot message `message_id`."""
        message = self.messages.get((user.id, message_id))
        if message is None:
            raise KeyError(f"no message {message_id} in chat {user.id}")
        query = {
            "id": f"cq{self._next_update_id}",
            "from": user.as_json(),
            "chat_instance": f"ci{user.id}",
            "message": copy.deepcopy(message),
            "data": data,
        }
        return self._new_update(callback_query=query)

    def queue(self, update: dict[str, Any]) -> None:
        """Hand an update to the next getUpdates call (polling)."""
        self._pending.append(update)
        if self._arrived is not None:
            self._arrived.set()

    def inject_error(self, method: str, code: int, description: str, **parameters: Any) -> None:
        """Make the next call of `method` fail the way Telegram would (429, 403, …)."""
        self._injected.setdefault(method, deque()).append(
            BotApiError(code, description, **parameters)
        )

    # --- what the bot did (for tests and the terminal) -----------------------------------------

    def calls_to(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method]

    def bot_messages(self, chat_id: int) -> list[dict[str, Any]]:
        return [
            m
            for (cid, _), m in sorted(self.messages.items(), key=lambda kv: kv[0][1])
            if cid == chat_id and m.get("from", {}).get("id") == self.bot_user["id"]
        ]

    # --- Bot API methods -----------------------------------------------------------------------

    def _take_message_id(self) -> int:
        mid = self._next_message_id
        self._next_message_id += 1
        return mid

    def _check_markup(self, params: dict[str, Any]) -> dict[str, Any] | None:
        markup = params.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        for row in (markup or {}).get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA:
                    raise BotApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return markup

    def _text(self, params: dict[str, Any], key: str = "text", limit: int = MAX_TEXT) -> str:
        raw = params.get(key, "")
        text = plain_text(str(raw), params.get("parse_mode"))
        if key == "text" and not text.strip():
            raise BotApiError(400, "Bad Request: message text is empty")
        if len(text) > limit:
            raise BotApiError(400, "Bad Request: message is too long")
        return text

    def _chat(self, params: dict[str, Any]) -> dict[str, Any]:
        try:
            chat_id = int(params["chat_id"])
        except (KeyError, TypeError, ValueError):
            raise BotApiError(400, "Bad Request: chat not found") from None
        return {"id": chat_id, "type": "private"}

    def _store_bot_message(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        chat = self._chat(params)
        message = {
            "message_id": self._take_message_id(),
            "date": self._now(),
            "chat": chat,
            "from": self.bot_user,
            **content,
        }
        markup = self._check_markup(params)
        if markup:
            message["reply_markup"] = markup
        self.messages[(chat["id"], message["message_id"])] = message
        return message

    async def _api_getMe(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return self.bot_user

    async def _api_getUpdates(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        offset = int(params.get("offset", 0) or 0)
        while self._pending and self._pending[0]["update_id"] < offset:
            self._pending.popleft()
        if not self._pending:
            if self._arrived is None:
                self._arrived = asyncio.Event()
            self._arrived.clear()
            timeout = float(params.get("timeout", 0) or 0)
            if timeout:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._arrived.wait(), timeout)
        limit = int(params.get("limit", 100) or 100)
        return list(self._pending)[:limit]

    async def _api_deleteWebhook(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        self.webhook = {"url": ""}
        if params.get("drop_pending_updates"):
            self._pending.clear()
        return True

    async def _api_setWebhook(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        self.webhook = {"url": params.get("url", ""), "secret": params.get("secret_token")}
        return True

    async def _api_getWebhookInfo(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return {"url": self.webhook["url"], "has_custom_certificate": False,
                "pending_update_count": len(self._pending)}  # fmt: skip

    async def _api_setMyCommands(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        commands = params.get("commands", [])
        self.commands = json.loads(commands) if isinstance(commands, str) else list(commands)
        return True

    async def _api_getMyCommands(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return self.commands

    async def _api_sendMessage(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        text = self._text(params)
        return self._store_bot_message(params, text=text)

    async def _api_sendChatAction(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        self._chat(params)
        return True

    async def _api_sendPhoto(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        if "photo" not in files and not params.get("photo"):
            raise BotApiError(400, "Bad Request: there is no photo in the request")
        size = len(files.get("photo", b""))
        content: dict[str, Any] = {
            "photo": [{"file_id": f"photo{self._next_message_id}", "file_unique_id": "p",
                       "width": 1200, "height": 800, "file_size": size}],
        }  # fmt: skip
        if params.get("caption"):
            content["caption"] = self._text(params, "caption", MAX_CAPTION)
        return self._store_bot_message(params, **content)

    async def _api_sendDocument(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        if "document" not in files and not params.get("document"):
            raise BotApiError(400, "Bad Request: there is no document in the request")
        content: dict[str, Any] = {
            "document": {"file_id": f"doc{self._next_message_id}", "file_unique_id": "d",
                         "file_size": len(files.get("document", b""))},
        }  # fmt: skip
        if params.get("caption"):
            content["caption"] = self._text(params, "caption", MAX_CAPTION)
        return self._store_bot_message(params, **content)

    def _existing(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params)
        message = self.messages.get((chat["id"], int(params.get("message_id", 0))))
        if message is None or message.get("from", {}).get("id") != self.bot_user["id"]:
            raise BotApiError(400, "Bad Request: message to edit not found")
        return message

    async def _api_editMessageText(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        message = self._existing(params)
        text = self._text(params)
        markup = self._check_markup(params)
        if text == message.get("text") and markup == message.get("reply_markup"):
            raise BotApiError(400, "Bad Request: message is not modified")
        message["text"] = text
        message["edit_date"] = self._now()
        if markup:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        return message

    async def _api_editMessageReplyMarkup(
        self, params: dict[str, Any], files: dict[str, bytes]
    ) -> Any:
        message = self._existing(params)
        markup = self._check_markup(params)
        if markup == message.get("reply_markup"):
            raise BotApiError(400, "Bad Request: message is not modified")
        if markup:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        message["edit_date"] = self._now()
        return message

    async def _api_deleteMessage(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        message = self._existing(params)
        del self.messages[(message["chat"]["id"], message["message_id"])]
        return True

    async def _api_answerCallbackQuery(
        self, params: dict[str, Any], files: dict[str, bytes]
    ) -> Any:
        if len(str(params.get("text", ""))) > 200:
            raise BotApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    async def _api_setChatMenuButton(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return True

    async def _api_close(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return True
