"""The /start intake: one question per message, buttons wherever a tap will do.

State names say what the person is doing: `choosing_resume`, `asking_<step>` during the intake,
`editing_<step>` when a single answer is changed from /settings.
"""

from __future__ import annotations

import warnings
from datetime import date

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.context import CoachContext
from bot.db.queries import UnknownUser
from bot.services.intake import InvalidAnswer, ProfileView, Progress, Stage, step_before
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
from content.program import Phase
from content.vocab import AbuseAnswer, BreakupWhen
from handlers.callbacks import decode, pattern
from handlers.common import (
    button,
    display_name,
    edit,
    in_rows,
    keyboard,
    remove_buttons,
    reply,
    set_buttons,
    settle,
)
from handlers.privacy import ask_to_delete
from handlers.settings import send_settings

AREA = "intake"
CONVERSATION = "intake"
CHOOSING_RESUME = "choosing_resume"
EDITABLE = ("timezone", "checkin_hour")
END = ConversationHandler.END


def asking(step: str) -> str:
    return f"asking_{step}"


def editing(step: str) -> str:
    return f"editing_{step}"


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
        per_row = 1 if step in ("abuse", "goal") else 3 if step == "checkin_hour" else 2
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
) -> str:
    """Send the question for `progress.next_step` and return the state that waits for it."""
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
    return editing(step) if editing_one else asking(step)


def phase_text(context: CoachContext, text_id: str, phase: Phase) -> str:
    texts = context.texts

    def bullets(items: tuple[str, ...]) -> Markup:
        return Markup("\n".join(texts.render("plan.bullet", item=i) for i in items))

    return texts.render(
        text_id,
        phase=phase.name,
        goal=phase.goal,
        do=bullets(phase.do),
        avoid=bullets(phase.avoid),
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


async def finish(update: Update, context: CoachContext, profile: ProfileView) -> int:
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
    return END


# --- entry: /start and the resume choice -------------------------------------------------------


async def start(update: Update, context: CoachContext) -> str | int:
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
        await reply(update, context, texts.render("welcome.new", name=name))
        return await ask(update, context, await context.services.intake.begin(user.id))
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
    return CHOOSING_RESUME


async def resume(update: Update, context: CoachContext) -> str | int:
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
                await send_plan(update, context, profile)
                return END
            return await ask(update, context, await intake.begin(user_id))
        if choice.arg == "restart":
            await reply(update, context, context.texts.render("welcome.restarting"))
            return await ask(update, context, await intake.begin(user_id, restart=True))
        return await ask(update, context, await intake.begin(user_id))
    except UnknownUser:
        return await not_started(update, context)


async def not_started(update: Update, context: CoachContext) -> int:
    from handlers.menu import begin_button

    await reply(update, context, context.texts.render("errors.not_set_up"), begin_button(context))
    return END


async def start_from_button(update: Update, context: CoachContext) -> str | int:
    """The "Let's begin" button does what /start does."""
    query = update.callback_query
    assert query is not None
    await settle(query)
    await remove_buttons(query)
    return await start(update, context)


# --- answers ---------------------------------------------------------------------------------


class Unreadable(ValueError):
    """A typed answer that does not fit the question; the message says so kindly."""


def read_typed(context: CoachContext, step: str, text: str, today: date) -> object:
    """Turn a typed answer into the value a tap would have given."""
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
        case "breakup":
            bucket = question.match(text)
            if bucket:
                return bucket
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
) -> str | int:
    """Store the answer, show it on the question, then ask the next one, finish, or return
    to /settings."""
    assert update.effective_user is not None
    texts, content = context.texts, context.services.content
    try:
        progress = await context.services.intake.answer(
            update.effective_user.id, step, value, advance=not editing_one
        )
    except UnknownUser:
        return await not_started(update, context)
    except InvalidAnswer:
        return await reprompt(update, context, step, content.intake[step].invalid, editing_one)
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
        await send_settings(update, context)
        return END
    if progress.next_step is None:
        return await finish(update, context, progress.profile)
    return await ask(update, context, progress)


async def reprompt(
    update: Update, context: CoachContext, step: str, message: str, editing_one: bool
) -> str:
    """Say kindly what we need, with the question's buttons right there."""
    assert update.effective_user is not None
    profile = await context.services.intake.profile(update.effective_user.id)
    if profile is None:
        return await not_started(update, context)  # type: ignore[return-value]
    return await ask(
        update, context, Progress(profile, step), editing_one=editing_one, lead=message
    )


def state_handlers(step: str, *, editing_one: bool) -> list[BaseHandler]:
    """The handlers that wait for one question's answer: a tap, a typed reply, or anything else."""

    async def on_tap(update: Update, context: CoachContext) -> str | int:
        query = update.callback_query
        assert query is not None and update.effective_user is not None
        data = decode(query.data)
        assert data is not None
        await settle(query)
        if step == "shared" and data.arg != "done":
            try:
                profile = await context.services.intake.toggle_shared(
                    update.effective_user.id, data.arg
                )
            except (InvalidAnswer, UnknownUser):
                return await not_started(update, context)
            question = context.services.content.intake[step]
            markup = question_markup(context, question, profile, editing_one=editing_one)
            await set_buttons(query, markup)
            return editing(step) if editing_one else asking(step)
        value = None if data.arg in ("skip", "done") else data.arg
        return await handle_answer(update, context, step, value, editing_one=editing_one)

    async def on_text(update: Update, context: CoachContext) -> str | int:
        assert update.effective_message is not None and update.effective_user is not None
        text = update.effective_message.text or ""
        if normalise(text) in {"back", "go back"} and not editing_one:
            return await go_back(update, context, step)
        today = await context.services.intake.today(update.effective_user.id)
        try:
            value = read_typed(context, step, text, today)
        except Unreadable as problem:
            return await reprompt(update, context, step, str(problem), editing_one)
        return await handle_answer(update, context, step, value, editing_one=editing_one)

    async def on_other(update: Update, context: CoachContext) -> str | int:
        question = context.services.content.intake[step]
        hint = context.texts.render("intake.non_text", hint=question.invalid)
        return await reprompt(update, context, step, hint, editing_one)

    return [
        CallbackQueryHandler(on_tap, pattern=pattern(AREA, step)),
        *([] if editing_one else [CallbackQueryHandler(on_back, pattern=pattern(AREA, "back"))]),
        MessageHandler(filters.TEXT & ~filters.COMMAND, on_text),
        MessageHandler(~filters.COMMAND & ~filters.StatusUpdate.ALL, on_other),
    ]


async def go_back(update: Update, context: CoachContext, step: str) -> str | int:
    assert update.effective_user is not None
    try:
        progress = await context.services.intake.go_back(update.effective_user.id, step)
    except UnknownUser:
        return await not_started(update, context)
    return await ask(update, context, progress)


async def on_back(update: Update, context: CoachContext) -> str | int:
    query = update.callback_query
    assert query is not None
    data = decode(query.data)
    assert data is not None
    await settle(query)
    await remove_buttons(query)
    return await go_back(update, context, data.arg)


async def edit_setting(update: Update, context: CoachContext) -> str | int:
    """From /settings: ask one question again, store the answer, and come back."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    data = decode(query.data)
    assert data is not None
    await settle(query)
    profile = await context.services.intake.profile(update.effective_user.id)
    if profile is None or data.arg not in EDITABLE:
        return await not_started(update, context)
    await remove_buttons(query)
    return await ask(update, context, Progress(profile, data.arg), editing_one=True)


async def redo_setup(update: Update, context: CoachContext) -> str | int:
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    await settle(query)
    await remove_buttons(query)
    try:
        progress = await context.services.intake.begin(update.effective_user.id, restart=True)
    except UnknownUser:
        return await not_started(update, context)
    await reply(update, context, context.texts.render("welcome.restarting"))
    return await ask(update, context, progress)


async def leave_for_deletion(update: Update, context: CoachContext) -> int:
    await ask_to_delete(update, context)
    return END


def conversation() -> ConversationHandler:
    states: dict[object, list[BaseHandler]] = {
        CHOOSING_RESUME: [CallbackQueryHandler(resume, pattern=pattern(AREA, "resume"))],
    }
    for step in STEP_ORDER:
        states[asking(step)] = state_handlers(step, editing_one=False)
    for step in EDITABLE:
        states[editing(step)] = state_handlers(step, editing_one=True)
    # per_message=False on purpose: one conversation per person, mixing taps and typed answers.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=PTBUserWarning)
        return _conversation(states)


def _conversation(states: dict[object, list[BaseHandler]]) -> ConversationHandler:
    return ConversationHandler(
        entry_points=[
            CommandHandler("start", start),
            CallbackQueryHandler(start_from_button, pattern=pattern(AREA, "begin")),
            CallbackQueryHandler(edit_setting, pattern=pattern("settings", "edit")),
            CallbackQueryHandler(redo_setup, pattern=pattern("settings", "redo")),
        ],
        states=states,
        fallbacks=[CommandHandler("delete", leave_for_deletion)],
        allow_reentry=True,
        name=CONVERSATION,
        persistent=True,
    )
