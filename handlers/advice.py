"""The "Should I text them?" and "They texted me" flows: a few taps, then warm, brief advice.

The answers given so far travel in the buttons' callback_data (four letters, see `pack`), so a
half-answered flow survives a restart and every button works on its own. The conversation only
remembers when the person is about to send us something: pasting what their ex wrote
(`telling_what_they_sent`) or writing down the message they'd like to send, instead of sending
it (`writing_it_down`).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import replace
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.context import CoachContext
from bot.services.advice import (
    QUESTIONS,
    THEY_SENT_KINDS,
    Advice,
    Answers,
    NextQuestion,
    NotSetUp,
)
from content.loader import Texts, source_names
from handlers.callbacks import decode, pattern
from handlers.common import Button, button, edit, in_rows, keyboard, remove_buttons, reply, settle

AREA = "advice"
CONVERSATION = "advice"
TELLING_WHAT_THEY_SENT = "telling_what_they_sent"
WRITING_IT_DOWN = "writing_it_down"
END = ConversationHandler.END
MAX_REASONS = 3
HOLDING_OFF = frozenset({"do_not_text", "wait"})

# --- the answers in callback_data: one letter per question, "_" for not (yet) answered --------

UNSAID = "_"
CODES: dict[str, dict[Any, str]] = {
    "they_messaged": {"none": "n", "emergency": "e", "logistics": "l", "casual": "c",
                      "relationship": "r", "hostile": "h"},
    "reason_to_text": {"miss_them": "m", "reply": "y", "logistics": "l", "emergency": "e",
                       "apologise": "a", "make_jealous": "j", "closure": "c", "check_on_them": "k",
                       "ask_to_get_back": "b"},
    "feeling": {"calm": "c", "sad": "s", "anxious": "a", "angry": "g", "desperate": "d",
                "crisis": "x"},
    "unanswered_messages_you_sent": {1: "1", 0: "0"},
}  # fmt: skip
_DECODE = {name: {code: value for value, code in table.items()} for name, table in CODES.items()}


def pack(answers: Answers) -> str:
    return "".join(
        UNSAID if (value := getattr(answers, name)) is None else CODES[name][value]
        for name in QUESTIONS
    )


def unpack(arg: str) -> Answers | None:
    """The answers a button carries, or None for anything that is not exactly four known
    letters (a forged or outdated button)."""
    if len(arg) != len(QUESTIONS):
        return None
    values: dict[str, Any] = {}
    for name, code in zip(QUESTIONS, arg, strict=True):
        if code == UNSAID:
            continue
        if code not in _DECODE[name]:
            return None
        values[name] = _DECODE[name][code]
    return Answers(**values)


# --- free text: "can I message him?", "she texted me" ----------------------------------------

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


async def try_free_text(update: Update, context: CoachContext) -> bool:
    """Typed words that mean "should I text them?" or "they texted me". Returns False for
    anything else."""
    message = update.effective_message
    if message is None or not message.text:
        return False
    if asks_should_i(message.text):
        await begin_should_i(update, context)
        return True
    if update.effective_user is None:
        return False
    profile = await context.services.intake.profile(update.effective_user.id)
    if says_they_texted(message.text, profile.ex_name if profile else None):
        await ask_what_they_sent(update, context, can_paste=False)
        return True
    return False


# --- rendering ---------------------------------------------------------------------------------


def ex_label(texts: Texts, ex_name: str | None) -> str:
    return ex_name or texts.render("intake.no_name")


def option_label(texts: Texts, name: str, value: object) -> str:
    return texts.render(f"advice.option.{name}.{value}")


def question_markup(texts: Texts, answers: Answers, question: NextQuestion) -> InlineKeyboardMarkup:
    name = question.field
    buttons = [
        button(
            option_label(texts, name, value), AREA, "ask", pack(replace(answers, **{name: value}))
        )
        for value in question.options
    ]
    per_row = {"feeling": 2, "unanswered_messages_you_sent": 2}.get(name, 1)
    return keyboard(in_rows(buttons, per_row))


def kind_markup(texts: Texts) -> InlineKeyboardMarkup:
    rows: list[list[Button]] = [
        [button(texts.render(f"advice.texted.kind.{kind}"), AREA, "kind", kind)]
        for kind in THEY_SENT_KINDS
    ]
    rows.append([button(texts.render("advice.buttons.menu"), AREA, "menu")])
    return keyboard(rows)


def verdict_text(texts: Texts, advice: Advice, *, their_message: bool = False) -> str:
    verdict = advice.verdict
    lines = []
    if their_message:
        lines.append(texts.render("advice.them_note"))
    lines.append(texts.render("advice.headline", headline=verdict.headline))
    already_said = f"{verdict.days_left} day" in verdict.headline  # "you have 12 days … to go"
    if verdict.days_left is not None and not already_said:
        if verdict.days_left > 1:
            lines.append(texts.render("advice.days_left", days=verdict.days_left))
        elif verdict.days_left == 1:
            lines.append(texts.render("advice.days_left_one"))
        else:
            lines.append(texts.render("advice.days_done"))
    if their_message and verdict.suggested_messages:
        first = verdict.suggested_messages[0]
        lines += [
            "",
            texts.render("advice.reply_idea"),
            texts.render("advice.suggestion", text=first),
        ]
    lines += ["", texts.render("advice.why")]
    lines += [
        texts.render("advice.reason", text=r.text, sources=source_names(r.sources))
        for r in verdict.reasons[:MAX_REASONS]
    ]
    for note in verdict.sources_differ:
        lines += ["", texts.render("advice.differ", topic=note.topic)]
        lines += [
            texts.render("advice.side", text=side.text, sources=source_names(side.sources))
            for side in note.sides
        ]
    return "\n".join(lines)


def verdict_markup(
    texts: Texts, advice: Advice, *, their_message: bool = False
) -> InlineKeyboardMarkup:
    code = pack(advice.answers)
    rows: list[list[Button]] = []
    if advice.verdict.suggested_messages:
        rows.append([button(texts.render("advice.buttons.suggestions"), AREA, "msgs", code)])
    if not their_message and advice.situation.they_messaged == "none":
        rows.append([button(texts.render("advice.buttons.they_texted"), AREA, "texted")])
    if advice.verdict.decision in HOLDING_OFF:
        rows.append([button(texts.render("advice.buttons.still_want"), AREA, "still", code)])
    rows.append([button(texts.render("advice.buttons.menu"), AREA, "menu")])
    return keyboard(rows)


def back_to_menu(texts: Texts) -> InlineKeyboardMarkup:
    return keyboard([[button(texts.render("advice.buttons.menu"), AREA, "menu")]])


# --- the steps -----------------------------------------------------------------------------------


async def not_set_up(update: Update, context: CoachContext) -> int:
    from handlers.menu import begin_button

    await reply(update, context, context.texts.render("errors.not_set_up"), begin_button(context))
    return END


async def show_advice(
    update: Update, context: CoachContext, advice: Advice, *, their_message: bool = False
) -> None:
    texts = context.texts
    if advice.verdict.decision == "get_support":
        # The same care as a crisis message anywhere: helplines, the safety buttons, and a
        # hold on the daily nudges until they say they are safe.
        from handlers.safety import answer_crisis

        await answer_crisis(update, context, "self_harm")
        return
    await reply(
        update,
        context,
        verdict_text(texts, advice, their_message=their_message),
        verdict_markup(texts, advice, their_message=their_message),
    )


async def go_on(update: Update, context: CoachContext, answers: Answers, *, lead: str = "") -> int:
    """Ask the next question worth asking, or give the advice."""
    assert update.effective_user is not None
    texts = context.texts
    try:
        step = await context.services.advice.next_step(update.effective_user.id, answers)
    except NotSetUp:
        return await not_set_up(update, context)
    if isinstance(step, NextQuestion):
        ask = texts.render(f"advice.ask.{step.field}", ex=ex_label(texts, step.ex_name))
        text = f"{lead}\n\n{ask}" if lead else ask
        await reply(update, context, text, question_markup(texts, answers, step))
        return END
    await show_advice(update, context, step)
    return END


async def begin_should_i(update: Update, context: CoachContext) -> int:
    """/shouldi, the menu button and typed "should I text her?" all start here."""
    return await go_on(update, context, Answers(), lead=context.texts.render("advice.intro"))


async def ask_what_they_sent(
    update: Update, context: CoachContext, *, can_paste: bool = True
) -> str | int:
    assert update.effective_user is not None
    texts = context.texts
    try:
        ex_name = await context.services.advice.ex_name(update.effective_user.id)
    except NotSetUp:
        return await not_set_up(update, context)
    text_id = "advice.texted.ask_or_paste" if can_paste else "advice.texted.ask"
    await reply(
        update, context, texts.render(text_id, ex=ex_label(texts, ex_name)).rstrip(),
        kind_markup(texts),
    )  # fmt: skip
    return TELLING_WHAT_THEY_SENT if can_paste else END


async def they_sent(update: Update, context: CoachContext, kind: str) -> int:
    assert update.effective_user is not None
    try:
        advice = await context.services.advice.they_texted(update.effective_user.id, kind)
    except NotSetUp:
        return await not_set_up(update, context)
    await show_advice(update, context, advice, their_message=True)
    return END


async def send_suggestions(update: Update, context: CoachContext, answers: Answers) -> int:
    assert update.effective_user is not None
    texts = context.texts
    try:
        advice = await context.services.advice.verdict_for(update.effective_user.id, answers)
    except NotSetUp:
        return await not_set_up(update, context)
    messages = advice.verdict.suggested_messages
    if not messages:
        await reply(update, context, texts.render("advice.no_suggestions"), back_to_menu(texts))
        return END
    await reply(update, context, texts.render("advice.suggestions_intro"))
    for index, message in enumerate(messages):
        last = index == len(messages) - 1
        await reply(
            update,
            context,
            texts.render("advice.suggestion", text=message),
            back_to_menu(texts) if last else None,
        )
    return END


async def still_want_to(update: Update, context: CoachContext, answers: Answers) -> int:
    """An honest, kind answer: what the rules say about this moment, and a safer place for
    the words than their phone."""
    assert update.effective_user is not None
    texts = context.texts
    try:
        advice = await context.services.advice.verdict_for(update.effective_user.id, answers)
    except NotSetUp:
        return await not_set_up(update, context)
    verdict = advice.verdict
    if verdict.decision == "get_support":
        await show_advice(update, context, advice)
        return END
    lead = verdict.reasons[0]
    lines = [
        texts.render("advice.still.intro"),
        "",
        texts.render("advice.headline", headline=verdict.headline),
        texts.render("advice.reason", text=lead.text, sources=source_names(lead.sources)),
    ]
    if verdict.days_left:
        lines += ["", texts.render("advice.still.days_left", days=verdict.days_left)]
    lines += ["", texts.render("advice.still.offer").rstrip()]
    markup = keyboard(
        [[button(texts.render("advice.buttons.write"), AREA, "write")],
         [button(texts.render("advice.buttons.menu"), AREA, "menu")]]
    )  # fmt: skip
    await reply(update, context, "\n".join(lines), markup)
    return END


# --- the adapters ----------------------------------------------------------------------------


def _has_buttons(update: Update) -> bool:
    query = update.callback_query
    message = query.message if query is not None else None
    markup = getattr(message, "reply_markup", None)
    return bool(markup and markup.inline_keyboard)


async def on_tap(update: Update, context: CoachContext) -> str | int | None:
    """Every button in this area. Anything forged or outdated (a button already used, or on a
    message whose buttons are gone) changes nothing here and keeps the conversation where it
    was."""
    query = update.callback_query
    assert query is not None
    texts = context.texts
    data = decode(query.data)
    answers = unpack(data.arg) if data is not None else None
    valid = data is not None and (
        data.action in ("start", "texted", "write", "menu")
        or (data.action in ("ask", "msgs", "still") and answers is not None)
        or (data.action == "kind" and data.arg in THEY_SENT_KINDS)
    )
    if not valid or not _has_buttons(update):
        from handlers.menu import on_stale_button

        await on_stale_button(update, context)  # the same kind word as every other old button
        return None
    assert data is not None
    await settle(query)
    match data.action:
        case "start":
            return await begin_should_i(update, context)
        case "ask":
            assert answers is not None
            answered = [n for n in QUESTIONS if getattr(answers, n) is not None]
            if answered:
                field = answered[-1]
                await edit(
                    query,
                    texts.render(
                        "advice.answered",
                        label=texts.render(f"advice.label.{field}"),
                        answer=option_label(texts, field, getattr(answers, field)),
                    ),
                )
            return await go_on(update, context, answers)
        case "kind":
            await edit(
                query,
                texts.render(
                    "advice.texted.answered", answer=texts.render(f"advice.texted.kind.{data.arg}")
                ),
            )
            return await they_sent(update, context, data.arg)
        case "texted":
            await remove_buttons(query)
            return await ask_what_they_sent(update, context)
        case "msgs":
            assert answers is not None
            await remove_buttons(query)
            return await send_suggestions(update, context, answers)
        case "still":
            assert answers is not None
            await remove_buttons(query)
            return await still_want_to(update, context, answers)
        case "write":
            await remove_buttons(query)
            await reply(update, context, texts.render("advice.still.write_prompt"))
            return WRITING_IT_DOWN
        case _:  # "menu"
            from handlers.menu import main_menu

            await remove_buttons(query)
            await reply(update, context, texts.render("menu.title"), main_menu(context))
            return END


async def on_command(update: Update, context: CoachContext) -> int:
    return await begin_should_i(update, context)


async def on_pasted(update: Update, context: CoachContext) -> int:
    """What their ex sent, pasted (or a screenshot): read to help, never stored."""
    texts = context.texts
    await reply(update, context, texts.render("advice.texted.pasted"), kind_markup(texts))
    return END


async def on_written(update: Update, context: CoachContext) -> int:
    """The message they wanted to send, written here instead: acknowledged, not stored."""
    from handlers.menu import main_menu

    written = context.texts.render("advice.still.written").rstrip()
    await reply(update, context, written, main_menu(context))
    return END


def conversation() -> ConversationHandler:
    anything = ~filters.COMMAND & ~filters.StatusUpdate.ALL
    # per_message=False on purpose, as in the intake: one conversation per person.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=PTBUserWarning)
        return ConversationHandler(
            entry_points=[
                CommandHandler("shouldi", on_command),
                CallbackQueryHandler(on_tap, pattern=pattern(AREA)),
            ],
            states={
                TELLING_WHAT_THEY_SENT: [MessageHandler(anything, on_pasted)],
                WRITING_IT_DOWN: [MessageHandler(anything, on_written)],
            },
            fallbacks=[],
            allow_reentry=True,
            name=CONVERSATION,
            persistent=True,
        )
