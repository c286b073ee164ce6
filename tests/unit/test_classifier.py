"""The screen's trained classifier (content/classifier.py): what it reads, what it was fitted on,
and how the screen uses it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from content import classifier, semantic
from content.screen import CLASSIFIER_IDS, SEMANTIC_IDS, screen, semantic_stage
from content.screen import CLEAR as NOTHING_FOUND

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "unit" / "fixtures"


def test_word_pairs_keep_the_order_of_the_words():
    words = classifier.words_of("i want to kill myself")
    assert "kill myself" in words and "myself kill" not in words
    assert "kill" in words and "i" not in words  # one-letter words carry nothing


def test_letter_groups_carry_text_speak_and_misspellings_inside_each_word():
    groups = classifier.letters_of("kms sucidal")
    assert " km" in groups and "kms " in groups and "ucid" in groups
    assert "s s" not in groups  # never across two words


def test_the_stored_model_was_fitted_on_every_labelled_set_but_the_held_out_looks():
    sets = classifier.labelled_sets(FIXTURES)
    assert not set(sets) & set(classifier.HELD_OUT)
    for look in classifier.HELD_OUT:
        assert (FIXTURES / f"screen_risk_{look}.tsv").exists()
        assert (FIXTURES / f"screen_safe_{look}.txt").exists()
    model = classifier.load_model()
    # Edit a set without `python -m content.classifier --build` and this fails.
    everyday = semantic.everyday_texts(FIXTURES)
    assert model.sources == classifier.sources_digest(sets, everyday)
    assert model.weights.shape == (
        len(model.words) + len(model.letters) + 2 * semantic.DIMENSIONS,
        len(classifier.CLASSES),
    )
    for risk in ("self_harm", "danger"):
        assert 0.5 < model.thresholds[risk] < 1


@pytest.mark.parametrize(
    ("text", "likeliest"),
    [
        ("the tablets are counted out on the shelf and the letters to my sisters are sealed",
         "self_harm"),
        ("he messaged my mum saying if i dont come back he'll make sure no one else has me",
         "danger"),
        ("could you remind me which step of the plan i am on", "safe"),
    ],
)  # fmt: skip
def test_the_likeliest_class_of_a_new_sentence(text, likeliest):
    chances = classifier.load_model().chances(text)
    assert max(chances, key=chances.__getitem__) == likeliest
    assert sum(chances.values()) == pytest.approx(1.0)


def test_a_finding_of_the_classifier_only_asks(monkeypatch):
    monkeypatch.setattr(
        semantic, "judge", lambda *a, **k: semantic.Judgement(None, {"self_harm": 0, "danger": 0})
    )
    monkeypatch.setattr(
        classifier, "judge", lambda *a, **k: classifier.Verdict("danger", {"danger": 0.99})
    )
    result = semantic_stage(NOTHING_FOUND, "anything at all")
    assert (result.risk, result.level) == ("danger", "ask")
    assert result.matched == (CLASSIFIER_IDS["danger"],)


def test_the_nearest_sentences_answer_before_the_classifier(monkeypatch):
    monkeypatch.setattr(
        semantic, "judge", lambda *a, **k: semantic.Judgement("self_harm", {"self_harm": 1.0})
    )

    def never(*a: object, **k: object) -> None:
        raise AssertionError("the classifier is not asked once a nearer layer found a risk")

    monkeypatch.setattr(classifier, "judge", never)
    result = semantic_stage(NOTHING_FOUND, "anything at all")
    assert (result.risk, result.matched) == ("possible_self_harm", (SEMANTIC_IDS["self_harm"],))


def test_everyday_talk_stays_unflagged():
    for text in ("he texted me", "nope", "how long has it been", "she blocked me on everything"):
        assert not screen(text).flagged, text


def test_without_its_file_the_classifier_is_unavailable_and_warm_says_so(tmp_path, caplog):
    with pytest.raises(semantic.SemanticUnavailable):
        classifier.judge("anything", tmp_path)
    assert classifier.warm(tmp_path) is False
    assert "screen classifier unavailable" in caplog.text
    assert classifier.warm() is True


def test_an_empty_or_unreadable_message_is_safe():
    assert classifier.judge("   ").risk is None
    assert classifier.load_model().chances("")["safe"] > 0.5
    assert np.isfinite(list(classifier.load_model().chances("😶" * 3000).values())).all()


@pytest.mark.xfail(
    strict=True,
    reason='a known false alarm of the classifier: "I\'d rather not" weighs as the wish not to '
    "be alive, and no labelled safe sentence would rather not keep something (asked about, never "
    "acted on)",
)
def test_rather_not_keeping_a_journal_entry_is_not_a_wish_to_die():
    assert not screen("Something I'd rather not keep.").flagged


@pytest.mark.parametrize("text", ["  J.  ", "7", "🙂🙂", "x"])
def test_a_message_without_a_word_the_model_knows_is_not_judged(text):
    assert not classifier.load_model().reads(text)
    assert classifier.judge(text).risk is None


# --- Frames: a pattern finding the classifier may set aside --------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "I'm a school nurse and I gave a talk about self-harm to year 9 today",
        "i self harmed as a teen but im 6 years clean now",
        "never once thought about killing myself, even now",
    ],
)
def test_a_framed_finding_the_classifier_reads_as_safe_is_set_aside(text):
    found = screen(text, use_classifier=False)
    assert found.flagged and found.framed
    assert not screen(text).flagged


@pytest.mark.parametrize(
    "text",
    [
        "I self-harmed as a teen. I cut again last night.",  # the relapse has no frame
        "I'm a nurse. I want to die.",  # the frame is in another sentence
    ],
)
def test_a_risk_in_a_sentence_without_a_frame_is_never_set_aside(text):
    assert not screen(text, use_classifier=False).framed
    assert screen(text).self_harm


def test_a_framed_finding_the_classifier_doubts_stays_flagged():
    text = "I used to want to die and now I want to die again"
    assert screen(text, use_classifier=False).framed
    assert not classifier.sets_aside(text)
    assert screen(text).self_harm


def test_a_long_message_is_never_set_aside_even_when_the_classifier_would(monkeypatch):
    monkeypatch.setattr(classifier, "sets_aside", lambda *a, **k: True)
    short = "i self harmed as a teen but im years clean now"
    long = short + ". " + "Work was busy, the train was late again and I cooked pasta. " * 4
    assert not screen(short).flagged
    assert screen(long).self_harm


def test_without_the_classifier_files_nothing_is_set_aside(monkeypatch):
    def unavailable(*args, **kwargs):
        raise semantic.SemanticUnavailable("missing")

    monkeypatch.setattr(classifier, "sets_aside", unavailable)
    assert screen("i self harmed as a teen but im 6 years clean now").self_harm


def test_the_build_chose_a_bar_that_sets_aside_only_near_certain_safe_readings():
    assert 0 < classifier.load_model().set_aside < 0.5
