"""The "Should I text them?" and "They texted me" flows: a few taps, then warm, brief advice.

The answers given so far travel in the buttons' callback_data (four letters, see `pack`), so a
half-answered flow survives a restart and every button works on its own. The database only
records when the person is about to send us something: pasting what their ex wrote
("advice.pasted") or writing down the message they'd like to send, instead of sending it
("advice.written").
"""

from __future__ import annotations

import re
from dataclasses import replace
from html import unescape
from typing import Any

from telegram import CallbackQuery, InlineKeyboardMarkup, Update

from bot.context import CoachContext
from bot.services.advice import (
    OPTIONS,
    QUESTIONS,
    THEY_SENT_KINDS,
    Advice,
    Answers,
    NextQuestion,
    NotSetUp,
)
from bot.services.conversation import Expected
from content.advice import Note
from content.loader import Texts, source_names
from content.practical import practical_topic
from handlers.callbacks import decode
from handlers.replies import (
    Button,
    Then,
    answer_crisis,
    button,
    edit,
    ex_label,
    in_rows,
    keyboard,
    main_menu,
    not_set_up,
    remove_buttons,
    reply,
    set_buttons,
    settle,
    show_menu,
)

AREA = "advice"
PATHS = "paths"  # the person's own path: the comeback guide and the safety question again
PASTED = "advice.pasted"  # what their ex sent, pasted here
WRITTEN = "advice.written"  # the message they wanted to send, written here instead
TOP_REASONS = 2  # the strongest reasons a first, phone-sized verdict shows
LIMITED_CONTACT_RULE = "limited-contact-when-you-share-life"
FIRST_MESSAGE_LIMIT = 700  # characters a verdict's first message may take on a phone
_TAG = re.compile(r"<[^>]+>")
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


# --- rendering ---------------------------------------------------------------------------------


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
    rows = in_rows(buttons, per_row)
    rows.append([back_button(texts, answers)])
    return keyboard(rows)


def back_button(texts: Texts, answers: Answers) -> Button:
    """« Back: the question before this one again, or the menu from the first question."""
    label = texts.render("intake.back")
    answered = [n for n in QUESTIONS if getattr(answers, n) is not None]
    if not answered:
        return button(label, AREA, "menu")
    return button(label, AREA, "back", pack(replace(answers, **{answered[-1]: None})))


def kind_markup(texts: Texts) -> InlineKeyboardMarkup:
    rows: list[list[Button]] = [
        [button(texts.render(f"advice.texted.kind.{kind}"), AREA, "kind", kind)]
        for kind in THEY_SENT_KINDS
    ]
    rows.append([button(texts.render("advice.buttons.menu"), AREA, "menu")])
    return keyboard(rows)


def shared_words(texts: Texts, shared: frozenset[str]) -> str:
    """'children and work' — what the person shares, in words."""
    names = [
        texts.render(f"story.advice.shared.{s}") for s in ("kids", "work", "home") if s in shared
    ]
    if len(names) < 2:
        return "".join(names)
    return texts.render("story.advice.and", first=", ".join(names[:-1]), last=names[-1])


def verdict_text(texts: Texts, advice: Advice, *, their_message: bool = False) -> str:
    """The first, phone-sized message: the headline, the days (or "limited contact"), and the
    one or two strongest reasons with their sources. The rest sits behind buttons."""
    verdict = advice.verdict
    lines = []
    if their_message:
        lines.append(texts.render("advice.them_note"))
    lines.append(texts.render("advice.headline", headline=verdict.headline))
    if advice.limited_contact:
        lines.append(
            texts.render(
                "story.advice.limited", shared=shared_words(texts, advice.situation.shared)
            )
        )
    elif advice.days_note is not None:
        note_id = {"many": "advice.days_left", "one": "advice.days_left_one"}
        lines.append(texts.render(note_id.get(advice.days_note, "advice.days_done"),
                                  days=verdict.days_left))  # fmt: skip
    reasons = verdict.reasons
    if advice.limited_contact:  # already said in the line above; still under "Why?"
        reasons = tuple(r for r in reasons if r.rule != LIMITED_CONTACT_RULE) or reasons
    top = reasons[: 1 if their_message else TOP_REASONS]
    if their_message and verdict.suggested_messages:
        lines += [
            "",
            texts.render("advice.reply_idea"),
            texts.render("advice.suggestion", text=verdict.suggested_messages[0]),
        ]
    if top:
        lines.append("")
    for index, r in enumerate(top):
        line = texts.render("advice.reason", text=r.text, sources=source_names(r.sources))
        # The strongest reason always; the next only while the message stays phone-sized.
        if index and visible_length("\n".join([*lines, line])) > FIRST_MESSAGE_LIMIT:
            break
        lines.append(line)
    return "\n".join(lines)


def visible_length(html: str) -> int:
    """How many characters the person sees: markup left out, entities read."""
    return len(unescape(_TAG.sub("", html)))


def notes_text(texts: Texts, notes: tuple[Note, ...]) -> str:
    lines = [texts.render("story.advice.differ_intro")]
    for note in notes:
        lines += ["", texts.render("advice.differ", topic=note.topic)]
        lines += [
            texts.render("advice.side", text=side.text, sources=source_names(side.sources))
            for side in note.sides
        ]
    return "\n".join(lines)


def is_their_message(advice: Advice) -> bool:
    return advice.answers.reason_to_text == "reply"


def verdict_markup(
    texts: Texts,
    advice: Advice,
    *,
    their_message: bool = False,
    without: frozenset[str] = frozenset(),
) -> InlineKeyboardMarkup:
    """Why? / Where the articles differ / Suggest a message, then the ways on; `without` leaves
    out the ones already opened."""
    code = pack(advice.answers)
    verdict = advice.verdict
    shown = 1 if their_message else TOP_REASONS
    rows: list[list[Button]] = []
    if "why" not in without and len(verdict.reasons) > shown:
        rows.append([button(texts.render("story.advice.buttons.why"), AREA, "why", code)])
    if "differ" not in without and advice.new_notes:
        rows.append([button(texts.render("story.advice.buttons.differ"), AREA, "differ", code)])
    if "msgs" not in without and verdict.suggested_messages:
        rows.append([button(texts.render("story.advice.buttons.suggest"), AREA, "msgs", code)])
    if not their_message and advice.situation.they_messaged == "none":
        rows.append([button(texts.render("advice.buttons.they_texted"), AREA, "texted")])
    if verdict.decision in HOLDING_OFF:
        rows.append([button(texts.render("advice.buttons.still_want"), AREA, "still", code)])
    if not advice.situation.they_are_dating and advice.situation.reason_to_text in (
        "ask_to_get_back",
        "miss_them",
    ):  # a new partner changes what to ask of them (handlers/paths)
        rows.append([button(texts.render("paths.heard.dating"), PATHS, "pick",
                            "they_are_dating.yes")])  # fmt: skip
    if advice.situation.they_messaged == "relationship" and advice.verdict.decision == "reply":
        # They want to talk or to get back together: the guide for that moment (handlers/paths).
        rows.append([button(texts.render("paths.comeback_button"), PATHS, "comeback")])
    rows.append([button(texts.render("advice.buttons.menu"), AREA, "menu")])
    return keyboard(rows)


def safety_again_markup(texts: Texts) -> InlineKeyboardMarkup:
    return keyboard(
        [[button(texts.render(f"advice_more.ask_safety_{v}"), PATHS, "safety", v)]
         for v in ("yes", "no", "skip")]
    )  # fmt: skip


def back_to_menu(texts: Texts) -> InlineKeyboardMarkup:
    return keyboard([[button(texts.render("advice.buttons.menu"), AREA, "menu")]])


# --- the steps -----------------------------------------------------------------------------------


async def show_advice(
    update: Update, context: CoachContext, advice: Advice, *, their_message: bool = False
) -> None:
    texts = context.texts
    if advice.verdict.decision == "get_support":
        # The same care as a crisis message anywhere: helplines, the safety buttons, and a
        # hold on the daily nudges until they say they are safe.
        await answer_crisis(update, context, "self_harm")
        return
    await reply(
        update,
        context,
        verdict_text(texts, advice, their_message=their_message),
        verdict_markup(texts, advice, their_message=their_message),
    )
    if advice.verdict.ask_safety_again:
        # The safety question was skipped: asked once more, gently, before anything is sent.
        await reply(update, context, texts.render("advice_more.ask_safety_again"),
                    safety_again_markup(texts))  # fmt: skip


async def go_on(
    update: Update,
    context: CoachContext,
    answers: Answers,
    *,
    lead: str = "",
    step: NextQuestion | Advice | None = None,
) -> None:
    """Ask the next question worth asking, or give the advice (`step`: already worked out)."""
    assert update.effective_user is not None
    texts = context.texts
    if step is None:
        try:
            step = await context.services.advice.next_step(update.effective_user.id, answers)
        except NotSetUp:
            await not_set_up(update, context)
            return
    if isinstance(step, NextQuestion):
        ask = texts.render(f"advice.ask.{step.field}", ex=ex_label(texts, step.ex_name))
        text = f"{lead}\n\n{ask}" if lead else ask
        await reply(update, context, text, question_markup(texts, answers, step))
        return
    await show_advice(update, context, step)


async def begin_should_i(update: Update, context: CoachContext) -> None:
    """/shouldi, the menu button and typed "should I text her?" all start here. An answer
    already given today (their message) is used openly, with a way to change it."""
    assert update.effective_user is not None
    texts = context.texts
    lead = texts.render("advice.intro")
    start = Answers()
    typed = update.message.text if update.message is not None else None
    topic = practical_topic(typed) if typed and not typed.startswith("/") else None
    if topic is not None:
        # A practical question gets practical advice and a message that fits what was asked.
        start = Answers(reason_to_text="logistics")
        lead = texts.render(
            "story.advice.practical",
            topic=topic.label,
            example=topic.example,
            sources=source_names(topic.sources),
        )
    try:
        opening = await context.services.advice.opening(update.effective_user.id, start)
    except NotSetUp:
        await not_set_up(update, context)
        return
    known, ex_name = opening.known, opening.ex_name
    if known.they_messaged not in (None, "none"):
        kind = texts.render(f"advice.texted.kind.{known.they_messaged}").lower()
        using = texts.render("story.advice.answers_in_use", ex=ex_label(texts, ex_name), kind=kind)
        change = keyboard(
            [[button(texts.render("story.advice.change_answer"), AREA, "change", pack(Answers()))]]
        )
        await reply(update, context, f"{lead}\n{using}", change)
        lead = ""
    await go_on(update, context, start, lead=lead, step=opening.step)


async def ask_what_they_messaged(update: Update, context: CoachContext) -> None:
    """Ask "any message from them lately?" even though today's answer is known."""
    assert update.effective_user is not None
    texts = context.texts
    try:
        ex_name = await context.services.advice.ex_name(update.effective_user.id)
    except NotSetUp:
        await not_set_up(update, context)
        return
    question = NextQuestion("they_messaged", OPTIONS["they_messaged"], ex_name)
    ask = texts.render("advice.ask.they_messaged", ex=ex_label(texts, ex_name))
    await reply(update, context, ask, question_markup(texts, Answers(), question))


async def they_texted_typed(update: Update, context: CoachContext) -> None:
    """Typed "he texted me": what kind of message was it (taps only, nothing to paste)."""
    await ask_what_they_sent(update, context, can_paste=False)


async def ask_what_they_sent(
    update: Update, context: CoachContext, *, can_paste: bool = True
) -> None:
    assert update.effective_user is not None
    texts = context.texts
    try:
        ex_name = await context.services.advice.ex_name(update.effective_user.id)
    except NotSetUp:
        await not_set_up(update, context)
        return
    text_id = "advice.texted.ask_or_paste" if can_paste else "advice.texted.ask"
    await reply(
        update, context, texts.render(text_id, ex=ex_label(texts, ex_name)).rstrip(),
        kind_markup(texts),
    )  # fmt: skip
    if can_paste:
        await context.services.conversation.expect(update.effective_user.id, PASTED)


async def they_sent(update: Update, context: CoachContext, kind: str) -> None:
    assert update.effective_user is not None
    try:
        advice = await context.services.advice.they_texted(update.effective_user.id, kind)
    except NotSetUp:
        await not_set_up(update, context)
        return
    await show_advice(update, context, advice, their_message=True)


async def send_suggestions(update: Update, context: CoachContext, answers: Answers) -> None:
    assert update.effective_user is not None
    texts = context.texts
    try:
        advice = await context.services.advice.verdict_for(update.effective_user.id, answers)
    except NotSetUp:
        await not_set_up(update, context)
        return
    messages = advice.verdict.suggested_messages
    if not messages:
        await reply(update, context, texts.render("advice.no_suggestions"), back_to_menu(texts))
        return
    await reply(update, context, texts.render("advice.suggestions_intro"))
    for index, message in enumerate(messages):
        last = index == len(messages) - 1
        await reply(
            update,
            context,
            texts.render("advice.suggestion", text=message),
            back_to_menu(texts) if last else None,
        )


async def show_why(update: Update, context: CoachContext, answers: Answers) -> None:
    """Every reason behind the verdict, with its sources: the verdict grows in place to hold
    the ones it did not show yet, so nothing is said twice in a row."""
    query = update.callback_query
    assert update.effective_user is not None and query is not None
    try:
        advice = await context.services.advice.verdict_for(update.effective_user.id, answers)
    except NotSetUp:
        await not_set_up(update, context)
        return
    message = query.message
    shown = getattr(message, "text_html", None) or ""
    texts = context.texts
    rest = [
        line
        for r in advice.verdict.reasons
        if unescape(_TAG.sub("", line := texts.render(
            "advice.reason", text=r.text, sources=source_names(r.sources)
        ))) not in unescape(_TAG.sub("", shown))
    ]  # fmt: skip
    if not rest:
        return
    expanded = "\n".join([shown, "", texts.render("story.advice.why_more"), *rest])
    await edit(query, expanded, without_tapped(query))


async def show_differ(update: Update, context: CoachContext, answers: Answers) -> None:
    """Where the articles differ on this verdict's topics; each topic is shown once per person."""
    assert update.effective_user is not None
    try:
        advice = await context.services.advice.verdict_for(update.effective_user.id, answers)
    except NotSetUp:
        await not_set_up(update, context)
        return
    notes = advice.new_notes or advice.verdict.sources_differ
    if not notes:
        return
    await reply(update, context, notes_text(context.texts, notes))
    await context.services.advice.mark_notes_seen(update.effective_user.id, [n.id for n in notes])


def without_tapped(query: CallbackQuery) -> InlineKeyboardMarkup:
    """The buttons of the message tapped, less the one tapped."""
    markup = getattr(query.message, "reply_markup", None)
    rows = [
        [b for b in row if b.callback_data != query.data]
        for row in (markup.inline_keyboard if markup else ())
    ]
    return InlineKeyboardMarkup([row for row in rows if row])


async def drop_tapped_button(query: CallbackQuery) -> None:
    """Take the tapped button off the verdict, keeping the others there to tap."""
    await set_buttons(query, without_tapped(query))


async def still_want_to(update: Update, context: CoachContext, answers: Answers) -> None:
    """An honest, kind answer: what the rules say about this moment, and a safer place for
    the words than their phone."""
    assert update.effective_user is not None
    texts = context.texts
    try:
        advice = await context.services.advice.verdict_for(update.effective_user.id, answers)
    except NotSetUp:
        await not_set_up(update, context)
        return
    verdict = advice.verdict
    if verdict.decision == "get_support":
        await show_advice(update, context, advice)
        return
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


# --- the adapters ----------------------------------------------------------------------------


def _has_buttons(update: Update) -> bool:
    query = update.callback_query
    message = query.message if query is not None else None
    markup = getattr(message, "reply_markup", None)
    return bool(markup and markup.inline_keyboard)


async def on_tap(update: Update, context: CoachContext) -> Then | None:
    """Every button in this area. Anything forged or outdated (a button already used, or on a
    message whose buttons are gone) changes nothing here and keeps any wait where it was."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    texts = context.texts
    data = decode(query.data)
    answers = unpack(data.arg) if data is not None else None
    valid = data is not None and (
        data.action in ("start", "texted", "write", "menu")
        or (
            data.action in ("ask", "msgs", "still", "why", "differ", "back", "change")
            and answers is not None
        )
        or (data.action == "kind" and data.arg in THEY_SENT_KINDS)
    )
    if not valid or not _has_buttons(update):
        return Then.STALE  # the same kind word as every other old button
    assert data is not None
    await settle(query)
    # A tap moves the flow on: nothing typed is awaited unless this step asks for it again.
    await context.services.conversation.clear(update.effective_user.id, f"{AREA}.*")
    match data.action:
        case "start":
            await begin_should_i(update, context)
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
            await go_on(update, context, answers)
        case "kind":
            await edit(
                query,
                texts.render(
                    "advice.texted.answered", answer=texts.render(f"advice.texted.kind.{data.arg}")
                ),
            )
            await they_sent(update, context, data.arg)
        case "texted":
            await remove_buttons(query)
            await ask_what_they_sent(update, context)
        case "back":
            assert answers is not None
            await remove_buttons(query)
            await go_on(update, context, answers)
        case "change":
            await remove_buttons(query)
            await ask_what_they_messaged(update, context)
        case "why":
            assert answers is not None
            await show_why(update, context, answers)
        case "differ":
            assert answers is not None
            await drop_tapped_button(query)
            await show_differ(update, context, answers)
        case "msgs":
            assert answers is not None
            await drop_tapped_button(query)
            await send_suggestions(update, context, answers)
        case "still":
            assert answers is not None
            await remove_buttons(query)
            await still_want_to(update, context, answers)
        case "write":
            await remove_buttons(query)
            await reply(update, context, texts.render("advice.still.write_prompt"))
            await context.services.conversation.expect(update.effective_user.id, WRITTEN)
        case _:  # "menu"
            await remove_buttons(query)
            await show_menu(update, context)
    return None


async def on_command(update: Update, context: CoachContext) -> None:
    """/shouldi."""
    assert update.effective_user is not None
    await context.services.conversation.clear(update.effective_user.id, f"{AREA}.*")
    await begin_should_i(update, context)


async def on_answer(update: Update, context: CoachContext, expected: Expected) -> Then | None:
    """A message while something of theirs is awaited here: read to help, never stored."""
    assert update.effective_user is not None
    texts = context.texts
    await context.services.conversation.clear(update.effective_user.id, expected.key)
    if expected.key == PASTED:  # what their ex sent, pasted (or a screenshot)
        await reply(update, context, texts.render("advice.texted.pasted"), kind_markup(texts))
        return None
    if expected.key == WRITTEN:  # the message they wanted to send, written here instead
        written = texts.render("advice.still.written").rstrip()
        await reply(update, context, written, main_menu(context))
        return None
    return Then.UNHANDLED


async def ask_again(update: Update, context: CoachContext, expected: Expected, lead: str) -> bool:
    """After care: what their ex sent, or the message they wanted to send, asked for again.
    Returns whether it did."""
    if update.effective_user is None:
        return False
    texts = context.texts
    if expected.key == WRITTEN:
        await reply(update, context, f"{lead}\n\n" + texts.render("advice.still.write_prompt"))
        return True
    if expected.key != PASTED:
        return False
    try:
        ex_name = await context.services.advice.ex_name(update.effective_user.id)
    except NotSetUp:
        return False
    asked = texts.render("advice.texted.ask_or_paste", ex=ex_label(texts, ex_name)).rstrip()
    await reply(update, context, f"{lead}\n\n{asked}", kind_markup(texts))
    return True
