"""Every intent and feeling topic of the labelled set gets a fitting answer through the real
Application, and no message gets the "not sure what to do" reply.

The sample is drawn evenly from both labelled files (tests/unit/fixtures/understand_*.tsv):
up to PER_GROUP messages of every (intent, topic) group, always including the first ones, which
are the messages the listening issue quoted. Crisis and danger rows are left to the safety
tests: they are answered by the screen before the text route, and put the person on a hold.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from pathlib import Path

from content.understand import INTENTS as INTENT_NAMES
from content.understand import TOPICS, understand
from handlers import INTENTS as ROUTED
from tests.handlers.driver import Person, Reply
from tests.handlers.test_intake import finish_intake

FIXTURES = Path(__file__).parents[1] / "unit" / "fixtures"
PER_GROUP = 14
# Answered by the safety screen first (the text route hears them only after "I'm safe").
ROUTED_ELSEWHERE = {"crisis", "danger"}


def labelled() -> list[tuple[str, str | None, str]]:
    rows = []
    for name in ("understand_train.tsv", "understand_holdout.tsv"):
        with (FIXTURES / name).open(encoding="utf-8") as f:
            for intent, topic, text in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
                rows.append((intent, topic or None, text))
    return rows


def sample() -> list[tuple[str, str | None, str]]:
    groups: dict[tuple[str, str | None], list[tuple[str, str | None, str]]] = defaultdict(list)
    for row in labelled():
        if row[0] not in ROUTED_ELSEWHERE:
            groups[(row[0], row[1])].append(row)
    picked = []
    for rows in groups.values():
        step = max(1, len(rows) // PER_GROUP)
        picked += rows[::step][:PER_GROUP]
    return picked


def buttons_data(reply: Reply) -> list[str]:
    data = []
    for call in reply.calls:
        if call.method in ("sendMessage", "editMessageText") and isinstance(call.result, dict):
            rows = (call.result.get("reply_markup") or {}).get("inline_keyboard") or []
            data += [b.get("callback_data", "") for row in rows for b in row]
    return data


def kind_of(person: Person, reply: Reply) -> str:
    """Which kind of answer the bot gave, by the flow its buttons open or the text it used."""
    texts = person.app.services.content.texts
    data, text = buttons_data(reply), reply.text
    if texts.render("errors.unknown_text") in text:
        return "unknown"
    if any(d.startswith("urge:strength") for d in data):
        return "urge"
    if texts.render("advice.intro") in text:
        return "should_i_text"
    if any(d.startswith("advice:kind") for d in data):
        return "they_texted"
    if any(d.startswith("listen:slip_yes") for d in data):
        return "slip"
    if any(d.startswith("listen:goal_") for d in data) or any(
        text.startswith(texts.render(f"heard.goal.{t}", phase="")[:30])
        for t in ("already_moving_on", "already_trying", "blocked")
    ):
        return "change_goal"
    for topic in TOPICS:
        if texts.render(f"listen.do.{topic}") in text:
            return f"feeling:{topic}"
    if text.startswith("You're on day"):
        return "progress"
    for small in ("greeting", "thanks", "other"):
        if texts.render(f"heard.{small}") in text:
            return small
    if texts.render("listen.bot.answer") in text:
        return "other"
    return "care" if reply.sent else "silence"


async def test_every_intent_and_topic_of_the_labelled_set_gets_a_fitting_answer(person, clock):
    rows = sample()
    assert len(rows) >= 150
    assert {topic for intent, topic, _ in rows if intent == "feeling"} == set(TOPICS)
    await finish_intake(person)
    services = person.app.services
    kinds: list[tuple[str, str]] = []
    misfits: list[tuple[str, str, str]] = []  # shown when the test fails
    for intent, topic, text in rows:
        clock.advance(minutes=31)  # each message on its own, not combined with the last ones
        reply = await person.send(text)
        expected = f"feeling:{topic}" if intent == "feeling" else intent
        kinds.append((expected, kind_of(person, reply)))
        if kinds[-1][1] != expected:
            misfits.append((expected, text[:60], reply.text[:80]))
        # Each message starts from a quiet chat: no question left open, no safety hold.
        await services.conversation.clear(person.user.id)
        await services.safety.lift_hold(person.user.id)

    got = Counter(kind for _, kind in kinds)
    assert got["unknown"] == 0
    assert got["silence"] == 0
    fitting = sum(1 for expected, kind in kinds if kind == expected)
    intent_fitting = sum(
        1 for expected, kind in kinds if kind.split(":")[0] == expected.split(":")[0]
    )
    assert intent_fitting / len(kinds) >= 0.9, misfits
    assert fitting / len(kinds) >= 0.85
    # Every intent and every topic gets its own kind of answer at least most of the time.
    for group in {expected for expected, _ in kinds}:
        answers = [kind for expected, kind in kinds if expected == group]
        assert answers.count(group) / len(answers) >= 0.6, (group, Counter(answers))


def test_every_message_of_the_whole_set_is_sorted_into_an_intent_the_text_route_answers():
    """The whole set, not a sample: each message's intent has its own handler in the routing
    table, so none can reach the "not sure what to do" reply (kept for unknown /commands)."""
    rows = labelled()
    assert len(rows) >= 400
    unanswered = [
        (text[:60], heard)
        for _, _, text in rows
        if (heard := understand(text).intent) not in ROUTED and heard not in ROUTED_ELSEWHERE
    ]
    assert unanswered == []
    assert set(ROUTED) | ROUTED_ELSEWHERE == set(INTENT_NAMES)
