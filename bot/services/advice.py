"""The advice behind "Should I text them?" and "They texted me", fed from what is stored.

The profile, the no-contact streak, contact with the ex and the readiness checklist already say
most of a `Situation`; the person is asked only the rest, and only what could change the
answer (`next_step`). Session and content in, plain results out: no Telegram here.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, fields, replace
from datetime import date, timedelta
from itertools import product
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.db import Database
from bot.db import queries as q
from bot.db.models import Answer, ContactEvent, Profile, User
from bot.services.checkin import CheckinService
from bot.services.paths import read_choices
from bot.services.program import story_goal
from bot.services.retry import retry_transient
from bot.services.safety import blocked_in
from bot.services.timing import local_date_of, local_hour_of
from content import Content
from content.advice import FEELINGS, THEY_MESSAGED, Note, Situation, Verdict, advise
from content.helplines import HelplineSet, helplines_for
from content.program import LIMITED_CONTACT, checklist_ticks, distance_for, load_program
from content.vocab import AbuseAnswer, Goal

# The flow's questions, in the order they are asked.
QUESTIONS = ("they_messaged", "reason_to_text", "feeling", "unanswered_messages_you_sent")
OPTIONS: dict[str, tuple[Any, ...]] = {
    "they_messaged": THEY_MESSAGED,
    # "reply" is never asked: it follows from "they messaged you".
    "reason_to_text": (
        "miss_them",
        "logistics",
        "emergency",
        "apologise",
        "closure",
        "check_on_them",
        "ask_to_get_back",
        "make_jealous",
    ),
    "feeling": FEELINGS,
    "unanswered_messages_you_sent": (1, 0),
}
# Asked whatever else is known: a crisis must always be able to surface.
ALWAYS_ASKED = frozenset({"feeling"})
# What the ex can send; each is also the topic of the ContactEvent recorded for it.
THEY_SENT_KINDS = ("emergency", "logistics", "casual", "relationship", "hostile")
# The same kind of message from them within this window is the same message (a double tap).
SAME_MESSAGE_WINDOW = timedelta(minutes=10)

# The readiness checklist (content/forms.yaml; answers in the answers table): done when every
# item is ticked, the program's own "no contact done" item by the streak having run its length.
READINESS_FORM = "readiness"
# The notes on where the articles differ that a person has been shown (answers table).
NOTES_SEEN_FORM = "notes_seen"

# This rule says "you got in touch, so the count started again". The count also starts when
# the plan starts (the streak), without any contact; then the rule's premise is not true.
RESTART_RULE = "count-restarts-when-you-reach-out"


class NotSetUp(LookupError):
    """No finished intake for this person: there is nothing to advise from yet."""


class UnknownKind(ValueError):
    """A kind of message from the ex that the engine does not know (a forged button)."""


@dataclass(frozen=True, slots=True)
class Answers:
    """What the person said in the flow (None: not asked, or not needed)."""

    they_messaged: str | None = None
    reason_to_text: str | None = None
    feeling: str | None = None
    unanswered_messages_you_sent: int | None = None

    def __post_init__(self) -> None:
        for name in QUESTIONS:
            value = getattr(self, name)
            if value is not None and value not in OPTIONS[name] and value != "reply":
                raise ValueError(f"{name}: {value!r} is not an option")

    def given(self) -> dict[str, Any]:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return {name: value for name, value in values.items() if value is not None}

    def merged(self, known: Answers) -> Answers:
        """These answers, with what is already known filling the gaps; when they wrote to
        you, the reason to text is to reply."""
        out = replace(known, **self.given())
        if out.they_messaged not in (None, "none") and out.reason_to_text is None:
            out = replace(out, reason_to_text="reply")
        return out


@dataclass(frozen=True, slots=True)
class Known:
    """Everything stored that bears on the advice, read once."""

    base: Situation  # from the profile and the streak, without the flow's answers
    answers: Answers  # what contact with the ex already tells
    no_contact_days: int
    ex_name: str | None
    contacted_since_breakup: bool
    country: str | None
    language_code: str | None
    timezone: str | None = None
    seen_notes: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class NextQuestion:
    field: str
    options: tuple[Any, ...]
    ex_name: str | None


@dataclass(frozen=True, slots=True)
class Opening:
    # What stored contact already answers (e.g. "they texted today, about practical things"),
    # so the flow can say which answer it is using.
    known: Answers
    ex_name: str | None
    step: NextQuestion | Advice


@dataclass(frozen=True, slots=True)
class Advice:
    situation: Situation
    answers: Answers  # the answers the verdict rests on, known ones included
    verdict: Verdict
    ex_name: str | None
    no_contact_days: int
    helplines: HelplineSet | None  # only for get_support
    # How many days of no contact are left, when that is still to be said besides the headline:
    # "many", "one" or "done"; None when there is no count or the headline already gives it.
    days_note: str | None = None
    # Notes on where the articles differ that this person has not been shown yet: each topic
    # is shown once per person, on request, never in every verdict.
    new_notes: tuple[Note, ...] = ()

    @property
    def limited_contact(self) -> bool:
        """Someone who shares children, work or a home keeps contact limited and practical:
        no count of no-contact days is ever shown to them."""
        return distance_for(self.situation.shared) == LIMITED_CONTACT


def days_note(verdict: Verdict, headlines: Collection[str]) -> str | None:
    """Whether the days left need a line of their own: not when there is no count, and not when
    the headline was filled in with it (it is then none of the rulebook's raw headlines)."""
    if verdict.days_left is None or verdict.headline not in headlines:
        return None
    return "many" if verdict.days_left > 1 else "one" if verdict.days_left == 1 else "done"


class AdviceService:
    def __init__(
        self,
        db: Database,
        content: Content,
        clock: Clock,
        default_tz: str,
        checkins: CheckinService,
    ) -> None:
        self.db = db
        self.content = content
        self.clock = clock
        self.default_tz = default_tz
        self.checkins = checkins

    # --- the public use cases ----------------------------------------------------------------

    @retry_transient
    async def situation_for(self, user_id: int, answers: Answers) -> Situation:
        known = await self._known(user_id)
        return self._situation(known, answers.merged(known.answers))

    @retry_transient
    async def verdict_for(self, user_id: int, answers: Answers) -> Advice:
        known = await self._known(user_id)
        return self._advice(known, answers.merged(known.answers))

    @retry_transient
    async def next_step(self, user_id: int, answers: Answers) -> NextQuestion | Advice:
        """The next question worth asking, or the advice once nothing more could change it."""
        return self._step(await self._known(user_id), answers)

    @retry_transient
    async def opening(self, user_id: int, answers: Answers) -> Opening:
        """What stored contact already answers, the ex's name and the first step, from one
        read of what is stored (the start of the flow needs all three)."""
        known = await self._known(user_id)
        return Opening(known.answers, known.ex_name, self._step(known, answers))

    def _step(self, known: Known, answers: Answers) -> NextQuestion | Advice:
        merged = answers.merged(known.answers)
        question = self._next_question(known, merged)
        if question is not None:
            return NextQuestion(question, OPTIONS[question], known.ex_name)
        return self._advice(known, merged)

    @retry_transient
    async def ex_name(self, user_id: int) -> str | None:
        """What the person calls their ex (None: unnamed); raises NotSetUp before the intake."""
        return (await self._known(user_id)).ex_name

    @retry_transient
    async def they_texted(self, user_id: int, kind: str) -> Advice:
        """Record that the ex got in touch (this never breaks no contact) and say whether and
        how to answer."""
        if kind not in THEY_SENT_KINDS:
            raise UnknownKind(kind)
        now = self.clock.now()
        async with self.db.transaction() as session:
            profile = await self._profile(session, user_id)
            repeated = await session.scalar(
                select(ContactEvent.id)
                .where(
                    ContactEvent.user_id == user_id,
                    ContactEvent.initiated_by == "them",
                    ContactEvent.topic == kind,
                    ContactEvent.at >= now - SAME_MESSAGE_WINDOW,
                )
                .limit(1)
            )
            if repeated is None:
                await self.checkins.record_contact(
                    session, profile, initiated_by="them", topic=kind, now=now
                )
        return await self.verdict_for(user_id, Answers(they_messaged=kind, reason_to_text="reply"))

    @retry_transient
    async def mark_notes_seen(self, user_id: int, note_ids: Collection[str]) -> None:
        """Remember that these notes on where the articles differ were shown to the person."""
        now = self.clock.now()
        async with self.db.transaction() as session:
            for note_id in sorted(set(note_ids)):
                await q.upsert(
                    session,
                    Answer,
                    {
                        "user_id": user_id,
                        "form": NOTES_SEEN_FORM,
                        "item": note_id,
                        "value": "seen",
                        "answered_at": now,
                    },
                    keys=("user_id", "form", "item"),
                )

    # --- reading what is stored --------------------------------------------------------------

    async def _profile(self, session: AsyncSession, user_id: int) -> Profile:
        profile = await q.get_profile(session, user_id)
        if profile is None or profile.intake_completed_at is None:
            raise NotSetUp(user_id)
        return profile

    async def _known(self, user_id: int) -> Known:
        now = self.clock.now()
        async with self.db.sessions() as session:
            profile = await self._profile(session, user_id)
            user = await session.get(User, user_id)
            zone = profile.timezone or self.default_tz
            today = local_date_of(now, zone)
            latest = await self._latest_contact(session, user_id)
            last_slip = await session.scalar(
                select(ContactEvent.local_date)
                .where(ContactEvent.user_id == user_id, ContactEvent.breaks_no_contact.is_(True))
                .order_by(ContactEvent.at.desc(), ContactEvent.id.desc())
                .limit(1)
            )
            started = profile.no_contact_started_on
            no_contact_done = started is not None and (
                (today - started).days >= profile.no_contact_days
            )
            readiness = await self._readiness_done(session, user_id, no_contact_done)
            # Abuse or danger from the ex known anywhere (even only in a recent message): the
            # let-go answer, never a reconnecting one.
            unsafe_ex = await blocked_in(session, user_id, now)
            # The person's own path: how strict to be with their messages, a rash fight, and
            # whether they are seeing someone (content/paths.py).
            path = await read_choices(session, user_id)
            seen = frozenset(
                await session.scalars(
                    select(Answer.item).where(
                        Answer.user_id == user_id, Answer.form == NOTES_SEEN_FORM
                    )
                )
            )
        breakup_on = profile.breakup_on
        days_since_breakup = max(0, (today - breakup_on).days) if breakup_on else 0
        last_contact = _latest_date(last_slip, profile.no_contact_started_on)
        base = Situation(
            days_since_breakup=days_since_breakup,
            days_since_you_last_contacted=(
                max(0, (today - last_contact).days) if last_contact else None
            ),
            who_ended=profile.who_ended.value if profile.who_ended else None,
            shared=profile.shared,
            abuse_or_repeated_cheating=True if unsafe_ex else _abuse(profile.abuse),
            goal=(story_goal(profile.phase, None, profile.goal) or Goal.UNSURE).value,
            local_hour=local_hour_of(now, zone),
            readiness_checklist_done=readiness,
            they_are_dating=bool(path.they_are_dating),
            rash_fight_breakup=bool(path.rash_fight),
            reply_strictness=path.reply_strictness,
        )
        return Known(
            base=base,
            answers=_known_answers(latest, today),
            no_contact_days=profile.no_contact_days,
            ex_name=profile.ex_name,
            contacted_since_breakup=last_slip is not None
            and (breakup_on is None or last_slip >= breakup_on),
            country=profile.country,
            language_code=user.language_code if user else None,
            timezone=profile.timezone,
            seen_notes=seen,
        )

    @staticmethod
    async def _latest_contact(session: AsyncSession, user_id: int) -> ContactEvent | None:
        return await session.scalar(
            select(ContactEvent)
            .where(ContactEvent.user_id == user_id)
            .order_by(ContactEvent.at.desc(), ContactEvent.id.desc())
            .limit(1)
        )

    @staticmethod
    async def _readiness_done(session: AsyncSession, user_id: int, no_contact_done: bool) -> bool:
        rows = await session.execute(
            select(Answer.item, Answer.value).where(
                Answer.user_id == user_id, Answer.form == READINESS_FORM
            )
        )
        ticked = checklist_ticks(READINESS_FORM, {item: value for item, value in rows})
        return all(
            no_contact_done if item.auto else item.id in ticked
            for item in load_program().form(READINESS_FORM).items
        )

    # --- deciding ------------------------------------------------------------------------------

    @staticmethod
    def _situation(known: Known, answers: Answers) -> Situation:
        return replace(known.base, **answers.given())

    def _decide(self, known: Known, answers: Answers) -> Verdict:
        return advise(self._situation(known, answers), self.content.rulebook, known.no_contact_days)

    def _next_question(self, known: Known, answers: Answers) -> str | None:
        for name in QUESTIONS:
            if getattr(answers, name) is not None:
                continue
            if name in ALWAYS_ASKED or self._could_matter(known, answers, name):
                return name
        return None

    def _could_matter(self, known: Known, answers: Answers, name: str) -> bool:
        """Whether some answer to `name` leads to other advice than another answer would, for
        any answers still to come."""
        for rest in self._completions(answers, exclude=name):
            outcomes = set()
            for value in OPTIONS[name]:
                full = replace(rest, **{name: value}).merged(Answers())
                verdict = self._decide(known, full)
                outcomes.add((verdict.decision, verdict.headline))
                if len(outcomes) > 1:
                    return True
        return False

    @staticmethod
    def _completions(answers: Answers, exclude: str) -> Iterator[Answers]:
        open_ = [n for n in QUESTIONS if n != exclude and getattr(answers, n) is None]
        for values in product(*(OPTIONS[n] for n in open_)):
            yield replace(answers, **dict(zip(open_, values, strict=True)))

    def _advice(self, known: Known, answers: Answers) -> Advice:
        situation = self._situation(known, answers)
        verdict = advise(situation, self.content.rulebook, known.no_contact_days)
        if not known.contacted_since_breakup:
            verdict = replace(
                verdict, reasons=tuple(r for r in verdict.reasons if r.rule != RESTART_RULE)
            )
        helplines = None
        if verdict.decision == "get_support":
            helplines = helplines_for(known.country, known.language_code, timezone=known.timezone)
        return Advice(
            situation=situation,
            answers=answers,
            verdict=verdict,
            ex_name=known.ex_name,
            no_contact_days=known.no_contact_days,
            helplines=helplines,
            days_note=days_note(verdict, self.content.rulebook.headlines.values()),
            new_notes=tuple(n for n in verdict.sources_differ if n.id not in known.seen_notes),
        )


def _abuse(answer: AbuseAnswer | None) -> bool | None:
    if answer is AbuseAnswer.YES:
        return True
    if answer is AbuseAnswer.NO:
        return False
    return None  # unsaid: never taken as "no"


def _latest_date(*days: date | None) -> date | None:
    present = [d for d in days if d is not None]
    return max(present) if present else None


def _known_answers(latest: ContactEvent | None, today: date) -> Answers:
    """What the newest contact with the ex already answers: if they wrote last, nothing of
    yours is waiting for a reply; if they wrote today and said what kind, that is known too."""
    if latest is None or latest.initiated_by != "them":
        return Answers()
    they_messaged = (
        latest.topic if latest.local_date == today and latest.topic in THEY_SENT_KINDS else None
    )
    return Answers(they_messaged=they_messaged, unanswered_messages_you_sent=0)
