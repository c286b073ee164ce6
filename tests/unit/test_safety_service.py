"""The safety service and the database retry, on SQLite and PostgreSQL, with no Telegram."""

from __future__ import annotations

import inspect
from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from bot.db import queries as q
from bot.db.models import Checkin, Profile
from bot.services import advice, conversation, privacy, program, progress, retry, urge
from bot.services import checkin as checkin_service
from bot.services import intake as intake_service
from bot.services import safety as safety_service
from bot.services.checkin import CheckinService
from bot.services.intake import IntakeService
from bot.services.safety import INTERNATIONAL, SafetyService
from content import load_content
from content.vocab import AbuseAnswer, Goal


@pytest.fixture
def safety(migrated_db, clock):
    return SafetyService(migrated_db, clock, "UTC")


@pytest.fixture
def intake(migrated_db, clock):
    return IntakeService(migrated_db, load_content(), clock, "UTC",
                         CheckinService(migrated_db, clock, "UTC"))  # fmt: skip


@pytest.fixture(autouse=True)
def no_waiting_between_retries(monkeypatch):
    monkeypatch.setattr(retry, "DELAYS", (0, 0))


async def register(intake, user_id=42, language_code="en-GB"):
    await intake.greet(user_id=user_id, chat_id=user_id, first_name="Ri",
                       language_code=language_code)  # fmt: skip
    return await intake.begin(user_id)


async def profile(db, user_id=42) -> Profile:
    async with db.sessions() as session:
        found = await q.get_profile(session, user_id)
        assert found is not None
        return found


async def test_an_unknown_person_gets_no_rows_from_a_crisis(safety, migrated_db):
    view = await safety.open_hold(7)
    assert not view.known and not view.on_hold
    assert await safety.record_abuse(7) is None
    assert await safety.set_country(7, "gb") is False
    async with migrated_db.sessions() as session:
        assert await q.count_users(session) == 0


async def test_a_hold_keeps_its_start_when_opened_again_and_lifting_it_clears_it(
    safety, intake, migrated_db, clock
):
    await register(intake)
    first = await safety.open_hold(42)
    assert first.on_hold and first.language_code == "en-GB"
    started = first.hold_since
    clock.advance(days=1)
    again = await safety.open_hold(42)
    assert again.hold_since == started
    assert await safety.lift_hold(42) is True
    assert await safety.lift_hold(42) is False  # a second "I'm safe now" changes nothing
    stored = await profile(migrated_db)
    assert not stored.safety_hold and stored.safety_hold_since is None


async def test_lifting_a_hold_retires_the_gentle_asks_sent_during_it_but_not_earlier_check_ins(
    safety, intake, migrated_db, clock
):
    await register(intake)
    now = clock.now()
    async with migrated_db.transaction() as session:
        session.add(
            Checkin(
                user_id=42,
                local_date=now.date() - timedelta(days=1),
                kind="daily",
                status="sent",
                claimed_at=now,
                sent_at=now - timedelta(days=1),
            )
        )
        await session.flush()
    await safety.open_hold(42)
    clock.advance(hours=1)
    async with migrated_db.transaction() as session:
        session.add(Checkin(user_id=42, local_date=now.date(), kind="daily", status="sent",
                            claimed_at=clock.now(), sent_at=clock.now()))  # fmt: skip
    await safety.lift_hold(42)
    async with migrated_db.sessions() as session:
        statuses = dict((await session.execute(
            Checkin.__table__.select().with_only_columns(Checkin.local_date, Checkin.status)
        )).all())  # fmt: skip
    assert statuses == {now.date() - timedelta(days=1): "sent", now.date(): "held"}


async def test_abuse_moves_the_program_to_moving_on_and_the_intake_past_the_safety_question(
    safety, intake, migrated_db
):
    await register(intake)
    await intake.answer(42, "ex_name", "Alex")
    outcome = await safety.record_abuse(42)
    assert outcome is not None and outcome.newly
    assert outcome.intake_step == "breakup"  # earlier questions keep their place
    stored = await profile(migrated_db)
    assert stored.abuse is AbuseAnswer.YES and stored.goal is Goal.MOVE_ON
    assert stored.phase == "move_on" and not stored.reconcile_path_open
    again = await safety.record_abuse(42)
    assert again is not None and not again.newly


@pytest.mark.parametrize("step", ["abuse", "goal"])
async def test_abuse_at_the_safety_or_goal_question_moves_the_intake_to_the_time_zone(
    safety, intake, migrated_db, step
):
    await register(intake)
    async with migrated_db.transaction() as session:
        (await q.get_profile(session, 42)).intake_step = step
    outcome = await safety.record_abuse(42)
    assert outcome is not None and outcome.intake_step == "timezone"


async def test_the_country_must_be_one_with_helplines_or_international(safety, intake):
    await register(intake)
    assert await safety.set_country(42, "gb") is True
    assert (await safety.view(42)).country == "gb"
    assert await safety.set_country(42, INTERNATIONAL) is True
    with pytest.raises(ValueError):
        await safety.set_country(42, "xx")


# --- retrying ------------------------------------------------------------------------------------


def down() -> OperationalError:
    return OperationalError("SELECT 1", {}, ConnectionRefusedError("refused"))


async def test_a_transient_database_error_is_retried_and_then_given_up():
    calls = []

    async def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise down()
        return "ok"

    assert await retry.with_retries(flaky) == "ok"
    assert len(calls) == 3

    async def always():
        calls.append(1)
        raise down()

    calls.clear()
    with pytest.raises(OperationalError):
        await retry.with_retries(always)
    assert len(calls) == len(retry.DELAYS) + 1


async def test_other_errors_are_not_retried():
    calls = []

    async def broken():
        calls.append(1)
        raise IntegrityError("INSERT", {}, ValueError("duplicate"))

    with pytest.raises(IntegrityError):
        await retry.with_retries(broken)
    assert calls == [1]


async def test_services_retry_their_public_methods(safety, intake, monkeypatch):
    await register(intake)
    calls = []
    original = safety.db.sessions

    def flaky_sessions():
        calls.append(1)
        if len(calls) == 1:
            raise down()
        return original()

    monkeypatch.setattr(safety.db, "sessions", flaky_sessions)
    assert (await safety.view(42)).known
    assert calls == [1, 1]


def test_every_public_service_method_with_its_own_transaction_retries():
    """Explicit decorators: a method added later without one fails here."""
    # The scheduler's claim-and-record steps are retried by the tick itself.
    left_to_the_tick = {"claim_due", "unsent_claims", "sent_recorder", "mark_blocked",
                        "claim_follow_ups", "retry_follow_up", "drop_follow_up",
                        "forget_stale_drafts"}  # fmt: skip
    modules = (advice, checkin_service, conversation, intake_service, privacy, program, progress,
               safety_service, urge)  # fmt: skip
    missing = []
    for module in modules:
        for cls in vars(module).values():
            if not (inspect.isclass(cls) and cls.__module__ == module.__name__):
                continue
            for name, member in vars(cls).items():
                if name.startswith("_") or name in left_to_the_tick:
                    continue
                if not inspect.iscoroutinefunction(member):
                    continue
                wrapped = getattr(member, "__wrapped__", None)
                if wrapped is None and "session" not in inspect.signature(member).parameters:
                    missing.append(f"{cls.__name__}.{name}")
    assert missing == []


async def test_a_nested_call_is_retried_once_as_a_whole_not_at_every_level():
    inner_calls = []

    async def inner():
        inner_calls.append(1)
        raise down()

    async def outer():
        return await retry.with_retries(inner)

    with pytest.raises(OperationalError):
        await retry.with_retries(outer)
    assert len(inner_calls) == len(retry.DELAYS) + 1  # not (len + 1) squared


def test_only_database_failures_count_as_transient():
    assert retry.is_transient(down())
    assert retry.is_transient(ConnectionResetError())
    assert not retry.is_transient(IntegrityError("INSERT", {}, ValueError()))
    assert not retry.is_transient(RuntimeError("bug"))
    assert not retry.is_transient(None)


def test_the_abuse_reply_quotes_the_articles_own_let_go_rule_with_its_sources():
    from handlers.safety import LET_GO_RULE

    rule = load_content().rulebook.rules[LET_GO_RULE]
    assert "let go" in rule.text
    assert "ten-steps" in rule.sources
