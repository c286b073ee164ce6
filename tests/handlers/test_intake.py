"""The /start intake, driven through the real Application on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

from bot.db.models import Profile, User
from bot.services.conversation import Expected
from content.vocab import AbuseAnswer, BreakupWhen, Goal, WhoEnded
from tests.handlers.driver import Person


async def profile_of(person: Person) -> Profile:
    async with person.db.sessions() as session:
        profile = await session.get(Profile, person.user.id)
        assert profile is not None
        return profile


async def finish_intake(person: Person, *, shared: tuple[str, ...] = (), abuse: str = "No"):
    await person.send("/start")
    await person.send("Alex")
    await person.tap("This week")
    await person.tap("Today")  # last in touch today: the no-contact count starts now
    await person.tap("They did")
    for item in shared:
        await person.tap(item)
    await person.tap("Done")
    await person.tap(abuse)
    if abuse != "Yes":
        await person.tap("To get them back")
    await person.tap("London")
    return await person.tap("20:00")


async def test_a_new_person_is_welcomed_warmly_and_told_this_is_a_coach_not_a_therapist(person):
    reply = await person.send("/start")
    welcome, question = reply.sent
    assert "Hi Sam" in welcome
    assert "not a therapist" in welcome
    assert "What should I call your ex?" in question
    assert person.buttons() == ['Skip — just say "them"']


async def test_every_answer_is_stored_as_it_is_given(person, clock):
    await person.send("/start")
    await person.send("Alex")
    assert (await profile_of(person)).ex_name == "Alex"
    await person.tap("A few weeks ago")
    profile = await profile_of(person)
    assert profile.breakup_when is BreakupWhen.WEEKS_AGO
    assert profile.breakup_on == date(2026, 2, 9)  # the fake clock's today minus three weeks
    await person.tap("About a week ago")
    assert (await profile_of(person)).no_contact_started_on == date(2026, 2, 23)
    await person.tap("It was mutual")
    assert (await profile_of(person)).who_ended is WhoEnded.MUTUAL
    await person.tap("Work")
    assert (await profile_of(person)).shared == {"work"}
    await person.tap("Done")
    await person.tap("No")
    assert (await profile_of(person)).abuse is AbuseAnswer.NO
    await person.tap("Not sure yet")
    assert (await profile_of(person)).goal is Goal.UNSURE
    await person.tap("Sydney")
    assert (await profile_of(person)).timezone == "Australia/Sydney"
    reply = await person.tap("8:00")
    profile = await profile_of(person)
    assert profile.checkin_hour == 8
    assert profile.intake_step is None
    assert profile.intake_completed_at == clock.now()
    assert "that's everything I need" in reply.text


async def test_a_tapped_answer_is_shown_on_the_question_and_its_buttons_go_away(person):
    await person.send("/start")
    await person.send("Alex")
    question = person.last_keyboard_message()
    reply = await person.tap("Today")
    assert reply.edits == ["When it ended: Today"]
    edited = person.transport.messages[(person.user.id, question["message_id"])]
    assert "reply_markup" not in edited
    assert reply.count("answerCallbackQuery") == 1


async def test_the_intake_ends_with_the_no_contact_plan_when_nothing_is_shared(person):
    reply = await finish_intake(person)
    assert "Your first step: Stop chasing" in reply.text
    assert "Then: No contact" in reply.text
    assert "for 30 days" in reply.text
    assert "21 to 45 days" in reply.text  # the sources differ, and the bot says so
    assert "From: " in reply.text


async def test_sharing_kids_leads_to_limited_contact_instead_of_no_contact(person):
    reply = await finish_intake(person, shared=("Kids", "A home"))
    assert "Then: Limited contact" in reply.text
    assert "children and a home" in reply.text
    assert "Then: No contact" not in reply.text


async def test_shared_choices_toggle_in_place_on_the_same_message(person):
    await person.send("/start")
    await person.send("Alex")
    await person.tap("Today")
    await person.tap("I did")
    reply = await person.tap("Kids")
    assert reply.count("editMessageReplyMarkup") == 1
    assert reply.count("sendMessage") == 0
    assert "✓ Kids" in person.buttons()
    await person.tap("✓ Kids")
    assert "Kids" in person.buttons()
    assert (await profile_of(person)).shared == frozenset()


async def test_typed_answers_work_in_every_step(person):
    await person.send("/start")
    await person.send("  J.  ")
    await person.send("10 days ago")
    await person.send("a week ago")
    await person.send("they did")
    await person.send("we work together and share a flat")
    await person.send("no")
    await person.send("move on")
    await person.send("Paris")
    reply = await person.send("7pm")
    profile = await profile_of(person)
    assert profile.ex_name == "J."
    assert profile.breakup_when is BreakupWhen.EXACT
    assert profile.breakup_on == date(2026, 2, 20)
    assert profile.no_contact_started_on == date(2026, 2, 23)
    assert profile.who_ended is WhoEnded.THEM
    assert profile.shared == {"work", "home"}
    assert profile.goal is Goal.MOVE_ON
    assert profile.timezone == "Europe/Paris"
    assert profile.checkin_hour == 19
    assert "Your first step: Let go and move on" in reply.text


async def test_skipping_the_name_is_fine_and_the_bot_says_them(person):
    await person.send("/start")
    reply = await person.tap("Skip")
    assert reply.edits == ["What I'll call them: them"]
    assert (await profile_of(person)).ex_name is None


async def test_back_returns_to_the_previous_question_and_keeps_the_answers(person):
    await person.send("/start")
    await person.send("Alex")
    await person.tap("This week")
    reply = await person.tap("« Back")
    assert "When did the breakup happen?" in reply.text
    assert (await profile_of(person)).breakup_when is BreakupWhen.THIS_WEEK
    await person.tap("Months ago")
    assert (await profile_of(person)).breakup_when is BreakupWhen.MONTHS_AGO
    reply = await person.send("back")
    assert "When did the breakup happen?" in reply.text


async def test_typing_something_unexpected_at_a_button_step_gets_a_kind_reprompt(person):
    await person.send("/start")
    await person.send("Alex")
    await person.tap("Today")
    reply = await person.send("purple")
    assert reply.sent == [
        'Just tap the one that fits best — "I did", "They did" or "It was mutual".'
    ]
    assert person.buttons()[:3] == ["I did", "They did", "It was mutual"]
    assert (await profile_of(person)).who_ended is None


async def test_a_sticker_where_an_answer_is_expected_gets_a_gentle_hint(person):
    await person.send("/start")
    reply = await person.send_media("sticker")
    assert "I can only read words and taps" in reply.text
    assert person.buttons() == ['Skip — just say "them"']


async def test_a_breakup_date_in_the_future_is_questioned_not_stored(person):
    await person.send("/start")
    await person.send("Alex")
    reply = await person.send("2027-01-05")
    assert "hasn't happened yet" in reply.text
    assert (await profile_of(person)).breakup_on is None


async def test_a_place_the_bot_does_not_know_gets_a_helpful_reprompt(person):
    await person.send("/start")
    for answer in ("Alex", "today", "I did", "none", "no", "not sure"):
        await person.send(answer)
    reply = await person.send("Narnia")
    assert "couldn't find that place" in reply.text
    reply = await person.send("UTC+5:30")
    assert "What time of day" in reply.text
    assert (await profile_of(person)).timezone == "UTC+05:30"


async def test_answering_yes_about_abuse_is_met_with_care_and_turns_reconciling_off(person):
    await person.send("/start")
    await person.send("Alex")
    await person.tap("This week")
    await person.tap("Not since the breakup")
    await person.tap("I did")
    await person.tap("Done")
    reply = await person.tap("Yes")
    assert "None of it was your fault" in reply.text
    assert "What do you want most" not in reply.text  # the goal question is skipped
    assert "Where are you?" in reply.text
    profile = await profile_of(person)
    assert profile.abuse is AbuseAnswer.YES
    assert profile.goal is Goal.MOVE_ON
    assert not profile.reconcile_path_open
    await person.tap("London")
    reply = await person.tap("20:00")
    assert "Your first step: Let go and move on" in reply.text
    assert "Stop chasing" not in reply.text


async def test_going_back_from_the_time_zone_after_abuse_skips_the_goal_question(person):
    await finish_intake(person, abuse="Yes")
    await person.send("/start")
    await person.tap("Start the questions again")
    for answer in ("Alex", "today", "I did", "none"):
        await person.send(answer)
    await person.tap("Yes")
    reply = await person.tap("« Back")
    assert "Was there abuse" in reply.text


async def test_start_mid_intake_offers_to_pick_up_where_they_left_off(person):
    await person.send("/start")
    await person.send("Alex")
    await person.tap("Today")
    reply = await person.send("/start")
    assert "partway through" in reply.text
    reply = await person.tap("Pick up where I left off")
    assert "Who ended it?" in reply.text
    assert (await profile_of(person)).ex_name == "Alex"


async def test_start_for_someone_set_up_offers_to_carry_on_or_start_over_keeping_answers(person):
    await finish_intake(person)
    reply = await person.send("/start")
    assert "Welcome back" in reply.text
    assert person.buttons() == ["Carry on", "Start the questions again"]
    reply = await person.tap("Start the questions again")
    assert "What should I call your ex?" in reply.text
    assert "(Right now: Alex)" in reply.text
    profile = await profile_of(person)
    assert profile.ex_name == "Alex" and profile.who_ended is WhoEnded.THEM
    assert profile.intake_completed_at is not None


async def test_carry_on_shows_the_plan_again(person):
    await finish_intake(person)
    await person.send("/start")
    reply = await person.tap("Carry on")
    assert "Your step now: Stop chasing" in reply.text


async def test_a_restart_mid_intake_resumes_at_the_same_question(person):
    await person.send("/start")
    await person.send("Alex")
    await person.tap("This week")
    await person.tap("A few days ago")
    expected = await person.app.services.conversation.expected(person.user.id)
    assert expected == Expected("intake.ask", {"step": "who_ended"})
    await person.restart()
    reply = await person.send("they did")
    assert "Is there anything you share" in reply.text
    assert (await profile_of(person)).who_ended is WhoEnded.THEM


async def test_nothing_is_awaited_once_the_intake_ends(person):
    await finish_intake(person)
    assert await person.app.services.conversation.expected(person.user.id) is None
    async with person.db.sessions() as session:
        user = await session.get(User, person.user.id)
    assert user is not None and user.awaiting is None


async def test_the_person_is_recorded_with_what_telegram_tells_us(person, clock):
    await person.send("/start")
    async with person.db.sessions() as session:
        user = await session.get(User, person.user.id)
    assert user is not None
    assert (user.chat_id, user.first_name, user.language_code) == (1001, "Sam", "en")
    assert user.created_at == clock.now()
