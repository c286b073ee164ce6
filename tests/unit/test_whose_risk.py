"""Whose threat of self-harm a message carries: the ex's (pasted, quoted, reported) or the
person's own. Anything the person says about themselves keeps its full care."""

from __future__ import annotations

import pytest

from bot.services.safety import their_risk
from content.screen import screen

THEIRS = [
    "they texted me: I'll kill myself if you don't come back",
    "He texted me: I'll kill myself if you don't come back!!",
    "he texted me “I’ll kill myself if you don’t come back”",
    "Alex texted: im going to end it all if you ignore me",
    "he said he'd kill himself if I leave",
    "He said he's going to hurt himself",
    "she keeps saying she'll end it all if I don't answer",
    "he said i'll kill myself if you leave",
    "he threatened suicide when I tried to leave",
    "she said she would kill herself and I feel like it's my fault",
    "his suicide threats are wearing me down",
]

OWN = [
    "I'll kill myself if you don't come back",
    "I don't want to live anymore",
    "I'm going to end it all",
    'he texted me "I\'ll end it all if you go" and honestly I want to die too',
    "Alex said: i'll kms if you don't reply. i want to die too",
    "he texted me I want to die",  # no quote marks, speaks to no one: it may be the person's
    "he left me and I want to kill myself",
    "i told him i'll kill myself if he leaves",
    "I said: I'll kill myself if you leave",
    "he left and I texted: I'll kill myself if you don't come back",
    "she blocked me so I wrote: I'll end it all if you don't answer",
    "he said he'd kill me and then himself",  # danger to the person stays danger
    "he said he'll hurt me if I leave",
]


@pytest.mark.parametrize("text", THEIRS)
def test_the_exs_threat_is_put_down_to_the_ex_and_leaves_nothing_of_the_persons(text):
    own = screen(text)
    assert own.flagged  # the screen alone would treat it as the person's
    rest = their_risk(text, own, ex_name="Alex")
    assert rest is not None and not rest.flagged


@pytest.mark.parametrize("text", OWN)
def test_the_persons_own_risk_is_never_put_down_to_the_ex(text):
    own = screen(text)
    assert own.flagged
    assert their_risk(text, own, ex_name="Alex") is None


def test_a_pasted_threat_that_speaks_to_the_person_is_the_exs():
    text = "I'll kill myself if you don't come back"
    assert their_risk(text, screen(text), their_words=True) is not None


def test_a_pasted_message_that_speaks_to_no_one_may_be_the_persons_own():
    text = "I don't want to live anymore"
    assert their_risk(text, screen(text), their_words=True) is None


def test_a_pasted_threat_against_the_person_is_still_danger():
    text = "if I can't have you nobody can"
    assert screen(text).risk == "danger"
    assert their_risk(text, screen(text), their_words=True) is None


def test_a_message_without_risk_is_nobodys():
    text = "he texted me: are you free on Sunday?"
    assert their_risk(text, screen(text), their_words=True) is None
