"""SQLAlchemy 2 models. The database is the source of truth for where a person is."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from bot.db.types import UtcDateTime
from content.vocab import DEFAULT_NO_CONTACT_DAYS, AbuseAnswer, BreakupWhen, Goal, WhoEnded

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _enum(cls: type, name: str) -> Enum:
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    """A Telegram user who has talked to the bot."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    first_name: Mapped[str | None] = mapped_column(String(64))
    language_code: Mapped[str | None] = mapped_column(String(16))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The short wait: which typed reply the bot expects next ("urge.draft", "journal.entry",
    # ...), a little data for it, and since when. None when nothing is awaited; where the person
    # is in the intake is read from profiles.intake_step instead (bot/services/conversation.py).
    awaiting: Mapped[str | None] = mapped_column(String(40))
    awaiting_data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    awaiting_since: Mapped[datetime | None] = mapped_column(UtcDateTime)

    profile: Mapped[Profile | None] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True, lazy="raise"
    )


class Profile(Base):
    """The coaching profile built by the intake; every answer is stored the moment it is given."""

    __tablename__ = "profiles"

    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    ex_name: Mapped[str | None] = mapped_column(String(64))
    breakup_when: Mapped[BreakupWhen | None] = mapped_column(_enum(BreakupWhen, "breakup_when"))
    breakup_on: Mapped[date | None] = mapped_column(Date)
    # How the last contact was answered: a tapped choice ("today", "few_days", "week",
    # "since_breakup") or "exact" for a typed date. Tapped choices are relative to the day
    # they were given, so they move with it when the time zone arrives later in the intake.
    last_contact_when: Mapped[str | None] = mapped_column(String(16))
    who_ended: Mapped[WhoEnded | None] = mapped_column(_enum(WhoEnded, "who_ended"))
    shares_kids: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    shares_work: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    shares_home: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    abuse: Mapped[AbuseAnswer | None] = mapped_column(_enum(AbuseAnswer, "abuse"))
    goal: Mapped[Goal | None] = mapped_column(_enum(Goal, "goal"))
    timezone: Mapped[str | None] = mapped_column(String(64))
    checkin_hour: Mapped[int | None] = mapped_column(Integer)
    no_contact_days: Mapped[int] = mapped_column(
        Integer, default=DEFAULT_NO_CONTACT_DAYS, server_default=text(str(DEFAULT_NO_CONTACT_DAYS))
    )
    # Where the person is in the intake: the step being asked, or None once it is complete.
    intake_step: Mapped[str | None] = mapped_column(String(32))
    intake_completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    # Where the person is in the program.
    phase: Mapped[str | None] = mapped_column(String(32))
    phase_started_on: Mapped[date | None] = mapped_column(Date)
    # The current no-contact streak started on this local date (None: not started / not running).
    no_contact_started_on: Mapped[date | None] = mapped_column(Date)
    # Days of no contact from streaks that ended in a slip, so a slip never feels like zero.
    no_contact_banked_days: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    slips: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_milestone_day: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    # Check-ins: the scheduler's pointer (UTC). NULL whenever nothing should be sent, so the
    # due-query never touches paused, stopped or inactive people.
    next_checkin_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    checkins_paused_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    checkins_stopped: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    quiet_start: Mapped[int | None] = mapped_column(SmallInteger)
    quiet_end: Mapped[int | None] = mapped_column(SmallInteger)

    # Safety: nudges pause while a crisis is open, until the person says they are safe.
    country: Mapped[str | None] = mapped_column(String(2))
    # The optional age answer: "under_18", "adult" or "unsaid" (None: never asked or said).
    age_group: Mapped[str | None] = mapped_column(String(16))
    safety_hold: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    safety_hold_since: Mapped[datetime | None] = mapped_column(UtcDateTime)

    user: Mapped[User] = relationship(back_populates="profile", lazy="raise")

    @property
    def shared(self) -> frozenset[str]:
        return frozenset(
            name
            for name, flag in (
                ("kids", self.shares_kids),
                ("work", self.shares_work),
                ("home", self.shares_home),
            )
            if flag
        )

    @property
    def reconcile_path_open(self) -> bool:
        """Abuse or repeated cheating turns the 'get back together' path off for good."""
        return self.abuse is not AbuseAnswer.YES


def _id() -> Mapped[int]:
    return mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)


def _owner() -> Mapped[int]:
    return mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"), index=True)


class Checkin(Base):
    """One check-in message per person, local date and kind. The unique key is what makes a
    check-in exactly-once: it is claimed (inserted) before it is sent."""

    __tablename__ = "checkins"
    __table_args__ = (
        UniqueConstraint("user_id", "local_date", "kind"),
        # The tick looks for claims left open (unsent after a crash, or uncertain after a
        # timeout) every minute: only those rows are indexed, so that look-up stays small
        # however many check-ins have ever been sent.
        Index(
            "ix_checkins_open",
            "claimed_at",
            postgresql_where=text("status IN ('claimed', 'uncertain')"),
            sqlite_where=text("status IN ('claimed', 'uncertain')"),
        ),
    )

    id: Mapped[int] = _id()
    user_id: Mapped[int] = _owner()
    local_date: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))  # daily | risky_day
    # claimed | uncertain | sent | blocked | refused | skipped | gave_up (the send ledger)
    status: Mapped[str] = mapped_column(String(16))
    claimed_at: Mapped[datetime] = mapped_column(UtcDateTime)  # the lease: the last attempt began
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    contact: Mapped[str | None] = mapped_column(String(16))  # none | me | them
    contact_topic: Mapped[str | None] = mapped_column(String(16))  # emergency | logistics | other
    mood: Mapped[int | None] = mapped_column(SmallInteger)
    urge: Mapped[str | None] = mapped_column(String(8))  # none | some | strong
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ContactEvent(Base):
    """Contact with the ex: who started it, what about, and whether it broke no contact."""

    __tablename__ = "contact_events"

    id: Mapped[int] = _id()
    user_id: Mapped[int] = _owner()
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    local_date: Mapped[date] = mapped_column(Date)
    initiated_by: Mapped[str] = mapped_column(String(8))  # me | them
    topic: Mapped[str] = mapped_column(String(16))
    breaks_no_contact: Mapped[bool] = mapped_column(Boolean)


class JournalEntry(Base):
    __tablename__ = "journal_entries"

    id: Mapped[int] = _id()
    user_id: Mapped[int] = _owner()
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    local_date: Mapped[date] = mapped_column(Date)
    phase: Mapped[str | None] = mapped_column(String(32))
    prompt_id: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)


class Urge(Base):
    """An urge to reach out: when, how strong, and what came of it. A held draft waits here
    for its follow-up (follow_up_at), which the scheduler tick picks up, restart or not."""

    __tablename__ = "urges"
    __table_args__ = (
        Index("ix_urges_follow_up_at", "follow_up_at"),
        # Kept drafts are few and short-lived; the clean-up finds them without a full scan.
        Index(
            "ix_urges_kept_drafts",
            "at",
            postgresql_where=text("draft IS NOT NULL"),
            sqlite_where=text("draft IS NOT NULL"),
        ),
    )

    id: Mapped[int] = _id()
    user_id: Mapped[int] = _owner()
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    local_hour: Mapped[int] = mapped_column(SmallInteger)
    strength: Mapped[str] = mapped_column(String(8))  # some | strong
    source: Mapped[str] = mapped_column(String(16))  # checkin | button | draft
    outcome: Mapped[str] = mapped_column(String(16))  # pending | resisted | sent | not_yet
    draft: Mapped[str | None] = mapped_column(Text)
    follow_up_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The follow-up's send ledger: a claim is a lease (it stays due until its result is known),
    # so a crash in between sends it again rather than losing it.
    follow_up_claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    follow_up_attempts: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    # None until the result is known: sent | uncertain | blocked | refused | gave_up
    follow_up_status: Mapped[str | None] = mapped_column(String(16))


class RiskyDay(Base):
    """A date the person expects to be hard (a birthday, an anniversary): an extra check-in."""

    __tablename__ = "risky_days"
    __table_args__ = (UniqueConstraint("user_id", "month", "day"),)

    id: Mapped[int] = _id()
    user_id: Mapped[int] = _owner()
    month: Mapped[int] = mapped_column(SmallInteger)
    day: Mapped[int] = mapped_column(SmallInteger)
    label: Mapped[str] = mapped_column(String(40))


class Answer(Base):
    """An answer to a checklist or questionnaire item (readiness checklist, decision step)."""

    __tablename__ = "answers"

    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    form: Mapped[str] = mapped_column(String(32), primary_key=True)
    item: Mapped[str] = mapped_column(String(48), primary_key=True)
    value: Mapped[str] = mapped_column(String(32))
    answered_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SafetyState(Base):
    """What the bot knows about a person's safety beyond the intake's answers: whether they said
    they are under 18, when danger from their ex was reported, and the direct question ("Are
    you thinking about ending your life?"): when it was last asked and how it was answered.
    Only outcomes are kept, never the words that led to them."""

    __tablename__ = "safety_states"

    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    is_minor: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    danger_reported_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    asked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    answer: Mapped[str | None] = mapped_column(String(8))  # yes | no | unsure
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class RiskSignal(Base):
    """One screen outcome for a recent message, kept a short while so that signals spread over
    several messages count together. The message itself is never stored: only when, the risk,
    the level, the matched pattern ids, the categories and the non-crisis flags."""

    __tablename__ = "risk_signals"
    __table_args__ = (Index("ix_risk_signals_user_id_at", "user_id", "at"),)

    id: Mapped[int] = _id()
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    risk: Mapped[str] = mapped_column(String(24))
    level: Mapped[str] = mapped_column(String(8))
    matched: Mapped[list[str]] = mapped_column(JSON)
    categories: Mapped[list[str]] = mapped_column(JSON)
    flags: Mapped[list[str]] = mapped_column(JSON)  # health | minor | leverage


class SafetyPlanPart(Base):
    """One part of the person's safety plan (Stanley and Brown's six parts), in their own
    words. Shown first in a crisis reply, exported with everything else, deleted with them."""

    __tablename__ = "safety_plan_parts"

    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    part: Mapped[str] = mapped_column(String(24), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class InboxUpdate(Base):
    """An update from Telegram, recorded before Telegram is told it arrived, so a crash between
    the two never loses it. The raw JSON (which holds what the person wrote) is kept only until
    the update is handled; handled rows are kept a day as a record of ids already seen, so a
    second delivery of the same update_id is dropped."""

    __tablename__ = "inbox"
    __table_args__ = (
        # The sweep for rows left unhandled by a crashed process: only those rows are indexed.
        Index(
            "ix_inbox_pending",
            "update_id",
            postgresql_where=text("processed_at IS NULL"),
            sqlite_where=text("processed_at IS NULL"),
        ),
    )

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    # The sender, when the update has one: /delete removes their rows (no foreign key, since an
    # update can arrive before the person's users row exists).
    user_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Which process is handling it is not stored; a claim older than the lease is abandoned.
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    payload: Mapped[str | None] = mapped_column(Text)


class BreathingExercise(Base):
    """A "Breathe with me" minute under way: the next step to send and when it is due. This row
    is the only record of it, so a restart or another bot process finishes the exercise, and a
    step is taken by moving `step` on in one UPDATE, so two processes never both send it."""

    __tablename__ = "breathing_exercises"

    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    chat_id: Mapped[int] = mapped_column(BigInteger)
    step: Mapped[int] = mapped_column(Integer)  # the index of the next step to send
    due_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ReplyLedger(Base):
    """One call the bot made to Telegram while handling an update (bot/once.py): "sending" just
    before the request goes out, then Telegram's answer. When the update is handled again after
    a crash, a call already answered is not made again. The answer keeps ids only, never a
    text; the rows go when the update is marked handled."""

    __tablename__ = "reply_ledger"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # Whose update it is (as in the inbox, no foreign key): /delete removes these rows too.
    user_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    method: Mapped[str] = mapped_column(String(64))
    # None while the request is on its way: its outcome is unknown.
    status: Mapped[int | None] = mapped_column(Integer)
    answer: Mapped[str | None] = mapped_column(Text)


class UpdateWrite(Base):
    """A transaction committed while handling an update (bot/once.py), committed in the same
    transaction: handling the update again after a crash does not commit it a second time. The
    rows go when the update is marked handled."""

    __tablename__ = "update_writes"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    user_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
