"""A small faulty HTTP proxy between the bot and the Bot API emulator.

It forwards every Bot API call (`/bot<token>/<method>`) and can, per call: add latency, answer
400 for one chat, answer 429 with a retry_after, or drop the connection without an answer. It
also keeps the record the fault tests judge by: every message call it saw, per chat, with the
kind of message (check-in, follow-up, other, from the buttons' callback data) and whether the
emulator accepted it, and when each person's update was handed to the bot and when the bot's
first reply to it went out.

It runs its own event loop in a thread of the test process, listens on loopback only, and is
configured by setting attributes on `proxy.faults` while it runs.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import json
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import httpx

if TYPE_CHECKING:
    from tests.e2e.harness import BotProcess, Emulator

LOOPBACK = "127.0.0.1"
SPREAD_S = 20.0  # the interactive people of the burst test act over this long
MESSAGE_METHODS = ("sendMessage", "editMessageText", "editMessageReplyMarkup", "sendPhoto",
                   "sendDocument")  # fmt: skip


@dataclass
class Faults:
    latency_s: float = 0.0  # added before forwarding each message call
    refuse_chat: int | None = None  # answer 400 to message calls for this chat
    refuse_description: str = "Bad Request: can't parse entities"
    too_many: int = 0  # answer this many message calls with 429
    retry_after: int = 1
    drop_every: int = 0  # drop the connection of every n-th message call (0: never)


@dataclass
class Call:
    method: str
    chat_id: int | None
    kind: str  # checkin | follow_up | other
    status: int | None = None  # the status the bot got (None: dropped, or still in flight)
    delivered: bool = False  # the emulator stored it (whatever reached the bot)
    started: float = 0.0
    finished: float | None = None


@dataclass
class Record:
    calls: list[Call] = field(default_factory=list)
    update_seen: dict[int, float] = field(default_factory=dict)  # chat -> first handed over
    first_reply: dict[int, float] = field(default_factory=dict)  # chat -> first reply sent

    counts: dict[str, dict[int, int]] = field(default_factory=lambda: defaultdict(dict))

    def delivered(self, kind: str) -> dict[int, int]:
        """Messages of this kind the emulator accepted, per chat (kept as they come, so a test
        polling it does not slow the proxy down)."""
        return dict(self.counts[kind])

    def count(self, call: Call) -> None:
        if call.method == "sendMessage":
            chat = call.chat_id or 0
            self.counts[call.kind][chat] = self.counts[call.kind].get(chat, 0) + 1

    def attempts(self, chat_id: int) -> int:
        return sum(1 for c in self.calls if c.chat_id == chat_id and c.method == "sendMessage")

    def in_flight(self) -> int:
        return sum(1 for c in self.calls if c.method in MESSAGE_METHODS and c.finished is None)


def _kind(params: dict[str, Any]) -> str:
    markup = params.get("reply_markup") or ""
    if isinstance(markup, str):
        try:
            markup = json.loads(markup) if markup else {}
        except ValueError:
            markup = {}
    data = [
        b.get("callback_data", "") for row in (markup or {}).get("inline_keyboard", []) for b in row
    ]
    if any(d.startswith("checkin:") for d in data):
        return "checkin"
    if any(d.startswith("urge:") for d in data):
        return "follow_up"
    return "other"


def _params(headers: dict[str, str], body: bytes) -> dict[str, Any]:
    kind = headers.get("content-type", "")
    if "json" in kind:
        with contextlib.suppress(ValueError):
            return json.loads(body or b"{}")
    if "x-www-form-urlencoded" in kind:
        return {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
    return {}


class FaultyProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.faults = Faults()
        self.record = Record()
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.AbstractServer | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="faulty-proxy", daemon=True)
        self._message_calls = 0
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    # -- life cycle

    def start(self) -> FaultyProxy:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the faulty proxy did not start")
        return self

    def close(self) -> None:
        async def stop() -> None:
            if self._server is not None:
                self._server.close()
            await self._client.aclose()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(stop(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._client = httpx.AsyncClient(
            base_url=self.upstream, timeout=None, trust_env=False,
            limits=httpx.Limits(max_connections=500, max_keepalive_connections=100),
        )  # fmt: skip
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._serve, LOOPBACK, 0, backlog=512)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    # -- one connection, many requests (keep-alive)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                method, target, _ = line.decode("latin-1").split(" ", 2)
                headers: dict[str, str] = {}
                while (h := await reader.readline()) not in (b"\r\n", b"\n", b""):
                    name, _, value = h.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length") or 0))
                answer = await self._handle(method, target, headers, body)
                if answer is None:  # drop the connection without an answer
                    return
                status, payload, kind = answer
                writer.write(
                    f"HTTP/1.1 {status} X\r\ncontent-type: {kind}\r\n"
                    f"content-length: {len(payload)}\r\n\r\n".encode("latin-1")
                    + payload
                )
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError):
            return
        except asyncio.CancelledError:  # the proxy is closing: end quietly, nothing to report
            return
        finally:
            writer.close()

    async def _forward(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> httpx.Response:
        keep = {k: v for k, v in headers.items() if k in ("content-type",)}
        return await self._client.request(method, target, headers=keep, content=body)

    async def _handle(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, bytes, str] | None:
        api_method = target.rsplit("/", 1)[-1].split("?")[0]
        if api_method not in MESSAGE_METHODS:
            response = await self._forward(method, target, headers, body)
            if api_method == "getUpdates" and response.status_code == 200:
                self._note_updates(response.content)
            return response.status_code, response.content, "application/json"
        params = _params(headers, body)
        chat_id = None
        with contextlib.suppress(TypeError, ValueError):
            chat_id = int(params.get("chat_id"))
        call = Call(api_method, chat_id, _kind(params), started=time.monotonic())
        with self._lock:
            self.record.calls.append(call)
            self._message_calls += 1
            number = self._message_calls
            if chat_id is not None and chat_id not in self.record.first_reply:
                self.record.first_reply[chat_id] = call.started
        faults = self.faults
        if faults.latency_s:
            await asyncio.sleep(faults.latency_s)
        if faults.refuse_chat is not None and chat_id == faults.refuse_chat:
            body = {"ok": False, "error_code": 400, "description": faults.refuse_description}
            return self._finish(call, 400, body)
        if faults.too_many > 0:
            faults.too_many -= 1
            body = {"ok": False, "error_code": 429, "description": "Too Many Requests",
                    "parameters": {"retry_after": faults.retry_after}}  # fmt: skip
            return self._finish(call, 429, body)
        response = await self._forward(method, target, headers, body)
        call.delivered = response.status_code == 200
        if call.delivered:
            with self._lock:
                self.record.count(call)
        if faults.drop_every and number % faults.drop_every == 0:
            call.finished = time.monotonic()
            return None
        call.status, call.finished = response.status_code, time.monotonic()
        return response.status_code, response.content, "application/json"

    @staticmethod
    def _finish(call: Call, status: int, body: dict[str, Any]) -> tuple[int, bytes, str]:
        call.status, call.finished = status, time.monotonic()
        return status, json.dumps(body).encode(), "application/json"

    def _note_updates(self, content: bytes) -> None:
        with contextlib.suppress(ValueError, AttributeError):
            now = time.monotonic()
            for update in json.loads(content).get("result", []):
                source = update.get("message") or update.get("callback_query") or {}
                chat = source.get("chat") or (source.get("message") or {}).get("chat") or {}
                if chat.get("id") is not None:
                    with self._lock:
                        self.record.update_seen.setdefault(int(chat["id"]), now)
                        # a reply counts only once its update has been handed over
                        self.record.first_reply.pop(int(chat["id"]), None)


@contextlib.contextmanager
def faulty_proxy(upstream: str) -> Iterator[FaultyProxy]:
    proxy = FaultyProxy(upstream).start()
    try:
        yield proxy
    finally:
        proxy.close()


def interactive_p95_under_burst(
    emulator: Emulator, proxy: FaultyProxy, bot: BotProcess, *, due: int = 2000, people: int = 200
) -> tuple[float, dict[str, Any]]:
    """2,000 check-ins due at once while `people` others start talking to the bot over
    SPREAD_S (half type, half tap): the p95 of update handed to the bot → its first reply
    sent, in ms. Shared with the bench."""
    from tests.e2e.harness import Person, make_due, open_chats, wait_until

    talkers = [Person(emulator, user_id=400_000 + i) for i in range(people)]
    for person in talkers:  # each gets a first question with buttons, before the burst
        person.send("/start")
    wait_until(
        lambda: all(p.user_id in proxy.record.first_reply for p in talkers),
        60,
        "the first questions",
        bot.log_tail,
    )
    open_chats(emulator, range(500_000, 500_000 + due))
    make_due(bot.database, range(500_000, 500_000 + due))
    first_buttons: dict[int, dict[str, Any]] = {}

    def all_asked() -> bool:  # the question with buttons may follow a first greeting
        for p in talkers:
            if p.user_id not in first_buttons:
                with contextlib.suppress(AssertionError):
                    keyboard = p.last_keyboard_message()["reply_markup"]["inline_keyboard"]
                    first_buttons[p.user_id] = keyboard[0][0]
        return len(first_buttons) == len(talkers)

    wait_until(all_asked, 60, "the first questions with buttons", bot.log_tail, interval=0.5)
    wait_until(lambda: len(proxy.record.delivered("checkin")) >= 30, 30, "the burst to start")
    proxy.record.update_seen.clear()
    start = time.monotonic()
    # Spread over SPREAD_S: their own replies (up to two messages an update) stay inside the
    # overall ~30/s, so any wait beyond that comes from the burst of scheduled sends.
    for i, person in enumerate(talkers):
        time.sleep(max(0.0, start + i * SPREAD_S / people - time.monotonic()))
        if i % 2:
            person.send("Alex")
        else:
            person.tap_data(first_buttons[person.user_id]["callback_data"])
    ids = [p.user_id for p in talkers]
    seen, replied = proxy.record.update_seen, proxy.record.first_reply
    wait_until(lambda: all(c in seen and c in replied for c in ids), 60, "every reply")
    waits = sorted((proxy.record.first_reply[c] - proxy.record.update_seen[c]) * 1000 for c in ids)
    p95 = waits[int(0.95 * (len(waits) - 1))]
    scheduled_meanwhile = len(proxy.record.delivered("checkin"))
    # How many check-ins went out while each person waited: a reply queued behind the burst
    # waits for hundreds; one that overtakes it waits only for what its own handling takes.
    checkin_starts = sorted(
        c.started for c in proxy.record.calls if c.kind == "checkin" and c.method == "sendMessage"
    )
    ahead = sorted(
        bisect.bisect_left(checkin_starts, replied[c])
        - bisect.bisect_right(checkin_starts, seen[c])
        for c in ids
    )
    return p95, {
        "p50_ms": waits[len(waits) // 2],
        "checkins_sent_meanwhile": scheduled_meanwhile,
        "checkins_ahead_p95": ahead[int(0.95 * (len(ahead) - 1))],
    }
