"""The inbox on its own: recording, duplicates, claims, recovery, pruning, and turns; and an
update handled again after a crash, through the real Application: no reply twice, no write
twice."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select, update
from telegram import Update
from telegram.error import NetworkError
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.clock import FakeClock
from bot.db import Database
from bot.db.models import InboxUpdate, JournalEntry, ReplyLedger, UpdateWrite
from bot.inbox import LEASE, BadUpdate, Inbox, sender_of, update_id_of
from bot.once import LedgerRequest, Ledgers, TracedHTTPXRequest, kept_answer, visible
from bot.settings import Settings
from tests.handlers.driver import Person
from tests.handlers.test_intake import finish_intake
from tests.handlers.test_safety import CRISIS


def message(update_id: int, user_id: int, text: str) -> dict:
    chat = {"id": user_id, "type": "private", "first_name": "Sam"}
    sender = {"id": user_id, "is_bot": False, "first_name": "Sam"}
    return {
        "update_id": update_id,
        "message": {"message_id": update_id, "date": 0, "chat": chat, "from": sender,
                    "text": text},
    }  # fmt: skip


async def rows(db: Database) -> list[InboxUpdate]:
    async with db.sessions() as session:
        return list((await session.scalars(select(InboxUpdate))).all())


@pytest.mark.parametrize("body", [None, [], {}, "x", {"update_id": "7"}, {"update_id": True},
                                  {"update_id": -1}, {"update_id": 2**64}])  # fmt: skip
def test_a_body_that_is_not_an_update_is_refused(body):
    with pytest.raises(BadUpdate):
        update_id_of(body)


def test_the_sender_is_read_from_any_kind_of_update():
    assert sender_of(message(1, 42, "hi")) == 42
    tap = {"update_id": 2, "callback_query": {"id": "9", "from": {"id": 43}, "data": "x"}}
    assert sender_of(tap) == 43
    member = {"update_id": 3, "my_chat_member": {"chat": {"id": 44}, "from": {"id": 44}}}
    assert sender_of(member) == 44
    assert sender_of({"update_id": 4, "channel_post": {"chat": {"id": -100}}}) is None


async def test_the_same_update_delivered_twice_is_recorded_once(migrated_db, clock):
    inbox = Inbox(migrated_db, clock)
    assert await inbox.accept(message(10, 1, "first")) is True
    assert await inbox.accept(message(10, 1, "first")) is False
    assert await inbox.accept_many([message(10, 1, "x"), message(11, 1, "y")]) == [11]
    assert sorted(r.update_id for r in await rows(migrated_db)) == [10, 11]


async def test_a_handled_update_keeps_its_id_but_not_what_the_person_wrote(migrated_db, clock):
    inbox = Inbox(migrated_db, clock)
    await inbox.accept(message(20, 5, "my ex Alex said something awful"))
    (row,) = await rows(migrated_db)
    assert "Alex" in (row.payload or "")
    assert row.user_id == 5
    await inbox.done(20)
    (row,) = await rows(migrated_db)
    assert row.payload is None and row.processed_at == clock.now()
    assert await inbox.accept(message(20, 5, "again")) is False  # still known as seen


async def test_an_update_claimed_by_a_live_process_is_not_taken_over(migrated_db, clock):
    inbox = Inbox(migrated_db, clock)
    await inbox.accept(message(30, 1, "hello"))
    clock.advance(seconds=LEASE.total_seconds() / 2)
    assert await inbox.reclaim() == []
    await inbox.heartbeat([30])
    clock.advance(seconds=LEASE.total_seconds() * 0.9)
    assert await inbox.reclaim() == []  # the heartbeat renewed the claim


async def test_an_update_left_by_a_crashed_process_is_handed_back_once(migrated_db, clock):
    crashed, survivor, other = (Inbox(migrated_db, clock) for _ in range(3))
    await crashed.accept_many([message(41, 1, "a"), message(40, 2, "b")])
    await crashed.done(41)
    clock.advance(seconds=LEASE.total_seconds() + 1)
    taken = await survivor.reclaim()
    assert [(p.update_id, p.payload["message"]["text"]) for p in taken] == [(40, "b")]
    assert await other.reclaim() == []  # claimed again, so nobody else gets it


async def test_at_start_up_with_one_process_everything_unhandled_is_taken_back(migrated_db, clock):
    inbox = Inbox(migrated_db, clock)
    await inbox.accept_many([message(51, 1, "a"), message(50, 1, "b")])
    assert await inbox.reclaim() == []
    assert [p.update_id for p in await inbox.reclaim(everything=True)] == [50, 51]


async def test_handled_rows_are_pruned_after_a_day_and_unhandled_ones_never(migrated_db, clock):
    inbox = Inbox(migrated_db, clock)
    await inbox.accept_many([message(60, 1, "a"), message(61, 1, "b")])
    await inbox.done(60)
    clock.advance(hours=23)
    assert await inbox.prune() == 0
    clock.advance(hours=2)
    assert await inbox.prune() == 1
    assert [r.update_id for r in await rows(migrated_db)] == [61]
    assert await inbox.unhandled() == 1


async def test_one_persons_turns_come_one_at_a_time_and_others_do_not_wait(migrated_db, clock):
    inbox, other_process = Inbox(migrated_db, clock), Inbox(migrated_db, clock)
    order: list[str] = []
    release = asyncio.Event()

    async def first() -> None:
        async with inbox.turn(7):
            order.append("first in")
            await release.wait()
            order.append("first out")

    async def second_same_person() -> None:
        # Another process on PostgreSQL (the advisory lock); on SQLite the rule is one process,
        # so the same Inbox stands in for it.
        turns = inbox if migrated_db.is_sqlite else other_process
        async with turns.turn(7):
            order.append("second in")

    async def someone_else() -> None:
        async with other_process.turn(8):
            order.append("someone else")

    one = asyncio.create_task(first())
    await asyncio.sleep(0.05)
    two = asyncio.create_task(second_same_person())
    await asyncio.wait_for(someone_else(), timeout=5)
    await asyncio.sleep(0.2)
    assert order == ["first in", "someone else"]
    release.set()
    await asyncio.wait_for(asyncio.gather(one, two), timeout=5)
    assert order == ["first in", "someone else", "first out", "second in"]


async def test_the_stored_payload_is_the_update_as_received(migrated_db, clock):
    inbox = Inbox(migrated_db, clock)
    data = message(70, 1, "Grüße ❤")
    await inbox.accept(data)
    (row,) = await rows(migrated_db)
    assert json.loads(row.payload or "") == data


# --- handled once: the reply ledger and the write log (bot/once.py) --------------------------


def test_a_recorded_answer_keeps_ids_and_never_the_text():
    chat = {"id": 9, "type": "private", "first_name": "Sam"}
    sent = {"ok": True, "result": {"message_id": 5, "date": 1, "text": "Alex hurt me",
                                   "chat": chat, "from": {"id": 1}}}  # fmt: skip
    kept = json.loads(kept_answer(200, json.dumps(sent).encode()))
    assert kept == {"ok": True, "result": {"message_id": 5, "date": 1,
                                           "chat": {"id": 9, "type": "private"}}}  # fmt: skip
    refused = {"ok": False, "error_code": 429, "description": "Too Many Requests",
               "parameters": {"retry_after": 3}}  # fmt: skip
    assert json.loads(kept_answer(429, json.dumps(refused).encode())) == refused
    assert json.loads(kept_answer(502, b"<html>bad gateway</html>"))["ok"] is False


def test_only_calls_a_person_can_see_go_in_the_reply_ledger():
    seen = ["sendMessage", "editMessageText", "deleteMessage", "sendPhoto"]
    unseen = ["getMe", "sendChatAction", "getFile", "setMyCommands", "deleteWebhook", "getUpdates"]
    assert [visible(m) for m in seen] == [True] * len(seen)
    assert [visible(m) for m in unseen] == [False] * len(unseen)
    assert visible("answerCallbackQuery", {"callback_query_id": "1", "text": "Out of date"})
    assert not visible("answerCallbackQuery", {"callback_query_id": "1"})  # the spinner only


@pytest.fixture
async def person(settings: Settings, db: Database, clock: FakeClock) -> AsyncIterator[Person]:
    someone = Person(settings=settings, db=db, clock=clock)
    await someone.open()
    yield someone
    await someone.close()


async def ledger_rows(db: Database) -> tuple[list[ReplyLedger], list[UpdateWrite]]:
    async with db.sessions() as session:
        replies = list((await session.scalars(select(ReplyLedger))).all())
        writes = list((await session.scalars(select(UpdateWrite))).all())
    return replies, writes


async def dies_before_marking_it_handled(person: Person, action: Any) -> Any:
    """Run `action` as if the process died right after handling its update, before the inbox
    marked it handled: the update and its ledger rows stay for the next run."""
    assert person.app is not None
    inbox = person.app.inbox

    async def killed(update_id: int) -> None:
        raise ConnectionError("the process is gone")

    inbox.done = killed  # type: ignore[method-assign]
    try:
        return await action
    finally:
        del inbox.done


async def handled_again_after_restart(person: Person) -> list[Any]:
    """Restart the bot on the same database and chat, and let it take the unhandled update
    back; returns the calls it made to Telegram."""
    await person.restart()
    assert person.app is not None
    before = len(person.transport.calls)
    assert await person.app.recover(everything=True, at_once=True) == 1
    return person.transport.calls[before:]


async def test_an_update_handled_again_after_a_crash_sends_nothing_twice_and_saves_once(person):
    await finish_intake(person)
    await person.send("/journal")
    await person.tap("Just write")
    first = await dies_before_marking_it_handled(person, person.send("Alex said goodbye today"))
    assert "characters so far" in first.text
    replies, writes = await ledger_rows(person.db)
    assert [r.method for r in replies] == [c.method for c in first.calls]
    assert all(r.status == 200 and "goodbye" not in (r.answer or "") for r in replies)
    assert writes  # the entry's text was saved, with its mark

    calls = await handled_again_after_restart(person)

    assert calls == []  # every reply was on record, so none went out again
    async with person.db.sessions() as session:
        (entry,) = (await session.scalars(select(JournalEntry))).all()
    assert entry.text == "Alex said goodbye today"  # not "…today\nAlex said goodbye today"
    assert await ledger_rows(person.db) == ([], [])  # marked handled: the rows went
    reply = await person.tap("Save")
    assert "Saved to your journal" in reply.text


async def forget_the_answers(db: Database) -> None:
    """As if the process died while each recorded call was on its way: outcome unknown."""
    async with db.transaction() as session:
        await session.execute(update(ReplyLedger).values(status=None, answer=None))


async def test_a_reply_in_doubt_at_a_crash_is_taken_as_delivered(person):
    await finish_intake(person)
    first = await dies_before_marking_it_handled(person, person.send("/help"))
    assert first.sent
    await forget_the_answers(person.db)

    assert await handled_again_after_restart(person) == []


async def test_a_crisis_reply_in_doubt_at_a_crash_is_sent_again(person):
    await finish_intake(person)
    first = await dies_before_marking_it_handled(person, person.send(CRISIS))
    assert "not a crisis service" in first.text
    await forget_the_answers(person.db)

    calls = await handled_again_after_restart(person)

    again = [c.result.get("text", "") for c in calls if c.method == "sendMessage" and c.ok]
    assert len(again) == 1 and "not a crisis service" in again[0]


async def test_ledger_rows_left_without_an_unhandled_update_are_pruned(migrated_db, clock):
    inbox = Inbox(migrated_db, clock)
    await inbox.accept_many([message(80, 1, "a"), message(81, 1, "b")])
    async with migrated_db.transaction() as session:
        for update_id in (80, 81, 82):
            session.add(ReplyLedger(update_id=update_id, seq=0, method="sendMessage"))
            session.add(UpdateWrite(update_id=update_id, seq=0))
    await inbox.done(80)
    replies, writes = await ledger_rows(migrated_db)
    assert [r.update_id for r in replies] == [81, 82] and [w.update_id for w in writes] == [81, 82]
    await inbox.prune()
    replies, writes = await ledger_rows(migrated_db)
    assert [r.update_id for r in replies] == [81] and [w.update_id for w in writes] == [81]


async def test_a_call_is_noted_as_its_request_leaves_and_not_when_it_never_could(migrated_db):
    ledgers = Ledgers(migrated_db)
    noted_on_arrival: list[list[tuple[int, int | None]]] = []

    async def noted() -> list[tuple[int, int | None]]:
        replies, _ = await ledger_rows(migrated_db)
        return [(r.seq, r.status) for r in replies]

    async def telegram(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length"))  # fmt: skip
        await reader.readexactly(length)
        noted_on_arrival.append(await noted())
        chat = {"id": 1, "type": "private"}
        body = json.dumps({"ok": True, "result": {"message_id": 3, "date": 0, "chat": chat}})
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n%s" % (len(body), body.encode()))  # fmt: skip
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(telegram, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    closed = await asyncio.start_server(telegram, "127.0.0.1", 0)
    closed_port = closed.sockets[0].getsockname()[1]
    closed.close()
    await closed.wait_closed()
    request = LedgerRequest(TracedHTTPXRequest())
    await request.initialize()
    data = RequestData([RequestParameter.from_input("chat_id", 1),
                        RequestParameter.from_input("text", "hi")])  # fmt: skip
    update_ = Update.de_json(message(90, 1, "hello"), None)
    try:
        async with ledgers.handling(update_, again=False):
            sent = await request.post(f"http://127.0.0.1:{port}/botX/sendMessage", data)
            with pytest.raises(NetworkError):
                await request.post(f"http://127.0.0.1:{closed_port}/botX/sendMessage", data)
    finally:
        await request.shutdown()
        server.close()
        await server.wait_closed()
    assert sent["message_id"] == 3
    assert noted_on_arrival == [[(0, None)]]  # "sending" before Telegram had it
    assert await noted() == [(0, 200)]  # and nothing for the call that could not leave
