"""The /start intake: one question per message, buttons wherever a tap will do.

Where the person is in the intake is the profile's `intake_step` (the question waiting for an
answer); changing one answer from /settings awaits "intake.edit" with the step
(bot/services/conversation.py). The routing table sends taps in the `intake` area, and typed
answers while either is awaited, here.
"""

from __future__ import annotations

from datetime import date

from telegram import InlineKeyboardMarkup, Update

from bot.context import CoachContext
from bot.db.queries import UnknownUser
from bot.services.conversation import INTAKE_ASK, Expected
from bot.services.intake import (
    SINCE_BREAKUP,
    InvalidAnswer,
    ProfileView,
    Progress,
    Stage,
    step_before,
)
from content.advice import RASH_REPAIR_LAST_DAY
from content.intake import (
    STEP_ORDER,
    FutureDate,
    Question,
    clean_name,
    normalise,
    parse_breakup_date,
    parse_hour,
)
from content.loader import Markup, source_names
from content.paths import load_paths
from content.program import Phase
from content.vocab import AbuseAnswer, BreakupWhen, Goal
from handlers.callbacks import decode
from handlers.replies import (
    Then,
    age_markup,
    bullets,
    button,
    display_name,
    edit,
    in_rows,
    keyboard,
    not_set_up,
    remove_buttons,
    reply,
    set_buttons,
    settle,
)

AREA = "intake"
EDITING = "intake.edit"  # one answer changed from /settings; data: {"step": ...}
EDITABLE = ("timezone", "checkin_hour")


# --- rendering -------------------------------------------------------------------------------


def answer_label(context: CoachContext, step: str, profile: ProfileView) -> str | None:
    """How a stored answer reads back to the person, or None when not answered yet."""
    content = context.services.content
    question = content.intake[step]
    match step:
        case "ex_name":
            return profile.ex_name
        case "breakup":
            if profile.breakup_when is BreakupWhen.EXACT and profile.breakup_on:
                return f"{profile.breakup_on.day} {profile.breakup_on:%B %Y}"
            return question.label_of(profile.breakup_when) if profile.breakup_when else None
        case "last_contact":
            return last_contact_label(context, profile)
        case "shared":
            labels = [question.label_of(s) for s in ("kids", "work", "home") if s in profile.shared]
            return ", ".join(labels) if labels else question.text("none")
        case "timezone":
            return content.timezones.label(profile.timezone) if profile.timezone else None
        case "checkin_hour":
            return f"{profile.checkin_hour:02d}:00" if profile.checkin_hour is not None else None
        case _:
            value = getattr(profile, step)
            return question.label_of(value) if value is not None else None


def last_contact_label(context: CoachContext, profile: ProfileView) -> str | None:
    """'Not since the breakup', or the day they were last in touch."""
    day = profile.last_contact_on
    if day is None:
        return None
    if profile.breakup_on is not None and day == profile.breakup_on:
        return context.services.content.intake["last_contact"].label_of(SINCE_BREAKUP)
    return f"{day.day} {day:%B %Y}"


def question_markup(
    context: CoachContext, question: Question, profile: ProfileView, *, editing_one: bool
) -> InlineKeyboardMarkup:
    step = question.key
    rows: list[list[tuple[str, str]]]
    if step == "ex_name":
        rows = [[button(question.text("skip"), AREA, step, "skip")]]
    elif step == "shared":
        toggles = [
            button(("✓ " if o.value in profile.shared else "") + o.label, AREA, step, o.value)
            for o in question.options
        ]
        rows = [toggles, [button(question.text("done"), AREA, step, "done")]]
    elif step == "timezone":
        zones = [
            button(b.label, AREA, step, b.zone) for b in context.services.content.timezones.buttons
        ]
        rows = in_rows(zones, 2)
    else:
        per_row = (
            1 if step in ("abuse", "goal", "last_contact") else 3 if step == "checkin_hour" else 2
        )
        rows = in_rows([button(o.label, AREA, step, o.value) for o in question.options], per_row)
    if not editing_one and step_before(step, profile) is not None:
        rows.append([button(context.texts.render("intake.back"), AREA, "back", step)])
    return keyboard(rows)


async def ask(
    update: Update,
    context: CoachContext,
    progress: Progress,
    *,
    editing_one: bool = False,
    lead: str | None = None,
) -> None:
    """Send the question for `progress.next_step`; the answer is awaited from now on (the
    profile's intake step, or "intake.edit" when one answer is changed from /settings)."""
    step = progress.next_step
    assert step is not None
    question = context.services.content.intake[step]
    text = lead or question.ask
    current = answer_label(context, step, progress.profile) if progress.profile.set_up else None
    if current and not lead:
        text += "\n" + context.texts.render("intake.currently", answer=current)
    await reply(
        update,
        context,
        text,
        question_markup(context, question, progress.profile, editing_one=editing_one),
    )
    if editing_one:
        assert update.effective_user is not None
        await context.services.conversation.expect(
            update.effective_user.id, EDITING, {"step": step}
        )


def phase_text(context: CoachContext, text_id: str, phase: Phase) -> str:
    texts = context.texts
    return texts.render(
        text_id,
        phase=phase.name,
        goal=phase.goal,
        do=bullets(texts, phase.do),
        avoid=bullets(texts, phase.avoid),
        sources=source_names(phase.sources),
    )


async def send_plan(update: Update, context: CoachContext, profile: ProfileView) -> None:
    """The person's first step of the program (and the one after it), with sources."""
    phases = context.services.intake.first_steps(profile)
    for index, phase in enumerate(phases):
        text_id = "plan.first_step" if index == 0 else "plan.next_step"
        await reply(update, context, phase_text(context, text_id, phase))
    if any(p.id == "no_contact" for p in phases):
        await reply(
            update, context, context.texts.render("plan.length_note", days=profile.no_contact_days)
        )
    await reply(update, context, context.texts.render("plan.closing"))


async def finish(update: Update, context: CoachContext, profile: ProfileView) -> None:
    content = context.services.content
    lines = []
    for step in STEP_ORDER:
        label = answer_label(context, step, profile)
        if step == "ex_name" and not label:
            label = context.texts.render("intake.no_name")
        if label:
            lines.append(
                context.texts.render(
                    "intake.summary_line", label=content.intake[step].label, answer=label
                )
            )
    await reply(
        update, context, context.texts.render("intake.done", summary=Markup("\n".join(lines)))
    )
    await send_plan(update, context, profile)
    await ask_about_a_fight(update, context, profile)


async def ask_about_a_fight(update: Update, context: CoachContext, profile: ProfileView) -> None:
    """One tap, only when it can matter: a recent breakup, someone who may want them back, and
    nothing that rules reconnecting out. A rash fight opens six-steps' quick repair."""
    breakup_on = profile.breakup_on
    today = await context.services.intake.today(profile.user_id)
    recent = breakup_on is not None and (today - breakup_on).days <= RASH_REPAIR_LAST_DAY
    if not recent or not profile.reconcile_path_open or profile.goal is Goal.MOVE_ON:
        return
    choice = load_paths().choices["rash_fight"]
    rows = [[button(o.label, "paths", "pick", f"rash_fight.{o.value}")] for o in choice.options]
    await reply(update, context, context.texts.render("paths.fight.ask"), keyboard(rows))


# --- entry: /start and the resume choice -------------------------------------------------------


async def begin_intake(update: Update, context: CoachContext, *, restart: bool = False) -> None:
    """Start (or pick up) the intake: its questions take the next message over any other wait."""
    assert update.effective_user is not None
    user_id = update.effective_user.id
    await context.services.conversation.clear(user_id)
    await ask(update, context, await context.services.intake.begin(user_id, restart=restart))


async def start(update: Update, context: CoachContext) -> None:
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    greeting = await context.services.intake.greet(
        user_id=user.id,
        chat_id=chat.id,
        first_name=user.first_name,
        language_code=user.language_code,
    )
    texts, name = context.texts, display_name(update)
    if greeting.stage is Stage.NEW:
        # The optional age question rides on the welcome: one tap, or none at all.
        welcome = texts.render("welcome.new", name=name).rstrip()
        welcome += "\n\n" + texts.render("safetycare.age.ask_intake")
        await reply(update, context, welcome, age_markup(texts))
        await begin_intake(update, context)
        return
    if greeting.stage is Stage.IN_INTAKE:
        choices = [
            [button(texts.render("welcome.continue"), AREA, "resume", "continue")],
            [button(texts.render("welcome.start_over"), AREA, "resume", "restart")],
        ]
        await reply(
            update, context, texts.render("welcome.resume_incomplete", name=name), keyboard(choices)
        )
    else:
        choices = [
            [button(texts.render("welcome.carry_on"), AREA, "resume", "carry_on")],
            [button(texts.render("welcome.start_over"), AREA, "resume", "restart")],
        ]
        await reply(
            update, context, texts.render("welcome.resume_complete", name=name), keyboard(choices)
        )


async def resume(update: Update, context: CoachContext) -> Then | None:
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    await settle(query)
    choice = decode(query.data)
    assert choice is not None
    await remove_buttons(query)
    intake, user_id = context.services.intake, update.effective_user.id
    try:
        if choice.arg == "carry_on":
            profile = await intake.profile(user_id)
            if profile is not None and profile.set_up:
                return Then.PLAN
            await begin_intake(update, context)
            return None
        if choice.arg == "restart":
            await reply(update, context, context.texts.render("welcome.restarting"))
            await begin_intake(update, context, restart=True)
            return None
        await begin_intake(update, context)
    except UnknownUser:
        await not_set_up(update, context)
    return None


async def start_from_button(update: Update, context: CoachContext) -> None:
    """The "Let's begin" button does what /start does."""
    query = update.callback_query
    assert query is not None
    await settle(query)
    await remove_buttons(query)
    await start(update, context)


# --- answers ---------------------------------------------------------------------------------


class Unreadable(ValueError):
    """A typed answer that does not fit the question; the message says so kindly."""


# The questions whose typed answers may be a date ("last Friday"): only they need today's date.
DATED_STEPS = frozenset({"breakup", "last_contact"})


def read_typed(context: CoachContext, step: str, text: str, today: date | None) -> object:
    """Turn a typed answer into the value a tap would have given (`today` is needed for the
    DATED_STEPS only)."""
    question = context.services.content.intake[step]
    words = normalise(text)
    match step:
        case "ex_name":
            if words in {"skip", "no", "none", "rather not"}:
                return None
            name = clean_name(text)
            if name is None:
                raise Unreadable(question.invalid)
            return name
        case "breakup" | "last_contact":
            bucket = question.match(text)
            if bucket:
                return bucket
            assert today is not None, "a dated step needs today's date"
            try:
                when = parse_breakup_date(text, today)
            except FutureDate:
                raise Unreadable(question.text("future")) from None
            if when is None:
                raise Unreadable(question.invalid)
            return when
        case "shared":
            if words in set(question.extras.get("nothing_words", [])):
                return []
            tokens = set(words.split())
            chosen = [
                o.value
                for o in question.options
                if any(w in words if " " in w else w in tokens for w in o.words | {o.value})
            ]
            if not chosen:
                raise Unreadable(question.invalid)
            return chosen
        case "timezone":
            zone = context.services.content.timezones.resolve(text)
            if zone is None:
                raise Unreadable(question.invalid)
            return zone
        case "checkin_hour":
            hour = parse_hour(text)
            if hour is None:
                raise Unreadable(question.invalid)
            return hour
        case _:
            value = question.match(text)
            if value is None:
                raise Unreadable(question.invalid)
            return value


async def handle_answer(
    update: Update, context: CoachContext, step: str, value: object, *, editing_one: bool
) -> Then | None:
    """Store the answer, show it on the question, then ask the next one, finish, or return
    to /settings."""
    assert update.effective_user is not None
    texts, content = context.texts, context.services.content
    try:
        progress = await context.services.intake.answer(
            update.effective_user.id, step, value, advance=not editing_one
        )
    except UnknownUser:
        await not_set_up(update, context)
        return None
    except InvalidAnswer:
        await reprompt(update, context, step, content.intake[step].invalid, editing_one)
        return None
    label = answer_label(context, step, progress.profile) or texts.render("intake.no_name")
    if update.callback_query is not None:
        await edit(
            update.callback_query,
            texts.render("intake.answered", label=content.intake[step].label, answer=label),
        )
    if step == "abuse" and progress.profile.abuse is AbuseAnswer.YES:
        await reply(update, context, content.intake["abuse"].text("cared"))
    if editing_one:
        await reply(
            update,
            context,
            texts.render("settings.saved", label=content.intake[step].label, answer=label),
        )
        await context.services.conversation.clear(update.effective_user.id, EDITING)
        return Then.SETTINGS
    if progress.next_step is None:
        await finish(update, context, progress.profile)
    else:
        await ask(update, context, progress)
    return None


async def reprompt(
    update: Update, context: CoachContext, step: str, message: str, editing_one: bool
) -> None:
    """Say kindly what we need, with the question's buttons right there."""
    assert update.effective_user is not None
    profile = await context.services.intake.profile(update.effective_user.id)
    if profile is None:
        await not_set_up(update, context)
        return
    await ask(update, context, Progress(profile, step), editing_one=editing_one, lead=message)


def _waiting_step(expected: Expected | None) -> tuple[str, bool] | None:
    """The question whose answer is awaited, and whether it is a single answer changed from
    /settings; None when no intake answer is awaited."""
    if expected is None or expected.key not in (INTAKE_ASK, EDITING):
        return None
    step = expected.data.get("step")
    if not isinstance(step, str) or step not in STEP_ORDER:
        return None
    return step, expected.key == EDITING


async def on_tap(update: Update, context: CoachContext) -> Then | None:
    """Every button in the `intake` area."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    data = decode(query.data)
    if data is None:
        return Then.STALE
    if data.action == "begin":
        await start_from_button(update, context)
        return None
    if data.action == "resume":
        return await resume(update, context)
    waiting = _waiting_step(await context.services.conversation.expected(update.effective_user.id))
    if data.action == "back" and waiting is not None and not waiting[1]:
        await settle(query)
        await remove_buttons(query)
        await go_back(update, context, data.arg)
        return None
    if waiting is None or data.action != waiting[0]:
        return Then.STALE  # a question already answered, or one not being asked now
    step, editing_one = waiting
    await settle(query)
    if step == "shared" and data.arg != "done":
        try:
            profile = await context.services.intake.toggle_shared(
                update.effective_user.id, data.arg
            )
        except (InvalidAnswer, UnknownUser):
            await not_set_up(update, context)
            return None
        question = context.services.content.intake[step]
        await set_buttons(
            query, question_markup(context, question, profile, editing_one=editing_one)
        )
        return None
    value = None if data.arg in ("skip", "done") else data.arg
    return await handle_answer(update, context, step, value, editing_one=editing_one)


async def on_answer(update: Update, context: CoachContext, expected: Expected) -> Then | None:
    """A message while an intake answer is awaited: a typed answer, "back", or something that
    is not text (asked again, kindly)."""
    assert update.effective_message is not None and update.effective_user is not None
    waiting = _waiting_step(expected)
    if waiting is None:
        return Then.UNHANDLED
    step, editing_one = waiting
    text = update.effective_message.text
    if text is None:
        question = context.services.content.intake[step]
        hint = context.texts.render("intake.non_text", hint=question.invalid)
        await reprompt(update, context, step, hint, editing_one)
        return None
    if normalise(text) in {"back", "go back"} and not editing_one:
        await go_back(update, context, step)
        return None
    today = None
    if step in DATED_STEPS:
        today = await context.services.intake.today(update.effective_user.id)
    try:
        value = read_typed(context, step, text, today)
    except Unreadable as problem:
        await reprompt(update, context, step, str(problem), editing_one)
        return None
    return await handle_answer(update, context, step, value, editing_one=editing_one)


async def ask_again(update: Update, context: CoachContext, expected: Expected, lead: str) -> bool:
    """Ask the awaited intake question again after `lead` (after care, or after an old button).
    Returns whether it did."""
    assert update.effective_user is not None
    waiting = _waiting_step(expected)
    if waiting is None:
        return False
    step, editing_one = waiting
    profile = await context.services.intake.profile(update.effective_user.id)
    if profile is None:
        return False
    question = context.services.content.intake[step]
    await ask(
        update, context, Progress(profile, step), editing_one=editing_one,
        lead=f"{lead}\n\n{question.ask}",
    )  # fmt: skip
    return True


async def go_back(update: Update, context: CoachContext, step: str) -> None:
    assert update.effective_user is not None
    try:
        progress = await context.services.intake.go_back(update.effective_user.id, step)
    except UnknownUser:
        await not_set_up(update, context)
        return
    await ask(update, context, progress)


async def edit_setting(update: Update, context: CoachContext) -> Then | None:
    """From /settings: ask one question again, store the answer, and come back."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    data = decode(query.data)
    assert data is not None
    await settle(query)
    profile = await context.services.intake.profile(update.effective_user.id)
    if profile is None or data.arg not in EDITABLE:
        await not_set_up(update, context)
        return None
    await remove_buttons(query)
    await ask(update, context, Progress(profile, data.arg), editing_one=True)
    return None


async def redo_setup(update: Update, context: CoachContext) -> Then | None:
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    await settle(query)
    await remove_buttons(query)
    await reply(update, context, context.texts.render("welcome.restarting"))
    try:
        await begin_intake(update, context, restart=True)
    except UnknownUser:
        await not_set_up(update, context)
    return None
