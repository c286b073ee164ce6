"""SQLAlchemy 2 models. The database is the source of truth for where a person is."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
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


class ConversationState(Base):
    """One row per ConversationHandler key (python-telegram-bot persistence)."""

    __tablename__ = "conversation_states"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    state: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
