"""Webhook mode: PTB's own server, refusing requests without the secret header."""

from __future__ import annotations

import json
import socket

import httpx

from bot.app import build_application, build_services
from bot.transport import FakeUser, InProcessBotApi


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_the_webhook_accepts_telegrams_secret_and_rejects_anything_else(settings, db, clock):
    transport = InProcessBotApi(clock=clock)
    app = build_application(
        settings, request=transport, services=build_services(settings, clock=clock, db=db)
    )
    port = free_port()
    await app.initialize()
    assert app.updater is not None
    await app.updater.start_webhook(
        listen="127.0.0.1",
        port=port,
        url_path="telegram",
        webhook_url="https://coach.example.org/telegram",
        secret_token="s3cret-token",
    )
    await app.start()
    try:
        assert transport.webhook == {
            "url": "https://coach.example.org/telegram",
            "secret": "s3cret-token",
        }
        update = transport.message_update(FakeUser(), "/help")
        url = f"http://127.0.0.1:{port}/telegram"
        async with httpx.AsyncClient() as client:
            missing = await client.post(url, json=update)
            wrong = await client.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "guess"}
            )
            right = await client.post(
                url,
                content=json.dumps(update),
                headers={
                    "X-Telegram-Bot-Api-Secret-Token": "s3cret-token",
                    "Content-Type": "application/json",
                },
            )
        assert (missing.status_code, wrong.status_code, right.status_code) == (403, 403, 200)
        await app.wait_for_updates(1)
        assert "What I can do" in transport.calls_to("sendMessage")[-1].result["text"]
        assert app.updates_done == 1
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
