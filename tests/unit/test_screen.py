"""The crisis/abuse screen (content/screen.py); the helplines are tested in test_helplines.py."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from bench.screen import (
    LOOK4_RISK,
    LOOK4_SAFE,
    LOOK5_RISK,
    LOOK5_SAFE,
    LOOK6_RISK,
    LOOK6_SAFE,
    LOOK7_RISK,
    LOOK7_SAFE,
    LOOK8_RISK,
    LOOK8_SAFE,
    LOOK9_RISK,
    LOOK9_SAFE,
    LOOK10_RISK,
    LOOK10_SAFE,
    LOOK11_RISK,
    LOOK11_SAFE,
    RISK_SETS,
    SAFE_SETS,
    TRAIN5_RISK,
    TRAIN5_SAFE,
    TRAIN6_RISK,
    TRAIN6_SAFE,
    TRAIN7_RISK,
    TRAIN7_SAFE,
    TRAIN16_RISK,
    TRAIN16_SAFE,
    TRAIN17_RISK,
    TRAIN17_SAFE,
    TRAIN18_RISK,
    TRAIN18_SAFE,
    everyday_sentences,
    measure_sets,
    risk_sentences,
    safe_sentences,
)
from content import semantic
from content.loader import ContentError
from content.screen import (
    ADDED_UP,
    CUE_CATEGORY,
    CUE_ID,
    MAX_CHARS,
    SAFE,
    SEMANTIC_CATEGORY,
    SEMANTIC_IDS,
    Gate,
    ScreenResult,
    combine,
    expand,
    load_cues,
    load_patterns,
    load_shorthand,
    normalise,
    parse_cues,
    prepare_regex,
    screen,
)

REPO = Path(__file__).resolve().parents[2]
RISKS = [row for name in RISK_SETS for row in risk_sentences(name)]
SAFES = [text for name in SAFE_SETS for text in safe_sentences(name)]
SELF_HARM_CATEGORIES = {
    "wish_dead",
    "suicidal_thoughts",
    "method",
    "intent",
    "plan",
    "preparatory",
    "hopelessness",
    "self_injury",
}
DANGER_CATEGORIES = {"threat", "possessive_threat", "stalking", "break_in", "weapon", "fear"}


# --- The sentence sets and the targets ----------------------------------------------------------


def test_the_sets_hold_three_hundred_risk_and_three_hundred_safe_sentences():
    assert len(RISKS) >= 300
    assert len(SAFES) >= 300
    assert {risk for risk, _, _ in RISKS} == {
        "self_harm",
        "possible_self_harm",
        "danger",
        "violence",
        "abuse",
    }
    assert {level for _, level, _ in RISKS} == {"act", "ask"}


def test_every_category_is_represented_in_the_risk_sentences():
    seen = {c for _, _, text in RISKS for c in screen(text).categories}
    assert SELF_HARM_CATEGORIES | DANGER_CATEGORIES | {"burden", "farewell", "leverage"} <= seen


def test_self_harm_recall_is_at_least_97_percent():
    figures = measure_sets(RISK_SETS, [])
    caught, n = figures.recall["self_harm"]
    assert caught / n >= 0.97, figures.missed


def test_danger_recall_is_at_least_97_percent():
    figures = measure_sets(RISK_SETS, [])
    caught, n = figures.recall["danger"]
    assert caught / n >= 0.97, figures.missed


def test_violence_and_abuse_recall_is_at_least_95_percent():
    figures = measure_sets(RISK_SETS, [])
    for family in ("violence", "abuse"):
        caught, n = figures.recall[family]
        assert caught / n >= 0.95, (family, figures.missed)


def test_false_alarms_on_the_safe_sentences_are_at_most_3_percent():
    figures = measure_sets([], SAFE_SETS)
    alarms, n = figures.false_alarms
    assert alarms / n <= 0.03, figures.alarms


def test_each_held_out_set_also_meets_the_targets_on_its_own():
    for risk_set, safe_set in zip(RISK_SETS[1:], SAFE_SETS[1:], strict=True):
        figures = measure_sets([risk_set], [safe_set])
        for family in ("self_harm", "danger"):
            caught, n = figures.recall[family]
            assert caught / n >= 0.97, (risk_set, family, figures.missed)
        alarms, n = figures.false_alarms
        assert alarms / n <= 0.03, (safe_set, figures.alarms)


def test_everyday_breakup_talk_is_never_acted_on_and_rarely_asked_about():
    texts = everyday_sentences()
    assert len(texts) >= 1000
    results = [(text, screen(text)) for text in texts]
    acted = [text for text, r in results if r.level == "act"]
    flagged = [text for text, r in results if r.flagged]
    assert acted == []
    assert len(flagged) / len(texts) <= 0.03, flagged


def test_the_safe_set_keeps_the_breakup_phrases_that_only_sound_dark():
    must_stay = {
        "this breakup is killing me",
        "I'm dead tired",
        "I could kill for a coffee",
        "my phone is dying",
        "he never hurt me, he just stopped loving me",
        "we dated for 2 years",
        "I'm going to hit the gym",
        "she hit me up yesterday",
        "I could just die of embarrassment",
        "i'm not scared of him, i just don't want to see him",
    }
    assert must_stay <= set(SAFES)


# --- Levels ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "I want to kill myself",
        "i've written my goodbye note",
        "i've been saving my pills for weeks",
        "i looked up the highest bridge near me",
        "im gonna kms tonight",
        "i cut myself again",
    ],
)
def test_a_clear_self_harm_signal_is_acted_on_at_once(text):
    result = screen(text)
    assert (result.risk, result.level) == ("self_harm", "act")


@pytest.mark.parametrize(
    "text",
    [
        "whats the point of anything anymore",
        "i'm just a burden to everyone",
        "i feel completely hopeless",
        "i want to disappear forever",
        "no one would even notice if i was gone",
    ],
)
def test_an_ambiguous_self_harm_signal_asks_the_direct_question(text):
    result = screen(text)
    assert (result.risk, result.level) == ("possible_self_harm", "ask")
    assert result.flagged


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("he said if he cant have me nobody can", "possessive_threat"),
        ("he says he'll hurt my cat if i dont answer", "threat"),
        ("Alex turned up at my door uninvited at 3am", "stalking"),
        ("my ex broke into my flat last night", "break_in"),
        ("he showed me his knife and said remember this", "weapon"),
        ("im scared hes going to hurt me", "fear"),
    ],
)
def test_danger_from_the_ex_is_its_own_risk_with_its_category(text, category):
    result = screen(text)
    assert (result.risk, result.level) == ("danger", "act")
    assert category in result.categories


def test_a_named_person_hurting_them_is_abuse_but_a_feeling_hitting_them_is_not():
    assert screen("Jordan hit me").risk == "abuse"
    assert screen("Marcus punched me in the face").risk == "abuse"
    assert screen("reality finally hit me").risk == "none"
    assert screen("the song hit me hard").risk == "none"


def test_a_statement_of_safety_cancels_only_what_it_covers():
    assert screen("im not suicidal just really sad").risk == "none"
    assert screen("im not suicidal just really sad").safe
    assert screen("i'm not suicidal but i've been cutting again").risk == "self_harm"
    assert not screen("i'm not suicidal but i've been cutting again").safe


def test_denying_fear_of_the_ex_is_not_danger():
    assert screen("i'm not scared of him, i just don't want to see him").risk == "none"
    assert screen("i'm scared of him").risk == "danger"


def test_a_plain_denial_is_not_a_signal_but_a_real_signal_beside_it_still_counts():
    assert screen("to be clear i don't want to die, i'm just sad").risk == "none"
    assert screen("no, i'm not going to hurt myself, i just need to vent").risk == "none"
    assert screen("i would never take my own life, my kids need me").risk == "none"
    assert screen("i don't want to die but i've got the pills ready for tonight").self_harm
    assert screen("i don't want to die, but i'm thinking of steering into a wall tonight").self_harm
    assert screen("no i'm not suicidal. i want to die").risk == "self_harm"


def test_a_denial_limited_in_time_or_torn_is_not_a_denial():
    assert screen("i don't want to die today, maybe tomorrow").self_harm
    assert screen("i'm not going to kill myself tonight, i'll do it tomorrow").self_harm
    assert screen("i don't want to die but i don't want to live either").self_harm
    assert screen("i don't want to die, i just want the pain to stop").self_harm


def test_self_harm_told_as_past_is_not_a_signal_unless_it_has_come_back():
    assert screen("i used to cut when i was at school but i stopped years ago").risk == "none"
    assert screen("i've been free of self harm for three years now").risk == "none"
    assert screen("i've been free of self harm for three years but tonight i relapsed").self_harm
    assert screen("i've been free of self harm for three years. yesterday i cut.").self_harm
    assert screen("those suicidal thoughts were years ago but they're back").self_harm


def test_talk_about_a_word_or_a_plot_cancels_only_its_own_clause():
    assert screen("what does kms mean, my cousin keeps typing it").risk == "none"
    assert screen("what does unalive mean? i think i want to unalive myself").self_harm
    assert screen("the film ended with her driving off a cliff, i sobbed").risk == "none"
    assert screen("the film ended with a suicide, and tonight i want to die too").self_harm
    assert screen(
        "the film last night was fine, but my ex turned up at my new place after"
    ).risk == ("danger")


def test_the_ex_predicting_regret_is_danger_unless_the_person_dismisses_it():
    assert screen("he said i'll regret leaving him, yeah right").risk == "none"
    assert screen("he said i'll regret it and i'm scared of what he means").risk == "danger"
    assert screen("he said i'll regret leaving, whatever. he also said he'll kill me").risk == (
        "danger"
    )


def test_own_violence_events_and_sideways_possession_are_caught():
    assert screen("i keep a knife in my bag for when i run into him").risk == "violence"
    assert screen("i'd never hurt anyone but i keep imagining stabbing him").risk == "violence"
    assert screen("woke up and my ex was standing at the end of my bed").risk == "danger"
    assert screen("he turned up at my new flat and i never told him where i moved").risk == "danger"
    assert screen("he said it ends with neither of us").risk == "danger"
    assert screen("he let himself in to feed the cat while i was away, i asked him to").risk == (
        "none"
    )


# --- Flags ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "i haven't slept in 3 days",
        "havent eaten properly since he left",
        "i've been drinking every night since she left",
        "smoking weed to cope tbh",
    ],
)
def test_health_signals_raise_the_health_flag_without_a_risk(text):
    result = screen(text)
    assert result.health
    assert not result.flagged


@pytest.mark.parametrize(
    "text", ["im 15", "i'm 16 and he was my first bf", "i'm in year 10", "my mum won't let me go"]
)
def test_saying_they_are_under_18_raises_the_minor_flag(text):
    assert screen(text).minor


@pytest.mark.parametrize(
    "text",
    [
        "we dated for 16 months",
        "i'm 17 days no contact",
        "i'm 27 and single again",
        "when i was 15 i met him",
        "our daughter is 15 and took it hard",
    ],
)
def test_ages_durations_and_other_peoples_ages_do_not_raise_the_minor_flag(text):
    assert not screen(text).minor


def test_a_draft_threatening_self_harm_to_pressure_the_ex_is_leverage_and_a_self_harm_signal():
    result = screen("if you dont come back to me i'll hurt myself and it will be your fault")
    assert result.leverage
    assert result.risk in {"self_harm", "possible_self_harm"}
    assert result.level in {"act", "ask"}
    assert not screen("if you don't text back i'll be sad").leverage
    assert not screen("if he doesnt come back im going to kill myself").leverage


# --- Context: combine ----------------------------------------------------------------------------


def test_hopelessness_then_burden_then_a_farewell_add_up_to_act():
    first = screen("whats the point of anything anymore")
    second = screen("i'm just a burden to everyone")
    third = screen("this is my goodbye")
    assert {first.level, second.level, third.level} == {"ask"}
    combined = combine(third, [first, second])
    assert (combined.risk, combined.level) == ("self_harm", "act")
    assert ADDED_UP in combined.matched
    assert {"hopelessness", "burden", "farewell"} <= set(combined.categories)


def test_two_ambiguous_signals_in_the_window_make_a_clear_one():
    earlier = screen("i feel completely hopeless")
    now = screen("i want to disappear forever")
    assert combine(now, [earlier]).level == "act"
    assert combine(now, []).level == "ask"


def test_an_earlier_clear_signal_makes_an_ambiguous_one_clear():
    assert combine(screen("i feel completely hopeless"), [screen("i want to die")]).level == "act"


def test_a_signal_then_a_clear_im_safe_does_not_add_up_with_what_follows():
    earlier = screen("i feel completely hopeless")
    safe_text = screen("i'm safe, just heartbroken")
    assert safe_text.safe and not safe_text.flagged
    now = screen("i want to disappear forever")
    assert combine(now, [earlier, safe_text]).level == "ask"
    assert combine(now, [earlier, SAFE]).level == "ask"


def test_combine_leaves_clear_signals_and_unflagged_messages_as_they_are():
    clear = screen("i want to kill myself")
    plain = screen("he texted me today")
    hopeless = screen("i feel completely hopeless")
    assert combine(clear, [hopeless]) is clear
    assert combine(plain, [hopeless, hopeless]) is plain


def test_danger_and_other_risks_do_not_add_up_into_self_harm():
    now = screen("i feel completely hopeless")
    assert combine(now, [screen("he hit me"), screen("im scared of him")]).level == "ask"


def test_a_possible_danger_after_im_safe_is_set_aside_and_a_clear_danger_never_is():
    maybe = ScreenResult(risk="danger", matched=("semantic.danger",), level="ask")
    assert combine(maybe, []) is maybe
    assert combine(maybe, [screen("i feel completely hopeless")]) is maybe
    set_aside = combine(maybe, [SAFE])
    assert (set_aside.risk, set_aside.level, set_aside.flagged) == ("none", "none", False)
    clear = screen("he said he's coming to my house to make me pay")
    assert clear.risk == "danger" and clear.level == "act"
    assert combine(clear, [SAFE]) is clear


# --- Decisions worth pinning down ---------------------------------------------------------------


def test_wanting_to_disappear_is_flagged_but_disappearing_into_a_book_is_not():
    assert screen("I want to disappear").self_harm
    assert screen("I want to disappear into a good book this weekend").risk == "none"
    assert screen("I want to disappear into a book, honestly I want to disappear").flagged


def test_an_exclusion_only_cancels_the_words_it_covers():
    assert screen("I'm going to die alone").risk == "none"
    assert screen("I'm going to die alone and honestly I just want to die").risk == "self_harm"


def test_being_told_to_kill_yourself_is_screened_as_abuse():
    result = screen("he told me to kill myself")
    assert result.risk == "abuse"
    assert "abuse.coercive_threats" in result.matched


def test_other_peoples_feelings_and_hyperbole_about_him_are_not_violence():
    assert screen("I don't want to hurt his feelings").risk == "none"
    assert screen("I'm going to kill him with kindness").risk == "none"
    assert screen("i'm going to shoot him a text").risk == "none"
    assert screen("I'm going to kill him").risk == "violence"


def test_ordinary_units_are_not_read_as_abbreviations():
    assert screen("He moved 500 kms away").risk == "none"
    assert screen("ugh im gonna kms").risk == "self_harm"


@pytest.mark.parametrize(
    "text",
    [
        "got a box of 💊 and a bottle of vodka, tonight",
        "🪦 soon. everyone can stop worrying about me",
        "the knife is on my bed and i keep looking at it 🔪",
    ],
)
def test_emoji_that_carry_the_meaning_are_read_with_their_context(text):
    assert screen(text).self_harm


def test_a_skull_emoji_laughing_is_not_a_signal():
    assert not screen("omg i'm deaaad 💀😂").flagged


# --- Priority -----------------------------------------------------------------------------------


def test_self_harm_wins_over_abuse_and_both_are_listed():
    result = screen("he hit me again and I just want to die")
    assert result.risk == "self_harm"
    assert {"self_harm.want_to_die", "abuse.physical"} <= set(result.matched)
    assert {"wish_dead", "physical_abuse"} <= set(result.categories)


def test_danger_wins_over_violence_and_abuse():
    result = screen("he hit me and he said he'll kill my dog, i'm going to kill him")
    assert result.risk == "danger"
    assert {"danger", "violence", "abuse"} <= {
        p.risk for p in load_patterns() if p.id in result.matched
    }


def test_a_clear_signal_of_any_risk_wins_over_an_ambiguous_self_harm_one():
    result = screen("i feel completely hopeless and he hit me")
    assert (result.risk, result.level) == ("abuse", "act")
    assert "hopelessness" in result.categories


def test_self_harm_wins_over_violence_and_both_are_listed():
    result = screen("I'm going to kill him and then myself")
    assert result.risk == "self_harm"
    assert "violence.hurt_someone" in result.matched
    assert "self_harm.kill_myself" in result.matched


def test_matched_ids_come_in_the_order_of_the_patterns_file():
    order = [p.id for p in load_patterns()]
    result = screen("I'm scared of him, he hit me, and I want to kill myself")
    assert list(result.matched) == sorted(result.matched, key=order.index)
    assert screen("I'm scared of him, he hit me, and I want to kill myself") == result


def test_a_result_is_frozen_and_turns_into_a_plain_dict():
    result = screen("I want to die")
    assert result.to_dict() == {
        "risk": "self_harm",
        "matched": ["self_harm.want_to_die"],
        "level": "act",
    }
    assert screen("hello").to_dict() == {"risk": "none", "matched": [], "level": "none"}
    assert not screen("hello").flagged
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.risk = "none"  # type: ignore[misc]


# --- Normalisation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "I don’t want to be here anymore",  # right single quote
        "I don‘t want to be here anymore",  # left single quote
        "I donʼt want to be here anymore",  # modifier letter apostrophe
        "I don`t want to be here anymore",  # backtick
        "I dont want to be here anymore",  # no apostrophe at all
        "I DON'T WANT TO BE HERE ANYMORE",
    ],
)
def test_apostrophes_of_any_kind_or_none_at_all_are_understood(text):
    assert screen(text).self_harm


@pytest.mark.parametrize(
    "text",
    ["i want to diiiiie", "kiiiilllll myselfff", "i wannnaaa dieee", "no reason to liiiive"],
)
def test_stretched_letters_are_folded(text):
    assert screen(text).self_harm


@pytest.mark.parametrize(
    "text",
    ["im gonna kms", "i cant go on", "i dont wanna live anymore", "wanna die", "should i just kys"],
)
def test_missing_apostrophes_and_chat_abbreviations_are_caught(text):
    assert screen(text).self_harm


@pytest.mark.parametrize(
    "text",
    [
        "i want to k1ll mys3lf",
        "i want to unalive myself",
        "thinking about sewer slide",
        "feeling suicidle",
        "i feel sucidal",
        "I w\u200bant to k\u200bill myself",  # zero-width spaces
        "I w\u00e1nt to d\u00ede",  # accents
        "\uff49 \uff57\uff41\uff4e\uff54 \uff54\uff4f \uff44\uff49\uff45",  # fullwidth letters
        "I\u00a0want\u00a0to\u00a0die",  # no-break spaces
    ],
)
def test_misspellings_leetspeak_and_invisible_characters_are_caught(text):
    assert screen(text).self_harm


def test_normalise_folds_case_quotes_spaces_and_repeated_letters():
    assert normalise("  Don’t   STOP\u200b\n\tnow!!  ") == "don't stop now!!"
    assert normalise("killing") == "kiling"
    assert normalise("k1ll m3") == "kil me"


def test_every_kind_of_space_and_control_character_becomes_one_plain_space():
    odd = "i\x00want\x1fto\x7fgo \u2028 to\xa0the\u3000\x85bridge\r\n"
    assert normalise(odd) == "i want to go to the bridge"
    assert normalise("\t\x0b\x0c ") == ""


def test_normalise_joins_letters_spelled_out_one_by_one():
    assert normalise("i want to d i e") == "i want to die"
    assert screen("i want to d i e").risk == "self_harm"
    assert normalise("i am a cat") == "i am a cat"


def test_normalise_leaves_numbers_with_units_alone():
    assert normalise("20kms at 3am on the 21st") == "20kms at 3am on the 21st"


def test_prepared_regexes_fold_doubled_letters_and_make_apostrophes_optional():
    assert prepare_regex(r"\bkill\b") == r"\bkil\b"
    assert prepare_regex("don't") == "don'?t"
    assert prepare_regex("don'?t") == "don'?t"
    assert prepare_regex(r"[ll]\s{2,3}x(?:ss?)") == r"[ll]\s{2,3}x(?:ss?)"
    assert prepare_regex(r"(?<!not )Better") == r"(?<!not )beter"


# --- Robustness -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "\x00\x01\x02\x1b[31m",
        "😭💔" * 500,
        "مرحبا، أنا حزين جدا",  # Arabic (RTL)
        "שלום, אני עצוב",  # Hebrew (RTL)
        "\u202eevil reversed text\u202c",
        "Z̸͉̦a̵̢͝l̶̞̓g̷̣̈́o̶̡͠",
        "\ud800 lone surrogate",
        "a" * 10_000,
        "I miss him. " * 1_000,
        "he " * 7_000,
        "want to " * 3_000,
        None,
        42,
        b"I want to die",
    ],
    ids=lambda v: repr(v)[:30],
)
def test_any_input_gives_a_result_and_never_raises(text):
    result = screen(text)  # type: ignore[arg-type]
    assert isinstance(result, ScreenResult)
    assert result.risk in {
        "none",
        "self_harm",
        "possible_self_harm",
        "danger",
        "violence",
        "abuse",
    }
    assert result.level in {"none", "ask", "act"}


def test_a_long_message_is_still_screened_to_its_end():
    text = "I miss him and I keep replaying our last trip. " * 200 + "I want to die"
    assert len(text) < MAX_CHARS
    assert screen(text).self_harm


def test_a_long_message_is_screened_quickly():
    text = ("I miss him and I keep replaying our last trip together. " * 200)[:10_000]
    screen(text)
    # CPU time, as the budget is stated: wall time on a shared machine measures the neighbours.
    started = time.process_time()
    for _ in range(5):
        screen(text)
    assert (time.process_time() - started) / 5 < 0.1


def test_a_broken_patterns_file_does_not_break_screening(tmp_path, caplog):
    (tmp_path / "risk_patterns.yaml").write_text("patterns: []\n", encoding="utf-8")
    assert screen("I want to die", directory=tmp_path) == ScreenResult()
    assert "risk patterns could not be loaded" in caplog.text


def test_nothing_a_person_writes_reaches_the_log_when_screening_fails(tmp_path, caplog):
    (tmp_path / "risk_patterns.yaml").write_text("patterns: []\n", encoding="utf-8")
    screen("my secret words about him", directory=tmp_path)
    assert "secret" not in caplog.text


# --- Loading the patterns -------------------------------------------------------------------------


def test_patterns_are_compiled_once_and_cached():
    assert load_patterns() is load_patterns()
    assert len(load_patterns()) > 40


def test_a_needs_gate_never_hides_a_match_of_its_own_pattern_on_the_sets():
    gated = [p for p in load_patterns() if p.needs is not None]
    assert gated
    texts = [normalise(t) for _, _, t in RISKS] + [normalise(t) for t in SAFES]
    for pattern in gated:
        ungated = dataclasses.replace(pattern, needs=None)
        for text in texts:
            if ungated.spans(text):
                assert pattern.needs.search(text), (pattern.id, text)


def test_every_category_in_the_file_is_used_by_a_pattern():
    import yaml

    raw = yaml.safe_load((REPO / "content" / "risk_patterns.yaml").read_text(encoding="utf-8"))
    used = {p.category for p in load_patterns()}
    assert set(raw["categories"]) == used


def _write_patterns(tmp_path: Path, body: str) -> Path:
    (tmp_path / "risk_patterns.yaml").write_text(body, encoding="utf-8")
    return tmp_path


CATS = "categories:\n  hurt: {risk: abuse, level: act}\n  calm: {flag: safe, cancels: [abuse]}\n"


@pytest.mark.parametrize(
    ("body", "entry", "problem"),
    [
        (
            CATS
            + "patterns:\n  - id: abuse.bad\n    category: hurt\n    match: ['\\b(unclosed']\n",
            "abuse.bad",
            "invalid regular expression",
        ),
        (
            CATS + "patterns:\n  - {id: abuse.x, category: sadness, match: [x]}\n",
            "abuse.x",
            "unknown category",
        ),
        (CATS + "patterns: []\n", "patterns", "at least 1"),
        (
            CATS + "patterns:\n  - {id: abuse.a, category: hurt, match: [x]}\n"
            "  - {id: abuse.a, category: hurt, match: [y]}\n",
            "abuse.a",
            "duplicate id",
        ),
        (CATS + "patterns:\n  - {id: abuse.a, category: hurt, match: []}\n", "abuse.a.match", ""),
        (CATS + "patterns:\n  - {id: abuse.a, category: hurt}\n", "abuse.a.match", "required"),
        (
            CATS + "patterns:\n  - {id: abuse.a, category: hurt, match: ['{{nope}} me']}\n",
            "abuse.a",
            "unknown fragment",
        ),
        (
            CATS + "patterns:\n  - {id: abuse.a, category: hurt, match: [x], unles: [y]}\n",
            "abuse.a.unles",
            "Extra inputs",
        ),
        (CATS + "patterns:\n  - {category: hurt, match: [x]}\n", "patterns[0].id", "required"),
        (
            CATS + "patterns:\n  - {id: abuse.a, category: hurt, level: maybe, match: [x]}\n",
            "abuse.a.level",
            "'act' or 'ask'",
        ),
        (
            CATS + "patterns:\n  - {id: safe.a, category: calm, level: act, match: [x]}\n",
            "safe.a",
            "level only makes sense",
        ),
        (
            "categories:\n  odd: {risk: abuse}\n"
            "patterns:\n  - {id: a.b, category: odd, match: [x]}\n",
            "categories.odd",
            "needs a level",
        ),
        ("- just a list\n", "-", "valid dictionary"),
    ],
    ids=[
        "invalid regex",
        "unknown category",
        "empty list",
        "duplicate id",
        "empty match",
        "missing match",
        "unknown fragment",
        "misspelt field",
        "missing id",
        "unknown level",
        "level on a flag",
        "risk without level",
        "not a mapping",
    ],
)
def test_a_broken_patterns_file_is_refused_naming_the_file_and_entry(
    tmp_path, body, entry, problem
):
    with pytest.raises(ContentError) as err:
        load_patterns(_write_patterns(tmp_path, body))
    assert err.value.file == "risk_patterns.yaml"
    assert err.value.entry == entry
    assert problem in err.value.problem
    assert f"risk_patterns.yaml: {entry}:" in str(err.value)


def test_a_missing_patterns_file_is_refused(tmp_path):
    with pytest.raises(ContentError, match=r"risk_patterns\.yaml"):
        load_patterns(tmp_path)


def test_fragments_are_shared_between_patterns(tmp_path):
    directory = _write_patterns(
        tmp_path,
        CATS + "fragments:\n  who: (?:he|she)\n"
        "patterns:\n  - id: abuse.kick\n    category: hurt\n"
        "    match: ['\\b{{who}} kicked me\\b']\n",
    )
    assert screen("she kicked me", directory=directory).matched == ("abuse.kick",)
    assert screen("it kicked me", directory=directory).risk == "none"


def test_a_cancelling_category_removes_the_matches_it_overlaps(tmp_path):
    directory = _write_patterns(
        tmp_path,
        CATS + "patterns:\n  - {id: abuse.kick, category: hurt, match: ['kicked me']}\n"
        "  - {id: safe.no, category: calm, match: ['never kicked me']}\n",
    )
    assert screen("he kicked me", directory=directory).risk == "abuse"
    result = screen("he never kicked me", directory=directory)
    assert result.risk == "none"
    assert result.safe


def test_a_needs_regex_that_finds_nothing_skips_the_pattern(tmp_path):
    directory = _write_patterns(
        tmp_path,
        CATS
        + "patterns:\n  - {id: abuse.kick, category: hurt, needs: zzz, match: ['kicked me']}\n",
    )
    assert screen("he kicked me", directory=directory).risk == "none"
    assert screen("zzz he kicked me", directory=directory).risk == "abuse"


def test_a_needs_gate_finds_what_its_regex_finds():
    # Plain words are looked for with `in`, the rest with the regex: the answer is the same.
    gate = Gate.build(prepare_regex(r"(?:rope|pills?|\bod\b|car park)"))
    assert gate.words == ("rope", "car park")
    for text in ("the rope", "two pills", "an od", "good", "odd", "the car park", "nothing"):
        assert bool(gate.search(text)) == bool(re.search(gate.pattern, text)), text
    whole = Gate.build(prepare_regex(r"\b(?:one|two)\b"))
    assert whole.words == () and whole.search("two") and not whole.search("twofold")
    texts = [normalise(t) for _, _, t in RISKS] + [normalise(t) for t in SAFES]
    for pattern in load_patterns():
        if pattern.needs is not None:
            regex = re.compile(pattern.needs.pattern)
            for text in texts:
                assert bool(pattern.needs.search(text)) == bool(regex.search(text)), pattern.id


# --- The command line ---------------------------------------------------------------------------


def test_the_screen_command_prints_one_json_line_per_input_line():
    import json

    out = subprocess.run(
        [sys.executable, "-m", "bot", "screen"],
        input="I want to die\nhello\nwhats the point of anything anymore\nhe broke into my flat\n",
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
        timeout=60,
    ).stdout.splitlines()
    rows = [json.loads(line) for line in out]
    assert [set(r) for r in rows] == [{"risk", "matched", "level"}] * 4
    assert [(r["risk"], r["level"]) for r in rows] == [
        ("self_harm", "act"),
        ("none", "none"),
        ("possible_self_harm", "ask"),
        ("danger", "act"),
    ]


# --- Purity -------------------------------------------------------------------------------------


def test_the_screen_and_helplines_import_neither_telegram_nor_sqlalchemy():
    code = (
        "import sys, content.screen, content.helplines; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('telegram', 'sqlalchemy')]; "
        "sys.exit(1 if bad else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO, check=False).returncode == 0


# --- Indirect phrasings, by concept -------------------------------------------------------------


def test_a_letter_hidden_behind_asterisks_is_read_as_written():
    assert normalise("im gonna k*ll myself") == normalise("im gonna kill myself")
    assert normalise("su*cide") == "suicide"
    assert normalise("f*** off") == "f*** of"  # a masked ending is not a hidden letter


def test_being_proud_of_yourself_is_not_read_as_offing_yourself():
    assert screen("really proud of myself today").risk == "none"
    assert screen("i feel like a shell of myself").risk == "none"
    assert screen("i might just off myself").risk == "self_harm"


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("worked out who will look after my rabbit", "preparatory"),
        ("sold my camera, i wont be needing it", "preparatory"),
        ("i checked how high the multi storey is", "preparatory"),
        ("looked up how many it takes", "preparatory"),
        ("i hope a bus hits me on the way home", "wish_dead"),
        ("wouldnt care if i died in my sleep", "wish_dead"),
        ("relapsed on sh again", "self_injury"),
        ("hid the blades in my drawer", "self_injury"),
    ],
)
def test_indirect_self_harm_phrasings_are_caught_by_their_concept(text, category):
    result = screen(text)
    assert result.self_harm, text
    assert category in result.categories


@pytest.mark.parametrize(
    "text",
    [
        "she said i'm dead if she ever sees me with him",
        "he texted that he would smash my car up",
        "my ex always knows where i am",
        "he keeps turning up everywhere i go",
        "she's been parked across the road all evening",
        "he rings me from withheld numbers all night",
        "i wedge a chair under my door every night",
    ],
)
def test_threats_and_stalking_told_indirectly_are_danger(text):
    assert screen(text).risk == "danger", text


def test_a_single_visit_from_the_ex_is_contact_but_a_repeated_or_menacing_one_is_danger():
    assert screen("she came to my work").risk == "none"
    assert screen("he showed up at my door").risk == "none"
    assert screen("he showed up at my door again at 2am").risk == "danger"
    assert screen("she came to my work after i blocked her").risk == "danger"


def test_idioms_of_anger_and_embarrassment_stay_unflagged():
    for text in (
        "i could kill her for wearing my jumper",
        "so hungover i want to die",
        "if my boss finds out he'll kill me",
        "he said i'd regret it and he was right",
    ):
        assert screen(text).risk == "none", text


# --- The cue stage ------------------------------------------------------------------------------


def test_several_concepts_together_are_asked_about_even_without_a_pattern():
    text = "the bridge tonight. sorry for everything, it will all be over for me soon"
    result = screen(text)
    assert result.risk == "possible_self_harm"
    assert result.level == "ask"
    assert result.matched == (CUE_ID,)
    assert result.categories == (CUE_CATEGORY,)


def test_the_cue_stage_never_acts_and_a_joke_or_the_breakup_guards_it():
    cues = load_cues()
    assert cues.asks(normalise("the bridge tonight, it will all be over for me soon"))
    assert not cues.asks(normalise("the bridge tonight lol, it will all be over for me soon"))
    assert not cues.asks(normalise("the bridge tonight with him, it will all be over for me soon"))
    # one concept alone is not enough, however heavy
    assert not cues.asks(normalise("i keep dreaming about death and funerals and graves"))


def test_the_cue_stage_needs_the_writer_to_speak_of_themselves():
    cues = load_cues()
    assert not cues.asks(normalise("the bridge closes tonight forever"))
    assert cues.asks(normalise("the bridge for me tonight, forever"))


def test_a_stated_safety_keeps_the_cue_stage_quiet():
    text = "the bridge tonight, it will all be over for me soon"
    assert screen(text).risk == "possible_self_harm"
    assert screen(f"im safe. {text}").risk == "none"


def test_a_broken_cue_file_is_refused_and_screening_goes_on_with_the_patterns(tmp_path, caplog):
    import shutil

    shutil.copy(REPO / "content" / "risk_patterns.yaml", tmp_path / "risk_patterns.yaml")
    (tmp_path / "risk_cues.yaml").write_text(
        "ask_at: 1\nmin_groups: 1\nfirst_person: [i]\ngroups: {a: {weight: -1, words: [x]}}\n",
        encoding="utf-8",
    )
    with pytest.raises(ContentError, match="positive weight"):
        load_cues(tmp_path)
    assert screen("I want to die, my secret", directory=tmp_path).risk == "self_harm"
    assert "risk cues could not be loaded" in caplog.text
    assert "secret" not in caplog.text


def test_cue_words_are_folded_like_the_text():
    cues = parse_cues(
        {
            "ask_at": 2,
            "min_groups": 2,
            "first_person": ["i'm"],
            "groups": {
                "a": {"weight": 1, "words": ["goodbye"]},
                "b": {"weight": 1, "words": ["overdos*"]},
            },
        }
    )
    assert cues.asks(normalise("im saying GOODBYEEE before the overdosing"))
    assert not cues.asks(normalise("im saying goodbye"))


# --- Chat shorthand -----------------------------------------------------------------------------


def test_chat_shorthand_is_spelled_out_before_matching():
    assert expand(normalise("every1 wld be better w/o me")) == "everyone would be beter without me"
    assert expand(normalise("gonna do it tn")) == "gona do it tonight"
    assert screen("every1 wld be better w/o me").self_harm
    assert screen("ending it tn").self_harm


def test_shorthand_replaces_whole_words_only():
    assert expand("turn the tv on") == "turn the tv on"
    assert expand("tnt and wild things") == "tnt and wild things"


def test_a_broken_shorthand_file_leaves_the_text_as_written(tmp_path, caplog):
    (tmp_path / "risk_shorthand.yaml").write_text("shorthand: {}\n", encoding="utf-8")
    with pytest.raises(ContentError):
        load_shorthand(tmp_path)
    assert expand("ending it tn", tmp_path) == "ending it tn"
    assert "risk shorthand could not be loaded" in caplog.text
    assert "ending" not in caplog.text


# --- Voices the first patterns were not written for -----------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "what if i just wasnt around anymore",
        "i have no more strength for living",
        "i am not able more with this life",
        "i've had enough of living, truly",
        "the tablets are laid out on the table",
        "i keep imagining myself falling from the balcony",
    ],
)
def test_hypothetical_formal_and_non_native_phrasings_are_caught(text):
    assert screen(text).self_harm, text


@pytest.mark.parametrize(
    "text",
    [
        "he slid a dead rat under my door",
        "she keeps sending me photos of my car",
        "he said i would be sorry i ever met him",
        "i changed my number because he won't stop",
        "im too afraid to report him",
    ],
)
def test_threats_by_act_and_fear_by_what_people_do_are_danger(text):
    assert screen(text).risk == "danger", text


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            "the power cut again last night",
            marks=pytest.mark.xfail(
                strict=True,
                reason="a known false alarm of the semantic layer: its nearest sentences are "
                "about cutting oneself again, and a static embedding does not read 'power cut' "
                "as one thing (asked about, never acted on)",
            ),
        ),
        "my skin is a mess this week",
        "haha you're next to get married",
        "he said he'd break my heart",
        "he said he'd hurt her feelings",
        pytest.param(
            "he told me he wants to end us",
            marks=pytest.mark.xfail(
                strict=True,
                reason="a known false alarm of the semantic layer: 'end us' sits near threats "
                "to end the person, so it asks whether they are afraid (never acted on)",
            ),
        ),
        "i'm staying at my sister's because i'm scared of being alone",
        "im gonna jump off the diving board",
        "i'll take all of them to the charity shop today",
        "he showed me his new knife set",
        "my time is up on the parking",
    ],
)
def test_words_that_only_look_like_the_new_signals_stay_unflagged(text):
    assert screen(text).risk == "none", text


def test_a_relapse_of_something_unnamed_is_asked_about_not_acted_on():
    result = screen("i relapsed after 3 weeks clean")
    assert (result.risk, result.level) == ("possible_self_harm", "ask")


# --- The semantic layer ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "would be nice to just stop everything, me included",
        "i just want everything including me to stop",
    ],
)
def test_self_harm_the_patterns_miss_is_asked_about_by_the_semantic_layer(text):
    assert not screen(text, use_semantic=False).flagged
    result = screen(text)
    assert (result.risk, result.level) == ("possible_self_harm", "ask")
    assert result.matched == (SEMANTIC_IDS["self_harm"],)
    assert result.categories == (SEMANTIC_CATEGORY,)


@pytest.mark.parametrize("text", ["i feel like ending it", "Honestly I feel like ending it tbh"])
def test_feeling_like_ending_it_with_nothing_after_is_asked_about(text):
    result = screen(text, use_semantic=False)
    assert (result.risk, result.level) == ("possible_self_harm", "ask")
    for relationship in ("i feel like ending it with him", "i feel like ending it between us"):
        assert not screen(relationship).flagged


def test_the_semantic_layer_only_ever_asks_about_danger():
    # Danger's reply switches reconnection off for good; a near neighbour only asks first.
    text = "he said he'd make me disappear"
    assert semantic.judge(text).risk == "danger"
    assert not screen(text, use_semantic=False).flagged
    result = screen(text)
    assert (result.risk, result.level) == ("danger", "ask")
    assert result.matched == (SEMANTIC_IDS["danger"],)


def test_the_patterns_decide_first_and_a_stated_safety_keeps_the_semantic_layer_quiet():
    clear = "i want to kill myself"
    assert screen(clear) == screen(clear, use_semantic=False)
    safe_words = "i'm safe, i'm not suicidal, i just keep wishing i could stop existing for a day"
    assert screen(safe_words, use_semantic=False).safe
    assert not screen(safe_words).flagged


def test_the_semantic_layer_leaves_everyday_talk_alone():
    for text in ("he texted me today", "should i text her back?", "i miss him so much"):
        assert not screen(text).flagged


def test_without_its_store_the_screen_goes_on_with_the_patterns_and_logs_no_text(tmp_path, caplog):
    for name in ("risk_patterns.yaml", "risk_cues.yaml", "risk_shorthand.yaml"):
        (tmp_path / name).write_text(
            (REPO / "content" / name).read_text(encoding="utf-8"), encoding="utf-8"
        )
    assert screen("i want to die", directory=tmp_path).level == "act"
    assert not screen("i just want everything including me to stop", directory=tmp_path).flagged
    assert "semantic layer unavailable" in caplog.text
    assert "including me" not in caplog.text and "want to die" not in caplog.text
    with pytest.raises(semantic.SemanticUnavailable):
        semantic.judge("anything", tmp_path)


def test_the_model_is_read_from_the_installed_wheel_offline_without_importing_the_package():
    script = (
        "import logging, sys, socket\n"
        "def no_network(*a, **k): raise OSError('no network in this test')\n"
        "socket.socket.connect = no_network\n"
        "from content import semantic\n"
        "semantic.load_encoder.cache_clear()\n"
        "j = semantic.judge('id rather not be alive')\n"
        "assert j.risk == 'self_harm', j\n"
        "assert 'wordllama' not in sys.modules\n"
        "assert logging.getLogger().handlers == []\n"
        "print('ok')\n"
    )
    env = {"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin", "HOME": "/nonexistent"}
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_the_stored_sentences_match_the_training_sets_and_leave_out_the_held_out_looks():
    assert semantic.TRAINING_RISK_SETS == RISK_SETS
    assert semantic.TRAINING_SAFE_SETS == SAFE_SETS
    assert LOOK4_RISK not in RISK_SETS and LOOK4_SAFE not in SAFE_SETS
    assert LOOK5_RISK not in RISK_SETS and LOOK5_SAFE not in SAFE_SETS
    assert LOOK6_RISK not in RISK_SETS and LOOK6_SAFE not in SAFE_SETS
    assert LOOK7_RISK not in RISK_SETS and LOOK7_SAFE not in SAFE_SETS
    assert LOOK8_RISK not in RISK_SETS and LOOK8_SAFE not in SAFE_SETS
    fixtures = REPO / "tests" / "unit" / "fixtures"
    groups = semantic.training_groups(fixtures)
    everyday = semantic.everyday_texts(fixtures)
    store = semantic.load_prototypes()
    # Edit a set without `python -m content.semantic --build` and this fails.
    assert store.sources == semantic.sources_digest(groups, everyday)
    labels = [c for g in groups for _, c in g] + [semantic.SAFE] * len(everyday)
    assert len(store.labels) == len(labels)
    for c in (semantic.SAFE, semantic.SELF_HARM, semantic.DANGER):
        assert int((store.labels == c).sum()) == labels.count(c)
    assert store.vectors.shape[1] == semantic.load_encoder().dimensions == semantic.DIMENSIONS
    assert 0 < store.thresholds["self_harm"] < 1 and 0 < store.thresholds["danger"] < 1


def test_a_stored_sentence_is_its_own_nearest_neighbour():
    fixtures = REPO / "tests" / "unit" / "fixtures"
    store = semantic.load_prototypes()
    for text, label in semantic.training_groups(fixtures)[0][::40]:
        vector = semantic.load_encoder().encode(text)
        sims = store.similarities(vector)
        best = int(np.argmax(sims))
        assert sims[best] > 0.99
        assert store.labels[best] == label


def test_folding_for_the_encoder_keeps_double_letters_and_drops_stretching():
    assert semantic.fold("I  WANT to  diiiie\u200b") == "i want to die"
    assert semantic.fold("sleeping pills, kill") == "sleeping pills, kill"
    assert semantic.fold("don\u2019t\x00go") == "don't go"


# --- The looks: their measured figures are the floor ---------------------------------------------


# Each pair's floor: at least so many sentences of each kind, at least so many caught of each
# family, at most so many false alarms. The looks were written blind. The eleventh is held out
# from everything (the classifier fits none of it); the fourth to tenth are now among the sets
# the classifier is fitted on. Their floors are their figures with the classifier. The tuning
# pairs' floors are what each round of patterns and sentences was built to catch.
FLOORS = {
    "fourth look": (LOOK4_RISK, LOOK4_SAFE, 120, {"self_harm": 84, "danger": 41}, 11),
    "fifth look": (LOOK5_RISK, LOOK5_SAFE, 200, {"self_harm": 119, "danger": 65}, 9),
    "sixth look": (LOOK6_RISK, LOOK6_SAFE, 140, {"self_harm": 79, "danger": 49}, 7),
    "seventh look": (LOOK7_RISK, LOOK7_SAFE, 130, {"self_harm": 68, "danger": 46}, 4),
    "eighth look": (LOOK8_RISK, LOOK8_SAFE, 130, {"self_harm": 82, "danger": 55}, 5),
    "ninth look": (LOOK9_RISK, LOOK9_SAFE, 240, {"self_harm": 133, "danger": 89}, 10),
    "tenth look": (LOOK10_RISK, LOOK10_SAFE, 240, {"self_harm": 124, "danger": 83}, 10),
    "eleventh look": (LOOK11_RISK, LOOK11_SAFE, 260, {"self_harm": 120, "danger": 72}, 23),
    "fifth tuning pair": (TRAIN5_RISK, TRAIN5_SAFE, 250, {"self_harm": 282, "danger": 139}, 5),
    "sixth tuning pair": (TRAIN6_RISK, TRAIN6_SAFE, 170, {"self_harm": 91, "danger": 92}, 0),
    "seventh tuning pair": (
        TRAIN7_RISK,
        TRAIN7_SAFE,
        120,
        {"self_harm": 39, "danger": 58, "violence": 31},
        1,
    ),
    "sixteenth training pair": (TRAIN16_RISK, TRAIN16_SAFE, 600, {"self_harm": 447}, 42),
    "seventeenth training pair": (
        TRAIN17_RISK,
        TRAIN17_SAFE,
        600,
        {"danger": 291, "abuse": 72, "violence": 24},
        32,
    ),
    "eighteenth training pair": (
        TRAIN18_RISK,
        TRAIN18_SAFE,
        400,
        {"self_harm": 186, "danger": 81, "abuse": 31},
        92,
    ),
}


@pytest.mark.parametrize("pair", list(FLOORS))
def test_each_look_and_tuning_pair_holds_at_least_its_floor(pair):
    risk_set, safe_set, size, caught, false_alarms = FLOORS[pair]
    assert len(risk_sentences(risk_set)) >= size and len(safe_sentences(safe_set)) >= size
    figures = measure_sets([risk_set], [safe_set])
    for family, least in caught.items():
        assert figures.recall[family][0] >= least, (family, figures.missed)
    assert figures.false_alarms[0] <= false_alarms, figures.alarms


# --- Context: one message's level is its own ----------------------------------------------------


def test_one_message_naming_three_self_harm_categories_is_not_escalated_on_its_own():
    one = ScreenResult(
        risk="possible_self_harm",
        matched=("a", "b", "c"),
        level="ask",
        categories=("hopelessness", "burden", "farewell"),
    )
    assert combine(one, []) is one


def test_the_same_categories_over_two_messages_add_up_to_act():
    first = ScreenResult(
        risk="possible_self_harm", matched=("a",), level="ask", categories=("hopelessness",)
    )
    second = ScreenResult(
        risk="possible_self_harm",
        matched=("b", "c"),
        level="ask",
        categories=("burden", "farewell"),
    )
    combined = combine(second, [first])
    assert (combined.risk, combined.level) == ("self_harm", "act")
    assert set(combined.categories) == {"hopelessness", "burden", "farewell"}
    assert combine(second, [first, SAFE]).level == "ask"


def test_the_semantic_layer_is_loaded_at_start_up_and_a_missing_store_only_warns(tmp_path, caplog):
    assert semantic.warm() is True
    assert semantic.warm(tmp_path) is False
    assert "semantic layer unavailable" in caplog.text


@pytest.mark.parametrize(
    "text",
    [
        "I will kill you if you leave",
        "im coming to ur place to make u pay",
        "i know where you live and i'm coming over tonight",
        "you're dead when I find you",
        "better watch your back",
        "you'll regret the day you left me",
        "nobody will ever find your body",
        "I'm gonna break your legs",
    ],
)
def test_a_threat_spoken_to_the_reader_as_in_a_message_passed_on_is_danger(text):
    assert (screen(text).risk, screen(text).level) == ("danger", "act")


@pytest.mark.parametrize(
    "text",
    [
        "you're dead to me",
        "I could kill you for eating my fries",
        "gonna end you at chess tonight lol",
        "they make you pay for parking now",
        "I'd never hurt you, you know that",
        "kill you with kindness, that's my plan",
    ],
)
def test_everyday_words_to_the_reader_that_sound_violent_are_not_threats(text):
    assert screen(text).risk != "danger"


@pytest.mark.parametrize(
    "text",
    [
        "my ex says he wants to die",
        "he keeps saying he'll kill himself",
        "she's talking about ending her life",
        "my gf texted that she wants to overdose",
    ],
)
def test_someone_elses_talk_of_ending_their_life_is_flagged_for_the_handlers_to_place(text):
    result = screen(text)
    assert result.self_harm and "self_harm.reported_other" in result.matched


@pytest.mark.parametrize(
    "text",
    [
        "she said she'd rather die than admit she was wrong",
        "he said he wants to die of embarrassment lol",
        "he'll kill himself laughing at this",
    ],
)
def test_someone_elses_figure_of_speech_about_dying_is_not_flagged(text):
    assert not screen(text).flagged
