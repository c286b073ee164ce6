"""Updates that used to crash: each now gets a kind reply (or nothing), never an apology for
an error, and what the person did is still kept."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.db.models import Checkin
from tests.handlers.driver import Person
from tests.handlers.test_checkins import checkin_messages, set_up, tick

APOLOGY = "something went wrong"
TOO_OLD = "Bad Request: query is too old and response timeout expired or query id is invalid"


async def test_a_tap_telegram_refuses_to_answer_is_still_saved_without_an_apology(
    person: Person, clock
):
    await set_up(person, clock)
    clock.set(datetime(2026, 3, 3, 20, tzinfo=UTC))
    await tick(person)
    (message,) = checkin_messages(person)
    person.transport.inject_error("answerCallbackQuery", 400, TOO_OLD)
    reply = await person.tap("No", message)
    assert reply.count("answerCallbackQuery") == 1  # tried once, not again after the refusal
    assert reply.count("editMessageText") == 1
    assert APOLOGY not in reply.text.lower()
    async with person.db.sessions() as session:
        row = (await session.scalars(select(Checkin).where(Checkin.status != "skipped"))).one()
    assert row.contact == "none"


async def test_a_button_carrying_an_id_beyond_64_bits_gets_a_kind_reply_not_an_error(
    person: Person, clock
):
    await set_up(person, clock)
    for data in ("journal:read:12345678901234567890", "settings:unhard:99999999999999999999",
                 "checkin:contact:12345678901234567890.none", "journal:read:9999999999999999999",
                 "settings:unhard:9223372036854775808"):  # fmt: skip
        reply = await person.tap_data(data, person.last_keyboard_message())
        assert APOLOGY not in reply.text.lower(), data
        assert reply.count("answerCallbackQuery") == 1, data
