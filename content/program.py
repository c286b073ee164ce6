"""The program's phases (content/phases.yaml) and which of them come first for a person."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from content.loader import CONTENT_DIR, ContentError, check_sources, read_yaml, require_text

FILE = "phases.yaml"
SHARED_WORDS = {"kids": "children", "work": "work", "home": "a home"}


@dataclass(frozen=True, slots=True)
class Phase:
    id: str
    name: str
    goal: str
    do: tuple[str, ...]
    avoid: tuple[str, ...]
    sources: tuple[str, ...]

    def filled(self, **values: str) -> Phase:
        """The phase with its {placeholders} (days, shared) filled in."""

        def fill(text: str) -> str:
            return text.format(**values) if "{" in text else text

        return Phase(
            self.id,
            self.name,
            fill(self.goal),
            tuple(map(fill, self.do)),
            tuple(map(fill, self.avoid)),
            self.sources,
        )


def load_phases(directory: Path = CONTENT_DIR) -> Mapping[str, Phase]:
    raw = read_yaml(FILE, directory)
    if not isinstance(raw, dict):
        raise ContentError(FILE, "-", "must map phase ids to phases")
    phases = {}
    for pid, body in raw.items():
        if not isinstance(body, dict):
            raise ContentError(FILE, pid, "must be a mapping")

        def items(field: str, pid: str = pid, body: dict = body) -> tuple[str, ...]:
            values = body.get(field)
            if not isinstance(values, list) or not values:
                raise ContentError(FILE, pid, f"'{field}' must list at least one item")
            return tuple(require_text(FILE, f"{pid}.{field}", v, field) for v in values)

        phases[pid] = Phase(
            id=pid,
            name=require_text(FILE, pid, body.get("name"), "name"),
            goal=require_text(FILE, pid, body.get("goal"), "goal"),
            do=items("do"),
            avoid=items("avoid"),
            sources=check_sources(FILE, pid, body.get("sources")),
        )
    for needed in ("stop_chasing", "no_contact", "limited_contact", "move_on"):
        if needed not in phases:
            raise ContentError(FILE, needed, "phase is missing")
    return phases


def shared_phrase(shared: Collection[str]) -> str:
    words = [SHARED_WORDS[s] for s in ("kids", "work", "home") if s in shared]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def first_steps(
    phases: Mapping[str, Phase],
    *,
    shared: Collection[str],
    reconcile_path_open: bool,
    wants_to_move_on: bool,
    no_contact_days: int,
) -> tuple[Phase, ...]:
    """Where the program starts for this person: one or two phases, placeholders filled.

    Stop chasing, then no contact (limited contact when kids, work or a home are shared). When
    abuse or repeated cheating was reported, or the person wants to move on, the move-on path
    leads; limited contact still applies to what must be shared.
    """
    values = {"days": str(no_contact_days), "shared": shared_phrase(shared)}
    distance = phases["limited_contact"] if shared else phases["no_contact"]
    if not reconcile_path_open or wants_to_move_on:
        first = phases["move_on"]
        return (first.filled(**values), distance.filled(**values)) if shared else (first,)
    return (phases["stop_chasing"].filled(**values), distance.filled(**values))
