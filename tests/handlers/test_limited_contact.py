"""People who share children, work or a home keep limited contact, and hear it everywhere: the
check-in, /plan, /progress, "what day is it?" and /shouldi count days of keeping contact to
what is needed, and nothing counts down to a day of no contact."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.services.advice import Answers
from tests.handlers.test_checkins import answer_checkin, checkin_messages, set_up, tick
from tests.handlers.test_intake import finish_intake
from tests.handlers.test_progress import the_picture
from tests.handlers.test_story_advice import walk

NO_CONTACT_WORDS = ("no contact", "no-contact", "days to go", "still to go")


def assert_no_no_contact_count(text: str) -> None:
    lowered = text.lower()
    for words in NO_CONTACT_WORDS:
        assert words not in lowered, f"{words!r} in {text!r}"


async def test_a_co_parents_check_in_counts_days_of_limited_contact(person, clock):
    await set_up(person, clock, shared=("Kids",))
    clock.set(datetime(2026, 3, 7, 20, tzinfo=UTC))  # five days in
    await tick(person)
    opening = checkin_messages(person)[-1]["text"]
    assert "limited contact, day 5" in opening
    assert_no_no_contact_count(opening)
    replies = await answer_checkin(person, "No")
    done = replies[-1].edits[-1]
    assert "Limited contact: 5 days in a row keeping contact to what you share" in done
    assert_no_no_contact_count(done)
    assert " of 30" not in done


async def test_a_co_parent_reaching_out_about_more_than_the_kids_restarts_the_count(person, clock):
    await set_up(person, clock, shared=("Kids",))
    clock.set(datetime(2026, 3, 7, 20, tzinfo=UTC))
    await tick(person)
    replies = await answer_checkin(person, "I did", topic="Something else")
    final = replies[-1].edits[-1]
    assert "keeping contact to what's needed starts again" in final
    assert_no_no_contact_count(final)


async def test_a_co_parents_week_milestone_speaks_of_limited_contact(person, clock):
    await set_up(person, clock, shared=("Kids",))
    seen = []
    for day in range(3, 10):
        clock.set(datetime(2026, 3, day, 20, tzinfo=UTC))
        await tick(person)
        replies = await answer_checkin(person, "No")
        seen += [r.text for r in replies]
    week = [t for t in seen if "A full week" in t]
    assert week and "keeping contact to what's needed" in week[0]
    assert all("of no contact" not in t for t in seen)


async def test_a_co_parents_plan_has_no_no_contact_countdown(person):
    await finish_intake(person, shared=("Kids",))
    reply = await person.send("/plan")
    assert "Then: Limited contact" in reply.text
    assert "no countdown to zero contact" in reply.text
    assert "Why 30 days?" not in reply.text


async def test_a_co_parents_progress_counts_days_keeping_contact_to_what_is_needed(person, clock):
    await finish_intake(person, shared=("Work",))
    clock.advance(days=12)
    _, caption = the_picture(await person.send("/progress"))
    assert "Limited contact: 12 days in a row keeping contact to what you share" in caption
    assert_no_no_contact_count(caption)
    reply = await person.send("what day am I on")
    assert "Limited contact: 12 days in a row" in reply.text
    assert_no_no_contact_count(reply.text)


async def test_should_i_text_gives_a_co_parent_limited_contact_and_no_countdown(person, clock):
    await finish_intake(person, shared=("Kids",))
    clock.advance(days=5)
    reply, _ = await walk(person, "No", "I miss them", "Sad", "No")
    assert "Not yet about the two of you — keep contact to what you share" in reply.text
    assert_no_no_contact_count(reply.text)
    advice = await person.app.services.advice.verdict_for(person.user.id, Answers())
    assert advice.verdict.days_left is None


async def test_a_question_about_the_kids_gets_a_reply_that_fits_it(person):
    await finish_intake(person, shared=("Kids",))
    reply = await person.send("Should I text her about the school pickup tomorrow?")
    assert "school pickup" in reply.text
    reply = await person.send("can i message him to swap the weekend with the kids")
    assert "children's plans" in reply.text and "swap weekends" in reply.text


async def test_a_co_parent_asked_about_moving_on_hears_their_own_count_is_kept(person):
    await finish_intake(person, shared=("A home",))
    reply = await person.send("/moveon")
    assert "keeping contact to what's needed" in reply.text
    assert_no_no_contact_count(reply.text)
