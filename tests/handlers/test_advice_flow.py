"""The "Should I text them?" and "They texted me" flows, driven through the real Application
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from bot.db.models import Answer, Base, ContactEvent
from bot.services.advice import READINESS_FORM
from bot.services.listening import asks_should_i, says_they_texted
from content.helplines import format_helplines, helplines_for
from content.program import load_program
from handlers.advice import CODES, pack, unpack
from handlers.callbacks import MAX_BYTES, encode
from tests.handlers.driver import Person, Reply
from tests.handlers.test_intake import finish_intake, profile_of

KIND_LABELS = {
    "emergency": "An emergency",
    "logistics": "Practical stuff (kids, work, home)",
    "casual": "Just being friendly",
    "relationship": "About the relationship",
    "hostile": "Hostile or hurtful",
}


def html(reply: Reply) -> list[str]:
    """The texts as sent, with their HTML."""
    return [c.params["text"] for c in reply.calls if c.method == "sendMessage" and c.ok]


def question_fields(reply: Reply) -> list[str]:
    """Which of the flow's questions this reply asked (by the buttons it carries)."""
    asked = []
    for call in reply.calls:
        markup = call.params.get("reply_markup") if call.method == "sendMessage" else None
        rows = (markup or {}).get("inline_keyboard", []) if isinstance(markup, dict) else []
        data = [b["callback_data"] for row in rows for b in row]
        if data and data[0].startswith("advice:ask:"):  # the options, then « Back
            asked.append(call.params["text"])
    return asked


async def walk(person: Person, *labels: str) -> tuple[Reply, int]:
    """Tap through the questions; returns the last reply and how many questions were asked."""
    reply = await person.send("/shouldi")
    asked = len(question_fields(reply))
    for label in labels:
        reply = await person.tap(label)
        asked += len(question_fields(reply))
    return reply, asked


async def contact_events(person: Person) -> list[ContactEvent]:
    async with person.db.sessions() as session:
        return list((await session.scalars(select(ContactEvent))).all())


async def tick_readiness(person: Person) -> None:
    async with person.db.transaction() as session:
        for item in load_program().form(READINESS_FORM).items:
            if item.auto is None:  # "no contact done" is ticked by the streak itself
                session.add(Answer(user_id=person.user.id, form=READINESS_FORM, item=item.id,
                                   value="done", answered_at=person.clock.now()))  # fmt: skip


async def nowhere_stored(person: Person, words: str) -> None:
    async with person.db.sessions() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).all():
                assert not any(words in str(value) for value in row), table.name


# --- ways in ---------------------------------------------------------------------------------


async def test_the_shouldi_command_starts_with_a_kind_word_and_the_first_question(person):
    await finish_intake(person)
    reply = await person.send("/shouldi")
    assert "Let's think it through together" in reply.text
    assert "Any message from Alex lately?" in reply.text
    assert "Yes — just being friendly" in person.buttons()


async def test_shouldi_is_registered_with_telegram_with_a_description(person):
    described = {c["command"]: c["description"] for c in person.transport.commands}
    assert described["shouldi"]


async def test_the_main_menu_has_a_should_i_text_them_button(person):
    await finish_intake(person)
    await person.send("/help")
    assert "Should I text them?" in person.buttons()
    reply = await person.tap("Should I text them?")
    assert "Any message from Alex lately?" in reply.text


@pytest.mark.parametrize(
    "typed", ["can I message him?", "should I text her", "is it ok to call my ex"]
)
async def test_typed_questions_about_texting_the_ex_start_the_flow(person, typed):
    await finish_intake(person)
    reply = await person.send(typed)
    assert "Let's think it through together" in reply.text
    assert "I'm not sure what to do with that" not in reply.text


async def test_before_setting_up_the_person_is_offered_lets_begin(person):
    reply = await person.send("/shouldi")
    assert "Let's set things up first" in reply.text
    assert person.buttons() == ["Let's begin"]
    reply = await person.send("should I text him?")
    assert "Let's set things up first" in reply.text


# --- the questions ---------------------------------------------------------------------------


async def test_the_flow_asks_at_most_four_questions_each_shown_answered(person):
    await finish_intake(person)
    reply, asked = await walk(person, "No", "I miss them", "Sad", "No")
    assert asked == 4
    assert "Not yet — you have 30 days of no contact still to go." in reply.text
    # Every question was answered in place and lost its buttons.
    assert "Unanswered messages: No" in reply.edits


async def test_after_abuse_the_unanswered_question_is_not_asked_as_it_changes_nothing(person):
    await finish_intake(person, abuse="Yes")
    reply, asked = await walk(person, "No", "I miss them", "Sad")
    assert asked == 3
    assert "letting go is the kinder choice" in reply.text


async def test_after_they_texted_today_only_the_feeling_is_asked(person):
    await finish_intake(person)
    await person.send("He texted me")
    await person.tap("Just being friendly")
    reply = await person.send("/shouldi")
    assert "How are you feeling right now?" in reply.text
    reply = await person.tap("Calm")
    assert "Yes, reply — warmly, briefly" in reply.text


async def person_profile(person):
    from bot.db.models import Profile

    async with person.db.sessions() as session:
        return await session.get(Profile, person.user.id)


# --- each decision ---------------------------------------------------------------------------


async def test_a_crisis_gets_the_crisis_care_with_helplines_and_no_coaching(person):
    await finish_intake(person)
    reply, _ = await walk(person, "No", "I miss them", "I'm in crisis")
    assert "I'm a bot, not a crisis service" in reply.text
    zone = (await person_profile(person)).timezone
    expected = format_helplines(helplines_for(None, person.user.language_code, timezone=zone))
    assert "call 999" in expected  # the London time zone names the UK
    assert expected in html(reply)[-1]
    assert "Why" not in reply.text and "•" not in reply.text.split("immediate danger")[0]
    assert person.buttons() == [
        "I'm safe now",
        "Show helplines again",
        "Talk to someone I trust",
        "Make my safety plan",  # offered after any crisis until the plan is complete
    ]
    profile = await person_profile(person)
    assert profile.safety_hold  # the daily nudges pause until they say they are safe


async def test_anger_gets_do_not_text_with_the_days_left_and_sourced_reasons(person, clock):
    await finish_intake(person)
    clock.advance(days=5)
    reply, _ = await walk(person, "No", "I miss them", "Angry")
    text = html(reply)[-1]
    assert text.startswith("<b>Not now — wait until the anger")
    assert "No contact: 25 more days to go." in reply.text
    assert "Anger and desperation write messages" in reply.text
    assert "— <i>Five steps" in text
    assert text.count("\n• ") >= 2
    assert "I still want to" in person.buttons()


async def test_the_articles_differ_note_shows_each_side_with_its_sources(person):
    await finish_intake(person)
    reply, _ = await walk(person, "No", "I miss them", "Sad", "No")
    assert "The articles differ" not in reply.text  # behind its button, not in the verdict
    reply = await person.tap("Where the articles differ")
    assert "The articles differ: How long and how strict no contact should be" in reply.text
    assert "At least four full weeks" in reply.text
    assert "Usually somewhere between 21 and 45 days" in reply.text
    assert "— <i>Proven steps</i>" in html(reply)[-1]


async def test_something_practical_gets_logistics_only_and_suggested_messages(person):
    await finish_intake(person, shared=("Kids",))
    reply, _ = await walk(person, "No", "Something practical", "Calm")
    assert "Keep it to the practical matter" in reply.text
    reply = await person.tap("Suggest a message")
    sent = html(reply)
    assert "Tap one to copy it" in sent[0]
    assert len(sent) == 4
    assert all(s.startswith("<code>") and s.endswith("</code>") for s in sent[1:])
    assert person.buttons() == ["Back to menu"]


async def test_a_friendly_message_from_them_gets_a_reply_verdict(person):
    await finish_intake(person)
    reply, asked = await walk(person, "Yes — just being friendly", "Calm")
    assert asked == 2  # the reason is "to reply", and nothing of yours waits for an answer
    assert "Yes, reply — warmly, briefly" in reply.text
    assert "Suggest a message" in person.buttons()
    assert "I still want to" not in person.buttons()


async def test_after_no_contact_and_the_checklist_a_calm_person_may_reach_out(person, clock):
    await finish_intake(person)
    clock.advance(days=31)
    await tick_readiness(person)
    reply, _ = await walk(person, "No", "I miss them", "Calm", "No")
    assert "You're ready to send one short, light, friendly message" in reply.text
    assert "Your no-contact stretch is complete." in reply.text
    reply = await person.tap("Suggest a message")
    assert "I finally read the book" in reply.text
    assert len(html(reply)) == 4


async def test_i_still_want_to_gets_an_honest_answer_and_a_place_to_write_it(person, clock):
    await finish_intake(person)
    clock.advance(days=2)
    await walk(person, "No", "I miss them", "Sad", "No")
    reply = await person.tap("I still want to")
    assert "That pull is real" in reply.text
    assert "Not yet — you have 28 days of no contact still to go." in reply.text
    assert "write the message here instead of sending it" in reply.text
    await person.tap("Write it here instead")
    reply = await person.send("I miss you so much, please come back to me")
    assert "Nothing was sent" in reply.text
    await nowhere_stored(person, "please come back")
    reply = await person.send("hello there")
    assert "Nothing was sent" not in reply.text


async def test_back_to_menu_shows_the_menu(person):
    await finish_intake(person)
    await walk(person, "No", "I miss them", "Sad", "No")
    reply = await person.tap("Back to menu")
    assert "What would you like to do?" in reply.text
    assert "Should I text them?" in person.buttons()


# --- they texted me ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "headline"),
    [
        ("emergency", "Yes, reply — but only about the emergency"),
        ("logistics", "Keep it to the practical matter"),
        ("casual", "Yes, reply — warmly, briefly"),
        ("relationship", "Reply calmly — listen"),
        ("hostile", "Don't reply to this one"),
    ],
)
async def test_they_texted_me_says_whether_and_how_to_answer_and_records_it(person, kind, headline):
    await finish_intake(person)
    started = (await profile_of(person)).no_contact_started_on
    reply = await person.send("Alex texted me")
    assert "What kind of message did Alex send?" in reply.text
    reply = await person.tap(KIND_LABELS[kind])
    assert headline in reply.text
    assert "doesn't break your no contact" in reply.text
    [event] = await contact_events(person)
    assert (event.initiated_by, event.topic, event.breaks_no_contact) == ("them", kind, False)
    profile = await profile_of(person)
    assert profile.no_contact_started_on == started
    assert profile.slips == 0
    if kind in ("casual", "emergency", "logistics", "relationship"):
        assert "A reply you could send:" in reply.text
        assert "<code>" in html(reply)[-1]
    else:
        assert "<code>" not in html(reply)[-1]


async def test_a_pasted_message_is_read_then_the_kind_is_asked_and_nothing_is_kept(person):
    await finish_intake(person)
    await walk(person, "No", "I miss them", "Sad", "No")
    reply = await person.tap("They texted me")
    assert "paste it here" in reply.text
    reply = await person.send("can we talk tonight, I have been thinking about us")
    assert "I'm not keeping a copy" in reply.text
    assert "About the relationship" in person.buttons()
    reply = await person.tap("About the relationship")
    assert "Reply calmly" in reply.text
    await nowhere_stored(person, "thinking about us")
    assert [e.topic for e in await contact_events(person)] == ["relationship"]


# --- stale and forged buttons ---------------------------------------------------------------


async def test_a_second_tap_on_an_answered_question_asks_nothing_again(person):
    await finish_intake(person)
    await person.send("/shouldi")
    question = person.last_keyboard_message()
    data = question["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    await person.tap("No")
    reply = await person.tap_data(data, question)
    assert question_fields(reply) == []
    assert "Something went wrong" not in reply.text


async def test_a_double_tap_on_a_kind_records_the_message_once(person):
    await finish_intake(person)
    await person.send("she texted me")
    question = person.last_keyboard_message()
    await person.tap("Just being friendly")
    await person.tap_data("advice:kind:casual", question)
    assert len(await contact_events(person)) == 1


@pytest.mark.parametrize(
    "data",
    ["advice:ask:zzzz", "advice:ask:", "advice:ask:n_x_1", "advice:kind:bogus", "advice:nope:",
     "advice:msgs:?", "advice:still:12345"],
)  # fmt: skip
async def test_forged_buttons_in_the_advice_area_do_nothing_harmful(person, data):
    await finish_intake(person)
    await person.send("/help")
    menu = person.last_keyboard_message()
    reply = await person.tap_data(data, menu)
    assert "Something went wrong" not in reply.text
    assert question_fields(reply) == []
    assert await contact_events(person) == []


@pytest.mark.parametrize("data", ["advice:ask:_y__", "advice:ask:nmx0", "advice:msgs:hyg1"])
async def test_made_up_but_well_formed_answers_only_give_advice_and_store_nothing(person, data):
    await finish_intake(person)
    await person.send("/help")
    reply = await person.tap_data(data, person.last_keyboard_message())
    assert "Something went wrong" not in reply.text
    assert reply.text
    assert await contact_events(person) == []


# --- the pieces --------------------------------------------------------------------------------


def test_every_answer_the_engine_knows_has_a_one_letter_code():
    from bot.services.advice import OPTIONS

    for name, options in OPTIONS.items():
        assert set(options) <= set(CODES[name])
        assert len(set(CODES[name].values())) == len(CODES[name])


def test_answers_survive_the_trip_through_a_button_within_64_bytes():
    from bot.services.advice import Answers

    answers = Answers("relationship", "reply", "desperate", 1)
    assert unpack(pack(answers)) == answers
    assert unpack(pack(Answers())) == Answers()
    for action in ("ask", "msgs", "still"):
        assert len(encode("advice", action, pack(answers)).encode()) <= MAX_BYTES


@pytest.mark.parametrize(
    "typed",
    ["Can I message him?", "should I text her", "Is it OK to call my ex?", "should i just text him",
     "Would it be a good idea to text her?", "I really want to text him"],
)  # fmt: skip
def test_phrases_that_ask_about_texting_the_ex_are_recognised(typed):
    assert asks_should_i(typed)


@pytest.mark.parametrize("typed", ["hello", "can I message you?", "I texted him", "plan"])
def test_other_phrases_are_left_alone(typed):
    assert not asks_should_i(typed)
    assert not says_they_texted(typed, "Alex")


@pytest.mark.parametrize("typed", ["He texted me", "my ex just messaged me!", "Alex called me"])
def test_phrases_that_say_they_got_in_touch_are_recognised(typed):
    assert says_they_texted(typed, "Alex")


def test_the_clock_in_these_tests_starts_on_a_monday():
    # The day counts above assume the FakeClock's default start.
    from bot.clock import FakeClock

    assert FakeClock().now().date() == date(2026, 3, 2)
