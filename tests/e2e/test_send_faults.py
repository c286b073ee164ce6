"""Scheduled sends under faults: the real `python -m bot` behind a faulty proxy (latency, a 400
for one chat, kill -9 mid-tick) in front of the Bot API emulator. Many people are made due
straight in the database, so each trial is quick; every wait is bounded."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.faulty_proxy import FaultyProxy, faulty_proxy, interactive_p95_under_burst
from tests.e2e.harness import (
    BotProcess,
    Emulator,
    kill_9,
    ledger_rows,
    make_due,
    open_chats,
    open_follow_ups,
    wait_until,
)

pytestmark = pytest.mark.e2e

LEASE_S = 5  # SEND_LEASE_SECONDS for these bots: a crashed claim is re-sent this soon
# The send timeout is generous: on a busy 2-core machine a timeout would be a real "uncertain"
# send (re-sent once, by design), which is not what the kill test measures.
FAST = {"TICK_SECONDS": "1", "SEND_LEASE_SECONDS": str(LEASE_S), "SEND_TIMEOUT_SECONDS": "4"}


@pytest.fixture
def proxy(emulator: Emulator) -> Iterator[FaultyProxy]:
    with faulty_proxy(emulator.url) as p:
        yield p


def start_behind(
    start_bot: Callable[..., BotProcess], proxy: FaultyProxy, workdir: Path, paid: bool = False
) -> BotProcess:
    env = {**FAST, "BOT_API_URL": proxy.url, "ALLOW_PAID_BROADCAST": str(paid).lower()}
    return start_bot(workdir=workdir, env=env)


def test_kill_9_mid_tick_misses_no_check_in_loses_no_follow_up_and_duplicates_at_most_what_was_in_flight(  # noqa: E501
    emulator: Emulator, proxy: FaultyProxy, start_bot: Callable[..., BotProcess], tmp_path: Path
) -> None:
    proxy.faults.latency_s = 0.3  # a realistic Bot API
    bot = start_behind(start_bot, proxy, tmp_path)
    rng = random.Random(13)
    for trial in range(5):
        people = range(200_000 + trial * 1000, 200_000 + trial * 1000 + 200)
        mine = set(people)
        open_chats(emulator, people)
        held = people[:50]  # 50 of them also have a held draft's follow-up due
        waiting = set(held)
        make_due(bot.database, people, checkins=True, follow_ups=held)

        def sends(kind: str, mine: set[int] = mine) -> int:
            return sum(n for c, n in proxy.record.delivered(kind).items() if c in mine)

        # Somewhere among the 250 sends (check-ins go first, then the follow-ups).
        kill_at = rng.randint(20, 240)
        wait_until(
            lambda k=kill_at: sends("checkin") + sends("follow_up") >= k,
            60,
            f"{kill_at} sends in trial {trial}",
            bot.log_tail,
            interval=0.01,
        )
        kill_9(bot)
        # Every other trial restarts in the paid-broadcast lane (its own, faster budget).
        in_flight = sum(
            1 for _, status, attempts in ledger_rows(bot.database, people)
            if status in ("claimed", "uncertain") and attempts > 0
        ) + len(open_follow_ups(bot.database, people, begun=True))  # fmt: skip
        bot = start_behind(start_bot, proxy, tmp_path, paid=trial % 2 == 1)

        def everyone_has_both(mine: set[int] = mine, waiting: set[int] = waiting) -> bool:
            record = proxy.record
            return record.delivered("checkin").keys() >= mine and (
                record.delivered("follow_up").keys() >= waiting
            )

        wait_until(everyone_has_both, 90, f"every send of trial {trial}", bot.log_tail)

        def settled(people: range = people, db: Path = bot.database) -> bool:
            """No result still to come, so no re-send either."""
            rows = ledger_rows(db, people)
            return not open_follow_ups(db, people) and all(
                status not in ("claimed", "uncertain") for _, status, _ in rows
            )

        wait_until(settled, 30, f"the ledger of trial {trial} to settle", bot.log_tail)
        extra = sum(
            n - 1
            for kind in ("checkin", "follow_up")
            for c, n in proxy.record.delivered(kind).items()
            if c in mine
        )
        assert extra <= in_flight, (trial, kill_at, extra, in_flight)
    # Nobody missed anything, in any trial.
    assert len(proxy.record.delivered("checkin")) == 5 * 200
    assert len(proxy.record.delivered("follow_up")) == 5 * 50


def test_one_permanent_refusal_touches_nobody_else_and_is_tried_once(
    emulator: Emulator, proxy: FaultyProxy, start_bot: Callable[..., BotProcess], tmp_path: Path
) -> None:
    bot = start_behind(start_bot, proxy, tmp_path)
    people = range(300_000, 300_040)
    refused = people[17]
    proxy.faults.refuse_chat = refused
    open_chats(emulator, people)
    make_due(bot.database, people)
    others = set(people) - {refused}
    wait_until(
        lambda: proxy.record.delivered("checkin").keys() >= others,
        30,
        "the 39 check-ins",
        bot.log_tail,
    )
    time.sleep(LEASE_S + 3)  # several ticks and a lease: nothing is tried again
    delivered = proxy.record.delivered("checkin")
    assert {c: delivered[c] for c in others} == dict.fromkeys(others, 1)
    assert refused not in delivered
    assert proxy.record.attempts(refused) == 1
    statuses = {u: s for u, s, _ in ledger_rows(bot.database, people)}
    assert statuses[refused] == "refused"
    assert "Traceback" not in bot.log()


@pytest.mark.alone
@pytest.mark.parametrize("paid", [False, True], ids=["free lane", "paid broadcast"])
def test_people_talking_to_the_bot_are_answered_within_a_second_during_a_burst_of_check_ins(
    emulator: Emulator,
    proxy: FaultyProxy,
    start_bot: Callable[..., BotProcess],
    tmp_path: Path,
    paid: bool,
) -> None:
    """Replies overtake the scheduled sends, in the free lane (30 a second shared) and with paid
    broadcast (up to 1,000 a second, which would otherwise fill the bot's own event loop).
    Timed, so it runs alone (a second worker's tests on the same two cores would double every
    time); counted too: while a person waits, at most a few seconds' worth of the free lane
    goes out, where a reply queued behind the burst would wait for hundreds."""
    bot = start_behind(start_bot, proxy, tmp_path, paid=paid)
    p95, detail = interactive_p95_under_burst(emulator, proxy, bot)
    assert p95 <= 1000, (p95, detail)
    assert detail["checkins_ahead_p95"] <= 150, (p95, detail)
    assert detail["checkins_sent_meanwhile"] > 100  # the burst really was going on
