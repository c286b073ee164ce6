"""The intake questions (content/intake.yaml) as typed, frozen objects, and typed-answer parsing."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from dateutil import parser as dateparser
from pydantic import BaseModel, ConfigDict, model_validator

from content.loader import (
    CONTENT_DIR,
    ContentError,
    NonEmpty,
    read_yaml,
    require_text,
    validate_entry,
)

FILE = "intake.yaml"
STEP_ORDER = (
    "ex_name",
    "breakup",
    "last_contact",
    "who_ended",
    "shared",
    "abuse",
    "goal",
    "timezone",
    "checkin_hour",
)
MAX_NAME = 40
MAX_NAME_WORDS = 4  # the bot's own limit: "Mary Ann de Souza" fits, a sentence does not


@dataclass(frozen=True, slots=True)
class Option:
    value: str
    label: str
    words: frozenset[str]


@dataclass(frozen=True, slots=True)
class Question:
    key: str
    label: str
    ask: str
    invalid: str
    options: tuple[Option, ...] = ()
    extras: Mapping[str, Any] = field(default_factory=dict)

    def option(self, value: str) -> Option | None:
        return next((o for o in self.options if o.value == value), None)

    def label_of(self, value: str) -> str:
        option = self.option(value)
        return option.label if option else value

    def text(self, name: str) -> str:
        return require_text(FILE, f"{self.key}.{name}", self.extras.get(name))

    def match(self, typed: str) -> str | None:
        """The option a typed answer names (by label or by one of its words), if any."""
        words = normalise(typed)
        for option in self.options:
            if words == normalise(option.label) or words in option.words:
                return option.value
        return None


def normalise(text: str) -> str:
    text = text.lower().replace("’", "'").replace("'", "")
    return re.sub(r"[^\w+:]+", " ", text).strip()


def load_intake(directory: Path = CONTENT_DIR) -> Mapping[str, Question]:
    raw = read_yaml(FILE, directory)
    if not isinstance(raw, dict):
        raise ContentError(FILE, "-", "must map step names to questions")
    missing = [k for k in STEP_ORDER if k not in raw]
    if missing:
        raise ContentError(FILE, missing[0], "step is missing")
    unknown = [k for k in raw if k not in STEP_ORDER]
    if unknown:
        raise ContentError(FILE, unknown[0], "is not an intake step")
    questions = {}
    for key in STEP_ORDER:
        body = raw[key]
        if not isinstance(body, dict):
            raise ContentError(FILE, key, "must be a mapping")
        model = validate_entry(FILE, key, _QuestionModel, body)
        options = []
        for value, opt in model.options.items():
            entry = f"{key}.options.{value}"
            if not isinstance(opt, dict):
                raise ContentError(FILE, entry, "must have a label")
            option = validate_entry(FILE, entry, _OptionModel, opt)
            words = frozenset(normalise(str(w)) for w in option.words)
            options.append(Option(str(value), option.label, words))
        extras = dict(model.model_extra or {})
        questions[key] = Question(
            key=key,
            label=model.label,
            ask=model.ask,
            invalid=model.invalid,
            options=tuple(options),
            extras=extras,
        )
    return questions


class _OptionModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    label: NonEmpty
    words: list[Any] = []


class _QuestionModel(BaseModel):
    """One intake step: label, ask and invalid are required texts; any other field is an extra
    text the step uses (a non-empty text when it is text at all)."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)

    label: NonEmpty
    ask: NonEmpty
    invalid: NonEmpty
    options: dict[Any, Any] = {}

    @model_validator(mode="after")
    def _extras_are_not_blank(self) -> _QuestionModel:
        for name, value in (self.model_extra or {}).items():
            if isinstance(value, str) and not value.strip():
                raise ValueError(f"'{name}' must be a non-empty text")
        return self


# --- typed answers -----------------------------------------------------------------------------

_AGO = re.compile(r"^(?:about |around |like |maybe |roughly |almost |nearly |over )?"
                  r"(\d{1,3}|a|an|one|two|three|four|five|six|seven|eight|nine|ten)\s+"
                  r"(day|week|month|year)s?(?:\s+ago)?$")  # fmt: skip
_LAST = re.compile(r"^(?:about |around )?last (week|month|year)$")
_NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
                 "seven": 7, "eight": 8, "nine": 9, "ten": 10}  # fmt: skip
_UNIT_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}


class FutureDate(ValueError):
    """The typed date lies in the future."""


def parse_breakup_date(typed: str, today: date) -> date | None:
    """A typed breakup date: '3 October', '2026-10-03', '10 days ago', 'yesterday'.

    Returns None when it cannot be read; raises FutureDate for a date after today. A day and
    month without a year means the most recent such day.
    """
    text = normalise(typed).replace(":", " ")
    if text == "yesterday":
        return today - timedelta(days=1)
    match = _AGO.match(text)
    if match:
        count = _NUMBER_WORDS.get(match.group(1)) or int(match.group(1))
        return today - timedelta(days=count * _UNIT_DAYS[match.group(2)])
    match = _LAST.match(text)
    if match:
        return today - timedelta(days=_UNIT_DAYS[match.group(1)])
    if not re.search(r"\d", typed) or len(typed) > 40 or re.fullmatch(r"\s*\d+\s*", typed):
        return None
    try:
        parsed = dateparser.parse(typed, default=datetime(today.year, 1, 1), dayfirst=True)
    except (ValueError, OverflowError):
        return None
    if parsed is None:
        return None
    result = parsed.date()
    has_year = bool(re.search(r"\b\d{4}\b|\b\d{1,2}[./-]\d{1,2}[./-]\d{2}\b", typed))
    if result > today and not has_year:
        result = result.replace(year=result.year - 1)
    if result > today:
        raise FutureDate(typed)
    if result.year < today.year - 60:
        return None
    return result


_HOUR = re.compile(r"^(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.|h)?$")


def parse_hour(typed: str) -> int | None:
    """'7', '07:00', '7pm', '19', '19:00', '7 am' → 0–23; minutes other than :00 are refused."""
    text = typed.strip().lower().replace(" ", "").replace(".", "")
    match = _HOUR.match(text.replace("am", " am").replace("pm", " pm").replace(" ", ""))
    if not match:
        match = _HOUR.match(text)
    if not match:
        return None
    hour, minutes, suffix = int(match.group(1)), match.group(2), match.group(3)
    if minutes not in (None, "00"):
        return None
    if suffix in ("am", "pm"):
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if suffix == "pm" else 0)
    return hour if 0 <= hour <= 23 else None


def clean_name(typed: str) -> str | None:
    """A name or nickname for the ex: one line, 1–40 characters and at most four words after
    trimming (a sentence typed at this question is not taken as their name)."""
    name = " ".join(typed.split())
    if not 0 < len(name) <= MAX_NAME or len(name.split()) > MAX_NAME_WORDS:
        return None
    return name


_MONTH_WORD = re.compile(
    r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b", re.IGNORECASE
)
_DAY_MONTH = re.compile(r"\b\d{1,2}[./-]\d{1,2}\b")


def parse_hard_date(typed: str) -> tuple[int, int, str] | None:
    """'14 February — anniversary', 'my birthday 3 May', 'their birthday 12/08' (day first)
    → (month, day, label). The label is what is left around the date, tidied; None when no
    day and month can be read."""
    text = " ".join(typed.split())
    if len(text) > 80 or not (_MONTH_WORD.search(text) or _DAY_MONTH.search(text)):
        return None
    try:
        parsed, rest = dateparser.parse(
            text, fuzzy_with_tokens=True, dayfirst=True, default=datetime(2000, 1, 1)
        )
    except (ValueError, OverflowError):
        return None
    label = " ".join(" ".join(rest).replace(":", " ").replace("—", " ").split()).strip(" -,.")
    return parsed.month, parsed.day, (label or "a hard day")[:40]
