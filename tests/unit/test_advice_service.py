"""The advice service: a Situation built from what is stored, the questions worth asking, and
"they texted me" recorded. On SQLite and PostgreSQL alike; the clock is passed in."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.db.models import Answer, ContactEvent, Profile, User
from bot.services.advice import (
    OPTIONS,
    QUESTIONS,
    READINESS_FORM,
    RESTART_RULE,
    Advice,
    AdviceService,
    Answers,
    NextQuestion,
    NotSetUp,
    UnknownKind,
)
from bot.services.checkin import CheckinService
from content import load_content
from content.program import load_program
from content.vocab import AbuseAnswer, BreakupWhen, Goal, WhoEnded

USER = 42
TODAY = date(2026, 3, 2)  # the FakeClock's day (09:00 UTC)


@pytest.fixture
def checkins(migrated_db, clock):
    return CheckinService(migrated_db, clock, "UTC")


@pytest.fixture
def advice(migrated_db, clock, checkins):
    return AdviceService(migrated_db, load_content(), clock, "UTC", checkins)


async def set_up(db, clock, *, language_code: str | None = "en", **profile) -> None:
    """A person who has finished the intake; `profile` overrides the columns."""
    now = clock.now()
    values = {
        "breakup_when": BreakupWhen.EXACT,
        "breakup_on": TODAY - timedelta(days=10),
        "who_ended": WhoEnded.THEM,
        "abuse": AbuseAnswer.NO,
        "goal": Goal.GET_BACK,
        "timezone": "Europe/London",
        "checkin_hour": 20,
        "no_contact_started_on": TODAY - timedelta(days=10),
        "intake_completed_at": now,
        "updated_at": now,
        **profile,
    }
    async with db.transaction() as session:
        session.add(User(id=USER, chat_id=USER, first_name="Ri", language_code=language_code,
                         created_at=now, last_seen_at=now))  # fmt: skip
        await session.flush()
        session.add(Profile(user_id=USER, **values))


async def add_contact(db, *, on: date, by: str, topic: str, breaks: bool) -> None:
    at = datetime(on.year, on.month, on.day, 8, 0, tzinfo=UTC)
    async with db.transaction() as session:
        session.add(ContactEvent(user_id=USER, at=at, local_date=on, initiated_by=by,
                                 topic=topic, breaks_no_contact=breaks))  # fmt: skip


async def tick(db, clock, items: dict[str, str]) -> None:
    async with db.transaction() as session:
        for item, value in items.items():
            session.add(Answer(user_id=USER, form=READINESS_FORM, item=item, value=value,
                               answered_at=clock.now()))  # fmt: skip


def readiness_items() -> list[str]:
    return [i.id for i in load_program().form(READINESS_FORM).items if i.auto is None]


# --- each field from stored data ---------------------------------------------------------------


async def test_days_since_breakup_count_from_the_breakup_date_to_the_persons_local_today(
    migrated_db, clock, advice
):
    clock.set(datetime(2026, 3, 2, 14, 0, tzinfo=UTC))  # already 3 March in Sydney
    await set_up(migrated_db, clock, breakup_on=date(2026, 2, 25), timezone="Australia/Sydney")
    assert (await advice.situation_for(USER, Answers())).days_since_breakup == 6


async def test_without_a_breakup_date_the_breakup_counts_as_today(migrated_db, clock, advice):
    await set_up(migrated_db, clock, breakup_on=None)
    assert (await advice.situation_for(USER, Answers())).days_since_breakup == 0


async def test_the_last_contact_is_the_start_of_the_persons_no_contact_streak(
    migrated_db, clock, advice
):
    await set_up(migrated_db, clock, no_contact_started_on=TODAY - timedelta(days=4))
    situation = await advice.situation_for(USER, Answers())
    assert situation.days_since_you_last_contacted == 4


async def test_the_last_contact_is_the_newest_contact_that_broke_no_contact(
    migrated_db, clock, advice
):
    await set_up(migrated_db, clock, no_contact_started_on=TODAY - timedelta(days=9))
    await add_contact(migrated_db, on=TODAY - timedelta(days=6), by="me", topic="other",
                      breaks=True)  # fmt: skip
    # Neither their messages nor your practical ones count as breaking it.
    await add_contact(migrated_db, on=TODAY - timedelta(days=2), by="them", topic="casual",
                      breaks=False)  # fmt: skip
    await add_contact(migrated_db, on=TODAY - timedelta(days=1), by="me", topic="logistics",
                      breaks=False)  # fmt: skip
    situation = await advice.situation_for(USER, Answers())
    assert situation.days_since_you_last_contacted == 6


async def test_without_a_streak_or_a_slip_the_count_runs_from_the_breakup(
    migrated_db, clock, advice
):
    await set_up(migrated_db, clock, no_contact_started_on=None)
    assert (await advice.situation_for(USER, Answers())).days_since_you_last_contacted is None


async def test_who_ended_it_what_is_shared_and_the_goal_come_from_the_profile(
    migrated_db, clock, advice
):
    await set_up(migrated_db, clock, who_ended=WhoEnded.MUTUAL, shares_kids=True,
                 shares_home=True, goal=Goal.MOVE_ON)  # fmt: skip
    situation = await advice.situation_for(USER, Answers())
    assert situation.who_ended == "mutual"
    assert situation.shared == frozenset({"kids", "home"})
    assert situation.goal == "move_on"


async def test_an_unanswered_goal_is_not_sure_yet(migrated_db, clock, advice):
    await set_up(migrated_db, clock, goal=None, abuse=AbuseAnswer.YES)
    assert (await advice.situation_for(USER, Answers())).goal == "unsure"


@pytest.mark.parametrize(
    ("abuse", "expected"),
    [(AbuseAnswer.YES, True), (AbuseAnswer.NO, False), (AbuseAnswer.UNSAID, None), (None, None)],
)
async def test_abuse_or_repeated_cheating_is_only_no_when_the_person_said_no(
    migrated_db, clock, advice, abuse, expected
):
    await set_up(migrated_db, clock, abuse=abuse)
    situation = await advice.situation_for(USER, Answers())
    assert situation.abuse_or_repeated_cheating is expected


async def test_the_hour_is_the_persons_local_hour(migrated_db, clock, advice):
    clock.set(datetime(2026, 3, 2, 23, 30, tzinfo=UTC))
    await set_up(migrated_db, clock, timezone="Asia/Tokyo")
    assert (await advice.situation_for(USER, Answers())).local_hour == 8


async def test_the_readiness_checklist_is_done_when_every_item_is_ticked(
    migrated_db, clock, advice
):
    await set_up(migrated_db, clock, no_contact_started_on=TODAY - timedelta(days=30))
    await tick(migrated_db, clock, dict.fromkeys(readiness_items(), "done"))
    assert (await advice.situation_for(USER, Answers())).readiness_checklist_done is True


async def test_the_readiness_checklist_is_not_done_with_one_item_left(migrated_db, clock, advice):
    await set_up(migrated_db, clock, no_contact_started_on=TODAY - timedelta(days=30))
    items = readiness_items()
    await tick(migrated_db, clock, {**dict.fromkeys(items, "done"), items[-1]: "not_yet"})
    assert (await advice.situation_for(USER, Answers())).readiness_checklist_done is False


async def test_the_readiness_checklist_waits_for_the_no_contact_stretch_to_run_its_length(
    migrated_db, clock, advice
):
    await set_up(migrated_db, clock, no_contact_started_on=TODAY - timedelta(days=29))
    await tick(migrated_db, clock, dict.fromkeys(readiness_items(), "done"))
    assert (await advice.situation_for(USER, Answers())).readiness_checklist_done is False


async def test_nothing_ticked_means_the_checklist_is_not_done(migrated_db, clock, advice):
    await set_up(migrated_db, clock)
    assert (await advice.situation_for(USER, Answers())).readiness_checklist_done is False


async def test_the_chosen_no_contact_length_sets_the_days_left(migrated_db, clock, advice):
    await set_up(migrated_db, clock, no_contact_days=21,
                 no_contact_started_on=TODAY - timedelta(days=5))  # fmt: skip
    result = await advice.verdict_for(USER, Answers("none", "miss_them", "sad", 0))
    assert result.verdict.decision == "wait"
    assert result.verdict.days_left == 16
    assert result.no_contact_days == 21


async def test_the_flows_answers_are_put_into_the_situation(migrated_db, clock, advice):
    await set_up(migrated_db, clock)
    situation = await advice.situation_for(USER, Answers("none", "closure", "anxious", 1))
    assert (situation.they_messaged, situation.reason_to_text) == ("none", "closure")
    assert (situation.feeling, situation.unanswered_messages_you_sent) == ("anxious", 1)


async def test_when_they_messaged_the_reason_to_text_is_to_reply(migrated_db, clock, advice):
    await set_up(migrated_db, clock)
    situation = await advice.situation_for(USER, Answers(they_messaged="casual"))
    assert situation.reason_to_text == "reply"


async def test_a_person_who_has_not_finished_the_intake_is_not_set_up(migrated_db, clock, advice):
    with pytest.raises(NotSetUp):
        await advice.situation_for(USER, Answers())
    await set_up(migrated_db, clock, intake_completed_at=None)
    with pytest.raises(NotSetUp):
        await advice.next_step(USER, Answers())


# --- what contact already tells ---------------------------------------------------------------


async def test_their_message_today_and_no_unanswered_ones_are_known_from_contact(
    migrated_db, clock, advice
):
    await set_up(migrated_db, clock)
    await add_contact(migrated_db, on=TODAY, by="them", topic="relationship", breaks=False)
    situation = await advice.situation_for(USER, Answers())
    assert situation.they_messaged == "relationship"
    assert situation.reason_to_text == "reply"
    assert situation.unanswered_messages_you_sent == 0


async def test_the_opening_of_the_flow_gives_the_known_answers_the_name_and_the_first_step(
    migrated_db, clock, advice
):
    await set_up(migrated_db, clock)
    await add_contact(migrated_db, on=TODAY, by="them", topic="relationship", breaks=False)
    for start in (Answers(), Answers(reason_to_text="logistics")):
        opening = await advice.opening(USER, start)
        assert opening.known.they_messaged == "relationship"
        assert opening.ex_name == await advice.ex_name(USER)
        assert opening.step == await advice.next_step(USER, start)
    with pytest.raises(NotSetUp):  # nobody by that id has been through the intake
        await advice.opening(USER + 1, Answers())


async def test_a_message_from_them_on_an_earlier_day_only_says_nothing_of_yours_waits(
    migrated_db, clock, advice
):
    await set_up(migrated_db, clock)
    await add_contact(migrated_db, on=TODAY - timedelta(days=3), by="them", topic="casual",
                      breaks=False)  # fmt: skip
    step = await advice.next_step(USER, Answers())
    assert isinstance(step, NextQuestion) and step.field == "they_messaged"
    situation = await advice.situation_for(USER, Answers())
    assert situation.they_messaged == "none"  # the Situation's default: nothing said
    assert situation.unanswered_messages_you_sent == 0


async def test_what_the_person_answers_wins_over_what_contact_suggests(migrated_db, clock, advice):
    await set_up(migrated_db, clock)
    await add_contact(migrated_db, on=TODAY, by="them", topic="casual", breaks=False)
    situation = await advice.situation_for(USER, Answers(they_messaged="hostile"))
    assert situation.they_messaged == "hostile"


# --- the questions --------------------------------------------------------------------------------


async def walk_all(advice: AdviceService, answers: Answers, seen: list[str]) -> list[int]:
    """Answer every question every way; returns how many questions each path asked."""
    step = await advice.next_step(USER, answers)
    if isinstance(step, Advice):
        return [len(seen)]
    assert step.field not in seen, "a question asked twice"
    counts = []
    for value in step.options:
        counts += await walk_all(
            advice, replace_answer(answers, step.field, value), [*seen, step.field]
        )
    return counts


def replace_answer(answers: Answers, name: str, value: object) -> Answers:
    from dataclasses import replace

    return replace(answers, **{name: value})


async def test_no_path_asks_more_than_four_questions_or_any_twice(migrated_db, clock, advice):
    await set_up(migrated_db, clock)
    counts = await walk_all(advice, Answers(), [])
    assert max(counts) <= len(QUESTIONS) == 4
    assert min(counts) >= 2  # whether they wrote, and how you feel, are always asked


async def test_questions_are_asked_in_order_with_every_option(migrated_db, clock, advice):
    await set_up(migrated_db, clock, ex_name="Alex")
    step = await advice.next_step(USER, Answers())
    assert isinstance(step, NextQuestion)
    assert (step.field, step.options, step.ex_name) == ("they_messaged", OPTIONS["they_messaged"],
                                                        "Alex")  # fmt: skip
    step = await advice.next_step(USER, Answers(they_messaged="none"))
    assert step.field == "reason_to_text"
    assert "reply" not in step.options
    step = await advice.next_step(USER, Answers(they_messaged="casual"))
    assert step.field == "feeling"  # the reason is to reply


async def test_a_question_that_cannot_change_the_advice_is_not_asked(migrated_db, clock, advice):
    await set_up(migrated_db, clock, abuse=AbuseAnswer.YES, goal=None)
    step = await advice.next_step(USER, Answers("none", "miss_them", "sad"))
    assert isinstance(step, Advice)
    assert step.verdict.decision == "do_not_text"


async def test_the_feeling_is_always_asked_so_a_crisis_can_surface(migrated_db, clock, advice):
    await set_up(migrated_db, clock, abuse=AbuseAnswer.YES, goal=None)
    step = await advice.next_step(USER, Answers("none", "logistics"))
    assert isinstance(step, NextQuestion) and step.field == "feeling"


async def test_a_crisis_yields_get_support_with_helplines_for_the_persons_country(
    migrated_db, clock, advice
):
    await set_up(migrated_db, clock, country="gb", language_code="de")
    result = await advice.verdict_for(USER, Answers("casual", feeling="crisis"))
    assert result.verdict.decision == "get_support"
    assert result.helplines is not None and result.helplines.country == "gb"


async def test_helplines_come_from_the_time_zone_before_the_telegram_language(
    migrated_db, clock, advice
):
    await set_up(migrated_db, clock, language_code="de", timezone="America/New_York")
    result = await advice.verdict_for(USER, Answers(feeling="crisis"))
    assert result.helplines is not None
    assert (result.helplines.country, result.helplines.source) == ("us", "timezone")


async def test_helplines_fall_back_to_the_telegram_language(migrated_db, clock, advice):
    await set_up(migrated_db, clock, language_code="en-GB", timezone=None)
    result = await advice.verdict_for(USER, Answers(feeling="crisis"))
    assert result.helplines is not None and result.helplines.source == "language"


async def test_other_verdicts_carry_no_helplines(migrated_db, clock, advice):
    await set_up(migrated_db, clock)
    result = await advice.verdict_for(USER, Answers("none", "miss_them", "calm", 0))
    assert result.helplines is None


async def test_the_count_restarts_reason_is_only_given_after_real_contact(
    migrated_db, clock, advice
):
    await set_up(migrated_db, clock, who_ended=WhoEnded.ME,
                 no_contact_started_on=TODAY - timedelta(days=3))  # fmt: skip
    answers = Answers("none", "check_on_them", "calm", 0)
    result = await advice.verdict_for(USER, answers)
    assert RESTART_RULE not in [r.rule for r in result.verdict.reasons]
    await add_contact(migrated_db, on=TODAY - timedelta(days=3), by="me", topic="other",
                      breaks=True)  # fmt: skip
    result = await advice.verdict_for(USER, answers)
    assert RESTART_RULE in [r.rule for r in result.verdict.reasons]


# --- they texted me ----------------------------------------------------------------------------


async def test_they_texted_records_contact_that_does_not_break_no_contact(
    migrated_db, clock, advice
):
    await set_up(migrated_db, clock)
    result = await advice.they_texted(USER, "casual")
    assert result.verdict.decision == "reply"
    assert result.answers.reason_to_text == "reply"
    async with migrated_db.sessions() as session:
        [event] = (await session.scalars(select(ContactEvent))).all()
        profile = await session.get(Profile, USER)
    assert (event.initiated_by, event.topic, event.breaks_no_contact) == ("them", "casual", False)
    assert event.local_date == TODAY
    assert profile.no_contact_started_on == TODAY - timedelta(days=10)
    assert profile.slips == 0


async def test_the_same_message_told_twice_is_recorded_once_and_a_later_one_again(
    migrated_db, clock, advice
):
    await set_up(migrated_db, clock)
    await advice.they_texted(USER, "logistics")
    clock.advance(minutes=2)
    await advice.they_texted(USER, "logistics")
    clock.advance(hours=3)
    await advice.they_texted(USER, "logistics")
    async with migrated_db.sessions() as session:
        events = (await session.scalars(select(ContactEvent))).all()
    assert len(events) == 2


async def test_an_unknown_kind_of_message_is_refused_and_nothing_is_stored(
    migrated_db, clock, advice
):
    await set_up(migrated_db, clock)
    with pytest.raises(UnknownKind):
        await advice.they_texted(USER, "other")
    async with migrated_db.sessions() as session:
        assert (await session.scalars(select(ContactEvent))).all() == []


async def test_they_texted_before_the_intake_is_not_set_up(migrated_db, clock, advice):
    with pytest.raises(NotSetUp):
        await advice.they_texted(USER, "casual")


def test_answers_refuse_values_the_flow_does_not_offer():
    with pytest.raises(ValueError):
        Answers(feeling="fine")
    assert Answers("none", "miss_them").given() == {
        "they_messaged": "none",
        "reason_to_text": "miss_them",
    }


def test_the_flow_offers_every_answer_the_engine_knows_except_reply_which_follows():
    from content.advice import FEELINGS, REASONS_TO_TEXT, THEY_MESSAGED

    assert set(OPTIONS["reason_to_text"]) == set(REASONS_TO_TEXT) - {"reply"}
    assert OPTIONS["they_messaged"] == THEY_MESSAGED
    assert OPTIONS["feeling"] == FEELINGS
