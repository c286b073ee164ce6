"""The one repeating tick: claim due check-ins, send them, record what happened.

There is no job per person. Each profile carries its next check-in time (UTC, indexed); the tick
claims what is due (a unique row per person, local date and kind, inserted before sending, so
restarts and overlapping ticks never send twice), sends through the rate-limited bot, and moves
the pointer on. Start-up does no per-person work.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application, ContextTypes

from bot.services.checkin import CheckinService, Claimed

log = logging.getLogger(__name__)

TICK_SECONDS = 60
BATCH = 500
CONCURRENT_SENDS = 20

Sender = Callable[[Bot, Claimed], Awaitable[int]]


@dataclass
class TickReport:
    sent: int = 0
    blocked: int = 0
    retry_later: int = 0
    claimed: list[int] = field(default_factory=list)


class Scheduler:
    def __init__(self, checkins: CheckinService, send: Sender) -> None:
        self.checkins = checkins
        self.send = send

    async def tick(self, bot: Bot) -> TickReport:
        report = TickReport()
        now = self.checkins.clock.now()
        pending = await self.checkins.unsent_claims(now)
        while True:
            batch = await self.checkins.claim_due(now, limit=BATCH)
            pending.extend(batch)
            if len(batch) < BATCH:
                break
        if not pending:
            return report
        gate = asyncio.Semaphore(CONCURRENT_SENDS)
        async with self.checkins.sent_recorder() as record_sent:

            async def deliver(claim: Claimed) -> None:
                async with gate:
                    await self._deliver(bot, claim, report, record_sent)

            await asyncio.gather(*(deliver(c) for c in pending))
        return report

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
    if report.claimed:
        log.info(
            "tick: sent %s, blocked %s, retry later %s",
            report.sent,
            report.blocked,
            report.retry_later,
        )


def install(app: Application[Any, Any, Any, Any, Any, Any], scheduler: Scheduler) -> None:
    """Register the one repeating tick with PTB's JobQueue (APScheduler underneath)."""
    app.bot_data[SCHEDULER_KEY] = scheduler
    if app.job_queue is None:  # pragma: no cover - the job-queue extra is a dependency
        raise RuntimeError("python-telegram-bot[job-queue] is required")
    app.job_queue.run_repeating(
        _tick_job,
        interval=TICK_SECONDS,
        first=5,
        name="checkin-tick",
        job_kwargs={"max_instances": 1, "coalesce": True, "misfire_grace_time": TICK_SECONDS},
    )
