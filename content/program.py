"""The program: phases, daily lessons, gates, checklists and journal prompts — and a pure state
machine that walks a person through them.

Data lives in three files, read and checked once by `load_program()`:

- phases.yaml  each phase's goal, do, avoid, daily lessons and the gate that leads out of it;
- forms.yaml   the checklists (readiness, talk_ready) and the decide questionnaire;
- journal.yaml journaling prompts by phase.

A broken file fails with a `ContentError` naming the file and the entry: an unknown or missing
source, an empty text, fewer than seven lessons, a duplicate id, an unknown gate kind, a gate
leading nowhere, a phase that cannot be reached from the start.

The path is stop_chasing → no_contact (limited_contact when kids, work or a home are shared) →
heal (its lessons also run alongside no contact) → decide → reach_out → rebuild → the_talk →
relationship. move_on is a path of its own: the person can choose it from any phase, it is
offered when the decision or the ex's answer points there, and it is the only path once abuse or
repeated cheating has been reported.

The machine is pure: `next_phase(state, event, today)` takes a `ProgramState` (what the profile
and the answers table hold) and one event, and returns a `Transition` — the phase, a reason id the
application renders, whether move-on should be offered, and the new state to store. Dates are
always passed in; nothing here reads a clock.
"""

from __future__ import annotations

import string
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationInfo

from content.loader import (
    CONTENT_DIR,
    ContentError,
    NonEmpty,
    Source,
    check_sources,
    load_sources,
    read_yaml,
    require_text,
    validate_entry,
)
from content.vocab import DEFAULT_NO_CONTACT_DAYS, NO_CONTACT_DAYS_RANGE, Shared

FILE = "phases.yaml"
FORMS_FILE = "forms.yaml"
JOURNAL_FILE = "journal.yaml"
SHARED_WORDS = {"kids": "children", "work": "work", "home": "a home"}

START = "stop_chasing"
MOVE_ON = "move_on"
REQUIRED_PHASES = ("stop_chasing", "no_contact", "limited_contact", "move_on")
MIN_LESSONS = 7
PLACEHOLDERS = frozenset({"days", "shared"})

# Widths of the columns these ids are stored in (bot/db/models.py).
MAX_PHASE_ID = 32  # Profile.phase, JournalEntry.phase
MAX_FORM_ID = 32  # Answer.form
MAX_ITEM_ID = 48  # Answer.item
MAX_VALUE = 32  # Answer.value
MAX_PROMPT_ID = 64  # JournalEntry.prompt_id

# distance: you keep your distance, and reaching out yourself restarts the no-contact count;
# open: you are in touch again and their answers move things; together: back together.
CONTACT_MODES = ("distance", "open", "together")
GATE_KINDS = ("no_contact_days", "days", "checklist", "decision", "ex_answer")
GATE_SETTINGS = ("next", "next_when_shared", "retry_after_days", "tries", "why")
CHOSEN = "chosen"  # no_contact_days: the person's own chosen length
NO_GATE = "none"

EX_ANSWERS = ("none", "friendly", "no", "yes")  # no reply | a warm reply | a no | a yes
DECISIONS = ("try_again", "not_sure", "let_go")
FORM_KINDS = ("checklist", "questionnaire")
CHECKLIST_SCORES = ("tick", "none")
QUESTION_SCORES = ("for", "against", "let_go", "closes", "none")
QUESTION_GROUPS = ("your_why", "signs_for", "signs_against", "worth_saving", "love_triangle")
ALL_FOR_GROUP = "worth_saving"  # every question here must be answered "for" to try again
AUTO_TICKS = ("no_contact",)  # ticked by the program: the no-contact stretch ran its full length

# Every reason id a Transition can carry (the application renders them by id).
REASONS = (
    "started",  # intake done: the program starts with stop_chasing
    "chose_move_on_at_intake",  # intake done, and the person wants to move on
    "abuse_move_on_only",  # abuse or repeated cheating: move_on, for good
    "gate_passed",  # the phase's gate opened: on to the next phase
    "not_yet",  # the gate is still closed
    "no_change",  # the event means nothing in this phase
    "slip_restarts_no_contact",  # you reached out: the count starts again, nothing moves on
    "decision_try_again_needs_readiness",  # decided to try again; the readiness list isn't done
    "decision_not_sure",  # the decision isn't clear yet: keep reflecting
    "decision_points_to_letting_go",  # the decision says let go: move_on is offered
    "no_reply_wait",  # no reply to your message: wait, don't chase
    "no_reply_keep_waiting",  # still no reply, and it's too soon to try again
    "no_reply_let_it_rest",  # no reply, again: that is an answer; move_on is offered
    "no_reply_give_room",  # no reply while reconnecting: give them room
    "they_said_no_respect_it",  # they said no: respect it; move_on is offered
    "they_are_friendly_keep_it_light",  # a warm reply while reconnecting: keep it light
    "a_maybe_give_it_time",  # a warm but unsure answer to the talk: give it time
    "chose_move_on",  # the person chose to let go and move on
    "already_moving_on",  # already on the move-on path
)


# --- The data -------------------------------------------------------------------------------------


def _fill(text: str, values: Mapping[str, str]) -> str:
    return text.format(**values) if "{" in text else text


@dataclass(frozen=True, slots=True)
class Lesson:
    """One daily lesson: one idea, and one small thing to do today."""

    id: str
    phase: str
    idea: str
    action: str
    sources: tuple[str, ...]

    def filled(self, **values: str) -> Lesson:
        return replace(self, idea=_fill(self.idea, values), action=_fill(self.action, values))


@dataclass(frozen=True, slots=True)
class Gate:
    """How a phase is left. Every requirement in `requires` must hold; no requirement at all
    means the phase ends its path (relationship, move_on)."""

    requires: tuple[str, ...] = ()
    next: str | None = None
    next_when_shared: str | None = None
    no_contact_days: int | str | None = None  # a number of days, or CHOSEN
    days: int | None = None
    checklist: str | None = None
    decision: str | None = None
    ex_answer: tuple[str, ...] = ()
    retry_after_days: int | None = None
    tries: int | None = None
    # Where a fixed number of days comes from: an article, or the coach's own default and why.
    why: str | None = None
    why_sources: tuple[str, ...] = ()

    @property
    def final(self) -> bool:
        return not self.requires

    def next_for(self, shared: Collection[str]) -> str | None:
        return self.next_when_shared if shared and self.next_when_shared else self.next


@dataclass(frozen=True, slots=True)
class Phase:
    id: str
    name: str
    goal: str
    do: tuple[str, ...]
    avoid: tuple[str, ...]
    sources: tuple[str, ...]
    lessons: tuple[Lesson, ...] = ()
    gate: Gate = Gate()
    contact: str = "distance"
    alongside: tuple[str, ...] = ()

    def filled(self, **values: str) -> Phase:
        """The phase with its {placeholders} (days, shared) filled in."""
        return replace(
            self,
            goal=_fill(self.goal, values),
            do=tuple(_fill(t, values) for t in self.do),
            avoid=tuple(_fill(t, values) for t in self.avoid),
            lessons=tuple(lesson.filled(**values) for lesson in self.lessons),
        )


@dataclass(frozen=True, slots=True)
class Option:
    value: str
    label: str
    scores: str


@dataclass(frozen=True, slots=True)
class FormItem:
    id: str
    text: str
    options: tuple[Option, ...]
    sources: tuple[str, ...]
    group: str | None = None
    auto: str | None = None

    def option(self, value: str | None) -> Option | None:
        return next((o for o in self.options if o.value == value), None)


@dataclass(frozen=True, slots=True)
class Form:
    id: str
    kind: str
    title: str
    intro: str
    items: tuple[FormItem, ...]
    sources: tuple[str, ...]

    def item(self, item_id: str) -> FormItem | None:
        return next((i for i in self.items if i.id == item_id), None)


@dataclass(frozen=True, slots=True)
class Prompt:
    id: str
    phases: tuple[str, ...]
    text: str
    sources: tuple[str, ...]
    follow_up: str | None = None


@dataclass(frozen=True)
class Program:
    phases: Mapping[str, Phase]
    forms: Mapping[str, Form]
    prompts: tuple[Prompt, ...]

    def phase(self, phase_id: str) -> Phase:
        try:
            return self.phases[phase_id]
        except KeyError:
            raise ValueError(f"unknown phase {phase_id!r}") from None

    def form(self, form_id: str) -> Form:
        try:
            return self.forms[form_id]
        except KeyError:
            raise ValueError(f"unknown form {form_id!r}") from None


# --- Loading --------------------------------------------------------------------------------------


def _check_keys(file: str, entry: str, body: Mapping[str, Any], allowed: Iterable[str]) -> None:
    unknown = [str(k) for k in body if k not in allowed]
    if unknown:
        raise ContentError(file, entry, f"unknown field '{unknown[0]}'")


def _check_id(file: str, entry: str, value: Any, limit: int, what: str = "id") -> str:
    if not isinstance(value, str) or not value.strip():
        raise ContentError(file, entry, f"'{what}' must be a non-empty text (quote yes/no/on/off)")
    if len(value) > limit:
        raise ContentError(file, entry, f"{what} '{value}' is longer than {limit} characters")
    return value


def _text(file: str, entry: str, value: Any, field_name: str) -> str:
    """require_text, and only the known {placeholders}."""
    text = require_text(file, entry, value, field_name)
    try:
        names = {n for _, n, _, _ in string.Formatter().parse(text) if n is not None}
    except ValueError as exc:
        raise ContentError(file, entry, f"bad placeholder in '{field_name}' ({exc})") from None
    unknown = sorted(names - PLACEHOLDERS)
    if unknown:
        raise ContentError(file, entry, f"unknown placeholder {{{unknown[0]}}} in '{field_name}'")
    return text


def _positive_int(file: str, entry: str, value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ContentError(file, entry, f"'{what}' must be a whole number of at least 1")
    return value


_PHASE_FIELDS = (
    "name",
    "goal",
    "do",
    "avoid",
    "sources",
    "contact",
    "alongside",
    "lessons",
    "gate",
)


def _load_phases(directory: Path, known: Mapping[str, Source]) -> dict[str, Phase]:
    raw = read_yaml(FILE, directory)
    if not isinstance(raw, dict):
        raise ContentError(FILE, "-", "must map phase ids to phases")
    phases: dict[str, Phase] = {}
    lesson_home: dict[str, str] = {}
    for pid, body in raw.items():
        _check_id(FILE, str(pid), pid, MAX_PHASE_ID, "phase id")
        if not isinstance(body, dict):
            raise ContentError(FILE, pid, "must be a mapping")

        def items(field_name: str, pid: str = pid, body: dict = body) -> tuple[str, ...]:
            values = body.get(field_name)
            if not isinstance(values, list) or not values:
                raise ContentError(FILE, pid, f"'{field_name}' must list at least one item")
            return tuple(_text(FILE, f"{pid}.{field_name}", v, field_name) for v in values)

        name = _text(FILE, pid, body.get("name"), "name")
        goal = _text(FILE, pid, body.get("goal"), "goal")
        do, avoid = items("do"), items("avoid")
        sources = check_sources(FILE, pid, body.get("sources"), known)
        _check_keys(FILE, pid, body, _PHASE_FIELDS)
        contact = body.get("contact")
        if contact not in CONTACT_MODES:
            raise ContentError(FILE, pid, f"'contact' must be one of {', '.join(CONTACT_MODES)}")
        alongside = body.get("alongside", [])
        if not isinstance(alongside, list) or not all(isinstance(a, str) for a in alongside):
            raise ContentError(FILE, pid, "'alongside' must list phase ids")
        phases[pid] = Phase(
            id=pid,
            name=name,
            goal=goal,
            do=do,
            avoid=avoid,
            sources=sources,
            lessons=_load_lessons(pid, body.get("lessons"), lesson_home, known),
            gate=_load_gate(pid, body.get("gate")),
            contact=contact,
            alongside=tuple(alongside),
        )
    for needed in REQUIRED_PHASES:
        if needed not in phases:
            raise ContentError(FILE, needed, "phase is missing")
    _check_links(phases)
    return phases


def _placeholders_known(text: str, info: ValidationInfo) -> str:
    """A template field: only the known {placeholders} (see PLACEHOLDERS)."""
    try:
        names = {n for _, n, _, _ in string.Formatter().parse(text) if n is not None}
    except ValueError as exc:
        raise ValueError(f"bad placeholder in '{info.field_name}' ({exc})") from None
    unknown = sorted(names - PLACEHOLDERS)
    if unknown:
        raise ValueError(f"unknown placeholder {{{unknown[0]}}} in '{info.field_name}'")
    return text


Template = Annotated[NonEmpty, AfterValidator(_placeholders_known)]


class _LessonModel(BaseModel):
    """One daily lesson: one idea, one small action, and its sources."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: NonEmpty
    idea: Template
    action: Template
    sources: Any = None


def _load_lessons(
    pid: str, raw: Any, lesson_home: dict[str, str], known: Mapping[str, Source]
) -> tuple[Lesson, ...]:
    entry = f"{pid}.lessons"
    if not isinstance(raw, list) or len(raw) < MIN_LESSONS:
        count = len(raw) if isinstance(raw, list) else 0
        raise ContentError(FILE, entry, f"needs at least {MIN_LESSONS} daily lessons, has {count}")
    lessons = []
    ideas: dict[str, str] = {}
    for index, body in enumerate(raw):
        if not isinstance(body, dict):
            raise ContentError(FILE, f"{entry}[{index}]", "must be a mapping")
        lid = _check_id(FILE, f"{entry}[{index}]", body.get("id"), 64)
        where = f"{entry}.{lid}"
        if lid in lesson_home:
            raise ContentError(FILE, where, f"lesson id is used twice (also in {lesson_home[lid]})")
        lesson_home[lid] = pid
        lesson = validate_entry(FILE, where, _LessonModel, body)
        idea, action = lesson.idea, lesson.action
        sources = check_sources(FILE, where, lesson.sources, known)
        if idea.casefold() in ideas:
            raise ContentError(FILE, where, f"repeats the idea of lesson {ideas[idea.casefold()]}")
        ideas[idea.casefold()] = lid
        lessons.append(Lesson(lid, pid, idea, action, sources))
    return tuple(lessons)


def _load_gate(pid: str, raw: Any) -> Gate:
    entry = f"{pid}.gate"
    if raw == NO_GATE:
        return Gate()
    if not isinstance(raw, dict) or not raw:
        raise ContentError(FILE, entry, f"must be '{NO_GATE}' or a mapping of requirements")
    for key in raw:
        if key not in GATE_KINDS and key not in GATE_SETTINGS:
            raise ContentError(
                FILE, entry, f"unknown gate kind '{key}' (known: {', '.join(GATE_KINDS)})"
            )
    requires = tuple(k for k in raw if k in GATE_KINDS)
    if not requires:
        raise ContentError(FILE, entry, "names no requirement")
    nxt = raw.get("next")
    if not isinstance(nxt, str) or not nxt:
        raise ContentError(FILE, entry, "needs 'next': the phase that follows")
    when_shared = raw.get("next_when_shared")
    if when_shared is not None and not isinstance(when_shared, str):
        raise ContentError(FILE, entry, "'next_when_shared' must be a phase id")

    no_contact_days = raw.get("no_contact_days")
    if "no_contact_days" in raw and no_contact_days != CHOSEN:
        no_contact_days = _positive_int(FILE, entry, no_contact_days, "no_contact_days")
    days = raw.get("days")
    if "days" in raw:
        days = _positive_int(FILE, entry, days, "days")
    for kind in ("checklist", "decision"):
        if kind in raw and (not isinstance(raw[kind], str) or not raw[kind]):
            raise ContentError(FILE, entry, f"'{kind}' must name a form in {FORMS_FILE}")

    answers: tuple[str, ...] = ()
    if "ex_answer" in raw:
        values = raw["ex_answer"]
        if not isinstance(values, list) or not values:
            raise ContentError(FILE, entry, "'ex_answer' must list the answers that open it")
        for value in values:
            if value not in EX_ANSWERS:
                raise ContentError(
                    FILE, entry, f"unknown answer {value!r} (known: {', '.join(EX_ANSWERS)})"
                )
            if value in ("none", "no"):
                raise ContentError(FILE, entry, f"the answer '{value}' can't open a gate")
        answers = tuple(values)
    retry, tries = raw.get("retry_after_days"), raw.get("tries")
    if (retry is None) != (tries is None):
        raise ContentError(FILE, entry, "'retry_after_days' and 'tries' go together")
    if retry is not None:
        if not answers:
            raise ContentError(FILE, entry, "'retry_after_days' needs an 'ex_answer' gate")
        retry = _positive_int(FILE, entry, retry, "retry_after_days")
        tries = _positive_int(FILE, entry, tries, "tries")
    # Every fixed number of days a gate states says where it comes from.
    fixed = isinstance(no_contact_days, int) or days is not None or retry is not None
    why, why_sources = None, ()
    raw_why = raw.get("why")
    if fixed and raw_why is None:
        raise ContentError(
            FILE, entry, "states a fixed number of days: add 'why' with text and sources"
        )
    if raw_why is not None:
        if not isinstance(raw_why, dict):
            raise ContentError(FILE, entry, "'why' must be a mapping with text and sources")
        why = require_text(FILE, f"{entry}.why", raw_why.get("text"))
        why_sources = check_sources(FILE, f"{entry}.why", raw_why.get("sources"))
    return Gate(
        requires=requires,
        next=nxt,
        next_when_shared=when_shared,
        no_contact_days=no_contact_days,
        days=days,
        checklist=raw.get("checklist"),
        decision=raw.get("decision"),
        ex_answer=answers,
        retry_after_days=retry,
        tries=tries,
        why=why,
        why_sources=why_sources,
    )


def _check_links(phases: Mapping[str, Phase]) -> None:
    for phase in phases.values():
        for target in (phase.gate.next, phase.gate.next_when_shared):
            if target is not None and target not in phases:
                raise ContentError(FILE, f"{phase.id}.gate", f"leads to unknown phase '{target}'")
        for other in phase.alongside:
            if other not in phases:
                raise ContentError(FILE, phase.id, f"runs alongside unknown phase '{other}'")
    # move_on can be chosen from anywhere; everything else must follow from the start.
    reachable, todo = set(), [START, MOVE_ON]
    while todo:
        pid = todo.pop()
        if pid in reachable:
            continue
        reachable.add(pid)
        gate = phases[pid].gate
        todo.extend(t for t in (gate.next, gate.next_when_shared) if t is not None)
    for pid in phases:
        if pid not in reachable:
            raise ContentError(FILE, pid, f"can't be reached from {START}")


def _load_options(file: str, entry: str, raw: Any, allowed: tuple[str, ...]) -> tuple[Option, ...]:
    if not isinstance(raw, list) or not raw:
        raise ContentError(file, entry, "needs 'options' (value, label, scores)")
    options, values = [], set()
    for body in raw:
        if not isinstance(body, dict):
            raise ContentError(file, entry, "each option must be a mapping")
        value = _check_id(file, entry, body.get("value"), MAX_VALUE, "value")
        if value in values:
            raise ContentError(file, entry, f"option '{value}' is defined twice")
        values.add(value)
        label = require_text(file, f"{entry}.{value}", body.get("label"), "label")
        scores = body.get("scores")
        if scores not in allowed:
            raise ContentError(
                file, f"{entry}.{value}", f"unknown score {scores!r} (known: {', '.join(allowed)})"
            )
        options.append(Option(value, label, scores))
    return tuple(options)


def _load_forms(directory: Path, known: Mapping[str, Source]) -> dict[str, Form]:
    raw = read_yaml(FORMS_FILE, directory)
    if not isinstance(raw, dict):
        raise ContentError(FORMS_FILE, "-", "must map form ids to forms")
    forms = {}
    for fid, body in raw.items():
        _check_id(FORMS_FILE, str(fid), fid, MAX_FORM_ID, "form id")
        if not isinstance(body, dict):
            raise ContentError(FORMS_FILE, fid, "must be a mapping")
        _check_keys(
            FORMS_FILE, fid, body, ("kind", "title", "intro", "sources", "options", "items")
        )
        kind = body.get("kind")
        if kind not in FORM_KINDS:
            raise ContentError(FORMS_FILE, fid, f"'kind' must be one of {', '.join(FORM_KINDS)}")
        title = require_text(FORMS_FILE, fid, body.get("title"), "title")
        intro = require_text(FORMS_FILE, fid, body.get("intro"), "intro")
        sources = check_sources(FORMS_FILE, fid, body.get("sources"), known)
        raw_items = body.get("items")
        if not isinstance(raw_items, list) or not raw_items:
            raise ContentError(FORMS_FILE, fid, "'items' must list at least one item")
        items: list[FormItem] = []
        for index, item in enumerate(raw_items):
            items.append(_load_item(fid, kind, index, item, body.get("options"), items, known))
        forms[fid] = Form(fid, kind, title, intro, tuple(items), sources)
    return forms


def _load_item(
    fid: str,
    kind: str,
    index: int,
    body: Any,
    default_options: Any,
    earlier: list[FormItem],
    known: Mapping[str, Source],
) -> FormItem:
    if not isinstance(body, dict):
        raise ContentError(FORMS_FILE, f"{fid}[{index}]", "must be a mapping")
    iid = _check_id(FORMS_FILE, f"{fid}[{index}]", body.get("id"), MAX_ITEM_ID)
    entry = f"{fid}.{iid}"
    if any(i.id == iid for i in earlier):
        raise ContentError(FORMS_FILE, entry, "item id is used twice")
    _check_keys(FORMS_FILE, entry, body, ("id", "text", "options", "sources", "group", "auto"))
    text = require_text(FORMS_FILE, entry, body.get("text"), "text")
    sources = check_sources(FORMS_FILE, entry, body.get("sources"), known)
    allowed = CHECKLIST_SCORES if kind == "checklist" else QUESTION_SCORES
    options = _load_options(FORMS_FILE, entry, body.get("options", default_options), allowed)
    group, auto = body.get("group"), body.get("auto")
    if kind == "checklist":
        if group is not None:
            raise ContentError(FORMS_FILE, entry, "a checklist item has no 'group'")
        if auto is not None and auto not in AUTO_TICKS:
            raise ContentError(FORMS_FILE, entry, f"unknown 'auto' {auto!r}")
        if not any(o.scores == "tick" for o in options):
            raise ContentError(FORMS_FILE, entry, "no option ticks the item")
    else:
        if auto is not None:
            raise ContentError(
                FORMS_FILE, entry, "only checklist items can be ticked by the program"
            )
        if group not in QUESTION_GROUPS:
            raise ContentError(
                FORMS_FILE, entry, f"'group' must be one of {', '.join(QUESTION_GROUPS)}"
            )
        if group == ALL_FOR_GROUP and not any(o.scores == "for" for o in options):
            raise ContentError(FORMS_FILE, entry, "a worth_saving question needs a 'for' option")
    return FormItem(iid, text, options, sources, group, auto)


def _check_gate_forms(phases: Mapping[str, Phase], forms: Mapping[str, Form]) -> None:
    for phase in phases.values():
        for kind, wanted in (("checklist", "checklist"), ("decision", "questionnaire")):
            name = getattr(phase.gate, kind)
            if name is None:
                continue
            form = forms.get(name)
            if form is None or form.kind != wanted:
                raise ContentError(
                    FILE, f"{phase.id}.gate", f"'{kind}' names no {wanted} in {FORMS_FILE}: {name}"
                )


def _load_prompts(
    directory: Path, phases: Mapping[str, Phase], known: Mapping[str, Source]
) -> tuple[Prompt, ...]:
    raw = read_yaml(JOURNAL_FILE, directory)
    if not isinstance(raw, dict) or not isinstance(raw.get("prompts"), list) or not raw["prompts"]:
        raise ContentError(JOURNAL_FILE, "prompts", "must list the journaling prompts")
    prompts: list[Prompt] = []
    for index, body in enumerate(raw["prompts"]):
        if not isinstance(body, dict):
            raise ContentError(JOURNAL_FILE, f"prompts[{index}]", "must be a mapping")
        pid = _check_id(JOURNAL_FILE, f"prompts[{index}]", body.get("id"), MAX_PROMPT_ID)
        if any(p.id == pid for p in prompts):
            raise ContentError(JOURNAL_FILE, pid, "prompt id is used twice")
        _check_keys(JOURNAL_FILE, pid, body, ("id", "phases", "text", "follow_up", "sources"))
        where = body.get("phases")
        if not isinstance(where, list) or not where:
            raise ContentError(JOURNAL_FILE, pid, "'phases' must list at least one phase")
        for phase_id in where:
            if phase_id not in phases:
                raise ContentError(JOURNAL_FILE, pid, f"unknown phase '{phase_id}'")
        text = require_text(JOURNAL_FILE, pid, body.get("text"), "text")
        follow_up = body.get("follow_up")
        if follow_up is not None:
            follow_up = require_text(JOURNAL_FILE, pid, follow_up, "follow_up")
        sources = check_sources(JOURNAL_FILE, pid, body.get("sources"), known)
        prompts.append(Prompt(pid, tuple(where), text, sources, follow_up))
    return tuple(prompts)


@cache
def load_program(directory: Path = CONTENT_DIR) -> Program:
    """Read and check phases.yaml, forms.yaml and journal.yaml (once per directory)."""
    known = load_sources(directory)
    phases = _load_phases(directory, known)
    forms = _load_forms(directory, known)
    _check_gate_forms(phases, forms)
    prompts = _load_prompts(directory, phases, known)
    return Program(MappingProxyType(phases), MappingProxyType(forms), prompts)


def load_phases(directory: Path = CONTENT_DIR) -> Mapping[str, Phase]:
    return load_program(directory).phases


# --- Where the program starts ---------------------------------------------------------------------


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


# --- Lessons and prompts --------------------------------------------------------------------------


def _program(program: Program | None) -> Program:
    return load_program() if program is None else program


def lesson_for(phase: str, day_in_phase: int, program: Program | None = None) -> Lesson:
    """The lesson for day N (1-based) of a phase; the lessons repeat in file order."""
    if day_in_phase < 1:
        raise ValueError("day_in_phase starts at 1")
    lessons = _program(program).phase(phase).lessons
    return lessons[(day_in_phase - 1) % len(lessons)]


def prompts_for(phase: str, program: Program | None = None) -> tuple[Prompt, ...]:
    """The journaling prompts offered in a phase, in file order."""
    program = _program(program)
    program.phase(phase)
    return tuple(p for p in program.prompts if phase in p.phases)


# --- The decide questionnaire ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DecisionResult:
    """What the decide answers say, shown as it is: the outcome and every sign behind it.

    outcome: try_again | not_sure | let_go | incomplete (some questions unanswered, no let-go
    sign). reason_id: abuse_or_repeated_cheating | let_go_sign | unanswered | more_against |
    worth_saving_and_more_for | mixed.
    """

    outcome: str
    reason_id: str
    for_items: tuple[str, ...]
    against_items: tuple[str, ...]
    let_go_signs: tuple[str, ...]
    closes_reconcile_path: bool
    worth_saving_all_yes: bool
    unanswered: tuple[str, ...]

    @property
    def for_count(self) -> int:
        return len(self.for_items)

    @property
    def against_count(self) -> int:
        return len(self.against_items)

    def as_event(self) -> DecisionMade:
        return DecisionMade(self.outcome, closes_reconcile_path=self.closes_reconcile_path)


def score_decision(
    answers: Mapping[str, str], program: Program | None = None, form: str = "decide"
) -> DecisionResult:
    """Score the decide questionnaire. `answers` maps item id → option value (the answers table);
    unknown items and values are ignored, so answers to a retired question never break this."""
    questionnaire = _program(program).form(form)
    if questionnaire.kind != "questionnaire":
        raise ValueError(f"{form!r} is not a questionnaire")
    fors, againsts, signs, closes, unanswered = [], [], [], False, []
    all_for = True
    for item in questionnaire.items:
        option = item.option(answers.get(item.id))
        if option is None:
            unanswered.append(item.id)
            all_for = all_for and item.group != ALL_FOR_GROUP
            continue
        if item.group == ALL_FOR_GROUP and option.scores != "for":
            all_for = False
        if option.scores == "for":
            fors.append(item.id)
        elif option.scores == "against":
            againsts.append(item.id)
        elif option.scores in ("let_go", "closes"):
            signs.append(item.id)
            closes = closes or option.scores == "closes"
    if closes:
        outcome, reason = "let_go", "abuse_or_repeated_cheating"
    elif signs:
        outcome, reason = "let_go", "let_go_sign"
    elif unanswered:
        outcome, reason = "incomplete", "unanswered"
    elif len(againsts) > len(fors):
        outcome, reason = "let_go", "more_against"
    elif all_for and len(fors) > len(againsts):
        outcome, reason = "try_again", "worth_saving_and_more_for"
    else:
        outcome, reason = "not_sure", "mixed"
    return DecisionResult(
        outcome=outcome,
        reason_id=reason,
        for_items=tuple(fors),
        against_items=tuple(againsts),
        let_go_signs=tuple(signs),
        closes_reconcile_path=closes,
        worth_saving_all_yes=all_for,
        unanswered=tuple(unanswered),
    )


def checklist_ticks(
    form: str, answers: Mapping[str, str], program: Program | None = None
) -> frozenset[str]:
    """The items of a checklist that the stored answers tick (item id → option value)."""
    checklist = _program(program).form(form)
    return frozenset(
        item.id
        for item in checklist.items
        if item.auto is None and (o := item.option(answers.get(item.id))) and o.scores == "tick"
    )


# --- The state machine ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProgramState:
    """Where a person is. The application builds it from the profile and the answers table.

    phase, phase_started_on, no_contact_started_on, no_contact_days: the Profile columns.
    abuse: Profile.abuse == "yes" (abuse or repeated cheating reported) — the try-again path is
    closed for good. shared: Profile.shared. ticked: form id → ticked item ids (checklist_ticks).
    decision: the last decision (try_again | not_sure | let_go). ex_answer, no_replies,
    last_no_reply_on: their latest answer in the current phase and the unanswered messages
    (both reset when the phase changes).
    """

    phase: str | None = None
    phase_started_on: date | None = None
    no_contact_started_on: date | None = None
    no_contact_days: int = DEFAULT_NO_CONTACT_DAYS
    abuse: bool = False
    shared: frozenset[str] = frozenset()
    ticked: Mapping[str, frozenset[str]] = field(default_factory=dict)
    decision: str | None = None
    ex_answer: str | None = None
    no_replies: int = 0
    last_no_reply_on: date | None = None

    def __post_init__(self) -> None:
        low, high = NO_CONTACT_DAYS_RANGE
        if isinstance(self.no_contact_days, bool) or not low <= self.no_contact_days <= high:
            raise ValueError(f"no_contact_days must be {low}–{high}, not {self.no_contact_days}")
        shared = frozenset(self.shared)
        unknown = shared - {s.value for s in Shared}
        if unknown:
            raise ValueError(f"unknown shared value(s): {', '.join(sorted(unknown))}")
        if self.decision not in (None, *DECISIONS):
            raise ValueError(f"unknown decision {self.decision!r}")
        if self.ex_answer not in (None, *EX_ANSWERS):
            raise ValueError(f"unknown answer {self.ex_answer!r}")
        ticked = {form: frozenset(items) for form, items in self.ticked.items() if items}
        object.__setattr__(self, "shared", shared)
        object.__setattr__(self, "ticked", MappingProxyType(ticked))

    def ticks(self, form: str) -> frozenset[str]:
        return self.ticked.get(form, frozenset())

    @property
    def distance(self) -> str:
        """no_contact or limited_contact (see `distance_for`)."""
        return distance_for(self.shared)


# Events -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IntakeCompleted:
    """The intake is done: the program (re)starts. `no_contact_since`: the day the person last
    reached out, when they haven't since the breakup (the streak counts from there)."""

    wants_to_move_on: bool = False
    no_contact_since: date | None = None


@dataclass(frozen=True, slots=True)
class DayPassed:
    """A day was checked: evaluate the gate (the daily tick, or the person asking)."""


@dataclass(frozen=True, slots=True)
class Slipped:
    """The person reached out themselves in a way that breaks no contact (decided elsewhere: the ex
    writing first, or an answer only about an emergency or logistics, is not a slip)."""


@dataclass(frozen=True, slots=True)
class ChecklistTicked:
    form: str
    item: str
    ticked: bool = True


@dataclass(frozen=True, slots=True)
class DecisionMade:
    outcome: str
    closes_reconcile_path: bool = False

    def __post_init__(self) -> None:
        if self.outcome not in DECISIONS:
            raise ValueError(f"unknown decision {self.outcome!r} (known: {', '.join(DECISIONS)})")


@dataclass(frozen=True, slots=True)
class ExReplied:
    """Their answer: none (no reply) | friendly | no | yes (to the talk)."""

    kind: str

    def __post_init__(self) -> None:
        if self.kind not in EX_ANSWERS:
            raise ValueError(f"unknown answer {self.kind!r} (known: {', '.join(EX_ANSWERS)})")


@dataclass(frozen=True, slots=True)
class ChoseMoveOn:
    """The person chose to let go and move on."""


@dataclass(frozen=True, slots=True)
class AbuseDisclosed:
    """Abuse or repeated cheating was reported: move_on, and no try-again path from then on."""


Event = (
    IntakeCompleted
    | DayPassed
    | Slipped
    | ChecklistTicked
    | DecisionMade
    | ExReplied
    | ChoseMoveOn
    | AbuseDisclosed
)


@dataclass(frozen=True, slots=True)
class Transition:
    """The outcome of one event: the phase now, why (a REASONS id), whether move_on should be
    offered, and the state to store. `moved`: the phase changed (from `from_phase`)."""

    phase: str
    reason_id: str
    state: ProgramState
    moved: bool = False
    from_phase: str | None = None
    offer_move_on: bool = False


@dataclass(frozen=True, slots=True)
class Requirement:
    """One requirement of a gate and how far along it is.

    no_contact_days / days: `done` of `needed` days. checklist: `done` of `needed` items ticked,
    `items_left` in form order. decision: `status` is the decision or "not_taken". ex_answer:
    `status` is waiting_for_answer | answered | they_said_no | a_maybe | wait_before_trying_again
    (until `wait_until`) | may_try_once_more | no_reply_let_it_rest | no_reply_give_room.
    """

    kind: str
    met: bool
    done: int = 0
    needed: int = 0
    items_left: tuple[str, ...] = ()
    status: str = ""
    wait_until: date | None = None


@dataclass(frozen=True, slots=True)
class GateStatus:
    """What the current phase's gate still needs. `open`: every requirement holds and nothing
    blocks it; `their_no`: they said no, which holds every gate of the phase shut."""

    phase: str
    open: bool
    next_phase: str | None
    requirements: tuple[Requirement, ...]
    their_no: bool = False
    offer_move_on: bool = False

    @property
    def final(self) -> bool:
        return not self.requirements

    def requirement(self, kind: str) -> Requirement | None:
        return next((r for r in self.requirements if r.kind == kind), None)


NO_CONTACT = "no_contact"
LIMITED_CONTACT = "limited_contact"
DISTANCES = (NO_CONTACT, LIMITED_CONTACT)


def distance_for(shared: Collection[str]) -> str:
    """The kind of distance a person keeps, and so what their count of days means.

    When children, work or a home are shared, contact about those is needed: the person keeps
    limited contact, the count is of days keeping contact to what is needed, and nothing counts
    down to a day of no contact at all. Otherwise it is no contact, counted towards the chosen
    length. Every count of days and every sentence about it follows this one decision.
    """
    return LIMITED_CONTACT if shared else NO_CONTACT


def no_contact_streak(state: ProgramState, today: date) -> int:
    """Whole days since the current no-contact stretch began (0 when none is running)."""
    if state.no_contact_started_on is None:
        return 0
    return max(0, (today - state.no_contact_started_on).days)


def day_in_phase(state: ProgramState, today: date) -> int:
    """1 on the day the phase began."""
    if state.phase_started_on is None:
        return 1
    return max(0, (today - state.phase_started_on).days) + 1


def _requirement(
    program: Program, state: ProgramState, gate: Gate, kind: str, today: date
) -> Requirement:
    streak = no_contact_streak(state, today)
    if kind == "no_contact_days":
        needed = state.no_contact_days if gate.no_contact_days == CHOSEN else gate.no_contact_days
        assert isinstance(needed, int)
        return Requirement(kind, streak >= needed, done=streak, needed=needed)
    if kind == "days":
        assert gate.days is not None
        done = day_in_phase(state, today) - 1
        return Requirement(kind, done >= gate.days, done=done, needed=gate.days)
    if kind == "checklist":
        assert gate.checklist is not None
        form = program.form(gate.checklist)
        ticked = state.ticks(form.id)
        left = tuple(
            item.id
            for item in form.items
            if not (streak >= state.no_contact_days if item.auto else item.id in ticked)
        )
        total = len(form.items)
        return Requirement(kind, not left, done=total - len(left), needed=total, items_left=left)
    if kind == "decision":
        status = state.decision or "not_taken"
        return Requirement(kind, state.decision == "try_again", status=status)
    # ex_answer
    answer = state.ex_answer
    if answer in gate.ex_answer:
        return Requirement(kind, True, status="answered")
    if answer == "no":
        return Requirement(kind, False, status="they_said_no")
    if answer == "friendly":
        return Requirement(kind, False, status="a_maybe")
    if answer == "none" and gate.tries and gate.retry_after_days and state.last_no_reply_on:
        if state.no_replies >= gate.tries:
            return Requirement(kind, False, status="no_reply_let_it_rest")
        until = state.last_no_reply_on + timedelta(days=gate.retry_after_days)
        status = "wait_before_trying_again" if today < until else "may_try_once_more"
        return Requirement(kind, False, status=status, wait_until=until)
    if answer == "none":
        return Requirement(kind, False, status="no_reply_give_room")
    return Requirement(kind, False, status="waiting_for_answer")


def _offers_move_on(phase: Phase, state: ProgramState) -> bool:
    if phase.id == MOVE_ON:
        return False
    if state.decision == "let_go":
        return True
    if phase.contact != "open":
        return False
    tries = phase.gate.tries
    return state.ex_answer == "no" or bool(tries and state.no_replies >= tries)


def gate_status(state: ProgramState, today: date, program: Program | None = None) -> GateStatus:
    """What the current phase's gate needs now, e.g. 12 of 30 days, or the items left."""
    program = _program(program)
    phase = _current(program, state)
    gate = phase.gate
    requirements = tuple(_requirement(program, state, gate, k, today) for k in gate.requires)
    their_no = phase.contact == "open" and state.ex_answer == "no"
    return GateStatus(
        phase=phase.id,
        open=bool(requirements) and all(r.met for r in requirements) and not their_no,
        next_phase=gate.next_for(state.shared),
        requirements=requirements,
        their_no=their_no,
        offer_move_on=_offers_move_on(phase, state),
    )


def daily_lesson(state: ProgramState, today: date, program: Program | None = None) -> Lesson:
    """Today's lesson, placeholders filled. Phases that run alongside this one (heal, during no
    contact) take turns with it: day 1 this phase, day 2 the companion, and so on."""
    program = _program(program)
    phase = _current(program, state)
    tracks = [phase, *(p for p in program.phases.values() if phase.id in p.alongside)]
    day = day_in_phase(state, today)
    track = tracks[(day - 1) % len(tracks)]
    lesson = lesson_for(track.id, (day - 1) // len(tracks) + 1, program)
    return lesson.filled(days=str(state.no_contact_days), shared=shared_phrase(state.shared))


def _current(program: Program, state: ProgramState) -> Phase:
    if state.phase is None:
        raise ValueError("the program hasn't started: the intake comes first")
    return program.phase(state.phase)


def _stay(program: Program, state: ProgramState, reason: str, offer: bool = False) -> Transition:
    assert state.phase is not None
    offer = offer or _offers_move_on(program.phase(state.phase), state)
    return Transition(state.phase, reason, state, offer_move_on=offer)


def _move(
    program: Program, state: ProgramState, to: str, reason: str, today: date, **changes: Any
) -> Transition:
    new = replace(
        state,
        phase=to,
        phase_started_on=today,
        ex_answer=None,
        no_replies=0,
        last_no_reply_on=None,
        **changes,
    )
    offer = _offers_move_on(program.phase(to), new)
    return Transition(to, reason, new, moved=True, from_phase=state.phase, offer_move_on=offer)


def _advance(program: Program, state: ProgramState, today: date, otherwise: str) -> Transition:
    status = gate_status(state, today, program)
    if status.open and status.next_phase is not None:
        return _move(program, state, status.next_phase, "gate_passed", today)
    return _stay(program, state, otherwise if not status.final else "no_change")


def _for_good(program: Program, state: ProgramState, today: date) -> Transition:
    """Abuse or repeated cheating: move_on, and the try-again path stays closed."""
    state = replace(state, abuse=True)
    if state.phase == MOVE_ON:
        return Transition(MOVE_ON, "abuse_move_on_only", state)
    return _move(program, state, MOVE_ON, "abuse_move_on_only", today)


def next_phase(
    state: ProgramState, event: Event, today: date, program: Program | None = None
) -> Transition:
    """Apply one event to a person's state. Pure: the result says what to store and say."""
    program = _program(program)
    if isinstance(event, IntakeCompleted):
        return _start(program, state, event, today)
    phase = _current(program, state)
    if isinstance(event, AbuseDisclosed) or (state.abuse and phase.id != MOVE_ON):
        return _for_good(program, state, today)
    if isinstance(event, ChoseMoveOn):
        if phase.id == MOVE_ON:
            return _stay(program, state, "already_moving_on")
        # Distance for healing starts now if the person was in touch again.
        restart = {"no_contact_started_on": today} if phase.contact != "distance" else {}
        return _move(program, state, MOVE_ON, "chose_move_on", today, **restart)
    if isinstance(event, DayPassed):
        return _advance(program, state, today, "not_yet")
    if isinstance(event, Slipped):
        if phase.contact != "distance":
            return _stay(program, state, "no_change")
        state = replace(state, no_contact_started_on=today)
        return _stay(program, state, "slip_restarts_no_contact")
    if isinstance(event, ChecklistTicked):
        return _tick(program, state, event, today)
    if isinstance(event, DecisionMade):
        return _decide(program, phase, state, event, today)
    if isinstance(event, ExReplied):
        return _their_answer(program, phase, state, event, today)
    raise TypeError(f"not a program event: {event!r}")


def _start(
    program: Program, state: ProgramState, event: IntakeCompleted, today: date
) -> Transition:
    since = event.no_contact_since or today
    if since > today:
        raise ValueError("no_contact_since is after today")
    if state.abuse:
        first, reason = MOVE_ON, "abuse_move_on_only"
    elif event.wants_to_move_on:
        first, reason = MOVE_ON, "chose_move_on_at_intake"
    else:
        first, reason = START, "started"
    program.phase(first)
    return _move(program, state, first, reason, today, no_contact_started_on=since)


def _tick(program: Program, state: ProgramState, event: ChecklistTicked, today: date) -> Transition:
    form = program.form(event.form)
    item = form.item(event.item)
    if form.kind != "checklist" or item is None:
        raise ValueError(f"{event.form}.{event.item} is not a checklist item")
    if item.auto is not None:
        raise ValueError(f"{event.form}.{event.item} is ticked by the program, not by hand")
    ticks = state.ticks(form.id)
    ticks = ticks | {item.id} if event.ticked else ticks - {item.id}
    state = replace(state, ticked={**state.ticked, form.id: ticks})
    return _advance(program, state, today, "not_yet")


def _decide(
    program: Program, phase: Phase, state: ProgramState, event: DecisionMade, today: date
) -> Transition:
    if event.closes_reconcile_path:
        return _for_good(program, replace(state, decision="let_go"), today)
    state = replace(state, decision=event.outcome)
    if phase.id == MOVE_ON:
        return _stay(program, state, "already_moving_on")
    if event.outcome == "let_go":
        return _stay(program, state, "decision_points_to_letting_go", offer=True)
    if event.outcome == "not_sure":
        return _stay(program, state, "decision_not_sure")
    if "decision" in phase.gate.requires:
        return _advance(program, state, today, "decision_try_again_needs_readiness")
    return _stay(program, state, "no_change")


def _their_answer(
    program: Program, phase: Phase, state: ProgramState, event: ExReplied, today: date
) -> Transition:
    if phase.contact != "open":
        return _stay(program, state, "no_change")
    gate, kind = phase.gate, event.kind
    if kind == "no":
        return _stay(program, replace(state, ex_answer="no"), "they_said_no_respect_it", True)
    if kind == "none":
        if not (gate.tries and gate.retry_after_days):
            return _stay(program, replace(state, ex_answer="none"), "no_reply_give_room")
        last = state.last_no_reply_on
        if state.no_replies and last and today < last + timedelta(days=gate.retry_after_days):
            return _stay(program, state, "no_reply_keep_waiting")
        state = replace(
            state, ex_answer="none", no_replies=state.no_replies + 1, last_no_reply_on=today
        )
        if state.no_replies >= gate.tries:
            return _stay(program, state, "no_reply_let_it_rest", offer=True)
        return _stay(program, state, "no_reply_wait")
    state = replace(state, ex_answer=kind)
    if kind in gate.ex_answer:
        return _advance(program, state, today, "not_yet")
    if gate.ex_answer:
        return _stay(program, state, "a_maybe_give_it_time")
    # A warm reply may lift an earlier "no" that held this phase's gate shut.
    return _advance(program, state, today, "they_are_friendly_keep_it_light")
