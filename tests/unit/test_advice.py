"""The "Should I text them?" engine: parsing situations and the verdicts it gives."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import pytest

from content.advice import (
    DECISIONS,
    FEELINGS,
    GOALS,
    REASONS_TO_TEXT,
    SHARED,
    SITUATION_FIELDS,
    TEXTING_DECISIONS,
    THEY_MESSAGED,
    WHO_ENDED,
    Situation,
    SituationError,
    Verdict,
    advise,
    build_rulebook,
    load_rulebook,
    parse_situation,
)
from content.loader import load_sources

LET_GO = "let-go-after-abuse-or-repeated-cheating"

# Someone for whom every gate to reaching out is open; tests change one thing at a time.
READY: dict[str, Any] = {
    "days_since_breakup": 40,
    "days_since_you_last_contacted": None,
    "who_ended": "them",
    "goal": "get_back",
    "abuse_or_repeated_cheating": False,
    "feeling": "calm",
    "reason_to_text": "miss_them",
    "local_hour": 14,
    "readiness_checklist_done": True,
}


def verdict(**fields: Any) -> Verdict:
    return advise(parse_situation(fields))


def ready(**changes: Any) -> Verdict:
    return verdict(**{**READY, **changes})


def rules_of(v: Verdict) -> list[str]:
    return [r.rule for r in v.reasons]


def notes_of(v: Verdict) -> list[str]:
    return [n.id for n in v.sources_differ]


def situation_grid() -> list[Situation]:
    """A broad sweep: every value of every enum field against the awkward numeric edges."""
    rows = []
    axes = itertools.product(
        [None, *FEELINGS],
        THEY_MESSAGED,
        [None, *REASONS_TO_TEXT],
        GOALS,
        [None, True, False],
        [0, 3, 20, 60],
    )
    for i, (feeling, messaged, reason, goal, abuse, days) in enumerate(axes):
        rows.append(
            Situation(
                days_since_breakup=days,
                days_since_you_last_contacted=(None, 1, 0)[i % 3],
                who_ended=(None, *WHO_ENDED)[i % 4],
                shared=frozenset(SHARED[: i % 3]),
                abuse_or_repeated_cheating=abuse,
                goal=goal,
                they_messaged=messaged,
                reason_to_text=reason,
                feeling=feeling,
                local_hour=(None, 12, 23)[i % 3],
                unanswered_messages_you_sent=i % 2,
                readiness_checklist_done=i % 5 != 0,
                they_are_dating=i % 7 == 0,
                rash_fight_breakup=i % 4 == 0,
            )
        )
    return rows


def reach_out_grid() -> list[Situation]:
    """Situations past no contact, checklist done, around calm: where reaching out can happen,
    varied in every field that may still stop it (the safety answer skipped, sadness, a date,
    sharing a home, the hour, the reason)."""
    rows = []
    axes = itertools.product(
        ["calm", "sad", "anxious", None],
        [None, *REASONS_TO_TEXT],
        [False, None, True],
        [None, 12, 23],
        [False, True],
        [30, 60],
    )
    for i, (feeling, reason, abuse, hour, dating, days) in enumerate(axes):
        rows.append(
            Situation(
                days_since_breakup=days,
                who_ended=(None, *WHO_ENDED)[i % 4],
                shared=frozenset(SHARED[: i % 2]),
                abuse_or_repeated_cheating=abuse,
                goal="get_back",
                reason_to_text=reason,
                feeling=feeling,
                local_hour=hour,
                readiness_checklist_done=True,
                they_are_dating=dating,
                rash_fight_breakup=i % 5 == 0,
            )
        )
    return rows


GRID = situation_grid() + reach_out_grid()


# --- Parsing -------------------------------------------------------------------------------------

VALID_VALUES: list[tuple[str, Any]] = [
    ("days_since_breakup", 0),
    ("days_since_breakup", 400),
    ("days_since_you_last_contacted", 0),
    ("days_since_you_last_contacted", 12),
    ("days_since_you_last_contacted", None),
    *[("who_ended", v) for v in WHO_ENDED],
    ("shared", []),
    ("shared", ["kids", "work", "home"]),
    *[("shared", [v]) for v in SHARED],
    ("abuse_or_repeated_cheating", True),
    ("abuse_or_repeated_cheating", False),
    *[("goal", v) for v in GOALS],
    *[("they_messaged", v) for v in THEY_MESSAGED],
    *[("reason_to_text", v) for v in REASONS_TO_TEXT],
    *[("feeling", v) for v in FEELINGS],
    *[("local_hour", h) for h in range(24)],
    ("unanswered_messages_you_sent", 0),
    ("unanswered_messages_you_sent", 3),
    *[(f, b) for f in ("readiness_checklist_done", "they_are_dating") for b in (True, False)],
    ("rash_fight_breakup", True),
    ("rash_fight_breakup", False),
    ("reply_strictness", "warm"),
    ("reply_strictness", "emergencies_only"),
]


def test_the_valid_values_cover_every_field():
    assert {field for field, _ in VALID_VALUES} == set(SITUATION_FIELDS)


@pytest.mark.parametrize(("field", "value"), VALID_VALUES)
def test_parse_accepts_every_valid_value_of_every_field(field, value):
    situation = parse_situation({field: value})
    expected = frozenset(value) if field == "shared" else value
    assert getattr(situation, field) == expected


def test_an_empty_object_is_a_valid_situation_with_cautious_defaults():
    s = parse_situation({})
    assert s.days_since_breakup == 0
    assert s.days_since_you_last_contacted is None
    assert s.feeling is None
    assert s.abuse_or_repeated_cheating is None
    assert s.readiness_checklist_done is False
    assert s.goal == "unsure"
    assert s.they_messaged == "none"


BAD_VALUES: list[tuple[str, Any]] = [
    ("days_since_breakup", -1),
    ("days_since_breakup", 3.5),
    ("days_since_breakup", 3.0),
    ("days_since_breakup", "3"),
    ("days_since_breakup", True),
    ("days_since_breakup", None),
    ("days_since_you_last_contacted", -2),
    ("days_since_you_last_contacted", "yesterday"),
    ("days_since_you_last_contacted", False),
    ("who_ended", "nobody"),
    ("who_ended", None),
    ("shared", "kids"),
    ("shared", ["kids", "car"]),
    ("shared", [1]),
    ("shared", {"kids": True}),
    ("abuse_or_repeated_cheating", 1),
    ("abuse_or_repeated_cheating", "yes"),
    ("abuse_or_repeated_cheating", None),
    ("goal", "revenge"),
    ("goal", ""),
    ("they_messaged", "Casual"),
    ("they_messaged", ["casual"]),
    ("reason_to_text", "bored"),
    ("feeling", "happy"),
    ("feeling", None),
    ("local_hour", 24),
    ("local_hour", -1),
    ("local_hour", 12.5),
    ("local_hour", "22"),
    ("unanswered_messages_you_sent", -1),
    ("unanswered_messages_you_sent", True),
    ("readiness_checklist_done", "true"),
    ("readiness_checklist_done", 0),
    ("they_are_dating", "no"),
    ("rash_fight_breakup", 1),
    ("reply_strictness", "strict"),
    ("reply_strictness", None),
]


@pytest.mark.parametrize(("field", "value"), BAD_VALUES)
def test_parse_rejects_a_bad_value_naming_the_field(field, value):
    with pytest.raises(SituationError) as caught:
        parse_situation({**READY, field: value})
    assert caught.value.field == field
    message = str(caught.value)
    assert message.startswith(f"{field}: ")
    assert "\n" not in message


def test_a_bad_choice_message_lists_what_is_allowed():
    with pytest.raises(SituationError) as caught:
        parse_situation({"feeling": "happy"})
    for value in FEELINGS:
        assert value in str(caught.value)


@pytest.mark.parametrize("field", ["mood", "Feeling", "days", ""])
def test_parse_rejects_an_unknown_field_naming_it(field):
    with pytest.raises(SituationError) as caught:
        parse_situation({"feeling": "calm", field: 1})
    assert caught.value.field == field
    assert "not a situation field" in str(caught.value)


@pytest.mark.parametrize("data", [None, [], ["feeling"], "calm", 3, True])
def test_parse_rejects_anything_but_an_object_with_field_dash(data):
    with pytest.raises(SituationError) as caught:
        parse_situation(data)
    assert caught.value.field == "-"


def test_situation_error_is_a_value_error():
    assert issubclass(SituationError, ValueError)


def test_a_situation_survives_a_round_trip_through_json():
    original = parse_situation({**READY, "shared": ["work", "kids"], "they_are_dating": True})
    again = parse_situation(json.loads(json.dumps(original.to_dict())))
    assert again == original


def test_situations_built_directly_are_validated_too():
    with pytest.raises(SituationError) as caught:
        Situation(feeling="fine")
    assert caught.value.field == "feeling"


# --- Safety first --------------------------------------------------------------------------------


def test_a_crisis_feeling_always_gets_support_and_nothing_else():
    for situation in GRID[::3]:
        v = verdict(**{**situation.to_dict(), "feeling": "crisis"})
        assert v.decision == "get_support", situation
        assert rules_of(v) == ["get-support-first"]
        assert v.sources_differ == ()
        assert v.suggested_messages == ()
        assert v.days_left is None
        assert "support" in v.headline.lower()


def test_crisis_wins_even_over_an_emergency_message():
    v = verdict(feeling="crisis", they_messaged="emergency", abuse_or_repeated_cheating=True)
    assert v.decision == "get_support"


# --- Abuse or repeated cheating ------------------------------------------------------------------


@pytest.mark.parametrize("reason", [None, *REASONS_TO_TEXT])
@pytest.mark.parametrize("messaged", THEY_MESSAGED)
def test_abuse_never_leads_to_reaching_out_and_letting_go_leads(reason, messaged):
    changes: dict[str, Any] = {"abuse_or_repeated_cheating": True, "they_messaged": messaged}
    if reason is not None:
        changes["reason_to_text"] = reason
    v = ready(**changes)
    assert v.decision != "reach_out"
    assert rules_of(v)[0] == LET_GO
    assert v.sources_differ == ()
    if messaged == "emergency":
        assert v.decision == "reply"
    elif messaged == "logistics" or reason in ("logistics", "emergency"):
        assert v.decision == "logistics_only"
    else:
        assert v.decision == "do_not_text"
        assert v.suggested_messages == ()


def test_abuse_still_allows_a_minimal_reply_to_an_emergency():
    v = ready(abuse_or_repeated_cheating=True, they_messaged="emergency")
    assert v.decision == "reply"
    assert rules_of(v)[:2] == [LET_GO, "reply-to-emergency-only"]
    book = load_rulebook()
    assert set(v.suggested_messages) == {s.text for s in book.suggestions["emergency_reply"]}
    relationship = {s.text for s in book.suggestions["relationship_reply"]}
    assert not relationship & set(v.suggested_messages)


def test_abuse_with_shared_kids_keeps_logistics_minimal():
    v = ready(abuse_or_repeated_cheating=True, shared=["kids"], reason_to_text="logistics")
    assert v.decision == "logistics_only"
    assert rules_of(v)[0] == LET_GO
    assert "practical-matters-only" in rules_of(v)


def test_no_coaching_towards_getting_back_appears_beside_abuse():
    strategic = {
        "rebuild-slowly",
        "ask-later-not-first",
        "if-theyre-dating-someone",
        "dont-pry-into-their-love-life",
        "keep-affection-in-reserve",
        "no-begging-or-pity",
    }
    abused = [s for s in GRID if s.abuse_or_repeated_cheating and s.feeling != "crisis"]
    assert len(abused) >= 100
    for s in abused:
        v = advise(s)
        assert v.reasons[0].rule == LET_GO
        assert not strategic & set(rules_of(v)), s


# --- When they write first -----------------------------------------------------------------------


def test_an_emergency_message_gets_a_reply_about_the_emergency_only():
    v = verdict(they_messaged="emergency", days_since_breakup=3, feeling="angry")
    assert v.decision == "reply"
    assert rules_of(v)[0] == "reply-to-emergency-only"
    assert v.suggested_messages
    assert "only" in v.headline


def test_a_casual_message_gets_a_warm_brief_reply_and_the_replying_note():
    v = ready(they_messaged="casual", days_since_breakup=10)
    assert v.decision == "reply"
    assert rules_of(v)[0] == "answer-warmly-and-briefly"
    assert "replying-when-they-write-first" in notes_of(v)
    assert v.suggested_messages
    assert v.days_left == 20


def test_the_replying_note_shows_both_sides_five_steps_and_give_them_the_breakup():
    note = next(n for n in ready(they_messaged="casual").sources_differ)
    assert note.id == "replying-when-they-write-first"
    cited = [set(side.sources) for side in note.sides]
    assert {"five-steps"} in cited
    assert {"give-him-the-breakup"} in cited


def test_a_hostile_message_is_not_engaged_with():
    v = ready(they_messaged="hostile")
    assert v.decision == "do_not_text"
    assert rules_of(v)[0] == "dont-answer-hostility"
    assert "no-cold-or-nasty" in rules_of(v)
    assert v.suggested_messages == ()


def test_a_message_about_the_relationship_gets_a_calm_reply_with_clarity_and_grace():
    v = ready(they_messaged="relationship")
    assert v.decision == "reply"
    assert rules_of(v)[0] == "reply-with-calm-clarity"
    assert "respect-a-no" in rules_of(v)
    assert {"replying-when-they-write-first", "hearing-no"} <= set(notes_of(v))
    book = load_rulebook()
    accept = {s.text for s in book.suggestions["accept_no"]}
    assert accept <= set(v.suggested_messages)


def test_a_logistics_message_gets_a_practical_reply_only():
    v = verdict(they_messaged="logistics", days_since_breakup=2)
    assert v.decision == "logistics_only"
    assert rules_of(v)[0] == "practical-matters-only"
    assert v.suggested_messages


# --- Shared lives and emergencies of your own ----------------------------------------------------


@pytest.mark.parametrize("thing", SHARED)
def test_sharing_kids_work_or_a_home_makes_logistics_logistics_only(thing):
    v = verdict(shared=[thing], reason_to_text="logistics", days_since_breakup=5)
    assert v.decision == "logistics_only"
    assert rules_of(v)[:2] == ["practical-matters-only", "limited-contact-when-you-share-life"]
    assert v.days_left is None  # limited contact has no countdown


def test_sharing_a_life_shows_limited_contact_while_you_wait():
    v = verdict(shared=["kids"], days_since_breakup=5, reason_to_text="miss_them")
    assert v.decision == "wait"
    assert "limited-contact-when-you-share-life" in rules_of(v)
    assert "if-you-bump-into-them" not in rules_of(v)
    assert v.days_left is None
    assert "no contact" not in v.headline and "what you share" in v.headline


def test_your_own_emergency_is_a_message_about_that_only():
    v = verdict(reason_to_text="emergency", days_since_breakup=1)
    assert v.decision == "logistics_only"
    assert rules_of(v)[0] == "only-what-the-emergency-needs"
    assert v.suggested_messages


# --- Not now -------------------------------------------------------------------------------------


@pytest.mark.parametrize("feeling", ["angry", "desperate"])
def test_anger_or_desperation_means_not_now(feeling):
    v = ready(feeling=feeling)
    assert v.decision == "do_not_text"
    assert rules_of(v)[0] == "not-while-angry-or-desperate"
    assert v.suggested_messages == ()


@pytest.mark.parametrize("hour", [22, 23, 0, 1, 2, 3, 4, 5])
def test_late_at_night_means_wait_until_daytime(hour):
    v = ready(local_hour=hour)
    assert v.decision == "wait"
    assert rules_of(v)[0] == "not-late-at-night"


@pytest.mark.parametrize("hour", [6, 12, 21])
def test_daytime_hours_are_not_late_at_night(hour):
    assert ready(local_hour=hour).decision == "reach_out"


def test_a_late_night_casual_message_can_wait_until_morning():
    v = ready(they_messaged="casual", local_hour=1)
    assert v.decision == "wait"
    assert "replying-when-they-write-first" in notes_of(v)


def test_wanting_to_make_them_jealous_is_a_no_with_the_jealousy_note():
    v = ready(reason_to_text="make_jealous")
    assert v.decision == "do_not_text"
    assert rules_of(v)[0] == "no-jealousy-games"
    assert "jealousy-tactics" in notes_of(v)


def test_the_jealousy_note_sets_the_tactic_against_the_warning():
    note = next(n for n in ready(reason_to_text="make_jealous").sources_differ)
    cited = set().union(*(side.sources for side in note.sides))
    assert {"walk-away", "five-steps", "ten-steps"} <= cited


@pytest.mark.parametrize("count", [1, 2, 5])
def test_an_unanswered_message_means_never_a_second_one(count):
    v = ready(unanswered_messages_you_sent=count)
    assert v.decision == "do_not_text"
    assert rules_of(v)[0] == "never-two-in-a-row"


def test_closure_is_not_a_reason_to_text():
    v = ready(reason_to_text="closure")
    assert v.decision == "do_not_text"
    assert rules_of(v)[0] == "find-closure-within"


# --- Moving on -----------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["miss_them", "closure", "check_on_them", "ask_to_get_back"])
def test_moving_on_means_no_text(reason):
    v = ready(goal="move_on", reason_to_text=reason)
    assert v.decision == "do_not_text"
    assert rules_of(v)[0] == "moving-on-protects-your-peace"
    assert v.days_left is None


def test_moving_on_still_answers_a_casual_message_with_no_text_but_shows_the_debate():
    v = ready(goal="move_on", they_messaged="casual")
    assert v.decision == "do_not_text"
    assert "replying-when-they-write-first" in notes_of(v)


def test_moving_on_still_allows_practical_and_emergency_messages():
    assert ready(goal="move_on", they_messaged="emergency").decision == "reply"
    assert ready(goal="move_on", they_messaged="logistics").decision == "logistics_only"
    assert ready(goal="move_on", reason_to_text="logistics", shared=["home"]).decision == (
        "logistics_only"
    )


# --- No contact ----------------------------------------------------------------------------------


def test_an_empty_situation_is_treated_as_a_fresh_breakup_and_waits():
    v = advise(parse_situation({}))
    assert v.decision == "wait"
    assert v.days_left == 30
    assert rules_of(v)[0] == "no-contact-period"
    assert v.suggested_messages == ()


def test_during_no_contact_you_wait_and_see_the_days_left():
    v = ready(days_since_breakup=12)
    assert v.decision == "wait"
    assert v.days_left == 18
    assert "18 days" in v.headline
    assert "how-long-no-contact" in notes_of(v)


def test_one_day_left_is_said_in_the_singular():
    assert "1 day " in ready(days_since_breakup=29).headline


def test_the_no_contact_note_sets_four_weeks_against_21_to_45_days_and_a_softer_pause():
    note = next(n for n in ready(days_since_breakup=12).sources_differ)
    assert note.id == "how-long-no-contact"
    cited = set().union(*(side.sources for side in note.sides))
    assert {"five-steps", "ten-steps", "six-steps"} <= cited
    texts = " ".join(side.text for side in note.sides)
    assert "four" in texts and "21" in texts and "45" in texts


def test_the_count_restarts_from_the_last_time_you_got_in_touch():
    v = ready(days_since_breakup=60, days_since_you_last_contacted=10)
    assert v.decision == "wait"
    assert v.days_left == 20
    assert "count-restarts-when-you-reach-out" in rules_of(v)


def test_a_null_last_contact_counts_from_the_breakup():
    assert ready(days_since_breakup=60, days_since_you_last_contacted=None).days_left == 0
    assert ready(days_since_breakup=60).decision == "reach_out"


def test_the_chosen_no_contact_length_sets_the_days_left():
    s = parse_situation({**READY, "days_since_breakup": 25})
    assert advise(s, no_contact_days=21).decision == "reach_out"
    long = advise(s, no_contact_days=45)
    assert long.decision == "wait"
    assert long.days_left == 20


@pytest.mark.parametrize("length", [20, 46, 0, -1, True, 30.0, "30"])
def test_a_no_contact_length_outside_21_to_45_days_is_refused(length):
    with pytest.raises(ValueError, match="no_contact_days"):
        advise(Situation(), no_contact_days=length)


def test_bumping_into_them_advice_comes_with_no_contact():
    assert "if-you-bump-into-them" in rules_of(ready(days_since_breakup=12))


def test_when_they_ended_it_respecting_the_decision_is_a_reason():
    assert "respect-their-decision" in rules_of(ready(days_since_breakup=12))


# --- Getting ready and reaching out --------------------------------------------------------------


def test_calm_and_ready_after_no_contact_reaches_out_with_first_messages():
    v = ready()
    assert v.decision == "reach_out"
    assert v.days_left == 0
    assert rules_of(v)[0] == "first-message-light"
    assert "after-you-send-it" in rules_of(v)
    book = load_rulebook()
    assert set(v.suggested_messages) == {s.text for s in book.suggestions["first_message"]}


def test_no_contact_done_but_checklist_not_done_waits():
    v = ready(readiness_checklist_done=False)
    assert v.decision == "wait"
    assert rules_of(v)[0] == "readiness-checklist-first"


def test_a_missing_checklist_answer_counts_as_not_done():
    data = {k: v for k, v in READY.items() if k != "readiness_checklist_done"}
    assert verdict(**data).decision == "wait"


@pytest.mark.parametrize("feeling", ["sad", "anxious", None])
def test_reaching_out_needs_you_to_feel_steady_and_an_unsaid_feeling_is_not_calm(feeling):
    data = {**READY, "feeling": feeling}
    if feeling is None:
        del data["feeling"]
    v = verdict(**data)
    assert v.decision == "wait"
    assert rules_of(v)[0] == "reach-out-from-a-steady-place"


def test_a_skipped_safety_answer_still_reaches_out_and_asks_the_question_once_more():
    data = {k: v for k, v in READY.items() if k != "abuse_or_repeated_cheating"}
    v = verdict(**data)
    assert v.decision == "reach_out"
    assert v.ask_safety_again is True
    assert "be-honest-about-how-it-was" in rules_of(v)


def test_a_safety_answer_given_as_no_does_not_ask_again():
    v = ready()
    assert v.decision == "reach_out"
    assert v.ask_safety_again is False
    assert "be-honest-about-how-it-was" not in rules_of(v)


def test_the_ask_again_flag_stays_out_of_the_command_line_fields():
    data = {k: v for k, v in READY.items() if k != "abuse_or_repeated_cheating"}
    assert "ask_safety_again" not in verdict(**data).to_dict()


def test_only_a_reach_out_verdict_asks_the_safety_question_again():
    asked = [s for s in GRID if advise(s).ask_safety_again]
    assert asked
    for s in asked:
        assert advise(s).decision == "reach_out"
        assert s.abuse_or_repeated_cheating is None


def test_being_unsure_waits_until_you_have_decided():
    v = ready(goal="unsure")
    assert v.decision == "wait"
    assert rules_of(v)[0] == "decide-if-you-really-want-them-back"


def test_asking_them_back_comes_later_than_the_first_message():
    v = ready(reason_to_text="ask_to_get_back")
    assert v.decision == "reach_out"
    assert "ask-later-not-first" in rules_of(v)


def test_wanting_to_apologise_shows_when_the_articles_say_to_apologise():
    v = ready(reason_to_text="apologise")
    assert v.decision == "reach_out"
    assert "apologising-early" in notes_of(v)


# --- They are dating -----------------------------------------------------------------------------


def test_asking_them_back_while_they_date_is_held_off():
    v = ready(reason_to_text="ask_to_get_back", they_are_dating=True)
    assert v.decision == "do_not_text"
    assert rules_of(v)[0] == "hold-off-asking-while-they-date"
    assert {"while-they-date", "jealousy-tactics"} <= set(notes_of(v))


def test_reaching_out_while_they_date_comes_with_care():
    v = ready(they_are_dating=True)
    assert v.decision == "reach_out"
    assert "if-theyre-dating-someone" in rules_of(v)
    assert "dont-pry-into-their-love-life" in rules_of(v)
    note = next(n for n in v.sources_differ if n.id == "while-they-date")
    assert {s for side in note.sides for s in side.sources} == {"six-steps", "five-steps", "own"}


REJECTED_TACTIC_NOTES = {
    "jealousy-tactics": "jealousy",
    "while-they-date": "jealous",
    "hearing-no": "maybe",
}


@pytest.mark.parametrize("note_id", sorted(REJECTED_TACTIC_NOTES))
def test_a_rejected_tactic_says_why_in_one_sentence_on_honesty_or_respect(note_id):
    note = next(n for n in load_rulebook().notes if n.id == note_id)
    own = [side for side in note.sides if side.sources == ("own",)]
    assert len(own) == 1, note_id
    text = own[0].text.lower()
    assert REJECTED_TACTIC_NOTES[note_id] in text
    assert "honest" in text or "respect" in text


def test_the_jealousy_rule_speaks_to_honesty_as_well_as_to_what_works():
    rule = load_rulebook().rules["no-jealousy-games"]
    assert "backfires" in rule.text and "honesty" in rule.text


def test_a_second_message_after_silence_shows_where_the_articles_differ():
    v = ready(unanswered_messages_you_sent=1)
    assert v.decision == "do_not_text"
    note = next(n for n in v.sources_differ if n.id == "a-second-message-after-silence")
    assert [side.sources for side in note.sides] == [("five-steps",), ("ten-steps",)]


@pytest.mark.parametrize("decision_fields", [{}, {"readiness_checklist_done": False}])
def test_who_moves_first_is_shown_once_no_contact_is_done(decision_fields):
    v = ready(**decision_fields)
    assert "who-moves-first" in notes_of(v)
    note = next(n for n in v.sources_differ if n.id == "who-moves-first")
    assert "give-him-the-breakup" in note.sides[0].sources


def test_who_moves_first_is_not_shown_during_no_contact():
    assert "who-moves-first" not in notes_of(ready(days_since_breakup=5))


# --- The quick repair after a rash fight ---------------------------------------------------------

RASH: dict[str, Any] = {
    "rash_fight_breakup": True,
    "goal": "get_back",
    "abuse_or_repeated_cheating": False,
    "feeling": "calm",
    "reason_to_text": "apologise",
}


def test_a_rash_fight_gets_a_day_or_two_to_cool_first():
    v = verdict(**RASH, days_since_breakup=0)
    assert v.decision == "wait"
    assert rules_of(v)[0] == "let-a-rash-fight-cool-first"


@pytest.mark.parametrize("days", [1, 2, 7])
def test_after_a_rash_fight_a_short_calm_apology_is_allowed(days):
    v = verdict(**RASH, days_since_breakup=days)
    assert v.decision == "reach_out"
    assert rules_of(v)[0] == "quick-repair-after-a-rash-fight"
    assert v.days_left is None
    assert v.suggested_messages == tuple(
        s.text for s in load_rulebook().suggestions["quick_repair"]
    )
    assert {"how-long-no-contact", "apologising-early"} <= set(notes_of(v))


def test_the_quick_repair_window_closes_after_the_first_week():
    assert verdict(**RASH, days_since_breakup=8).decision == "wait"


@pytest.mark.parametrize(
    "change",
    [
        {"feeling": "angry"},
        {"feeling": "anxious"},
        {"goal": "unsure"},
        {"abuse_or_repeated_cheating": True},
        {"unanswered_messages_you_sent": 1},
        {"reason_to_text": "make_jealous"},
        {"local_hour": 23},
    ],
)
def test_the_quick_repair_needs_everything_else_to_be_right(change):
    assert verdict(**{**RASH, "days_since_breakup": 2, **change}).decision != "reach_out"


def test_an_unsaid_abuse_answer_opens_the_quick_repair_but_asks_once_more():
    data = {k: v for k, v in RASH.items() if k != "abuse_or_repeated_cheating"}
    v = verdict(**data, days_since_breakup=2)
    assert v.decision == "reach_out"
    assert v.ask_safety_again is True


@pytest.mark.parametrize("reason", [None, "miss_them", "check_on_them", "ask_to_get_back"])
@pytest.mark.parametrize("feeling", ["calm", "sad"])
@pytest.mark.parametrize("days", [1, 2, 5])
def test_the_quick_repair_fires_in_its_window_whatever_the_stated_reason(reason, feeling, days):
    fields = {**RASH, "feeling": feeling, "days_since_breakup": days}
    if reason is None:
        del fields["reason_to_text"]
    else:
        fields["reason_to_text"] = reason
    v = verdict(**fields)
    assert v.decision == "reach_out"
    assert rules_of(v)[0] == "quick-repair-after-a-rash-fight"


@pytest.mark.parametrize("reason", [None, "apologise", "miss_them"])
def test_on_the_day_of_a_rash_fight_the_advice_is_a_short_wait(reason):
    fields = {**RASH, "days_since_breakup": 0}
    fields.pop("reason_to_text")
    if reason:
        fields["reason_to_text"] = reason
    v = verdict(**fields)
    assert v.decision == "wait"
    assert rules_of(v)[0] == "let-a-rash-fight-cool-first"


# --- Properties of every verdict -----------------------------------------------------------------


def test_every_decision_value_is_reachable_within_the_grid():
    assert {advise(s).decision for s in GRID} == set(DECISIONS)


def test_suggestions_are_empty_whenever_the_decision_is_not_to_text():
    for s in GRID:
        v = advise(s)
        if v.decision in TEXTING_DECISIONS:
            assert v.suggested_messages, s
        else:
            assert v.suggested_messages == (), s


def test_reaching_out_only_happens_when_abuse_is_not_reported_and_you_want_them_back():
    reaching = [s for s in GRID if advise(s).decision == "reach_out"]
    assert len(reaching) >= 20, "the grid must hold reach_out situations for this to test anything"
    assert any(s.abuse_or_repeated_cheating is None for s in reaching)
    for s in reaching:
        assert s.abuse_or_repeated_cheating is not True
        assert s.goal == "get_back"
        assert s.feeling in ("calm", "sad")
        assert advise(s).ask_safety_again is (s.abuse_or_repeated_cheating is None)


SHORT_MESSAGE_MAX = 700


def short_first_message(v: Verdict) -> str:
    """What a phone-sized first answer holds: the headline, the two strongest reasons and the
    names of their sources."""
    names = ", ".join(load_sources()[s].short for s in v.top_sources(2))
    lines = [v.headline, *(r.text for r in v.top_reasons(2)), f"From: {names}"]
    return "\n\n".join(lines)


def test_the_short_first_message_fits_a_phone_screen_for_every_grid_situation():
    longest = max((short_first_message(advise(s)) for s in GRID), key=len)
    assert len(longest) <= SHORT_MESSAGE_MAX, longest


def test_top_and_other_reasons_split_the_reasons_without_losing_any():
    for s in GRID[::7]:
        v = advise(s)
        assert v.top_reasons(2) + v.other_reasons(2) == v.reasons
        assert v.top_reasons(1) == v.reasons[:1]
        assert v.top_sources(2) and set(v.top_sources(2)) <= set(load_sources())


def test_every_verdict_is_well_formed_and_json_ready():
    known = load_sources()
    for s in GRID[::3]:
        d = advise(s).to_dict()
        assert list(d) == [
            "decision",
            "days_left",
            "headline",
            "reasons",
            "sources_differ",
            "suggested_messages",
        ]
        assert d["decision"] in DECISIONS
        assert d["days_left"] is None or (isinstance(d["days_left"], int) and d["days_left"] >= 0)
        assert d["headline"].strip() and "{" not in d["headline"] and "None" not in d["headline"]
        assert len(re.findall(r"[.!?](\s|$)", d["headline"])) == 1, d["headline"]
        assert d["reasons"], s
        for reason in d["reasons"]:
            assert set(reason) == {"rule", "text", "sources"}
            assert reason["sources"] and set(reason["sources"]) <= set(known)
        for note in d["sources_differ"]:
            assert set(note) == {"id", "topic", "sides"}
            assert len(note["sides"]) >= 2
            for side in note["sides"]:
                assert set(side) == {"text", "sources"}
                assert side["sources"] and set(side["sources"]) <= set(known)
        assert all(isinstance(m, str) and m for m in d["suggested_messages"])
        json.dumps(d)


def test_no_reason_or_note_is_listed_twice():
    for s in GRID[::5]:
        v = advise(s)
        assert len(set(rules_of(v))) == len(v.reasons)
        assert len(set(notes_of(v))) == len(v.sources_differ)


def test_the_same_situation_always_gets_the_same_verdict():
    fresh = build_rulebook()
    for s in GRID[::11]:
        first = advise(s)
        assert advise(s) == first
        assert advise(s, fresh) == first
        again = parse_situation(json.loads(json.dumps(s.to_dict())))
        assert advise(again).to_dict() == first.to_dict()


def test_verdicts_are_frozen():
    v = ready()
    with pytest.raises(AttributeError):
        v.decision = "reply"  # type: ignore[misc]


def test_advise_wants_a_parsed_situation():
    with pytest.raises(TypeError):
        advise({"feeling": "calm"})  # type: ignore[arg-type]
