"""The /start intake: who the person is, stored answer by answer, and where they are in it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.db import Database
from bot.db import queries as q
from bot.db.models import Profile
from bot.services.checkin import CheckinService
from bot.services.retry import retry_transient
from content import Content
from content.intake import STEP_ORDER
from content.program import Phase, first_steps
from content.timezones import zone_info
from content.vocab import DAYS_AGO_FOR_BUCKET, AbuseAnswer, BreakupWhen, Goal, Shared, WhoEnded


class Stage(StrEnum):
    NEW = "new"
    IN_INTAKE = "in_intake"
    SET_UP = "set_up"


@dataclass(frozen=True, slots=True)
class ProfileView:
    """A read-only copy of a profile, safe to hand to the Telegram layer."""

    user_id: int
    ex_name: str | None
    breakup_when: BreakupWhen | None
    breakup_on: date | None
    who_ended: WhoEnded | None
    shared: frozenset[str]
    abuse: AbuseAnswer | None
    goal: Goal | None
    timezone: str | None
    checkin_hour: int | None
    no_contact_days: int
    intake_step: str | None
    set_up: bool
    # The day they were last in touch, which is the day the no-contact count runs from.
    last_contact_on: date | None = None

    @property
    def reconcile_path_open(self) -> bool:
        return self.abuse is not AbuseAnswer.YES

    @classmethod
    def of(cls, p: Profile) -> ProfileView:
        return cls(
            user_id=p.user_id,
            ex_name=p.ex_name,
            breakup_when=p.breakup_when,
            breakup_on=p.breakup_on,
            who_ended=p.who_ended,
            shared=p.shared,
            abuse=p.abuse,
            goal=p.goal,
            timezone=p.timezone,
            checkin_hour=p.checkin_hour,
            no_contact_days=p.no_contact_days,
            intake_step=p.intake_step,
            set_up=p.intake_completed_at is not None,
            last_contact_on=p.no_contact_started_on,
        )


@dataclass(frozen=True, slots=True)
class Greeting:
    stage: Stage
    profile: ProfileView | None


@dataclass(frozen=True, slots=True)
class Progress:
    """What happened after an answer: the stored profile and the step to ask next (None: done)."""

    profile: ProfileView
    next_step: str | None


class InvalidAnswer(ValueError):
    """An answer that does not fit the step (a forged or outdated button)."""


# How many days ago each "last in touch" button means. "A few days" is the bot's own middle
# of a week (the same reading as the breakup's "this week"); the others say it themselves.
DAYS_AGO_FOR_LAST_CONTACT = {"today": 0, "few_days": 3, "week": 7}
SINCE_BREAKUP = "since_breakup"
EXACT_DAY = "exact"  # last_contact_when for a typed date


def is_skipped(step: str, profile: ProfileView | Profile) -> bool:
    """Abuse or repeated cheating turns the reconcile path off: 'what do you want' is skipped.
    A breakup today needs no 'when were you last in touch': it was today."""
    if step == "last_contact":
        return profile.breakup_when is BreakupWhen.TODAY
    return step == "goal" and profile.abuse is AbuseAnswer.YES


def step_after(step: str, profile: ProfileView | Profile) -> str | None:
    index = STEP_ORDER.index(step) + 1
    while index < len(STEP_ORDER) and is_skipped(STEP_ORDER[index], profile):
        index += 1
    return STEP_ORDER[index] if index < len(STEP_ORDER) else None


def step_before(step: str, profile: ProfileView | Profile) -> str | None:
    index = STEP_ORDER.index(step) - 1
    while index >= 0 and is_skipped(STEP_ORDER[index], profile):
        index -= 1
    return STEP_ORDER[index] if index >= 0 else None


def local_today(profile: ProfileView | Profile | None, now: datetime, default_tz: str) -> date:
    zone = (profile.timezone if profile is not None else None) or default_tz
    return now.astimezone(zone_info(zone)).date()


class IntakeService:
    def __init__(
        self,
        db: Database,
        content: Content,
        clock: Clock,
        default_tz: str,
        checkins: CheckinService,
    ) -> None:
        self.db = db
        self.checkins = checkins
        self.content = content
        self.clock = clock
        self.default_tz = default_tz

    @retry_transient
    async def greet(
        self, *, user_id: int, chat_id: int, first_name: str | None, language_code: str | None
    ) -> Greeting:
        """Record that the person is here (again) and say how far along they are."""
        now = self.clock.now()
        async with self.db.transaction() as session:
            await q.record_user_seen(
                session,
                user_id=user_id,
                chat_id=chat_id,
                first_name=first_name,
                language_code=language_code,
                now=now,
            )
            profile = await q.get_profile(session, user_id)
            if profile is None:
                return Greeting(Stage.NEW, None)
            if profile.next_checkin_at is None and profile.intake_completed_at is not None:
                # Back after blocking the bot (or a pause that ran out): check-ins resume.
                await self.checkins.reschedule(session, profile, now)
            view = ProfileView.of(profile)
        if view.set_up and view.intake_step is None:
            return Greeting(Stage.SET_UP, view)
        return Greeting(Stage.IN_INTAKE, view)

    @retry_transient
    async def begin(self, user_id: int, *, restart: bool = False) -> Progress:
        """Start the intake (or pick it up, or go through it again) and return the step to ask."""
        async with self.db.transaction() as session:
            profile = await q.get_or_create_profile(session, user_id, self.clock.now())
            if restart or profile.intake_step is None:
                profile.intake_step = STEP_ORDER[0]
            profile.updated_at = self.clock.now()
            return Progress(ProfileView.of(profile), profile.intake_step)

    @retry_transient
    async def profile(self, user_id: int) -> ProfileView | None:
        async with self.db.sessions() as session:
            profile = await q.get_profile(session, user_id)
            return ProfileView.of(profile) if profile else None

    @retry_transient
    async def is_set_up(self, user_id: int) -> bool:
        """Whether the person has finished the intake (from the person's row, read once per
        update)."""
        row = await q.person(self.db, user_id)
        return row is not None and row.intake_completed_at is not None

    @retry_transient
    async def today(self, user_id: int) -> date:
        """Today's date where the person lives (their time zone, else the default)."""
        return local_today(await self.profile(user_id), self.clock.now(), self.default_tz)

    @retry_transient
    async def go_back(self, user_id: int, step: str) -> Progress:
        async with self.db.transaction() as session:
            profile = await self._profile(session, user_id)
            previous = step_before(step, profile) or STEP_ORDER[0]
            profile.intake_step = previous
            profile.updated_at = self.clock.now()
            return Progress(ProfileView.of(profile), previous)

    @retry_transient
    async def toggle_shared(self, user_id: int, item: str) -> ProfileView:
        try:
            shared = Shared(item)
        except ValueError:
            raise InvalidAnswer(item) from None
        async with self.db.transaction() as session:
            profile = await self._profile(session, user_id)
            column = f"shares_{shared.value}"
            setattr(profile, column, not getattr(profile, column))
            profile.updated_at = self.clock.now()
            return ProfileView.of(profile)

    @retry_transient
    async def answer(
        self, user_id: int, step: str, value: object, *, advance: bool = True
    ) -> Progress:
        """Store one answer. With `advance`, move the intake on to the next step to ask."""
        async with self.db.transaction() as session:
            profile = await self._profile(session, user_id)
            self._apply(profile, step, value)
            now = self.clock.now()
            profile.updated_at = now
            next_step = step_after(step, profile) if advance else None
            if advance:
                profile.intake_step = next_step
                if next_step is None and profile.intake_completed_at is None:
                    self._start_program(profile, now)
            if profile.intake_completed_at is not None and (
                step in ("timezone", "checkin_hour") or next_step is None
            ):
                await self.checkins.reschedule(session, profile, now)
            return Progress(ProfileView.of(profile), next_step)

    def _start_program(self, profile: Profile, now: datetime) -> None:
        """The intake is done: the plan starts today; the no-contact count runs from the day
        they were last in touch (today when that was not asked)."""
        profile.intake_completed_at = now
        today = local_today(profile, now, self.default_tz)
        started = profile.no_contact_started_on
        if started is None or started > today or is_skipped("last_contact", profile):
            started = today
        profile.no_contact_started_on = started
        profile.phase_started_on = today
        first = self.first_steps(ProfileView.of(profile))[0]
        profile.phase = first.id

    def _apply(self, profile: Profile, step: str, value: object) -> None:
        try:
            match step:
                case "ex_name":
                    profile.ex_name = value if isinstance(value, str) and value else None
                case "breakup":
                    self._apply_breakup(profile, value)
                case "last_contact":
                    self._apply_last_contact(profile, value)
                case "who_ended":
                    profile.who_ended = WhoEnded(str(value))
                case "shared":
                    if value is not None:
                        chosen = {Shared(v) for v in value}  # type: ignore[union-attr]
                        profile.shares_kids = Shared.KIDS in chosen
                        profile.shares_work = Shared.WORK in chosen
                        profile.shares_home = Shared.HOME in chosen
                case "abuse":
                    profile.abuse = AbuseAnswer(str(value))
                    if profile.abuse is AbuseAnswer.YES:
                        profile.goal = Goal.MOVE_ON
                case "goal":
                    goal = Goal(str(value))
                    # After abuse, getting back together is never a goal the bot takes on.
                    unsafe = profile.abuse is AbuseAnswer.YES and goal is Goal.GET_BACK
                    profile.goal = Goal.MOVE_ON if unsafe else goal
                case "timezone":
                    zone = str(value)
                    zone_info(zone)
                    self._move_to_zone(profile, zone)
                case "checkin_hour":
                    hour = int(str(value))
                    if not 0 <= hour <= 23:
                        raise ValueError(value)
                    profile.checkin_hour = hour
                case _:
                    raise InvalidAnswer(step)
        except (ValueError, TypeError, KeyError) as exc:
            raise InvalidAnswer(f"{step}={value!r}") from exc

    def _apply_breakup(self, profile: Profile, value: object) -> None:
        today = local_today(profile, self.clock.now(), self.default_tz)
        if isinstance(value, date):
            if value > today:
                raise ValueError(value)
            profile.breakup_when = BreakupWhen.EXACT
            profile.breakup_on = value
            return
        bucket = BreakupWhen(str(value))
        if bucket is BreakupWhen.EXACT:
            raise ValueError(value)
        profile.breakup_when = bucket
        profile.breakup_on = today - timedelta(days=DAYS_AGO_FOR_BUCKET[bucket])

    def _apply_last_contact(self, profile: Profile, value: object) -> None:
        """The day they were last in touch becomes the start of the no-contact count."""
        today = local_today(profile, self.clock.now(), self.default_tz)
        if isinstance(value, date):
            if value > today:
                raise ValueError(value)
            profile.no_contact_started_on = value
            profile.last_contact_when = EXACT_DAY
            return
        choice = str(value)
        if choice == SINCE_BREAKUP:
            profile.no_contact_started_on = profile.breakup_on or today
        else:
            days_ago = DAYS_AGO_FOR_LAST_CONTACT[choice]
            profile.no_contact_started_on = today - timedelta(days=days_ago)
        profile.last_contact_when = choice

    def _move_to_zone(self, profile: Profile, zone: str) -> None:
        """Set the time zone. During the intake, answers tapped as 'this week' or 'a few days
        ago' were dated from the day it was where the bot runs; when the person's own day is a
        different one, those dates move with it (a typed date stays as typed)."""
        now = self.clock.now()
        before = local_today(profile, now, self.default_tz)
        profile.timezone = zone
        shift = local_today(profile, now, self.default_tz) - before
        if not shift or profile.intake_completed_at is not None:
            return
        tapped_breakup = profile.breakup_when not in (None, BreakupWhen.EXACT)
        if tapped_breakup and profile.breakup_on is not None:
            profile.breakup_on += shift
        if profile.last_contact_when == SINCE_BREAKUP:
            profile.no_contact_started_on = profile.breakup_on
        elif (
            profile.last_contact_when in DAYS_AGO_FOR_LAST_CONTACT
            and profile.no_contact_started_on is not None
        ):
            profile.no_contact_started_on += shift

    async def _profile(self, session: AsyncSession, user_id: int) -> Profile:
        return await q.get_or_create_profile(session, user_id, self.clock.now())

    def first_steps(self, profile: ProfileView) -> tuple[Phase, ...]:
        return first_steps(
            self.content.phases,
            shared=profile.shared,
            reconcile_path_open=profile.reconcile_path_open,
            wants_to_move_on=profile.goal is Goal.MOVE_ON,
            no_contact_days=profile.no_contact_days,
        )
