"""Safety end to end through the real Application, on SQLite and PostgreSQL: the three levels,
the direct question, danger from the ex, the safety plan, health and age notes, the "automated
coach" disclosure, and care in the middle of every flow without losing the flow."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from bot.context import SERVICES_KEY
from bot.db.models import RiskSignal, SafetyPlanPart, SafetyState
from bot.services import retry
from bot.transport import FakeUser
from content.safety_plan import load_safety_plan
from tests.handlers.driver import Person
from tests.handlers.test_intake import finish_intake, profile_of

CRISIS = "I don't want to live anymore"
UNCLEAR = "what's the point anymore"
ALSO_UNCLEAR = "sometimes i wish i could just disappear"
DANGER = "he said he's coming to my house to make me pay"
# Fear of the ex that the patterns do not read and the semantic layer does: asked about first.
MAYBE_DANGER = "he said he'd make me disappear"
DANGER_QUESTION = "Are you afraid of what your ex might do to you?"
QUESTION = "Are you thinking about ending your life?"
PLEA = "I miss you so much. Please come back, I'll do anything"


@pytest.fixture(autouse=True)
def no_waiting_between_retries(monkeypatch):
    monkeypatch.setattr(retry, "DELAYS", (0, 0))


def services(person: Person):
    return person.app.bot_data[SERVICES_KEY]


async def state_of(person: Person) -> SafetyState | None:
    async with person.db.sessions() as session:
        return await session.get(SafetyState, person.user.id)


# --- the three levels ---------------------------------------------------------------------------


async def test_an_unclear_message_gets_the_direct_question_with_three_buttons_and_no_coaching(
    person,
):
    await finish_intake(person)
    reply = await person.send(UNCLEAR)
    assert QUESTION in reply.text
    assert person.buttons() == ["Yes", "No, I'm safe — just hurting", "I'm not sure"]
    assert "Here's what I can help with" not in reply.text
    assert (await state_of(person)).asked_at is not None


async def test_yes_to_the_direct_question_gets_crisis_care_and_a_hold(person):
    await finish_intake(person)
    await person.send(UNCLEAR)
    reply = await person.tap("Yes")
    assert "Samaritans: call 116 123" in reply.text  # London's zone names the UK
    assert "call 999" in reply.text
    assert "I'm safe now" in person.buttons()
    assert "Make my safety plan" in person.buttons()
    assert (await profile_of(person)).safety_hold
    assert (await state_of(person)).answer == "yes"


async def test_no_im_safe_is_believed_and_the_same_kind_of_message_is_not_asked_about_again(
    person, clock
):
    await finish_intake(person)
    await person.send(UNCLEAR)
    reply = await person.tap("No, I'm safe")
    assert "Thank you for telling me" in reply.text
    assert not (await profile_of(person)).safety_hold
    again = await person.send("what's the point of any of it")
    assert QUESTION not in again.text
    assert "not a crisis service" not in again.text
    # Heard, like any feeling, with nothing about texting the ex.
    assert "not sure what to do with that" not in again.text
    assert "Write it in my journal" in person.buttons()
    assert not {"Should I text them?", "I want to text them"} & set(person.buttons())
    # A clear signal still gets care at once.
    crisis = await person.send(CRISIS)
    assert "not a crisis service" in crisis.text
    clock.advance(minutes=31)
    assert QUESTION in (await person.send(UNCLEAR)).text  # half an hour later: asked again


async def test_not_sure_gets_care_the_lines_and_a_safety_plan_offer(person):
    await finish_intake(person)
    await person.send(UNCLEAR)
    reply = await person.tap("I'm not sure")
    assert "Not being sure is okay" in reply.text
    assert "Samaritans" in reply.text
    assert "Make my safety plan" in person.buttons()
    assert (await profile_of(person)).safety_hold


async def test_unclear_signals_that_add_up_within_half_an_hour_get_crisis_care(person, clock):
    await finish_intake(person)
    assert QUESTION in (await person.send(UNCLEAR)).text
    clock.advance(minutes=10)
    reply = await person.send(ALSO_UNCLEAR)
    assert "not a crisis service" in reply.text  # care, not a second question
    async with person.db.sessions() as session:
        levels = (await session.scalars(select(RiskSignal.level))).all()
    assert levels == ["ask", "ask"]  # each message's own outcome, never its words


async def test_unclear_signals_far_apart_are_each_asked_about(person, clock):
    await finish_intake(person)
    assert QUESTION in (await person.send(UNCLEAR)).text
    clock.advance(minutes=45)
    assert QUESTION in (await person.send(ALSO_UNCLEAR)).text


async def test_a_message_with_no_signal_gets_coaching(person):
    await finish_intake(person)
    reply = await person.send("I want to text Alex")
    assert QUESTION not in reply.text and "not a crisis service" not in reply.text
    assert "How strong" in reply.text or "pull" in reply.text


# --- danger from the ex -------------------------------------------------------------------------


async def test_danger_from_the_ex_gets_the_emergency_number_the_abuse_line_and_a_checklist(person):
    await finish_intake(person)
    reply = await person.send(DANGER)
    text = reply.text
    assert "If you are in immediate danger, call 999" in text
    assert "National Domestic Abuse Helpline" in text
    for step in ("A safe place", "Someone to tell", "Ready to go", "Save evidence", "Block"):
        assert step in text
    assert "Your first step" not in text and "How strong" not in text  # no coaching
    assert (await state_of(person)).danger_reported_at is not None
    profile = await profile_of(person)
    assert profile.phase == "move_on" and profile.goal.value == "move_on"
    assert await services(person).safety.reconnection_blocked(person.user.id)


async def test_danger_cancels_a_held_draft_with_a_kind_word_and_it_never_comes_back(person, clock):
    await finish_intake(person)
    await person.send("/urge")
    await person.tap("A strong pull")
    await person.send(PLEA)
    await person.tap("Ask me again in 20 minutes")
    reply = await person.send(DANGER)
    assert "I've let go of the message you were holding" in reply.text
    clock.advance(minutes=25)
    result = await person.app.bot_data["scheduler"].tick(person.app.bot)
    assert result.follow_ups == 0


async def test_danger_helplines_follow_the_persons_time_zone_not_their_language(person):
    person.user = FakeUser(language_code="en-US")
    await finish_intake(person)  # London
    reply = await person.send(DANGER)
    assert "call 999" in reply.text and "call 911" not in reply.text


# --- the safety plan ----------------------------------------------------------------------------


async def test_the_safety_plan_is_filled_in_part_by_part_with_skip_and_back(person):
    await finish_intake(person)
    reply = await person.send("/safetyplan")
    assert "Your safety plan" in reply.text
    reply = await person.tap("Make my safety plan")
    assert "Part 1 of 6" in reply.text and "My warning signs" in reply.text
    assert person.buttons() == ["Skip this part", "Back"]
    reply = await person.send("Lying awake replaying it")
    assert "Saved" in reply.text and "Part 2 of 6" in reply.text
    reply = await person.tap("Back")
    assert "Part 1 of 6" in reply.text
    reply = await person.send("Lying awake at 3am")  # replaced
    reply = await person.tap("Skip this part")  # part 2 skipped
    assert "Part 3 of 6" in reply.text
    for words in ("The café", "Sam, call any time", "My GP", "Pills to my sister"):
        reply = await person.send(words)
    assert "That's fine — your plan is saved" in reply.text  # part 2 still missing
    plan = await services(person).safety_plan.plan(person.user.id)
    assert plan.parts["warning_signs"] == "Lying awake at 3am"
    assert plan.missing == ("coping",)
    await person.send("/safetyplan")
    reply = await person.tap("Fill in the missing parts")
    assert "Part 2 of 6" in reply.text
    reply = await person.send("A hot shower")
    assert "Your plan is complete" in reply.text


async def test_a_part_can_be_changed_later_and_the_plan_cleared(person):
    await finish_intake(person)
    await services(person).safety_plan.save(person.user.id, "coping", "A walk")
    await person.send("/safetyplan")
    reply = await person.tap("Change a part")
    assert "Which part" in reply.text
    reply = await person.tap("What I can do on my own")
    assert "Part 2 of 6" in reply.text
    await person.send("A long walk with music")
    assert (await services(person).safety_plan.plan(person.user.id)).parts[
        "coping"
    ] == "A long walk with music"
    await person.send("/safetyplan")
    await person.tap("Clear my plan")
    reply = await person.tap("Yes, clear it")
    assert "cleared" in reply.text
    assert not (await services(person).safety_plan.plan(person.user.id)).started


async def test_the_safety_plan_is_shown_first_in_a_later_crisis_reply_and_exported(person):
    await finish_intake(person)
    for part in load_safety_plan().ids:
        await services(person).safety_plan.save(person.user.id, part, f"my {part} words")
    reply = await person.send(CRISIS)
    text = reply.sent[0]
    assert text.index("Your safety plan") < text.index("not a crisis service")
    assert "my warning_signs words" in text
    assert "Make my safety plan" not in person.buttons()  # complete: not offered again
    await person.send("/export")
    call = next(c for c in reversed(person.transport.calls) if c.method == "sendDocument")
    data = json.loads(call.files["document"])
    parts = {row["part"] for row in data["tables"]["safety_plan_parts"]}
    assert parts == set(load_safety_plan().ids)


async def test_the_safety_plan_offered_after_a_crisis_starts_at_the_first_part(person):
    await finish_intake(person)
    await person.send(CRISIS)
    reply = await person.tap("Make my safety plan")
    assert "Part 1 of 6" in reply.text
    await person.send("Scrolling old photos")
    async with person.db.sessions() as session:
        assert (await session.scalars(select(SafetyPlanPart.part))).all() == ["warning_signs"]


async def test_safetyplan_is_in_the_command_list_and_help(person):
    assert "safetyplan" in {c["command"] for c in person.transport.commands}
    reply = await person.send("/help")
    assert "/safetyplan" in reply.text


# --- drafts, health, age, the disclosure --------------------------------------------------------


async def test_a_draft_using_self_harm_as_leverage_is_flagged_and_the_writer_checked_on(person):
    await finish_intake(person)
    await person.send("/urge")
    await person.tap("A strong pull")
    reply = await person.send("if you don't come back I'll kill myself")
    assert QUESTION in reply.text  # a gentle check on the writer
    assert "ties your safety to their answer" in reply.text  # and a finding in the review
    question = next(
        m for m in person.transport.bot_messages(person.user.id) if QUESTION in m.get("text", "")
    )
    reply = await person.tap("I'm not sure", question)
    assert "Samaritans" in reply.text


async def test_a_health_signal_gets_a_practical_nudge_along_with_the_normal_answer(person):
    await finish_intake(person)
    reply = await person.send("I haven't slept in days and I want to text Alex")
    assert "a glass of water" in reply.text
    assert "pull" in reply.text  # the urge flow still starts
    assert "not a crisis service" not in reply.text


async def test_someone_under_18_gets_youth_lines_and_a_trusted_adult_once_and_is_not_locked_out(
    person,
):
    await finish_intake(person)
    reply = await person.send("I'm 15 and I want to text my ex")
    assert "trusted adult" in reply.text
    assert "Childline" in reply.text
    assert "pull" in reply.text  # carries on as usual
    assert (await state_of(person)).is_minor
    again = await person.send("im 15 btw")
    assert "trusted adult" not in again.text


@pytest.mark.parametrize("question", ["are you a real person?", "am I talking to a bot?"])
async def test_asked_whether_it_is_a_person_the_bot_says_it_is_an_automated_coach(person, question):
    await finish_intake(person)
    reply = await person.send(question)
    assert "I'm an automated coach, not a person" in reply.text


async def test_start_help_and_privacy_say_it_is_an_automated_coach(person):
    assert "automated coach, not a person" in (await person.send("/start")).text
    assert "automated coach, not a person" in (await person.send("/help")).text
    assert "automated coach, not a person" in (await person.send("/privacy")).text


# --- care in the middle of a flow, and the flow kept ----------------------------------------------


async def test_a_crisis_in_the_urge_flow_gets_care_and_the_draft_is_reviewed_after_im_safe(person):
    await finish_intake(person)
    await person.send("/urge")
    await person.tap("A strong pull")
    reply = await person.send(CRISIS)
    assert "not a crisis service" in reply.text and "Want me to hold it?" not in reply.text
    await person.tap("I'm safe now")
    reply = await person.send(PLEA)
    assert "Want me to hold it?" in reply.text


async def test_a_danger_message_in_the_urge_flow_gets_care_and_the_flow_goes_on(person):
    await finish_intake(person)
    await person.send("/urge")
    await person.tap("A strong pull")
    reply = await person.send(DANGER)
    assert "immediate danger" in reply.text and "Want me to hold it?" not in reply.text
    reply = await person.send("Can we swap the handover to Sunday?")
    assert "Let's let this one go" in reply.text  # reviewed, but nothing held for later
    assert "Ask me again in 20 minutes" not in person.buttons()


async def test_a_crisis_in_should_i_text_them_gets_care_and_the_questions_go_on(person):
    await finish_intake(person)
    reply = await person.send("/shouldi")
    question = person.last_keyboard_message()
    await person.send(CRISIS)
    await person.tap("I'm safe now")
    reply = await person.tap("No", question)
    assert "not a crisis service" not in reply.text
    assert person.buttons()  # the next question


async def test_a_crisis_in_the_journal_gets_care_and_the_entry_is_kept(person):
    await finish_intake(person)
    await person.send("/journal")
    await person.tap("Just write")
    await person.send("Today was long")
    reply = await person.send(CRISIS)
    assert "not a crisis service" in reply.text
    await person.tap("I'm safe now")
    await person.send("but I got through it")
    reply = await person.tap("Save")
    assert "Saved" in reply.text or "saved" in reply.text


async def test_a_crisis_while_adding_a_hard_date_gets_care_and_the_date_is_still_taken(person):
    await finish_intake(person)
    await person.send("/settings")
    await person.tap("Hard dates")
    await person.tap("Add a date")
    reply = await person.send(CRISIS)
    assert "not a crisis service" in reply.text
    await person.tap("I'm safe now")
    reply = await person.send("4 March — our anniversary")
    assert "Saved: 4 Mar — our anniversary" in reply.text


async def test_a_crisis_while_filling_the_safety_plan_gets_care_and_the_part_is_asked_again(
    person,
):
    await finish_intake(person)
    await person.send("/safetyplan")
    await person.tap("Make my safety plan")
    reply = await person.send(CRISIS)
    assert "not a crisis service" in reply.text
    await person.tap("I'm safe now")
    reply = await person.tap("Carry on where I was")
    assert "Part 1 of 6" in reply.text


async def test_danger_in_the_middle_of_the_intake_gets_care_and_the_intake_keeps_its_place(person):
    await person.send("/start")
    await person.send("Alex")
    await person.tap("Today")
    reply = await person.send(DANGER)
    assert "immediate danger" in reply.text
    assert "Who ended it?" in reply.text  # asked again after the care
    await person.tap("They did")
    profile = await profile_of(person)
    assert profile.who_ended.value == "them" and profile.ex_name == "Alex"


async def test_a_crisis_while_changing_a_setting_gets_care_and_the_setting_is_asked_again(person):
    await finish_intake(person)
    await person.send("/settings")
    await person.tap("Change check-in time")
    reply = await person.send(CRISIS)
    assert "not a crisis service" in reply.text
    await person.tap("I'm safe now")
    await person.tap("Carry on where I was")
    assert "22:00" in person.buttons()  # the check-in question again
    await person.tap("22:00")
    assert (await profile_of(person)).checkin_hour == 22


async def test_screen_outcomes_are_removed_by_the_tick_half_an_hour_later(person, clock):
    await finish_intake(person)
    await person.send(UNCLEAR)
    scheduler = person.app.bot_data["scheduler"]
    await scheduler.tick(person.app.bot)
    async with person.db.sessions() as session:
        assert len((await session.scalars(select(RiskSignal))).all()) == 1
    clock.advance(minutes=31)
    await scheduler.tick(person.app.bot)
    async with person.db.sessions() as session:
        assert (await session.scalars(select(RiskSignal))).all() == []


async def test_someone_who_never_pressed_start_is_offered_to_set_up_before_a_safety_plan(person):
    await person.send(CRISIS)
    reply = await person.tap("Make my safety plan")
    assert "Let's set things up first" in reply.text


# --- a possible danger is asked about before the danger reply -----------------------------------


async def test_a_message_that_may_be_fear_of_the_ex_gets_a_question_not_the_danger_reply(person):
    await finish_intake(person)
    reply = await person.send(MAYBE_DANGER)
    assert DANGER_QUESTION in reply.text
    assert person.buttons() == ["Yes, I'm scared of them", "No, I'm safe from them",
                                "I'm not sure"]  # fmt: skip
    assert "Here's what I can help with" not in reply.text
    assert not await services(person).safety.reconnection_blocked(person.user.id)


@pytest.mark.parametrize("answer", ["Yes, I'm scared of them", "I'm not sure"])
async def test_afraid_of_them_or_not_sure_gets_the_danger_reply_and_reconnection_off(
    person, answer
):
    await finish_intake(person)
    await person.send(MAYBE_DANGER)
    reply = await person.tap(answer)
    assert "you don't deserve to be frightened" in reply.text
    assert "call 999" in reply.text
    assert await services(person).safety.reconnection_blocked(person.user.id)
    assert (await state_of(person)).danger_reported_at is not None


async def test_safe_from_them_is_believed_coaching_goes_on_and_it_is_not_asked_again(person):
    await finish_intake(person)
    await person.send(MAYBE_DANGER)
    reply = await person.tap("No, I'm safe from them")
    assert "glad you're safe" in reply.text
    assert not await services(person).safety.reconnection_blocked(person.user.id)
    again = await person.send(MAYBE_DANGER)
    assert DANGER_QUESTION not in again.text
    assert "you don't deserve to be frightened" not in again.text
    assert "not sure what to do with that" not in again.text
    assert not {"Should I text them?", "I want to text them"} & set(person.buttons())
    # A clear danger still gets the danger reply at once.
    assert "you don't deserve to be frightened" in (await person.send(DANGER)).text
