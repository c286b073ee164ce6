"""The program in Telegram: /today, /phase, /moveon, the checklists, the decision step and the
ex's answers — and the program's word after each daily check-in.

Three callback areas: `program` (where am I, the ex's answers, moving on), `ready` (checklist
ticks) and `decide` (the decision step). Every tap is checked by the service against where the
person is now; a button that no longer fits gets the same kind "out of date" word as any other.
"""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardMarkup, Update

from bot.context import CoachContext
from bot.services.checkin import CheckinView
from bot.services.program import (
    READINESS_FORM,
    Checklist,
    DecideQuestion,
    DecideResult,
    NotNow,
    NotStarted,
    Outcome,
    Step,
)
from content.loader import Markup, Texts, source_names
from content.paths import load_paths
from content.program import EX_ANSWERS, MOVE_ON, Lesson, Requirement, shared_phrase
from handlers.callbacks import decode
from handlers.replies import (
    Button,
    StaleButton,
    bullets,
    button,
    day_month,
    edit,
    ex_label,
    for_distance,
    in_rows,
    keyboard,
    label,
    not_set_up,
    remove_buttons,
    reply,
    settle,
)
from handlers.taps import is_double_tap

AREA = "program"
READY = "ready"
DECIDE = "decide"
NO_MEANS = "hearing-no"  # the rulebook's note on what a "no" from the ex means
QUIET_REASONS = ("not_yet", "no_change", "gate_passed")
# Where each checklist leads once it is complete (the button that unlocks).
UNLOCKS = {READINESS_FORM: "reach_out", "talk_ready": "the_talk"}


def _user_id(update: Update) -> int:
    assert update.effective_user is not None
    return update.effective_user.id


def sources_line(texts: Texts, ids: Sequence[str]) -> str:
    return texts.render("program.sources", sources=source_names(ids)) if ids else ""


async def out_of_date(update: Update, context: CoachContext) -> None:
    """A button that no longer fits where the person is: the bot's usual kind word (the
    routing table says it)."""
    raise StaleButton


# --- rendering -------------------------------------------------------------------------------


def distance_text(texts: Texts, text_id: str, distance: str) -> str:
    """The limited-contact wording of `text_id` when there is one, else the text itself (most
    reasons read the same for both kinds of distance)."""
    limited = for_distance(text_id, distance)
    return limited if limited in texts else text_id


def new_step_text(context: CoachContext, step: Step) -> str:
    phase, texts = step.phase, context.texts
    return texts.render(
        "program.new_step",
        phase=phase.name,
        goal=phase.goal,
        do=bullets(texts, phase.do),
        avoid=bullets(texts, phase.avoid),
        sources=source_names(phase.sources),
    )


def reason_text(context: CoachContext, outcome: Outcome) -> str:
    texts, step = context.texts, outcome.step
    ex_req = step.gate.requirement("ex_answer")
    until = ex_req.wait_until if ex_req is not None else None
    nc_req = step.gate.requirement("no_contact_days")
    text = texts.render(
        distance_text(texts, f"program.reason.{outcome.reason_id}", step.distance),
        ex=ex_label(texts, step.ex_name),
        days=step.state.no_contact_days,
        needed=nc_req.needed if nc_req is not None else step.state.no_contact_days,
        phase=step.phase.name,
        retry=step.phase.gate.retry_after_days or "",
        until=day_month(until),
    )
    sources = context.services.program.reason_sources(outcome.reason_id)
    return text + ("\n" + sources_line(texts, sources) if sources else "")


def outcome_text(context: CoachContext, outcome: Outcome) -> str | None:
    """What an event changed, in words: the advice for it, and the new step when it moved."""
    texts, program = context.texts, context.services.program
    parts = []
    if outcome.reason_id not in QUIET_REASONS:
        parts.append(reason_text(context, outcome))
    if outcome.moved:
        if outcome.reason_id == "gate_passed" or len(outcome.passed) > 1:
            names = [program.phase(p, outcome.step).name for p in outcome.passed]
            parts.append(texts.render("program.passed", phases=", ".join(names)))
        parts.append(new_step_text(context, outcome.step))
    return "\n\n".join(parts) or None


def outcome_markup(context: CoachContext, outcome: Outcome) -> InlineKeyboardMarkup | None:
    texts = context.texts
    rows: list[list[Button]] = []
    if outcome.offer_move_on and not outcome.step.moving_on:
        rows.append([button(texts.render("program.button.move_on"), AREA, "moveon")])
    if outcome.moved:
        rows.append([button(texts.render("program.button.lesson"), AREA, "today"),
                     button(texts.render("program.button.phase"), AREA, "phase")])  # fmt: skip
    return keyboard(rows) if rows else None


async def send_outcome(update: Update, context: CoachContext, outcome: Outcome) -> None:
    text = outcome_text(context, outcome)
    if text:
        await reply(update, context, text, outcome_markup(context, outcome))


def lesson_text(context: CoachContext, step: Step, lesson: Lesson) -> str:
    texts = context.texts
    track = context.services.program.phase(lesson.phase, step)
    text_id = "program.lesson" if lesson.phase == step.phase.id else "program.lesson_alongside"
    return texts.render(
        text_id,
        step=step.phase.name,
        phase=track.name,
        day=step.day_in_phase,
        idea=lesson.idea,
        action=lesson.action,
        sources=source_names(lesson.sources),
    )


def requirement_line(context: CoachContext, step: Step, req: Requirement) -> str:
    texts = context.texts
    match req.kind:
        case "no_contact_days" | "days":
            text_id = distance_text(texts, f"program.need.{req.kind}", step.distance)
            line = texts.render(text_id, done=req.done, needed=req.needed)
        case "checklist":
            form = context.services.program.program.form(step.phase.gate.checklist or "")
            line = texts.render(
                "program.need.checklist", title=form.title, done=req.done, needed=req.needed
            )
        case "decision":
            line = texts.render(f"program.need.decision.{req.status}")
        case _:
            line = texts.render(
                f"program.need.ex_answer.{req.status}",
                ex=ex_label(texts, step.ex_name),
                until=day_month(req.wait_until),
            )
    return texts.render("program.need.met" if req.met else "program.need.open", line=Markup(line))


def phase_view(context: CoachContext, step: Step) -> tuple[str, InlineKeyboardMarkup]:
    """/phase: where the person is, what the step asks, and what opens the way on."""
    texts, phase = context.texts, step.phase
    parts = [
        texts.render(
            "program.where",
            phase=phase.name,
            day=step.day_in_phase,
            plan_day=step.day_of_plan,
            goal=phase.goal,
            do=bullets(texts, phase.do),
            avoid=bullets(texts, phase.avoid),
        )
    ]
    if step.gate.final:
        parts.append(texts.render("program.final_moving_on" if step.moving_on else "program.final"))
    else:
        following = step.next_phase.name if step.next_phase else ""
        needs = "\n".join(requirement_line(context, step, r) for r in step.gate.requirements)
        parts.append(texts.render("program.next", next=following, needs=Markup(needs)))
        if step.gate.their_no:
            parts.append(texts.render("program.their_no", ex=ex_label(texts, step.ex_name)))
    if step.phase.contact == "open" and not step.abuse:
        parts.append(texts.render("program.ex.prompt", ex=ex_label(texts, step.ex_name)))
    parts.append(sources_line(texts, phase.sources))
    return "\n\n".join(parts), phase_markup(context, step)


def phase_markup(context: CoachContext, step: Step) -> InlineKeyboardMarkup:
    texts = context.texts
    rows: list[list[Button]] = []
    gate = step.phase.gate
    if "checklist" in gate.requires and gate.checklist:
        title = context.services.program.program.form(gate.checklist).title
        rows.append([button(label(texts, "program.button.checklist", title=title), AREA,
                            "checklist", gate.checklist)])  # fmt: skip
    if "decision" in gate.requires:
        taken = step.state.decision is not None
        text_id = "program.button.decided" if taken else "program.button.decide"
        rows.append([button(texts.render(text_id), DECIDE, "start")])
    if step.phase.contact == "open" and not step.abuse:
        rows.extend(ex_rows(texts))
    if step.gate.offer_move_on:
        rows.append([button(texts.render("program.button.move_on"), AREA, "moveon")])
    rows.append([button(texts.render("program.button.lesson"), AREA, "today")])
    return keyboard(rows)


def ex_rows(texts: Texts) -> list[list[Button]]:
    return in_rows([button(texts.render(f"program.ex.{k}"), AREA, "ex", k) for k in EX_ANSWERS], 2)


# --- /today, /phase ----------------------------------------------------------------------------


async def show_today(update: Update, context: CoachContext) -> None:
    try:
        outcome, lesson = await context.services.program.today(_user_id(update))
    except NotStarted:
        await not_set_up(update, context)
        return
    if outcome.moved:
        await send_outcome(update, context, outcome)
    markup = keyboard([[button(context.texts.render("program.button.phase"), AREA, "phase")]])
    await reply(update, context, lesson_text(context, outcome.step, lesson), markup)


async def show_phase(update: Update, context: CoachContext) -> None:
    try:
        outcome = await context.services.program.check(_user_id(update))
    except NotStarted:
        await not_set_up(update, context)
        return
    if outcome.moved:
        await send_outcome(update, context, outcome)
    text, markup = phase_view(context, outcome.step)
    await reply(update, context, text, markup)


# --- /plan: the step the person is on now, and the one after it ------------------------------


async def show_plan(update: Update, context: CoachContext) -> None:
    """/plan and "My plan": where the program has the person now (not where it began), the
    step after it, and why the no-contact stretch is as long as it is."""
    texts = context.texts
    try:
        outcome = await context.services.program.check(_user_id(update))
    except NotStarted:
        await not_set_up(update, context)
        return
    step = outcome.step
    for text_id, phase in (("plan.current_step", step.phase), ("plan.next_step", step.next_phase)):
        if phase is not None:
            await reply(update, context, texts.render(
                text_id, phase=phase.name, goal=phase.goal, do=bullets(texts, phase.do),
                avoid=bullets(texts, phase.avoid), sources=source_names(phase.sources),
            ))  # fmt: skip
    if step.gate.requirement("no_contact_days") is not None or step.phase.id == "no_contact":
        await reply(update, context, texts.render(
            for_distance("plan.length_note", step.distance),
            days=step.state.no_contact_days, shared=shared_phrase(step.state.shared),
        ))  # fmt: skip
    chosen = outcome.choices
    style = load_paths().choices["distance_style"].option(chosen.distance_style)
    if style is not None and not step.abuse:  # the kind of distance the person chose
        await reply(update, context, texts.render(
            "paths.style_line", label=style.label, means=style.means,
            sources=source_names(style.sources),
        ))  # fmt: skip
    # The person's own path (handlers/paths.py), and the guide once the ex came back: not while
    # the plan is about letting go after abuse.
    rows: list[list[Button]] = []
    if not step.abuse:
        if chosen.ex_came_back_on is not None:
            rows.append([button(texts.render("paths.comeback_again"), "paths", "comeback")])
        rows.append([button(texts.render("paths.menu_button"), "paths", "show")])
    path = keyboard(rows) if rows else None
    await reply(update, context, texts.render("plan.closing"), path)


# --- moving on ---------------------------------------------------------------------------------


async def ask_move_on(update: Update, context: CoachContext) -> None:
    """/moveon: explained kindly, and only after a yes."""
    texts = context.texts
    try:
        outcome = await context.services.program.check(_user_id(update))
    except NotStarted:
        await not_set_up(update, context)
        return
    step = outcome.step
    if step.moving_on:
        text_id = "program.moveon.already_abuse" if step.abuse else "program.moveon.already"
        await reply(update, context, texts.render(text_id))
        return
    markup = keyboard([[button(texts.render("program.moveon.yes"), AREA, "moveon_yes")],
                       [button(texts.render("program.moveon.no"), AREA, "moveon_no")]])  # fmt: skip
    ask = texts.render(for_distance("program.moveon.ask", step.distance), phase=step.phase.name)
    await reply(update, context, ask, markup)


async def move_on_confirmed(update: Update, context: CoachContext) -> None:
    query = update.callback_query
    assert query is not None
    outcome = await context.services.listening.move_on(_user_id(update))  # undoable today
    await settle(query)
    texts = context.texts
    undo = button(texts.render("heard.undo.button"), "listen", "undo", "move_on")
    await edit(query, texts.render("program.moveon.chosen"), keyboard([[undo]]))
    await send_outcome(update, context, outcome)


# --- checklists --------------------------------------------------------------------------------


def checklist_view(context: CoachContext, checklist: Checklist) -> tuple[str, InlineKeyboardMarkup]:
    texts, form, step = context.texts, checklist.form, checklist.step
    lines = []
    toggles: list[Button] = []
    for number, entry in enumerate(checklist.items, start=1):
        mark = texts.render("readiness.mark_on" if entry.ticked else "readiness.mark_off")
        line_id = "readiness.line_auto" if entry.auto else "readiness.line"
        lines.append(
            texts.render(
                line_id,
                mark=mark,
                number=number,
                text=entry.item.text,
                days=step.state.no_contact_days,
                streak=step.streak,
            )
        )
        if not entry.auto:
            label_id = f"readiness.label.{entry.item.id}"
            short = texts.render(label_id) if label_id in texts else str(number)
            toggles.append(
                button(
                    label(texts, "readiness.toggle", mark=mark, number=number, label=short),
                    READY,
                    "tick",
                    f"{form.id}.{entry.item.id}.{0 if entry.ticked else 1}",
                )
            )
    if checklist.complete:
        status = texts.render(f"readiness.complete.{form.id}")
    else:
        status = texts.render("readiness.left", done=checklist.done, total=len(checklist.items))
    text = texts.render(
        "readiness.checklist",
        title=form.title,
        intro=form.intro,
        items=Markup("\n".join(lines)),
        status=Markup(status),
        sources=source_names(form.sources),
    )
    rows = [[t] for t in toggles]
    if checklist.complete and form.id in UNLOCKS:
        rows.append([button(texts.render(f"readiness.unlock.{form.id}"), AREA, "reach", form.id)])
    return text, keyboard(rows)


async def send_checklist(update: Update, context: CoachContext, form_id: str) -> None:
    try:
        checklist = await context.services.program.checklist(_user_id(update), form_id)
    except NotStarted:
        await not_set_up(update, context)
        return
    except NotNow:
        await reply(update, context, context.texts.render("readiness.not_on_this_path"))
        return
    text, markup = checklist_view(context, checklist)
    await reply(update, context, text, markup)


async def on_tick(update: Update, context: CoachContext) -> None:
    query = update.callback_query
    assert query is not None
    data = decode(query.data)
    parts = data.arg.split(".") if data else []
    if data is None or len(parts) != 3 or parts[2] not in ("0", "1"):
        await out_of_date(update, context)
        return
    try:
        outcome, checklist = await context.services.program.tick(
            _user_id(update), parts[0], parts[1], parts[2] == "1"
        )
    except (NotNow, NotStarted):
        await out_of_date(update, context)
        return
    await settle(query)
    text, markup = checklist_view(context, checklist)
    await edit(query, text, markup)
    if outcome.moved:
        await send_outcome(update, context, outcome)


async def on_reach(update: Update, context: CoachContext, form_id: str) -> None:
    """ "Reach out" (or "Ready for the talk") on a complete checklist: on to that step, or what
    it still waits for."""
    outcome = await context.services.program.check(_user_id(update))
    step = outcome.step
    if outcome.moved:
        await send_outcome(update, context, outcome)
        return
    there = context.services.program.has_reached(step, UNLOCKS.get(form_id, step.phase.id))
    text, markup = phase_view(context, step)
    if not there:
        text = context.texts.render("readiness.still_waiting") + "\n\n" + text
    await reply(update, context, text, markup)


# --- the decision step -----------------------------------------------------------------------


def question_view(context: CoachContext, q: DecideQuestion) -> tuple[str, InlineKeyboardMarkup]:
    texts = context.texts
    text = texts.render("decide.question", number=q.number, total=q.total, text=q.item.text)
    buttons = [button(o.label, DECIDE, "ans", f"{q.item.id}.{o.value}") for o in q.item.options]
    per_row = 1 if any(len(o.label) > 14 for o in q.item.options) else len(buttons)
    return text, keyboard(in_rows(buttons, per_row))


def result_view(
    context: CoachContext, shown: DecideResult
) -> tuple[str, InlineKeyboardMarkup | None]:
    texts, result, form = context.texts, shown.result, shown.form
    parts = [
        texts.render(f"decide.result.{result.outcome}"),
        texts.render(f"decide.reason.{result.reason_id}"),
        texts.render("decide.counts", yes=result.for_count, no=result.against_count),
    ]
    if result.let_go_signs:
        signs = [form.item(s) for s in result.let_go_signs]
        parts.append(
            texts.render(
                "decide.signs",
                signs=bullets(texts, [s.text for s in signs if s is not None]),
            )
        )
    sources = context.services.program.form_sources(
        form, (*result.let_go_signs, *result.for_items, *result.against_items)
    )
    parts.append(sources_line(texts, sources))
    rows: list[list[Button]] = []
    moved_away = shown.outcome is not None and shown.outcome.step.moving_on
    if result.outcome == "let_go" and not moved_away and not result.closes_reconcile_path:
        rows.append([button(texts.render("program.button.move_on"), AREA, "moveon")])
    if result.outcome in ("let_go", "not_sure") and not moved_away:
        rows.append([button(texts.render("decide.again"), DECIDE, "start", "again")])
    return "\n\n".join(parts), keyboard(rows) if rows else None


async def start_decide(update: Update, context: CoachContext, *, again: bool) -> None:
    texts = context.texts
    try:
        shown = await context.services.program.decide(_user_id(update), again=again)
    except NotStarted:
        await not_set_up(update, context)
        return
    except NotNow:
        await reply(update, context, texts.render("decide.not_now"))
        return
    if isinstance(shown, DecideResult):
        text, markup = result_view(context, shown)
        await reply(update, context, text, markup)
        return
    if shown.number == 1:
        form = context.services.program.program.form("decide")
        await reply(
            update,
            context,
            texts.render(
                "decide.intro",
                title=form.title,
                intro=form.intro,
                total=shown.total,
                sources=source_names(form.sources),
            ),
        )
    text, markup = question_view(context, shown)
    await reply(update, context, text, markup)


async def on_decide_tap(update: Update, context: CoachContext) -> None:
    query = update.callback_query
    assert query is not None
    data = decode(query.data)
    if data is None:
        await out_of_date(update, context)
        return
    if data.action == "start":
        await settle(query)
        if is_double_tap(update, context):
            return
        if data.arg == "again":
            await remove_buttons(query)
        await start_decide(update, context, again=data.arg == "again")
        return
    item, _, value = data.arg.partition(".")
    if data.action != "ans" or not value:
        await out_of_date(update, context)
        return
    try:
        await context.services.listening.remember_decision(_user_id(update), item, value)
        answered = await context.services.program.decide_answer(_user_id(update), item, value)
    except (NotNow, NotStarted):
        await out_of_date(update, context)
        return
    await settle(query)
    texts = context.texts
    shown = texts.render("decide.answered", text=answered.item.text, answer=answered.label)
    await edit(query, shown)
    following = answered.next
    if isinstance(following, DecideQuestion):
        text, markup = question_view(context, following)
        await reply(update, context, text, markup)
        return
    text, markup = result_view(context, following)
    if following.outcome is not None:  # a decision made: it can be undone today
        rows = [[(b.text, str(b.callback_data)) for b in row] for row in
                (markup.inline_keyboard if markup else ())]  # fmt: skip
        rows.append([button(texts.render("heard.undo.button"), "listen", "undo", "decision")])
        markup = keyboard(rows)
    await reply(update, context, text, markup)
    outcome = following.outcome
    if outcome is None:
        return
    if outcome.reason_id == "decision_try_again_needs_readiness":
        await reply(update, context, reason_text(context, outcome))
        await send_checklist(update, context, READINESS_FORM)
    elif outcome.moved:
        await send_outcome(update, context, outcome)


# --- the ex's answer -------------------------------------------------------------------------


async def on_ex_answer(update: Update, context: CoachContext, kind: str) -> None:
    query = update.callback_query
    assert query is not None
    if is_double_tap(update, context):
        await settle(query)
        return
    try:
        outcome = await context.services.program.ex_replied(_user_id(update), kind)
    except (NotNow, NotStarted):
        await out_of_date(update, context)
        return
    await settle(query)
    texts = context.texts
    told = texts.render("program.ex.told", answer=texts.render(f"program.ex.{kind}"))
    text = outcome_text(context, outcome) or reason_text(context, outcome)
    if kind == "no":  # where the person meets a no: what the articles each take it to mean
        text += "\n\n" + differ_text(context, NO_MEANS)
    await reply(update, context, told + "\n\n" + text, outcome_markup(context, outcome))


def differ_text(context: CoachContext, note_id: str) -> str:
    """A disagreement between the articles (rules.yaml's sources_differ), each side sourced."""
    texts = context.texts
    note = next(n for n in context.services.content.rulebook.notes if n.id == note_id)
    lines = [texts.render("paths.differ", topic=note.topic)]
    lines += [
        texts.render("paths.side", text=side.text, sources=source_names(side.sources))
        for side in note.sides
    ]
    return "\n".join(lines)


# --- the taps ---------------------------------------------------------------------------------


async def on_tap(update: Update, context: CoachContext) -> None:
    query = update.callback_query
    assert query is not None
    data = decode(query.data)
    action = data.action if data else ""
    arg = data.arg if data else ""
    try:
        match action:
            case "today" | "phase":
                await settle(query)
                await (show_today if action == "today" else show_phase)(update, context)
            case "checklist":
                await settle(query)
                await send_checklist(update, context, arg)
            case "reach":
                await settle(query)
                await on_reach(update, context, arg)
            case "ex" if arg in EX_ANSWERS:
                await on_ex_answer(update, context, arg)
            case "moveon":
                await settle(query)
                await ask_move_on(update, context)
            case "moveon_yes":
                await move_on_confirmed(update, context)
            case "moveon_no":
                await settle(query)
                await edit(query, context.texts.render("program.moveon.kept"))
            case _:
                await out_of_date(update, context)
    except NotStarted:
        await not_set_up(update, context)


# --- after a daily check-in --------------------------------------------------------------------


async def after_checkin(
    update: Update, context: CoachContext, view: CheckinView, milestone: str | None
) -> None:
    """Once a check-in is complete: the milestone, what a slip means for the current step and
    any step passed, together in one message; when the no-contact stretch has just run its
    whole length, the readiness checklist too."""
    texts, program = context.texts, context.services.program
    parts = [milestone] if milestone else []
    end_of_stretch = view.milestone is not None and view.milestone >= view.streak.length
    step: Step | None = None
    if view.done:
        try:
            user_id = _user_id(update)
            if view.slipped:
                slip = await program.slipped(user_id)
                if slip is not None and program.slip_restarts_the_count(slip):
                    parts.append(reason_text(context, slip))
            outcome = await program.check(user_id)
            step = outcome.step
            if outcome.moved:
                parts.append(outcome_text(context, outcome) or "")
        except NotStarted:
            step = None
    if end_of_stretch and step is not None and step.phase.id == MOVE_ON:
        done_id = for_distance("program.stretch_done_moving_on", view.streak.distance)
        parts = [texts.render(done_id, days=view.streak.length)] + [
            p for p in parts if p != milestone
        ]
    parts = [p for p in parts if p]
    if parts:
        await reply(update, context, "\n\n".join(parts))
    if end_of_stretch and step is not None and step.phase.id != MOVE_ON:
        await send_checklist(update, context, READINESS_FORM)
