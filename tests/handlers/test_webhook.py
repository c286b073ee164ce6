"""Webhook mode: our own endpoint, which records each update in the inbox before it answers
200, refuses requests without Telegram's secret header, and answers 400 to anything that is
not an update."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator

import httpx

from bot.app import CoachApplication, build_application, build_services, serve
from bot.db.models import InboxUpdate
from bot.inbox import LEASE
from bot.transport import FakeUser, InProcessBotApi

SECRET = "s3cret-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.asynccontextmanager
async def webhook(
    settings, db, clock
) -> AsyncIterator[tuple[CoachApplication, InProcessBotApi, str]]:
    port = free_port()
    hooked = settings.model_copy(
        update={"mode": "webhook", "webhook_url": "https://coach.example.org/telegram",
                "webhook_secret": SECRET, "port": port}
    )  # fmt: skip
    transport = InProcessBotApi(clock=clock)
    app = build_application(
        hooked, request=transport, services=build_services(hooked, clock=clock, db=db)
    )
    stop = asyncio.Event()
    task = asyncio.create_task(serve(app, hooked, stop))
    url = f"http://127.0.0.1:{port}/telegram"
    async with httpx.AsyncClient() as client:
        for _ in range(200):  # bounded: up to 10 s for the server to listen
            with contextlib.suppress(httpx.TransportError):
                await client.post(url, content=b"")
                break
            await asyncio.sleep(0.05)
    try:
        yield app, transport, url
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)


def post(client: httpx.AsyncClient, url: str, body: bytes, secret: str | None = SECRET):
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    return client.post(url, content=body, headers=headers)


async def test_the_webhook_accepts_telegrams_secret_and_rejects_anything_else(settings, db, clock):
    async with webhook(settings, db, clock) as (app, transport, url):
        assert transport.webhook == {"url": "https://coach.example.org/telegram", "secret": SECRET}
        body = json.dumps(transport.message_update(FakeUser(), "/help")).encode()
        async with httpx.AsyncClient() as client:
            missing = await post(client, url, body, secret=None)
            wrong = await post(client, url, body, secret="guess")
            right = await post(client, url, body)
        assert (missing.status_code, wrong.status_code, right.status_code) == (403, 403, 200)
        await asyncio.wait_for(app.wait_for_updates(1), timeout=10)
        assert "What I can do" in transport.calls_to("sendMessage")[-1].result["text"]


async def test_anything_but_an_update_gets_400_and_no_traceback(settings, db, clock, caplog):
    async with webhook(settings, db, clock) as (_, _, url):
        async with httpx.AsyncClient() as client:
            codes = [
                (await post(client, url, body)).status_code
                for body in (b"null", b"[]", b"{}", b"{not json", b'{"update_id": "1"}', b"\xff")
            ]
        assert codes == [400] * 6
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]


async def test_an_update_is_in_the_inbox_before_the_200_and_a_second_delivery_is_dropped(
    settings, db, clock
):
    async with webhook(settings, db, clock) as (app, transport, url):
        update = transport.message_update(FakeUser(), "/help")
        async with httpx.AsyncClient() as client:
            first = await post(client, url, json.dumps(update).encode())
            async with db.sessions() as session:  # recorded by the time the 200 arrived
                assert await session.get(InboxUpdate, update["update_id"]) is not None
            again = await post(client, url, json.dumps(update).encode())
            assert (first.status_code, again.status_code) == (200, 200)
            await asyncio.wait_for(app.wait_for_updates(1), timeout=10)
            await asyncio.sleep(0.2)
        assert app.updates_done == 1
        assert len(transport.calls_to("sendMessage")) == 1
    assert await app.inbox.unhandled() == 0


async def test_updates_recorded_but_not_handled_before_a_crash_are_handled_after_a_restart(
    settings, db, clock
):
    transport = InProcessBotApi(clock=clock)
    crashed = build_application(
        settings, request=transport, services=build_services(settings, clock=clock, db=db)
    )
    await crashed.initialize()
    people = [FakeUser(id=5000 + i) for i in range(5)]
    for person in people:  # recorded and acknowledged, then the process dies
        await crashed.inbox.accept(transport.message_update(person, "/help"))
    await crashed.shutdown()
    # On SQLite (one process) the new run takes everything over at once; on PostgreSQL, where
    # another replica may still be working, once the dead process's claims have run out.
    clock.advance(seconds=LEASE.total_seconds() + 1)

    restarted = build_application(
        settings, request=transport, services=build_services(settings, clock=clock, db=db)
    )
    async with restarted:
        await restarted.start()
        try:
            await asyncio.wait_for(restarted.wait_for_updates(5), timeout=10)
        finally:
            await restarted.stop()
    assert sorted(c.params["chat_id"] for c in transport.calls_to("sendMessage")) == [
        p.id for p in people
    ]
    assert await restarted.inbox.unhandled() == 0


async def test_polling_confirms_updates_only_after_they_are_recorded(settings, db, clock):
    transport = InProcessBotApi(clock=clock)
    app = build_application(
        settings, request=transport, services=build_services(settings, clock=clock, db=db)
    )
    people = [FakeUser(id=6000 + i) for i in range(3)]
    for person in people:
        transport.queue(transport.message_update(person, "/help"))
    failures = []
    record = app.inbox.accept_many

    async def database_down_once(batch):
        if not failures:
            failures.append(True)
            raise ConnectionError("the database blinked")
        return await record(batch)

    app.inbox.accept_many = database_down_once  # type: ignore[method-assign]
    stop = asyncio.Event()
    task = asyncio.create_task(serve(app, settings.model_copy(update={"mode": "polling"}), stop))
    try:
        await asyncio.wait_for(app.wait_for_updates(3), timeout=15)
        await asyncio.sleep(0.2)
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=10)
    assert failures  # the first batch was not recorded, so it was not confirmed either
    assert sorted(c.params["chat_id"] for c in transport.calls_to("sendMessage")) == [
        p.id for p in people
    ]
    assert await app.inbox.unhandled() == 0
