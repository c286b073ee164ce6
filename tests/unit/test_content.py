"""The data files load, validate, and fail loudly naming the file and entry when broken."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import pytest
import yaml

from content import load_content
from content.intake import STEP_ORDER, load_intake
from content.loader import (
    CONTENT_DIR,
    OWN,
    Cited,
    ContentError,
    articles,
    load_sources,
    load_texts,
    render_sources,
    validate_entry,
)
from content.program import first_steps, load_phases
from content.screen import load_patterns

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    for f in CONTENT_DIR.glob("*.yaml"):
        shutil.copy(f, tmp_path / f.name)
    return tmp_path


def test_all_content_loads():
    content = load_content()
    assert set(content.intake) == set(STEP_ORDER)
    assert set(content.sources) == {
        "walk-away", "five-steps", "give-him-the-breakup", "ten-steps", "six-steps", "own"
    }  # fmt: skip
    assert [s.id for s in articles()] == [
        "walk-away", "five-steps", "give-him-the-breakup", "ten-steps", "six-steps"
    ]  # fmt: skip


def test_the_sources_message_lists_every_article_by_title_with_author_and_date_where_given():
    text = render_sources(load_texts())
    for src in articles():
        assert html.escape(src.title) in text
    assert "Michael Fulmer" in text and "13 August 2020" in text
    assert "30 January 2023" in text
    assert "own default" in text
    assert "/sources" in load_texts().render("sources.help_line")


def test_a_source_with_an_unknown_field_fails_naming_the_file_and_the_source(content_copy):
    directory = content_copy
    path = directory / "sources.yaml"
    path.write_text(path.read_text().replace("  kind: article\n", "  kind: artcle\n", 1))
    load_sources.cache_clear()
    try:
        with pytest.raises(ContentError, match=r"sources.yaml: walk-away: kind"):
            load_sources(directory)
    finally:
        load_sources.cache_clear()


def test_every_text_the_code_renders_exists_and_every_placeholder_is_given():
    texts = load_texts()
    used = set()
    for path in [*ROOT.glob("handlers/*.py"), *ROOT.glob("bot/**/*.py")]:
        for match in re.finditer(r"render\(\s*\"([a-z_.]+)\"", path.read_text()):
            used.add(match.group(1))
    assert used, "expected the code to render texts"
    missing = sorted(t for t in used if t not in texts)
    assert missing == []


def test_every_text_renders_with_values_and_escapes_them():
    texts = load_texts()
    for text_id in texts.ids():
        values = {name: "<x&>" for name in texts.placeholders(text_id)}
        rendered = texts.render(text_id, **values)
        assert "<x&>" not in rendered
        if values:
            assert "&lt;x&amp;&gt;" in rendered, text_id
        assert "{" not in rendered, text_id


def test_every_phase_names_its_sources():
    for phase in load_phases().values():
        assert phase.sources
        assert set(phase.sources) <= set(load_sources())


def test_a_phase_without_sources_fails_naming_file_and_entry(content_copy):
    path = content_copy / "phases.yaml"
    text = path.read_text()
    assert "\n  sources: [ten-steps]\n  contact: distance" in text
    path.write_text(
        text.replace("\n  sources: [ten-steps]\n  contact: distance", "\n  contact: distance")
    )
    with pytest.raises(ContentError, match=r"^phases.yaml: limited_contact: names no source"):
        load_phases(content_copy)


def test_a_key_given_twice_in_one_entry_fails_naming_the_file_and_the_key(content_copy):
    path = content_copy / "risk_patterns.yaml"
    text = path.read_text()
    assert "\nfragments:\n" in text
    # A second `fragments:` section would silently replace the first in plain YAML.
    path.write_text(text + "\nfragments:\n  extra: (?:x)\n")
    with pytest.raises(ContentError, match=r"^risk_patterns.yaml: fragments: is defined twice"):
        load_patterns(content_copy)


def test_an_unknown_source_id_fails_naming_it(content_copy):
    path = content_copy / "phases.yaml"
    path.write_text(path.read_text().replace("[ten-steps]", "[ten-stepz]", 1))
    with pytest.raises(ContentError, match=r"unknown source id.*ten-stepz"):
        load_phases(content_copy)


def test_an_empty_text_fails_naming_its_id(content_copy):
    path = content_copy / "texts.yaml"
    path.write_text(path.read_text().replace("  title: What would you like to do?", '  title: ""'))
    with pytest.raises(ContentError, match=r"^texts.yaml: menu.title: 'text' must be a non-empty"):
        load_texts(directory=content_copy)


def test_an_unquoted_yes_key_is_caught_instead_of_silently_becoming_true(content_copy):
    path = content_copy / "texts.yaml"
    path.write_text(path.read_text().replace('  "yes": Yes', "  yes: Yes"))
    with pytest.raises(ContentError, match="key must be text"):
        load_texts(directory=content_copy)


def test_a_missing_intake_step_fails_naming_it(content_copy):
    path = content_copy / "intake.yaml"
    raw = path.read_text()
    path.write_text(raw[: raw.index("checkin_hour:")])
    with pytest.raises(ContentError, match=r"^intake.yaml: checkin_hour: step is missing"):
        load_intake(content_copy)


def test_broken_yaml_fails_naming_the_file(content_copy):
    (content_copy / "phases.yaml").write_text("stop_chasing: [unclosed\n")
    with pytest.raises(ContentError, match=r"^phases.yaml: -: is not valid YAML"):
        load_phases(content_copy)


def test_the_first_steps_follow_the_persons_situation():
    phases = load_phases()

    def ids(**kw):
        defaults = dict(shared=(), reconcile_path_open=True, wants_to_move_on=False,
                        no_contact_days=30)  # fmt: skip
        return [p.id for p in first_steps(phases, **{**defaults, **kw})]

    assert ids() == ["stop_chasing", "no_contact"]
    assert ids(shared=("kids",)) == ["stop_chasing", "limited_contact"]
    assert ids(reconcile_path_open=False) == ["move_on"]
    assert ids(reconcile_path_open=False, shared=("kids",)) == ["move_on", "limited_contact"]
    assert ids(wants_to_move_on=True) == ["move_on"]


def test_the_chosen_no_contact_length_is_filled_in():
    phase = first_steps(load_phases(), shared=(), reconcile_path_open=True,
                        wants_to_move_on=False, no_contact_days=45)[1]  # fmt: skip
    assert "45 days" in phase.goal


# --- Every rule, lesson, note, prompt and template names its source, or says it is the coach's own


CITED_FILES = (
    "rules.yaml",
    "suggestions.yaml",
    "phases.yaml",
    "forms.yaml",
    "journal.yaml",
    "review.yaml",
)
WORD_FIELDS = {"text", "idea", "goal"}


def cited_entries(data, path=""):
    """Every mapping that carries words a person reads (text, idea, goal), with where it sits.
    A review finding that borrows a rule's words (`from_rules`) is cited by that rule."""
    if isinstance(data, dict):
        if WORD_FIELDS & set(data) and not data.get("from_rules"):
            yield path, data
        for key, value in data.items():
            if key != "applies_when":  # conditions, not words
                yield from cited_entries(value, f"{path}.{key}" if path else str(key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from cited_entries(value, f"{path}[{i}]")


@pytest.mark.parametrize("name", CITED_FILES)
def test_every_entry_with_words_names_a_source_or_is_marked_as_the_coachs_own(name):
    data = yaml.safe_load((CONTENT_DIR / name).read_text(encoding="utf-8"))
    entries = list(cited_entries(data))
    assert len(entries) >= 5, name
    known = load_sources()
    for path, entry in entries:
        validate_entry(name, path, Cited, entry, known=known)


def test_the_coachs_own_defaults_are_used_and_each_says_so():
    own = [
        (name, path)
        for name in CITED_FILES
        for path, entry in cited_entries(yaml.safe_load((CONTENT_DIR / name).read_text()))
        if OWN in entry.get("sources", [])
    ]
    assert len(own) >= 5


def test_an_own_entry_that_does_not_say_so_fails_naming_the_file_and_entry():
    entry = {"text": "Wait an hour before you answer.", "sources": ["own"]}
    with pytest.raises(ContentError, match=r"^phases.yaml: lc-answer-later: .*coach's own"):
        validate_entry("phases.yaml", "lc-answer-later", Cited, entry, known=load_sources())


def test_an_entry_with_no_source_fails_naming_the_file_and_entry():
    with pytest.raises(ContentError, match=r"^rules.yaml: some-rule: sources"):
        validate_entry("rules.yaml", "some-rule", Cited, {"text": "Hi."}, known=load_sources())


def test_the_texts_for_asking_the_safety_question_again_are_there_and_gentle():
    texts = load_texts()
    question = texts.render("advice_more.ask_safety_again")
    assert "skip" in question and "?" in question
    for choice in ("ask_safety_yes", "ask_safety_no", "ask_safety_skip"):
        assert texts.render(f"advice_more.{choice}")


def test_an_intake_option_without_a_label_fails_naming_the_step_and_option(content_copy):
    path = content_copy / "intake.yaml"
    text = path.read_text()
    assert '"22": {label: "22:00", words: []}' in text
    path.write_text(text.replace('"22": {label: "22:00", words: []}', '"22": {words: []}'))
    with pytest.raises(ContentError, match=r"^intake.yaml: checkin_hour.options.22: label"):
        load_intake(content_copy)
