""" "I want to text them": log the urge, review the draft, hold it, and ask again later.

Every urge is a row in `urges` (when, local hour, strength, outcome). A draft is kept on its row
only while it is needed: from the review until the person lets it go, says they sent it, or a
while passes without an answer (`DRAFT_KEEP`). A held draft waits for its follow-up in the
database (`follow_up_at`, indexed); the scheduler's one tick claims due follow-ups with a lease
and records each send's result as it comes (FollowUpLedger), so a restart does not lose one.

Session and content in, plain results out: no Telegram here.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.db import Database
from bot.db import queries as q
from bot.db.models import Answer, Profile, Urge, User
from bot.services.advice import Advice, AdviceService, Answers, NotSetUp
from bot.services.checkin import CLAIM_LEASE, MAX_ATTEMPTS, CheckinService, Outcome, SendLedger
from bot.services.intake import IntakeService
from bot.services.retry import retry_transient
from bot.services.safety import blocked_in
from bot.services.timing import CATCH_UP, in_quiet_hours, local_date_of, local_hour_of
from content.review import Review, infer_reason, load_review_book, review
from content.screen import screen

STRENGTHS = ("some", "strong")
TOPICS = ("emergency", "logistics", "other")


def contact_topics(shares_something: bool) -> tuple[str, ...]:
    """What a contact with the ex may have been about: practical matters only when kids, work
    or a home are shared (the same rule for a check-in and for a sent draft)."""
    return TOPICS if shares_something else tuple(t for t in TOPICS if t != "logistics")


OPEN = ("pending", "not_yet")  # outcomes of an urge that isn't resolved yet
FOLLOW_UP_AFTER = timedelta(minutes=20)
# A draft pasted this long after the urge was logged still belongs to it.
DRAFT_WINDOW = timedelta(minutes=30)
# A draft nobody is waiting on (not held, or its follow-up unanswered) is forgotten after this.
DRAFT_KEEP = timedelta(hours=2)
# A follow-up that could not be sent (Telegram busy or unreachable) is tried again this soon.
FOLLOW_UP_RETRY = timedelta(minutes=1)
# Patterns: enough urges logged by the person themselves (check-in answers don't say when).
PATTERN_MIN_URGES = 5
PATTERN_FORM, PATTERN_ITEM = "urges", "peak_hour_offered"


class NotYourUrge(LookupError):
    """The urge does not exist or belongs to someone else (a forged or stale button)."""


@dataclass(frozen=True, slots=True)
class DraftReview:
    urge_id: int
    review: Review
    advice: Advice  # the advice engine's verdict for their situation
    # Abuse or danger from the ex is known: no rewrites, and the draft is not offered for holding.
    blocked: bool = False
    # The draft uses self-harm as pressure on the ex: flagged, and the writer is checked on.
    leverage: bool = False


@dataclass(frozen=True, slots=True)
class Pattern:
    """Most of their urges come around `hour` (local), and their check-in is at another hour."""

    hour: int
    urges: int  # urges logged in all
    around: int  # of which within an hour of `hour`


@dataclass(frozen=True, slots=True)
class Resolution:
    outcome: str
    changed: bool  # False: it was already resolved (a double tap) and nothing happened now
    slipped: bool = False
    total_days: int = 0  # no-contact days in all, slips included
    resisted: int = 0  # urges resisted in all
    pattern: Pattern | None = None


@dataclass(frozen=True, slots=True)
class Held:
    at: datetime  # UTC
    zone: str


@dataclass(frozen=True, slots=True)
class FollowUp:
    """A due follow-up this process has claimed and must send."""

    urge_id: int
    user_id: int
    chat_id: int
    draft: str | None
    ex_name: str | None
    attempts: int = 0  # send attempts begun before this claim (the ledger's fence)


class FollowUpLedger:
    """The follow-ups' half of the tick's send ledger (see checkin.SendLedger): each result
    written the moment it is known, each attempt fenced so only one process sends it."""

    def __init__(self, ledger: SendLedger) -> None:
        self.ledger = ledger

    async def begin(self, follow_up: FollowUp) -> bool:
        return bool(
            await self.ledger._run(
                update(Urge)
                .where(
                    Urge.id == follow_up.urge_id,
                    Urge.follow_up_attempts == follow_up.attempts,
                    Urge.follow_up_at.is_not(None),
                )
                .values(
                    follow_up_attempts=Urge.follow_up_attempts + 1,
                    follow_up_claimed_at=self.ledger.clock.now(),
                )
            )
        )

    async def record(
        self, follow_up: FollowUp, outcome: Outcome, retry_after: timedelta = timedelta(0)
    ) -> None:
        now = self.ledger.clock.now()
        values: dict[str, object]
        if outcome is Outcome.SENT:
            values = {"follow_up_at": None, "follow_up_claimed_at": None}
        elif outcome is Outcome.UNCERTAIN:
            values = {"follow_up_claimed_at": now}  # open again after the lease, once
        elif outcome is Outcome.NOT_SENT:  # not delivered, so not an attempt: again shortly
            values = {
                "follow_up_attempts": Urge.follow_up_attempts - 1,
                "follow_up_claimed_at": None,
                "follow_up_at": now + max(retry_after, FOLLOW_UP_RETRY),
            }
        else:  # blocked or refused: it can't be delivered, and the draft is forgotten
            values = {"follow_up_at": None, "follow_up_claimed_at": None, "draft": None}
        await self.ledger._run(
            update(Urge)
            .where(
                Urge.id == follow_up.urge_id,
                Urge.follow_up_attempts == follow_up.attempts + 1,
            )
            .values(follow_up_status=outcome.value, **values)
        )
        if outcome is Outcome.BLOCKED:
            await self.ledger.block(follow_up.user_id)


class UrgeService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        default_tz: str,
        checkins: CheckinService,
        advice: AdviceService,
        intake: IntakeService,
    ) -> None:
        self.db = db
        self.clock = clock
        self.default_tz = default_tz
        self.checkins = checkins
        self.advice = advice
        self.intake = intake
        load_review_book()  # a broken review.yaml fails at start-up, naming file and entry

    def zone(self, profile: Profile) -> str:
        return profile.timezone or self.default_tz

    async def _profile(self, session: AsyncSession, user_id: int) -> Profile:
        profile = await q.get_profile(session, user_id)
        if profile is None or profile.intake_completed_at is None:
            raise NotSetUp(user_id)
        return profile

    async def _owned(self, session: AsyncSession, user_id: int, urge_id: int) -> Urge:
        urge = await session.get(Urge, urge_id)
        if urge is None or urge.user_id != user_id:
            raise NotYourUrge(urge_id)
        return urge

    # --- an urge, and its draft ------------------------------------------------------------------

    @retry_transient
    async def start(self, user_id: int, strength: str) -> int:
        """Log an urge now (outcome pending). Drafts of earlier urges that nobody is waiting on
        are forgotten: one open draft per person is plenty."""
        if strength not in STRENGTHS:
            raise ValueError(strength)
        now = self.clock.now()
        async with self.db.transaction() as session:
            profile = await self._profile(session, user_id)
            await session.execute(
                update(Urge)
                .where(
                    Urge.user_id == user_id,
                    Urge.draft.is_not(None),  # matches ix_urges_kept_drafts
                    Urge.follow_up_at.is_(None),
                )
                .values(draft=None)
            )
            urge = Urge(
                user_id=user_id,
                at=now,
                local_hour=local_hour_of(now, self.zone(profile)),
                strength=strength,
                source="button",
                outcome="pending",
            )
            session.add(urge)
            await session.flush()
            return urge.id

    @retry_transient
    async def awaiting_draft(self, user_id: int) -> int | None:
        """The newest urge still waiting for its draft (logged within DRAFT_WINDOW)."""
        now = self.clock.now()
        async with self.db.sessions() as session:
            return await session.scalar(
                select(Urge.id)
                .where(
                    Urge.user_id == user_id,
                    Urge.outcome == "pending",
                    Urge.source == "button",
                    Urge.follow_up_at.is_(None),
                    Urge.at >= now - DRAFT_WINDOW,
                )
                .order_by(Urge.at.desc(), Urge.id.desc())
                .limit(1)
            )

    @retry_transient
    async def review_draft(self, user_id: int, draft: str) -> DraftReview | None:
        """Review the draft for the person's situation (None: no urge is waiting for one). The
        draft is kept on the urge so that it can be held; it is not sent anywhere."""
        urge_id = await self.awaiting_draft(user_id)
        if urge_id is None:
            return None
        drafted = await self._review(user_id, urge_id, draft)
        async with self.db.transaction() as session:
            urge = await self._owned(session, user_id, urge_id)
            # Nothing is kept to hold when reaching out is not safe.
            urge.draft = None if drafted.blocked else draft
            urge.source = "draft"
        return drafted

    @retry_transient
    async def review_again(self, user_id: int, urge_id: int) -> DraftReview | None:
        """The same review of the draft still kept on this urge (None: it is gone)."""
        async with self.db.sessions() as session:
            draft = (await self._owned(session, user_id, urge_id)).draft
        if not draft:
            return None
        return await self._review(user_id, urge_id, draft)

    async def _review(self, user_id: int, urge_id: int, draft: str) -> DraftReview:
        advice = await self.advice.verdict_for(user_id, Answers())
        reason = infer_reason(draft)
        if reason is not None and advice.situation.they_messaged == "none":
            # Why they want to write, read from the draft: a practical message gets practical
            # advice, a plea to get back together the advice for that.
            advice = await self.advice.verdict_for(user_id, Answers(reason_to_text=reason))
        result = review(
            draft,
            advice.situation,
            verdict=advice.verdict,
            no_contact_days=advice.no_contact_days,
        )
        async with self.db.sessions() as session:
            blocked = await blocked_in(session, user_id, self.clock.now())
        if blocked:
            result = replace(result, rewrites=())
        return DraftReview(urge_id, result, advice, blocked, screen(draft).leverage)

    # --- holding it, and the answers to "still want to send it?" ------------------------------

    @retry_transient
    async def hold(self, user_id: int, urge_id: int) -> Held | None:
        """Ask again in FOLLOW_UP_AFTER (None: the urge is already resolved)."""
        now = self.clock.now()
        async with self.db.transaction() as session:
            await self._owned(session, user_id, urge_id)
            profile = await self._profile(session, user_id)
            if await blocked_in(session, user_id, now):
                return None  # reaching out is not safe: nothing comes back to send later
            at = now + FOLLOW_UP_AFTER
            result = await session.execute(
                update(Urge)
                .where(Urge.id == urge_id, Urge.outcome.in_(OPEN))
                .values(follow_up_at=at)
            )
            if not result.rowcount:  # type: ignore[attr-defined]
                return None
            return Held(at, self.zone(profile))

    @retry_transient
    async def not_yet(self, user_id: int, urge_id: int) -> bool:
        """They haven't decided: outcome not_yet, the draft kept for another hold."""
        async with self.db.transaction() as session:
            await self._owned(session, user_id, urge_id)
            result = await session.execute(
                update(Urge)
                .where(Urge.id == urge_id, Urge.outcome.in_(OPEN))
                .values(outcome="not_yet", follow_up_at=None)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    @retry_transient
    async def resisted(self, user_id: int, urge_id: int) -> Resolution:
        """They let it go: an urge resisted, and the draft forgotten."""
        return await self._resolve(user_id, urge_id, "resisted")

    @retry_transient
    async def sent(self, user_id: int, urge_id: int, topic: str) -> Resolution:
        """They sent it, about `topic`: the no-contact rules apply (a slip unless it was an
        emergency or something practical they share), and the draft is forgotten."""
        if topic not in TOPICS:
            raise NotYourUrge(urge_id)
        return await self._resolve(user_id, urge_id, "sent", topic)

    async def _resolve(
        self, user_id: int, urge_id: int, outcome: str, topic: str | None = None
    ) -> Resolution:
        now = self.clock.now()
        async with self.db.transaction() as session:
            await self._owned(session, user_id, urge_id)
            profile = await self._profile(session, user_id)
            # Conditional, so a double tap (or two processes) resolves it exactly once.
            result = await session.execute(
                update(Urge)
                .where(Urge.id == urge_id, Urge.outcome.in_(OPEN))
                .values(outcome=outcome, draft=None, follow_up_at=None)
            )
            if not result.rowcount:  # type: ignore[attr-defined]
                return Resolution(outcome, changed=False)
            slipped = False
            if topic is not None:
                slipped = await self.checkins.record_contact(
                    session, profile, initiated_by="me", topic=topic, now=now
                )
            await session.flush()
            streak = await self.checkins.streak(
                session, profile, local_date_of(now, self.zone(profile))
            )
            pattern = await self._notice_pattern(session, profile, now)
            return Resolution(
                outcome,
                changed=True,
                slipped=slipped,
                total_days=streak.total,
                resisted=streak.urges_resisted,
                pattern=pattern,
            )

    # --- patterns ------------------------------------------------------------------------------

    @staticmethod
    def peak_hour(hours: list[int]) -> Pattern | None:
        """The hour their urges cluster around: the hour whose window (an hour either side,
        across midnight) holds the most urges, if that is at least half of them and three or
        more. Pure: hours in, pattern out."""
        if len(hours) < PATTERN_MIN_URGES:
            return None
        counts = Counter(hours)

        def around(hour: int) -> int:
            return sum(counts[(hour + d) % 24] for d in (-1, 0, 1))

        best = max(range(24), key=lambda h: (around(h), counts[h], -h))
        within = around(best)
        if within < 3 or within * 2 < len(hours):
            return None
        return Pattern(best, len(hours), within)

    async def _notice_pattern(
        self, session: AsyncSession, profile: Profile, now: datetime
    ) -> Pattern | None:
        """A peak hour worth moving the check-in to, offered once per hour."""
        if profile.checkin_hour is None or profile.checkins_stopped:
            return None
        hours = list(
            await session.scalars(
                select(Urge.local_hour).where(
                    Urge.user_id == profile.user_id, Urge.source != "checkin"
                )
            )
        )
        pattern = self.peak_hour(hours)
        if pattern is None or pattern.hour == profile.checkin_hour:
            return None
        if in_quiet_hours(pattern.hour, profile.quiet_start, profile.quiet_end):
            return None
        offered = await session.get(Answer, (profile.user_id, PATTERN_FORM, PATTERN_ITEM))
        if offered is not None and offered.value == str(pattern.hour):
            return None
        await q.upsert(
            session,
            Answer,
            {"user_id": profile.user_id, "form": PATTERN_FORM, "item": PATTERN_ITEM,
             "value": str(pattern.hour), "answered_at": now},
            keys=("user_id", "form", "item"),
        )  # fmt: skip
        return pattern

    @retry_transient
    async def move_checkin(self, user_id: int, hour: int) -> int:
        """Move the daily check-in to `hour` (the intake's own answer, which reschedules)."""
        if not 0 <= hour <= 23:
            raise ValueError(hour)
        progress = await self.intake.answer(user_id, "checkin_hour", hour, advance=False)
        return progress.profile.checkin_hour if progress.profile.checkin_hour is not None else hour

    @retry_transient
    async def cancel_held_drafts(self, user_id: int) -> bool:
        """Once reaching out is no longer safe (abuse or danger from the ex): every draft the
        person is holding is let go, its follow-up no longer due, and any other kept draft is
        forgotten. The urges and their outcomes stay. True if a held draft was cancelled (so the
        person can be told kindly that it won't come back)."""
        async with self.db.transaction() as session:
            held = await session.execute(
                update(Urge)
                .where(Urge.user_id == user_id, Urge.follow_up_at.is_not(None))
                .values(follow_up_at=None, draft=None)
            )
            await session.execute(
                update(Urge)
                .where(Urge.user_id == user_id, Urge.draft.is_not(None))
                .values(draft=None)
            )
            return bool(held.rowcount)  # type: ignore[attr-defined]

    # --- the tick's part -------------------------------------------------------------------------

    async def claim_follow_ups(
        self, now: datetime, limit: int = 500, lease: timedelta = CLAIM_LEASE
    ) -> list[FollowUp]:
        """Claim due follow-ups with a lease: each stays due (follow_up_at kept) until its send's
        result is recorded, so a crash in between sends it again after the lease instead of
        losing it. The rows are locked and skipped by other processes on PostgreSQL, and a
        claim still inside its lease is not taken, so only one process sends each. Follow-ups
        for someone who blocked the bot, whose safety hold is on, that are overdue by more
        than CATCH_UP (the bot was down) or that ran out of attempts are dropped, and their
        drafts with them."""
        async with self.db.transaction() as session:
            due_query = (
                select(Urge.id, Urge.user_id, Urge.draft, Urge.follow_up_at,
                       Urge.follow_up_attempts)
                .where(
                    Urge.follow_up_at <= now,
                    or_(
                        Urge.follow_up_claimed_at.is_(None),
                        Urge.follow_up_claimed_at <= now - lease,
                    ),
                )
                .order_by(Urge.follow_up_at)
                .limit(limit)
            )  # fmt: skip
            if not self.db.is_sqlite:
                due_query = due_query.with_for_update(skip_locked=True)
            due = (await session.execute(due_query)).all()
            if not due:
                return []
            user_ids = {row.user_id for row in due}
            rows = await session.execute(
                select(User.id, User.chat_id, User.is_active, Profile.safety_hold, Profile.ex_name)
                .outerjoin(Profile, Profile.user_id == User.id)
                .where(User.id.in_(user_ids))
            )
            people = {user_id: rest for user_id, *rest in rows}
            out: list[FollowUp] = []
            dropped: dict[str, list[int]] = {"dropped": [], "gave_up": []}
            for urge_id, user_id, draft, at, attempts in due:
                chat_id, active, hold, ex_name = people.get(user_id, (None, False, False, None))
                if chat_id is None or not active or hold or now - at > CATCH_UP:
                    dropped["dropped"].append(urge_id)
                elif attempts >= MAX_ATTEMPTS:
                    dropped["gave_up"].append(urge_id)
                else:
                    out.append(FollowUp(urge_id, user_id, chat_id, draft, ex_name, attempts))
            for status, ids in dropped.items():
                if ids:
                    await session.execute(
                        update(Urge)
                        .where(Urge.id.in_(ids))
                        .values(draft=None, follow_up_at=None, follow_up_claimed_at=None,
                                follow_up_status=status)
                    )  # fmt: skip
            if out:
                await session.execute(
                    update(Urge)
                    .where(Urge.id.in_([f.urge_id for f in out]))
                    .values(follow_up_claimed_at=now)
                )
            return out

    async def forget_stale_drafts(self, now: datetime) -> int:
        """Drafts nobody is waiting on any more (not held, or their follow-up unanswered for
        DRAFT_KEEP): forgotten. The urge and its outcome stay."""
        async with self.db.transaction() as session:
            result = await session.execute(
                update(Urge)
                .where(
                    Urge.draft.is_not(None),  # matches ix_urges_kept_drafts
                    Urge.follow_up_at.is_(None),
                    Urge.at < now - DRAFT_KEEP,
                )
                .values(draft=None)
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]
