"""The shortcuts of the screen and the understanding (prefilters, word caches): faster, never a
different finding."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from content import prefilter, semantic
from content import understand as understand_module
from content.prefilter import EDGE, Prefilter, pattern_of, required_strings
from content.screen import (
    PatternIndex,
    expand,
    load_cues,
    load_patterns,
    normalise,
    parse_patterns,
    pattern_index,
    screen_normalised,
)

FIXTURES = Path(__file__).parent / "fixtures"


def _raw_sentences() -> list[str]:
    """Every labelled sentence of every fixture, as written."""
    texts = []
    for path in sorted(FIXTURES.iterdir()):
        if path.suffix not in (".tsv", ".txt"):
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                texts.append(line.split("\t")[-1])
    return list(dict.fromkeys(texts))


def _every_sentence() -> list[str]:
    """Every labelled sentence of every fixture, as the screen reads it."""
    return list(dict.fromkeys(expand(normalise(text)) for text in _raw_sentences()))


def _contains_one_of_each(text: str, needs: tuple[frozenset[str], ...]) -> bool:
    """Python's regex engine agrees with the RE2 form of each set (ASCII text)."""
    return all(re.search(pattern_of(strings, edges=True), text) for strings in needs)


@pytest.mark.parametrize(
    ("regex", "matching"),
    [
        (r"\b(?:took|swallowed)\s+(?:all|every)\s+(?:my\s+)?pils\b", "i took all my pils"),
        (r"ab(?=x)|cd(?!y)e", "cde"),
        (r"(?:foo|bar\w+)baz", "barxyzbaz"),
        (r"(?:go|went)(?: to)?\s+the\s+bridge", "went the bridge"),
        (r"kil+ myself", "killll myself"),
        (r"[sz]ui?cide", "zucide"),
        (r"(a|b)\1 end", "aa end"),
        (r"(?:x{1,2}|y)z", "xxz"),
    ],
)
def test_every_match_of_a_regex_contains_one_string_of_each_set_it_needs(regex, matching):
    needs = required_strings(regex)
    assert needs, "a regex with words in it needs some of them"
    assert re.search(regex, matching) is not None
    assert _contains_one_of_each(matching, needs)


def test_words_next_to_spaces_are_looked_for_as_whole_words_in_ascii_text():
    needs = required_strings(r"\bend\s+it\s+al\b")
    assert frozenset({EDGE + "it" + EDGE}) in needs
    pf = Prefilter([[needs]])
    assert pf.candidates("i want to end it al") == {0}
    assert pf.candidates("legend with a kitten and a pal") == set()


def test_text_with_other_letters_is_looked_at_without_word_boundaries():
    # Python's regex engine counts "é" as a letter; RE2's boundaries know only ASCII.
    pf = Prefilter([[(frozenset({EDGE + "end" + EDGE}),)]])
    assert pf.candidates("the end é") == {0}
    assert pf.candidates("légend") == {0}  # no boundaries: a candidate, never a miss


def test_a_regex_with_nothing_required_needs_nothing():
    assert required_strings(r"\w+") == ()
    assert required_strings(r"(?:abc)?\s*") == ()


def test_letters_under_ignore_case_are_not_taken_as_the_texts_letters():
    assert required_strings(r"(?i)die") == ()
    assert required_strings(r"(?i:kill) me") == (frozenset({" me"}),)


def test_a_broken_regex_needs_nothing_rather_than_failing():
    assert required_strings(r"(unclosed") == ()


def test_an_item_is_a_candidate_only_when_one_of_its_regexes_has_all_it_needs():
    items = [
        [(frozenset({"pils"}), frozenset({"took", "swallowed"}))],
        [(frozenset({"bridge"}),), (frozenset({"rope"}),)],
        [],  # nothing known: always
    ]
    pf = Prefilter(items)
    assert pf.candidates("i took a walk") == {2}
    assert pf.candidates("i took the pils") == {0, 2}
    assert pf.candidates("a rope") == {1, 2}


def test_a_failed_scan_makes_every_item_a_candidate(caplog):
    pf = Prefilter([[(frozenset({"pils"}),)], [(frozenset({"rope"}),)]])
    assert pf.candidates("\udc80 pils") == {0, 1}  # a lone surrogate RE2 cannot read

    class OutOfMemory:
        def Match(self, text):  # RE2's name
            return None  # what RE2 says when its scan runs out of memory

    pf._set = OutOfMemory()
    assert pf.candidates("nothing here") == {0, 1}
    assert "nothing here" not in caplog.text


def test_a_set_that_cannot_compile_makes_every_item_a_candidate(monkeypatch):
    monkeypatch.setattr(prefilter, "MAX_MEMORY", 1)
    pf = Prefilter([[(frozenset({"pils"}),)], [(frozenset({"rope"}),)]])
    assert pf.candidates("pils") == {0, 1}


def test_every_pattern_that_matches_a_labelled_sentence_is_a_candidate_for_it():
    patterns = load_patterns()
    index = pattern_index(patterns)
    checked = 0
    for text in _every_sentence():
        candidates = {p.id for p in index.candidates(text)}
        for pattern in patterns:
            if pattern.spans(text):
                checked += 1
                assert pattern.id in candidates, (pattern.id, text)
    assert checked > 3000


def test_the_screen_skips_most_patterns_for_an_ordinary_message():
    index = pattern_index(load_patterns())
    text = expand(normalise("We had such a good summer and then it just stopped."))
    assert len(index.candidates(text)) < len(index.patterns) / 10


def test_patterns_parsed_apart_get_their_own_index_and_still_match():
    raw = {
        "categories": {"wish": {"risk": "self_harm", "level": "ask"}},
        "patterns": [
            {"id": "wish.gone", "category": "wish", "match": r"\bwish i (?:was|were) gone\b"}
        ],
    }
    patterns = parse_patterns(raw)
    assert isinstance(pattern_index(patterns), PatternIndex)
    assert pattern_index(patterns) is pattern_index(patterns)
    assert screen_normalised("i wish i was gone", patterns).risk == "possible_self_harm"
    assert screen_normalised("i wish i was there", patterns).risk == "none"


def test_the_cue_stage_weighs_every_labelled_sentence_as_it_would_without_its_prefilter():
    cues = load_cues()
    plain = dataclasses.replace(cues, prefilter=None)
    weighed = 0
    for text in _every_sentence():
        score = cues.score(text)
        assert score == plain.score(text), text
        weighed += bool(score[1])
    assert weighed > 1000


def test_a_message_tokenized_word_by_word_gets_the_ids_it_gets_in_one_piece():
    encoder = semantic.load_encoder()
    texts = [*_raw_sentences(), "hi<s>there b", "émoji 💊 тест", "  spaced   out  ", ""]
    for text in texts:
        assert encoder.ids(text) == encoder.whole_ids(semantic.fold(text)), text


def test_the_understanding_sorts_every_labelled_sentence_as_it_would_without_its_prefilter():
    book = understand_module.load_book()
    plain = dataclasses.replace(book, prefilter=None)
    sorted_ = 0
    for text in _raw_sentences():
        for expecting in (None, understand_module.EXPECT_FEELING):
            folded = understand_module.fold(text, book)
            with_prefilter = understand_module._understand(text, expecting, "none", book)
            without = understand_module._understand(text, expecting, "none", plain)
            assert with_prefilter == without, text
            sorted_ += with_prefilter.intent is not None
            assert understand_module._score(book.asks_if_bot, folded, book) == (
                understand_module._score(plain.asks_if_bot, folded, plain)
            )
    assert sorted_ > 1000
