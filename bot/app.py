"""Composition root: build_application(settings) wires content, storage, services and handlers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults
from telegram.request import BaseRequest

import handlers
from bot import scheduler
from bot.clock import Clock, SystemClock
from bot.context import SERVICES_KEY, CoachContext, Services, install_services
from bot.db import Database, remembering
from bot.inbox import Inbox
from bot.inbox import update_id_of as inbox_update_id
from bot.logs import RedactSecrets, configure_logging  # noqa: F401  (re-exported)
from bot.once import LedgerRequest, Ledgers, TracedHTTPXRequest
from bot.private_only import answer_outside_private, is_private
from bot.ratelimit import TwoLaneRateLimiter
from bot.services.advice import AdviceService
from bot.services.checkin import CheckinService
from bot.services.conversation import ConversationService
from bot.services.intake import IntakeService
from bot.services.listening import ListeningService
from bot.services.privacy import PrivacyService
from bot.services.program import ProgramService
from bot.services.progress import ProgressService
from bot.services.safety import SafetyService
from bot.services.safety_plan import SafetyPlanService
from bot.services.urge import UrgeService
from bot.settings import Settings
from bot.webhook import Poller, WebhookServer
from content import Content, check_all_content
from content.memo import one_update

log = logging.getLogger(__name__)

OFFLINE_TOKEN = "0:in-process"
# Updates handled at once (different people; one person's wait their turn). The bot's own
# default: on PostgreSQL each holds one connection for the person's lock plus the ones it
# works with, which must fit SQLAlchemy's default pool of 5 + 10.
CONCURRENT_UPDATES = 4


class CoachApplication(Application):  # type: ignore[type-arg]
    """PTB's Application, plus: migrations before anything reads the database; the inbox
    (updates are handled from where they were recorded, and marked once handled); a gate that
    lets only private chats through to the handlers; one person's updates handled one at a
    time, across processes too, while different people's run concurrently; and a count of
    finished updates so the terminal chat can wait for the bot to finish answering. What a
    person is in the middle of is read from the database on every update
    (bot/services/conversation.py), never kept here."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.updates_done = 0
        self._done = asyncio.Condition()
        self._held: set[int] = set()  # inbox updates this process has claimed, not yet done
        # Reclaimed updates: a crashed process may have handled them in part (bot/once.py).
        self._again: set[int] = set()
        self._upkeep: asyncio.Task[None] | None = None
        self._inbox: Inbox | None = None
        self._ledgers: Ledgers | None = None

    @property
    def services(self) -> Services:
        return self.bot_data[SERVICES_KEY]

    @property
    def inbox(self) -> Inbox:
        if self._inbox is None:
            self._inbox = Inbox(self.services.db, self.services.clock)
        return self._inbox

    @property
    def ledgers(self) -> Ledgers:
        if self._ledgers is None:
            self._ledgers = Ledgers(self.services.db, self.services.clock)
        return self._ledgers

    async def initialize(self) -> None:
        await self.services.db.migrate()
        await super().initialize()
        await self.bot.set_my_commands(handlers.bot_commands(self.services.content.texts))

    async def start(self) -> None:
        """Start handling; first take over what a previous run left in the inbox (all of it on
        SQLite, where one process is the rule), before anything new can arrive."""
        await super().start()
        try:
            await self.recover(everything=self.services.db.is_sqlite)
        except Exception as error:  # the upkeep tries again in a moment
            log.warning("inbox: start-up recovery failed (%s)", type(error).__name__)
        self._upkeep = asyncio.create_task(self._keep_inbox(), name="inbox-upkeep")

    async def stop(self) -> None:
        if self._upkeep is not None:
            self._upkeep.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._upkeep
            self._upkeep = None
        await super().stop()

    async def shutdown(self) -> None:
        await super().shutdown()
        await self.services.db.dispose()

    # --- the inbox ---------------------------------------------------------------------------

    async def _readable(self, update_id: int, data: Mapping[str, Any]) -> Update | None:
        """The recorded update as PTB's object, now held by this process; None (and the row
        marked done, logged by id only) when PTB cannot read it."""
        try:
            update = Update.de_json(dict(data), self.bot)
        except Exception as error:
            log.warning("update %s could not be read (%s); dropped",
                        update_id, type(error).__name__)  # fmt: skip
            await self.inbox.done(update_id)
            return None
        self._held.add(update_id)
        return update

    async def deliver(self, batch: list[tuple[int, Mapping[str, Any]]]) -> None:
        """Queue recorded updates for handling (PTB's update queue, so its concurrency and
        error handling apply)."""
        for update_id, data in batch:
            update = await self._readable(update_id, data)
            if update is not None:
                await self.update_queue.put(update)

    async def receive(self, data: Mapping[str, Any]) -> bool:
        """Record one update and handle it at once, in this task (the in-process Bot API and
        the tests); False when this update_id was seen before."""
        if not await self.inbox.accept(data):
            return False
        update = await self._readable(inbox_update_id(data), data)
        if update is not None:
            await self.process_update(update)
        return True

    async def recover(self, *, everything: bool = False, at_once: bool = False) -> int:
        """Hand updates that were recorded but never handled back to the queue (`at_once`:
        handle them here, one after another, as `receive` does)."""
        pending = [
            row
            for row in await self.inbox.reclaim(everything=everything)
            if row.update_id not in self._held  # already queued here (a missed heartbeat)
        ]
        for row in pending:
            if row.payload is None:
                await self.inbox.done(row.update_id)
            else:
                self._again.add(row.update_id)
        again = [(row.update_id, row.payload) for row in pending if row.payload]
        if not at_once:
            await self.deliver(again)
        for update_id, data in again if at_once else ():
            update = await self._readable(update_id, data)
            if update is not None:
                await self.process_update(update)
        if pending:
            log.info("inbox: %d unhandled update(s) picked up again", len(pending))
        return len(pending)

    async def _keep_inbox(self) -> None:
        """Keep this process's claims fresh, take over what a crashed process left once its
        claims have run out, and prune handled rows."""
        every = self.inbox.lease.total_seconds() / 3
        rounds = 0
        while True:
            await asyncio.sleep(every)
            try:
                await self.inbox.heartbeat(set(self._held))
                await self.recover()
                if rounds % 180 == 0:  # at the first round, then about twice an hour
                    await self.inbox.prune()
            except Exception as error:  # the database blinked: try again next round
                log.warning("inbox upkeep failed (%s)", type(error).__name__)
            rounds += 1

    # --- handling ----------------------------------------------------------------------------

    async def process_update(self, update: object) -> None:
        update_id = update.update_id if isinstance(update, Update) else None
        try:
            if isinstance(update, Update) and not is_private(update):
                if update_id in self._held:  # nothing from a group is kept, not even its id
                    self._held.discard(update_id)
                    await self.inbox.forget(update_id)
                await answer_outside_private(self.bot, self.services.content.texts, update)
                return
            user = update.effective_user if isinstance(update, Update) else None
            limiter = getattr(self.bot, "rate_limiter", None)
            answering = (
                limiter.answering()
                if user is not None and isinstance(limiter, TwoLaneRateLimiter)
                else contextlib.nullcontext()
            )
            with answering, one_update(), remembering():
                await self._handle_in_turn(update, update_id, user)
        finally:
            if update_id is not None:
                self._again.discard(update_id)
            if update_id is not None and update_id in self._held:
                self._held.discard(update_id)
                try:
                    await self.inbox.done(update_id)
                except Exception as error:  # handled again after the lease: at least once
                    log.warning("update %s: could not mark it handled (%s)",
                                update_id, type(error).__name__)  # fmt: skip
            async with self._done:
                self.updates_done += 1
                self._done.notify_all()

    async def _handle_in_turn(self, update: object, update_id: int | None, user: Any) -> None:
        """Handle the update in the person's turn, through the reply ledger when it came from
        the inbox."""
        async with self.inbox.turn(user.id if user else None):
            if isinstance(update, Update) and update_id in self._held:
                again = update_id in self._again
                if again and await self.inbox.handled(update_id):
                    # Taken over from a process that was slow, not dead: it finished
                    # while this one waited for the person's turn.
                    return
                # Replies and writes are recorded, so a second run after a crash
                # repeats neither (bot/once.py).
                async with self.ledgers.handling(update, again=again):
                    await super().process_update(update)
            else:
                await super().process_update(update)

    async def wait_for_updates(self, count: int) -> None:
        """Wait until `count` updates in all have been fully handled."""
        async with self._done:
            await self._done.wait_for(lambda: self.updates_done >= count)


def build_services(
    settings: Settings,
    *,
    clock: Clock | None = None,
    content: Content | None = None,
    db: Database | None = None,
) -> Services:
    clock = clock or SystemClock()
    content = content or check_all_content()
    db = db or Database(settings.database_url)
    checkins = CheckinService(db, clock, settings.default_timezone)
    intake = IntakeService(db, content, clock, settings.default_timezone, checkins)
    advice = AdviceService(db, content, clock, settings.default_timezone, checkins)
    program = ProgramService(db, content, clock, settings.default_timezone)
    services = Services(
        settings=settings,
        db=db,
        clock=clock,
        content=content,
        intake=intake,
        checkins=checkins,
        privacy=PrivacyService(db, clock),
        safety=SafetyService(db, clock, settings.default_timezone),
        advice=advice,
        urges=UrgeService(db, clock, settings.default_timezone, checkins, advice, intake),
        program=program,
        progress=ProgressService(db, clock, settings.default_timezone, checkins),
        conversation=ConversationService(db, clock),
        safety_plan=SafetyPlanService(db, clock),
        listening=ListeningService(db, clock, settings.default_timezone, checkins, program),
    )
    return services


def build_application(
    settings: Settings,
    *,
    request: BaseRequest | None = None,
    services: Services | None = None,
    rate_limit: bool = True,
) -> CoachApplication:
    """The one Application: the same for polling, webhook, terminal chat and tests.

    `request` replaces the network (the in-process Bot API); without it the bot talks to
    settings.bot_api_url with the token from BOT_TOKEN. `rate_limit=False` is for benchmarks
    that measure CPU without Telegram's throttle.
    """
    services = services or build_services(settings)
    builder = (
        ApplicationBuilder()
        .application_class(CoachApplication)
        .context_types(ContextTypes(context=CoachContext))
        .defaults(Defaults(parse_mode=ParseMode.HTML))
        .arbitrary_callback_data(False)
        .concurrent_updates(CONCURRENT_UPDATES)
    )
    if rate_limit:  # Telegram's limits, in two lanes: people talking to the bot go first
        builder = builder.rate_limiter(TwoLaneRateLimiter.from_settings(settings))
    # The reply ledger sits in front of the calls handlers make (bot/once.py); getUpdates
    # has its own connection and goes straight through.
    if request is not None:
        builder = builder.token(settings.bot_token or OFFLINE_TOKEN)
        builder = builder.request(LedgerRequest(request)).get_updates_request(request)
    else:
        builder = builder.token(settings.require_token())
        builder = builder.request(LedgerRequest(TracedHTTPXRequest(connection_pool_size=256)))
        builder = builder.base_url(f"{settings.bot_api_url}/bot")
        builder = builder.base_file_url(f"{settings.bot_api_url}/file/bot")
    app = builder.build()
    install_services(app, services)
    handlers.register(app)
    scheduler.install(app, handlers.make_scheduler(services), every=settings.tick_seconds)
    return app  # type: ignore[return-value]


def run(settings: Settings) -> None:
    """Run for real: long polling, or a webhook server that checks Telegram's secret header.
    Either way each update is recorded in the inbox before Telegram is told it arrived."""
    asyncio.run(serve(build_application(settings), settings))


async def serve(
    app: CoachApplication, settings: Settings, stop: asyncio.Event | None = None
) -> None:
    """Start `app` receiving updates until `stop` is set (or SIGINT/SIGTERM arrives)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    receiver: WebhookServer | Poller
    async with app:  # initialize … shutdown
        if settings.mode == "webhook":
            assert settings.webhook_url and settings.webhook_secret
            receiver = WebhookServer(
                app.inbox,
                app.deliver,
                path=urlparse(settings.webhook_url).path,
                secret=settings.webhook_secret,
                listen="0.0.0.0",
                port=settings.port,
            )
        else:
            receiver = Poller(app.bot, app.inbox, app.deliver)
        await app.start()  # the upkeep takes over what an earlier run left, then the queue runs
        await receiver.start()
        if isinstance(receiver, WebhookServer):
            await app.bot.set_webhook(
                settings.webhook_url,
                secret_token=settings.webhook_secret,
                allowed_updates=Update.ALL_TYPES,
            )
        log.info("receiving updates (%s)", settings.mode)
        try:
            await stop.wait()
        finally:
            await receiver.stop()
            await app.stop()
