"""Today's free-text checks: typed words that start a flow ("should I text her?", "he texted
me", "I'm about to text him"). Pure functions over the text; `intent_of` names the intent the
routing table dispatches on (the intent engine in content/ can take its place name for name).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.db import Database
from bot.db import queries as q
from bot.db.models import Answer, BreathingExercise, JournalEntry, Profile
from bot.services.checkin import CheckinService, Streak
from bot.services.intake import local_today
from bot.services.program import (
    DECIDE_FORM,
    MAX_ENTRY_CHARS,
    PROGRAM_FORM,
    NotNow,
    NotStarted,
    Outcome,
    ProgramService,
)
from bot.services.retry import retry_transient
from content.program import MOVE_ON, START, DayPassed
from content.understand import breathing_steps
from content.vocab import Goal

_CONTACT = (
    r"(?:text|txt|message|msg|call|ring|phone|dm|email|e-mail|write to|write|contact|"
    r"reach out to|reach out|reply to|reply|answer|get in touch with|get in touch|talk to|"
    r"snap|facetime|whatsapp)"
)
_NOT_TO_ME = r"(?!\s+(?:you|u)\b)"
_SHOULD_I = re.compile(
    rf"\b(?:should|can|could|may|shall|do|must)\s+i\s+(?:just\s+|still\s+|even\s+)?"
    rf"{_CONTACT}\b{_NOT_TO_ME}"
    rf"|\b(?:is it|would it be|would it be a|is it a)\s+(?:ok|okay|alright|all right|fine|"
    rf"good idea|bad idea|wrong|bad|a good idea|a bad idea)\s+(?:to|if i)\s+"
    rf"(?:just\s+)?{_CONTACT}\b{_NOT_TO_ME}"
    rf"|\bi\s+(?:really\s+|so\s+)?(?:want\s+to|need\s+to|have\s+to|wanna)\s+{_CONTACT}\s+"
    rf"(?:him|her|them|my ex)\b"
)
_CONTACTED = (
    r"(?:texted|txted|messaged|called|rang|phoned|wrote to|wrote|dm'?e?d|emailed|contacted|"
    r"reached out to|replied to|sent)"
)
_EX = ("he", "she", "they", "my ex", "ex", "my ex-boyfriend", "my ex-girlfriend", "my ex-partner")


def _normalise(text: str) -> str:
    return " ".join(text.lower().replace("’", "'").split())


def asks_should_i(text: str) -> bool:
    return _SHOULD_I.search(_normalise(text)) is not None


def says_they_texted(text: str, ex_name: str | None = None) -> bool:
    """'He texted me', 'my ex just messaged me', 'Alex called me' (with Alex their ex)."""
    who = [re.escape(w) for w in _EX]
    if ex_name:
        who.append(re.escape(_normalise(ex_name)))
    pattern = (
        rf"(?<![\w-])(?:{'|'.join(who)})\s+(?:just\s+|finally\s+|has\s+|have\s+)?"
        rf"{_CONTACTED}\s+me\b"
    )
    return re.search(pattern, _normalise(text)) is not None


# --- "I'm about to text her", "I want to text him so bad" -----------------------------------

_PULL_CONTACT = (
    r"(?:text|txt|message|msg|call|ring|phone|dm|snap|snapchat|whatsapp|email|e-mail|write to|"
    r"contact|reach out to|texting|messaging|calling|writing to|contacting|reaching out to)"
)
_WHO = ("him", "her", "them", "my ex", "ex", "my ex-boyfriend", "my ex-girlfriend")
_PULLS = (
    # I'm about to / going to / so close to / tempted to text her
    r"\bi(?:'m| am|m)?\s+(?:really\s+|so\s+|just\s+)?(?:about to|going to|gonna|tempted to|"
    r"dying to|itching to|desperate to|(?:so |this )?close to|on the verge of)\s+{contact}\s+"
    r"{who}\b",
    # I want to / wanna / need to / have to text him (so bad)
    r"\bi\s+(?:really\s+|so\s+|just\s+|kinda\s+|kind of\s+|badly\s+)?(?:want|wanna|need|have)\s+"
    r"(?:to\s+)?{contact}\s+{who}\b",
    # the urge to text them
    r"\b(?:urge|urges|temptation|itch)\s+to\s+{contact}\s+{who}\b",
    # I can't stop myself from texting him
    r"\bcan't stop (?:myself )?(?:from )?(?:wanting to )?{contact}\s+{who}\b",
    # my thumb is on the send button
    r"\bmy (?:thumb|finger) is (?:on|over|hovering over) (?:the )?send\b",
)


def wants_to_text(text: str, ex_name: str | None = None) -> bool:
    """Typed words that say "I want to reach out to my ex", not "should I?" or "they did"."""
    who = [re.escape(w) for w in _WHO]
    if ex_name:
        who.append(re.escape(_normalise(ex_name)))
    target = f"(?:{'|'.join(sorted(who, key=len, reverse=True))})"
    typed = _normalise(text)
    return any(
        re.search(p.format(contact=_PULL_CONTACT, who=target), typed) is not None for p in _PULLS
    )


def intent_of(text: str, ex_name: str | None = None) -> str | None:
    """The intent of a typed message, or None when none of today's checks recognise it. The
    pull to reach out comes before "should I?": "I want to text him" is an urge."""
    if wants_to_text(text, ex_name):
        return "urge"
    if asks_should_i(text):
        return "should_i_text"
    if says_they_texted(text, ex_name):
        return "they_texted"
    return None


# --- typed check-in commands: "pause for 2 weeks", "stop", "resume" ----------------------------

_STOP = frozenset({"stop", "stop check-ins", "stop checkins", "stop the check-ins"})
_RESUME = frozenset({"resume", "resume check-ins", "resume checkins", "start check-ins again"})
_PAUSE = re.compile(r"^(?:please )?pause(?: check-?ins)?(?: for)? (\d{1,2}|a|one) (day|week)s?$")
# The bot's own cap on a typed pause: two months, so check-ins are never forgotten for good.
MAX_PAUSE_DAYS = 60


def checkin_command(text: str) -> tuple[str, int] | None:
    """("pause", days), ("stop", 0) or ("resume", 0) for a typed check-in command; None for
    anything else."""
    typed = " ".join(text.lower().split()).strip(".!")
    match = _PAUSE.match(typed)
    if match:
        count = 1 if match.group(1) in ("a", "one") else int(match.group(1))
        days = count * (7 if match.group(2) == "week" else 1)
        return "pause", max(1, min(MAX_PAUSE_DAYS, days))
    if typed in _STOP:
        return "stop", 0
    if typed in _RESUME:
        return "resume", 0
    return None


# --- answering what people write: slips, goal changes, undo, the journal offer -----------------
#
# One-way choices (moving on, trying again, stopping check-ins) can be undone on the same local
# day. What undo needs is kept in the answers table under UNDO_FORM, one short value per item,
# so a restart or a second process sees the same thing.

UNDO_FORM = "undo"
UNDO_ACTIONS = ("move_on", "try_again", "stop_checkins", "decision")


@dataclass(frozen=True, slots=True)
class SlipTold:
    """A slip told in words and confirmed: the streak after it, and the program's word."""

    counted: bool  # False when contact is the plan (back in touch) or no count runs
    streak: Streak
    outcome: Outcome | None


# A breathing step found later than this (a restart, a process gone, a long outage) is not
# sent late: the minute is over, and only its closing words go out.
BREATH_GRACE = timedelta(seconds=30)


@dataclass(frozen=True, slots=True)
class BreathDue:
    """A breathing step this process has taken and must send: `next_at`, when the one after it
    is due (None when this is the last)."""

    user_id: int
    chat_id: int
    text_id: str
    last: bool
    next_at: datetime | None


class ListeningService:
    """Use cases behind free-text answers. The slip rule and the streak are the check-in
    service's; the program's moves are the program service's."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        default_tz: str,
        checkins: CheckinService,
        program: ProgramService,
    ) -> None:
        self.db = db
        self.clock = clock
        self.default_tz = default_tz
        self.checkins = checkins
        self.program = program

    # --- "Breathe with me" --------------------------------------------------------------------

    @retry_transient
    async def start_breathing(self, user_id: int, chat_id: int) -> datetime | None:
        """A minute of breathing begins (its first step is sent by the caller): the rest is
        stored with its due times, replacing one already under way. Returns when the next
        step is due, or None when there is no next step."""
        steps, now = breathing_steps(), self.clock.now()
        async with self.db.transaction() as session:
            await session.execute(
                delete(BreathingExercise).where(BreathingExercise.user_id == user_id)
            )
            if len(steps) < 2:
                return None
            due = now + timedelta(seconds=steps[1].at_seconds - steps[0].at_seconds)
            session.add(
                BreathingExercise(
                    user_id=user_id, chat_id=chat_id, step=1, due_at=due, started_at=now
                )
            )
        return due

    @retry_transient
    async def take_due_breaths(self, limit: int = 100) -> list[BreathDue]:
        """Every breathing step due now, each taken by this process alone: the row moves on to
        the next step in one UPDATE that names the step it read, so another process reading
        the same row takes nothing. A step found too late is skipped for the closing one."""
        steps, now = breathing_steps(), self.clock.now()
        last = len(steps) - 1
        async with self.db.sessions() as session:
            rows = (
                await session.execute(
                    select(
                        BreathingExercise.user_id,
                        BreathingExercise.chat_id,
                        BreathingExercise.step,
                        BreathingExercise.due_at,
                        BreathingExercise.started_at,
                    )
                    .where(BreathingExercise.due_at <= now)
                    .order_by(BreathingExercise.due_at)
                    .limit(limit)
                )
            ).all()
        taken: list[BreathDue] = []
        for user_id, chat_id, step, due_at, started_at in rows:
            send = last if now - due_at > BREATH_GRACE else min(step, last)
            mine = (BreathingExercise.user_id == user_id, BreathingExercise.step == step)
            next_at = None
            async with self.db.transaction() as session:
                if send >= last:
                    result = await session.execute(delete(BreathingExercise).where(*mine))
                else:
                    next_at = started_at + timedelta(seconds=steps[send + 1].at_seconds)
                    result = await session.execute(
                        update(BreathingExercise).where(*mine).values(step=send + 1, due_at=next_at)
                    )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                text_id = steps[send].text_id
                taken.append(BreathDue(user_id, chat_id, text_id, send >= last, next_at))
        return taken

    @retry_transient
    async def breathing_under_way(self, user_id: int) -> bool:
        async with self.db.sessions() as session:
            found = await session.scalar(
                select(func.count())
                .select_from(BreathingExercise)
                .where(BreathingExercise.user_id == user_id)
            )
        return bool(found)

    # --- a slip told in words ---------------------------------------------------------------

    @retry_transient
    async def record_slip(self, user_id: int) -> SlipTold | None:
        """They reached out to their ex: the same rule as a check-in answer "I reached out,
        about something else" (totals kept, the count starts again). None: not set up."""
        now = self.clock.now()
        async with self.db.transaction() as session:
            profile = await q.get_profile(session, user_id)
            if profile is None or profile.intake_completed_at is None:
                return None
            counted = await self.checkins.record_contact(
                session, profile, initiated_by="me", topic="other", now=now
            )
            today = local_today(profile, now, self.default_tz)
            streak = await self.checkins.streak(session, profile, today, count_urges=False)
        outcome = await self.program.slipped(user_id) if counted else None
        return SlipTold(counted, streak, outcome)

    @retry_transient
    async def streak(self, user_id: int) -> Streak | None:
        """The running and total no-contact days, and the restarts (None: not set up)."""
        async with self.db.sessions() as session:
            profile = await q.get_profile(session, user_id)
            if profile is None or profile.intake_completed_at is None:
                return None
            today = local_today(profile, self.clock.now(), self.default_tz)
            return await self.checkins.streak(session, profile, today, count_urges=False)

    # --- a long message kept in the journal, only when asked ----------------------------------

    @retry_transient
    async def save_to_journal(self, user_id: int, text: str) -> bool:
        """Keep what they wrote as a journal entry of its own (an entry being written elsewhere
        is left alone). False: not set up, or nothing to keep."""
        if not text.strip():
            return False
        now = self.clock.now()
        async with self.db.transaction() as session:
            profile = await q.get_profile(session, user_id)
            if profile is None or profile.intake_completed_at is None:
                return False
            session.add(
                JournalEntry(
                    user_id=user_id,
                    created_at=now,
                    local_date=local_today(profile, now, self.default_tz),
                    phase=profile.phase,
                    prompt_id=None,
                    text=text[:MAX_ENTRY_CHARS],
                )
            )
            return True

    # --- changing the goal ----------------------------------------------------------------

    async def _remember(
        self, session: AsyncSession, profile: Profile, action: str, item: str = ""
    ) -> None:
        """Keep what the plan looked like before a one-way choice, for undo until midnight.
        `item`: the decision question whose answer decided (taken back with the choice)."""
        decision = await session.get(Answer, (profile.user_id, PROGRAM_FORM, "decision"))
        today = local_today(profile, self.clock.now(), self.default_tz)
        values = {
            "action": action,
            "on": today.isoformat(),
            "phase": profile.phase or "",
            "phase_started_on": _iso(profile.phase_started_on),
            "no_contact_started_on": _iso(profile.no_contact_started_on),
            "last_milestone_day": str(profile.last_milestone_day or 0),
            "goal": str(profile.goal) if profile.goal else "",
            "decision": decision.value if decision is not None else "",
            "item": item,
        }
        await session.execute(
            delete(Answer).where(Answer.user_id == profile.user_id, Answer.form == UNDO_FORM)
        )
        now = self.clock.now()
        for item, value in values.items():
            session.add(
                Answer(user_id=profile.user_id, form=UNDO_FORM, item=item, value=value,
                       answered_at=now)
            )  # fmt: skip

    @retry_transient
    async def move_on(self, user_id: int) -> Outcome:
        """Move on now (after a confirming tap); undoable today."""
        async with self.db.transaction() as session:
            profile = await q.get_profile(session, user_id)
            if profile is None or profile.phase is None or profile.intake_completed_at is None:
                raise NotStarted(user_id)
            if profile.phase != MOVE_ON:
                await self._remember(session, profile, "move_on")
        return await self.program.move_on(user_id)

    @retry_transient
    async def try_again(self, user_id: int) -> Outcome:
        """Back onto the path towards trying again, from wherever they are: the plan starts
        over from its first step and passes at once every step already earned (the no-contact
        count is kept). The caller checks first that reconnecting is not ruled out."""
        async with self.db.transaction() as session:
            loaded = await self.program._load(session, user_id)
            profile = loaded.profile
            if loaded.state.abuse:
                raise NotNow("try_again")
            await self._remember(session, profile, "try_again")
            profile.goal = Goal.GET_BACK
            restart = replace(
                loaded.state,
                phase=START,
                phase_started_on=loaded.today,
                decision=None,
                ex_answer=None,
                no_replies=0,
                last_no_reply_on=None,
            )
            await self.program._store(session, loaded, restart)
            return await self.program._apply(session, loaded, DayPassed())

    @retry_transient
    async def remember_decision(self, user_id: int, item_id: str, value: str) -> None:
        """Before an answer to the decision step is stored: what undo would restore, should
        this answer be the one that decides. A repeated tap (the same answer) keeps what is
        remembered."""
        async with self.db.transaction() as session:
            profile = await q.get_profile(session, user_id)
            if profile is None or profile.phase is None:
                return
            stored = await session.get(Answer, (user_id, DECIDE_FORM, item_id))
            if stored is not None and stored.value == value:
                return
            await self._remember(session, profile, "decision", item_id)

    @retry_transient
    async def stop_checkins(self, user_id: int) -> None:
        """Stop the daily check-ins (after a confirming tap); undoable today."""
        async with self.db.transaction() as session:
            profile = await q.get_profile(session, user_id)
            if profile is not None:
                await self._remember(session, profile, "stop_checkins")
        await self.checkins.stop(user_id)

    @retry_transient
    async def undo(self, user_id: int, action: str) -> bool:
        """Take back today's one-way choice. False when there is nothing to undo: another
        choice came after it, or the local day it was made on is over."""
        async with self.db.transaction() as session:
            rows = await session.execute(
                select(Answer.item, Answer.value).where(
                    Answer.user_id == user_id, Answer.form == UNDO_FORM
                )
            )
            kept = dict(rows.all())
            profile = await q.get_profile(session, user_id)
            if profile is None or kept.get("action") != action:
                return False
            today = local_today(profile, self.clock.now(), self.default_tz)
            if kept.get("on") != today.isoformat():
                return False
            await session.execute(
                delete(Answer).where(Answer.user_id == user_id, Answer.form == UNDO_FORM)
            )
            if action == "stop_checkins":
                resume = True
            else:
                resume = False
                loaded = await self.program._load(session, user_id)
                before = replace(
                    loaded.state,
                    phase=kept.get("phase") or loaded.state.phase,
                    phase_started_on=_day(kept.get("phase_started_on")),
                    no_contact_started_on=_day(kept.get("no_contact_started_on")),
                    decision=kept.get("decision") or None,
                )
                profile.goal = Goal(kept["goal"]) if kept.get("goal") else None
                await self.program._store(session, loaded, before)
                if action == "decision" and kept.get("item"):
                    # The deciding answer goes too: the step waits on that question again.
                    await session.execute(
                        delete(Answer).where(
                            Answer.user_id == user_id,
                            Answer.form == DECIDE_FORM,
                            Answer.item == kept["item"],
                        )
                    )
                profile.last_milestone_day = int(kept.get("last_milestone_day") or 0)
        if resume:
            await self.checkins.resume(user_id)
        return True

    @retry_transient
    async def undo_open(self, user_id: int, action: str) -> bool:
        """Whether `action` can still be undone (an Undo button is worth showing)."""
        async with self.db.sessions() as session:
            kept = await session.get(Answer, (user_id, UNDO_FORM, "action"))
            on = await session.get(Answer, (user_id, UNDO_FORM, "on"))
            profile = await q.get_profile(session, user_id)
            if kept is None or on is None or profile is None or kept.value != action:
                return False
            return on.value == local_today(profile, self.clock.now(), self.default_tz).isoformat()


def _iso(value: date | None) -> str:
    return value.isoformat() if value else ""


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None
