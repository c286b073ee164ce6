"""The bot coaches in private chats only: from a group or a channel nothing private is sent,
nothing is stored, and the person's own chat stays where it is."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from bot.db.models import Base, User
from tests.handlers.driver import Person, Reply
from tests.handlers.test_checkins import checkin_messages, set_up, tick

GROUP = {"id": -1001234567890, "type": "supergroup", "title": "Friends"}


async def everything_stored(person: Person) -> dict[str, list[tuple[Any, ...]]]:
    async with person.db.sessions() as session:
        return {
            table.name: sorted(map(tuple, (await session.execute(select(table))).all()), key=repr)
            for table in Base.metadata.sorted_tables
        }


async def in_group(person: Person, text: str, chat: dict[str, Any] = GROUP) -> Reply:
    update = person.transport.message_update(person.user, text)
    update["message"]["chat"] = dict(chat)
    return await person._process(update)


async def tap_in_group(person: Person, message: dict[str, Any], data: str) -> Reply:
    update = person.transport.callback_update(person.user, message["message_id"], data)
    moved = copy.deepcopy(update)
    moved["callback_query"]["message"]["chat"] = dict(GROUP)
    return await person._process(moved)


def private_calls(person: Person, reply: Reply) -> list[str]:
    return [c.method for c in reply.calls if c.params.get("chat_id") == person.user.id]


async def test_start_in_a_group_says_once_that_coaching_is_private_and_stores_nothing(person):
    before = await everything_stored(person)
    reply = await in_group(person, "/start")
    assert [c.method for c in reply.calls] == ["sendMessage"]
    note = reply.calls[0]
    assert note.params["chat_id"] == GROUP["id"]
    link = "https://t.me/breakup_coach_bot?start=hi"
    assert link in note.result["text"]
    buttons = note.params["reply_markup"]["inline_keyboard"]
    assert buttons[0][0]["url"] == link
    assert await everything_stored(person) == before


async def test_ordinary_group_talk_and_other_bots_commands_get_no_answer(person):
    for text in ("my ex texted me again", "/start@someotherbot", "I want to text them"):
        reply = await in_group(person, text)
        assert reply.calls == [], text
    reply = await in_group(person, "/help@breakup_coach_bot")
    assert reply.count("sendMessage") == 1


async def test_a_channel_post_is_ignored_without_an_error(person):
    update = person.transport.message_update(person.user, "/start")
    message = update.pop("message")
    message.pop("from")
    message["chat"] = {"id": -1009876543210, "type": "channel", "title": "News"}
    update["channel_post"] = message
    before = await everything_stored(person)
    reply = await person._process(update)
    assert reply.calls == []
    assert await everything_stored(person) == before


async def test_a_set_up_persons_commands_in_a_group_send_nothing_private_and_store_nothing(
    person, clock
):
    await set_up(person, clock)
    await person.send("/journal")  # some private history, so there is something to leak
    before = await everything_stored(person)
    for command in ("/start", "/export", "/journal", "/progress", "/plan", "/today"):
        reply = await in_group(person, command)
        assert private_calls(person, reply) == [], command
        assert reply.count("sendDocument") == reply.count("sendPhoto") == 0, command
        assert all(c.params.get("chat_id") == GROUP["id"] for c in reply.calls), command
    assert await everything_stored(person) == before
    async with person.db.sessions() as session:
        user = await session.get(User, person.user.id)
    assert user is not None and user.chat_id == person.user.id


async def test_a_check_in_tap_from_a_group_gets_a_notice_on_the_tap_and_changes_nothing(
    person, clock
):
    await set_up(person, clock)
    clock.set(datetime(2026, 3, 3, 20, tzinfo=UTC))
    await tick(person)
    (message,) = checkin_messages(person)
    data = message["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    before = await everything_stored(person)
    reply = await tap_in_group(person, message, data)
    assert [c.method for c in reply.calls] == ["answerCallbackQuery"]
    assert "private chat" in reply.calls[0].params["text"]
    assert await everything_stored(person) == before
    # The same tap in the private chat still works.
    assert (await person.tap_data(data, message)).count("editMessageText") == 1


async def test_being_added_to_a_group_gets_the_note_once_and_being_removed_gets_nothing(person):
    bot = person.transport.bot_user
    sender = person.user.as_json()

    def membership(old: str, new: str) -> dict[str, Any]:
        return {
            "update_id": 900_000 + len(person.transport.calls),
            "my_chat_member": {
                "chat": dict(GROUP), "from": sender, "date": 0,
                "old_chat_member": {"status": old, "user": bot},
                "new_chat_member": {"status": new, "user": bot},
            },
        }  # fmt: skip

    before = await everything_stored(person)
    added = await person._process(membership("left", "member"))
    assert [c.method for c in added.calls] == ["sendMessage"]
    assert added.calls[0].params["chat_id"] == GROUP["id"]
    removed = await person._process(membership("member", "left"))
    assert removed.calls == []
    assert await everything_stored(person) == before


async def test_a_tap_on_a_message_shared_inline_gets_the_notice_and_nothing_else(person):
    update = {
        "update_id": 950_000,
        "callback_query": {"id": "77", "from": person.user.as_json(), "chat_instance": "c",
                           "inline_message_id": "AAA", "data": "checkin:contact:1.none"},
    }  # fmt: skip
    reply = await person._process(update)
    assert [c.method for c in reply.calls] == ["answerCallbackQuery"]
