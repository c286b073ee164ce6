"""The program in the application: where a person is, and what moves them on.

A person's `ProgramState` is read from what is stored — the profile's program columns, and rows
of the answers table for what the profile has no column for — each event goes through the pure
state machine (`content.program.next_phase`), and the new state is stored again. Results are
plain data; the Telegram layer renders them. No Telegram objects here.

What the answers table holds for the program (form, item → value):

- readiness / talk_ready, <item>       "done" | "not_yet"  (the checklists in forms.yaml)
- decide, <question>                   the option's value  (the decision step)
- program, decision                    try_again | not_sure | let_go
- program, ex_answer                   none | friendly | no | yes (their latest answer, this phase)
- program, no_replies                  unanswered messages in this phase ("1", "2", …)
- program, last_no_reply_on            ISO date of the latest unanswered message
- program, last_slip_on                ISO date of the latest slip told to the program
- journal, draft                       id of the journal entry being written (not yet saved)

The journal lives here too: the prompts come from the program, and an entry is written in several
messages before it is saved — the draft is a journal_entries row marked by the `journal, draft`
answer, so nothing written is lost to a restart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date

from cachetools import LRUCache
from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.db import Database
from bot.db import queries as q
from bot.db.models import Answer, JournalEntry, Profile
from bot.services.intake import local_today
from bot.services.paths import CAME_BACK, PATH_FORM, PathChoices, choices_from, read_choices
from bot.services.retry import retry_transient
from bot.services.safety import blocked_in
from content import Content
from content.paths import CHOICES, load_paths, no_contact_days_for
from content.program import (
    MOVE_ON,
    ChoseMoveOn,
    DayPassed,
    DecisionMade,
    DecisionResult,
    Event,
    ExReplied,
    Form,
    FormItem,
    GateStatus,
    Lesson,
    Phase,
    Program,
    ProgramState,
    Prompt,
    Slipped,
    Transition,
    checklist_ticks,
    daily_lesson,
    day_in_phase,
    gate_status,
    load_program,
    next_phase,
    no_contact_streak,
    prompts_for,
    score_decision,
    shared_phrase,
)
from content.program import (
    ChecklistTicked as _Ticked,
)
from content.vocab import AbuseAnswer, Goal

PROGRAM_FORM = "program"
JOURNAL_FORM = "journal"
DECIDE_FORM = "decide"
READINESS_FORM = "readiness"
TICKED, NOT_TICKED = "done", "not_yet"
# Moves in one go when the person was away: every gate that is already open is passed.
MAX_CATCH_UP = 12
# One journal entry holds this much; a longer one is refused kindly, never cut short.
MAX_ENTRY_CHARS = 30_000
RECENT_ENTRIES = 5
PREVIEW_WORDS = 8
PREVIEW_CHARS = 40

# The lesson each piece of advice comes from (its sources are the advice's sources).
REASON_LESSONS: Mapping[str, str] = {
    "slip_restarts_no_contact": "nc-a-slip-is-a-restart",
    "no_reply_wait": "ro-if-no-reply",
    "no_reply_keep_waiting": "ro-one-then-wait",
    "no_reply_let_it_rest": "ro-if-no-reply",
    "no_reply_give_room": "rb-match-their-pace",
    "they_said_no_respect_it": "tt-a-no-is-an-answer",
    "they_are_friendly_keep_it_light": "rb-light-topics",
    "a_maybe_give_it_time": "tt-maybe-needs-space",
}


class NotStarted(LookupError):
    """No finished intake: the program hasn't started for this person."""


class NotNow(ValueError):
    """An action that doesn't fit where the person is (an old or forged button)."""


class EntryTooLong(ValueError):
    """Adding this would make the journal entry longer than one entry may be."""

    def __init__(self, chars: int) -> None:
        super().__init__(chars)
        self.chars = chars


# Every answer of one person (the program's checklists and decisions, the path choices), built
# once: building and cache-keying a statement costs more than running it.
_ANSWERS = select(Answer.form, Answer.item, Answer.value).where(
    Answer.user_id == bindparam("user_id")
)

# The profile's columns the program writes (`ProgramService._store`).
_STORED_COLUMNS = (
    "phase",
    "phase_started_on",
    "no_contact_started_on",
    "last_milestone_day",
    "abuse",
    "goal",
)


# --- What is shown -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Step:
    """Where a person is in the program today."""

    phase: Phase  # placeholders filled in
    next_phase: Phase | None
    state: ProgramState
    gate: GateStatus
    today: date
    day_in_phase: int
    day_of_plan: int
    streak: int
    ex_name: str | None

    @property
    def moving_on(self) -> bool:
        return self.phase.id == MOVE_ON

    @property
    def abuse(self) -> bool:
        return self.state.abuse

    @property
    def distance(self) -> str:
        """no_contact or limited_contact: what the day count means (content.program)."""
        return self.state.distance


@dataclass(frozen=True, slots=True)
class Outcome:
    """What an event did: the reason id (content.program.REASONS), the phases passed through on
    the way (oldest first; empty when nothing moved), where the person is now, and their path
    choices."""

    reason_id: str
    passed: tuple[str, ...]
    offer_move_on: bool
    step: Step
    # What the person chose about their path, read with the rest (no second read).
    choices: PathChoices

    @property
    def moved(self) -> bool:
        return bool(self.passed)


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    item: FormItem
    ticked: bool
    auto: bool  # ticked by the program, not by hand


@dataclass(frozen=True, slots=True)
class Checklist:
    form: Form
    items: tuple[ChecklistItem, ...]
    step: Step

    @property
    def done(self) -> int:
        return sum(1 for i in self.items if i.ticked)

    @property
    def complete(self) -> bool:
        return all(i.ticked for i in self.items)


@dataclass(frozen=True, slots=True)
class DecideQuestion:
    item: FormItem
    number: int
    total: int


@dataclass(frozen=True, slots=True)
class DecideResult:
    result: DecisionResult
    form: Form
    outcome: Outcome | None  # None when shown again without a new decision


@dataclass(frozen=True, slots=True)
class DecideAnswer:
    """An answer stored: the question and the chosen option, then what comes next."""

    item: FormItem
    label: str
    next: DecideQuestion | DecideResult


@dataclass(frozen=True, slots=True)
class EntrySummary:
    id: int
    local_date: date
    preview: str
    chars: int


@dataclass(frozen=True, slots=True)
class Entry:
    id: int
    local_date: date
    phase: str | None
    phase_name: str | None
    prompt: str | None
    text: str


@dataclass(frozen=True, slots=True)
class Draft:
    entry_id: int
    chars: int
    prompt: Prompt | None
    first_part: bool = False  # the message just added was the entry's first


@dataclass(frozen=True, slots=True)
class JournalOverview:
    entries: tuple[EntrySummary, ...]
    total: int
    prompts: tuple[Prompt, ...]  # today's first
    draft: Draft | None


def preview(text: str) -> str:
    """The first words of an entry, for a list."""
    words = text.split()
    short = " ".join(words[:PREVIEW_WORDS])
    if len(short) > PREVIEW_CHARS:
        short = short[:PREVIEW_CHARS].rstrip()
    return short + ("…" if short != " ".join(words) else "")


# --- The service ---------------------------------------------------------------------------------


@dataclass(slots=True)
class _Loaded:
    profile: Profile
    state: ProgramState
    answers: dict[str, dict[str, str]]  # form → item → value
    today: date


DECISION_GOALS = {"try_again": Goal.GET_BACK, "let_go": Goal.MOVE_ON, "not_sure": Goal.UNSURE}


def story_goal(phase: str | None, decision: str | None, stated: Goal | None) -> Goal | None:
    """The goal that agrees with where the person is: moving on once the program is on the
    move-on step, else what the decision step concluded, else what they said at the intake."""
    if phase == MOVE_ON:
        return Goal.MOVE_ON
    if decision in DECISION_GOALS:
        return DECISION_GOALS[decision]
    return stated


class ProgramService:
    def __init__(
        self,
        db: Database,
        content: Content,
        clock: Clock,
        default_tz: str,
        program: Program | None = None,
    ) -> None:
        self.db = db
        self.content = content
        self.clock = clock
        self.default_tz = default_tz
        self.program = program or load_program()
        # Phases with their {days} and {shared} filled in, by (phase, days, shared): a handful
        # of phases and values, and filling every lesson of a phase costs more than the reads.
        self._filled: LRUCache[tuple[str, str, str], Phase] = LRUCache(maxsize=256)

    # --- the person's own path (content/paths.py) --------------------------------------------

    @retry_transient
    async def path(self, user_id: int) -> PathChoices:
        """What the person chose about their path (raises NotStarted before the intake)."""
        async with self.db.sessions() as session:
            profile = await q.get_profile(session, user_id)
            if profile is None or profile.intake_completed_at is None:
                raise NotStarted(user_id)
            return await read_choices(session, user_id)

    @retry_transient
    async def choose(self, user_id: int, choice: str, value: str) -> PathChoices:
        """Store one choice. The strict distance style sets the count to at least four weeks;
        limited contact needs something shared. A forged choice raises ValueError."""
        option = load_paths().choices[choice].option(value) if choice in CHOICES else None
        if option is None:
            raise ValueError(f"{choice}={value!r} is not a path choice")
        async with self.db.transaction() as session:
            profile = await q.get_profile(session, user_id)
            if profile is None or profile.intake_completed_at is None:
                raise NotStarted(user_id)
            if option.needs_shared and not profile.shared:
                raise ValueError(f"{choice}={value!r} needs something shared")
            await self._set(session, user_id, PATH_FORM, choice, value)
            if choice == "distance_style":
                profile.no_contact_days = no_contact_days_for(value, profile.no_contact_days)
            return await read_choices(session, user_id)

    @retry_transient
    async def ex_came_back(self, user_id: int) -> PathChoices:
        """They asked to talk or to get back together: the day is kept, and the comeback guide
        follows (the handler checks first that reconnecting is not blocked)."""
        async with self.db.transaction() as session:
            profile = await q.get_profile(session, user_id)
            if profile is None or profile.intake_completed_at is None:
                raise NotStarted(user_id)
            today = local_today(profile, self.clock.now(), self.default_tz)
            await self._set(session, user_id, PATH_FORM, CAME_BACK, today.isoformat())
            return await read_choices(session, user_id)

    # --- loading and storing ----------------------------------------------------------------

    async def _load(self, session: AsyncSession, user_id: int) -> _Loaded:
        profile = await q.get_profile(session, user_id)
        if profile is None or profile.phase is None or profile.intake_completed_at is None:
            raise NotStarted(user_id)
        rows = await session.execute(_ANSWERS, {"user_id": user_id})
        answers: dict[str, dict[str, str]] = {}
        for form, item, value in rows:
            answers.setdefault(form, {})[item] = value
        mine = answers.get(PROGRAM_FORM, {})
        checklists = [f.id for f in self.program.forms.values() if f.kind == "checklist"]
        state = ProgramState(
            phase=profile.phase,
            phase_started_on=profile.phase_started_on,
            no_contact_started_on=profile.no_contact_started_on,
            no_contact_days=profile.no_contact_days,
            # Abuse or danger from the ex, however it became known: never back towards them.
            abuse=await blocked_in(session, user_id, self.clock.now()),
            shared=profile.shared,
            ticked={
                form: checklist_ticks(form, answers.get(form, {}), self.program)
                for form in checklists
            },
            decision=mine.get("decision"),
            ex_answer=mine.get("ex_answer"),
            no_replies=int(mine.get("no_replies", "0") or 0),
            last_no_reply_on=_date(mine.get("last_no_reply_on")),
        )
        today = local_today(profile, self.clock.now(), self.default_tz)
        return _Loaded(profile, state, answers, today)

    async def _set(
        self, session: AsyncSession, user_id: int, form: str, item: str, value: str | None
    ) -> None:
        if value is None:
            await session.execute(
                delete(Answer).where(
                    Answer.user_id == user_id, Answer.form == form, Answer.item == item
                )
            )
            return
        await q.upsert(
            session,
            Answer,
            {
                "user_id": user_id,
                "form": form,
                "item": item,
                "value": value,
                "answered_at": self.clock.now(),
            },
            keys=("user_id", "form", "item"),
        )

    async def _store(self, session: AsyncSession, loaded: _Loaded, new: ProgramState) -> None:
        profile, old = loaded.profile, loaded.state
        user_id = profile.user_id
        columns_before = tuple(getattr(profile, c) for c in _STORED_COLUMNS)
        wrote = False
        profile.phase = new.phase
        profile.phase_started_on = new.phase_started_on
        if new.no_contact_started_on != profile.no_contact_started_on:
            profile.no_contact_started_on = new.no_contact_started_on
            profile.last_milestone_day = 0  # a new stretch: its milestones come again
        if new.abuse and profile.abuse is not AbuseAnswer.YES:
            # The try-again path closes for good, as after an abuse disclosure.
            profile.abuse = AbuseAnswer.YES
            profile.goal = Goal.MOVE_ON
        forms = set(old.ticked) | set(new.ticked)
        for form in sorted(forms):
            before, after = old.ticks(form), new.ticks(form)
            for item in sorted(before ^ after):
                value = TICKED if item in after else NOT_TICKED
                await self._set(session, user_id, form, item, value)
                wrote = True
        # One story: the goal every feature reads follows the program.
        profile.goal = story_goal(new.phase, new.decision, profile.goal)
        values = {
            "decision": new.decision,
            "ex_answer": new.ex_answer,
            "no_replies": str(new.no_replies) if new.no_replies else None,
            "last_no_reply_on": new.last_no_reply_on.isoformat() if new.last_no_reply_on else None,
        }
        stored = loaded.answers.get(PROGRAM_FORM, {})
        for item, value in values.items():
            if stored.get(item) != value:
                await self._set(session, user_id, PROGRAM_FORM, item, value)
                wrote = True
        # A look at the plan (/plan, /today, a check-in) that changed nothing writes nothing.
        if wrote or tuple(getattr(profile, c) for c in _STORED_COLUMNS) != columns_before:
            profile.updated_at = self.clock.now()
        loaded.state = new

    def _step(self, loaded: _Loaded) -> Step:
        state, today, profile = loaded.state, loaded.today, loaded.profile
        days, shared = str(state.no_contact_days), shared_phrase(state.shared)
        phase = self._phase_filled(state.phase or MOVE_ON, days, shared)
        gate = gate_status(state, today, self.program)
        following = (
            self._phase_filled(gate.next_phase, days, shared)
            if gate.next_phase is not None and gate.next_phase in self.program.phases
            else None
        )
        assert profile.intake_completed_at is not None
        started = local_today(profile, profile.intake_completed_at, self.default_tz)
        return Step(
            phase=phase,
            next_phase=following,
            state=state,
            gate=gate,
            today=today,
            day_in_phase=day_in_phase(state, today),
            day_of_plan=max(0, (today - started).days) + 1,
            streak=no_contact_streak(state, today),
            ex_name=profile.ex_name,
        )

    def _phase_filled(self, phase_id: str, days: str, shared: str) -> Phase:
        key = (phase_id, days, shared)
        filled = self._filled.get(key)
        if filled is None:
            filled = self._filled[key] = self.program.phase(phase_id).filled(
                days=days, shared=shared
            )
        return filled

    async def _apply(self, session: AsyncSession, loaded: _Loaded, event: Event) -> Outcome:
        """One event, then every gate that is already open (the person may have been away)."""
        first = next_phase(loaded.state, event, loaded.today, self.program)
        passed = [first.from_phase] if first.moved and first.from_phase else []
        last: Transition = first
        for _ in range(MAX_CATCH_UP):
            follow = next_phase(last.state, DayPassed(), loaded.today, self.program)
            if not follow.moved:
                break
            if follow.from_phase:
                passed.append(follow.from_phase)
            last = follow
        await self._store(session, loaded, last.state)
        offer = first.offer_move_on or last.offer_move_on
        choices = choices_from(loaded.answers.get(PATH_FORM, {}))
        return Outcome(first.reason_id, tuple(passed), offer, self._step(loaded), choices)

    async def _event(self, user_id: int, event: Event) -> Outcome:
        async with self.db.transaction() as session:
            loaded = await self._load(session, user_id)
            return await self._apply(session, loaded, event)

    # --- where the person is -----------------------------------------------------------------

    @retry_transient
    async def check(self, user_id: int) -> Outcome:
        """Evaluate the gate (a day passed): /today, /phase and every finished check-in."""
        return await self._event(user_id, DayPassed())

    @retry_transient
    async def today(self, user_id: int) -> tuple[Outcome, Lesson]:
        """The gate evaluated, then today's lesson (one idea, one small action, sources)."""
        outcome = await self.check(user_id)
        lesson = daily_lesson(outcome.step.state, outcome.step.today, self.program)
        # A lesson that depends on the person's own choice follows it (content/paths.yaml).
        chosen = outcome.choices
        variant = load_paths().lesson_for(
            lesson.id,
            {"reply_strictness": chosen.reply_strictness, "distance_style": chosen.distance_style},
        )
        if variant is not None:
            lesson = replace(
                lesson, idea=variant.idea, action=variant.action, sources=variant.sources
            )
        return outcome, lesson

    @retry_transient
    async def slipped(self, user_id: int) -> Outcome | None:
        """The person reached out (the check-in already restarted the count): tell the program,
        once a day. None when it was already told today."""
        async with self.db.transaction() as session:
            loaded = await self._load(session, user_id)
            if loaded.answers.get(PROGRAM_FORM, {}).get("last_slip_on") == loaded.today.isoformat():
                return None
            await self._set(
                session, user_id, PROGRAM_FORM, "last_slip_on", loaded.today.isoformat()
            )
            return await self._apply(session, loaded, Slipped())

    @retry_transient
    async def move_on(self, user_id: int) -> Outcome:
        """The person chose to let go and move on (after confirming)."""
        return await self._event(user_id, ChoseMoveOn())

    @retry_transient
    async def ex_replied(self, user_id: int, kind: str) -> Outcome:
        """Their answer to your message: none | friendly | no | yes. Only while back in touch."""
        async with self.db.transaction() as session:
            loaded = await self._load(session, user_id)
            phase = self.program.phase(loaded.state.phase or MOVE_ON)
            if phase.contact != "open" or loaded.state.abuse:
                raise NotNow(kind)
            try:
                event = ExReplied(kind)
            except ValueError:
                raise NotNow(kind) from None
            return await self._apply(session, loaded, event)

    # --- checklists ------------------------------------------------------------------------

    def _checklist_form(self, form_id: str) -> Form:
        form = self.program.forms.get(form_id)
        if form is None or form.kind != "checklist":
            raise NotNow(form_id)
        return form

    def _checklist(self, form: Form, step: Step) -> Checklist:
        ticks = step.state.ticks(form.id)
        complete = step.streak >= step.state.no_contact_days
        items = tuple(
            ChecklistItem(item, complete if item.auto else item.id in ticks, item.auto is not None)
            for item in form.items
        )
        return Checklist(form, items, step)

    @retry_transient
    async def checklist(self, user_id: int, form_id: str) -> Checklist:
        form = self._checklist_form(form_id)
        async with self.db.sessions() as session:
            loaded = await self._load(session, user_id)
        step = self._step(loaded)
        if step.moving_on:
            raise NotNow(form_id)  # these lists lead back towards them: not on this path
        return self._checklist(form, step)

    @retry_transient
    async def tick(
        self, user_id: int, form_id: str, item_id: str, ticked: bool
    ) -> tuple[Outcome, Checklist]:
        """Tick (or untick) one item by hand. Setting a value, not flipping it, so a double tap
        changes nothing."""
        form = self._checklist_form(form_id)
        item = form.item(item_id)
        if item is None or item.auto is not None:
            raise NotNow(item_id)
        async with self.db.transaction() as session:
            loaded = await self._load(session, user_id)
            if loaded.state.phase == MOVE_ON:
                raise NotNow(form_id)
            outcome = await self._apply(session, loaded, _Ticked(form.id, item.id, ticked))
        return outcome, self._checklist(form, outcome.step)

    # --- the decision step -----------------------------------------------------------------

    def _decide_form(self) -> Form:
        return self.program.form(DECIDE_FORM)

    def _next_question(self, answers: Mapping[str, str]) -> DecideQuestion | None:
        form = self._decide_form()
        for number, item in enumerate(form.items, start=1):
            if item.option(answers.get(item.id)) is None:
                return DecideQuestion(item, number, len(form.items))
        return None

    async def _decide_loaded(self, session: AsyncSession, user_id: int) -> _Loaded:
        loaded = await self._load(session, user_id)
        if loaded.state.phase != DECIDE_FORM or loaded.state.abuse:
            raise NotNow(DECIDE_FORM)
        return loaded

    @retry_transient
    async def decide(self, user_id: int, *, again: bool = False) -> DecideQuestion | DecideResult:
        """Begin (or pick up) the decision step: the next question, or the result when every
        question is answered. `again` clears the answers and starts over."""
        async with self.db.transaction() as session:
            loaded = await self._decide_loaded(session, user_id)
            answers = loaded.answers.get(DECIDE_FORM, {})
            if again:
                await session.execute(
                    delete(Answer).where(Answer.user_id == user_id, Answer.form == DECIDE_FORM)
                )
                answers = {}
            result = score_decision(answers, self.program, DECIDE_FORM)
            question = self._next_question(answers)
            if question is not None and not result.let_go_signs:
                return question
            return DecideResult(result, self._decide_form(), None)

    @retry_transient
    async def decide_answer(self, user_id: int, item_id: str, value: str) -> DecideAnswer:
        """Store one answer; then the next question, or the honest result and what it does."""
        form = self._decide_form()
        item = form.item(item_id)
        option = item.option(value) if item is not None else None
        if item is None or option is None:
            raise NotNow(item_id)
        async with self.db.transaction() as session:
            loaded = await self._decide_loaded(session, user_id)
            answers = dict(loaded.answers.get(DECIDE_FORM, {}))
            if answers.get(item.id) == value:
                raise NotNow(item_id)  # the same tap again: nothing new to store or to say
            await self._set(session, user_id, DECIDE_FORM, item.id, value)
            answers[item.id] = value
            result = score_decision(answers, self.program, DECIDE_FORM)
            question = self._next_question(answers)
            # A let-go sign (abuse, cheating or lying that kept happening) outweighs everything
            # still unasked: the result comes now, without more questions.
            if question is not None and not result.let_go_signs:
                return DecideAnswer(item, option.label, question)
            outcome = None
            if result.outcome != "incomplete":
                event = DecisionMade(result.outcome, result.closes_reconcile_path)
                outcome = await self._apply(session, loaded, event)
            return DecideAnswer(item, option.label, DecideResult(result, form, outcome))

    # --- the journal -----------------------------------------------------------------------

    async def _draft(self, session: AsyncSession, user_id: int) -> JournalEntry | None:
        marker = await session.get(Answer, (user_id, JOURNAL_FORM, "draft"))
        if marker is None:
            return None
        entry = await session.get(JournalEntry, int(marker.value))
        if entry is None or entry.user_id != user_id:
            await session.delete(marker)
            return None
        return entry

    def _prompt(self, prompt_id: str | None) -> Prompt | None:
        return next((p for p in self.program.prompts if p.id == prompt_id), None)

    def _draft_view(self, entry: JournalEntry, first_part: bool = False) -> Draft:
        return Draft(entry.id, len(entry.text), self._prompt(entry.prompt_id), first_part)

    async def _new_draft(
        self, session: AsyncSession, loaded: _Loaded, prompt_id: str | None
    ) -> JournalEntry:
        prompt = self._prompt(prompt_id)
        entry = JournalEntry(
            user_id=loaded.profile.user_id,
            created_at=self.clock.now(),
            local_date=loaded.today,
            phase=loaded.state.phase,
            prompt_id=prompt.id if prompt else None,
            text="",
        )
        session.add(entry)
        await session.flush()
        await self._set(session, loaded.profile.user_id, JOURNAL_FORM, "draft", str(entry.id))
        return entry

    def prompts_today(self, step: Step) -> tuple[Prompt, ...]:
        """The phase's prompts, today's first (they take turns, one a day)."""
        prompts = prompts_for(step.phase.id, self.program)
        if not prompts:
            return ()
        first = (step.day_in_phase - 1) % len(prompts)
        return prompts[first:] + prompts[:first]

    @retry_transient
    async def journal(self, user_id: int) -> JournalOverview:
        async with self.db.sessions() as session:
            loaded = await self._load(session, user_id)
            rows = (
                await session.scalars(
                    select(JournalEntry)
                    .where(JournalEntry.user_id == user_id)
                    .order_by(JournalEntry.created_at.desc(), JournalEntry.id.desc())
                    .limit(RECENT_ENTRIES + 1)
                )
            ).all()
            total = int(
                await session.scalar(
                    select(func.count())
                    .select_from(JournalEntry)
                    .where(JournalEntry.user_id == user_id)
                )
                or 0
            )
            draft = await self._draft(session, user_id)
        saved = [r for r in rows if draft is None or r.id != draft.id][:RECENT_ENTRIES]
        entries = tuple(
            EntrySummary(r.id, r.local_date, preview(r.text), len(r.text)) for r in saved
        )
        return JournalOverview(
            entries=entries,
            total=total - (1 if draft is not None else 0),
            prompts=self.prompts_today(self._step(loaded)),
            draft=self._draft_view(draft) if draft is not None else None,
        )

    @retry_transient
    async def start_entry(self, user_id: int, prompt_id: str | None) -> Draft:
        """Begin an entry (answering a prompt, or free). An entry already being written is
        picked up instead: nothing written is dropped."""
        async with self.db.transaction() as session:
            loaded = await self._load(session, user_id)
            draft = await self._draft(session, user_id)
            if draft is None:
                draft = await self._new_draft(session, loaded, prompt_id)
            return self._draft_view(draft)

    @retry_transient
    async def add_to_entry(self, user_id: int, text: str) -> Draft:
        """Append one message to the entry being written (Telegram splits a long paste into
        several messages: they are joined, line by line). Too long: EntryTooLong, unchanged."""
        async with self.db.transaction() as session:
            loaded = await self._load(session, user_id)
            draft = await self._draft(session, user_id)
            if draft is None:  # writing after the draft was saved elsewhere: a new one
                draft = await self._new_draft(session, loaded, None)
            first = not draft.text
            joined = text if first else f"{draft.text}\n{text}"
            if len(joined) > MAX_ENTRY_CHARS:
                raise EntryTooLong(len(draft.text))
            draft.text = joined
            return self._draft_view(draft, first)

    @retry_transient
    async def save_entry(self, user_id: int) -> Entry | None:
        """Keep the entry being written; None when there is none, or nothing was written."""
        async with self.db.transaction() as session:
            loaded = await self._load(session, user_id)
            draft = await self._draft(session, user_id)
            if draft is None or not draft.text.strip():
                return None
            await self._set(session, user_id, JOURNAL_FORM, "draft", None)
            draft.created_at = self.clock.now()
            draft.local_date = loaded.today
            return self._entry(draft)

    @retry_transient
    async def has_words(self, user_id: int) -> bool | None:
        """Whether an entry is being written (None: none) and has words in it."""
        async with self.db.sessions() as session:
            draft = await self._draft(session, user_id)
            return None if draft is None else bool(draft.text.strip())

    @retry_transient
    async def discard_entry(self, user_id: int) -> bool:
        """Let the entry being written go. False when there was none."""
        async with self.db.transaction() as session:
            draft = await self._draft(session, user_id)
            await self._set(session, user_id, JOURNAL_FORM, "draft", None)
            if draft is None:
                return False
            await session.delete(draft)
            return True

    @retry_transient
    async def entry(self, user_id: int, entry_id: int) -> Entry:
        async with self.db.sessions() as session:
            entry = await session.get(JournalEntry, entry_id)
            draft = await self._draft(session, user_id)
            if entry is None or entry.user_id != user_id or (draft and draft.id == entry.id):
                raise NotNow(entry_id)
            return self._entry(entry)

    def _entry(self, entry: JournalEntry) -> Entry:
        prompt = self._prompt(entry.prompt_id)
        phase = self.program.phases.get(entry.phase or "")
        return Entry(
            id=entry.id,
            local_date=entry.local_date,
            phase=entry.phase,
            phase_name=phase.name if phase else None,
            prompt=prompt.text if prompt else None,
            text=entry.text,
        )

    # --- for the Telegram layer ------------------------------------------------------------

    def phase(self, phase_id: str, step: Step) -> Phase:
        state = step.state
        values = {"days": str(state.no_contact_days), "shared": shared_phrase(state.shared)}
        return self.program.phase(phase_id).filled(**values)

    def has_reached(self, step: Step, phase_id: str) -> bool:
        """Whether the person is at `phase_id` or past it on the way back together."""
        order = list(self.program.phases)
        return not step.moving_on and order.index(step.phase.id) >= order.index(phase_id)

    @staticmethod
    def slip_restarts_the_count(slip: Outcome | None) -> bool:
        """Whether a slip restarted a no-contact count the current step still waits on (worth
        saying after the check-in; otherwise the slip changes nothing about the step)."""
        return (
            slip is not None
            and slip.reason_id == "slip_restarts_no_contact"
            and slip.step.gate.requirement("no_contact_days") is not None
        )

    def reason_sources(self, reason_id: str) -> tuple[str, ...]:
        """The articles a piece of advice comes from (the lesson it restates)."""
        lesson_id = REASON_LESSONS.get(reason_id)
        for phase in self.program.phases.values():
            for lesson in phase.lessons:
                if lesson.id == lesson_id:
                    return lesson.sources
        return ()

    def form_sources(self, form: Form, items: Iterable[str] = ()) -> tuple[str, ...]:
        """A form's sources, then those of the named items, each once."""
        ids: list[str] = list(form.sources)
        for item_id in items:
            item = form.item(item_id)
            ids.extend(item.sources if item else ())
        return tuple(dict.fromkeys(ids))


def _date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None
