"""Answering what people write in their own words: feelings (and long outpourings), a slip told
in words, a change of goal, questions about their own program, small talk, "Breathe with me",
and the same-day undo of a one-way choice.

The routing table sends each understood intent here (handlers/__init__.py, INTENTS). Each
answer is short, warm and ends in buttons that fit; nothing a person writes is stored unless
they tap to keep it (a long message waits only in the awaited answer's data until then).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application

from bot.context import CoachContext
from bot.services.conversation import Expected
from bot.services.listening import UNDO_ACTIONS
from bot.services.program import NotNow, NotStarted, Outcome, Step
from content.loader import source_names
from content.understand import (
    EXPECT_FEELING,
    Understanding,
    asks_if_bot,
    breathing_steps,
    feeling_reply,
    outpouring_reply,
    understand,
)
from handlers.callbacks import decode
from handlers.replies import (
    Button,
    StaleButton,
    Then,
    begin_button,
    button,
    edit,
    ex_label,
    for_distance,
    keyboard,
    main_menu,
    not_set_up,
    reply,
    settle,
)

AREA = "listen"
FEELING = "listen.feeling"  # the bot asked how they feel: the answer is read as a mood
SAVE = "listen.save"  # data: {"text": the long message, until they tap Save or Not now}

# Where each feeling button leads: (area, action) of the feature that answers it.
FEELING_TARGETS: dict[str, tuple[str, str]] = {
    "journal": ("journal", "write"),
    "should_i_text": ("advice", "start"),
    "urge": ("urge", "start"),
    "breathe": (AREA, "breathe"),
}


def _uid(update: Update) -> int:
    assert update.effective_user is not None
    return update.effective_user.id


def _text(update: Update) -> str:
    message = update.effective_message
    return (message.text or "") if message is not None else ""


def _seed(update: Update) -> int:
    message = update.effective_message
    return message.message_id if message is not None else 0


async def _set_up(update: Update, context: CoachContext) -> Any:
    profile = await context.services.intake.profile(_uid(update))
    return profile if profile is not None and profile.set_up else None


def understood(update: Update, expecting: str | None = None) -> Understanding:
    return understand(_text(update), expecting=expecting)


# --- feelings ----------------------------------------------------------------------------------


def feeling_markup(context: CoachContext, buttons: tuple[str, ...]) -> InlineKeyboardMarkup:
    texts = context.texts
    rows: list[list[Button]] = []
    for name in buttons:
        area, action = FEELING_TARGETS[name]
        rows.append([button(texts.render(f"listen.buttons.{name}"), area, action)])
    return keyboard(rows)


async def _offer_contact(context: CoachContext, user_id: int) -> bool:
    """Buttons about texting them only where reconnecting is not ruled out."""
    return not await context.services.safety.reconnection_blocked(user_id)


async def on_feeling(
    update: Update, context: CoachContext, expecting: str | None = None, *, contact: bool = True
) -> None:
    """A short reflection, one small thing to do from the articles with its source, and the
    buttons that fit. A long outpouring is answered as a whole, with an offer to keep it.
    `contact=False`: no button about texting the ex, whatever the person's path."""
    texts = context.texts
    heard = understood(update, expecting)
    set_up = await context.services.intake.is_set_up(_uid(update))
    offer = contact and set_up and await _offer_contact(context, _uid(update))
    if heard.long:
        await _outpouring(update, context, heard, offer, set_up)
        return
    answer = feeling_reply(heard.topic, _seed(update), offer_contact=offer)
    parts = [
        texts.render(answer.reflection_id),
        texts.render(answer.action_id),
        texts.render("listen.sources_line", sources=source_names(answer.sources)),
    ]
    markup = feeling_markup(context, answer.buttons) if set_up else begin_button(context)
    await reply(update, context, "\n\n".join(parts), markup)


async def on_heavy(update: Update, context: CoachContext) -> None:
    """A message that read as a risk, let through because the person has just said they are
    safe: heard like any feeling, with nothing about texting the ex."""
    await on_feeling(update, context, contact=False)


async def _outpouring(
    update: Update, context: CoachContext, heard: Understanding, offer: bool, set_up: bool
) -> None:
    texts = context.texts
    answer = outpouring_reply(heard, _seed(update), offer_contact=offer)
    parts = [texts.render(answer.ack_id), texts.render(answer.reply.reflection_id)]
    if answer.also_heard:
        names = " and ".join(texts.render(t) for t in answer.also_heard)
        parts.append(texts.render("listen.long.also_heard", topics=names))
    parts.append(texts.render(answer.reply.action_id))
    parts.append(texts.render("listen.sources_line", sources=source_names(answer.reply.sources)))
    markup = feeling_markup(context, answer.reply.buttons) if set_up else begin_button(context)
    await reply(update, context, "\n\n".join(parts), markup)
    if not set_up:
        return
    # Kept only in the awaited answer's data until they tap; then it becomes a journal entry.
    await context.services.conversation.expect(_uid(update), SAVE, {"text": _text(update)})
    await reply(update, context, texts.render(answer.save_offer_id), _save_markup(context))


def _save_markup(context: CoachContext) -> InlineKeyboardMarkup:
    texts = context.texts
    return keyboard([[button(texts.render("listen.buttons.save_journal"), AREA, "save"),
                      button(texts.render("listen.buttons.not_now"), AREA, "nosave")]])  # fmt: skip


async def ask_again(update: Update, context: CoachContext, expected: Expected, lead: str) -> bool:
    """After care: the offer to keep a long message in the journal, or the question how they
    feel after breathing, asked again. Returns whether it did."""
    texts = context.texts
    if expected.key == SAVE:
        text = texts.render("listen.long.save_again")
        await reply(update, context, f"{lead}\n\n{text}", _save_markup(context))
        return True
    if expected.key == FEELING:
        await reply(update, context, f"{lead}\n\n{texts.render('breathe.feel_again')}")
        return True
    return False


async def _save_tap(update: Update, context: CoachContext, keep: bool) -> None:
    query = update.callback_query
    assert query is not None
    await settle(query)
    conversation = context.services.conversation
    expected = await conversation.expected(_uid(update))
    if expected is None or expected.key != SAVE:
        raise_stale()
    assert expected is not None
    await conversation.clear(_uid(update), SAVE)
    text = str(expected.data.get("text") or "")
    if keep and await context.services.listening.save_to_journal(_uid(update), text):
        await edit(query, context.texts.render("listen.long.saved"))
    else:
        await edit(query, context.texts.render("listen.long.not_saved"))


def raise_stale() -> None:
    """A button that no longer fits (already answered, or from an old message)."""
    raise StaleButton


# --- breathing -----------------------------------------------------------------------------------


BREATH_JOB = "breathe"  # each exercise's next step, in the process that holds it
CATCH_UP_JOB = "breathing-catch-up"
CATCH_UP_SECONDS = 10.0  # how often every process finishes steps no process is timing


async def breathe(update: Update, context: CoachContext) -> None:
    """One minute of paced breathing: the first message now, the rest stored with their due
    times (bot/services/listening.py) and sent by the job queue as each falls due; nothing
    waits in the handler. The last one asks how they feel now."""
    query = update.callback_query
    if query is not None:
        await settle(query)
    chat = update.effective_chat
    assert chat is not None
    steps = breathing_steps()
    await reply(update, context, context.texts.render(steps[0].text_id))
    due = await context.services.listening.start_breathing(_uid(update), chat.id)
    if due is not None:
        _time_next(context, _uid(update), due)


def _time_next(context: CoachContext, user_id: int, due: datetime) -> None:
    """Wake this process when the person's next step falls due (the stored row, not this job,
    is what holds the exercise: if this process stops, another finishes it)."""
    queue = context.job_queue
    if queue is None:  # pragma: no cover - the job-queue extra is a dependency
        return
    wait = max(0.0, (due - context.services.listening.clock.now()).total_seconds())
    queue.run_once(breath_step, when=wait, name=f"{BREATH_JOB}:{user_id}:{due.timestamp()}")


async def breath_step(context: CoachContext) -> None:
    """Send every breathing step that is due and that this process takes (a step is taken
    once, whichever process comes first), then time the next ones."""
    listening, texts = context.services.listening, context.texts
    for due in await listening.take_due_breaths():
        await context.bot.send_message(due.chat_id, texts.render(due.text_id))
        if due.last:
            await context.services.conversation.expect(due.user_id, FEELING)
        elif due.next_at is not None and not _timed(context, due.user_id):
            _time_next(context, due.user_id, due.next_at)


def _timed(context: CoachContext, user_id: int) -> bool:
    """Whether this process already times another step of the person's exercise (the job
    running now has done its work and does not count)."""
    queue, running = context.job_queue, context.job
    prefix = f"{BREATH_JOB}:{user_id}:"
    return queue is not None and any(
        (j.name or "").startswith(prefix) and (running is None or j.name != running.name)
        for j in queue.jobs()
    )


def install(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Every process finishes breathing steps left by a restart or another process."""
    if app.job_queue is not None:
        app.job_queue.run_repeating(
            breath_step, interval=CATCH_UP_SECONDS, first=CATCH_UP_SECONDS, name=CATCH_UP_JOB
        )


async def on_answer(update: Update, context: CoachContext, expected: Expected) -> Then | None:
    """The awaited answers of this feature. After "how do you feel now?" the wait ends and the
    text is read as a mood by the router; a long message waiting to be saved stays waiting
    while they go on writing (other answers take their usual route)."""
    if expected.key == FEELING:
        await context.services.conversation.clear(_uid(update), FEELING)
    return Then.UNHANDLED


def expecting_of(expected: Expected | None) -> str | None:
    """What `understand` should expect, from what the bot was waiting for."""
    return EXPECT_FEELING if expected is not None and expected.key == FEELING else None


# --- a slip told in words ------------------------------------------------------------------------


async def on_slip(update: Update, context: CoachContext) -> None:
    """One confirming tap before the count changes."""
    profile = await _set_up(update, context)
    if profile is None:
        await not_set_up(update, context)
        return
    texts = context.texts
    kind = understood(update).slip_kind or "any"
    ask = texts.render(f"heard.slip.ask.{kind}", ex=ex_label(texts, profile.ex_name))
    markup = keyboard([[button(texts.render("heard.slip.confirm"), AREA, "slip_yes"),
                        button(texts.render("heard.slip.deny"), AREA, "slip_no")]])  # fmt: skip
    await reply(update, context, ask, markup)


async def _slip_confirmed(update: Update, context: CoachContext) -> None:
    query = update.callback_query
    assert query is not None
    await settle(query)
    told = await context.services.listening.record_slip(_uid(update))
    texts = context.texts
    if told is None:
        await not_set_up(update, context)
        return
    if told.counted:
        parts = [texts.render("checkin.slipped", total=told.streak.total)]
        outcome = told.outcome
        if outcome is not None and context.services.program.slip_restarts_the_count(outcome):
            need = outcome.step.gate.requirement("no_contact_days")
            needed = need.needed if need is not None else outcome.step.state.no_contact_days
            parts.append(texts.render(f"program.reason.{outcome.reason_id}", needed=needed))
        text = "\n\n".join(parts)
    elif told.streak.length and told.streak.current == 0 and told.streak.total == 0:
        text = texts.render("heard.slip.no_count")
    else:
        text = texts.render("heard.slip.not_counted")
    await edit(query, text)


# --- changing the goal ---------------------------------------------------------------------------


async def on_change_goal(update: Update, context: CoachContext) -> None:
    """Move on now, or try again: asked once with a tap, never changed silently."""
    profile = await _set_up(update, context)
    if profile is None:
        await not_set_up(update, context)
        return
    texts = context.texts
    goal = understood(update).goal
    try:
        step = (await context.services.program.check(_uid(update))).step
    except NotStarted:
        await not_set_up(update, context)
        return
    if goal == "move_on":
        if step.moving_on:
            await reply(update, context, texts.render("heard.goal.already_moving_on"))
            return
        await reply(update, context, texts.render("heard.goal.ask_move_on"), _goal_markup(
            context, ("move_on",)))  # fmt: skip
        return
    blocked = step.abuse or await context.services.safety.reconnection_blocked(_uid(update))
    if goal == "try_again":
        if blocked:
            await reply(update, context, texts.render("heard.goal.blocked"))
            return
        if not step.moving_on and profile.goal == "get_back":
            text = texts.render("heard.goal.already_trying", phase=step.phase.name)
            await reply(update, context, text)
            return
        ask_id = for_distance("heard.goal.ask_try_again", step.distance)
        ask = texts.render(ask_id, ex=ex_label(texts, profile.ex_name))
        await reply(update, context, ask, _goal_markup(context, ("try_again",)))
        return
    choices = ("move_on",) if blocked or step.moving_on else ("move_on", "try_again")
    if step.moving_on and not blocked:
        choices = ("try_again",)
    await reply(update, context, texts.render("heard.goal.ask_which"), _goal_markup(
        context, choices))  # fmt: skip


def _goal_markup(context: CoachContext, choices: tuple[str, ...]) -> InlineKeyboardMarkup:
    texts = context.texts
    rows = [[button(texts.render(f"heard.goal.{c}"), AREA, f"goal_{c}")] for c in choices]
    rows.append([button(texts.render("heard.goal.keep"), AREA, "goal_keep")])
    return keyboard(rows)


def undo_markup(context: CoachContext, action: str) -> InlineKeyboardMarkup:
    """The Undo button for a one-way choice made today (valid until local midnight)."""
    return keyboard([[button(context.texts.render("heard.undo.button"), AREA, "undo", action)]])


async def _goal_chosen(update: Update, context: CoachContext, goal: str) -> None:
    query = update.callback_query
    assert query is not None
    await settle(query)
    texts, listening, uid = context.texts, context.services.listening, _uid(update)
    try:
        if goal == "move_on":
            outcome: Outcome = await listening.move_on(uid)
            text = texts.render("heard.goal.moved_on")
        else:
            if await context.services.safety.reconnection_blocked(uid):
                await edit(query, texts.render("heard.goal.blocked"))
                return
            outcome = await listening.try_again(uid)
            text = texts.render("heard.goal.tried_again", phase=outcome.step.phase.name)
    except NotStarted:
        await not_set_up(update, context)
        return
    except NotNow:
        await edit(query, texts.render("heard.goal.blocked"))
        return
    await edit(query, text, undo_markup(context, goal))


async def _undo(update: Update, context: CoachContext, action: str) -> None:
    query = update.callback_query
    assert query is not None
    await settle(query)
    if action not in UNDO_ACTIONS:
        raise_stale()
    texts = context.texts
    if await context.services.listening.undo(_uid(update), action):
        await edit(query, texts.render(f"heard.undo.done_{action}"))
    else:
        await edit(query, texts.render("heard.undo.too_late"))


# --- stopping check-ins (asked first, undoable today) ------------------------------------------


async def ask_stop_checkins(update: Update, context: CoachContext) -> None:
    texts = context.texts
    markup = keyboard([[button(texts.render("heard.undo.stop_yes"), AREA, "stop_yes"),
                        button(texts.render("heard.undo.stop_no"), AREA, "stop_no")]])  # fmt: skip
    await reply(update, context, texts.render("heard.undo.stop_ask"), markup)


async def _stop_confirmed(update: Update, context: CoachContext) -> None:
    query = update.callback_query
    assert query is not None
    await settle(query)
    await context.services.listening.stop_checkins(_uid(update))
    await edit(
        query, context.texts.render("heard.undo.stopped"), undo_markup(context, "stop_checkins")
    )


# --- questions about their own program -----------------------------------------------------------


def progress_text(context: CoachContext, step: Step, slips: int, total: int) -> str:
    texts = context.texts
    values = {"day": step.day_of_plan, "phase": step.phase.name, "day_in_phase": step.day_in_phase}
    if step.phase.contact == "open":
        return texts.render("heard.progress.reconnecting", **values)
    text_id = for_distance("heard.progress.counting", step.distance)
    text = texts.render(text_id, streak=step.streak, total=total, **values)
    if slips:
        text += "\n" + texts.render("heard.progress.slips", slips=slips)
    return text


async def on_progress(update: Update, context: CoachContext) -> None:
    """Their day, their step, their no-contact count: from their own state."""
    try:
        step = (await context.services.program.check(_uid(update))).step
    except NotStarted:
        await not_set_up(update, context)
        return
    report = await context.services.listening.streak(_uid(update))
    slips, total = (report.slips, report.total) if report is not None else (0, step.streak)
    await reply(update, context, progress_text(context, step, slips, total), main_menu(context))


# --- small talk and the rest ---------------------------------------------------------------------


async def _small_talk(update: Update, context: CoachContext, text_id: str) -> None:
    if await _set_up(update, context) is None:
        await reply(update, context, context.texts.render("heard.not_set_up_other"),
                    begin_button(context))  # fmt: skip
        return
    await reply(update, context, context.texts.render(text_id), main_menu(context))


async def on_greeting(update: Update, context: CoachContext) -> None:
    await _small_talk(update, context, "heard.greeting")


async def on_thanks(update: Update, context: CoachContext) -> None:
    await _small_talk(update, context, "heard.thanks")


async def on_other(update: Update, context: CoachContext) -> None:
    """Anything else: a warm short word and the menu, never "not sure what to do"."""
    if asks_if_bot(_text(update)):
        await reply(update, context, context.texts.render("listen.bot.answer"))
        return
    await _small_talk(update, context, "heard.other")


# --- taps ----------------------------------------------------------------------------------------


async def on_tap(update: Update, context: CoachContext) -> None:
    query = update.callback_query
    assert query is not None
    data = decode(query.data)
    action, arg = (data.action, data.arg) if data else ("", "")
    match action:
        case "breathe":
            await breathe(update, context)
        case "save" | "nosave":
            await _save_tap(update, context, action == "save")
        case "slip_yes":
            await _slip_confirmed(update, context)
        case "slip_no":
            await settle(query)
            await edit(query, context.texts.render("heard.slip.not_slip"))
        case "goal_move_on" | "goal_try_again":
            await _goal_chosen(update, context, action.removeprefix("goal_"))
        case "goal_keep":
            await settle(query)
            await edit(query, context.texts.render("heard.goal.kept"))
        case "stop_yes":
            await _stop_confirmed(update, context)
        case "stop_no":
            await settle(query)
            await edit(query, context.texts.render("heard.undo.kept"))
        case "undo":
            await _undo(update, context, arg)
        case _:
            raise_stale()
