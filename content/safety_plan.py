"""The safety plan's six parts (Stanley and Brown), and how a filled-in plan is shown.

Pure: no Telegram, no database. The parts, their prompts and examples are `safety_plan.yaml`,
validated by pydantic at load; a broken entry fails naming the file and the entry.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from content.loader import CONTENT_DIR, ContentError, read_yaml

PLAN_FILE = "safety_plan.yaml"
# A part is one or a few short lines in the person's own words: long enough for a few names
# and numbers, short enough that the whole plan fits above a crisis reply on a phone.
MAX_PART_CHARS = 400
# In a crisis reply each part is shown cut to this many characters, so the plan stays short.
SHORT_PART_CHARS = 120


class PlanPart(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z_]*$", max_length=24)
    title: str = Field(min_length=1, max_length=60)
    prompt: str = Field(min_length=1, max_length=160)
    examples: tuple[str, ...] = Field(min_length=2, max_length=3)

    @field_validator("title", "prompt")
    @classmethod
    def _stripped(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must be a non-empty text")
        return value.strip()


class PlanBook(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    origin: str = Field(min_length=1)
    parts: tuple[PlanPart, ...] = Field(min_length=6, max_length=6)

    @field_validator("parts")
    @classmethod
    def _unique(cls, parts: tuple[PlanPart, ...]) -> tuple[PlanPart, ...]:
        ids = [p.id for p in parts]
        if len(set(ids)) != len(ids):
            raise ValueError("part ids must be unique")
        return parts

    def part(self, part_id: str) -> PlanPart:
        for part in self.parts:
            if part.id == part_id:
                return part
        raise KeyError(part_id)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(p.id for p in self.parts)


@cache
def load_safety_plan(directory: Path = CONTENT_DIR) -> PlanBook:
    raw = read_yaml(PLAN_FILE, directory)
    try:
        return PlanBook.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"]) or "-"
        raise ContentError(PLAN_FILE, where, error["msg"]) from None


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def format_plan(
    filled: Mapping[str, str], *, short: bool = False, book: PlanBook | None = None
) -> str:
    """The filled-in parts as phone-sized HTML, in the plan's order, the person's words escaped.
    `short` (for a crisis reply) cuts each part to one line. Empty when nothing is filled in."""
    book = book or load_safety_plan()
    lines: list[str] = []
    for part in book.parts:
        text = filled.get(part.id)
        if not text:
            continue
        body = _short(text, SHORT_PART_CHARS) if short else text.strip()
        lines.append(f"<b>{html.escape(part.title)}:</b> {html.escape(body)}")
    return "\n".join(lines)


def format_prompt(part_id: str, book: PlanBook | None = None) -> str:
    """One part's title, prompt and examples, as HTML, to ask the person for it."""
    book = book or load_safety_plan()
    part = book.part(part_id)
    examples = "\n".join(f"• <i>{html.escape(e)}</i>" for e in part.examples)
    return f"<b>{html.escape(part.title)}</b>\n{html.escape(part.prompt)}\n{examples}"


def missing_parts(filled: Sequence[str], book: PlanBook | None = None) -> tuple[str, ...]:
    """The part ids not filled in yet, in the plan's order."""
    book = book or load_safety_plan()
    have = set(filled)
    return tuple(p for p in book.ids if p not in have)
