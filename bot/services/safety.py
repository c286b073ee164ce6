"""Crisis and abuse: the safety hold, the move-on path after abuse, the helplines country.

A crisis message opens a safety hold: scheduled check-ins become a gentle daily "how are you?"
until the person says they are safe. An abuse disclosure switches the program to moving on, for
good, and never loses the person's place in the intake. Danger from the ex does the same and is
remembered, so that no feature offers reconnecting again (`reconnection_blocked`).

The screen's outcomes for a person's last half hour of messages are kept (`risk_signals`) so
that signals spread over several messages count together; the direct question ("Are you
thinking about ending your life?") and its answer, and whether the person said they are under
18, live in `safety_states`. No message text is stored here, ever.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.db import Database
from bot.db import queries as q
from bot.db.models import Checkin, Profile, RiskSignal, SafetyPlanPart, SafetyState
from bot.services.intake import local_today, step_after
from bot.services.retry import retry_transient
from content.helplines import load_helplines
from content.safety_plan import load_safety_plan
from content.screen import CLEAR, ScreenResult, screen
from content.vocab import AbuseAnswer, Goal

# The country setting for "somewhere else": ISO 3166's code for an unknown region. The person's
# own setting always wins, so they get the worldwide list rather than a guess from their language.
INTERNATIONAL = "zz"
MOVE_ON_PHASE = "move_on"
# A check-in sent as a gentle safety ask while on hold: not one to answer with taps later.
HELD = "held"

# The screen counts signals across a person's recent messages: this is how far back they reach.
# The bot's own default, long enough to span one conversation.
SIGNAL_WINDOW = timedelta(minutes=30)
# The non-crisis flags a screen result may carry, stored beside its risk.
SIGNAL_FLAGS = ("health", "minor", "leverage", "safe")
# The answers to the direct question, in the order the buttons show them.
ASK_YES, ASK_NO, ASK_UNSURE = "yes", "no", "unsure"
ASK_ANSWERS = (ASK_YES, ASK_NO, ASK_UNSURE)
# After "No, I'm safe — just hurting", the same kind of unclear message is not asked about
# again for this long (the bot's own default: asking on every sad message would feel like
# not being believed). A clear signal still gets crisis care at once.
ASK_QUIET = SIGNAL_WINDOW
# The answers to the optional age question, in the order the buttons show them.
UNDER_18, ADULT, AGE_UNSAID = "under_18", "adult", "unsaid"
AGE_GROUPS = (UNDER_18, ADULT, AGE_UNSAID)
# What the bot does after each answer.
ACT_CRISIS, ACT_CONTINUE, ACT_CARE = "crisis", "continue", "care"


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
    timezone: str | None = None  # the person's IANA zone, when they chose one: it names a country
    age_group: str | None = None  # "under_18", "adult", "unsaid", or None (never said)

    @property
    def minor(self) -> bool:
        """Under 18 (said in the optional question or in a message): youth lines come first."""
        return self.age_group == UNDER_18


UNKNOWN = SafetyView(False, None, None, False, None, False, None, False)


@dataclass(frozen=True, slots=True)
class AbuseOutcome:
    """After an abuse disclosure: whether the plan just changed, and where the intake is."""

    view: SafetyView
    newly: bool
    intake_step: str | None


def _view(profile: Profile | Row[Any] | None, language_code: str | None) -> SafetyView:
    """The view of a profile, or of a row with the profile's columns under their names."""
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
        timezone=profile.timezone,
        age_group=profile.age_group,
    )


@dataclass(frozen=True, slots=True)
class Signal:
    """One stored screen outcome: enough to rebuild the screen's result, never the text."""

    at: datetime
    risk: str
    level: str
    matched: tuple[str, ...]
    categories: tuple[str, ...]
    flags: frozenset[str]

    def fields(self) -> dict[str, Any]:
        """The screen result's fields, by name: the flags both as booleans (`health`,
        `minor`, `leverage`) and as `flags`, a tuple of names; a result type takes the ones it
        has."""
        return {
            "risk": self.risk,
            "level": self.level,
            "matched": self.matched,
            "categories": self.categories,
            **{flag: flag in self.flags for flag in SIGNAL_FLAGS},
            "flags": tuple(flag for flag in SIGNAL_FLAGS if flag in self.flags),
        }


@dataclass(frozen=True, slots=True)
class SafetyFacts:
    """What the bot knows about a person's safety beyond the intake's answers."""

    is_minor: bool = False
    danger_reported_at: datetime | None = None
    asked_at: datetime | None = None
    answer: str | None = None
    answered_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AskOutcome:
    """After an answer to the direct question: what to do next.

    `action` is "crisis" (Yes: crisis care, the hold open), "continue" (No: carry on with the
    flow, no hold) or "care" (Not sure: care, the helplines and a gentle hold). `offer_plan`:
    the person's safety plan still has parts to fill in, so offering it makes sense."""

    answer: str
    action: str
    view: SafetyView
    offer_plan: bool


def _text_field(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def signal_of(result: Any, at: datetime) -> Signal:
    """A screen result (any object with `risk`, and as many of `level`, `matched`,
    `categories`, `health`, `minor`, `leverage` as it has) as a storable signal."""
    risk = str(getattr(result, "risk", "none"))
    level = getattr(result, "level", None) or "none"
    if level == "none" and risk != "none":  # a risk given without a level is a clear signal
        level = "act"
    flags = frozenset(flag for flag in SIGNAL_FLAGS if getattr(result, flag, False) is True)
    # ...or the same flags as one collection of names.
    flags |= frozenset(_text_field(getattr(result, "flags", None))) & frozenset(SIGNAL_FLAGS)
    return Signal(
        at=at,
        risk=risk,
        level=str(level),
        matched=_text_field(getattr(result, "matched", ())),
        categories=_text_field(getattr(result, "categories", ())),
        flags=flags,
    )


def _facts(state: SafetyState | None) -> SafetyFacts:
    if state is None:
        return SafetyFacts()
    return SafetyFacts(
        is_minor=state.is_minor,
        danger_reported_at=state.danger_reported_at,
        asked_at=state.asked_at,
        answer=state.answer,
        answered_at=state.answered_at,
    )


# --- whose risk: the person's own, or their ex's ----------------------------------------------
# The screen reads words, not speakers: "they texted me: I'll kill myself if you don't come back"
# and "he said he'd kill himself if I leave" match its self-harm (or threat) patterns although
# the threat is the ex's. `their_risk` takes the ex's words out (a quote after "he texted",
# third-person self-harm, a threat of suicide) and screens what is left, which is the person's
# own. Only a risk of self-harm or of danger is ever put down to the ex, and only when the ex's
# words alone carry it; anything the person says about themselves keeps its full care.

_THIRD = r"(?:he|she|they|my ex|the ex|ex|{name})"
_REPORTING = (
    r"(?:texted|texts|text|txted|wrote|writes|messaged|messages|msged|sent|sends|said|says|"
    r"saying|told me|tells me|replied|replies|posted|dmd|dm'd|emailed|voicemailed|screamed|"
    r"shouted|yelled|threatened|threatens|keeps saying|kept saying|is saying|was saying)"
)
# A quote in the ex's voice: "he texted me: ...", "she said '...'". Up to its closing mark, or
# the end of the message.
_QUOTED = (
    r"\b{third}\b[^.!?:\"“”]{{0,40}}?\b{reporting}\b(?: me| to me| back| again)?"
    r"\s*(?::|[\"“])"
)
# The same without punctuation, only when the words speak to the person ("you"), as quoted
# speech does: "he said i'll kill myself if you leave".
_UNMARKED = (
    r"\b{third}\b[^.!?:\"“”]{{0,40}}?\b{reporting}\b(?: me| to me)?"
    r"\s+(?=i\b|im\b|i'm\b|ill\b|i'll\b)"
)
_THEIR_OWN = (
    # "kill himself", "hurt herself", "end themselves"
    r"\b(?:kill|killing|kills|hurt|hurting|hurts|harm|harming|harms|cut|cutting|end|ending|"
    r"off|offing|unalive|unaliving|shoot|hang|drown|starve|do)\w*\s+(?:himself|herself|themselves|themself)\b",
    # "he'll end it all", "she's going to end her life", "they'd take their own life"
    r"\b(?:he|she|they)\s*(?:'ll|'d|'s|'re|\s+will|\s+would|\s+is|\s+was|\s+are|\s+were|"
    r"\s+wants|\s+wanted|\s+might|\s+could)?\s*(?:going to|gonna|about to|to)?\s*"
    r"(?:end it(?: all)?|end (?:his|her|their) (?:own )?life|take (?:his|her|their) (?:own )?life|"
    r"commit suicide|kms|unalive)\b",
    # "threatened suicide", "keeps threatening to ...", "his suicide threats", "attempted suicide"
    r"\b(?:threat\w*|attempt\w*|tried|tries)\s+(?:suicide|to (?:kill|hurt|harm|end)\w*)\b",
    r"\b(?:his|her|their|suicide|self-harm)\s+(?:suicide\s+)?threats?\b",
)
_NEUTRAL = " leave "
# Words that speak to someone: a pasted message in which the ex threatens to hurt themselves is
# nearly always aimed at the person ("if you leave"). Without them, a pasted "I don't want to
# live" may be the person's own, and gets the person's own care.
_ADDRESSED = re.compile(r"\b(?:you|u|ur|your|youre|you're|ya)\b", re.IGNORECASE)
# The person as the one reporting ("he left and I texted: ..."): their own words follow.
_FIRST_PERSON = re.compile(r"\b(?:i|we|i've|ive|i'd|i'm|im)\b", re.IGNORECASE)
_END_QUOTE = re.compile(r"[\"”]")


def _compiled(pattern: str, ex_name: str | None) -> re.Pattern[str]:
    name = re.escape(ex_name.strip().lower()) if ex_name and ex_name.strip() else "my ex"
    third = _THIRD.format(name=name)
    return re.compile(pattern.format(third=third, reporting=_REPORTING), re.IGNORECASE)


def _without_their_quotes(text: str, ex_name: str | None) -> str:
    """The text with every quote in the ex's voice taken out, when the quote on its own
    screens as self-harm (a quoted "kill yourself" is aimed at the person and stays)."""
    out = text
    for pattern in (_QUOTED, _UNMARKED):
        regex, start = _compiled(pattern, ex_name), 0
        while (found := regex.search(out, start)) is not None:
            if _FIRST_PERSON.search(found.group()):  # the person quoting themselves
                start = found.end()
                continue
            rest = out[found.end() :]
            closing = _END_QUOTE.search(rest) if found.group().endswith(('"', "“")) else None
            stop = re.search(r"[.!?\n]", rest)
            # A quote runs to its closing mark; words after a colon, or unmarked, to the end of
            # the sentence (the person's own words may follow).
            end = closing.start() if closing else stop.start() if stop else len(rest)
            speaks_to_them = _ADDRESSED.search(rest[:end])
            if pattern is _UNMARKED and not speaks_to_them:
                break
            quoted = rest[:end]
            if not screen(quoted).self_harm:
                break
            out = out[: found.end()] + _NEUTRAL + rest[end + (1 if closing else 0) :]
            start = found.end() + len(_NEUTRAL)
    return out


def their_risk(
    text: str, own: ScreenResult, *, their_words: bool = False, ex_name: str | None = None
) -> ScreenResult | None:
    """When the self-harm (or danger) the screen found in `text` is the ex's, the screen of
    what the person said about themselves (CLEAR when nothing: all of it was the ex's).
    None when the risk is the person's own. `their_words`: the whole message is something
    the ex sent, pasted (the flow says so); a threat of self-harm in it that speaks to the
    person is the ex's, while danger in it (a threat against the person) stays danger."""
    if not (own.self_harm or own.risk == "danger"):
        return None
    if their_words and own.self_harm and _ADDRESSED.search(text):
        return CLEAR  # a threat of self-harm made to the person ("... if you leave")
    rest = _without_their_quotes(text, ex_name)
    for pattern in _THEIR_OWN:
        rest = re.sub(pattern, _NEUTRAL, rest, flags=re.IGNORECASE)
    if rest == text:
        return None  # nothing in it was the ex's
    # What is left is the message with the ex's words taken out, no longer a sentence anyone
    # wrote: the patterns and the nearest sentences read it, the classifier (which weighs
    # whole messages as written) does not.
    remaining = screen(rest, use_classifier=False)
    if remaining.self_harm or remaining.risk in ("danger", "violence", "abuse"):
        return None  # the person's own risk is in there too: their care comes first
    return remaining


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
        """One statement: the user's language and the profile's safety columns."""
        row = await q.person(self.db, user_id)
        if row is None:
            return UNKNOWN
        # The row carries the profile's columns under their own names.
        return _view(row if row.profile_user_id is not None else None, row.language_code)

    @retry_transient
    async def open_hold(self, user_id: int) -> SafetyView:
        """A crisis message: hold the coaching nudges until the person says they are safe.
        A hold already open keeps its start time."""
        now = self.clock.now()
        async with self.db.transaction() as session:
            return await self._open_hold(session, user_id, now)

    @staticmethod
    async def _open_hold(session: AsyncSession, user_id: int, now: datetime) -> SafetyView:
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
            return await self._record_abuse(session, user_id, now)

    async def _record_abuse(
        self, session: AsyncSession, user_id: int, now: datetime
    ) -> AbuseOutcome | None:
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

    # --- danger from the ex, and age ----------------------------------------------------------

    @retry_transient
    async def record_danger(self, user_id: int) -> AbuseOutcome | None:
        """Danger from the ex (threats, stalking, a break-in, fear of them): remembered, and the
        program moves to letting go exactly as after an abuse disclosure, so no feature offers
        reconnecting again. None if the person is unknown."""
        now = self.clock.now()
        async with self.db.transaction() as session:
            outcome = await self._record_abuse(session, user_id, now)
            if outcome is None:
                return None
            state = await self._state(session, user_id, now)
            if state.danger_reported_at is None:
                state.danger_reported_at = now
            state.updated_at = now
            return outcome

    @retry_transient
    async def record_minor(self, user_id: int, is_minor: bool = True) -> bool:
        """The person said they are under 18 (or, with False, that they are not). True if this
        changed what was known; False if unchanged or the person is unknown."""
        return await self.set_age(user_id, UNDER_18 if is_minor else ADULT)

    @retry_transient
    async def set_age(self, user_id: int, group: str) -> bool:
        """The optional age answer ("under_18", "adult" or "unsaid"), from the question at
        /start or in /settings, or from a message; the newest answer counts. True if this
        changed what was known; False if unchanged or the person is unknown."""
        if group not in AGE_GROUPS:
            raise ValueError(group)
        now = self.clock.now()
        async with self.db.transaction() as session:
            if await q.get_user(session, user_id) is None:
                return False
            state = await self._state(session, user_id, now)
            profile = await q.get_or_create_profile(session, user_id, now)
            was = (profile.age_group, state.is_minor)
            profile.age_group = group
            state.is_minor = group == UNDER_18
            if (profile.age_group, state.is_minor) == was:
                return False
            profile.updated_at = state.updated_at = now
            return True

    @retry_transient
    async def facts(self, user_id: int) -> SafetyFacts:
        async with self.db.sessions() as session:
            return _facts(await session.get(SafetyState, user_id))

    @retry_transient
    async def reconnection_blocked(self, user_id: int) -> bool:
        """True once abuse or danger from the ex is known: disclosed in the intake or in a
        message, reported as danger, or among the person's recent screen outcomes. Every
        feature that would suggest reaching out, rebuilding contact or getting back together
        asks this first (services that hold a session of their own call `blocked_in`)."""
        return _ex_unsafe(await q.person(self.db, user_id), self.clock.now())

    @staticmethod
    async def _state(session: AsyncSession, user_id: int, now: datetime) -> SafetyState:
        state = await session.get(SafetyState, user_id)
        if state is None:
            state = SafetyState(user_id=user_id, is_minor=False, updated_at=now)
            session.add(state)
        return state

    # --- recent risk signals ------------------------------------------------------------------

    @retry_transient
    async def record_signal(self, user_id: int, result: Any) -> bool:
        """Keep a screen result's outcome (never the text) for SIGNAL_WINDOW, and forget the
        person's older ones. Store each message's own result, not the one combined with the
        recent ones, so an escalation never feeds on itself: read `recent_results` first,
        combine, then record. Results that found nothing at all are not stored. True if stored;
        False if there was nothing to keep or the person is unknown."""
        now = self.clock.now()
        signal = signal_of(result, now)
        if not (signal.flags or signal.categories) and signal.risk == signal.level == "none":
            return False
        async with self.db.transaction() as session:
            if await q.get_user(session, user_id) is None:
                return False
            await session.execute(
                delete(RiskSignal).where(
                    RiskSignal.user_id == user_id, RiskSignal.at < now - SIGNAL_WINDOW
                )
            )
            session.add(
                RiskSignal(
                    user_id=user_id,
                    at=now,
                    risk=signal.risk,
                    level=signal.level,
                    matched=list(signal.matched),
                    categories=list(signal.categories),
                    flags=sorted(signal.flags),
                )
            )
            return True

    @retry_transient
    async def recent_signals(self, user_id: int) -> list[Signal]:
        """The person's stored outcomes from the last SIGNAL_WINDOW, oldest first."""
        now = self.clock.now()
        async with self.db.sessions() as session:
            rows = await session.scalars(
                select(RiskSignal)
                .where(RiskSignal.user_id == user_id, RiskSignal.at >= now - SIGNAL_WINDOW)
                .order_by(RiskSignal.at, RiskSignal.id)
            )
            return [
                Signal(
                    at=row.at,
                    risk=row.risk,
                    level=row.level,
                    matched=tuple(row.matched or ()),
                    categories=tuple(row.categories or ()),
                    flags=frozenset(row.flags or ()),
                )
                for row in rows
            ]

    @retry_transient
    async def recent_results(self, user_id: int, factory: Callable[..., Any] | None = None) -> list:
        """The recent signals rebuilt as screen results (oldest first), ready for the screen's
        combine. `factory` defaults to `content.screen.ScreenResult`; only the fields it has
        are passed, so the stored form outlives changes to the result's shape."""
        factory = factory or ScreenResult
        accepted = _accepted_fields(factory)
        return [
            factory(**{k: v for k, v in signal.fields().items() if k in accepted})
            for signal in await self.recent_signals(user_id)
        ]

    @retry_transient
    async def forget_old_signals(self, now: datetime) -> int:
        """Everyone's outcomes older than SIGNAL_WINDOW, removed (for the tick): a person who
        stopped writing leaves nothing behind for long."""
        async with self.db.transaction() as session:
            result = await session.execute(
                delete(RiskSignal).where(RiskSignal.at < now - SIGNAL_WINDOW)
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    # --- the direct question ------------------------------------------------------------------

    @retry_transient
    async def should_ask(self, user_id: int) -> bool:
        """Whether an unclear message should get the direct question now: not if the person
        answered "No, I'm safe" within ASK_QUIET (a clear signal gets care regardless)."""
        now = self.clock.now()
        facts = await self.facts(user_id)
        return not (
            facts.answer == ASK_NO
            and facts.answered_at is not None
            and facts.answered_at >= now - ASK_QUIET
        )

    @retry_transient
    async def asked(self, user_id: int) -> bool:
        """The direct question was just sent. False if the person is unknown."""
        now = self.clock.now()
        async with self.db.transaction() as session:
            if await q.get_user(session, user_id) is None:
                return False
            state = await self._state(session, user_id, now)
            state.asked_at = now
            state.updated_at = now
            return True

    @retry_transient
    async def answer_ask(self, user_id: int, answer: str) -> AskOutcome | None:
        """Record the answer to "Are you thinking about ending your life?".

        Yes: crisis care and the safety hold. No: noted, no hold, the flow carries on.
        Not sure: care, the helplines, the safety plan offered, and the (gentle) hold.
        None if the person is unknown."""
        if answer not in ASK_ANSWERS:
            raise ValueError(answer)
        now = self.clock.now()
        async with self.db.transaction() as session:
            user = await q.get_user(session, user_id)
            if user is None:
                return None
            state = await self._state(session, user_id, now)
            state.answer = answer
            state.answered_at = now
            state.updated_at = now
            if answer == ASK_NO:
                profile = await q.get_profile(session, user_id)
                return AskOutcome(answer, ACT_CONTINUE, _view(profile, user.language_code), False)
            # Yes and Not sure both hold the coaching nudges; the replies differ in tone.
            view = await self._open_hold(session, user_id, now)
            action = ACT_CRISIS if answer == ASK_YES else ACT_CARE
            return AskOutcome(answer, action, view, await _plan_incomplete(session, user_id))


def _ex_unsafe(person: Row[Any] | None, now: datetime) -> bool:
    """Whether reconnecting is off, from the person's row (bot/db/queries.py `person`): abuse
    answered yes, danger reported, or a clear danger or abuse signal in the last SIGNAL_WINDOW
    (a possible danger is asked about first; the answer decides)."""
    if person is None:
        return False
    latest = person.latest_unsafe_signal_at
    return (
        person.abuse is AbuseAnswer.YES
        or person.danger_reported_at is not None
        or (latest is not None and latest >= now - SIGNAL_WINDOW)
    )


async def blocked_in(session: AsyncSession, user_id: int, now: datetime) -> bool:
    """`SafetyService.reconnection_blocked`, inside a session a service already holds."""
    return _ex_unsafe(await q.person_in(session, user_id), now)


def _accepted_fields(factory: Callable[..., Any]) -> frozenset[str]:
    """The keyword arguments a result type takes: a dataclass's init fields; anything else is
    given every stored field."""
    if dataclasses.is_dataclass(factory):
        return frozenset(f.name for f in dataclasses.fields(factory) if f.init)
    return frozenset(("risk", "level", "matched", "categories", *SIGNAL_FLAGS))  # not `flags`


async def _plan_incomplete(session: AsyncSession, user_id: int) -> bool:
    filled = await session.scalars(
        select(SafetyPlanPart.part).where(SafetyPlanPart.user_id == user_id)
    )
    return bool(set(load_safety_plan().ids) - set(filled))
