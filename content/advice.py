"""The "Should I text them?" engine: a situation in, a verdict out.

Pure and deterministic: no Telegram, no database, no clock, no randomness. The knowledge lives in
`rules.yaml` (rules, headlines, notes where the articles disagree) and `suggestions.yaml` (short
example messages); this module validates them once at load time and then evaluates situations
against them without touching YAML again.

How a verdict is made
---------------------
A `Situation` is reduced to a handful of *facts* (its enum fields plus a few derived ones such as
`timeline` and `late_night`). The engine walks `LADDER`, an ordered list of steps; each step names
a rule in `rules.yaml`, and fires when that rule's `applies_when` matches the facts. The first step
that fires gives the decision, the headline and the lead reason. Other rules join as supporting
reasons when they match and list the decision in their `show_with`; notes from `sources_differ`
join the same way. A crisis is special: it yields "get_support" with the safety rule and nothing
else.

`applies_when` is a mapping of fact -> allowed value(s) (all must hold), or a list of such
mappings (any may hold). At load time every step, rule and note is proved reachable, and the
ladder is proved to cover every possible situation, with exact set arithmetic over the facts.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import combinations
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from content.loader import (
    CONTENT_DIR,
    ContentError,
    NonEmpty,
    Source,
    check_sources,
    load_sources,
    read_sections,
    read_yaml,
    require_text,
    validate_entry,
)
from content.program import NO_CONTACT, distance_for
from content.vocab import DEFAULT_NO_CONTACT_DAYS, NO_CONTACT_DAYS_RANGE, Goal, Shared, WhoEnded

RULES_FILE = "rules.yaml"
SUGGESTIONS_FILE = "suggestions.yaml"

# --- The vocabulary of a situation ---------------------------------------------------------------

WHO_ENDED: tuple[str, ...] = tuple(w.value for w in WhoEnded)
SHARED: tuple[str, ...] = tuple(s.value for s in Shared)
GOALS: tuple[str, ...] = tuple(g.value for g in Goal)
THEY_MESSAGED = ("none", "emergency", "logistics", "casual", "relationship", "hostile")
REASONS_TO_TEXT = (
    "miss_them",
    "reply",
    "logistics",
    "emergency",
    "apologise",
    "make_jealous",
    "closure",
    "check_on_them",
    "ask_to_get_back",
)
# How strictly the person chose to treat a message from the ex during no contact (content/paths.py):
# answer warmly (give-him-the-breakup) or only a real emergency (five-steps). None: not chosen.
REPLY_STRICTNESS = ("warm", "emergencies_only")
FEELINGS = ("calm", "sad", "anxious", "angry", "desperate", "crisis")
DECISIONS = ("get_support", "do_not_text", "wait", "logistics_only", "reply", "reach_out")
# Decisions that mean "yes, send something"; every other decision carries no suggested messages.
TEXTING_DECISIONS = frozenset({"logistics_only", "reply", "reach_out"})

NO_CONTACT_MIN_DAYS, NO_CONTACT_MAX_DAYS = NO_CONTACT_DAYS_RANGE
LATE_NIGHT_HOURS = frozenset({22, 23, 0, 1, 2, 3, 4, 5})
# A breakup in a rash fight can be repaired quickly (six-steps): after a day or two of calm, and
# while it is still fresh. Past this many days the ordinary no-contact advice applies.
RASH_REPAIR_LAST_DAY = 7
# Where a person is in the breakup, derived from the day counts and the chosen no-contact length.
TIMELINE = ("breakup_day", "first_week", "no_contact", "after_no_contact")
_IN_NO_CONTACT = frozenset({"breakup_day", "first_week", "no_contact"})


class SituationError(ValueError):
    """A situation field is unknown or has a bad value; `field` names it ("-" for the whole)."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


def _got(value: Any) -> str:
    shown = "null" if value is None else repr(value)
    return shown if len(shown) <= 40 else shown[:37] + "..."


def _one_of(values: Iterable[str]) -> str:
    return ", ".join(f'"{v}"' for v in values)


def _check_count(name: str, value: Any, *, maximum: int | None = None) -> int:
    if type(value) is not int or value < 0 or (maximum is not None and value > maximum):
        allowed = f"0 to {maximum}" if maximum is not None else "0 or more"
        raise SituationError(name, f"must be a whole number, {allowed} (got {_got(value)})")
    return value


def _check_choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise SituationError(name, f"must be one of {_one_of(allowed)} (got {_got(value)})")
    return value


def _check_bool(name: str, value: Any) -> bool:
    if type(value) is not bool:
        raise SituationError(name, f"must be true or false (got {_got(value)})")
    return value


@dataclass(frozen=True, slots=True)
class Situation:
    """What the person told us. Every field is optional; the defaults lean towards not texting.

    `None` means "not said". A missing `days_since_breakup` counts as today; a missing or null
    `days_since_you_last_contacted` means you have not contacted them since the breakup, so the
    count runs from the breakup. An unsaid `feeling` is never taken as calm, an unsaid
    `abuse_or_repeated_cheating` never counts as "no" (so it blocks reaching out without assuming
    abuse), and the readiness checklist is not done until it is said to be.
    """

    days_since_breakup: int = 0
    days_since_you_last_contacted: int | None = None
    who_ended: str | None = None
    shared: frozenset[str] = frozenset()
    abuse_or_repeated_cheating: bool | None = None
    goal: str = "unsure"
    they_messaged: str = "none"
    reason_to_text: str | None = None
    feeling: str | None = None
    local_hour: int | None = None
    unanswered_messages_you_sent: int = 0
    readiness_checklist_done: bool = False
    they_are_dating: bool = False
    rash_fight_breakup: bool = False
    reply_strictness: str | None = None

    def __post_init__(self) -> None:
        _check_count("days_since_breakup", self.days_since_breakup)
        if self.days_since_you_last_contacted is not None:
            _check_count("days_since_you_last_contacted", self.days_since_you_last_contacted)
        if self.who_ended is not None:
            _check_choice("who_ended", self.who_ended, WHO_ENDED)
        shared = self.shared
        if isinstance(shared, str) or not isinstance(shared, list | tuple | set | frozenset):
            raise SituationError(
                "shared", f"must be a list of {_one_of(SHARED)} (got {_got(shared)})"
            )
        for item in shared:
            if not isinstance(item, str) or item not in SHARED:
                raise SituationError(
                    "shared", f"items must be {_one_of(SHARED)} (got {_got(item)})"
                )
        object.__setattr__(self, "shared", frozenset(shared))
        if self.abuse_or_repeated_cheating is not None:
            _check_bool("abuse_or_repeated_cheating", self.abuse_or_repeated_cheating)
        _check_choice("goal", self.goal, GOALS)
        _check_choice("they_messaged", self.they_messaged, THEY_MESSAGED)
        if self.reason_to_text is not None:
            _check_choice("reason_to_text", self.reason_to_text, REASONS_TO_TEXT)
        if self.feeling is not None:
            _check_choice("feeling", self.feeling, FEELINGS)
        if self.local_hour is not None:
            _check_count("local_hour", self.local_hour, maximum=23)
        _check_count("unanswered_messages_you_sent", self.unanswered_messages_you_sent)
        _check_bool("readiness_checklist_done", self.readiness_checklist_done)
        _check_bool("they_are_dating", self.they_are_dating)
        _check_bool("rash_fight_breakup", self.rash_fight_breakup)
        if self.reply_strictness is not None:
            _check_choice("reply_strictness", self.reply_strictness, REPLY_STRICTNESS)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict that `parse_situation` turns back into this same situation."""
        out: dict[str, Any] = {}
        for name in SITUATION_FIELDS:
            value = getattr(self, name)
            if name == "shared":
                value = [s for s in SHARED if s in value]
            if value is not None:
                out[name] = value
        return out


SITUATION_FIELDS: tuple[str, ...] = tuple(Situation.__dataclass_fields__)


def parse_situation(data: object) -> Situation:
    """Validate a decoded-JSON object into a `Situation`, or raise `SituationError`.

    Only the known fields are accepted, all optional. JSON null is only allowed for
    `days_since_you_last_contacted`; booleans must be real booleans and counts real integers.
    """
    if not isinstance(data, dict):
        raise SituationError("-", f"must be a JSON object with situation fields (got {_got(data)})")
    unknown = [str(k) for k in data if k not in SITUATION_FIELDS]
    if unknown:
        raise SituationError(
            unknown[0], f"is not a situation field (allowed: {', '.join(SITUATION_FIELDS)})"
        )
    values = dict(data)
    for name, value in values.items():
        if value is None and name != "days_since_you_last_contacted":
            raise SituationError(name, f"must not be null (got {_got(value)}); leave it out")
        if name == "shared" and not isinstance(value, list):
            raise SituationError(
                "shared", f"must be a list of {_one_of(SHARED)} (got {_got(value)})"
            )
    return Situation(**values)


# --- Facts: the few things the rules look at -----------------------------------------------------

_ALL_SHARED_SETS = tuple(
    frozenset(combo) for size in range(len(SHARED) + 1) for combo in combinations(SHARED, size)
)

# fact name -> every value it can take. Order matters: facts are tuples in this order.
FACT_DOMAINS: dict[str, tuple[Any, ...]] = {
    "feeling": (*FEELINGS, None),
    "they_messaged": THEY_MESSAGED,
    "reason_to_text": (*REASONS_TO_TEXT, None),
    "goal": GOALS,
    "who_ended": (*WHO_ENDED, None),
    "shared": _ALL_SHARED_SETS,
    "abuse_or_repeated_cheating": (True, False, None),
    "readiness_checklist_done": (True, False),
    "they_are_dating": (True, False),
    "rash_fight_breakup": (True, False),
    "timeline": TIMELINE,
    "late_night": (True, False, None),
    "waiting_on_reply": (True, False),
    "you_contacted_since_breakup": (True, False),
    "reply_strictness": (*REPLY_STRICTNESS, None),
}
_DIMS: tuple[str, ...] = tuple(FACT_DOMAINS)
_DIM_INDEX = {name: i for i, name in enumerate(_DIMS)}
_FULL = {i: frozenset(FACT_DOMAINS[name]) for i, name in enumerate(_DIMS)}
# Keys `applies_when` may use: every fact, plus `in_no_contact` (a view of `timeline`).
CONDITION_KEYS: tuple[str, ...] = (*_DIMS, "in_no_contact")
# Fact combinations no situation can produce (you cannot have written since a breakup of today).
_IMPOSSIBLE: tuple[dict[int, frozenset[Any]], ...] = (
    {
        _DIM_INDEX["timeline"]: frozenset({"breakup_day"}),
        _DIM_INDEX["you_contacted_since_breakup"]: frozenset({True}),
    },
)

Facts = tuple[Any, ...]


def _facts(s: Situation, no_contact_days: int) -> tuple[Facts, int]:
    """The facts of a situation, and the days counted towards no contact so far."""
    dsb = s.days_since_breakup
    last = s.days_since_you_last_contacted
    counted = dsb if last is None or last > dsb else last
    if dsb == 0:
        timeline = "breakup_day"
    elif dsb <= RASH_REPAIR_LAST_DAY:
        timeline = "first_week"
    elif counted < no_contact_days:
        timeline = "no_contact"
    else:
        timeline = "after_no_contact"
    hour = s.local_hour
    facts = (
        s.feeling,
        s.they_messaged,
        s.reason_to_text,
        s.goal,
        s.who_ended,
        s.shared,
        s.abuse_or_repeated_cheating,
        s.readiness_checklist_done,
        s.they_are_dating,
        s.rash_fight_breakup,
        timeline,
        None if hour is None else hour in LATE_NIGHT_HOURS,
        s.unanswered_messages_you_sent > 0,
        last is not None and last < dsb,
        s.reply_strictness,
    )
    return facts, counted


# --- The decision ladder -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    """One rung of the ladder: when `rule` applies (and no earlier step did), decide this.

    `when` narrows the step further, in the same form as `applies_when`, so one rule can lead
    several steps (the let-go rule leads the minimal replies that abuse still allows).
    """

    id: str
    rule: str
    decision: str
    suggestions: tuple[str, ...] = ()
    countdown: bool = True  # whether days_left (no contact still to go) means anything here
    when: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None


_LET_GO = "let-go-after-abuse-or-repeated-cheating"

LADDER: tuple[Step, ...] = (
    Step("crisis", "get-support-first", "get_support", countdown=False),
    # Abuse or repeated cheating: letting go leads; only an emergency or a practical matter gets a
    # (minimal) message, and never anything about the relationship.
    Step(
        "let-go-emergency",
        _LET_GO,
        "reply",
        ("emergency_reply",),
        countdown=False,
        when={"they_messaged": "emergency"},
    ),
    Step(
        "let-go-urgent",
        _LET_GO,
        "logistics_only",
        ("urgent",),
        countdown=False,
        when={"reason_to_text": "emergency"},
    ),
    Step(
        "let-go-practical",
        _LET_GO,
        "logistics_only",
        ("logistics",),
        countdown=False,
        when=[{"they_messaged": "logistics"}, {"reason_to_text": "logistics"}],
    ),
    Step("let-go", _LET_GO, "do_not_text", countdown=False),
    Step("emergency-reply", "reply-to-emergency-only", "reply", ("emergency_reply",)),
    Step("hostile-message", "dont-answer-hostility", "do_not_text"),
    Step("practical-matter", "practical-matters-only", "logistics_only", ("logistics",)),
    Step("urgent-matter", "only-what-the-emergency-needs", "logistics_only", ("urgent",)),
    Step("moving-on", "moving-on-protects-your-peace", "do_not_text", countdown=False),
    Step("strong-feelings", "not-while-angry-or-desperate", "do_not_text"),
    Step("late-night", "not-late-at-night", "wait"),
    Step("jealousy", "no-jealousy-games", "do_not_text"),
    Step("strict-reply", "only-emergencies-as-you-chose", "wait"),
    Step("casual-reply", "answer-warmly-and-briefly", "reply", ("casual_reply",)),
    Step(
        "relationship-reply",
        "reply-with-calm-clarity",
        "reply",
        ("relationship_reply", "accept_no"),
    ),
    Step("unanswered", "never-two-in-a-row", "do_not_text"),
    Step("closure", "find-closure-within", "do_not_text"),
    Step("dating-ask", "hold-off-asking-while-they-date", "do_not_text"),
    Step("rash-cooling", "let-a-rash-fight-cool-first", "wait"),
    Step(
        "rash-repair",
        "quick-repair-after-a-rash-fight",
        "reach_out",
        ("quick_repair",),
        countdown=False,
    ),
    # Children, work or a home are shared (content.program.distance_for): limited contact, with
    # no countdown of days to go, comes before the no-contact stretch.
    Step(
        "limited-contact",
        "limited-contact-when-you-share-life",
        "wait",
        countdown=False,
        when={"in_no_contact": True},
    ),
    Step("no-contact", "no-contact-period", "wait"),
    Step("undecided", "decide-if-you-really-want-them-back", "wait"),
    Step("checklist", "readiness-checklist-first", "wait"),
    Step("not-steady", "reach-out-from-a-steady-place", "wait"),
    Step("reach-out", "first-message-light", "reach_out", ("first_message",)),
)

HEADLINE_FIELDS = frozenset({"days_left_text", "no_contact_days"})


# --- What a verdict holds ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reason:
    rule: str
    text: str
    sources: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "text": self.text, "sources": list(self.sources)}


@dataclass(frozen=True, slots=True)
class Side:
    text: str
    sources: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "sources": list(self.sources)}


@dataclass(frozen=True, slots=True)
class Note:
    """Where the articles disagree: a topic and two or more sides."""

    id: str
    topic: str
    sides: tuple[Side, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "topic": self.topic, "sides": [s.to_dict() for s in self.sides]}


@dataclass(frozen=True, slots=True)
class Suggestion:
    id: str
    group: str
    text: str
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Verdict:
    """The answer. `reasons` lead with the deciding rule, then the supporting ones in rulebook
    order, so the first one or two are the strongest (`top_reasons`).

    `ask_safety_again` is true when the verdict is to reach out but the person skipped the
    question about abuse or cheating: the service asks it once more, gently, before they send
    anything. A skipped answer never blocks reaching out for good."""

    decision: str
    days_left: int | None
    headline: str
    reasons: tuple[Reason, ...]
    sources_differ: tuple[Note, ...]
    suggested_messages: tuple[str, ...]
    ask_safety_again: bool = False

    def top_reasons(self, n: int = 2) -> tuple[Reason, ...]:
        """The `n` strongest reasons: what a short, phone-sized first message shows."""
        return self.reasons[:n]

    def other_reasons(self, n: int = 2) -> tuple[Reason, ...]:
        """Everything after `top_reasons(n)`: for a "Why?" / "More" follow-up."""
        return self.reasons[n:]

    def top_sources(self, n: int = 2) -> tuple[str, ...]:
        """Source ids of the top `n` reasons, each once, in order."""
        return tuple(dict.fromkeys(s for r in self.top_reasons(n) for s in r.sources))

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "days_left": self.days_left,
            "headline": self.headline,
            "reasons": [r.to_dict() for r in self.reasons],
            "sources_differ": [n.to_dict() for n in self.sources_differ],
            "suggested_messages": list(self.suggested_messages),
        }


# --- Conditions: compiling and matching ----------------------------------------------------------

Box = dict[int, frozenset[Any]]  # fact index -> allowed values; absent index = anything
_CompiledBox = tuple[tuple[int, frozenset[Any]], ...]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _allowed_values(file: str, entry: str, key: str, value: Any) -> tuple[int, frozenset[Any]]:
    """Translate one `applies_when` item into (fact index, allowed set); fail naming the entry."""

    def bad(problem: str) -> ContentError:
        return ContentError(file, entry, f"applies_when '{key}': {problem}")

    if key == "in_no_contact":
        if type(value) is not bool:
            raise bad(f"must be true or false (got {_got(value)})")
        stages = _IN_NO_CONTACT if value else frozenset(TIMELINE) - _IN_NO_CONTACT
        return _DIM_INDEX["timeline"], stages
    if key == "shared":
        if value == "any":
            return _DIM_INDEX["shared"], frozenset(s for s in _ALL_SHARED_SETS if s)
        if value == "none":
            return _DIM_INDEX["shared"], frozenset({frozenset()})
        items = _as_list(value)
        if not items or any(i not in SHARED for i in items):
            raise bad(f'must be "any", "none" or a list of {_one_of(SHARED)} (got {_got(value)})')
        return _DIM_INDEX["shared"], frozenset(s for s in _ALL_SHARED_SETS if s & set(items))
    domain = FACT_DOMAINS[key]
    items = _as_list(value)
    if not items:
        raise bad("an empty list can never match")
    for item in items:
        # Compare by type too: YAML 1 must not pass for true.
        if not any(item is d or (type(item) is type(d) and item == d) for d in domain):
            shown = ", ".join("null" if d is None else str(d).lower() for d in domain)
            raise bad(f"{_got(item)} is not one of: {shown}")
    return _DIM_INDEX[key], frozenset(items)


def _compile_condition(file: str, entry: str, raw: Any) -> tuple[Box, ...]:
    if isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list) or not raw or not all(isinstance(m, dict) for m in raw):
        raise ContentError(
            file, entry, "'applies_when' must be a mapping of facts, or a list of such mappings"
        )
    boxes = []
    for mapping in raw:
        box: Box = {}
        for key, value in mapping.items():
            if key not in CONDITION_KEYS:
                raise ContentError(
                    file,
                    entry,
                    f"applies_when has unknown key '{key}' (allowed: {', '.join(CONDITION_KEYS)})",
                )
            index, allowed = _allowed_values(file, entry, key, value)
            box[index] = box.get(index, _FULL[index]) & allowed
            if not box[index]:
                raise ContentError(file, entry, f"applies_when '{key}' contradicts itself")
        boxes.append(box)
    return tuple(boxes)


def _freeze(boxes: Sequence[Box]) -> tuple[_CompiledBox, ...]:
    return tuple(tuple(sorted(box.items())) for box in boxes)


def _matches(boxes: tuple[_CompiledBox, ...], facts: Facts) -> bool:
    for box in boxes:
        for index, allowed in box:
            if facts[index] not in allowed:
                break
        else:
            return True
    return False


# Exact reachability: is there a combination of facts inside `box` that none of `others` covers?
# Boxes are cartesian products, so `box minus other` splits into at most one box per fact.


def _intersect(a: Box, b: Box) -> Box | None:
    out = dict(a)
    for index, allowed in b.items():
        out[index] = out.get(index, _FULL[index]) & allowed
        if not out[index]:
            return None
    return out


def _escapes(box: Box, others: Sequence[Box]) -> bool:
    full = {i: box.get(i, _FULL[i]) for i in _FULL}
    return _escapes_full(full, list(others))


def _escapes_full(box: dict[int, frozenset[Any]], others: list[Box]) -> bool:
    if any(not values for values in box.values()):
        return False
    for k, other in enumerate(others):
        if not all(box[i] & allowed for i, allowed in other.items()):
            continue  # disjoint from this one
        rest = others[k + 1 :]
        inside = dict(box)
        for i, allowed in other.items():
            outside = inside[i] - allowed
            if outside:
                piece = dict(inside)
                piece[i] = outside
                if _escapes_full(piece, rest):
                    return True
            inside[i] = inside[i] & allowed
        return False  # what is left lies wholly inside `other`
    return True


# --- The rulebook --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    text: str
    sources: tuple[str, ...]
    show_with: frozenset[str]
    reason: Reason
    boxes: tuple[_CompiledBox, ...]


@dataclass(frozen=True, slots=True)
class _NoteEntry:
    note: Note
    show_with: frozenset[str]
    boxes: tuple[_CompiledBox, ...]


@dataclass(frozen=True, slots=True)
class _Plan:
    """Everything about a verdict that depends only on the facts."""

    decision: str
    countdown: bool
    headline: str
    headline_needs_days: bool
    reasons: tuple[Reason, ...]
    notes: tuple[Note, ...]
    suggestions: tuple[str, ...]


_PLAN_CACHE_LIMIT = 50_000


class Rulebook:
    """The validated rules, headlines, notes and suggestions, ready to evaluate situations."""

    def __init__(
        self,
        rules: Mapping[str, Rule],
        headlines: Mapping[str, str],
        notes: Sequence[_NoteEntry],
        suggestions: Mapping[str, tuple[Suggestion, ...]],
        ladder: Sequence[Step],
        step_boxes: Mapping[str, tuple[_CompiledBox, ...]],
    ) -> None:
        self.rules = dict(rules)
        self.headlines = dict(headlines)
        self.notes = tuple(entry.note for entry in notes)
        self.suggestions = dict(suggestions)
        self.ladder = tuple(ladder)
        self._steps = tuple((step, step_boxes[step.id]) for step in self.ladder)
        self._supporters = tuple(r for r in self.rules.values() if r.show_with)
        self._note_entries = tuple(notes)
        self._cache: dict[Facts, _Plan] = {}

    def plan(self, facts: Facts) -> _Plan:
        plan = self._cache.get(facts)
        if plan is None:
            if len(self._cache) >= _PLAN_CACHE_LIMIT:
                self._cache.clear()
            plan = self._cache[facts] = self._make_plan(facts)
        return plan

    def _make_plan(self, facts: Facts) -> _Plan:
        step = next((s for s, boxes in self._steps if _matches(boxes, facts)), None)
        if step is None:  # load-time validation proves this cannot happen
            raise AssertionError(f"no step matched {facts!r}")
        lead = self.rules[step.rule]
        headline = self.headlines[step.id]
        needs_days = "{" in headline
        if step.decision == "get_support":
            return _Plan(step.decision, False, headline, needs_days, (lead.reason,), (), ())
        decision = step.decision
        reasons = [lead.reason]
        reasons.extend(
            rule.reason
            for rule in self._supporters
            if rule is not lead and decision in rule.show_with and _matches(rule.boxes, facts)
        )
        notes = tuple(
            entry.note
            for entry in self._note_entries
            if decision in entry.show_with and _matches(entry.boxes, facts)
        )
        texts: tuple[str, ...] = ()
        if decision in TEXTING_DECISIONS:
            texts = tuple(s.text for group in step.suggestions for s in self.suggestions[group])
        return _Plan(decision, step.countdown, headline, needs_days, tuple(reasons), notes, texts)


def _days_text(days: int) -> str:
    return f"{days} day" if days == 1 else f"{days} days"


def advise(
    situation: Situation,
    rulebook: Rulebook | None = None,
    no_contact_days: int = DEFAULT_NO_CONTACT_DAYS,
) -> Verdict:
    """Should they text? Pure and deterministic; `no_contact_days` must lie in 21..45."""
    if not isinstance(situation, Situation):
        raise TypeError("advise() needs a Situation; use parse_situation() on raw data")
    if (
        type(no_contact_days) is not int
        or not NO_CONTACT_MIN_DAYS <= no_contact_days <= NO_CONTACT_MAX_DAYS
    ):
        raise ValueError(
            f"no_contact_days must be a whole number from {NO_CONTACT_MIN_DAYS} to "
            f"{NO_CONTACT_MAX_DAYS} (got {_got(no_contact_days)})"
        )
    book = load_rulebook() if rulebook is None else rulebook
    facts, counted = _facts(situation, no_contact_days)
    plan = book.plan(facts)
    # Only a no-contact stretch counts down; limited contact has no day on which it ends.
    countdown = plan.countdown and distance_for(situation.shared) == NO_CONTACT
    days_left = max(0, no_contact_days - counted) if countdown else None
    headline = plan.headline
    if plan.headline_needs_days:
        headline = headline.format(
            days_left_text=_days_text(days_left or 0), no_contact_days=no_contact_days
        )
    ask_again = plan.decision == "reach_out" and situation.abuse_or_repeated_cheating is None
    return Verdict(
        plan.decision,
        days_left,
        headline,
        plan.reasons,
        plan.notes,
        plan.suggestions,
        ask_safety_again=ask_again,
    )


# --- Loading and validating ----------------------------------------------------------------------


SUGGESTION_MAX_CHARS = 200


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class _RuleModel(_Entry):
    id: NonEmpty
    applies_when: Any = Field(...)
    show_with: Any = None
    text: NonEmpty
    sources: Any = None


class _SideModel(_Entry):
    text: NonEmpty
    sources: Any = None


class _NoteModel(_Entry):
    id: NonEmpty
    topic: NonEmpty
    applies_when: Any = Field(...)
    show_with: Any = None
    sides: Annotated[list[dict[str, Any]], Field(min_length=2)]


class _SuggestionModel(_Entry):
    id: NonEmpty
    text: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=SUGGESTION_MAX_CHARS)
    ]
    sources: Any = None


_SECTIONS = ("rules", "headlines", "sources_differ")


def _entry_name(raw: Any, fallback: str) -> str:
    if isinstance(raw, dict) and isinstance(raw.get("id"), str) and raw["id"].strip():
        return raw["id"].strip()
    return fallback


def _show_with(file: str, entry: str, raw: Any, *, default: frozenset[str]) -> frozenset[str]:
    if raw is None:
        return default
    if not isinstance(raw, list) or not raw:
        raise ContentError(file, entry, "'show_with' must be a non-empty list of decisions")
    allowed = [d for d in DECISIONS if d != "get_support"]
    for decision in raw:
        if decision not in allowed:
            raise ContentError(
                file,
                entry,
                f"'show_with' has {_got(decision)}; allowed: {', '.join(allowed)} "
                "(nothing is shown beside get_support)",
            )
    return frozenset(raw)


def _unique_id(file: str, rid: str, seen: set[str]) -> str:
    if rid in seen:
        raise ContentError(file, rid, "duplicate id")
    seen.add(rid)
    return rid


def _load_rules(
    raw: Any, known: Mapping[str, Source]
) -> tuple[dict[str, Rule], dict[str, tuple[Box, ...]]]:
    if not isinstance(raw, list) or not raw:
        raise ContentError(RULES_FILE, "rules", "must be a non-empty list of rules")
    rules: dict[str, Rule] = {}
    boxes: dict[str, tuple[Box, ...]] = {}
    seen: set[str] = set()
    for i, body in enumerate(raw):
        entry = _entry_name(body, f"rules[{i}]")
        if not isinstance(body, dict):
            raise ContentError(RULES_FILE, entry, "must be a mapping with id, text, sources, ...")
        model = validate_entry(RULES_FILE, entry, _RuleModel, body)
        rid = _unique_id(RULES_FILE, model.id, seen)
        text = model.text
        sources = check_sources(RULES_FILE, rid, model.sources, known)
        rule_boxes = _compile_condition(RULES_FILE, rid, model.applies_when)
        show_with = _show_with(RULES_FILE, rid, model.show_with, default=frozenset())
        rules[rid] = Rule(
            rid, text, sources, show_with, Reason(rid, text, sources), _freeze(rule_boxes)
        )
        boxes[rid] = rule_boxes
    return rules, boxes


def _load_headlines(raw: Any, ladder: Sequence[Step]) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise ContentError(RULES_FILE, "headlines", "must map each ladder step id to a sentence")
    step_ids = [step.id for step in ladder]
    for key in raw:
        if key not in step_ids:
            raise ContentError(
                RULES_FILE, f"headlines.{key}", "no such step in the advice engine's ladder"
            )
    headlines = {}
    for sid in step_ids:
        entry = f"headlines.{sid}"
        if sid not in raw:
            raise ContentError(RULES_FILE, entry, "missing: every ladder step needs a headline")
        text = require_text(RULES_FILE, entry, raw[sid], "headline")
        try:
            fields = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
        except ValueError as exc:
            raise ContentError(RULES_FILE, entry, f"bad placeholder ({exc})") from None
        bad = fields - HEADLINE_FIELDS
        if bad:
            raise ContentError(
                RULES_FILE,
                entry,
                f"unknown placeholder(s) {', '.join(sorted(bad))} "
                f"(allowed: {', '.join(sorted(HEADLINE_FIELDS))})",
            )
        headlines[sid] = text
    return headlines


def _load_notes(raw: Any, known: Mapping[str, Source]) -> list[tuple[_NoteEntry, tuple[Box, ...]]]:
    if not isinstance(raw, list) or not raw:
        raise ContentError(RULES_FILE, "sources_differ", "must be a non-empty list of notes")
    every = frozenset(d for d in DECISIONS if d != "get_support")
    notes = []
    seen: set[str] = set()
    for i, body in enumerate(raw):
        entry = _entry_name(body, f"sources_differ[{i}]")
        if not isinstance(body, dict):
            raise ContentError(RULES_FILE, entry, "must be a mapping with id, topic, sides, ...")
        model = validate_entry(RULES_FILE, entry, _NoteModel, body)
        nid = _unique_id(RULES_FILE, model.id, seen)
        topic = model.topic
        sides = []
        for j, side in enumerate(model.sides):
            side_entry = f"{nid}.sides[{j}]"
            side_model = validate_entry(RULES_FILE, side_entry, _SideModel, side)
            sides.append(
                Side(
                    side_model.text,
                    check_sources(RULES_FILE, side_entry, side_model.sources, known),
                )
            )
        note_boxes = _compile_condition(RULES_FILE, nid, model.applies_when)
        show_with = _show_with(RULES_FILE, nid, model.show_with, default=every)
        note = Note(nid, topic, tuple(sides))
        notes.append((_NoteEntry(note, show_with, _freeze(note_boxes)), note_boxes))
    return notes


def _load_suggestions(
    directory: Path, known: Mapping[str, Source], ladder: Sequence[Step]
) -> dict[str, tuple[Suggestion, ...]]:
    raw = read_yaml(SUGGESTIONS_FILE, directory)
    if not isinstance(raw, dict):
        raise ContentError(SUGGESTIONS_FILE, "-", "must map suggestion groups to lists")
    used = list(dict.fromkeys(group for step in ladder for group in step.suggestions))
    for group in raw:
        if group not in used:
            raise ContentError(
                SUGGESTIONS_FILE,
                str(group),
                f"the advice engine never uses this group (it uses: {', '.join(used)})",
            )
    out: dict[str, tuple[Suggestion, ...]] = {}
    seen: set[str] = set()
    for group in used:
        entries = raw.get(group)
        if not isinstance(entries, list) or not entries:
            raise ContentError(
                SUGGESTIONS_FILE, group, "missing or empty: the advice engine suggests from it"
            )
        items = []
        for i, body in enumerate(entries):
            entry = _entry_name(body, f"{group}[{i}]")
            if not isinstance(body, dict):
                raise ContentError(SUGGESTIONS_FILE, entry, "must be a mapping with id, text, ...")
            model = validate_entry(SUGGESTIONS_FILE, entry, _SuggestionModel, body)
            sid = _unique_id(SUGGESTIONS_FILE, model.id, seen)
            text = model.text
            sources = check_sources(SUGGESTIONS_FILE, sid, model.sources, known)
            items.append(Suggestion(sid, group, text, sources))
        out[group] = tuple(items)
    return out


def _check_ladder(
    rules: Mapping[str, Rule],
    rule_boxes: Mapping[str, tuple[Box, ...]],
    notes: Sequence[tuple[_NoteEntry, tuple[Box, ...]]],
    headlines: Mapping[str, str],
    ladder: Sequence[Step],
) -> dict[str, tuple[Box, ...]]:
    """Prove every step, rule and note reachable and every situation decided.

    Returns the boxes each step fires on (its rule's applies_when narrowed by its `when`).
    """
    step_ids = [step.id for step in ladder]
    if len(set(step_ids)) != len(step_ids):
        raise ContentError(RULES_FILE, "advice engine", "ladder step ids must be unique")
    for step in ladder:
        if step.rule not in rules:
            raise ContentError(
                RULES_FILE,
                step.rule,
                f"the advice engine's step '{step.id}' uses this rule, but it is not defined",
            )
        if step.decision not in DECISIONS:
            raise ContentError(RULES_FILE, step.rule, f"step '{step.id}' has unknown decision")
        if step.suggestions and step.decision not in TEXTING_DECISIONS:
            raise ContentError(
                RULES_FILE, step.rule, f"step '{step.id}' suggests messages but is not texting"
            )
    leads = {step.rule for step in ladder}
    for rid, rule in rules.items():
        if rid not in leads and not rule.show_with:
            raise ContentError(
                RULES_FILE,
                rid,
                "the advice engine never uses this rule: it leads no step and has no 'show_with'",
            )

    # The region each step decides: its own boxes minus everything earlier (and the impossible).
    earlier: list[Box] = list(_IMPOSSIBLE)
    regions: list[tuple[Step, tuple[Box, ...], list[Box]]] = []
    step_boxes: dict[str, tuple[Box, ...]] = {}
    for step in ladder:
        boxes = step_boxes[step.id] = _narrow(step, rule_boxes[step.rule])
        if not any(_escapes(box, earlier) for box in boxes):
            raise ContentError(
                RULES_FILE,
                step.rule,
                f"unreachable: every situation in its applies_when is already decided by an "
                f"earlier step, so step '{step.id}' can never happen",
            )
        if "days_left_text" in headlines[step.id]:
            in_no_contact = _IN_NO_CONTACT
            timeline = _DIM_INDEX["timeline"]
            if not step.countdown or any(
                not box.get(timeline, _FULL[timeline]) <= in_no_contact for box in boxes
            ):
                raise ContentError(
                    RULES_FILE,
                    f"headlines.{step.id}",
                    "{days_left_text} only fits steps that apply during no contact",
                )
        regions.append((step, boxes, list(earlier)))
        earlier.extend(boxes)
    if _escapes({}, earlier):
        raise ContentError(
            RULES_FILE,
            "advice engine",
            "some situations match no step; the last step must cover them",
        )

    def shown(boxes: tuple[Box, ...], show_with: frozenset[str], skip_rule: str = "") -> bool:
        for step, step_boxes, before in regions:
            if step.decision == "get_support" or step.decision not in show_with:
                continue
            if step.rule == skip_rule:
                continue
            for a in step_boxes:
                for b in boxes:
                    both = _intersect(a, b)
                    if both is not None and _escapes(both, before):
                        return True
        return False

    for rid, rule in rules.items():
        if rule.show_with and not shown(rule_boxes[rid], rule.show_with, skip_rule=rid):
            raise ContentError(
                RULES_FILE,
                rid,
                "unreachable: no situation both matches its applies_when and ends in a decision "
                f"from its show_with ({', '.join(sorted(rule.show_with))})",
            )
    for entry, boxes in notes:
        if not shown(boxes, entry.show_with):
            raise ContentError(
                RULES_FILE,
                entry.note.id,
                "unreachable: no situation both matches its applies_when and ends in a decision "
                "it is shown with",
            )
    return step_boxes


def _narrow(step: Step, boxes: tuple[Box, ...]) -> tuple[Box, ...]:
    if step.when is None:
        return boxes
    extra = _compile_condition("content/advice.py", f"step {step.id}", step.when)
    narrowed = tuple(both for a in boxes for b in extra if (both := _intersect(a, b)) is not None)
    if not narrowed:
        raise ContentError(
            RULES_FILE,
            step.rule,
            f"step '{step.id}': its 'when' contradicts this rule's applies_when, so it never fires",
        )
    return narrowed


def build_rulebook(
    directory: Path | str = CONTENT_DIR, ladder: Sequence[Step] = LADDER
) -> Rulebook:
    """Read and fully validate rules.yaml and suggestions.yaml (uncached)."""
    directory = Path(directory)
    known = load_sources(directory)
    raw = read_sections(RULES_FILE, directory, tuple(_SECTIONS))
    rules, rule_boxes = _load_rules(raw.get("rules"), known)
    headlines = _load_headlines(raw.get("headlines"), ladder)
    notes = _load_notes(raw.get("sources_differ"), known)
    suggestions = _load_suggestions(directory, known, ladder)
    step_boxes = _check_ladder(rules, rule_boxes, notes, headlines, ladder)
    return Rulebook(
        rules,
        headlines,
        [entry for entry, _ in notes],
        suggestions,
        ladder,
        {sid: _freeze(boxes) for sid, boxes in step_boxes.items()},
    )


@cache
def load_rulebook(directory: Path | str = CONTENT_DIR) -> Rulebook:
    """The rulebook from `directory`, validated once and cached."""
    return build_rulebook(directory)
