"""Receiving updates: a webhook endpoint and a long-polling loop, both of which write each
update into the inbox before Telegram is told it arrived.

The webhook answers 200 only after the update is recorded; a body that is not an update
(malformed JSON, null, a list, an object without an integer update_id) gets 400, and a request
without Telegram's secret header gets 403. The poller asks for the next updates (which confirms
the previous batch to Telegram) only after the previous batch is recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import warnings
from collections.abc import Awaitable, Callable, Mapping
from http import HTTPStatus
from typing import Any

import tornado.web
from telegram import Bot, Update
from telegram.error import TelegramError
from telegram.warnings import PTBUserWarning
from tornado.httpserver import HTTPServer

from bot.inbox import BadUpdate, Inbox, update_id_of

log = logging.getLogger(__name__)
# The poller reads getUpdates as raw JSON (so one update PTB cannot parse never blocks the
# rest); PTB suggests its parsing method instead, which is the point here.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.getUpdates'", category=PTBUserWarning)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1 << 20  # Telegram's updates are far smaller; anything bigger is not from Telegram

# Called with the ids that were new after they were recorded: hands them to the processing.
Deliver = Callable[[list[tuple[int, Mapping[str, Any]]]], Awaitable[None]]


class _Endpoint(tornado.web.RequestHandler):
    SUPPORTED_METHODS = ("POST",)  # type: ignore[assignment]

    def initialize(self, inbox: Inbox, deliver: Deliver, secret: str) -> None:
        self.inbox = inbox
        self.deliver = deliver
        self.secret = secret

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "application/json; charset=utf-8")

    def _refuse(self, status: HTTPStatus) -> None:
        self.set_status(status)
        self.finish(json.dumps({"ok": False, "error": status.phrase}))

    async def post(self) -> None:
        given = self.request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            self._refuse(HTTPStatus.FORBIDDEN)
            return
        if len(self.request.body) > MAX_BODY:
            self._refuse(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            return
        try:
            data = json.loads(self.request.body)
            update_id = update_id_of(data)
        except (ValueError, BadUpdate) as error:  # JSONDecodeError and UnicodeDecodeError too
            log.info("webhook: refused a body that is not an update (%s)", type(error).__name__)
            self._refuse(HTTPStatus.BAD_REQUEST)
            return
        new = await self.inbox.accept(data)
        self.finish(json.dumps({"ok": True}))
        if new:
            await self.deliver([(update_id, data)])
        else:
            log.info("webhook: update %s was delivered before; dropped", update_id)

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        # Tornado's own record would include the request; ours names the error only.
        log.error("webhook: request failed (%s)", typ.__name__ if typ else "unknown")


class _App(tornado.web.Application):
    def log_request(self, handler: tornado.web.RequestHandler) -> None:
        """No access log: the path and timing are not worth a line per message."""


class WebhookServer:
    """A small HTTP server that records each update before answering 200."""

    def __init__(
        self, inbox: Inbox, deliver: Deliver, *, path: str, secret: str, listen: str, port: int
    ) -> None:
        route = "/" + path.strip("/")
        app = _App([(rf"{route}/?", _Endpoint, {"inbox": inbox, "deliver": deliver,
                                                 "secret": secret})])  # fmt: skip
        self._server = HTTPServer(app, max_body_size=MAX_BODY * 2)
        self.listen = listen
        self.port = port

    async def start(self) -> None:
        self._server.listen(self.port, address=self.listen)

    async def stop(self) -> None:
        self._server.stop()
        await self._server.close_all_connections()


class Poller:
    """Long polling that never confirms an update to Telegram before it is recorded."""

    def __init__(self, bot: Bot, inbox: Inbox, deliver: Deliver, *, timeout: int = 10) -> None:
        self.bot = bot
        self.inbox = inbox
        self.deliver = deliver
        self.timeout = timeout
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.bot.delete_webhook()
        self._task = asyncio.create_task(self._run(), name="poller")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        offset: int | None = None
        pause = 0.0
        while True:
            try:
                batch = await self.bot.do_api_request(
                    "getUpdates",
                    api_kwargs={
                        "offset": offset,
                        "timeout": self.timeout,
                        "allowed_updates": Update.ALL_TYPES,
                    },
                    read_timeout=self.timeout + 10,
                )
                pause = 0.0
            except TelegramError as error:
                pause = min(30.0, max(1.0, pause * 2))
                log.warning("polling: getUpdates failed (%s); again in %.0f s",
                            type(error).__name__, pause)  # fmt: skip
                await asyncio.sleep(pause)
                continue
            good = []
            for data in batch if isinstance(batch, list) else []:
                try:
                    good.append((update_id_of(data), data))
                except BadUpdate:
                    log.warning("polling: skipped an entry that is not an update")
            if not good:
                continue
            try:
                new = set(await self.inbox.accept_many([data for _, data in good]))
            except Exception as error:  # not recorded: ask again from the same offset
                log.warning("polling: could not record updates (%s)", type(error).__name__)
                await asyncio.sleep(1.0)
                continue
            offset = max(update_id for update_id, _ in good) + 1  # confirmed on the next call
            await self.deliver([(uid, data) for uid, data in good if uid in new])
