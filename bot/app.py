"""Composition root: build_application(settings) wires content, storage, services and handlers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from typing import Any

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import Application, ApplicationBuilder, ContextTypes, Defaults
from telegram.request import BaseRequest

import handlers
from bot import scheduler
from bot.clock import Clock, SystemClock
from bot.context import SERVICES_KEY, CoachContext, Services, install_services
from bot.db import Database
from bot.persistence import DatabasePersistence
from bot.ratelimit import TwoLaneRateLimiter
from bot.services.advice import AdviceService
from bot.services.checkin import CheckinService
from bot.services.intake import IntakeService
from bot.services.privacy import PrivacyService
from bot.services.program import ProgramService
from bot.services.progress import ProgressService
from bot.services.retry import retry_transient_errors
from bot.services.safety import SafetyService
from bot.services.urge import UrgeService
from bot.settings import Settings
from content import Content, check_all_content

log = logging.getLogger(__name__)

OFFLINE_TOKEN = "0:in-process"


class CoachApplication(Application):  # type: ignore[type-arg]
    """PTB's Application, plus: migrations before anything reads the database, conversation
    states written through after every update (a crash loses nothing), one person's updates
    handled one at a time even when updates are processed concurrently (so a conversation's
    state can never fall behind what the database says), and a count of finished updates so the
    terminal chat can wait for the bot to finish answering."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.updates_done = 0
        self._done = asyncio.Condition()
        self._per_person: weakref.WeakValueDictionary[int, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    @property
    def services(self) -> Services:
        return self.bot_data[SERVICES_KEY]

    async def initialize(self) -> None:
        await self.services.db.migrate()
        await super().initialize()
        await self.bot.set_my_commands(handlers.bot_commands(self.services.content.texts))

    async def shutdown(self) -> None:
        await super().shutdown()
        await self.services.db.dispose()

    def _one_at_a_time(self, update: object) -> contextlib.AbstractAsyncContextManager[Any]:
        user = update.effective_user if isinstance(update, Update) else None
        if user is None:
            return contextlib.nullcontext()
        lock = self._per_person.get(user.id)
        if lock is None:
            lock = self._per_person[user.id] = asyncio.Lock()
        return lock

    async def process_update(self, update: object) -> None:
        try:
            async with self._one_at_a_time(update):
                await super().process_update(update)
                await self.update_persistence()
        finally:
            async with self._done:
                self.updates_done += 1
                self._done.notify_all()

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
        program=ProgramService(db, content, clock, settings.default_timezone),  # issue 4
        progress=ProgressService(db, clock, settings.default_timezone, checkins),  # issue 4
    )
    retry_transient_errors(services)  # a database that blinks costs a moment, not an answer
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
        .persistence(DatabasePersistence(services.db, services.clock))
        .defaults(Defaults(parse_mode=ParseMode.HTML))
        .arbitrary_callback_data(False)
    )
    if rate_limit:  # Telegram's limits, in two lanes: people talking to the bot go first
        builder = builder.rate_limiter(TwoLaneRateLimiter.from_settings(settings))
    if request is not None:
        builder = builder.token(settings.bot_token or OFFLINE_TOKEN)
        builder = builder.request(request).get_updates_request(request)
    else:
        builder = builder.token(settings.require_token())
        builder = builder.base_url(f"{settings.bot_api_url}/bot")
        builder = builder.base_file_url(f"{settings.bot_api_url}/file/bot")
    app = builder.build()
    install_services(app, services)
    handlers.register(app)
    scheduler.install(app, handlers.make_scheduler(services), every=settings.tick_seconds)
    return app  # type: ignore[return-value]


class RedactSecrets(logging.Formatter):
    """Never let a secret (the bot token, the webhook secret) reach the logs: PTB puts the
    token in some exception messages, and request URLs contain it."""

    def __init__(self, fmt: str, secrets: list[str]) -> None:
        super().__init__(fmt)
        self.secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        return text


def configure_logging(level: str, secrets: list[str | None] | None = None) -> None:
    logging.basicConfig(level=level, force=True)
    formatter = RedactSecrets(
        "%(asctime)s %(levelname)s %(name)s: %(message)s", [s for s in secrets or [] if s]
    )
    for handler in logging.getLogger().handlers:
        handler.setFormatter(formatter)
    # httpx logs every request URL, and the URL contains the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def run(settings: Settings) -> None:
    """Run for real: long polling, or PTB's webhook server (which checks the secret header)."""
    app = build_application(settings)
    if settings.mode == "webhook":
        from urllib.parse import urlparse

        assert settings.webhook_url and settings.webhook_secret
        path = urlparse(settings.webhook_url).path.strip("/")
        app.run_webhook(
            listen="0.0.0.0",
            port=settings.port,
            url_path=path,
            webhook_url=settings.webhook_url,
            secret_token=settings.webhook_secret,
            allowed_updates=Update.ALL_TYPES,
        )
    else:
        app.run_polling(allowed_updates=Update.ALL_TYPES)
