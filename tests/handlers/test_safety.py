"""Crisis care and abuse disclosures, through the real Application on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from bot.db.models import Checkin, User
from bot.services import retry
from bot.services.safety import SafetyService
from bot.transport import FakeUser
from content.vocab import AbuseAnswer, Goal, WhoEnded
from tests.handlers.driver import Person
from tests.handlers.test_intake import finish_intake, profile_of

CRISIS = "I don't want to live anymore"
SAFETY_BUTTONS = [
    "I'm safe now",
    "Show helplines again",
    "Talk to someone I trust",
    "Make my safety plan",
]


async def tick(person: Person):
    return await person.app.bot_data["scheduler"].tick(person.app.bot)


def last_bot_text(person: Person) -> str:
    return person.transport.bot_messages(person.user.id)[-1].get("text", "")


@pytest.fixture(autouse=True)
def no_waiting_between_retries(monkeypatch):
    monkeypatch.setattr(retry, "DELAYS", (0, 0))


async def test_a_crisis_message_gets_a_warm_reply_that_says_it_is_a_bot_with_helplines(person):
    person.user = FakeUser(language_code="en-GB")
    await finish_intake(person)
    reply = await person.send(CRISIS)
    assert len(reply.sent) == 1
    text = reply.sent[0]
    assert "I'm really glad you told me" in text
    assert "I'm a bot, not a crisis service" in text
    assert "Samaritans: call 116 123" in text  # the UK, from the Telegram language en-GB
    assert "call 999" in text
    assert "findahelpline.com" in text
    assert person.buttons() == SAFETY_BUTTONS


async def test_a_crisis_message_mid_intake_gets_no_intake_question_and_the_intake_keeps_its_place(
    person,
):
    await person.send("/start")
    await person.send("Alex")
    await person.tap("Today")
    reply = await person.send(CRISIS)
    assert "I'm a bot, not a crisis service" in reply.text
    assert "Who ended it?" not in reply.text
    assert "Just tap the one that fits best" not in reply.text  # not taken as an answer
    profile = await profile_of(person)
    assert profile.intake_step == "who_ended" and profile.who_ended is None
    assert profile.safety_hold
    # Afterwards the intake is exactly where it was: the next answer goes to the same question.
    reply = await person.send("they did")
    assert (await profile_of(person)).who_ended is WhoEnded.THEM
    assert "What do you two still share?" in reply.text or "share" in reply.text


async def test_a_crisis_message_as_the_very_first_answer_is_never_stored_as_the_exs_name(person):
    await person.send("/start")
    reply = await person.send("I want to kill myself")
    assert "not a crisis service" in reply.text
    assert "When did the breakup happen?" not in reply.text
    assert (await profile_of(person)).ex_name is None


async def test_im_safe_now_lifts_the_hold_and_one_tap_picks_the_intake_up_where_it_was(person):
    await person.send("/start")
    await person.send("Alex")
    await person.send(CRISIS)
    assert (await profile_of(person)).safety_hold_since is not None
    reply = await person.tap("I'm safe now")
    assert "I'm really glad" in reply.text
    assert "When did the breakup happen?" not in reply.text  # nothing asked before they are ready
    assert person.buttons() == ["Carry on where I was"]
    reply = await person.tap("Carry on where I was")
    assert "When did the breakup happen?" in reply.text  # the question they were on
    profile = await profile_of(person)
    assert not profile.safety_hold and profile.safety_hold_since is None
    await person.tap("This week")
    assert (await profile_of(person)).intake_step == "last_contact"


async def test_while_on_hold_the_daily_check_in_becomes_a_gentle_ask_until_they_say_they_are_safe(
    person, clock
):
    await finish_intake(person)
    await person.send(CRISIS)

    clock.set(datetime(2026, 3, 2, 20, tzinfo=UTC))  # the check-in hour, 20:00 in London
    assert (await tick(person)).sent == 1
    gentle = last_bot_text(person)
    assert "how you're doing" in gentle
    assert "Did you contact" not in gentle
    assert person.buttons() == ["I'm safe now", "Show helplines again"]

    await person.tap("Show helplines again")  # not "I'm safe now": the hold stays
    assert (await profile_of(person)).safety_hold

    clock.set(datetime(2026, 3, 3, 20, tzinfo=UTC))
    assert (await tick(person)).sent == 1
    assert "how you're doing" in last_bot_text(person)  # asked again the next day

    await person.tap("I'm safe now", person.transport.bot_messages(person.user.id)[-1])
    assert not (await profile_of(person)).safety_hold
    async with person.db.sessions() as session:
        statuses = (await session.scalars(select(Checkin.status).order_by(Checkin.id))).all()
    assert statuses == ["held", "held"]  # the gentle asks are not check-ins to answer later

    clock.set(datetime(2026, 3, 4, 20, tzinfo=UTC))
    assert (await tick(person)).sent == 1
    assert "Did you contact Alex today?" in last_bot_text(person)  # back to normal


async def test_on_hold_a_message_the_bot_does_not_expect_gets_a_gentle_word_not_coaching(person):
    await finish_intake(person)
    await person.send(CRISIS)
    reply = await person.send("thanks. I called my sister")
    assert "When you're feeling safe" in reply.text
    assert "Here's what I can help with" not in reply.text
    assert person.buttons() == ["I'm safe now", "Show helplines again"]


async def test_talk_to_someone_i_trust_gives_a_short_guide_with_a_first_line_to_send(person):
    await finish_intake(person)
    await person.send(CRISIS)
    reply = await person.tap("Talk to someone I trust")
    assert "Who:" in reply.text and "What to say:" in reply.text
    assert "I'm having a really hard time right now" in reply.text


async def test_show_helplines_again_repeats_the_lines(person):
    await finish_intake(person)
    await person.send(CRISIS)
    reply = await person.tap("Show helplines again")
    assert "Helplines — United Kingdom" in reply.text  # the London time zone names the UK
    assert "Samaritans: call 116 123" in reply.text
    assert "findahelpline.com" in reply.text


async def test_violence_gets_a_calm_reply_urging_them_to_step_away_and_call_for_help(person):
    await finish_intake(person)
    reply = await person.send("I'm going to hurt her when I see her")
    assert "please don't act on it" in reply.text
    assert "Step away" in reply.text
    assert "call emergency services" in reply.text
    assert "Your first step" not in reply.text
    assert (await profile_of(person)).safety_hold


async def test_an_abuse_disclosure_switches_the_plan_to_moving_on_and_says_why(person):
    person.user = FakeUser(language_code="en-US")
    await finish_intake(person)
    assert (await profile_of(person)).goal is Goal.GET_BACK
    reply = await person.send("he hit me when he was angry")
    text = reply.text
    assert "None of this is your fault" in text
    assert "signs to let go rather than try again" in text
    assert "Proven steps" in text  # the articles are named
    assert "not about getting back together" in text
    assert text.index("If someone is hurting, scaring or controlling you:") < text.index(
        "Someone to talk to:"
    )  # support lines for abuse first
    assert "National Domestic Abuse Helpline" in text  # London's zone beats the en-US language
    profile = await profile_of(person)
    assert profile.abuse is AbuseAnswer.YES
    assert profile.goal is Goal.MOVE_ON
    assert profile.phase == "move_on"
    assert not profile.safety_hold  # a disclosure is not a crisis hold
    plan = await person.send("/plan")
    assert "Let go and move on" in plan.text

    again = await person.send("he controlled all my money")
    assert "None of this is your fault" in again.text
    assert "not about getting back together" not in again.text  # said once is enough


async def test_an_abuse_disclosure_mid_intake_keeps_the_persons_place(person):
    await person.send("/start")
    await person.send("Alex")
    await person.tap("Today")
    reply = await person.send("my ex hit me")
    assert "None of this is your fault" in reply.text
    assert "we'll carry on where we were" in reply.text
    assert "Who ended it?" in reply.text
    await person.tap("They did")
    profile = await profile_of(person)
    assert profile.who_ended is WhoEnded.THEM and profile.ex_name == "Alex"
    assert profile.abuse is AbuseAnswer.YES


async def test_an_abuse_disclosure_at_the_goal_question_moves_past_it(person):
    await person.send("/start")
    await person.send("Alex")
    await person.tap("This week")
    await person.tap("Not since the breakup")
    await person.tap("They did")
    await person.tap("Done")
    await person.tap("No")
    goal_question = person.last_keyboard_message()
    reply = await person.send("honestly he hit me more than once")
    assert "Where are you?" in reply.text  # the goal question is skipped now
    zone_question = person.last_keyboard_message()
    stale = await person.tap("To get them back", goal_question)  # an old button
    assert "out of date" in stale.text and "Where are you?" in stale.text
    profile = await profile_of(person)
    assert profile.goal is Goal.MOVE_ON and profile.intake_step == "timezone"
    await person.tap("London", zone_question)
    reply = await person.tap("20:00")
    assert "Your first step: Let go and move on" in reply.text


async def test_helplines_shows_the_lines_and_the_country_can_be_chosen(person):
    await finish_intake(person)
    reply = await person.send("/helplines")
    assert "Helplines — United Kingdom" in reply.text  # from the London time zone
    assert "not a crisis service" in reply.text
    await person.tap("Choose my country")
    assert "Other / international" in person.buttons()
    assert "United Kingdom" in person.buttons()
    reply = await person.tap("United Kingdom")
    assert "Saved — I'll show you the helplines for United Kingdom" in reply.text
    assert "Samaritans: call 116 123" in reply.text
    assert (await profile_of(person)).country == "gb"

    crisis = await person.send(CRISIS)
    assert "call 999" in crisis.text  # the chosen country wins over the language

    await person.send("/helplines")
    await person.tap("Choose my country")
    reply = await person.tap("Other / international")
    assert "Helplines — Worldwide" in reply.text
    assert "Samaritans" not in reply.text
    assert (await profile_of(person)).country == "zz"


async def test_choosing_a_country_before_setup_shows_its_lines_without_storing_anything(person):
    await person.send("/helplines")
    await person.tap("Choose my country")
    reply = await person.tap("Ireland")
    assert "Once you've set things up" in reply.text
    assert "call 112" in reply.text
    async with person.db.sessions() as session:
        assert (await session.scalars(select(User))).all() == []


async def test_someone_who_never_pressed_start_still_gets_help_in_a_crisis(person):
    reply = await person.send("I want to end it all tonight")
    assert "not a crisis service" in reply.text
    assert person.buttons() == SAFETY_BUTTONS
    async with person.db.sessions() as session:
        assert (await session.scalars(select(User))).all() == []  # nothing stored uninvited


async def test_crisis_language_in_an_edited_message_or_a_caption_is_answered_too(person):
    await finish_intake(person)
    update = person.transport.message_update(person.user, CRISIS)
    update["edited_message"] = update.pop("message")
    update["edited_message"]["edit_date"] = update["edited_message"]["date"]
    reply = await person._process(update)
    assert "not a crisis service" in reply.text
    assert "didn't pick up your edit" not in reply.text

    photo = person.transport.media_update(person.user, "photo")
    photo["message"]["caption"] = "I want to die"
    reply = await person._process(photo)
    assert "not a crisis service" in reply.text


async def test_the_crisis_reply_goes_out_even_when_the_database_is_down(person, monkeypatch):
    await person.send("/start")

    async def down(*args, **kwargs):
        raise OperationalError("UPDATE profiles", {}, ConnectionRefusedError("refused"))

    monkeypatch.setattr(SafetyService, "open_hold", down)
    reply = await person.send(CRISIS)
    assert "not a crisis service" in reply.text
    assert "What should I call your ex" not in reply.text
    assert "Sorry" not in reply.text


async def test_logs_name_the_kind_of_reply_but_never_what_the_person_wrote(person, caplog):
    await finish_intake(person)
    secret = "I want to die, Alex left me for Jordan"
    with (
        caplog.at_level(logging.DEBUG, logger="handlers"),
        caplog.at_level(logging.DEBUG, logger="bot"),
    ):
        await person.send(secret)
        await person.send("Jordan scares me, he hit me again")
    assert "self_harm" in caplog.text and "abuse" in caplog.text
    assert "Jordan" not in caplog.text and "want to die" not in caplog.text
