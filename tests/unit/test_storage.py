"""Storage, the persistence class and the intake service on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bot.db import queries as q
from bot.db.models import ConversationState, Profile, User
from bot.persistence import DatabasePersistence
from bot.services.checkin import CheckinService
from bot.services.intake import IntakeService, InvalidAnswer, step_after, step_before
from bot.services.privacy import PrivacyService
from content import load_content
from content.vocab import AbuseAnswer, BreakupWhen, Goal


@pytest.fixture
def intake(migrated_db, clock):
    checkins = CheckinService(migrated_db, clock, "UTC")
    return IntakeService(migrated_db, load_content(), clock, "UTC", checkins)


async def register(intake, user_id=42):
    return await intake.greet(user_id=user_id, chat_id=user_id, first_name="Ri",
                              language_code="en-GB")  # fmt: skip


async def test_migrations_are_idempotent(migrated_db):
    await migrated_db.migrate()
    async with migrated_db.sessions() as session:
        assert await q.count_users(session) == 0


async def test_times_come_back_aware_and_in_utc(migrated_db):
    moment = datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=2)))
    async with migrated_db.transaction() as session:
        session.add(User(id=1, chat_id=1, created_at=moment, last_seen_at=moment))
    async with migrated_db.sessions() as session:
        user = await session.get(User, 1)
    assert user.created_at == moment
    assert user.created_at.tzinfo is not None
    assert user.created_at.utcoffset() == timedelta(0)


async def test_seeing_a_person_again_refreshes_them_without_duplicating(migrated_db, clock):
    for name in ("Ri", "Rina"):
        async with migrated_db.transaction() as session:
            await q.record_user_seen(session, user_id=5, chat_id=5, first_name=name,
                                     language_code="en", now=clock.advance(hours=1))  # fmt: skip
    async with migrated_db.sessions() as session:
        users = (await session.scalars(select(User))).all()
    assert [(u.first_name, u.created_at < u.last_seen_at) for u in users] == [("Rina", True)]


async def test_persistence_keeps_one_row_per_conversation_key(migrated_db, clock):
    persistence = DatabasePersistence(migrated_db, clock)
    await persistence.update_conversation("intake", (1, 1), "asking_goal")
    await persistence.update_conversation("intake", (2, 2), "asking_shared")
    await persistence.update_conversation("intake", (1, 1), "asking_timezone")
    assert await persistence.get_conversations("intake") == {
        (1, 1): "asking_timezone",
        (2, 2): "asking_shared",
    }
    await persistence.update_conversation("intake", (1, 1), None)
    assert await persistence.get_conversations("intake") == {(2, 2): "asking_shared"}
    assert await persistence.get_conversations("other") == {}


async def test_intake_answers_are_validated_and_stored(intake, clock):
    await register(intake)
    progress = await intake.begin(42)
    assert progress.next_step == "ex_name"
    progress = await intake.answer(42, "breakup", "weeks_ago")
    assert progress.profile.breakup_on == date(2026, 2, 9)
    assert progress.next_step == "who_ended"
    with pytest.raises(InvalidAnswer):
        await intake.answer(42, "who_ended", "the-cat")
    with pytest.raises(InvalidAnswer):
        await intake.answer(42, "checkin_hour", "24")
    with pytest.raises(InvalidAnswer):
        await intake.answer(42, "timezone", "Mars/Base")
    with pytest.raises(InvalidAnswer):
        await intake.answer(42, "breakup", date(2030, 1, 1))
    profile = await intake.profile(42)
    assert profile.who_ended is None and profile.checkin_hour is None


async def test_the_last_answer_completes_the_intake(intake, clock):
    await register(intake)
    await intake.begin(42)
    progress = await intake.answer(42, "checkin_hour", 9)
    assert progress.next_step is None
    assert progress.profile.set_up
    async with intake.db.sessions() as session:
        assert (await session.get(Profile, 42)).intake_completed_at == clock.now()


async def test_abuse_skips_the_goal_question_both_ways(intake):
    await register(intake)
    await intake.begin(42)
    progress = await intake.answer(42, "abuse", "yes")
    assert progress.next_step == "timezone"
    assert progress.profile.goal is Goal.MOVE_ON
    assert step_before("timezone", progress.profile) == "abuse"
    progress = await intake.answer(42, "abuse", "no")
    assert step_after("abuse", progress.profile) == "goal"


async def test_today_follows_the_persons_time_zone(intake, clock):
    clock.set(datetime(2026, 3, 2, 23, 30, tzinfo=UTC))
    await register(intake)
    await intake.begin(42)
    assert await intake.today(42) == date(2026, 3, 2)
    await intake.answer(42, "timezone", "Asia/Tokyo", advance=False)
    assert await intake.today(42) == date(2026, 3, 3)
    progress = await intake.answer(42, "breakup", "today")
    assert progress.profile.breakup_on == date(2026, 3, 3)
    assert progress.profile.breakup_when is BreakupWhen.TODAY


async def test_answers_for_someone_who_never_started_are_refused(intake):
    with pytest.raises(q.UnknownUser):
        await intake.answer(99, "goal", "unsure")


async def test_deleting_removes_the_person_their_profile_and_their_conversations(
    intake, migrated_db, clock
):
    await register(intake, 42)
    await register(intake, 43)
    await intake.begin(42)
    await intake.answer(42, "abuse", AbuseAnswer.YES.value)
    await intake.begin(43)
    persistence = DatabasePersistence(migrated_db, clock)
    await persistence.update_conversation("intake", (42, 42), "asking_goal")
    await persistence.update_conversation("intake", (43, 43), "asking_goal")
    await PrivacyService(migrated_db).delete_everything(42)
    async with migrated_db.sessions() as session:
        assert [u.id for u in (await session.scalars(select(User))).all()] == [43]
        assert [p.user_id for p in (await session.scalars(select(Profile))).all()] == [43]
        keys = [c.key for c in (await session.scalars(select(ConversationState))).all()]
    assert keys == ["[43,43]"]


async def test_the_migrations_build_exactly_the_schema_the_models_describe(migrated_db):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from bot.db.models import Base

    def diff(sync_connection):
        context = MigrationContext.configure(sync_connection, opts={"compare_type": False})
        return compare_metadata(context, Base.metadata)

    async with migrated_db.engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []
