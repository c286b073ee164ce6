"""Practical topics: what a practical question to the ex is about, and a message that fits.

Pure: reads content/practical_topics.yaml (validated by pydantic), matches words."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from content.loader import (
    CONTENT_DIR,
    ContentError,
    NonEmpty,
    load_sources,
    read_yaml,
    validate_entry,
)

FILE = "practical_topics.yaml"


@dataclass(frozen=True, slots=True)
class PracticalTopic:
    id: str
    label: str
    example: str
    sources: tuple[str, ...]
    pattern: re.Pattern[str]


class _TopicModel(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    words: list[NonEmpty]
    label: NonEmpty
    example: NonEmpty
    sources: list[NonEmpty]


@cache
def load_practical_topics(directory: Path = CONTENT_DIR) -> tuple[PracticalTopic, ...]:
    raw = read_yaml(FILE, directory)
    if not isinstance(raw, dict):
        raise ContentError(FILE, "-", "must map topic ids to topics")
    known = load_sources(directory)
    topics = []
    for key, body in raw.items():
        model = validate_entry(FILE, str(key), _TopicModel, body)
        unknown = [s for s in model.sources if s not in known]
        if unknown:
            raise ContentError(FILE, str(key), f"unknown source {unknown[0]}")
        words = "|".join(re.escape(w.lower()) for w in model.words)
        topics.append(
            PracticalTopic(
                str(key), model.label, model.example, tuple(model.sources),
                re.compile(rf"\b(?:{words})\b"),
            )
        )  # fmt: skip
    return tuple(topics)


def practical_topic(text: str) -> PracticalTopic | None:
    """The practical matter a message is about (the first that fits), or None."""
    lowered = text.lower().replace("’", "'")
    return next((t for t in load_practical_topics() if t.pattern.search(lowered)), None)
