"""The person's own path, as stored: the choices from content/paths.py and the day the ex came
back. Rows of the answers table (form "path", item = the choice, value = the option), read in
the caller's session so the advice, the check-in and the program all see the same choices.
The program service (bot/services/program.py) writes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.models import Answer

PATH_FORM = "path"
CAME_BACK = "ex_came_back_on"  # ISO date: they asked to talk / get back together


@dataclass(frozen=True, slots=True)
class PathChoices:
    """What the person chose (None: not chosen yet)."""

    reply_strictness: str | None = None
    distance_style: str | None = None
    rash_fight: bool | None = None
    they_are_dating: bool | None = None
    ex_came_back_on: date | None = None

    @property
    def replies_are_the_plan(self) -> bool:
        """Answering a message from the ex is part of the plan unless they chose to answer only
        emergencies: the articles that say "answer warmly" are followed, never counted against
        them."""
        return self.reply_strictness != "emergencies_only"


def _yes(value: str | None) -> bool | None:
    return None if value is None else value == "yes"


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def choices_from(values: dict[str, str]) -> PathChoices:
    return PathChoices(
        reply_strictness=values.get("reply_strictness"),
        distance_style=values.get("distance_style"),
        rash_fight=_yes(values.get("rash_fight")),
        they_are_dating=_yes(values.get("they_are_dating")),
        ex_came_back_on=_day(values.get(CAME_BACK)),
    )


async def read_choices(session: AsyncSession, user_id: int) -> PathChoices:
    rows = await session.execute(
        select(Answer.item, Answer.value).where(Answer.user_id == user_id, Answer.form == PATH_FORM)
    )
    return choices_from({item: value for item, value in rows})
