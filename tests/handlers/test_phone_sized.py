"""Phone-sized answers: every verdict's first message is short, the rest sits behind buttons."""

from __future__ import annotations

import re
from functools import cache
from html import unescape

import pytest

from bot.services.advice import Advice, Answers, days_note
from content.advice import Situation, advise, load_rulebook
from content.loader import load_texts
from handlers.advice import verdict_markup, verdict_text
from tests.unit.test_advice import GRID

FIRST_MESSAGE_LIMIT = 700
NO_CONTACT_DAYS = 30


@cache
def rulebook():
    return load_rulebook()


@cache
def texts():
    return load_texts()


@cache
def first_message(situation: Situation) -> tuple[str, Advice]:
    book = rulebook()
    verdict = advise(situation, book, NO_CONTACT_DAYS)
    advice = Advice(
        situation=situation,
        answers=Answers(),
        verdict=verdict,
        ex_name=None,
        no_contact_days=NO_CONTACT_DAYS,
        helplines=None,
        days_note=days_note(verdict, book.headlines.values()),
        new_notes=verdict.sources_differ,
    )
    text = verdict_text(texts(), advice, their_message=situation.they_messaged != "none")
    return text, advice


def visible(html: str) -> str:
    """What the person sees: the text without its markup, entities read."""
    return unescape(re.sub(r"<[^>]+>", "", html))


def test_every_verdicts_first_message_across_the_whole_advice_grid_fits_a_phone():
    longest = max(GRID, key=lambda s: len(visible(first_message(s)[0])))
    text = visible(first_message(longest)[0])
    assert len(text) <= FIRST_MESSAGE_LIMIT, text
    assert len(GRID) > 10_000  # the whole grid, not a sample


@pytest.mark.parametrize("index", range(0, len(GRID), 997))
def test_a_first_message_has_a_headline_and_at_most_two_reasons_with_sources(index):
    text, advice = first_message(GRID[index])
    if advice.verdict.decision == "get_support":
        return
    assert advice.verdict.headline.split("{")[0][:20] in visible(text) or "limited contact" in text
    reasons = [line for line in text.splitlines() if line.startswith("• ")]
    assert 1 <= len(reasons) <= 2
    assert all(" — " in line for line in reasons)  # each names its sources


def test_the_notes_where_the_articles_differ_are_never_in_the_first_message():
    for situation in GRID[::50]:
        text, advice = first_message(situation)
        for note in advice.verdict.sources_differ:
            assert note.topic not in text


def test_shared_lives_never_hear_a_count_of_no_contact_days():
    for situation in GRID:
        if not situation.shared:
            continue
        text, advice = first_message(situation)
        assert "of no contact still to go" not in text
        assert "more days to go" not in text
        if advice.verdict.decision != "get_support":
            assert "limited contact" in text or "what you share" in text
        markup = verdict_markup(texts(), advice)
        assert markup.inline_keyboard  # still the ways on


def test_the_buttons_offer_why_the_notes_and_a_message_only_when_there_is_more_to_show():
    for situation in GRID[::200]:
        _, advice = first_message(situation)
        labels = {b.text for row in verdict_markup(texts(), advice).inline_keyboard for b in row}
        assert ("Why?" in labels) == (len(advice.verdict.reasons) > 2)
        assert ("Where the articles differ" in labels) == bool(advice.verdict.sources_differ)
        assert ("Suggest a message" in labels) == bool(advice.verdict.suggested_messages)
