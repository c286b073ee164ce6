""" "Breathe with me" is held in the database, not in one process's memory: a restart mid-way
finishes the minute, a long outage sends only its closing words, and two processes never both
send a step. The clock is the test's own."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select

from bot.app import build_services
from bot.db.models import BreathingExercise
from content.understand import breathing_steps
from tests.handlers.driver import Person
from tests.handlers.test_intake import finish_intake
from tests.handlers.test_listening import awaiting, run_scheduled

CLOSING = "That was one minute"


async def start(person: Person) -> None:
    await finish_intake(person)
    await person.send("I feel so anxious I can't breathe properly")
    await person.tap("Breathe with me")


async def catch_up(person: Person) -> list[str]:
    """What the repeating catch-up job of a (new) process sends when it runs once."""
    (job,) = [j for j in person.app.job_queue.jobs() if j.name == "breathing-catch-up"]
    before = len(person.transport.calls)
    await job.run(person.app)
    return [c.result.get("text", "") for c in person.transport.calls[before:]
            if c.method == "sendMessage"]  # fmt: skip


async def rows(person: Person) -> int:
    async with person.db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(BreathingExercise)))


async def test_a_restart_in_the_middle_of_breathing_finishes_the_minute_once(person):
    await start(person)
    assert await rows(person) == 1
    await person.restart()  # as after kill -9: the timed jobs of the old process are gone
    assert not [j for j in person.app.job_queue.jobs() if (j.name or "").startswith("breathe:")]
    person.clock.advance(seconds=5)
    sent = await catch_up(person)
    assert len(sent) == 1 and CLOSING not in sent[0]
    sent += await run_scheduled(person)  # the new process times the rest
    assert len(sent) == len(breathing_steps()) - 1
    assert CLOSING in sent[-1] and all(CLOSING not in s for s in sent[:-1])
    assert await awaiting(person) == "listen.feeling"
    assert await rows(person) == 0


async def test_breathing_found_long_after_an_outage_sends_only_its_closing_words(person):
    await start(person)
    await person.restart()
    person.clock.advance(minutes=10)
    sent = await catch_up(person)
    assert len(sent) == 1 and CLOSING in sent[0]
    assert await catch_up(person) == []
    assert await awaiting(person) == "listen.feeling"
    assert await rows(person) == 0


async def test_two_processes_never_both_send_a_breathing_step(person, settings, db, clock):
    await finish_intake(person)
    one = person.app.services.listening
    other = build_services(settings, clock=clock, db=db).listening
    began = clock.now()
    await one.start_breathing(person.user.id, person.user.id)
    sent = []
    for step in breathing_steps()[1:]:
        clock.set(began + timedelta(seconds=step.at_seconds - 1))
        assert await asyncio.gather(one.take_due_breaths(), other.take_due_breaths()) == [[], []]
        clock.set(began + timedelta(seconds=step.at_seconds))
        taken = await asyncio.gather(one.take_due_breaths(), other.take_due_breaths())
        assert sum(len(t) for t in taken) == 1, taken
        sent += [d.text_id for t in taken for d in t]
    assert sent == [s.text_id for s in breathing_steps()[1:]]
    assert not await one.breathing_under_way(person.user.id)
