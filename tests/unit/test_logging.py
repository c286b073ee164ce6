from __future__ import annotations

import asyncio
import io
import json
import logging
import socket
from collections.abc import Iterator

import httpx
import pytest

from bot.app import RedactSecrets, build_application, build_services, serve
from bot.logs import QUIET_LOGGERS, PrivateTextFilter, configure_logging
from bot.transport import FakeUser, InProcessBotApi

CRISIS = "I can't go on, Alex-Quinneth left and I want to end it all tonight"
UNPARSABLE = "Jordan-Pemberly wrote this in a message PTB cannot read"


def test_secrets_never_reach_the_logs_even_inside_tracebacks():
    formatter = RedactSecrets("%(message)s", ["123:SECRET", "hook-secret"])
    try:
        raise RuntimeError("The token `123:SECRET` was rejected")
    except RuntimeError as exc:
        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "GET /bot123:SECRET/getMe",
                                   None, (type(exc), exc, exc.__traceback__))  # fmt: skip
    text = formatter.format(record)
    assert "123:SECRET" not in text
    assert "GET /bot[redacted]/getMe" in text
    assert "The token `[redacted]` was rejected" in text


def formatted(record: logging.LogRecord) -> str:
    PrivateTextFilter().filter(record)
    return logging.Formatter("%(name)s %(message)s").format(record)


def test_a_librarys_record_keeps_its_numbers_but_not_its_text_or_objects():
    payload = {"update_id": 9, "message": {"text": CRISIS}}
    record = logging.LogRecord("telegram.ext.Updater", logging.CRITICAL, __file__, 1,
                               "Received data was: %r (update %d)", (payload, 9), None)  # fmt: skip
    text = formatted(record)
    assert "Alex-Quinneth" not in text
    assert "<dict>" in text and "update 9" in text


def test_an_exception_message_is_dropped_but_its_type_and_traceback_stay():
    try:
        raise ValueError(f"(sqlite3.IntegrityError) [parameters: ('{CRISIS}',)]")
    except ValueError as exc:
        record = logging.LogRecord("bot.errors", logging.ERROR, __file__, 1, "update %s failed",
                                   (3,), (type(exc), exc, exc.__traceback__))  # fmt: skip
    text = formatted(record)
    assert "Alex-Quinneth" not in text
    assert "update 3 failed" in text and "ValueError" in text and "Traceback" in text


def test_a_record_whose_message_is_an_object_is_replaced_by_its_type():
    record = logging.LogRecord("asyncio", logging.DEBUG, __file__, 1, {"text": CRISIS}, None, None)
    assert formatted(record) == "asyncio <dict>"


def test_our_own_records_keep_their_words_but_not_telegram_objects():
    record = logging.LogRecord("bot.app", logging.INFO, __file__, 1, "update %s: %s (%s)",
                               (4, "TimeoutError", {"text": CRISIS}), None)  # fmt: skip
    assert formatted(record) == "bot.app update 4: TimeoutError (<dict>)"


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    levels = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    configure_logging("DEBUG", ["123:SECRET"])
    stream = io.StringIO()
    for handler in root.handlers:
        handler.setStream(stream)  # type: ignore[attr-defined]
    yield stream
    root.handlers[:] = saved[1]
    root.setLevel(saved[0])
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_at_debug_neither_a_crisis_message_nor_an_unparsable_update_reaches_the_logs(
    settings, migrated_db, clock, captured_logs
):
    port = free_port()
    hooked = settings.model_copy(
        update={"mode": "webhook", "webhook_url": "https://coach.example.org/hook",
                "webhook_secret": "hook-secret", "port": port}
    )  # fmt: skip
    transport = InProcessBotApi(clock=clock)
    services = build_services(hooked, clock=clock, db=migrated_db)
    app = build_application(hooked, request=transport, services=services)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(app, hooked, stop))
    url = f"http://127.0.0.1:{port}/hook"
    headers = {"X-Telegram-Bot-Api-Secret-Token": "hook-secret",
               "Content-Type": "application/json"}  # fmt: skip
    crisis = transport.message_update(FakeUser(), CRISIS)
    unparsable = {"update_id": 99, "message": {"message_id": 1, "text": UNPARSABLE}}
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(200):
                try:
                    await client.post(url, content=b"{}", headers=headers)
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
            for body in (crisis, unparsable):
                response = await client.post(url, content=json.dumps(body), headers=headers)
                assert response.status_code == 200
        await asyncio.wait_for(app.wait_for_updates(1), timeout=10)
        for _ in range(100):  # the unparsable one is logged (by id) and dropped
            if await app.inbox.unhandled() == 0:
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)
    logs = captured_logs.getvalue()
    assert [c for c in transport.calls_to("sendMessage") if c.params["chat_id"] == 1001]
    assert "update 99 could not be read" in logs  # the log is there, and at DEBUG it is busy
    assert "DEBUG" in logs
    for secret_word in ("Alex-Quinneth", "Jordan-Pemberly", "end it all", "123:SECRET"):
        assert secret_word not in logs, secret_word
