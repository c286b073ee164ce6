"""The rulebook's data files: what they must contain, and how a broken file fails to load."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from content.advice import LADDER, RULES_FILE, SUGGESTIONS_FILE, build_rulebook, load_rulebook
from content.loader import CONTENT_DIR, ContentError, load_sources

RAW_RULES = yaml.safe_load((CONTENT_DIR / RULES_FILE).read_text(encoding="utf-8"))
RAW_SUGGESTIONS = yaml.safe_load((CONTENT_DIR / SUGGESTIONS_FILE).read_text(encoding="utf-8"))
KNOWN_SOURCES = set(load_sources())
GENDERED = re.compile(r"\b(he|she|him|her|his|hers|himself|herself|boyfriend|girlfriend)\b", re.I)


def all_texts() -> list[tuple[str, str]]:
    texts = [(rule["id"], rule["text"]) for rule in RAW_RULES["rules"]]
    texts += [(f"headline {k}", v) for k, v in RAW_RULES["headlines"].items()]
    for note in RAW_RULES["sources_differ"]:
        texts.append((note["id"], note["topic"]))
        texts += [(note["id"], side["text"]) for side in note["sides"]]
    for group in RAW_SUGGESTIONS.values():
        texts += [(item["id"], item["text"]) for item in group]
    return texts


# --- The shipped content -------------------------------------------------------------------------


def test_the_shipped_rulebook_loads_and_is_cached():
    assert load_rulebook() is load_rulebook()


def test_every_rule_cites_at_least_one_known_source():
    for rule in RAW_RULES["rules"]:
        assert rule["sources"], rule["id"]
        assert set(rule["sources"]) <= KNOWN_SOURCES, rule["id"]


def test_every_suggestion_cites_a_known_source_and_is_short():
    for items in RAW_SUGGESTIONS.values():
        for item in items:
            assert item["sources"] and set(item["sources"]) <= KNOWN_SOURCES, item["id"]
            assert len(item["text"]) <= 160, item["id"]


def test_every_article_is_cited_somewhere_in_the_rules():
    cited = {s for rule in RAW_RULES["rules"] for s in rule["sources"]}
    assert cited == KNOWN_SOURCES


def test_every_disagreement_has_two_or_more_sides_each_with_sources():
    for note in RAW_RULES["sources_differ"]:
        assert note["topic"].strip()
        assert len(note["sides"]) >= 2, note["id"]
        for side in note["sides"]:
            assert side["text"].strip() and side["sources"], note["id"]
        cited = [frozenset(side["sources"]) for side in note["sides"]]
        assert len(set(cited)) == len(cited), f"{note['id']}: two sides cite the same sources"


@pytest.mark.parametrize(
    ("note_id", "must_cite"),
    [
        ("replying-when-they-write-first", {"five-steps", "give-him-the-breakup"}),
        ("how-long-no-contact", {"five-steps", "ten-steps", "six-steps"}),
        ("jealousy-tactics", {"five-steps", "ten-steps"}),
    ],
)
def test_the_required_disagreements_are_recorded(note_id, must_cite):
    notes = {n["id"]: n for n in RAW_RULES["sources_differ"]}
    assert note_id in notes
    cited = {s for side in notes[note_id]["sides"] for s in side["sources"]}
    assert must_cite <= cited


REQUIRED_RULES = [
    "no-contact-period",
    "limited-contact-when-you-share-life",
    "reply-to-emergency-only",
    "count-restarts-when-you-reach-out",
    "if-you-bump-into-them",
    "no-begging-or-pity",
    "keep-affection-in-reserve",
    "no-jealousy-games",
    "never-two-in-a-row",
    "no-cold-or-nasty",
    "dont-pry-into-their-love-life",
    "first-message-light",
    "rebuild-slowly",
    "let-go-after-abuse-or-repeated-cheating",
    "quick-repair-after-a-rash-fight",
    "respect-a-no",
    "not-while-angry-or-desperate",
    "not-late-at-night",
    "if-theyre-dating-someone",
]


def test_the_required_topics_each_have_a_rule():
    ids = {rule["id"] for rule in RAW_RULES["rules"]}
    assert set(REQUIRED_RULES) <= ids


def test_the_no_contact_lengths_match_the_articles():
    rule = next(r for r in RAW_RULES["rules"] if r["id"] == "no-contact-period")
    assert {"ten-steps", "five-steps"} <= set(rule["sources"])
    note = next(n for n in RAW_RULES["sources_differ"] if n["id"] == "how-long-no-contact")
    by_source = {s: side["text"] for side in note["sides"] for s in side["sources"]}
    assert "four" in by_source["five-steps"]
    assert "21" in by_source["ten-steps"] and "45" in by_source["ten-steps"]
    assert "pause" in by_source["six-steps"]


def test_the_first_message_rule_covers_what_the_articles_ask():
    rule = next(r for r in RAW_RULES["rules"] if r["id"] == "first-message-light")
    text = rule["text"].lower()
    for word in ("short", "light", "positive", "relationship", "hey", "bitter"):
        assert word in text


def test_the_texts_make_no_gendered_assumptions_about_the_ex():
    for entry, text in all_texts():
        assert not GENDERED.search(text), f"{entry}: {text}"


def test_the_rules_speak_to_you_not_about_you():
    third_person = re.compile(
        r"\b(the user|the person|the client|one should|people should)\b", re.I
    )
    addressed = 0
    for rule in RAW_RULES["rules"]:
        assert not third_person.search(rule["text"]), rule["id"]
        addressed += bool(re.search(r"\byou(r|'re|'ve|'ll|'d)?\b", rule["text"], re.I))
    # The rest are plain imperatives ("Don't ask about ..."), which speak to you as well.
    assert addressed >= len(RAW_RULES["rules"]) * 2 // 3


def test_the_rule_texts_stay_short():
    for rule in RAW_RULES["rules"]:
        assert len(rule["text"]) <= 320, rule["id"]


def test_every_ladder_step_has_a_one_sentence_headline():
    assert set(RAW_RULES["headlines"]) == {step.id for step in LADDER}
    for step_id, headline in RAW_RULES["headlines"].items():
        assert len(re.findall(r"[.!?](\s|$)", headline)) == 1, step_id


# --- Broken copies fail loudly, naming the file and the entry ------------------------------------

Mutator = Callable[[dict[str, Any], dict[str, Any]], None]


def broken_copy(tmp_path: Path, mutate: Mutator) -> Path:
    """Copy sources.yaml, rules.yaml and suggestions.yaml into tmp, then let `mutate` edit them."""
    for name in ("sources.yaml", RULES_FILE, SUGGESTIONS_FILE):
        shutil.copy(CONTENT_DIR / name, tmp_path / name)
    rules = yaml.safe_load((tmp_path / RULES_FILE).read_text(encoding="utf-8"))
    suggestions = yaml.safe_load((tmp_path / SUGGESTIONS_FILE).read_text(encoding="utf-8"))
    mutate(rules, suggestions)
    (tmp_path / RULES_FILE).write_text(yaml.safe_dump(rules, sort_keys=False), encoding="utf-8")
    (tmp_path / SUGGESTIONS_FILE).write_text(
        yaml.safe_dump(suggestions, sort_keys=False), encoding="utf-8"
    )
    return tmp_path


def rule(rules: dict[str, Any], rule_id: str) -> dict[str, Any]:
    return next(r for r in rules["rules"] if r["id"] == rule_id)


def load_error(tmp_path: Path, mutate: Mutator) -> ContentError:
    with pytest.raises(ContentError) as caught:
        build_rulebook(broken_copy(tmp_path, mutate))
    return caught.value


def test_an_unchanged_copy_loads(tmp_path):
    book = build_rulebook(broken_copy(tmp_path, lambda rules, suggestions: None))
    assert set(book.rules) == {r["id"] for r in RAW_RULES["rules"]}


def test_load_rulebook_reads_the_directory_it_is_given(tmp_path):
    def soften(rules, _):
        rule(rules, "not-late-at-night")["text"] = "It's late; you can decide tomorrow."

    book = load_rulebook(broken_copy(tmp_path, soften))
    assert book.rules["not-late-at-night"].text == "It's late; you can decide tomorrow."
    assert load_rulebook().rules["not-late-at-night"].text != book.rules["not-late-at-night"].text


def test_a_rule_without_sources_fails_loading(tmp_path):
    error = load_error(tmp_path, lambda rules, _: rule(rules, "not-late-at-night").pop("sources"))
    assert (error.file, error.entry) == (RULES_FILE, "not-late-at-night")
    assert "source" in error.problem


def test_a_rule_with_an_empty_source_list_fails_loading(tmp_path):
    def empty(rules, _):
        rule(rules, "respect-a-no")["sources"] = []

    error = load_error(tmp_path, empty)
    assert (error.file, error.entry) == (RULES_FILE, "respect-a-no")


def test_an_unknown_source_id_fails_naming_the_file_and_entry(tmp_path):
    def typo(rules, _):
        rule(rules, "never-two-in-a-row")["sources"] = ["five-steps", "eleven-steps"]

    error = load_error(tmp_path, typo)
    assert (error.file, error.entry) == (RULES_FILE, "never-two-in-a-row")
    assert "eleven-steps" in error.problem


def test_an_unknown_source_in_a_disagreement_side_fails(tmp_path):
    def typo(rules, _):
        rules["sources_differ"][0]["sides"][1]["sources"] = ["a-blog"]

    error = load_error(tmp_path, typo)
    assert error.file == RULES_FILE
    assert error.entry.startswith(RAW_RULES["sources_differ"][0]["id"])
    assert "a-blog" in error.problem


def test_an_unknown_source_in_a_suggestion_fails(tmp_path):
    def typo(_, suggestions):
        suggestions["first_message"][0]["sources"] = ["my-aunt"]

    error = load_error(tmp_path, typo)
    assert (error.file, error.entry) == (
        SUGGESTIONS_FILE,
        RAW_SUGGESTIONS["first_message"][0]["id"],
    )


def test_a_suggestion_without_sources_fails(tmp_path):
    error = load_error(tmp_path, lambda _, s: s["accept_no"][0].pop("sources"))
    assert (error.file, error.entry) == (SUGGESTIONS_FILE, RAW_SUGGESTIONS["accept_no"][0]["id"])


def test_an_empty_rule_text_fails(tmp_path):
    def blank(rules, _):
        rule(rules, "no-cold-or-nasty")["text"] = "   "

    error = load_error(tmp_path, blank)
    assert (error.file, error.entry) == (RULES_FILE, "no-cold-or-nasty")
    assert "text" in error.problem


def test_an_empty_suggestion_text_fails(tmp_path):
    def blank(_, suggestions):
        suggestions["logistics"][1]["text"] = ""

    error = load_error(tmp_path, blank)
    assert error.entry == RAW_SUGGESTIONS["logistics"][1]["id"]


def test_a_duplicate_rule_id_fails(tmp_path):
    def duplicate(rules, _):
        rules["rules"].append(dict(rule(rules, "respect-a-no")))

    error = load_error(tmp_path, duplicate)
    assert (error.entry, error.problem) == ("respect-a-no", "duplicate id")


def test_a_duplicate_note_id_fails(tmp_path):
    def duplicate(rules, _):
        rules["sources_differ"].append(dict(rules["sources_differ"][0]))

    error = load_error(tmp_path, duplicate)
    assert error.problem == "duplicate id"


def test_an_unknown_key_in_applies_when_fails(tmp_path):
    def typo(rules, _):
        rule(rules, "not-late-at-night")["applies_when"] = {"late_nite": True}

    error = load_error(tmp_path, typo)
    assert (error.file, error.entry) == (RULES_FILE, "not-late-at-night")
    assert "late_nite" in error.problem


def test_an_unknown_value_in_applies_when_fails(tmp_path):
    def typo(rules, _):
        rule(rules, "not-while-angry-or-desperate")["applies_when"] = {"feeling": ["furious"]}

    error = load_error(tmp_path, typo)
    assert error.entry == "not-while-angry-or-desperate"
    assert "furious" in error.problem


def test_a_number_is_not_accepted_for_a_true_or_false_fact(tmp_path):
    def numeric(rules, _):
        rule(rules, "never-two-in-a-row")["applies_when"] = {"waiting_on_reply": 1}

    assert load_error(tmp_path, numeric).entry == "never-two-in-a-row"


def test_an_unknown_key_in_a_rule_fails(tmp_path):
    def typo(rules, _):
        rule(rules, "respect-a-no")["souces"] = ["ten-steps"]

    error = load_error(tmp_path, typo)
    assert error.entry == "respect-a-no"
    assert "souces" in error.problem


def test_a_rule_the_engine_never_uses_fails(tmp_path):
    def orphan(rules, _):
        rules["rules"].append(
            {
                "id": "drink-water",
                "applies_when": {},
                "text": "Drink a glass of water before you decide anything.",
                "sources": ["ten-steps"],
            }
        )

    error = load_error(tmp_path, orphan)
    assert (error.file, error.entry) == (RULES_FILE, "drink-water")
    assert "never uses" in error.problem


def test_a_supporting_rule_that_can_never_be_shown_is_unreachable(tmp_path):
    def hidden(rules, _):
        rules["rules"].append(
            {
                "id": "breathe-first",
                # Crisis only ever yields get_support, where nothing else is shown.
                "applies_when": {"feeling": "crisis"},
                "show_with": ["wait"],
                "text": "Take three slow breaths before you pick up the phone.",
                "sources": ["six-steps"],
            }
        )

    error = load_error(tmp_path, hidden)
    assert (error.file, error.entry) == (RULES_FILE, "breathe-first")
    assert "unreachable" in error.problem


def test_a_ladder_rule_shadowed_by_earlier_steps_is_unreachable(tmp_path):
    def shadowed(rules, _):
        rule(rules, "not-late-at-night")["applies_when"] = {"late_night": True, "feeling": "crisis"}

    error = load_error(tmp_path, shadowed)
    assert (error.file, error.entry) == (RULES_FILE, "not-late-at-night")
    assert "unreachable" in error.problem


def test_a_note_that_can_never_be_shown_is_unreachable(tmp_path):
    def hidden(rules, _):
        rules["sources_differ"][0]["applies_when"] = {
            "abuse_or_repeated_cheating": True,
            "readiness_checklist_done": True,
        }
        rules["sources_differ"][0]["show_with"] = ["reach_out"]

    error = load_error(tmp_path, hidden)
    assert error.entry == RAW_RULES["sources_differ"][0]["id"]
    assert "unreachable" in error.problem


def test_a_rule_the_engine_refers_to_but_the_file_lacks_fails(tmp_path):
    def remove(rules, _):
        rules["rules"] = [r for r in rules["rules"] if r["id"] != "never-two-in-a-row"]

    error = load_error(tmp_path, remove)
    assert (error.file, error.entry) == (RULES_FILE, "never-two-in-a-row")
    assert "not defined" in error.problem


def test_a_ladder_that_leaves_situations_undecided_fails(tmp_path):
    def narrow(rules, _):
        rule(rules, "first-message-light")["applies_when"]["reason_to_text"] = "miss_them"

    error = load_error(tmp_path, narrow)
    assert "match no step" in error.problem


def test_a_missing_headline_fails(tmp_path):
    error = load_error(tmp_path, lambda rules, _: rules["headlines"].pop("late-night"))
    assert (error.file, error.entry) == (RULES_FILE, "headlines.late-night")


def test_a_headline_with_an_unknown_placeholder_fails(tmp_path):
    def placeholder(rules, _):
        rules["headlines"]["late-night"] = "It's {hour} o'clock; sleep on it."

    error = load_error(tmp_path, placeholder)
    assert error.entry == "headlines.late-night"
    assert "hour" in error.problem


def test_days_left_in_a_headline_only_fits_no_contact_steps(tmp_path):
    def misplaced(rules, _):
        rules["headlines"]["reach-out"] = "Reach out now, {days_left_text} after no contact."

    error = load_error(tmp_path, misplaced)
    assert error.entry == "headlines.reach-out"


def test_a_disagreement_with_only_one_side_fails(tmp_path):
    def one_sided(rules, _):
        rules["sources_differ"][1]["sides"] = rules["sources_differ"][1]["sides"][:1]

    error = load_error(tmp_path, one_sided)
    assert error.entry == RAW_RULES["sources_differ"][1]["id"]
    assert "sides" in error.problem and "at least 2" in error.problem


def test_a_suggestion_group_the_engine_does_not_use_fails(tmp_path):
    def extra(_, suggestions):
        suggestions["pickup_lines"] = [{"id": "x", "text": "Hi there.", "sources": ["ten-steps"]}]

    error = load_error(tmp_path, extra)
    assert (error.file, error.entry) == (SUGGESTIONS_FILE, "pickup_lines")


def test_a_missing_suggestion_group_fails(tmp_path):
    error = load_error(tmp_path, lambda _, suggestions: suggestions.pop("quick_repair"))
    assert (error.file, error.entry) == (SUGGESTIONS_FILE, "quick_repair")


def test_a_long_suggestion_fails(tmp_path):
    def long(_, suggestions):
        suggestions["casual_reply"][0]["text"] = "So good to hear from you! " * 12

    error = load_error(tmp_path, long)
    assert error.entry == RAW_SUGGESTIONS["casual_reply"][0]["id"]


def test_a_missing_rules_file_fails_naming_it(tmp_path):
    shutil.copy(CONTENT_DIR / "sources.yaml", tmp_path / "sources.yaml")
    with pytest.raises(ContentError) as caught:
        build_rulebook(tmp_path)
    assert caught.value.file == RULES_FILE
