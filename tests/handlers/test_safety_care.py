"""Care that follows the person, end to end on SQLite and PostgreSQL: after a crisis in the
middle of any flow, "I'm safe now" (or "No, I'm safe") offers one tap that asks again exactly
what was pending."""

from __future__ import annotations

import pytest

from bot.services import retry
from tests.handlers.driver import Person
from tests.handlers.test_advice_flow import walk
from tests.handlers.test_intake import finish_intake

CRISIS = "I don't want to live anymore"
UNCLEAR = "what's the point anymore"
PLEA = "I miss you so much. Please come back, I'll do anything"
CARRY_ON = "Carry on where I was"
PICK_UP = "pick up where you left off"


@pytest.fixture(autouse=True)
def no_waiting_between_retries(monkeypatch):
    monkeypatch.setattr(retry, "DELAYS", (0, 0))


async def awaited(person: Person) -> str | None:
    expected = await person.app.services.conversation.expected(person.user.id)
    return expected.key if expected is not None else None


async def safe_again(person: Person) -> None:
    """Say "I'm safe now" and check that the offer to carry on (and nothing more) came."""
    reply = await person.tap("I'm safe now")
    assert PICK_UP in reply.text
    assert person.buttons() == [CARRY_ON]


async def test_after_a_crisis_in_an_urge_draft_one_tap_asks_for_the_draft_again(person):
    await finish_intake(person)
    await person.send("/urge")
    await person.tap("A strong pull")
    await person.send(CRISIS)
    await safe_again(person)
    reply = await person.tap(CARRY_ON)
    assert "Here's where we were" in reply.text
    assert "Paste or type the message here" in reply.text
    reply = await person.send(PLEA)
    assert "Ask me again in 20 minutes" in person.buttons()


async def test_after_a_crisis_in_a_journal_entry_one_tap_brings_back_the_entry_and_its_save(
    person,
):
    await finish_intake(person)
    await person.send("/journal")
    await person.tap("Just write")
    await person.send("Today was long")
    await person.send(CRISIS)
    await safe_again(person)
    reply = await person.tap(CARRY_ON)
    assert "Here's where we were" in reply.text
    assert person.buttons() == ["Save", "Cancel"]
    await person.send("but I got through it")
    reply = await person.tap("Save")
    assert "aved" in reply.text


async def test_after_a_crisis_while_adding_a_hard_date_one_tap_asks_for_the_date_again(person):
    await finish_intake(person)
    await person.send("/settings")
    await person.tap("Hard dates")
    await person.tap("Add a date")
    asked = person.transport.bot_messages(person.user.id)[-1]["text"]
    await person.send(CRISIS)
    await safe_again(person)
    reply = await person.tap(CARRY_ON)
    assert asked in reply.text
    assert person.buttons() == ["Never mind"]
    reply = await person.send("4 March — our anniversary")
    assert "Saved: 4 Mar — our anniversary" in reply.text


async def test_after_a_crisis_while_pasting_what_the_ex_sent_one_tap_asks_for_it_again(person):
    await finish_intake(person)
    await walk(person, "No", "I miss them", "Sad", "No")
    await person.tap("They texted me")
    assert await awaited(person) == "advice.pasted"
    await person.send(CRISIS)
    await safe_again(person)
    reply = await person.tap(CARRY_ON)
    assert "What kind of message did" in reply.text
    assert "About the relationship" in person.buttons()
    reply = await person.send("can we talk tonight, I have been thinking about us")
    assert "I'm not keeping a copy" in reply.text


async def test_no_im_safe_to_the_direct_question_also_offers_to_carry_on(person):
    await finish_intake(person)
    await person.send("/urge")
    await person.tap("A strong pull")
    reply = await person.send(UNCLEAR)
    assert "Are you thinking about ending your life?" in reply.text
    reply = await person.tap("No, I'm safe")
    assert PICK_UP in reply.text
    reply = await person.tap(CARRY_ON)
    assert "Paste or type the message here" in reply.text
    assert await awaited(person) == "urge.draft"


async def test_with_nothing_pending_im_safe_offers_nothing_to_carry_on(person):
    await finish_intake(person)
    await person.send(CRISIS)
    reply = await person.tap("I'm safe now")
    assert "I'm really glad" in reply.text
    assert PICK_UP not in reply.text
    assert CARRY_ON not in reply.text


async def test_carry_on_tapped_after_the_flow_was_finished_says_so_and_shows_the_menu(person):
    await finish_intake(person)
    await person.send("/urge")
    await person.tap("A strong pull")
    await person.send(CRISIS)
    await safe_again(person)
    offer = person.last_keyboard_message()
    await person.send(PLEA)  # the draft, typed without the tap: reviewed as usual
    assert await awaited(person) != "urge.draft"
    reply = await person.tap(CARRY_ON, offer)
    assert "nothing left to pick up" in reply.text
    assert "Paste or type the message here" not in reply.text
    assert person.buttons()  # the menu


# --- the ex's threat of self-harm, not the person's -----------------------------------------------

EX_THREAT = "I'll kill myself if you don't come back"
NOT_YOURS = "Their safety is not yours to carry alone"


async def profile_of(person: Person):
    from bot.db.models import Profile

    async with person.db.sessions() as session:
        return await session.get(Profile, person.user.id)


async def test_a_pasted_threat_from_the_ex_gets_care_for_them_and_a_check_on_the_person(person):
    await finish_intake(person)
    await walk(person, "No", "I miss them", "Sad", "No")
    await person.tap("They texted me")
    reply = await person.send(EX_THREAT)
    assert NOT_YOURS in reply.text
    assert "call 999 for them" in reply.text  # London's zone names the UK
    assert "Samaritans" in reply.text  # a line to pass on
    assert "that is pressure" in reply.text
    assert "how are you holding up" in reply.text
    assert "not a crisis service" not in reply.text  # not the person's own crisis
    assert "Reply calmly" not in reply.text and "Which of these fits" not in reply.text
    assert person.buttons() == ["Show helplines", "This is hitting me hard too"]
    assert not (await profile_of(person)).safety_hold
    assert await awaited(person) is None  # the pasted message was dealt with here


async def test_a_pasted_threat_against_the_person_is_still_danger_to_them(person):
    await finish_intake(person)
    await walk(person, "No", "I miss them", "Sad", "No")
    await person.tap("They texted me")
    reply = await person.send("if I can't have you nobody can")
    assert "immediate danger" in reply.text and NOT_YOURS not in reply.text


async def test_a_pasted_wish_to_die_that_speaks_to_no_one_gets_the_persons_own_care(person):
    await finish_intake(person)
    await walk(person, "No", "I miss them", "Sad", "No")
    await person.tap("They texted me")
    reply = await person.send("I don't want to live anymore")
    assert "not a crisis service" in reply.text and NOT_YOURS not in reply.text


async def test_a_reported_threat_in_free_text_is_the_exs_and_not_danger_to_the_person(person):
    await finish_intake(person)
    reply = await person.send("he said he'd kill himself if I leave")
    assert NOT_YOURS in reply.text
    assert "immediate danger" not in reply.text and "not a crisis service" not in reply.text
    assert not await person.app.services.safety.reconnection_blocked(person.user.id)
    reply = await person.send("Alex texted me: I'll kill myself if you don't come back")
    assert NOT_YOURS in reply.text and "Alex may be in danger" in reply.text


async def test_in_the_set_up_with_no_name_the_care_reads_well_and_the_question_comes_back(
    person,
):
    await person.send("/start")
    await person.tap('Skip — just say "them"')
    reply = await person.send("he said he'd kill himself if I leave")
    assert "If they may be in danger right now" in reply.text
    assert "When did the breakup happen?" in reply.text  # the set-up goes on


async def test_a_threat_the_ex_keeps_making_quoted_in_an_urge_draft_keeps_the_draft_waiting(
    person,
):
    await finish_intake(person)
    await person.send("/urge")
    await person.tap("A strong pull")
    reply = await person.send("she keeps saying she'll end it all if I don't answer")
    assert NOT_YOURS in reply.text
    assert "Want me to hold it?" not in reply.text
    assert await awaited(person) == "urge.draft"


async def test_the_persons_own_words_beside_the_exs_threat_still_get_crisis_care(person):
    await finish_intake(person)
    reply = await person.send(
        'he texted me "I\'ll end it all if you go" and honestly I want to die too'
    )
    assert "not a crisis service" in reply.text
    assert (await profile_of(person)).safety_hold


async def test_hitting_me_hard_too_after_the_exs_threat_asks_the_person_directly(person):
    await finish_intake(person)
    await person.send("he threatened suicide when I tried to leave")
    reply = await person.tap("This is hitting me hard too")
    assert "Are you thinking about ending your life?" in reply.text
    assert person.buttons() == ["Yes", "No, I'm safe — just hurting", "I'm not sure"]


# --- the optional age question --------------------------------------------------------------------


def exported(person: Person) -> dict:
    import json

    call = person.transport.calls_to("sendDocument")[-1]
    return json.loads(call.files["document"].decode("utf-8"))


def position(text: str, *parts: str) -> list[int]:
    return [text.index(part) for part in parts]


async def test_the_welcome_asks_the_age_as_an_option_and_the_intake_goes_on_without_it(person):
    reply = await person.send("/start")
    welcome, question = reply.sent
    assert "What should I call your ex?" in question
    assert "are you under 18?" in welcome
    assert person.buttons() == ['Skip — just say "them"']  # the intake's own question is next
    first = person.transport.bot_messages(person.user.id)[-2]
    labels = [b["text"] for row in first["reply_markup"]["inline_keyboard"] for b in row]
    assert labels == ["Under 18", "18 or over", "Rather not say"]
    await finish_intake_after_start(person)
    assert (await profile_of(person)).age_group is None


async def finish_intake_after_start(person: Person) -> None:
    await person.send("Alex")
    await person.tap("This week")
    await person.tap("Today")
    await person.tap("They did")
    await person.tap("Done")
    await person.tap("No")
    await person.tap("To get them back")
    await person.tap("London")
    await person.tap("20:00")


async def test_under_18_tapped_in_the_intake_gets_a_light_note_and_youth_lines_first(person):
    await person.send("/start")
    welcome = person.transport.bot_messages(person.user.id)[-2]
    reply = await person.tap("Under 18", welcome)
    assert "trusted adult" in reply.text
    profile = await profile_of(person)
    assert profile.age_group == "under_18" and profile.intake_step == "ex_name"
    await finish_intake_after_start(person)  # nothing locked: the intake carries on
    assert (await profile_of(person)).intake_completed_at is not None
    helplines = (await person.send("/helplines")).text
    childline, samaritans = position(helplines, "Childline", "Samaritans")
    assert childline < samaritans
    crisis = (await person.send("I don't want to live anymore")).text
    childline, samaritans = position(crisis, "Childline", "Samaritans")
    assert childline < samaritans and "trusted adult" in crisis


async def test_age_said_in_a_message_is_the_same_answer_as_the_question(person):
    await finish_intake(person)
    await person.send("I'm 15 and I want to text my ex")
    assert (await profile_of(person)).age_group == "under_18"
    helplines = (await person.send("/helplines")).text
    childline, samaritans = position(helplines, "Childline", "Samaritans")
    assert childline < samaritans


async def test_the_age_can_be_changed_in_settings_is_in_the_export_and_forged_taps_change_nothing(
    person,
):
    await finish_intake(person)
    helplines = (await person.send("/helplines")).text
    assert "Samaritans" in helplines and "Childline" not in helplines  # no youth lines first
    await person.send("/settings")
    reply = await person.tap("Age (optional)")
    assert "not said" in reply.text
    reply = await person.tap("18 or over")
    assert "Got it" in reply.text
    assert (await profile_of(person)).age_group == "adult"
    await person.send("/settings")
    reply = await person.tap("Age (optional)")
    assert "18 or over" in reply.text
    reply = await person.tap("Rather not say")
    assert "completely fine" in reply.text
    assert (await profile_of(person)).age_group == "unsaid"
    await person.send("/export")
    assert exported(person)["tables"]["profiles"][0]["age_group"] == "unsaid"
    reply = await person.tap_data("safety:age:ancient")  # a forged button
    assert reply.count("sendMessage") == 0  # no error reply, nothing saved
    assert (await profile_of(person)).age_group == "unsaid"


async def test_after_a_crisis_while_a_long_message_waits_to_be_saved_one_tap_offers_it_again(
    person,
):
    await finish_intake(person)
    await person.send(" ".join(["I keep thinking about the night it ended and I miss him."] * 40))
    assert "Save it to my journal" in person.buttons()
    await person.send(CRISIS)
    await safe_again(person)
    reply = await person.tap(CARRY_ON)
    assert "Here's where we were" in reply.text
    assert "Would you still like it kept in your journal?" in reply.text
    reply = await person.tap("Save it to my journal")
    assert "Saved to your journal" in reply.text


async def test_a_pasted_message_threatening_to_kill_the_person_gets_dangers_reply(person):
    await finish_intake(person)
    await walk(person, "No", "I miss them", "Sad", "No")
    await person.tap("They texted me")
    reply = await person.send("I will kill you if you leave me")
    assert "immediate danger" in reply.text and NOT_YOURS not in reply.text


async def test_the_ex_talking_of_ending_their_life_told_in_free_text_gets_care_for_them(person):
    await finish_intake(person)
    reply = await person.send("my ex keeps saying he'll kill himself")
    assert NOT_YOURS in reply.text
    assert "Are you thinking about ending your life?" not in reply.text
