"""Once abuse or danger from the ex is known, reconnecting disappears everywhere: a walk through
every place the bot could offer it, for a person who disclosed abuse and for one who reported
danger in a message, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from bot.context import SERVICES_KEY
from bot.services import retry
from bot.services.advice import Answers
from bot.services.checkin import RECONNECTING_PHASES
from bot.services.program import NotNow
from tests.handlers.driver import Person, Reply
from tests.handlers.test_intake import finish_intake, profile_of

PLEA = "I miss you so much. Please come back, I'll do anything"
# Suggestion groups that lead back towards the ex (content/suggestions.yaml); the emergency,
# urgent and logistics groups stay allowed.
RECONNECTING_GROUPS = ("first_message", "casual_reply", "quick_repair", "relationship_reply")
DISCLOSURES = {
    "abuse": "he hit me when he was angry",
    "danger": "I'm scared he will hurt me, he keeps turning up outside my flat",
}


@pytest.fixture(autouse=True)
def no_waiting_between_retries(monkeypatch):
    monkeypatch.setattr(retry, "DELAYS", (0, 0))


def services(person: Person):
    return person.app.bot_data[SERVICES_KEY]


def reconnecting_texts(person: Person) -> list[str]:
    suggestions = services(person).content.rulebook.suggestions
    return [s.text for group in RECONNECTING_GROUPS for s in suggestions.get(group, ())]


def assert_no_reconnecting(person: Person, reply: Reply) -> None:
    sent = reply.text
    for text in reconnecting_texts(person):
        assert text[:40] not in sent, f"a reconnecting suggestion was sent: {text!r}"
    assert "one of these lands better" not in sent  # no rewrites of a draft
    assert "Ask me again in 20 minutes" not in "\n".join(
        b["text"]
        for call in reply.calls
        for row in (call.params.get("reply_markup") or {}).get("inline_keyboard", [])
        for b in row
    )


@pytest.mark.parametrize("kind", sorted(DISCLOSURES))
async def test_after_abuse_or_danger_no_entry_point_offers_reconnecting(person, clock, kind):
    await finish_intake(person)  # wanted them back, before
    # A draft held back before the disclosure.
    await person.send("/urge")
    await person.tap("A strong pull")
    await person.send(PLEA)
    await person.tap("Ask me again in 20 minutes")

    reply = await person.send(DISCLOSURES[kind])
    assert "I've let go of the message you were holding" in reply.text
    uid = person.user.id
    assert await services(person).safety.reconnection_blocked(uid)
    profile = await profile_of(person)
    assert profile.phase == "move_on" and profile.goal.value == "move_on"

    # 1, 9. "Should I text them?" for someone who misses them, and its suggestions.
    reply = await person.send("/shouldi")
    for label in ("No", "I miss them", "Sad", "No"):
        if label in person.buttons():
            reply = await person.tap(label)
            assert_no_reconnecting(person, reply)
    for reason in (None, "miss_them", "ask_to_get_back", "apologise"):
        advice = await services(person).advice.verdict_for(uid, Answers(reason_to_text=reason))
        assert advice.verdict.decision != "reach_out"

    # 2. "They texted me", about the relationship and just being friendly.
    for label in ("About the relationship", "Just being friendly"):
        await person.send("Alex texted me")
        reply = await person.tap(label)
        assert_no_reconnecting(person, reply)
    for kind_sent in ("relationship", "casual"):
        advice = await services(person).advice.they_texted(uid, kind_sent)
        assert advice.verdict.decision != "reach_out"

    # 3, 4. An /urge draft: findings, but no rewrites and no hold.
    await person.send("/urge")
    await person.tap("A strong pull")
    reply = await person.send(PLEA)
    assert_no_reconnecting(person, reply)
    assert "Let's let this one go" in reply.text
    assert "Ask me again in 20 minutes" not in person.buttons()
    clock.advance(minutes=30)
    ticked = await person.app.bot_data["scheduler"].tick(person.app.bot)
    assert ticked.follow_ups == 0  # the draft held before never comes back

    # 5, 6. The plan: moving on, no decision step, no readiness checklist.
    reply = await person.send("/plan")
    assert "Let go and move on" in reply.text
    with pytest.raises(NotNow):
        await services(person).program.decide(uid)
    with pytest.raises(NotNow):
        await services(person).program.checklist(uid, "readiness")

    # 7. Lessons come from moving on, never from a reconnecting phase.
    for _ in range(5):
        _, lesson = await services(person).program.today(uid)
        assert lesson.phase not in RECONNECTING_PHASES
        clock.advance(days=1)

    # 10. A goal of getting back together is not taken on while abuse is known.
    await services(person).intake.answer(uid, "goal", "get_back", advance=False)
    assert (await profile_of(person)).goal.value == "move_on"
    if kind == "danger":  # reported danger outlasts any later answer about abuse
        await services(person).intake.answer(uid, "abuse", "no", advance=False)
        assert await services(person).safety.reconnection_blocked(uid)
        _, lesson = await services(person).program.today(uid)
        assert (await profile_of(person)).abuse.value == "yes"


async def test_without_a_disclosure_the_same_checks_do_find_reconnecting_advice(person):
    """The walk-through's checks can fail: for someone with no abuse or danger known, the same
    entry points do offer reconnecting suggestions and rewrites."""
    await finish_intake(person)
    await person.send("Alex texted me")
    reply = await person.tap("Just being friendly")
    with pytest.raises(AssertionError):
        assert_no_reconnecting(person, reply)
    await person.send("/urge")
    await person.tap("A strong pull")
    await person.send(PLEA)
    assert "Ask me again in 20 minutes" in person.buttons()
