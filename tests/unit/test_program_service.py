"""The program service: the state read from storage, events applied and stored, the journal's
drafts — on SQLite and PostgreSQL, with the clock passed in. Plus the texts and buttons it needs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.clock import FakeClock
from bot.db import Database
from bot.db.models import Answer, JournalEntry, Profile, User
from bot.services.program import (
    REASON_LESSONS,
    DecideAnswer,
    DecideQuestion,
    DecideResult,
    EntryTooLong,
    NotNow,
    NotStarted,
    ProgramService,
    preview,
)
from content import load_content
from content.loader import load_texts
from content.program import (
    DECISIONS,
    EX_ANSWERS,
    GATE_KINDS,
    REASONS,
    load_program,
)
from content.vocab import AbuseAnswer, Goal
from handlers.callbacks import encode

TODAY = date(2026, 3, 2)
USER = 4242


@pytest.fixture
async def service(migrated_db: Database, clock: FakeClock) -> ProgramService:
    return ProgramService(migrated_db, load_content(), clock, "UTC")


async def someone(
    db: Database,
    clock: FakeClock,
    *,
    phase: str | None = "stop_chasing",
    no_contact_since: int = 0,
    abuse: AbuseAnswer = AbuseAnswer.NO,
    answers: dict[tuple[str, str], str] | None = None,
    user_id: int = USER,
) -> int:
    now = clock.now()
    async with db.transaction() as session:
        session.add(User(id=user_id, chat_id=user_id, created_at=now, last_seen_at=now))
        await session.flush()
        session.add(
            Profile(
                user_id=user_id,
                ex_name="Alex",
                abuse=abuse,
                goal=Goal.GET_BACK,
                timezone="UTC",
                intake_completed_at=now if phase else None,
                updated_at=now,
                phase=phase,
                phase_started_on=TODAY if phase else None,
                no_contact_started_on=TODAY - timedelta(days=no_contact_since),
            )
        )
        for (form, item), value in (answers or {}).items():
            session.add(Answer(user_id=user_id, form=form, item=item, value=value, answered_at=now))
    return user_id


async def stored(db: Database, form: str, user_id: int = USER) -> dict[str, str]:
    async with db.sessions() as session:
        rows = await session.execute(
            select(Answer.item, Answer.value).where(Answer.user_id == user_id, Answer.form == form)
        )
        return dict(rows.all())


async def profile(db: Database, user_id: int = USER) -> Profile:
    async with db.sessions() as session:
        found = await session.get(Profile, user_id)
        assert found is not None
        return found


# --- the state -------------------------------------------------------------------------------


async def test_the_state_is_read_from_the_profile_and_the_answers_table(
    service, migrated_db, clock
):
    await someone(migrated_db, clock, phase="reach_out", no_contact_since=40, answers={
        ("readiness", "feel_calm"): "done", ("readiness", "accepted_breakup"): "not_yet",
        ("program", "decision"): "try_again", ("program", "ex_answer"): "none",
        ("program", "no_replies"): "1", ("program", "last_no_reply_on"): "2026-02-27",
    })  # fmt: skip
    step = (await service.check(USER)).step
    state = step.state
    assert (state.phase, state.phase_started_on) == ("reach_out", TODAY)
    assert state.no_contact_started_on == TODAY - timedelta(days=40)
    assert state.ticks("readiness") == {"feel_calm"}
    assert (state.decision, state.ex_answer, state.no_replies) == ("try_again", "none", 1)
    assert state.last_no_reply_on == date(2026, 2, 27)
    assert (step.day_in_phase, step.day_of_plan, step.streak) == (1, 1, 40)
    assert step.gate.requirement("ex_answer").status == "wait_before_trying_again"


async def test_a_look_at_the_plan_that_changes_nothing_leaves_the_profile_unwritten(
    service, migrated_db, clock
):
    # A ticked checklist, so the program walks its forms on the way.
    await someone(migrated_db, clock, phase="reach_out", no_contact_since=40, answers={
        ("readiness", "feel_calm"): "done", ("program", "decision"): "try_again",
    })  # fmt: skip
    written = (await profile(migrated_db)).updated_at
    clock.advance(hours=1)
    await service.check(USER)
    await service.check(USER)
    assert (await profile(migrated_db)).updated_at == written


async def test_a_move_stores_the_new_phase_and_forgets_the_old_phases_answers(
    service, migrated_db, clock
):
    await someone(migrated_db, clock, phase="reach_out", answers={
        ("program", "ex_answer"): "none", ("program", "no_replies"): "1",
        ("program", "last_no_reply_on"): "2026-02-27", ("program", "decision"): "try_again",
    })  # fmt: skip
    clock.advance(days=2)
    outcome = await service.ex_replied(USER, "friendly")
    assert (outcome.reason_id, outcome.passed, outcome.step.phase.id) == (
        "gate_passed", ("reach_out",), "rebuild"
    )  # fmt: skip
    stored_profile = await profile(migrated_db)
    assert (stored_profile.phase, stored_profile.phase_started_on) == ("rebuild", date(2026, 3, 4))
    assert await stored(migrated_db, "program") == {"decision": "try_again"}


async def test_a_day_passed_goes_through_every_gate_that_is_already_open(
    service, migrated_db, clock
):
    await someone(migrated_db, clock, no_contact_since=40)
    outcome = await service.check(USER)
    assert outcome.passed == ("stop_chasing", "no_contact")
    assert outcome.step.phase.id == "heal"  # heal needs its own seven days first
    again = await service.check(USER)
    assert (again.moved, again.reason_id) == (False, "not_yet")


async def test_shared_kids_lead_to_limited_contact_with_the_words_filled_in(
    service, migrated_db, clock
):
    await someone(migrated_db, clock, no_contact_since=3)
    async with migrated_db.transaction() as session:
        (await session.get(Profile, USER)).shares_kids = True
    outcome = await service.check(USER)
    assert outcome.step.phase.id == "limited_contact"
    assert "children" in outcome.step.phase.goal and "{" not in outcome.step.phase.goal


async def test_the_program_hears_about_a_slip_once_a_day(service, migrated_db, clock):
    await someone(migrated_db, clock, phase="no_contact", no_contact_since=0)
    first = await service.slipped(USER)
    assert first is not None and first.reason_id == "slip_restarts_no_contact"
    assert await service.slipped(USER) is None
    clock.advance(days=1)
    assert await service.slipped(USER) is not None
    assert (await profile(migrated_db)).no_contact_started_on == date(2026, 3, 3)


async def test_nothing_happens_before_the_intake_is_finished(service, migrated_db, clock):
    await someone(migrated_db, clock, phase=None)
    with pytest.raises(NotStarted):
        await service.check(USER)
    with pytest.raises(NotStarted):
        await service.journal(999)


# --- checklists ------------------------------------------------------------------------------


async def test_only_items_ticked_by_hand_can_be_ticked(service, migrated_db, clock):
    await someone(migrated_db, clock, phase="decide", no_contact_since=40)
    for form, item in (("readiness", "no_contact_done"), ("readiness", "nope"),
                       ("decide", "abuse"), ("nothing", "x")):  # fmt: skip
        with pytest.raises(NotNow):
            await service.tick(USER, form, item, True)
    outcome, checklist = await service.tick(USER, "readiness", "feel_calm", True)
    assert outcome.reason_id == "not_yet" and outcome.step.phase.id == "decide"
    assert checklist.done == 2 and not checklist.complete  # the count ticks no_contact_done
    assert await stored(migrated_db, "readiness") == {"feel_calm": "done"}
    await service.tick(USER, "readiness", "feel_calm", True)  # a double tap: the same value
    _, checklist = await service.tick(USER, "readiness", "feel_calm", False)
    assert checklist.done == 1
    assert await stored(migrated_db, "readiness") == {"feel_calm": "not_yet"}


async def test_the_checklists_are_not_offered_on_the_move_on_path(service, migrated_db, clock):
    await someone(migrated_db, clock, phase="move_on", abuse=AbuseAnswer.YES)
    with pytest.raises(NotNow):
        await service.checklist(USER, "readiness")
    with pytest.raises(NotNow):
        await service.tick(USER, "readiness", "feel_calm", True)


# --- the decision step -----------------------------------------------------------------------


async def test_the_decision_step_asks_every_question_in_order(service, migrated_db, clock):
    await someone(migrated_db, clock, phase="decide", no_contact_since=40)
    first = await service.decide(USER)
    assert isinstance(first, DecideQuestion) and (first.number, first.total) == (1, 17)
    answered = await service.decide_answer(USER, "why_want_back", "them")
    assert isinstance(answered, DecideAnswer) and answered.label == "Them — who they are"
    assert isinstance(answered.next, DecideQuestion) and answered.next.item.id == "real_connection"
    with pytest.raises(NotNow):  # the same tap again
        await service.decide_answer(USER, "why_want_back", "them")
    with pytest.raises(NotNow):
        await service.decide_answer(USER, "why_want_back", "nonsense")
    picked_up = await service.decide(USER)
    assert isinstance(picked_up, DecideQuestion) and picked_up.number == 2
    again = await service.decide(USER, again=True)
    assert isinstance(again, DecideQuestion) and again.number == 1
    assert await stored(migrated_db, "decide") == {}


async def test_abuse_in_the_decision_closes_the_try_again_path_for_good(
    service, migrated_db, clock
):
    await someone(migrated_db, clock, phase="decide", no_contact_since=40)
    await service.decide_answer(USER, "why_want_back", "them")
    answered = await service.decide_answer(USER, "abuse", "yes")
    assert isinstance(answered.next, DecideResult)
    result, outcome = answered.next.result, answered.next.outcome
    assert (result.outcome, result.closes_reconcile_path) == ("let_go", True)
    assert outcome is not None and outcome.step.phase.id == "move_on"
    stored_profile = await profile(migrated_db)
    assert (stored_profile.abuse, stored_profile.goal) == (AbuseAnswer.YES, Goal.MOVE_ON)
    with pytest.raises(NotNow):
        await service.decide(USER)


async def test_their_answer_counts_only_while_back_in_touch(service, migrated_db, clock):
    await someone(migrated_db, clock, phase="no_contact")
    for kind in EX_ANSWERS:
        with pytest.raises(NotNow):
            await service.ex_replied(USER, kind)


async def test_choosing_to_move_on_from_reaching_out_starts_a_new_stretch_of_distance(
    service, migrated_db, clock
):
    await someone(migrated_db, clock, phase="reach_out", no_contact_since=50)
    async with migrated_db.transaction() as session:
        (await session.get(Profile, USER)).last_milestone_day = 30
    clock.advance(days=1)
    outcome = await service.move_on(USER)
    assert (outcome.reason_id, outcome.step.phase.id) == ("chose_move_on", "move_on")
    stored_profile = await profile(migrated_db)
    assert stored_profile.no_contact_started_on == date(2026, 3, 3)
    assert stored_profile.last_milestone_day == 0
    assert (await service.move_on(USER)).reason_id == "already_moving_on"


# --- the journal -----------------------------------------------------------------------------


async def test_an_entry_is_written_in_parts_and_survives_a_new_service(migrated_db, clock):
    await someone(migrated_db, clock)
    first = ProgramService(migrated_db, load_content(), clock, "UTC")
    draft = await first.start_entry(USER, "unsent-message")
    assert draft.prompt is not None and draft.prompt.follow_up
    assert (await first.add_to_entry(USER, "one")).first_part
    second = ProgramService(migrated_db, load_content(), clock, "UTC")  # a restart
    draft = await second.add_to_entry(USER, "two")
    assert (draft.chars, draft.first_part) == (7, False)
    overview = await second.journal(USER)
    assert overview.draft is not None and overview.entries == () and overview.total == 0
    clock.advance(hours=2)
    entry = await second.save_entry(USER)
    assert entry is not None and entry.text == "one\ntwo"
    assert entry.prompt and entry.prompt.startswith("Write the message")
    async with migrated_db.sessions() as session:
        row = await session.get(JournalEntry, entry.id)
    assert row.created_at == clock.now() and row.phase == "stop_chasing"
    assert (await second.journal(USER)).total == 1


async def test_a_too_long_entry_is_refused_whole_never_cut(
    service, migrated_db, clock, monkeypatch
):
    monkeypatch.setattr("bot.services.program.MAX_ENTRY_CHARS", 10)
    await someone(migrated_db, clock)
    await service.start_entry(USER, None)
    await service.add_to_entry(USER, "12345")
    with pytest.raises(EntryTooLong) as refused:
        await service.add_to_entry(USER, "678910")
    assert refused.value.chars == 5
    entry = await service.save_entry(USER)
    assert entry is not None and entry.text == "12345"


async def test_an_empty_entry_is_not_saved_and_a_discarded_one_is_gone(service, migrated_db, clock):
    await someone(migrated_db, clock)
    await service.start_entry(USER, None)
    assert await service.has_words(USER) is False
    assert await service.save_entry(USER) is None
    await service.add_to_entry(USER, "gone soon")
    assert await service.discard_entry(USER) is True
    assert await service.discard_entry(USER) is False
    assert await service.has_words(USER) is None
    async with migrated_db.sessions() as session:
        assert (await session.scalars(select(JournalEntry))).all() == []


async def test_an_entry_is_only_ever_read_by_its_writer(service, migrated_db, clock):
    await someone(migrated_db, clock)
    await someone(migrated_db, clock, user_id=5151)
    await service.start_entry(5151, None)
    await service.add_to_entry(5151, "mine")
    theirs = await service.save_entry(5151)
    assert theirs is not None
    with pytest.raises(NotNow):
        await service.entry(USER, theirs.id)
    assert (await service.entry(5151, theirs.id)).text == "mine"


def test_a_preview_is_the_first_words_and_says_when_there_is_more():
    assert preview("short one") == "short one"
    assert preview("one two three four five six seven eight nine") == (
        "one two three four five six seven eight…"
    )
    assert preview("x" * 100) == "x" * 40 + "…"
    assert preview("  spaced\n\nout  ") == "spaced out"


# --- what the Telegram layer relies on --------------------------------------------------------


def test_every_reason_and_status_the_program_can_give_has_a_text():
    texts, program = load_texts(), load_program()
    ids = [f"program.reason.{r}" for r in REASONS]
    ids += [f"program.need.{k}" for k in GATE_KINDS if k not in ("decision", "ex_answer")]
    ids += [f"program.need.decision.{d}" for d in (*DECISIONS, "not_taken")]
    ids += [f"program.need.ex_answer.{s}" for s in (
        "waiting_for_answer", "answered", "they_said_no", "a_maybe", "wait_before_trying_again",
        "may_try_once_more", "no_reply_let_it_rest", "no_reply_give_room")]  # fmt: skip
    ids += [f"program.ex.{k}" for k in EX_ANSWERS]
    ids += [f"decide.result.{o}" for o in (*DECISIONS, "incomplete")]
    ids += [f"decide.reason.{r}" for r in ("abuse_or_repeated_cheating", "let_go_sign",
            "unanswered", "more_against", "worth_saving_and_more_for", "mixed")]  # fmt: skip
    for form in program.forms.values():
        if form.kind == "checklist":
            ids += [f"readiness.complete.{form.id}"]
            ids += [f"readiness.label.{i.id}" for i in form.items if i.auto is None]
    assert [i for i in ids if i not in texts] == []


def test_every_piece_of_advice_names_a_lesson_that_exists():
    lessons = {lesson.id for phase in load_program().phases.values() for lesson in phase.lessons}
    assert set(REASON_LESSONS) <= set(REASONS)
    assert set(REASON_LESSONS.values()) <= lessons


def test_every_program_button_fits_in_telegrams_callback_data():
    program = load_program()
    for form in program.forms.values():
        for item in form.items:
            if form.kind == "checklist":
                encode("ready", "tick", f"{form.id}.{item.id}.1")
            else:
                for option in item.options:
                    encode("decide", "ans", f"{item.id}.{option.value}")
        encode("program", "checklist", form.id)
    for prompt in program.prompts:
        encode("journal", "write", prompt.id)
    encode("journal", "read", 2**63 - 1)


async def test_today_is_the_persons_own_local_date(service, migrated_db, clock):
    await someone(migrated_db, clock)
    async with migrated_db.transaction() as session:
        (await session.get(Profile, USER)).timezone = "Asia/Tokyo"
    clock.set(datetime(2026, 3, 2, 16, tzinfo=UTC))  # 01:00 on 3 March in Tokyo
    step = (await service.check(USER)).step
    assert (step.today, step.day_in_phase, step.streak) == (date(2026, 3, 3), 2, 1)
