"""Answering what people write: feelings, long messages, breathing, slips told in words, goal
changes with a same-day undo, and questions about their own program."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.db.models import JournalEntry
from content.vocab import Goal
from tests.handlers.driver import Person
from tests.handlers.test_intake import finish_intake, profile_of
from tests.handlers.test_program_flow import TRY_AGAIN, answer_questions, answers_of, put_in

NOT_SURE = "I'm not sure what to do with that"
FEELING_LABELS = {"Write it in my journal", "Should I text them?", "I want to text them",
                  "Breathe with me"}  # fmt: skip


async def journal_count(person: Person) -> int:
    async with person.db.sessions() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(JournalEntry)
            .where(JournalEntry.user_id == person.user.id)
        )
        return int(count or 0)


async def awaiting(person: Person) -> str | None:
    expected = await person.app.services.conversation.expected(person.user.id)
    return expected.key if expected else None


def message_with(person: Person, label: str) -> dict:
    """The newest bot message carrying a button labelled `label`."""
    for message in reversed(person.transport.bot_messages(person.user.id)):
        rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
        if any(b["text"] == label for row in rows for b in row):
            return message
    raise AssertionError(f"no message with a {label!r} button")


async def run_scheduled(person: Person) -> list[str]:
    """Run the breathing jobs the bot timed, in time order, moving the clock to each one's due
    time as the job queue would; nothing sleeps."""
    sent = []
    for _ in range(20):
        jobs = [j for j in person.app.job_queue.jobs() if (j.name or "").startswith("breathe:")]
        if not jobs:
            break
        job = min(jobs, key=lambda j: float(j.name.rsplit(":", 1)[1]))
        due = datetime.fromtimestamp(float(job.name.rsplit(":", 1)[1]), UTC)
        if due > person.clock.now():
            person.clock.set(due)
        job.schedule_removal()
        before = len(person.transport.calls)
        await job.run(person.app)
        sent += [c.result.get("text", "") for c in person.transport.calls[before:]
                 if c.method == "sendMessage"]  # fmt: skip
    return sent


async def test_missing_them_gets_a_short_reflection_one_thing_to_do_with_its_source_and_buttons(
    person,
):
    await finish_intake(person)
    reply = await person.send("I miss him so much, I keep looking at our photos")
    assert NOT_SURE not in reply.text
    assert "One thing to try" in reply.text
    assert "From:" in reply.text
    assert len(reply.sent) == 1 and len(reply.sent[0]) < 700
    labels = set(person.buttons())
    assert "Write it in my journal" in labels and labels <= FEELING_LABELS


async def test_crying_emoji_alone_are_heard_as_sadness_with_breathing_offered(person):
    await finish_intake(person)
    reply = await person.send("😭😭😭💔")
    assert NOT_SURE not in reply.text
    assert "One thing to try" in reply.text
    assert "Breathe with me" in person.buttons()


async def test_sleep_and_eating_trouble_is_answered_with_the_basics(person):
    await finish_intake(person)
    reply = await person.send("I haven't slept in three days and I can't eat")
    assert "meal" in reply.text
    assert NOT_SURE not in reply.text


async def test_contact_buttons_are_left_out_when_abuse_is_known(person):
    await finish_intake(person, abuse="Yes")
    await person.send("I miss her so much")
    labels = set(person.buttons())
    assert "Should I text them?" not in labels and "I want to text them" not in labels


async def test_a_long_outpouring_is_answered_as_a_whole_and_kept_only_after_a_tap(person):
    await finish_intake(person)
    story = " ".join(
        ["I keep thinking about the night we ended it and I miss him so much."] * 40
        + ["I'm so angry at him for lying to me and I feel stupid for believing it."] * 30
    )
    assert len(story) > 4000
    reply = await person.send(story)
    assert "Thank you for writing all of that" in reply.text
    assert "keep what you wrote in your journal" in reply.text
    assert NOT_SURE not in reply.text
    assert await journal_count(person) == 0  # never silently
    reply = await person.tap("Save it to my journal")
    assert "Saved to your journal" in reply.text
    assert await journal_count(person) == 1
    async with person.db.sessions() as session:
        entry = await session.scalar(select(JournalEntry.text))
    assert entry == story
    assert await awaiting(person) is None


async def test_a_long_outpouring_not_kept_leaves_nothing_behind(person):
    await finish_intake(person)
    await person.send("i feel so alone since she left. " * 40)
    reply = await person.tap("Not now")
    assert "haven't kept it" in reply.text
    assert await journal_count(person) == 0
    assert await awaiting(person) is None


async def test_breathing_runs_for_a_minute_on_the_job_queue_then_a_mood_is_understood(person):
    await finish_intake(person)
    await person.send("I feel so anxious I can't breathe properly")
    reply = await person.tap("Breathe with me")
    assert "breathe together for one minute" in reply.text
    assert len(reply.sent) == 1  # the rest is scheduled, the handler does not wait
    steps = await run_scheduled(person)
    assert len(steps) >= 5
    assert "That was one minute" in steps[-1]
    assert await awaiting(person) == "listen.feeling"
    reply = await person.send("a bit better actually")
    assert "good to hear" in reply.text or "glad today felt lighter" in reply.text
    assert NOT_SURE not in reply.text
    assert await awaiting(person) is None


async def test_a_mood_word_alone_is_not_a_good_day_when_nothing_was_asked(person):
    await finish_intake(person)
    reply = await person.send("a bit better actually")
    assert "good to hear" not in reply.text and "glad today felt lighter" not in reply.text
    assert NOT_SURE not in reply.text


async def test_a_slip_told_in_words_asks_one_tap_then_restarts_the_count_keeping_the_total(
    person, clock
):
    await finish_intake(person)
    clock.advance(days=6)
    before = await profile_of(person)
    assert before.slips == 0
    reply = await person.send("I caved and texted him last night")
    assert "Did you?" in reply.text
    assert (await profile_of(person)).slips == 0  # nothing changes before the tap
    reply = await person.tap("Yes, I did")
    assert "starts again from today" in reply.text
    after = await profile_of(person)
    assert after.slips == 1
    assert after.no_contact_banked_days >= 6
    assert after.no_contact_started_on == clock.now().date()


async def test_a_slip_denied_changes_nothing(person, clock):
    await finish_intake(person)
    clock.advance(days=3)
    await person.send("i called her again")
    reply = await person.tap("No, I didn't")
    assert "Nothing changes" in reply.text
    assert (await profile_of(person)).slips == 0


async def test_try_again_after_moving_on_moves_the_plan_back_and_can_be_undone_today(person):
    await finish_intake(person)
    await person.send("/moveon")
    await person.tap("Yes, I want to move on")
    assert (await profile_of(person)).phase == "move_on"
    reply = await person.send("I changed my mind, I want to try again with Kim")
    assert "try again" in reply.text
    assert (await profile_of(person)).phase == "move_on"  # asked first
    reply = await person.tap("Try again")
    profile = await profile_of(person)
    assert profile.phase != "move_on" and profile.goal is Goal.GET_BACK
    assert "back on the path" in reply.text
    reply = await person.tap("Undo")
    assert "Undone" in reply.text
    profile = await profile_of(person)
    assert (profile.phase, profile.goal) == ("move_on", Goal.MOVE_ON)


async def test_after_try_again_should_i_text_no_longer_gives_move_on_advice(person):
    await finish_intake(person)
    await person.send("/moveon")
    await person.tap("Yes, I want to move on")
    await person.send("i want to try again with alex")
    await person.tap("Try again")
    await person.send("/shouldi")
    await person.tap("Yes — about us")
    reply = await person.tap("Calm")
    assert "You've decided to move on" not in reply.text


async def test_moving_on_in_words_asks_first_and_the_undo_lasts_only_until_midnight(person, clock):
    await finish_intake(person)
    reply = await person.send("I'm done, I just want to move on now")
    assert (await profile_of(person)).phase != "move_on"
    reply = await person.tap("Move on now")
    assert "moving on" in reply.text
    assert (await profile_of(person)).phase == "move_on"
    undo = person.last_keyboard_message()
    clock.advance(days=1)
    reply = await person.tap("Undo", undo)
    assert "only be undone on the day" in reply.text
    assert (await profile_of(person)).phase == "move_on"


async def test_moving_on_undone_the_same_day_restores_the_step_and_the_goal(person):
    await finish_intake(person)
    before = await profile_of(person)
    await person.send("i want to move on")
    await person.tap("Move on now")
    await person.tap("Undo")
    after = await profile_of(person)
    assert (after.phase, after.goal) == (before.phase, before.goal)
    assert after.phase_started_on == before.phase_started_on


async def test_trying_again_is_not_offered_when_abuse_is_known(person):
    await finish_intake(person, abuse="Yes")
    reply = await person.send("I want to try again with him")
    assert "safety comes first" in reply.text
    assert (await profile_of(person)).phase == "move_on"


async def test_what_day_is_it_answers_from_the_persons_own_count(person, clock):
    await finish_intake(person)
    clock.advance(days=10)
    reply = await person.send("what day is it for me?")
    assert NOT_SURE not in reply.text
    assert "day 11 of your plan" in reply.text
    assert "10 days in a row" in reply.text


async def test_how_am_i_doing_after_a_slip_counts_from_the_restart_and_keeps_the_total(
    person, clock
):
    await finish_intake(person)
    clock.advance(days=5)
    await person.send("I texted him")
    await person.tap("Yes, I did")
    clock.advance(days=2)
    reply = await person.send("how many days have i done")
    assert "2 days in a row, 7 in all" in reply.text


async def test_small_talk_and_anything_else_get_a_warm_word_and_the_menu(person):
    await finish_intake(person)
    for typed in ("hey", "thank you so much", "ok", "hmm idk"):
        reply = await person.send(typed)
        assert NOT_SURE not in reply.text, typed
        assert "My plan" in person.buttons(), typed


async def test_asking_if_it_is_a_bot_gets_an_honest_answer(person):
    await finish_intake(person)
    reply = await person.send("am i talking to a real person?")
    assert "automated coach" in reply.text


async def test_moving_on_from_the_command_can_be_undone_the_same_day(person):
    await finish_intake(person)
    before = await profile_of(person)
    await person.send("/moveon")
    await person.tap("Yes, I want to move on")
    reply = await person.tap("Undo", message_with(person, "Undo"))
    assert "Undone" in reply.text
    assert (await profile_of(person)).phase == before.phase


async def test_stopping_check_ins_from_settings_asks_first_and_can_be_undone(person):
    await finish_intake(person)
    await person.send("/settings")
    await person.tap("Stop check-ins")
    assert not (await profile_of(person)).checkins_stopped  # asked first
    await person.tap("Yes, stop them")
    assert (await profile_of(person)).checkins_stopped
    reply = await person.tap("Undo")
    assert "check-ins are back on" in reply.text
    profile = await profile_of(person)
    assert not profile.checkins_stopped and profile.next_checkin_at is not None


async def test_stop_typed_stops_at_once_with_an_undo_for_today(person, clock):
    await finish_intake(person)
    reply = await person.send("stop")
    assert "Check-ins stopped" in reply.text
    assert (await profile_of(person)).checkins_stopped
    clock.advance(days=1)
    reply = await person.tap("Undo")
    assert "only be undone on the day" in reply.text
    assert (await profile_of(person)).checkins_stopped


async def test_the_decision_result_can_be_undone_the_same_day(person):
    await finish_intake(person)
    await put_in(person, "decide")
    await person.send("/phase")
    await person.tap("Start the decision step")
    replies = await answer_questions(person, TRY_AGAIN)
    assert "Your answers lean towards trying again" in replies[-1].text
    assert (await answers_of(person, "program"))["decision"] == "try_again"
    reply = await person.tap("Undo", message_with(person, "Undo"))
    assert "Undone" in reply.text
    assert (await profile_of(person)).phase == "decide"
    assert "decision" not in await answers_of(person, "program")
    assert len(await answers_of(person, "decide")) == 16  # the deciding answer is asked again


async def test_a_message_is_screened_and_understood_once_however_many_steps_read_it(
    person: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    import content.screen
    import content.understand

    await finish_intake(person)
    readings: list[str] = []
    screen_once, understand_once = content.screen._screen, content.understand._understand_once

    def counted_screen(*args: object) -> object:
        readings.append("screen")
        return screen_once(*args)  # type: ignore[arg-type]

    def counted_understand(*args: object) -> object:
        readings.append("understand")
        return understand_once(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(content.screen, "_screen", counted_screen)
    monkeypatch.setattr(content.understand, "_understand_once", counted_understand)
    reply = await person.send("I keep thinking it was all my fault")
    assert reply.sent  # answered, with the message read once by each
    assert sorted(readings) == ["screen", "understand"]
