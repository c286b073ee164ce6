"""The safety service and the database retry, on SQLite and PostgreSQL, with no Telegram."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError

from bot.db import queries as q
from bot.db.models import Checkin, Profile, RiskSignal, Urge
from bot.services import advice, conversation, privacy, program, progress, retry, urge
from bot.services import checkin as checkin_service
from bot.services import intake as intake_service
from bot.services import safety as safety_service
from bot.services.advice import AdviceService
from bot.services.checkin import CheckinService
from bot.services.intake import IntakeService
from bot.services.privacy import PrivacyService
from bot.services.safety import (
    ASK_ANSWERS,
    ASK_NO,
    ASK_UNSURE,
    ASK_YES,
    INTERNATIONAL,
    SafetyFacts,
    SafetyService,
)
from bot.services.safety_plan import SafetyPlanService
from bot.services.urge import UrgeService
from content import load_content
from content.loader import Markup, load_texts
from content.safety_plan import load_safety_plan
from content.screen import ScreenResult, screen
from content.vocab import AbuseAnswer, Goal

ROOT = Path(__file__).resolve().parents[2]


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
    original = safety.db.rows

    async def flaky_rows(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise down()
        return await original(*args, **kwargs)

    monkeypatch.setattr(safety.db, "rows", flaky_rows)
    assert (await safety.view(42)).known
    assert calls == [1, 1]


def test_every_public_service_method_with_its_own_transaction_retries():
    """Explicit decorators: a method added later without one fails here."""
    # The scheduler's claim-and-record steps are retried by the tick itself.
    # The send ledgers record each result once, as it comes; a lost record is re-sent under
    # the lease rather than retried here.
    left_to_the_tick = {"claim_due", "reclaim_open", "mark_blocked", "claim_follow_ups",
                        "forget_stale_drafts", "begin", "record", "block"}  # fmt: skip
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


# --- recent risk signals -------------------------------------------------------------------------


@dataclass(frozen=True)
class LevelledResult:
    """Stands in for a screen result with levels, categories and flags."""

    risk: str = "none"
    matched: tuple[str, ...] = ()
    level: str = "none"
    categories: tuple[str, ...] = ()
    health: bool = False
    minor: bool = False
    leverage: bool = False


async def test_a_screen_outcome_is_kept_without_the_text_and_rebuilt_as_a_result(
    safety, intake, migrated_db
):
    await register(intake)
    found = LevelledResult("possible_self_harm", ("self_harm.hopeless",), "ask",
                           ("hopelessness",), health=True)  # fmt: skip
    assert await safety.record_signal(42, found) is True
    assert await safety.recent_results(42, LevelledResult) == [found]
    async with migrated_db.sessions() as session:
        (row,) = (await session.scalars(select(RiskSignal))).all()
    assert set(RiskSignal.__table__.c.keys()) == {
        "id", "user_id", "at", "risk", "level", "matched", "categories", "flags"
    }  # fmt: skip
    assert row.flags == ["health"]


async def test_stored_outcomes_rebuild_the_screens_own_result(safety, intake):
    await register(intake)
    found = screen("I want to kill myself")
    await safety.record_signal(42, found)
    assert await safety.recent_results(42) == [found]


async def test_a_risk_given_without_a_level_is_stored_as_a_clear_signal(safety, intake):
    await register(intake)
    await safety.record_signal(42, ScreenResult("self_harm", ("self_harm.direct",)))
    (signal,) = await safety.recent_signals(42)
    assert signal.level == "act"


@dataclass(frozen=True)
class FlagSetResult:
    """Stands in for a screen result that carries its flags as one collection of names."""

    risk: str = "none"
    level: str = "none"
    flags: tuple[str, ...] = ()


async def test_flags_given_as_a_collection_of_names_are_kept_too(safety, intake):
    await register(intake)
    await safety.record_signal(42, FlagSetResult(flags=("leverage", "health", "unknown")))
    (signal,) = await safety.recent_signals(42)
    assert signal.flags == {"leverage", "health"}
    assert await safety.recent_results(42, FlagSetResult) == [
        FlagSetResult(flags=("health", "leverage"))
    ]


async def test_a_result_that_found_nothing_is_not_stored(safety, intake):
    await register(intake)
    assert await safety.record_signal(42, LevelledResult()) is False
    assert await safety.record_signal(42, ScreenResult()) is False
    assert await safety.recent_signals(42) == []
    assert await safety.record_signal(42, LevelledResult(minor=True)) is True


async def test_only_the_last_half_hour_counts_and_older_outcomes_are_forgotten(
    safety, intake, migrated_db, clock
):
    await register(intake)
    await safety.record_signal(42, LevelledResult("possible_self_harm", level="ask"))
    clock.advance(minutes=20)
    await safety.record_signal(42, LevelledResult("self_harm", level="act"))
    assert [s.risk for s in await safety.recent_signals(42)] == ["possible_self_harm", "self_harm"]
    clock.advance(minutes=15)
    assert [s.risk for s in await safety.recent_signals(42)] == ["self_harm"]
    await safety.record_signal(42, LevelledResult("possible_self_harm", level="ask"))
    async with migrated_db.sessions() as session:
        assert len((await session.scalars(select(RiskSignal))).all()) == 2  # the oldest pruned
    clock.advance(minutes=31)
    assert await safety.forget_old_signals(clock.now()) == 2
    assert await safety.recent_signals(42) == []


async def test_one_persons_signals_are_not_anothers(safety, intake):
    await register(intake, 42)
    await register(intake, 43)
    await safety.record_signal(42, LevelledResult("danger", level="act"))
    assert await safety.recent_signals(43) == []
    assert await safety.record_signal(7, LevelledResult("danger", level="act")) is False


# --- reconnection blocked --------------------------------------------------------------------


async def test_reconnection_stays_open_until_abuse_or_danger_is_known(safety, intake):
    await register(intake)
    assert await safety.reconnection_blocked(42) is False
    await safety.record_signal(42, LevelledResult("self_harm", level="act"))
    assert await safety.reconnection_blocked(42) is False
    assert await safety.reconnection_blocked(7) is False


async def test_an_abuse_disclosure_blocks_reconnection_for_good(safety, intake, clock):
    await register(intake)
    await safety.record_abuse(42)
    clock.advance(days=400)
    assert await safety.reconnection_blocked(42) is True


async def test_danger_from_the_ex_is_remembered_blocks_reconnection_and_moves_on(
    safety, intake, migrated_db, clock
):
    await register(intake)
    outcome = await safety.record_danger(42)
    assert outcome is not None and outcome.newly
    started = clock.now()
    clock.advance(days=30)
    await safety.record_danger(42)
    assert (await safety.facts(42)).danger_reported_at == started  # the first report is kept
    assert await safety.reconnection_blocked(42) is True
    stored = await profile(migrated_db)
    assert stored.goal is Goal.MOVE_ON and stored.phase == "move_on"
    assert await safety.record_danger(7) is None


@pytest.mark.parametrize("risk", ["abuse", "danger"])
async def test_a_recent_abuse_or_danger_signal_blocks_reconnection_at_once(safety, intake, risk):
    await register(intake)
    await safety.record_signal(42, LevelledResult(risk, level="act"))
    assert await safety.reconnection_blocked(42) is True


# --- age ------------------------------------------------------------------------------------------


async def test_saying_you_are_under_18_is_remembered_and_can_be_taken_back(safety, intake):
    await register(intake)
    assert (await safety.facts(42)).is_minor is False
    assert await safety.record_minor(42) is True
    assert await safety.record_minor(42) is False  # already known
    assert (await safety.facts(42)).is_minor is True
    assert await safety.record_minor(42, False) is True
    assert (await safety.facts(42)).is_minor is False
    assert await safety.record_minor(7) is False


# --- the direct question ----------------------------------------------------------------------


async def test_yes_opens_the_hold_for_crisis_care(safety, intake, clock):
    await register(intake)
    assert await safety.asked(42) is True
    asked_at = clock.now()
    clock.advance(minutes=1)
    outcome = await safety.answer_ask(42, ASK_YES)
    assert outcome is not None and outcome.action == "crisis" and outcome.view.on_hold
    assert outcome.offer_plan  # nothing filled in yet
    facts = await safety.facts(42)
    assert (facts.asked_at, facts.answer, facts.answered_at) == (asked_at, "yes", clock.now())


async def test_no_is_noted_without_a_hold_and_the_flow_carries_on(safety, intake):
    await register(intake)
    await safety.asked(42)
    outcome = await safety.answer_ask(42, ASK_NO)
    assert outcome is not None and outcome.action == "continue"
    assert not outcome.view.on_hold and not outcome.offer_plan
    assert (await safety.facts(42)).answer == "no"


async def test_not_sure_gets_care_a_gentle_hold_and_the_plan_offered_while_unfinished(
    safety, intake, migrated_db
):
    await register(intake)
    outcome = await safety.answer_ask(42, ASK_UNSURE)
    assert outcome is not None and outcome.action == "care" and outcome.view.on_hold
    assert outcome.offer_plan
    plans = SafetyPlanService(migrated_db, safety.clock)
    for part in load_safety_plan().ids:
        await plans.save(42, part, "something")
    again = await safety.answer_ask(42, ASK_UNSURE)
    assert again is not None and not again.offer_plan


async def test_after_no_the_unclear_question_waits_half_an_hour(safety, intake, clock):
    await register(intake)
    assert await safety.should_ask(42) is True
    await safety.answer_ask(42, ASK_NO)
    assert await safety.should_ask(42) is False
    clock.advance(minutes=31)
    assert await safety.should_ask(42) is True
    await safety.answer_ask(42, ASK_UNSURE)
    assert await safety.should_ask(42) is True  # only "no" quiets the question


async def test_an_answer_must_be_one_of_the_three_buttons_and_from_a_known_person(safety, intake):
    await register(intake)
    with pytest.raises(ValueError):
        await safety.answer_ask(42, "maybe")
    assert await safety.answer_ask(7, ASK_YES) is None
    assert await safety.asked(7) is False


async def test_safety_state_and_signals_are_exported_and_deleted_with_the_person(
    safety, intake, migrated_db
):
    await register(intake)
    await safety.record_minor(42)
    await safety.record_signal(42, LevelledResult("danger", ("danger.threat",), "act"))
    privacy = PrivacyService(migrated_db)
    tables = (await privacy.export(42))["tables"]
    assert tables["safety_states"][0]["is_minor"] is True
    assert tables["risk_signals"][0]["matched"] == ["danger.threat"]
    await privacy.delete_everything(42)
    assert await safety.recent_signals(42) == []
    assert await safety.facts(42) == SafetyFacts()


# --- held drafts ----------------------------------------------------------------------------------


async def add_urge(db, clock, *, draft, follow_up_in=None, outcome="pending"):
    now = clock.now()
    async with db.transaction() as session:
        urge = Urge(user_id=42, at=now, local_hour=9, strength="strong", source="draft",
                    outcome=outcome, draft=draft,
                    follow_up_at=None if follow_up_in is None else now + follow_up_in)  # fmt: skip
        session.add(urge)
        await session.flush()
        return urge.id


@pytest.fixture
def urges(migrated_db, clock, intake):
    checkins = CheckinService(migrated_db, clock, "UTC")
    advice = AdviceService(migrated_db, load_content(), clock, "UTC", checkins)
    return UrgeService(migrated_db, clock, "UTC", checkins, advice, intake)


async def test_cancelling_held_drafts_lets_them_go_so_no_follow_up_comes_back(
    urges, intake, migrated_db, clock
):
    await register(intake)
    held = await add_urge(migrated_db, clock, draft="coffee?", follow_up_in=timedelta(minutes=20))
    kept = await add_urge(migrated_db, clock, draft="hey")
    assert await urges.cancel_held_drafts(42) is True
    async with migrated_db.sessions() as session:
        rows = {u.id: u for u in (await session.scalars(select(Urge))).all()}
    assert all(u.draft is None and u.follow_up_at is None for u in rows.values())
    assert {rows[held].outcome, rows[kept].outcome} == {"pending"}  # the urges themselves stay
    clock.advance(minutes=30)
    assert await urges.claim_follow_ups(clock.now()) == []
    assert await urges.cancel_held_drafts(42) is False  # nothing left to cancel


async def test_cancelling_one_persons_drafts_leaves_anothers(urges, intake, migrated_db, clock):
    await register(intake)
    await register(intake, 43)
    await add_urge(migrated_db, clock, draft="coffee?", follow_up_in=timedelta(minutes=20))
    assert await urges.cancel_held_drafts(43) is False
    async with migrated_db.sessions() as session:
        assert (await session.scalars(select(Urge.draft))).all() == ["coffee?"]


# --- the texts ------------------------------------------------------------------------------------


def test_the_direct_question_is_asked_plainly_with_three_short_answers():
    texts = load_texts()
    assert "Are you thinking about ending your life?" in texts.render("safety2.ask.question")
    buttons = [texts.render(f"safety2.ask.{a}") for a in ASK_ANSWERS]
    assert buttons == ["Yes", "No, I'm safe — just hurting", "I'm not sure"]


def test_the_danger_reply_gives_the_emergency_number_then_the_lines_then_the_checklist():
    texts = load_texts()
    checklist = Markup(texts.render("safety2.danger.checklist"))
    reply = texts.render("safety2.danger.reply", emergency="999",
                         lines=Markup("<b>Refuge</b> 0808"), checklist=checklist)  # fmt: skip
    assert "If you are in immediate danger, call <b>999</b>" in reply
    assert reply.index("999") < reply.index("Refuge") < reply.index("Staying safe")
    for step in ("safe place", "Someone to tell", "charged", "evidence", "Block and report"):
        assert step.lower() in checklist.lower(), step
    assert len(reply) < 1000


def test_the_danger_reply_coaches_nothing_about_the_relationship():
    texts = load_texts()
    checklist = Markup(texts.render("safety2.danger.checklist"))
    danger = " ".join(texts.render(t, emergency="1", lines="", checklist=checklist)
                      for t in ("safety2.danger.reply", "safety2.danger.reply_formatted",
                                "safety2.danger.reply_no_emergency"))  # fmt: skip
    assert not re.search(r"no contact|get back|reach out|text them|message them", danger, re.I)


def test_the_health_nudge_is_practical_not_alarming():
    nudge = load_texts().render("safety2.health.nudge")
    assert not re.search(r"crisis|emergency|danger|helpline", nudge, re.I)
    assert re.search(r"eat", nudge) and re.search(r"sleep|night", nudge)


def test_the_youth_note_points_to_a_trusted_adult_and_keeps_the_door_open():
    note = load_texts().render("safety2.youth.note")
    assert "trusted adult" in note and "welcome" in note
    assert "{lines}" not in load_texts().render("safety2.youth.lines", lines="x")


def test_the_bot_says_it_is_an_automated_coach_not_a_person():
    texts = load_texts()
    for text_id in ("safety2.bot.disclosure", "safety2.bot.asked"):
        assert "automated coach, not a person" in texts.render(text_id)


def test_the_safety_texts_share_no_long_run_of_words_with_the_articles():
    tool = Path("/work/shared/tools/verbatim-check")
    if not tool.exists():
        pytest.skip("the verbatim checker is not on this machine")
    files = ["content/texts_safety2.yaml", "content/safety_plan.yaml"]
    result = subprocess.run([sys.executable, str(tool), "8", *files], cwd=ROOT,
                            capture_output=True, text=True, check=False)  # fmt: skip
    assert result.returncode == 0, result.stdout


async def test_the_age_answer_is_kept_on_the_profile_and_the_newest_answer_counts(
    safety, intake, migrated_db
):
    await register(intake)
    assert (await safety.view(42)).minor is False
    assert await safety.set_age(42, "under_18") is True
    assert await safety.set_age(42, "under_18") is False  # unchanged
    assert (await profile(migrated_db)).age_group == "under_18"
    assert (await safety.view(42)).minor and (await safety.facts(42)).is_minor
    assert await safety.set_age(42, "unsaid") is True
    assert not (await safety.view(42)).minor and not (await safety.facts(42)).is_minor
    assert await safety.record_minor(42) is True  # "I'm 15" in a message: the same answer
    assert (await profile(migrated_db)).age_group == "under_18"


async def test_an_age_answer_that_is_not_one_of_the_three_is_refused(safety, intake):
    await register(intake)
    with pytest.raises(ValueError):
        await safety.set_age(42, "ancient")
    assert await safety.set_age(7, "adult") is False  # not known to the bot


async def test_the_safety_view_read_in_one_statement_is_the_view_of_the_stored_rows(
    safety, intake, migrated_db
):
    assert await safety.view(42) == safety_service.UNKNOWN
    await intake.greet(user_id=42, chat_id=42, first_name="Ri", language_code="pt-BR")
    assert await safety.view(42) == safety_service._view(None, "pt-BR")  # no profile yet

    async def from_rows() -> safety_service.SafetyView:
        async with migrated_db.sessions() as session:
            user = await q.get_user(session, 42)
            assert user is not None
            return safety_service._view(await q.get_profile(session, 42), user.language_code)

    await intake.begin(42)
    assert await safety.view(42) == await from_rows()
    await safety.set_country(42, "gb")
    await safety.open_hold(42)
    await safety.record_abuse(42)
    held = await safety.view(42)
    assert held == await from_rows()
    assert (held.country, held.on_hold, held.abuse) == ("gb", True, True)
