"""Splitting long texts for Telegram: within the limit, on good boundaries, valid HTML."""

from __future__ import annotations

from bot.transport import plain_text
from handlers.longtext import MAX_MESSAGE, split_message


def plain(part: str) -> str:
    return plain_text(part, "HTML")  # raises on broken HTML, as Telegram would refuse it


def test_a_text_within_the_limit_comes_back_unchanged():
    text = "<b>Hi</b> " + "a" * (MAX_MESSAGE - 3)
    assert split_message(text) == [text]


def test_parts_fit_the_limit_and_prefer_line_breaks():
    lines = [f"Line {i}: " + "word " * 12 for i in range(200)]
    parts = split_message("\n".join(lines), 500)
    assert len(parts) > 1
    for part in parts:
        assert len(plain(part)) <= 500
        assert part.startswith("Line ")  # every part starts at the beginning of a line
    assert "\n".join(parts).split("\n") == [line for line in lines]


def test_a_long_line_is_cut_between_words():
    text = " ".join(f"w{i}" for i in range(2000))
    parts = split_message(text, 300)
    assert all(len(p) <= 300 for p in parts)
    assert " ".join(parts).split() == text.split()


def test_tags_open_at_a_cut_are_closed_and_opened_again():
    text = '<b>Bold <a href="https://example.org">' + "link text " * 100 + "</a> end</b>"
    parts = split_message(text, 200)
    assert len(parts) > 1
    for part in parts:
        plain(part)  # valid HTML on its own
        assert part.startswith("<b>")
        assert part.endswith("</b>")
    assert parts[1].startswith('<b><a href="https://example.org">')


def test_entities_are_never_cut_and_count_as_one_character():
    text = "&amp;" * 1000
    parts = split_message(text, 99)
    assert all(p.count("&amp;") * len("&amp;") == len(p) for p in parts)
    assert all(len(plain(p)) <= 99 for p in parts)
    assert sum(len(plain(p)) for p in parts) == 1000


def test_characters_outside_the_basic_plane_count_twice_as_telegram_counts_them():
    text = "🙂" * 100
    parts = split_message(text, 50)
    assert [len(p) for p in parts] == [25, 25, 25, 25]


def test_a_word_longer_than_the_limit_is_cut_rather_than_lost():
    text = "x" * 250
    assert "".join(split_message(text, 100)) == text
