"""The tick's send ledger on SQLite and PostgreSQL, with a fake clock and a fake Telegram: each
result recorded as it comes, refusals never retried, timeouts re-sent once, crashes re-sent
after the lease by one process only, follow-ups never lost."""

from __future__ import annotations

import asyncio
import shutil
from collections import Counter
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import insert, select
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.clock import FakeClock
from bot.db import Database
from bot.db.models import Checkin, Profile, Urge, User
from bot.scheduler import Scheduler
from bot.services.checkin import CLAIM_LEASE, MAX_ATTEMPTS, CheckinService, Claimed, Outcome
from bot.services.urge import FollowUp, UrgeService

PEOPLE = range(1, 41)


class FakeTelegram:
    """Records each send per chat; `fail[chat]` is an exception raised for that chat, or a list
    of them raised on successive attempts."""

    def __init__(self) -> None:
        self.sent: Counter[int] = Counter()
        self.tried: Counter[int] = Counter()
        self.fail: dict[int, object] = {}

    async def __call__(self, bot: object, item: Claimed | FollowUp) -> int:
        self.tried[item.chat_id] += 1
        error = self.fail.get(item.chat_id)
        if isinstance(error, list):
            error = error.pop(0) if error else None
        if isinstance(error, BaseException):
            raise error
        self.sent[item.chat_id] += 1
        return 1000 + item.chat_id


async def people(db: Database, clock: FakeClock, *, follow_ups: bool = False) -> None:
    now = clock.now()
    due = now - timedelta(seconds=1)
    async with db.transaction() as session:
        await session.execute(
            insert(User),
            [{"id": i, "chat_id": i, "first_name": "Sam", "is_active": True, "created_at": now,
              "last_seen_at": now} for i in PEOPLE],
        )  # fmt: skip
        await session.execute(
            insert(Profile),
            [{"user_id": i, "timezone": "UTC", "checkin_hour": due.hour, "updated_at": now,
              "intake_completed_at": now, "next_checkin_at": None if follow_ups else due}
             for i in PEOPLE],
        )  # fmt: skip
        if follow_ups:
            await session.execute(
                insert(Urge),
                [{"user_id": i, "at": due, "local_hour": due.hour, "strength": "some",
                  "source": "draft", "outcome": "pending", "draft": "hi", "follow_up_at": due}
                 for i in PEOPLE],
            )  # fmt: skip


def scheduler(db: Database, clock: FakeClock, telegram: FakeTelegram) -> Scheduler:
    checkins = CheckinService(db, clock, "UTC")
    urges = UrgeService(db, clock, "UTC", checkins, None, None)  # type: ignore[arg-type]
    return Scheduler(checkins, telegram, urges, telegram)


async def statuses(db: Database) -> dict[int, str]:
    async with db.sessions() as session:
        return dict((await session.execute(select(Checkin.user_id, Checkin.status))).all())


async def test_one_permanent_refusal_leaves_everyone_else_with_exactly_one_check_in(
    migrated_db: Database, clock: FakeClock
) -> None:
    await people(migrated_db, clock)
    telegram = FakeTelegram()
    telegram.fail[7] = BadRequest("Bad Request: can't parse entities")
    tick = scheduler(migrated_db, clock, telegram).tick
    report = await tick(object())
    assert (report.sent, report.refused) == (39, 1)
    for _ in range(3):
        clock.advance(minutes=5)
        await tick(object())
    assert telegram.sent == Counter({i: 1 for i in PEOPLE if i != 7})
    assert telegram.tried[7] == 1
    assert (await statuses(migrated_db))[7] == "refused"


async def test_a_timed_out_send_is_uncertain_and_sent_once_more_after_the_lease(
    migrated_db: Database, clock: FakeClock
) -> None:
    await people(migrated_db, clock)
    telegram = FakeTelegram()
    timeout = TimedOut()
    timeout.__cause__ = httpx.ReadTimeout("slow")
    telegram.fail[3] = [timeout]
    tick = scheduler(migrated_db, clock, telegram).tick
    assert (await tick(object())).uncertain == 1
    assert (await statuses(migrated_db))[3] == "uncertain"
    clock.advance(seconds=CLAIM_LEASE.total_seconds() - 1)
    await tick(object())
    assert telegram.tried[3] == 1  # still inside the lease: not again yet
    clock.advance(seconds=2)
    await tick(object())
    assert (telegram.tried[3], telegram.sent[3]) == (2, 1)
    assert (await statuses(migrated_db))[3] == "sent"


async def test_a_send_that_keeps_timing_out_is_given_up_after_the_last_attempt(
    migrated_db: Database, clock: FakeClock
) -> None:
    await people(migrated_db, clock)
    telegram = FakeTelegram()
    telegram.fail[5] = TimedOut()
    tick = scheduler(migrated_db, clock, telegram).tick
    for _ in range(MAX_ATTEMPTS + 2):
        await tick(object())
        clock.advance(seconds=CLAIM_LEASE.total_seconds() + 1)
    assert telegram.tried[5] == MAX_ATTEMPTS
    assert (await statuses(migrated_db))[5] == "gave_up"


async def test_telegram_that_never_took_it_does_not_use_up_an_attempt(
    migrated_db: Database, clock: FakeClock
) -> None:
    await people(migrated_db, clock)
    telegram = FakeTelegram()
    refused_connection = NetworkError("httpx.ConnectError: refused")
    refused_connection.__cause__ = httpx.ConnectError("refused")
    telegram.fail[9] = [RetryAfter(30), refused_connection, NetworkError("Bad Gateway")]
    tick = scheduler(migrated_db, clock, telegram).tick
    assert (await tick(object())).retry_later == 1
    clock.advance(seconds=31)
    for _ in range(3):
        await tick(object())
        clock.advance(seconds=CLAIM_LEASE.total_seconds() + 1)
    assert (telegram.tried[9], telegram.sent[9]) == (4, 1)


async def test_someone_who_blocked_the_bot_is_marked_and_gets_nothing_more(
    migrated_db: Database, clock: FakeClock
) -> None:
    await people(migrated_db, clock)
    telegram = FakeTelegram()
    telegram.fail[2] = Forbidden("Forbidden: bot was blocked by the user")
    tick = scheduler(migrated_db, clock, telegram).tick
    assert (await tick(object())).blocked == 1
    async with migrated_db.sessions() as session:
        assert (await session.get(User, 2)).is_active is False
    clock.advance(days=1)
    await tick(object())
    assert telegram.tried[2] == 1


async def test_a_crash_mid_send_is_re_sent_after_the_lease_by_one_process_only(
    migrated_db: Database, clock: FakeClock
) -> None:
    await people(migrated_db, clock)
    checkins = CheckinService(migrated_db, clock, "UTC")
    claims = await checkins.claim_due(clock.now())
    async with checkins.ledger() as ledger:  # the first ten begin, then the process dies
        for claim in claims[:10]:
            assert await ledger.begin(claim)
    telegrams = [FakeTelegram(), FakeTelegram()]
    ticks = [scheduler(migrated_db, clock, t).tick for t in telegrams]
    await asyncio.gather(*(t(object()) for t in ticks))
    assert sum(t.sent.total() for t in telegrams) == 0  # still leased: perhaps in flight
    clock.advance(seconds=CLAIM_LEASE.total_seconds() + 1)
    await asyncio.gather(*(t(object()) for t in ticks))
    both = telegrams[0].sent + telegrams[1].sent
    assert both == Counter(dict.fromkeys(PEOPLE, 1))
    assert set((await statuses(migrated_db)).values()) == {"sent"}


async def test_a_slow_send_still_in_flight_is_not_sent_again_by_another_process(
    migrated_db: Database, clock: FakeClock
) -> None:
    await people(migrated_db, clock)
    checkins = CheckinService(migrated_db, clock, "UTC")
    claims = await checkins.claim_due(clock.now())
    async with checkins.ledger() as ledger:
        assert await ledger.begin(claims[0])  # its request is on the wire, slowly
    clock.advance(seconds=CLAIM_LEASE.total_seconds() / 2)
    other = FakeTelegram()
    await scheduler(migrated_db, clock, other).tick(object())
    assert other.tried[claims[0].chat_id] == 0
    # A process holding a stale view of the row cannot begin a second attempt either.
    async with checkins.ledger() as ledger:
        assert not await ledger.begin(claims[0])


async def test_a_follow_up_claimed_when_the_process_died_is_sent_after_the_lease_not_lost(
    migrated_db: Database, clock: FakeClock
) -> None:
    await people(migrated_db, clock, follow_ups=True)
    checkins = CheckinService(migrated_db, clock, "UTC")
    urges = UrgeService(migrated_db, clock, "UTC", checkins, None, None)  # type: ignore[arg-type]
    claimed = await urges.claim_follow_ups(clock.now())  # then the process dies
    assert len(claimed) == len(PEOPLE)
    telegram = FakeTelegram()
    tick = scheduler(migrated_db, clock, telegram).tick
    assert (await tick(object())).follow_ups == 0  # leased
    clock.advance(seconds=CLAIM_LEASE.total_seconds() + 1)
    assert (await tick(object())).follow_ups == len(PEOPLE)
    clock.advance(minutes=10)
    assert (await tick(object())).follow_ups == 0
    assert telegram.sent == Counter(dict.fromkeys(PEOPLE, 1))
    async with migrated_db.sessions() as session:
        rows = (await session.execute(select(Urge.follow_up_at, Urge.follow_up_status))).all()
    assert set(rows) == {(None, "sent")}


async def test_a_follow_up_refused_for_good_is_not_retried_and_its_draft_is_forgotten(
    migrated_db: Database, clock: FakeClock
) -> None:
    await people(migrated_db, clock, follow_ups=True)
    telegram = FakeTelegram()
    telegram.fail[4] = BadRequest("Bad Request: message is too long")
    tick = scheduler(migrated_db, clock, telegram).tick
    assert (await tick(object())).follow_ups == len(PEOPLE) - 1
    clock.advance(minutes=10)
    await tick(object())
    assert telegram.tried[4] == 1
    async with migrated_db.sessions() as session:
        urge = (await session.scalars(select(Urge).where(Urge.user_id == 4))).one()
    assert (urge.follow_up_status, urge.draft, urge.follow_up_at) == ("refused", None, None)


@pytest.mark.parametrize("lease", [timedelta(seconds=30)])
async def test_the_lease_comes_from_the_scheduler(
    migrated_db: Database, clock: FakeClock, lease: timedelta
) -> None:
    await people(migrated_db, clock)
    checkins = CheckinService(migrated_db, clock, "UTC")
    await checkins.claim_due(clock.now())  # then the process dies
    telegram = FakeTelegram()
    tick = Scheduler(checkins, telegram, lease=lease).tick
    clock.advance(seconds=lease.total_seconds() + 1)
    assert (await tick(object())).sent == len(PEOPLE)


async def _held_writer_turn(db: Database) -> tuple[asyncio.Event, asyncio.Task[None]]:
    """Another task (a reply being written) holds the process's writer turn until released."""
    holding, release = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with db.write_turn():
            holding.set()
            await release.wait()

    task = asyncio.create_task(hold())
    await holding.wait()
    return release, task


async def test_on_sqlite_the_ledger_and_a_check_in_tap_write_only_in_the_process_writer_turn(
    tmp_path: Path, sqlite_template: Path, clock: FakeClock
) -> None:
    """SQLite lets one writer in and makes the others sleep and retry: a write that skipped the
    turn would leave a reply's write sleeping while the burst's records keep the file."""
    path = tmp_path / "coach.sqlite3"
    shutil.copy(sqlite_template, path)
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        await people(db, clock)
        checkins = CheckinService(db, clock, "UTC")
        claims = await checkins.claim_due(clock.now())
        async with checkins.ledger() as ledger:
            release, holder = await _held_writer_turn(db)
            begun = asyncio.create_task(ledger.begin(claims[0]))
            await asyncio.sleep(0.2)
            assert not begun.done()
            release.set()
            await holder
            assert await begun
            await ledger.record(claims[0], Outcome.SENT, 1001)
        release, holder = await _held_writer_turn(db)
        tapped = asyncio.create_task(checkins.answer(1, claims[0].checkin_id, "mood", "4"))
        await asyncio.sleep(0.2)
        assert not tapped.done()
        release.set()
        await holder
        assert (await tapped).mood == 4
    finally:
        await db.dispose()
