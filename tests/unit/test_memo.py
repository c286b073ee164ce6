"""One reading per message: the screen and the understanding of a text are computed once per
update, and nothing of the text is remembered after it."""

from __future__ import annotations

from content import memo
from content.screen import screen
from content.understand import understand


def test_a_reading_is_computed_once_within_an_update_and_forgotten_after_it() -> None:
    calls: list[str] = []

    def read() -> str:
        calls.append("read")
        return "clear"

    with memo.one_update():
        assert memo.remembered(("screen", "hi"), read) == "clear"
        assert memo.remembered(("screen", "hi"), read) == "clear"
        memo.remembered(("screen", "hello"), read)
    assert calls == ["read", "read"]
    memo.remembered(("screen", "hi"), read)  # outside an update nothing is kept
    assert len(calls) == 3
    assert memo._readings.get() is None


def test_the_screen_and_the_understanding_give_the_same_answer_inside_an_update() -> None:
    for text in ("I want to end it all", "I miss her so much", "he said he would hurt me"):
        outside = screen(text), understand(text)
        with memo.one_update():
            assert (screen(text), understand(text)) == outside
            assert (screen(text), understand(text)) == outside


def test_a_bare_command_has_no_words_to_screen_but_a_command_with_words_is_screened() -> None:
    for command in ("/help", "/plan@BreakupCoachBot", "/today  "):
        assert not screen(command).flagged
    assert screen("/journal I want to kill myself").flagged
