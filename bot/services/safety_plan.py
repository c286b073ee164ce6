"""The person's safety plan: six parts (Stanley and Brown), each in their own words.

Save a part, read the plan, see what is missing, clear it. The words are the person's: they are
stored in `safety_plan_parts` (so /export includes them and /delete removes them) and never
logged. A crisis reply shows the plan first, cut short (`PlanView.short_html`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.db import Database
from bot.db import queries as q
from bot.db.models import SafetyPlanPart
from bot.services.retry import retry_transient
from content.safety_plan import MAX_PART_CHARS, format_plan, load_safety_plan, missing_parts

EMPTY, TOO_LONG = "empty", "too_long"
# Control characters (other than line breaks) never belong in a plan someone reads in a crisis.
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


class PlanTextInvalid(ValueError):
    """The text can't be saved as a part: `reason` is "empty" or "too_long" (limit given)."""

    def __init__(self, reason: str, limit: int = MAX_PART_CHARS) -> None:
        # The person's words are deliberately not part of the message: errors may be logged.
        super().__init__(reason)
        self.reason = reason
        self.limit = limit


class UnknownPart(LookupError):
    """No such part of the plan (a forged or stale button)."""


@dataclass(frozen=True, slots=True)
class PlanView:
    """The plan as stored: the filled-in parts in the plan's order, and what is missing."""

    parts: Mapping[str, str] = field(default_factory=dict)
    missing: tuple[str, ...] = ()

    @property
    def started(self) -> bool:
        return bool(self.parts)

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def next_part(self) -> str | None:
        return self.missing[0] if self.missing else None

    @property
    def html(self) -> str:
        """Every filled-in part in full, HTML-escaped ("" when nothing is filled in)."""
        return format_plan(self.parts)

    @property
    def short_html(self) -> str:
        """One line per filled-in part, for the top of a crisis reply ("" when empty)."""
        return format_plan(self.parts, short=True)


def clean_part_text(text: str) -> str:
    """The text as it will be kept: control characters gone, each line trimmed, blank lines
    dropped. Raises PlanTextInvalid when nothing is left or it is longer than MAX_PART_CHARS."""
    lines = (" ".join(line.split()) for line in _CONTROL.sub(" ", text or "").splitlines())
    cleaned = "\n".join(line for line in lines if line)
    if not cleaned:
        raise PlanTextInvalid(EMPTY)
    if len(cleaned) > MAX_PART_CHARS:
        raise PlanTextInvalid(TOO_LONG)
    return cleaned


def _view(rows: Mapping[str, str]) -> PlanView:
    book = load_safety_plan()
    ordered = {part_id: rows[part_id] for part_id in book.ids if part_id in rows}
    return PlanView(ordered, missing_parts(list(ordered), book))


class SafetyPlanService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        load_safety_plan()  # a broken safety_plan.yaml fails at start-up, naming the entry

    @retry_transient
    async def save(self, user_id: int, part: str, text: str) -> PlanView | None:
        """Save (or replace) one part in the person's words. None if the person is unknown;
        UnknownPart or PlanTextInvalid if the part or the text can't be used."""
        if part not in load_safety_plan().ids:
            raise UnknownPart(part)
        cleaned = clean_part_text(text)
        now = self.clock.now()
        async with self.db.transaction() as session:
            if await q.get_user(session, user_id) is None:
                return None
            row = await session.get(SafetyPlanPart, (user_id, part))
            if row is None:
                session.add(
                    SafetyPlanPart(user_id=user_id, part=part, text=cleaned, updated_at=now)
                )
            else:
                row.text = cleaned
                row.updated_at = now
            await session.flush()
            return _view(await self._rows(session, user_id))

    @retry_transient
    async def plan(self, user_id: int) -> PlanView:
        async with self.db.sessions() as session:
            return _view(await self._rows(session, user_id))

    @retry_transient
    async def missing(self, user_id: int) -> tuple[str, ...]:
        """The parts not filled in yet, in the plan's order."""
        return (await self.plan(user_id)).missing

    @retry_transient
    async def clear(self, user_id: int, part: str | None = None) -> bool:
        """Remove the whole plan, or one part of it. True if anything was removed."""
        if part is not None and part not in load_safety_plan().ids:
            raise UnknownPart(part)
        async with self.db.transaction() as session:
            query = delete(SafetyPlanPart).where(SafetyPlanPart.user_id == user_id)
            if part is not None:
                query = query.where(SafetyPlanPart.part == part)
            result = await session.execute(query)
            return bool(result.rowcount)  # type: ignore[attr-defined]

    @staticmethod
    async def _rows(session: AsyncSession, user_id: int) -> dict[str, str]:
        rows = await session.execute(
            select(SafetyPlanPart.part, SafetyPlanPart.text).where(
                SafetyPlanPart.user_id == user_id
            )
        )
        return {part: text for part, text in rows.all()}
