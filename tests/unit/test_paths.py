"""The person's own path as content: every choice and step names its sources, the
disagreements it shows exist in the rulebook, and the strictness choice changes the advice."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from content.advice import RASH_REPAIR_LAST_DAY, advise, load_rulebook, parse_situation
from content.loader import CONTENT_DIR, ContentError, load_sources
from content.paths import (
    CHOICES,
    STRICT_WEEKS_DAYS,
    in_repair_window,
    load_paths,
    no_contact_days_for,
    note_ids,
)
from content.program import load_program

FRIENDLY_HELLO = {
    "days_since_breakup": 10,
    "who_ended": "them",
    "goal": "get_back",
    "abuse_or_repeated_cheating": False,
    "feeling": "calm",
    "they_messaged": "casual",
    "reason_to_text": "reply",
    "local_hour": 14,
}


@pytest.fixture
def paths_copy(tmp_path: Path) -> Path:
    for name in ("paths.yaml", "sources.yaml"):
        shutil.copy(CONTENT_DIR / name, tmp_path / name)
    return tmp_path


def test_every_choice_has_two_options_or_more_each_naming_known_sources():
    paths, known = load_paths(), load_sources()
    assert tuple(paths.choices) == CHOICES
    for choice in paths.choices.values():
        assert len(choice.options) >= 2
        for option in choice.options:
            assert option.sources and all(s in known for s in option.sources)
            assert option.label and option.means


def test_every_step_of_the_comeback_guide_names_its_sources():
    guide = load_paths().comeback
    assert [s.id for s in guide.steps][:1] == ["answer-warmly"]
    assert {"first-meeting", "the-talk", "pace"} <= {s.id for s in guide.steps}
    assert all(step.sources for step in guide.steps)
    assert guide.blocked.sources and guide.intro.sources


def test_every_disagreement_the_path_shows_is_a_note_of_the_rulebook():
    known = {note.id for note in load_rulebook().notes}
    assert note_ids(load_paths()) <= known


def test_the_distance_styles_are_walk_away_six_steps_and_five_steps_each_from_its_article():
    styles = load_paths().choices["distance_style"]
    by_value = {o.value: o.sources for o in styles.options}
    assert by_value["calm_message"] == ("walk-away",)
    assert by_value["strategic_pause"] == ("six-steps",)
    assert "five-steps" in by_value["strict_weeks"]


def test_limited_contact_is_only_offered_when_something_is_shared():
    styles = load_paths().choices["distance_style"]
    assert "limited" not in {o.value for o in styles.offered(False)}
    assert "limited" in {o.value for o in styles.offered(True)}


def test_strict_weeks_raises_a_shorter_count_to_four_weeks_and_keeps_a_longer_one():
    assert no_contact_days_for("strict_weeks", 21) == STRICT_WEEKS_DAYS == 28
    assert no_contact_days_for("strict_weeks", 40) == 40
    assert no_contact_days_for("calm_message", 21) == 21
    assert no_contact_days_for(None, 30) == 30


@pytest.mark.parametrize(
    ("days_after", "open_"),
    [(0, False), (1, True), (2, True), (RASH_REPAIR_LAST_DAY, True),
     (RASH_REPAIR_LAST_DAY + 1, False)],
)  # fmt: skip
def test_the_repair_window_opens_a_day_after_a_rash_fight_and_closes_after_a_week(
    days_after, open_
):
    breakup = date(2026, 3, 2)
    today = date.fromordinal(breakup.toordinal() + days_after)
    assert in_repair_window(True, breakup, today, RASH_REPAIR_LAST_DAY) is open_
    assert in_repair_window(False, breakup, today, RASH_REPAIR_LAST_DAY) is False


def test_a_bare_no_as_a_key_is_refused_naming_the_file(paths_copy):
    load_paths.cache_clear()
    text = (paths_copy / "paths.yaml").read_text()
    (paths_copy / "paths.yaml").write_text(text.replace('  "no":\n    text:', "  no:\n    text:"))
    try:
        with pytest.raises(ContentError, match=r"^paths.yaml: heard"):
            load_paths(paths_copy)
    finally:
        load_paths.cache_clear()


def test_an_option_without_sources_is_refused(paths_copy):
    load_paths.cache_clear()
    text = (paths_copy / "paths.yaml").read_text()
    broken = text.replace("        sources: [walk-away]\n", "", 1)
    assert broken != text
    (paths_copy / "paths.yaml").write_text(broken)
    try:
        with pytest.raises(ContentError, match=r"^paths.yaml: distance_style.calm_message"):
            load_paths(paths_copy)
    finally:
        load_paths.cache_clear()


# --- the strictness choice in the advice engine ----------------------------------------------


def test_without_a_choice_a_friendly_hello_gets_a_warm_reply_and_the_disagreement():
    v = advise(parse_situation(FRIENDLY_HELLO))
    assert v.decision == "reply"
    assert "replying-when-they-write-first" in {n.id for n in v.sources_differ}


def test_choosing_warm_replies_keeps_the_reply_and_stops_repeating_the_disagreement():
    v = advise(parse_situation({**FRIENDLY_HELLO, "reply_strictness": "warm"}))
    assert v.decision == "reply"
    assert "replying-when-they-write-first" not in {n.id for n in v.sources_differ}


def test_choosing_emergencies_only_holds_a_friendly_reply_during_no_contact():
    v = advise(parse_situation({**FRIENDLY_HELLO, "reply_strictness": "emergencies_only"}))
    assert v.decision == "wait"
    assert v.reasons[0].rule == "only-emergencies-as-you-chose"
    assert v.reasons[0].sources == ("five-steps",)


def test_emergencies_only_still_answers_an_emergency_and_ends_with_no_contact():
    strict = {**FRIENDLY_HELLO, "reply_strictness": "emergencies_only"}
    assert advise(parse_situation({**strict, "they_messaged": "emergency"})).decision == "reply"
    after = advise(parse_situation({**strict, "days_since_breakup": 60}))
    assert after.decision == "reply"


def test_the_lesson_on_their_first_message_follows_the_chosen_strictness():
    paths = load_paths()
    warm = paths.lesson_for("nc-they-write-first", {"reply_strictness": "warm"})
    assert warm is not None and "give-him-the-breakup" in warm.sources
    assert "kindly" in warm.idea
    assert paths.lesson_for("nc-they-write-first", {"reply_strictness": "emergencies_only"}) is None
    assert paths.lesson_for("nc-they-write-first", {"reply_strictness": None}) is None
    assert paths.lesson_for("nc-what-counts", {"reply_strictness": "warm"}) is None


def test_every_lesson_variant_replaces_a_lesson_of_the_program():
    ids = {lesson.id for phase in load_program().phases.values() for lesson in phase.lessons}
    assert set(load_paths().lessons) <= ids
