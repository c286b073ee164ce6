"""What every handler can reach: the services, the content and the clock, via `context`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.clock import Clock
from bot.db import Database
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
from content import Content
from content.loader import Texts

SERVICES_KEY = "services"


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    clock: Clock
    content: Content
    intake: IntakeService
    checkins: CheckinService
    privacy: PrivacyService
    safety: SafetyService
    advice: AdviceService
    urges: UrgeService
    program: ProgramService
    progress: ProgressService
    conversation: ConversationService  # what each person is expected to answer next
    safety_plan: SafetyPlanService  # the six parts of the person's safety plan
    listening: ListeningService  # answers to free text: slips, goal changes, undo


class CoachContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    @property
    def services(self) -> Services:
        return self.application.bot_data[SERVICES_KEY]

    @property
    def texts(self) -> Texts:
        return self.services.content.texts


def install_services(application: Application[Any, Any, Any, Any, Any, Any], s: Services) -> None:
    application.bot_data[SERVICES_KEY] = s
