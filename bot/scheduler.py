"""The one repeating tick: claim due work, send it, record each result the moment it is known.

There is no job per person. Each profile carries its next check-in time (UTC, indexed); the tick
claims what is due (a unique row per person, local date and kind, inserted before sending, so
restarts and overlapping ticks never claim twice), sends through the rate-limited bot in the
scheduled lane (bot.ratelimit: people talking to the bot go first), and moves the pointer on.
The same tick sends the follow-ups of held drafts ("Still want to send it?"), each claimed with
a lease on its urge row. Start-up does no per-person work.

The send ledger (CheckinService.ledger): every send is fenced (`begin` counts the attempt and
renews the lease only if nobody else has begun one) and its result is written as soon as it is
known, each write committed by itself:

- sent: done. Refused for good (a 400): marked, never tried again. Blocked (403, chat not
  found): the person is marked inactive, nothing more is sent until they come back.
- certainly not sent (429 after the rate limiter's own retries, no connection): open again
  after the pause, and it does not count as an attempt.
- timed out, or any other error after the request may have left: "uncertain". Telegram may or
  may not have delivered it. It is sent once more after the lease (a duplicate is possible, a
  lost check-in is not), and given up after MAX_ATTEMPTS.
- a crash: the claims in flight stay open and are re-sent after the lease, by one process
  (the re-claim locks and skips rows on PostgreSQL). The sends that were in flight at the kill
  are the only ones that can arrive twice: their result died with the process.

Each send is its own task that catches its own errors, so one failure never touches anyone
else's send.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.ext import Application, ContextTypes

from bot.context import SERVICES_KEY
from bot.ratelimit import scheduled_lane
from bot.services.checkin import CLAIM_LEASE, CheckinService, Claimed, Outcome, SendLedger
from bot.services.urge import FollowUp, FollowUpLedger, UrgeService

log = logging.getLogger(__name__)

TICK_SECONDS = 60
BATCH = 500
# Sends in flight at once. Small on purpose: it bounds what a crash can duplicate, and the
# rate limiter, not this, sets the pace.
CONCURRENT_SENDS = 20

Sender = Callable[[Bot, Claimed], Awaitable[int]]
FollowUpSender = Callable[[Bot, FollowUp], Awaitable[int]]
# Drafts nobody is waiting on are forgotten this often (the query is idempotent; this is a cache).
FORGET_DRAFTS_EVERY = timedelta(minutes=30)
# Errors that say the request never reached Telegram, so nothing was delivered (PTB raises
# NetworkError or TimedOut from them).
NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def classify(error: BaseException) -> tuple[Outcome, timedelta]:
    """What a failed send means for the ledger, and how long to wait before the next try."""
    if isinstance(error, RetryAfter):
        return Outcome.NOT_SENT, error._retry_after
    if isinstance(error, Forbidden):
        return Outcome.BLOCKED, timedelta(0)
    if isinstance(error, BadRequest):
        message = error.message.lower()
        if "chat not found" in message or "user is deactivated" in message:
            return Outcome.BLOCKED, timedelta(0)
        return Outcome.REFUSED, timedelta(0)
    if isinstance(error, NetworkError) and isinstance(error.__cause__, NOT_SENT_ERRORS):
        return Outcome.NOT_SENT, timedelta(0)
    if type(error) is NetworkError and error.__cause__ is None:
        # Telegram answered with an error status (a 5xx, "Bad Gateway"): it did not take it.
        return Outcome.NOT_SENT, timedelta(0)
    return Outcome.UNCERTAIN, timedelta(0)


@dataclass
class TickReport:
    sent: int = 0
    blocked: int = 0
    refused: int = 0
    uncertain: int = 0
    retry_later: int = 0
    claimed: list[int] = field(default_factory=list)
    follow_ups: int = 0  # urge follow-ups sent
    follow_ups_claimed: list[int] = field(default_factory=list)

    def count(self, outcome: Outcome, follow_up: bool = False) -> None:
        if outcome is Outcome.SENT:
            if follow_up:
                self.follow_ups += 1
            else:
                self.sent += 1
        elif outcome is Outcome.BLOCKED:
            self.blocked += 1
        elif outcome is Outcome.REFUSED:
            self.refused += 1
        elif outcome is Outcome.UNCERTAIN:
            self.uncertain += 1
        else:
            self.retry_later += 1


class Scheduler:
    def __init__(
        self,
        checkins: CheckinService,
        send: Sender,
        urges: UrgeService | None = None,
        send_follow_up: FollowUpSender | None = None,
        forget_signals: Callable[[datetime], Awaitable[int]] | None = None,
        *,
        lease: timedelta = CLAIM_LEASE,
    ) -> None:
        self.checkins = checkins
        self.send = send
        self.urges = urges
        self.send_follow_up = send_follow_up
        self.lease = lease
        # Everyone's screen outcomes older than half an hour, removed on each tick.
        self.forget_signals = forget_signals
        self._drafts_forgotten_at: datetime | None = None

    async def tick(self, bot: Bot) -> TickReport:
        report = TickReport()
        now = self.checkins.clock.now()
        with scheduled_lane():
            pending = await self.checkins.reclaim_open(now, limit=BATCH, lease=self.lease)
            while True:
                batch = await self.checkins.claim_due(now, limit=BATCH)
                pending.extend(batch)
                if len(batch) < BATCH:
                    break
            if pending:
                # The ledger holds a connection, so it is opened only once the claims are in.
                async with self.checkins.ledger(self.lease) as ledger:
                    await self._each(pending, lambda c: self._checkin(bot, c, ledger, report))
            if self.urges is not None and self.send_follow_up is not None:
                await self._follow_ups(bot, now, report, self.urges)
        if self.forget_signals is not None:
            await self.forget_signals(now)
        return report

    @staticmethod
    async def _each(items: list[Any], deliver: Callable[[Any], Awaitable[None]]) -> None:
        """Every item sent in its own task, at most CONCURRENT_SENDS at once. Each task records
        its own result; an error escaping one (a database hiccup) is logged, never cancels the
        others, and leaves that item open for the next tick."""
        gate = asyncio.Semaphore(CONCURRENT_SENDS)

        async def one(item: Any) -> None:
            async with gate:
                await deliver(item)

        results = await asyncio.gather(*(one(i) for i in items), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                log.error("a scheduled send failed to record: %s", type(result).__name__)

    async def _checkin(
        self, bot: Bot, claim: Claimed, ledger: SendLedger, report: TickReport
    ) -> None:
        if not await ledger.begin(claim):  # someone else is sending it now
            return
        report.claimed.append(claim.checkin_id)
        try:
            message_id = await self.send(bot, claim)
        except Exception as exc:
            outcome, wait = classify(exc)
            log.warning("check-in %s: %s (%s)", claim.checkin_id, outcome, type(exc).__name__)
            await ledger.record(claim, outcome, retry_after=wait)
            report.count(outcome)
            return
        await ledger.record(claim, Outcome.SENT, message_id)
        report.count(Outcome.SENT)

    async def _follow_ups(
        self,
        bot: Bot,
        now: datetime,
        report: TickReport,
        urges: UrgeService,
    ) -> None:
        """Urge follow-ups: claimed with a lease, sent, and each result recorded as it comes."""
        if self._drafts_forgotten_at is None or now - self._drafts_forgotten_at >= (
            FORGET_DRAFTS_EVERY
        ):
            await urges.forget_stale_drafts(now)
            self._drafts_forgotten_at = now
        send = self.send_follow_up
        assert send is not None

        async def deliver(follow_up: FollowUp, ledger: FollowUpLedger) -> None:
            if not await ledger.begin(follow_up):
                return
            report.follow_ups_claimed.append(follow_up.urge_id)
            try:
                await send(bot, follow_up)
            except Exception as exc:
                outcome, wait = classify(exc)
                log.warning("follow-up %s: %s (%s)", follow_up.urge_id, outcome,
                            type(exc).__name__)  # fmt: skip
                await ledger.record(follow_up, outcome, retry_after=wait)
                report.count(outcome, follow_up=True)
                return
            await ledger.record(follow_up, Outcome.SENT)
            report.count(Outcome.SENT, follow_up=True)

        while True:
            batch = await urges.claim_follow_ups(now, limit=BATCH, lease=self.lease)
            if batch:
                async with self.checkins.ledger(self.lease) as ledger:
                    follow_ups = FollowUpLedger(ledger)
                    await self._each(batch, lambda f, led=follow_ups: deliver(f, led))
            if len(batch) < BATCH:
                return


SCHEDULER_KEY = "scheduler"


async def _tick_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    scheduler: Scheduler = context.application.bot_data[SCHEDULER_KEY]
    report = await scheduler.tick(context.bot)
    if report.claimed or report.follow_ups_claimed:
        log.info(
            "tick: sent %s, follow-ups %s, blocked %s, refused %s, uncertain %s, retry later %s",
            report.sent,
            report.follow_ups,
            report.blocked,
            report.refused,
            report.uncertain,
            report.retry_later,
        )


def install(
    app: Application[Any, Any, Any, Any, Any, Any],
    scheduler: Scheduler,
    every: float = TICK_SECONDS,
) -> None:
    """Register the one repeating tick with PTB's JobQueue (APScheduler underneath)."""
    services = app.bot_data.get(SERVICES_KEY)
    if services is not None:
        scheduler.lease = timedelta(seconds=services.settings.send_lease_seconds)
    app.bot_data[SCHEDULER_KEY] = scheduler
    if app.job_queue is None:  # pragma: no cover - the job-queue extra is a dependency
        raise RuntimeError("python-telegram-bot[job-queue] is required")
    app.job_queue.run_repeating(
        _tick_job,
        interval=every,
        first=min(5, every),
        name="checkin-tick",
        job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": int(every)},
    )
