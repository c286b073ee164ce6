"""Crisis and abuse: the safety hold, the move-on path after abuse, the helplines country.

A crisis message opens a safety hold: scheduled check-ins become a gentle daily "how are you?"
until the person says they are safe. An abuse disclosure switches the program to moving on, for
good, and never loses the person's place in the intake. No message text is stored here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update

from bot.clock import Clock
from bot.db import Database
from bot.db import queries as q
from bot.db.models import Checkin, Profile
from bot.services.intake import local_today, step_after
from bot.services.retry import retry_transient
from content.helplines import load_helplines
from content.vocab import AbuseAnswer, Goal

# The country setting for "somewhere else": ISO 3166's code for an unknown region. The person's
# own setting always wins, so they get the worldwide list rather than a guess from their language.
INTERNATIONAL = "zz"
MOVE_ON_PHASE = "move_on"
# A check-in sent as a gentle safety ask while on hold: not one to answer with taps later.
HELD = "held"


@dataclass(frozen=True, slots=True)
class SafetyView:
    known: bool  # the person has a user row (they have pressed /start)
    country: str | None
    language_code: str | None
    on_hold: bool
    hold_since: datetime | None
    abuse: bool
    intake_step: str | None
    set_up: bool


UNKNOWN = SafetyView(False, None, None, False, None, False, None, False)


@dataclass(frozen=True, slots=True)
class AbuseOutcome:
    """After an abuse disclosure: whether the plan just changed, and where the intake is."""

    view: SafetyView
    newly: bool
    intake_step: str | None


def _view(profile: Profile | None, language_code: str | None) -> SafetyView:
    if profile is None:
        return SafetyView(True, None, language_code, False, None, False, None, False)
    return SafetyView(
        known=True,
        country=profile.country,
        language_code=language_code,
        on_hold=profile.safety_hold,
        hold_since=profile.safety_hold_since,
        abuse=profile.abuse is AbuseAnswer.YES,
        intake_step=profile.intake_step,
        set_up=profile.intake_completed_at is not None,
    )


def supported_countries() -> list[tuple[str, str]]:
    """(code, name) of every country with its own helplines, in the file's order."""
    return [(code, c.name) for code, c in load_helplines().countries.items()]


class SafetyService:
    def __init__(self, db: Database, clock: Clock, default_tz: str) -> None:
        self.db = db
        self.clock = clock
        self.default_tz = default_tz

    @retry_transient
    async def view(self, user_id: int) -> SafetyView:
        async with self.db.sessions() as session:
            user = await q.get_user(session, user_id)
            if user is None:
                return UNKNOWN
            return _view(await q.get_profile(session, user_id), user.language_code)

    @retry_transient
    async def open_hold(self, user_id: int) -> SafetyView:
        """A crisis message: hold the coaching nudges until the person says they are safe.
        A hold already open keeps its start time."""
        now = self.clock.now()
        async with self.db.transaction() as session:
            user = await q.get_user(session, user_id)
            if user is None:
                return UNKNOWN
            profile = await q.get_or_create_profile(session, user_id, now)
            if not profile.safety_hold:
                profile.safety_hold = True
                profile.safety_hold_since = now
            return _view(profile, user.language_code)

    @retry_transient
    async def lift_hold(self, user_id: int) -> bool:
        """ "I'm safe now": check-ins go back to normal. True if a hold was open."""
        async with self.db.transaction() as session:
            profile = await q.get_profile(session, user_id)
            if profile is None or not profile.safety_hold:
                return False
            since = profile.safety_hold_since
            profile.safety_hold = False
            profile.safety_hold_since = None
            # The gentle asks sent during the hold are not check-ins to answer by typing later.
            held = update(Checkin).where(
                Checkin.user_id == user_id,
                Checkin.status == "sent",
                Checkin.answered_at.is_(None),
                Checkin.contact.is_(None),
            )
            if since is not None:
                held = held.where(Checkin.sent_at >= since)
            await session.execute(held.values(status=HELD))
            return True

    @retry_transient
    async def record_abuse(self, user_id: int) -> AbuseOutcome | None:
        """An abuse disclosure: the program moves to letting go, as the articles advise. If the
        intake is at the safety or the goal question, it moves past them (both are answered
        now); anywhere else it stays where it was. None if the person is unknown."""
        now = self.clock.now()
        async with self.db.transaction() as session:
            user = await q.get_user(session, user_id)
            if user is None:
                return None
            profile = await q.get_or_create_profile(session, user_id, now)
            newly = profile.abuse is not AbuseAnswer.YES or profile.goal is not Goal.MOVE_ON
            profile.abuse = AbuseAnswer.YES
            profile.goal = Goal.MOVE_ON
            if profile.phase != MOVE_ON_PHASE:
                newly = True
                profile.phase = MOVE_ON_PHASE
                profile.phase_started_on = local_today(profile, now, self.default_tz)
            if profile.intake_step in ("abuse", "goal"):
                profile.intake_step = step_after("abuse", profile)
            profile.updated_at = now
            return AbuseOutcome(_view(profile, user.language_code), newly, profile.intake_step)

    @retry_transient
    async def set_country(self, user_id: int, country: str) -> bool:
        """Remember which country's helplines to show. False if the person is unknown."""
        if country != INTERNATIONAL and country not in load_helplines().countries:
            raise ValueError(f"no helplines for {country!r}")
        now = self.clock.now()
        async with self.db.transaction() as session:
            if await q.get_user(session, user_id) is None:
                return False
            profile = await q.get_or_create_profile(session, user_id, now)
            profile.country = country
            profile.updated_at = now
            return True
