"""Check-in answers on SQLite and PostgreSQL: the quick answers (a mood, "no contact", "I did"
or an urge: one read and one UPDATE, and the urge's row the first time) give exactly the view a
fresh read gives, path choices and milestones included, and everything else still goes the
full way."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from bot.db.models import Answer, Checkin, ContactEvent, Profile, Urge, User
from bot.services.checkin import CheckinService, NotYours

PERSON, STRANGER = 7, 8


async def seed(db, clock, *, phase: str = "no_contact") -> int:
    """Someone with a profile and today's check-in sent, unanswered; the check-in's id."""
    now = clock.now()
    async with db.transaction() as session:
        for user_id in (PERSON, STRANGER):
            session.add(User(id=user_id, chat_id=user_id, first_name="P", language_code="en",
                             is_active=True, created_at=now, last_seen_at=now))  # fmt: skip
        await session.flush()
        session.add(Profile(user_id=PERSON, ex_name="Alex", timezone="UTC", checkin_hour=9,
                            intake_completed_at=now, updated_at=now, no_contact_days=30,
                            no_contact_started_on=now.date() - timedelta(days=6), phase=phase,
                            shares_kids=True, no_contact_banked_days=3, slips=1))  # fmt: skip
        session.add(Profile(user_id=STRANGER, timezone="UTC", checkin_hour=9,
                            intake_completed_at=now, updated_at=now, no_contact_days=30,
                            phase=phase))  # fmt: skip
        checkin = Checkin(user_id=PERSON, local_date=now.date(), kind="daily", status="sent",
                          claimed_at=now, sent_at=now)  # fmt: skip
        session.add(checkin)
        await session.flush()
        return checkin.id


@pytest.fixture
def checkins(migrated_db, clock):
    return CheckinService(migrated_db, clock, "UTC")


@pytest.mark.parametrize("phase", ["no_contact", "reach_out"])
async def test_each_answer_returns_what_a_fresh_read_of_the_check_in_shows(
    migrated_db, clock, checkins, phase
):
    checkin_id = await seed(migrated_db, clock, phase=phase)
    for field, value in (("contact", "none"), ("mood", "4"), ("mood", "2"), ("urge", "some")):
        answered = await checkins.answer(PERSON, checkin_id, field, value)
        # Only the answer itself knows the milestone it reached; the rest is the same.
        fresh = await checkins.view(PERSON, checkin_id)
        assert replace(answered, milestone=None) == fresh, (field, value)
    assert (answered.contact, answered.mood, answered.urge, answered.done) == ("none", 2, "some",
                                                                                True)  # fmt: skip
    assert answered.streak.current == 6 and answered.streak.total == 9
    assert answered.milestone == (3 if phase == "no_contact" else None)


async def test_i_did_asks_for_the_topic_and_the_topic_still_records_the_contact(
    migrated_db, clock, checkins
):
    checkin_id = await seed(migrated_db, clock)
    answered = await checkins.answer(PERSON, checkin_id, "contact", "me")
    assert answered == await checkins.view(PERSON, checkin_id)
    assert answered.needs_topic and answered.shares_something
    answered = await checkins.answer(PERSON, checkin_id, "topic", "other")
    assert answered.slipped
    async with migrated_db.sessions() as session:
        events = await session.scalar(select(func.count()).select_from(ContactEvent))
    assert events == 1


async def test_an_answer_on_someone_elses_check_in_is_refused_and_changes_nothing(
    migrated_db, clock, checkins
):
    checkin_id = await seed(migrated_db, clock)
    for field, value in (("contact", "none"), ("mood", "4")):
        with pytest.raises(NotYours):
            await checkins.answer(STRANGER, checkin_id, field, value)
    async with migrated_db.sessions() as session:
        row = await session.get(Checkin, checkin_id)
    assert row is not None and (row.contact, row.mood) == (None, None)


async def test_a_second_contact_answer_is_refused_and_the_first_one_stays(
    migrated_db, clock, checkins
):
    checkin_id = await seed(migrated_db, clock)
    await checkins.answer(PERSON, checkin_id, "contact", "none")
    with pytest.raises(NotYours):
        await checkins.answer(PERSON, checkin_id, "contact", "me")
    assert (await checkins.view(PERSON, checkin_id)).contact == "none"


async def test_a_mood_changed_after_the_check_in_is_done_keeps_it_done_with_its_urge_count(
    migrated_db, clock, checkins
):
    checkin_id = await seed(migrated_db, clock)
    for field, value in (("contact", "none"), ("mood", "4"), ("urge", "strong")):
        await checkins.answer(PERSON, checkin_id, field, value)
    answered = await checkins.answer(PERSON, checkin_id, "mood", "5")
    assert answered == await checkins.view(PERSON, checkin_id)
    assert answered.done and answered.mood == 5 and answered.streak.urges_resisted == 1
    async with migrated_db.sessions() as session:
        row = await session.get(Checkin, checkin_id)
    assert row is not None and row.answered_at is not None
    assert row.local_date == date.fromordinal(clock.now().date().toordinal())


async def test_quick_answers_show_the_planned_contact_and_the_last_one_reaches_a_milestone(
    migrated_db, clock, checkins
):
    checkin_id = await seed(migrated_db, clock)
    async with migrated_db.transaction() as session:
        session.add(Answer(user_id=PERSON, form="path", item="distance_style",
                           value="calm_message", answered_at=clock.now()))  # fmt: skip
    for field, value in (("contact", "none"), ("mood", "3"), ("urge", "none")):
        answered = await checkins.answer(PERSON, checkin_id, field, value)
        assert replace(answered, milestone=None) == await checkins.view(PERSON, checkin_id)
        assert answered.planned_topics == ("reply", "pause_message")
    assert answered.done and answered.milestone == 3 and answered.streak.urges_resisted == 0
    async with migrated_db.sessions() as session:
        profile = await session.get(Profile, PERSON)
        row = await session.get(Checkin, checkin_id)
    assert profile is not None and profile.last_milestone_day == 3
    assert row is not None and row.answered_at == clock.now()
    again = await checkins.answer(PERSON, checkin_id, "urge", "none")
    assert again.milestone is None and again.done


async def test_an_urge_is_recorded_once_with_what_came_of_it_and_counted_only_when_resisted(
    migrated_db, clock, checkins
):
    checkin_id = await seed(migrated_db, clock)
    for field, value in (("contact", "none"), ("mood", "3"), ("urge", "some"), ("urge", "strong")):
        answered = await checkins.answer(PERSON, checkin_id, field, value)
    assert replace(answered, milestone=None) == await checkins.view(PERSON, checkin_id)
    assert answered.urge == "strong" and answered.streak.urges_resisted == 1
    async with migrated_db.sessions() as session:
        urges = (await session.scalars(select(Urge).where(Urge.user_id == PERSON))).all()
    assert [(u.strength, u.source, u.outcome) for u in urges] == [("some", "checkin", "resisted")]
    assert urges[0].local_hour == clock.now().hour  # the person's zone is UTC

    second = await seed_second_checkin(migrated_db, clock)
    for field, value in (("contact", "me"), ("topic", "other"), ("mood", "2"), ("urge", "some")):
        answered = await checkins.answer(PERSON, second, field, value)
    assert answered.slipped and answered.streak.urges_resisted == 1  # the new one was acted on
    async with migrated_db.sessions() as session:
        outcomes = (await session.scalars(select(Urge.outcome).order_by(Urge.id))).all()
    assert outcomes == ["resisted", "sent"]


async def seed_second_checkin(db, clock) -> int:
    async with db.transaction() as session:
        checkin = Checkin(user_id=PERSON, local_date=clock.now().date() - timedelta(days=1),
                          kind="daily", status="sent", claimed_at=clock.now(),
                          sent_at=clock.now())  # fmt: skip
        session.add(checkin)
        await session.flush()
        return checkin.id
