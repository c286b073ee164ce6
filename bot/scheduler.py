"""The one repeating tick: claim due check-ins, send them, record what happened.

There is no job per person. Each profile carries its next check-in time (UTC, indexed); the tick
claims what is due (a unique row per person, local date and kind, inserted before sending, so
restarts and overlapping ticks never send twice), sends through the rate-limited bot, and moves
the pointer on. Start-up does no per-person work.

The same tick sends the follow-ups of held drafts ("Still want to send it?", issue 7): each urge
row carries its follow-up time (indexed), claimed by one conditional UPDATE before sending.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application, ContextTypes

from bot.services.checkin import CheckinService, Claimed
from bot.services.urge import FollowUp, UrgeService

log = logging.getLogger(__name__)

TICK_SECONDS = 60
BATCH = 500
CONCURRENT_SENDS = 20

Sender = Callable[[Bot, Claimed], Awaitable[int]]
FollowUpSender = Callable[[Bot, FollowUp], Awaitable[int]]
# Drafts nobody is waiting on are forgotten this often (the query is idempotent; this is a cache).
FORGET_DRAFTS_EVERY = timedelta(minutes=30)


@dataclass
class TickReport:
    sent: int = 0
    blocked: int = 0
    retry_later: int = 0
    claimed: list[int] = field(default_factory=list)
    follow_ups: int = 0  # urge follow-ups sent
    follow_ups_claimed: list[int] = field(default_factory=list)


class Scheduler:
    def __init__(
        self,
        checkins: CheckinService,
        send: Sender,
        urges: UrgeService | None = None,
        send_follow_up: FollowUpSender | None = None,
        forget_signals: Callable[[datetime], Awaitable[int]] | None = None,
    ) -> None:
        self.checkins = checkins
        self.send = send
        self.urges = urges
        self.send_follow_up = send_follow_up
        # Everyone's screen outcomes older than half an hour, removed on each tick.
        self.forget_signals = forget_signals
        self._drafts_forgotten_at: datetime | None = None

    async def tick(self, bot: Bot) -> TickReport:
        report = TickReport()
        now = self.checkins.clock.now()
        pending = await self.checkins.unsent_claims(now)
        while True:
            batch = await self.checkins.claim_due(now, limit=BATCH)
            pending.extend(batch)
            if len(batch) < BATCH:
                break
        if pending:
            await self._send_checkins(bot, pending, report)
        if self.urges is not None and self.send_follow_up is not None:
            await self._follow_ups(bot, now, report, self.urges, self.send_follow_up)
        if self.forget_signals is not None:
            await self.forget_signals(now)
        return report

    async def _send_checkins(self, bot: Bot, pending: list[Claimed], report: TickReport) -> None:
        gate = asyncio.Semaphore(CONCURRENT_SENDS)
        async with self.checkins.sent_recorder() as record_sent:

            async def deliver(claim: Claimed) -> None:
                async with gate:
                    await self._deliver(bot, claim, report, record_sent)

            await asyncio.gather(*(deliver(c) for c in pending))

    async def _follow_ups(
        self,
        bot: Bot,
        now: datetime,
        report: TickReport,
        urges: UrgeService,
        send: FollowUpSender,
    ) -> None:
        """Urge follow-ups: claimed (exactly once) before sending; one that Telegram can't take
        right now is put back for the next tick rather than lost."""
        if self._drafts_forgotten_at is None or now - self._drafts_forgotten_at >= (
            FORGET_DRAFTS_EVERY
        ):
            await urges.forget_stale_drafts(now)
            self._drafts_forgotten_at = now
        gate = asyncio.Semaphore(CONCURRENT_SENDS)
        while True:
            batch = await urges.claim_follow_ups(now, limit=BATCH)
            if not batch:
                return

            async def deliver(follow_up: FollowUp) -> None:
                async with gate:
                    report.follow_ups_claimed.append(follow_up.urge_id)
                    try:
                        await send(bot, follow_up)
                    except Forbidden:
                        await self.checkins.mark_blocked(follow_up.user_id)
                        await urges.drop_follow_up(follow_up.urge_id)
                        report.blocked += 1
                        return
                    except BadRequest as exc:
                        if "chat not found" in exc.message.lower():
                            await self.checkins.mark_blocked(follow_up.user_id)
                            report.blocked += 1
                        else:
                            log.warning("urge follow-up %s refused: %s", follow_up.urge_id, exc)
                        await urges.drop_follow_up(follow_up.urge_id)
                        return
                    except (RetryAfter, TimedOut, NetworkError) as exc:
                        await urges.retry_follow_up(follow_up.urge_id)
                        report.retry_later += 1
                        log.warning(
                            "urge follow-up %s not sent yet: %s",
                            follow_up.urge_id,
                            type(exc).__name__,
                        )
                        return
                    report.follow_ups += 1

            await asyncio.gather(*(deliver(f) for f in batch))
            if len(batch) < BATCH:
                return

    async def _deliver(
        self,
        bot: Bot,
        claim: Claimed,
        report: TickReport,
        record_sent: Callable[[int, int | None], Awaitable[None]],
    ) -> None:
        report.claimed.append(claim.checkin_id)
        try:
            message_id = await self.send(bot, claim)
        except Forbidden:
            await self.checkins.mark_blocked(claim.user_id, claim.checkin_id)
            report.blocked += 1
            log.info("user %s blocked the bot; check-ins stop", claim.user_id)
            return
        except BadRequest as exc:
            if "chat not found" in exc.message.lower():
                await self.checkins.mark_blocked(claim.user_id, claim.checkin_id)
                report.blocked += 1
                return
            raise
        except (RetryAfter, TimedOut, NetworkError) as exc:
            # Still claimed: unsent_claims() picks it up again after the lease, once.
            report.retry_later += 1
            log.warning("check-in %s not sent yet: %s", claim.checkin_id, type(exc).__name__)
            return
        await record_sent(claim.checkin_id, message_id)
        report.sent += 1


SCHEDULER_KEY = "scheduler"


async def _tick_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    scheduler: Scheduler = context.application.bot_data[SCHEDULER_KEY]
    report = await scheduler.tick(context.bot)
    if report.claimed or report.follow_ups_claimed:
        log.info(
            "tick: sent %s, follow-ups %s, blocked %s, retry later %s",
            report.sent,
            report.follow_ups,
            report.blocked,
            report.retry_later,
        )


def install(
    app: Application[Any, Any, Any, Any, Any, Any],
    scheduler: Scheduler,
    every: float = TICK_SECONDS,
) -> None:
    """Register the one repeating tick with PTB's JobQueue (APScheduler underneath)."""
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
