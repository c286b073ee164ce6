"""Blocked and back: Telegram's my_chat_member notices, and a message from someone marked
blocked, switch the check-ins off and on."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.db.models import Profile, User
from tests.handlers.driver import Person, Reply
from tests.handlers.test_checkins import set_up, tick


def status(name: str, bot: dict[str, Any]) -> dict[str, Any]:
    return {"status": name, "user": bot} | ({"until_date": 0} if name == "kicked" else {})


def member_update(person: Person, old: str, new: str) -> dict[str, Any]:
    bot = person.transport.bot_user
    update = person.transport.message_update(person.user, "x")
    message = update.pop("message")
    update["my_chat_member"] = {
        "chat": message["chat"],
        "from": message["from"],
        "date": message["date"],
        "old_chat_member": status(old, bot),
        "new_chat_member": status(new, bot),
    }
    return update


async def blocks(person: Person) -> Reply:
    return await person._process(member_update(person, "member", "kicked"))


async def unblocks(person: Person) -> Reply:
    return await person._process(member_update(person, "kicked", "member"))


async def state(person: Person) -> tuple[bool, datetime | None]:
    async with person.db.sessions() as session:
        user = await session.get(User, person.user.id)
        profile = await session.get(Profile, person.user.id)
    assert user is not None and profile is not None
    return user.is_active, profile.next_checkin_at


async def test_blocking_the_bot_stops_check_ins_and_unblocking_brings_them_back(person, clock):
    await set_up(person, clock)
    reply = await blocks(person)
    assert reply.calls == []  # nothing can be sent to someone who blocked the bot
    assert await state(person) == (False, None)
    clock.set(datetime(2026, 3, 3, 20, tzinfo=UTC))
    assert (await tick(person)).sent == 0
    reply = await unblocks(person)
    assert reply.count("sendMessage") == 0  # no message just for coming back
    active, due = await state(person)
    assert active is True and due is not None
    clock.set(datetime(2026, 3, 4, 20, tzinfo=UTC))
    assert (await tick(person)).sent == 1


async def test_any_message_from_someone_marked_blocked_brings_their_check_ins_back(person, clock):
    await set_up(person, clock)
    await blocks(person)
    await person.send("hi")  # not /start: they unblocked and just wrote
    active, due = await state(person)
    assert active is True and due is not None
    clock.set(datetime(2026, 3, 3, 20, tzinfo=UTC))
    assert (await tick(person)).sent == 1


async def test_coming_back_keeps_check_ins_off_when_the_person_had_stopped_them(person, clock):
    await set_up(person, clock)
    await person.app.services.checkins.stop(person.user.id)
    await blocks(person)
    await unblocks(person)
    assert await state(person) == (True, None)


async def test_a_block_notice_before_anyone_set_anything_up_is_harmless(person):
    reply = await blocks(person)
    assert reply.calls == []
    reply = await unblocks(person)
    assert reply.calls == []
