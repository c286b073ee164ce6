"""Storage, what a person is expected to answer, and the intake service on SQLite and PostgreSQL
alike."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import select

from bot.db import alembic_config
from bot.db import queries as q
from bot.db.models import Profile, User
from bot.db.types import UtcDateTime
from bot.services.checkin import CheckinService
from bot.services.conversation import ConversationService, Expected
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


async def test_what_is_awaited_is_one_row_per_person_and_the_newest_wait_wins(
    intake, migrated_db, clock
):
    await register(intake, 1)
    await register(intake, 2)
    conversation = ConversationService(migrated_db, clock)
    assert await conversation.expected(1) is None
    await conversation.expect(1, "journal.entry", {"controls": 7})
    await conversation.expect(2, "settings.hard_date")
    await conversation.expect(1, "urge.draft")
    assert await conversation.expected(1) == Expected("urge.draft")
    assert await conversation.expected(2) == Expected("settings.hard_date")
    await conversation.clear(1, "journal.entry")  # an older wait's answer wipes nothing newer
    assert await conversation.expected(1) == Expected("urge.draft")
    await conversation.clear(1, "urge.*")
    assert await conversation.expected(1) is None
    assert await conversation.expected(2) == Expected("settings.hard_date")


async def test_the_intake_question_is_awaited_from_the_profile_unless_something_else_is(
    intake, migrated_db, clock
):
    await register(intake, 5)
    await intake.begin(5)
    conversation = ConversationService(migrated_db, clock)
    assert await conversation.expected(5) == Expected("intake.ask", {"step": "ex_name"})
    await conversation.expect(5, "advice.pasted")
    assert (await conversation.expected(5)).feature == "advice"
    await conversation.clear(5)
    assert await conversation.expected(5) == Expected("intake.ask", {"step": "ex_name"})


async def test_the_migration_carries_people_who_were_mid_flow_into_the_awaited_column(
    empty_db, clock
):
    db = empty_db

    def upgrade(to: str):
        async def run(conn):
            await conn.run_sync(lambda sync: command.upgrade(alembic_config(sync), to))

        return run

    async with db.engine.begin() as conn:
        await upgrade("0003")(conn)
        now = clock.now()
        users = sa.table("users", sa.column("id"), sa.column("chat_id"),
                         sa.column("created_at", UtcDateTime()),
                         sa.column("last_seen_at", UtcDateTime()))  # fmt: skip
        states = sa.table("conversation_states", sa.column("name"), sa.column("key"),
                          sa.column("state"), sa.column("updated_at", UtcDateTime()))  # fmt: skip
        for user_id in (1, 2, 3, 4):
            await conn.execute(users.insert().values(id=user_id, chat_id=user_id, created_at=now,
                                                     last_seen_at=now))  # fmt: skip
        rows = [
            ("journal", "[1,1]", '"writing_journal_entry"'),
            ("urge", "[1,1]", '"drafting"'),  # two flows at once: the draft had the stronger claim
            ("intake", "[2,2]", '"editing_timezone"'),
            ("hard_dates", "[3,3]", '"typing_hard_date"'),
            ("intake", "[4,4]", '"asking_goal"'),  # the profile's intake_step already says it
        ]
        for name, key, state in rows:
            await conn.execute(
                states.insert().values(name=name, key=key, state=state, updated_at=now)
            )
        await upgrade("head")(conn)
    conversation = ConversationService(db, clock)
    assert await conversation.expected(1) == Expected("urge.draft")
    assert await conversation.expected(2) == Expected("intake.edit", {"step": "timezone"})
    assert await conversation.expected(3) == Expected("settings.hard_date")
    assert await conversation.expected(4) is None


async def test_intake_answers_are_validated_and_stored(intake, clock):
    await register(intake)
    progress = await intake.begin(42)
    assert progress.next_step == "ex_name"
    progress = await intake.answer(42, "breakup", "weeks_ago")
    assert progress.profile.breakup_on == date(2026, 2, 9)
    assert progress.next_step == "last_contact"
    progress = await intake.answer(42, "last_contact", "since_breakup")
    assert progress.profile.last_contact_on == date(2026, 2, 9)
    assert progress.next_step == "who_ended"
    with pytest.raises(InvalidAnswer):
        await intake.answer(42, "last_contact", date(2030, 1, 1))
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


async def test_deleting_removes_the_person_their_profile_and_what_they_were_answering(
    intake, migrated_db, clock
):
    await register(intake, 42)
    await register(intake, 43)
    await intake.begin(42)
    await intake.answer(42, "abuse", AbuseAnswer.YES.value)
    await intake.begin(43)
    conversation = ConversationService(migrated_db, clock)
    await conversation.expect(42, "journal.entry")
    await conversation.expect(43, "journal.entry")
    await PrivacyService(migrated_db).delete_everything(42)
    async with migrated_db.sessions() as session:
        assert [u.id for u in (await session.scalars(select(User))).all()] == [43]
        assert [p.user_id for p in (await session.scalars(select(Profile))).all()] == [43]
    assert await conversation.expected(42) is None
    assert await conversation.expected(43) == Expected("journal.entry")


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


async def test_tapped_days_move_with_the_time_zone_when_it_puts_the_person_on_another_day(
    intake, clock
):
    clock.set(datetime(2026, 11, 28, 0, 10, tzinfo=UTC))  # still the 27th in Chicago
    await register(intake)
    await intake.begin(42)
    await intake.answer(42, "breakup", "this_week")
    progress = await intake.answer(42, "last_contact", "since_breakup")
    assert progress.profile.last_contact_on == date(2026, 11, 25)  # dated from UTC's day
    progress = await intake.answer(42, "timezone", "America/Chicago", advance=False)
    assert progress.profile.breakup_on == date(2026, 11, 24)  # three days before the 27th
    assert progress.profile.last_contact_on == date(2026, 11, 24)
    assert await intake.today(42) == date(2026, 11, 27)


async def test_a_typed_last_contact_day_stays_as_typed_when_the_time_zone_arrives(intake, clock):
    clock.set(datetime(2026, 11, 28, 0, 10, tzinfo=UTC))
    await register(intake)
    await intake.begin(42)
    await intake.answer(42, "breakup", date(2026, 11, 20))
    await intake.answer(42, "last_contact", date(2026, 11, 22))
    progress = await intake.answer(42, "timezone", "America/Chicago", advance=False)
    assert progress.profile.breakup_on == date(2026, 11, 20)
    assert progress.profile.last_contact_on == date(2026, 11, 22)


async def test_a_few_days_ago_moves_with_the_day_but_not_after_the_intake(intake, clock):
    clock.set(datetime(2026, 11, 28, 0, 10, tzinfo=UTC))
    await register(intake)
    await intake.begin(42)
    await intake.answer(42, "last_contact", "few_days")
    progress = await intake.answer(42, "timezone", "Asia/Tokyo", advance=False)
    assert progress.profile.last_contact_on == date(2026, 11, 25)  # already the 28th in Tokyo
    progress = await intake.answer(42, "timezone", "America/Chicago", advance=False)
    assert progress.profile.last_contact_on == date(2026, 11, 24)
    await intake.answer(42, "checkin_hour", 9)
    progress = await intake.answer(42, "timezone", "Asia/Tokyo", advance=False)
    assert progress.profile.last_contact_on == date(2026, 11, 24)  # the plan has begun
