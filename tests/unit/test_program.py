"""The program's state machine: every event, every gate, every way out. Dates are passed in."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from content.program import (
    MOVE_ON,
    REASONS,
    AbuseDisclosed,
    ChecklistTicked,
    ChoseMoveOn,
    DayPassed,
    DecisionMade,
    ExReplied,
    IntakeCompleted,
    ProgramState,
    Slipped,
    Transition,
    checklist_ticks,
    daily_lesson,
    gate_status,
    lesson_for,
    load_program,
    next_phase,
    prompts_for,
    score_decision,
)

PROGRAM = load_program()
D0 = date(2024, 3, 1)
READINESS = ("worked_on_yourself", "accepted_breakup", "feel_calm", "sure_you_want_this")
TALK_READY = tuple(i.id for i in PROGRAM.forms["talk_ready"].items)
ALL_PHASES = tuple(PROGRAM.phases)


def day(n: int) -> date:
    return D0 + timedelta(days=n)


def step(state: ProgramState, event, n: int) -> Transition:
    transition = next_phase(state, event, day(n), PROGRAM)
    assert transition.reason_id in REASONS
    assert transition.phase == transition.state.phase
    return transition


def at(phase: str, *, since: int = 0, **kw) -> ProgramState:
    """A person who entered `phase` on D0 and hasn't reached out since day `since`."""
    return ProgramState(phase=phase, phase_started_on=D0, no_contact_started_on=day(since), **kw)


def ready_to_decide(**kw) -> ProgramState:
    """In decide, with a no-contact stretch that has long run its 30 days."""
    return at("decide", since=-40, **kw)


def tick_all(state: ProgramState, form: str, items, n: int) -> Transition:
    transition = None
    for item in items:
        transition = step(state, ChecklistTicked(form, item), n)
        state = transition.state
    assert transition is not None
    return transition


# --- Intake ---------------------------------------------------------------------------------------


def test_completing_the_intake_starts_with_stop_chasing_and_starts_the_no_contact_count():
    t = step(ProgramState(), IntakeCompleted(), 0)
    assert (t.phase, t.reason_id, t.moved) == ("stop_chasing", "started", True)
    assert t.state.phase_started_on == D0
    assert t.state.no_contact_started_on == D0


def test_a_person_who_wants_to_move_on_starts_on_the_move_on_path():
    t = step(ProgramState(), IntakeCompleted(wants_to_move_on=True), 0)
    assert (t.phase, t.reason_id) == (MOVE_ON, "chose_move_on_at_intake")
    assert not t.state.abuse


def test_abuse_reported_at_intake_makes_move_on_the_only_path():
    t = step(ProgramState(abuse=True), IntakeCompleted(), 0)
    assert (t.phase, t.reason_id) == (MOVE_ON, "abuse_move_on_only")
    for event in (DayPassed(), DecisionMade("try_again"), ExReplied("yes"), ChoseMoveOn()):
        assert step(t.state, event, 40).phase == MOVE_ON
    assert step(t.state, IntakeCompleted(), 50).phase == MOVE_ON


def test_no_contact_already_kept_since_the_breakup_counts_from_that_day():
    t = step(ProgramState(), IntakeCompleted(no_contact_since=day(-10)), 0)
    assert t.state.no_contact_started_on == day(-10)
    assert step(t.state, DayPassed(), 0).phase == "no_contact"


def test_a_no_contact_start_in_the_future_is_rejected():
    with pytest.raises(ValueError, match="after today"):
        step(ProgramState(), IntakeCompleted(no_contact_since=day(1)), 0)


def test_events_before_the_intake_are_rejected():
    with pytest.raises(ValueError, match="intake comes first"):
        step(ProgramState(), DayPassed(), 0)


# --- Stop chasing ---------------------------------------------------------------------------------


def test_stop_chasing_lasts_three_days_without_reaching_out():
    state = step(ProgramState(), IntakeCompleted(), 0).state
    waiting = step(state, DayPassed(), 2)
    assert (waiting.phase, waiting.reason_id, waiting.moved) == ("stop_chasing", "not_yet", False)
    t = step(state, DayPassed(), 3)
    assert (t.phase, t.reason_id, t.from_phase) == ("no_contact", "gate_passed", "stop_chasing")
    assert t.state.phase_started_on == day(3)
    assert t.state.no_contact_started_on == D0  # the stretch keeps counting from the start


def test_stop_chasing_leads_to_limited_contact_when_kids_work_or_a_home_are_shared():
    for shared in ({"kids"}, {"work"}, {"home"}, {"kids", "home"}):
        state = step(ProgramState(shared=shared), IntakeCompleted(), 0).state
        assert step(state, DayPassed(), 3).phase == "limited_contact"


def test_a_slip_while_stopping_chasing_restarts_the_count():
    state = step(ProgramState(), IntakeCompleted(), 0).state
    slipped = step(state, Slipped(), 2)
    assert (slipped.phase, slipped.reason_id) == ("stop_chasing", "slip_restarts_no_contact")
    assert slipped.state.no_contact_started_on == day(2)
    assert step(slipped.state, DayPassed(), 4).phase == "stop_chasing"
    assert step(slipped.state, DayPassed(), 5).phase == "no_contact"


# --- No contact and limited contact ---------------------------------------------------------------


@pytest.mark.parametrize("length", [21, 30, 45])
def test_no_contact_ends_after_the_chosen_length_and_healing_follows(length):
    state = at("no_contact", no_contact_days=length)
    assert step(state, DayPassed(), length - 1).phase == "no_contact"
    t = step(state, DayPassed(), length)
    assert (t.phase, t.reason_id, t.from_phase) == ("heal", "gate_passed", "no_contact")


def test_gate_status_counts_the_days_of_no_contact():
    status = gate_status(at("no_contact"), day(12), PROGRAM)
    (days,) = status.requirements
    assert (days.kind, days.done, days.needed, days.met) == ("no_contact_days", 12, 30, False)
    assert (status.open, status.next_phase) == (False, "heal")


def test_a_slip_in_no_contact_restarts_the_count_but_keeps_the_phase():
    t = step(at("no_contact"), Slipped(), 20)
    assert (t.phase, t.reason_id, t.moved) == ("no_contact", "slip_restarts_no_contact", False)
    assert t.state.phase_started_on == D0
    assert t.state.no_contact_started_on == day(20)
    assert step(t.state, DayPassed(), 30).phase == "no_contact"
    assert gate_status(t.state, day(30), PROGRAM).requirements[0].done == 10
    assert step(t.state, DayPassed(), 50).phase == "heal"


def test_limited_contact_ends_after_the_chosen_length_and_a_slip_restarts_it():
    state = at("limited_contact", shared={"kids"}, no_contact_days=21)
    assert step(state, DayPassed(), 21).phase == "heal"
    slipped = step(state, Slipped(), 15)
    assert slipped.reason_id == "slip_restarts_no_contact"
    assert step(slipped.state, DayPassed(), 21).phase == "limited_contact"
    assert step(slipped.state, DayPassed(), 36).phase == "heal"


def test_their_message_during_no_contact_moves_nothing_here():
    t = step(at("no_contact"), ExReplied("friendly"), 5)
    assert (t.phase, t.reason_id, t.state) == ("no_contact", "no_change", at("no_contact"))


# --- Heal -----------------------------------------------------------------------------------------


def test_heal_lessons_take_turns_with_no_contact_lessons():
    state = at("no_contact")
    no_contact = PROGRAM.phases["no_contact"].lessons
    heal = PROGRAM.phases["heal"].lessons
    assert daily_lesson(state, day(0), PROGRAM).id == no_contact[0].id
    assert daily_lesson(state, day(1), PROGRAM).id == heal[0].id
    assert daily_lesson(state, day(2), PROGRAM).id == no_contact[1].id
    assert daily_lesson(state, day(3), PROGRAM).id == heal[1].id


def test_healing_lasts_a_week_after_no_contact_and_needs_the_stretch_unbroken():
    state = at("heal", since=-30)
    assert step(state, DayPassed(), 6).phase == "heal"
    assert step(state, DayPassed(), 7).phase == "decide"
    slipped = step(state, Slipped(), 3)
    assert (slipped.phase, slipped.reason_id) == ("heal", "slip_restarts_no_contact")
    waiting = gate_status(slipped.state, day(7), PROGRAM)
    assert [r.met for r in waiting.requirements] == [True, False]
    assert step(slipped.state, DayPassed(), 32).phase == "heal"
    assert step(slipped.state, DayPassed(), 33).phase == "decide"


# --- Decide ---------------------------------------------------------------------------------------


def test_deciding_to_try_again_waits_for_the_readiness_checklist():
    t = step(ready_to_decide(), DecisionMade("try_again"), 0)
    assert (t.phase, t.reason_id) == ("decide", "decision_try_again_needs_readiness")
    assert t.state.decision == "try_again"
    status = gate_status(t.state, day(0), PROGRAM)
    assert status.requirement("decision").met
    assert status.requirement("checklist").items_left == READINESS


def test_reaching_out_unlocks_only_once_every_readiness_item_is_ticked():
    state = step(ready_to_decide(), DecisionMade("try_again"), 0).state
    almost = tick_all(state, "readiness", READINESS[:-1], 1)
    assert (almost.phase, almost.reason_id) == ("decide", "not_yet")
    checklist = gate_status(almost.state, day(1), PROGRAM).requirement("checklist")
    assert (checklist.done, checklist.needed, checklist.items_left) == (4, 5, READINESS[-1:])
    t = step(almost.state, ChecklistTicked("readiness", READINESS[-1]), 1)
    assert (t.phase, t.reason_id, t.from_phase) == ("reach_out", "gate_passed", "decide")


def test_a_try_again_decision_after_the_ticks_moves_straight_to_reaching_out():
    state = tick_all(ready_to_decide(), "readiness", READINESS, 0).state
    assert state.phase == "decide"
    assert step(state, DecisionMade("try_again"), 0).phase == "reach_out"


def test_unticking_a_readiness_item_closes_the_gate_again():
    state = tick_all(ready_to_decide(), "readiness", READINESS[:-1], 0).state
    state = step(state, ChecklistTicked("readiness", "feel_calm", ticked=False), 0).state
    assert "feel_calm" not in state.ticks("readiness")
    state = step(state, DecisionMade("try_again"), 0).state
    state = step(state, ChecklistTicked("readiness", "sure_you_want_this"), 0).state
    assert state.phase == "decide"


def test_the_no_contact_item_is_ticked_by_the_unbroken_count_not_by_hand():
    with pytest.raises(ValueError, match="ticked by the program"):
        step(ready_to_decide(), ChecklistTicked("readiness", "no_contact_done"), 0)
    state = tick_all(ready_to_decide(), "readiness", READINESS, 0).state
    slipped = step(state, Slipped(), 1)
    assert (slipped.phase, slipped.reason_id) == ("decide", "slip_restarts_no_contact")
    t = step(slipped.state, DecisionMade("try_again"), 2)
    assert (t.phase, t.reason_id) == ("decide", "decision_try_again_needs_readiness")
    left = gate_status(t.state, day(2), PROGRAM).requirement("checklist").items_left
    assert left == ("no_contact_done",)
    assert step(t.state, DayPassed(), 30).phase == "decide"
    assert step(t.state, DayPassed(), 31).phase == "reach_out"


def test_a_decision_that_is_not_clear_yet_keeps_you_reflecting():
    state = tick_all(ready_to_decide(), "readiness", READINESS, 0).state
    t = step(state, DecisionMade("not_sure"), 0)
    assert (t.phase, t.reason_id, t.offer_move_on) == ("decide", "decision_not_sure", False)
    assert step(t.state, DayPassed(), 5).phase == "decide"


def test_a_decision_to_let_go_offers_move_on_without_moving_you():
    t = step(ready_to_decide(), DecisionMade("let_go"), 0)
    assert (t.phase, t.reason_id, t.offer_move_on) == (
        "decide",
        "decision_points_to_letting_go",
        True,
    )
    later = step(t.state, DayPassed(), 3)
    assert (later.phase, later.offer_move_on) == ("decide", True)
    assert step(t.state, ChoseMoveOn(), 3).phase == MOVE_ON


def test_a_decision_that_reveals_abuse_or_repeated_cheating_closes_the_try_again_path():
    t = step(ready_to_decide(), DecisionMade("let_go", closes_reconcile_path=True), 0)
    assert (t.phase, t.reason_id, t.state.abuse) == (MOVE_ON, "abuse_move_on_only", True)
    assert step(t.state, DecisionMade("try_again"), 5).phase == MOVE_ON


def test_a_decision_made_before_the_decide_step_is_kept_for_it():
    t = step(at("heal", since=-30), DecisionMade("try_again"), 2)
    assert (t.phase, t.reason_id, t.state.decision) == ("heal", "no_change", "try_again")
    in_decide = step(t.state, DayPassed(), 7).state
    assert in_decide.phase == "decide"
    assert tick_all(in_decide, "readiness", READINESS, 8).phase == "reach_out"


def test_ticks_for_unknown_forms_items_or_questionnaires_are_rejected():
    for form, item in [("nope", "x"), ("readiness", "nope"), ("decide", "abuse")]:
        with pytest.raises(ValueError):
            step(ready_to_decide(), ChecklistTicked(form, item), 0)


# --- Reach out ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["friendly", "yes"])
def test_a_warm_reply_moves_on_to_rebuilding_the_connection(kind):
    t = step(at("reach_out"), ExReplied(kind), 3)
    assert (t.phase, t.reason_id, t.from_phase) == ("rebuild", "gate_passed", "reach_out")
    assert t.state.ex_answer is None  # answers belong to the phase they were given in


def test_no_reply_means_wait_and_do_not_chase():
    t = step(at("reach_out"), ExReplied("none"), 5)
    assert (t.phase, t.reason_id, t.offer_move_on) == ("reach_out", "no_reply_wait", False)
    (answer,) = gate_status(t.state, day(10), PROGRAM).requirements
    assert (answer.status, answer.wait_until) == ("wait_before_trying_again", day(19))
    assert gate_status(t.state, day(19), PROGRAM).requirements[0].status == "may_try_once_more"


def test_reporting_no_reply_again_too_soon_is_not_a_second_try():
    state = step(at("reach_out"), ExReplied("none"), 5).state
    t = step(state, ExReplied("none"), 12)
    assert (t.reason_id, t.state.no_replies, t.state) == ("no_reply_keep_waiting", 1, state)


def test_a_second_unanswered_message_after_waiting_offers_move_on():
    state = step(at("reach_out"), ExReplied("none"), 5).state
    t = step(state, ExReplied("none"), 19)
    assert (t.phase, t.reason_id, t.offer_move_on) == ("reach_out", "no_reply_let_it_rest", True)
    assert gate_status(t.state, day(40), PROGRAM).requirements[0].status == "no_reply_let_it_rest"
    assert step(t.state, DayPassed(), 40).offer_move_on


def test_their_no_is_respected_and_move_on_is_offered():
    t = step(at("reach_out"), ExReplied("no"), 4)
    assert (t.phase, t.reason_id, t.offer_move_on) == ("reach_out", "they_said_no_respect_it", True)
    status = gate_status(t.state, day(4), PROGRAM)
    assert (status.open, status.their_no, status.requirements[0].status) == (
        False,
        True,
        "they_said_no",
    )
    assert step(t.state, ChoseMoveOn(), 5).phase == MOVE_ON


def test_a_warm_message_after_their_no_opens_the_way_again():
    state = step(at("reach_out"), ExReplied("no"), 4).state
    assert step(state, ExReplied("friendly"), 30).phase == "rebuild"


def test_writing_to_them_is_not_a_slip_once_contact_is_open():
    for phase in ("reach_out", "rebuild", "the_talk", "relationship"):
        t = step(at(phase), Slipped(), 3)
        assert (t.phase, t.reason_id, t.state) == (phase, "no_change", at(phase))


# --- Rebuild --------------------------------------------------------------------------------------


def test_rebuilding_leads_to_the_talk_once_the_talk_ready_list_is_ticked():
    almost = tick_all(at("rebuild"), "talk_ready", TALK_READY[:-1], 10)
    assert (almost.phase, almost.reason_id) == ("rebuild", "not_yet")
    t = step(almost.state, ChecklistTicked("talk_ready", TALK_READY[-1]), 10)
    assert (t.phase, t.reason_id, t.from_phase) == ("the_talk", "gate_passed", "rebuild")


def test_a_no_while_rebuilding_holds_the_talk_back_even_with_every_item_ticked():
    state = step(at("rebuild"), ExReplied("no"), 3).state
    t = tick_all(state, "talk_ready", TALK_READY, 10)
    assert (t.phase, t.offer_move_on) == ("rebuild", True)
    assert gate_status(t.state, day(10), PROGRAM).their_no
    assert step(t.state, ExReplied("friendly"), 20).phase == "the_talk"


def test_replies_while_rebuilding_keep_it_light_or_give_them_room():
    friendly = step(at("rebuild"), ExReplied("friendly"), 3)
    assert (friendly.phase, friendly.reason_id) == ("rebuild", "they_are_friendly_keep_it_light")
    silent = step(at("rebuild"), ExReplied("none"), 3)
    assert (silent.phase, silent.reason_id, silent.offer_move_on) == (
        "rebuild",
        "no_reply_give_room",
        False,
    )


# --- The talk -------------------------------------------------------------------------------------


def test_a_yes_to_the_talk_starts_a_new_relationship():
    t = step(at("the_talk"), ExReplied("yes"), 2)
    assert (t.phase, t.reason_id, t.from_phase) == ("relationship", "gate_passed", "the_talk")


def test_a_warm_but_unsure_answer_to_the_talk_is_a_maybe_that_needs_time():
    t = step(at("the_talk"), ExReplied("friendly"), 2)
    assert (t.phase, t.reason_id, t.offer_move_on) == ("the_talk", "a_maybe_give_it_time", False)
    assert gate_status(t.state, day(2), PROGRAM).requirements[0].status == "a_maybe"
    assert step(t.state, ExReplied("yes"), 30).phase == "relationship"


def test_a_no_to_the_talk_is_respected_and_move_on_is_offered():
    t = step(at("the_talk"), ExReplied("no"), 2)
    assert (t.phase, t.reason_id, t.offer_move_on) == ("the_talk", "they_said_no_respect_it", True)
    assert step(t.state, DayPassed(), 20).phase == "the_talk"


def test_no_answer_to_the_talk_means_giving_them_room():
    t = step(at("the_talk"), ExReplied("none"), 2)
    assert (t.phase, t.reason_id) == ("the_talk", "no_reply_give_room")


# --- A new relationship ---------------------------------------------------------------------------


def test_a_new_relationship_has_no_gate_and_days_pass_quietly():
    state = at("relationship")
    assert gate_status(state, day(100), PROGRAM).final
    for event in (DayPassed(), ExReplied("no"), DecisionMade("try_again")):
        t = step(state, event, 100)
        assert (t.phase, t.moved) == ("relationship", False)


# --- Let go and move on ---------------------------------------------------------------------------


@pytest.mark.parametrize("phase", [p for p in ALL_PHASES if p != MOVE_ON])
def test_move_on_can_be_chosen_from_every_phase(phase):
    t = step(at(phase), ChoseMoveOn(), 5)
    assert (t.phase, t.reason_id, t.from_phase, t.moved) == (MOVE_ON, "chose_move_on", phase, True)
    assert t.state.phase_started_on == day(5)
    assert not t.state.abuse


def test_choosing_move_on_while_in_touch_restarts_the_distance_count():
    assert step(at("rebuild"), ChoseMoveOn(), 5).state.no_contact_started_on == day(5)
    assert step(at("no_contact"), ChoseMoveOn(), 5).state.no_contact_started_on == D0


def test_choosing_move_on_again_changes_nothing():
    t = step(at(MOVE_ON), ChoseMoveOn(), 5)
    assert (t.phase, t.reason_id, t.moved) == (MOVE_ON, "already_moving_on", False)


@pytest.mark.parametrize("phase", ALL_PHASES)
def test_abuse_disclosed_in_any_phase_leads_to_move_on_for_good(phase):
    t = step(at(phase), AbuseDisclosed(), 5)
    assert (t.phase, t.reason_id, t.state.abuse) == (MOVE_ON, "abuse_move_on_only", True)
    assert t.moved == (phase != MOVE_ON)
    assert not t.offer_move_on


def test_a_state_marked_with_abuse_never_stays_on_a_try_again_phase():
    t = step(at("rebuild", abuse=True), DayPassed(), 1)
    assert (t.phase, t.reason_id) == (MOVE_ON, "abuse_move_on_only")


def test_a_slip_on_the_move_on_path_restarts_the_distance_count():
    t = step(at(MOVE_ON), Slipped(), 9)
    assert (t.phase, t.reason_id, t.state.no_contact_started_on) == (
        MOVE_ON,
        "slip_restarts_no_contact",
        day(9),
    )
    assert step(at(MOVE_ON), DayPassed(), 300).reason_id == "no_change"


# --- A whole journey ------------------------------------------------------------------------------


def test_a_whole_journey_from_intake_to_a_new_relationship():
    state = step(ProgramState(no_contact_days=21), IntakeCompleted(), 0).state
    phases = [state.phase]
    script = [
        (DayPassed(), 3),  # stop chasing → no contact
        (DayPassed(), 21),  # 21 days → heal
        (DayPassed(), 28),  # a week of healing → decide
        (DecisionMade("try_again"), 29),
        *[(ChecklistTicked("readiness", item), 30) for item in READINESS],  # → reach out
        (ExReplied("none"), 35),
        (ExReplied("friendly"), 50),  # → rebuild
        *[(ChecklistTicked("talk_ready", item), 70) for item in TALK_READY],  # → the talk
        (ExReplied("yes"), 75),  # → a new relationship
    ]
    for event, n in script:
        t = step(state, event, n)
        state = t.state
        if t.moved:
            phases.append(t.phase)
    assert phases == [
        "stop_chasing",
        "no_contact",
        "heal",
        "decide",
        "reach_out",
        "rebuild",
        "the_talk",
        "relationship",
    ]


# --- Lessons and prompts --------------------------------------------------------------------------


def test_lesson_for_cycles_through_a_phases_lessons_in_order():
    lessons = PROGRAM.phases["decide"].lessons
    assert lesson_for("decide", 1, PROGRAM) == lessons[0]
    assert lesson_for("decide", len(lessons), PROGRAM) == lessons[-1]
    assert lesson_for("decide", len(lessons) + 1, PROGRAM) == lessons[0]
    assert lesson_for("decide", 3, PROGRAM) == lesson_for("decide", 3, PROGRAM)


def test_lesson_for_rejects_day_zero_and_unknown_phases():
    with pytest.raises(ValueError):
        lesson_for("decide", 0, PROGRAM)
    with pytest.raises(ValueError, match="unknown phase"):
        lesson_for("nowhere", 1, PROGRAM)


def test_the_daily_lesson_fills_in_the_persons_length_and_what_they_share():
    state = at("no_contact", no_contact_days=45)
    lessons = [daily_lesson(state, day(n), PROGRAM) for n in range(40)]
    assert any("45 days" in lesson.idea for lesson in lessons)
    shared = at("limited_contact", shared={"kids", "home"})
    assert "children and a home" in daily_lesson(shared, D0, PROGRAM).idea
    assert all("{" not in lesson.idea + lesson.action for lesson in lessons)


def test_prompts_for_a_phase_are_the_ones_written_for_it():
    heal = {p.id for p in prompts_for("heal", PROGRAM)}
    assert {"three-admired-qualities", "do-differently", "did-not-like"} <= heal
    decide = {p.id for p in prompts_for("decide", PROGRAM)}
    assert {"your-why", "what-pushed-them-away", "red-flags", "their-side"} <= decide
    assert all("decide" in p.phases for p in prompts_for("decide", PROGRAM))
    with pytest.raises(ValueError):
        prompts_for("nowhere", PROGRAM)


# --- Scoring the decision -------------------------------------------------------------------------

BALANCED_NO_SIGNS = {
    "abuse": "no",
    "repeated_cheating": "no",
    "repeated_lying": "no",
    "lost_yourself": "no",
    "no_willingness": "no",
    "more_anxious_than_happy": "no",
    "different_directions": "no",
}
HOPEFUL = {
    **BALANCED_NO_SIGNS,
    "why_want_back": "them",
    "real_connection": "yes",
    "see_your_part": "yes",
    "healthier_picture": "yes",
    "worth_saving": "yes",
    "added_value": "yes",
    "differences_workable": "yes",
    "intimacy": "strong",
    "passion": "some",
    "commitment": "strong",
}


def test_abuse_in_the_answers_means_let_go_and_closes_the_try_again_path():
    result = score_decision({**HOPEFUL, "abuse": "yes"}, PROGRAM)
    assert (result.outcome, result.reason_id) == ("let_go", "abuse_or_repeated_cheating")
    assert result.closes_reconcile_path and result.let_go_signs == ("abuse",)
    assert result.as_event() == DecisionMade("let_go", closes_reconcile_path=True)


def test_repeated_cheating_closes_the_path_too():
    result = score_decision({**HOPEFUL, "repeated_cheating": "yes"}, PROGRAM)
    assert (result.outcome, result.closes_reconcile_path) == ("let_go", True)


def test_repeated_lying_means_let_go_without_closing_the_path():
    result = score_decision({**HOPEFUL, "repeated_lying": "yes"}, PROGRAM)
    assert (result.outcome, result.reason_id) == ("let_go", "let_go_sign")
    assert not result.closes_reconcile_path


def test_a_let_go_sign_counts_even_when_other_answers_are_missing():
    result = score_decision({"abuse": "yes"}, PROGRAM)
    assert result.outcome == "let_go"
    assert "worth_saving" in result.unanswered


def test_missing_answers_without_a_let_go_sign_leave_the_decision_incomplete():
    answers = dict(HOPEFUL)
    del answers["commitment"]
    result = score_decision(answers, PROGRAM)
    assert (result.outcome, result.unanswered) == ("incomplete", ("commitment",))
    with pytest.raises(ValueError):
        result.as_event()


def test_more_signs_against_than_for_means_let_go():
    answers = {
        **HOPEFUL,
        "why_want_back": "routine",
        "lost_yourself": "yes",
        "no_willingness": "yes",
        "more_anxious_than_happy": "yes",
        "different_directions": "yes",
        "intimacy": "little",
        "passion": "little",
        "commitment": "little",
        "worth_saving": "no",
    }
    result = score_decision(answers, PROGRAM)
    assert (result.outcome, result.reason_id) == ("let_go", "more_against")
    assert result.against_count > result.for_count
    assert not result.closes_reconcile_path


def test_worth_saving_on_all_three_questions_and_more_for_means_try_again():
    result = score_decision(HOPEFUL, PROGRAM)
    assert (result.outcome, result.reason_id) == ("try_again", "worth_saving_and_more_for")
    assert result.worth_saving_all_yes
    assert (result.for_count, result.against_count) == (9, 0)
    assert result.as_event() == DecisionMade("try_again")


def test_a_doubt_about_whether_it_is_worth_saving_means_not_sure_yet():
    result = score_decision({**HOPEFUL, "added_value": "unsure"}, PROGRAM)
    assert (result.outcome, result.reason_id) == ("not_sure", "mixed")
    assert not result.worth_saving_all_yes


def test_unknown_items_and_values_in_stored_answers_are_ignored():
    result = score_decision({**HOPEFUL, "retired_question": "yes", "passion": "??"}, PROGRAM)
    assert (result.outcome, result.unanswered) == ("incomplete", ("passion",))


def test_only_a_questionnaire_can_be_scored():
    with pytest.raises(ValueError):
        score_decision({}, PROGRAM, form="readiness")


def test_checklist_ticks_reads_the_stored_answers():
    answers = {"feel_calm": "done", "accepted_breakup": "not_yet", "no_contact_done": "done"}
    assert checklist_ticks("readiness", answers, PROGRAM) == {"feel_calm"}


# --- Validation -----------------------------------------------------------------------------------


def test_a_no_contact_length_outside_21_to_45_days_is_rejected():
    for length in (20, 46):
        with pytest.raises(ValueError, match="21–45"):
            ProgramState(no_contact_days=length)


def test_unknown_shared_things_decisions_and_answers_are_rejected():
    with pytest.raises(ValueError):
        ProgramState(shared={"car"})
    with pytest.raises(ValueError):
        ProgramState(decision="maybe")
    with pytest.raises(ValueError):
        ExReplied("maybe")
    with pytest.raises(ValueError):
        DecisionMade("incomplete")


def test_an_unknown_phase_in_the_state_is_rejected():
    with pytest.raises(ValueError, match="unknown phase"):
        step(at("limbo"), DayPassed(), 1)
