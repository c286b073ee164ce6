"""Goal, phase and plan tell one story: after moving on, every feature coaches moving on."""

from __future__ import annotations

from bot.services.advice import Answers
from bot.services.program import story_goal
from content.vocab import Goal
from tests.handlers.test_intake import finish_intake, profile_of


async def move_on(person) -> None:
    await person.send("/moveon")
    await person.tap("Yes, I want to move on")


async def test_after_moving_on_the_stored_goal_and_the_advice_follow_the_program(person):
    await finish_intake(person)  # said "get back together" at the intake
    assert (await profile_of(person)).goal is Goal.GET_BACK
    await move_on(person)
    profile = await profile_of(person)
    assert (profile.phase, profile.goal) == ("move_on", Goal.MOVE_ON)
    advice = await person.app.services.advice.verdict_for(
        person.user.id, Answers(they_messaged="relationship")
    )
    assert advice.situation.goal == "move_on"


async def test_after_moving_on_should_i_text_them_gives_move_on_advice(person):
    await finish_intake(person)
    await move_on(person)
    await person.send("/shouldi")
    await person.tap("Yes — about us")
    reply = await person.tap("Calm")
    assert "You've decided to move on" in reply.text


async def test_plan_shows_the_step_the_person_is_on_now_not_the_first_one(person):
    await finish_intake(person)
    reply = await person.send("/plan")
    assert "Your step now: Stop chasing" in reply.text
    await move_on(person)
    reply = await person.send("/plan")
    assert "Your step now: Let go and move on" in reply.text
    assert "Stop chasing" not in reply.text


def test_the_goal_follows_the_move_on_step_then_the_decision_then_the_intake_answer():
    assert story_goal("move_on", "try_again", Goal.GET_BACK) is Goal.MOVE_ON
    assert story_goal("decide", "try_again", Goal.UNSURE) is Goal.GET_BACK
    assert story_goal("decide", "let_go", Goal.GET_BACK) is Goal.MOVE_ON
    assert story_goal("decide", "not_sure", Goal.GET_BACK) is Goal.UNSURE
    assert story_goal("no_contact", None, Goal.GET_BACK) is Goal.GET_BACK


# --- a crisis in the middle of a flow loses nothing ----------------------------------------------


async def test_a_crisis_in_the_middle_of_a_draft_keeps_the_draft_waiting_until_after_care(person):
    await finish_intake(person)
    await person.send("/urge")
    await person.tap("A strong pull")
    reply = await person.send("I don't want to live anymore")
    assert "I'm safe now" in person.buttons()
    assert "Ask me again in 20 minutes" not in reply.text
    expected = await person.app.services.conversation.expected(person.user.id)
    assert expected is not None and expected.key == "urge.draft"
    await person.tap("I'm safe now")
    reply = await person.send("I miss you, can we talk tonight?")
    assert "Ask me again in 20 minutes" in person.buttons()


async def test_a_crisis_in_the_middle_of_the_intake_asks_the_same_question_after_care(person):
    await person.send("/start")
    await person.send("Alex")
    await person.send("I don't want to live anymore")
    await person.tap("I'm safe now")
    reply = await person.tap("Carry on where I was")
    assert "When did the breakup happen?" in reply.text
    reply = await person.tap("This week")
    assert (await profile_of(person)).breakup_when is not None


async def test_an_unknown_command_while_a_journal_entry_is_awaited_is_not_taken_as_words(person):
    await finish_intake(person)
    await person.send("/journal")
    await person.tap("Just write")
    reply = await person.send("/nosuchcommand")
    assert "characters so far" not in reply.text
    assert reply.sent  # the unknown-message reply, not silence
    expected = await person.app.services.conversation.expected(person.user.id)
    assert expected is not None and expected.key == "journal.entry"  # the entry still waits
