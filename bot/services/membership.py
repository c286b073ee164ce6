"""Whether the person can be written to: they block the bot (stop every send) and come back
(unblocking, or simply writing again), and the check-ins pick up where they were."""

from __future__ import annotations

from sqlalchemy import update

from bot.db import Database
from bot.db import queries as q
from bot.db.models import User
from bot.services.checkin import CheckinService


async def blocked(checkins: CheckinService, user_id: int) -> None:
    """The person blocked the bot: nothing more is sent until they are back."""
    await checkins.mark_blocked(user_id)


async def back(db: Database, checkins: CheckinService, user_id: int) -> bool:
    """The person is reachable again. One read when they were never away (no write, so no
    turn at the writer's lock); when they were marked blocked, they are marked back and their
    check-ins are scheduled again (unless they stopped or paused them). True when they had been
    marked blocked."""
    row = await q.person(db, user_id)
    if row is None or row.is_active is not False:
        return False
    async with db.transaction() as session:
        result = await session.execute(
            update(User)
            .where(User.id == user_id, User.is_active.is_(False))
            .values(is_active=True)
            .returning(User.id)
        )
        if result.first() is None:
            return False
    await checkins.reschedule_user(user_id)
    return True
