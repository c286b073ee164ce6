"""Daily check-ins: scheduling, exactly-once claiming, answers and the no-contact streak."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    Select,
    and_,
    bindparam,
    func,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.clock import Clock
from bot.db import Database
from bot.db import queries as q
from bot.db.models import Answer, Checkin, ContactEvent, Profile, RiskyDay, Urge, User
from bot.services.paths import PATH_FORM, PathChoices, choices_from, read_choices
from bot.services.retry import retry_transient
from bot.services.timing import CATCH_UP, due_at, local_date_of, local_hour_of, next_due
from content.advice import RASH_REPAIR_LAST_DAY
from content.paths import in_repair_window
from content.program import NO_CONTACT, distance_for
from content.vocab import NO_CONTACT_DAYS_RANGE

MILESTONES = (1, 3, 7, 14, 21)
# A claim whose last attempt began longer ago than this, with no result, is sent again. It must
# be longer than a send can take (the scheduled lane's request timeout plus its wait for a rate
# token), so a slow send that Telegram is still delivering is never sent a second time.
CLAIM_LEASE = timedelta(minutes=2)
# Attempts at one check-in (the first send, then a re-send after a crash or a timeout, then one
# more); after that it is given up, so a message that keeps failing cannot loop for hours.
MAX_ATTEMPTS = 3
OPEN = ("claimed", "uncertain")  # statuses of a check-in whose send has no final result yet
CONTACT_CHOICES = ("none", "me", "them")
# "reply", "repair" and "pause_message" are contact the person's own path plans for (answering
# their message when that is the plan, the short apology after a rash fight in its window, the
# one calm "let's not talk for now" message): following the articles never counts as a slip.
PLANNED_TOPICS = ("reply", "repair", "pause_message")
TOPIC_CHOICES = ("emergency", "logistics", "other", *PLANNED_TOPICS)
URGE_CHOICES = ("none", "some", "strong")
MAX_HARD_DATES = 10
# Once the person has reached out on purpose, contact is the plan, not a slip.
RECONNECTING_PHASES = frozenset({"reach_out", "rebuild", "the_talk", "relationship"})

# The answers that only fill in the check-in's own row (see CheckinService._answer_quick): no
# contact event, no urge to record. Every other answer takes the full path.
_QUICK_CONTACT = ("none", "me")
# Everything an answer on the quick path reads, in one statement: the check-in, the columns of
# its owner's profile that the view and the milestone use, and the person's path choices (one
# row per choice; one row with no choice when none is made). Built once: its compiled form is
# reused.
_CHECKIN_COLUMNS = ("id", "kind", "local_date", "contact", "contact_topic", "mood", "urge",
                    "answered_at")  # fmt: skip
_PROFILE_COLUMNS = ("user_id", "ex_name", "phase", "breakup_on", "no_contact_started_on",
                    "no_contact_banked_days", "slips", "no_contact_days", "last_milestone_day",
                    "shares_kids", "shares_work", "shares_home", "timezone")  # fmt: skip
_QUICK_READ = (
    select(
        *(Checkin.__table__.c[name] for name in _CHECKIN_COLUMNS),
        *(Profile.__table__.c[name].label(f"p_{name}") for name in _PROFILE_COLUMNS),
        Answer.__table__.c.item.label("choice"),
        Answer.__table__.c.value.label("choice_value"),
    )
    .select_from(Checkin.__table__)
    .join(Profile.__table__, Profile.__table__.c.user_id == Checkin.__table__.c.user_id)
    .outerjoin(
        Answer.__table__,
        and_(
            Answer.__table__.c.user_id == Checkin.__table__.c.user_id,
            Answer.__table__.c.form == PATH_FORM,
        ),
    )
    .where(
        Checkin.__table__.c.id == bindparam("checkin_id"),
        Checkin.__table__.c.user_id == bindparam("user_id"),
    )
)

_MILESTONE_WRITE = (
    update(Profile.__table__)
    .where(Profile.__table__.c.user_id == bindparam("owner"))
    .values(last_milestone_day=bindparam("day"))
)


# The urge a check-in reports, recorded the first time it is answered with one.
_URGE_WRITE = insert(Urge.__table__).values(
    user_id=bindparam("owner"),
    at=bindparam("at"),
    local_hour=bindparam("local_hour"),
    strength=bindparam("strength"),
    source="checkin",
    outcome=bindparam("outcome"),
)


@functools.cache
def _checkin_write(columns: tuple[str, ...]) -> Any:
    """The UPDATE of these columns of one check-in, built once per set of columns (there are a
    handful): building and cache-keying a statement costs more than running it."""
    table = Checkin.__table__
    return (
        update(table)
        .where(table.c.id == bindparam("checkin_id"))
        .values({name: bindparam(f"new_{name}") for name in columns})
    )


@dataclass(frozen=True, slots=True)
class Claimed:
    """A check-in that this process now owns and must send."""

    checkin_id: int
    user_id: int
    chat_id: int
    local_date: date
    kind: str
    ex_name: str | None
    safety_hold: bool
    streak_day: int | None
    attempts: int = 0  # send attempts begun before this claim (the ledger's fence)
    distance: str = NO_CONTACT  # what the day count means (content.program.distance_for)


class Outcome(StrEnum):
    """What became of one send, as the ledger records it."""

    SENT = "sent"  # Telegram accepted it: done
    BLOCKED = "blocked"  # the person blocked the bot or the chat is gone: nothing more is sent
    REFUSED = "refused"  # Telegram refused this message for good (a 400): never tried again
    UNCERTAIN = "uncertain"  # timed out: it may or may not have arrived; re-sent once, later
    NOT_SENT = "not_sent"  # it certainly did not go out (429, no connection): tried again soon


@dataclass(frozen=True, slots=True)
class Streak:
    current: int  # days of no contact in the running streak
    total: int  # all no-contact days, including streaks that ended in a slip
    slips: int
    urges_resisted: int
    length: int  # the chosen no-contact length
    distance: str = NO_CONTACT  # what the count means (content.program.distance_for)


@dataclass(frozen=True, slots=True)
class CheckinView:
    """Where one check-in stands, for rendering the message in place."""

    checkin_id: int
    kind: str
    contact: str | None
    contact_topic: str | None
    mood: int | None
    urge: str | None
    ex_name: str | None
    needs_topic: bool
    shares_something: bool
    done: bool
    slipped: bool
    streak: Streak
    milestone: int | None  # a milestone reached by this answer
    counting: bool  # whether the no-contact count applies in the person's phase
    # Planned kinds of contact the person's path offers today (PLANNED_TOPICS), besides the
    # usual emergency / practical / other.
    planned_topics: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CheckinSettings:
    zone: str
    next_at: datetime | None
    paused_until: datetime | None
    stopped: bool
    quiet_start: int | None
    quiet_end: int | None
    no_contact_days: int


@dataclass(frozen=True, slots=True)
class HardDate:
    id: int
    month: int
    day: int
    label: str


class NotYours(LookupError):
    """The check-in does not exist or belongs to someone else (a forged or stale button)."""


class CheckinService:
    def __init__(self, db: Database, clock: Clock, default_tz: str) -> None:
        self.db = db
        self.clock = clock
        self.default_tz = default_tz

    # --- scheduling ------------------------------------------------------------------------

    def zone(self, profile: Profile) -> str:
        return profile.timezone or self.default_tz

    async def risky_days(self, session: AsyncSession, user_id: int) -> list[tuple[int, int]]:
        rows = await session.execute(
            select(RiskyDay.month, RiskyDay.day).where(RiskyDay.user_id == user_id)
        )
        return [(m, d) for m, d in rows]

    async def risky_days_of(
        self, session: AsyncSession, user_ids: list[int]
    ) -> dict[int, list[tuple[int, int]]]:
        found: dict[int, list[tuple[int, int]]] = {}
        rows = await session.execute(
            select(RiskyDay.user_id, RiskyDay.month, RiskyDay.day).where(
                RiskyDay.user_id.in_(user_ids)
            )
        )
        for user_id, month, day in rows:
            found.setdefault(user_id, []).append((month, day))
        return found

    async def reschedule(
        self,
        session: AsyncSession,
        profile: Profile,
        after: datetime,
        risky_days: list[tuple[int, int]] | None = None,
    ) -> None:
        """Point the profile at its next check-in, or at nothing while none should be sent."""
        if (
            profile.checkin_hour is None
            or profile.intake_completed_at is None
            or profile.checkins_stopped
        ):
            profile.next_checkin_at = None
            return
        due = next_due(
            after=after,
            zone=self.zone(profile),
            checkin_hour=profile.checkin_hour,
            quiet_start=profile.quiet_start,
            quiet_end=profile.quiet_end,
            risky_days=(
                risky_days
                if risky_days is not None
                else await self.risky_days(session, profile.user_id)
            ),
            paused_until=profile.checkins_paused_until,
        )
        profile.next_checkin_at = due.at

    @retry_transient
    async def reschedule_user(self, user_id: int) -> datetime | None:
        async with self.db.transaction() as session:
            profile = await q.get_profile(session, user_id)
            if profile is None:
                return None
            await self.reschedule(session, profile, self.clock.now())
            return profile.next_checkin_at

    # --- claiming (exactly once) -----------------------------------------------------------

    def due_query(self, now: datetime, limit: int) -> Select[tuple[Profile, int]]:
        """Who is due: an index range scan on next_checkin_at, so its cost does not grow with
        the people who are not due, paused, stopped or inactive (their pointer is NULL). On
        PostgreSQL the rows are locked and skipped by other bot processes."""
        stmt = (
            select(Profile, User.chat_id)
            .join(User, User.id == Profile.user_id)
            .where(Profile.next_checkin_at <= now)
            .order_by(Profile.next_checkin_at)
            .limit(limit)
        )
        if not self.db.is_sqlite:
            stmt = stmt.with_for_update(skip_locked=True, of=Profile)
        return stmt

    async def claim_due(self, now: datetime, limit: int = 500) -> list[Claimed]:
        """Claim every due check-in: insert its (user, local date, kind) row and move the
        pointer on, in one transaction. Rows already claimed (a restart, an overlapping tick,
        another process) are not claimed again. Missed by more than CATCH_UP: skipped."""
        async with self.db.transaction() as session:
            rows = (await session.execute(self.due_query(now, limit))).all()
            if not rows:
                return []
            risky = await self.risky_days_of(session, [p.user_id for p, _ in rows])
            values: list[dict[str, object]] = []
            people: dict[int, tuple[Profile, int]] = {}
            for profile, chat_id in rows:
                people[profile.user_id] = (profile, chat_id)
                mine = risky.get(profile.user_id, [])
                # Each pass handles one due check-in and moves the pointer on; after an
                # outage, stale ones are skipped and the newest one still due is sent, once.
                while profile.next_checkin_at is not None and profile.next_checkin_at <= now:
                    pointer = profile.next_checkin_at
                    due = due_at(
                        pointer,
                        zone=self.zone(profile),
                        checkin_hour=profile.checkin_hour or 0,
                        quiet_start=profile.quiet_start,
                        quiet_end=profile.quiet_end,
                        risky_days=mine,
                    )
                    fresh = now - pointer <= CATCH_UP
                    values.append(
                        {
                            "user_id": profile.user_id,
                            "local_date": due.local_date,
                            "kind": due.kind,
                            "status": "claimed" if fresh else "skipped",
                            "claimed_at": now,
                        }
                    )
                    after = pointer if fresh else max(pointer, now - CATCH_UP)
                    await self.reschedule(session, profile, after, risky_days=mine)
            inserted = await q.insert_many_ignore(
                session, Checkin, values, keys=("user_id", "local_date", "kind")
            )
        claimed = []
        for row in inserted:
            if row.status != "claimed":
                continue
            profile, chat_id = people[row.user_id]
            claimed.append(
                Claimed(
                    checkin_id=row.id,
                    user_id=row.user_id,
                    chat_id=chat_id,
                    local_date=row.local_date,
                    kind=row.kind,
                    ex_name=profile.ex_name,
                    safety_hold=profile.safety_hold,
                    streak_day=(
                        None
                        if profile.phase in RECONNECTING_PHASES
                        else self._streak_day(profile, row.local_date)
                    ),
                    distance=distance_for(profile.shared),
                )
            )
        return claimed

    async def reclaim_open(
        self, now: datetime, limit: int = 500, lease: timedelta = CLAIM_LEASE
    ) -> list[Claimed]:
        """Claims left open: unsent after a crash, or uncertain after a timeout, whose lease
        ran out. Each is taken over with a new lease in one transaction, its rows locked and
        skipped by other processes on PostgreSQL, so exactly one process sends it again. Past
        MAX_ATTEMPTS, or older than CATCH_UP, it is given up instead."""
        async with self.db.transaction() as session:
            stmt = (
                select(Checkin, Profile, User.chat_id, User.is_active)
                .join(Profile, Profile.user_id == Checkin.user_id)
                .join(User, User.id == Checkin.user_id)
                .where(
                    # Literals, not parameters: they let both databases use ix_checkins_open.
                    Checkin.status.in_(
                        [literal_column("'claimed'"), literal_column("'uncertain'")]
                    ),
                    Checkin.claimed_at <= now - lease,
                )
                .order_by(Checkin.claimed_at)
                .limit(limit)
            )
            if not self.db.is_sqlite:
                stmt = stmt.with_for_update(skip_locked=True, of=Checkin)
            rows = (await session.execute(stmt)).all()
            taken: list[Claimed] = []
            ended: dict[str, list[int]] = {"gave_up": [], "blocked": []}
            for c, p, chat_id, active in rows:
                if not active:  # they blocked the bot meanwhile: nothing more is sent
                    ended["blocked"].append(c.id)
                elif c.attempts >= MAX_ATTEMPTS or now - c.claimed_at > CATCH_UP:
                    ended["gave_up"].append(c.id)
                else:
                    c.claimed_at = now
                    taken.append(
                        Claimed(c.id, c.user_id, chat_id, c.local_date, c.kind, p.ex_name,
                                p.safety_hold, self._streak_day(p, c.local_date), c.attempts,
                                distance_for(p.shared))
                    )  # fmt: skip
            for status, ids in ended.items():
                if ids:
                    await session.execute(
                        update(Checkin).where(Checkin.id.in_(ids)).values(status=status)
                    )
            return taken

    @asynccontextmanager
    async def ledger(self, lease: timedelta = CLAIM_LEASE) -> AsyncIterator[SendLedger]:
        """The tick's send ledger, on one connection for the whole tick (see SendLedger)."""
        async with self.db.engine.connect() as conn:
            autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
            yield SendLedger(autocommit, self.clock, lease, write_turn=self.db.write_turn)

    async def mark_blocked(self, user_id: int, checkin_id: int | None = None) -> None:
        """The person blocked the bot: nothing more is sent until they /start again."""
        async with self.db.transaction() as session:
            await session.execute(update(User).where(User.id == user_id).values(is_active=False))
            await session.execute(
                update(Profile).where(Profile.user_id == user_id).values(next_checkin_at=None)
            )
            if checkin_id is not None:
                await session.execute(
                    update(Checkin).where(Checkin.id == checkin_id).values(status="blocked")
                )

    # --- the streak ------------------------------------------------------------------------

    @staticmethod
    def _streak_day(profile: Profile, today: date) -> int | None:
        if profile.no_contact_started_on is None:
            return None
        return max(0, (today - profile.no_contact_started_on).days)

    async def streak(
        self, session: AsyncSession, profile: Profile, today: date, *, count_urges: bool = True
    ) -> Streak:
        """The running and total no-contact days; urges resisted only when asked for (it costs
        a query, and only a finished check-in shows it)."""
        current = self._streak_day(profile, today) or 0
        resisted = 0
        if count_urges:
            resisted = await session.scalar(
                select(func.count())
                .select_from(Urge)
                .where(Urge.user_id == profile.user_id, Urge.outcome == "resisted")
            )
        return Streak(
            current=current,
            total=profile.no_contact_banked_days + current,
            slips=profile.slips,
            urges_resisted=int(resisted or 0),
            length=profile.no_contact_days,
            distance=distance_for(profile.shared),
        )

    async def record_contact(
        self,
        session: AsyncSession,
        profile: Profile,
        *,
        initiated_by: str,
        topic: str,
        now: datetime,
    ) -> bool:
        """Apply the articles' rules to contact with the ex. Returns True for a slip: contact
        you started about something other than an emergency or what you share. The ex writing
        first never breaks no contact."""
        today = local_date_of(now, self.zone(profile))
        breaks = (
            initiated_by == "me"
            and topic not in ("emergency", "logistics")
            and profile.phase not in RECONNECTING_PHASES
        )
        if breaks and topic in PLANNED_TOPICS:
            choices = await read_choices(session, profile.user_id)
            breaks = topic not in self.planned_topics(profile, choices, today)
        session.add(
            ContactEvent(
                user_id=profile.user_id,
                at=now,
                local_date=today,
                initiated_by=initiated_by,
                topic=topic,
                breaks_no_contact=breaks,
            )
        )
        if breaks and profile.no_contact_started_on is not None:
            profile.no_contact_banked_days += self._streak_day(profile, today) or 0
            profile.slips += 1
            profile.no_contact_started_on = today
            profile.last_milestone_day = 0
        return breaks

    @staticmethod
    def planned_topics(profile: Profile, choices: PathChoices, today: date) -> tuple[str, ...]:
        """The kinds of contact the person's path plans for today (never a slip)."""
        planned = []
        if choices.replies_are_the_plan or choices.ex_came_back_on is not None:
            planned.append("reply")
        if in_repair_window(bool(choices.rash_fight), profile.breakup_on, today,
                            RASH_REPAIR_LAST_DAY):  # fmt: skip
            planned.append("repair")
        if choices.distance_style == "calm_message":
            planned.append("pause_message")
        return tuple(planned)

    async def _planned(self, session: AsyncSession, profile: Profile, day: date) -> tuple[str, ...]:
        return self.planned_topics(profile, await read_choices(session, profile.user_id), day)

    # --- answering -------------------------------------------------------------------------

    async def _owned(
        self, session: AsyncSession, user_id: int, checkin_id: int
    ) -> tuple[Checkin, Profile]:
        """The check-in and its owner's profile in one query; someone else's: NotYours."""
        row = (
            await session.execute(
                select(Checkin, Profile)
                .join(Profile, Profile.user_id == Checkin.user_id)
                .where(Checkin.id == checkin_id, Checkin.user_id == user_id)
            )
        ).first()
        if row is None:
            raise NotYours(checkin_id)
        return row[0], row[1]

    @retry_transient
    async def answer(self, user_id: int, checkin_id: int, field: str, value: str) -> CheckinView:
        """Store one answer (contact, topic, mood or urge). Repeating an answer is harmless."""
        if self._is_quick(field, value):
            return await self._answer_quick(user_id, checkin_id, field, value)
        now = self.clock.now()
        async with self.db.transaction() as session:
            checkin, profile = await self._owned(session, user_id, checkin_id)
            slipped = False
            milestone: int | None = None
            was_done = self._done(checkin, profile)
            if field == "contact" and value in CONTACT_CHOICES and checkin.contact is None:
                checkin.contact = value
                if value == "them":
                    await self.record_contact(
                        session, profile, initiated_by="them", topic="other", now=now
                    )
            elif field == "topic" and value in TOPIC_CHOICES and checkin.contact == "me":
                if checkin.contact_topic is None:
                    checkin.contact_topic = value
                    slipped = await self.record_contact(
                        session, profile, initiated_by="me", topic=value, now=now
                    )
            elif field == "mood" and value.isdigit() and 1 <= int(value) <= 5:
                checkin.mood = int(value)
            elif field == "urge" and value in URGE_CHOICES:
                first_time = checkin.urge is None
                checkin.urge = value
                if first_time and value != "none":
                    session.add(
                        Urge(
                            user_id=user_id,
                            at=now,
                            local_hour=local_hour_of(now, self.zone(profile)),
                            strength=value,
                            source="checkin",
                            outcome="sent" if self._reached_out(checkin) else "resisted",
                        )
                    )
            else:
                raise NotYours(checkin_id)
            done = self._done(checkin, profile)
            if done and not was_done:
                checkin.answered_at = now
                if profile.phase not in RECONNECTING_PHASES:
                    milestone = self._milestone(profile, checkin.local_date)
            streak = await self.streak(session, profile, checkin.local_date, count_urges=done)
            planned = await self._planned(session, profile, checkin.local_date)
            return self._view(
                checkin,
                profile,
                streak,
                slipped or self._slipped(checkin, profile),
                milestone,
                planned,
            )

    @staticmethod
    def _is_quick(field: str, value: str) -> bool:
        """Whether this answer changes only the check-in's own row, plus (when it completes the
        check-in) the profile's milestone and (the first time an urge is reported) one urge
        row: a mood, no contact or contact they started, an urge. Contact from the ex and a
        topic are recorded beyond those, and take the full path."""
        return (
            (field == "mood" and value.isdigit() and 1 <= int(value) <= 5)
            or (field == "contact" and value in _QUICK_CONTACT)
            or (field == "urge" and value in URGE_CHOICES)
        )

    @asynccontextmanager
    async def _quick_connection(self) -> AsyncIterator[AsyncConnection]:
        """A connection for `_answer_quick`: in a transaction on SQLite (sqlite3 begins it at
        the first write, so the read costs nothing more), in autocommit on PostgreSQL."""
        if self.db.is_sqlite:
            async with self.db.write_turn(), self.db.engine.begin() as conn:
                yield conn
            return
        async with self.db.engine.connect() as conn:
            yield await conn.execution_options(isolation_level="AUTOCOMMIT")

    async def _answer_quick(
        self, user_id: int, checkin_id: int, field: str, value: str
    ) -> CheckinView:
        """`answer` for the answers `_is_quick` lets through, with the same result in fewer
        statements: one read of everything the view needs (Core, no ORM objects), then one
        UPDATE of what changed, all on one connection; the first time an urge is reported, its
        row; and only when the answer completes the check-in, the count of urges resisted and
        the profile's milestone. On PostgreSQL the connection runs without BEGIN and COMMIT (two
        round trips): a single UPDATE is atomic by itself, and an answer that writes two rows or
        more writes them in a transaction."""
        now = self.clock.now()
        async with self._quick_connection() as conn:
            rows = (
                await conn.execute(_QUICK_READ, {"checkin_id": checkin_id, "user_id": user_id})
            ).all()
            if not rows:
                raise NotYours(checkin_id)
            first = rows[0]._mapping
            checkin = SimpleNamespace(**{name: first[name] for name in _CHECKIN_COLUMNS})
            profile = SimpleNamespace(**{name: first[f"p_{name}"] for name in _PROFILE_COLUMNS})
            profile.shared = bool(profile.shares_kids or profile.shares_work
                                  or profile.shares_home)  # fmt: skip
            choices = choices_from(
                {row.choice: row.choice_value for row in rows if row.choice is not None}
            )
            was_done = self._done(checkin, profile)  # type: ignore[arg-type]
            changes: dict[str, object] = {}
            urge: dict[str, object] | None = None
            if field == "contact":
                if checkin.contact is not None:  # answered already: as the full path, stale
                    raise NotYours(checkin_id)
                checkin.contact = changes["contact"] = value
            elif field == "mood":
                if checkin.mood != int(value):
                    checkin.mood = changes["mood"] = int(value)
            else:
                if checkin.urge is None and value != "none":  # as the full path records it
                    reached = self._reached_out(checkin)  # type: ignore[arg-type]
                    urge = {
                        "owner": user_id,
                        "at": now,
                        "local_hour": local_hour_of(now, self.zone(profile)),  # type: ignore[arg-type]
                        "strength": value,
                        "outcome": "sent" if reached else "resisted",
                    }
                if checkin.urge != value:
                    checkin.urge = changes["urge"] = value
            milestone: int | None = None
            done = self._done(checkin, profile)  # type: ignore[arg-type]
            if done and not was_done:
                checkin.answered_at = changes["answered_at"] = now
                if profile.phase not in RECONNECTING_PHASES:
                    milestone = self._milestone(profile, checkin.local_date)  # type: ignore[arg-type]
            writes: list[tuple[Any, dict[str, object]]] = []
            if urge is not None:
                writes.append((_URGE_WRITE, urge))
            if milestone is not None:
                writes.append(
                    (_MILESTONE_WRITE, {"owner": user_id, "day": profile.last_milestone_day})
                )
            if changes:
                writes.append(
                    (
                        _checkin_write(tuple(changes)),
                        {"checkin_id": checkin_id, **{f"new_{k}": v for k, v in changes.items()}},
                    )
                )
            if len(writes) > 1 and not self.db.is_sqlite:
                async with self.db.engine.begin() as both:
                    for statement, values in writes:
                        await both.execute(statement, values)
            else:  # on SQLite the connection's transaction holds them together
                for statement, values in writes:
                    await conn.execute(statement, values)
            streak = await self.streak(
                conn,  # type: ignore[arg-type]
                profile,  # type: ignore[arg-type]
                checkin.local_date,
                count_urges=done,
            )
            planned = self.planned_topics(profile, choices, checkin.local_date)  # type: ignore[arg-type]
            return self._view(
                checkin,  # type: ignore[arg-type]
                profile,  # type: ignore[arg-type]
                streak,
                self._slipped(checkin, profile),  # type: ignore[arg-type]
                milestone,
                planned,
            )

    @retry_transient
    async def view(self, user_id: int, checkin_id: int) -> CheckinView:
        async with self.db.sessions() as session:
            checkin, profile = await self._owned(session, user_id, checkin_id)
            done = self._done(checkin, profile)
            streak = await self.streak(session, profile, checkin.local_date, count_urges=done)
            planned = await self._planned(session, profile, checkin.local_date)
            return self._view(
                checkin, profile, streak, self._slipped(checkin, profile), None, planned
            )

    @retry_transient
    async def open_checkin(self, user_id: int) -> int | None:
        """The newest sent check-in still waiting for an answer (for typed answers): one from
        the person's today or yesterday. One statement: the profile's time zone with the
        unanswered check-ins of the last days (every zone's today is within a day of UTC's, so
        two days back from UTC's date holds all that can count), newest first; the person's own
        today is applied here."""
        now = self.clock.now()
        since = now.astimezone(UTC).date() - timedelta(days=2)
        rows = await self.db.rows(_OPEN_CHECKINS, {"user_id": user_id, "since": since})
        if not rows:
            return None
        today = local_date_of(now, rows[0].timezone or self.default_tz)
        return next(
            (
                row.id
                for row in rows
                if row.id is not None and row.local_date >= today - timedelta(days=1)
            ),
            None,
        )

    @staticmethod
    def _reached_out(checkin: Checkin) -> bool:
        return checkin.contact == "me" and checkin.contact_topic == "other"

    @classmethod
    def _slipped(cls, checkin: Checkin, profile: Profile) -> bool:
        return cls._reached_out(checkin) and profile.phase not in RECONNECTING_PHASES

    @staticmethod
    def _needs_topic(checkin: Checkin) -> bool:
        return checkin.contact == "me" and checkin.contact_topic is None

    def _done(self, checkin: Checkin, profile: Profile) -> bool:
        return (
            checkin.contact is not None
            and not self._needs_topic(checkin)
            and checkin.mood is not None
            and checkin.urge is not None
        )

    def _milestone(self, profile: Profile, today: date) -> int | None:
        day = self._streak_day(profile, today)
        if day is None:
            return None
        reached = [m for m in (*MILESTONES, profile.no_contact_days) if m <= day]
        best = max(reached, default=0)
        if best > profile.last_milestone_day:
            profile.last_milestone_day = best
            return best
        return None

    def _view(
        self,
        checkin: Checkin,
        profile: Profile,
        streak: Streak,
        slipped: bool,
        milestone: int | None,
        planned: tuple[str, ...] = (),
    ) -> CheckinView:
        return CheckinView(
            checkin_id=checkin.id,
            kind=checkin.kind,
            contact=checkin.contact,
            contact_topic=checkin.contact_topic,
            mood=checkin.mood,
            urge=checkin.urge,
            ex_name=profile.ex_name,
            needs_topic=self._needs_topic(checkin),
            shares_something=bool(profile.shared),
            done=self._done(checkin, profile),
            slipped=slipped,
            streak=streak,
            milestone=milestone,
            counting=profile.phase not in RECONNECTING_PHASES,
            planned_topics=planned,
        )

    # --- settings ---------------------------------------------------------------------------

    @retry_transient
    async def settings(self, user_id: int) -> CheckinSettings | None:
        async with self.db.sessions() as session:
            profile = await q.get_profile(session, user_id)
            if profile is None:
                return None
            return CheckinSettings(
                zone=self.zone(profile),
                next_at=profile.next_checkin_at,
                paused_until=profile.checkins_paused_until,
                stopped=profile.checkins_stopped,
                quiet_start=profile.quiet_start,
                quiet_end=profile.quiet_end,
                no_contact_days=profile.no_contact_days,
            )

    @retry_transient
    async def set_quiet_hours(self, user_id: int, start: int | None, end: int | None) -> None:
        if (start is None) != (end is None) or any(
            h is not None and not 0 <= h <= 23 for h in (start, end)
        ):
            raise ValueError("quiet hours need a start and an end between 0 and 23")
        async with self.db.transaction() as session:
            profile = await q.get_profile(session, user_id)
            if profile is not None:
                profile.quiet_start, profile.quiet_end = start, end
                await self.reschedule(session, profile, self.clock.now())

    @retry_transient
    async def set_no_contact_days(self, user_id: int, days: int) -> None:
        if not NO_CONTACT_DAYS_RANGE[0] <= days <= NO_CONTACT_DAYS_RANGE[1]:
            raise ValueError(f"no-contact length must be {NO_CONTACT_DAYS_RANGE}")
        async with self.db.transaction() as session:
            profile = await q.get_profile(session, user_id)
            if profile is not None:
                profile.no_contact_days = days

    # --- hard dates (risky days) -------------------------------------------------------

    @retry_transient
    async def hard_dates(self, user_id: int) -> list[HardDate]:
        async with self.db.sessions() as session:
            rows = await session.scalars(
                select(RiskyDay)
                .where(RiskyDay.user_id == user_id)
                .order_by(RiskyDay.month, RiskyDay.day)
            )
            return [HardDate(r.id, r.month, r.day, r.label) for r in rows]

    @retry_transient
    async def add_hard_date(self, user_id: int, month: int, day: int, label: str) -> bool:
        """Remember a date that may be hard (an extra check-in that morning). False when the
        list is full; the same date again just renames it."""
        async with self.db.transaction() as session:
            profile = await q.get_profile(session, user_id)
            if profile is None:
                raise NotYours(user_id)
            existing = await session.scalar(
                select(RiskyDay).where(
                    RiskyDay.user_id == user_id, RiskyDay.month == month, RiskyDay.day == day
                )
            )
            if existing is not None:
                existing.label = label
            else:
                count = await session.scalar(
                    select(func.count()).select_from(RiskyDay).where(RiskyDay.user_id == user_id)
                )
                if int(count or 0) >= MAX_HARD_DATES:
                    return False
                session.add(RiskyDay(user_id=user_id, month=month, day=day, label=label))
                await session.flush()
            await self.reschedule(session, profile, self.clock.now())
            return True

    @retry_transient
    async def remove_hard_date(self, user_id: int, hard_date_id: int) -> bool:
        async with self.db.transaction() as session:
            row = await session.get(RiskyDay, hard_date_id)
            if row is None or row.user_id != user_id:
                return False
            await session.delete(row)
            await session.flush()
            profile = await q.get_profile(session, user_id)
            if profile is not None:
                await self.reschedule(session, profile, self.clock.now())
            return True

    # --- pausing ---------------------------------------------------------------------------

    @retry_transient
    async def pause(self, user_id: int, days: int) -> datetime | None:
        now = self.clock.now()
        async with self.db.transaction() as session:
            profile = await q.get_profile(session, user_id)
            if profile is None:
                return None
            profile.checkins_paused_until = now + timedelta(days=days)
            profile.checkins_stopped = False
            await self.reschedule(session, profile, now)
            return profile.checkins_paused_until

    @retry_transient
    async def stop(self, user_id: int) -> None:
        async with self.db.transaction() as session:
            profile = await q.get_profile(session, user_id)
            if profile is not None:
                profile.checkins_stopped = True
                profile.next_checkin_at = None

    @retry_transient
    async def resume(self, user_id: int) -> datetime | None:
        now = self.clock.now()
        async with self.db.transaction() as session:
            profile = await q.get_profile(session, user_id)
            if profile is None:
                return None
            profile.checkins_stopped = False
            profile.checkins_paused_until = None
            await self.reschedule(session, profile, now)
            return profile.next_checkin_at


# The profile's time zone with its unanswered check-ins since a date, newest first.
_OPEN_CHECKINS = (
    select(Profile.timezone, Checkin.id, Checkin.local_date)
    .select_from(Profile)
    .outerjoin(
        Checkin,
        and_(
            Checkin.user_id == Profile.user_id,
            Checkin.status == "sent",
            Checkin.answered_at.is_(None),
            Checkin.local_date >= bindparam("since"),
        ),
    )
    .where(Profile.user_id == bindparam("user_id"))
    .order_by(Checkin.id.desc())
)


class SendLedger:
    """Each send's result, written the moment it is known, each write committed by itself: a
    crash loses at most the sends in flight (their claims stay open and are re-sent after the
    lease), never a batch, and one failure never touches anyone else's row.

    `begin` fences an attempt: it counts the attempt and renews the lease only if nobody else
    has begun one since this process claimed the row (attempts unchanged), so two processes
    can never both be sending the same check-in."""

    def __init__(
        self,
        conn: object,
        clock: Clock,
        lease: timedelta = CLAIM_LEASE,
        *,
        write_turn: Callable[[], AbstractAsyncContextManager[None]],
    ) -> None:
        self.conn = conn
        self.clock = clock
        self.lease = lease
        self._lock = asyncio.Lock()  # one connection: one statement at a time
        # On SQLite each write waits for the process's writer turn (Database.write_turn), so a
        # reply's write queues behind at most a few of these instead of sleeping in SQLite's
        # busy handler while the burst keeps taking the file lock.
        self._write_turn = write_turn

    async def _run(self, statement: object) -> int:
        async with self._lock, self._write_turn():
            result = await self.conn.execute(statement)  # type: ignore[attr-defined]
            return int(result.rowcount or 0)

    async def begin(self, claim: Claimed) -> bool:
        return bool(
            await self._run(
                update(Checkin)
                .where(
                    Checkin.id == claim.checkin_id,
                    Checkin.attempts == claim.attempts,
                    Checkin.status.in_(OPEN),
                )
                .values(attempts=Checkin.attempts + 1, claimed_at=self.clock.now())
            )
        )

    async def record(
        self,
        claim: Claimed,
        outcome: Outcome,
        message_id: int | None = None,
        retry_after: timedelta = timedelta(0),
    ) -> None:
        now = self.clock.now()
        mine = (Checkin.id == claim.checkin_id, Checkin.attempts == claim.attempts + 1)
        values: dict[str, object]
        if outcome is Outcome.SENT:
            values = {"status": "sent", "sent_at": now, "message_id": message_id}
        elif outcome is Outcome.UNCERTAIN:
            values = {"status": "uncertain", "claimed_at": now}
        elif outcome is Outcome.NOT_SENT:
            # Not delivered, so not an attempt: open again once the pause Telegram asked for
            # has passed (the lease is counted back from then).
            values = {
                "status": "claimed",
                "attempts": Checkin.attempts - 1,
                "claimed_at": now + retry_after - self.lease,
            }
        else:
            values = {"status": outcome.value}
        await self._run(update(Checkin).where(*mine).values(**values))
        if outcome is Outcome.BLOCKED:
            await self.block(claim.user_id)

    async def block(self, user_id: int) -> None:
        """The person blocked the bot (or their chat is gone): nothing more is sent until they
        come back."""
        await self._run(update(User).where(User.id == user_id).values(is_active=False))
        await self._run(
            update(Profile).where(Profile.user_id == user_id).values(next_checkin_at=None)
        )
