"""The awkward cases: long texts, media, edits, stale, forged and doubled taps, updates that
arrive together, blocking and unblocking, and a database that blinks or stays down."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.context import CoachContext
from bot.db.models import Checkin, ContactEvent, Profile, User
from bot.services import retry
from bot.services.intake import IntakeService
from bot.transport import MAX_TEXT, FakeUser, plain_text
from content.vocab import BreakupWhen, WhoEnded
from handlers.replies import keyboard, reply
from tests.handlers.driver import Person
from tests.handlers.test_intake import finish_intake, profile_of


@pytest.fixture(autouse=True)
def no_waiting_between_retries(monkeypatch):
    monkeypatch.setattr(retry, "DELAYS", (0, 0))


async def tick(person: Person):
    return await person.app.bot_data["scheduler"].tick(person.app.bot)


def data_of(message: dict, label: str) -> str:
    for row in message["reply_markup"]["inline_keyboard"]:
        for b in row:
            if label in b["text"]:
                return b["callback_data"]
    raise AssertionError(f"no button {label!r}")


def database_down() -> OperationalError:
    return OperationalError("UPDATE profiles", {}, ConnectionRefusedError("connection refused"))


async def as_someone_else(person: Person, user: FakeUser, text: str):
    update = person.transport.message_update(user, text)
    await person.app.process_update(Update.de_json(update, person.app.bot))


async def count(person: Person, model) -> int:
    async with person.db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


# --- long texts ------------------------------------------------------------------------------


async def test_a_reply_longer_than_telegram_allows_goes_out_in_parts_with_valid_html(person):
    quoted = "<i>" + ("You wrote: I keep thinking about what went wrong. " * 150) + "</i>"
    text = "<b>Your draft</b>\n" + quoted + "\n\n" + ("And one more line &amp; more.\n" * 60)
    update = Update.de_json(person.transport.message_update(person.user, "hi"), person.app.bot)
    context = CoachContext.from_update(update, person.app)
    before = len(person.transport.calls)
    markup = keyboard([[("Keep it", "menu:help:")]])
    await reply(update, context, text, markup)
    sends = [c for c in person.transport.calls[before:] if c.method == "sendMessage"]
    assert len(sends) >= 2
    assert all(c.ok for c in sends)  # the recording Bot API checks HTML and the 4096 limit
    assert all(len(plain_text(c.params["text"], "HTML")) <= MAX_TEXT for c in sends)
    assert all("reply_markup" not in c.params for c in sends[:-1])
    assert "reply_markup" in sends[-1].params  # the buttons come with the last part
    words = " ".join(plain_text(c.params["text"], "HTML") for c in sends).split()
    assert words == plain_text(text, "HTML").split()  # nothing lost, nothing doubled


# --- media where text or a tap is expected -------------------------------------------------------


def test_a_keyboard_goes_to_telegram_exactly_as_ptb_would_send_it():
    rows = [[("Yes 💚", "a:yes"), ("No", "a:no:1.2")], [("Not sure <b>", "b:")]]
    built = keyboard(rows)
    stock = InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )
    assert built.to_dict() == stock.to_dict()
    assert built == stock


@pytest.mark.parametrize("kind", ["sticker", "photo", "voice", "document", "location"])
async def test_media_after_setup_gets_a_kind_reply_and_the_menu(person, kind):
    await finish_intake(person)
    reply_ = await person.send_media(kind)
    assert "I can only read text messages and button taps" in reply_.text
    assert "Something went wrong" not in reply_.text
    assert "My plan" in person.buttons()


async def test_media_before_setup_offers_to_begin(person):
    reply_ = await person.send_media("voice")
    assert "Let's set things up first" in reply_.text
    assert person.buttons() == ["Let's begin"]


async def test_media_while_a_check_in_waits_repeats_its_question_with_the_buttons(person, clock):
    await finish_intake(person)
    clock.set(datetime(2026, 3, 2, 20, tzinfo=UTC))
    await tick(person)
    reply_ = await person.send_media("sticker")
    assert "For today's check-in: Did you contact Alex today?" in reply_.text
    assert person.buttons() == ["No", "I did", "They contacted me"]


async def test_media_in_the_middle_of_the_settings_flow_is_met_kindly(person):
    await finish_intake(person)
    await person.send("/settings")
    await person.tap("Change time zone")
    reply_ = await person.send_media("photo")
    assert "I can only read words and taps" in reply_.text
    reply_ = await person.send("Tokyo")
    assert "Saved" in reply_.text


# --- edited messages -------------------------------------------------------------------------


async def test_an_edited_message_is_answered_kindly_and_never_taken_as_an_answer(person):
    await person.send("/start")
    await person.send("Alex")
    update = person.transport.message_update(person.user, "Bob")
    update["edited_message"] = update.pop("message")
    update["edited_message"]["edit_date"] = update["edited_message"]["date"]
    reply_ = await person._process(update)
    assert reply_.sent == [
        "I only read messages as they're first sent, so I didn't pick up your edit. "
        "If it matters, please send it again as a new message."
    ]
    profile = await profile_of(person)
    assert profile.ex_name == "Alex" and profile.intake_step == "breakup"
    await person.tap("This week")  # the intake goes on as before
    assert (await profile_of(person)).breakup_when is BreakupWhen.THIS_WEEK


# --- stale, forged and doubled taps -------------------------------------------------------------


async def test_a_button_from_before_a_restart_says_it_is_out_of_date_and_shows_the_menu(person):
    await person.send("/start")
    first_question = person.last_keyboard_message()
    await finish_intake_from_the_name(person)
    await person.restart()
    reply_ = await person.tap("Skip", first_question)
    answers = [c for c in reply_.calls if c.method == "answerCallbackQuery"]
    assert "no longer works" in answers[0].params["text"]
    assert "out of date" in reply_.text
    assert "My plan" in person.buttons()
    assert (await profile_of(person)).ex_name == "Alex"  # nothing changed


async def finish_intake_from_the_name(person: Person):
    await person.send("Alex")
    await person.tap("This week")
    await person.tap("Not since the breakup")
    await person.tap("They did")
    await person.tap("Done")
    await person.tap("No")
    await person.tap("To get them back")
    await person.tap("London")
    await person.tap("20:00")


async def test_a_stale_button_mid_intake_shows_the_question_they_are_on(person):
    await person.send("/start")
    first_question = person.last_keyboard_message()
    await person.send("Alex")
    await person.tap("Today")
    await person.restart()
    reply_ = await person.tap("Skip", first_question)
    assert "out of date" in reply_.text
    assert "Who ended it?" in reply_.text
    reply_ = await person.tap("They did")
    assert (await profile_of(person)).who_ended is WhoEnded.THEM


async def test_a_button_whose_action_no_longer_exists_after_a_content_change_is_stale(person):
    await finish_intake(person)
    await person.send("/help")
    menu = person.last_keyboard_message()
    reply_ = await person.tap_data("journal:write_v1:", menu)
    assert "out of date" in reply_.text
    assert "My plan" in person.buttons()


async def test_a_double_tap_on_an_intake_answer_counts_once_and_sends_no_menu(person):
    await person.send("/start")
    await person.send("Alex")
    question = person.last_keyboard_message()
    this_week = data_of(question, "This week")
    await person.tap_data(this_week, question)
    second = await person.tap_data(this_week, question)
    assert second.count("sendMessage") == 0  # no menu, no question again
    assert second.count("answerCallbackQuery") == 1  # the spinner stops
    profile = await profile_of(person)
    assert profile.breakup_when is BreakupWhen.THIS_WEEK and profile.intake_step == "last_contact"


async def test_a_double_tap_on_a_check_in_button_records_the_contact_once(person, clock):
    await finish_intake(person)
    clock.set(datetime(2026, 3, 2, 20, tzinfo=UTC))
    await tick(person)
    message = person.last_keyboard_message()
    them = data_of(message, "They contacted me")
    await person.tap_data(them, message)
    second = await person.tap_data(them, message)
    assert "Something went wrong" not in second.text
    assert await count(person, ContactEvent) == 1


async def test_forged_callback_data_with_another_persons_check_in_changes_nothing(person, clock):
    other = FakeUser(id=2002, first_name="Robin")
    await finish_intake(person)
    await as_someone_else(person, other, "/start")
    clock.set(datetime(2026, 3, 2, 20, tzinfo=UTC))
    await tick(person)
    async with person.db.sessions() as session:
        theirs = await session.scalar(select(Checkin.id).where(Checkin.user_id == person.user.id))
    # Robin, who is not set up, forges taps on Sam's check-in from a message of their own.
    robin_message = person.transport.bot_messages(other.id)[-1]
    for data in (f"checkin:contact:{theirs}.me", f"checkin:mood:{theirs}.1", "checkin:mood:x.1",
                 f"checkin:urge:{theirs}.strong", "checkin:explode:1.1"):  # fmt: skip
        update = person.transport.callback_update(other, robin_message["message_id"], data)
        await person.app.process_update(Update.de_json(update, person.app.bot))
    async with person.db.sessions() as session:
        checkin = await session.get(Checkin, theirs)
        assert checkin.contact is None and checkin.mood is None and checkin.urge is None
    assert await count(person, ContactEvent) == 0


async def test_forged_safety_and_privacy_taps_do_nothing_harmful(person):
    await finish_intake(person)
    await person.send("/help")
    menu = person.last_keyboard_message()
    for data in ("safety:country:xx", "safety:country:", "safety:explode:", "privacy:delete:",
                 "privacy:export:1001", "menu:plan:9999", "intake:goal:get_back"):  # fmt: skip
        reply_ = await person.tap_data(data, menu)
        assert "Something went wrong" not in reply_.text
    profile = await profile_of(person)
    assert profile.ex_name == "Alex" and profile.country is None
    assert await count(person, User) == 1


# --- several updates at once ------------------------------------------------------------------


async def test_several_updates_from_one_person_arriving_at_once_end_in_a_sane_state(person):
    await person.send("/start")
    await person.send("Alex")
    question = person.last_keyboard_message()
    transport, app = person.transport, person.app
    updates = [
        transport.callback_update(person.user, question["message_id"], data_of(question, "Today")),
        transport.message_update(person.user, "today"),
        transport.message_update(person.user, "/help"),
        transport.media_update(person.user, "sticker"),
    ]
    before = len(transport.calls)
    await asyncio.gather(*(app.process_update(Update.de_json(u, app.bot)) for u in updates))
    calls = transport.calls[before:]
    assert all(c.ok for c in calls if c.method == "sendMessage")
    assert not any("Something went wrong" in (c.params.get("text") or "") for c in calls)
    profile = await profile_of(person)
    assert profile.breakup_when is BreakupWhen.TODAY
    assert profile.intake_step == "who_ended"  # moved on once, not twice
    await person.send("they did")  # and the intake carries on from there
    assert (await profile_of(person)).who_ended is WhoEnded.THEM


# --- blocking and unblocking -------------------------------------------------------------------


async def test_a_person_who_blocked_and_unblocked_the_bot_is_active_again_and_gets_check_ins(
    person, clock
):
    await finish_intake(person)
    clock.set(datetime(2026, 3, 2, 20, tzinfo=UTC))
    person.transport.inject_error("sendMessage", 403, "Forbidden: bot was blocked by the user")
    report = await tick(person)
    assert report.blocked == 1
    async with person.db.sessions() as session:
        assert (await session.get(User, person.user.id)).is_active is False
        assert (await session.get(Profile, person.user.id)).next_checkin_at is None

    clock.set(datetime(2026, 3, 3, 9, tzinfo=UTC))  # they unblock and come back
    reply_ = await person.send("/start")
    assert "Welcome back" in reply_.text
    async with person.db.sessions() as session:
        assert (await session.get(User, person.user.id)).is_active is True
        assert (await session.get(Profile, person.user.id)).next_checkin_at == datetime(
            2026, 3, 3, 20, tzinfo=UTC
        )
    clock.set(datetime(2026, 3, 3, 20, tzinfo=UTC))
    assert (await tick(person)).sent == 1


# --- the database ---------------------------------------------------------------------------------


async def test_a_database_that_fails_once_is_retried_and_the_answer_is_kept(person, monkeypatch):
    await person.send("/start")
    # The failure comes from inside the transaction that stores the answer.
    real = IntakeService._profile
    failures = []

    async def fails_once(self, *args, **kwargs):
        if not failures:
            failures.append(1)
            raise database_down()
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(IntakeService, "_profile", fails_once)
    reply_ = await person.send("Alex")
    assert failures == [1]
    assert "When did the breakup happen?" in reply_.text
    assert "Sorry" not in reply_.text
    assert (await profile_of(person)).ex_name == "Alex"


async def test_a_database_that_stays_down_gets_a_reply_saying_nothing_was_saved(
    person, monkeypatch, caplog
):
    await person.send("/start")
    attempts = []

    async def always_down(self, *args, **kwargs):
        attempts.append(1)
        raise database_down()

    with monkeypatch.context() as patched:
        patched.setattr(IntakeService, "_profile", always_down)
        reply_ = await person.send("Alex the secret name")
    assert len(attempts) == len(retry.DELAYS) + 1
    assert reply_.sent == [
        "Sorry — I couldn't reach my notes just now, so your last message wasn't saved. "
        "Please send it again in a minute."
    ]
    assert "Alex the secret name" not in caplog.text
    assert (await profile_of(person)).ex_name is None
    # Back up: sending it again works, right where they were.
    reply_ = await person.send("Alex")
    assert "When did the breakup happen?" in reply_.text
    assert (await profile_of(person)).ex_name == "Alex"
