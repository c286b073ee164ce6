"""Two replicas of the bot serve one person: two `python -m bot run --mode webhook` processes
share one PostgreSQL database (a database of the test's own), and a round-robin proxy in front
of them hands each person's updates to the replicas in turn. Whatever a person is in the middle
of lives in the database, so the flows finish coherently whichever process takes each step;
both replicas run the tick, and no check-in or follow-up goes out twice or not at all. A replica
killed with SIGKILL in the middle of a flow is skipped by the proxy, and the person carries on
through the other one with nothing lost.

Without PostgreSQL this test is skipped locally, with the reason, and fails in CI (CI=true).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from tests.e2e.harness import (
    CITY_ZONES,
    WAIT_S,
    BotProcess,
    Emulator,
    Person,
    daytime_city,
    in_ci,
    intake_until_the_hour,
    wait_until,
)
from tests.e2e.round_robin import RoundRobin

pytestmark = pytest.mark.e2e

ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
).replace("postgresql+asyncpg://", "postgresql://", 1)
TICK_S = 1.0  # both replicas tick every second
PEOPLE = 8  # people whose check-ins come due at the same moment on both replicas
FIRST_ID = 770_000_000
BUDGET_S = 90.0
PLEA = "I miss you so much and I still love you. Please come back, I'll do anything"


# --- a database of the test's own -----------------------------------------------------------


def sql(dsn: str, query: str, *args: Any) -> list[asyncpg.Record]:
    async def run() -> list[asyncpg.Record]:
        connection = await asyncpg.connect(dsn, timeout=5)
        try:
            return await connection.fetch(query, *args)
        finally:
            await connection.close()

    return asyncio.run(run())


@pytest.fixture
def database() -> Iterator[str]:
    """A fresh PostgreSQL database (the bot migrates it at start); dropped afterwards."""
    name = f"replicas_{uuid.uuid4().hex[:12]}"
    try:
        sql(ADMIN_URL, f'CREATE DATABASE "{name}"')
    except (OSError, asyncpg.PostgresError) as error:
        problem = f"PostgreSQL at {ADMIN_URL} is unavailable: {type(error).__name__}: {error}"
        if in_ci():
            pytest.fail(f"{problem} (CI requires the two-replica test)", pytrace=False)
        pytest.skip(problem)
    yield ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    sql(ADMIN_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def replicas(
    emulator: Emulator, database: str, tmp_path: Path
) -> Iterator[tuple[RoundRobin, list[BotProcess]]]:
    """Two webhook replicas on `database` behind the round-robin proxy (which the emulator
    posts to), started together: they take turns migrating the new database."""
    proxy = RoundRobin(upstreams=[])
    bots: list[BotProcess] = []
    try:
        for name in ("replica0", "replica1"):
            bots.append(
                BotProcess(
                    emulator,
                    tmp_path / name,
                    mode="webhook",
                    name=name,
                    public_url=proxy.url("/telegram"),
                    env={"DATABASE_URL": database, "TICK_SECONDS": str(TICK_S)},
                )
            )
        for bot in bots:
            bot.wait_ready()
            assert bot.webhook_url
            proxy.upstreams.append(bot.webhook_url)
        yield proxy, bots
    finally:
        for bot in bots:
            bot.stop()
        proxy.close()
        for bot in bots:  # shown by pytest only when the test fails
            print(bot.log_tail(60))


# --- the person's side --------------------------------------------------------------------------


def intake(person: Person) -> None:
    """The whole intake; the check-in hour about twelve hours away, so the regular check-in
    stays out of the test."""
    city = daytime_city()  # /shouldi below must not meet the late-night rule
    intake_until_the_hour(person, city)
    hour = (datetime.now(ZoneInfo(CITY_ZONES[city])).hour + 12) % 24
    person.send(f"{hour:02d}:00", expect="Send /plan any time")


def is_checkin(message: dict[str, Any]) -> bool:
    return message.get("text", "").startswith("Daily check-in")


def is_follow_up(message: dict[str, Any]) -> bool:
    return "Still want to send it?" in message.get("text", "")


def sent_to(person: Person, since: int, which: Any) -> list[dict[str, Any]]:
    return [
        e["message"] for e in person.events(since) if e["type"] == "message" and which(e["message"])
    ]


def settled(database: str, bot: BotProcess | None = None) -> None:
    """Wait until every update in the inbox is marked handled."""
    wait_until(
        lambda: not sql(database, "SELECT 1 FROM inbox WHERE processed_at IS NULL"),
        WAIT_S,
        "every recorded update to be marked handled",
        bot.log_tail if bot else str,
        interval=0.1,
    )


def both_took_turns(proxy: RoundRobin, person: Person) -> list[int]:
    took = proxy.replicas_of(person.user_id)
    assert set(took) == {0, 1}, took
    return took


# --- the test -----------------------------------------------------------------------------------


def test_two_replicas_serve_one_person_in_turn_and_a_killed_one_loses_nothing(
    emulator, replicas, database
):
    started = time.monotonic()
    proxy, bots = replicas
    # Everyone looks for the bot's answers less often than one person alone would, so that
    # their looking does not crowd the emulator.
    people = [Person(emulator, user_id=FIRST_ID + i, poll_s=0.1) for i in range(PEOPLE)]
    sam = people[0]

    # The intake, one step on each replica in turn (everyone at once).
    with ThreadPoolExecutor(max_workers=PEOPLE) as pool:
        list(pool.map(intake, people))
    took = both_took_turns(proxy, sam)
    assert all(a != b for a, b in itertools.pairwise(took)), took  # strictly alternating
    (profile,) = sql(
        database, "SELECT ex_name, intake_step FROM profiles WHERE user_id = $1", sam.user_id
    )
    assert profile["ex_name"] == "Alex" and profile["intake_step"] is None

    # Everyone's check-in comes due at once; both replicas tick every second.
    since = {p.user_id: p.emulator.seq() for p in people}
    sql(
        database,
        "UPDATE profiles SET next_checkin_at = now() - interval '1 second' "
        "WHERE user_id = ANY($1::bigint[])",
        [p.user_id for p in people],
    )
    for person in people:
        person.wait_until(
            lambda r: any(is_checkin(m) for m in r.messages),
            "the daily check-in",
            since=since[person.user_id],
        )
    time.sleep(3 * TICK_S)  # a few more ticks on each replica: a second one would be out by now
    counts = {p.user_id: len(sent_to(p, since[p.user_id], is_checkin)) for p in people}
    assert set(counts.values()) == {1}, counts
    rows = sql(
        database,
        "SELECT user_id, count(*) AS n FROM checkins WHERE user_id = ANY($1::bigint[]) "
        "GROUP BY user_id",
        [p.user_id for p in people],
    )
    assert {r["user_id"]: r["n"] for r in rows} == dict.fromkeys(counts, 1)

    # Sam answers it: three taps on one message, alternating between the replicas.
    (checkin,) = sent_to(sam, since[sam.user_id], is_checkin)
    sam.tap("No", message=checkin, expect="How are you feeling today?")
    sam.tap("4", message=the_message(sam, checkin), expect="urge")
    sam.tap("Some", message=the_message(sam, checkin), expect="Thanks for checking in")
    (answered,) = sql(
        database, "SELECT status, contact, mood, urge FROM checkins WHERE user_id = $1", sam.user_id
    )
    assert tuple(answered) == ("sent", "none", 4, "some")

    # /urge with a held draft; its follow-up is sent by exactly one of the two ticks.
    sam.send("/urge", expect="How strong is it right now?")
    sam.tap("A strong pull", expect="Paste or type the message here")
    sam.send(PLEA, expect="Want me to hold it?")
    sam.tap("Ask me again in 20 minutes", expect="Held.")
    start = sam.emulator.seq()
    sql(
        database,
        "UPDATE urges SET follow_up_at = now() - interval '1 second' "
        "WHERE user_id = $1 AND follow_up_at IS NOT NULL",
        sam.user_id,
    )
    sam.wait_for("Still want to send it?", since=start)
    time.sleep(3 * TICK_S)
    assert len(sent_to(sam, start, is_follow_up)) == 1

    # /shouldi; one replica is killed half-way and the other carries on.
    sam.send("/shouldi", expect="Any message from Alex lately?")
    sam.tap("No", expect="What's making you want to text Alex?")
    settled(database)  # the last step is marked handled: the kill loses nothing in flight
    victim = proxy.replicas_of(sam.user_id)[-1]  # the replica that handled the last step
    bots[victim].kill()
    survivor = bots[1 - victim]
    sam.tap("I miss them", expect="How are you feeling right now?")
    sam.tap("Sad", expect="Have you sent Alex messages that are still unanswered?")
    sam.tap("No", expect="Not yet")

    # A journal entry written over two messages, then saved, on the survivor alone.
    sam.send("/journal", expect="Your journal")
    sam.tap("Just write", expect="in as many messages as you need")
    sam.send("The first part of today's entry.", expect="characters so far")
    sam.send("And the second part.", expect="characters so far")
    sam.tap("Save", expect="Saved to your journal")
    (entry,) = sql(database, "SELECT text FROM journal_entries WHERE user_id = $1", sam.user_id)
    assert entry["text"] == "The first part of today's entry.\nAnd the second part."

    # Nothing lost, nothing doubled: every update the proxy delivered was handled once.
    after_kill = [r for r in proxy.routed if r.user_id == sam.user_id][-10:]
    assert {r.replica for r in after_kill[-5:]} == {1 - victim}
    settled(database, survivor)
    routed = Counter(r.update_id for r in proxy.routed)
    assert max(routed.values()) == 1
    (inbox,) = sql(database, "SELECT count(*) AS n FROM inbox")
    assert inbox["n"] == len(routed)
    assert survivor.running()
    for bot in bots:
        assert "Traceback" not in bot.log(), bot.log_tail(80)
    assert time.monotonic() - started < BUDGET_S


def the_message(person: Person, message: dict[str, Any]) -> dict[str, Any]:
    """The message as it is now in the chat (after edits)."""
    return next(m for m in person.messages() if m["message_id"] == message["message_id"])
