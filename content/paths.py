"""The person's own path: the choices the articles leave open, and the "they came back" branch.

Pure: the data in paths.yaml, validated once with pydantic, and a few small functions over it. No
Telegram, no database. Each option and step names its sources; a disagreement shown with a
choice is a note from rules.yaml's `sources_differ`, looked up by id (one text, one place).

The choices (stored per person by the program service, changeable in /settings):
- reply_strictness: warm | emergencies_only — what to do when the ex writes first.
- distance_style: calm_message | strategic_pause | strict_weeks | limited — the kind of distance.
- rash_fight: yes | no — whether the breakup came out of a heated fight (the quick repair).
- they_are_dating: yes | no — whether the ex is seeing someone new.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from content.loader import CONTENT_DIR, Cited, ContentError, read_yaml, validate_entry

PATHS_FILE = "paths.yaml"
CHOICES = ("reply_strictness", "distance_style", "rash_fight", "they_are_dating")
# The strict style's count (five-steps: at least four full weeks).
STRICT_WEEKS_DAYS = 28
# The quick repair after a rash fight (six-steps: after a day or two of calm, while it is fresh).
# The first day of the window follows the article; the last is the advice engine's
# RASH_REPAIR_LAST_DAY, the coach's own bound for "still fresh".
REPAIR_FIRST_DAY = 1

Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=600)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OptionModel(Cited):
    label: Annotated[str, StringConstraints(min_length=1, max_length=60)]
    means: Line
    needs_shared: bool = False


class ChoiceModel(_Strict):
    ask: Line
    differ: str
    options: dict[str, dict[str, object]]


class StepModel(Cited):
    id: str
    title: Line
    text: Line


class Cite(Cited):
    text: Line


class LessonModel(Cited):
    idea: Line
    action: Line


class VariantModel(_Strict):
    choice: str
    options: dict[str, dict[str, object]]


@dataclass(frozen=True, slots=True)
class Option:
    value: str
    label: str
    means: str
    sources: tuple[str, ...]
    needs_shared: bool = False


@dataclass(frozen=True, slots=True)
class Choice:
    id: str
    ask: str
    differ: str  # a note id in rules.yaml's sources_differ
    options: tuple[Option, ...]

    def option(self, value: str | None) -> Option | None:
        return next((o for o in self.options if o.value == value), None)

    def offered(self, shares_something: bool) -> tuple[Option, ...]:
        """The options that fit: limited contact only when something is shared."""
        return tuple(o for o in self.options if shares_something or not o.needs_shared)


@dataclass(frozen=True, slots=True)
class Said:
    text: str
    sources: tuple[str, ...]
    differ: str | None = None


@dataclass(frozen=True, slots=True)
class ComebackStep:
    id: str
    title: str
    text: str
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Comeback:
    intro: Said
    steps: tuple[ComebackStep, ...]
    differ: tuple[str, ...]
    blocked: Said


@dataclass(frozen=True, slots=True)
class LessonVariant:
    idea: str
    action: str
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Paths:
    choices: Mapping[str, Choice]
    comeback: Comeback
    heard: Mapping[str, Said]
    # lesson id -> (the choice it depends on, option -> the lesson shown for it)
    lessons: Mapping[str, tuple[str, Mapping[str, LessonVariant]]]

    def lesson_for(self, lesson_id: str, chosen: Mapping[str, str | None]) -> LessonVariant | None:
        """The variant of a daily lesson for what the person chose, or None (the lesson as is)."""
        if lesson_id not in self.lessons:
            return None
        choice, options = self.lessons[lesson_id]
        return options.get(chosen.get(choice) or "")


def _said(entry: str, raw: object, with_differ: bool = False) -> Said:
    if not isinstance(raw, dict):
        raise ContentError(PATHS_FILE, entry, "must be a mapping with text and sources")
    body = dict(raw)
    differ = body.pop("differ", None) if with_differ else None
    model = validate_entry(PATHS_FILE, entry, Cite, body)
    return Said(model.text, tuple(model.sources), differ)


@cache
def load_paths(directory: Path = CONTENT_DIR) -> Paths:
    raw = read_yaml(PATHS_FILE, directory)
    if not isinstance(raw, dict) or set(raw) != {"choices", "comeback", "heard", "lessons"}:
        raise ContentError(PATHS_FILE, "-", "needs exactly: choices, comeback, heard, lessons")
    choices: dict[str, Choice] = {}
    for cid in CHOICES:
        body = validate_entry(PATHS_FILE, cid, ChoiceModel, raw["choices"].get(cid))
        options = tuple(
            Option(str(value), m.label, m.means, tuple(m.sources), m.needs_shared)
            for value, data in body.options.items()
            for m in [validate_entry(PATHS_FILE, f"{cid}.{value}", OptionModel, data)]
        )
        if len(options) < 2:
            raise ContentError(PATHS_FILE, cid, "needs two options or more")
        choices[cid] = Choice(cid, body.ask, body.differ, options)
    if set(raw["choices"]) != set(CHOICES):
        raise ContentError(PATHS_FILE, "choices", f"must be exactly {', '.join(CHOICES)}")
    back = raw["comeback"]
    steps = tuple(
        ComebackStep(m.id, m.title, m.text, tuple(m.sources))
        for i, s in enumerate(back.get("steps") or [])
        for m in [validate_entry(PATHS_FILE, f"comeback.steps[{i}]", StepModel, s)]
    )
    if not steps:
        raise ContentError(PATHS_FILE, "comeback", "needs steps")
    comeback = Comeback(
        _said("comeback.intro", back.get("intro")),
        steps,
        tuple(back.get("differ") or ()),
        _said("comeback.blocked", back.get("blocked")),
    )
    if any(not isinstance(k, str) for k in raw["heard"]):
        # YAML reads a bare no/yes as a boolean: such a key must be quoted.
        raise ContentError(PATHS_FILE, "heard", "every key must be text (quote yes/no)")
    heard = {k: _said(f"heard.{k}", v, with_differ=True) for k, v in raw["heard"].items()}
    lessons: dict[str, tuple[str, Mapping[str, LessonVariant]]] = {}
    for lid, body in (raw["lessons"] or {}).items():
        variant = validate_entry(PATHS_FILE, f"lessons.{lid}", VariantModel, body)
        if variant.choice not in choices:
            raise ContentError(PATHS_FILE, f"lessons.{lid}", f"unknown choice {variant.choice!r}")
        options: dict[str, LessonVariant] = {}
        for value, data in variant.options.items():
            where = f"lessons.{lid}.{value}"
            if choices[variant.choice].option(str(value)) is None:
                raise ContentError(PATHS_FILE, where, "is not an option of that choice")
            m = validate_entry(PATHS_FILE, where, LessonModel, data)
            options[str(value)] = LessonVariant(m.idea, m.action, tuple(m.sources))
        lessons[str(lid)] = (variant.choice, options)
    return Paths(choices, comeback, heard, lessons)


def note_ids(paths: Paths) -> frozenset[str]:
    """Every sources_differ note this file points at (checked against the rulebook by tests)."""
    ids = {c.differ for c in paths.choices.values()} | set(paths.comeback.differ)
    ids |= {s.differ for s in paths.heard.values() if s.differ}
    return frozenset(ids)


def no_contact_days_for(style: str | None, current: int) -> int:
    """The count a distance style asks for: the strict style at least four weeks; the others
    keep what the person set."""
    return max(current, STRICT_WEEKS_DAYS) if style == "strict_weeks" else current


def in_repair_window(rash_fight: bool, breakup_on: date | None, today: date, last_day: int) -> bool:
    """Whether a short apology after a rash fight is in its window: from a day after the
    breakup (a day or two of calm first) until `last_day` days after it."""
    if not rash_fight or breakup_on is None:
        return False
    return REPAIR_FIRST_DAY <= (today - breakup_on).days <= last_day
