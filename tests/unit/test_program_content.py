"""The program's data: every phase, lesson, form and prompt is there, sourced, and checked — and a
broken file fails naming the file and the entry."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from content.loader import CONTENT_DIR, ContentError, load_sources
from content.program import (
    GATE_KINDS,
    MAX_FORM_ID,
    MAX_ITEM_ID,
    MAX_PHASE_ID,
    MAX_PROMPT_ID,
    MAX_VALUE,
    MIN_LESSONS,
    load_program,
)

PROGRAM = load_program()
SOURCES = set(load_sources())
NEW_PHASES = ("heal", "decide", "reach_out", "rebuild", "the_talk", "relationship")
MAIN_PATH = [
    "stop_chasing",
    "no_contact",
    "heal",
    "decide",
    "reach_out",
    "rebuild",
    "the_talk",
    "relationship",
]


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    for f in CONTENT_DIR.glob("*.yaml"):
        shutil.copy(f, tmp_path / f.name)
    return tmp_path


def edit(directory: Path, name: str, change: Callable[[Any], None]) -> None:
    path = directory / name
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def fails(directory: Path, pattern: str) -> None:
    with pytest.raises(ContentError, match=pattern):
        load_program(directory)


def all_texts() -> list[str]:
    texts = []
    for phase in PROGRAM.phases.values():
        texts += [phase.name, phase.goal, *phase.do, *phase.avoid]
        texts += [t for lesson in phase.lessons for t in (lesson.idea, lesson.action)]
    for form in PROGRAM.forms.values():
        texts += [form.title, form.intro]
        texts += [t for item in form.items for t in (item.text, *(o.label for o in item.options))]
    texts += [t for p in PROGRAM.prompts for t in (p.text, p.follow_up or "")]
    return texts


# --- What the program holds -----------------------------------------------------------------------


def test_the_program_has_every_phase_of_the_five_articles():
    assert set(PROGRAM.phases) == {
        "stop_chasing", "no_contact", "limited_contact", "move_on", *NEW_PHASES
    }  # fmt: skip


@pytest.mark.parametrize("phase_id", list(PROGRAM.phases))
def test_every_phase_has_at_least_seven_distinct_lessons_with_sources(phase_id):
    lessons = PROGRAM.phases[phase_id].lessons
    assert len(lessons) >= MIN_LESSONS == 7
    assert len({lesson.idea for lesson in lessons}) == len(lessons)
    assert len({lesson.action for lesson in lessons}) == len(lessons)
    for lesson in lessons:
        assert lesson.phase == phase_id
        assert lesson.idea and lesson.action
        assert lesson.sources and set(lesson.sources) <= SOURCES


def test_lesson_ids_are_unique_across_the_whole_program():
    ids = [lesson.id for phase in PROGRAM.phases.values() for lesson in phase.lessons]
    assert len(ids) == len(set(ids))


def test_every_phase_has_a_one_sentence_goal_and_names_its_sources():
    for phase in PROGRAM.phases.values():
        assert phase.goal.endswith(".") and phase.goal.count(". ") == 0, phase.id
        assert phase.do and phase.avoid
        assert set(phase.sources) <= SOURCES


def test_the_main_path_runs_from_stop_chasing_to_a_new_relationship():
    path, phase = [], "stop_chasing"
    while phase is not None:
        path.append(phase)
        phase = PROGRAM.phases[phase].gate.next_for(())
    assert path == MAIN_PATH


def test_with_something_shared_the_path_goes_through_limited_contact():
    assert PROGRAM.phases["stop_chasing"].gate.next_for({"kids"}) == "limited_contact"
    assert PROGRAM.phases["limited_contact"].gate.next == "heal"


def test_each_gate_asks_for_what_the_articles_ask():
    gates = {pid: phase.gate for pid, phase in PROGRAM.phases.items()}
    assert gates["no_contact"].no_contact_days == "chosen"
    assert gates["limited_contact"].no_contact_days == "chosen"
    assert set(gates["decide"].requires) == {"decision", "checklist"}
    assert gates["decide"].checklist == "readiness"
    assert gates["reach_out"].ex_answer == ("friendly", "yes")
    assert gates["the_talk"].ex_answer == ("yes",)
    assert gates["relationship"].final and gates["move_on"].final
    for gate in gates.values():
        assert set(gate.requires) <= set(GATE_KINDS)


def test_healing_runs_alongside_no_contact():
    assert set(PROGRAM.phases["heal"].alongside) == {"no_contact", "limited_contact"}


def test_every_phase_fills_its_placeholders():
    for phase in PROGRAM.phases.values():
        filled = phase.filled(days="30", shared="children")
        texts = [filled.goal, *filled.do, *filled.avoid]
        texts += [t for lesson in filled.lessons for t in (lesson.idea, lesson.action)]
        assert all("{" not in t for t in texts), phase.id


def test_the_ex_is_always_called_them():
    pattern = re.compile(
        r"\b(he|him|his|himself|she|her|hers|herself|boyfriend|girlfriend)\b", re.IGNORECASE
    )
    offending = [t for t in all_texts() if pattern.search(t)]
    assert offending == []


def test_the_coach_never_suggests_jealousy_games():
    # Articles disagree on jealousy tactics; the bot only ever warns against them.
    mentions = [t for t in all_texts() if "jealous" in t.lower()]
    assert mentions, "no text mentions jealousy, so this test would check nothing"
    for text in mentions:
        assert re.search(r"\b(avoid|trying to make|never|were you)\b", text, re.I), text


# --- Forms ----------------------------------------------------------------------------------------


def test_the_readiness_checklist_holds_the_five_conditions_before_reaching_out():
    readiness = PROGRAM.forms["readiness"]
    assert readiness.kind == "checklist"
    assert [i.id for i in readiness.items] == [
        "no_contact_done",
        "worked_on_yourself",
        "accepted_breakup",
        "feel_calm",
        "sure_you_want_this",
    ]
    assert readiness.item("no_contact_done").auto == "no_contact"
    assert all("five-steps" in i.sources for i in readiness.items)


def test_the_decide_questionnaire_treats_abuse_and_repeated_cheating_as_closing_the_path():
    decide = PROGRAM.forms["decide"]

    def scores(item_id: str) -> str:
        return decide.item(item_id).option("yes").scores

    assert (scores("abuse"), scores("repeated_cheating")) == ("closes", "closes")
    assert scores("repeated_lying") == "let_go"
    assert "ten-steps" in decide.item("abuse").sources


def test_the_three_worth_saving_questions_and_the_love_triangle_are_asked():
    decide = PROGRAM.forms["decide"]
    groups: dict[str, list[str]] = {}
    for item in decide.items:
        groups.setdefault(item.group, []).append(item.id)
    assert groups["worth_saving"] == ["worth_saving", "added_value", "differences_workable"]
    assert groups["love_triangle"] == ["intimacy", "passion", "commitment"]
    assert groups["signs_for"] and groups["signs_against"] and groups["your_why"]
    assert all("six-steps" in decide.item(i).sources for i in groups["worth_saving"])


def test_every_form_item_has_options_text_and_sources():
    for form in PROGRAM.forms.values():
        assert set(form.sources) <= SOURCES
        for item in form.items:
            assert item.text and item.options, item.id
            assert item.sources and set(item.sources) <= SOURCES


def test_ids_and_values_fit_the_database_columns():
    assert all(len(pid) <= MAX_PHASE_ID for pid in PROGRAM.phases)
    for form in PROGRAM.forms.values():
        assert len(form.id) <= MAX_FORM_ID
        for item in form.items:
            assert len(item.id) <= MAX_ITEM_ID
            assert all(len(o.value) <= MAX_VALUE for o in item.options)
    assert all(len(p.id) <= MAX_PROMPT_ID for p in PROGRAM.prompts)


# --- Journal prompts ------------------------------------------------------------------------------


def test_every_phase_has_journal_prompts():
    for phase_id in PROGRAM.phases:
        assert any(phase_id in p.phases for p in PROGRAM.prompts), phase_id


def test_the_prompts_the_articles_ask_for_are_there_with_their_sources():
    prompts = {p.id: p for p in PROGRAM.prompts}
    expected = {
        "three-admired-qualities": "give-him-the-breakup",
        "do-differently": "give-him-the-breakup",
        "did-not-like": "five-steps",
        "what-pushed-them-away": "ten-steps",
        "red-flags": "ten-steps",
        "your-why": "walk-away",
    }
    for prompt_id, source in expected.items():
        assert source in prompts[prompt_id].sources, prompt_id
    assert prompts["three-admired-qualities"].follow_up
    for prompt in PROGRAM.prompts:
        assert prompt.text and prompt.sources and set(prompt.sources) <= SOURCES


# --- A broken file fails naming the file and the entry --------------------------------------------


def test_a_lesson_with_an_unknown_source_fails_naming_it(content_copy):
    edit(content_copy, "phases.yaml", lambda d: d["heal"]["lessons"][0].update(sources=["nope"]))
    fails(content_copy, r"^phases.yaml: heal.lessons.he-basics-first: unknown source id.*nope")


def test_a_lesson_without_sources_fails_naming_it(content_copy):
    edit(content_copy, "phases.yaml", lambda d: d["decide"]["lessons"][2].pop("sources"))
    fails(content_copy, r"^phases.yaml: decide.lessons.de-your-part: names no source")


def test_a_lesson_with_an_empty_idea_fails_naming_it(content_copy):
    edit(content_copy, "phases.yaml", lambda d: d["rebuild"]["lessons"][0].update(idea="  "))
    fails(content_copy, r"^phases.yaml: rebuild.lessons.rb-light-topics: idea: String should have")


def test_a_phase_with_fewer_than_seven_lessons_fails_naming_it(content_copy):
    def cut(d):
        d["the_talk"]["lessons"] = d["the_talk"]["lessons"][:6]

    edit(content_copy, "phases.yaml", cut)
    fails(content_copy, r"^phases.yaml: the_talk.lessons: needs at least 7 daily lessons, has 6")


def test_a_lesson_id_used_twice_fails_naming_both_places(content_copy):
    edit(
        content_copy,
        "phases.yaml",
        lambda d: d["move_on"]["lessons"][0].update(id="he-old-passion"),
    )
    fails(content_copy, r"^phases.yaml: move_on.lessons.he-old-passion: .*twice \(also in heal\)")


def test_a_lesson_repeating_another_lessons_idea_fails(content_copy):
    def repeat(d):
        d["heal"]["lessons"][1]["idea"] = d["heal"]["lessons"][0]["idea"]

    edit(content_copy, "phases.yaml", repeat)
    fails(content_copy, r"^phases.yaml: heal.lessons.he-feel-it-to-release-it: repeats the idea")


def test_an_unknown_gate_kind_fails_naming_the_phase(content_copy):
    edit(content_copy, "phases.yaml", lambda d: d["heal"]["gate"].update(weeks=2))
    fails(content_copy, r"^phases.yaml: heal.gate: unknown gate kind 'weeks'")


def test_a_phase_unreachable_from_the_start_fails_naming_it(content_copy):
    edit(content_copy, "phases.yaml", lambda d: d["heal"]["gate"].update(next="reach_out"))
    fails(content_copy, r"^phases.yaml: decide: can't be reached from stop_chasing")


def test_a_gate_leading_to_an_unknown_phase_fails(content_copy):
    edit(content_copy, "phases.yaml", lambda d: d["rebuild"]["gate"].update(next="wedding"))
    fails(content_copy, r"^phases.yaml: rebuild.gate: leads to unknown phase 'wedding'")


def test_a_gate_naming_a_missing_checklist_fails(content_copy):
    edit(content_copy, "phases.yaml", lambda d: d["rebuild"]["gate"].update(checklist="ready"))
    fails(content_copy, r"^phases.yaml: rebuild.gate: 'checklist' names no checklist in forms.yaml")


def test_a_phase_without_a_gate_fails(content_copy):
    edit(content_copy, "phases.yaml", lambda d: d["reach_out"].pop("gate"))
    fails(content_copy, r"^phases.yaml: reach_out.gate: must be 'none' or a mapping")


def test_a_phase_defined_twice_fails_instead_of_silently_replacing_the_first(content_copy):
    path = content_copy / "phases.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\nheal:\n  name: Again\n", encoding="utf-8")
    fails(content_copy, r"^phases.yaml: heal: is defined twice")


def test_an_unknown_placeholder_fails_naming_the_lesson(content_copy):
    edit(
        content_copy,
        "phases.yaml",
        lambda d: d["no_contact"]["lessons"][0].update(idea="Hi {name}"),
    )
    fails(
        content_copy, r"^phases.yaml: no_contact.lessons.nc-what-counts: idea: unknown placeholder"
    )


def test_a_form_option_with_an_unknown_score_fails_naming_it(content_copy):
    def change(d):
        d["decide"]["items"][4]["options"][0]["scores"] = "maybe"

    edit(content_copy, "forms.yaml", change)
    fails(content_copy, r"^forms.yaml: decide.abuse.yes: unknown score 'maybe'")


def test_an_unquoted_yes_value_is_caught_instead_of_becoming_true(content_copy):
    path = content_copy / "forms.yaml"
    raw = path.read_text(encoding="utf-8")
    quoted = '{value: "yes", label: "Yes", scores: closes}'
    path.write_text(raw.replace(quoted, "{value: yes, label: Yes, scores: closes}", 1))
    fails(content_copy, r"^forms.yaml: decide.abuse: 'value' must be a non-empty text \(quote")


def test_a_form_item_id_used_twice_fails(content_copy):
    edit(content_copy, "forms.yaml", lambda d: d["readiness"]["items"][2].update(id="feel_calm"))
    fails(content_copy, r"^forms.yaml: readiness.feel_calm: item id is used twice")


def test_a_form_item_without_sources_fails_naming_it(content_copy):
    edit(content_copy, "forms.yaml", lambda d: d["talk_ready"]["items"][0].pop("sources"))
    fails(content_copy, r"^forms.yaml: talk_ready.friendly_more_than_once: names no source")


def test_a_form_item_with_empty_text_fails_naming_it(content_copy):
    edit(content_copy, "forms.yaml", lambda d: d["decide"]["items"][0].update(text=""))
    fails(content_copy, r"^forms.yaml: decide.why_want_back: 'text' must be a non-empty")


def test_a_missing_forms_file_fails_naming_it(content_copy):
    (content_copy / "forms.yaml").unlink()
    fails(content_copy, r"^forms.yaml: -: file is missing")


def test_a_prompt_for_an_unknown_phase_fails_naming_it(content_copy):
    edit(content_copy, "journal.yaml", lambda d: d["prompts"][0].update(phases=["grief"]))
    fails(content_copy, r"^journal.yaml: let-it-out: unknown phase 'grief'")


def test_a_prompt_without_sources_fails_naming_it(content_copy):
    edit(content_copy, "journal.yaml", lambda d: d["prompts"][1].pop("sources"))
    fails(content_copy, r"^journal.yaml: unsent-message: names no source")


def test_a_prompt_with_empty_text_fails_naming_it(content_copy):
    edit(content_copy, "journal.yaml", lambda d: d["prompts"][2].update(text=" "))
    fails(content_copy, r"^journal.yaml: practical-only: 'text' must be a non-empty")


def test_a_prompt_id_used_twice_fails(content_copy):
    edit(content_copy, "journal.yaml", lambda d: d["prompts"][1].update(id="let-it-out"))
    fails(content_copy, r"^journal.yaml: let-it-out: prompt id is used twice")


# --- Numbers and coverage -------------------------------------------------------------------------


def test_every_gate_with_a_fixed_number_of_days_says_where_the_number_comes_from():
    fixed = [
        phase.gate
        for phase in PROGRAM.phases.values()
        if isinstance(phase.gate.no_contact_days, int)
        or phase.gate.days is not None
        or phase.gate.retry_after_days is not None
    ]
    assert len(fixed) >= 3
    for gate in fixed:
        assert gate.why and gate.why_sources
        if "own" in gate.why_sources:
            assert "coach's own" in gate.why


def test_a_gate_with_a_fixed_number_and_no_reason_fails_naming_the_gate(content_copy):
    path = content_copy / "phases.yaml"
    text = path.read_text()
    start = text.index("  gate:\n    no_contact_days: 3\n    why:")
    end = text.index("    next: no_contact", start)
    path.write_text(text[:start] + "  gate:\n    no_contact_days: 3\n" + text[end:])
    with pytest.raises(ContentError, match=r"^phases.yaml: stop_chasing.gate: .*'why'"):
        load_program(content_copy)


def find_lesson(lesson_id: str) -> Any:
    every = (lesson for phase in PROGRAM.phases.values() for lesson in phase.lessons)
    return next((lesson for lesson in every if lesson.id == lesson_id), None)


# Items the article checklist found missing, each now taught by a lesson (see the coverage table).
MISSING_ITEMS_NOW_TAUGHT = {
    "nc-no-closeness": {"five-steps"},  # no sex or closeness during no contact
    "ro-after-a-long-gap": {"five-steps"},  # after a long gap, be open and show change
    "ro-dont-debate-moving-on": {"five-steps"},  # not discussing whether you've moved on
    "rb-ask-by-phone": {"five-steps"},  # inviting them to meet by phone
    "rb-ask-how-they-have-been": {"ten-steps", "walk-away"},  # how they've been, the time apart
    "he-read-and-listen": {"ten-steps"},  # reading and listening on healing
    "rb-long-distance": {"six-steps"},  # video calls for long distance
    "re-be-fun-again": {"walk-away"},  # being fun again
}


@pytest.mark.parametrize(("lesson_id", "sources"), sorted(MISSING_ITEMS_NOW_TAUGHT.items()))
def test_each_item_the_articles_ask_for_has_a_lesson_citing_its_article(lesson_id, sources):
    lesson = find_lesson(lesson_id)
    assert lesson is not None, lesson_id
    assert sources <= set(lesson.sources)


DIFFER_LESSONS = {
    "nc-post-less": {"six-steps", "five-steps"},  # post nothing vs post your life
    "sc-one-calm-message": {"walk-away", "five-steps"},  # one calm message vs full silence
    "he-memories-differ": {"give-him-the-breakup", "ten-steps"},  # feel it all vs replaying
    "de-lists-differ": {"five-steps", "give-him-the-breakup"},  # disliked vs admired
}


@pytest.mark.parametrize(("lesson_id", "sides"), sorted(DIFFER_LESSONS.items()))
def test_a_disagreement_between_articles_is_said_openly_with_both_sides_cited(lesson_id, sides):
    lesson = find_lesson(lesson_id)
    assert lesson is not None, lesson_id
    assert "articles differ" in lesson.idea.lower()
    assert sides <= set(lesson.sources)
