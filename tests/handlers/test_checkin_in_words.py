"""The check-in answered in words: a mood told as a sentence is read as the mood, contact told
in words answers the contact question, and anything else is answered as a message of its own
while the check-in waits."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.db.models import Checkin
from tests.handlers.test_checkins import checkin_messages, set_up, tick

NOT_SURE = "not sure what to do"


async def open_check_in(person, clock) -> dict:
    await set_up(person, clock)
    clock.set(datetime(2026, 3, 5, 20, tzinfo=UTC))
    await tick(person)
    return checkin_messages(person)[-1]


async def stored_mood(person) -> int | None:
    async with person.db.sessions() as session:
        return (await session.scalars(select(Checkin.mood).order_by(Checkin.id.desc()))).first()


async def test_a_bit_better_typed_when_asked_how_they_feel_is_kept_as_a_good_mood(person, clock):
    message = await open_check_in(person, clock)
    await person.tap("No", message)
    reply = await person.send("a bit better actually")
    assert NOT_SURE not in reply.text
    assert "Mood: 4/5" in reply.text
    assert "How strong was the urge" in reply.text
    assert await stored_mood(person) == 4


async def test_a_hard_day_typed_when_asked_how_they_feel_is_kept_as_a_low_mood(person, clock):
    message = await open_check_in(person, clock)
    await person.tap("No", message)
    reply = await person.send("honestly pretty awful today")
    assert "Mood: 2/5" in reply.text
    assert await stored_mood(person) == 2


async def test_a_number_typed_for_the_mood_is_still_kept_as_it_is(person, clock):
    message = await open_check_in(person, clock)
    await person.tap("No", message)
    await person.send("5")
    assert await stored_mood(person) == 5


async def test_a_slip_told_in_words_answers_the_contact_question(person, clock):
    await open_check_in(person, clock)
    reply = await person.send("I caved and texted him last night")
    assert "Contact: I did" in reply.text
    assert "only about an emergency" in reply.text


async def test_a_feeling_typed_while_the_check_in_waits_is_answered_and_the_check_in_stays(
    person, clock
):
    await open_check_in(person, clock)
    reply = await person.send("I miss him so much, I keep looking at our photos")
    assert NOT_SURE not in reply.text
    assert "For today's check-in" not in reply.text
    assert "Write it in my journal" in person.buttons()
    assert await person.app.services.checkins.open_checkin(person.user.id) is not None
