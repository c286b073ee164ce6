"""The person's own path, end to end on SQLite and PostgreSQL: the ex coming back first, how
strict to be when they write, the style of distance, a rash fight and a new partner, a "no",
/sources, and the safety question asked again before reaching out."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.db.models import Answer, ContactEvent
from bot.services.advice import Answers
from content.vocab import AbuseAnswer
from tests.handlers.driver import Person
from tests.handlers.test_advice_flow import tick_readiness, walk
from tests.handlers.test_checkins import answer_checkin, checkin_messages, tick
from tests.handlers.test_intake import finish_intake, profile_of
from tests.handlers.test_program_flow import put_in


async def path_rows(person: Person) -> dict[str, str]:
    async with person.db.sessions() as session:
        rows = await session.execute(
            select(Answer.item, Answer.value).where(
                Answer.user_id == person.user.id, Answer.form == "path"
            )
        )
        return {item: value for item, value in rows}


async def choose(person: Person, change: str, option: str):
    await person.send("/settings")
    await person.tap("My path choices")
    reply = await person.tap(change)
    await person.tap(option)
    return reply


async def checkin_today(person: Person, clock, days: int) -> None:
    """The daily check-in `days` days after the intake (2 March), at the chosen 20:00."""
    clock.set(datetime(2026, 3, 2 + days, 20, tzinfo=UTC))
    assert (await tick(person)).sent == 1


# --- /sources ----------------------------------------------------------------------------------


async def test_sources_lists_the_five_articles_by_title_with_author_and_date(person):
    reply = await person.send("/sources")
    text = reply.text
    for title in (
        "Walk away to get him back",
        "Exactly how to get your ex back in 5 guaranteed steps",
        "How to Get Him Back After a Breakup",
        "Proven Steps That Work",
        "Six Step Guide",
    ):
        assert title in text
    assert "Michael Fulmer" in text and "30 January 2023" in text
    help_text = (await person.send("/help")).text
    assert "/sources" in help_text and "articles" in help_text


# --- the ex comes back first ---------------------------------------------------------------------


async def test_they_want_to_get_back_together_leads_to_the_comeback_guide(person):
    await finish_intake(person)
    await person.send("Alex texted me")
    await person.tap("About the relationship")
    reply = await person.tap("They want to talk or get back together")
    text = reply.text
    for title in ("Answer warmly, without rushing", "Go at a steady pace", "The first meeting",
                  "The talk", "If the answer is no"):  # fmt: skip
        assert title in text
    assert "Give them the breakup" in text and "Five steps" in text and "Proven steps" in text
    assert "Where the articles differ" in text and 'What a "no" means' in text
    assert "ex_came_back_on" in await path_rows(person)
    await person.send("/plan")
    reply = await person.tap("They came back: the guide")  # the branch stays in the plan
    assert "The first meeting" in reply.text


async def test_the_comeback_guide_is_never_offered_when_abuse_is_known(person):
    await finish_intake(person, abuse="Yes")
    await person.send("/plan")
    reply = await person.tap_data("paths:comeback:")
    assert "I won't guide you back towards it" in reply.text
    assert "The first meeting" not in reply.text
    assert "ex_came_back_on" not in await path_rows(person)


async def test_the_check_in_hears_they_want_to_talk_and_opens_the_guide(person, clock):
    await finish_intake(person)
    await checkin_today(person, clock, 3)
    replies = await answer_checkin(person, "They contacted me")
    assert any("what was it about?" in r.text for r in replies)
    reply = await person.tap("They want to talk or get back together")
    assert "The first meeting" in reply.text
    assert (await profile_of(person)).slips == 0


# --- a no from the ex ---------------------------------------------------------------------------


async def test_a_no_heard_at_the_check_in_keeps_the_plan_and_shows_where_the_articles_differ(
    person, clock
):
    await finish_intake(person)
    started = (await profile_of(person)).no_contact_started_on
    await checkin_today(person, clock, 4)
    await answer_checkin(person, "They contacted me")
    reply = await person.tap("They said no")
    assert "Your plan holds" in reply.text
    assert 'What a "no" means' in reply.text
    assert "Six-step guide" in reply.text and "the coach's own default" in reply.text
    profile = await profile_of(person)
    assert profile.no_contact_started_on == started and profile.slips == 0


# --- how strict to be when they write first -----------------------------------------------------


async def test_the_strictness_choice_shows_the_disagreement_and_is_stored(person):
    await finish_intake(person)
    reply = await choose(person, "When they write first", "Answer warmly and briefly")
    assert "Where the articles differ" in reply.text
    assert "Five steps" in reply.text and "Give them the breakup" in reply.text
    assert (await path_rows(person))["reply_strictness"] == "warm"


async def test_emergencies_only_makes_shouldi_hold_a_friendly_reply(person):
    await finish_intake(person)
    await choose(person, "When they write first", "Only real emergencies")
    reply, _ = await walk(person, "Yes — just being friendly", "Calm")
    assert "you chose to answer only emergencies" in reply.text
    assert "Where the articles differ: Answering" not in reply.text  # shown once, when chosen
    warm = await person.send("/settings")
    assert warm.sent


async def test_answering_their_message_is_not_a_slip_when_that_is_the_plan(person, clock):
    await finish_intake(person)
    await choose(person, "When they write first", "Answer warmly and briefly")
    started = (await profile_of(person)).no_contact_started_on
    await checkin_today(person, clock, 5)
    replies = await answer_checkin(person, "I did", topic="I answered their message")
    final = replies[-1].edits[-1]
    assert "doesn't undo" not in final
    profile = await profile_of(person)
    assert profile.slips == 0 and profile.no_contact_started_on == started
    async with person.db.sessions() as session:
        event = (await session.scalars(select(ContactEvent))).one()
    assert (event.topic, event.breaks_no_contact) == ("reply", False)


async def test_answering_their_message_counts_when_the_person_chose_emergencies_only(person, clock):
    await finish_intake(person)
    await choose(person, "When they write first", "Only real emergencies")
    await checkin_today(person, clock, 5)
    message = checkin_messages(person)[-1]
    await person.tap("I did", message)
    assert "I answered their message" not in " ".join(person.buttons())


# --- the style of distance ------------------------------------------------------------------------


async def test_strict_weeks_sets_at_least_four_weeks_and_says_who_says_it(person):
    await finish_intake(person)
    await person.app.bot_data["services"].checkins.set_no_contact_days(person.user.id, 21)
    await person.send("/settings")
    await person.tap("My path choices")
    reply = await person.tap("The kind of distance")
    assert "Walk away" in reply.text and "Six-step guide" in reply.text
    assert "Limited contact" not in " ".join(person.buttons())  # nothing shared
    reply = await person.tap("Strict no contact")
    assert "Five steps" in reply.text and "28 days" in reply.text
    assert (await profile_of(person)).no_contact_days == 28
    assert (await path_rows(person))["distance_style"] == "strict_weeks"


async def test_limited_contact_is_offered_when_something_is_shared(person):
    await finish_intake(person, shared=("Kids",))
    await choose(person, "The kind of distance", "Limited contact")
    assert (await path_rows(person))["distance_style"] == "limited"


async def test_the_one_calm_message_of_walk_away_is_part_of_the_plan(person, clock):
    await finish_intake(person)
    await choose(person, "The kind of distance", "One calm message")
    await checkin_today(person, clock, 1)
    replies = await answer_checkin(person, "I did", topic="let's not talk for now")
    assert "doesn't undo" not in replies[-1].edits[-1]
    assert (await profile_of(person)).slips == 0


# --- rash fight and a new partner ---------------------------------------------------------------


async def test_the_intake_asks_about_a_fight_and_the_repair_in_its_window_is_no_slip(person, clock):
    await finish_intake(person)
    assert "heated fight" in person.last_keyboard_message()["text"]
    await person.tap("Yes, it ended in a fight")
    assert (await path_rows(person))["rash_fight"] == "yes"
    await checkin_today(person, clock, 1)
    replies = await answer_checkin(person, "I did", topic="The short apology")
    assert "doesn't undo" not in replies[-1].edits[-1]
    assert (await profile_of(person)).slips == 0


async def test_seeing_someone_heard_at_the_check_in_changes_the_advice(person, clock):
    await finish_intake(person)
    await checkin_today(person, clock, 2)
    await answer_checkin(person, "They contacted me")
    reply = await person.tap("They're seeing someone new")
    assert "Staying in touch while they see someone new" in reply.text
    assert (await path_rows(person))["they_are_dating"] == "yes"
    advice = await person.app.bot_data["services"].advice.verdict_for(
        person.user.id, Answers(reason_to_text="ask_to_get_back", feeling="calm")
    )
    assert advice.situation.they_are_dating is True


# --- the safety question again, and reaching out ------------------------------------------------


async def test_past_no_contact_with_the_checklist_done_a_skipped_safety_answer_is_asked_again(
    person, clock
):
    await finish_intake(person, abuse="I'd rather not say")
    clock.advance(days=31)
    await tick_readiness(person)
    reply, _ = await walk(person, "No", "I miss them", "Calm", "No")
    assert "You're ready to send one short, light, friendly message" in reply.text
    assert "one question I asked earlier and you skipped" in reply.text
    reply = await person.tap("I'd rather not say")
    assert "That's okay" in reply.text
    reply, _ = await walk(person, "No", "I miss them", "Calm", "No")
    assert "You're ready to send" in reply.text  # never a silent permanent block
    await person.tap("No", person.last_keyboard_message())
    assert (await profile_of(person)).abuse is AbuseAnswer.NO


async def test_saying_yes_to_the_safety_question_again_turns_the_plan_to_letting_go(person, clock):
    await finish_intake(person, abuse="I'd rather not say")
    clock.advance(days=31)
    await tick_readiness(person)
    await walk(person, "No", "I miss them", "Calm", "No")
    await person.tap("Yes, there was")
    assert (await profile_of(person)).abuse is AbuseAnswer.YES
    reply, _ = await walk(person, "No", "I miss them")
    assert "You're ready to send" not in reply.text


async def test_the_plan_follows_the_chosen_kind_of_distance(person):
    await finish_intake(person)
    await choose(person, "The kind of distance", "A softer pause")
    reply = await person.send("/plan")
    assert "Your kind of distance:" in reply.text and "Six-step guide" in reply.text


async def test_shouldi_can_hear_that_they_are_seeing_someone_and_the_advice_uses_it(person, clock):
    await finish_intake(person)
    clock.advance(days=3)
    await walk(person, "No", "To ask to get back together", "Calm", "No")
    reply = await person.tap("They're seeing someone new")
    assert "Staying in touch while they see someone new" in reply.text
    reply, _ = await walk(person, "No", "To ask to get back together", "Calm", "No")
    assert "They're seeing someone new" not in person.buttons()
    assert "while they're seeing someone" in reply.text


async def test_a_no_told_to_the_program_shows_what_the_articles_each_take_it_to_mean(person):
    await finish_intake(person)
    await put_in(person, "rebuild")
    await person.send("/phase")
    reply = await person.tap("They said no")
    assert "Respect it" in reply.text  # the program holds, as before
    assert 'Where the articles differ: What a "no" means' in reply.text
    assert "Six-step guide" in reply.text and "the coach's own default" in reply.text
    assert (await profile_of(person)).phase == "rebuild"
