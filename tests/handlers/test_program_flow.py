"""The program through the real Application: /today, /phase, the gates, the readiness checklist,
the decision step, the ex's answers and moving on — on SQLite and PostgreSQL, with a fake clock
and the real scheduler tick for check-ins."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from bot.db.models import Answer, Profile
from content.program import load_program
from content.vocab import AbuseAnswer, Goal
from tests.handlers.driver import Person
from tests.handlers.test_checkins import answer_checkin, tick
from tests.handlers.test_intake import finish_intake, profile_of

TODAY = date(2026, 3, 2)  # the fake clock's first day (09:00 UTC, London)

# Answers to the decision step that lean towards trying again (item → button label).
TRY_AGAIN = {
    "why_want_back": "Them — who they are",
    "real_connection": "Yes",
    "see_your_part": "Yes",
    "healthier_picture": "Yes",
    "abuse": "No",
    "repeated_cheating": "No",
    "repeated_lying": "No",
    "lost_yourself": "No",
    "no_willingness": "No",
    "more_anxious_than_happy": "No",
    "different_directions": "No",
    "worth_saving": "Yes",
    "added_value": "Yes",
    "differences_workable": "Yes",
    "intimacy": "Strongly",
    "passion": "Strongly",
    "commitment": "Strongly",
}
READINESS_LABELS = (
    "I've worked on my own life",
    "I've accepted the breakup",
    "I feel mostly calm",
    "I'm sure I want this",
)


async def put_in(person: Person, phase: str, *, no_contact_since: int = 40, **answers: str):
    """Move a set-up person straight to `phase` (entered today), with a no-contact stretch that
    began `no_contact_since` days ago, and program answers (e.g. decision="try_again")."""
    async with person.db.transaction() as session:
        profile = await session.get(Profile, person.user.id)
        profile.phase = phase
        profile.phase_started_on = TODAY
        profile.no_contact_started_on = TODAY - timedelta(days=no_contact_since)
        for item, value in answers.items():
            session.add(Answer(user_id=person.user.id, form="program", item=item, value=value,
                               answered_at=person.clock.now()))  # fmt: skip


async def answers_of(person: Person, form: str) -> dict[str, str]:
    async with person.db.sessions() as session:
        rows = await session.execute(
            select(Answer.item, Answer.value).where(
                Answer.user_id == person.user.id, Answer.form == form
            )
        )
        return dict(rows.all())


async def answer_questions(person: Person, answers: dict[str, str]):
    """Tap through the decision step; returns every reply."""
    replies = []
    for item in load_program().form("decide").items:
        message = person.last_keyboard_message()
        if item.text.split("—")[0][:30] not in message["text"]:
            break  # the step ended early (a let-go sign)
        replies.append(await person.tap(answers[item.id], message))
    return replies


# --- the walk ---------------------------------------------------------------------------------


async def test_a_person_walks_from_intake_to_reaching_out(person, clock):
    await finish_intake(person)
    assert (await profile_of(person)).phase == "stop_chasing"

    clock.set(datetime(2026, 3, 3, 20, tzinfo=UTC))
    assert (await tick(person)).sent == 1
    await answer_checkin(person, "No")
    clock.set(datetime(2026, 3, 5, 20, tzinfo=UTC))  # three days without contact
    assert (await tick(person)).sent == 1
    replies = await answer_checkin(person, "No", "4")
    news = replies[-1].sent
    assert len(news) == 1  # the milestone and the new step, in one message
    assert news[0].startswith("Three days.")
    assert "Step done: Stop chasing" in news[0] and "Your next step: No contact" in news[0]
    assert (await profile_of(person)).phase == "no_contact"

    reply = await person.send("/phase")
    assert "Days without reaching out: 3 of 30" in reply.text

    clock.set(datetime(2026, 4, 1, 19, tzinfo=UTC))  # 20:00 in London (summer time): day 30
    assert (await tick(person)).sent == 1
    replies = await answer_checkin(person, "No", "4")
    news, checklist = replies[-1].sent
    assert "You've completed 30 days of no contact" in news
    assert "Your next step: Heal and rebuild yourself" in news
    assert "Ready to reach out?" in checklist
    assert "Reach out →" not in person.buttons()
    for label in READINESS_LABELS:
        await person.tap(label)
    assert "Reach out →" in person.buttons()
    reply = await person.tap("Reach out →")  # the healing days come first
    assert "opens once the rest of this step is done" in reply.text
    assert "Time in this step: 0 of 7 days" in reply.text

    clock.set(datetime(2026, 4, 8, 9, tzinfo=UTC))
    reply = await person.send("/today")
    assert "Your next step: Look back honestly and decide" in reply.text
    reply = await person.send("/phase")
    assert "The decision step — not taken yet" in reply.text
    assert "Ready to reach out? — 5 of 5 ticked" in reply.text

    reply = await person.tap("Start the decision step")
    assert "Try again, or let go?" in reply.sent[0] and "1 of 17" in reply.sent[1]
    replies = await answer_questions(person, TRY_AGAIN)
    final = replies[-1].sent
    assert "Your answers lean towards trying again" in final[0]
    assert "Your next step: Reach out" in final[1]
    profile = await profile_of(person)
    assert (profile.phase, profile.phase_started_on) == ("reach_out", date(2026, 4, 8))
    assert (await answers_of(person, "program"))["decision"] == "try_again"
    assert len(await answers_of(person, "decide")) == 17


# --- /today and /phase ----------------------------------------------------------------------


async def test_today_gives_one_idea_one_small_action_and_its_sources(person):
    await finish_intake(person)
    reply = await person.send("/today")
    (lesson,) = reply.sent
    assert lesson.startswith("Today · Stop chasing, day 1")
    assert "An urge to text them is a wave" in lesson
    assert "One small thing for today: When the urge comes today" in lesson
    assert "From: Walk away, the coach's own default" in lesson


async def test_the_healing_lessons_take_turns_with_no_contact(person, clock):
    await finish_intake(person)
    await put_in(person, "no_contact", no_contact_since=5)
    first = (await person.send("/today")).text
    clock.advance(days=1)
    second = (await person.send("/today")).text
    assert "Today · No contact, day 1" in first and "A lesson from" not in first
    assert "Today · No contact, day 2" in second
    assert "A lesson from Heal and rebuild yourself" in second


async def test_phase_says_where_you_are_what_comes_next_and_what_the_gate_needs(person, clock):
    await finish_intake(person)
    await put_in(person, "no_contact", no_contact_since=3)
    clock.advance(days=9)
    reply = await person.send("/phase")
    (view,) = reply.sent
    assert "You're here: No contact · day 10 of this step, day 10 of your plan" in view
    assert "What opens the next step — Heal and rebuild yourself" in view
    assert "Days without reaching out: 12 of 30" in view
    assert "From: Five steps, Proven steps" in view


async def test_someone_away_for_weeks_passes_every_open_gate_at_once(person, clock):
    await finish_intake(person)
    clock.set(datetime(2026, 4, 10, 9, tzinfo=UTC))
    reply = await person.send("/phase")
    assert "Step done: Stop chasing, No contact" in reply.text
    assert "Your next step: Heal and rebuild yourself" in reply.text
    assert (await profile_of(person)).phase == "heal"


async def test_people_who_have_not_set_up_are_asked_to_first(person):
    for command in ("/today", "/phase", "/moveon", "/journal", "/progress"):
        reply = await person.send(command)
        assert "Let's set things up first" in reply.text, command


# --- slips -----------------------------------------------------------------------------------


async def test_a_slip_restarts_the_no_contact_count_of_the_current_step(person, clock):
    await finish_intake(person)
    clock.set(datetime(2026, 3, 5, 20, tzinfo=UTC))
    await tick(person)
    await answer_checkin(person, "No")
    assert (await profile_of(person)).phase == "no_contact"
    clock.set(datetime(2026, 3, 12, 20, tzinfo=UTC))
    await tick(person)
    replies = await answer_checkin(person, "I did", topic="Something else")
    (news,) = replies[-1].sent
    assert "this step's no-contact count starts again from today — day 0 of 30" in news
    assert "From: Five steps" in news
    profile = await profile_of(person)
    assert (profile.phase, profile.no_contact_started_on) == ("no_contact", date(2026, 3, 12))
    assert (await answers_of(person, "program"))["last_slip_on"] == "2026-03-12"
    reply = await person.send("/phase")
    assert "Days without reaching out: 0 of 30" in reply.text
    clock.set(datetime(2026, 3, 13, 20, tzinfo=UTC))
    await tick(person)
    replies = await answer_checkin(person, "No")
    assert all("starts again" not in t for r in replies for t in r.sent)


# --- the readiness checklist ------------------------------------------------------------------


async def test_the_readiness_checklist_is_ticked_in_place_and_unlocks_reaching_out(person):
    await finish_intake(person)
    await put_in(person, "decide", decision="try_again")
    await person.send("/phase")
    reply = await person.tap("Ready to reach out?")
    (checklist,) = reply.sent
    assert "✅ 1. You've finished your no-contact stretch" in checklist  # ticked by the count
    assert "0 of 4" not in checklist and "1 of 5 ticked" in checklist
    assert "Reach out →" not in person.buttons()
    for label in READINESS_LABELS[:3]:
        reply = await person.tap(label)
        assert reply.count("editMessageText") == 1 and reply.sent == []
    assert "4 of 5 ticked" in reply.edits[0]
    assert "Reach out →" not in person.buttons()
    assert (await answers_of(person, "readiness")) == {
        "worked_on_yourself": "done", "accepted_breakup": "done", "feel_calm": "done"
    }  # fmt: skip

    reply = await person.tap("I've accepted the breakup")  # changed my mind: untick
    assert "⬜ 3. You've accepted that the breakup happened" in reply.edits[0]
    assert (await answers_of(person, "readiness"))["accepted_breakup"] == "not_yet"
    await person.tap("I've accepted the breakup")

    checklist_message = person.last_keyboard_message()
    reply = await person.tap("I'm sure I want this")
    assert "All ticked" in reply.edits[0]
    assert "Your next step: Reach out" in reply.sent[0]
    edited = person.transport.messages[(person.user.id, checklist_message["message_id"])]
    labels = [b["text"] for row in edited["reply_markup"]["inline_keyboard"] for b in row]
    assert "Reach out →" in labels
    assert (await profile_of(person)).phase == "reach_out"


async def test_the_no_contact_item_waits_for_the_whole_stretch(person):
    await finish_intake(person)
    await put_in(person, "heal", no_contact_since=10)
    async with person.db.transaction() as session:
        for item in ("worked_on_yourself", "accepted_breakup", "feel_calm", "sure_you_want_this"):
            session.add(Answer(user_id=person.user.id, form="readiness", item=item, value="done",
                               answered_at=person.clock.now()))  # fmt: skip
    await person.send("/help")
    reply = await person.tap_data("program:checklist:readiness")
    (checklist,) = reply.sent
    assert "⬜ 1. You've finished your no-contact stretch" in checklist
    assert "you're on day 10" in checklist and "4 of 5 ticked" in checklist
    assert "Reach out →" not in person.buttons()


# --- the decision step ------------------------------------------------------------------------


async def test_the_decision_step_asks_one_question_per_message_and_shows_each_answer(person):
    await finish_intake(person)
    await put_in(person, "decide")
    await person.send("/phase")
    reply = await person.tap("Start the decision step")
    intro, question = reply.sent
    assert "The result is a mirror, not a verdict" in intro and "17 short questions" in intro
    assert "From: Proven steps, Six-step guide, Walk away" in intro
    assert question.startswith("1 of 17\nWhen you picture being back together")
    assert person.buttons() == ["Them — who they are", "The routine, or not being alone",
                                "I'm not sure"]  # fmt: skip
    asked = person.last_keyboard_message()
    reply = await person.tap("The routine")
    assert reply.edits == [
        "When you picture being back together, what do you miss most?\n"
        "→ The routine, or not being alone"
    ]
    edited = person.transport.messages[(person.user.id, asked["message_id"])]
    assert "reply_markup" not in edited
    assert reply.sent[0].startswith("2 of 17\nThere was real connection")
    assert person.buttons() == ["Yes", "No", "Not sure"]
    assert (await answers_of(person, "decide")) == {"why_want_back": "routine"}


async def test_an_unfinished_decision_step_picks_up_where_it_was_left(person):
    await finish_intake(person)
    await put_in(person, "decide")
    await person.send("/phase")
    await person.tap("Start the decision step")
    await person.tap("Them")
    await person.tap("Yes")
    await person.restart()
    await person.send("/phase")
    reply = await person.tap("decision step")
    assert reply.sent[-1].startswith("3 of 17")


async def test_a_let_go_result_is_honest_names_its_sources_and_offers_moving_on(person, clock):
    await finish_intake(person)
    await put_in(person, "decide")
    await person.send("/phase")
    await person.tap("Start the decision step")
    against = {**TRY_AGAIN, "why_want_back": "The routine", "lost_yourself": "Yes",
               "no_willingness": "Yes", "more_anxious_than_happy": "Yes", "worth_saving": "No",
               "added_value": "No", "intimacy": "Hardly", "passion": "Hardly"}  # fmt: skip
    replies = await answer_questions(person, against)
    (result,) = replies[-1].sent
    assert "Your answers point towards letting go" in result
    assert "More of your answers speak against trying again" in result
    assert "For trying again: 5 · against: 8" in result
    assert "From: Proven steps, Six-step guide, Walk away" in result
    assert person.buttons() == ["Let go and move on", "Take the questions again", "Undo"]
    assert (await answers_of(person, "program"))["decision"] == "let_go"
    assert (await profile_of(person)).phase == "decide"  # nothing changes without a yes

    await person.tap("Let go and move on")
    reply = await person.tap("Yes, I want to move on")
    assert "Your next step: Let go and move on" in reply.text
    assert (await profile_of(person)).phase == "move_on"


async def test_taking_the_questions_again_starts_over(person, clock):
    await finish_intake(person)
    await put_in(person, "decide")
    await person.send("/phase")
    await person.tap("Start the decision step")
    mixed = {**TRY_AGAIN, "worth_saving": "Not sure"}
    replies = await answer_questions(person, mixed)
    assert "don't point clearly either way" in replies[-1].sent[0]
    clock.advance(minutes=1)
    reply = await person.tap("Take the questions again")
    assert "1 of 17" in reply.sent[-1]
    assert await answers_of(person, "decide") == {}


async def test_abuse_in_the_decision_step_closes_the_try_again_path_for_good(person):
    await finish_intake(person)
    await put_in(person, "decide")
    await person.send("/phase")
    await person.tap("Start the decision step")
    for label in ("Them", "Yes", "Yes", "Yes"):
        await person.tap(label)
    reply = await person.tap("Yes")  # "Was there emotional or physical abuse?"
    result, news = reply.sent
    assert "the try-again path closes here" in result and "/helplines" in result
    assert "Your next step: Let go and move on" in news
    assert "6 of 17" not in reply.text  # no more questions after that answer
    profile = await profile_of(person)
    assert (profile.phase, profile.abuse, profile.goal) == ("move_on", AbuseAnswer.YES,
                                                            Goal.MOVE_ON)  # fmt: skip
    reply = await person.tap_data("decide:start:", person.last_keyboard_message())
    assert "isn't open right now" in reply.text


# --- their answer ----------------------------------------------------------------------------


async def test_reaching_out_shows_their_possible_answers_as_buttons(person):
    await finish_intake(person)
    await put_in(person, "reach_out")
    reply = await person.send("/phase")
    assert "When Alex answers — or doesn't — tell me with a tap below" in reply.text
    for label in ("No reply yet", "They replied warmly", "They said no", "They said yes"):
        assert label in person.buttons()


async def test_no_reply_means_wait_dont_chase_and_maybe_try_once_later(person, clock):
    await finish_intake(person)
    await put_in(person, "reach_out")
    await person.send("/phase")
    reply = await person.tap("No reply yet")
    assert "You told me: No reply yet" in reply.text
    assert "Don't chase: no second message" in reply.text
    assert "Give it at least 14 days" in reply.text and "try once more" in reply.text
    assert "From: Proven steps" in reply.text

    clock.advance(days=3)
    await person.send("/phase")
    reply = await person.tap("No reply yet")
    assert "too soon to write again. Hold on until 16 March" in reply.text

    clock.advance(days=12)
    reply = await person.send("/phase")
    assert "you could try once more" in reply.text
    reply = await person.tap("No reply yet")
    assert "that's a clear message in itself" in reply.text
    assert "Let go and move on" in person.buttons()
    assert (await profile_of(person)).phase == "reach_out"
    assert (await answers_of(person, "program"))["no_replies"] == "2"


async def test_a_warm_reply_moves_on_to_rebuilding_the_connection(person):
    await finish_intake(person)
    await put_in(person, "reach_out", ex_answer="none", no_replies="1")
    await person.send("/phase")
    reply = await person.tap("They replied warmly")
    assert "Step done: Reach out" in reply.text
    assert "Your next step: Rebuild the connection" in reply.text
    assert (await profile_of(person)).phase == "rebuild"
    assert "ex_answer" not in await answers_of(person, "program")  # a new phase starts fresh
    reply = await person.send("/phase")
    assert "Ready for the talk? — 0 of 6 ticked" in reply.text


async def test_they_said_no_is_respected_and_moving_on_is_offered(person):
    await finish_intake(person)
    await put_in(person, "rebuild")
    await person.send("/phase")
    reply = await person.tap("They said no")
    assert "Alex said no. That hurts — and it was theirs to say. Respect it" in reply.text
    assert "From: Proven steps, Give them the breakup" in reply.text
    assert "Let go and move on" in person.buttons()
    reply = await person.send("/phase")
    assert "Alex said no, and that holds this step still" in reply.text
    assert (await profile_of(person)).phase == "rebuild"


async def test_a_maybe_to_the_talk_gets_time_and_a_yes_begins_the_new_relationship(person, clock):
    await finish_intake(person)
    await put_in(person, "the_talk")
    await person.send("/phase")
    reply = await person.tap("They replied warmly")
    assert "A maybe needs space, not pushing" in reply.text
    clock.advance(days=7)
    await person.send("/phase")
    reply = await person.tap("They said yes")
    assert "Your next step: A new relationship" in reply.text
    assert (await profile_of(person)).phase == "relationship"
    reply = await person.send("/phase")
    assert "nothing more to unlock" in reply.text


# --- moving on -------------------------------------------------------------------------------


async def test_moving_on_can_be_chosen_at_any_point_after_a_kind_confirmation(person, clock):
    await finish_intake(person)
    reply = await person.send("/moveon")
    assert "isn't giving up" in reply.text and "Switch from Stop chasing" in reply.text
    reply = await person.tap("Not now")
    assert reply.edits == [
        "Okay — nothing changes. Moving on stays open to you whenever you want it."
    ]
    assert (await profile_of(person)).phase == "stop_chasing"
    await person.send("/moveon")
    reply = await person.tap("Yes, I want to move on")
    assert reply.edits == ["You chose to move on."]
    assert "That takes courage" in reply.sent[0]
    assert "Your next step: Let go and move on" in reply.sent[0]
    assert (await profile_of(person)).phase == "move_on"
    reply = await person.send("/moveon")
    assert "You're already on the move-on path" in reply.text
    reply = await person.send("/phase")
    assert "No reply yet" not in person.buttons()


async def test_abuse_reported_at_intake_makes_moving_on_the_only_path(person, clock):
    await finish_intake(person, abuse="Yes")
    assert (await profile_of(person)).phase == "move_on"
    reply = await person.send("/phase")
    assert "You're here: Let go and move on" in reply.text
    assert "no finish line" in reply.text
    assert person.buttons() == ["Today's lesson"]
    reply = await person.send("/moveon")
    assert "it's the right one" in reply.text and "/helplines" in reply.text
    menu = person.last_keyboard_message()
    for data in ("decide:start:", "ready:tick:readiness.feel_calm.1", "program:ex:yes",
                 "program:checklist:readiness", "decide:ans:abuse.no"):  # fmt: skip
        reply = await person.tap_data(data, menu)
        assert "Something went wrong" not in reply.text
        clock.advance(minutes=1)
    assert await answers_of(person, "readiness") == {}
    assert (await profile_of(person)).phase == "move_on"


async def test_the_end_of_no_contact_on_the_move_on_path_does_not_offer_the_checklist(
    person, clock
):
    await finish_intake(person, abuse="Yes")
    async with person.db.transaction() as session:
        profile = await session.get(Profile, person.user.id)
        profile.last_milestone_day = 21
    clock.set(datetime(2026, 4, 1, 19, tzinfo=UTC))
    await tick(person)
    replies = await answer_checkin(person, "No")
    (news,) = replies[-1].sent
    assert "You've completed 30 days of no contact" in news
    assert "readiness" not in news and "Ready to reach out?" not in replies[-1].text


# --- the buttons -----------------------------------------------------------------------------


async def test_the_menu_and_the_command_list_include_the_program(person):
    await finish_intake(person)
    await person.send("/help")
    for label in ("Today", "Where am I?", "Journal", "Progress"):
        assert label in person.buttons()
    names = [c["command"] for c in person.transport.commands]
    assert {"today", "phase", "progress", "journal", "moveon"} <= set(names)
    reply = await person.tap("Where am I?")
    assert "You're here: Stop chasing" in reply.text


async def test_forged_program_buttons_do_nothing_harmful(person, clock):
    await finish_intake(person)
    await person.send("/help")
    menu = person.last_keyboard_message()
    for data in ("program:ex:maybe", "program:nothing:", "ready:tick:readiness.no_contact_done.1",
                 "ready:tick:readiness.nope.1", "ready:tick:decide.abuse.1", "ready:tick:x",
                 "decide:ans:abuse.maybe", "decide:ans:", "program:checklist:decide",
                 "program:ex:no"):  # fmt: skip
        reply = await person.tap_data(data, menu)
        assert "Something went wrong" not in reply.text, data
        clock.advance(minutes=1)
    profile = await profile_of(person)
    assert profile.phase == "stop_chasing" and profile.abuse is AbuseAnswer.NO
    assert await answers_of(person, "readiness") == {}
    assert await answers_of(person, "program") == {}
