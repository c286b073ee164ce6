"""No message repeats the one before it: the same Do/Avoid list twice, a restart announced
twice. The helper compares every pair of consecutive bot messages in a chat."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from itertools import pairwise

from tests.handlers.driver import Person
from tests.handlers.test_advice_flow import walk
from tests.handlers.test_checkins import answer_checkin, tick
from tests.handlers.test_intake import finish_intake

LONG_BLOCK_WORDS = 12  # a shared run of this many words is a repeat, not a shared phrase


def words(text: str) -> list[str]:
    return re.findall(r"\w+", re.sub(r"<[^>]+>", " ", text).lower())


def shared_run(a: str, b: str, size: int = LONG_BLOCK_WORDS) -> str | None:
    """A run of `size` words that both texts contain, or None."""
    first, second = words(a), words(b)
    runs = {tuple(first[i : i + size]) for i in range(len(first) - size + 1)}
    for i in range(len(second) - size + 1):
        if tuple(second[i : i + size]) in runs:
            return " ".join(second[i : i + size])
    return None


def assert_no_repeats(person: Person) -> None:
    """No two consecutive bot messages are the same or share a long block."""
    texts = [
        m.get("text") or m.get("caption") or ""
        for m in person.transport.bot_messages(person.user.id)
    ]
    for before, after in pairwise(texts):
        assert before != after, f"the same message twice: {after!r}"
        run = shared_run(before, after)
        assert run is None, f"two messages in a row repeat: {run!r}\n---\n{before}\n---\n{after}"


def test_the_helper_finds_a_repeated_block_and_passes_different_messages():
    same = "Keep your phone in another room tonight and write the message in your journal instead"
    assert shared_run(f"First. {same}", f"{same}. Then rest.") is not None
    assert shared_run("Your first step: stop chasing", "Then: no contact for thirty days") is None


async def test_the_end_of_the_intake_and_the_plan_after_it_repeat_nothing(person):
    await finish_intake(person)
    await person.send("/plan")
    assert_no_repeats(person)


async def test_a_slip_told_in_the_check_in_announces_the_restart_once(person, clock):
    await finish_intake(person)
    clock.set(datetime(2026, 3, 5, 20, tzinfo=UTC))
    await tick(person)
    await answer_checkin(person, "I did", topic="Something else")
    assert_no_repeats(person)


async def test_starting_the_questions_again_is_announced_once(person):
    await finish_intake(person)
    await person.send("/start")
    await person.tap("Start the questions again")
    assert_no_repeats(person)


async def test_opening_a_verdicts_reasons_notes_and_suggestions_repeats_nothing(person):
    await finish_intake(person, shared=("Kids",))
    await walk(person, "No", "Something practical", "Calm")
    for label in ("Why?", "Where the articles differ", "Suggest a message"):
        if label in person.buttons():
            await person.tap(label)
    assert_no_repeats(person)
