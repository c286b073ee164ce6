"""Query functions: plain `f(session, ...)`, no hidden state, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Database
from bot.db.models import Base, Profile, RiskSignal, SafetyState, User
from content.screen import ACT, UNSAFE_EX_RISKS

# What handling a message first reads about its person, in one statement: whether they are
# marked away (they had blocked the bot), what their next message answers, the columns of their
# safety view, whether the intake is done, and what says the ex is unsafe (abuse disclosed,
# danger reported, the newest acted-on danger or abuse signal). Features that each need a part
# of it share one read per update (`Database.first_once`); any write forgets it.
_LATEST_UNSAFE_SIGNAL = (
    select(func.max(RiskSignal.at))
    .where(
        RiskSignal.user_id == User.id,
        RiskSignal.risk.in_(sorted(UNSAFE_EX_RISKS)),
        RiskSignal.level == ACT,
    )
    .scalar_subquery()
)
_PERSON = (
    select(
        User.is_active,
        User.awaiting,
        User.awaiting_data,
        User.language_code,
        Profile.user_id.label("profile_user_id"),
        Profile.country,
        Profile.safety_hold,
        Profile.safety_hold_since,
        Profile.abuse,
        Profile.intake_step,
        Profile.intake_completed_at,
        Profile.timezone,
        Profile.age_group,
        SafetyState.danger_reported_at,
        _LATEST_UNSAFE_SIGNAL.label("latest_unsafe_signal_at"),
    )
    .select_from(User)
    .outerjoin(Profile, Profile.user_id == User.id)
    .outerjoin(SafetyState, SafetyState.user_id == User.id)
    .where(User.id == bindparam("user_id"))
)


async def person(db: Database, user_id: int) -> Row[Any] | None:
    """The person's row (see `_PERSON`), or None for someone the bot has never met."""
    return await db.first_once(_PERSON, {"user_id": user_id})


async def person_in(session: AsyncSession, user_id: int) -> Row[Any] | None:
    """`person`, inside a session a service already holds (not remembered: the session may
    have written)."""
    return (await session.execute(_PERSON, {"user_id": user_id})).first()


def _insert(session: AsyncSession) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (SQLite and PostgreSQL alike)."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


async def upsert(
    session: AsyncSession,
    model: type[Base],
    values: Mapping[str, Any],
    keys: Iterable[str],
    update: Iterable[str] | None = None,
) -> None:
    """INSERT … ON CONFLICT (keys) DO UPDATE, in the current dialect."""
    keys = tuple(keys)
    stmt = _insert(session)(model).values(**values)
    columns = tuple(update) if update is not None else tuple(k for k in values if k not in keys)
    if columns:
        stmt = stmt.on_conflict_do_update(
            index_elements=keys, set_={c: stmt.excluded[c] for c in columns}
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=keys)
    await session.execute(stmt)


async def insert_many_ignore(
    session: AsyncSession,
    model: type[Base],
    rows: list[dict[str, Any]],
    keys: Iterable[str],
) -> list[Any]:
    """Insert rows, skipping those whose keys exist; returns the inserted rows (all columns)."""
    if not rows:
        return []
    stmt = (
        _insert(session)(model)
        .values(rows)
        .on_conflict_do_nothing(index_elements=tuple(keys))
        .returning(*model.__table__.columns)  # type: ignore[attr-defined]
    )
    return list((await session.execute(stmt)).all())


async def record_user_seen(
    session: AsyncSession,
    *,
    user_id: int,
    chat_id: int,
    first_name: str | None,
    language_code: str | None,
    now: datetime,
) -> None:
    """Create the person on first contact; afterwards refresh what Telegram tells us."""
    await upsert(
        session,
        User,
        {
            "id": user_id,
            "chat_id": chat_id,
            "first_name": (first_name or "")[:64] or None,
            "language_code": (language_code or "")[:16] or None,
            "is_active": True,
            "created_at": now,
            "last_seen_at": now,
        },
        keys=("id",),
        update=("chat_id", "first_name", "language_code", "is_active", "last_seen_at"),
    )


async def get_user(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def get_profile(session: AsyncSession, user_id: int) -> Profile | None:
    return await session.get(Profile, user_id)


class UnknownUser(LookupError):
    """No user row: the person never pressed /start, or deleted their data."""


async def get_or_create_profile(session: AsyncSession, user_id: int, now: datetime) -> Profile:
    profile = await session.get(Profile, user_id)
    if profile is None:
        if await session.get(User, user_id) is None:
            raise UnknownUser(user_id)
        profile = Profile(user_id=user_id, updated_at=now)
        session.add(profile)
        await session.flush()
    return profile


async def count_users(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(User)) or 0)
